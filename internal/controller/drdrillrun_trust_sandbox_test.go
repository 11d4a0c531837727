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

// Issue #11 items 5, 6 and 9: sandboxes are never adopted, never collide
// across namespaces, and are bounded (pods, quota, runs per namespace); the
// manager caches no Secret and no evidence ConfigMap. Each test acts as
// the less trusted actor would, through impersonation with only the RBAC
// that actor has.

package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

// eventsOfRun are the events recorded about a run.
func eventsOfRun(t *testing.T, run *opsv1alpha1.DRDrillRun) []eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	if err := k8sClient.List(context.Background(), &list, client.InNamespace(run.Namespace)); err != nil {
		t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "DRDrillRun" && e.Regarding.Name == run.Name {
			out = append(out, e)
		}
	}
	return out
}

// noSecretValueIn fails if a value of the sample policy's Secrets appears in
// the run's status or events.
func noSecretValueIn(t *testing.T, run *opsv1alpha1.DRDrillRun) {
	t.Helper()
	status, err := json.Marshal(run.Status)
	if err != nil {
		t.Fatal(err)
	}
	text := string(status)
	for _, e := range eventsOfRun(t, run) {
		text += "\n" + e.Note
	}
	for _, secret := range []string{resticPassword, s3SecretKeyText, "db-pass-123"} {
		if strings.Contains(text, secret) {
			t.Errorf("a secret value appears in run %s's status or events", run.Name)
		}
	}
}

// namespaceUntouched checks that the operator put nothing in a namespace it
// did not create and did not delete it.
func namespaceUntouched(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	var ns corev1.Namespace
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &ns); err != nil || !ns.DeletionTimestamp.IsZero() {
		t.Errorf("namespace %s: %v, deletion %v: the operator must never delete a namespace it did not create", name, err, ns.DeletionTimestamp)
	}
	for _, list := range []client.ObjectList{&corev1.SecretList{}, &corev1.PodList{}, &batchv1.JobList{}, &corev1.ResourceQuotaList{},
		&networkingv1.NetworkPolicyList{}, &corev1.ServiceList{}, &corev1.PersistentVolumeClaimList{}} {
		if err := k8sClient.List(ctx, list, client.InNamespace(name)); err != nil {
			t.Fatal(err)
		}
		if n := meta.LenList(list); n != 0 {
			t.Errorf("the operator created %d %T in namespace %s, which it did not create", n, list, name)
		}
	}
}

// TestSandboxNamespaceNeverAdopted (item 5): a user who can only create
// and label namespaces pre-creates the next run's sandbox, with every
// sandbox label, hoping the operator copies the repository Secrets into it
// and restores production data there. The run ends in Error with
// SandboxNamespaceTaken; nothing is copied or started in the namespace and
// it is not deleted. (The sandbox-namespace admission policy refuses such a
// namespace; plantUnguarded checks so, then plants it as on an installation
// without that policy.)
func TestSandboxNamespaceNeverAdopted(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
	ns := drill.Namespace
	labeller := actAs(t, "namespace-labeller", "",
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"create", "patch"}},
	)

	// The sandbox name is worked out from public facts: the drill's
	// namespace and name and the run-now token.
	next := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: RunNowRunName(drill, "audit-2026-12")}}
	sandbox := resources.SandboxNamespaceName(next)
	trap := resources.SandboxNamespace(next)
	trap.Annotations = nil // the run's UID is not known yet
	plantUnguarded(t, labeller, trap)
	// The labeller may not read Secrets anywhere; that is the point of the trap.
	if err := labeller.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Fatalf("the labeller reads Secrets: %v", err)
	}

	runNow(t, drill, "audit-2026-12")
	name := runsOf(t, drill, 1)[0].Name
	if name != next.Name {
		t.Fatalf("run %s, predicted %s", name, next.Name)
	}
	want := "namespace " + sandbox + " already exists and was not created by this run: the operator never restores into a namespace it did not create; delete it or choose another spec.sandbox.namespace"
	run := waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.Phase != opsv1alpha1.DrillRunError || len(r.Finalizers) != 0 {
			return fmt.Errorf("phase %s (%s), finalizers %v", r.Status.Phase, r.Status.Message, r.Finalizers)
		}
		return nil
	})
	if run.Status.Message != want {
		t.Errorf("message %q, want %q", run.Status.Message, want)
	}
	if c := meta.FindStatusCondition(run.Status.Conditions, opsv1alpha1.ConditionReady); c == nil || c.Reason != opsv1alpha1.ReasonSandboxNamespaceTaken || c.Message != want {
		t.Errorf("Ready %+v, want reason %s", c, opsv1alpha1.ReasonSandboxNamespaceTaken)
	}
	if run.Status.SandboxNamespaceUID != "" || run.Status.SandboxNamespace != "" {
		t.Errorf("the run recorded %s (%s) as its sandbox", run.Status.SandboxNamespace, run.Status.SandboxNamespaceUID)
	}
	if c := meta.FindStatusCondition(run.Status.Conditions, opsv1alpha1.ConditionSandboxDeleted); c == nil || !strings.HasPrefix(c.Message, "this run created no sandbox namespace, so deleted none") {
		t.Errorf("SandboxDeleted %+v", c)
	}
	eventually(t, 10*time.Second, func() error {
		for _, e := range eventsOfRun(t, run) {
			if e.Reason == opsv1alpha1.ReasonSandboxNamespaceTaken && e.Type == corev1.EventTypeWarning && strings.HasSuffix(e.Note, want) {
				return nil
			}
		}
		return fmt.Errorf("no %s event", opsv1alpha1.ReasonSandboxNamespaceTaken)
	})
	// Teardown has run (keep: Never, finalizer gone) and let the trap be.
	settle(t, func() string {
		var n corev1.Namespace
		_ = k8sClient.Get(ctx, client.ObjectKey{Name: sandbox}, &n)
		return n.ResourceVersion + fmt.Sprint(n.DeletionTimestamp)
	})
	namespaceUntouched(t, sandbox)
	noSecretValueIn(t, run)
}

// TestSandboxNamespaceNeverAdoptedEvenWithRunUID (item 5): a run waiting
// for its turn can be read; the labeller copies its UID into the trap's
// annotation too. The run still refuses the namespace (the message says
// what to do should the operator itself have left it), and the trap stays
// empty and undeleted. (Planted without the sandbox-namespace policy, or
// before it: plantUnguarded. With it in force, TestUnrecordedSandboxProvenByPolicy.)
func TestSandboxNamespaceNeverAdoptedEvenWithRunUID(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
	ns := drill.Namespace
	// Two other drills hold both slots of the namespace.
	busy := make([]string, 0, 2)
	for _, n := range []string{"first", "second"} {
		d := siblingDrill(drill, n)
		if err := k8sClient.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
		busy = append(busy, runsOf(t, d, 1)[0].Name)
		waitRun(t, ns, busy[len(busy)-1], inPhase(opsv1alpha1.DrillRunProvisioning))
	}
	runNow(t, drill, "queued")
	name := runsOf(t, drill, 1)[0].Name
	queued := waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunPending))

	labeller := actAs(t, "namespace-labeller-uid", "",
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"create", "patch"}},
	)
	trap := resources.SandboxNamespace(queued) // labels and the run's UID annotation
	if trap.Annotations[resources.AnnotationDrillRunUID] != string(queued.UID) {
		t.Fatalf("trap annotations %v", trap.Annotations)
	}
	plantUnguarded(t, labeller, trap)
	// A slot frees: the first busy run ends.
	walk(t, siblingDrill(drill, "first"), busy[0], true, false)
	run := waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunError))
	want := "namespace " + trap.Name + " already exists and was not created by this run: the operator never restores into a namespace it did not create; delete it or choose another spec.sandbox.namespace" +
		" (it carries this run's UID: if the operator stopped right after creating it, delete it and start the drill again)"
	if run.Status.Message != want {
		t.Errorf("message %q, want %q", run.Status.Message, want)
	}
	waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
		if len(r.Finalizers) != 0 {
			return fmt.Errorf("finalizers %v", r.Finalizers)
		}
		return nil
	})
	namespaceUntouched(t, trap.Name)
	noSecretValueIn(t, run)
}

// TestSandboxReplacedWhileOperatorDown (item 5): while the operator is
// down, the sandbox of a restoring run is deleted and a user who can only
// create namespaces makes one of the same name with every sandbox label.
// The restarted operator sees a UID it did not record: the run ends in
// Error, no verify Job is created and no Secret copied into the new
// namespace, and teardown leaves it alone. (Planted without the
// sandbox-namespace policy: plantUnguarded.)
func TestSandboxReplacedWhileOperatorDown(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
	ns := drill.Namespace
	runNow(t, drill, "replaced")
	name := runsOf(t, drill, 1)[0].Name
	run := waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunProvisioning))
	sandbox := resources.SandboxNamespaceName(run)
	actAsQuotaController(t, sandbox)
	readyScratch(t, sandbox)
	run = waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunRestoring))
	created := run.Status.SandboxNamespaceUID

	startManagerAgain := stopManagerFor(t)
	// The namespace controller's part (envtest has none): empty the
	// namespace, then finalize it.
	for _, o := range []client.Object{&batchv1.Job{}, &corev1.Pod{}, &corev1.Secret{}, &corev1.Service{}, &corev1.ResourceQuota{},
		&networkingv1.NetworkPolicy{}, &corev1.PersistentVolumeClaim{}, &corev1.ConfigMap{}, &corev1.ServiceAccount{}} {
		if err := k8sClient.DeleteAllOf(ctx, o, client.InNamespace(sandbox), client.GracePeriodSeconds(0), client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
			t.Fatalf("emptying %s: %T: %v", sandbox, o, err)
		}
	}
	// ...and the PVC protection controller's: the claim is in no pod.
	var claims corev1.PersistentVolumeClaimList
	if err := k8sClient.List(ctx, &claims, client.InNamespace(sandbox)); err != nil {
		t.Fatal(err)
	}
	for i := range claims.Items {
		if err := update(t, k8sClient, &claims.Items[i], func(c *corev1.PersistentVolumeClaim) { c.Finalizers = nil }); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	var old corev1.Namespace
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: sandbox}, &old); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Delete(ctx, &old); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		n, err := cs.CoreV1().Namespaces().Get(ctx, sandbox, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		n.Spec.Finalizers = nil
		if _, err := cs.CoreV1().Namespaces().Finalize(ctx, n, metav1.UpdateOptions{}); err != nil {
			return err
		}
		return fmt.Errorf("namespace %s still there", sandbox)
	})
	labeller := actAs(t, "namespace-labeller-replace", "",
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"create", "patch"}},
	)
	trap := resources.SandboxNamespace(run) // the same name, labels and annotation
	plantUnguarded(t, labeller, trap)
	if trap.UID == created {
		t.Fatalf("the new namespace has the old UID %s", created)
	}

	startManagerAgain()
	want := fmt.Sprintf("the sandbox namespace %s was replaced during Restoring by a namespace this run did not create (UID %s, not %s): nothing more is done in it", sandbox, trap.UID, created)
	run = waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.Phase != opsv1alpha1.DrillRunError || len(r.Finalizers) != 0 {
			return fmt.Errorf("phase %s (%s), finalizers %v", r.Status.Phase, r.Status.Message, r.Finalizers)
		}
		return nil
	})
	if run.Status.Message != want {
		t.Errorf("message %q, want %q", run.Status.Message, want)
	}
	if c := meta.FindStatusCondition(run.Status.Conditions, opsv1alpha1.ConditionSandboxDeleted); c == nil || !strings.Contains(c.Message, "that this run did not create is left alone") {
		t.Errorf("SandboxDeleted %+v", c)
	}
	settle(t, func() string {
		var n corev1.Namespace
		_ = k8sClient.Get(ctx, client.ObjectKey{Name: sandbox}, &n)
		return n.ResourceVersion + fmt.Sprint(n.DeletionTimestamp)
	})
	namespaceUntouched(t, sandbox)
	noSecretValueIn(t, run)
}

// siblingDrill is another drill like drill (same policy, key and checks) named
// drill.Name-suffix, started at once by a run-now annotation.
func siblingDrill(drill *opsv1alpha1.DRDrill, suffix string) *opsv1alpha1.DRDrill {
	d := &opsv1alpha1.DRDrill{
		ObjectMeta: metav1.ObjectMeta{Name: drill.Name + "-" + suffix, Namespace: drill.Namespace,
			Annotations: map[string]string{AnnotationRunNow: "start-" + suffix}},
		Spec: *drill.Spec.DeepCopy(),
	}
	return d
}

// TestSandboxNamesPerNamespace (item 6): the same drill with the same
// run-now token in two namespaces makes two runs of the same name; they get
// two sandboxes and both pass.
func TestSandboxNamesPerNamespace(t *testing.T) {
	a := drillFixture(t, nil)
	b := drillFixture(t, nil)
	runNow(t, a, "same-token")
	runNow(t, b, "same-token")
	runA, runB := runsOf(t, a, 1)[0], runsOf(t, b, 1)[0]
	if runA.Name != runB.Name {
		t.Fatalf("runs %s and %s: the test wants one name in two namespaces", runA.Name, runB.Name)
	}
	sa, sb := resources.SandboxNamespaceName(&runA), resources.SandboxNamespaceName(&runB)
	if sa == sb {
		t.Fatalf("both runs %s use sandbox %s", runA.Name, sa)
	}
	// Both provision at the same time, each in its own sandbox.
	for _, run := range []opsv1alpha1.DRDrillRun{runA, runB} {
		got := waitRun(t, run.Namespace, run.Name, func(r *opsv1alpha1.DRDrillRun) error {
			if r.Status.Phase != opsv1alpha1.DrillRunProvisioning || r.Status.SandboxNamespaceUID == "" {
				return fmt.Errorf("phase %s (%s), sandbox UID %q", r.Status.Phase, r.Status.Message, r.Status.SandboxNamespaceUID)
			}
			return nil
		})
		var sandbox corev1.Namespace
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: got.Status.SandboxNamespace}, &sandbox); err != nil {
			t.Fatal(err)
		}
		if sandbox.UID != got.Status.SandboxNamespaceUID || sandbox.Labels[resources.LabelDrillRunNamespace] != run.Namespace ||
			!strings.HasSuffix(sandbox.Name, "-"+run.Name) {
			t.Errorf("run %s/%s: sandbox %s (UID %s, labels %v), recorded UID %s", run.Namespace, run.Name, sandbox.Name, sandbox.UID, sandbox.Labels, got.Status.SandboxNamespaceUID)
		}
	}
	for _, drill := range []*opsv1alpha1.DRDrill{a, b} {
		run := walk(t, drill, runA.Name, true, false)
		if run.Status.Phase != opsv1alpha1.DrillRunPassed {
			t.Errorf("%s/%s: %s %s", run.Namespace, run.Name, run.Status.Phase, run.Status.Message)
		}
		sandboxDeleted(t, run)
	}
}

// TestDrillRunsQueuePerNamespace (item 9): a drill author who may only
// create DRDrills starts three drills at once in one namespace. Two run;
// the third stays Pending, with no sandbox, saying which runs it waits for,
// and starts when one of them ends. Every pod of the running drills is
// admitted under the sandbox quota, which bounds CPU and memory requests
// and limits and the number of pods: a pod without a CPU limit is refused.
func TestDrillRunsQueuePerNamespace(t *testing.T) {
	ctx := context.Background()
	template := drillFixture(t, nil)
	ns := template.Namespace
	author := actAs(t, "drill-author", ns,
		rbacv1.PolicyRule{APIGroups: []string{opsv1alpha1.GroupVersion.Group}, Resources: []string{"drdrills"}, Verbs: []string{"create"}},
	)
	if err := author.List(ctx, &opsv1alpha1.DRDrillRunList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Fatalf("the drill author lists runs: %v", err)
	}
	drills := make([]*opsv1alpha1.DRDrill, 0, 3)
	for _, n := range []string{"a", "b", "c"} {
		d := siblingDrill(template, n)
		if err := author.Create(ctx, d); err != nil {
			t.Fatalf("the drill author creates drill %s: %v", d.Name, err)
		}
		drills = append(drills, d)
	}
	runs := map[string]*opsv1alpha1.DRDrill{} // run name -> its drill
	for _, d := range drills {
		runs[runsOf(t, d, 1)[0].Name] = d
	}

	// Two run, one waits.
	var active, pending []string
	eventually(t, 30*time.Second, func() error {
		active, pending = nil, nil
		for name := range runs {
			var r opsv1alpha1.DRDrillRun
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &r); err != nil {
				return err
			}
			switch r.Status.Phase {
			case opsv1alpha1.DrillRunProvisioning:
				active = append(active, name)
			case opsv1alpha1.DrillRunPending:
				pending = append(pending, name)
			}
		}
		if len(active) != 2 || len(pending) != 1 {
			return fmt.Errorf("active %v, pending %v", active, pending)
		}
		return nil
	})
	// Nothing changes while they run: the third keeps waiting.
	waiting := settle(t, func() string {
		var r opsv1alpha1.DRDrillRun
		_ = k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: pending[0]}, &r)
		return string(r.Status.Phase) + ": " + r.Status.Message
	})
	queued := waitRun(t, ns, pending[0], inPhase(opsv1alpha1.DrillRunPending))
	first, second := active[0], active[1]
	for _, name := range []string{first, second} {
		if !strings.Contains(waiting, name) {
			t.Errorf("the queued run's message %q does not name %s", waiting, name)
		}
	}
	if !strings.HasPrefix(waiting, "Pending: waiting for runs ") || !strings.Contains(waiting, "at most 2 drill runs run at once in namespace "+ns) ||
		!strings.Contains(waiting, "this run starts when one of them ends") {
		t.Errorf("queued run: %q", waiting)
	}
	if c := meta.FindStatusCondition(queued.Status.Conditions, opsv1alpha1.ConditionReady); c == nil || c.Reason != opsv1alpha1.ReasonQueued || c.Status != metav1.ConditionFalse {
		t.Errorf("queued run's Ready %+v", c)
	}
	if queued.Status.StartTime != nil || queued.Status.SandboxNamespaceUID != "" || len(queued.Finalizers) != 0 {
		t.Errorf("a queued run started: %+v, finalizers %v", queued.Status, queued.Finalizers)
	}
	var none corev1.Namespace
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: resources.SandboxNamespaceName(queued)}, &none); !apierrors.IsNotFound(err) {
		t.Errorf("the queued run's sandbox exists: %v", err)
	}
	found := false
	for _, e := range eventsOfRun(t, queued) {
		found = found || e.Reason == opsv1alpha1.ReasonQueued
	}
	if !found {
		t.Errorf("no %s event for %s", opsv1alpha1.ReasonQueued, queued.Name)
	}

	// The quota of a running sandbox bounds compute and pods, and the API
	// server holds every pod to it.
	running := waitRun(t, ns, second, inPhase(opsv1alpha1.DrillRunProvisioning))
	sandbox := running.Status.SandboxNamespace
	actAsQuotaController(t, sandbox)
	var quota corev1.ResourceQuota
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: "sandbox"}, &quota); err != nil {
		t.Fatal(err)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, resources.ResourceCountPods,
		corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsEphemeralStorage} {
		if _, ok := quota.Spec.Hard[r]; !ok {
			t.Errorf("the sandbox quota does not bound %s", r)
		}
	}
	var scratch corev1.Pod
	eventually(t, 30*time.Second, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: resources.ScratchPostgresName}, &scratch)
	})
	// The API server's quota admission reads quotas from its own cache,
	// and a quota without status constrains nothing: a pod admitted before
	// it saw the status is deleted and tried again.
	eventually(t, 10*time.Second, func() error {
		unbounded := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "unbounded-", Namespace: sandbox}, Spec: *scratch.Spec.DeepCopy()}
		unbounded.Spec.NodeName = ""
		unbounded.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: scratch.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory]}
		err := k8sClient.Create(ctx, unbounded)
		if err == nil {
			_ = k8sClient.Delete(ctx, unbounded)
			return fmt.Errorf("a pod without a CPU limit was admitted in sandbox %s", sandbox)
		}
		if !strings.Contains(err.Error(), "must specify limits.cpu") {
			t.Fatalf("a pod without a CPU limit in a sandbox: %v, want refused by the quota for limits.cpu", err)
		}
		return nil
	})

	// The first run ends: the queued one starts. The walk creates the
	// restore and verify Jobs' pods under the quota, as the Job controller
	// would; the API server refuses any without limits.
	walk(t, runs[first], first, true, false)
	started := waitRun(t, ns, queued.Name, func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.Phase != opsv1alpha1.DrillRunProvisioning || r.Status.SandboxNamespaceUID == "" {
			return fmt.Errorf("phase %s (%s)", r.Status.Phase, r.Status.Message)
		}
		return nil
	})
	if c := meta.FindStatusCondition(started.Status.Conditions, opsv1alpha1.ConditionReady); c == nil || c.Reason != opsv1alpha1.ReasonRunning {
		t.Errorf("the started run's Ready %+v", c)
	}
	var pods corev1.PodList
	if err := k8sClient.List(ctx, &pods, client.InNamespace(resources.SandboxNamespaceName(&opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: first}}))); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 3 {
		t.Errorf("%d pods in the first run's sandbox, want the scratch server, restore and verify", len(pods.Items))
	}
	for _, p := range pods.Items {
		for _, c := range p.Spec.Containers {
			if c.Resources.Limits.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() ||
				c.Resources.Limits.StorageEphemeral().IsZero() || c.Resources.Requests.StorageEphemeral().IsZero() {
				t.Errorf("pod %s container %s: resources %+v", p.Name, c.Name, c.Resources)
			}
		}
	}
	// The other two finish too.
	walk(t, runs[second], second, true, false)
	walk(t, runs[started.Name], started.Name, true, false)
}

// TestManagerCachesNoSecretsNorEvidence (item 9): a manager built with
// the operator's cache and client options (as cmd/main.go builds it) reads
// a Secret from the API server each time and never lists or watches
// Secrets; its ConfigMap cache holds the operator's own ConfigMaps but not
// the evidence ConfigMaps a drill run records.
func TestManagerCachesNoSecretsNorEvidence(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
	ns := drill.Namespace
	runNow(t, drill, "evidence-for-cache")
	run := walk(t, drill, runsOf(t, drill, 1)[0].Name, true, false)
	var evidenceCM corev1.ConfigMap
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: run.Status.Evidence.ConfigMapName}, &evidenceCM); err != nil {
		t.Fatal(err)
	}
	owned := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owned", Namespace: ns, Labels: resources.Labels("ops.supportstack.io/test", "cache")}}
	if err := k8sClient.Create(ctx, owned); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var requests []string
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return transportFunc(func(req *http.Request) (*http.Response, error) {
			mu.Lock()
			requests = append(requests, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
			mu.Unlock()
			return rt.RoundTrip(req)
		})
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:     testenv.Scheme(),
		Cache:      CacheOptions(),
		Client:     ClientOptions(),
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptrTo(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	if !mgr.GetCache().WaitForCacheSync(mctx) {
		t.Fatal("cache did not sync")
	}
	c := mgr.GetClient()

	// ConfigMaps come from the cache: the owned one, never the evidence.
	eventually(t, 20*time.Second, func() error {
		var cms corev1.ConfigMapList
		if err := c.List(ctx, &cms, client.InNamespace(ns)); err != nil {
			return err
		}
		names := map[string]bool{}
		for _, cm := range cms.Items {
			names[cm.Name] = true
		}
		if names[evidenceCM.Name] {
			t.Fatalf("the manager's cache holds evidence ConfigMap %s", evidenceCM.Name)
		}
		if !names[owned.Name] {
			return fmt.Errorf("the cache has not seen ConfigMap %s yet (it holds %v)", owned.Name, names)
		}
		return nil
	})
	if err := mgr.GetCache().Get(ctx, client.ObjectKeyFromObject(&evidenceCM), &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("reading the evidence ConfigMap from the cache: %v, want not found", err)
	}
	// Secrets are read live, each time, and no informer starts for them.
	for range 2 {
		var s corev1.Secret
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "restic"}, &s); err != nil || string(s.Data["password"]) != resticPassword {
			t.Fatalf("reading the restic Secret: %v", err)
		}
	}
	time.Sleep(time.Second) // an informer would have listed by now
	mu.Lock()
	defer mu.Unlock()
	gets := 0
	for _, r := range requests {
		switch {
		case strings.HasPrefix(r, "GET /api/v1/namespaces/"+ns+"/secrets/restic?"):
			gets++
		case strings.Contains(r, "/secrets"):
			t.Errorf("the manager sent %s: Secrets must not be listed or watched", r)
		case strings.Contains(r, "/configmaps") && !strings.Contains(r, "labelSelector="):
			t.Errorf("the manager sent %s: ConfigMaps are cached by label only", r)
		}
	}
	if gets != 2 {
		t.Errorf("%d GETs of the Secret, want 2 (one per read): %v", gets, requests)
	}
}

type transportFunc func(*http.Request) (*http.Response, error)

func (f transportFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestSandboxFromOlderOperatorNotDeletedSilently (item 5, review): a run
// whose sandbox an operator version before sandbox UIDs made names the
// namespace but no UID. The operator cannot prove it created that
// namespace, so it does not delete it, but it says so: SandboxDeleted=False
// (SandboxNotVerified) and a Warning event name the namespace and the
// command to delete it, instead of claiming no sandbox was created.
func TestSandboxFromOlderOperatorNotDeletedSilently(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
	ns := drill.Namespace
	runNow(t, drill, "older-operator")
	name := runsOf(t, drill, 1)[0].Name
	run := waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.Phase != opsv1alpha1.DrillRunProvisioning || r.Status.SandboxNamespaceUID == "" {
			return fmt.Errorf("phase %s (%s), sandbox UID %q", r.Status.Phase, r.Status.Message, r.Status.SandboxNamespaceUID)
		}
		return nil
	})
	sandbox := run.Status.SandboxNamespace

	// What the older operator left: a finished run holding its finalizer
	// and naming its sandbox, with no UID recorded.
	startManagerAgain := stopManagerFor(t)
	eventually(t, 10*time.Second, func() error {
		var r opsv1alpha1.DRDrillRun
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(run), &r); err != nil {
			return err
		}
		r.Status.SandboxNamespaceUID = ""
		r.Status.Phase, r.Status.Message = opsv1alpha1.DrillRunError, "the restore failed"
		r.Status.CompletionTime = &metav1.Time{Time: fakeClock.Now()}
		return k8sClient.Status().Update(ctx, &r)
	})
	startManagerAgain()

	run = waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
		if len(r.Finalizers) != 0 {
			return fmt.Errorf("finalizers %v", r.Finalizers)
		}
		return nil
	})
	want := "sandbox namespace " + sandbox + " was created before this operator recorded sandbox UIDs, so it is not deleted automatically: check it is this run's sandbox and delete it with kubectl delete namespace " + sandbox
	if c := meta.FindStatusCondition(run.Status.Conditions, opsv1alpha1.ConditionSandboxDeleted); c == nil ||
		c.Status != metav1.ConditionFalse || c.Reason != opsv1alpha1.ReasonSandboxNotVerified || c.Message != want {
		t.Errorf("SandboxDeleted %+v, want False, %s, %q", c, opsv1alpha1.ReasonSandboxNotVerified, want)
	}
	eventually(t, 10*time.Second, func() error {
		for _, e := range eventsOfRun(t, run) {
			if e.Reason == opsv1alpha1.ReasonSandboxNotVerified && e.Type == corev1.EventTypeWarning && e.Note == want {
				return nil
			}
		}
		return fmt.Errorf("no Warning %s event", opsv1alpha1.ReasonSandboxNotVerified)
	})
	settle(t, func() string {
		var n corev1.Namespace
		_ = k8sClient.Get(ctx, client.ObjectKey{Name: sandbox}, &n)
		return n.ResourceVersion + fmt.Sprint(n.DeletionTimestamp)
	})
	var n corev1.Namespace
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: sandbox}, &n); err != nil || !n.DeletionTimestamp.IsZero() {
		t.Errorf("namespace %s: %v, deletion %v: a namespace the run recorded no UID for is never deleted", sandbox, err, n.DeletionTimestamp)
	}
	noSecretValueIn(t, run)
}

// TestKeptSandboxCountsTowardQueue (item 9, review): a drill author who may
// only create DRDrills cannot pile up kept sandboxes (restored data and
// copied Secrets) past the namespace's limit: a failed run whose sandbox is
// kept counts like an active run, so with a limit of 2 one kept sandbox
// and one active run make the third wait, naming both, until the kept
// sandbox's ttl has passed and it is deleted. A ttl above 168h is refused
// at admission.
func TestKeptSandboxCountsTowardQueue(t *testing.T) {
	ctx := context.Background()
	start := fakeClock.Now()
	t.Cleanup(func() { fakeClock.SetTime(start) })
	// A ttl shorter than the Provisioning timeout, so moving the clock past
	// it times out no active run.
	template := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.TTL = &metav1.Duration{Duration: 10 * time.Minute} })
	ns := template.Namespace
	author := actAs(t, "drill-author-kept", ns,
		rbacv1.PolicyRule{APIGroups: []string{opsv1alpha1.GroupVersion.Group}, Resources: []string{"drdrills"}, Verbs: []string{"create"}},
	)
	forever := siblingDrill(template, "forever")
	forever.Spec.Sandbox.Keep, forever.Spec.Sandbox.TTL = opsv1alpha1.SandboxKeepAlways, &metav1.Duration{Duration: 169 * time.Hour}
	if err := author.Create(ctx, forever); err == nil || !strings.Contains(err.Error(), "spec.sandbox.ttl: Invalid value") ||
		!strings.Contains(err.Error(), "must be at most 168h (7 days): a kept sandbox holds restored production data and copies of the repository Secrets; keep it shorter, or copy out what you need to inspect") {
		t.Fatalf("a drill keeping its sandbox 169h: %v, want refused at admission", err)
	}

	runNow(t, template, "kept")
	kept := walk(t, template, runsOf(t, template, 1)[0].Name, false, false)
	waitRun(t, ns, kept.Name, func(r *opsv1alpha1.DRDrillRun) error {
		if c := meta.FindStatusCondition(r.Status.Conditions, opsv1alpha1.ConditionSandboxDeleted); c == nil || c.Reason != opsv1alpha1.ReasonSandboxKept {
			return fmt.Errorf("SandboxDeleted %+v", c)
		}
		return nil
	})
	runs := make([]string, 0, 2)
	for _, n := range []string{"b", "c"} {
		d := siblingDrill(template, n)
		if err := author.Create(ctx, d); err != nil {
			t.Fatalf("the drill author creates drill %s: %v", d.Name, err)
		}
		runs = append(runs, runsOf(t, d, 1)[0].Name)
		if n == "b" {
			waitRun(t, ns, runs[0], inPhase(opsv1alpha1.DrillRunProvisioning))
		}
	}
	waitRun(t, ns, runs[1], inPhase(opsv1alpha1.DrillRunPending))
	waiting := settle(t, func() string {
		var r opsv1alpha1.DRDrillRun
		_ = k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: runs[1]}, &r)
		return string(r.Status.Phase) + ": " + r.Status.Message
	})
	want := "Pending: waiting for runs " + runs[0] + " to finish and the sandboxes kept by finished runs " + kept.Name +
		" to be deleted (at the end of their spec.sandbox.ttl, or now by deleting the run or its sandbox namespace): at most 2 drill runs run at once in namespace " + ns +
		" (the operator's --max-concurrent-drill-runs-per-namespace; a finished run counts while its sandbox is kept); this run starts when one of them ends"
	if waiting != want {
		t.Errorf("queued run:\n%s\nwant\n%s", waiting, want)
	}

	// The kept sandbox's ttl passes: it is deleted, and the third starts.
	fakeClock.Step(11 * time.Minute)
	if err := update(t, k8sClient, kept, func(r *opsv1alpha1.DRDrillRun) {
		if r.Annotations == nil {
			r.Annotations = map[string]string{}
		}
		r.Annotations["nudge"] = "ttl"
	}); err != nil {
		t.Fatal(err)
	}
	sandboxDeleted(t, kept)
	started := waitRun(t, ns, runs[1], func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.Phase != opsv1alpha1.DrillRunProvisioning || r.Status.SandboxNamespaceUID == "" {
			return fmt.Errorf("phase %s (%s)", r.Status.Phase, r.Status.Message)
		}
		return nil
	})
	// ...while the other still runs: the kept sandbox's deletion made room.
	waitRun(t, ns, runs[0], inPhase(opsv1alpha1.DrillRunProvisioning))
	noSecretValueIn(t, started)
}

// TestKeptSandboxDeletedByHandFreesItsSlot (item 9, review): a kept
// sandbox a person deletes before its ttl (kubectl delete namespace) stops
// counting at once: the run lets it go and the run queued behind it starts.
func TestKeptSandboxDeletedByHandFreesItsSlot(t *testing.T) {
	ctx := context.Background()
	template := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepAlways })
	ns := template.Namespace
	runNow(t, template, "kept-always")
	kept := walk(t, template, runsOf(t, template, 1)[0].Name, true, false)
	waitRun(t, ns, kept.Name, func(r *opsv1alpha1.DRDrillRun) error {
		if c := meta.FindStatusCondition(r.Status.Conditions, opsv1alpha1.ConditionSandboxDeleted); c == nil || c.Reason != opsv1alpha1.ReasonSandboxKept {
			return fmt.Errorf("SandboxDeleted %+v", c)
		}
		return nil
	})
	runs := make([]string, 0, 2)
	for _, n := range []string{"b", "c"} {
		d := siblingDrill(template, n)
		if err := k8sClient.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, runsOf(t, d, 1)[0].Name)
		if n == "b" {
			waitRun(t, ns, runs[0], inPhase(opsv1alpha1.DrillRunProvisioning))
		}
	}
	queued := waitRun(t, ns, runs[1], inPhase(opsv1alpha1.DrillRunPending))
	if !strings.Contains(queued.Status.Message, "the sandboxes kept by finished runs "+kept.Name+" to be deleted") {
		t.Errorf("queued run: %s", queued.Status.Message)
	}

	if err := k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kept.Status.SandboxNamespace}}); err != nil {
		t.Fatal(err)
	}
	waitRun(t, ns, runs[1], inPhase(opsv1alpha1.DrillRunProvisioning))
	released := waitRun(t, ns, kept.Name, func(r *opsv1alpha1.DRDrillRun) error {
		if len(r.Finalizers) != 0 {
			return fmt.Errorf("finalizers %v", r.Finalizers)
		}
		return nil
	})
	want := "sandbox " + kept.Status.SandboxNamespace + " deleted: the kept sandbox was deleted before its ttl"
	if c := meta.FindStatusCondition(released.Status.Conditions, opsv1alpha1.ConditionSandboxDeleted); c == nil || c.Status != metav1.ConditionTrue || c.Message != want {
		t.Errorf("SandboxDeleted %+v, want True, %q", c, want)
	}
	noSecretValueIn(t, released)
}
