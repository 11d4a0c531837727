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
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
)

func TestRepositoryEndpoint(t *testing.T) {
	cases := []struct {
		name string
		url  string
		host string
		port int32
		ok   bool
	}{
		{"s3 over https", "s3:https://s3.example.com/helpdesk-backups", "s3.example.com", 443, true},
		{"s3 over http with port", "s3:http://minio.backup.svc:9000/bucket/path", "minio.backup.svc", 9000, true},
		{"rest with user and port", "rest:https://user@backup.example.com:8000/repo", "backup.example.com", 8000, true},
		{"sftp", "sftp:backup@10.0.0.5:/srv/restic", "10.0.0.5", 22, true},
		{"b2 without host", "b2:bucket:path", "", 443, true},
		{"local path", "/backups/helpdesk", "", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			host, port, ok := RepositoryEndpoint(tc.url)
			if host != tc.host || port != tc.port || ok != tc.ok {
				t.Errorf("RepositoryEndpoint(%q) = %q, %d, %v; want %q, %d, %v", tc.url, host, port, ok, tc.host, tc.port, tc.ok)
			}
		})
	}
}

func TestConnectionEnv(t *testing.T) {
	for source, want := range map[string]string{"tickets": "SUPPORTSTACK_PGURI_TICKETS", "ticket-db-2": "SUPPORTSTACK_PGURI_TICKET_DB_2"} {
		t.Run(source, func(t *testing.T) {
			if got := ConnectionEnv(source); got != want {
				t.Errorf("ConnectionEnv(%q) = %q, want %q", source, got, want)
			}
		})
	}
}

func TestBackupCronJobs(t *testing.T) {
	keep := int32(7)
	policy := &opsv1alpha1.BackupPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "helpdesk", Namespace: "support"},
		Spec: opsv1alpha1.BackupPolicySpec{
			Schedule: "0 2 * * *", TimeZone: "Europe/Warsaw",
			Sources: opsv1alpha1.BackupSources{
				Postgres: []opsv1alpha1.PostgresSource{{Name: "tickets", ConnectionSecretRef: opsv1alpha1.SecretKeyRef{Name: "db", Key: "uri"}, Databases: []string{"helpdesk"}}},
				Volumes:  []opsv1alpha1.VolumeSource{{Name: "attachments", ClaimName: "att"}},
			},
			Repository: opsv1alpha1.Repository{URL: "/backups/helpdesk", VolumeClaimName: "backups", PasswordSecretRef: opsv1alpha1.SecretKeyRef{Name: "restic", Key: "password"}},
			Retention:  opsv1alpha1.Retention{KeepLast: &keep},
			Check:      &opsv1alpha1.RepositoryCheck{Schedule: "0 4 * * 0", ReadDataPercent: 5},
		},
	}
	cases := []struct {
		name         string
		op, schedule string
		volumes      int // tmp + sources (backup only) + repository
		envFromDB    bool
	}{
		{"backup", agentapi.OperationBackup, "0 2 * * *", 3, true},
		{"prune", agentapi.OperationPrune, "@daily", 2, false},
		{"check", agentapi.OperationCheck, "0 4 * * 0", 2, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cj := BackupCronJob(policy, tc.op, "agent:1")
			pod := cj.Spec.JobTemplate.Spec.Template.Spec
			if cj.Name != "helpdesk-"+tc.op || cj.Spec.Schedule != tc.schedule || len(pod.Volumes) != tc.volumes {
				t.Errorf("%s: name %s schedule %q volumes %d", tc.op, cj.Name, cj.Spec.Schedule, len(pod.Volumes))
			}
			hasDB := false
			for _, e := range pod.Containers[0].Env {
				if e.Name == "SUPPORTSTACK_PGURI_TICKETS" {
					hasDB = true
				}
			}
			if hasDB != tc.envFromDB {
				t.Errorf("%s: database URI in env = %v, want %v (only the backup connects to databases)", tc.op, hasDB, tc.envFromDB)
			}
			args := strings.Join(pod.Containers[0].Args, " ")
			if !strings.HasPrefix(args, tc.op+" --config {") || !strings.Contains(args, `"policy":"support/helpdesk"`) {
				t.Errorf("%s args %s", tc.op, args)
			}
			last := pod.Containers[0].VolumeMounts[len(pod.Containers[0].VolumeMounts)-1]
			if last.MountPath != "/backups/helpdesk" || last.ReadOnly {
				t.Errorf("%s: repository volume mounted at %s (read-only %v)", tc.op, last.MountPath, last.ReadOnly)
			}
		})
	}
}
