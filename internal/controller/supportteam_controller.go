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
	"net/http"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/coverage"
	"github.com/supportstack/operator/internal/queues"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/training"
)

// Routing ConfigMap annotation and keys.
const (
	// AnnotationRTConfigSHA256 on the routing ConfigMap is the hash of the
	// rendered RT configuration: copy it into the RT pod template so RT
	// restarts when the configuration changes.
	AnnotationRTConfigSHA256 = "ops.supportstack.io/rt-config-sha256"
	// RT configuration keys of the routing ConfigMap.
	RTSiteConfigKey  = "rt-siteconfig.pm"
	RTInitialDataKey = "rt-initialdata.pl"
)

// SupportTeamReconciler checks a team's declared capacity against its
// demand for every 30 minutes of the coming week, materializes its queues and
// gives its leads access to their own team.
type SupportTeamReconciler struct {
	client.Client
	// APIReader reads Secrets straight from the API server: the manager does
	// not cache Secrets.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// HTTP talks to help-desk backends (Request Tracker).
	HTTP *http.Client
	// Clock is injected so tests can move time; production uses the real clock.
	Clock clock.PassiveClock
	// ProposalTimeLimit bounds a roster proposal's search
	// (spec.rostering.propose); DefaultProposalTimeLimit when zero.
	ProposalTimeLimit time.Duration
	// RTImage runs a help desk's rights Jobs (queueBackend.helpDesk);
	// resources.DefaultRTImage when empty. The HelpDesk's own pods run
	// the same (Options.RTImage).
	RTImage string
	// HelpDeskWebURL is a help desk's REST2 root; its web Service
	// (resources.HelpDeskWebURL) when nil. Tests point it at a local RT.
	HelpDeskWebURL func(namespace string, names resources.HelpDeskNames) string

	// actuals is each team's ticket state between syncs (reconcileActuals).
	actuals actualsMemory
}

// The operator needs update/patch on SupportTeams only because RBAC lets it
// grant a team's leads those verbs (on their own team) only if it holds them
// itself; it never writes a team's spec.
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=supportteams,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=supportteams/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=helpdesks,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete

// Reconcile brings one SupportTeam's children and status in line with its spec.
func (r *SupportTeamReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	log := logf.FromContext(ctx)
	team := &opsv1alpha1.SupportTeam{}
	if err := r.Get(ctx, req.NamespacedName, team); err != nil {
		if apierrors.IsNotFound(err) {
			// Children go with their owner references; only metrics remain.
			forgetTeam(req.Namespace, req.Name)
			r.actuals.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	before := team.DeepCopy()
	ctx, recordApplied := batchApplied(ctx, r.Recorder, team)
	defer func() {
		recordApplied()
		reterr = errors.Join(reterr, patchStatus(ctx, r.Client, before, team, before.Status, team.Status))
	}()

	notOwned, err := r.routingConfigMapNotOwned(ctx, team)
	if err != nil {
		return ctrl.Result{}, err
	}
	externalIDs, queuesOK, err := r.reconcileQueues(ctx, team, notOwned)
	if err != nil {
		// RT down fails the queue sync first: ActualsSynced says so too.
		r.reconcileActuals(ctx, team, before)
		return ctrl.Result{}, err
	}
	if err := r.reconcileAccess(ctx, team, notOwned == ""); err != nil {
		return ctrl.Result{}, err
	}
	spec, demand := r.historyDemand(team, before)
	next, coverageOK := r.reconcileCoverage(team, before, spec, externalIDs, demand)
	if err := r.reconcileProposal(ctx, team, spec); err != nil {
		return ctrl.Result{}, err
	}
	if !queuesOK && next > secretRecheck {
		next = secretRecheck
	}
	if due := r.reconcileActuals(ctx, team, before); due > 0 && (next == 0 || due < next) {
		next = due
	}

	if queuesOK && coverageOK {
		setCondition(team, opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonReconciled,
			"queues materialized, team access in place, coverage computed for the coming 7 days")
	}
	team.Status.ObservedGeneration = team.Generation
	log.V(1).Info("reconciled", "supportTeam", klog.KObj(team), "requeueAfter", next)
	return ctrl.Result{RequeueAfter: next}, nil
}

// reconcileQueues resolves escalations and materializes the queues through
// the team's backend. It returns the queues' ids in the backend, and false
// when the user must fix something. notOwned, when not empty, says why the
// routing ConfigMap must not be written: then nothing is synced.
func (r *SupportTeamReconciler) reconcileQueues(ctx context.Context, team *opsv1alpha1.SupportTeam, notOwned string) (map[string]string, bool, error) {
	if notOwned != "" {
		r.refuse(team, opsv1alpha1.ReasonConfigMapNotOwned, notOwned)
		return nil, false, nil
	}
	table, err := queues.Build(team, r.lookupTeam(ctx, team.Namespace))
	var escalationErr *queues.EscalationError
	switch {
	case errors.As(err, &escalationErr):
		msg := escalationErr.Error()
		if c := condition(team, opsv1alpha1.ConditionReady); c == nil || c.Message != msg {
			r.Recorder.Eventf(team, nil, corev1.EventTypeWarning, opsv1alpha1.ReasonEscalationTargetNotFound, "Validate", "%s", msg)
		}
		r.notSynced(team, opsv1alpha1.ReasonEscalationTargetNotFound, msg)
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}

	synced, err := r.backendFor(team).sync(ctx, team, table)
	var specErr *backendSpecError
	switch {
	case errors.As(err, &specErr):
		reason := specErr.reason
		if reason == "" {
			reason = opsv1alpha1.ReasonInvalidSpec
		}
		r.refuse(team, reason, specErr.msg)
		// Queues that did sync keep their external ids (QueueNotOwned
		// leaves the team's other queues synced).
		return synced.externalIDs, false, nil
	case err != nil:
		// The error names what failed; it never holds a credential.
		r.notSynced(team, opsv1alpha1.ReasonBackendUnavailable, err.Error())
		return nil, false, err
	}
	setCondition(team, opsv1alpha1.ConditionQueuesSynced, metav1.ConditionTrue, opsv1alpha1.ReasonQueuesMaterialized, synced.summary)
	return synced.externalIDs, true, nil
}

// refuse records that the queues were not materialized because of
// something the user must fix, with a Warning event when the reason is new.
func (r *SupportTeamReconciler) refuse(team *opsv1alpha1.SupportTeam, reason, msg string) {
	if c := condition(team, opsv1alpha1.ConditionQueuesSynced); c == nil || c.Reason != reason || c.Message != msg {
		r.Recorder.Eventf(team, nil, corev1.EventTypeWarning, reason, "SyncQueues", "%s", msg)
	}
	r.notSynced(team, reason, msg)
}

// notSynced records that the queues could not be materialized.
func (r *SupportTeamReconciler) notSynced(team *opsv1alpha1.SupportTeam, reason, msg string) {
	setCondition(team, opsv1alpha1.ConditionQueuesSynced, metav1.ConditionFalse, reason, msg)
	setCondition(team, opsv1alpha1.ConditionReady, metav1.ConditionFalse, reason, msg)
}

// reconcileAccess keeps the Role and RoleBinding of the team's leads. They
// may read the routing ConfigMap only when it is the team's own.
func (r *SupportTeamReconciler) reconcileAccess(ctx context.Context, team *opsv1alpha1.SupportTeam, routingOwned bool) error {
	role := resources.TeamAccessRole(team, routingOwned)
	if err := createOrPatch(ctx, r.Client, r.Recorder, team, role, func(existing *rbacv1.Role) {
		existing.Labels = mergeLabels(existing.Labels, role.Labels)
		existing.Rules = role.Rules
	}); err != nil {
		return err
	}
	binding := resources.TeamAccessRoleBinding(team)
	return createOrPatch(ctx, r.Client, r.Recorder, team, binding, func(existing *rbacv1.RoleBinding) {
		existing.Labels = mergeLabels(existing.Labels, binding.Labels)
		existing.RoleRef = binding.RoleRef
		existing.Subjects = binding.Subjects
	})
}

// reconcileCoverage computes staffing against demand (spec: the team's spec
// with demand from history in place) and returns when the answer can next
// change (the next interval boundary).
func (r *SupportTeamReconciler) reconcileCoverage(team, before *opsv1alpha1.SupportTeam, spec opsv1alpha1.SupportTeamSpec, externalIDs map[string]string,
	demand map[string]*opsv1alpha1.DemandStatus) (time.Duration, bool) {
	now := r.Clock.Now()
	model, err := coverage.FromSpec(spec)
	var result coverage.Result
	if err == nil {
		result, err = coverage.Compute(model, now)
	}
	if err != nil {
		msg := fmt.Sprintf("cannot compute coverage: %v", err)
		setCondition(team, opsv1alpha1.ConditionStaffed, metav1.ConditionUnknown, opsv1alpha1.ReasonInvalidSpec, msg)
		setCondition(team, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonInvalidSpec, msg)
		return 0, false
	}

	team.Status.Headcount = int32(result.Headcount)
	team.Status.OnShiftNow = int32(result.OnShiftNow)
	team.Status.OnShift = onShiftNames(team.Spec, result.OnShiftNowMembers)
	team.Status.Queues = make([]opsv1alpha1.QueueStatus, 0, len(result.Queues))
	var worst *opsv1alpha1.WorstGap
	worstQueue := ""
	figures := teamFigures{Headcount: float64(result.Headcount), Queues: make([]queueFigures, 0, len(result.Queues))}
	for qi, q := range result.Queues {
		qs := opsv1alpha1.QueueStatus{
			Name:                  q.Name,
			PeakRequiredAgents:    int32(q.PeakRequiredAgents),
			PeakRequiredStaff:     int32(q.PeakRequiredStaff),
			UnderstaffedIntervals: int32(q.UnderstaffedIntervals),
			ExternalID:            externalIDs[q.Name],
			OnCall:                onCallFor(team.Spec, model.Queues[qi], result.OnShiftNowMembers),
			Demand:                demand[q.Name],
		}
		if g := q.WorstGap; g != nil {
			qs.WorstGap = &opsv1alpha1.WorstGap{Start: g.Start.Format(time.RFC3339), Required: int32(g.Required), Scheduled: int32(g.Scheduled)}
			if worst == nil || int32(g.Required-g.Scheduled) > worst.Required-worst.Scheduled {
				worst, worstQueue = qs.WorstGap, q.Name
			}
		}
		team.Status.Queues = append(team.Status.Queues, qs)
		current := result.Intervals[0]
		short := 0
		for _, iv := range result.Intervals[:min(len(result.Intervals), intervalsPerDay)] {
			if iv.Scheduled[qi] < iv.RequiredStaff[qi] {
				short++
			}
		}
		figures.Queues = append(figures.Queues, queueFigures{Name: q.Name, RequiredStaff: float64(current.RequiredStaff[qi]),
			ScheduledStaff: float64(current.Scheduled[qi]), Understaffed: float64(q.UnderstaffedIntervals), NextDay: float64(short)})
	}
	teamMetrics.set(client.ObjectKeyFromObject(team), figures)

	wasStaffed := condition(before, opsv1alpha1.ConditionStaffed)
	if worst == nil {
		setCondition(team, opsv1alpha1.ConditionStaffed, metav1.ConditionTrue, opsv1alpha1.ReasonAllIntervalsStaffed,
			fmt.Sprintf("every queue is staffed in all %d half-hour intervals of the coming 7 days", len(result.Intervals)))
		if wasStaffed != nil && wasStaffed.Status != metav1.ConditionTrue {
			r.Recorder.Eventf(team, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonAllIntervalsStaffed, "ComputeCoverage",
				"every queue is now staffed for the coming 7 days")
		}
	} else {
		msg := fmt.Sprintf("%d of %d queue-intervals in the coming 7 days are understaffed; worst: queue %s at %s needs %d staff, %d scheduled (short %d)",
			result.Understaffed(), len(result.Intervals)*len(result.Queues), worstQueue, worst.Start, worst.Required, worst.Scheduled, worst.Required-worst.Scheduled)
		// A gap nobody on shift has the skills for needs training, not people.
		if note := training.SkillsNote(model, result); note != "" {
			msg += "; " + note
		}
		setCondition(team, opsv1alpha1.ConditionStaffed, metav1.ConditionFalse, opsv1alpha1.ReasonUnderstaffed, msg)
		if wasStaffed == nil || wasStaffed.Status != metav1.ConditionFalse {
			r.Recorder.Eventf(team, nil, corev1.EventTypeWarning, opsv1alpha1.ReasonUnderstaffed, "ComputeCoverage", "%s", msg)
		}
	}
	return result.NextBoundary.Sub(now), true
}

// lookupTeam finds escalation targets in the team's namespace.
func (r *SupportTeamReconciler) lookupTeam(ctx context.Context, namespace string) queues.TeamLookup {
	return func(name string) (*opsv1alpha1.SupportTeam, bool, error) {
		other := &opsv1alpha1.SupportTeam{}
		err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, other)
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		return other, err == nil, err
	}
}

func condition(team *opsv1alpha1.SupportTeam, condType string) *metav1.Condition {
	return meta.FindStatusCondition(team.Status.Conditions, condType)
}

// SetupWithManager watches SupportTeams, their children, and the teams they
// escalate to.
func (r *SupportTeamReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&opsv1alpha1.SupportTeam{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		// The rights Job of a team on a help desk: its end is the
		// rights' state.
		Owns(&batchv1.Job{}).
		// A team waits for its help desk to serve.
		Watches(&opsv1alpha1.HelpDesk{}, handler.EnqueueRequestsFromMapFunc(r.teamsUsingHelpDesk)).
		// A team whose escalation target appears, changes or goes away must
		// be re-checked.
		Watches(&opsv1alpha1.SupportTeam{}, handler.EnqueueRequestsFromMapFunc(r.teamsEscalatingTo)).
		Named("supportteam").
		Complete(r)
}

// teamsUsingHelpDesk are the teams of the HelpDesk's namespace whose
// queueBackend names it.
func (r *SupportTeamReconciler) teamsUsingHelpDesk(ctx context.Context, obj client.Object) []reconcile.Request {
	var list opsv1alpha1.SupportTeamList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, t := range list.Items {
		if b := t.Spec.QueueBackend; b != nil && b.HelpDesk != nil && b.HelpDesk.Name == obj.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&t)})
		}
	}
	return reqs
}

func (r *SupportTeamReconciler) teamsEscalatingTo(ctx context.Context, obj client.Object) []reconcile.Request {
	var list opsv1alpha1.SupportTeamList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, t := range list.Items {
		for _, q := range t.Spec.Queues {
			if q.Escalation != nil && q.Escalation.ToTeam == obj.GetName() && t.Name != obj.GetName() {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&t)})
				break
			}
		}
	}
	return reqs
}
