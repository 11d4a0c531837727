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
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The auditor's view: per BackupPolicy and period, figures computed from
// verified evidence only, and what they evidence for ISO/IEC 27001:2022
// A.8.13 and SOC 2 A1.3.

// DefaultMaxAge is a BackupPolicy's spec.verification.maxAge when unset:
// how long a passed restore test proves the backups restorable.
const DefaultMaxAge = 192 * time.Hour

// MaxAgeFunc says how long a passed run proves the backups of policy
// (namespace/name) restorable, and where that figure comes from (the
// BackupPolicy's spec, or a flag when the policy cannot be read).
type MaxAgeFunc func(policy string) (maxAge time.Duration, source string)

// ClusterView is what the report reads from the cluster's objects as they
// are now (spec and status: mutable and unsigned), with the user's
// credentials, beside the evidence. A nil field was not read.
type ClusterView struct {
	// Expect holds the DRDrills' UIDs and evidence heads by namespace/name
	// (nil: the DRDrills could not be read; see CollectWith).
	Expect map[string]Expect
	// MaxAge says each policy's maxAge (nil: DefaultMaxAge).
	MaxAge MaxAgeFunc
	// Policies are namespace/name of every BackupPolicy in scope (nil: they
	// could not be read, so a policy no drill restores cannot be listed).
	Policies []string
	// Drills are the DRDrills in scope (nil: they could not be read).
	Drills []ClusterDrill
	// NotRead says what could not be read and what the report lacks for it.
	NotRead []string
}

// ClusterDrill is a DRDrill as its spec and status are now.
type ClusterDrill struct {
	// Drill is namespace/name.
	Drill string
	// Policy is namespace/name of the BackupPolicy it names now
	// (spec.backupPolicyName).
	Policy string
	// MissedSchedules and MissedDropped are status.missedSchedules and
	// status.missedSchedulesDropped: schedule times that passed without a
	// run and that no run has carried into evidence yet (the run that will
	// carry them takes them from the status in the write that acknowledges
	// it, before it can record evidence: they are never in both).
	MissedSchedules []time.Time
	MissedDropped   int64
}

// PendingSource says where PendingMissed is read from.
const PendingSource = "the DRDrills' status.missedSchedules, read from the cluster as it is now: not signed evidence"

// PendingMissed are schedule times missed in the period that no run has
// carried into evidence yet, read from the status of the DRDrills that
// name a policy now: a figure apart from the evidence's.
type PendingMissed struct {
	// Source is PendingSource.
	Source string `json:"source"`
	// InPeriod counts the listed times in the period; Undated the older
	// ones the lists had no room for (status.missedSchedulesDropped).
	InPeriod int   `json:"inPeriod"`
	Undated  int64 `json:"undated,omitempty"`
	// Drills are the DRDrills holding any.
	Drills []string `json:"drills,omitempty"`
}

// PolicyAudit is the auditor's view of one BackupPolicy's restore tests in
// a period, from the verified evidence of every drill that tested it.
type PolicyAudit struct {
	// Policy is namespace/name of the BackupPolicy the runs restored (from
	// the procedure stored with each report, whose SHA-256 the report holds).
	Policy string `json:"policy"`
	// Drills are the drills whose verified reports the figures count.
	Drills []string `json:"drills"`
	// Excluded names drills whose chain did not verify, and why: none of
	// their reports is counted.
	Excluded []string `json:"excluded,omitempty"`
	// EndNotChecked names counted drills whose chain could not be checked
	// against their evidence head: newer records may be missing.
	EndNotChecked []string `json:"endNotChecked,omitempty"`
	// MaxAge is how long a passed run proves the backups restorable, and
	// MaxAgeSource where it comes from.
	MaxAge       string `json:"maxAge"`
	MaxAgeSource string `json:"maxAgeSource"`
	// Coverage is the verified-restore coverage of the period's days.
	Coverage Coverage `json:"verifiedRestoreCoverage"`
	// Runs counts the runs that finished in the period.
	Runs RunCounts `json:"runs"`
	// PassRatePercent is passed / finished runs, in percent; null without
	// finished runs.
	PassRatePercent *float64 `json:"passRatePercent"`
	// MissedSchedules counts schedule times in the period that passed
	// without a run, as later runs' evidence recorded them; MissedUndated
	// counts older skipped times (not listed for want of room, so without
	// a date) recorded by runs that finished in the period.
	MissedSchedules int   `json:"missedSchedules"`
	MissedUndated   int64 `json:"missedSchedulesUndated,omitempty"`
	// Objectives is the recovery-objective compliance of the period's runs.
	Objectives ObjectiveCompliance `json:"objectives"`
	// MissedPending counts missed schedule times not in any evidence yet,
	// read from the cluster (see PendingMissed); absent when the DRDrills
	// could not be read.
	MissedPending *PendingMissed `json:"missedSchedulesPendingFromCluster,omitempty"`
	// NoDrill is true when no evidence, verified or not, records a restore
	// of this policy: it was read from the cluster (a BackupPolicy, or the
	// policy a DRDrill names) and nothing evidences that its backups
	// restore. Note says so, for a human.
	NoDrill bool   `json:"noDrill,omitempty"`
	Note    string `json:"note,omitempty"`
	// Controls map the figures to the controls they evidence.
	Controls []ControlMapping `json:"controls"`
}

// Coverage is the share of the period's days that closed with a verified
// restore in force: at the end of the day (UTC midnight, or the period's
// end for its last day) the newest passed run was at most maxAge old.
type Coverage struct {
	Days        int     `json:"days"`
	CoveredDays int     `json:"coveredDays"`
	Percent     float64 `json:"percent"`
	// Uncovered are the days not covered, as UTC dates and date ranges
	// (2026-11-10..2026-11-12).
	Uncovered []string `json:"uncovered,omitempty"`
}

// RunCounts are finished runs by result: Failed (a check or an objective
// failed) apart from Errored (the drill could not be carried out).
type RunCounts struct {
	Finished int `json:"finished"`
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Errored  int `json:"errored"`
}

// ObjectiveCompliance is how the period's runs fared against their RTO
// and RPO objectives.
type ObjectiveCompliance struct {
	// Met of Runs finished runs met every objective; Percent is null
	// without finished runs.
	Met     int      `json:"met"`
	Runs    int      `json:"runs"`
	Percent *float64 `json:"percent"`
	// WorstRTO and WorstRPO are the runs with the longest measured recovery
	// time and point (absent when no run measured one).
	WorstRTO *Worst `json:"worstRTO,omitempty"`
	WorstRPO *Worst `json:"worstRPO,omitempty"`
}

// Worst is the largest measurement of the period against the objective of
// the run that measured it (0: the run had none).
type Worst struct {
	Run              string  `json:"run"`
	MeasuredSeconds  float64 `json:"measuredSeconds"`
	ObjectiveSeconds float64 `json:"objectiveSeconds"`
	WithinObjective  bool    `json:"withinObjective"`
}

// ControlMapping says which figures evidence what for one control.
type ControlMapping struct {
	Framework string `json:"framework"`
	Control   string `json:"control"`
	Evidence  string `json:"evidence"`
}

// auditedReport is a verified report with the BackupPolicy its run restored.
type auditedReport struct {
	Report
	policy string
}

// policyOf is namespace/name of the BackupPolicy a stored procedure names
// ("" when no procedure is stored). VerifyChain has checked the procedure
// against the digest inside the report.
func policyOf(namespace string, procedure []byte) string {
	var p struct {
		BackupPolicyName string `json:"backupPolicyName"`
	}
	if len(procedure) == 0 || json.Unmarshal(procedure, &p) != nil || p.BackupPolicyName == "" {
		return ""
	}
	return namespace + "/" + p.BackupPolicyName
}

// auditPolicies groups the verified reports of every drill by the policy
// they restored and computes each policy's figures for [from, to).
// Reports outside the period still count where they must: an earlier pass
// covers the period's first days, a later run records the period's missed
// schedule times. What cluster read adds: each policy's maxAge, the
// policies no evidence restores (noDrillPolicies) and the missed times
// still pending in the DRDrills' status (pendingOf).
func auditPolicies(drills []DrillExport, all map[string][]auditedReport, from, to time.Time, cluster ClusterView) []PolicyAudit {
	byPolicy, reports := policiesWithEvidence(drills, all)
	for _, a := range noDrillPolicies(byPolicy, cluster) {
		byPolicy[a.Policy] = a
	}
	out := make([]PolicyAudit, 0, len(byPolicy))
	for policy, a := range byPolicy {
		age, source := DefaultMaxAge, fmt.Sprintf("default %s", DefaultMaxAge)
		if cluster.MaxAge != nil && policy != "" {
			age, source = cluster.MaxAge(policy)
		}
		if policy == "" {
			a.Policy = "(unknown: reports stored without their procedure)"
		} else {
			a.MissedPending = pendingOf(policy, cluster.Drills, from, to)
		}
		a.MaxAge, a.MaxAgeSource = age.String(), source
		fillFigures(a, reports[policy], from, to, age)
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Policy < out[j].Policy })
	return out
}

// policiesWithEvidence are the policies some drill's evidence restores,
// with the drills counted or not, and the verified reports of each.
func policiesWithEvidence(drills []DrillExport, all map[string][]auditedReport) (map[string]*PolicyAudit, map[string][]Report) {
	byPolicy := map[string]*PolicyAudit{}
	reports := map[string][]Report{}
	for _, d := range drills {
		seen := map[string]bool{}
		for _, r := range all[d.Drill] {
			a, ok := byPolicy[r.policy]
			if !ok {
				a = &PolicyAudit{Policy: r.policy, Drills: []string{}}
				byPolicy[r.policy] = a
			}
			if !seen[r.policy] {
				seen[r.policy] = true
				switch {
				case d.Broken:
					a.Excluded = append(a.Excluded, d.Drill+": "+d.Chain)
				case !d.EndChecked:
					a.Drills = append(a.Drills, d.Drill)
					a.EndNotChecked = append(a.EndNotChecked, d.Drill)
				default:
					a.Drills = append(a.Drills, d.Drill)
				}
			}
			if !d.Broken {
				reports[r.policy] = append(reports[r.policy], r.Report)
			}
		}
	}
	return byPolicy, reports
}

// noDrillPolicies are the policies read from the cluster (the
// BackupPolicies in scope, and those the DRDrills name) that no evidence
// restores: the worst case for A.8.13, backups nothing tests. Each says
// why in its note: which DRDrills name it, and whether the BackupPolicy is
// there.
func noDrillPolicies(withEvidence map[string]*PolicyAudit, cluster ClusterView) []*PolicyAudit {
	exists := map[string]bool{}
	for _, p := range cluster.Policies {
		exists[p] = true
	}
	namedBy := map[string][]string{}
	candidates := append([]string(nil), cluster.Policies...)
	for _, d := range cluster.Drills {
		if d.Policy == "" {
			continue
		}
		if _, ok := namedBy[d.Policy]; !ok && !exists[d.Policy] {
			candidates = append(candidates, d.Policy)
		}
		namedBy[d.Policy] = append(namedBy[d.Policy], d.Drill)
	}
	var out []*PolicyAudit
	for _, policy := range candidates {
		if _, ok := withEvidence[policy]; ok {
			continue
		}
		note := "no drill restores this policy: no evidence records a restore of it"
		switch names := namedBy[policy]; {
		case len(names) > 0:
			sort.Strings(names)
			note += fmt.Sprintf("; DRDrill %s names it now, but has recorded no evidence restoring it", strings.Join(names, ", "))
		case cluster.Drills != nil:
			note += ", and no DRDrill names it"
		}
		if cluster.Policies != nil && !exists[policy] {
			note += "; the BackupPolicy is not in the cluster (deleted or renamed?)"
		}
		out = append(out, &PolicyAudit{Policy: policy, Drills: []string{}, NoDrill: true, Note: note})
	}
	return out
}

// pendingOf counts the missed schedule times the status of the DRDrills
// naming policy still holds (nil when the DRDrills could not be read).
func pendingOf(policy string, drills []ClusterDrill, from, to time.Time) *PendingMissed {
	if drills == nil {
		return nil
	}
	p := &PendingMissed{Source: PendingSource}
	for _, d := range drills {
		if d.Policy != policy {
			continue
		}
		n := 0
		for _, t := range d.MissedSchedules {
			if inPeriod(t, from, to) {
				n++
			}
		}
		p.InPeriod += n
		p.Undated += d.MissedDropped
		if n > 0 || d.MissedDropped > 0 {
			p.Drills = append(p.Drills, d.Drill)
		}
	}
	sort.Strings(p.Drills)
	return p
}

// fillFigures computes a policy's figures from its verified reports.
func fillFigures(a *PolicyAudit, reports []Report, from, to time.Time, maxAge time.Duration) {
	var passes []time.Time
	rto, rpo := &worstOf{}, &worstOf{}
	for _, r := range reports {
		if r.Result == "Passed" {
			passes = append(passes, r.CompletionTime)
		}
		for _, t := range r.MissedSchedules {
			if inPeriod(t, from, to) {
				a.MissedSchedules++
			}
		}
		if !inPeriod(r.CompletionTime, from, to) {
			continue
		}
		a.MissedUndated += r.MissedSchedulesDropped
		a.Runs.Finished++
		switch r.Result {
		case "Passed":
			a.Runs.Passed++
		case "Failed":
			a.Runs.Failed++
		default:
			a.Runs.Errored++
		}
		if r.ObjectivesMet {
			a.Objectives.Met++
		}
		rto.see(r.Run, r.MeasuredRTOSeconds, r.ObjectiveRTOSeconds)
		rpo.see(r.Run, r.MeasuredRPOSeconds, r.ObjectiveRPOSeconds)
	}
	a.Coverage = CoverageOf(passes, from, to, maxAge)
	a.Objectives.Runs = a.Runs.Finished
	a.PassRatePercent = percentOf(a.Runs.Passed, a.Runs.Finished)
	a.Objectives.Percent = percentOf(a.Objectives.Met, a.Objectives.Runs)
	a.Objectives.WorstRTO, a.Objectives.WorstRPO = rto.worst, rpo.worst
	a.Controls = controlsOf(a)
}

func inPeriod(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }

// percentOf is n in percent of of, nil when of is 0 (no runs: no rate,
// rather than 0 %).
func percentOf(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	v := 100 * float64(n) / float64(of)
	return &v
}

// worstOf keeps the largest measurement seen.
type worstOf struct{ worst *Worst }

func (w *worstOf) see(run string, measured, objective float64) {
	if measured <= 0 || (w.worst != nil && measured <= w.worst.MeasuredSeconds) {
		return
	}
	w.worst = &Worst{Run: run, MeasuredSeconds: measured, ObjectiveSeconds: objective, WithinObjective: objective == 0 || measured <= objective}
}

// CoverageOf is the verified-restore coverage of [from, to) given the
// completion times of passed runs (any order, any time): the period is cut
// at UTC midnights into days (the first and last may be partial), and a
// day is covered when, at its end, the newest pass completed before that
// end is at most maxAge old. A pass before the period counts for its first
// days; with no pass at all nothing is covered.
func CoverageOf(passes []time.Time, from, to time.Time, maxAge time.Duration) Coverage {
	sorted := append([]time.Time(nil), passes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	var c Coverage
	var uncovered []time.Time
	for start := from.UTC(); start.Before(to); {
		end := time.Date(start.Year(), start.Month(), start.Day()+1, 0, 0, 0, 0, time.UTC)
		if end.After(to) {
			end = to
		}
		// The newest pass strictly before the day's end.
		i := sort.Search(len(sorted), func(i int) bool { return !sorted[i].Before(end) })
		c.Days++
		if i > 0 && end.Sub(sorted[i-1]) <= maxAge {
			c.CoveredDays++
		} else {
			uncovered = append(uncovered, start)
		}
		start = end
	}
	if c.Days > 0 {
		c.Percent = 100 * float64(c.CoveredDays) / float64(c.Days)
	}
	c.Uncovered = dayRanges(uncovered)
	return c
}

// dayRanges writes consecutive UTC days as one range.
func dayRanges(days []time.Time) []string {
	var out []string
	for i := 0; i < len(days); {
		j := i
		for j+1 < len(days) && days[j+1].Format(time.DateOnly) == days[j].AddDate(0, 0, 1).Format(time.DateOnly) {
			j++
		}
		r := days[i].Format(time.DateOnly)
		if j > i {
			r += ".." + days[j].Format(time.DateOnly)
		}
		out = append(out, r)
		i = j + 1
	}
	return out
}

// controlsOf maps a policy's figures to ISO/IEC 27001:2022 A.8.13 and
// SOC 2 A1.3, in sentences an auditor can check against the figures.
func controlsOf(a *PolicyAudit) []ControlMapping {
	rate := "no run finished in the period"
	if p := a.PassRatePercent; p != nil {
		rate = fmt.Sprintf("%d of %d runs passed (%s), %d failed a check or an objective, %d could not be carried out (error)",
			a.Runs.Passed, a.Runs.Finished, percent(*p), a.Runs.Failed, a.Runs.Errored)
	}
	missed := fmt.Sprintf("%d scheduled test(s) did not run in the period", a.MissedSchedules)
	if a.MissedUndated > 0 {
		missed += fmt.Sprintf(" (and its runs recorded %d older one(s), undated)", a.MissedUndated)
	}
	objectives := "no run measured against the objectives"
	if p := a.Objectives.Percent; p != nil {
		objectives = fmt.Sprintf("%d of %d runs met their RTO and RPO objectives (%s)", a.Objectives.Met, a.Objectives.Runs, percent(*p))
	}
	worst := []string{}
	for _, w := range []struct {
		name string
		w    *Worst
	}{{"RTO", a.Objectives.WorstRTO}, {"RPO", a.Objectives.WorstRPO}} {
		if w.w != nil {
			worst = append(worst, fmt.Sprintf("worst %s %s against %s (run %s)", w.name, seconds(w.w.MeasuredSeconds), objectiveText(w.w.ObjectiveSeconds), w.w.Run))
		}
	}
	if len(worst) > 0 {
		objectives += "; " + strings.Join(worst, ", ")
	}
	if a.NoDrill {
		return []ControlMapping{
			{
				Framework: "ISO/IEC 27001:2022", Control: "A.8.13 Information backup (backup copies regularly tested)",
				Evidence: fmt.Sprintf("No test of the backup copies of %s is evidenced (%s). "+
					"Regular testing: on %d of %d days (%s) a passed restore test at most %s old was in force.",
					a.Policy, a.Note, a.Coverage.CoveredDays, a.Coverage.Days, percent(a.Coverage.Percent), a.MaxAge),
			},
			{
				Framework: "SOC 2 (2017 TSC)", Control: "A1.3 Recovery plan procedures tested",
				Evidence: fmt.Sprintf("No recovery procedure restoring %s was carried out with evidence (%s).", a.Policy, a.Note),
			},
		}
	}
	return []ControlMapping{
		{
			Framework: "ISO/IEC 27001:2022", Control: "A.8.13 Information backup (backup copies regularly tested)",
			Evidence: fmt.Sprintf("Backup copies of %s were tested by restoring them into an isolated sandbox and checking the restored data: %s. "+
				"Regular testing: on %d of %d days (%s) the newest passed restore test was at most %s old; %s.",
				a.Policy, rate, a.Coverage.CoveredDays, a.Coverage.Days, percent(a.Coverage.Percent), a.MaxAge, missed),
		},
		{
			Framework: "SOC 2 (2017 TSC)", Control: "A1.3 Recovery plan procedures tested",
			Evidence: fmt.Sprintf("Each run carried out the drill's recovery procedure end to end (restore, checks, measured recovery time and point; "+
				"the procedure's SHA-256 is in each report, the reports hash-chained and verified): %s; %s. %s.",
				rate, objectives, capitalise(missed)),
		},
	}
}

func percent(p float64) string { return fmt.Sprintf("%.1f %%", p) }

func seconds(s float64) string { return (time.Duration(s) * time.Second).String() }

func objectiveText(s float64) string {
	if s == 0 {
		return "no objective"
	}
	return "an objective of " + seconds(s)
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
