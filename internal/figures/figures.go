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

// Package figures keeps gauge families as plain figures, turned into series
// only when /metrics is scraped.
package figures

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Vec is a gauge family whose series are kept as plain figures, keyed
// by their label values, and turned into series only when /metrics is
// scraped (as the team coverage figures are, the controller package's teamCollector). A GaugeVec
// keeps a child per series with its own label pairs: about 430 bytes each,
// 7.8 MB for the 18 series of each of 1,000 policies and drills, against
// about 80 bytes a figure (TestVecHoldsLessThanGaugeVec). The series
// a scrape builds are garbage once it is served. It offers the part of GaugeVec's API the
// reconcilers use.
type Vec struct {
	desc   *prometheus.Desc
	labels []string

	mu     sync.RWMutex
	values map[string]float64 // by label values joined with labelSep
}

// labelSep joins label values into a key: it cannot occur in a Kubernetes
// name or namespace.
const labelSep = "\xff"

// NewVec is a family of the series opts names, with these labels, as
// prometheus.NewGaugeVec(opts, labels) would declare it.
func NewVec(opts prometheus.GaugeOpts, labels []string) *Vec {
	return &Vec{
		desc:   prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name), opts.Help, labels, opts.ConstLabels),
		labels: labels,
		values: map[string]float64{},
	}
}

// Figure is one series of a Vec: it exists once Set.
type Figure struct {
	vec *Vec
	key string
}

// WithLabelValues names a series by its label values, in the order of the
// family's labels. Unlike GaugeVec's, it creates nothing until Set.
func (v *Vec) WithLabelValues(values ...string) Figure {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("%s: %d label values for the labels %v", v.desc, len(values), v.labels))
	}
	return Figure{vec: v, key: strings.Join(values, labelSep)}
}

// Set sets the series' value, creating it.
func (f Figure) Set(value float64) {
	f.vec.mu.Lock()
	defer f.vec.mu.Unlock()
	f.vec.values[f.key] = value
}

// Value is the series' value, NaN while it is unset: a test polling for
// a value keeps polling (testutil.ToFloat64 would panic on no series, and
// a GaugeVec's series read that way is created at 0).
func (f Figure) Value() float64 {
	f.vec.mu.RLock()
	defer f.vec.mu.RUnlock()
	if v, ok := f.vec.values[f.key]; ok {
		return v
	}
	return math.NaN()
}

// DeleteLabelValues removes the series, saying whether it existed.
func (v *Vec) DeleteLabelValues(values ...string) bool {
	key := v.WithLabelValues(values...).key
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.values[key]
	delete(v.values, key)
	return ok
}

// DeletePartialMatch removes every series whose labels include these,
// returning how many.
func (v *Vec) DeletePartialMatch(match prometheus.Labels) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for key := range v.values {
		if v.matches(key, match) {
			delete(v.values, key)
			n++
		}
	}
	return n
}

// matches says whether the series of key has every label of match. A
// label the family does not have matches nothing, as in GaugeVec: a
// wrong name must not delete every series.
func (v *Vec) matches(key string, match prometheus.Labels) bool {
	values := strings.Split(key, labelSep)
	for name, want := range match {
		i := slices.Index(v.labels, name)
		if i < 0 || values[i] != want {
			return false
		}
	}
	return true
}

// Describe sends the family's one description (prometheus.Collector).
func (v *Vec) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

// Collect sends a series for each figure set (prometheus.Collector).
func (v *Vec) Collect(ch chan<- prometheus.Metric) {
	// Copy under the lock and send after: a slow scrape must not hold up
	// the reconciles that set figures.
	v.mu.RLock()
	values := maps.Clone(v.values)
	v.mu.RUnlock()
	for key, value := range values {
		// Not Must: a panic here would be on the scrape's goroutine,
		// where nothing recovers it.
		m, err := prometheus.NewConstMetric(v.desc, prometheus.GaugeValue, value, strings.Split(key, labelSep)...)
		if err != nil {
			m = prometheus.NewInvalidMetric(v.desc, err)
		}
		ch <- m
	}
}
