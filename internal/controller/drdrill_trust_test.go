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

// Drill trust (issue #11, items 2, 3 and 8): runs only the operator
// starts, evidence signed with the drill's key and bound to its drill, and
// a sandbox torn down whatever happens to the evidence.

package controller

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/evidence"
	"github.com/supportstack/operator/internal/resources"
)

// forgedRun is what a drill author with `create drdrillruns` writes: a run
// naming the drill, controlled by it, with a check that always passes and
// their own signing key.
func forgedRun(drill *opsv1alpha1.DRDrill, name string) *opsv1alpha1.DRDrillRun {
	proc := *drill.Spec.DrillProcedure.DeepCopy()
	proc.Checks = []opsv1alpha1.DrillCheck{{Name: "always", Database: "helpdesk", SQL: "SELECT 1", Expect: &opsv1alpha1.Expectation{Min: ptrTo[int64](1)}}}
	proc.Evidence = &opsv1alpha1.EvidenceSpec{SigningKeySecretRef: &opsv1alpha1.SecretKeyRef{Name: "forger-key", Key: "ed25519.key"}}
	yes := true
	return &opsv1alpha1.DRDrillRun{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: drill.Namespace,
			Labels:          resources.Labels(resources.LabelDrill, drill.Name),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: opsv1alpha1.GroupVersion.String(), Kind: "DRDrill", Name: drill.Name, UID: drill.UID, Controller: &yes}},
		},
		Spec: opsv1alpha1.DRDrillRunSpec{DrillName: drill.Name, DrillProcedure: proc},
	}
}

func pemKey(t *testing.T, key ed25519.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// noEvidenceOf checks that nothing of run reached the drill's evidence:
// no ConfigMap, no record in the chain, no head.
func noEvidenceOf(t *testing.T, drill *opsv1alpha1.DRDrill, run string) {
	t.Helper()
	ctx := context.Background()
	var cm corev1.ConfigMap
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: drill.Namespace, Name: evidence.ConfigMapName(run)}, &cm); !apierrors.IsNotFound(err) {
		t.Errorf("evidence ConfigMap of %s: %v", run, err)
	}
	chain, err := evidence.LoadChain(ctx, k8sClient, drill.Namespace, drill.Name)
	if err != nil || len(chain) != 0 {
		t.Errorf("the drill's chain holds %d records (%v), want none", len(chain), err)
	}
	var d opsv1alpha1.DRDrill
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(drill), &d); err != nil || d.Status.EvidenceHead != nil || (d.Status.LastRun != nil && d.Status.LastRun.Name == run) {
		t.Errorf("drill status %+v (%v)", d.Status, err)
	}
}

// TestDrillRunsOnlyTheOperatorStarts (item 2): a drill author with only
// `create, get drdrillruns` cannot start a run that counts. The admission
// policy refuses it; when the policy is missing (simulated by creating the
// same run as a cluster admin, whom it lets through) the reconciler ends
// it in Error before it gets a sandbox, and it never reaches the evidence.
func TestDrillRunsOnlyTheOperatorStarts(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
	ns := drill.Namespace
	forger := ed25519.NewKeyFromSeed([]byte("forger-drill-key-seed-32-bytes!!"))
	if err := k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "forger-key", Namespace: ns},
		Data: map[string][]byte{"ed25519.key": pemKey(t, forger)}}); err != nil {
		t.Fatal(err)
	}
	author := actAs(t, "drill-author", ns, rbacv1.PolicyRule{APIGroups: []string{opsv1alpha1.GroupVersion.Group}, Resources: []string{"drdrillruns"}, Verbs: []string{"create", "get"}})

	// At admission.
	err := author.Create(ctx, forgedRun(drill, "forged-by-author"))
	want := "DRDrillRuns are created by the operator only, so that every run and its evidence follow the drill's own procedure: annotate the DRDrill " +
		drill.Name + " with ops.supportstack.io/run-now=<new token> to start a run"
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) || err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("creating a run as a drill author: %v, want refused with %q", err, want)
	}
	t.Logf("refused: %v", err)

	// In the reconciler: the same run created by someone admission lets
	// through, and one controlled by a drill of another namespace.
	if err := k8sClient.Create(ctx, forgedRun(drill, "forged-past-admission")); err != nil {
		t.Fatal(err)
	}
	other := drillFixture(t, nil)
	foreign := forgedRun(drill, "forged-foreign-owner")
	foreign.OwnerReferences[0].UID = other.UID
	if err := k8sClient.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"forged-past-admission", "forged-foreign-owner"} {
		run := &opsv1alpha1.DRDrillRun{}
		eventually(t, 40*time.Second, func() error {
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, run); err != nil {
				return err
			}
			if run.Status.Phase != opsv1alpha1.DrillRunError {
				return fmt.Errorf("%s: phase %q", name, run.Status.Phase)
			}
			return nil
		})
		ready := meta.FindStatusCondition(run.Status.Conditions, opsv1alpha1.ConditionReady)
		msg := "this run was not started by the operator for drill " + drill.Name + ": create runs by annotating the DRDrill with ops.supportstack.io/run-now"
		if ready == nil || ready.Reason != opsv1alpha1.ReasonNotCreatedByOperator || run.Status.Message != msg || ready.Message != msg {
			t.Errorf("%s: Ready %+v, message %q", name, ready, run.Status.Message)
		}
		if ev := meta.FindStatusCondition(run.Status.Conditions, opsv1alpha1.ConditionEvidenceRecorded); ev == nil || ev.Status != metav1.ConditionFalse || ev.Reason != opsv1alpha1.ReasonNotCreatedByOperator {
			t.Errorf("%s: EvidenceRecorded %+v", name, ev)
		}
		if run.Status.StartTime != nil || run.Status.SandboxNamespace != "" || len(run.Finalizers) != 0 || run.Status.Evidence != nil {
			t.Errorf("%s was carried out: %+v finalizers %v", name, run.Status, run.Finalizers)
		}
		var sb corev1.Namespace
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: resources.SandboxNamespaceName(run)}, &sb); !apierrors.IsNotFound(err) {
			t.Errorf("%s: sandbox namespace %s: %v", name, resources.SandboxNamespaceName(run), err)
		}
	}
	// It stays out: no sandbox, no evidence, no summary, even later.
	settle(t, func() string {
		var list opsv1alpha1.DRDrillRunList
		_ = k8sClient.List(ctx, &list, client.InNamespace(ns))
		phases := make([]string, 0, len(list.Items))
		for _, r := range list.Items {
			phases = append(phases, r.Name+"="+string(r.Status.Phase)+fmt.Sprint(r.Status.Evidence))
		}
		return strings.Join(phases, ",")
	})
	noEvidenceOf(t, drill, "forged-past-admission")
	noEvidenceOf(t, drill, "forged-foreign-owner")
	var d opsv1alpha1.DRDrill
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(drill), &d); err != nil || d.Status.ActiveRun != "" || len(d.Status.CreatedRuns) != 0 {
		t.Errorf("the drill counts a forged run: %+v (%v)", d.Status, err)
	}

	// The operator's own run still counts, and is signed with the key the
	// DRDrill names now, not the one its copy of the procedure names.
	second := ed25519.NewKeyFromSeed([]byte("rotated-drill-key-seed-32-bytes!"))
	if err := k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "rotated-key", Namespace: ns},
		Data: map[string][]byte{"ed25519.key": pemKey(t, second)}}); err != nil {
		t.Fatal(err)
	}
	runNow(t, drill, "audit-trust")
	var name string
	eventually(t, 20*time.Second, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(drill), &d); err != nil {
			return err
		}
		if len(d.Status.CreatedRuns) != 1 {
			return fmt.Errorf("created runs %v", d.Status.CreatedRuns)
		}
		name = d.Status.CreatedRuns[0].Name
		return nil
	})
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) {
		d.Spec.Evidence.SigningKeySecretRef = &opsv1alpha1.SecretKeyRef{Name: "rotated-key", Key: "ed25519.key"}
	}); err != nil {
		t.Fatal(err)
	}
	run := walk(t, drill, name, true, false)
	if run.Spec.Evidence.SigningKeySecretRef.Name != "drill-signing-key" || run.Spec.Trigger == nil || run.Spec.Trigger.Kind != opsv1alpha1.RunTriggerRunNow || run.Spec.Trigger.RunNowToken != "audit-trust" {
		t.Errorf("run spec %+v", run.Spec)
	}
	chain, err := evidence.LoadChain(ctx, k8sClient, ns, drill.Name)
	if err != nil || len(chain) != 1 {
		t.Fatalf("chain of %d: %v", len(chain), err)
	}
	if err := evidence.Verify(chain, second.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("not signed with the drill's key: %v", err)
	}
	for _, key := range []ed25519.PrivateKey{testSigningKey, forger} {
		if err := evidence.Verify(chain, key.Public().(ed25519.PublicKey)); err == nil {
			t.Error("the record verifies with a key the DRDrill does not name")
		}
	}
	// The report says what ran and why, bound to its drill and run.
	report, _ := evidence.Parse(chain[0].Canonical)
	procedure := evidence.ProcedureJSON(run.Spec.DrillProcedure)
	sum := sha256.Sum256(procedure)
	if report.DrillUID != string(drill.UID) || report.RunUID != string(run.UID) || report.Run != name || report.Sequence != 1 ||
		report.ProcedureSHA256 != hex.EncodeToString(sum[:]) || !strings.Contains(string(chain[0].Procedure), `"sql":"SELECT count(*) FROM tickets"`) ||
		report.Trigger.Kind != "run-now" || report.Trigger.RunNowToken != "audit-trust" || report.Trigger.FieldManager == "" {
		t.Errorf("report %s\nprocedure %s", chain[0].Canonical, chain[0].Procedure)
	}
	// The head is in the drill's status and the metric; verification
	// against it holds.
	eventually(t, 20*time.Second, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(drill), &d); err != nil {
			return err
		}
		h := d.Status.EvidenceHead
		if h == nil || h.Sequence != 1 || h.SHA256 != chain[0].SHA256 || h.ConfigMapName != chain[0].Name || h.Run != name {
			return fmt.Errorf("head %+v", h)
		}
		if got := drillEvidenceSequence.WithLabelValues(ns, drill.Name).Value(); got != 1 {
			return fmt.Errorf("supportstack_drill_evidence_sequence %v", got)
		}
		return nil
	})
	if _, err := evidence.VerifyDrillWith(ctx, k8sClient, ns, drill.Name, second.Public().(ed25519.PublicKey),
		evidence.Expect{DrillUID: string(drill.UID), Head: &evidence.Head{Sequence: 1, SHA256: chain[0].SHA256}}); err != nil {
		t.Errorf("verifying against the head: %v", err)
	}
	// No forged run's record or key appears anywhere in the evidence.
	var cms corev1.ConfigMapList
	if err := k8sClient.List(ctx, &cms, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, cm := range cms.Items {
		for _, v := range cm.Data {
			if strings.Contains(v, "forged-") || strings.Contains(v, "SELECT 1") || strings.Contains(v, "forger-key") {
				t.Errorf("ConfigMap %s holds the forged run: %s", cm.Name, v)
			}
		}
	}
	// The forger's key was never read: no event or status shows it was used.
	var evs eventsv1.EventList
	if err := k8sClient.List(ctx, &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		if strings.Contains(e.Note, "forger-key") || strings.Contains(e.Note, "SELECT 1") ||
			(strings.HasPrefix(e.Regarding.Name, "forged-") && e.Reason != opsv1alpha1.ReasonNotCreatedByOperator) {
			t.Errorf("event %s %s: %s", e.Reason, e.Regarding.Name, e.Note)
		}
	}
}

// TestDrillEvidenceFailureStillTearsDown (item 8): someone with `create
// configmaps` in the drill's namespace takes the name of a run's evidence
// ConfigMap before the run ends. The evidence cannot be written, yet the
// sandbox (restored data, copied Secrets) goes as keep: Never says, the run
// says why, and the write succeeds once the name is free.
func TestDrillEvidenceFailureStillTearsDown(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
	ns := drill.Namespace
	squatter := actAs(t, "configmap-writer", ns, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create"}})
	token := "squatted"
	name := RunNowRunName(drill, token)
	cmName := evidence.ConfigMapName(name)
	squat := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cmName, Namespace: ns}, Data: map[string]string{evidence.KeyReport: `{"result":"Passed"}`}}
	if err := squatter.Create(ctx, squat); err != nil {
		t.Fatal(err)
	}

	runNow(t, drill, token)
	run := waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunProvisioning))
	sandbox := resources.SandboxNamespaceName(run)
	w := newWalkTimes(run)
	actAsQuotaController(t, sandbox)
	readyScratch(t, sandbox)
	finishDrillJob(t, sandbox, "restore", restoreResult(w))
	waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunVerifying))
	finishDrillJob(t, sandbox, "verify", verifyResult(w, true))
	want := "recording the evidence failed, retrying: ConfigMap " + cmName + " already exists and is not the record this run writes"
	run = waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
		c := meta.FindStatusCondition(r.Status.Conditions, opsv1alpha1.ConditionEvidenceRecorded)
		if r.Status.Phase != opsv1alpha1.DrillRunPassed || c == nil || c.Status != metav1.ConditionFalse || c.Reason != opsv1alpha1.ReasonEvidenceFailed || !strings.HasPrefix(c.Message, want) {
			return fmt.Errorf("phase %s, EvidenceRecorded %+v", r.Status.Phase, c)
		}
		return nil
	})
	sandboxDeleted(t, run)
	eventually(t, 10*time.Second, func() error {
		var list eventsv1.EventList
		if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == opsv1alpha1.ReasonEvidenceFailed && e.Regarding.Name == name && strings.HasPrefix(e.Note, want) {
				return nil
			}
		}
		return fmt.Errorf("no EvidenceFailed event among %d", len(list.Items))
	})
	// The squatter's content was not taken as the run's evidence.
	noEvidenceOf(t, drill, "")
	if run.Status.Evidence != nil {
		t.Errorf("evidence %+v", run.Status.Evidence)
	}

	// Once the name is free the retry records it, chained from the start.
	if err := k8sClient.Delete(ctx, squat); err != nil {
		t.Fatal(err)
	}
	if err := update(t, k8sClient, run, func(r *opsv1alpha1.DRDrillRun) { r.Annotations["nudge"] = "retry" }); err != nil {
		t.Fatal(err)
	}
	run = waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
		if c := meta.FindStatusCondition(r.Status.Conditions, opsv1alpha1.ConditionEvidenceRecorded); r.Status.Evidence == nil || c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("evidence %+v, condition %+v", r.Status.Evidence, c)
		}
		return nil
	})
	if _, err := evidence.VerifyDrillWith(ctx, k8sClient, ns, drill.Name, testSigningKey.Public().(ed25519.PublicKey),
		evidence.Expect{DrillUID: string(drill.UID), Head: &evidence.Head{Sequence: 1, SHA256: run.Status.Evidence.SHA256}}); err != nil {
		t.Errorf("after the retry: %v", err)
	}
}

// TestDrillRunAcknowledgedLate: the drill acknowledges its run right after
// creating it, so a run its drill's status lists a few seconds after it
// appeared (a slow status write) is carried out, not refused.
func TestDrillRunAcknowledgedLate(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, nil)
	run := forgedRun(drill, "acknowledged-late")
	run.Spec.DrillProcedure = *drill.Spec.DrillProcedure.DeepCopy()
	if err := k8sClient.Create(ctx, run); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if r := waitRun(t, drill.Namespace, run.Name, func(*opsv1alpha1.DRDrillRun) error { return nil }); r.Status.Phase != "" {
		t.Fatalf("the run did not wait for its acknowledgement: %s %s", r.Status.Phase, r.Status.Message)
	}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var d opsv1alpha1.DRDrill
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(drill), &d); err != nil {
			return err
		}
		d.Status.CreatedRuns = append(d.Status.CreatedRuns, opsv1alpha1.CreatedRun{Name: run.Name, UID: run.UID})
		return k8sClient.Status().Update(ctx, &d)
	}); err != nil {
		t.Fatal(err)
	}
	waitRun(t, drill.Namespace, run.Name, inPhase(opsv1alpha1.DrillRunProvisioning))
}

// TestDrillRunCreatedBeforeACrash (review of item 2): the operator stopped
// between creating a run and acknowledging it. When the drill comes to
// create that run again, it finds it and acknowledges it, if it is exactly
// the run it would create: controlled by the drill, with the drill's
// procedure and the same trigger. A run made by someone past admission
// (here a cluster admin, standing in for a missing policy) under that name
// with other checks, or for another token, stays refused as before.
func TestDrillRunCreatedBeforeACrash(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// made is the run found under the name, from the one the drill
		// would create now.
		made func(drill *opsv1alpha1.DRDrill, run *opsv1alpha1.DRDrillRun)
		why  string // "" = acknowledged and carried out
		// restart: the run was made by the manager before this one, longer
		// ago than the grace a run has to be acknowledged.
		restart bool
	}{
		{"the drill's own run, not acknowledged", func(*opsv1alpha1.DRDrill, *opsv1alpha1.DRDrillRun) {}, "", false},
		{"the drill's own run, made before a restart longer ago than the grace", func(*opsv1alpha1.DRDrill, *opsv1alpha1.DRDrillRun) {}, "", true},
		{"SELECT 1 checks and the forger's key under the run's name", func(drill *opsv1alpha1.DRDrill, run *opsv1alpha1.DRDrillRun) {
			run.Spec.DrillProcedure = forgedRun(drill, run.Name).Spec.DrillProcedure
		}, "its procedure (sha256 ", false},
		{"the drill's procedure, another run-now token", func(_ *opsv1alpha1.DRDrill, run *opsv1alpha1.DRDrillRun) {
			run.Spec.Trigger.RunNowToken = "another-token"
		}, "its trigger is not the one the drill is creating it for", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
			ns := drill.Namespace
			forger := ed25519.NewKeyFromSeed([]byte("forger-drill-key-seed-32-bytes!!"))
			if err := k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "forger-key", Namespace: ns},
				Data: map[string][]byte{"ed25519.key": pemKey(t, forger)}}); err != nil {
				t.Fatal(err)
			}
			token := "after-crash"
			name := RunNowRunName(drill, token)
			run, err := newRun(drill, name, &opsv1alpha1.RunTrigger{Kind: opsv1alpha1.RunTriggerRunNow, RunNowToken: token}, k8sClient.Scheme())
			if err != nil {
				t.Fatal(err)
			}
			tc.made(drill, run)
			if tc.restart {
				if err := stopManager(); err != nil {
					t.Fatal(err)
				}
			}
			if err := k8sClient.Create(ctx, run); err != nil {
				t.Fatal(err)
			}
			if tc.restart {
				time.Sleep(ackGrace + time.Second)
				if err := startManager(); err != nil {
					t.Fatal(err)
				}
			}
			runNow(t, drill, token)
			if tc.why == "" {
				waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunProvisioning))
				// The run moves on once the drill acknowledges it; the
				// run-now token is written after that, in the reconcile's
				// last status patch, so it is waited for.
				eventually(t, 10*time.Second, func() error {
					var d opsv1alpha1.DRDrill
					if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(drill), &d); err != nil || len(d.Status.CreatedRuns) != 1 ||
						d.Status.CreatedRuns[0] != (opsv1alpha1.CreatedRun{Name: name, UID: run.UID}) || d.Status.LastRunNowToken != token {
						return fmt.Errorf("drill status %+v (%v)", d.Status, err)
					}
					return nil
				})
				want := "acknowledged run " + name + " (run-now), created before the operator stopped: it is controlled by this drill and carries its procedure and trigger"
				waitNotes(t, ns, drill.Name, opsv1alpha1.ReasonRunCreated, fmt.Sprintf("one, %q", want),
					func(notes []string) bool { return len(notes) == 1 && notes[0] == want })
				return
			}
			refused := waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunError))
			if c := meta.FindStatusCondition(refused.Status.Conditions, opsv1alpha1.ConditionReady); c == nil || c.Reason != opsv1alpha1.ReasonNotCreatedByOperator {
				t.Errorf("Ready %+v", c)
			}
			if refused.Status.StartTime != nil || refused.Status.SandboxNamespace != "" || refused.Status.Evidence != nil {
				t.Errorf("the run was carried out: %+v", refused.Status)
			}
			want := "run " + name + " already exists and was not created by the operator (" + tc.why
			waitNotes(t, ns, drill.Name, opsv1alpha1.ReasonNotCreatedByOperator, fmt.Sprintf("one among them starting %q", want), func(notes []string) bool {
				return slices.ContainsFunc(notes, func(n string) bool {
					return strings.HasPrefix(n, want) && strings.HasSuffix(n, "): it is not carried out, and this run-now run is skipped")
				})
			})
			if notes := eventNotes(t, ns, drill.Name, opsv1alpha1.ReasonRunCreated); len(notes) != 0 {
				t.Errorf("RunCreated events %q", notes)
			}
			noEvidenceOf(t, drill, name)
			var d opsv1alpha1.DRDrill
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(drill), &d); err != nil || len(d.Status.CreatedRuns) != 0 || d.Status.ActiveRun != "" {
				t.Errorf("the drill counts the run: %+v (%v)", d.Status, err)
			}
			// The forged SQL and key name appear in no event.
			var list eventsv1.EventList
			if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			for _, e := range list.Items {
				if strings.Contains(e.Note, "SELECT 1") || strings.Contains(e.Note, "forger-key") {
					t.Errorf("event %s: %s", e.Reason, e.Note)
				}
			}
		})
	}
}

// TestDrillCreatedRunsFull (review of item 2): status.createdRuns holds at
// most 512 runs, and finished runs whose evidence was never recorded are
// never pruned. With the list full the drill starts no run (its
// acknowledgement would be refused, and the run with it) and says so in
// Ready and a Warning event naming such runs; the run-now token waits, and
// once runs are deleted the run starts. The limit is the CRD's: the API
// server refuses a 513th entry.
func TestDrillCreatedRunsFull(t *testing.T) {
	ctx := context.Background()
	// The API server holds the CRD's limit.
	onServer := drillFixture(t, nil)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var d opsv1alpha1.DRDrill
		mustGet(t, k8sClient, client.ObjectKeyFromObject(onServer), &d)
		for i := 0; i <= maxCreatedRuns; i++ {
			d.Status.CreatedRuns = append(d.Status.CreatedRuns, opsv1alpha1.CreatedRun{Name: fmt.Sprintf("r-%d", i), UID: types.UID(fmt.Sprintf("uid-%d", i))})
		}
		return k8sClient.Status().Update(ctx, &d)
	})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "must have at most 512 items") {
		t.Fatalf("a 513th acknowledged run: %v", err)
	}

	// A drill with 512 acknowledged runs that all ended without recorded
	// evidence, in a fake cluster (the operator in the suite would try to
	// record their evidence).
	ns := "full"
	drill := sample(t, ns, "DRDrill", &opsv1alpha1.DRDrill{})
	drill.UID, drill.Annotations = "drill-uid", map[string]string{AnnotationRunNow: "waits"}
	drill.Spec.Suspend = true
	objs := []client.Object{samplePolicy(t, ns),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "drill-signing-key", Namespace: ns}, Data: map[string][]byte{"ed25519.key": pemKey(t, testSigningKey)}}}
	yes := true
	runName := func(i int) string { return fmt.Sprintf("%s-%03d", drill.Name, i) }
	for i := 0; i < maxCreatedRuns; i++ {
		run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Name: runName(i), Namespace: ns, UID: types.UID(fmt.Sprintf("run-%d", i)),
			Labels:          resources.Labels(resources.LabelDrill, drill.Name),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: opsv1alpha1.GroupVersion.String(), Kind: "DRDrill", Name: drill.Name, UID: drill.UID, Controller: &yes}}},
			Spec:   opsv1alpha1.DRDrillRunSpec{DrillName: drill.Name, DrillProcedure: drill.Spec.DrillProcedure},
			Status: opsv1alpha1.DRDrillRunStatus{Phase: opsv1alpha1.DrillRunError, CompletionTime: &metav1.Time{Time: fakeClock.Now().Add(-time.Duration(i) * time.Hour)}}}
		drill.Status.CreatedRuns = append(drill.Status.CreatedRuns, opsv1alpha1.CreatedRun{Name: run.Name, UID: run.UID})
		objs = append(objs, run)
	}
	c := fake.NewClientBuilder().WithScheme(k8sClient.Scheme()).WithObjects(append(objs, drill)...).
		WithStatusSubresource(&opsv1alpha1.DRDrill{}, &opsv1alpha1.DRDrillRun{}).Build()
	recorder := events.NewFakeRecorder(20)
	r := &DRDrillReconciler{Client: c, APIReader: c, Recorder: recorder, Clock: fakeClock}
	key := client.ObjectKeyFromObject(drill)
	for i := 0; i < 2; i++ {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
			t.Fatal(err)
		}
	}
	var d opsv1alpha1.DRDrill
	mustGet(t, c, key, &d)
	want := "status.createdRuns lists 512 runs, as many as it may: no run is started until runs of this drill are deleted; 512 finished without recorded evidence and are kept for it (" +
		runName(0) + ", " + runName(1) + ", " + runName(2) + ", ...): fix what their EvidenceRecorded condition names, or delete those whose evidence you do not need"
	if ready := meta.FindStatusCondition(d.Status.Conditions, opsv1alpha1.ConditionReady); ready == nil || ready.Status != metav1.ConditionFalse ||
		ready.Reason != opsv1alpha1.ReasonCreatedRunsFull || ready.Message != want {
		t.Errorf("Ready %+v\nwant %q", ready, want)
	}
	if d.Status.LastRunNowToken != "" || len(d.Status.CreatedRuns) != maxCreatedRuns {
		t.Errorf("the run-now token was consumed: %q, %d acknowledged", d.Status.LastRunNowToken, len(d.Status.CreatedRuns))
	}
	var runs opsv1alpha1.DRDrillRunList
	if err := c.List(ctx, &runs, client.InNamespace(ns)); err != nil || len(runs.Items) != maxCreatedRuns {
		t.Errorf("%d runs (%v), want %d: a run was created or pruned", len(runs.Items), err, maxCreatedRuns)
	}
	var full []string
	for len(recorder.Events) > 0 {
		if e := <-recorder.Events; strings.Contains(e, opsv1alpha1.ReasonCreatedRunsFull) {
			full = append(full, e)
		}
	}
	if len(full) != 1 || full[0] != "Warning "+opsv1alpha1.ReasonCreatedRunsFull+" "+want {
		t.Errorf("CreatedRunsFull events (one per change, two reconciles): %q", full)
	}

	// Runs deleted, as the message says: the run-now run starts and is
	// acknowledged.
	for i := 0; i < 10; i++ {
		if err := c.Delete(ctx, &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: runName(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	mustGet(t, c, key, &d)
	started := RunNowRunName(drill, "waits")
	if ready := meta.FindStatusCondition(d.Status.Conditions, opsv1alpha1.ConditionReady); ready == nil || ready.Reason == opsv1alpha1.ReasonCreatedRunsFull ||
		d.Status.LastRunNowToken != "waits" || d.Status.ActiveRun != started || len(d.Status.CreatedRuns) != maxCreatedRuns-10+1 ||
		d.Status.CreatedRuns[len(d.Status.CreatedRuns)-1].Name != started {
		t.Errorf("after deleting runs: Ready %+v, token %q, active %q, %d acknowledged", ready, d.Status.LastRunNowToken, d.Status.ActiveRun, len(d.Status.CreatedRuns))
	}
}

func mustGet(t *testing.T, c client.Client, key client.ObjectKey, obj client.Object) {
	t.Helper()
	if err := c.Get(context.Background(), key, obj); err != nil {
		t.Fatal(err)
	}
}
