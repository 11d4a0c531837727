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

package agentapi

import (
	"strings"
	"testing"
	"time"
)

// TestRecordableRequestTrackerCheck: the operator records exactly what the
// agent writes for a requestTracker check, and refuses a result that
// carries anything else (a ticket's subject in Observed, a verdict its
// findings do not imply, a message of the pod's own).
func TestRecordableRequestTrackerCheck(t *testing.T) {
	good := RTFindings{Version: "5.0.3+dfsg-3~deb12u7", Queues: 2, ManifestQueues: 2, Tickets: 3, Deleted: 1, ManifestTickets: 4,
		Latest: 4, History: 4, Updated: time.Date(2026, 12, 4, 3, 8, 8, 0, time.UTC), Sampled: 2, Matched: 2}
	vouched := good
	vouched.Backup = &RTBackupPoint{Latest: 4, Updated: good.Updated, Snapshot: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)}
	behind := vouched
	behind.Backup = &RTBackupPoint{Latest: 5, Updated: good.Updated.Add(time.Hour), Snapshot: vouched.Backup.Snapshot}
	emptied := vouched
	emptied.Latest, emptied.Updated, emptied.History = 0, time.Time{}, 0
	lost := good
	lost.Matched, lost.Missing = 0, 1
	short := good
	short.Tickets = 2
	empty := RTFindings{Version: "5.0.3", Queues: 1, ManifestQueues: 1}
	pass := RTResult(good)
	if !pass.Passed || pass.Message != "" {
		t.Fatalf("the whole help desk: %+v", pass)
	}
	if r := RTResult(lost); r.Passed || r.Message != "1 of 2 sampled attachments have no file in the restored volume; 1 of 2 sampled attachments read back through RT with another SHA-256 than their row's" {
		t.Errorf("one missing, one altered: %+v", r)
	}
	if r := RTResult(short); r.Passed || r.Message != "RT lists 2 tickets and the database holds 1 deleted ones, the backup had 4" {
		t.Errorf("a ticket short: %+v", r)
	}
	if r := RTResult(vouched); !r.Passed || !strings.Contains(r.Observed, "; latest update ticket #4 at 2026-12-04T03:08:08Z, 4 transactions; recovery point 2026-12-07T02:00:00Z; ") ||
		!strings.Contains(r.Expected, "; the backup's latest update ticket #4 at 2026-12-04T03:08:08Z, its snapshot at 2026-12-07T02:00:00Z; ") {
		t.Errorf("the backup's latest update restored: %+v, want passed with the dump's snapshot as the recovery point", r)
	}
	if r := RTResult(behind); r.Passed || r.Message != "RT's latest update is ticket #4 at 2026-12-04T03:08:08Z, the backup's latest update was ticket #5 at 2026-12-04T04:08:08Z" ||
		!strings.Contains(r.Observed, "; recovery point 2026-12-04T03:08:08Z; ") {
		t.Errorf("the restored RT behind its backup: %+v, want failed, recovering to its own latest update", r)
	}
	if r := RTResult(emptied); r.Passed || !strings.Contains(r.Message, "RT lists no ticket, the backup's latest update was ticket #4 at 2026-12-04T03:08:08Z") || strings.Contains(r.Observed, "recovery point") {
		t.Errorf("no ticket restored: %+v, want failed with no recovery point", r)
	}
	for name, f := range map[string]RTFindings{"no record": good, "vouched": vouched, "behind": behind} {
		rp, ok := RTRecoveryPoint(RTResult(f))
		if want := f.RecoveryPoint(); ok != !want.IsZero() || !rp.Equal(want) {
			t.Errorf("%s: RTRecoveryPoint %v %v, want %v", name, rp, ok, want)
		}
	}
	if _, ok := RTRecoveryPoint(RTResult(good)); ok {
		t.Error("a manifest without the record gives a recovery point")
	}
	withSubject := pass
	withSubject.Observed = strings.Replace(pass.Observed, "RT 5.0.3+dfsg-3~deb12u7", "RT printer on floor 3 does not print", 1)
	flipped := RTResult(short)
	flipped.Passed = true
	ownMessage := RTResult(lost)
	ownMessage.Message = "the file screenshot-1.png is missing"
	forgedPoint := RTResult(behind)
	forgedPoint.Observed = strings.Replace(forgedPoint.Observed, "recovery point 2026-12-04T03:08:08Z", "recovery point 2026-12-07T02:00:00Z", 1)
	addedPoint := pass
	addedPoint.Observed = strings.Replace(pass.Observed, "4 transactions;", "4 transactions; recovery point 2026-12-07T02:00:00Z;", 1)
	failedWithText := RTFailed("Request Tracker answered 500 to the request for ticket #3: printer on floor 3")
	for _, tc := range []struct {
		name string
		r    CheckResult
		kept bool
	}{
		{"passed", pass, true},
		{"failed with its findings", RTResult(lost), true},
		{"a ticket short", RTResult(short), true},
		{"no ticket at all", RTResult(empty), true},
		{"the backup's latest update restored", RTResult(vouched), true},
		{"behind its backup", RTResult(behind), true},
		{"no ticket restored of the backup's", RTResult(emptied), true},
		{"a recovery point its findings do not give", forgedPoint, false},
		{"a recovery point added to an older backup's", addedPoint, false},
		{"RT never answered", RTFailed(RTNotAnswering(4 * time.Minute)), true},
		{"a request failed", RTFailed(RTRequestFailed("ticket #4's history", 500)), true},
		{"not RT's manifest", RTFailed(RTNotRTManifest), true},
		{"a subject in Observed", withSubject, false},
		{"passed against its findings", flipped, false},
		{"a message of the pod's own", ownMessage, false},
		{"a failure carrying text", failedWithText, false},
		{"another check's result", CheckResult{Passed: true, Expected: "= 1", Observed: "1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, kept := RecordableRequestTrackerCheck(tc.r)
			if kept != tc.kept {
				t.Fatalf("kept %v, want %v: %+v", kept, tc.kept, tc.r)
			}
			if kept && got != tc.r {
				t.Errorf("recorded %+v, want it unchanged", got)
			}
			if !kept && (got.Passed || got.Observed != "" || !strings.Contains(got.Message, "not recorded")) {
				t.Errorf("refused result recorded as %+v", got)
			}
		})
	}
}
