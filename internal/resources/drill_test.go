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

func drillPolicy(url string, databases ...string) *opsv1alpha1.BackupPolicy {
	return &opsv1alpha1.BackupPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "helpdesk", Namespace: "support"},
		Spec: opsv1alpha1.BackupPolicySpec{
			Sources: opsv1alpha1.BackupSources{
				Postgres: []opsv1alpha1.PostgresSource{{Name: "tickets", Databases: databases}},
				Volumes:  []opsv1alpha1.VolumeSource{{Name: "attachments", ClaimName: "att"}},
			},
			Repository: opsv1alpha1.Repository{URL: url},
		},
	}
}

func TestPlanDrillRefusals(t *testing.T) {
	sql := func(db string) opsv1alpha1.DrillCheck {
		return opsv1alpha1.DrillCheck{Name: "q", Database: db, SQL: "SELECT 1", Expect: &opsv1alpha1.Expectation{Min: new(int64)}}
	}
	rows := opsv1alpha1.DrillCheck{Name: "rows", CompareManifest: &opsv1alpha1.ManifestComparison{}}
	files := func(v string) opsv1alpha1.DrillCheck {
		return opsv1alpha1.DrillCheck{Name: "files", Files: &opsv1alpha1.FilesCheck{Volume: v}}
	}
	s3 := "s3:https://s3.example.com/b"
	cases := []struct {
		name   string
		policy *opsv1alpha1.BackupPolicy
		checks []opsv1alpha1.DrillCheck
		want   string // "" = accepted
	}{
		{"all kinds", drillPolicy(s3, "helpdesk"), []opsv1alpha1.DrillCheck{sql("helpdesk"), rows, files("attachments")}, ""},
		{"repository on a volume", drillPolicy("/backups", "helpdesk"), nil, "BackupPolicy helpdesk keeps its repository on a volume of its namespace, which a sandbox cannot mount"},
		{"unknown database", drillPolicy(s3, "helpdesk"), []opsv1alpha1.DrillCheck{sql("crm")}, `check q: BackupPolicy helpdesk backs up no database "crm" (it has helpdesk)`},
		{"unknown volume", drillPolicy(s3, "helpdesk"), []opsv1alpha1.DrillCheck{files("logos")}, `check files: BackupPolicy helpdesk has no volume source "logos"`},
		{"row counts without database, two databases", drillPolicy(s3, "helpdesk", "crm"), []opsv1alpha1.DrillCheck{rows}, "check rows: set database: BackupPolicy helpdesk backs up 2 databases (crm, helpdesk)"},
		{"every problem named", drillPolicy("/backups", "helpdesk"), []opsv1alpha1.DrillCheck{sql("crm"), files("logos")}, `volume of its namespace, which a sandbox cannot mount: drills need a repository reached over the network (s3:, rest:, sftp:, ...); check q: BackupPolicy helpdesk backs up no database "crm" (it has helpdesk); check files`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PlanDrill(opsv1alpha1.DrillProcedure{BackupPolicyName: "helpdesk", Checks: tc.checks}, tc.policy)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s: refused: %v", tc.name, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			}
		})
	}
}

func TestDrillPlanVerifyChecks(t *testing.T) {
	proc := opsv1alpha1.DrillProcedure{BackupPolicyName: "helpdesk", Checks: []opsv1alpha1.DrillCheck{
		{Name: "q", Database: "helpdesk", SQL: "SELECT count(*) FROM tickets", Expect: &opsv1alpha1.Expectation{Equals: new(int64)}},
		{Name: "rows", CompareManifest: &opsv1alpha1.ManifestComparison{Tables: []string{"tickets"}, TolerancePercent: 5}},
		{Name: "files", Files: &opsv1alpha1.FilesCheck{Volume: "attachments", CompareManifest: true}},
	}}
	plan, err := PlanDrill(proc, drillPolicy("s3:https://s3.example.com/b", "helpdesk"))
	if err != nil {
		t.Fatal(err)
	}
	if plan.Restore.Policy != "support/helpdesk" || plan.Restore.Snapshot != "latest" || len(plan.Restore.Postgres) != 1 || plan.Restore.Volumes[0].Target != "/restore" || !plan.HasVolumes {
		t.Errorf("restore %+v", plan.Restore)
	}
	if _, err := plan.VerifyChecks([]agentapi.Restored{{Source: "tickets", Database: "helpdesk", ID: "aaaaaaaa", Manifest: agentapi.Manifest{Database: &agentapi.DatabaseManifest{}}}}); err == nil || !strings.Contains(err.Error(), "no snapshot of attachments") {
		t.Errorf("a volume the restore did not report: %v", err)
	}
	db := agentapi.DatabaseManifest{Name: "helpdesk", Tables: []agentapi.TableCount{{Table: "public.tickets", Rows: 45000}}}
	vol := agentapi.VolumeManifest{Files: 3, Bytes: 1024, ListingSHA256: "ab"}
	whole := []agentapi.Restored{
		{Source: "tickets", Database: "helpdesk", ID: "aaaaaaaa", Manifest: agentapi.Manifest{Database: &db}},
		{Source: "attachments", ID: "bbbbbbbb", Manifest: agentapi.Manifest{Volume: &vol}},
	}
	checks, err := plan.VerifyChecks(whole)
	if err != nil || len(checks) != 3 {
		t.Fatalf("%+v %v", checks, err)
	}
	if c := checks[0]; c.SQL == "" || c.Equals == nil || c.TargetURIEnv != SandboxURIEnv {
		t.Errorf("sql check %+v", c)
	}
	// Manifests the restore reported whole travel with the checks.
	if c := checks[1]; c.Database != "helpdesk" || c.Tables.TolerancePercent != 5 || c.Tables.From != nil || c.Tables.Manifest.Tables[0].Rows != 45000 {
		t.Errorf("row-count check %+v %+v", c, c.Tables)
	}
	if c := checks[2]; c.Files.Path != "/restore/data/attachments" || c.Files.From != nil || c.Files.Manifest != vol {
		t.Errorf("files check %+v", c.Files)
	}
	// A manifest left out of the restore's report is read from the repository.
	trimmed := append([]agentapi.Restored{}, whole...)
	trimmed[0].ManifestSHA256 = "0f0f"
	trimmed[0].Manifest.Database = &agentapi.DatabaseManifest{Name: "helpdesk"}
	checks, err = plan.VerifyChecks(trimmed)
	if err != nil {
		t.Fatal(err)
	}
	if from := checks[1].Tables.From; from == nil || *from != (agentapi.ManifestRef{Policy: "support/helpdesk", Source: "tickets", Database: "helpdesk", Snapshot: "aaaaaaaa"}) {
		t.Errorf("row-count check of a trimmed manifest reads %+v", from)
	}
}

func TestSandboxNamespaceName(t *testing.T) {
	run := func(name, fixed string) *opsv1alpha1.DRDrillRun {
		return &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: opsv1alpha1.DRDrillRunSpec{DrillProcedure: opsv1alpha1.DrillProcedure{Sandbox: opsv1alpha1.Sandbox{Namespace: fixed}}}}
	}
	// desc names the case; name is the DRDrillRun's name.
	for _, tc := range []struct{ desc, name, fixed, want string }{
		{"derived from the run", "helpdesk-weekly-29924100", "", "drill-helpdesk-weekly-29924100"},
		{"fixed namespace", "helpdesk-weekly-29924100", "restore-lab", "restore-lab"},
		{"truncated to 63 characters", strings.Repeat("a", 56) + "-1234567", "", "drill-" + strings.Repeat("a", 56) + "-"},
		{"dots replaced", "drill.v2-now-0a1b2c3d", "", "drill-drill-v2-now-0a1b2c3d"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got := SandboxNamespaceName(run(tc.name, tc.fixed))
			if want := strings.TrimRight(tc.want, "-"); got != want || len(got) > 63 {
				t.Errorf("SandboxNamespaceName(%q, %q) = %q, want %q", tc.name, tc.fixed, got, want)
			}
		})
	}
}
