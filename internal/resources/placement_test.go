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
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/placement"
)

// TestBackupCronJobsOfAPlan: one CronJob per part, named after the policy's
// backup CronJob, each with its part's sources only, its node (or none),
// the run's set prefix and part labels, and a Job that fails at once on
// the agent's contract refusal.
func TestBackupCronJobsOfAPlan(t *testing.T) {
	policy := &opsv1alpha1.BackupPolicy{ObjectMeta: metav1.ObjectMeta{Name: "helpdesk", Namespace: "hd"}, Spec: opsv1alpha1.BackupPolicySpec{
		Schedule: "0 2 * * *",
		Sources: opsv1alpha1.BackupSources{
			Postgres: []opsv1alpha1.PostgresSource{{Name: "tickets", Databases: []string{"helpdesk"}, ConnectionSecretRef: opsv1alpha1.SecretKeyRef{Name: "db", Key: "uri"}}},
			Volumes:  []opsv1alpha1.VolumeSource{{Name: "attachments", ClaimName: "att"}, {Name: "reports", ClaimName: "rep"}},
		},
		Repository: opsv1alpha1.Repository{URL: "s3:http://s3/b", PasswordSecretRef: opsv1alpha1.SecretKeyRef{Name: "restic", Key: "password"}},
	}}
	plan := placement.Plan{Parts: []placement.Part{{Node: "node-a", Volumes: []string{"reports"}, Databases: true}, {Volumes: []string{"attachments"}}}}
	cjs := BackupCronJobs(policy, "agent:dev", plan)
	if len(cjs) != 2 || cjs[0].Name != "helpdesk-backup" || cjs[1].Name != "helpdesk-backup-2" {
		t.Fatalf("CronJobs %v", cjs)
	}
	for i, cj := range cjs {
		pod := cj.Spec.JobTemplate.Spec.Template.Spec
		cfg, err := agentapi.ParseConfig(pod.Containers[0].Args[len(pod.Containers[0].Args)-1])
		if err != nil {
			t.Fatal(err)
		}
		vols := make([]string, 0, len(cfg.Volumes))
		for _, v := range cfg.Volumes {
			vols = append(vols, v.Name)
		}
		if !slices.Equal(vols, plan.Parts[i].Volumes) || (len(cfg.Postgres) > 0) != plan.Parts[i].Databases {
			t.Errorf("part %d backs up volumes %v and %d postgres sources; want %v, databases %v", i+1, vols, len(cfg.Postgres), plan.Parts[i].Volumes, plan.Parts[i].Databases)
		}
		node := ""
		if a := pod.Affinity; a != nil {
			node = a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0]
		}
		if node != plan.Parts[i].Node {
			t.Errorf("part %d runs on %q, want %q", i+1, node, plan.Parts[i].Node)
		}
		prefix := ""
		for _, e := range pod.Containers[0].Env {
			if e.Name == agentapi.RecoverySetPrefixEnv {
				prefix = e.Value
			}
		}
		if prefix != "helpdesk-backup" || cj.Spec.JobTemplate.Spec.Template.Labels[LabelBackupParts] != "2" || cj.Spec.Schedule != "0 2 * * *" {
			t.Errorf("part %d: prefix %q, labels %v, schedule %q", i+1, prefix, cj.Spec.JobTemplate.Spec.Template.Labels, cj.Spec.Schedule)
		}
		rules := cj.Spec.JobTemplate.Spec.PodFailurePolicy
		if rules == nil || len(rules.Rules) != 1 || !slices.Contains(rules.Rules[0].OnExitCodes.Values, agentapi.ExitContractMismatch) {
			t.Errorf("part %d: the Job retries a contract refusal: %+v", i+1, rules)
		}
		if pod.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("a pod failure policy needs restartPolicy Never, got %s", pod.RestartPolicy)
		}
	}
}

// TestLongPolicyNames: at the longest policy name the API admits (45), every
// part's CronJob and backup-now Job has a valid, distinct name, and the
// parts' Jobs of one run end alike (one recovery set).
func TestLongPolicyNames(t *testing.T) {
	policy := &opsv1alpha1.BackupPolicy{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("p", 45), Namespace: "hd"}}
	plan := placement.Plan{}
	for i := range 12 {
		plan.Parts = append(plan.Parts, placement.Part{Node: fmt.Sprintf("node-%d", i)})
	}
	cronJobs, jobs := map[string]bool{}, map[string]bool{}
	key := ""
	for _, cj := range BackupCronJobs(policy, "agent:dev", plan) {
		job := BackupNowJob(cj, "token")
		if len(cj.Name) > maxCronJobName || cronJobs[cj.Name] || len(job.Name) > 63 || jobs[job.Name] {
			t.Errorf("CronJob %q (%d), Job %q (%d): too long or not distinct", cj.Name, len(cj.Name), job.Name, len(job.Name))
		}
		cronJobs[cj.Name], jobs[job.Name] = true, true
		last := job.Name[strings.LastIndex(job.Name, "-")+1:]
		if key != "" && last != key {
			t.Errorf("Job %s ends in %q, another part's in %q", job.Name, last, key)
		}
		key = last
	}
}
