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
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/supportstack/operator/internal/resources"
)

// TestBackupCronJobsCachedWithoutTemplates: the cache holds a backup
// CronJob without its pod template; a policy's reconcile reading that
// cache writes nothing in the steady state; a CronJob edited by hand, or
// deleted and created again with an edit, is put back with one write; a
// restarted reconciler writes nothing for a CronJob in shape. The CronJob
// of all but the first is owned by a ConfigMap, so that only the test's
// reconciler acts on it.
func TestBackupCronJobsCachedWithoutTemplates(t *testing.T) {
	ctx := context.Background()
	policy := readySamplePolicy(t)
	c, writes := countingCachedClient(t)
	r := &BackupPolicyReconciler{Client: c, APIReader: k8sClient, Recorder: events.NewFakeRecorder(100), Clock: fakeClock,
		AgentImage: testAgentImage, MountingPods: testMountingPods(t)}
	// cachedAsStored waits until the cache has the API server's version
	// of the CronJob, checks it holds no template, and returns the API
	// server's.
	cachedAsStored := func(key client.ObjectKey) *batchv1.CronJob {
		t.Helper()
		var stored, cached batchv1.CronJob
		waitCached(t, c, key, &cached)
		if err := k8sClient.Get(ctx, key, &stored); err != nil {
			t.Fatal(err)
		}
		if n := len(cached.Spec.JobTemplate.Spec.Template.Spec.Containers); n != 0 || cached.ManagedFields != nil {
			t.Errorf("the cached CronJob holds %d containers and managedFields %v, want none", n, cached.ManagedFields)
		}
		return &stored
	}
	cachedAsStored(client.ObjectKey{Namespace: policy.Namespace, Name: resources.BackupName(policy, "backup")})
	for range 3 {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(policy)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("3 steady-state reconciles of the policy sent %d write requests, want 0", n)
	}

	owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner", Namespace: policy.Namespace}}
	if err := k8sClient.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	desired := resources.BackupCronJob(policy, "backup", testAgentImage)
	desired.Name = "owned-by-a-configmap"
	key := client.ObjectKeyFromObject(desired)
	apply := func(r *BackupPolicyReconciler, when string, want int64) *batchv1.CronJob {
		t.Helper()
		writes.Store(0)
		if err := r.applyCronJob(ctx, owner, desired.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		if n := writes.Load(); n != want {
			t.Errorf("%s: %d write requests, want %d", when, n, want)
		}
		return cachedAsStored(key)
	}
	apply(r, "created", 1)
	// Right after a write the cache may still hold the CronJob as it was:
	// it is read whole again, and not written.
	r.cronJobs.forget(key)
	apply(r, "in shape, not seen whole", 0)
	stored := apply(r, "in shape", 0)

	// Deleted and created again with an edit (kubectl replace --force): a
	// new UID at the same generation, 1. It is put back (the generation
	// alone would not tell).
	edited := stored.DeepCopy()
	edited.ResourceVersion, edited.UID, edited.CreationTimestamp = "", "", metav1.Time{}
	edited.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image = "attacker/agent:evil"
	if err := k8sClient.Delete(ctx, stored); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error { return k8sClient.Create(ctx, edited) })
	if again := cachedAsStored(key); again.Generation != stored.Generation || again.UID == stored.UID {
		t.Fatalf("the recreated CronJob is at generation %d with UID %s, the first at %d with %s: want the same generation, another UID",
			again.Generation, again.UID, stored.Generation, stored.UID)
	}
	stored = apply(r, "created again with an edit", 1)
	if image := stored.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image; image != testAgentImage {
		t.Errorf("image %q after the replacement, want %q back", image, testAgentImage)
	}

	// A hand edit raises the generation: it is put back.
	if err := update(t, k8sClient, stored, func(cj *batchv1.CronJob) {
		cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image = "attacker/agent:evil"
	}); err != nil {
		t.Fatal(err)
	}
	cachedAsStored(key)
	stored = apply(r, "after a hand edit", 1)
	if image := stored.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image; image != testAgentImage {
		t.Errorf("image %q after the edit, want %q back", image, testAgentImage)
	}
	apply(r, "put back", 0)

	// A manager that starts reads each CronJob whole once, and writes
	// nothing when it is in shape.
	restarted := &BackupPolicyReconciler{Client: c, APIReader: k8sClient, Recorder: events.NewFakeRecorder(100), Clock: fakeClock, AgentImage: testAgentImage}
	apply(restarted, "after a restart", 0)
	apply(restarted, "after a restart, seen whole", 0)

	// Another desired spec is applied.
	desired.Spec.Schedule = "7 7 * * *"
	if stored = apply(r, "a new schedule", 1); stored.Spec.Schedule != "7 7 * * *" {
		t.Errorf("schedule %q, want the new one", stored.Spec.Schedule)
	}
	apply(r, "the new schedule in place", 0)
}
