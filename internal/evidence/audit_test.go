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

package evidence

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCoverageOf(t *testing.T) {
	const week = 192 * time.Hour
	nov1, nov11 := utc("2026-11-01T00:00:00Z"), utc("2026-11-11T00:00:00Z")
	for _, tc := range []struct {
		name      string
		passes    []string
		from, to  time.Time
		maxAge    time.Duration
		covered   int
		days      int
		uncovered string
	}{
		{"no runs at all", nil, nov1, nov11, week, 0, 10, "2026-11-01..2026-11-10"},
		{"period before the first run", []string{"2026-11-20T06:00:00Z"}, nov1, nov11, week, 0, 10, "2026-11-01..2026-11-10"},
		{"a pass in the period covers from its day on", []string{"2026-11-04T06:00:00Z"}, nov1, nov11, week, 7, 10, "2026-11-01..2026-11-03"},
		// Nov 1 ends at Nov 2 00:00: a pass exactly maxAge before counts.
		{"a pass just inside maxAge", []string{"2026-10-25T00:00:00Z"}, nov1, nov11, week, 1, 10, "2026-11-02..2026-11-10"},
		{"a pass just outside maxAge", []string{"2026-10-24T23:59:59Z"}, nov1, nov11, week, 0, 10, "2026-11-01..2026-11-10"},
		// A pass at 23:59:59 covers its day; at midnight it belongs to the next.
		{"a pass in the last second of a day", []string{"2026-11-05T23:59:59Z"}, nov1, nov11, 24 * time.Hour, 1, 10, "2026-11-01..2026-11-04, 2026-11-06..2026-11-10"},
		{"a pass at midnight", []string{"2026-11-06T00:00:00Z"}, nov1, nov11, 24 * time.Hour, 1, 10, "2026-11-01..2026-11-05, 2026-11-07..2026-11-10"},
		{"weekly passes within maxAge", []string{"2026-11-09T06:00:00Z", "2026-10-26T06:00:00Z", "2026-11-02T06:00:00Z"}, nov1, nov11, week, 10, 10, ""},
		{"a missed week leaves a gap", []string{"2026-10-26T06:00:00Z", "2026-11-09T06:00:00Z"}, nov1, nov11, week, 4, 10, "2026-11-03..2026-11-08"},
		{"a pass after the period does not count", []string{"2026-11-11T00:00:00Z"}, nov1, nov11, week, 0, 10, "2026-11-01..2026-11-10"},
		// Partial first and last days are days of their own, judged at their end.
		{"partial days", []string{"2026-11-02T05:00:00Z"}, utc("2026-11-01T12:00:00Z"), utc("2026-11-03T06:00:00Z"), 24 * time.Hour, 1, 3, "2026-11-01, 2026-11-03"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var passes []time.Time
			for _, p := range tc.passes {
				passes = append(passes, utc(p))
			}
			c := CoverageOf(passes, tc.from, tc.to, tc.maxAge)
			if c.CoveredDays != tc.covered || c.Days != tc.days || strings.Join(c.Uncovered, ", ") != tc.uncovered {
				t.Errorf("covered %d of %d, uncovered %q; want %d of %d, %q", c.CoveredDays, c.Days, strings.Join(c.Uncovered, ", "), tc.covered, tc.days, tc.uncovered)
			}
			if want := 100 * float64(tc.covered) / float64(tc.days); c.Percent != want {
				t.Errorf("percent %v, want %v", c.Percent, want)
			}
		})
	}
}

// TestCoverageMonotonic: another pass never uncovers a day.
func TestCoverageMonotonic(t *testing.T) {
	from, to := utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z")
	passes := make([]time.Time, 0, 40)
	prev := 0
	for i := range 40 {
		passes = append(passes, from.Add(time.Duration(i*i%97)*19*time.Hour))
		c := CoverageOf(passes, from, to, 72*time.Hour)
		if c.CoveredDays < prev {
			t.Fatalf("pass %d uncovered days: %d after %d", i, c.CoveredDays, prev)
		}
		prev = c.CoveredDays
	}
}

// run is a verified report of policy helpdesk/helpdesk for the figures.
func auditRun(name, result, completed string, rto, rpo float64, met bool, missed ...string) auditedReport {
	r := Report{Drill: "helpdesk/weekly", Run: name, Result: result, CompletionTime: utc(completed), ObjectivesMet: met,
		MeasuredRTOSeconds: rto, ObjectiveRTOSeconds: 1800, MeasuredRPOSeconds: rpo, ObjectiveRPOSeconds: 93600}
	for _, m := range missed {
		r.MissedSchedules = append(r.MissedSchedules, utc(m))
	}
	return auditedReport{Report: r, policy: "helpdesk/helpdesk"}
}

func TestAuditPolicies(t *testing.T) {
	from, to := utc("2026-11-01T00:00:00Z"), utc("2026-11-29T00:00:00Z")
	weekly := []auditedReport{
		auditRun("w-0", "Passed", "2026-10-26T06:20:00Z", 1200, 10800, true), // before the period: covers its first days
		auditRun("w-1", "Passed", "2026-11-02T06:20:00Z", 1200, 10800, true),
		auditRun("w-2", "Failed", "2026-11-09T06:20:00Z", 2400, 10800, false),
		auditRun("w-3", "Error", "2026-11-16T06:01:00Z", 0, 0, false, "2026-10-20T06:00:00Z", "2026-11-15T06:00:00Z"),
		auditRun("w-4", "Passed", "2026-11-23T06:20:00Z", 1500, 14400, true),
		// After the period, it records a schedule time in it as missed.
		auditRun("w-5", "Passed", "2026-11-30T06:20:00Z", 1200, 10800, true, "2026-11-28T06:00:00Z", "2026-11-29T06:00:00Z"),
	}
	weekly[3].MissedSchedulesDropped = 2
	forged := []auditedReport{auditRun("f-1", "Passed", "2026-11-10T06:00:00Z", 1, 1, true)}
	drills := []DrillExport{
		{Drill: "helpdesk/weekly", Chain: "verified", EndChecked: true},
		{Drill: "helpdesk/forged", Chain: "evidence record 1 (f-1-evidence): the signature does not verify", Broken: true},
		{Drill: "finance/ledger", Chain: "verified, end not checked: the DRDrill is not found", EndChecked: false},
	}
	ledger := auditRun("l-1", "Passed", "2026-11-05T01:00:00Z", 60, 60, true)
	ledger.policy = "finance/ledger"
	all := map[string][]auditedReport{"helpdesk/weekly": weekly, "helpdesk/forged": forged, "finance/ledger": {ledger}}
	maxAge := func(policy string) (time.Duration, string) {
		if policy == "finance/ledger" {
			return 24 * time.Hour, "--max-age 24h: BackupPolicy finance/ledger not found in the cluster"
		}
		return 192 * time.Hour, "BackupPolicy " + policy + " spec.verification.maxAge, as it is now"
	}
	got := auditPolicies(drills, all, from, to, ClusterView{MaxAge: maxAge})
	if len(got) != 2 || got[0].Policy != "finance/ledger" || got[1].Policy != "helpdesk/helpdesk" {
		t.Fatalf("policies %+v", got)
	}
	ledgerAudit, a := got[0], got[1]
	if fmt.Sprint(ledgerAudit.EndNotChecked) != "[finance/ledger]" || ledgerAudit.MaxAge != "24h0m0s" || !strings.HasPrefix(ledgerAudit.MaxAgeSource, "--max-age 24h") ||
		ledgerAudit.Coverage.CoveredDays != 1 {
		t.Errorf("ledger %+v", ledgerAudit)
	}
	// The forged drill's pass on Nov 10 is not counted (it would cover
	// Nov 10 to 17); its drill is named as not counted.
	if fmt.Sprint(a.Drills) != "[helpdesk/weekly]" || len(a.Excluded) != 1 || !strings.HasPrefix(a.Excluded[0], "helpdesk/forged: evidence record 1") {
		t.Errorf("drills %v, excluded %v", a.Drills, a.Excluded)
	}
	if a.Runs != (RunCounts{Finished: 4, Passed: 2, Failed: 1, Errored: 1}) || a.PassRatePercent == nil || *a.PassRatePercent != 50 {
		t.Errorf("runs %+v, pass rate %v", a.Runs, a.PassRatePercent)
	}
	// Nov 15 and 28 are in the period (from w-3 and the later w-5); Oct 20 and Nov 29 are not.
	if a.MissedSchedules != 2 || a.MissedUndated != 2 {
		t.Errorf("missed %d, undated %d", a.MissedSchedules, a.MissedUndated)
	}
	if a.Coverage.Days != 28 || a.Coverage.CoveredDays != 15 || strings.Join(a.Coverage.Uncovered, " ") != "2026-11-10..2026-11-22" {
		t.Errorf("coverage %+v", a.Coverage)
	}
	o := a.Objectives
	if o.Met != 2 || o.Runs != 4 || o.Percent == nil || *o.Percent != 50 ||
		o.WorstRTO == nil || *o.WorstRTO != (Worst{Run: "w-2", MeasuredSeconds: 2400, ObjectiveSeconds: 1800, WithinObjective: false}) ||
		o.WorstRPO == nil || *o.WorstRPO != (Worst{Run: "w-4", MeasuredSeconds: 14400, ObjectiveSeconds: 93600, WithinObjective: true}) {
		t.Errorf("objectives %+v worst RTO %+v RPO %+v", o, o.WorstRTO, o.WorstRPO)
	}
	if len(a.Controls) != 2 {
		t.Fatalf("controls %+v", a.Controls)
	}
	for i, want := range []string{
		"2 of 4 runs passed (50.0 %), 1 failed a check or an objective, 1 could not be carried out (error). Regular testing: on 15 of 28 days (53.6 %) the newest passed restore test was at most 192h0m0s old; 2 scheduled test(s) did not run in the period (and its runs recorded 2 older one(s), undated).",
		"2 of 4 runs met their RTO and RPO objectives (50.0 %); worst RTO 40m0s against an objective of 30m0s (run w-2), worst RPO 4h0m0s against an objective of 26h0m0s (run w-4).",
	} {
		if !strings.Contains(a.Controls[i].Evidence, want) {
			t.Errorf("%s %s:\n%s\nlacks\n%s", a.Controls[i].Framework, a.Controls[i].Control, a.Controls[i].Evidence, want)
		}
	}
	if !strings.HasPrefix(a.Controls[0].Control, "A.8.13") || !strings.HasPrefix(a.Controls[1].Control, "A1.3") {
		t.Errorf("controls %q, %q", a.Controls[0].Control, a.Controls[1].Control)
	}

	// No run in the period: rates are absent, not 0 %, and coverage still
	// counts a pass from before the period.
	empty := auditPolicies(drills[:1], map[string][]auditedReport{"helpdesk/weekly": weekly[:1]}, utc("2026-10-27T00:00:00Z"), utc("2026-10-31T00:00:00Z"), ClusterView{})
	if len(empty) != 1 || empty[0].PassRatePercent != nil || empty[0].Objectives.Percent != nil || empty[0].Coverage.CoveredDays != 4 ||
		empty[0].MaxAgeSource != "default 192h0m0s" || !strings.Contains(empty[0].Controls[0].Evidence, "no run finished in the period") {
		t.Errorf("a period without runs: %+v", empty)
	}
}

func TestPolicyOf(t *testing.T) {
	for _, tc := range []struct {
		name, procedure, want string
	}{
		{"the procedure's policy, in the drill's namespace", `{"backupPolicyName":"helpdesk","snapshot":"latest"}`, "helpdesk/helpdesk"},
		{"no procedure stored", ``, ""},
		{"not JSON", `{`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := policyOf("helpdesk", []byte(tc.procedure)); got != tc.want {
				t.Errorf("policyOf = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAuditPoliciesFromCluster: what the report reads from the cluster
// beside the evidence. A BackupPolicy in scope, or one a DRDrill names,
// that no evidence restores is listed at 0 % with a note saying so (which
// drills name it, whether it exists); the missed schedule times the
// DRDrills' status still holds are counted per policy they name now, apart
// from the evidence's figure; what was not read is neither listed nor
// counted as 0.
func TestAuditPoliciesFromCluster(t *testing.T) {
	from, to := utc("2026-11-01T00:00:00Z"), utc("2026-11-29T00:00:00Z")
	drills := []DrillExport{{Drill: "helpdesk/weekly", Chain: "verified", EndChecked: true}}
	all := map[string][]auditedReport{"helpdesk/weekly": {auditRun("w-1", "Passed", "2026-11-02T06:20:00Z", 1200, 10800, true)}}
	weekly := ClusterDrill{Drill: "helpdesk/weekly", Policy: "helpdesk/helpdesk"}
	// Two of its three times are in the period; three older were dropped.
	crmDaily := ClusterDrill{Drill: "helpdesk/crm-daily", Policy: "helpdesk/crm", MissedDropped: 3,
		MissedSchedules: []time.Time{utc("2026-10-30T06:00:00Z"), utc("2026-11-20T06:00:00Z"), utc("2026-11-21T06:00:00Z")}}
	renamed := ClusterDrill{Drill: "helpdesk/renamed", Policy: "helpdesk/old"}
	const none = "no drill restores this policy: no evidence records a restore of it"
	pending := func(n int, undated int64, drills ...string) string {
		return fmt.Sprintf("%+v", PendingMissed{Source: PendingSource, InPeriod: n, Undated: undated, Drills: drills})
	}
	type row struct {
		note    string // "" for a policy with evidence
		pending string // "nil": not read
	}
	for _, tc := range []struct {
		name    string
		cluster ClusterView
		want    map[string]row
	}{
		{"nothing read from the cluster", ClusterView{},
			map[string]row{"helpdesk/helpdesk": {"", "nil"}}},
		{"a policy no drill names",
			ClusterView{Policies: []string{"helpdesk/crm", "helpdesk/helpdesk"}, Drills: []ClusterDrill{weekly}},
			map[string]row{"helpdesk/helpdesk": {"", pending(0, 0)}, "helpdesk/crm": {none + ", and no DRDrill names it", pending(0, 0)}}},
		{"a drill names it, never ran, missed times pending",
			ClusterView{Policies: []string{"helpdesk/crm", "helpdesk/helpdesk"}, Drills: []ClusterDrill{weekly, crmDaily}},
			map[string]row{"helpdesk/helpdesk": {"", pending(0, 0)},
				"helpdesk/crm": {none + "; DRDrill helpdesk/crm-daily names it now, but has recorded no evidence restoring it", pending(2, 3, "helpdesk/crm-daily")}}},
		{"a drill names a policy that is gone",
			ClusterView{Policies: []string{"helpdesk/helpdesk"}, Drills: []ClusterDrill{weekly, renamed}},
			map[string]row{"helpdesk/helpdesk": {"", pending(0, 0)},
				"helpdesk/old": {none + "; DRDrill helpdesk/renamed names it now, but has recorded no evidence restoring it; the BackupPolicy is not in the cluster (deleted or renamed?)", pending(0, 0)}}},
		{"the BackupPolicies not read: the policies drills name",
			ClusterView{Drills: []ClusterDrill{weekly, crmDaily}},
			map[string]row{"helpdesk/helpdesk": {"", pending(0, 0)},
				"helpdesk/crm": {none + "; DRDrill helpdesk/crm-daily names it now, but has recorded no evidence restoring it", pending(2, 3, "helpdesk/crm-daily")}}},
		{"the DRDrills not read: no drill named, nothing pending counted",
			ClusterView{Policies: []string{"helpdesk/crm", "helpdesk/helpdesk"}},
			map[string]row{"helpdesk/helpdesk": {"", "nil"}, "helpdesk/crm": {none, "nil"}}},
		{"times pending for a policy with evidence, apart from its figure",
			ClusterView{Policies: []string{"helpdesk/helpdesk"}, Drills: []ClusterDrill{{Drill: "helpdesk/weekly", Policy: "helpdesk/helpdesk",
				MissedSchedules: []time.Time{utc("2026-11-25T06:00:00Z"), utc("2026-11-29T06:00:00Z")}}}},
			map[string]row{"helpdesk/helpdesk": {"", pending(1, 0, "helpdesk/weekly")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]row{}
			for _, a := range auditPolicies(drills, all, from, to, tc.cluster) {
				p := "nil"
				if a.MissedPending != nil {
					p = fmt.Sprintf("%+v", *a.MissedPending)
				}
				got[a.Policy] = row{a.Note, p}
				if a.NoDrill != (a.Note != "") {
					t.Errorf("%s: noDrill %v with note %q", a.Policy, a.NoDrill, a.Note)
				}
				if a.MissedSchedules != 0 {
					t.Errorf("%s: the evidence's missed figure %d counts times read from the cluster", a.Policy, a.MissedSchedules)
				}
				if !a.NoDrill {
					continue
				}
				// Nothing evidences a restore: 0 %, no runs, no rates, and
				// the controls say no test is evidenced.
				if a.Coverage.Days != 28 || a.Coverage.CoveredDays != 0 || a.Coverage.Percent != 0 || a.Runs != (RunCounts{}) ||
					a.PassRatePercent != nil || a.Objectives.Percent != nil || len(a.Drills) != 0 || a.Drills == nil {
					t.Errorf("%s: %+v", a.Policy, a)
				}
				if len(a.Controls) != 2 ||
					!strings.HasPrefix(a.Controls[0].Evidence, "No test of the backup copies of "+a.Policy+" is evidenced ("+a.Note+"). Regular testing: on 0 of 28 days (0.0 %)") ||
					!strings.HasPrefix(a.Controls[1].Evidence, "No recovery procedure restoring "+a.Policy+" was carried out with evidence") {
					t.Errorf("%s controls %+v", a.Policy, a.Controls)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("policies\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}
