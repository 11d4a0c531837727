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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// TestNamespaceDeletedWithRunsInFlight (issue 16, faults): a namespace
// holding two running drills and a queued one is deleted. The namespace
// controller (envtest has none; the test does its work) deletes the runs
// and the drills in whatever order it finds them, and the API server refuses
// anything new in the namespace. Every run must let go (its finalizer
// released, so the namespace can finish), and every sandbox the operator
// made for the namespace's runs must be deleted — including the one it
// starts for the queued run when the running ones go first (the test waits
// for it): a sandbox is a namespace of its own, which nothing else would
// ever remove.
func TestNamespaceDeletedWithRunsInFlight(t *testing.T) {
	ctx := context.Background()
	template := drillFixture(t, nil)
	ns := template.Namespace
	drills := make([]*opsv1alpha1.DRDrill, 0, 3)
	for _, n := range []string{"a", "b", "c"} {
		d := siblingDrill(template, n)
		if err := k8sClient.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
		drills = append(drills, d)
	}
	var running, queued []string
	eventually(t, 30*time.Second, func() error {
		running, queued = nil, nil
		for _, d := range drills {
			var runs opsv1alpha1.DRDrillRunList
			if err := k8sClient.List(ctx, &runs, client.InNamespace(ns), client.MatchingLabels{resources.LabelDrill: d.Name}); err != nil {
				return err
			}
			for _, r := range runs.Items {
				switch r.Status.Phase {
				case opsv1alpha1.DrillRunProvisioning:
					running = append(running, r.Name)
				case opsv1alpha1.DrillRunPending:
					queued = append(queued, r.Name)
				}
			}
		}
		if len(running) != 2 || len(queued) != 1 {
			return fmt.Errorf("running %v, queued %v", running, queued)
		}
		return nil
	})
	sort.Strings(running)
	// The running runs' sandboxes exist, labelled with the namespace.
	sandboxes := map[string]bool{}
	for _, name := range running {
		r := waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
			if r.Status.SandboxNamespace == "" {
				return fmt.Errorf("run %s has no sandbox yet", name)
			}
			return nil
		})
		sandboxes[r.Status.SandboxNamespace] = true
	}
	eventually(t, 10*time.Second, func() error {
		var list corev1.NamespaceList
		if err := k8sClient.List(ctx, &list, client.MatchingLabels{resources.LabelDrillRunNamespace: ns}); err != nil {
			return err
		}
		if len(list.Items) != len(sandboxes) {
			return fmt.Errorf("%d sandboxes labelled with namespace %s, want %d", len(list.Items), ns, len(sandboxes))
		}
		return nil
	})

	var namespace corev1.Namespace
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: ns}, &namespace); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Delete(ctx, &namespace); err != nil {
		t.Fatal(err)
	}
	// The namespace controller's work, in a bad order: the running runs
	// first (freeing the queue's slots while the queued run and the drills
	// are still there), then, a moment later, everything else.
	for _, name := range running {
		deleteRun(t, ns, name)
	}
	// The case this test is for: the freed slot starts the queued run, whose
	// sandbox the operator now makes in a namespace being deleted.
	started := waitRun(t, ns, queued[0], func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.SandboxNamespace == "" {
			return fmt.Errorf("queued run %s: phase %s, no sandbox yet", r.Name, r.Status.Phase)
		}
		return nil
	})
	sandboxes[started.Status.SandboxNamespace] = true
	if err := k8sClient.DeleteAllOf(ctx, &opsv1alpha1.DRDrillRun{}, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.DeleteAllOf(ctx, &opsv1alpha1.DRDrill{}, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}

	// Every run lets go, and every sandbox made for this namespace's runs
	// is being deleted.
	eventually(t, 30*time.Second, func() error {
		var runs opsv1alpha1.DRDrillRunList
		if err := k8sClient.List(ctx, &runs, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(runs.Items) != 0 {
			left := []string{}
			for _, r := range runs.Items {
				left = append(left, fmt.Sprintf("%s=%s finalizers %v", r.Name, r.Status.Phase, r.Finalizers))
			}
			return fmt.Errorf("runs left in the deleted namespace: %v", left)
		}
		return sandboxesOfNamespaceDeleted(ctx, ns)
	})
	// And stays so: nothing starts a sandbox for the namespace afterwards
	// (3 s: the operator's requeues after errors start at milliseconds).
	time.Sleep(3 * time.Second)
	if err := sandboxesOfNamespaceDeleted(ctx, ns); err != nil {
		t.Error(err)
	}
	var list corev1.NamespaceList
	if err := k8sClient.List(ctx, &list, client.MatchingLabels{resources.LabelDrillRunNamespace: ns}); err != nil {
		t.Fatal(err)
	}
	for _, sb := range list.Items {
		if !sandboxes[sb.Name] {
			t.Errorf("sandbox %s appeared after the namespace's deletion", sb.Name)
		}
	}
	for name := range sandboxes {
		var sb corev1.Namespace
		err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &sb)
		if err == nil && sb.DeletionTimestamp.IsZero() {
			t.Errorf("sandbox %s is not deleted", name)
		} else if err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	}
}

// deleteRun deletes one run, as the namespace controller would.
func deleteRun(t *testing.T, ns, name string) {
	t.Helper()
	run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := k8sClient.Delete(context.Background(), run); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
}

// sandboxesOfNamespaceDeleted fails while any sandbox namespace labelled
// with runs of ns is not being deleted.
func sandboxesOfNamespaceDeleted(ctx context.Context, ns string) error {
	var sandboxes corev1.NamespaceList
	if err := k8sClient.List(ctx, &sandboxes, client.MatchingLabels{resources.LabelDrillRunNamespace: ns}); err != nil {
		return err
	}
	for _, sb := range sandboxes.Items {
		if sb.DeletionTimestamp.IsZero() {
			return fmt.Errorf("sandbox %s (run %s) is not deleted", sb.Name, sb.Labels[resources.LabelDrillRun])
		}
	}
	return nil
}
