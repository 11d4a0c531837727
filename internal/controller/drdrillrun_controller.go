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
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// FinalizerSandbox keeps a run until its sandbox namespace is deleted: a
// namespace cannot be owned by a namespaced object, so garbage collection
// would never remove it.
const FinalizerSandbox = "ops.supportstack.io/sandbox"

// DrillTimeouts bound each phase and the whole run.
type DrillTimeouts struct {
	Provisioning, Restoring, Verifying, Overall time.Duration
	// StuckPod ends a run in Error when one of its pods stays stuck this
	// long (unschedulable, an unbound claim, a missing image, a crash loop)
	// instead of waiting for the phase timeout.
	StuckPod time.Duration
}

// DefaultDrillTimeouts leave room for a large restore; the Jobs' own
// active deadlines equal their phase's timeout.
var DefaultDrillTimeouts = DrillTimeouts{Provisioning: 15 * time.Minute, Restoring: 4 * time.Hour, Verifying: time.Hour, Overall: 6 * time.Hour, StuckPod: 10 * time.Minute}

// DRDrillRunReconciler carries a run through Provisioning, Restoring and
// Verifying to Passed, Failed or Error, records its evidence and tears its
// sandbox down. Every step is idempotent: after a restart the run resumes
// from its persisted phase, re-creating nothing that exists.
type DRDrillRunReconciler struct {
	client.Client
	// APIReader reads what the cache may not show yet or does not hold:
	// Secrets, foreign namespaces, Jobs just created, evidence.
	APIReader  client.Reader
	Recorder   events.EventRecorder
	Clock      clock.PassiveClock
	AgentImage string
	// AgentCacheBytes bounds the agent pods' cache volume;
	// resources.DefaultAgentCacheBytes when zero.
	AgentCacheBytes int64
	// RTImage runs beside the verify agent of a drill with a
	// requestTracker check (resources.DefaultRTImage when empty).
	RTImage string
	// Version is the operator version recorded in evidence.
	Version  string
	Timeouts DrillTimeouts
	// MaxConcurrentRunsPerNamespace bounds the active runs of a namespace
	// (drdrillrun_queue.go); DefaultMaxConcurrentDrillRuns when zero.
	MaxConcurrentRunsPerNamespace int
	// SandboxNamespacePolicy names the admission policy (and binding) that
	// proves an unrecorded sandbox the operator's; SandboxNamespacePolicy
	// (the constant) when empty.
	SandboxNamespacePolicy string
	// started is when this manager set the reconciler up: the grace a run
	// gets to be acknowledged counts from it too, so a run the previous
	// manager created just before it stopped is not refused before this
	// one's drill reconciler has had its chance to acknowledge it.
	started time.Time
	// The workers (MaxConcurrentReconciles) reconcile several runs at once;
	// two locks keep what runs decide together consistent.
	// queues: the waiting runs of a namespace decide their turn one at a
	// time, each holding the lock until its start is written. Counting the
	// runs queued before it is not enough without it: queue order is
	// creation second, then name, so a run created later in the same second
	// can sort ahead of one that has already decided to start but not yet
	// written it, see a free slot and start too.
	queues keyedLock
	// drills: evidence records per drill (namespace/name), so two runs of
	// a drill never chain onto the same head.
	drills keyedLock
}

// +kubebuilder:rbac:groups=ops.supportstack.io,resources=drdrillruns,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=drdrillruns/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=drdrillruns/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=resourcequotas;services;persistentvolumeclaims,verbs=get;create
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;create
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=drdrills,verbs=get
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=drdrills/status,verbs=get;update
// +kubebuilder:rbac:groups="",resources=nodes,verbs=list

// Reconcile advances one run by as many steps as it can take now.
func (r *DRDrillRunReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	run := &opsv1alpha1.DRDrillRun{}
	if err := r.Get(ctx, req.NamespacedName, run); err != nil {
		if apierrors.IsNotFound(err) {
			forgetRunPhase(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if runWaiting(run) {
		// Deferred first, so released last: after the status patch that
		// records this run's start.
		defer r.queues.lock(run.Namespace)()
	}
	before := run.DeepCopy()
	ctx, recordApplied := batchApplied(ctx, r.Recorder, run)
	defer func() {
		recordApplied()
		reterr = errors.Join(reterr, patchStatus(ctx, r.Client, before, run, before.Status, run.Status, runStatusLock(before)...))
		r.recordPhase(run)
	}()
	if !run.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.teardown(ctx, run, "the run is being deleted")
	}
	if run.Status.Phase.IsFinal() {
		return r.reconcileFinal(ctx, run)
	}
	now := r.Clock.Now()
	if runWaiting(run) {
		if wait, started, err := r.start(ctx, run, now); !started || err != nil {
			return ctrl.Result{RequeueAfter: wait}, err
		}
	}
	// The result is persisted first; evidence and teardown follow from it
	// in the same reconcile, not one more pass of the work queue later (a
	// minute at 1,000 drills: make bench-scale).
	final := func() (ctrl.Result, error) {
		if err := patchStatus(ctx, r.Client, before, run, before.Status, run.Status, runStatusLock(before)...); err != nil {
			return ctrl.Result{}, err
		}
		before = run.DeepCopy()
		return r.reconcileFinal(ctx, run)
	}
	if expired, msg := r.timedOut(run, now); expired {
		if strings.Contains(run.Status.Message, retrying) {
			msg += "; " + run.Status.Message // why it did not finish
		}
		r.endRun(run, opsv1alpha1.DrillRunError, now, msg)
		return final()
	}
	s, err := r.loadScope(ctx, run, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	next, err := r.advance(ctx, s)
	if err != nil {
		return ctrl.Result{}, err
	}
	if run.Status.Phase.IsFinal() {
		return final()
	}
	// Wake up for the phase timeout even if nothing else happens.
	if left := r.timeLeft(run, now); next == 0 || left < next {
		next = left
	}
	return ctrl.Result{RequeueAfter: next}, nil
}

// runStatusLock makes the status write of a running run conditional on
// the run being stored as this reconcile read it. A running run's next
// status follows from its last one (a refusal's first reason is kept, a
// phase is left once), so a reconcile that read it from a cache not yet
// holding the previous write must not write over that write: it gets a
// conflict and is retried on a fresh read. A run that is starting, ended
// or being deleted writes without the lock, as its reconcile updates the
// run itself (finalizer) before its status.
func runStatusLock(before *opsv1alpha1.DRDrillRun) []client.MergeFromOption {
	switch before.Status.Phase {
	case opsv1alpha1.DrillRunProvisioning, opsv1alpha1.DrillRunRestoring, opsv1alpha1.DrillRunVerifying:
		if before.DeletionTimestamp.IsZero() {
			return []client.MergeFromOption{client.MergeFromWithOptimisticLock{}}
		}
	}
	return nil
}

// advance takes the steps of the run's phase it can take now. A request
// the API server refuses is retried with backoff until the phase's
// timeout, and the run says why it is not moving instead of only the
// manager's log.
func (r *DRDrillRunReconciler) advance(ctx context.Context, s *drillRunScope) (next time.Duration, err error) {
	run := s.run
	phase, previous := run.Status.Phase, run.Status.Message
	work := phaseWork[phase]
	refusedBefore := strings.HasPrefix(previous, work.refused+retrying)
	if refusedBefore {
		run.Status.Message = work.doing
	}
	switch run.Status.Phase {
	case opsv1alpha1.DrillRunProvisioning:
		next, err = r.reconcileProvisioning(ctx, s)
	case opsv1alpha1.DrillRunRestoring:
		next, err = r.reconcileRestoring(ctx, s)
	case opsv1alpha1.DrillRunVerifying:
		next, err = r.reconcileVerifying(ctx, s)
	}
	switch {
	case !refusedByAPIServer(err) || run.Status.Phase.IsFinal():
	case refusedBefore && run.Status.Phase == phase:
		// Still refused: the first reason stays, so a reason worded
		// differently each time (a quota's figures, a webhook's errors)
		// does not write status, and wake the run, on every try.
		run.Status.Message = previous
	default:
		run.Status.Message = phaseWork[run.Status.Phase].refused + retrying + err.Error()
	}
	return next, err
}

// phaseWork says, for each phase a run works in, what it is doing and what
// could not be done when the API server refuses one of its requests.
var phaseWork = map[opsv1alpha1.DrillRunPhase]struct{ doing, refused string }{
	opsv1alpha1.DrillRunProvisioning: {"setting up the sandbox", "the sandbox could not be set up"},
	opsv1alpha1.DrillRunRestoring:    {"restoring the backup into the sandbox", "the restore could not go on"},
	opsv1alpha1.DrillRunVerifying:    {"verifying the restored data", "the verification could not go on"},
}

const retrying = ", retrying: "

// refusedByAPIServer says whether err is the API server refusing a request
// (an admission policy or webhook, a quota, an invalid object) or failing
// it (an allocator out of addresses, a webhook that cannot be called):
// what a person may have to look into, unlike a conflict or a timeout,
// which the next try usually gets past.
func refusedByAPIServer(err error) bool {
	return err != nil && (apierrors.IsForbidden(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) ||
		apierrors.IsInternalError(err) || apierrors.IsRequestEntityTooLargeError(err))
}

// start moves a run that has not started to Provisioning when it may
// start now (mayStart); otherwise it says when to look again.
func (r *DRDrillRunReconciler) start(ctx context.Context, run *opsv1alpha1.DRDrillRun, now time.Time) (time.Duration, bool, error) {
	if wait, ok, err := r.mayStart(ctx, run, now); !ok || err != nil {
		return wait, false, err
	}
	if controllerutil.AddFinalizer(run, FinalizerSandbox) {
		if err := r.Update(ctx, run); err != nil {
			return 0, false, err
		}
	}
	run.Status.StartTime = &metav1.Time{Time: now}
	r.enterPhase(run, opsv1alpha1.DrillRunProvisioning, now, "creating the sandbox namespace "+resources.SandboxNamespaceName(run))
	r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonStarted, "Provision", "drill run started: sandbox %s", resources.SandboxNamespaceName(run))
	return 0, true, nil
}

// drillRunScope is what one reconcile of a running run works with, loaded
// once: the run, its BackupPolicy and the drill planned from both.
type drillRunScope struct {
	run *opsv1alpha1.DRDrillRun
	now time.Time
	// policy is nil when the BackupPolicy does not exist (any more).
	policy *opsv1alpha1.BackupPolicy
	// plan is the drill worked out from the run's procedure and the policy;
	// planErr names every problem when it cannot be.
	plan    resources.DrillPlan
	planErr error
}

func (r *DRDrillRunReconciler) loadScope(ctx context.Context, run *opsv1alpha1.DRDrillRun, now time.Time) (*drillRunScope, error) {
	s := &drillRunScope{run: run, now: now}
	policy := &opsv1alpha1.BackupPolicy{}
	err := r.Get(ctx, types.NamespacedName{Namespace: run.Namespace, Name: run.Spec.BackupPolicyName}, policy)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, err
	default:
		s.policy = policy
		s.plan, s.planErr = resources.PlanDrill(run.Spec.DrillProcedure, policy)
	}
	return s, nil
}

// recordPhase exports the phase a running run is in, when it started and
// its timeout: an alert fires if a run outlives it (the operator ends such
// a run in Error, unless the operator itself is stuck).
func (r *DRDrillRunReconciler) recordPhase(run *opsv1alpha1.DRDrillRun) {
	forgetRunPhase(run.Namespace, run.Name)
	p := run.Status.PhaseStartTime
	if run.Status.Phase.IsFinal() || run.Status.Phase == opsv1alpha1.DrillRunPending || p == nil || !run.DeletionTimestamp.IsZero() {
		return
	}
	labels := []string{run.Namespace, run.Spec.DrillName, run.Name, string(run.Status.Phase)}
	drillRunPhaseStart.WithLabelValues(labels...).Set(float64(p.Unix()))
	drillRunPhaseTimeout.WithLabelValues(labels...).Set(r.phaseTimeout(run.Status.Phase).Seconds())
}

func (r *DRDrillRunReconciler) phaseTimeout(p opsv1alpha1.DrillRunPhase) time.Duration {
	switch p {
	case opsv1alpha1.DrillRunProvisioning:
		return r.Timeouts.Provisioning
	case opsv1alpha1.DrillRunRestoring:
		return r.Timeouts.Restoring
	default:
		return r.Timeouts.Verifying
	}
}

// timedOut says whether the phase or the run has run out of time.
func (r *DRDrillRunReconciler) timedOut(run *opsv1alpha1.DRDrillRun, now time.Time) (bool, string) {
	if s := run.Status.StartTime; s != nil && now.Sub(s.Time) > r.Timeouts.Overall {
		return true, fmt.Sprintf("the run did not finish within its overall timeout of %s (it was %s)", r.Timeouts.Overall, run.Status.Phase)
	}
	if s := run.Status.PhaseStartTime; s != nil && now.Sub(s.Time) > r.phaseTimeout(run.Status.Phase) {
		return true, fmt.Sprintf("%s did not finish within its timeout of %s", run.Status.Phase, r.phaseTimeout(run.Status.Phase))
	}
	return false, ""
}

func (r *DRDrillRunReconciler) timeLeft(run *opsv1alpha1.DRDrillRun, now time.Time) time.Duration {
	left := r.Timeouts.Overall
	if s := run.Status.StartTime; s != nil {
		left = s.Add(r.Timeouts.Overall).Sub(now)
	}
	if s := run.Status.PhaseStartTime; s != nil {
		left = min(left, s.Add(r.phaseTimeout(run.Status.Phase)).Sub(now))
	}
	return max(left, 0) + time.Second
}

func (r *DRDrillRunReconciler) enterPhase(run *opsv1alpha1.DRDrillRun, phase opsv1alpha1.DrillRunPhase, now time.Time, msg string) {
	run.Status.Phase, run.Status.Message = phase, msg
	run.Status.PhaseStartTime = &metav1.Time{Time: now}
	run.Status.ObservedGeneration = run.Generation
	setCondition(run, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonRunning, string(phase)+": "+msg)
}

// mayStart says whether a new run starts now: only a run its drill
// created is carried out (issue #11, item 2; anyone else's ends here,
// before it gets a sandbox), and only when its namespace has room
// (waitForTurn). Otherwise it says when to look again.
func (r *DRDrillRunReconciler) mayStart(ctx context.Context, run *opsv1alpha1.DRDrillRun, now time.Time) (time.Duration, bool, error) {
	if wait, ok, err := r.admit(ctx, run, now); !ok || err != nil {
		return wait, false, err
	}
	wait, err := r.waitForTurn(ctx, run)
	return wait, wait == 0 && err == nil, err
}

// admit says whether a new run may start: its drill created and
// acknowledged it. A run not (yet) acknowledged waits a little (wait > 0),
// then is refused.
func (r *DRDrillRunReconciler) admit(ctx context.Context, run *opsv1alpha1.DRDrillRun, now time.Time) (wait time.Duration, ok bool, err error) {
	_, err = acceptingDrill(ctx, r.Client, run)
	if errors.Is(err, errNotCreatedByOperator) {
		_, err = acceptingDrill(ctx, r.APIReader, run)
	}
	if !errors.Is(err, errNotCreatedByOperator) {
		return 0, err == nil, err
	}
	// The drill acknowledges its run right after creating it: wait a little
	// for that write. The API server stamped the creation time, so it is
	// measured in real time, not with the injected clock.
	since := run.CreationTimestamp.Time
	if r.started.After(since) {
		since = r.started
	}
	if left := ackGrace - time.Since(since); left > 0 {
		return min(left, 2*time.Second), false, nil
	}
	r.refuse(run, now)
	return 0, false, nil
}

// refuse ends a run its drill did not create in Error, without a sandbox
// or evidence.
func (r *DRDrillRunReconciler) refuse(run *opsv1alpha1.DRDrillRun, now time.Time) {
	msg := notCreatedMessage(run)
	r.endRunWith(run, opsv1alpha1.DrillRunError, opsv1alpha1.ReasonNotCreatedByOperator, now, msg)
	setCondition(run, opsv1alpha1.ConditionEvidenceRecorded, metav1.ConditionFalse, opsv1alpha1.ReasonNotCreatedByOperator,
		"no evidence is recorded for a run the operator did not start")
}

// refused says whether the run was ended as not created by the operator.
func refused(run *opsv1alpha1.DRDrillRun) bool {
	c := meta.FindStatusCondition(run.Status.Conditions, opsv1alpha1.ConditionReady)
	return c != nil && c.Reason == opsv1alpha1.ReasonNotCreatedByOperator
}

// endRun ends the run in a final phase.
func (r *DRDrillRunReconciler) endRun(run *opsv1alpha1.DRDrillRun, phase opsv1alpha1.DrillRunPhase, now time.Time, msg string) {
	r.endRunWith(run, phase, "", now, msg)
}

// endRunWith ends the run in a final phase with the Ready reason given
// ("" = the phase's own).
func (r *DRDrillRunReconciler) endRunWith(run *opsv1alpha1.DRDrillRun, phase opsv1alpha1.DrillRunPhase, why string, now time.Time, msg string) {
	run.Status.Phase, run.Status.Message = phase, msg
	run.Status.CompletionTime = &metav1.Time{Time: now}
	run.Status.PhaseStartTime = nil
	if run.Status.ObjectivesMet == nil {
		run.Status.ObjectivesMet = new(bool)
	}
	status, reason, kind := metav1.ConditionFalse, opsv1alpha1.ReasonDrillFailed, corev1.EventTypeWarning
	switch phase {
	case opsv1alpha1.DrillRunPassed:
		status, reason, kind = metav1.ConditionTrue, opsv1alpha1.ReasonDrillPassed, corev1.EventTypeNormal
	case opsv1alpha1.DrillRunError:
		reason = opsv1alpha1.ReasonDrillError
	}
	if why != "" {
		reason = why
	}
	setCondition(run, opsv1alpha1.ConditionReady, status, reason, msg)
	r.Recorder.Eventf(run, nil, kind, reason, "Complete", "drill run %s: %s", strings.ToLower(string(phase)), msg)
}

// evidenceRetry is how soon a failed evidence write is tried again.
const evidenceRetry = 30 * time.Second

// reconcileFinal records the evidence of a final run, then tears down its
// sandbox as spec.sandbox.keep says, whether or not the evidence could be
// recorded (issue #11, item 8): a failure is a condition and an event, and
// the write is retried without keeping the sandbox.
func (r *DRDrillRunReconciler) reconcileFinal(ctx context.Context, run *opsv1alpha1.DRDrillRun) (ctrl.Result, error) {
	if refused(run) {
		return ctrl.Result{}, r.teardown(ctx, run, "the run was not started by the operator")
	}
	retryEvidence := r.finalEvidence(ctx, run)
	withRetry := func(res ctrl.Result, err error) (ctrl.Result, error) {
		if retryEvidence > 0 && (res.RequeueAfter == 0 || retryEvidence < res.RequeueAfter) {
			res.RequeueAfter = retryEvidence
		}
		return res, err
	}
	keep := run.Spec.Sandbox.Keep
	deleteNow := keep == opsv1alpha1.SandboxKeepNever || (keep != opsv1alpha1.SandboxKeepAlways && run.Status.Phase == opsv1alpha1.DrillRunPassed)
	if !deleteNow && run.Status.CompletionTime != nil && controllerutil.ContainsFinalizer(run, FinalizerSandbox) {
		// The API server defaults spec.sandbox.ttl (2h).
		var ttl time.Duration
		if t := run.Spec.Sandbox.TTL; t != nil {
			ttl = t.Duration
		}
		left := run.Status.CompletionTime.Add(ttl).Sub(r.Clock.Now())
		// A kept sandbox counts toward its namespace's runs (waitForTurn):
		// one a person deleted before its ttl frees its slot at once.
		var gone string
		if left > 0 && run.Status.SandboxNamespaceUID != "" {
			var err error
			if gone, err = r.sandboxGone(ctx, run); err != nil {
				return withRetry(ctrl.Result{}, err)
			}
		}
		if gone != "" {
			return withRetry(ctrl.Result{}, r.teardown(ctx, run, "the kept sandbox was deleted before its ttl"))
		}
		if left > 0 && run.Status.SandboxNamespace != "" {
			setCondition(run, opsv1alpha1.ConditionSandboxDeleted, metav1.ConditionFalse, opsv1alpha1.ReasonSandboxKept,
				fmt.Sprintf("sandbox %s kept (keep: %s) until %s", run.Status.SandboxNamespace, keep, run.Status.CompletionTime.Add(ttl).UTC().Format(time.RFC3339)))
			return withRetry(ctrl.Result{RequeueAfter: left + time.Second}, nil)
		}
	}
	return withRetry(ctrl.Result{}, r.teardown(ctx, run, "the run ended"))
}

// finalEvidence records a final run's evidence once; on failure it says why
// in a condition (and an event when the message changes) and returns when
// to try again (0: never).
func (r *DRDrillRunReconciler) finalEvidence(ctx context.Context, run *opsv1alpha1.DRDrillRun) time.Duration {
	if run.Status.Evidence != nil {
		return 0
	}
	err := r.recordEvidence(ctx, run)
	if err == nil {
		return 0
	}
	retry := evidenceRetry
	reason, msg := opsv1alpha1.ReasonEvidenceFailed, "recording the evidence failed, retrying: "+err.Error()
	switch {
	case errors.Is(err, errNotCreatedByOperator):
		// Its status was written by someone other than the operator.
		retry, reason, msg = 0, opsv1alpha1.ReasonNotCreatedByOperator, "no evidence: "+notCreatedMessage(run)
	case isUserError(err):
		retry, reason, msg = secretRecheck, opsv1alpha1.ReasonEvidenceNotSigned, "evidence waits for its signing key: "+err.Error()
	default:
		logf.FromContext(ctx).Error(err, "recording drill evidence", "run", klog.KObj(run))
	}
	if c := meta.FindStatusCondition(run.Status.Conditions, opsv1alpha1.ConditionEvidenceRecorded); c == nil || c.Message != msg {
		r.Recorder.Eventf(run, nil, corev1.EventTypeWarning, reason, "RecordEvidence", "%s", msg)
	}
	setCondition(run, opsv1alpha1.ConditionEvidenceRecorded, metav1.ConditionFalse, reason, msg)
	return retry
}

// SetupWithManager watches runs and, through their labels, the sandbox
// namespaces, pods and Jobs they create.
func (r *DRDrillRunReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.started = time.Now()
	toRun := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		l := o.GetLabels()
		if l[resources.LabelDrillRun] == "" || l[resources.LabelDrillRunNamespace] == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: l[resources.LabelDrillRunNamespace], Name: l[resources.LabelDrillRun]}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&opsv1alpha1.DRDrillRun{}).
		Watches(&corev1.Namespace{}, toRun).
		Watches(&corev1.Pod{}, toRun).
		Watches(&batchv1.Job{}, toRun).
		Watches(&opsv1alpha1.DRDrillRun{}, r.wakeQueuedRuns()).
		Named("drdrillrun").
		Complete(r)
}
