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

package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/testenv"
)

// TestRunsTakeTurnsWithManyWorkers: with 4 workers per controller (the
// manager's --max-concurrent-reconciles), 8 drills of one namespace run at
// once. Every version of every run the API server stored is replayed in
// order, and at no point do more than 2 runs (the namespace's limit) hold a
// slot. Runs reconciled at the same time agree because each counts the runs
// queued before it as well as the active ones: counting only the active
// runs, each sees a free slot and 4 start together (seen failing so).
func TestRunsTakeTurnsWithManyWorkers(t *testing.T) {
	ctx := context.Background()
	restart := stopManagerFor(t)
	stop := startManagerWorkers(t, 4)
	defer func() {
		stop()
		restart()
	}()

	template := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
	ns := template.Namespace
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := wc.Watch(wctx, &opsv1alpha1.DRDrillRunList{}, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// The replay: each run's phase as of the latest version seen, and the
	// most runs ever holding a slot at once.
	type peak struct {
		runs int
		what string
	}
	replay := make(chan peak, 1)
	go func() {
		phase := map[string]opsv1alpha1.DrillRunPhase{}
		var most peak
		for ev := range w.ResultChan() {
			run, ok := ev.Object.(*opsv1alpha1.DRDrillRun)
			if !ok {
				continue
			}
			if ev.Type == watch.Deleted {
				delete(phase, run.Name)
			} else {
				phase[run.Name] = run.Status.Phase
			}
			var holding []string
			for name, p := range phase {
				if p == opsv1alpha1.DrillRunProvisioning || p == opsv1alpha1.DrillRunRestoring || p == opsv1alpha1.DrillRunVerifying {
					holding = append(holding, name)
				}
			}
			if len(holding) > most.runs {
				sort.Strings(holding)
				most = peak{len(holding), fmt.Sprintf("%d runs held a slot at once (%s) at resourceVersion %s", len(holding), strings.Join(holding, ", "), run.ResourceVersion)}
			}
		}
		replay <- most
	}()

	drills := map[string]*opsv1alpha1.DRDrill{} // run name -> its drill
	created := make([]*opsv1alpha1.DRDrill, 0, 8)
	for i := range 8 {
		d := siblingDrill(template, fmt.Sprint(i))
		d.Spec.Suspend = false
		created = append(created, d)
	}
	// All at once, so that the drills' and the runs' workers race.
	errs := make(chan error, len(created))
	for _, d := range created {
		go func() { errs <- k8sClient.Create(ctx, d) }()
	}
	for range created {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range created {
		drills[runsOf(t, d, 1)[0].Name] = d
	}

	// The runs are walked to Passed one by one. Each that ends frees a slot
	// and wakes the 2 runs at the head of the queue, which then race for it.
	done := map[string]bool{}
	for len(done) < len(drills) {
		var active []string
		eventually(t, 60*time.Second, func() error {
			active = nil
			for name := range drills {
				var r opsv1alpha1.DRDrillRun
				mustGet(t, k8sClient, client.ObjectKey{Namespace: ns, Name: name}, &r)
				if !done[name] && r.Status.Phase == opsv1alpha1.DrillRunProvisioning {
					active = append(active, name)
				}
			}
			if want := min(2, len(drills)-len(done)); len(active) != want {
				return fmt.Errorf("%d runs provisioning %v; want %d", len(active), active, want)
			}
			return nil
		})
		sort.Strings(active)
		walk(t, drills[active[0]], active[0], true, false)
		done[active[0]] = true
	}
	for name := range drills {
		waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunPassed))
	}
	cancel()
	switch most := <-replay; {
	case most.runs > DefaultMaxConcurrentDrillRuns:
		t.Errorf("%s; at most %d may (--max-concurrent-drill-runs-per-namespace)", most.what, DefaultMaxConcurrentDrillRuns)
	case most.runs < DefaultMaxConcurrentDrillRuns:
		t.Errorf("the replay saw at most %d runs holding a slot, want %d: it missed the runs' versions", most.runs, DefaultMaxConcurrentDrillRuns)
	}
}

// startManagerWorkers starts the operator's manager as startManager does,
// with workers per controller, and returns what stops it.
func startManagerWorkers(t *testing.T, workers int) (stop func()) {
	t.Helper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:     testenv.Scheme(),
		Cache:      CacheOptions(),
		Client:     ClientOptions(),
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptrTo(true), MaxConcurrentReconciles: workers},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := SetupWithManager(mgr, Options{AgentImage: testAgentImage, Clock: fakeClock, Version: testVersion, DrillTimeouts: testDrillTimeouts}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- mgr.Start(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}
}
