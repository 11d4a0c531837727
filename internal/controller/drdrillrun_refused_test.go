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

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// TestSandboxRefusalSaysWhy: when the API server refuses one of the
// sandbox's objects (here an admission policy refuses its Service; at
// scale it was a full Service range), the run says so in its status while
// it retries, and goes on once the refusal is lifted. Before, the run only
// said it was provisioning and the reason was in the manager's log.
func TestSandboxRefusalSaysWhy(t *testing.T) {
	ctx := context.Background()
	const name, refusal = "refuse-sandbox-services", "services are closed for maintenance"
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptrTo(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"services"}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: fmt.Sprintf("!has(object.metadata.labels) || !(%q in object.metadata.labels)", resources.LabelDrillRun),
				Message:    refusal,
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

	drill := drillFixture(t, nil)
	ns := drill.Namespace
	// The API server applies a policy once its watch has it: wait until a
	// labelled Service is refused (a dry run, so nothing is created).
	eventually(t, 30*time.Second, func() error {
		probe := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns, Labels: map[string]string{resources.LabelDrillRun: "probe"}},
			Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Port: 5432}}}}
		if err := k8sClient.Create(ctx, probe, client.DryRunAll); err == nil {
			return fmt.Errorf("the policy does not refuse Services yet")
		}
		return nil
	})

	runNow(t, drill, "refused")
	name0 := runsOf(t, drill, 1)[0].Name
	run := waitRun(t, ns, name0, func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.Phase != opsv1alpha1.DrillRunProvisioning || !strings.Contains(r.Status.Message, refusal) {
			return fmt.Errorf("phase %s, message %q: want Provisioning, saying %q", r.Status.Phase, r.Status.Message, refusal)
		}
		return nil
	})
	if want := "the sandbox could not be set up, retrying: "; !strings.HasPrefix(run.Status.Message, want) {
		t.Errorf("message %q, want it to start %q", run.Status.Message, want)
	}
	sandbox := resources.SandboxNamespaceName(run)
	actAsQuotaController(t, sandbox)
	var pod corev1.Pod
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: resources.ScratchPostgresName}, &pod); !apierrors.IsNotFound(err) {
		t.Errorf("scratch server while its Service is refused: %v, want none", err)
	}

	// Lifted: the retry creates the Service (headless: no cluster IP held
	// per run) and the server, and the run waits for the server instead.
	lift()
	waitRun(t, ns, name0, func(r *opsv1alpha1.DRDrillRun) error {
		if strings.Contains(r.Status.Message, refusal) {
			return fmt.Errorf("still says %q", r.Status.Message)
		}
		return nil
	})
	var svc corev1.Service
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: resources.ScratchPostgresName}, &svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("scratch Service cluster IP %q, want None (headless)", svc.Spec.ClusterIP)
	}
	readyScratch(t, sandbox)
	waitRun(t, ns, name0, inPhase(opsv1alpha1.DrillRunRestoring))
}
