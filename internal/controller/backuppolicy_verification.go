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
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// defaultVerificationMaxAge is spec.verification.maxAge's default, for a
// policy stored before the field existed.
const defaultVerificationMaxAge = 192 * time.Hour

// verificationMaxAge is how long a passed drill run proves the policy's
// backups restorable.
func verificationMaxAge(policy *opsv1alpha1.BackupPolicy) time.Duration {
	if d := policy.Spec.Verification.MaxAge; d != nil && d.Duration > 0 {
		return d.Duration
	}
	return defaultVerificationMaxAge
}

// reconcileVerification finds the newest passed run of the drills that
// restore this policy, records it in status.lastVerifiedRestore, sets
// RestoreVerified and returns when the answer changes next (the record
// turning older than maxAge).
func (r *BackupPolicyReconciler) reconcileVerification(ctx context.Context, policy, before *opsv1alpha1.BackupPolicy, now time.Time) (time.Duration, error) {
	// Read only: the cache's objects are not copied for every reconcile.
	var drills opsv1alpha1.DRDrillList
	if err := r.List(ctx, &drills, client.InNamespace(policy.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return 0, err
	}
	var names []string
	for _, d := range drills.Items {
		if d.Spec.BackupPolicyName == policy.Name {
			names = append(names, d.Name)
		}
	}
	var runs opsv1alpha1.DRDrillRunList
	if err := r.List(ctx, &runs, client.InNamespace(policy.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return 0, err
	}
	maxAge := verificationMaxAge(policy)
	if v := newestVerified(runs.Items, policy.Name, "", maxAge); v != nil {
		if last := policy.Status.LastVerifiedRestore; last == nil || v.Time.After(last.Time.Time) {
			policy.Status.LastVerifiedRestore = v
		}
	}

	labels := []string{policy.Namespace, policy.Name}
	backupVerificationMaxAge.WithLabelValues(labels...).Set(maxAge.Seconds())
	last := policy.Status.LastVerifiedRestore
	if last != nil {
		backupLastVerifiedRestore.WithLabelValues(labels...).Set(float64(last.Time.Unix()))
	}
	status, reason, msg, next := verificationVerdict(policy.Namespace, names, last, maxAge, now)
	if c := meta.FindStatusCondition(before.Status.Conditions, opsv1alpha1.ConditionRestoreVerified); status == metav1.ConditionFalse && (c == nil || c.Status != status) {
		r.Recorder.Eventf(policy, nil, corev1.EventTypeWarning, reason, "CheckVerification", "%s", msg)
	}
	setCondition(policy, opsv1alpha1.ConditionRestoreVerified, status, reason, msg)
	verified := 0.0
	if status == metav1.ConditionTrue {
		verified = 1
	}
	backupRestoreVerified.WithLabelValues(labels...).Set(verified)
	return next, nil
}

// verifiedBy is what a drill run proves of the policy: nothing unless it
// passed restoring the policy's backups, and restored a recovery point at
// most maxAge older than itself (a drill pinned to an old set proves that
// set, not the backups the policy takes now).
func verifiedBy(run *opsv1alpha1.DRDrillRun, policy string, maxAge time.Duration) *opsv1alpha1.VerifiedRestore {
	snap := run.Status.Snapshot
	if run.Spec.BackupPolicyName != policy || run.Status.Phase != opsv1alpha1.DrillRunPassed || run.Status.CompletionTime == nil ||
		snap == nil || snap.Time == nil || run.Status.CompletionTime.Sub(snap.Time.Time) > maxAge {
		return nil
	}
	return &opsv1alpha1.VerifiedRestore{Time: *run.Status.CompletionTime, Drill: run.Spec.DrillName, DrillRun: run.Name,
		RecoverySet: snap.RecoverySet, RecoveryPoint: snap.Time.DeepCopy()}
}

// newestVerified is the newest of runs that proves the policy's backups
// restorable (verifiedBy), of the drill named drill ("" for any); nil for
// none.
func newestVerified(runs []opsv1alpha1.DRDrillRun, policy, drill string, maxAge time.Duration) *opsv1alpha1.VerifiedRestore {
	var last *opsv1alpha1.VerifiedRestore
	for i := range runs {
		if drill != "" && runs[i].Spec.DrillName != drill {
			continue
		}
		if v := verifiedBy(&runs[i], policy, maxAge); v != nil && (last == nil || v.Time.After(last.Time.Time)) {
			last = v
		}
	}
	return last
}

// verificationVerdict is RestoreVerified for a policy that the named
// drills restore and whose newest passed run is last: its status, reason,
// message, and how long until it changes (0: only an event changes it).
// Messages name fixed times, never an age, so a steady state writes nothing.
func verificationVerdict(namespace string, drills []string, last *opsv1alpha1.VerifiedRestore, maxAge time.Duration, now time.Time) (metav1.ConditionStatus, string, string, time.Duration) {
	if len(drills) == 0 {
		return metav1.ConditionFalse, opsv1alpha1.ReasonNoDrill,
			fmt.Sprintf("no DRDrill in namespace %s names this BackupPolicy in backupPolicyName: nothing proves its backups restore; create one (config/samples has an example)", namespace), 0
	}
	slices.Sort(drills)
	if last == nil {
		return metav1.ConditionFalse, opsv1alpha1.ReasonNeverVerified,
			fmt.Sprintf("no run of DRDrill %s has passed yet", strings.Join(drills, ", ")), 0
	}
	set := ""
	if last.RecoverySet != "" {
		set = ", restoring recovery set " + last.RecoverySet
	}
	if p := last.RecoveryPoint; p != nil {
		set += " taken at " + p.UTC().Format(time.RFC3339)
	}
	expires := last.Time.Add(maxAge)
	if !now.Before(expires) {
		return metav1.ConditionFalse, opsv1alpha1.ReasonVerificationStale,
			fmt.Sprintf("the newest passed drill run, %s of DRDrill %s%s, finished at %s: more than spec.verification.maxAge (%s) ago; run DRDrill %s (annotate it with ops.supportstack.io/run-now)",
				last.DrillRun, last.Drill, set, last.Time.UTC().Format(time.RFC3339), maxAge, strings.Join(drills, ", ")), 0
	}
	return metav1.ConditionTrue, opsv1alpha1.ReasonRestoreVerified,
		fmt.Sprintf("drill run %s of DRDrill %s passed at %s%s; verified until %s (maxAge %s)",
			last.DrillRun, last.Drill, last.Time.UTC().Format(time.RFC3339), set, expires.UTC().Format(time.RFC3339), maxAge),
		expires.Sub(now) + time.Second
}

// policyOfDrill maps a DRDrill or DRDrillRun to the BackupPolicy it restores.
func policyOfDrill(_ context.Context, o client.Object) []reconcile.Request {
	name := ""
	switch d := o.(type) {
	case *opsv1alpha1.DRDrill:
		name = d.Spec.BackupPolicyName
	case *opsv1alpha1.DRDrillRun:
		name = d.Spec.BackupPolicyName
	}
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
}
