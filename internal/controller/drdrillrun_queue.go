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
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// DefaultMaxConcurrentDrillRuns is how many drill runs of one namespace
// run at once unless the manager's --max-concurrent-drill-runs-per-namespace
// says otherwise. Each run holds a namespace, a scratch PostgreSQL server
// and a copy of production data; whoever may start drills in a namespace
// may not start them without bound.
const DefaultMaxConcurrentDrillRuns = 2

// queueRecheck is how often the run at the head of its namespace's queue
// looks again even if no run's end woke it (wakeQueuedRuns is the normal
// path). Runs behind it look again every queueRecheckBehind: only the runs
// at the head can start, and each start or end wakes them.
const (
	queueRecheck       = time.Minute
	queueRecheckBehind = 10 * time.Minute
)

// runActive says whether a run has started and not finished: it holds a
// sandbox, pods and a copy of the data.
func runActive(run *opsv1alpha1.DRDrillRun) bool {
	switch run.Status.Phase {
	case opsv1alpha1.DrillRunProvisioning, opsv1alpha1.DrillRunRestoring, opsv1alpha1.DrillRunVerifying:
		return true
	}
	return false
}

// sandboxKept says whether a finished run still holds the sandbox it
// created (keep: Always or OnFailure until its ttl): the scratch server
// with the restored data and the copied Secrets are still there, so it
// counts toward its namespace's limit until teardown deletes the sandbox
// and drops the run's finalizer.
func sandboxKept(run *opsv1alpha1.DRDrillRun) bool {
	return run.Status.Phase.IsFinal() && run.Status.SandboxNamespaceUID != "" && controllerutil.ContainsFinalizer(run, FinalizerSandbox)
}

// holdsSandbox says whether a run counts toward its namespace's limit.
func holdsSandbox(run *opsv1alpha1.DRDrillRun) bool {
	return runActive(run) || sandboxKept(run)
}

// runWaiting says whether a run has not started yet.
func runWaiting(run *opsv1alpha1.DRDrillRun) bool {
	return run.Status.Phase == "" || run.Status.Phase == opsv1alpha1.DrillRunPending
}

// queuedBefore orders waiting runs: first created, first started (then by
// name, as creation times are kept to the second).
func queuedBefore(a, b *opsv1alpha1.DRDrillRun) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// drillRunLimit is how many runs of one namespace may hold a sandbox.
func (r *DRDrillRunReconciler) drillRunLimit() int {
	if r.MaxConcurrentRunsPerNamespace <= 0 {
		return DefaultMaxConcurrentDrillRuns
	}
	return r.MaxConcurrentRunsPerNamespace
}

// runQueue is one namespace's runs as a waiting run sees them.
type runQueue struct {
	active, kept, ahead []*opsv1alpha1.DRDrillRun
	// started says the list shows the run itself started already.
	started *opsv1alpha1.DRDrillRun
}

func queueOf(run *opsv1alpha1.DRDrillRun, runs []opsv1alpha1.DRDrillRun) runQueue {
	var q runQueue
	for i := range runs {
		other := &runs[i]
		switch {
		case other.UID == run.UID:
			if !runWaiting(other) {
				q.started = other
			}
		case !other.DeletionTimestamp.IsZero():
		case runActive(other):
			q.active = append(q.active, other)
		case sandboxKept(other):
			q.kept = append(q.kept, other)
		case runWaiting(other) && queuedBefore(other, run):
			q.ahead = append(q.ahead, other)
		}
	}
	return q
}

func (q runQueue) full(limit int) bool {
	return len(q.active)+len(q.kept)+len(q.ahead) >= limit
}

// waitForTurn keeps a run that has not started Pending while its namespace
// already has as many runs holding a sandbox as allowed (active runs and
// finished runs whose sandbox is kept), counting the runs queued before
// it. It returns 0 when the run may start, otherwise when to look
// again (the run's status then says whom it waits for).
//
// The cache answers first: when it shows no room and the run already
// says so, there is none, or a run ended that the cache has not shown
// yet, and that end wakes this run again (wakeQueuedRuns) once the cache
// has it. A deep queue thus costs no request to the API server. A start,
// and any change to the run's status, is decided against the API server:
// the waiting runs of a namespace reconcile one at a time, each until its
// start is written (DRDrillRunReconciler.queues), so the list it returns
// holds every start decided before, which the cache may not yet.
func (r *DRDrillRunReconciler) waitForTurn(ctx context.Context, run *opsv1alpha1.DRDrillRun) (time.Duration, error) {
	limit := r.drillRunLimit()
	var cached opsv1alpha1.DRDrillRunList
	if err := r.List(ctx, &cached, client.InNamespace(run.Namespace)); err != nil {
		return 0, err
	}
	q := queueOf(run, cached.Items)
	// The cache alone may only leave a queued run as it is: a write (a new
	// run queued, a new head, a new message) is decided on the API
	// server's list, which holds the run's own start if the cache lags
	// behind it; a start the cache does not show yet must never be
	// overwritten with Pending.
	unchanged := run.Status.Phase == opsv1alpha1.DrillRunPending && run.Status.Message == queueMessage(run.Namespace, limit, q)
	if q.started != nil || !q.full(limit) || !unchanged {
		var runs opsv1alpha1.DRDrillRunList
		if err := r.APIReader.List(ctx, &runs, client.InNamespace(run.Namespace)); err != nil {
			return 0, err
		}
		if q = queueOf(run, runs.Items); q.started != nil {
			// The cache handed us a copy older than the run's start:
			// take the API server's and look again.
			run.Status = *q.started.Status.DeepCopy()
			return time.Second, nil
		}
		if !q.full(limit) {
			return 0, nil
		}
	}
	msg := queueMessage(run.Namespace, limit, q)
	if run.Status.Phase != opsv1alpha1.DrillRunPending {
		r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonQueued, "Queue", "%s", msg)
	}
	run.Status.Phase, run.Status.Message = opsv1alpha1.DrillRunPending, msg
	run.Status.ObservedGeneration = run.Generation
	setCondition(run, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonQueued, msg)
	if len(q.ahead) > 0 {
		return queueRecheckBehind, nil
	}
	return queueRecheck, nil
}

// queueMessage says whom a queued run waits for and why. The run at the
// head of the queue names the runs holding the sandboxes; a run behind it
// says only that, so its status is not rewritten each time the queue
// moves (in a namespace with hundreds of queued runs, every start would
// otherwise rewrite every one of them).
func queueMessage(namespace string, limit int, q runQueue) string {
	rule := fmt.Sprintf("at most %d drill runs run at once in namespace %s (the operator's --max-concurrent-drill-runs-per-namespace; a finished run counts while its sandbox is kept)", limit, namespace)
	if len(q.ahead) > 0 {
		return fmt.Sprintf("waiting for the runs queued before it: %s; runs start in the order they were created", rule)
	}
	names := func(runs []*opsv1alpha1.DRDrillRun) string {
		sort.Slice(runs, func(i, j int) bool { return queuedBefore(runs[i], runs[j]) })
		n := make([]string, len(runs))
		for i, r := range runs {
			n[i] = r.Name
		}
		return strings.Join(n, ", ")
	}
	var waits []string
	if len(q.active) > 0 {
		waits = append(waits, fmt.Sprintf("runs %s to finish", names(q.active)))
	}
	if len(q.kept) > 0 {
		waits = append(waits, fmt.Sprintf("the sandboxes kept by finished runs %s to be deleted (at the end of their spec.sandbox.ttl, or now by deleting the run or its sandbox namespace)", names(q.kept)))
	}
	return fmt.Sprintf("waiting for %s: %s; this run starts when one of them ends", strings.Join(waits, " and "), rule)
}

// wakeQueuedRuns enqueues the runs at the head of a namespace's queue when
// the queue moves: a run lets its sandbox go (it ends without keeping one,
// or its kept sandbox is torn down), leaves the queue (it starts, or ends
// or is deleted without starting), or goes away. Only the first runs of
// the queue, as many as may run at once, can start or see their message
// change; the runs behind them are not woken, so a queue of hundreds costs
// a handful of reconciles per start instead of hundreds.
func (r *DRDrillRunReconciler) wakeQueuedRuns() handler.TypedEventHandler[client.Object, reconcile.Request] {
	wake := func(ctx context.Context, namespace string, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		var runs opsv1alpha1.DRDrillRunList
		if err := r.List(ctx, &runs, client.InNamespace(namespace)); err != nil {
			log.FromContext(ctx).Error(err, "listing queued drill runs", "namespace", namespace)
			return
		}
		var waiting []*opsv1alpha1.DRDrillRun
		for i := range runs.Items {
			if run := &runs.Items[i]; runWaiting(run) && run.DeletionTimestamp.IsZero() {
				waiting = append(waiting, run)
			}
		}
		sort.Slice(waiting, func(i, j int) bool { return queuedBefore(waiting[i], waiting[j]) })
		for _, run := range waiting[:min(len(waiting), r.drillRunLimit())] {
			q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: run.Namespace, Name: run.Name}})
		}
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			old, oldOK := e.ObjectOld.(*opsv1alpha1.DRDrillRun)
			run, newOK := e.ObjectNew.(*opsv1alpha1.DRDrillRun)
			if !oldOK || !newOK {
				return
			}
			released := holdsSandbox(old) && !holdsSandbox(run)
			dequeued := runWaiting(old) && !runWaiting(run)
			leaving := old.DeletionTimestamp.IsZero() && !run.DeletionTimestamp.IsZero()
			if released || dequeued || leaving {
				wake(ctx, run.Namespace, q)
			}
		},
		DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			wake(ctx, e.Object.GetNamespace(), q)
		},
	}
}
