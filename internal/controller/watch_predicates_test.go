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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// TestWatchPredicates (issue #16): the watches between kinds pass exactly
// the run and drill changes the watching reconciler reads; a run's step
// (a new message, a condition) reaches neither its drill nor its policy.
func TestWatchPredicates(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, time.December, 1, 9, 0, 0, 0, time.UTC))
	later := metav1.NewTime(at.Add(time.Hour))
	verifying := &opsv1alpha1.DRDrillRun{
		Spec: opsv1alpha1.DRDrillRunSpec{DrillName: "d", DrillProcedure: opsv1alpha1.DrillProcedure{BackupPolicyName: "p"}},
		Status: opsv1alpha1.DRDrillRunStatus{Phase: opsv1alpha1.DrillRunVerifying, Message: "verifying",
			Snapshot: &opsv1alpha1.SnapshotRef{ID: "abc", RecoverySet: "p-backup-1", Time: &at}},
	}
	run := func(mutate func(*opsv1alpha1.DRDrillRun)) *opsv1alpha1.DRDrillRun {
		r := verifying.DeepCopy()
		mutate(r)
		return r
	}
	passed := run(func(r *opsv1alpha1.DRDrillRun) {
		r.Status.Phase, r.Status.CompletionTime = opsv1alpha1.DrillRunPassed, &later
		r.Status.MeasuredRTO = &metav1.Duration{Duration: time.Minute}
	})
	failed := run(func(r *opsv1alpha1.DRDrillRun) {
		r.Status.Phase, r.Status.CompletionTime = opsv1alpha1.DrillRunFailed, &later
	})
	for _, tc := range []struct {
		name              string
		old, new          *opsv1alpha1.DRDrillRun
		toDrill, toPolicy bool
	}{
		{"a step's message", verifying, run(func(r *opsv1alpha1.DRDrillRun) { r.Status.Message = "still verifying" }), false, false},
		{"a condition", verifying, run(func(r *opsv1alpha1.DRDrillRun) {
			r.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Running"}}
		}), false, false},
		{"passed", verifying, passed, true, true},
		{"failed", verifying, failed, true, false},
		{"passed, then its evidence", passed, run(func(r *opsv1alpha1.DRDrillRun) {
			*r = *passed.DeepCopy()
			r.Status.Evidence = &opsv1alpha1.EvidenceRef{ConfigMapName: "d-1", SHA256: "00"}
		}), true, false},
		{"being deleted", passed, run(func(r *opsv1alpha1.DRDrillRun) { *r = *passed.DeepCopy(); r.DeletionTimestamp = &later }), true, false},
		{"passed without a snapshot time proves nothing", verifying, run(func(r *opsv1alpha1.DRDrillRun) {
			*r = *passed.DeepCopy()
			r.Status.Snapshot = nil
		}), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}
			if got := runOutcomeChanged.Update(e); got != tc.toDrill {
				t.Errorf("to its drill: %v, want %v", got, tc.toDrill)
			}
			if got := runVerifiesPolicy.Update(e); got != tc.toPolicy {
				t.Errorf("to its policy: %v, want %v", got, tc.toPolicy)
			}
		})
	}
	if runVerifiesPolicy.Create(event.CreateEvent{Object: verifying}) || runVerifiesPolicy.Delete(event.DeleteEvent{Object: passed}) {
		t.Error("a run created before it passed, or deleted, reaches its policy")
	}
	if !runVerifiesPolicy.Create(event.CreateEvent{Object: passed}) {
		t.Error("a run seen first when it has passed (a relist after a watch gap) does not reach its policy")
	}
	if !runOutcomeChanged.Create(event.CreateEvent{Object: verifying}) || !runOutcomeChanged.Delete(event.DeleteEvent{Object: passed}) {
		t.Error("a run created or deleted does not reach its drill")
	}

	drill := &opsv1alpha1.DRDrill{Spec: opsv1alpha1.DRDrillSpec{DrillProcedure: opsv1alpha1.DrillProcedure{BackupPolicyName: "p"}}}
	renamed, annotated := drill.DeepCopy(), drill.DeepCopy()
	renamed.Spec.BackupPolicyName = "q"
	annotated.Annotations = map[string]string{AnnotationRunNow: "now"}
	annotated.Status.CreatedRuns = []opsv1alpha1.CreatedRun{{Name: "d-1"}}
	for _, tc := range []struct {
		name     string
		p        predicate.Funcs
		old, new *opsv1alpha1.DRDrill
		want     bool
	}{
		{"a drill names another policy", drillNamesPolicy, drill, renamed, true},
		{"a drill's annotation and status", drillNamesPolicy, drill, annotated, false},
	} {
		if got := tc.p.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if !drillNamesPolicy.Create(event.CreateEvent{Object: drill}) || !drillNamesPolicy.Delete(event.DeleteEvent{Object: drill}) {
		t.Error("a drill created or deleted does not reach its policy")
	}
}
