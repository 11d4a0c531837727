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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

// sandboxPolicyRefusal is how the sandbox-namespace policy's message starts.
const sandboxPolicyRefusal = "only the SupportStack operator creates drill sandboxes"

// sandboxPolicy reads config/admission/sandbox_namespace_policy.yaml: the
// policy and its binding, named name (the binding naming that policy).
// testenv installs the file as it is (names unprefixed, so the operator,
// which looks for config/default's names, does not see it); a test that
// wants the operator to rely on it installs this copy under
// SandboxNamespacePolicy. The test manager runs as the envtest admin
// (system:masters), which the policy lets through as it lets the operator.
func sandboxPolicy(t *testing.T, name string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := testenv.SandboxPolicy(name)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// installSandboxPolicy installs the policy under the name the operator
// reads, removed when the test ends; in force, it also waits until
// SandboxPolicyMargin has passed since (and the clock is past the second it
// ends in): only a namespace created later is proven.
func installSandboxPolicy(t *testing.T, inForce bool) {
	t.Helper()
	ctx := context.Background()
	for _, o := range sandboxPolicy(t, SandboxNamespacePolicy) {
		if err := k8sClient.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := k8sClient.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
				t.Error(err)
			}
		})
	}
	if inForce {
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(SandboxPolicyMargin + 1100*time.Millisecond)))
	}
}

// plantUnguarded creates trap as c, a user who may create namespaces: the
// sandbox-namespace policy testenv installed refuses it if it carries the
// sandbox label or run-UID annotation, so the policy's binding is lifted
// for the planting (an installation without the policy, or a namespace
// planted before it), and bound again afterwards.
func plantUnguarded(t *testing.T, c client.Client, trap *corev1.Namespace) {
	t.Helper()
	ctx := context.Background()
	if err := c.Create(ctx, trap.DeepCopy(), client.DryRunAll); err == nil || !strings.Contains(err.Error(), sandboxPolicyRefusal) {
		t.Fatalf("with the sandbox-namespace policy bound, planting %s: %v, want refused", trap.Name, err)
	}
	binding := sandboxPolicy(t, "sandbox-namespace")[1]
	if err := k8sClient.Delete(ctx, binding.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error { return c.Create(ctx, trap) })
	if err := k8sClient.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	probe := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Labels: map[string]string{resources.LabelDrillRun: "probe"}}}
	eventually(t, 20*time.Second, func() error {
		if err := c.Create(ctx, probe.DeepCopy(), client.DryRunAll); err == nil || !strings.Contains(err.Error(), sandboxPolicyRefusal) {
			return fmt.Errorf("the sandbox-namespace policy is not in force again: %v", err)
		}
		return nil
	})
}

// TestSandboxLabelOnlyTheOperators (issue #16): a drill author who may
// create and update namespaces can neither create one carrying a run's
// sandbox label or UID annotation, nor add them to a namespace; nothing is
// created.
func TestSandboxLabelOnlyTheOperators(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, nil)
	author := actAs(t, "drill-author-namespaces", "",
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"create", "get", "update", "patch"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces/finalize", "namespaces/status"}, Verbs: []string{"update", "patch"}},
	)
	next := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: drill.Namespace, Name: RunNowRunName(drill, "planted"), UID: "4b1d5e0a-0000-4000-8000-00000000000a"}}
	trap := resources.SandboxNamespace(next)
	onlyLabel, onlyAnnotation := trap.DeepCopy(), trap.DeepCopy()
	onlyLabel.Annotations = nil
	onlyAnnotation.Labels = map[string]string{resources.LabelDrillRunNamespace: next.Namespace}
	for what, ns := range map[string]*corev1.Namespace{"every sandbox label and the run's UID": trap, "the sandbox label": onlyLabel, "the run's UID annotation": onlyAnnotation} {
		err := author.Create(ctx, ns.DeepCopy())
		if err == nil || !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), sandboxPolicyRefusal+": namespace "+trap.Name+" may not be given the label") {
			t.Errorf("creating %s with %s: %v, want refused by the sandbox-namespace policy", trap.Name, what, err)
		}
	}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: trap.Name}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s: %v, want none created", trap.Name, err)
	}

	plain := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: trap.Name, Labels: map[string]string{"team": "helpdesk"}}}
	if err := author.Create(ctx, plain); err != nil {
		t.Fatalf("a plain namespace: %v", err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, plain) })
	for what, mutate := range map[string]func(*corev1.Namespace){
		"adding the sandbox label": func(n *corev1.Namespace) { n.Labels[resources.LabelDrillRun] = next.Name },
		"adding the run-UID annotation": func(n *corev1.Namespace) {
			n.Annotations = map[string]string{resources.AnnotationDrillRunUID: string(next.UID)}
		},
	} {
		if err := update(t, author, plain, mutate); err == nil || !strings.Contains(err.Error(), sandboxPolicyRefusal) {
			t.Errorf("%s to %s: %v, want refused by the sandbox-namespace policy", what, plain.Name, err)
		}
		// A PUT to the finalize or status subresource saves the
		// namespace's labels and annotations as well.
		for sub, via := range map[string]func(*corev1.Namespace) error{
			"finalize": func(n *corev1.Namespace) error { return author.SubResource("finalize").Update(ctx, n) },
			"status":   func(n *corev1.Namespace) error { return author.Status().Update(ctx, n) },
		} {
			err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				var n corev1.Namespace
				if err := author.Get(ctx, client.ObjectKeyFromObject(plain), &n); err != nil {
					return err
				}
				mutate(&n)
				return via(&n)
			})
			if err == nil || !strings.Contains(err.Error(), sandboxPolicyRefusal) {
				t.Errorf("%s to %s through namespaces/%s: %v, want refused by the sandbox-namespace policy", what, plain.Name, sub, err)
			}
		}
	}
	var got corev1.Namespace
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: plain.Name}, &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Labels[resources.LabelDrillRun]; ok || got.Annotations[resources.AnnotationDrillRunUID] != "" {
		t.Errorf("namespace %s now carries labels %v, annotations %v", got.Name, got.Labels, got.Annotations)
	}
	// Other labels are the author's to change.
	if err := update(t, author, plain, func(n *corev1.Namespace) { n.Labels["team"] = "billing" }); err != nil {
		t.Errorf("changing another label: %v", err)
	}

	// The namespace controller finalizes and updates the status of
	// sandboxes too (not as the operator): a write through either
	// subresource that leaves the label and annotation as they are passes.
	sandbox := resources.SandboxNamespace(&opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: drill.Namespace, Name: RunNowRunName(drill, "finalized"), UID: "4b1d5e0a-0000-4000-8000-00000000000b"}})
	if err := k8sClient.Create(ctx, sandbox); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, sandbox) })
	for sub, via := range map[string]func(*corev1.Namespace) error{
		"finalize": func(n *corev1.Namespace) error { return author.SubResource("finalize").Update(ctx, n) },
		"status":   func(n *corev1.Namespace) error { return author.Status().Update(ctx, n) },
	} {
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var n corev1.Namespace
			if err := author.Get(ctx, client.ObjectKeyFromObject(sandbox), &n); err != nil {
				return err
			}
			return via(&n)
		}); err != nil {
			t.Errorf("a namespaces/%s write to sandbox %s leaving its label and annotation as they are: %v", sub, sandbox.Name, err)
		}
	}
}

// unrecordedSandbox carries a new run of drill to Provisioning with its
// sandbox, then rewrites its status as if the leader had died between
// creating the sandbox and recording it; ended, the run is also in Error,
// as a run ending before it recorded a sandbox is (its finalizer held).
// The manager is stopped meanwhile and started again before it returns.
func unrecordedSandbox(t *testing.T, drill *opsv1alpha1.DRDrill, token string, ended bool, whileStopped func()) (run *opsv1alpha1.DRDrillRun, sandbox corev1.Namespace) {
	t.Helper()
	ctx := context.Background()
	runNow(t, drill, token)
	name := runsOf(t, drill, 1)[0].Name
	run = waitRun(t, drill.Namespace, name, func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.Phase != opsv1alpha1.DrillRunProvisioning || r.Status.SandboxNamespaceUID == "" {
			return fmt.Errorf("phase %s (%s), sandbox UID %q", r.Status.Phase, r.Status.Message, r.Status.SandboxNamespaceUID)
		}
		return nil
	})
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: run.Status.SandboxNamespace}, &sandbox); err != nil {
		t.Fatal(err)
	}
	startManagerAgain := stopManagerFor(t)
	eventually(t, 10*time.Second, func() error {
		var r opsv1alpha1.DRDrillRun
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(run), &r); err != nil {
			return err
		}
		r.Status.SandboxNamespace, r.Status.SandboxNamespaceUID = "", ""
		if ended {
			r.Status.Phase, r.Status.Message = opsv1alpha1.DrillRunError, "the run ended"
			r.Status.CompletionTime = &metav1.Time{Time: fakeClock.Now()}
		}
		return k8sClient.Status().Update(ctx, &r)
	})
	if whileStopped != nil {
		whileStopped()
	}
	startManagerAgain()
	return run, sandbox
}

// TestUnrecordedSandboxProvenByPolicy (issue #16): with the
// sandbox-namespace policy in force since SandboxPolicyMargin before the
// sandbox was created, a run whose sandbox UID was never recorded adopts it
// and passes, its sandbox deleted; a run that ended without recording it
// deletes it at teardown (SandboxDeleted=True). No namespace is left.
func TestUnrecordedSandboxProvenByPolicy(t *testing.T) {
	installSandboxPolicy(t, true)

	t.Run("adopted", func(t *testing.T) {
		drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
		run, sandbox := unrecordedSandbox(t, drill, "window", false, nil)
		waitRun(t, run.Namespace, run.Name, func(r *opsv1alpha1.DRDrillRun) error {
			if r.Status.SandboxNamespaceUID != sandbox.UID || r.Status.SandboxNamespace != sandbox.Name {
				return fmt.Errorf("phase %s (%s), sandbox %s (%s)", r.Status.Phase, r.Status.Message, r.Status.SandboxNamespace, r.Status.SandboxNamespaceUID)
			}
			return nil
		})
		eventually(t, 10*time.Second, func() error {
			for _, e := range eventsOfRun(t, run) {
				if e.Reason == opsv1alpha1.ReasonSandboxCreated && strings.Contains(e.Note, "sandbox namespace "+sandbox.Name+" adopted") &&
					strings.Contains(e.Note, "the sandbox-namespace admission policy proves it was created by the operator for this run") {
					return nil
				}
			}
			return errors.New("no event says the sandbox was adopted")
		})
		done := walk(t, drill, run.Name, true, false)
		if done.Status.Phase != opsv1alpha1.DrillRunPassed {
			t.Errorf("phase %s (%s), want Passed", done.Status.Phase, done.Status.Message)
		}
		unrecordedSandboxDeleted(t, run, sandbox)
	})

	t.Run("teardown", func(t *testing.T) {
		drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
		run, sandbox := unrecordedSandbox(t, drill, "ended", true, nil)
		unrecordedSandboxDeleted(t, run, sandbox)
	})
}

// unrecordedSandboxDeleted waits until the run let its sandbox go, deleted
// (SandboxDeleted=True), and checks the namespace is being deleted.
func unrecordedSandboxDeleted(t *testing.T, run *opsv1alpha1.DRDrillRun, sandbox corev1.Namespace) {
	t.Helper()
	got := waitRun(t, run.Namespace, run.Name, func(r *opsv1alpha1.DRDrillRun) error {
		if len(r.Finalizers) != 0 {
			return fmt.Errorf("phase %s (%s), finalizers %v", r.Status.Phase, r.Status.Message, r.Finalizers)
		}
		return nil
	})
	if c := meta.FindStatusCondition(got.Status.Conditions, opsv1alpha1.ConditionSandboxDeleted); c == nil || c.Status != metav1.ConditionTrue ||
		!strings.HasPrefix(c.Message, "sandbox "+sandbox.Name+" deleted") {
		t.Errorf("SandboxDeleted %+v, want True, deleted", c)
	}
	var ns corev1.Namespace
	switch err := k8sClient.Get(context.Background(), client.ObjectKey{Name: sandbox.Name}, &ns); {
	case apierrors.IsNotFound(err):
	case err != nil:
		t.Fatal(err)
	case ns.DeletionTimestamp.IsZero():
		t.Errorf("namespace %s is left behind", sandbox.Name)
	}
}

// TestUnrecordedSandboxUnproven (issue #16): without the policy the
// operator reads, or with one created after the namespace, the unrecorded
// sandbox is refused as before: the run ends in Error (SandboxNamespaceTaken)
// and the namespace is named, not deleted (SandboxDeleted=False,
// SandboxNotVerified).
func TestUnrecordedSandboxUnproven(t *testing.T) {
	for _, c := range []struct {
		name   string
		policy func(t *testing.T)
	}{
		{name: "policy absent"},
		{name: "policy newer than the namespace", policy: func(t *testing.T) { installSandboxPolicy(t, false) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
			var whileStopped func()
			if c.policy != nil {
				whileStopped = func() { c.policy(t) }
			}
			run, sandbox := unrecordedSandbox(t, drill, "unproven", false, whileStopped)
			got := waitRun(t, run.Namespace, run.Name, func(r *opsv1alpha1.DRDrillRun) error {
				if len(r.Finalizers) != 0 || r.Status.Phase != opsv1alpha1.DrillRunError {
					return fmt.Errorf("phase %s (%s), finalizers %v", r.Status.Phase, r.Status.Message, r.Finalizers)
				}
				return nil
			})
			want := "namespace " + sandbox.Name + " already exists and was not created by this run: the operator never restores into a namespace it did not create; delete it or choose another spec.sandbox.namespace" +
				" (it carries this run's UID: if the operator stopped right after creating it, delete it and start the drill again)"
			if got.Status.Message != want {
				t.Errorf("message %q, want %q", got.Status.Message, want)
			}
			if cond := meta.FindStatusCondition(got.Status.Conditions, opsv1alpha1.ConditionSandboxDeleted); cond == nil || cond.Status != metav1.ConditionFalse ||
				cond.Reason != opsv1alpha1.ReasonSandboxNotVerified || !strings.Contains(cond.Message, "kubectl delete namespace "+sandbox.Name) {
				t.Errorf("SandboxDeleted %+v, want False, %s", cond, opsv1alpha1.ReasonSandboxNotVerified)
			}
			var ns corev1.Namespace
			if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: sandbox.Name}, &ns); err != nil || !ns.DeletionTimestamp.IsZero() || ns.UID != sandbox.UID {
				t.Errorf("namespace %s: %v, deletion %v: an unproven namespace is never deleted", sandbox.Name, err, ns.DeletionTimestamp)
			}
		})
	}
}

// TestSandboxPolicyProof (issue #16): sandboxProvenByPolicy, against the
// API server, takes the sandbox-namespace policy as proof only in the shape
// config/admission/sandbox_namespace_policy.yaml ships, created and last
// changed at least SandboxPolicyMargin before the namespace. An older
// install (no subresource rules), a policy failing open or matching less, a
// binding that only warns or matches less, and a policy created or changed
// within the margin prove nothing.
func TestSandboxPolicyProof(t *testing.T) {
	ctx := context.Background()
	run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: "team-proof", Name: "helpdesk-weekly-now-proof", UID: "4b1d5e0a-0000-4000-8000-00000000000c"}}
	// sandboxAt is the run's sandbox as if created at, carrying its label
	// and UID.
	sandboxAt := func(at time.Time) *corev1.Namespace {
		ns := resources.SandboxNamespace(run)
		ns.CreationTimestamp = metav1.NewTime(at)
		return ns
	}
	set := func(u *unstructured.Unstructured, value any, path ...string) {
		t.Helper()
		if err := unstructured.SetNestedField(u.Object, value, path...); err != nil {
			t.Fatal(err)
		}
	}
	rules := func(names ...any) []any {
		return []any{map[string]any{"apiGroups": []any{""}, "apiVersions": []any{"v1"}, "operations": []any{"CREATE", "UPDATE"}, "resources": names}}
	}
	// install installs the policy and binding, changed by edit, as name,
	// removed when the test ends, and returns a reconciler reading them.
	install := func(t *testing.T, name string, edit func(policy, binding *unstructured.Unstructured)) *DRDrillRunReconciler {
		t.Helper()
		objs := sandboxPolicy(t, name)
		if edit != nil {
			edit(objs[0], objs[1])
		}
		for _, o := range objs {
			if err := k8sClient.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = k8sClient.Delete(ctx, o) })
		}
		return &DRDrillRunReconciler{APIReader: k8sClient, SandboxNamespacePolicy: name}
	}
	proven := func(t *testing.T, r *DRDrillRunReconciler, at time.Time) bool {
		t.Helper()
		ok, err := r.sandboxProvenByPolicy(ctx, run, sandboxAt(at))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	for _, c := range []struct {
		name string
		edit func(policy, binding *unstructured.Unstructured)
		// early: the namespace is created within the margin.
		early bool
		want  bool
	}{
		{name: "as shipped", want: true},
		{name: "subresources by wildcard", want: true, edit: func(p, _ *unstructured.Unstructured) {
			set(p, rules("namespaces", "namespaces/*"), "spec", "matchConstraints", "resourceRules")
		}},
		{name: "namespace created within the margin", early: true},
		{name: "binding warns only", edit: func(_, b *unstructured.Unstructured) { set(b, []any{"Warn", "Audit"}, "spec", "validationActions") }},
		{name: "binding with matchResources", edit: func(_, b *unstructured.Unstructured) {
			set(b, map[string]any{"matchLabels": map[string]any{"team": "helpdesk"}}, "spec", "matchResources", "namespaceSelector")
		}},
		{name: "policy without the subresource rules (older install)", edit: func(p, _ *unstructured.Unstructured) {
			set(p, rules("namespaces"), "spec", "matchConstraints", "resourceRules")
		}},
		{name: "policy without finalize", edit: func(p, _ *unstructured.Unstructured) {
			set(p, rules("namespaces", "namespaces/status"), "spec", "matchConstraints", "resourceRules")
		}},
		{name: "policy matching UPDATE only", edit: func(p, _ *unstructured.Unstructured) {
			r := rules(sandboxPolicyResourcesAny()...)
			r[0].(map[string]any)["operations"] = []any{"UPDATE"}
			set(p, r, "spec", "matchConstraints", "resourceRules")
		}},
		{name: "policy failing open", edit: func(p, _ *unstructured.Unstructured) { set(p, "Ignore", "spec", "failurePolicy") }},
		{name: "policy with an objectSelector", edit: func(p, _ *unstructured.Unstructured) {
			set(p, map[string]any{"matchExpressions": []any{map[string]any{"key": "team", "operator": "DoesNotExist"}}}, "spec", "matchConstraints", "objectSelector")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := install(t, "proof-"+strings.ToLower(strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(c.name)), c.edit)
			at := time.Now().Add(SandboxPolicyMargin + 2*time.Second)
			if c.early {
				at = time.Now().Add(SandboxPolicyMargin - 2*time.Second)
			}
			if got := proven(t, r, at); got != c.want {
				t.Errorf("proven %v, want %v", got, c.want)
			}
		})
	}

	t.Run("policy changed in place within the margin", func(t *testing.T) {
		r := install(t, "proof-changed", nil)
		// Into the next second, so that the change is stamped later than
		// the creation.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
		changed := time.Now().Truncate(time.Second)
		if got := proven(t, r, changed.Add(SandboxPolicyMargin-time.Second)); !got {
			t.Fatal("unchanged, created a margin before the namespace: not proven, want proven")
		}
		policy := &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "proof-changed"}}
		if err := update(t, k8sClient, policy, func(p *admissionv1.ValidatingAdmissionPolicy) { p.Labels["edited"] = "in-place" }); err != nil {
			t.Fatal(err)
		}
		if got := proven(t, r, changed.Add(SandboxPolicyMargin-time.Second)); got {
			t.Errorf("changed %s, less than %s before the namespace: proven, want not (managed fields %+v)", changed, SandboxPolicyMargin, policy.ManagedFields)
		}
		if got := proven(t, r, time.Now().Add(SandboxPolicyMargin+2*time.Second)); !got {
			t.Error("changed a margin before the namespace: not proven, want proven")
		}
	})
}

// sandboxPolicyResourcesAny is sandboxPolicyResources for unstructured.
func sandboxPolicyResourcesAny() []any {
	out := make([]any, 0, len(sandboxPolicyResources))
	for _, r := range sandboxPolicyResources {
		out = append(out, r)
	}
	return out
}

// TestSandboxNamespacePolicyName: the operator reads the policy and its
// binding by the names config/default renders for
// config/admission/sandbox_namespace_policy.yaml (its namePrefix and the
// file's name); renamed on one side only, the proof would silently never
// hold.
func TestSandboxNamespacePolicyName(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "default", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kustomization struct {
		NamePrefix string `json:"namePrefix"`
	}
	if err := yaml.Unmarshal(raw, &kustomization); err != nil {
		t.Fatal(err)
	}
	raw, err = os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "admission", "sandbox_namespace_policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := "  name: " + strings.TrimPrefix(SandboxNamespacePolicy, kustomization.NamePrefix) + "\n"
	if !strings.HasPrefix(SandboxNamespacePolicy, kustomization.NamePrefix) || strings.Count(string(raw), want) != 2 ||
		!strings.Contains(string(raw), "  policyName: "+strings.TrimPrefix(SandboxNamespacePolicy, kustomization.NamePrefix)+"\n") {
		t.Errorf("the operator reads policy and binding %s; config/default renders sandbox_namespace_policy.yaml under prefix %q with other names", SandboxNamespacePolicy, kustomization.NamePrefix)
	}
}
