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

package leader

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// history is what the observer saw of one run: every phase it went
// through, in order, and every sandbox namespace and Job made for it.
type history struct {
	phases []opsv1alpha1.DrillRunPhase
	// final and completed are the first terminal phase seen and its
	// completion time; flips lists every later change of either.
	final     opsv1alpha1.DrillRunPhase
	completed *metav1.Time
	flips     []string
	// lastVersion is the resourceVersion of the newest state seen.
	lastVersion string
	sandboxes   map[types.UID]string
	// jobs holds the UIDs of each operation's Jobs.
	jobs map[string]map[types.UID]bool
}

// observer watches, from outside the operator, every DRDrillRun, sandbox
// namespace and drill Job for the whole test, so nothing it asserts can
// have happened between two polls.
type observer struct {
	c    client.WithWatch
	mu   sync.Mutex
	runs map[types.NamespacedName]*history
	// leases are the versions of the operator's Lease, in order.
	leases  []leaseVersion
	stopped sync.WaitGroup
}

// leaseVersion is one version of the Lease: who held it.
type leaseVersion struct {
	resourceVersion, holder string
}

func (o *observer) sawLease(l *coordinationv1.Lease) {
	if l.Namespace != leaseNamespace || l.Name != leaderElectionID {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if n := len(o.leases); n == 0 || o.leases[n-1].resourceVersion != l.ResourceVersion {
		o.leases = append(o.leases, leaseVersion{resourceVersion: l.ResourceVersion, holder: holder(l)})
	}
}

// leaseHolders waits until the observer has seen the Lease at to's version
// and returns who held it in every version seen from from's to to's, each
// holder once per stretch of versions it held ("" for none).
func (o *observer) leaseHolders(t *testing.T, from, to *coordinationv1.Lease) []string {
	t.Helper()
	var holders []string
	eventually(t, 10*time.Second, func() error {
		o.mu.Lock()
		defer o.mu.Unlock()
		holders = nil
		start := slices.IndexFunc(o.leases, func(v leaseVersion) bool { return v.resourceVersion == from.ResourceVersion })
		end := slices.IndexFunc(o.leases, func(v leaseVersion) bool { return v.resourceVersion == to.ResourceVersion })
		if start < 0 || end < start {
			return fmt.Errorf("the observer has not seen the Lease at versions %s and %s, in that order", from.ResourceVersion, to.ResourceVersion)
		}
		for _, v := range o.leases[start : end+1] {
			if len(holders) == 0 || holders[len(holders)-1] != v.holder {
				holders = append(holders, v.holder)
			}
		}
		return nil
	})
	return holders
}

func (o *observer) of(key types.NamespacedName) *history {
	h := o.runs[key]
	if h == nil {
		h = &history{sandboxes: map[types.UID]string{}, jobs: map[string]map[types.UID]bool{}}
		o.runs[key] = h
	}
	return h
}

// snapshot copies what was seen of a run.
func (o *observer) snapshot(key types.NamespacedName) history {
	o.mu.Lock()
	defer o.mu.Unlock()
	h := *o.of(key)
	h.phases = slices.Clone(h.phases)
	h.flips = slices.Clone(h.flips)
	return h
}

func (o *observer) sawRun(run *opsv1alpha1.DRDrillRun) {
	o.mu.Lock()
	defer o.mu.Unlock()
	h := o.of(client.ObjectKeyFromObject(run))
	h.lastVersion = run.ResourceVersion
	p := run.Status.Phase
	if n := len(h.phases); n == 0 || h.phases[n-1] != p {
		h.phases = append(h.phases, p)
	}
	switch {
	case h.final == "" && p.IsFinal():
		h.final, h.completed = p, run.Status.CompletionTime.DeepCopy()
	case h.final != "" && (p != h.final || !run.Status.CompletionTime.Equal(h.completed)):
		h.flips = append(h.flips, fmt.Sprintf("%s completed %v -> %s completed %v (resourceVersion %s)", h.final, h.completed, p, run.Status.CompletionTime, run.ResourceVersion))
	}
}

// owner is the run a sandbox object's labels name.
func owner(o client.Object) types.NamespacedName {
	l := o.GetLabels()
	return types.NamespacedName{Namespace: l[resources.LabelDrillRunNamespace], Name: l[resources.LabelDrillRun]}
}

func (o *observer) sawSandbox(ns *corev1.Namespace) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.of(owner(ns)).sandboxes[ns.UID] = ns.Name
}

func (o *observer) sawJob(job *batchv1.Job) {
	o.mu.Lock()
	defer o.mu.Unlock()
	h := o.of(owner(job))
	if h.jobs[job.Name] == nil {
		h.jobs[job.Name] = map[types.UID]bool{}
	}
	h.jobs[job.Name][job.UID] = true
}

// watchAll starts the watches; they end with ctx.
func (o *observer) watchAll(ctx context.Context, t *testing.T) {
	t.Helper()
	ofRun, err := labels.NewRequirement(resources.LabelDrillRun, selection.Exists, nil)
	if err != nil {
		t.Fatal(err)
	}
	sandboxed := labels.NewSelector().Add(*ofRun)
	o.watch(ctx, &opsv1alpha1.DRDrillRunList{}, nil, func(obj client.Object) {
		if run, ok := obj.(*opsv1alpha1.DRDrillRun); ok {
			o.sawRun(run)
		}
	})
	o.watch(ctx, &coordinationv1.LeaseList{}, nil, func(obj client.Object) {
		if l, ok := obj.(*coordinationv1.Lease); ok {
			o.sawLease(l)
		}
	})
	o.watch(ctx, &corev1.NamespaceList{}, sandboxed, func(obj client.Object) {
		if ns, ok := obj.(*corev1.Namespace); ok {
			o.sawSandbox(ns)
		}
	})
	o.watch(ctx, &batchv1.JobList{}, sandboxed, func(obj client.Object) {
		if job, ok := obj.(*batchv1.Job); ok {
			o.sawJob(job)
		}
	})
}

// watch delivers every added or modified object of list's kind to saw,
// resuming after the server ends a watch from the last version seen.
func (o *observer) watch(ctx context.Context, list client.ObjectList, sel labels.Selector, saw func(client.Object)) {
	o.stopped.Add(1)
	go func() {
		defer o.stopped.Done()
		version := ""
		for ctx.Err() == nil {
			w, err := o.c.Watch(ctx, list, &client.ListOptions{LabelSelector: sel, Raw: &metav1.ListOptions{ResourceVersion: version}})
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for ev := range w.ResultChan() {
				switch ev.Type {
				case watch.Added, watch.Modified, watch.Deleted:
					obj := ev.Object.(client.Object)
					version = obj.GetResourceVersion()
					saw(obj)
				case watch.Error:
					if apierrors.IsResourceExpired(apierrors.FromObject(ev.Object)) || apierrors.IsGone(apierrors.FromObject(ev.Object)) {
						version = "" // relist: what was missed shows as its current state
					}
				}
			}
			w.Stop()
		}
	}()
}

// caughtUp waits until the observer has seen the run as the API server
// holds it now, and every sandbox namespace and Job the server holds for it.
func (o *observer) caughtUp(t *testing.T, c client.Client, key types.NamespacedName) history {
	t.Helper()
	var h history
	eventually(t, 10*time.Second, func() error {
		ctx := context.Background()
		var run opsv1alpha1.DRDrillRun
		if err := c.Get(ctx, key, &run); err != nil {
			return err
		}
		of := client.MatchingLabels{resources.LabelDrillRun: key.Name, resources.LabelDrillRunNamespace: key.Namespace}
		var sandboxes corev1.NamespaceList
		if err := c.List(ctx, &sandboxes, of); err != nil {
			return err
		}
		var jobs batchv1.JobList
		if err := c.List(ctx, &jobs, of); err != nil {
			return err
		}
		h = o.snapshot(key)
		if h.lastVersion != run.ResourceVersion {
			return fmt.Errorf("observer at version %s of run %s, the server at %s", h.lastVersion, key, run.ResourceVersion)
		}
		for _, ns := range sandboxes.Items {
			if _, ok := h.sandboxes[ns.UID]; !ok {
				return fmt.Errorf("observer has not seen sandbox %s", ns.Name)
			}
		}
		for _, j := range jobs.Items {
			if !h.jobs[j.Name][j.UID] {
				return fmt.Errorf("observer has not seen Job %s/%s", j.Namespace, j.Name)
			}
		}
		return nil
	})
	return h
}
