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

// RTFindings is what a requestTracker check saw through RT's REST2 API.
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
	// Newest is the newest ticket's id, Updated its last update and
	// History how many transactions its history holds (0 when there is no
	// ticket).
	Newest, History int64
	Updated         time.Time
	// Sampled attachments stored as files were read back through RT;
	// Matched of them had the SHA-256 their row names, Missing had no file
	// in the restored volume.
	Sampled, Matched, Missing int
}

// RTExpected is the Expected of a requestTracker check.
func RTExpected(f RTFindings) string {
	return fmt.Sprintf("queues %d, tickets %d (the backup manifest's rows); the newest ticket and its history readable; sampled attachments with their SHA-256", f.ManifestQueues, f.ManifestTickets)
}

// String is the check's Observed: "RT 5.0.3; queues 2; tickets 3 listed +
// 0 deleted; newest ticket #3 updated 2026-12-04T03:40:05Z, 4
// transactions; attachments 2 of 2 read back with their SHA-256, 0
// missing".
func (f RTFindings) String() string {
	newest := "no ticket"
	if f.Newest > 0 {
		newest = fmt.Sprintf("newest ticket #%d updated %s, %d transactions", f.Newest, f.Updated.UTC().Format(time.RFC3339), f.History)
	}
	return fmt.Sprintf("RT %s; queues %d; tickets %d listed + %d deleted; %s; attachments %d of %d read back with their SHA-256, %d missing",
		f.Version, f.Queues, f.Tickets, f.Deleted, newest, f.Matched, f.Sampled, f.Missing)
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
	if f.Newest > 0 && f.History == 0 {
		p = append(p, fmt.Sprintf("ticket #%d has no history", f.Newest))
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

var (
	rtObserved = regexp.MustCompile(`^RT ([0-9][0-9a-z.+~-]{0,31}); queues ([0-9]{1,12}); tickets ([0-9]{1,12}) listed \+ ([0-9]{1,12}) deleted; ` +
		`(?:no ticket|newest ticket #([0-9]{1,12}) updated ([0-9TZ:-]{20}), ([0-9]{1,12}) transactions); attachments ([0-9]{1,3}) of ([0-9]{1,3}) read back with their SHA-256, ([0-9]{1,3}) missing$`)
	rtExpected      = regexp.MustCompile(`^queues ([0-9]{1,12}), tickets ([0-9]{1,12}) \(the backup manifest's rows\)`)
	rtRequestFailed = regexp.MustCompile(`^Request Tracker answered [0-9]{1,3} to the request for (?:the version|the queues|the tickets|the deleted tickets|ticket #[0-9]{1,12}|ticket #[0-9]{1,12}'s history|the attachments stored as files|attachment #[0-9]{1,12})$`)
	rtNotAnswering  = regexp.MustCompile(`^Request Tracker did not answer within [0-9hms.]{1,16} on the restored database \(its container's log in the kept sandbox says why\)$`)
)

// parseRTFindings reads what RTFindings.String and RTExpected write.
func parseRTFindings(observed, expected string) (RTFindings, bool) {
	m, e := rtObserved.FindStringSubmatch(observed), rtExpected.FindStringSubmatch(expected)
	if m == nil || e == nil {
		return RTFindings{}, false
	}
	n := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	f := RTFindings{Version: m[1], Queues: n(m[2]), Tickets: n(m[3]), Deleted: n(m[4]), Newest: n(m[5]), History: n(m[7]),
		Matched: int(n(m[8])), Sampled: int(n(m[9])), Missing: int(n(m[10])), ManifestQueues: n(e[1]), ManifestTickets: n(e[2])}
	if m[6] != "" {
		t, err := time.Parse(time.RFC3339, m[6])
		if err != nil {
			return RTFindings{}, false
		}
		f.Updated = t
	}
	return f, f.Matched+f.Missing <= f.Sampled
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
