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
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/placement"
	"github.com/supportstack/operator/internal/resources"
)

// testNode makes a Ready, schedulable Node reporting allocatable
// ephemeral storage, as a kubelet and the node lifecycle controller would
// (envtest has neither), and deletes it when the test ends.
func testNode(t *testing.T, name string, allocatable int64) *corev1.Node {
	t.Helper()
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8sClient.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), node) })
	setNodeAllocatable(t, node, allocatable)
	return node
}

func setNodeAllocatable(t *testing.T, node *corev1.Node, allocatable int64) {
	t.Helper()
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(node), node); err != nil {
			return err
		}
		q := *resource.NewQuantity(allocatable, resource.BinarySI)
		node.Status.Allocatable = corev1.ResourceList{corev1.ResourceEphemeralStorage: q}
		node.Status.Capacity = corev1.ResourceList{corev1.ResourceEphemeralStorage: q}
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
		return k8sClient.Status().Update(context.Background(), node)
	}); err != nil {
		t.Fatal(err)
	}
	// The API server taints a new Node not-ready (TaintNodesByCondition);
	// the node lifecycle controller lifts the taint once it is Ready.
	if err := update(t, k8sClient, node, func(n *corev1.Node) { n.Spec.Taints = nil }); err != nil {
		t.Fatal(err)
	}
}

// TestDrillFailsFastWithoutNodeRoom (issue #19): a drill whose scratch
// server or restore pod needs more ephemeral storage than any schedulable
// node allocates ends in Error at once, before any sandbox is made, with
// a message naming the need and the largest node's allocatable; once a
// node large enough joins, the next run gets its sandbox.
func TestDrillFailsFastWithoutNodeRoom(t *testing.T) {
	ctx := context.Background()
	var nodes corev1.NodeList
	if err := k8sClient.List(ctx, &nodes); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		if _, ok := n.Status.Allocatable[corev1.ResourceEphemeralStorage]; !ok && !n.Spec.Unschedulable {
			t.Fatalf("Node %s, left by another test, reports no ephemeral storage, so no drill can be refused: tests must delete the Nodes they create", n.Name)
		}
	}
	drill := drillFixture(t, nil)
	var policy opsv1alpha1.BackupPolicy
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: drill.Namespace, Name: drill.Spec.BackupPolicyName}, &policy); err != nil {
		t.Fatal(err)
	}
	// What the two largest pods of a run need, rendered as the reconciler
	// renders them: the manager runs with the default agent cache.
	run0 := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: drill.Namespace, Name: "x"}}
	scratchBytes := resources.ScratchBytes(&policy)
	scratch, _ := resources.ScratchPostgres(run0, scratchBytes)
	restore := resources.DrillJob(run0, &policy, testAgentImage, agentapi.RestoreConfig{ScratchBytes: scratchBytes}, 1, false)
	scratchNeed, restoreNeed := resources.PodEphemeralRequest(&scratch.Spec), resources.PodEphemeralRequest(&restore.Spec.Template.Spec)
	if scratchNeed >= restoreNeed {
		t.Fatalf("the test wants a node between the scratch server's %d and the restore pod's %d", scratchNeed, restoreNeed)
	}

	between := (scratchNeed + restoreNeed) / 2
	node := testNode(t, "ephemeral-small", 1<<30)
	cases := []struct {
		allocatable int64
		want        string // "" = the sandbox is made
	}{
		{1 << 30, fmt.Sprintf("the scratch PostgreSQL server needs %s of ephemeral storage; the largest node allocates 1Gi", resources.FormatBytes(scratchNeed))},
		{between, fmt.Sprintf("the restore Job's pod needs %s of ephemeral storage; the largest node allocates %s",
			resources.FormatBytes(restoreNeed), resources.FormatBytes(between))},
		{restoreNeed, ""}, // exactly enough
	}
	seen := map[string]bool{}
	for i, tc := range cases {
		setNodeAllocatable(t, node, tc.allocatable)
		runNow(t, drill, fmt.Sprintf("room-%d", i))
		var run *opsv1alpha1.DRDrillRun
		for _, r := range runsOf(t, drill, i+1) {
			if !seen[r.Name] {
				run = r.DeepCopy()
				seen[r.Name] = true
			}
		}
		if tc.want == "" {
			got := waitRun(t, drill.Namespace, run.Name, func(r *opsv1alpha1.DRDrillRun) error {
				if r.Status.SandboxNamespaceUID == "" {
					return fmt.Errorf("no sandbox yet: %s %s", r.Status.Phase, r.Status.Message)
				}
				return nil
			})
			if got.Status.Phase != opsv1alpha1.DrillRunProvisioning {
				t.Errorf("node of %d: run %s in %s (%s), want Provisioning", tc.allocatable, got.Name, got.Status.Phase, got.Status.Message)
			}
			continue
		}
		got := waitRun(t, drill.Namespace, run.Name, inPhase(opsv1alpha1.DrillRunError))
		c := meta.FindStatusCondition(got.Status.Conditions, opsv1alpha1.ConditionReady)
		if c == nil || c.Reason != opsv1alpha1.ReasonInsufficientEphemeralStorage || !strings.HasPrefix(got.Status.Message, tc.want) {
			t.Errorf("node of %d: Ready %+v, message %q; want %s and %q", tc.allocatable, c, got.Status.Message, opsv1alpha1.ReasonInsufficientEphemeralStorage, tc.want)
		}
		if got.Status.SandboxNamespaceUID != "" {
			t.Errorf("node of %d: a run that cannot be placed made its sandbox", tc.allocatable)
		}
		var ns corev1.Namespace
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: resources.SandboxNamespaceName(got)}, &ns); !apierrors.IsNotFound(err) {
			t.Errorf("node of %d: the sandbox namespace exists: %v", tc.allocatable, err)
		}
	}
}

// TestRenderedPodsAdmitted (issue #19): every pod the operator renders is
// admitted by the API server in a namespace that enforces Pod Security
// "restricted", and a pod allowing privilege escalation is refused there,
// so the admission is what the test sees. In a namespace under the
// sandbox quota, the scratch server, restore and verify pods are admitted
// together, and then a pod the size of the restore pod is refused for
// ephemeral storage: the quota holds a drill's pods, not two restores.
func TestRenderedPodsAdmitted(t *testing.T) {
	ctx := context.Background()
	restricted := func(prefix string) string {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix, Labels: map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}}}
		if err := k8sClient.Create(ctx, ns); err != nil {
			t.Fatal(err)
		}
		return ns.Name
	}
	create := func(ns string, spec corev1.PodSpec) error {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "rendered-", Namespace: ns}, Spec: spec}
		pod.Spec.ServiceAccountName = "" // the default one: the test makes no ServiceAccounts
		return k8sClient.Create(ctx, pod)
	}

	apps := restricted("restricted-")
	createPolicyInputs(t, apps)
	policy := samplePolicy(t, apps)
	backups := map[string]corev1.PodSpec{}
	for _, op := range []string{agentapi.OperationBackup, agentapi.OperationPrune, agentapi.OperationCheck} {
		backups[op+" CronJob"] = resources.BackupCronJob(policy, op, testAgentImage).Spec.JobTemplate.Spec.Template.Spec
	}
	split := placement.Plan{Parts: []placement.Part{{Node: "node-a", Volumes: []string{policy.Spec.Sources.Volumes[0].Name}}, {Databases: true}}}
	for _, cj := range resources.BackupCronJobs(policy, testAgentImage, split) {
		backups[cj.Name+" CronJob (a run split over two nodes)"] = cj.Spec.JobTemplate.Spec.Template.Spec
	}
	backups["backup-now Job"] = resources.BackupNowJob(resources.BackupCronJob(policy, agentapi.OperationBackup, testAgentImage, resources.WithAgentCache(512<<20)), "t").Spec.Template.Spec
	for name, spec := range backups {
		if err := create(apps, spec); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	sandbox := restricted("sandbox-")
	run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: apps, Name: "r"}}
	run.Spec.Sandbox.Namespace = sandbox
	scratchBytes := resources.ScratchBytes(policy)
	if err := k8sClient.Create(ctx, resources.SandboxQuota(run, scratchBytes, 0)); err != nil {
		t.Fatal(err)
	}
	actAsQuotaController(t, sandbox)
	scratch, _ := resources.ScratchPostgres(run, scratchBytes)
	restore := resources.DrillJob(run, policy, testAgentImage, agentapi.RestoreConfig{ScratchBytes: scratchBytes}, 60, true).Spec.Template.Spec
	verify := resources.DrillJob(run, policy, testAgentImage, agentapi.VerifyJob{}, 60, true).Spec.Template.Spec
	// Quota admission reads quotas from the API server's cache: wait until
	// it refuses a pod without a CPU limit, then forget what it counted.
	eventually(t, 10*time.Second, func() error {
		spec := *scratch.Spec.DeepCopy()
		delete(spec.Containers[0].Resources.Limits, corev1.ResourceCPU)
		if err := create(sandbox, spec); err == nil || !strings.Contains(err.Error(), "must specify limits.cpu") {
			return fmt.Errorf("a pod without a CPU limit: %v, want refused by the quota", err)
		}
		return nil
	})
	releaseQuota(t, sandbox)
	privileged := *scratch.Spec.DeepCopy()
	privileged.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptrTo(true)
	if err := create(sandbox, privileged); err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Errorf("a pod allowing privilege escalation: %v, want refused by Pod Security", err)
	}
	for name, spec := range map[string]corev1.PodSpec{"scratch server": scratch.Spec, "restore Job": restore, "verify Job": verify} {
		if err := create(sandbox, spec); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := create(sandbox, restore); err == nil || !strings.Contains(err.Error(), "exceeded quota") || !strings.Contains(err.Error(), "ephemeral-storage") {
		t.Errorf("a second restore pod in the sandbox: %v, want refused for ephemeral storage", err)
	}
}
