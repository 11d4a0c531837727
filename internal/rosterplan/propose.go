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

package rosterplan

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/coverage"
	"github.com/supportstack/operator/internal/localday"
	"github.com/supportstack/operator/internal/roster"
)

// Figures measure a roster over the horizon with coverage's own rules.
type Figures struct {
	// UnderstaffedIntervals counts queue-intervals short of staff.
	UnderstaffedIntervals int
	// StaffHalfHoursShort sums required minus scheduled staff where short.
	StaffHalfHoursShort int
	// Minutes are each member's weekly working minutes, in spec order.
	Minutes []int
}

// OverContract is the weekly minutes above contracts, summed over members.
func (f Figures) OverContract(contracts []int) int {
	n := 0
	for m, min := range f.Minutes {
		n += max(0, min-contracts[m])
	}
	return n
}

func measure(ivs []coverage.Interval) Figures {
	var f Figures
	for _, iv := range ivs {
		for q := range iv.RequiredStaff {
			if short := iv.RequiredStaff[q] - iv.Scheduled[q]; short > 0 {
				f.UnderstaffedIntervals++
				f.StaffHalfHoursShort += short
			}
		}
	}
	return f
}

// weeklyMinutes is what the member's shifts add up to in a week (every
// shift, including two on one day).
func weeklyMinutes(names []string, shifts []coverage.Shift) int {
	n := 0
	for _, name := range names {
		for _, s := range shifts {
			if s.Name != name {
				continue
			}
			length := s.End - s.Start
			if length <= 0 {
				length += 1440
			}
			for _, on := range s.Days {
				if on {
					n += length
				}
			}
		}
	}
	return n
}

// Proposal is a proposed roster for a team, with the figures before and after.
type Proposal struct {
	Input  *Input
	Result roster.Result
	// Team is the proposed team (Input.Team with shifts replaced).
	Team          *opsv1alpha1.SupportTeam
	Now, Proposed Figures
	// Contracts are the members' contracts in minutes per week.
	Contracts []int
}

// Options bound a proposal.
type Options struct {
	Weeks  int
	Solver roster.Options
}

// Propose solves the team's roster for opt.Weeks weeks from the local
// midnight of at and measures the current and proposed rosters with
// coverage. It fails when the proposal breaks a hard rule (roster.Check,
// which would be a solver bug) or needs more shifts than a team holds.
func Propose(team *opsv1alpha1.SupportTeam, at time.Time, opt Options) (*Proposal, error) {
	in, err := Build(team, at, opt.Weeks)
	if err != nil {
		return nil, err
	}
	res, err := roster.Solve(in.Problem, opt.Solver)
	if err != nil {
		return nil, err
	}
	if v := roster.Check(in.Problem, res.Roster); len(v) > 0 {
		return nil, fmt.Errorf("the proposed roster breaks a hard rule: %s", v[0])
	}
	proposed, err := in.Proposed(res.Roster)
	if err != nil {
		return nil, err
	}
	model, err := coverage.FromSpec(proposed.Spec)
	if err != nil {
		return nil, err
	}
	after, err := coverage.Span(model, in.Problem.Start, 7*opt.Weeks)
	if err != nil {
		return nil, err
	}
	p := &Proposal{Input: in, Result: res, Team: proposed, Now: measure(in.Now), Proposed: measure(after)}
	for m, mem := range team.Spec.Members {
		p.Now.Minutes = append(p.Now.Minutes, weeklyMinutes(mem.Shifts, in.Model.Shifts))
		p.Proposed.Minutes = append(p.Proposed.Minutes, weeklyMinutes(proposed.Spec.Members[m].Shifts, model.Shifts))
		p.Contracts = append(p.Contracts, int(in.Problem.Members[m].HoursPerWeek*60))
	}
	return p, nil
}

// Manifest returns obj (a SupportTeam as read, unstructured) with spec.shifts
// and every member's shifts replaced by the proposal's, and status and
// server-set metadata dropped: YAML that kubectl apply -f takes as is and
// that changes nothing else. Reading the original as a map keeps fields
// the typed object would write differently (an absent shrinkage stays
// absent rather than becoming 0).
func (p *Proposal) Manifest(obj map[string]any) ([]byte, error) {
	// Copy by JSON: the map may hold any number type a decoder produced.
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	obj = nil
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	delete(obj, "status")
	if meta, ok := obj["metadata"].(map[string]any); ok {
		for _, k := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"} {
			delete(meta, k)
		}
		if ann, ok := meta["annotations"].(map[string]any); ok {
			delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
			if len(ann) == 0 {
				delete(meta, "annotations")
			}
		}
	}
	spec, ok := obj["spec"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the SupportTeam has no spec")
	}
	shifts, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&opsv1alpha1.SupportTeamSpec{Shifts: p.Team.Spec.Shifts})
	if err != nil {
		return nil, err
	}
	if list, ok := shifts["shifts"]; ok {
		spec["shifts"] = list
	} else {
		delete(spec, "shifts")
	}
	members, _ := spec["members"].([]any)
	if len(members) != len(p.Team.Spec.Members) {
		return nil, fmt.Errorf("the SupportTeam has %d members, the proposal %d", len(members), len(p.Team.Spec.Members))
	}
	for i, m := range members {
		mem, ok := m.(map[string]any)
		if !ok || mem["name"] != p.Team.Spec.Members[i].Name {
			return nil, fmt.Errorf("member %d of the SupportTeam is not %s", i, p.Team.Spec.Members[i].Name)
		}
		names := p.Team.Spec.Members[i].Shifts
		if len(names) == 0 {
			delete(mem, "shifts")
			continue
		}
		list := make([]any, 0, len(names))
		for _, n := range names {
			list = append(list, n)
		}
		mem["shifts"] = list
	}
	return yaml.Marshal(obj)
}

// TeamObject converts a typed team into the map Manifest reads.
func TeamObject(team *opsv1alpha1.SupportTeam) (map[string]any, error) {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(team)
	if err != nil {
		return nil, err
	}
	obj["apiVersion"] = opsv1alpha1.GroupVersion.String()
	obj["kind"] = "SupportTeam"
	return obj, nil
}

// hours formats minutes as 40h or 42h30m.
func hours(minutes int) string {
	if minutes%60 == 0 {
		return fmt.Sprintf("%dh", minutes/60)
	}
	return fmt.Sprintf("%dh%02dm", minutes/60, minutes%60)
}

// WriteTable writes the diff against the current roster (per member and
// weekday, current -> proposed) and the figures before and after.
func (p *Proposal) WriteTable(out io.Writer) error {
	team, in := p.Input.Team, p.Input
	w := &lineWriter{w: out}
	from := in.Problem.Start.Format("Mon 2006-01-02 MST")
	w.printf("SupportTeam %s: proposed roster for %d week(s) from %s (%s); the operator never applies it\n\n",
		team.Name, in.Problem.Weeks, from, team.Spec.TimeZone)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	t := &lineWriter{w: tw}
	t.printf("\tNOW\tPROPOSED\n")
	t.printf("understaffed queue-intervals\t%d\t%d\n", p.Now.UnderstaffedIntervals, p.Proposed.UnderstaffedIntervals)
	t.printf("staff-half-hours short\t%d\t%d\n", p.Now.StaffHalfHoursShort, p.Proposed.StaffHalfHoursShort)
	t.printf("hours over contract (per week)\t%s\t%s\n", hours(p.Now.OverContract(p.Contracts)), hours(p.Proposed.OverContract(p.Contracts)))
	t.printf("shifts in spec.shifts\t%d\t%d\n", len(team.Spec.Shifts), len(p.Team.Spec.Shifts))
	if err := flush(t, tw); err != nil {
		return err
	}
	w.printf("\nhours per week per member:\n")
	t.printf("MEMBER\tCONTRACT\tNOW\tPROPOSED\n")
	for m, mem := range team.Spec.Members {
		t.printf("%s\t%s\t%s\t%s", mem.Name, hours(p.Contracts[m]), hours(p.Now.Minutes[m]), hours(p.Proposed.Minutes[m]))
		if !in.Serving[m] {
			t.printf("\tserves no queue: kept as is")
		}
		t.printf("\n")
	}
	if err := flush(t, tw); err != nil {
		return err
	}
	w.printf("\nchanges per member and weekday (current -> proposed):\n")
	changes := 0
	t.printf("MEMBER\tDAY\tNOW\t\tPROPOSED\n")
	for m, mem := range in.Problem.Members {
		if !in.Serving[m] {
			continue
		}
		for _, d := range mondayFirst {
			cur, next := mem.Current[d], p.Result.Roster[m][d]
			if cur == next {
				continue
			}
			changes++
			t.printf("%s\t%s\t%s\t->\t%s\n", mem.Name, weekdayNames[d], cur, next)
		}
	}
	if changes == 0 {
		w.printf("  none: the current roster is already the best found\n")
	} else if err := flush(t, tw); err != nil {
		return err
	}
	w.printf("\n%d member-days change. Review, then apply: supportstack schedule propose ... -o yaml > team.yaml && kubectl apply -f team.yaml\n", changes)
	p.writeBound(w)
	s := in.Problem.Start.In(in.Model.Location)
	end := localday.Start(s.Year(), s.Month(), s.Day()+7*in.Problem.Weeks, in.Model.Location)
	for _, note := range coverage.HolidayNotes(in.Model, in.Problem.Start, end) {
		// Say which days of the horizon are holidays and how they were
		// read: a closed one's empty hours are no oversight of the solver.
		w.printf("%s\n", note)
	}
	return w.err
}

// writeBound says how far the proposal can be from the best roster, where
// the solver computed a lower bound (small teams, roster.Result.Bound):
// the objective weighs the terms in the order of the package roster's
// documentation, so a proposal at its bound is the best these rules allow.
func (p *Proposal) writeBound(w *lineWriter) {
	b, obj := p.Result.Bound, p.Result.Score.Total()
	switch {
	case b <= 0:
	case obj <= b:
		w.printf("No roster under these rules does better: the proposal's objective (%d) equals the solver's lower bound.\n", obj)
	default:
		w.printf("The proposal's objective is %d; no roster under these rules scores below %d, so it is at most %.1f %% above the best.\n",
			obj, b, 100*float64(obj-b)/float64(b))
	}
}

func flush(t *lineWriter, tw *tabwriter.Writer) error {
	if t.err != nil {
		return t.err
	}
	return tw.Flush()
}

// lineWriter keeps the first write error.
type lineWriter struct {
	w   io.Writer
	err error
}

func (l *lineWriter) printf(format string, args ...any) {
	if l.err == nil {
		_, l.err = fmt.Fprintf(l.w, format, args...)
	}
}
