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
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/podhealth"
	"github.com/supportstack/operator/internal/resources"
)

// startRestore creates the restore Job once the sandbox is ready and moves
// the run to Restoring.
func (r *DRDrillRunReconciler) startRestore(ctx context.Context, s *drillRunScope) error {
	run, policy, plan, now := s.run, s.policy, s.plan, s.now
	job := resources.DrillJob(run, policy, r.AgentImage, plan.Restore, int64(r.Timeouts.Restoring.Seconds()), plan.HasVolumes, resources.WithAgentCache(r.AgentCacheBytes))
	if err := r.createOnce(ctx, job); err != nil {
		return err
	}
	run.Status.Timings = &opsv1alpha1.PhaseTimings{Provision: &metav1.Duration{Duration: now.Sub(run.Status.StartTime.Time)}}
	r.enterPhase(run, opsv1alpha1.DrillRunRestoring, now, fmt.Sprintf("restoring snapshot %s of BackupPolicy %s", plan.Restore.Snapshot, policy.Name))
	return nil
}

// readDrillJob reads the sandbox Job of an operation: its result once it
// finished; done is false while it runs. A vanished sandbox or Job ends the
// run in Error (message set).
func (r *DRDrillRunReconciler) readDrillJob(ctx context.Context, run *opsv1alpha1.DRDrillRun, operation string, now time.Time) (res agentapi.DrillResult, done bool, next time.Duration, err error) {
	if msg, err := r.sandboxGone(ctx, run); err != nil || msg != "" {
		if msg != "" {
			r.endRun(run, opsv1alpha1.DrillRunError, now, msg)
		}
		return res, false, 0, err
	}
	key := types.NamespacedName{Namespace: run.Status.SandboxNamespace, Name: operation}
	job := &batchv1.Job{}
	if err := r.Get(ctx, key, job); apierrors.IsNotFound(err) {
		// The cache may not have seen a Job created a moment ago.
		if err := r.APIReader.Get(ctx, key, job); apierrors.IsNotFound(err) {
			r.endRun(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("the %s Job in %s was deleted before it finished", operation, key.Namespace))
			return res, false, 0, nil
		} else if err != nil {
			return res, false, 0, err
		}
		return res, false, 2 * time.Second, nil
	} else if err != nil {
		return res, false, 0, err
	}
	if !job.DeletionTimestamp.IsZero() && finishedCondition(job) == nil {
		r.endRun(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("the %s Job in %s was deleted before it finished", operation, key.Namespace))
		return res, false, 0, nil
	}
	message, cond, state, err := readJob(ctx, r.Client, job)
	switch {
	case err != nil:
		return res, false, 0, err
	case state == jobRunning:
		problem, err := diagnoseJobPods(ctx, r.Client, r.APIReader, job)
		if err != nil || problem == nil {
			return res, false, 0, err
		}
		return res, false, r.reportStuck(run, now, fmt.Sprintf("the %s Job", operation), problem), nil
	case state == jobResultPending:
		return res, false, resultRecheck, nil
	}
	res, err = agentapi.DecodeDrillResult([]byte(message))
	switch {
	case err == nil && res.Operation == operation:
	case cond.Type == batchv1.JobComplete:
		res = agentapi.DrillResult{Error: fmt.Sprintf("the %s Job completed but the agent left no result", operation)}
	default:
		// What is not an agent result is not copied: it could be anything
		// the pod wrote, row values included.
		res = agentapi.DrillResult{Error: fmt.Sprintf("the %s Job failed: %s: %s", operation, cond.Reason, cond.Message)}
		if message != "" {
			res.Error += fmt.Sprintf(" (its termination message is not an agent result and is not shown: %d bytes; the pod log has the agent's output)", len(message))
		}
	}
	return res, true, 0, nil
}

// reconcileRestoring waits for the restore Job and starts the verify Job.
func (r *DRDrillRunReconciler) reconcileRestoring(ctx context.Context, s *drillRunScope) (time.Duration, error) {
	run, policy, plan, now := s.run, s.policy, s.plan, s.now
	res, done, next, err := r.readDrillJob(ctx, run, agentapi.OperationRestore, now)
	if err != nil || !done {
		return next, err
	}
	if res.Error != "" {
		r.endRun(run, opsv1alpha1.DrillRunError, now, "restore: "+res.Error)
		return 0, nil
	}
	if n := res.RestoredOmitted; n > 0 {
		r.endRun(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("restore: the restore Job's report names %d of the %d restored snapshots (a termination message holds 4 KiB, about 40 databases with short names): the checks cannot be planned without them; split the BackupPolicy's databases across policies or drills with fewer databases",
			len(res.Restored), len(res.Restored)+n))
		return 0, nil
	}
	if !recordableRestore(res) {
		// The restore pod holds the restored rows: what it reports goes
		// into status, evidence and the verify pod's restic arguments only
		// if it has the shape of a set name and snapshot ids.
		r.endRun(run, opsv1alpha1.DrillRunError, now, "restore: the restore Job's report names a recovery set or snapshot id that is not one; it is not recorded")
		return 0, nil
	}
	if policy == nil {
		r.endRun(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("BackupPolicy %s was deleted during the restore", run.Spec.BackupPolicyName))
		return 0, nil
	}
	var checks agentapi.VerifyConfig
	err = s.planErr
	if err == nil {
		checks, err = plan.VerifyChecks(res.Restored)
	}
	if err != nil {
		r.endRun(run, opsv1alpha1.DrillRunError, now, "planning the verification: "+err.Error())
		return 0, nil
	}
	run.Status.Snapshot = snapshotRef(res.Restored)
	run.Status.Snapshot.RecoverySet = res.RecoverySet
	if t := run.Status.Snapshot.Time; t != nil {
		run.Status.MeasuredRPO = rpoSince(run, t.Time)
	}
	timings := ensureTimings(run)
	timings.Restore = &metav1.Duration{Duration: res.End.Sub(res.Start)}
	timings.RestorePhases = restorePhases(res.Phases)
	verify := agentapi.VerifyJob{Checks: checks, MarkVerified: &agentapi.MarkVerified{Policy: plan.Restore.Policy, RecoverySet: res.RecoverySet}}
	if res.RecoverySet == "" {
		for _, x := range res.Restored {
			verify.MarkVerified.Snapshots = append(verify.MarkVerified.Snapshots, x.ID)
		}
	}
	job := resources.DrillJob(run, policy, r.AgentImage, verify, int64(r.Timeouts.Verifying.Seconds()), plan.HasVolumes,
		resources.WithAgentCache(r.AgentCacheBytes), resources.WithRTImage(r.RTImage))
	if err := r.createOnce(ctx, job); err != nil {
		return 0, err
	}
	r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonRestored, "Restore", "restored snapshot %s in %s", run.Status.Snapshot.ID, timings.Restore.Duration)
	r.enterPhase(run, opsv1alpha1.DrillRunVerifying, now, fmt.Sprintf("running %d checks on the restored copy", len(checks)))
	return 0, nil
}

// recordableResult is the filter a check's result passes before it is
// recorded, nil for kinds recorded as reported. An SQL check's result holds
// numbers and the agent's fixed words only, a referencedFiles check's
// counts only (never a path), a requestTracker check's counts, ids, a time
// and RT's version; anything else (a row value from a
// compromised or old verify pod) fails the check and is not recorded.
func recordableResult(c opsv1alpha1.DrillCheck) func(agentapi.CheckResult) (agentapi.CheckResult, bool) {
	switch {
	case c.SQL != "":
		return agentapi.RecordableSQLCheck
	case c.ReferencedFiles != nil:
		return agentapi.RecordableReferencedFilesCheck
	case c.RequestTracker != nil:
		return agentapi.RecordableRequestTrackerCheck
	}
	return nil
}

// reconcileVerifying waits for the verify Job and decides the run.
func (r *DRDrillRunReconciler) reconcileVerifying(ctx context.Context, s *drillRunScope) (time.Duration, error) {
	run, now := s.run, s.now
	res, done, next, err := r.readDrillJob(ctx, run, agentapi.OperationVerify, now)
	if err != nil || !done {
		return next, err
	}
	if res.Error != "" {
		r.endRun(run, opsv1alpha1.DrillRunError, now, "verify: "+res.Error)
		return 0, nil
	}
	failed, unknown := recordChecks(run, res.Checks)
	timings := ensureTimings(run)
	timings.Verify = &metav1.Duration{Duration: res.End.Sub(res.Start)}
	rto := res.End.Sub(run.Status.StartTime.Time)
	timings.Total = &metav1.Duration{Duration: rto}
	run.Status.MeasuredRTO = &metav1.Duration{Duration: rto.Truncate(time.Second)}
	var missed []string
	if o := run.Spec.Objectives; o != nil {
		if o.RTO != nil && rto > o.RTO.Duration {
			missed = append(missed, fmt.Sprintf("RTO %s over the objective of %s", rto.Truncate(time.Second), o.RTO.Duration))
		}
		if o.RPO != nil && run.Status.MeasuredRPO != nil && run.Status.MeasuredRPO.Duration > o.RPO.Duration {
			missed = append(missed, fmt.Sprintf("RPO %s over the objective of %s", run.Status.MeasuredRPO.Duration, o.RPO.Duration))
		}
	}
	met := len(missed) == 0
	run.Status.ObjectivesMet = &met
	var problems []string
	if len(failed) > 0 {
		problems = append(problems, fmt.Sprintf("checks failed: %s", strings.Join(failed, ", ")))
	} else if !res.AllPassed {
		problems = append(problems, "the verify Job did not report every check passed")
	}
	if unknown > 0 {
		problems = append(problems, fmt.Sprintf("the verify Job reported %d checks the procedure does not have; they were not recorded", unknown))
	}
	problems = append(problems, missed...)
	// Checks the termination message could not hold are not in status or
	// evidence: say so rather than let the list look complete.
	omitted := ""
	if res.ChecksOmitted > 0 {
		omitted = fmt.Sprintf(" (%d checks left out of the verify Job's report for its 4 KiB limit; its pod log has them)", res.ChecksOmitted)
	}
	if len(problems) > 0 {
		r.endRun(run, opsv1alpha1.DrillRunFailed, now, strings.Join(problems, "; ")+omitted)
		return 0, nil
	}
	r.endRun(run, opsv1alpha1.DrillRunPassed, now, fmt.Sprintf("%d checks passed%s; RTO %s, RPO %s; %s",
		len(res.Checks)+res.ChecksOmitted, omitted, run.Status.MeasuredRTO.Duration, durationOrNone(run.Status.MeasuredRPO), verifiedTagNote(run, res)))
	return 0, nil
}

// recordChecks records the verify Job's results in the run's checks, each
// through its kind's filter (recordableResult); a requestTracker check's
// findings may lengthen the RPO (measureRPOFromTickets). It returns the
// failed checks' names and how many results name no check of the
// procedure (not recorded).
func recordChecks(run *opsv1alpha1.DRDrillRun, results []agentapi.CheckResult) (failed []string, unknown int) {
	run.Status.Checks = nil
	recordable := map[string]func(agentapi.CheckResult) (agentapi.CheckResult, bool){}
	rtChecks := map[string]bool{}
	for _, c := range run.Spec.Checks {
		recordable[c.Name] = recordableResult(c)
		rtChecks[c.Name] = c.RequestTracker != nil
	}
	for _, c := range results {
		keep, known := recordable[c.Name]
		if !known {
			unknown++ // a name the procedure does not have is not recorded either
			continue
		}
		if keep != nil {
			c, _ = keep(c)
		}
		run.Status.Checks = append(run.Status.Checks, opsv1alpha1.CheckResult{Name: c.Name, Passed: c.Passed, Expected: c.Expected, Observed: c.Observed, Message: c.Message})
		if !c.Passed {
			failed = append(failed, c.Name)
		}
		if rtChecks[c.Name] {
			measureRPOFromTickets(run, c)
		}
	}
	return failed, unknown
}

// measureRPOFromTickets measures the run's RPO from what a recorded
// requestTracker check read through the restored RT, where that shows the
// restored help desk reaching less far than the snapshot's time: its
// latest ticket update, when it is not the one the backup recorded at its
// dump. The RPO never gets shorter than the snapshot's age: the restored
// data cannot vouch for more than the backup claims.
func measureRPOFromTickets(run *opsv1alpha1.DRDrillRun, c agentapi.CheckResult) {
	rp, ok := agentapi.RTRecoveryPoint(c)
	snap := run.Status.Snapshot
	if !ok || snap == nil || snap.Time == nil || run.Status.StartTime == nil || !rp.Before(snap.Time.Time) {
		return
	}
	if rpo := rpoSince(run, rp); run.Status.MeasuredRPO == nil || rpo.Duration > run.Status.MeasuredRPO.Duration {
		run.Status.MeasuredRPO = rpo
	}
}

// rpoSince is the run's RPO for a recovery point: its start minus the
// point, in whole seconds.
func rpoSince(run *opsv1alpha1.DRDrillRun, point time.Time) *metav1.Duration {
	return &metav1.Duration{Duration: run.Status.StartTime.Sub(point).Truncate(time.Second)}
}

// recordableRestore reports whether a restore result's set name and
// snapshot ids have their shapes.
func recordableRestore(res agentapi.DrillResult) bool {
	if res.RecoverySet != "" && !agentapi.ValidRecoverySet(res.RecoverySet) {
		return false
	}
	for _, x := range res.Restored {
		if !agentapi.ValidSnapshotID(x.ID) {
			return false
		}
	}
	return true
}

// verifiedTagNote says in the operator's words whether the verify Job
// tagged the restored set verified (the agent reports a count and a fixed
// word, never text).
func verifiedTagNote(run *opsv1alpha1.DRDrillRun, res agentapi.DrillResult) string {
	set := "the restored snapshots"
	if s := run.Status.Snapshot; s != nil && s.RecoverySet != "" {
		set = "recovery set " + s.RecoverySet
	}
	switch res.TagFailure {
	case "":
		if res.Tagged > 0 {
			return fmt.Sprintf("%s tagged verified (%d snapshots)", set, res.Tagged)
		}
		return set + " not tagged verified (the verify Job reported no tag)"
	case agentapi.TagFailureLocked:
		return set + " not tagged verified: the repository stayed locked by another run (prune may forget the set)"
	case agentapi.TagFailureGone:
		return set + " not tagged verified: none of its snapshots is left in the repository"
	default:
		return set + " not tagged verified: restic tag failed (the verify pod's log says why)"
	}
}

// snapshotRef names the restored snapshots; their time is the oldest one's
// (the recovery point of the whole restore).
func snapshotRef(restored []agentapi.Restored) *opsv1alpha1.SnapshotRef {
	ref := &opsv1alpha1.SnapshotRef{}
	ids, digests := make([]string, 0, len(restored)), make([]string, 0, len(restored))
	for _, x := range restored {
		ids = append(ids, x.ID)
		digests = append(digests, x.ManifestSHA256)
		if ref.Time == nil || x.Time.Before(ref.Time.Time) {
			ref.Time = &metav1.Time{Time: x.Time}
		}
	}
	ref.ID, ref.ManifestSHA256 = strings.Join(ids, ","), strings.Join(digests, ",")
	return ref
}

// restorePhases turns the agent's phases into status (nil for an agent
// that does not report them).
func restorePhases(p *agentapi.RestorePhases) *opsv1alpha1.RestorePhases {
	if p == nil {
		return nil
	}
	seconds := func(s float64) metav1.Duration {
		// Bounded: a week is more than any Job's deadline, and the
		// conversion must not overflow.
		return metav1.Duration{Duration: time.Duration(min(max(s, 0), 7*24*3600) * float64(time.Second)).Round(time.Millisecond)}
	}
	out := &opsv1alpha1.RestorePhases{Method: opsv1alpha1.RestorePiped, Jobs: int32(max(1, min(p.Jobs, 64))),
		Fetch: seconds(p.Fetch), Load: seconds(p.Load), Indexes: seconds(p.Indexes)}
	if p.Method == agentapi.RestoreParallel {
		out.Method = opsv1alpha1.RestoreParallel
	}
	return out
}

func ensureTimings(run *opsv1alpha1.DRDrillRun) *opsv1alpha1.PhaseTimings {
	if run.Status.Timings == nil {
		run.Status.Timings = &opsv1alpha1.PhaseTimings{}
	}
	return run.Status.Timings
}

func durationOrNone(d *metav1.Duration) string {
	if d == nil {
		return "not measured"
	}
	return d.Duration.String()
}

// reportStuck says in the run's message which pod cannot make progress and
// why, with an event when that changes, and ends the run in Error once the
// pod has been stuck for Timeouts.StuckPod. It returns when to look again.
// Stuck time is real time: the scheduler and the kubelet stamp it.
func (r *DRDrillRunReconciler) reportStuck(run *opsv1alpha1.DRDrillRun, now time.Time, what string, p *podhealth.Problem) time.Duration {
	stuckFor := time.Since(p.Since)
	if stuckFor >= r.Timeouts.StuckPod {
		r.endRun(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("%s: %s (stuck for %s)", what, p, stuckFor.Truncate(time.Second)))
		return 0
	}
	msg := fmt.Sprintf("%s: %s; the run ends in Error if this lasts %s", what, p, r.Timeouts.StuckPod)
	if run.Status.Message != msg {
		r.Recorder.Eventf(run, nil, corev1.EventTypeWarning, p.Reason, string(run.Status.Phase), "%s", msg)
	}
	run.Status.Message = msg
	return r.Timeouts.StuckPod - stuckFor + time.Second
}
