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

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/resources"
)

// restoreVerified waits for the policy's RestoreVerified to have status
// and reason.
func restoreVerified(t *testing.T, key client.ObjectKey, status metav1.ConditionStatus, reason string) *opsv1alpha1.BackupPolicy {
	t.Helper()
	return waitPolicy(t, key, func(p *opsv1alpha1.BackupPolicy) error {
		if c := policyCondition(p, opsv1alpha1.ConditionRestoreVerified); c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("RestoreVerified %+v, want %s %s", c, status, reason)
		}
		return nil
	})
}

// TestRestoreVerified follows a policy from no drill, to a drill that has
// not passed, to a passed run that verifies it (status, condition, metrics,
// the verify Job told to tag the set), to the same run older than maxAge.
func TestRestoreVerified(t *testing.T) {
	ctx := context.Background()

	lonely := readySamplePolicy(t)
	got := restoreVerified(t, client.ObjectKeyFromObject(lonely), metav1.ConditionFalse, opsv1alpha1.ReasonNoDrill)
	if c := policyCondition(got, opsv1alpha1.ConditionRestoreVerified); !strings.Contains(c.Message, "no DRDrill in namespace "+lonely.Namespace+" names this BackupPolicy") {
		t.Errorf("NoDrill message %q", c.Message)
	}
	lonelyLabels := []string{lonely.Namespace, lonely.Name}
	if v := backupRestoreVerified.WithLabelValues(lonelyLabels...).Value(); v != 0 {
		t.Errorf("restore_verified %v without a drill, want 0", v)
	}
	if v := backupVerificationMaxAge.WithLabelValues(lonelyLabels...).Value(); v != (192 * time.Hour).Seconds() {
		t.Errorf("verification_max_age_seconds %v, want the 192h default", v)
	}

	drill := drillFixture(t, nil)
	ns := drill.Namespace
	key := client.ObjectKey{Namespace: ns, Name: drill.Spec.BackupPolicyName}
	got = restoreVerified(t, key, metav1.ConditionFalse, opsv1alpha1.ReasonNeverVerified)
	if c := policyCondition(got, opsv1alpha1.ConditionRestoreVerified); c.Message != "no run of DRDrill "+drill.Name+" has passed yet" {
		t.Errorf("NeverVerified message %q", c.Message)
	}

	start := fakeClock.Now()
	t.Cleanup(func() { fakeClock.SetTime(start) })
	runNow(t, drill, "verify-1")
	runName := RunNowRunName(drill, "verify-1")
	run := walk(t, drill, runName, true, false)
	if run.Status.Snapshot == nil || run.Status.Snapshot.RecoverySet != testRecoverySet {
		t.Fatalf("the run restored %+v, want recovery set %s", run.Status.Snapshot, testRecoverySet)
	}
	if !strings.Contains(run.Status.Message, "recovery set "+testRecoverySet+" tagged verified") {
		t.Errorf("the run's message %q does not say the set was tagged", run.Status.Message)
	}
	// The verify Job was told to tag the restored set, and only it.
	var verify batchv1.Job
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: resources.SandboxNamespaceName(run), Name: agentapi.OperationVerify}, &verify); err == nil {
		args := verify.Spec.Template.Spec.Containers[0].Args
		job, err := agentapi.ParseVerifyConfig(args[len(args)-1])
		if err != nil || job.MarkVerified == nil || job.MarkVerified.RecoverySet != testRecoverySet || job.MarkVerified.Policy != ns+"/"+key.Name {
			t.Errorf("verify Job's configuration %+v (%v)", job, err)
		}
	} else {
		t.Errorf("reading the verify Job: %v", err)
	}

	got = restoreVerified(t, key, metav1.ConditionTrue, opsv1alpha1.ReasonRestoreVerified)
	v := got.Status.LastVerifiedRestore
	if v == nil || v.DrillRun != runName || v.Drill != drill.Name || v.RecoverySet != testRecoverySet || !v.Time.Equal(run.Status.CompletionTime) {
		t.Errorf("lastVerifiedRestore %+v, run completed %v", v, run.Status.CompletionTime)
	}
	labels := []string{ns, key.Name}
	if m := backupRestoreVerified.WithLabelValues(labels...).Value(); m != 1 {
		t.Errorf("restore_verified %v, want 1", m)
	}
	if m := backupLastVerifiedRestore.WithLabelValues(labels...).Value(); m != float64(run.Status.CompletionTime.Unix()) {
		t.Errorf("last_verified_restore_timestamp_seconds %v, want %d", m, run.Status.CompletionTime.Unix())
	}

	// Past maxAge with no newer pass: False, and the alert's expression
	// (time() - last verified > max age) holds on the exported metrics.
	fakeClock.SetTime(run.Status.CompletionTime.Add(192*time.Hour + time.Minute))
	if err := update(t, k8sClient, got, func(p *opsv1alpha1.BackupPolicy) {
		p.Annotations = map[string]string{"test/poke": "1"} // a reconcile now, on the moved clock
	}); err != nil {
		t.Fatal(err)
	}
	got = restoreVerified(t, key, metav1.ConditionFalse, opsv1alpha1.ReasonVerificationStale)
	if c := policyCondition(got, opsv1alpha1.ConditionRestoreVerified); !strings.Contains(c.Message, "the newest passed drill run, "+runName) ||
		!strings.Contains(c.Message, "more than spec.verification.maxAge (192h0m0s) ago") {
		t.Errorf("VerificationStale message %q", c.Message)
	}
	last := backupLastVerifiedRestore.WithLabelValues(labels...).Value()
	maxAge := backupVerificationMaxAge.WithLabelValues(labels...).Value()
	if m := backupRestoreVerified.WithLabelValues(labels...).Value(); m != 0 || float64(fakeClock.Now().Unix())-last <= maxAge {
		t.Errorf("restore_verified %v; now - last verified = %v, max age %v", m, float64(fakeClock.Now().Unix())-last, maxAge)
	}
}

func TestVerificationVerdict(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	last := &opsv1alpha1.VerifiedRestore{Time: metav1.Time{Time: at}, Drill: "weekly", DrillRun: "weekly-1", RecoverySet: "backup-7"}
	tests := []struct {
		name   string
		drills []string
		last   *opsv1alpha1.VerifiedRestore
		now    time.Time
		status metav1.ConditionStatus
		reason string
		next   time.Duration
	}{
		{"no drill", nil, last, at, metav1.ConditionFalse, opsv1alpha1.ReasonNoDrill, 0},
		{"never passed", []string{"weekly"}, nil, at, metav1.ConditionFalse, opsv1alpha1.ReasonNeverVerified, 0},
		{"just passed", []string{"weekly"}, last, at, metav1.ConditionTrue, opsv1alpha1.ReasonRestoreVerified, 192*time.Hour + time.Second},
		{"a second inside maxAge", []string{"weekly"}, last, at.Add(192*time.Hour - time.Second), metav1.ConditionTrue, opsv1alpha1.ReasonRestoreVerified, 2 * time.Second},
		{"exactly maxAge", []string{"weekly"}, last, at.Add(192 * time.Hour), metav1.ConditionFalse, opsv1alpha1.ReasonVerificationStale, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, reason, msg, next := verificationVerdict("support", tt.drills, tt.last, 192*time.Hour, tt.now)
			if status != tt.status || reason != tt.reason || next != tt.next {
				t.Errorf("got %s %s %s (%q), want %s %s %s", status, reason, next, msg, tt.status, tt.reason, tt.next)
			}
		})
	}
}

func TestVerifiedBy(t *testing.T) {
	done := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	run := func(mutate func(*opsv1alpha1.DRDrillRun)) *opsv1alpha1.DRDrillRun {
		r := &opsv1alpha1.DRDrillRun{}
		r.Name, r.Spec.DrillName, r.Spec.BackupPolicyName = "weekly-1", "weekly", "helpdesk"
		r.Status.Phase, r.Status.CompletionTime = opsv1alpha1.DrillRunPassed, &metav1.Time{Time: done}
		r.Status.Snapshot = &opsv1alpha1.SnapshotRef{ID: "aaaaaaaa", RecoverySet: "helpdesk-backup-1-x7k2p", Time: &metav1.Time{Time: done.Add(-26 * time.Hour)}}
		if mutate != nil {
			mutate(r)
		}
		return r
	}
	tests := []struct {
		name   string
		run    *opsv1alpha1.DRDrillRun
		counts bool
	}{
		{"a passed run of a recent set", run(nil), true},
		{"another policy's", run(func(r *opsv1alpha1.DRDrillRun) { r.Spec.BackupPolicyName = "other" }), false},
		{"failed", run(func(r *opsv1alpha1.DRDrillRun) { r.Status.Phase = opsv1alpha1.DrillRunFailed }), false},
		{"not finished", run(func(r *opsv1alpha1.DRDrillRun) { r.Status.CompletionTime = nil }), false},
		{"restored nothing recorded", run(func(r *opsv1alpha1.DRDrillRun) { r.Status.Snapshot = nil }), false},
		{"pinned to a set older than maxAge", run(func(r *opsv1alpha1.DRDrillRun) {
			r.Status.Snapshot.Time = &metav1.Time{Time: done.Add(-193 * time.Hour)}
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verifiedBy(tt.run, "helpdesk", 192*time.Hour)
			if (v != nil) != tt.counts {
				t.Fatalf("verifiedBy = %+v, want counted %v", v, tt.counts)
			}
			if v != nil && (v.RecoverySet != "helpdesk-backup-1-x7k2p" || !v.RecoveryPoint.Equal(tt.run.Status.Snapshot.Time) || v.DrillRun != "weekly-1") {
				t.Errorf("verifiedBy = %+v", v)
			}
		})
	}
}
