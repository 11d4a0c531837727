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

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
)

func referencedFilesCheck(database, volume string) opsv1alpha1.DrillCheck {
	return opsv1alpha1.DrillCheck{Name: "attachments-present", Database: database,
		ReferencedFiles: &opsv1alpha1.ReferencedFilesCheck{Volume: volume, SQL: "SELECT path, size FROM attachments"}}
}

// TestPlanDrillReferencedFiles: a referencedFiles check names a volume and
// a database of its policy (the database may be left out when the policy
// backs up one); each one it lacks is named.
func TestPlanDrillReferencedFiles(t *testing.T) {
	s3 := "s3:https://s3.example.com/b"
	for _, tc := range []struct {
		name   string
		policy *opsv1alpha1.BackupPolicy
		check  opsv1alpha1.DrillCheck
		want   string // "" = accepted
	}{
		{"volume and database", drillPolicy(s3, "helpdesk"), referencedFilesCheck("helpdesk", "attachments"), ""},
		{"the policy's one database", drillPolicy(s3, "helpdesk"), referencedFilesCheck("", "attachments"), ""},
		{"unknown volume", drillPolicy(s3, "helpdesk"), referencedFilesCheck("helpdesk", "logos"),
			`check attachments-present: BackupPolicy helpdesk has no volume source "logos"`},
		{"unknown database", drillPolicy(s3, "helpdesk"), referencedFilesCheck("rt5", "attachments"),
			`check attachments-present: BackupPolicy helpdesk backs up no database "rt5" (it has helpdesk)`},
		{"both unknown", drillPolicy(s3, "helpdesk"), referencedFilesCheck("rt5", "logos"),
			`check attachments-present: BackupPolicy helpdesk has no volume source "logos"; check attachments-present: BackupPolicy helpdesk backs up no database "rt5" (it has helpdesk)`},
		{"no database, two in the policy", drillPolicy(s3, "helpdesk", "crm"), referencedFilesCheck("", "attachments"),
			"check attachments-present: set database: BackupPolicy helpdesk backs up 2 databases (crm, helpdesk)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PlanDrill(opsv1alpha1.DrillProcedure{BackupPolicyName: "helpdesk", Checks: []opsv1alpha1.DrillCheck{tc.check}}, tc.policy)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}
}

// TestVerifyChecksReferencedFiles: the verify Job runs the query in the
// named (or the only) database as the checker and looks the files up in the
// volume's restored copy.
func TestVerifyChecksReferencedFiles(t *testing.T) {
	implicit := referencedFilesCheck("", "attachments")
	implicit.Name = "implicit-database"
	proc := opsv1alpha1.DrillProcedure{BackupPolicyName: "helpdesk", Checks: []opsv1alpha1.DrillCheck{referencedFilesCheck("helpdesk", "attachments"), implicit}}
	plan, err := PlanDrill(proc, drillPolicy("s3:https://s3.example.com/b", "helpdesk"))
	if err != nil {
		t.Fatal(err)
	}
	checks, err := plan.VerifyChecks([]agentapi.Restored{
		{Source: "tickets", Database: "helpdesk", ID: "aaaaaaaa", ManifestSHA256: strings.Repeat("d", 64)},
		{Source: "attachments", ID: "bbbbbbbb", ManifestSHA256: strings.Repeat("e", 64)},
	})
	if err != nil || len(checks) != 2 {
		t.Fatalf("%+v %v", checks, err)
	}
	for _, c := range checks {
		want := agentapi.ReferencedFiles{Path: "/restore/data/attachments", SQL: "SELECT path, size FROM attachments"}
		if c.Database != "helpdesk" || c.TargetURIEnv != SandboxURIEnv || c.ReferencedFiles == nil || *c.ReferencedFiles != want ||
			c.SQL != "" || c.Tables != nil || c.Files != nil {
			t.Errorf("%s: %+v %+v", c.Name, c, c.ReferencedFiles)
		}
	}
}
