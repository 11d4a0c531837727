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
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A requestTracker check reads production data through the restored RT, so
// its result is counts, ids, a time and RT's version, in the words the
// functions below write; the operator keeps a result only when it is
// exactly what they write (RecordableRequestTrackerCheck), so a compromised
// verify pod cannot carry a ticket's subject into status or evidence.

// RTFindings is what a requestTracker check saw through RT's REST2 API,
// and what the backup's manifest says it should see.
type RTFindings struct {
	// Version is RT's version as REST2 reports it.
	Version string
	// Queues is how many queues RT lists, disabled ones included;
	// ManifestQueues the manifest's queues rows.
	Queues, ManifestQueues int64
	// Tickets is how many tickets RT lists (every type and status, merged
	// ones included); Deleted how many the database holds that RT never
	// lists; ManifestTickets the manifest's tickets rows.
	Tickets, Deleted, ManifestTickets int64
	// Latest is the ticket RT lists first by last update, Updated that
	// update and History how many transactions its history holds (0 when
	// there is no ticket).
	Latest, History int64
	Updated         time.Time
	// Backup is the manifest's record of the source's latest update at the
	// dump's snapshot; nil in manifests written before it was recorded.
	Backup *RTBackupPoint
	// Sampled attachments stored as files were read back through RT;
	// Matched of them had the SHA-256 their row names, Missing had no file
	// in the restored volume.
	Sampled, Matched, Missing int
}

// RTBackupPoint is the source's latest ticket update at the dump's
// snapshot (Latest 0: no ticket) and that snapshot's time.
type RTBackupPoint struct {
	Latest   int64
	Updated  time.Time
	Snapshot time.Time
}

// RTBackupPointOf is the manifest's record for the check, nil when the
// manifest has none.
func RTBackupPointOf(m DatabaseManifest) *RTBackupPoint {
	rt := m.RequestTracker
	if rt == nil || m.SnapshotTime == nil || (rt.LatestTicket > 0) != (rt.LatestUpdate != nil) {
		return nil
	}
	p := &RTBackupPoint{Latest: rt.LatestTicket, Snapshot: m.SnapshotTime.UTC().Truncate(time.Second)}
	if rt.LatestUpdate != nil {
		p.Updated = rt.LatestUpdate.UTC().Truncate(time.Second)
	}
	return p
}

// sameLatest says whether RT's latest update is the backup's.
func (f RTFindings) sameLatest() bool {
	b := f.Backup
	return (f.Latest > 0) == (b.Latest > 0) && (f.Latest == 0 || f.Updated.Equal(b.Updated))
}

// RecoveryPoint is the time up to which the restored help desk is shown to
// hold the source's changes: the dump's snapshot when RT's latest update
// is the one the backup recorded (nothing newer existed then, however long
// ago that update was), else RT's latest update itself. Zero when the
// manifest records no latest update (older backups), or RT lists no
// ticket where the backup had one.
func (f RTFindings) RecoveryPoint() time.Time {
	switch {
	case f.Backup == nil:
		return time.Time{}
	case f.sameLatest():
		return f.Backup.Snapshot
	}
	return f.Updated
}

// ticketAt names a ticket's update in fixed words: "ticket #3 at <time>".
func ticketAt(id int64, at time.Time) string {
	return fmt.Sprintf("ticket #%d at %s", id, at.UTC().Format(time.RFC3339))
}

// RTExpected is the Expected of a requestTracker check.
func RTExpected(f RTFindings) string {
	backup := ""
	if b := f.Backup; b != nil {
		latest := "no ticket"
		if b.Latest > 0 {
			latest = ticketAt(b.Latest, b.Updated)
		}
		backup = fmt.Sprintf("the backup's latest update %s, its snapshot at %s; ", latest, b.Snapshot.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("queues %d, tickets %d (the backup manifest's rows); %sthe latest-updated ticket and its history readable; sampled attachments with their SHA-256",
		f.ManifestQueues, f.ManifestTickets, backup)
}

// String is the check's Observed: "RT 5.0.3; queues 2; tickets 3 listed +
// 0 deleted; latest update ticket #3 at 2026-12-04T03:40:05Z, 4
// transactions; recovery point 2026-12-04T06:00:01Z; attachments 2 of 2
// read back with their SHA-256, 0 missing".
func (f RTFindings) String() string {
	latest := "no ticket"
	if f.Latest > 0 {
		latest = fmt.Sprintf("latest update %s, %d transactions", ticketAt(f.Latest, f.Updated), f.History)
	}
	if rp := f.RecoveryPoint(); !rp.IsZero() {
		latest += "; recovery point " + rp.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("RT %s; queues %d; tickets %d listed + %d deleted; %s; attachments %d of %d read back with their SHA-256, %d missing",
		f.Version, f.Queues, f.Tickets, f.Deleted, latest, f.Matched, f.Sampled, f.Missing)
}

// Problems are what f shows wrong, in fixed words and numbers.
func (f RTFindings) Problems() []string {
	var p []string
	if f.Queues != f.ManifestQueues {
		p = append(p, fmt.Sprintf("RT lists %d queues, the backup had %d", f.Queues, f.ManifestQueues))
	}
	if f.Tickets+f.Deleted != f.ManifestTickets {
		p = append(p, fmt.Sprintf("RT lists %d tickets and the database holds %d deleted ones, the backup had %d", f.Tickets, f.Deleted, f.ManifestTickets))
	}
	if b := f.Backup; b != nil && !f.sameLatest() {
		restored, backedUp := "RT lists no ticket", "the backup had no ticket"
		if f.Latest > 0 {
			restored = "RT's latest update is " + ticketAt(f.Latest, f.Updated)
		}
		if b.Latest > 0 {
			backedUp = "the backup's latest update was " + ticketAt(b.Latest, b.Updated)
		}
		p = append(p, restored+", "+backedUp)
	}
	if f.Latest > 0 && f.History == 0 {
		p = append(p, fmt.Sprintf("ticket #%d has no history", f.Latest))
	}
	if f.Missing > 0 {
		p = append(p, fmt.Sprintf("%d of %d sampled attachments have no file in the restored volume", f.Missing, f.Sampled))
	}
	if bad := f.Sampled - f.Matched - f.Missing; bad > 0 {
		p = append(p, fmt.Sprintf("%d of %d sampled attachments read back through RT with another SHA-256 than their row's", bad, f.Sampled))
	}
	return p
}

// RTResult is the result of a check that got its findings.
func RTResult(f RTFindings) CheckResult {
	p := f.Problems()
	return CheckResult{Passed: len(p) == 0, Expected: RTExpected(f), Observed: f.String(), Message: strings.Join(p, "; ")}
}

// RTFailed is the result of a check that could not get its findings: RT
// did not start or answer, or the manifest is not RT's. message is one of
// RTNotAnswering, RTRequestFailed and RTNotRTManifest.
func RTFailed(message string) CheckResult {
	return CheckResult{Expected: "Request Tracker answers on the restored database", Message: message}
}

// RTNotAnswering is the message of a check whose RT never answered.
func RTNotAnswering(wait time.Duration) string {
	return fmt.Sprintf("Request Tracker did not answer within %s on the restored database (its container's log in the kept sandbox says why)", wait)
}

// RTRequestFailed is the message of a check one of whose REST2 requests
// failed: what names the resource in fixed words and ids ("the queues",
// "ticket #3's history"), code is the HTTP status (0: no answer).
func RTRequestFailed(what string, code int) string {
	return fmt.Sprintf("Request Tracker answered %d to the request for %s", code, what)
}

// RTNotRTManifest is the message of a check whose database manifest has no
// queues or tickets table.
const RTNotRTManifest = "the backup manifest has no public.queues or public.tickets table: the database is not Request Tracker's"

const rtTime = `([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)`

var (
	rtObserved = regexp.MustCompile(`^RT ([0-9][0-9a-z.+~-]{0,31}); queues ([0-9]{1,12}); tickets ([0-9]{1,12}) listed \+ ([0-9]{1,12}) deleted; ` +
		`(?:no ticket|latest update ticket #([0-9]{1,12}) at ` + rtTime + `, ([0-9]{1,12}) transactions)(?:; recovery point ` + rtTime + `)?; ` +
		`attachments ([0-9]{1,3}) of ([0-9]{1,3}) read back with their SHA-256, ([0-9]{1,3}) missing$`)
	rtExpected = regexp.MustCompile(`^queues ([0-9]{1,12}), tickets ([0-9]{1,12}) \(the backup manifest's rows\); ` +
		`(?:the backup's latest update (?:no ticket|ticket #([0-9]{1,12}) at ` + rtTime + `), its snapshot at ` + rtTime + `; )?the latest-updated ticket`)
	rtRequestFailed = regexp.MustCompile(`^Request Tracker answered [0-9]{1,3} to the request for (?:the version|the queues|the tickets|the deleted tickets|ticket #[0-9]{1,12}|ticket #[0-9]{1,12}'s history|the attachments stored as files|attachment #[0-9]{1,12})$`)
	rtNotAnswering  = regexp.MustCompile(`^Request Tracker did not answer within [0-9hms.]{1,16} on the restored database \(its container's log in the kept sandbox says why\)$`)
)

// parseRTFindings reads what RTFindings.String and RTExpected write (the
// recovery point aside: RTFindings derives it, and a result is recorded
// only when it is exactly what its findings write).
func parseRTFindings(observed, expected string) (RTFindings, bool) {
	m, e := rtObserved.FindStringSubmatch(observed), rtExpected.FindStringSubmatch(expected)
	if m == nil || e == nil {
		return RTFindings{}, false
	}
	n := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	ok := true
	at := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, s)
		ok = ok && err == nil
		return t
	}
	f := RTFindings{Version: m[1], Queues: n(m[2]), Tickets: n(m[3]), Deleted: n(m[4]), Latest: n(m[5]), Updated: at(m[6]), History: n(m[7]),
		Matched: int(n(m[9])), Sampled: int(n(m[10])), Missing: int(n(m[11])), ManifestQueues: n(e[1]), ManifestTickets: n(e[2])}
	if e[5] != "" {
		f.Backup = &RTBackupPoint{Latest: n(e[3]), Updated: at(e[4]), Snapshot: at(e[5])}
	}
	return f, ok && f.Matched+f.Missing <= f.Sampled
}

// RTRecoveryPoint is the recovery point a recorded requestTracker check's
// findings show (see RTFindings.RecoveryPoint); false for any other result.
func RTRecoveryPoint(c CheckResult) (time.Time, bool) {
	if _, recordable := RecordableRequestTrackerCheck(c); !recordable {
		return time.Time{}, false
	}
	f, ok := parseRTFindings(c.Observed, c.Expected)
	if !ok || f.RecoveryPoint().IsZero() {
		return time.Time{}, false
	}
	return f.RecoveryPoint(), true
}

// RecordableRequestTrackerCheck is c when it is exactly one of the results
// the agent writes for a requestTracker check (findings with the verdict
// and message they imply, or a failure in fixed words); otherwise c failed,
// its Observed is empty and its Message says that what the verify Job
// reported was not recorded.
func RecordableRequestTrackerCheck(c CheckResult) (CheckResult, bool) {
	ok := false
	if f, isFindings := parseRTFindings(c.Observed, c.Expected); isFindings {
		want := RTResult(f)
		ok = c.Passed == want.Passed && c.Message == want.Message && c.Observed == want.Observed && c.Expected == want.Expected
	} else if failed := RTFailed(c.Message); !c.Passed && c.Observed == "" && c.Expected == failed.Expected {
		ok = c.Message == RTNotRTManifest || rtRequestFailed.MatchString(c.Message) || rtNotAnswering.MatchString(c.Message)
	}
	if ok {
		return c, true
	}
	return CheckResult{Name: c.Name, Passed: false,
		Message: "the verify Job reported a result for this requestTracker check that is not counts or a message the agent writes; it was not recorded"}, false
}
