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
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// TestSandboxRefusalSaysWhy: when the API server refuses one of a run's
// requests (here an admission policy refuses its sandbox namespace, its
// scratch Service or its restore Job; at scale it was a full Service
// range), the run says so in its status while it retries, and goes on, its
// message no longer saying it, once the refusal is lifted. Before, the run
// only said it was provisioning and the reason was in the manager's log.
func TestSandboxRefusalSaysWhy(t *testing.T) {
	const refusal = "closed for maintenance"
	for _, tc := range []struct {
		resource string
		probe    func(ns string) client.Object // a valid object the policy refuses
		// before brings the run to the refused request; after checks
		// what the lifted refusal lets through.
		before, after func(t *testing.T, run *opsv1alpha1.DRDrillRun)
	}{{
		resource: "namespaces",
		probe: func(ns string) client.Object {
			return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "probe-" + ns, Labels: map[string]string{resources.LabelDrillRunNamespace: ns}}}
		},
		before: func(*testing.T, *opsv1alpha1.DRDrillRun) {},
		after: func(t *testing.T, run *opsv1alpha1.DRDrillRun) {
			waitRun(t, run.Namespace, run.Name, func(r *opsv1alpha1.DRDrillRun) error {
				if r.Status.SandboxNamespaceUID == "" {
					return fmt.Errorf("no sandbox namespace recorded yet")
				}
				return nil
			})
		},
	}, {
		resource: "services",
		probe: func(ns string) client.Object {
			return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns, Labels: map[string]string{resources.LabelDrillRunNamespace: ns}},
				Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Port: 5432}}}}
		},
		before: func(t *testing.T, run *opsv1alpha1.DRDrillRun) {
			sandbox := resources.SandboxNamespaceName(run)
			actAsQuotaController(t, sandbox)
			var pod corev1.Pod
			if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: sandbox, Name: resources.ScratchPostgresName}, &pod); !apierrors.IsNotFound(err) {
				t.Errorf("scratch server while its Service is refused: %v, want none", err)
			}
		},
		after: func(t *testing.T, run *opsv1alpha1.DRDrillRun) {
			// The retry creates the Service (headless: no cluster IP held
			// per run) and the server.
			sandbox := resources.SandboxNamespaceName(run)
			var svc corev1.Service
			eventually(t, 30*time.Second, func() error {
				return k8sClient.Get(context.Background(), client.ObjectKey{Namespace: sandbox, Name: resources.ScratchPostgresName}, &svc)
			})
			if svc.Spec.ClusterIP != corev1.ClusterIPNone {
				t.Errorf("scratch Service cluster IP %q, want None (headless)", svc.Spec.ClusterIP)
			}
			readyScratch(t, sandbox)
			waitRun(t, run.Namespace, run.Name, inPhase(opsv1alpha1.DrillRunRestoring))
		},
	}, {
		resource: "jobs",
		probe: func(ns string) client.Object {
			return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns, Labels: map[string]string{resources.LabelDrillRunNamespace: ns}},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
		},
		before: func(t *testing.T, run *opsv1alpha1.DRDrillRun) {},
		after: func(t *testing.T, run *opsv1alpha1.DRDrillRun) {
			waitRun(t, run.Namespace, run.Name, inPhase(opsv1alpha1.DrillRunRestoring))
		},
	}} {
		t.Run(tc.resource, func(t *testing.T) {
			drill := drillFixture(t, nil)
			ns := drill.Namespace
			lift := refuseRunObjects(t, tc.resource, ns, refusal, tc.probe(ns))
			runNow(t, drill, "refused")
			if tc.resource == "jobs" {
				// The sandbox is set up; its restore Job is refused.
				run := waitRun(t, ns, runsOf(t, drill, 1)[0].Name, func(r *opsv1alpha1.DRDrillRun) error {
					if r.Status.SandboxNamespaceUID == "" {
						return fmt.Errorf("no sandbox yet")
					}
					return nil
				})
				actAsQuotaController(t, resources.SandboxNamespaceName(run))
				readyScratch(t, resources.SandboxNamespaceName(run))
			}
			name := runsOf(t, drill, 1)[0].Name
			run := waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
				if r.Status.Phase != opsv1alpha1.DrillRunProvisioning || !strings.Contains(r.Status.Message, refusal) {
					return fmt.Errorf("phase %s, message %q: want Provisioning, saying %q", r.Status.Phase, r.Status.Message, refusal)
				}
				return nil
			})
			if want := "the sandbox could not be set up, retrying: "; !strings.HasPrefix(run.Status.Message, want) {
				t.Errorf("message %q, want it to start %q", run.Status.Message, want)
			}
			tc.before(t, run)

			lift()
			waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
				if strings.Contains(r.Status.Message, refusal) {
					return fmt.Errorf("still says %q", r.Status.Message)
				}
				return nil
			})
			tc.after(t, run)
		})
	}
}

// refuseRunObjects makes the API server refuse to create the resource for
// the runs of namespace ns (objects labelled as theirs), with message,
// until the returned func lifts it (also at cleanup). It returns once
// probe, a valid object of the resource, is refused.
func refuseRunObjects(t *testing.T, resource, ns, message string, probe client.Object) func() {
	t.Helper()
	ctx := context.Background()
	name := "refuse-" + resource + "-" + ns
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptrTo(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create},
					Rule:       admissionv1.Rule{APIGroups: []string{"", "batch"}, APIVersions: []string{"v1"}, Resources: []string{resource}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: fmt.Sprintf("!has(object.metadata.labels) || object.metadata.labels[?%q].orValue('') != %q", resources.LabelDrillRunNamespace, ns),
				// Worded differently each time, as a quota's figures are.
				MessageExpression: fmt.Sprintf("%q + ' (object ' + object.metadata.uid + ')'", message),
			}},
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: name, ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
		},
	}
	for _, o := range []client.Object{policy, binding} {
		if err := k8sClient.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	lift := func() {
		for _, o := range []client.Object{binding, policy} {
			if err := k8sClient.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
				t.Error(err)
			}
		}
	}
	t.Cleanup(lift)
	// The API server applies a policy once its watch has it: wait until
	// the probe is refused (a dry run, so nothing is created).
	eventually(t, 30*time.Second, func() error {
		if err := k8sClient.Create(ctx, probe.DeepCopyObject().(client.Object), client.DryRunAll); err == nil || !strings.Contains(err.Error(), message) {
			return fmt.Errorf("the policy does not refuse %s yet (%v)", resource, err)
		}
		return nil
	})
	return lift
}

// TestRefusalOutlastingTheTimeoutSaysWhy: a run whose sandbox is refused
// until its Provisioning timeout ends in Error saying both that it timed
// out and why it could not go on.
func TestRefusalOutlastingTheTimeoutSaysWhy(t *testing.T) {
	const refusal = "closed until further notice"
	drill := drillFixture(t, nil)
	ns := drill.Namespace
	refuseRunObjects(t, "services", ns, refusal, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns, Labels: map[string]string{resources.LabelDrillRunNamespace: ns}},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Port: 5432}}}})
	runNow(t, drill, "refused-long")
	name := runsOf(t, drill, 1)[0].Name
	first := waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
		if !strings.Contains(r.Status.Message, refusal) {
			return fmt.Errorf("message %q", r.Status.Message)
		}
		return nil
	})
	// Retried with backoff, each refusal worded differently: the first
	// reason stays, not one status write (and wake-up) per retry.
	time.Sleep(3 * time.Second)
	if again := waitRun(t, ns, name, func(*opsv1alpha1.DRDrillRun) error { return nil }); again.Status.Message != first.Status.Message || again.ResourceVersion != first.ResourceVersion {
		t.Errorf("after 3 s of retries the message is %q (resourceVersion %s), first %q (%s): want it unchanged",
			again.Status.Message, again.ResourceVersion, first.Status.Message, first.ResourceVersion)
	}
	start := fakeClock.Now()
	t.Cleanup(func() { fakeClock.SetTime(start) })
	fakeClock.Step(DefaultDrillTimeouts.Provisioning + time.Minute)
	// The refused reconcile backs off: wake the run.
	run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := update(t, k8sClient, run, func(r *opsv1alpha1.DRDrillRun) {
		if r.Annotations == nil {
			r.Annotations = map[string]string{}
		}
		r.Annotations["test/wake"] = "1"
	}); err != nil {
		t.Fatal(err)
	}
	run = waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunError))
	for _, want := range []string{"Provisioning did not finish within its timeout", "the sandbox could not be set up, retrying: ", refusal} {
		if !strings.Contains(run.Status.Message, want) {
			t.Errorf("message %q, want it to say %q", run.Status.Message, want)
		}
	}
}

// TestStaleReadOfARefusedRunWritesNothing: a reconcile that reads a
// running run from a cache not yet holding the run's last status write
// (here the refusal's first reason) must not write over it. In CI a retry
// 5 ms after the refusal read the run as it was before, took the refusal
// for a new one and wrote it again in other words. The write is refused
// as a conflict instead, and the run keeps its first reason.
func TestStaleReadOfARefusedRunWritesNothing(t *testing.T) {
	const refusal = "closed for the stale read"
	ctx := context.Background()
	r := handDriven(t)
	drill := handDrill(t)
	ns := drill.Namespace
	refuseRunObjects(t, "services", ns, refusal, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns, Labels: map[string]string{resources.LabelDrillRunNamespace: ns}},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Port: 5432}}}})
	run := createRun(t, drill, "stale-read")
	acknowledgeRuns(t, drill, run)
	setRunStatus(t, run, func(run *opsv1alpha1.DRDrillRun) {
		run.Status.StartTime = &metav1.Time{Time: r.Clock.Now()}
		r.enterPhase(run, opsv1alpha1.DrillRunProvisioning, r.Clock.Now(), "creating the sandbox namespace")
	})
	key := client.ObjectKeyFromObject(run)
	before := &opsv1alpha1.DRDrillRun{}
	mustGet(t, k8sClient, key, before)

	first := &opsv1alpha1.DRDrillRun{}
	for i := 0; !strings.Contains(first.Status.Message, refusal); i++ {
		if i == 10 {
			t.Fatalf("after %d reconciles the run says %q, want the refusal", i, first.Status.Message)
		}
		_, _ = r.Reconcile(ctx, ctrl.Request{NamespacedName: key})
		mustGet(t, k8sClient, key, first)
	}

	// The cache one write behind: the run as stored now, its sandbox
	// recorded, but at the version before the refusal and saying what it
	// said then.
	stale := first.DeepCopy()
	stale.ResourceVersion, stale.Status.Message = before.ResourceVersion, before.Status.Message
	base, err := client.NewWithWatch(env.Config, client.Options{Scheme: k8sClient.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	lagging := interceptor.NewClient(base, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, k client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if got, ok := obj.(*opsv1alpha1.DRDrillRun); ok && k == key {
				stale.DeepCopyInto(got)
				return nil
			}
			return c.Get(ctx, k, obj, opts...)
		},
	})
	behind := &DRDrillRunReconciler{Client: lagging, APIReader: k8sClient, Recorder: &events.FakeRecorder{},
		Clock: r.Clock, Version: r.Version, Timeouts: r.Timeouts}
	if _, err := behind.Reconcile(ctx, ctrl.Request{NamespacedName: key}); !holdsConflict(err) {
		t.Errorf("the reconcile that read the run stale returned %v, want a conflict on its status write", err)
	}
	again := &opsv1alpha1.DRDrillRun{}
	mustGet(t, k8sClient, key, again)
	if again.Status.Message != first.Status.Message {
		t.Errorf("after a stale read the run says %q, want its first reason %q kept", again.Status.Message, first.Status.Message)
	}
}

// holdsConflict says whether err, or any error it joins or wraps, is a
// conflict (a reconcile returns its own error joined with its status
// write's, and apierrors.IsConflict looks only at the first API error).
func holdsConflict(err error) bool {
	switch e := err.(type) {
	case nil:
		return false
	case interface{ Unwrap() []error }:
		return slices.ContainsFunc(e.Unwrap(), holdsConflict)
	default:
		return apierrors.IsConflict(err) || holdsConflict(errors.Unwrap(err))
	}
}
