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
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
)

// TestDrillReferencedFilesCheckNamesWhatThePolicyLacks: the API server
// accepts a referencedFiles check; one naming a volume or a database the
// BackupPolicy does not back up makes the drill Ready=False InvalidSpec,
// naming it, and a check naming the policy's own volume and database makes
// it Ready again.
func TestDrillReferencedFilesCheckNamesWhatThePolicyLacks(t *testing.T) {
	ctx := context.Background()
	setCheck := func(database, volume string) func(*opsv1alpha1.DRDrill) {
		return func(d *opsv1alpha1.DRDrill) {
			d.Spec.Checks = append(d.Spec.Checks[:0:0], opsv1alpha1.DrillCheck{Name: "attachments-present", Database: database,
				ReferencedFiles: &opsv1alpha1.ReferencedFilesCheck{Volume: volume, SQL: "SELECT path, size FROM attachments"}})
		}
	}
	drill := drillFixture(t, setCheck("helpdesk", "logos"))
	ready := func(reason, message string) {
		t.Helper()
		eventually(t, 20*time.Second, func() error {
			var d opsv1alpha1.DRDrill
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(drill), &d); err != nil {
				return err
			}
			c := meta.FindStatusCondition(d.Status.Conditions, opsv1alpha1.ConditionReady)
			if c == nil || c.Reason != reason || (message != "" && c.Message != message) {
				return fmt.Errorf("Ready %+v, want %s: %s", c, reason, message)
			}
			return nil
		})
	}
	ready(opsv1alpha1.ReasonInvalidSpec, `check attachments-present: BackupPolicy helpdesk has no volume source "logos"`)

	if err := update(t, k8sClient, drill, setCheck("rt5", "attachments")); err != nil {
		t.Fatal(err)
	}
	ready(opsv1alpha1.ReasonInvalidSpec, `check attachments-present: BackupPolicy helpdesk backs up no database "rt5" (it has helpdesk)`)

	if err := update(t, k8sClient, drill, setCheck("", "attachments")); err != nil {
		t.Fatal(err)
	}
	ready(opsv1alpha1.ReasonSuspended, "")
}

// TestRecordableResultByKind: the run records a referencedFiles check's
// result only in the shapes the agent writes (a path a compromised verify
// pod reports fails the check unrecorded), a requestTracker check's only
// in the agent's words and numbers, an SQL check's only as a number, and
// the other kinds as reported.
func TestRecordableResultByKind(t *testing.T) {
	const path = "tickets/4711/alice.customer@example.com.pdf"
	forged := agentapi.CheckResult{Name: "c", Passed: true, Expected: agentapi.ReferencedFilesExpected, Observed: "checked 1, missing 0, size mismatched 0, invalid 0 " + path}
	honest := agentapi.ReferencedFilesResult(agentapi.ReferencedFileCounts{Checked: 3, Missing: 1})
	honest.Name = "c"
	rtHonest := agentapi.RTResult(agentapi.RTFindings{Version: "5.0.3", Queues: 2, ManifestQueues: 2, Tickets: 3, ManifestTickets: 4})
	rtHonest.Name = "c"
	for _, tc := range []struct {
		name     string
		check    opsv1alpha1.DrillCheck
		result   agentapi.CheckResult
		recorded bool
	}{
		{"referencedFiles, a path reported", opsv1alpha1.DrillCheck{ReferencedFiles: &opsv1alpha1.ReferencedFilesCheck{Volume: "attachments", SQL: "SELECT path FROM attachments"}}, forged, false},
		{"referencedFiles, the agent's counts", opsv1alpha1.DrillCheck{ReferencedFiles: &opsv1alpha1.ReferencedFilesCheck{Volume: "attachments", SQL: "SELECT path FROM attachments"}}, honest, true},
		{"sql, a path reported", opsv1alpha1.DrillCheck{SQL: "SELECT 1"}, forged, false},
		{"files, as reported", opsv1alpha1.DrillCheck{Files: &opsv1alpha1.FilesCheck{Volume: "attachments"}}, forged, true},
		{"requestTracker, a path reported", opsv1alpha1.DrillCheck{RequestTracker: &opsv1alpha1.RequestTrackerCheck{}}, forged, false},
		{"requestTracker, the agent's findings", opsv1alpha1.DrillCheck{RequestTracker: &opsv1alpha1.RequestTrackerCheck{}}, rtHonest, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.result
			if keep := recordableResult(tc.check); keep != nil {
				got, _ = keep(tc.result)
			}
			if recorded := got == tc.result; recorded != tc.recorded || (!recorded && (got.Passed || strings.Contains(got.Observed+got.Message, path))) {
				t.Errorf("recorded as %+v, want recorded %v", got, tc.recorded)
			}
		})
	}
}
