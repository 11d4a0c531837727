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
	"context"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// VerifyDrill loads a drill's evidence and verifies its chain, every
// record bound to namespace/drill; it returns the number of records. A
// broken link names the ConfigMap and its run.
func VerifyDrill(ctx context.Context, c client.Reader, namespace, drill string, pub ed25519.PublicKey) (int, error) {
	return VerifyDrillWith(ctx, c, namespace, drill, pub, Expect{})
}

// VerifyDrillWith is VerifyDrill with what the chain must be bound to
// (want.Drill defaults to namespace/drill): the drill's UID and its head.
func VerifyDrillWith(ctx context.Context, c client.Reader, namespace, drill string, pub ed25519.PublicKey, want Expect) (int, error) {
	chain, err := LoadChain(ctx, c, namespace, drill)
	if err != nil {
		return 0, err
	}
	if want.Drill == "" {
		want.Drill = namespace + "/" + drill
	}
	if err := VerifyChain(chain, pub, want); err != nil {
		var broken *BrokenLink
		if errors.As(err, &broken) {
			if r, perr := Parse(chain[broken.Index].Canonical); perr == nil {
				broken.Reason += fmt.Sprintf(" (run %s)", r.Run)
			}
		}
		return len(chain), err
	}
	return len(chain), nil
}

// DrillExport is one drill's reports in a period and whether its whole
// chain verifies.
type DrillExport struct {
	Drill string `json:"drill"`
	// Chain is "verified", "verified, end not checked: why", or the first
	// broken link.
	Chain string `json:"chain"`
	// Broken is true when the chain does not verify.
	Broken bool `json:"broken"`
	// EndChecked is true when the chain was found to end at the drill's
	// evidence head; otherwise deleted newest records would not show.
	EndChecked bool     `json:"endChecked"`
	Reports    []Report `json:"reports"`
}

// noHeadReason says why a drill's chain could not be checked against its
// evidence head: the DRDrills were not read (read), the DRDrill is gone
// (found), or its status has no head.
func noHeadReason(read, found bool) string {
	const how = "newest records may have been deleted unseen; verify with supportstack verify-evidence --expect-head SEQ:SHA256 from an earlier report or alert"
	switch {
	case !read:
		return "the DRDrills could not be read, so there is no evidence head to compare with: " + how
	case !found:
		return "the DRDrill is not found (deleted?), so its evidence head is gone: " + how
	}
	return "the DRDrill's status has no evidence head: " + how
}

// Export is the auditors' report: per BackupPolicy the figures of its
// restore tests, and every drill's runs in [From, To).
type Export struct {
	From     time.Time     `json:"from"`
	To       time.Time     `json:"to"`
	Policies []PolicyAudit `json:"policies"`
	Drills   []DrillExport `json:"drills"`
	// NotRead says what could not be read from the cluster, and what the
	// report lacks for it.
	NotRead []string `json:"notReadFromCluster,omitempty"`
}

// CollectWith builds the export from the evidence ConfigMaps in namespace
// (all namespaces when empty), never from mutable status. Each drill's
// chain is verified whole, so a report in the period cannot hide a break
// outside it, and against what cluster.Expect holds for it, keyed by
// namespace/name (the drills' UIDs and evidence heads, from their status):
// a drill whose newest records were deleted shows as broken. A drill with
// no head to compare with (Expect nil: the DRDrills could not be read; no
// entry: the DRDrill is gone; no head in its status) shows as "end not
// checked", never as intact.
//
// The policies' figures (auditPolicies) count only the reports of chains
// that verify, grouped by the BackupPolicy named in the procedure stored
// with each report; cluster.MaxAge says each policy's (nil:
// DefaultMaxAge). What else is read from the cluster is apart from those
// figures and says so: the policies no evidence restores (at 0 %), and the
// missed schedule times the DRDrills' status still holds.
func CollectWith(ctx context.Context, c client.Reader, namespace string, from, to time.Time, pub ed25519.PublicKey, cluster ClusterView) (Export, error) {
	var cms corev1.ConfigMapList
	opts := []client.ListOption{client.MatchingLabels{labelEvidence: "true"}}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := c.List(ctx, &cms, opts...); err != nil {
		return Export{}, err
	}
	// One list: each drill's records are grouped from it, not listed again.
	type key struct{ ns, drill string }
	drills := map[key][]corev1.ConfigMap{}
	for _, cm := range cms.Items {
		k := key{cm.Namespace, cm.Labels[labelDrill]}
		drills[k] = append(drills[k], cm)
	}
	keys := make([]key, 0, len(drills))
	for k := range drills {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].ns+"/"+keys[i].drill < keys[j].ns+"/"+keys[j].drill
	})
	out := Export{From: from.UTC(), To: to.UTC(), Drills: []DrillExport{}, NotRead: cluster.NotRead}
	expect := cluster.Expect
	all := map[string][]auditedReport{}
	for _, k := range keys {
		chain := chainOf(drills[k])
		want, found := expect[k.ns+"/"+k.drill]
		want.Drill = k.ns + "/" + k.drill
		d := DrillExport{Drill: want.Drill, Chain: "verified", EndChecked: want.Head != nil, Reports: []Report{}}
		if err := VerifyChain(chain, pub, want); err != nil {
			d.Chain, d.Broken = err.Error(), true
		} else if want.Head == nil {
			d.Chain = "verified, end not checked: " + noHeadReason(expect != nil, found)
		}
		for _, rec := range chain {
			r, err := Parse(rec.Canonical)
			if err != nil {
				continue
			}
			all[d.Drill] = append(all[d.Drill], auditedReport{Report: r, policy: policyOf(k.ns, rec.Procedure)})
			if inPeriod(r.CompletionTime, from, to) {
				d.Reports = append(d.Reports, r)
			}
		}
		out.Drills = append(out.Drills, d)
	}
	out.Policies = auditPolicies(out.Drills, all, from, to, cluster)
	return out, nil
}

// WriteJSON writes the export as indented JSON.
func (e Export) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(e)
}

var csvHeader = []string{"drill", "chain", "run", "sequence", "result", "start", "completion", "snapshot", "snapshot_time",
	"measured_rto_seconds", "objective_rto_seconds", "measured_rpo_seconds", "objective_rpo_seconds", "objectives_met", "checks_passed", "checks_total", "message",
	"recovery_set", "missed_schedules", "missed_schedules_dropped"}

var csvPolicyHeader = []string{"policy", "drills", "excluded", "end_not_checked", "max_age", "max_age_source",
	"days", "covered_days", "coverage_percent", "uncovered_days",
	"runs_finished", "runs_passed", "runs_failed", "runs_errored", "pass_rate_percent", "missed_schedules", "missed_schedules_undated",
	"objectives_met", "objectives_met_percent", "worst_rto_run", "worst_rto_seconds", "worst_rto_objective_seconds",
	"worst_rpo_run", "worst_rpo_seconds", "worst_rpo_objective_seconds", "iso27001_2022_a8_13", "soc2_a1_3",
	"no_drill", "note", "missed_schedules_pending_from_cluster", "missed_schedules_pending_undated_from_cluster", "missed_schedules_pending_drills"}

func csvNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// csvPercent is a percentage with one decimal, "" for none.
func csvPercent(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', 1, 64)
}

func csvAt(t time.Time) string {
	if t.IsZero() {
		return "" // a run that ended before it restored a snapshot
	}
	return t.UTC().Format(time.RFC3339)
}

// WriteCSV writes one line per run, then an empty line and one line per
// BackupPolicy with its figures (a second table with its own header).
func (e Export) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	num, at := csvNum, csvAt
	for _, d := range e.Drills {
		for _, r := range d.Reports {
			passed := 0
			for _, c := range r.Checks {
				if c.Passed {
					passed++
				}
			}
			if err := cw.Write([]string{d.Drill, d.Chain, r.Run, strconv.FormatInt(r.Sequence, 10), r.Result,
				at(r.StartTime), at(r.CompletionTime), r.SnapshotID, at(r.SnapshotTime),
				num(r.MeasuredRTOSeconds), num(r.ObjectiveRTOSeconds), num(r.MeasuredRPOSeconds), num(r.ObjectiveRPOSeconds),
				strconv.FormatBool(r.ObjectivesMet), strconv.Itoa(passed), strconv.Itoa(len(r.Checks)), r.Message,
				r.RecoverySet, missedList(r.MissedSchedules), strconv.FormatInt(r.MissedSchedulesDropped, 10)}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	if err := cw.Write(csvPolicyHeader); err != nil {
		return err
	}
	for _, p := range e.Policies {
		if err := cw.Write(policyRecord(p)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// missedList is the missed schedule times, space-separated RFC 3339.
func missedList(ts []time.Time) string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, csvAt(t))
	}
	return strings.Join(out, " ")
}

// policyRecord is one BackupPolicy's line of the CSV's second table.
func policyRecord(p PolicyAudit) []string {
	worst := func(w *Worst) []string {
		if w == nil {
			return []string{"", "", ""}
		}
		return []string{w.Run, csvNum(w.MeasuredSeconds), csvNum(w.ObjectiveSeconds)}
	}
	control := func(prefix string) string {
		for _, c := range p.Controls {
			if strings.HasPrefix(c.Framework, prefix) {
				return c.Evidence
			}
		}
		return ""
	}
	rec := []string{p.Policy, strings.Join(p.Drills, " "), strings.Join(p.Excluded, "; "), strings.Join(p.EndNotChecked, " "), p.MaxAge, p.MaxAgeSource,
		strconv.Itoa(p.Coverage.Days), strconv.Itoa(p.Coverage.CoveredDays), strconv.FormatFloat(p.Coverage.Percent, 'f', 1, 64), strings.Join(p.Coverage.Uncovered, " "),
		strconv.Itoa(p.Runs.Finished), strconv.Itoa(p.Runs.Passed), strconv.Itoa(p.Runs.Failed), strconv.Itoa(p.Runs.Errored), csvPercent(p.PassRatePercent),
		strconv.Itoa(p.MissedSchedules), strconv.FormatInt(p.MissedUndated, 10),
		strconv.Itoa(p.Objectives.Met), csvPercent(p.Objectives.Percent)}
	rec = append(rec, worst(p.Objectives.WorstRTO)...)
	rec = append(rec, worst(p.Objectives.WorstRPO)...)
	rec = append(rec, control("ISO"), control("SOC 2"), strconv.FormatBool(p.NoDrill), p.Note)
	// Pending times read from the cluster: empty when the DRDrills were not read.
	if m := p.MissedPending; m != nil {
		return append(rec, strconv.Itoa(m.InPeriod), strconv.FormatInt(m.Undated, 10), strings.Join(m.Drills, " "))
	}
	return append(rec, "", "", "")
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur": func(s float64) string {
		if s == 0 {
			return "—"
		}
		return (time.Duration(s) * time.Second).String()
	},
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") },
	"pct": func(measured, objective float64) int {
		if objective == 0 {
			return 0
		}
		return min(100, int(100*measured/objective))
	},
	"pct1": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return percent(*p)
	},
	"worst": func(w *Worst) string {
		if w == nil {
			return "—"
		}
		within := "within"
		if !w.WithinObjective {
			within = "OVER"
		}
		return fmt.Sprintf("%s against %s, %s (run %s)", seconds(w.MeasuredSeconds), objectiveText(w.ObjectiveSeconds), within, w.Run)
	},
	"percent": percent,
	"join":    strings.Join,
	"missed":  missedList,
	"passed": func(cs []Check) int {
		n := 0
		for _, c := range cs {
			if c.Passed {
				n++
			}
		}
		return n
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Disaster-recovery drills {{date .From}} to {{date .To}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;font-size:.9em}
.Passed{color:#176117}.Failed{color:#a30000}.Error{color:#8a5a00}
.timeline span{display:inline-block;width:1.1em;height:1.1em;margin-right:2px;border-radius:2px}
.timeline .Passed{background:#2e9e2e}.timeline .Failed{background:#d22}.timeline .Error{background:#e0a000}
.bar{background:#eee;width:8em;height:.7em;display:inline-block}.bar i{display:block;height:100%;background:#2e7dd2}
.broken{color:#a30000;font-weight:bold}.unchecked{color:#8a5a00;font-weight:bold}
</style></head><body>
<h1>Disaster-recovery drills</h1>
<p>Period {{date .From}} to {{date .To}}. Generated from the drills' evidence records (hash-chained{{/* */}}), not from mutable status.</p>
{{range .NotRead}}<p class="unchecked">Not read from the cluster: {{.}}</p>
{{end}}<h2>Backup policies: verified restores</h2>
<p>Figures per BackupPolicy from the verified evidence of every drill that restored it. A day (UTC) counts as covered when, at its end, the newest passed run was at most maxAge old. A policy read from the cluster that no evidence restores is listed at 0 %. Rows marked "read from the cluster" come from the DRDrills' status as it is now, not from signed evidence.</p>
{{range .Policies}}
<h3>{{.Policy}}</h3>
<table>
{{if .Note}}<tr><th>Note</th><td class="broken">{{.Note}}</td></tr>
{{end}}<tr><th>Verified-restore coverage</th><td>{{.Coverage.CoveredDays}} of {{.Coverage.Days}} days ({{percent .Coverage.Percent}}){{if .Coverage.Uncovered}}; not covered: {{join .Coverage.Uncovered ", "}}{{end}}</td></tr>
<tr><th>maxAge</th><td>{{.MaxAge}} ({{.MaxAgeSource}})</td></tr>
<tr><th>Pass rate</th><td>{{pct1 .PassRatePercent}}: {{.Runs.Passed}} passed of {{.Runs.Finished}} finished; {{.Runs.Failed}} failed, {{.Runs.Errored}} errored</td></tr>
<tr><th>Missed by schedule</th><td>{{.MissedSchedules}}{{if .MissedUndated}} (and {{.MissedUndated}} older, undated){{end}}</td></tr>
<tr><th>Missed, pending (read from the cluster, not from signed evidence)</th><td>{{with .MissedPending}}{{.InPeriod}}{{if .Undated}} (and {{.Undated}} older, undated){{end}}{{if .Drills}} in the status of DRDrill {{join .Drills ", "}}; no run has carried them into evidence yet{{end}}{{else}}not read: the DRDrills could not be read{{end}}</td></tr>
<tr><th>Objectives met</th><td>{{.Objectives.Met}} of {{.Objectives.Runs}} runs ({{pct1 .Objectives.Percent}})</td></tr>
<tr><th>Worst RTO</th><td>{{worst .Objectives.WorstRTO}}</td></tr>
<tr><th>Worst RPO</th><td>{{worst .Objectives.WorstRPO}}</td></tr>
<tr><th>Drills counted</th><td>{{if .Drills}}{{join .Drills ", "}}{{else}}none{{end}}{{if .EndNotChecked}} <span class="unchecked">(end of chain not checked: {{join .EndNotChecked ", "}})</span>{{end}}</td></tr>
{{if .Excluded}}<tr><th>Not counted</th><td class="broken">{{join .Excluded "; "}}</td></tr>{{end}}
</table>
{{range .Controls}}<p><b>{{.Framework}} {{.Control}}.</b> {{.Evidence}}</p>
{{end}}{{else}}<p>No BackupPolicy was found in the evidence or read from the cluster.</p>{{end}}
{{range .Drills}}
<h2>{{.Drill}}</h2>
<p>Evidence chain: {{if .Broken}}<span class="broken">BROKEN: {{.Chain}}</span>{{else if not .EndChecked}}<span class="unchecked">{{.Chain}}</span>{{else}}{{.Chain}}{{end}}</p>
<p class="timeline">Timeline: {{range .Reports}}<span class="{{.Result}}" title="{{.Run}} {{.Result}} {{date .CompletionTime}}"></span>{{end}}</p>
<table><tr><th>#</th><th>Run</th><th>Completed</th><th>Result</th><th>Snapshot (recovery set)</th><th>RTO (objective)</th><th>RPO (objective)</th><th>Objectives met</th><th>Checks</th><th>Missed before it</th><th>Note</th></tr>
{{range .Reports}}<tr><td>{{.Sequence}}</td><td>{{.Run}}</td><td>{{date .CompletionTime}}</td><td class="{{.Result}}">{{.Result}}</td><td>{{.SnapshotID}}{{if .RecoverySet}} ({{.RecoverySet}}){{end}}</td>
<td>{{dur .MeasuredRTOSeconds}} ({{dur .ObjectiveRTOSeconds}}) <span class="bar"><i style="width:{{pct .MeasuredRTOSeconds .ObjectiveRTOSeconds}}%"></i></span></td>
<td>{{dur .MeasuredRPOSeconds}} ({{dur .ObjectiveRPOSeconds}}) <span class="bar"><i style="width:{{pct .MeasuredRPOSeconds .ObjectiveRPOSeconds}}%"></i></span></td>
<td>{{if .ObjectivesMet}}yes{{else}}no{{end}}</td><td>{{passed .Checks}}/{{len .Checks}}</td>
<td>{{if or .MissedSchedules .MissedSchedulesDropped}}<span title="{{missed .MissedSchedules}}">{{len .MissedSchedules}}{{if .MissedSchedulesDropped}} + {{.MissedSchedulesDropped}} older{{end}}</span>{{else}}0{{end}}</td><td>{{.Message}}</td></tr>
{{else}}<tr><td colspan="11">no runs in the period</td></tr>{{end}}
</table>
{{else}}<p>No drill evidence found.</p>{{end}}
</body></html>
`))

// WriteHTML writes a self-contained page: no scripts, no external assets.
func (e Export) WriteHTML(w io.Writer) error { return page.Execute(w, e) }
