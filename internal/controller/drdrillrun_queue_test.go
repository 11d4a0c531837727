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
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/testenv"
)

// TestWakeQueuedRunsWakesOnlyTheHead (issue #16): when a namespace's queue
// moves, only its first runs, as many as may run at once, are woken; a
// change that does not move the queue wakes nobody. Waking every queued run
// made each start or end cost hundreds of reconciles in a deep queue.
func TestWakeQueuedRunsWakesOnlyTheHead(t *testing.T) {
	const ns = "queue"
	base := time.Date(2026, time.December, 1, 9, 0, 0, 0, time.UTC)
	run := func(name string, minute int, phase opsv1alpha1.DrillRunPhase) *opsv1alpha1.DRDrillRun {
		return &opsv1alpha1.DRDrillRun{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(base.Add(time.Duration(minute) * time.Minute))},
			Status:     opsv1alpha1.DRDrillRunStatus{Phase: phase},
		}
	}
	// The cache after the event: a and b ran; c, then d, e and f, queued in
	// that order (f and e created in the same second: by name).
	now := []*opsv1alpha1.DRDrillRun{
		run("a", 0, opsv1alpha1.DrillRunPassed), run("b", 1, opsv1alpha1.DrillRunRestoring),
		run("f", 5, opsv1alpha1.DrillRunPending), run("d", 3, opsv1alpha1.DrillRunPending),
		run("e", 5, opsv1alpha1.DrillRunPending), run("c", 2, ""),
	}
	objs := make([]client.Object, len(now))
	for i := range now {
		objs[i] = now[i]
	}
	r := &DRDrillRunReconciler{Client: fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(objs...).Build(), MaxConcurrentRunsPerNamespace: 2}
	with := func(r *opsv1alpha1.DRDrillRun, phase opsv1alpha1.DrillRunPhase) *opsv1alpha1.DRDrillRun {
		r = r.DeepCopy()
		r.Status.Phase = phase
		return r
	}
	head := []string{"c", "d"}
	for _, tc := range []struct {
		name     string
		old, new *opsv1alpha1.DRDrillRun
		want     []string
	}{
		{"a run ends and lets its sandbox go", with(now[0], opsv1alpha1.DrillRunVerifying), now[0], head},
		{"a queued run starts", with(now[1], opsv1alpha1.DrillRunPending), with(now[1], opsv1alpha1.DrillRunProvisioning), head},
		{"a queued run is refused before it starts", with(now[1], opsv1alpha1.DrillRunPending), with(now[1], opsv1alpha1.DrillRunError), head},
		{"a running run moves on", with(now[1], opsv1alpha1.DrillRunProvisioning), now[1], nil},
		{"a queued run's message changes", now[3], now[3].DeepCopy(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
			defer q.ShutDown()
			r.wakeQueuedRuns().Update(context.Background(), event.TypedUpdateEvent[client.Object]{ObjectOld: tc.old, ObjectNew: tc.new}, q)
			if got := drain(q); !slices.Equal(got, tc.want) {
				t.Errorf("woken %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("a run is deleted", func(t *testing.T) {
		q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
		defer q.ShutDown()
		r.wakeQueuedRuns().Delete(context.Background(), event.TypedDeleteEvent[client.Object]{Object: now[1]}, q)
		if got := drain(q); !slices.Equal(got, head) {
			t.Errorf("woken %v, want %v", got, head)
		}
	})
}

// TestQueuedStatusNeverOverwritesAStart (issue #16, review): the cache can
// lag behind a run's own start (its finalizer seen, its status patch not
// yet) while showing the namespace full, here because a run created in the
// same second with a smaller name looks queued before it. The run must not
// be written back to Pending from that: any change to a queued run's
// status is decided on the API server's list, which shows the start.
func TestQueuedStatusNeverOverwritesAStart(t *testing.T) {
	const ns = "stale"
	at := metav1.NewTime(time.Date(2026, time.December, 1, 9, 0, 0, 0, time.UTC))
	run := func(name string, phase opsv1alpha1.DrillRunPhase) *opsv1alpha1.DRDrillRun {
		return &opsv1alpha1.DRDrillRun{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), CreationTimestamp: at},
			Status:     opsv1alpha1.DRDrillRunStatus{Phase: phase},
		}
	}
	cached := []client.Object{run("a-running", opsv1alpha1.DrillRunRestoring), run("b-queued", opsv1alpha1.DrillRunPending), run("c-started", "")}
	live := []client.Object{run("a-running", opsv1alpha1.DrillRunRestoring), run("b-queued", opsv1alpha1.DrillRunPending), run("c-started", opsv1alpha1.DrillRunProvisioning)}
	r := &DRDrillRunReconciler{
		Client:    fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(cached...).Build(),
		APIReader: fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(live...).Build(),
		Recorder:  events.NewFakeRecorder(10), MaxConcurrentRunsPerNamespace: 2,
	}
	stale := cached[2].(*opsv1alpha1.DRDrillRun).DeepCopy()
	wait, err := r.waitForTurn(context.Background(), stale)
	if err != nil {
		t.Fatal(err)
	}
	if wait != time.Second || stale.Status.Phase != opsv1alpha1.DrillRunProvisioning {
		t.Errorf("a started run seen stale: looks again in %v with phase %q, want 1s with the API server's Provisioning", wait, stale.Status.Phase)
	}
}

// drain returns the names in q, sorted.
func drain(q workqueue.TypedRateLimitingInterface[reconcile.Request]) []string {
	var names []string
	for q.Len() > 0 {
		req, _ := q.Get()
		names = append(names, req.Name)
		q.Done(req)
	}
	sort.Strings(names)
	return names
}

// TestDeepQueueCostsNothingBehindItsHead (issue #16): in a namespace with
// more queued runs than may run, the run at the head of the queue names the
// runs it waits for; the runs behind it say only that they wait for the
// runs queued before them, so the queue moving rewrites none of them. A
// reconcile of a run behind the head sends no write and does not read the
// API server: the cache shows there is no room. At 1,000 drills in 50
// namespaces (make bench-scale) every queued run used to read the API
// server twice a minute and be rewritten at every start.
func TestDeepQueueCostsNothingBehindItsHead(t *testing.T) {
	ctx := context.Background()
	template := drillFixture(t, nil)
	ns := template.Namespace
	drills := map[string]*opsv1alpha1.DRDrill{} // run name -> its drill
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		d := siblingDrill(template, n)
		if err := k8sClient.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
		drills[runsOf(t, d, 1)[0].Name] = d
	}
	var active []string
	var queued []*opsv1alpha1.DRDrillRun
	eventually(t, 30*time.Second, func() error {
		active, queued = nil, nil
		for name := range drills {
			var r opsv1alpha1.DRDrillRun
			mustGet(t, k8sClient, client.ObjectKey{Namespace: ns, Name: name}, &r)
			switch r.Status.Phase {
			case opsv1alpha1.DrillRunProvisioning:
				active = append(active, name)
			case opsv1alpha1.DrillRunPending:
				queued = append(queued, r.DeepCopy())
			}
		}
		if len(active) != 2 || len(queued) != 3 {
			return fmt.Errorf("active %v, %d queued", active, len(queued))
		}
		return nil
	})
	sort.Slice(queued, func(i, j int) bool { return queuedBefore(queued[i], queued[j]) })
	sort.Strings(active)
	message := func(name string) string {
		var r opsv1alpha1.DRDrillRun
		mustGet(t, k8sClient, client.ObjectKey{Namespace: ns, Name: name}, &r)
		return r.Status.Message
	}
	rule := "at most 2 drill runs run at once in namespace " + ns + " (the operator's --max-concurrent-drill-runs-per-namespace; a finished run counts while its sandbox is kept)"
	behind := "waiting for the runs queued before it: " + rule + "; runs start in the order they were created"
	headWaits := func(names ...string) string {
		sort.Strings(names)
		return "waiting for runs " + strings.Join(names, ", ") + " to finish: " + rule + "; this run starts when one of them ends"
	}
	eventually(t, 20*time.Second, func() error {
		want := []string{headWaits(active...), behind, behind}
		for i, r := range queued {
			if got := message(r.Name); got != want[i] {
				return fmt.Errorf("queued run %d (%s): %q, want %q", i, r.Name, got, want[i])
			}
		}
		return nil
	})

	// The first running run ends: the head starts, the next run becomes the
	// head and names the runs it now waits for; the last is left alone.
	walk(t, drills[active[0]], active[0], true, false)
	waitRun(t, ns, queued[0].Name, inPhase(opsv1alpha1.DrillRunProvisioning))
	eventually(t, 20*time.Second, func() error {
		if got, want := message(queued[1].Name), headWaits(active[1], queued[0].Name); got != want {
			return fmt.Errorf("the new head %s: %q, want %q", queued[1].Name, got, want)
		}
		return nil
	})
	last := client.ObjectKeyFromObject(queued[2])
	if got := message(last.Name); got != behind {
		t.Errorf("the last run's message %q, want %q", got, behind)
	}

	// A reconcile of the last run: no write, no read of the API server,
	// and it looks again in queueRecheckBehind.
	c, writes := countingClient(t)
	var apiReads atomic.Int64
	countReads := interceptor.NewClient(fake.NewClientBuilder().WithScheme(testenv.Scheme()).Build(), interceptor.Funcs{
		Get: func(ctx context.Context, _ client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			apiReads.Add(1)
			return c.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, _ client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			apiReads.Add(1)
			return c.List(ctx, list, opts...)
		},
	})
	recorder := events.NewFakeRecorder(10)
	r := &DRDrillRunReconciler{Client: c, APIReader: countReads, Recorder: recorder, Clock: fakeClock, Timeouts: testDrillTimeouts}
	for range 3 {
		res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: last})
		if err != nil {
			t.Fatal(err)
		}
		if res.RequeueAfter != queueRecheckBehind {
			t.Errorf("a run behind the head looks again in %v, want %v", res.RequeueAfter, queueRecheckBehind)
		}
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("3 reconciles of a run behind the head sent %d write requests, want 0", n)
	}
	if n := apiReads.Load(); n != 0 {
		t.Errorf("3 reconciles of a run behind the head read the API server %d times, want 0 (the cache shows no room)", n)
	}
	if n := len(recorder.Events); n != 0 {
		t.Errorf("3 reconciles of a run behind the head recorded %d events, e.g. %q", n, <-recorder.Events)
	}
}
