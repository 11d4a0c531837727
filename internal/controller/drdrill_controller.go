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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/evidence"
	"github.com/supportstack/operator/internal/figures"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/schedule"
)

// Annotations of drills and runs.
const (
	// AnnotationRunNow on a DRDrill starts one run per new value.
	AnnotationRunNow = "ops.supportstack.io/run-now"
	// AnnotationTrigger on a run says what started it: schedule or run-now.
	AnnotationTrigger = "ops.supportstack.io/trigger"
	// AnnotationScheduledAt on a scheduled run is the schedule time it is for.
	AnnotationScheduledAt = "ops.supportstack.io/scheduled-at"
)

// DRDrillReconciler starts a drill's runs on its schedule and on demand,
// one at a time, keeps its history bounded and summarises the newest
// finished run in status.
type DRDrillReconciler struct {
	client.Client
	APIReader client.Reader
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
}

// +kubebuilder:rbac:groups=ops.supportstack.io,resources=drdrills,verbs=get;list;watch
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=drdrills/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=drdrillruns,verbs=get;list;watch;create;delete

// Reconcile brings one drill's runs and status in line.
func (r *DRDrillReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	drill := &opsv1alpha1.DRDrill{}
	if err := r.Get(ctx, req.NamespacedName, drill); err != nil {
		if apierrors.IsNotFound(err) {
			forgetDrill(req.Namespace, req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	before := drill.DeepCopy()
	defer func() {
		if errors.Is(reterr, errDrillGone) {
			forgetDrill(req.Namespace, req.Name)
			reterr = nil
			return
		}
		exportNextSchedule(drill)
		exportObjectives(drill)
		reterr = errors.Join(reterr, patchStatus(ctx, r.Client, before, drill, before.Status, drill.Status))
	}()
	now := r.Clock.Now()

	var runs opsv1alpha1.DRDrillRunList
	if err := r.List(ctx, &runs, client.InNamespace(drill.Namespace), client.MatchingLabels{resources.LabelDrill: drill.Name}); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.forgetDeletedRuns(ctx, drill, before, runs.Items); err != nil {
		return ctrl.Result{}, err
	}
	active, finished := drillRuns(drill, runs.Items)
	r.summarise(drill, before, finished)
	if h := drill.Status.EvidenceHead; h != nil {
		drillEvidenceSequence.WithLabelValues(drill.Namespace, drill.Name).Set(float64(h.Sequence))
	}
	if err := r.pruneHistory(ctx, drill, finished); err != nil {
		return ctrl.Result{}, err
	}

	problem, err := r.validate(ctx, drill)
	if err != nil {
		return ctrl.Result{}, err
	}
	if problem != "" {
		setCondition(drill, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonInvalidSpec, problem)
		drill.Status.ActiveRun = nameOf(active)
		requeue, err := r.scheduleBlocked(ctx, drill, before, now, "the drill is invalid: "+shorten(problem, 300))
		return ctrl.Result{RequeueAfter: requeue}, err
	}
	drill.Status.ObservedGeneration = drill.Generation
	if full := createdRunsFull(drill, runs.Items); full != "" {
		// A new run could not be acknowledged (and would be refused):
		// none is started, and the drill says why.
		if c := meta.FindStatusCondition(before.Status.Conditions, opsv1alpha1.ConditionReady); c == nil || c.Reason != opsv1alpha1.ReasonCreatedRunsFull {
			r.Recorder.Eventf(drill, nil, corev1.EventTypeWarning, opsv1alpha1.ReasonCreatedRunsFull, "CreateRun", "%s", full)
		}
		setCondition(drill, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonCreatedRunsFull, full)
		drill.Status.ActiveRun = nameOf(active)
		requeue, err := r.scheduleBlocked(ctx, drill, before, now, "status.createdRuns is full, so the drill could start no run (its Ready condition says which runs to delete)")
		return ctrl.Result{RequeueAfter: requeue}, err
	}

	// On demand: one run per new token, once no run is active.
	if token := drill.Annotations[AnnotationRunNow]; token != "" && token != drill.Status.LastRunNowToken && active == nil {
		run, err := r.createRun(ctx, drill, before, RunNowRunName(drill, token), runNowTrigger(drill, token))
		if err != nil {
			return ctrl.Result{}, err
		}
		drill.Status.LastRunNowToken, active = token, run
	}

	requeue, active, err := r.schedule(ctx, drill, before, active, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	drill.Status.ActiveRun = nameOf(active)
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// drillRuns sorts the runs this drill's controller created into the active
// one and the finished ones. Any other run is never active, summarised or
// pruned (its own reconciler ends it in Error).
func drillRuns(drill *opsv1alpha1.DRDrill, runs []opsv1alpha1.DRDrillRun) (active *opsv1alpha1.DRDrillRun, finished []*opsv1alpha1.DRDrillRun) {
	for i := range runs {
		run := &runs[i]
		switch {
		case !metav1.IsControlledBy(run, drill) || !createdBy(drill, run):
		case run.Status.Phase.IsFinal():
			finished = append(finished, run)
		case run.DeletionTimestamp.IsZero():
			active = run
		}
	}
	return active, finished
}

// schedule starts the run due on the drill's schedule, unless one is
// active (it waits, like a CronJob with concurrencyPolicy Forbid) or the
// starting deadline has passed (it is skipped). Every schedule time that
// passes without a run is recorded as missed (recordMissed): those a newer
// time superseded (the operator was down, the drill suspended or invalid,
// a run still active), the newest when past its deadline, and one whose run
// name another run holds. It returns when to look again and the active run.
func (r *DRDrillReconciler) schedule(ctx context.Context, drill, before *opsv1alpha1.DRDrill, active *opsv1alpha1.DRDrillRun, now time.Time) (time.Duration, *opsv1alpha1.DRDrillRun, error) {
	if drill.Spec.Suspend {
		drill.Status.NextScheduleTime = nil
		setCondition(drill, opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonSuspended, "suspended: no scheduled runs; run-now still starts one")
		return 0, active, nil
	}
	due, next, err := r.dueTimes(ctx, drill, before, now)
	if err != nil {
		return 0, active, err
	}
	missed, runAt := due, time.Time{}
	why := "a newer schedule time came due before they could start (the operator was not running, the drill was suspended or invalid, or a run was still active)"
	if n := len(due); n > 0 && !next.IsZero() {
		newest := due[n-1]
		switch late := now.Sub(newest); {
		case drill.Spec.StartingDeadlineSeconds != nil && late > time.Duration(*drill.Spec.StartingDeadlineSeconds)*time.Second:
			why = fmt.Sprintf("the newest, due at %s, was %s late, past the starting deadline of %ds, and any earlier one was superseded by a newer time",
				newest.UTC().Format(time.RFC3339), late.Truncate(time.Second), *drill.Spec.StartingDeadlineSeconds)
		case active != nil:
			// Like a CronJob with concurrencyPolicy Forbid: the due run
			// waits for the active one (the run watch brings us back).
			logf.FromContext(ctx).V(1).Info("scheduled run waits for the active run", "drill", klog.KObj(drill), "active", active.Name)
			missed = due[:n-1]
		default:
			missed, runAt = due[:n-1], newest
		}
	}
	if err := r.recordMissed(ctx, drill, before, missed, why); err != nil {
		return 0, active, err
	}
	if !runAt.IsZero() {
		trigger := &opsv1alpha1.RunTrigger{Kind: opsv1alpha1.RunTriggerSchedule, ScheduledTime: &metav1.Time{Time: runAt.UTC()}}
		run, err := r.createRun(ctx, drill, before, ScheduledRunName(drill, runAt), trigger)
		if err != nil {
			return 0, active, err
		}
		if !createdBy(drill, run) {
			// Another run holds the name: this schedule time has no run.
			if err := r.recordMissed(ctx, drill, before, []time.Time{runAt}, "a run the operator did not create holds the name of the run due then"); err != nil {
				return 0, active, err
			}
		} else {
			active = run
		}
	}
	setCondition(drill, opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonReconciled,
		fmt.Sprintf("runs on %q in %s against BackupPolicy %s", drill.Spec.Schedule, drill.Spec.TimeZone, drill.Spec.BackupPolicyName))
	if next.IsZero() {
		// The walk stopped at maxScheduleWalk with more times due; the ones
		// walked are recorded: walk on from there at once.
		return time.Millisecond, active, nil
	}
	drill.Status.NextScheduleTime = &metav1.Time{Time: next}
	return next.Sub(now) + time.Second, active, nil
}

// scheduleBlocked keeps the schedule of a drill that cannot start runs
// (invalid, e.g. its BackupPolicy renamed or deleted, or status.createdRuns
// full) from going silent. Each schedule time that passes is recorded as
// missed when it passes (recordMissed, why saying why), not only once the
// drill is fixed; and status.nextScheduleTime, exported as
// supportstack_drill_next_schedule_timestamp_seconds, shows the oldest
// time still owed (blockedNextSchedule), which falls into the past, so
// SupportStackDrillNotScheduled fires an hour after it and keeps firing
// until a run carries the missed times. Once fixed, the walk starts after
// the newest time recorded here (lastScheduleTime): none is counted twice.
// A suspended drill owes no runs: no next time, no series. Between
// schedule times nothing is written. It returns when to look again.
func (r *DRDrillReconciler) scheduleBlocked(ctx context.Context, drill, before *opsv1alpha1.DRDrill, now time.Time, why string) (time.Duration, error) {
	if drill.Spec.Suspend {
		drill.Status.NextScheduleTime = nil
		return secretRecheck, nil
	}
	due, next, err := r.dueTimes(ctx, drill, before, now)
	if err != nil {
		return 0, err
	}
	if err := r.recordMissed(ctx, drill, before, due, why); err != nil {
		return 0, err
	}
	drill.Status.NextScheduleTime = &metav1.Time{Time: blockedNextSchedule(drill.Status.MissedSchedules, next)}
	if next.IsZero() {
		// More times are due than one walk takes: walk on at once.
		return time.Millisecond, nil
	}
	return min(secretRecheck, next.Sub(now)+time.Second), nil
}

// blockedNextSchedule is the next schedule time a drill that cannot start
// runs shows: the oldest time still owed, that is the oldest in
// status.missedSchedules (passed without a run, and no run has carried it
// yet), else next, the first after the newest acted on (zero when the walk
// stopped with more due: then missed holds those). It is read from what
// the drill's status records in one write (the missed times and
// lastScheduleTime), never from the time shown before, so a reconcile on a
// stale cache cannot move it on.
func blockedNextSchedule(missed []metav1.Time, next time.Time) time.Time {
	owed := next
	for _, t := range missed {
		if owed.IsZero() || t.Time.Before(owed) {
			owed = t.Time
		}
	}
	return owed
}

// shorten cuts s to at most n bytes (on a rune boundary), marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}

// dueTimes walks the schedule times after the newest one acted on
// (lastScheduleTime, or the drill's creation) up to now (see
// scheduleTimes). When any is due it walks again from the API server's
// status: the cache may not show times acted on a moment ago, and each
// must be run or recorded as missed exactly once.
func (r *DRDrillReconciler) dueTimes(ctx context.Context, drill, before *opsv1alpha1.DRDrill, now time.Time) ([]time.Time, time.Time, error) {
	walk := func() ([]time.Time, time.Time, error) {
		since := drill.CreationTimestamp.Time
		if t := drill.Status.LastScheduleTime; t != nil && t.After(since) {
			since = t.Time
		}
		return scheduleTimes(string(drill.Spec.Schedule), string(drill.Spec.TimeZone), since, now, maxScheduleWalk)
	}
	due, next, err := walk()
	if err != nil || len(due) == 0 {
		return due, next, err
	}
	if err := r.refreshCreatedRuns(ctx, drill, before); err != nil {
		return nil, time.Time{}, err
	}
	return walk()
}

// maxMissedSchedules is status.missedSchedules' (and a run's
// spec.missedSchedules') MaxItems.
const maxMissedSchedules = 32

// recordMissed adds schedule times that passed without a run to the
// drill's status.missedSchedules on the API server (optimistic
// concurrency, never from a stale cache), only those after its
// lastScheduleTime, which moves to the newest: each is recorded, counted
// in supportstack_drill_missed_schedules_total and named in a
// MissedSchedule event once, whatever reconcile sees it again. why says
// why they did not run.
func (r *DRDrillReconciler) recordMissed(ctx context.Context, drill, before *opsv1alpha1.DRDrill, missed []time.Time, why string) error {
	if len(missed) == 0 {
		return nil
	}
	var added []time.Time
	written, err := r.updateAcknowledged(ctx, drill, before, func(st *opsv1alpha1.DRDrillStatus) { added = addMissed(st, missed) })
	if err != nil {
		return fmt.Errorf("recording missed schedule times in the drill's status: %w", err)
	}
	if len(added) == 0 {
		return nil
	}
	drillMissedSchedules.WithLabelValues(drill.Namespace, drill.Name).Add(float64(len(added)))
	span := added[0].UTC().Format(time.RFC3339)
	if n := len(added); n > 1 {
		span = fmt.Sprintf("from %s to %s", span, added[n-1].UTC().Format(time.RFC3339))
	}
	// The event names the drill as written just now: the recorder folds
	// events about the same object version (same reason and action) into
	// one series that keeps the first note, and drill is the cache's copy,
	// whose version may not have moved since the last walk's event.
	regarding := drill.DeepCopy()
	regarding.ResourceVersion = written
	r.Recorder.Eventf(regarding, nil, corev1.EventTypeWarning, opsv1alpha1.ReasonMissedSchedule, "Schedule",
		"%d scheduled run(s) did not start (due %s): %s; recorded in status.missedSchedules, the next run's evidence carries them", len(added), span, why)
	return nil
}

// addMissed appends to st the times of missed (oldest first) after its
// lastScheduleTime, moving lastScheduleTime to each; beyond
// maxMissedSchedules the oldest listed are counted in
// missedSchedulesDropped instead. It returns the times added.
func addMissed(st *opsv1alpha1.DRDrillStatus, missed []time.Time) []time.Time {
	var added []time.Time
	for _, t := range missed {
		if st.LastScheduleTime != nil && !t.After(st.LastScheduleTime.Time) {
			continue
		}
		st.MissedSchedules = append(st.MissedSchedules, metav1.Time{Time: t.UTC()})
		st.LastScheduleTime = &metav1.Time{Time: t.UTC()}
		added = append(added, t)
	}
	if over := len(st.MissedSchedules) - maxMissedSchedules; over > 0 {
		st.MissedSchedulesDropped += int64(over)
		st.MissedSchedules = append([]metav1.Time(nil), st.MissedSchedules[over:]...)
	}
	return added
}

// acknowledge lists run in st.createdRuns and, in the same write, takes
// from st the missed schedule times the run carries (its evidence will
// record them) and moves lastScheduleTime to a scheduled run's time. The
// operator stopping before this write leaves both as they were: the run,
// found again under its deterministic name with the same missed times
// (sameRun), is acknowledged then, so they are recorded neither twice nor
// never.
func acknowledge(st *opsv1alpha1.DRDrillStatus, run *opsv1alpha1.DRDrillRun) {
	st.CreatedRuns = append(st.CreatedRuns, opsv1alpha1.CreatedRun{Name: run.Name, UID: run.UID})
	carried := map[int64]bool{}
	for _, t := range run.Spec.MissedSchedules {
		carried[t.Unix()] = true
	}
	var kept []metav1.Time
	for _, t := range st.MissedSchedules {
		if !carried[t.Unix()] {
			kept = append(kept, t)
		}
	}
	st.MissedSchedules = kept
	st.MissedSchedulesDropped = max(0, st.MissedSchedulesDropped-run.Spec.MissedSchedulesDropped)
	if t := run.Spec.Trigger; t != nil && t.Kind == opsv1alpha1.RunTriggerSchedule && t.ScheduledTime != nil &&
		(st.LastScheduleTime == nil || t.ScheduledTime.After(st.LastScheduleTime.Time)) {
		st.LastScheduleTime = t.ScheduledTime.DeepCopy()
	}
}

// RunNowRunName is the name of the run a run-now token starts: the
// drill's name and a digest of the token.
func RunNowRunName(drill *opsv1alpha1.DRDrill, token string) string {
	sum := sha256.Sum256([]byte(token))
	return truncateName(drill.Name, 42) + "-now-" + hex.EncodeToString(sum[:4])
}

// ScheduledRunName is the name of the run due at the schedule time at:
// the drill's name and the minute since the epoch.
func ScheduledRunName(drill *opsv1alpha1.DRDrill, at time.Time) string {
	return fmt.Sprintf("%s-%d", truncateName(drill.Name, 47), at.Unix()/60)
}

// maxCreatedRuns is status.createdRuns' MaxItems.
const maxCreatedRuns = 512

// createdRunsFull says why the drill can start no run ("" when it can):
// status.createdRuns is full, so the API server would refuse a new run's
// acknowledgement and the run would end in Error unacknowledged. Runs
// finished without recorded evidence are never pruned; they are named.
func createdRunsFull(drill *opsv1alpha1.DRDrill, listed []opsv1alpha1.DRDrillRun) string {
	if len(drill.Status.CreatedRuns) < maxCreatedRuns {
		return ""
	}
	var unrecorded []string
	for i := range listed {
		run := &listed[i]
		if createdBy(drill, run) && run.Status.Phase.IsFinal() && run.Status.Evidence == nil {
			unrecorded = append(unrecorded, run.Name)
		}
	}
	sort.Strings(unrecorded)
	msg := fmt.Sprintf("status.createdRuns lists %d runs, as many as it may: no run is started until runs of this drill are deleted", len(drill.Status.CreatedRuns))
	if n := len(unrecorded); n > 0 {
		msg += fmt.Sprintf("; %d finished without recorded evidence and are kept for it (%s%s): fix what their EvidenceRecorded condition names, or delete those whose evidence you do not need",
			n, strings.Join(unrecorded[:min(n, 3)], ", "), map[bool]string{true: ", ...", false: ""}[n > 3])
	}
	return msg
}

func nameOf(run *opsv1alpha1.DRDrillRun) string {
	if run == nil {
		return ""
	}
	return run.Name
}

func truncateName(name string, n int) string {
	if len(name) > n {
		name = name[:n]
	}
	return strings.TrimRight(name, "-.")
}

// maxScheduleWalk bounds the schedule times one reconcile walks: a drill
// unattended for longer (a minutely schedule for a year) has its missed
// times walked and recorded 1000 at a time over successive reconciles, so
// every one is still counted.
const maxScheduleWalk = 1000

// scheduleTimes are the schedule times after since and not after now,
// oldest first, and next, the first after now. The walk stops after limit
// times: then next is zero and more are due after the last returned.
func scheduleTimes(spec, zone string, since, now time.Time, limit int) (due []time.Time, next time.Time, err error) {
	t := since
	for len(due) < limit {
		n, err := schedule.Next(spec, zone, t)
		if err != nil {
			return nil, time.Time{}, err
		}
		if n.After(now) {
			return due, n, nil
		}
		due, t = append(due, n), n
	}
	if n, err := schedule.Next(spec, zone, t); err != nil || n.After(now) {
		// Exactly limit were due: the walk is complete.
		return due, n, err
	}
	return due, time.Time{}, nil
}

// validate checks what CEL cannot: the BackupPolicy exists and suits the
// checks, and the signing key is there.
func (r *DRDrillReconciler) validate(ctx context.Context, drill *opsv1alpha1.DRDrill) (string, error) {
	policy := &opsv1alpha1.BackupPolicy{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: drill.Namespace, Name: drill.Spec.BackupPolicyName}, policy); apierrors.IsNotFound(err) {
		return fmt.Sprintf("backupPolicyName: BackupPolicy %s not found in %s", drill.Spec.BackupPolicyName, drill.Namespace), nil
	} else if err != nil {
		return "", err
	}
	var problems []string
	if _, err := resources.PlanDrill(drill.Spec.DrillProcedure, policy); err != nil {
		problems = append(problems, err.Error())
	}
	if _, err := signingKey(ctx, r.APIReader, drill.Namespace, drill.Spec.Evidence); isUserError(err) {
		problems = append(problems, err.Error())
	} else if err != nil {
		return "", err
	}
	return strings.Join(problems, "; "), nil
}

// createRun creates a run carrying a copy of the drill's procedure, what
// triggered it and the missed schedule times the drill's status holds (read
// from the API server), and acknowledges it at once in the drill's status
// (name and UID in status.createdRuns, see acknowledge): the run's
// reconciler carries out only runs listed there. A run of that name
// existing already is the run
// if the drill acknowledged it (created before a restart), or if it is
// exactly the run the drill would create now (the operator stopped between
// creating and acknowledging it: see sameRun), which is acknowledged now;
// anything else under the name the operator would choose is not
// acknowledged, so it ends in Error without a sandbox.
func (r *DRDrillReconciler) createRun(ctx context.Context, drill, before *opsv1alpha1.DRDrill, name string, trigger *opsv1alpha1.RunTrigger) (*opsv1alpha1.DRDrillRun, error) {
	// The cached drill may still list missed times a run acknowledged a
	// moment ago carries: a new run must not carry them again.
	if err := r.refreshCreatedRuns(ctx, drill, before); err != nil {
		return nil, err
	}
	run, err := newRun(drill, name, trigger, r.Scheme())
	if err != nil {
		return nil, err
	}
	note := "created run %s (%s)"
	if err := r.Create(ctx, run); apierrors.IsAlreadyExists(err) {
		existing := &opsv1alpha1.DRDrillRun{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(run), existing); err != nil {
			return nil, err
		}
		if err := r.refreshCreatedRuns(ctx, drill, before); err != nil {
			return nil, err
		}
		if createdBy(drill, existing) {
			return existing, nil
		}
		if why := sameRun(drill, existing, trigger); why != "" {
			r.Recorder.Eventf(drill, existing, corev1.EventTypeWarning, opsv1alpha1.ReasonNotCreatedByOperator, "CreateRun",
				"run %s already exists and was not created by the operator (%s): it is not carried out, and this %s run is skipped", name, why, trigger.Kind)
			return existing, nil
		}
		run, note = existing, "acknowledged run %s (%s), created before the operator stopped: it is controlled by this drill and carries its procedure and trigger"
	} else if err != nil {
		return nil, err
	}
	if _, err := r.updateAcknowledged(ctx, drill, before, func(st *opsv1alpha1.DRDrillStatus) { acknowledge(st, run) }); err != nil {
		return nil, fmt.Errorf("acknowledging run %s in the drill's status: %w", name, err)
	}
	r.Recorder.Eventf(drill, run, corev1.EventTypeNormal, opsv1alpha1.ReasonRunCreated, "CreateRun", note, name, trigger.Kind)
	return run, nil
}

// newRun is the run the drill creates for trigger: its labels, trigger
// annotations, a copy of the drill's procedure, the missed schedule times
// its status holds, and the drill as its controller.
func newRun(drill *opsv1alpha1.DRDrill, name string, trigger *opsv1alpha1.RunTrigger, scheme *runtime.Scheme) (*opsv1alpha1.DRDrillRun, error) {
	run := &opsv1alpha1.DRDrillRun{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: drill.Namespace,
			Labels:      resources.Labels(resources.LabelDrill, drill.Name),
			Annotations: map[string]string{AnnotationTrigger: string(trigger.Kind)},
		},
		Spec: opsv1alpha1.DRDrillRunSpec{DrillName: drill.Name, DrillProcedure: *drill.Spec.DrillProcedure.DeepCopy(), Trigger: trigger,
			MissedSchedules: append([]metav1.Time(nil), drill.Status.MissedSchedules...), MissedSchedulesDropped: drill.Status.MissedSchedulesDropped},
	}
	if t := trigger.ScheduledTime; t != nil {
		run.Annotations[AnnotationScheduledAt] = t.UTC().Format(time.RFC3339)
	}
	if err := controllerutil.SetControllerReference(drill, run, scheme); err != nil {
		return nil, err
	}
	return run, nil
}

// sameRun says why existing, found under the name of the run the drill is
// creating for trigger, is not that run ("" when it is, and may be
// acknowledged: the operator created it and stopped before acknowledging
// it). It must be controlled by this drill (UID), labelled as its run, not
// started or refused yet, carry the drill's current procedure (the same
// SHA-256 its report would record), the same trigger (run-now token or
// schedule time) and the missed schedule times the drill's status holds
// (which acknowledging it clears).
func sameRun(drill *opsv1alpha1.DRDrill, existing *opsv1alpha1.DRDrillRun, trigger *opsv1alpha1.RunTrigger) string {
	want := evidence.Hash(evidence.ProcedureJSON(drill.Spec.DrillProcedure))
	got := evidence.Hash(evidence.ProcedureJSON(existing.Spec.DrillProcedure))
	t := existing.Spec.Trigger
	switch {
	case !metav1.IsControlledBy(existing, drill) || existing.Spec.DrillName != drill.Name || existing.Labels[resources.LabelDrill] != drill.Name:
		return "it is not controlled by and labelled for this drill"
	case existing.Status.Phase != "":
		return fmt.Sprintf("it is in phase %s already", existing.Status.Phase)
	case got != want:
		return fmt.Sprintf("its procedure (sha256 %.12s) is not the drill's (sha256 %.12s)", got, want)
	case t == nil || t.Kind != trigger.Kind || t.RunNowToken != trigger.RunNowToken ||
		(t.ScheduledTime == nil) != (trigger.ScheduledTime == nil) || (t.ScheduledTime != nil && !t.ScheduledTime.Equal(trigger.ScheduledTime)):
		return "its trigger is not the one the drill is creating it for"
	case !sameTimes(existing.Spec.MissedSchedules, drill.Status.MissedSchedules) || existing.Spec.MissedSchedulesDropped != drill.Status.MissedSchedulesDropped:
		return fmt.Sprintf("its missed schedule times (%d listed, %d dropped) are not the ones the drill holds (%d listed, %d dropped)",
			len(existing.Spec.MissedSchedules), existing.Spec.MissedSchedulesDropped, len(drill.Status.MissedSchedules), drill.Status.MissedSchedulesDropped)
	}
	return ""
}

func sameTimes(a, b []metav1.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(&b[i]) {
			return false
		}
	}
	return true
}

// runNowField is the run-now annotation as a managedFields entry names it
// (the annotation key needs no JSON escaping).
const runNowField = `"f:` + AnnotationRunNow + `"`

// runNowTrigger is the trigger of a run-now run: the token (its first 256
// bytes) and the field manager that last set the annotation, as the client
// reported it in managedFields.
func runNowTrigger(drill *opsv1alpha1.DRDrill, token string) *opsv1alpha1.RunTrigger {
	if len(token) > 256 {
		token = strings.ToValidUTF8(token[:256], "")
	}
	t := &opsv1alpha1.RunTrigger{Kind: opsv1alpha1.RunTriggerRunNow, RunNowToken: token}
	var at time.Time
	for _, mf := range drill.ManagedFields {
		if mf.FieldsV1 == nil || !strings.Contains(mf.FieldsV1.GetRawString(), runNowField) {
			continue
		}
		if mf.Time == nil || !mf.Time.Time.Before(at) {
			t.FieldManager = truncateName(mf.Manager, 128)
			if mf.Time != nil {
				at = mf.Time.Time
			}
		}
	}
	return t
}

// updateAcknowledged changes the drill's status on the API server's copy
// of the drill, at once and with optimistic concurrency (never from a
// stale cache), and mirrors what is acknowledged there (mirrorAcknowledged)
// into drill and before so the reconcile's deferred status patch leaves it
// alone. change may be called more than once (on a conflict). It returns
// the resourceVersion of the API server's drill after the change.
func (r *DRDrillReconciler) updateAcknowledged(ctx context.Context, drill, before *opsv1alpha1.DRDrill, change func(*opsv1alpha1.DRDrillStatus)) (string, error) {
	var written string
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		fresh := &opsv1alpha1.DRDrill{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(drill), fresh); err != nil {
			return err
		}
		unchanged := fresh.Status.DeepCopy()
		change(&fresh.Status)
		if !equality.Semantic.DeepEqual(unchanged, &fresh.Status) {
			if err := r.Status().Update(ctx, fresh); err != nil {
				return err
			}
		}
		mirrorAcknowledged(fresh, drill, before)
		written = fresh.ResourceVersion
		return nil
	})
	if apierrors.IsNotFound(err) {
		return "", errDrillGone
	}
	return written, err
}

// errDrillGone says a direct read or write of the drill found it deleted
// during the reconcile (its namespace is being deleted, say): there is
// nothing left to do, and nothing to retry.
var errDrillGone = errors.New("the drill was deleted during the reconcile")

// refreshCreatedRuns reads what is acknowledged in the drill's status
// (mirrorAcknowledged) from the API server into drill and before.
func (r *DRDrillReconciler) refreshCreatedRuns(ctx context.Context, drill, before *opsv1alpha1.DRDrill) error {
	fresh := &opsv1alpha1.DRDrill{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(drill), fresh); apierrors.IsNotFound(err) {
		return errDrillGone
	} else if err != nil {
		return err
	}
	mirrorAcknowledged(fresh, drill, before)
	return nil
}

// mirrorAcknowledged copies what only direct writes to the API server
// change (status.createdRuns, the evidence head, the missed schedule times
// and lastScheduleTime) from fresh (the API server's drill) into each of
// drills.
func mirrorAcknowledged(fresh *opsv1alpha1.DRDrill, drills ...*opsv1alpha1.DRDrill) {
	for _, d := range drills {
		d.Status.CreatedRuns = append([]opsv1alpha1.CreatedRun(nil), fresh.Status.CreatedRuns...)
		d.Status.EvidenceHead = fresh.Status.EvidenceHead.DeepCopy()
		d.Status.MissedSchedules = append([]metav1.Time(nil), fresh.Status.MissedSchedules...)
		d.Status.MissedSchedulesDropped = fresh.Status.MissedSchedulesDropped
		d.Status.LastScheduleTime = fresh.Status.LastScheduleTime.DeepCopy()
	}
}

// forgetDeletedRuns drops from status.createdRuns the runs that no longer
// exist (checked on the API server: the cache may not show a new run yet).
func (r *DRDrillReconciler) forgetDeletedRuns(ctx context.Context, drill, before *opsv1alpha1.DRDrill, listed []opsv1alpha1.DRDrillRun) error {
	present := map[types.UID]bool{}
	stale := false
	for i := range listed {
		present[listed[i].UID] = true
		stale = stale || (metav1.IsControlledBy(&listed[i], drill) && !createdBy(drill, &listed[i]))
	}
	for _, c := range drill.Status.CreatedRuns {
		stale = stale || !present[c.UID]
	}
	if stale {
		// The cached drill may not show a run acknowledged a moment ago.
		if err := r.refreshCreatedRuns(ctx, drill, before); err != nil {
			return err
		}
	}
	gone := map[types.UID]bool{}
	for _, c := range drill.Status.CreatedRuns {
		if present[c.UID] {
			continue
		}
		var run opsv1alpha1.DRDrillRun
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: drill.Namespace, Name: c.Name}, &run)
		switch {
		case apierrors.IsNotFound(err), err == nil && run.UID != c.UID:
			gone[c.UID] = true
		case err != nil:
			return err
		}
	}
	if len(gone) == 0 {
		return nil
	}
	_, err := r.updateAcknowledged(ctx, drill, before, func(st *opsv1alpha1.DRDrillStatus) {
		kept := st.CreatedRuns[:0]
		for _, c := range st.CreatedRuns {
			if !gone[c.UID] {
				kept = append(kept, c)
			}
		}
		st.CreatedRuns = kept
	})
	return err
}

// newerRun orders finished runs newest first: by completion, then creation
// (both are kept to the second, so runs ending together tie), then name.
// History pruning relies on it never calling the run that just ended old.
func newerRun(a, b *opsv1alpha1.DRDrillRun) bool {
	if ca, cb := completedAt(a), completedAt(b); !ca.Equal(cb) {
		return ca.After(cb)
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	}
	return a.Name > b.Name
}

func completedAt(run *opsv1alpha1.DRDrillRun) time.Time {
	if t := run.Status.CompletionTime; t != nil {
		return t.Time
	}
	return run.CreationTimestamp.Time
}

// summarise puts the newest finished run into status, conditions, events
// and metrics.
func (r *DRDrillReconciler) summarise(drill, before *opsv1alpha1.DRDrill, finished []*opsv1alpha1.DRDrillRun) {
	sort.SliceStable(finished, func(i, j int) bool { return newerRun(finished[i], finished[j]) })
	labels := []string{drill.Namespace, drill.Name}
	for _, run := range finished {
		if run.Status.Phase == opsv1alpha1.DrillRunPassed {
			if t := drill.Status.LastPassedTime; t == nil || run.Status.CompletionTime.After(t.Time) {
				drill.Status.LastPassedTime = run.Status.CompletionTime.DeepCopy()
			}
			break
		}
	}
	if t := drill.Status.LastPassedTime; t != nil {
		drillLastPassed.WithLabelValues(labels...).Set(float64(t.Unix()))
	}
	if len(finished) == 0 {
		if drill.Status.LastRun == nil {
			setCondition(drill, opsv1alpha1.ConditionLastRunPassed, metav1.ConditionUnknown, opsv1alpha1.ReasonNoRunYet, "no run has finished yet")
			setCondition(drill, opsv1alpha1.ConditionObjectivesMet, metav1.ConditionUnknown, opsv1alpha1.ReasonNoRunYet, "no run has finished yet")
		}
		return
	}
	last := finished[0]
	if prev := drill.Status.LastRun; prev != nil && prev.Name != last.Name && prev.CompletionTime != nil && prev.CompletionTime.After(completedAt(last)) {
		// The newest run was pruned (historyLimit 0): status keeps it.
		return
	}
	st := last.Status
	drill.Status.LastRun = &opsv1alpha1.LastRun{Name: last.Name, Result: st.Phase, MeasuredRTO: st.MeasuredRTO, MeasuredRPO: st.MeasuredRPO, CompletionTime: st.CompletionTime}
	met := st.ObjectivesMet != nil && *st.ObjectivesMet && st.Phase != opsv1alpha1.DrillRunError
	if st.Phase == opsv1alpha1.DrillRunPassed {
		setCondition(drill, opsv1alpha1.ConditionLastRunPassed, metav1.ConditionTrue, opsv1alpha1.ReasonDrillPassed, fmt.Sprintf("run %s passed: %s", last.Name, st.Message))
	} else {
		reason := opsv1alpha1.ReasonDrillFailed
		if st.Phase == opsv1alpha1.DrillRunError {
			reason = opsv1alpha1.ReasonDrillError
		}
		setCondition(drill, opsv1alpha1.ConditionLastRunPassed, metav1.ConditionFalse, reason, fmt.Sprintf("run %s %s: %s", last.Name, strings.ToLower(string(st.Phase)), st.Message))
	}
	if met {
		setCondition(drill, opsv1alpha1.ConditionObjectivesMet, metav1.ConditionTrue, opsv1alpha1.ReasonObjectivesMet,
			fmt.Sprintf("run %s: RTO %s, RPO %s", last.Name, durationOrNone(st.MeasuredRTO), durationOrNone(st.MeasuredRPO)))
	} else {
		setCondition(drill, opsv1alpha1.ConditionObjectivesMet, metav1.ConditionFalse, opsv1alpha1.ReasonObjectivesMissed,
			fmt.Sprintf("run %s (%s): RTO %s, RPO %s", last.Name, st.Phase, durationOrNone(st.MeasuredRTO), durationOrNone(st.MeasuredRPO)))
	}
	if before.Status.LastRun == nil || before.Status.LastRun.Name != last.Name {
		kind := corev1.EventTypeNormal
		if st.Phase != opsv1alpha1.DrillRunPassed {
			kind = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(drill, last, kind, "Run"+string(st.Phase), "Summarise", "run %s %s: %s", last.Name, strings.ToLower(string(st.Phase)), st.Message)
	}
	recordDrillMetrics(labels, last, met)
}

// recordDrillMetrics exports the newest finished run of a drill.
func recordDrillMetrics(labels []string, last *opsv1alpha1.DRDrillRun, met bool) {
	st := last.Status
	drillLastRun.WithLabelValues(labels...).Set(float64(completedAt(last).Unix()))
	if st.MeasuredRTO != nil {
		drillMeasuredRTO.WithLabelValues(labels...).Set(st.MeasuredRTO.Seconds())
	}
	if st.MeasuredRPO != nil {
		drillMeasuredRPO.WithLabelValues(labels...).Set(st.MeasuredRPO.Seconds())
	}
	drillObjectivesMet.WithLabelValues(labels...).Set(map[bool]float64{true: 1, false: 0}[met])
	drillLastRunPassed.WithLabelValues(labels...).Set(map[bool]float64{true: 1, false: 0}[st.Phase == opsv1alpha1.DrillRunPassed])
}

// exportNextSchedule exports status.nextScheduleTime, and no series while
// the drill has none (suspended). A drill that cannot start runs keeps the
// time owed (scheduleBlocked), which falls into the past.
func exportNextSchedule(drill *opsv1alpha1.DRDrill) {
	if t := drill.Status.NextScheduleTime; t != nil {
		drillNextSchedule.WithLabelValues(drill.Namespace, drill.Name).Set(float64(t.Unix()))
		return
	}
	drillNextSchedule.DeleteLabelValues(drill.Namespace, drill.Name)
}

// exportObjectives exports the drill's spec.objectives, and no series for
// an objective it does not set.
func exportObjectives(drill *opsv1alpha1.DRDrill) {
	var rto, rpo *metav1.Duration
	if o := drill.Spec.Objectives; o != nil {
		rto, rpo = o.RTO, o.RPO
	}
	for _, e := range []struct {
		gauge *figures.Vec
		value *metav1.Duration
	}{{drillRTOObjective, rto}, {drillRPOObjective, rpo}} {
		if e.value == nil {
			e.gauge.DeleteLabelValues(drill.Namespace, drill.Name)
			continue
		}
		e.gauge.WithLabelValues(drill.Namespace, drill.Name).Set(e.value.Seconds())
	}
}

// pruneHistory deletes finished runs beyond historyLimit, passed and
// failed counted apart, never the newest passed run. finished is sorted
// newest first. A deleted run's finalizer deletes a sandbox it kept.
func (r *DRDrillReconciler) pruneHistory(ctx context.Context, drill *opsv1alpha1.DRDrill, finished []*opsv1alpha1.DRDrillRun) error {
	var passed, failed []*opsv1alpha1.DRDrillRun
	for _, run := range finished {
		if !run.DeletionTimestamp.IsZero() || run.Status.Evidence == nil {
			// A run whose evidence is not recorded yet stays: its record
			// would be lost with it.
			continue
		}
		if run.Status.Phase == opsv1alpha1.DrillRunPassed {
			passed = append(passed, run)
		} else {
			failed = append(failed, run)
		}
	}
	keepPassed := max(int(drill.Spec.HistoryLimit.Passed), 1)
	var old []*opsv1alpha1.DRDrillRun
	if len(passed) > keepPassed {
		old = append(old, passed[keepPassed:]...)
	}
	if keep := int(drill.Spec.HistoryLimit.Failed); len(failed) > keep {
		old = append(old, failed[keep:]...)
	}
	for _, run := range old {
		if err := r.Delete(ctx, run, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		r.Recorder.Eventf(drill, run, corev1.EventTypeNormal, opsv1alpha1.ReasonRunDeleted, "PruneHistory", "deleted run %s (%s) beyond the history limit; its evidence stays", run.Name, run.Status.Phase)
	}
	return nil
}

// SetupWithManager watches drills, their runs and the BackupPolicies they name.
func (r *DRDrillReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&opsv1alpha1.DRDrill{}).
		Owns(&opsv1alpha1.DRDrillRun{}, builder.WithPredicates(runOutcomeChanged)).
		// A drill reads only its policy's spec (validate).
		Watches(&opsv1alpha1.BackupPolicy{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			var drills opsv1alpha1.DRDrillList
			if err := r.List(ctx, &drills, client.InNamespace(o.GetNamespace())); err != nil {
				return nil
			}
			var out []reconcile.Request
			for _, d := range drills.Items {
				if d.Spec.BackupPolicyName == o.GetName() {
					out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: d.Namespace, Name: d.Name}})
				}
			}
			return out
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("drdrill").
		Complete(r)
}
