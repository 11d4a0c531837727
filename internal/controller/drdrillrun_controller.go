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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/evidence"
	"github.com/supportstack/operator/internal/resources"
)

// FinalizerSandbox keeps a run until its sandbox namespace is deleted: a
// namespace cannot be owned by a namespaced object, so garbage collection
// would never remove it.
const FinalizerSandbox = "ops.supportstack.io/sandbox"

// DRDrillRun condition types and reasons.
const (
	// ConditionSandboxDeleted is True once the sandbox namespace is deleted
	// (or being deleted by the namespace controller).
	ConditionSandboxDeleted = "SandboxDeleted"
	// ConditionEvidenceRecorded is True once the run's report is stored.
	ConditionEvidenceRecorded = "EvidenceRecorded"

	ReasonDrillPassed   = "DrillPassed"
	ReasonDrillFailed   = "DrillFailed"
	ReasonDrillError    = "DrillError"
	ReasonRunning       = "Running"
	ReasonSandboxKept   = "SandboxKept"
	ReasonSandboxGone   = "SandboxDeleted"
	ReasonEvidenceSaved = "EvidenceRecorded"
	ReasonNotSigned     = "EvidenceNotSigned"
)

// DrillTimeouts bound each phase and the whole run.
type DrillTimeouts struct {
	Provisioning, Restoring, Verifying, Overall time.Duration
}

// DefaultDrillTimeouts leave room for a large restore; the Jobs' own
// active deadlines equal their phase's timeout.
var DefaultDrillTimeouts = DrillTimeouts{Provisioning: 15 * time.Minute, Restoring: 4 * time.Hour, Verifying: time.Hour, Overall: 6 * time.Hour}

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
	// Version is the operator version recorded in evidence.
	Version  string
	Timeouts DrillTimeouts
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

// Reconcile advances one run by as many steps as it can take now.
func (r *DRDrillRunReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	run := &opsv1alpha1.DRDrillRun{}
	if err := r.Get(ctx, req.NamespacedName, run); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := run.DeepCopy()
	defer func() {
		reterr = errors.Join(reterr, patchStatus(ctx, r.Client, before, run, before.Status, run.Status))
	}()
	if !run.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.teardown(ctx, run, "the run is being deleted")
	}
	if isFinal(run.Status.Phase) {
		return r.finish(ctx, run)
	}
	now := r.Clock.Now()
	if run.Status.Phase == "" || run.Status.Phase == opsv1alpha1.DrillRunPending {
		if controllerutil.AddFinalizer(run, FinalizerSandbox) {
			if err := r.Update(ctx, run); err != nil {
				return ctrl.Result{}, err
			}
		}
		run.Status.StartTime = &metav1.Time{Time: now}
		r.enter(run, opsv1alpha1.DrillRunProvisioning, now, "creating the sandbox namespace "+resources.SandboxNamespaceName(run))
		r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, "Started", "Provision", "drill run started: sandbox %s", resources.SandboxNamespaceName(run))
	}
	if expired, msg := r.timedOut(run, now); expired {
		r.complete(run, opsv1alpha1.DrillRunError, now, msg)
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	var (
		next time.Duration
		err  error
	)
	switch run.Status.Phase {
	case opsv1alpha1.DrillRunProvisioning:
		next, err = r.provision(ctx, run, now)
	case opsv1alpha1.DrillRunRestoring:
		next, err = r.restoring(ctx, run, now)
	case opsv1alpha1.DrillRunVerifying:
		next, err = r.verifying(ctx, run, now)
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	if isFinal(run.Status.Phase) {
		// The result is persisted first; evidence and teardown follow from it.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	// Wake up for the phase timeout even if nothing else happens.
	if left := r.timeLeft(run, now); next == 0 || left < next {
		next = left
	}
	return ctrl.Result{RequeueAfter: next}, nil
}

func isFinal(p opsv1alpha1.DrillRunPhase) bool {
	return p == opsv1alpha1.DrillRunPassed || p == opsv1alpha1.DrillRunFailed || p == opsv1alpha1.DrillRunError
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

func (r *DRDrillRunReconciler) enter(run *opsv1alpha1.DRDrillRun, phase opsv1alpha1.DrillRunPhase, now time.Time, msg string) {
	run.Status.Phase, run.Status.Message = phase, msg
	run.Status.PhaseStartTime = &metav1.Time{Time: now}
	run.Status.ObservedGeneration = run.Generation
	setCondition(&run.Status.Conditions, run.Generation, opsv1alpha1.ConditionReady, metav1.ConditionFalse, ReasonRunning, string(phase)+": "+msg)
}

// complete ends the run in a final phase.
func (r *DRDrillRunReconciler) complete(run *opsv1alpha1.DRDrillRun, phase opsv1alpha1.DrillRunPhase, now time.Time, msg string) {
	run.Status.Phase, run.Status.Message = phase, msg
	run.Status.CompletionTime = &metav1.Time{Time: now}
	run.Status.PhaseStartTime = nil
	if run.Status.ObjectivesMet == nil {
		run.Status.ObjectivesMet = new(bool)
	}
	status, reason, kind := metav1.ConditionFalse, ReasonDrillFailed, corev1.EventTypeWarning
	switch phase {
	case opsv1alpha1.DrillRunPassed:
		status, reason, kind = metav1.ConditionTrue, ReasonDrillPassed, corev1.EventTypeNormal
	case opsv1alpha1.DrillRunError:
		reason = ReasonDrillError
	}
	setCondition(&run.Status.Conditions, run.Generation, opsv1alpha1.ConditionReady, status, reason, msg)
	r.Recorder.Eventf(run, nil, kind, reason, "Complete", "drill run %s: %s", strings.ToLower(string(phase)), msg)
}

// sandboxGone reports a sandbox namespace that vanished under a running run.
func (r *DRDrillRunReconciler) sandboxGone(ctx context.Context, run *opsv1alpha1.DRDrillRun) (string, error) {
	var ns corev1.Namespace
	err := r.APIReader.Get(ctx, types.NamespacedName{Name: run.Status.SandboxNamespace}, &ns)
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("the sandbox namespace %s vanished during %s", run.Status.SandboxNamespace, run.Status.Phase), nil
	case err != nil:
		return "", err
	case !ns.DeletionTimestamp.IsZero():
		return fmt.Sprintf("the sandbox namespace %s was deleted during %s", run.Status.SandboxNamespace, run.Status.Phase), nil
	}
	return "", nil
}

// provision builds the sandbox and, once the scratch server is ready,
// starts the restore.
func (r *DRDrillRunReconciler) provision(ctx context.Context, run *opsv1alpha1.DRDrillRun, now time.Time) (time.Duration, error) {
	policy := &opsv1alpha1.BackupPolicy{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: run.Namespace, Name: run.Spec.BackupPolicyName}, policy); apierrors.IsNotFound(err) {
		r.complete(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("BackupPolicy %s not found in %s", run.Spec.BackupPolicyName, run.Namespace))
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	plan, err := resources.PlanDrill(run.Spec.DrillProcedure, policy)
	if err != nil {
		r.complete(run, opsv1alpha1.DrillRunError, now, "the drill cannot run: "+err.Error())
		return 0, nil
	}
	name := resources.SandboxNamespaceName(run)
	run.Status.SandboxNamespace = name
	var ns corev1.Namespace
	err = r.APIReader.Get(ctx, types.NamespacedName{Name: name}, &ns)
	switch {
	case apierrors.IsNotFound(err):
		if err := r.createOnce(ctx, resources.SandboxNamespace(run)); err != nil {
			return 0, err
		}
		r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, "SandboxCreated", "Provision", "created sandbox namespace %s", name)
	case err != nil:
		return 0, err
	case ns.Labels[resources.LabelDrillRun] != run.Name || ns.Labels[resources.LabelDrillRunNamespace] != run.Namespace:
		if !ns.DeletionTimestamp.IsZero() {
			run.Status.Message = fmt.Sprintf("waiting for namespace %s, left by an earlier run, to be deleted", name)
			return 5 * time.Second, nil
		}
		r.complete(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("namespace %s already exists and is not this run's sandbox: set spec.sandbox.namespace to a name no one uses", name))
		return 0, nil
	case !ns.DeletionTimestamp.IsZero():
		msg, _ := r.sandboxGone(ctx, run)
		r.complete(run, opsv1alpha1.DrillRunError, now, msg)
		return 0, nil
	}
	if err := r.provisionSandbox(ctx, run, policy, plan); err != nil {
		if isUserError(err) {
			r.complete(run, opsv1alpha1.DrillRunError, now, err.Error())
			return 0, nil
		}
		return 0, err
	}
	var pod corev1.Pod
	if err := r.Get(ctx, types.NamespacedName{Namespace: name, Name: resources.ScratchPostgresName}, &pod); apierrors.IsNotFound(err) {
		return 2 * time.Second, nil // just created: the cache has not seen it yet
	} else if err != nil {
		return 0, err
	}
	if !podReady(&pod) {
		run.Status.Message = "waiting for the scratch PostgreSQL server to be ready"
		return 0, nil // the pod watch brings us back
	}
	job := resources.DrillJob(run, policy, r.AgentImage, plan.Restore, int64(r.Timeouts.Restoring.Seconds()), plan.HasVolumes)
	if err := r.createOnce(ctx, job); err != nil {
		return 0, err
	}
	run.Status.Timings = &opsv1alpha1.PhaseTimings{Provision: &metav1.Duration{Duration: now.Sub(run.Status.StartTime.Time)}}
	r.enter(run, opsv1alpha1.DrillRunRestoring, now, fmt.Sprintf("restoring snapshot %s of BackupPolicy %s", plan.Restore.Snapshot, policy.Name))
	return 0, nil
}

// provisionSandbox creates what the sandbox holds. Everything is created
// once (the sandbox is new and lives for one run); NetworkPolicies are
// kept in shape on every pass since they are what isolates it.
func (r *DRDrillRunReconciler) provisionSandbox(ctx context.Context, run *opsv1alpha1.DRDrillRun, policy *opsv1alpha1.BackupPolicy, plan resources.DrillPlan) error {
	name := resources.SandboxNamespaceName(run)
	scratch := resources.ScratchBytes(policy)
	var peer *resources.EgressPeer
	if host, port, ok := resources.RepositoryEndpoint(policy.Spec.Repository.URL); ok {
		p, err := resolvePeer(ctx, r.APIReader, policy.Namespace, host, port)
		if err != nil {
			return err
		}
		peer = &p
	}
	for _, np := range resources.SandboxNetworkPolicies(run, peer) {
		if err := apply(ctx, r.Client, r.Recorder, run, np, func(existing *networkingv1.NetworkPolicy) {
			existing.Labels = mergeLabels(existing.Labels, np.Labels)
			existing.Spec = np.Spec
		}); err != nil {
			return err
		}
	}
	// Copy the repository's secrets into the sandbox: pods can only use
	// Secrets of their own namespace. They go when the sandbox goes.
	repo := policy.Spec.Repository
	password, err := readSecret(ctx, r.APIReader, policy.Namespace, "repository.passwordSecretRef", repo.PasswordSecretRef.Name, repo.PasswordSecretRef.Key)
	if err != nil {
		return err
	}
	objects := []client.Object{
		resources.SandboxQuota(run, scratch),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: resources.RepositorySecretName, Namespace: name, Labels: resources.SandboxLabels(run)},
			Data: map[string][]byte{"password": password.Data[repo.PasswordSecretRef.Key]}},
	}
	if c := repo.CredentialsSecretRef; c != nil {
		creds, err := readSecret(ctx, r.APIReader, policy.Namespace, "repository.credentialsSecretRef", c.Name, "")
		if err != nil {
			return err
		}
		objects = append(objects, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: resources.RepositoryCredentials, Namespace: name, Labels: resources.SandboxLabels(run)}, Data: creds.Data})
	}
	// A password generated again after a restart is refused as
	// AlreadyExists: the first one stays, the one the server started with.
	objects = append(objects, resources.ScratchSecret(run, randomPassword()))
	if plan.HasVolumes {
		objects = append(objects, resources.RestoreClaim(run, scratch))
	}
	pod, svc := resources.ScratchPostgres(run, scratch)
	objects = append(objects, svc, pod)
	for _, o := range objects {
		if err := r.createOnce(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// createOnce creates an object unless it exists. It asks first: under the
// sandbox's quota a second create is refused as over quota, not as
// AlreadyExists.
func (r *DRDrillRunReconciler) createOnce(ctx context.Context, o client.Object) error {
	existing := o.DeepCopyObject().(client.Object)
	err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(o), existing)
	if err == nil {
		return nil
	}
	if apierrors.IsNotFound(err) {
		err = r.Create(ctx, o)
	}
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
	}
	return nil
}

func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// drillJob reads the sandbox Job of an operation: its result once it
// finished; done is false while it runs. A vanished sandbox or Job ends the
// run in Error (message set).
func (r *DRDrillRunReconciler) drillJob(ctx context.Context, run *opsv1alpha1.DRDrillRun, operation string, now time.Time) (res agentapi.DrillResult, done bool, next time.Duration, err error) {
	if msg, err := r.sandboxGone(ctx, run); err != nil || msg != "" {
		if msg != "" {
			r.complete(run, opsv1alpha1.DrillRunError, now, msg)
		}
		return res, false, 0, err
	}
	key := types.NamespacedName{Namespace: run.Status.SandboxNamespace, Name: operation}
	job := &batchv1.Job{}
	if err := r.Get(ctx, key, job); apierrors.IsNotFound(err) {
		// The cache may not have seen a Job created a moment ago.
		if err := r.APIReader.Get(ctx, key, job); apierrors.IsNotFound(err) {
			r.complete(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("the %s Job in %s was deleted before it finished", operation, key.Namespace))
			return res, false, 0, nil
		} else if err != nil {
			return res, false, 0, err
		}
		return res, false, 2 * time.Second, nil
	} else if err != nil {
		return res, false, 0, err
	}
	if !job.DeletionTimestamp.IsZero() && finishedCondition(job) == nil {
		r.complete(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("the %s Job in %s was deleted before it finished", operation, key.Namespace))
		return res, false, 0, nil
	}
	message, cond, state, err := readJob(ctx, r.Client, job)
	switch {
	case err != nil:
		return res, false, 0, err
	case state == jobRunning:
		return res, false, 0, nil
	case state == jobResultPending:
		return res, false, resultRecheck, nil
	}
	res, err = agentapi.DecodeDrillResult([]byte(message))
	switch {
	case err == nil && res.Operation == operation:
	case cond.Type == batchv1.JobComplete:
		res = agentapi.DrillResult{Error: fmt.Sprintf("the %s Job completed but the agent left no result", operation)}
	default:
		res = agentapi.DrillResult{Error: strings.TrimSpace(fmt.Sprintf("the %s Job failed: %s: %s %s", operation, cond.Reason, cond.Message, message))}
	}
	return res, true, 0, nil
}

// restoring waits for the restore Job and starts the verify Job.
func (r *DRDrillRunReconciler) restoring(ctx context.Context, run *opsv1alpha1.DRDrillRun, now time.Time) (time.Duration, error) {
	res, done, next, err := r.drillJob(ctx, run, agentapi.OperationRestore, now)
	if err != nil || !done {
		return next, err
	}
	if res.Error != "" {
		r.complete(run, opsv1alpha1.DrillRunError, now, "restore: "+res.Error)
		return 0, nil
	}
	policy := &opsv1alpha1.BackupPolicy{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: run.Namespace, Name: run.Spec.BackupPolicyName}, policy); apierrors.IsNotFound(err) {
		r.complete(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("BackupPolicy %s was deleted during the restore", run.Spec.BackupPolicyName))
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	plan, err := resources.PlanDrill(run.Spec.DrillProcedure, policy)
	var checks agentapi.VerifyConfig
	if err == nil {
		checks, err = plan.VerifyChecks(res.Restored)
	}
	if err != nil {
		r.complete(run, opsv1alpha1.DrillRunError, now, "planning the verification: "+err.Error())
		return 0, nil
	}
	run.Status.Snapshot = snapshotRef(res.Restored)
	if t := run.Status.Snapshot.Time; t != nil {
		run.Status.MeasuredRPO = &metav1.Duration{Duration: run.Status.StartTime.Sub(t.Time).Truncate(time.Second)}
	}
	timings := ensureTimings(run)
	timings.Restore = &metav1.Duration{Duration: res.End.Sub(res.Start)}
	job := resources.DrillJob(run, policy, r.AgentImage, checks, int64(r.Timeouts.Verifying.Seconds()), plan.HasVolumes)
	if err := r.createOnce(ctx, job); err != nil {
		return 0, err
	}
	r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, "Restored", "Restore", "restored snapshot %s in %s", run.Status.Snapshot.ID, timings.Restore.Duration)
	r.enter(run, opsv1alpha1.DrillRunVerifying, now, fmt.Sprintf("running %d checks on the restored copy", len(checks)))
	return 0, nil
}

func ensureTimings(run *opsv1alpha1.DRDrillRun) *opsv1alpha1.PhaseTimings {
	if run.Status.Timings == nil {
		run.Status.Timings = &opsv1alpha1.PhaseTimings{}
	}
	return run.Status.Timings
}

// snapshotRef names the restored snapshots; their time is the oldest one's
// (the recovery point of the whole restore).
func snapshotRef(restored []agentapi.Restored) *opsv1alpha1.SnapshotRef {
	ref := &opsv1alpha1.SnapshotRef{}
	ids, digests := make([]string, 0, len(restored)), make([]string, 0, len(restored))
	for _, x := range restored {
		ids = append(ids, x.ID)
		d := x.ManifestSHA256
		if d == "" {
			d = x.Manifest.Digest()
		}
		digests = append(digests, d)
		if ref.Time == nil || x.Time.Before(ref.Time.Time) {
			ref.Time = &metav1.Time{Time: x.Time}
		}
	}
	ref.ID, ref.ManifestSHA256 = strings.Join(ids, ","), strings.Join(digests, ",")
	return ref
}

// verifying waits for the verify Job and decides the run.
func (r *DRDrillRunReconciler) verifying(ctx context.Context, run *opsv1alpha1.DRDrillRun, now time.Time) (time.Duration, error) {
	res, done, next, err := r.drillJob(ctx, run, agentapi.OperationVerify, now)
	if err != nil || !done {
		return next, err
	}
	if res.Error != "" {
		r.complete(run, opsv1alpha1.DrillRunError, now, "verify: "+res.Error)
		return 0, nil
	}
	run.Status.Checks = nil
	var failed []string
	for _, c := range res.Checks {
		run.Status.Checks = append(run.Status.Checks, opsv1alpha1.CheckResult{Name: c.Name, Passed: c.Passed, Expected: c.Expected, Observed: c.Observed, Message: c.Message})
		if !c.Passed {
			failed = append(failed, c.Name)
		}
	}
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
	problems = append(problems, missed...)
	// Checks the termination message could not hold are not in status or
	// evidence: say so rather than let the list look complete.
	omitted := ""
	if res.ChecksOmitted > 0 {
		omitted = fmt.Sprintf(" (%d checks left out of the verify Job's report for its 4 KiB limit; its pod log has them)", res.ChecksOmitted)
	}
	if len(problems) > 0 {
		r.complete(run, opsv1alpha1.DrillRunFailed, now, strings.Join(problems, "; ")+omitted)
		return 0, nil
	}
	r.complete(run, opsv1alpha1.DrillRunPassed, now, fmt.Sprintf("%d checks passed%s; RTO %s, RPO %s",
		len(res.Checks)+res.ChecksOmitted, omitted, run.Status.MeasuredRTO.Duration, durationOrNone(run.Status.MeasuredRPO)))
	return 0, nil
}

func durationOrNone(d *metav1.Duration) string {
	if d == nil {
		return "not measured"
	}
	return d.Duration.String()
}

// finish records the evidence of a final run, then tears down its sandbox
// as spec.sandbox.keep says.
func (r *DRDrillRunReconciler) finish(ctx context.Context, run *opsv1alpha1.DRDrillRun) (ctrl.Result, error) {
	if run.Status.Evidence == nil {
		if err := r.recordEvidence(ctx, run); err != nil {
			if isUserError(err) {
				setCondition(&run.Status.Conditions, run.Generation, ConditionEvidenceRecorded, metav1.ConditionFalse, ReasonNotSigned, err.Error())
				r.Recorder.Eventf(run, nil, corev1.EventTypeWarning, ReasonNotSigned, "RecordEvidence", "evidence waits for its signing key: %v", err)
				return ctrl.Result{RequeueAfter: secretRecheck}, nil
			}
			return ctrl.Result{}, err
		}
	}
	keep := run.Spec.Sandbox.Keep
	deleteNow := keep == opsv1alpha1.SandboxKeepNever || (keep != opsv1alpha1.SandboxKeepAlways && run.Status.Phase == opsv1alpha1.DrillRunPassed)
	if !deleteNow && run.Status.CompletionTime != nil {
		ttl := 2 * time.Hour
		if run.Spec.Sandbox.TTL != nil {
			ttl = run.Spec.Sandbox.TTL.Duration
		}
		if left := run.Status.CompletionTime.Add(ttl).Sub(r.Clock.Now()); left > 0 && run.Status.SandboxNamespace != "" {
			setCondition(&run.Status.Conditions, run.Generation, ConditionSandboxDeleted, metav1.ConditionFalse, ReasonSandboxKept,
				fmt.Sprintf("sandbox %s kept (keep: %s) until %s", run.Status.SandboxNamespace, keep, run.Status.CompletionTime.Add(ttl).UTC().Format(time.RFC3339)))
			return ctrl.Result{RequeueAfter: left + time.Second}, nil
		}
	}
	return ctrl.Result{}, r.teardown(ctx, run, "the run ended")
}

// teardown deletes the sandbox namespace (the namespace controller removes
// what it holds) and lets the run go once the deletion is under way.
func (r *DRDrillRunReconciler) teardown(ctx context.Context, run *opsv1alpha1.DRDrillRun, why string) error {
	if !controllerutil.ContainsFinalizer(run, FinalizerSandbox) {
		return nil
	}
	name := resources.SandboxNamespaceName(run)
	var ns corev1.Namespace
	err := r.APIReader.Get(ctx, types.NamespacedName{Name: name}, &ns)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return err
	case ns.Labels[resources.LabelDrillRun] != run.Name || ns.Labels[resources.LabelDrillRunNamespace] != run.Namespace:
		// Not ours (a fixed name another run or someone else holds): never delete it.
	case ns.DeletionTimestamp.IsZero():
		if err := r.Delete(ctx, &ns, client.Preconditions{UID: &ns.UID}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, ReasonSandboxGone, "Teardown", "deleted sandbox namespace %s: %s", name, why)
	}
	if run.DeletionTimestamp.IsZero() {
		setCondition(&run.Status.Conditions, run.Generation, ConditionSandboxDeleted, metav1.ConditionTrue, ReasonSandboxGone,
			fmt.Sprintf("sandbox %s deleted: %s", name, why))
		// Persist the status before the finalizer goes.
		if err := r.Status().Update(ctx, run); err != nil {
			return err
		}
	}
	controllerutil.RemoveFinalizer(run, FinalizerSandbox)
	return client.IgnoreNotFound(r.Update(ctx, run))
}

// recordEvidence writes the run's report into an immutable ConfigMap in
// the drill's namespace, chained to the drill's previous report. A
// ConfigMap left by an interrupted earlier attempt is taken as it is.
func (r *DRDrillRunReconciler) recordEvidence(ctx context.Context, run *opsv1alpha1.DRDrillRun) error {
	name := evidence.ConfigMapName(run.Name)
	var existing corev1.ConfigMap
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: run.Namespace, Name: name}, &existing)
	switch {
	case err == nil:
		if existing.Labels[resources.LabelDrillRun] != run.Name {
			return fmt.Errorf("ConfigMap %s exists and is not this run's evidence", name)
		}
		rec, _, err := evidence.FromConfigMap(&existing)
		if err != nil {
			return err
		}
		r.setEvidence(run, rec)
		return nil
	case !apierrors.IsNotFound(err):
		return err
	}
	key, err := signingKey(ctx, r.APIReader, run.Namespace, run.Spec.Evidence)
	if err != nil {
		return err
	}
	chain, err := evidence.LoadChain(ctx, r.APIReader, run.Namespace, run.Spec.DrillName)
	if err != nil {
		return err
	}
	var previous *evidence.Record
	if len(chain) > 0 {
		previous = &chain[len(chain)-1]
	}
	rec := evidence.Seal(name, evidence.ReportOf(run, r.Version), previous, key)
	cm := evidence.ToConfigMap(run, rec)
	if err := r.Create(ctx, cm); err != nil {
		return fmt.Errorf("creating evidence ConfigMap %s: %w", name, err)
	}
	r.setEvidence(run, rec)
	r.Recorder.Eventf(run, cm, corev1.EventTypeNormal, ReasonEvidenceSaved, "RecordEvidence", "report %s recorded in ConfigMap %s (sha256 %.12s)", run.Name, name, rec.SHA256)
	return nil
}

func (r *DRDrillRunReconciler) setEvidence(run *opsv1alpha1.DRDrillRun, rec evidence.Record) {
	prev := ""
	if rep, err := evidence.Parse(rec.Canonical); err == nil {
		prev = rep.PreviousReportSHA256
	}
	run.Status.Evidence = &opsv1alpha1.EvidenceRef{ConfigMapName: rec.Name, SHA256: rec.SHA256, PreviousSHA256: prev, Signature: rec.Signature}
	setCondition(&run.Status.Conditions, run.Generation, ConditionEvidenceRecorded, metav1.ConditionTrue, ReasonEvidenceSaved,
		fmt.Sprintf("report in ConfigMap %s, sha256 %s", rec.Name, rec.SHA256))
}

// SetupWithManager watches runs and, through their labels, the sandbox
// namespaces, pods and Jobs they create.
func (r *DRDrillRunReconciler) SetupWithManager(mgr ctrl.Manager) error {
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
		Named("drdrillrun").
		Complete(r)
}
