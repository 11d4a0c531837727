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
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// protection is a HelpDesk's spec.protection as a platform engineer writes
// it, with createPolicyInputs' repository Secrets.
func protection(drill bool) *opsv1alpha1.HelpDeskProtection {
	p := &opsv1alpha1.HelpDeskProtection{
		Schedule: "0 2 * * *",
		Repository: opsv1alpha1.Repository{
			URL:                  "s3:https://s3.example.com/backups/rt",
			PasswordSecretRef:    opsv1alpha1.SecretKeyRef{Name: "restic", Key: "password"},
			CredentialsSecretRef: &opsv1alpha1.SecretRef{Name: "s3-credentials"},
		},
		Retention:  opsv1alpha1.Retention{KeepDaily: ptrTo[int32](7)},
		Objectives: &opsv1alpha1.BackupObjectives{RPO: metav1.Duration{Duration: 26 * time.Hour}},
	}
	if drill {
		p.Drill = &opsv1alpha1.HelpDeskDrill{Schedule: "0 6 * * 1", Objectives: &opsv1alpha1.DrillObjectives{RTO: &metav1.Duration{Duration: 30 * time.Minute}}}
	}
	return p
}

// TestHelpDeskProtection: spec.protection makes a BackupPolicy of the
// database and the attachments' volume and a DRDrill of it, both owned by
// the HelpDesk and named like it; the database admits the policy's backup
// pods; Protected follows the policy; a steady state writes nothing; and
// taking the drill, then protection, away deletes what they made.
func TestHelpDeskProtection(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createPolicyInputs(t, ns)
	hd := hdReady(t, ns, "prot", func(h *opsv1alpha1.HelpDesk) {
		h.Spec.Site.TimeZone = "Europe/Berlin"
		h.Spec.Protection = protection(true)
	})
	key := client.ObjectKeyFromObject(hd)

	var policy opsv1alpha1.BackupPolicy
	hdGet(t, ns, "prot", &policy)
	hdCheckOwned(t, &policy, hd)
	src := policy.Spec.Sources
	if len(src.Postgres) != 1 || src.Postgres[0].ConnectionSecretRef != (opsv1alpha1.SecretKeyRef{Name: "prot-credentials", Key: resources.HelpDeskBackupURIKey}) ||
		len(src.Postgres[0].Databases) != 1 || src.Postgres[0].Databases[0] != "rt5" {
		t.Errorf("the policy's database source: %+v", src.Postgres)
	}
	if len(src.Volumes) != 1 || src.Volumes[0].ClaimName != "prot-attachments" {
		t.Errorf("the policy's volume source: %+v", src.Volumes)
	}
	if policy.Spec.Repository.URL != "s3:https://s3.example.com/backups/rt" || policy.Spec.TimeZone != "Europe/Berlin" || policy.Spec.Schedule != "0 2 * * *" {
		t.Errorf("the policy: %+v", policy.Spec)
	}
	var drill opsv1alpha1.DRDrill
	hdGet(t, ns, "prot", &drill)
	hdCheckOwned(t, &drill, hd)
	checks := make([]string, 0, len(drill.Spec.Checks))
	for _, c := range drill.Spec.Checks {
		checks = append(checks, c.Name)
	}
	if drill.Spec.BackupPolicyName != "prot" || fmt.Sprint(checks) != "[queues row-counts attachment-files attachments-referenced request-tracker]" {
		t.Errorf("the drill: policy %s, checks %v", drill.Spec.BackupPolicyName, checks)
	}
	if drill.Spec.HistoryLimit != (opsv1alpha1.HistoryLimit{Passed: 12, Failed: 12}) {
		t.Errorf("the drill keeps %+v runs, want the defaults (12 passed, 12 failed)", drill.Spec.HistoryLimit)
	}

	// The backup URI is the administrator's, with the generated password.
	var creds corev1.Secret
	hdGet(t, ns, "prot-credentials", &creds)
	want := "postgresql://postgres:" + string(creds.Data[resources.HelpDeskAdminPasswordKey]) + "@prot-db." + ns + ".svc:5432/?sslmode=disable"
	if got := string(creds.Data[resources.HelpDeskBackupURIKey]); got != want {
		t.Errorf("backup URI %q, want %q", got, want)
	}
	// The database admits the backup pods, and RT's.
	var np networkingv1.NetworkPolicy
	hdGet(t, ns, "prot-db-ingress", &np)
	if from := np.Spec.Ingress[0].From; len(from) != 2 || from[1].PodSelector.MatchLabels[resources.LabelBackupPolicy] != "prot" {
		t.Errorf("the database admits %+v, want RT's pods and the policy's backup pods", from)
	}
	got := hdWaitFor(t, key, func(h *opsv1alpha1.HelpDesk) error {
		if h.Status.BackupPolicy != "prot" || h.Status.Drill != "prot" {
			return fmt.Errorf("status names policy %q, drill %q", h.Status.BackupPolicy, h.Status.Drill)
		}
		return hdCondition(opsv1alpha1.ConditionProtected, metav1.ConditionFalse, opsv1alpha1.ReasonProtectionIncomplete)(h)
	})
	t.Logf("Protected before any drill passed: %s", meta.FindStatusCondition(got.Status.Conditions, opsv1alpha1.ConditionProtected).Message)

	// Steady state: nothing written, also by a reconciler started afresh.
	hdSettle(t, key)
	r, writes := hdCountingReconciler(t, key)
	for i := range 2 {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
			t.Fatalf("reconcile %d: %v", i+1, err)
		}
	}
	if n := writes(); n != 0 {
		t.Errorf("2 steady-state reconciles of a protected help desk sent %d write requests, want 0", n)
	}

	// An objective taken away in the HelpDesk goes from the policy too.
	if err := update(t, k8sClient, &opsv1alpha1.HelpDesk{ObjectMeta: metav1.ObjectMeta{Name: "prot", Namespace: ns}}, func(h *opsv1alpha1.HelpDesk) {
		h.Spec.Protection.Objectives = nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, hdWait, func() error {
		var p opsv1alpha1.BackupPolicy
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "prot"}, &p); err != nil {
			return err
		}
		if p.Spec.Objectives != nil {
			return fmt.Errorf("the policy still has objectives %+v", p.Spec.Objectives)
		}
		return nil
	})

	// Without the drill, the DRDrill goes; without protection, the policy.
	if err := update(t, k8sClient, &opsv1alpha1.HelpDesk{ObjectMeta: metav1.ObjectMeta{Name: "prot", Namespace: ns}}, func(h *opsv1alpha1.HelpDesk) {
		h.Spec.Protection.Drill = nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, hdWait, func() error { return hdGone(ns, "prot", &opsv1alpha1.DRDrill{}) })
	if err := k8sClient.Get(ctx, key, &opsv1alpha1.HelpDesk{}); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "prot"}, &opsv1alpha1.BackupPolicy{}); err != nil {
		t.Errorf("the BackupPolicy after the drill was taken away: %v", err)
	}
	if err := update(t, k8sClient, &opsv1alpha1.HelpDesk{ObjectMeta: metav1.ObjectMeta{Name: "prot", Namespace: ns}}, func(h *opsv1alpha1.HelpDesk) {
		h.Spec.Protection = nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, hdWait, func() error { return hdGone(ns, "prot", &opsv1alpha1.BackupPolicy{}) })
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionProtected, metav1.ConditionFalse, opsv1alpha1.ReasonNotProtected))
	eventually(t, hdWait, func() error {
		hdGet(t, ns, "prot-db-ingress", &np)
		if from := np.Spec.Ingress[0].From; len(from) != 1 {
			return fmt.Errorf("the database still admits %+v without protection", from)
		}
		return nil
	})

	// A BackupPolicy of that name that the HelpDesk does not control is
	// never deleted.
	mine := sample(t, ns, "BackupPolicy", &opsv1alpha1.BackupPolicy{})
	mine.Name = "prot"
	if err := k8sClient.Create(ctx, mine); err != nil {
		t.Fatal(err)
	}
	hdSettle(t, key)
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(mine), mine); apierrors.IsNotFound(err) || !mine.DeletionTimestamp.IsZero() {
		t.Errorf("the user's own BackupPolicy prot was deleted (%v)", err)
	}
	// Nor taken over when protection comes back: the HelpDesk says why.
	if err := update(t, k8sClient, &opsv1alpha1.HelpDesk{ObjectMeta: metav1.ObjectMeta{Name: "prot", Namespace: ns}}, func(h *opsv1alpha1.HelpDesk) {
		h.Spec.Protection = protection(false)
	}); err != nil {
		t.Fatal(err)
	}
	refused := hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonInvalidSpec))
	if msg := meta.FindStatusCondition(refused.Status.Conditions, opsv1alpha1.ConditionReady).Message; !strings.Contains(msg, "BackupPolicy prot exists and is not this HelpDesk's") {
		t.Errorf("Ready says %q, want why the BackupPolicy is not taken over", msg)
	}
	var after opsv1alpha1.BackupPolicy
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(mine), &after); err != nil {
		t.Fatal(err)
	}
	if len(after.OwnerReferences) != 0 || after.Spec.Repository.URL != mine.Spec.Repository.URL || after.ResourceVersion != mine.ResourceVersion {
		t.Errorf("the user's BackupPolicy was changed: owners %v, repository %s", after.OwnerReferences, after.Spec.Repository.URL)
	}
}

// TestHelpDeskProtectedByItsOwnDrillOnly: a passed run of some other
// DRDrill naming the help desk's BackupPolicy (which sets the policy's
// RestoreVerified) does not make the help desk Protected; the help desk's
// own drill's run does, and stays what counts when another drill passes
// after it (the policy's lastVerifiedRestore then names the other one).
func TestHelpDeskProtectedByItsOwnDrillOnly(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createPolicyInputs(t, ns)
	hd := hdReady(t, ns, "own", func(h *opsv1alpha1.HelpDesk) { h.Spec.Protection = protection(true) })
	key := client.ObjectKeyFromObject(hd)
	var policy opsv1alpha1.BackupPolicy
	hdGet(t, ns, "own", &policy)
	var drill opsv1alpha1.DRDrill
	hdGet(t, ns, "own", &drill)
	// What the drill controllers and the BackupPolicy controller write
	// when runs pass: stop them, so that they do not put their own view back.
	start := stopManagerFor(t)
	now := time.Now()
	passed := func(drillName, name string, completed time.Time) {
		t.Helper()
		run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: resources.Labels(resources.LabelDrill, drillName)},
			Spec: opsv1alpha1.DRDrillRunSpec{DrillName: drillName, DrillProcedure: drill.Spec.DrillProcedure}}
		if err := k8sClient.Create(ctx, run); err != nil {
			t.Fatal(err)
		}
		run.Status = opsv1alpha1.DRDrillRunStatus{Phase: opsv1alpha1.DrillRunPassed, CompletionTime: &metav1.Time{Time: completed},
			Snapshot: &opsv1alpha1.SnapshotRef{ID: "aaaaaaaa", Time: &metav1.Time{Time: completed.Add(-time.Hour)}, RecoverySet: testRecoverySet}}
		if err := k8sClient.Status().Update(ctx, run); err != nil {
			t.Fatal(err)
		}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&policy), &policy); err != nil {
			t.Fatal(err)
		}
		policy.Status.LastVerifiedRestore = &opsv1alpha1.VerifiedRestore{Time: metav1.NewTime(completed), Drill: drillName, DrillRun: name}
		meta.SetStatusCondition(&policy.Status.Conditions, metav1.Condition{Type: opsv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Reconciled", ObservedGeneration: policy.Generation})
		meta.SetStatusCondition(&policy.Status.Conditions, metav1.Condition{Type: opsv1alpha1.ConditionRestoreVerified, Status: metav1.ConditionTrue, Reason: "Verified", Message: name + " passed", ObservedGeneration: policy.Generation})
		if err := k8sClient.Status().Update(ctx, &policy); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := hdCountingReconciler(t, key)
	reconciled := func(runs int) *opsv1alpha1.HelpDesk {
		t.Helper()
		waitCached(t, r.Client, client.ObjectKeyFromObject(&policy), &opsv1alpha1.BackupPolicy{})
		eventually(t, hdWait, func() error {
			var list opsv1alpha1.DRDrillRunList
			if err := r.List(ctx, &list, client.InNamespace(ns)); err != nil || len(list.Items) != runs {
				return fmt.Errorf("the cache holds %d runs, want %d (%v)", len(list.Items), runs, err)
			}
			return nil
		})
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
			t.Fatal(err)
		}
		got := &opsv1alpha1.HelpDesk{}
		if err := k8sClient.Get(ctx, key, got); err != nil {
			t.Fatal(err)
		}
		return got
	}

	passed("select-one", "select-one-1", now.Add(-3*time.Minute))
	got := reconciled(1)
	if err := hdCondition(opsv1alpha1.ConditionProtected, metav1.ConditionFalse, opsv1alpha1.ReasonProtectionIncomplete)(got); err != nil || got.Status.LastVerifiedRestore != nil {
		t.Errorf("after another drill's run passed: %v, last verified restore %+v", err, got.Status.LastVerifiedRestore)
	}
	// The help desk's own drill's run does.
	passed("own", "own-1", now.Add(-2*time.Minute))
	got = reconciled(2)
	if err := hdCondition(opsv1alpha1.ConditionProtected, metav1.ConditionTrue, opsv1alpha1.ReasonBackupsVerified)(got); err != nil || got.Status.LastVerifiedRestore == nil || got.Status.LastVerifiedRestore.DrillRun != "own-1" {
		t.Errorf("after the help desk's own drill's run passed: %v, last verified restore %+v", err, got.Status.LastVerifiedRestore)
	}
	// Another drill passes after it (the demo's own drills do): the help
	// desk stays Protected by its own drill's run.
	passed("select-one", "select-one-2", now.Add(-time.Minute))
	got = reconciled(3)
	if err := hdCondition(opsv1alpha1.ConditionProtected, metav1.ConditionTrue, opsv1alpha1.ReasonBackupsVerified)(got); err != nil || got.Status.LastVerifiedRestore == nil || got.Status.LastVerifiedRestore.DrillRun != "own-1" {
		t.Errorf("after another drill passed later: %v, last verified restore %+v, want own-1 still", err, got.Status.LastVerifiedRestore)
	}
	// The help desk is looked at again when its own pass turns older than
	// maxAge (192h by default), not up to helpDeskRecheck later.
	if d := r.recheckAfter(ctx, got); d != helpDeskRecheck {
		t.Errorf("recheck after %s with a pass of 2 minutes ago, want %s", d, helpDeskRecheck)
	}
	got.Status.LastVerifiedRestore.Time = metav1.NewTime(time.Now().Add(-192*time.Hour + 30*time.Second))
	if d := r.recheckAfter(ctx, got); d < 25*time.Second || d > 32*time.Second {
		t.Errorf("recheck after %s with a pass expiring in 30 s, want about 31 s", d)
	}
	start()
}
