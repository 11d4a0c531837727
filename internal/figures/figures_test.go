/*
Copyright 2026 The SupportStack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package figures

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestVec: a Vec exports what a GaugeVec given the same calls
// exports, series by series.
func TestVec(t *testing.T) {
	// Every part of the name, and a constant label, as GaugeVec takes them.
	opts := prometheus.GaugeOpts{Namespace: "supportstack", Subsystem: "test", Name: "figure", Help: "A test figure.",
		ConstLabels: prometheus.Labels{"cluster": "a"}}
	labels := []string{"namespace", "drill"}
	type call func(t *testing.T, set func(ns, name string, v float64), del func(ns, name string) bool, partial func(prometheus.Labels) int)
	for _, tc := range []struct {
		name  string
		calls []call
	}{
		{"set and set again", []call{
			func(_ *testing.T, set func(string, string, float64), _ func(string, string) bool, _ func(prometheus.Labels) int) {
				set("a", "x", 1)
				set("a", "y", 2)
				set("a", "x", 3)
			}}},
		{"delete one series", []call{
			func(t *testing.T, set func(string, string, float64), del func(string, string) bool, _ func(prometheus.Labels) int) {
				set("a", "x", 1)
				set("b", "x", 2)
				if !del("a", "x") || del("a", "x") || del("c", "x") {
					t.Error("DeleteLabelValues said the wrong thing")
				}
			}}},
		{"delete by namespace and by name", []call{
			func(t *testing.T, set func(string, string, float64), _ func(string, string) bool, partial func(prometheus.Labels) int) {
				set("a", "x", 1)
				set("a", "y", 2)
				set("b", "x", 3)
				set("b", "y", 4)
				if n := partial(prometheus.Labels{"namespace": "a"}); n != 2 {
					t.Errorf("deleted %d by namespace, want 2", n)
				}
				if n := partial(prometheus.Labels{"namespace": "b", "drill": "y"}); n != 1 {
					t.Errorf("deleted %d by both labels, want 1", n)
				}
				// A label the family does not have matches nothing.
				if n := partial(prometheus.Labels{"namespace": "b", "policy": "x"}); n != 0 {
					t.Errorf("deleted %d by a label the family lacks, want 0", n)
				}
			}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gauges := prometheus.NewGaugeVec(opts, labels)
			figures := NewVec(opts, labels)
			for _, c := range tc.calls {
				c(t, func(ns, name string, v float64) { gauges.WithLabelValues(ns, name).Set(v) },
					func(ns, name string) bool { return gauges.DeleteLabelValues(ns, name) },
					gauges.DeletePartialMatch)
				c(t, func(ns, name string, v float64) { figures.WithLabelValues(ns, name).Set(v) },
					func(ns, name string) bool { return figures.DeleteLabelValues(ns, name) }, figures.DeletePartialMatch)
			}
			got, err := testutil.CollectAndLint(figures)
			if err != nil || len(got) != 0 {
				t.Errorf("lint: %v %v", got, err)
			}
			wantText := exposition(t, gauges)
			if gotText := exposition(t, figures); gotText != wantText {
				t.Errorf("Vec exports\n%s\nGaugeVec exports\n%s", gotText, wantText)
			}
		})
	}

	t.Run("reading a series creates nothing", func(t *testing.T) {
		figures := NewVec(opts, labels)
		if v := figures.WithLabelValues("a", "x").Value(); !math.IsNaN(v) {
			t.Errorf("an unset series reads %v, want NaN", v)
		}
		if n := testutil.CollectAndCount(figures); n != 0 {
			t.Errorf("after a read the family collects %d series, want 0", n)
		}
		figures.WithLabelValues("a", "x").Set(7)
		if v := figures.WithLabelValues("a", "x").Value(); v != 7 {
			t.Errorf("series reads %v, want 7", v)
		}
	})
}

// exposition is what a registry holding only c serves.
func exposition(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range families {
		for _, m := range f.GetMetric() {
			fmt.Fprintf(&b, "%s %v %v\n", f.GetName(), m.GetLabel(), m.GetGauge().GetValue())
		}
	}
	return b.String()
}

// TestVecHoldsLessThanGaugeVec measures the heap each kind holds for
// the per-policy and per-drill series of 1,000 policies and drills (18
// series each, the families metrics.go declares), the figure the change to
// Vec was made for.
func TestVecHoldsLessThanGaugeVec(t *testing.T) {
	const objects, families = 1000, 18
	// The least of three measurements. The test lives in a package of its
	// own so that nothing else allocates or frees beside it: in the
	// controller package, the suite's managers once made a measurement
	// negative.
	held := func(fill func() any) int64 {
		least := int64(math.MaxInt64)
		for range 3 {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			keep := fill()
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(keep)
			least = min(least, int64(after.HeapAlloc)-int64(before.HeapAlloc))
		}
		return least
	}
	names := make([]string, objects)
	for i := range names {
		names[i] = fmt.Sprintf("helpdesk-%04d", i)
	}
	gauges := held(func() any {
		vecs := make([]*prometheus.GaugeVec, families)
		for f := range vecs {
			vecs[f] = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: fmt.Sprintf("g%d", f), Help: "h"}, []string{"namespace", "drill"})
			for i, n := range names {
				vecs[f].WithLabelValues(fmt.Sprintf("scale-%02d", i%50), n).Set(float64(i))
			}
		}
		return vecs
	})
	figures := held(func() any {
		vecs := make([]*Vec, families)
		for f := range vecs {
			vecs[f] = NewVec(prometheus.GaugeOpts{Name: fmt.Sprintf("g%d", f), Help: "h"}, []string{"namespace", "drill"})
			for i, n := range names {
				vecs[f].WithLabelValues(fmt.Sprintf("scale-%02d", i%50), n).Set(float64(i))
			}
		}
		return vecs
	})
	t.Logf("%d series: GaugeVec holds %.1f MB (%d bytes a series), Vec %.1f MB (%d bytes a series)",
		objects*families, float64(gauges)/1e6, gauges/(objects*families), float64(figures)/1e6, figures/(objects*families))
	if figures <= 0 || gauges <= 0 || figures*2 > gauges {
		t.Errorf("Vec holds %d bytes, GaugeVec %d: want at most half", figures, gauges)
	}
}
