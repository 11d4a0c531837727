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
	"sort"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/placement"
	"github.com/supportstack/operator/internal/podhealth"
	"github.com/supportstack/operator/internal/resources"
)

// Backup pods must run where their ReadWriteOnce volumes can attach: on the
// node of the application pod that has the claim mounted. The operator
// learns where those pods are from a cache of its own, holding for every
// pod in the cluster only its node, phase and claim names (the manager's
// cache holds only the operator's own pods), indexed by claim: a pod that
// moves re-reconciles exactly the policies that back up its claims.

const (
	// podClaimIndex indexes pods by "<namespace>/<claim>" of each claim
	// they mount.
	podClaimIndex = "spec.volumes.persistentVolumeClaim"
	// policyClaimIndex indexes BackupPolicies by the claim of each volume
	// source.
	policyClaimIndex = "spec.sources.volumes.claimName"
)

// slimPod keeps of a pod what placement reads, so that a cache of every
// pod in the cluster costs about 1.5 KB a pod (the Pod struct alone is
// 1.2 KB) instead of the 5 to 20 KB of a whole pod.
func slimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	slim := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID, ResourceVersion: pod.ResourceVersion,
		CreationTimestamp: pod.CreationTimestamp, DeletionTimestamp: pod.DeletionTimestamp,
	}}
	for _, l := range []string{opsv1alpha1.LabelManagedBy, resources.LabelHelpDesk} {
		if v := pod.Labels[l]; v != "" {
			if slim.Labels == nil {
				slim.Labels = map[string]string{}
			}
			slim.Labels[l] = v
		}
	}
	slim.Spec.NodeName = pod.Spec.NodeName
	for _, v := range pod.Spec.Volumes {
		if c := v.PersistentVolumeClaim; c != nil {
			slim.Spec.Volumes = append(slim.Spec.Volumes, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.ClaimName}}})
		}
	}
	slim.Status.Phase = pod.Status.Phase
	return slim, nil
}

// podClaims are the index keys of a pod: its namespace/claim pairs. The
// operator's own pods (backup, drill) are left out: a backup pod mounts
// the claim too, and must follow the application, not itself. A
// HelpDesk's pods are the operator's too, but they are the application:
// RT's web pod has the attachments' claim mounted, and the backup must run
// on its node.
func podClaims(obj client.Object) []string {
	pod := obj.(*corev1.Pod)
	if pod.Labels[opsv1alpha1.LabelManagedBy] == opsv1alpha1.ManagedByValue && pod.Labels[resources.LabelHelpDesk] == "" {
		return nil
	}
	var keys []string
	for _, v := range pod.Spec.Volumes {
		if c := v.PersistentVolumeClaim; c != nil {
			keys = append(keys, pod.Namespace+"/"+c.ClaimName)
		}
	}
	return keys
}

func policyClaims(obj client.Object) []string {
	policy := obj.(*opsv1alpha1.BackupPolicy)
	keys := make([]string, 0, len(policy.Spec.Sources.Volumes))
	for _, v := range policy.Spec.Sources.Volumes {
		keys = append(keys, v.ClaimName)
	}
	return keys
}

// newMountingPodCache is the cache of every pod's node, phase and claims,
// indexed by claim. The caller starts it (the manager does, once added).
func newMountingPodCache(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme) (cache.Cache, error) {
	c, err := cache.New(cfg, cache.Options{
		Scheme:   scheme,
		ByObject: map[client.Object]cache.ByObject{&corev1.Pod{}: {Transform: slimPod}},
	})
	if err != nil {
		return nil, err
	}
	if err := c.IndexField(ctx, &corev1.Pod{}, podClaimIndex, podClaims); err != nil {
		return nil, err
	}
	return c, nil
}

// placementChanged lets through only the pod updates placement reads
// (node, phase, deletion, claims): an application pod's status changes
// often (readiness, restarts), and each would cost its policies a reconcile.
var placementChanged = predicate.TypedFuncs[*corev1.Pod]{
	UpdateFunc: func(e event.TypedUpdateEvent[*corev1.Pod]) bool {
		o, n := e.ObjectOld, e.ObjectNew
		return o.Spec.NodeName != n.Spec.NodeName || o.Status.Phase != n.Status.Phase ||
			(o.DeletionTimestamp == nil) != (n.DeletionTimestamp == nil) || !slices.Equal(claimNames(o), claimNames(n))
	},
}

// policiesOfPod maps a pod to the policies that back up a claim it mounts.
func (r *BackupPolicyReconciler) policiesOfPod(ctx context.Context, pod *corev1.Pod) []reconcile.Request {
	var out []reconcile.Request
	seen := map[string]bool{}
	for _, key := range podClaims(pod) {
		claim := key[len(pod.Namespace)+1:]
		var list opsv1alpha1.BackupPolicyList
		if err := r.List(ctx, &list, client.InNamespace(pod.Namespace), client.MatchingFields{policyClaimIndex: claim}); err != nil {
			continue // the cache is not started yet: the policy's own events follow
		}
		for _, p := range list.Items {
			if !seen[p.Name] {
				seen[p.Name] = true
				out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
			}
		}
	}
	return out
}

// place decides where the policy's backup pods run, from its claims (read
// by checkReferences) and the pods that mount them.
func (r *BackupPolicyReconciler) place(ctx context.Context, policy *opsv1alpha1.BackupPolicy, claims map[string]placement.Claim) (placement.Plan, error) {
	var pods []placement.Pod
	volumes := make([]placement.Volume, 0, len(policy.Spec.Sources.Volumes))
	seen := map[string]bool{}
	for _, v := range policy.Spec.Sources.Volumes {
		volumes = append(volumes, placement.Volume{Name: v.Name, Claim: v.ClaimName})
		if seen[v.ClaimName] {
			continue
		}
		seen[v.ClaimName] = true
		more, err := r.podsMounting(ctx, policy.Namespace, v.ClaimName)
		if err != nil {
			return placement.Plan{}, err
		}
		pods = append(pods, more...)
	}
	repository := ""
	if c := policy.Spec.Repository.VolumeClaimName; c != "" && strings.HasPrefix(policy.Spec.Repository.URL, "/") {
		repository = c
		if !seen[c] {
			more, err := r.podsMounting(ctx, policy.Namespace, c)
			if err != nil {
				return placement.Plan{}, err
			}
			pods = append(pods, more...)
		}
	}
	return placement.For(volumes, claims, pods, len(policy.Spec.Sources.Postgres) > 0, repository), nil
}

// podsMounting are the pods (not the operator's) that mount a claim.
func (r *BackupPolicyReconciler) podsMounting(ctx context.Context, namespace, claim string) ([]placement.Pod, error) {
	var list corev1.PodList
	if err := r.MountingPods.List(ctx, &list, client.MatchingFields{podClaimIndex: namespace + "/" + claim}); err != nil {
		return nil, fmt.Errorf("pods mounting claim %s: %w", claim, err)
	}
	out := make([]placement.Pod, 0, len(list.Items))
	for _, p := range list.Items {
		out = append(out, placement.Pod{Name: p.Name, Node: p.Spec.NodeName, Phase: p.Status.Phase,
			Deleting: p.DeletionTimestamp != nil, Created: p.CreationTimestamp.Time, Claims: claimNames(&p)})
	}
	return out, nil
}

func claimNames(pod *corev1.Pod) []string {
	var out []string
	for _, v := range pod.Spec.Volumes {
		if c := v.PersistentVolumeClaim; c != nil {
			out = append(out, c.ClaimName)
		}
	}
	return out
}

// reconcileBackupCronJobs puts one backup CronJob per part of the plan in
// shape and deletes the parts the plan no longer has, once none of their
// Jobs is running or unrecorded (deleting a CronJob deletes its Jobs, and
// with them results not yet read).
func (r *BackupPolicyReconciler) reconcileBackupCronJobs(ctx context.Context, policy *opsv1alpha1.BackupPolicy, plan placement.Plan) error {
	want := map[string]bool{}
	for _, cj := range resources.BackupCronJobs(policy, r.AgentImage, plan, resources.WithAgentCache(r.AgentCacheBytes)) {
		want[cj.Name] = true
		if err := r.applyCronJob(ctx, policy, cj); err != nil {
			return err
		}
	}
	var cronJobs batchv1.CronJobList
	if err := r.List(ctx, &cronJobs, client.InNamespace(policy.Namespace), client.MatchingLabels{
		resources.LabelBackupPolicy: policy.Name, resources.LabelOperation: agentapi.OperationBackup,
	}); err != nil {
		return err
	}
	recorded := recordedJobs(policy)
	var stale []string
	for i := range cronJobs.Items {
		cj := &cronJobs.Items[i]
		if want[cj.Name] || !metav1.IsControlledBy(cj, policy) {
			continue
		}
		busy, err := r.hasUnrecordedJobs(ctx, cj, recorded)
		if err != nil {
			return err
		}
		if busy {
			// Deleted once its last Job is recorded; until then it must not
			// start another run on its old node.
			if cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
				patch := client.MergeFrom(cj.DeepCopy())
				cj.Spec.Suspend = ptr.To(true)
				if err := r.Patch(ctx, cj, patch); client.IgnoreNotFound(err) != nil {
					return err
				}
			}
			continue
		}
		if err := r.Delete(ctx, cj, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return err
		}
		r.cronJobs.forget(client.ObjectKeyFromObject(cj))
		stale = append(stale, cj.Name)
	}
	sort.Strings(stale)
	for _, name := range stale {
		r.Recorder.Eventf(policy, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonDeleted, "Delete",
			"deleted CronJob %s: the backup runs in %d part(s) now (%s)", name, len(plan.Parts), plan.Describe())
	}
	return nil
}

// shapeCronJob puts a CronJob in the desired shape. setSpec leaves the
// fields the desired spec does not set alone (the API server's defaults);
// a pod that no longer needs a node has no affinity, and must lose the one
// it had.
func shapeCronJob(desired *batchv1.CronJob) func(*batchv1.CronJob) {
	return func(existing *batchv1.CronJob) {
		existing.Labels = mergeLabels(existing.Labels, desired.Labels)
		setSpec(&existing.Spec, desired.Spec)
		pod := &existing.Spec.JobTemplate.Spec.Template.Spec
		if want := desired.Spec.JobTemplate.Spec.Template.Spec.Affinity; !equality.Semantic.DeepEqual(pod.Affinity, want) {
			pod.Affinity = want
		}
	}
}

// hasUnrecordedJobs reports whether a CronJob has a Job that is running or
// whose result status does not hold yet.
func (r *BackupPolicyReconciler) hasUnrecordedJobs(ctx context.Context, cj *batchv1.CronJob, recorded map[string]bool) (bool, error) {
	// From the API server: a Job the CronJob controller made a moment ago
	// may not be in the cache yet, and deleting the CronJob would delete it.
	var jobs batchv1.JobList
	if err := r.APIReader.List(ctx, &jobs, client.InNamespace(cj.Namespace), client.MatchingLabels{
		resources.LabelBackupPolicy: cj.Labels[resources.LabelBackupPolicy], resources.LabelOperation: agentapi.OperationBackup,
	}); err != nil {
		return false, err
	}
	return slices.ContainsFunc(jobs.Items, func(j batchv1.Job) bool {
		return metav1.IsControlledBy(&j, cj) && !recorded[j.Name]
	}), nil
}

// recordedJobs are the backup Jobs whose results status holds.
func recordedJobs(policy *opsv1alpha1.BackupPolicy) map[string]bool {
	known := map[string]bool{}
	for _, b := range policy.Status.RecentBackups {
		known[b.JobName] = true
		for _, j := range b.PartJobs {
			known[j] = true
		}
	}
	return known
}

// annotationEndedBecause on a backup Job says why the operator ended it;
// its recorded result carries the sentence.
const annotationEndedBecause = "ops.supportstack.io/ended-because"

// endMisplacedJob ends a running backup Job whose pod cannot start where it
// was placed (a ReadWriteOnce volume attached to another node, or its node
// gone) when its CronJob now places that part elsewhere: with the CronJob's
// concurrencyPolicy Forbid, the stuck Job would otherwise keep every later
// run from starting until its active deadline, hours away. Its deadline is
// cut to now, so the Job controller fails it and removes its pod, and its
// result is recorded as any failure is.
func (r *BackupPolicyReconciler) endMisplacedJob(ctx context.Context, policy *opsv1alpha1.BackupPolicy, job *batchv1.Job, problem *podhealth.Problem) error {
	if problem.Reason != opsv1alpha1.ReasonMultiAttach && problem.Reason != opsv1alpha1.ReasonUnschedulable {
		return nil
	}
	owner := metav1.GetControllerOf(job)
	if owner == nil || owner.Kind != "CronJob" {
		return nil
	}
	var cj batchv1.CronJob
	if err := r.Get(ctx, types.NamespacedName{Namespace: job.Namespace, Name: owner.Name}, &cj); err != nil {
		return client.IgnoreNotFound(err)
	}
	placed, now := requiredNode(job.Spec.Template.Spec.Affinity), requiredNode(cj.Spec.JobTemplate.Spec.Template.Spec.Affinity)
	if placed == now {
		return nil // still where the plan wants it: a problem to report, not to end
	}
	where := "any node"
	if now != "" {
		where = "node " + now
	}
	because := fmt.Sprintf("ended by the operator: its pod could not start on node %s (%s); the volume is now mounted elsewhere and the next run is placed on %s",
		placed, problem.Message, where)
	started := job.CreationTimestamp.Time
	if job.Status.StartTime != nil {
		started = job.Status.StartTime.Time
	}
	elapsed := int64(r.Clock.Since(started).Seconds())
	if deadline := job.Spec.ActiveDeadlineSeconds; deadline != nil && *deadline <= max(elapsed, 1) {
		return nil // already ended
	}
	patch := client.MergeFrom(job.DeepCopy())
	if job.Annotations == nil {
		job.Annotations = map[string]string{}
	}
	job.Annotations[annotationEndedBecause] = because
	job.Spec.ActiveDeadlineSeconds = ptr.To(max(elapsed, 1))
	if err := r.Patch(ctx, job, patch); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.Recorder.Eventf(policy, nil, corev1.EventTypeWarning, problem.Reason, "EndJob", "backup Job %s %s", job.Name, because)
	return nil
}

// requiredNode is the node name a pod's required node affinity names, ""
// for none.
func requiredNode(a *corev1.Affinity) string {
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range term.MatchFields {
			if f.Key == "metadata.name" && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}
