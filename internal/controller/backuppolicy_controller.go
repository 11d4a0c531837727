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
	"net"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/placement"
	"github.com/supportstack/operator/internal/podhealth"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/schedule"
)

// recentBackupsLimit bounds status.recentBackups.
const recentBackupsLimit = 10

// maxSetSnapshots bounds the snapshots a recent backup lists (the field's
// MaxItems): 16 postgres sources of up to 32 databases do not fit.
const maxSetSnapshots = 64

// BackupPolicyReconciler keeps a policy's backup, prune and check CronJobs,
// their ServiceAccount and NetworkPolicy in shape, and reads finished Jobs'
// results into status.
type BackupPolicyReconciler struct {
	client.Client
	// APIReader reads Secrets and PVCs, which the manager does not cache.
	APIReader  client.Reader
	Recorder   events.EventRecorder
	Clock      clock.PassiveClock
	AgentImage string
	// AgentCacheBytes bounds the agent pods' cache volume;
	// resources.DefaultAgentCacheBytes when zero.
	AgentCacheBytes int64
	// MountingPods reads every pod's node and claims, indexed by claim
	// (newMountingPodCache): backup pods follow the application pods that
	// have their ReadWriteOnce volumes mounted.
	MountingPods client.Reader

	// cronJobs is what the reconciler last saw of each backup CronJob
	// whole (applyCronJob).
	cronJobs cronJobsSeen
}

// +kubebuilder:rbac:groups=ops.supportstack.io,resources=backuppolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=backuppolicies/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=drdrills;drdrillruns,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=cronjobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims;services,verbs=get
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete

// Reconcile brings one BackupPolicy's children and status in line.
func (r *BackupPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	log := logf.FromContext(ctx)
	policy := &opsv1alpha1.BackupPolicy{}
	if err := r.Get(ctx, req.NamespacedName, policy); err != nil {
		if apierrors.IsNotFound(err) {
			forgetPolicy(req.Namespace, req.Name)
			r.cronJobs.forgetPolicy(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	before := policy.DeepCopy()
	ctx, recordApplied := batchApplied(ctx, r.Recorder, policy)
	defer func() {
		recordApplied()
		reterr = errors.Join(reterr, patchStatus(ctx, r.Client, before, policy, before.Status, policy.Status))
	}()

	now := r.Clock.Now()
	requeue := time.Duration(0)
	problems, peers, plan, err := r.checkAndPlace(ctx, policy)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(problems) > 0 {
		setCondition(policy, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonInvalidSpec, strings.Join(problems, "; "))
		// Secrets and PVCs are not watched: look again soon.
		requeue = secretRecheck
	} else {
		if err := r.reconcileChildren(ctx, policy, peers, plan); err != nil {
			return ctrl.Result{}, err
		}
		msg := "backup, prune and check CronJobs, ServiceAccount and NetworkPolicy in place"
		if len(plan.Parts) > 1 {
			msg += fmt.Sprintf("; each backup runs in %d parts, where their volumes are mounted: %s", len(plan.Parts), plan.Describe())
		}
		setCondition(policy, opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonReconciled, msg)
		policy.Status.ObservedGeneration = policy.Generation
		if err := r.reconcileBackupNow(ctx, policy, len(plan.Parts)); err != nil {
			return ctrl.Result{}, err
		}
	}
	pending, err := r.reconcileResults(ctx, policy, before)
	if err != nil {
		return ctrl.Result{}, err
	}
	if pending {
		requeue = sooner(requeue, resultRecheck)
	}
	requeue = sooner(requeue, r.reconcileRPO(policy, before, now))
	next, err := r.reconcileVerification(ctx, policy, before, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	requeue = sooner(requeue, next)
	if next, err := schedule.Next(string(policy.Spec.Schedule), string(policy.Spec.TimeZone), now); err == nil && !policy.Spec.Suspend {
		policy.Status.NextScheduleTime = &metav1.Time{Time: next}
	} else {
		policy.Status.NextScheduleTime = nil
	}
	log.V(1).Info("reconciled", "backupPolicy", klog.KObj(policy), "requeueAfter", requeue)
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// sooner is the earlier of two requeue delays, 0 meaning none.
func sooner(a, b time.Duration) time.Duration {
	if a == 0 || b > 0 && b < a {
		return b
	}
	return a
}

// checkAndPlace checks the policy's references and places its backup pods:
// a volume no backup pod can mount is one more problem.
func (r *BackupPolicyReconciler) checkAndPlace(ctx context.Context, policy *opsv1alpha1.BackupPolicy) ([]string, []resources.EgressPeer, placement.Plan, error) {
	problems, peers, claims, err := r.checkReferences(ctx, policy)
	if err != nil {
		return nil, nil, placement.Plan{}, err
	}
	plan, err := r.place(ctx, policy, claims)
	if err != nil {
		return nil, nil, placement.Plan{}, err
	}
	for _, v := range policy.Spec.Sources.Volumes {
		if why := plan.Refused[v.Name]; why != "" {
			problems = append(problems, fmt.Sprintf("sources.volumes[%s].claimName: %s", v.Name, why))
		}
	}
	if why := plan.Refused[placement.Repository]; why != "" {
		problems = append(problems, "repository.volumeClaimName: "+why)
	}
	return problems, peers, plan, nil
}

// checkReferences verifies what CEL cannot: the referenced Secrets, keys and
// PVCs exist. It also finds where backup pods must be allowed to connect.
func (r *BackupPolicyReconciler) checkReferences(ctx context.Context, policy *opsv1alpha1.BackupPolicy) ([]string, []resources.EgressPeer, map[string]placement.Claim, error) {
	var problems []string
	var peers []resources.EgressPeer
	// A missing Secret or key is a problem to report, anything else an error.
	problem := func(err error) error {
		var missing *missingSecret
		if errors.As(err, &missing) {
			problems = append(problems, missing.Error())
			return nil
		}
		return err
	}
	secretValue := func(field string, ref opsv1alpha1.SecretKeyRef) (string, error) {
		s, err := readSecret(ctx, r.APIReader, policy.Namespace, field, ref.Name, ref.Key)
		if err != nil {
			return "", problem(err)
		}
		return string(s.Data[ref.Key]), nil
	}
	spec := policy.Spec
	if _, err := secretValue("repository.passwordSecretRef", spec.Repository.PasswordSecretRef); err != nil {
		return nil, nil, nil, err
	}
	if c := spec.Repository.CredentialsSecretRef; c != nil {
		if _, err := readSecret(ctx, r.APIReader, policy.Namespace, "repository.credentialsSecretRef", c.Name, ""); problem(err) != nil {
			return nil, nil, nil, err
		}
	}
	for _, p := range spec.Sources.Postgres {
		uri, err := secretValue("sources.postgres["+p.Name+"].connectionSecretRef", p.ConnectionSecretRef)
		if err != nil {
			return nil, nil, nil, err
		}
		if uri == "" {
			continue
		}
		host, port, err := postgresEndpoint(uri)
		if err != nil {
			// Never echo the URI: it holds a password.
			problems = append(problems, fmt.Sprintf("sources.postgres[%s]: the connection Secret's value is not a postgresql:// URI", p.Name))
			continue
		}
		peer, err := resolvePeer(ctx, r.APIReader, policy.Namespace, host, port)
		if err != nil {
			return nil, nil, nil, err
		}
		peers = append(peers, peer)
	}
	claims := map[string]string{}
	for _, v := range spec.Sources.Volumes {
		claims[v.ClaimName] = "sources.volumes[" + v.Name + "].claimName"
	}
	if c := spec.Repository.VolumeClaimName; c != "" {
		claims[c] = "repository.volumeClaimName"
	}
	found := map[string]placement.Claim{}
	for claim, field := range claims {
		var pvc corev1.PersistentVolumeClaim
		if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: policy.Namespace, Name: claim}, &pvc); apierrors.IsNotFound(err) {
			problems = append(problems, fmt.Sprintf("%s: PersistentVolumeClaim %s not found", field, claim))
		} else if err != nil {
			return nil, nil, nil, err
		} else {
			found[claim] = placement.Claim{Name: claim, AccessModes: pvc.Spec.AccessModes}
		}
	}
	if host, port, ok := resources.RepositoryEndpoint(spec.Repository.URL); ok {
		peer, err := resolvePeer(ctx, r.APIReader, policy.Namespace, host, port)
		if err != nil {
			return nil, nil, nil, err
		}
		peers = append(peers, peer)
	}
	sort.Strings(problems)
	return problems, peers, found, nil
}

func postgresEndpoint(uri string) (string, int32, error) {
	env, err := agentapi.LibpqEnv(uri)
	if err != nil {
		return "", 0, err
	}
	host, port := "", int32(5432)
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PGHOST="); ok {
			host = v
		}
		if v, ok := strings.CutPrefix(kv, "PGPORT="); ok {
			var p int
			if _, err := fmt.Sscanf(v, "%d", &p); err == nil {
				port = int32(p)
			}
		}
	}
	return host, port, nil
}

// resolvePeer turns a host into a NetworkPolicy peer: an IP is pinned as
// /32; an in-cluster Service name (svc, svc.ns, svc.ns.svc...) becomes its
// pods; anything else (an external name, a cloud API) is allowed on its
// port only, to any address, since NetworkPolicies cannot name hosts.
func resolvePeer(ctx context.Context, reader client.Reader, namespace, host string, port int32) (resources.EgressPeer, error) {
	if ip := net.ParseIP(host); ip != nil {
		bits := "/32"
		if ip.To4() == nil {
			bits = "/128"
		}
		return resources.EgressPeer{CIDR: ip.String() + bits, Port: port}, nil
	}
	parts := strings.Split(host, ".")
	if host != "" && (len(parts) == 1 || len(parts) == 2 || (len(parts) >= 3 && parts[2] == "svc")) {
		ns := namespace
		if len(parts) >= 2 {
			ns = parts[1]
		}
		var svc corev1.Service
		err := reader.Get(ctx, types.NamespacedName{Namespace: ns, Name: parts[0]}, &svc)
		if err != nil && !apierrors.IsNotFound(err) {
			return resources.EgressPeer{}, err
		}
		if err == nil && len(svc.Spec.Selector) > 0 {
			target := port
			for _, p := range svc.Spec.Ports {
				if p.Port == port && p.TargetPort.IntValue() > 0 {
					target = int32(p.TargetPort.IntValue())
				}
			}
			return resources.EgressPeer{Namespace: ns, PodSelector: svc.Spec.Selector, Port: target}, nil
		}
	}
	return resources.EgressPeer{CIDR: "0.0.0.0/0", Port: port}, nil
}

// reconcileChildren applies the ServiceAccount, CronJobs and NetworkPolicy.
func (r *BackupPolicyReconciler) reconcileChildren(ctx context.Context, policy *opsv1alpha1.BackupPolicy, peers []resources.EgressPeer, plan placement.Plan) error {
	sa := resources.BackupServiceAccount(policy)
	if err := createOrPatch(ctx, r.Client, r.Recorder, policy, sa, func(existing *corev1.ServiceAccount) {
		existing.Labels = mergeLabels(existing.Labels, sa.Labels)
		existing.AutomountServiceAccountToken = sa.AutomountServiceAccountToken
	}); err != nil {
		return err
	}
	if err := r.reconcileBackupCronJobs(ctx, policy, plan); err != nil {
		return err
	}
	operations := []string{agentapi.OperationPrune}
	if policy.Spec.Check != nil {
		operations = append(operations, agentapi.OperationCheck)
	} else {
		stale := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: policy.Namespace, Name: resources.BackupName(policy, agentapi.OperationCheck)}}
		r.cronJobs.forget(client.ObjectKeyFromObject(stale))
		if err := r.Delete(ctx, stale); err == nil {
			r.Recorder.Eventf(policy, stale, corev1.EventTypeNormal, opsv1alpha1.ReasonDeleted, "Delete", "deleted CronJob %s: the policy no longer has a check", stale.Name)
		} else if !apierrors.IsNotFound(err) {
			return err
		}
	}
	for _, op := range operations {
		cj := resources.BackupCronJob(policy, op, r.AgentImage, resources.WithAgentCache(r.AgentCacheBytes))
		resources.RequireNode(&cj.Spec.JobTemplate.Spec.Template.Spec, plan.RepositoryNode)
		if err := r.applyCronJob(ctx, policy, cj); err != nil {
			return err
		}
	}
	np := resources.BackupNetworkPolicy(policy, peers)
	return createOrPatch(ctx, r.Client, r.Recorder, policy, np, func(existing *networkingv1.NetworkPolicy) {
		existing.Labels = mergeLabels(existing.Labels, np.Labels)
		// Whole: a source removed takes its egress rule with it.
		setWhole(&existing.Spec, np.Spec)
	})
}

// reconcileResults reads the finished backup Jobs into status; it reports
// whether a finished Job's result is not readable yet.
func (r *BackupPolicyReconciler) reconcileResults(ctx context.Context, policy *opsv1alpha1.BackupPolicy, before *opsv1alpha1.BackupPolicy) (bool, error) {
	var jobs batchv1.JobList
	if err := r.List(ctx, &jobs, client.InNamespace(policy.Namespace), client.MatchingLabels{
		resources.LabelBackupPolicy: policy.Name, resources.LabelOperation: agentapi.OperationBackup,
	}); err != nil {
		return false, err
	}
	runs, running, err := backupRuns(jobs.Items, recordedJobs(before), func(job *batchv1.Job) (opsv1alpha1.BackupResult, jobState, error) {
		return r.jobResult(ctx, job)
	})
	if err != nil {
		return false, err
	}
	pending := false
	results := append([]opsv1alpha1.BackupResult{}, policy.Status.RecentBackups...)
	now := r.Clock.Now()
	keys := make([]string, 0, len(runs))
	for k := range runs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		run := runs[k]
		if !run.ready(now) {
			pending = pending || run.waiting()
			continue
		}
		res := run.merge()
		results = append(results, res)
		if res.Result == opsv1alpha1.BackupSucceeded {
			r.Recorder.Eventf(policy, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonBackupSucceeded, "Backup",
				"backup %s succeeded: snapshot %s, %d bytes added", partJobNames(res), res.SnapshotID, res.BytesAdded)
		} else {
			r.Recorder.Eventf(policy, nil, corev1.EventTypeWarning, backupFailureReason(res.Message), "Backup", "backup %s failed: %s", partJobNames(res), res.Message)
		}
	}
	if err := r.reconcilePods(ctx, policy, before, running); err != nil {
		return false, err
	}
	sort.SliceStable(results, func(i, j int) bool { return completion(results[i]).After(completion(results[j])) })
	if len(results) > recentBackupsLimit {
		results = results[:recentBackupsLimit]
	}
	if len(results) == 0 {
		return pending, nil
	}
	summarizeResults(policy, results)
	return pending, nil
}

// summarizeResults records the recent backups, newest first, in status,
// conditions and metrics.
func summarizeResults(policy *opsv1alpha1.BackupPolicy, results []opsv1alpha1.BackupResult) {
	policy.Status.RecentBackups = results
	last := results[0]
	policy.Status.LastBackup = &last
	for _, b := range results {
		if b.Result == opsv1alpha1.BackupSucceeded {
			if policy.Status.LastSuccessfulTime == nil || b.CompletionTime.After(policy.Status.LastSuccessfulTime.Time) {
				policy.Status.LastSuccessfulTime = b.CompletionTime.DeepCopy()
			}
			break
		}
	}
	labels := []string{policy.Namespace, policy.Name}
	if last.Result == opsv1alpha1.BackupSucceeded {
		setCondition(policy, opsv1alpha1.ConditionLastBackupSucceeded, metav1.ConditionTrue, opsv1alpha1.ReasonBackupSucceeded,
			fmt.Sprintf("backup %s: snapshot %s, %d bytes added", last.JobName, last.SnapshotID, last.BytesAdded))
		backupLastBytesAdded.WithLabelValues(labels...).Set(float64(last.BytesAdded))
	} else {
		setCondition(policy, opsv1alpha1.ConditionLastBackupSucceeded, metav1.ConditionFalse, backupFailureReason(last.Message),
			fmt.Sprintf("backup %s: %s", last.JobName, last.Message))
	}
	if last.StartTime != nil && last.CompletionTime != nil {
		backupLastDuration.WithLabelValues(labels...).Set(last.CompletionTime.Sub(last.StartTime.Time).Seconds())
	}
	if t := policy.Status.LastSuccessfulTime; t != nil {
		backupLastSuccess.WithLabelValues(labels...).Set(float64(t.Unix()))
	}
	failures := 0
	for _, b := range results {
		if b.Result == opsv1alpha1.BackupSucceeded {
			break
		}
		failures++
	}
	backupConsecutiveFailures.WithLabelValues(labels...).Set(float64(failures))
}

// reconcileBackupNow starts one backup Job from the backup CronJob's
// template for each new value of the backup-now annotation, and records the
// value in status.
func (r *BackupPolicyReconciler) reconcileBackupNow(ctx context.Context, policy *opsv1alpha1.BackupPolicy, parts int) error {
	token := policy.Annotations[resources.AnnotationBackupNow]
	if token == "" || token == policy.Status.LastBackupNowToken {
		return nil
	}
	// One Job per part of the run, from each part's CronJob.
	names := make([]string, 0, parts)
	for i := 1; i <= parts; i++ {
		// The CronJob may have been created a moment ago: read it from the
		// API server, for the owner reference's UID.
		cronJob := &batchv1.CronJob{}
		if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: policy.Namespace, Name: resources.BackupPartName(policy, i)}, cronJob); err != nil {
			return err
		}
		job := resources.BackupNowJob(cronJob, token)
		if err := controllerutil.SetControllerReference(cronJob, job, r.Scheme()); err != nil {
			return err
		}
		if err := r.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating backup Job %s: %w", job.Name, err)
		}
		names = append(names, job.Name)
	}
	policy.Status.LastBackupNowToken = token
	r.Recorder.Eventf(policy, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonBackupStarted, "BackupNow", "started backup Job %s for %s=%s",
		strings.Join(names, ", "), resources.AnnotationBackupNow, token)
	return nil
}

// reconcilePods reports a pod of a running backup Job that cannot make
// progress (unschedulable, an unbound claim, a missing image, a crash loop)
// in PodsRunnable, with an event when the cause changes.
func (r *BackupPolicyReconciler) reconcilePods(ctx context.Context, policy, before *opsv1alpha1.BackupPolicy, running []*batchv1.Job) error {
	var stuck *podhealth.Problem
	job := ""
	for _, j := range running {
		problem, err := diagnoseJobPods(ctx, r.Client, r.APIReader, j)
		if err != nil {
			return err
		}
		if problem != nil {
			stuck, job = problem, j.Name
			if err := r.endMisplacedJob(ctx, policy, j, problem); err != nil {
				return err
			}
			break
		}
	}
	if stuck == nil {
		setCondition(policy, opsv1alpha1.ConditionPodsRunnable, metav1.ConditionTrue, opsv1alpha1.ReasonPodsRunnable, "no pod of a running backup Job is stuck")
		return nil
	}
	msg := fmt.Sprintf("Job %s: %s", job, stuck)
	if c := meta.FindStatusCondition(before.Status.Conditions, opsv1alpha1.ConditionPodsRunnable); c == nil || c.Message != msg {
		r.Recorder.Eventf(policy, nil, corev1.EventTypeWarning, stuck.Reason, "Backup", "%s", msg)
	}
	setCondition(policy, opsv1alpha1.ConditionPodsRunnable, metav1.ConditionFalse, stuck.Reason, msg)
	return nil
}

func completion(b opsv1alpha1.BackupResult) time.Time {
	if b.CompletionTime != nil {
		return b.CompletionTime.Time
	}
	return time.Time{}
}

// jobResult reads a finished Job's outcome from its pod's termination
// message (written by the agent), falling back to the Job's own condition
// when the agent could not write one (killed, out of memory, deadline).
func (r *BackupPolicyReconciler) jobResult(ctx context.Context, job *batchv1.Job) (opsv1alpha1.BackupResult, jobState, error) {
	message, done, state, err := readJob(ctx, r.Client, job)
	if state != jobFinished || err != nil {
		return opsv1alpha1.BackupResult{}, state, err
	}
	res := opsv1alpha1.BackupResult{JobName: job.Name, Result: opsv1alpha1.BackupFailed, StartTime: job.Status.StartTime, CompletionTime: &done.LastTransitionTime}
	if job.Status.CompletionTime != nil {
		res.CompletionTime = job.Status.CompletionTime
	}
	out, err := agentapi.DecodeResult([]byte(message))
	switch {
	case err == nil && out.Operation != "":
		if out.Succeeded && done.Type == batchv1.JobComplete {
			res.Result = opsv1alpha1.BackupSucceeded
		}
		res.StartTime, res.CompletionTime = &metav1.Time{Time: out.Start}, &metav1.Time{Time: out.End}
		if agentapi.ValidRecoverySet(out.RecoverySet) {
			res.RecoverySet = out.RecoverySet
		}
		for i, s := range out.Snapshots {
			if !agentapi.ValidSnapshotID(s.ID) {
				continue // not a snapshot id: not recorded
			}
			if i == 0 {
				res.SnapshotID = s.ID
			}
			if len(res.Snapshots) < maxSetSnapshots {
				res.Snapshots = append(res.Snapshots, opsv1alpha1.SourceSnapshot{Source: s.Source, Database: s.Database, ID: s.ID})
			}
			res.BytesAdded += s.Added
			res.TotalBytes += s.Total
		}
		res.Message = out.Error
	case done.Type == batchv1.JobComplete:
		res.Message = "the Job completed but the agent left no result"
	default:
		res.Message = strings.TrimSpace(fmt.Sprintf("%s: %s %s", done.Reason, done.Message, message))
	}
	if because := job.Annotations[annotationEndedBecause]; because != "" && res.Result != opsv1alpha1.BackupSucceeded {
		res.Message = because
	}
	if len(res.Message) > 1024 {
		res.Message = res.Message[:1024]
	}
	return res, jobFinished, nil
}

// reconcileRPO compares the age of the newest successful backup with the
// objective and returns when the answer changes next.
func (r *BackupPolicyReconciler) reconcileRPO(policy, before *opsv1alpha1.BackupPolicy, now time.Time) time.Duration {
	labels := []string{policy.Namespace, policy.Name}
	if policy.Spec.Objectives == nil {
		meta.RemoveStatusCondition(&policy.Status.Conditions, opsv1alpha1.ConditionRPOMet)
		backupRPOMet.DeleteLabelValues(labels...)
		return 0
	}
	rpo := policy.Spec.Objectives.RPO.Duration
	ref, what := policy.CreationTimestamp.Time, "no successful backup since the policy was created"
	if t := policy.Status.LastSuccessfulTime; t != nil {
		ref, what = t.Time, "the newest successful backup completed"
	}
	age := now.Sub(ref).Truncate(time.Second)
	if age <= rpo {
		setCondition(policy, opsv1alpha1.ConditionRPOMet, metav1.ConditionTrue, opsv1alpha1.ReasonWithinRPO,
			fmt.Sprintf("%s at %s, within the RPO of %s", what, ref.UTC().Format(time.RFC3339), rpo))
		backupRPOMet.WithLabelValues(labels...).Set(1)
		return ref.Add(rpo).Sub(now) + time.Second
	}
	msg := fmt.Sprintf("%s at %s, %s ago: over the RPO of %s", what, ref.UTC().Format(time.RFC3339), age, rpo)
	if c := meta.FindStatusCondition(before.Status.Conditions, opsv1alpha1.ConditionRPOMet); c == nil || c.Status != metav1.ConditionFalse {
		r.Recorder.Eventf(policy, nil, corev1.EventTypeWarning, opsv1alpha1.ReasonRPOMissed, "CheckRPO", "%s", msg)
	}
	// The message names no changing age, so a steady breach writes nothing.
	setCondition(policy, opsv1alpha1.ConditionRPOMet, metav1.ConditionFalse, opsv1alpha1.ReasonRPOMissed,
		fmt.Sprintf("%s at %s: older than the RPO of %s", what, ref.UTC().Format(time.RFC3339), rpo))
	backupRPOMet.WithLabelValues(labels...).Set(0)
	return 0
}

// SetupWithManager watches policies, their children and their Jobs.
func (r *BackupPolicyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	ctx := context.Background()
	if err := mgr.GetFieldIndexer().IndexField(ctx, &opsv1alpha1.BackupPolicy{}, policyClaimIndex, policyClaims); err != nil {
		return err
	}
	mounting, err := newMountingPodCache(ctx, mgr.GetConfig(), mgr.GetScheme())
	if err != nil {
		return err
	}
	if err := mgr.Add(mounting); err != nil {
		return err
	}
	r.MountingPods = mounting
	byPolicyLabel := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		name := o.GetLabels()[resources.LabelBackupPolicy]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&opsv1alpha1.BackupPolicy{}).
		Owns(&batchv1.CronJob{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&networkingv1.NetworkPolicy{}).
		// Pods carry the policy's label: a pod that gets stuck is reported
		// when the kubelet or the scheduler says so.
		Watches(&corev1.Pod{}, byPolicyLabel).
		// Jobs are owned by the CronJobs, not the policy: map them by label.
		Watches(&batchv1.Job{}, byPolicyLabel).
		// An application pod that mounts a volume source moves the
		// backup pods of that volume with it.
		WatchesRawSource(source.Kind(mounting, &corev1.Pod{}, handler.TypedEnqueueRequestsFromMapFunc(r.policiesOfPod), placementChanged)).
		// A drill run that passes verifies the policy it restored.
		Watches(&opsv1alpha1.DRDrill{}, handler.EnqueueRequestsFromMapFunc(policyOfDrill), builder.WithPredicates(drillNamesPolicy)).
		Watches(&opsv1alpha1.DRDrillRun{}, handler.EnqueueRequestsFromMapFunc(policyOfDrill), builder.WithPredicates(runVerifiesPolicy)).
		Named("backuppolicy").
		Complete(r)
}
