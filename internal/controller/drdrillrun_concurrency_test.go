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

// What the run reconciler's two locks (DRDrillRunReconciler.queues and
// .drills) keep consistent when several workers reconcile runs at once,
// and the evidence a timed-out run records in the reconcile that ends it.
// The tests call Reconcile on their own reconciler with the suite's
// manager stopped, so only their calls touch the runs.

package controller

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/evidence"
)

// TestQueueDecisionWaitsForTheRunDeciding: a waiting run does not decide
// its turn while another waiting run of its namespace holds the
// namespace's queue (it decided to start and has not written its start
// yet), and once that start is written it counts that run as holding a
// slot. The run that waits was created in the same second as the deciding
// one and its name sorts ahead, so it does not count the deciding run as
// queued before it: without the lock it sees a free slot and starts as
// well, and 3 runs hold the namespace's 2 slots.
func TestQueueDecisionWaitsForTheRunDeciding(t *testing.T) {
	ctx := context.Background()
	r := handDriven(t)
	drill := handDrill(t)
	ns := drill.Namespace
	limit := r.drillRunLimit()
	if limit != 2 {
		t.Fatalf("the test fills the namespace's limit with 1 running run and the run deciding, so it wants the default limit of 2; it is %d", limit)
	}

	// One slot is held by a running run...
	running := createRun(t, drill, "running")
	setRunStatus(t, running, func(run *opsv1alpha1.DRDrillRun) {
		run.Status.StartTime = &metav1.Time{Time: r.Clock.Now()}
		r.enterPhase(run, opsv1alpha1.DrillRunRestoring, r.Clock.Now(), "restoring")
	})
	// ...the other is about to be taken by "deciding", which has not
	// written its start; "waiting" was created in the same second, after
	// it, and sorts ahead of it by name.
	runs := createSameSecond(t, drill, "b-deciding", "a-waiting")
	deciding, waiting := runs[0], runs[1]
	acknowledgeRuns(t, drill, running, deciding, waiting)
	if !queuedBefore(waiting, deciding) {
		t.Fatalf("%s must sort ahead of %s in the queue", waiting.Name, deciding.Name)
	}

	// The deciding run holds the namespace's queue, as its reconcile does
	// from its decision until its start is written.
	release := r.queues.lock(ns)
	type result struct {
		res ctrl.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(waiting)})
		done <- result{res, err}
	}()
	// The waiting run's reconcile must block on the queue (the deciding
	// run holds it, the waiting run waits: 2 users), not return with a
	// decision. Nothing but the lock can keep it from returning, so this
	// does not depend on timing.
	var got result
	decided := false
	for deadline := time.Now().Add(20 * time.Second); !decided && lockUsers(&r.queues, ns) != 2; time.Sleep(10 * time.Millisecond) {
		select {
		case got = <-done:
			decided = true
		default:
			if time.Now().After(deadline) {
				t.Fatalf("after 20s the reconcile of %s neither waits for the namespace's queue nor returned", waiting.Name)
			}
		}
	}
	var w opsv1alpha1.DRDrillRun
	mustGet(t, k8sClient, client.ObjectKeyFromObject(waiting), &w)
	if decided || w.Status.Phase != "" {
		t.Errorf("%s decided while %s held the namespace's queue (its start not written yet): reconcile returned %t (err %v), phase %q (%s)",
			waiting.Name, deciding.Name, decided, got.err, w.Status.Phase, w.Status.Message)
	}

	// The deciding run's start is written (as its deferred status patch
	// does), then it lets the queue go.
	setRunStatus(t, deciding, func(run *opsv1alpha1.DRDrillRun) {
		run.Status.StartTime = &metav1.Time{Time: r.Clock.Now()}
		r.enterPhase(run, opsv1alpha1.DrillRunProvisioning, r.Clock.Now(), "creating the sandbox namespace")
	})
	release()
	if !decided {
		select {
		case got = <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("the reconcile of %s did not return 30s after the queue was released", waiting.Name)
		}
	}
	if got.err != nil {
		t.Fatalf("reconciling %s: %v", waiting.Name, got.err)
	}

	// It counted the started run: the namespace is full, so it is queued
	// at the head, naming the two runs it waits for.
	mustGet(t, k8sClient, client.ObjectKeyFromObject(waiting), &w)
	rule := fmt.Sprintf("at most %d drill runs run at once in namespace %s (the operator's --max-concurrent-drill-runs-per-namespace; a finished run counts while its sandbox is kept)", limit, ns)
	want := "waiting for runs " + running.Name + ", " + deciding.Name + " to finish: " + rule + "; this run starts when one of them ends"
	if w.Status.Phase != opsv1alpha1.DrillRunPending || w.Status.Message != want {
		t.Errorf("%s after the queue was released: phase %q, message %q; want Pending, %q", waiting.Name, w.Status.Phase, w.Status.Message, want)
	}
	if got.res.RequeueAfter != queueRecheck {
		t.Errorf("%s looks again in %v, want %v (the head of the queue)", waiting.Name, got.res.RequeueAfter, queueRecheck)
	}
	var all opsv1alpha1.DRDrillRunList
	if err := k8sClient.List(ctx, &all, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var holding []string
	for i := range all.Items {
		if holdsSandbox(&all.Items[i]) {
			holding = append(holding, all.Items[i].Name)
		}
	}
	sort.Strings(holding)
	if len(holding) != limit {
		t.Errorf("%d runs hold a slot (%s), want the namespace's limit of %d", len(holding), strings.Join(holding, ", "), limit)
	}
}

// TestTimedOutRunRecordsEvidenceInOneReconcile: the reconcile that ends a
// run past its timeout also records its evidence (final() in Reconcile),
// not one more pass of the work queue later: after that single call the
// run is in Error with the timeout's message, its status names the
// evidence, the evidence ConfigMap holds that record and the drill's
// chain ends with it.
func TestTimedOutRunRecordsEvidenceInOneReconcile(t *testing.T) {
	ctx := context.Background()
	r := handDriven(t)
	now := r.Clock.Now()
	for _, tc := range []struct {
		name                string
		phase               opsv1alpha1.DrillRunPhase
		started, phaseSince time.Duration // before now
		want                string
	}{
		{"provisioning past its phase timeout", opsv1alpha1.DrillRunProvisioning, 16 * time.Minute, 16 * time.Minute,
			"Provisioning did not finish within its timeout of 15m0s"},
		{"verifying past its phase timeout", opsv1alpha1.DrillRunVerifying, 2 * time.Hour, 61 * time.Minute,
			"Verifying did not finish within its timeout of 1h0m0s"},
		{"restoring past the run's overall timeout", opsv1alpha1.DrillRunRestoring, 6*time.Hour + time.Minute, time.Hour,
			"the run did not finish within its overall timeout of 6h0m0s (it was Restoring)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A drill of its own, so each case's record is the first of
			// its chain.
			drill := handDrill(t)
			run := createRun(t, drill, "timed-out")
			acknowledgeRuns(t, drill, run)
			setRunStatus(t, run, func(run *opsv1alpha1.DRDrillRun) {
				run.Status.StartTime = &metav1.Time{Time: now.Add(-tc.started)}
				r.enterPhase(run, tc.phase, now.Add(-tc.phaseSince), "in progress")
			})

			if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(run)}); err != nil {
				t.Fatalf("the one reconcile: %v", err)
			}

			var got opsv1alpha1.DRDrillRun
			mustGet(t, k8sClient, client.ObjectKeyFromObject(run), &got)
			if got.Status.Phase != opsv1alpha1.DrillRunError || got.Status.Message != tc.want {
				t.Errorf("after one reconcile: phase %q, message %q; want Error, %q", got.Status.Phase, got.Status.Message, tc.want)
			}
			recorded := meta.FindStatusCondition(got.Status.Conditions, opsv1alpha1.ConditionEvidenceRecorded)
			if got.Status.Evidence == nil || recorded == nil || recorded.Status != metav1.ConditionTrue {
				t.Fatalf("after one reconcile the run names no evidence: status.evidence %+v, EvidenceRecorded %+v", got.Status.Evidence, recorded)
			}
			var cm corev1.ConfigMap
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: drill.Namespace, Name: evidence.ConfigMapName(run.Name)}, &cm); err != nil {
				t.Fatalf("the evidence ConfigMap: %v", err)
			}
			rec, report, err := evidence.FromConfigMap(&cm)
			if err != nil || got.Status.Evidence.ConfigMapName != cm.Name || rec.SHA256 != got.Status.Evidence.SHA256 ||
				report.Run != run.Name || report.Result != string(opsv1alpha1.DrillRunError) || report.Message != tc.want {
				t.Errorf("the record in %s (sha256 %s: run %s, result %s, message %q; %v) is not the one status.evidence names (%+v) for this run's end",
					cm.Name, rec.SHA256, report.Run, report.Result, report.Message, err, got.Status.Evidence)
			}
			if n, err := evidence.VerifyDrillWith(ctx, k8sClient, drill.Namespace, drill.Name, testSigningKey.Public().(ed25519.PublicKey),
				evidence.Expect{DrillUID: string(drill.UID), Head: &evidence.Head{Sequence: 1, SHA256: got.Status.Evidence.SHA256}}); err != nil || n != 1 {
				t.Errorf("the drill's chain (%d records): %v", n, err)
			}
		})
	}
}

// TestTwoRunsOfOneDrillRecordEvidenceAtOnce: two runs of one drill time
// out at the same moment and are reconciled at once, as two workers do.
// Both record their evidence in that reconcile and the drill's chain
// holds: the second record names the first, and the drill's head is the
// second. Each record is chained to the drill's head and then moves it,
// so the records of one drill are written one at a time (the drills
// lock); two runs that both read the same head would both claim sequence
// 1, and the one that moves the head second finds it moved and records
// nothing.
//
// The run reading the head first is held until the other has read it
// too, or waits for the drill's lock, or is done: without the lock both
// read the same head every time, not only when the scheduler happens to
// interleave them so.
func TestTwoRunsOfOneDrillRecordEvidenceAtOnce(t *testing.T) {
	ctx := context.Background()
	r := handDriven(t)
	drill := handDrill(t)
	now := r.Clock.Now()
	first, second := createRun(t, drill, "first"), createRun(t, drill, "second")
	acknowledgeRuns(t, drill, first, second)
	for _, run := range []*opsv1alpha1.DRDrillRun{first, second} {
		setRunStatus(t, run, func(run *opsv1alpha1.DRDrillRun) {
			run.Status.StartTime = &metav1.Time{Time: now.Add(-16 * time.Minute)}
			r.enterPhase(run, opsv1alpha1.DrillRunProvisioning, now.Add(-16*time.Minute), "creating the sandbox namespace")
		})
	}

	drillKey := drill.Namespace + "/" + drill.Name
	var mu sync.Mutex
	readHead, finished := map[string]bool{}, map[string]bool{}
	reconciled := func(ctx context.Context) string { s, _ := ctx.Value(reconciledRun{}).(string); return s }
	other := func(name string) string {
		if name == first.Name {
			return second.Name
		}
		return first.Name
	}
	// The API reader holds each run's first read of the drill (the head
	// recordEvidence chains to) as the comment above says; 10s at most, so
	// a change in what reads the drill cannot hang the test.
	base, err := client.NewWithWatch(env.Config, client.Options{Scheme: k8sClient.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	r.APIReader = interceptor.NewClient(base, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			name := reconciled(ctx)
			if _, isDrill := obj.(*opsv1alpha1.DRDrill); !isDrill || name == "" {
				return nil
			}
			mu.Lock()
			firstRead := !readHead[name]
			readHead[name] = true
			mu.Unlock()
			if !firstRead {
				return nil
			}
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				mu.Lock()
				goOn := readHead[other(name)] || finished[other(name)]
				mu.Unlock()
				if goOn || lockUsers(&r.drills, drillKey) >= 2 {
					break
				}
			}
			return nil
		},
	})

	// Both workers start together.
	start := make(chan struct{})
	errs := map[string]error{}
	var wg sync.WaitGroup
	for _, run := range []*opsv1alpha1.DRDrillRun{first, second} {
		wg.Go(func() {
			<-start
			_, err := r.Reconcile(context.WithValue(ctx, reconciledRun{}, run.Name), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(run)})
			mu.Lock()
			errs[run.Name], finished[run.Name] = err, true
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()

	recorded := map[string]string{} // evidence SHA-256 -> run
	for _, run := range []*opsv1alpha1.DRDrillRun{first, second} {
		if err := errs[run.Name]; err != nil {
			t.Errorf("reconciling %s: %v", run.Name, err)
		}
		var got opsv1alpha1.DRDrillRun
		mustGet(t, k8sClient, client.ObjectKeyFromObject(run), &got)
		c := meta.FindStatusCondition(got.Status.Conditions, opsv1alpha1.ConditionEvidenceRecorded)
		switch {
		case got.Status.Phase != opsv1alpha1.DrillRunError:
			t.Errorf("%s: phase %q (%s), want Error", run.Name, got.Status.Phase, got.Status.Message)
		case got.Status.Evidence == nil:
			t.Errorf("%s recorded no evidence in the reconcile that ended it: EvidenceRecorded %+v", run.Name, c)
		default:
			recorded[got.Status.Evidence.SHA256] = run.Name
		}
	}

	var d opsv1alpha1.DRDrill
	mustGet(t, k8sClient, client.ObjectKeyFromObject(drill), &d)
	if h := d.Status.EvidenceHead; h == nil || h.Sequence != 2 {
		t.Errorf("the drill's evidence head %+v, want sequence 2 (one record per run)", h)
	}
	n, err := evidence.VerifyDrillWith(ctx, k8sClient, drill.Namespace, drill.Name, testSigningKey.Public().(ed25519.PublicKey),
		evidence.Expect{DrillUID: string(drill.UID), Head: evidence.HeadFromStatus(d.Status.EvidenceHead)})
	if err != nil || n != 2 {
		t.Errorf("the drill's chain (%d records, want 2) does not verify: %v", n, err)
	}
	chain, err := evidence.LoadChain(ctx, k8sClient, drill.Namespace, drill.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range chain {
		if recorded[rec.SHA256] != rec.Run {
			t.Errorf("record %s (run %s, sha256 %.12s) is not the evidence its run's status names", rec.Name, rec.Run, rec.SHA256)
		}
	}
}

// reconciledRun is the context key under which
// TestTwoRunsOfOneDrillRecordEvidenceAtOnce tells its reader which run's
// reconcile reads.
type reconciledRun struct{}

// handDriven stops the suite's manager for the rest of the test and
// returns a run reconciler that reads and writes the API server directly,
// with its own clock and the suite's timeouts: only the test's Reconcile
// calls touch its runs (handDrill).
func handDriven(t *testing.T) *DRDrillRunReconciler {
	t.Helper()
	stopManagerFor(t)
	return &DRDrillRunReconciler{Client: k8sClient, APIReader: k8sClient, Recorder: &events.FakeRecorder{},
		Clock: clocktesting.NewFakeClock(time.Date(2026, time.November, 23, 15, 0, 0, 0, time.UTC)), Version: testVersion, Timeouts: testDrillTimeouts}
}

// handDrill is a drill fixture whose runs are deleted when the test ends,
// before the manager stopped by handDriven starts again (cleanups run
// last registered first), so the manager does not carry them on.
func handDrill(t *testing.T) *opsv1alpha1.DRDrill {
	t.Helper()
	drill := drillFixture(t, nil)
	ns := drill.Namespace
	t.Cleanup(func() {
		ctx := context.Background()
		var runs opsv1alpha1.DRDrillRunList
		if err := k8sClient.List(ctx, &runs, client.InNamespace(ns)); err != nil {
			t.Error(err)
			return
		}
		for i := range runs.Items {
			run := &runs.Items[i]
			if err := update(t, k8sClient, run, func(r *opsv1alpha1.DRDrillRun) { r.Finalizers = nil }); err != nil {
				t.Error(err)
			}
			if err := client.IgnoreNotFound(k8sClient.Delete(ctx, run)); err != nil {
				t.Error(err)
			}
		}
	})
	return drill
}

// createRun creates the run drill would create for a run-now token (not
// acknowledged yet: acknowledgeRuns).
func createRun(t *testing.T, drill *opsv1alpha1.DRDrill, name string) *opsv1alpha1.DRDrillRun {
	t.Helper()
	run, err := newRun(drill, name, &opsv1alpha1.RunTrigger{Kind: opsv1alpha1.RunTriggerRunNow, RunNowToken: name}, k8sClient.Scheme())
	if err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Create(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	return run
}

// createSameSecond creates the runs in the order given, all with the same
// creation second (the API server keeps creation times to the second):
// it starts at a fresh second and tries again, under new names, if the
// creations straddled one.
func createSameSecond(t *testing.T, drill *opsv1alpha1.DRDrill, names ...string) (runs []*opsv1alpha1.DRDrillRun) {
	t.Helper()
	for attempt := range 5 {
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
		runs = runs[:0]
		for _, name := range names {
			runs = append(runs, createRun(t, drill, fmt.Sprintf("%s-%d", name, attempt)))
		}
		same := true
		for _, run := range runs {
			same = same && run.CreationTimestamp.Equal(&runs[0].CreationTimestamp)
		}
		if same {
			return runs
		}
		for _, run := range runs {
			if err := k8sClient.Delete(context.Background(), run); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatalf("could not create %v within one second in 5 attempts", names)
	return nil
}

// acknowledgeRuns lists the runs in the drill's status.createdRuns, as the
// drill controller does right after creating them.
func acknowledgeRuns(t *testing.T, drill *opsv1alpha1.DRDrill, runs ...*opsv1alpha1.DRDrillRun) {
	t.Helper()
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var d opsv1alpha1.DRDrill
		if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(drill), &d); err != nil {
			return err
		}
		for _, run := range runs {
			acknowledge(&d.Status, run)
		}
		return k8sClient.Status().Update(context.Background(), &d)
	}); err != nil {
		t.Fatal(err)
	}
}

// setRunStatus writes the status mutate makes of the run's, and gives the
// run the sandbox finalizer a started run has.
func setRunStatus(t *testing.T, run *opsv1alpha1.DRDrillRun, mutate func(*opsv1alpha1.DRDrillRun)) {
	t.Helper()
	if err := update(t, k8sClient, run, func(r *opsv1alpha1.DRDrillRun) { controllerutil.AddFinalizer(r, FinalizerSandbox) }); err != nil {
		t.Fatal(err)
	}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(run), run); err != nil {
			return err
		}
		mutate(run)
		return k8sClient.Status().Update(context.Background(), run)
	}); err != nil {
		t.Fatal(err)
	}
}

// lockUsers is how many callers hold or wait for key in k.
func lockUsers(k *keyedLock, key string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e := k.locks[key]; e != nil {
		return e.users
	}
	return 0
}
