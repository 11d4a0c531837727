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

package resources

import (
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/placement"
)

const (
	// LabelBackupPart is a backup CronJob's, Job's and pod's part of the
	// run (1 when the run is one pod).
	LabelBackupPart = "ops.supportstack.io/backup-part"
	// LabelBackupParts is how many parts the run had when the Job was
	// made: the operator records a run once every part's Job has finished.
	LabelBackupParts = "ops.supportstack.io/backup-parts"
)

// BackupPartName is the backup CronJob of part i (from 1) of a run: the
// first is the policy's backup CronJob, the others end in their number.
//
// A CronJob's name has at most 52 characters (the API server refuses more):
// a long policy name is cut before the part's number, never the number.
func BackupPartName(policy *opsv1alpha1.BackupPolicy, i int) string {
	name := BackupName(policy, agentapi.OperationBackup)
	if i <= 1 {
		return name
	}
	return withSuffix(name, "-"+strconv.Itoa(i), maxCronJobName)
}

// maxCronJobName is the longest name the API server gives a CronJob: its
// Jobs add "-<11 digits>" and must fit a 63-character label value.
const maxCronJobName = 52

// withSuffix is base cut so that base+suffix has at most n characters.
func withSuffix(base, suffix string, n int) string {
	if len(base)+len(suffix) > n {
		base = strings.TrimSuffix(base[:n-len(suffix)], "-")
	}
	return base + suffix
}

// BackupCronJobs are the backup CronJobs of a policy placed by plan: one
// per part, on the same schedule, each backing up its part's sources on
// its part's node (required node affinity on the node's name) into the
// run's one recovery set.
func BackupCronJobs(policy *opsv1alpha1.BackupPolicy, agentImage string, plan placement.Plan, opts ...AgentPodOption) []*batchv1.CronJob {
	out := make([]*batchv1.CronJob, 0, len(plan.Parts))
	for i, part := range plan.Parts {
		sub := policy.DeepCopy()
		if !part.Databases {
			sub.Spec.Sources.Postgres = nil
		}
		sub.Spec.Sources.Volumes = slices.DeleteFunc(sub.Spec.Sources.Volumes, func(v opsv1alpha1.VolumeSource) bool {
			return !slices.Contains(part.Volumes, v.Name)
		})
		cj := BackupCronJob(sub, agentapi.OperationBackup, agentImage, opts...)
		cj.Name = BackupPartName(policy, i+1)
		for _, l := range []map[string]string{cj.Labels, cj.Spec.JobTemplate.Labels, cj.Spec.JobTemplate.Spec.Template.Labels} {
			l[LabelBackupPart] = strconv.Itoa(i + 1)
			l[LabelBackupParts] = strconv.Itoa(len(plan.Parts))
		}
		pod := &cj.Spec.JobTemplate.Spec.Template.Spec
		pod.Containers[0].Env = append(pod.Containers[0].Env, corev1.EnvVar{
			Name: agentapi.RecoverySetPrefixEnv, Value: BackupPartName(policy, 1)})
		RequireNode(pod, part.Node)
		out = append(out, cj)
	}
	return out
}

// RequireNode makes a pod run on the named node (required node affinity on
// the node's name, which the scheduler matches whatever the node's labels);
// "" leaves the pod free.
func RequireNode(pod *corev1.PodSpec, node string) {
	if node == "" {
		return
	}
	pod.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
		}}},
	}}
}
