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

// Package rosterplan turns a SupportTeam into a rostering problem (package
// roster) and a proposed roster back into a SupportTeam: the one place
// supportstack schedule propose and the operator share.
//
// The horizon is Weeks whole weeks from the local midnight that begins the
// day of "at" in the team's time zone. The required staff per queue and
// half-hour come from coverage.Span (Erlang C, Erlang A for a queue with
// patience, or the workload rule, after shrinkage), and the same function
// measures both rosters, so the figures are the ones the Staffed condition
// reads. A closed holiday removes every
// shift instance starting on it and needs no staff (as in coverage), so the
// solver is never asked to cover it and cannot place a shift on it; an open
// holiday is worked as any other day, so the solver covers its demand with
// its shifts like any other day's.
//
// A member's current pattern is read from their shifts (a weekday with two
// shifts takes the longest; the pattern only counts changes). Members who
// serve no queue are not rostered by the solver: their shifts are kept as
// they are. A proposed pattern becomes shifts by grouping the weekdays with
// the same start and end: an existing shift with exactly those days and
// hours keeps its name, otherwise the name is the days and hours, e.g.
// mon-fri-0800-1600; hours worked on more sets of days than there are
// days become one-day shifts instead (fewer of the 32 a team holds).
package rosterplan

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/coverage"
	"github.com/supportstack/operator/internal/localday"
	"github.com/supportstack/operator/internal/roster"
)

// MaxShifts is how many shifts a SupportTeam holds (the CRD's MaxItems).
const MaxShifts = 32

// DefaultHoursPerWeek is a member's contract when hoursPerWeek is absent.
const DefaultHoursPerWeek = 40

var weekdayNames = [7]opsv1alpha1.Weekday{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// mondayFirst orders weekdays as a manager reads a week.
var mondayFirst = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// Input is a team ready to roster: the problem, and what converting a
// roster back needs.
type Input struct {
	Team    *opsv1alpha1.SupportTeam
	Model   coverage.Team
	Problem roster.Problem
	// Serving[m] reports whether member m serves a queue (and is rostered).
	Serving []bool
	// Now are the horizon's half-hours with the current roster.
	Now []coverage.Interval
}

// HorizonStart returns the local midnight that begins the day of at in loc.
func HorizonStart(loc *time.Location, at time.Time) time.Time {
	l := at.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
}

// Build converts team into a rostering problem of weeks (1-4) weeks from
// the local midnight of at.
func Build(team *opsv1alpha1.SupportTeam, at time.Time, weeks int) (*Input, error) {
	if weeks < 1 || weeks > 4 {
		return nil, fmt.Errorf("weeks %d: give 1 to 4", weeks)
	}
	model, err := coverage.FromSpec(team.Spec)
	if err != nil {
		return nil, err
	}
	rules, err := Rules(team.Spec.Rostering)
	if err != nil {
		return nil, err
	}
	start := HorizonStart(model.Location, at)
	if l := start.In(model.Location); !localday.IsStart(start, model.Location) || l.Hour() != 0 || l.Minute() != 0 {
		// The roster's horizon starts at a 00:00 (internal/roster): time.Date
		// gives 23:00 the day before (Santiago) or 01:00 (Cairo) there.
		return nil, fmt.Errorf("a proposal cannot start on %s in %s: the clocks go forward at midnight that day, so it has no 00:00; start it a day earlier or later (--at)",
			at.In(model.Location).Format(time.DateOnly), model.Location)
	}
	now, err := coverage.Span(model, start, 7*weeks)
	if err != nil {
		return nil, err
	}
	in := &Input{Team: team, Model: model, Now: now}
	p := roster.Problem{
		Location: model.Location, Start: start, Weeks: weeks,
		// model.Holidays are the closed holidays only: the solver places
		// shifts on open ones as on any other day.
		Absences: model.Absences, Holidays: model.Holidays, Rules: rules,
	}
	for _, q := range model.Queues {
		p.Queues = append(p.Queues, roster.Queue{Name: q.Name, Skills: q.Skills})
	}
	p.Required = make([][]int, len(p.Queues))
	for q := range p.Queues {
		p.Required[q] = make([]int, len(now))
		for i, iv := range now {
			p.Required[q][i] = iv.RequiredStaff[q]
		}
	}
	for _, m := range team.Spec.Members {
		member, err := member(m, model)
		if err != nil {
			return nil, err
		}
		p.Members = append(p.Members, member)
		in.Serving = append(in.Serving, len(coverage.ServedQueues(m.Skills, model.Queues)) > 0)
	}
	in.Problem = p
	return in, nil
}

// Rules converts spec.rostering (nil: every default) into roster rules.
func Rules(r *opsv1alpha1.Rostering) (roster.Rules, error) {
	var out roster.Rules
	if r == nil {
		return out, nil
	}
	minutes := func(d *metav1.Duration) int {
		if d == nil {
			return 0
		}
		return int(d.Duration / time.Minute)
	}
	out.MinShift, out.MaxShift, out.MinRest = minutes(r.MinShift), minutes(r.MaxShift), minutes(r.MinRestBetweenShifts)
	out.MaxConsecutiveDays = int(r.MaxConsecutiveDays)
	out.EarliestStart, out.LatestStart = 0, 1440-30
	var err error
	if r.EarliestStart != "" {
		if out.EarliestStart, err = coverage.ParseClock(string(r.EarliestStart)); err != nil {
			return out, fmt.Errorf("rostering.earliestStart: %w", err)
		}
	}
	if r.LatestStart != "" {
		if out.LatestStart, err = coverage.ParseClock(string(r.LatestStart)); err != nil {
			return out, fmt.Errorf("rostering.latestStart: %w", err)
		}
	}
	// roster reads 0..0 as "any time"; a team that allows only midnight
	// starts would get every start, so refuse it rather than mislead.
	if out.EarliestStart == 0 && out.LatestStart == 0 {
		return out, errors.New("rostering: earliestStart and latestStart both 00:00 is not supported; allow at least 00:00-00:30")
	}
	return out, nil
}

func member(m opsv1alpha1.Member, model coverage.Team) (roster.Member, error) {
	h := m.HoursPerWeek
	if h == 0 {
		h = DefaultHoursPerWeek
	}
	out := roster.Member{Name: m.Name, Skills: m.Skills, HoursPerWeek: float64(h)}
	for _, a := range m.Availability {
		from, err := coverage.ParseClock(string(a.From))
		if err != nil {
			return out, fmt.Errorf("member %s availability: %w", m.Name, err)
		}
		to, err := coverage.ParseClock(string(a.To))
		if err != nil {
			return out, fmt.Errorf("member %s availability: %w", m.Name, err)
		}
		for _, d := range a.Days {
			out.Availability = append(out.Availability, roster.Window{Day: weekday(d), From: from, To: to})
		}
	}
	out.Current = Current(m.Shifts, model.Shifts)
	return out, nil
}

// Current is the pattern of a member working the named shifts: each
// weekday the shift starting on it, the longest when two do.
func Current(names []string, shifts []coverage.Shift) roster.Pattern {
	var p roster.Pattern
	for _, name := range names {
		for _, s := range shifts {
			if s.Name != name {
				continue
			}
			length := s.End - s.Start
			if length <= 0 {
				length += 1440
			}
			for w := range 7 {
				if s.Days[w] && length > p[w].Length {
					p[w] = roster.Shift{Start: s.Start, Length: length}
				}
			}
		}
	}
	return p
}

func weekday(d opsv1alpha1.Weekday) time.Weekday {
	return time.Weekday(slices.Index(weekdayNames[:], d))
}

// shape is a shift's days and hours, what makes two shifts the same.
type shape struct {
	days  [7]bool
	start int
	end   int // minute of the day, 0-1439
}

func shapeOf(s opsv1alpha1.Shift) (shape, bool) {
	start, err1 := coverage.ParseClock(string(s.Start))
	end, err2 := coverage.ParseClock(string(s.End))
	if err1 != nil || err2 != nil {
		return shape{}, false
	}
	var sh shape
	for _, d := range s.Days {
		sh.days[weekday(d)] = true
	}
	sh.start, sh.end = start, end%1440
	return sh, true
}

// Name is a shift's generated name: its days (a run of three or more
// weekdays, Monday first, as first-last) and hours, e.g. mon-fri-0800-1600
// or sat-sun-2200-0600.
func (sh shape) Name() string {
	var days []time.Weekday
	for _, w := range mondayFirst {
		if sh.days[w] {
			days = append(days, w)
		}
	}
	lower := func(w time.Weekday) string { return strings.ToLower(string(weekdayNames[w])) }
	var parts []string
	// Consecutive in Monday-first order: positions differ by one.
	pos := func(w time.Weekday) int { return slices.Index(mondayFirst[:], w) }
	if len(days) >= 3 && pos(days[len(days)-1])-pos(days[0]) == len(days)-1 {
		parts = []string{lower(days[0]), lower(days[len(days)-1])}
	} else {
		for _, w := range days {
			parts = append(parts, lower(w))
		}
	}
	parts = append(parts, fmt.Sprintf("%02d%02d", sh.start/60, sh.start%60), fmt.Sprintf("%02d%02d", sh.end/60, sh.end%60))
	return strings.Join(parts, "-")
}

func (sh shape) shift(name string) opsv1alpha1.Shift {
	s := opsv1alpha1.Shift{
		Name:  name,
		Start: opsv1alpha1.ClockTime(fmt.Sprintf("%02d:%02d", sh.start/60, sh.start%60)),
		End:   opsv1alpha1.ClockTime(fmt.Sprintf("%02d:%02d", sh.end/60, sh.end%60)),
	}
	for _, w := range mondayFirst {
		if sh.days[w] {
			s.Days = append(s.Days, weekdayNames[w])
		}
	}
	return s
}

// TooManyShiftsError says a proposal needs more distinct shifts than a
// SupportTeam holds.
type TooManyShiftsError struct{ Needed int }

func (e *TooManyShiftsError) Error() string {
	return fmt.Sprintf("the proposed roster needs %d distinct shifts (days and hours) but a SupportTeam holds at most %d: "+
		"narrow spec.rostering (a later earliestStart, an earlier latestStart, or minShift equal to maxShift) so members share shifts, and propose again",
		e.Needed, MaxShifts)
}

// Apply returns the team's spec shifts and each member's shift names with
// the roster's patterns in place (rostered members only; the others keep
// theirs). The result is what Proposed writes into a copy of the team.
func (in *Input) Apply(r roster.Roster) ([]opsv1alpha1.Shift, [][]string, error) {
	spec := in.Team.Spec
	if len(r) != len(spec.Members) {
		return nil, nil, fmt.Errorf("roster has %d patterns for %d members", len(r), len(spec.Members))
	}
	existing := map[shape]string{}
	byName := map[string]opsv1alpha1.Shift{}
	for _, s := range spec.Shifts {
		byName[s.Name] = s
		if sh, ok := shapeOf(s); ok {
			if _, dup := existing[sh]; !dup {
				existing[sh] = s.Name
			}
		}
	}
	used := map[string]opsv1alpha1.Shift{}
	memberShifts := make([][]string, len(spec.Members))
	for m, mem := range spec.Members {
		if !in.Serving[m] {
			for _, name := range mem.Shifts {
				used[name] = byName[name]
			}
			memberShifts[m] = slices.Clone(mem.Shifts)
		}
	}
	taken := func(name string, sh shape) bool {
		s, ok := used[name]
		if !ok {
			s, ok = byName[name]
		}
		if !ok {
			return false
		}
		other, _ := shapeOf(s)
		return other != sh
	}
	split := splitHours(r, in.Serving)
	for m := range spec.Members {
		if !in.Serving[m] {
			continue
		}
		for _, sh := range split.apply(shapes(r[m])) {
			name, ok := existing[sh]
			if !ok {
				name = sh.Name()
				for k := 2; taken(name, sh); k++ {
					name = fmt.Sprintf("%s-%d", sh.Name(), k)
				}
			}
			if _, ok := used[name]; !ok {
				used[name] = sh.shift(name)
			}
			memberShifts[m] = append(memberShifts[m], name)
		}
	}
	if len(used) > MaxShifts {
		return nil, nil, &TooManyShiftsError{Needed: len(used)}
	}
	return ordered(spec.Shifts, used, memberShifts), memberShifts, nil
}

// ordered lists the used shifts and sorts each member's names in that order.
func ordered(old []opsv1alpha1.Shift, used map[string]opsv1alpha1.Shift, memberShifts [][]string) []opsv1alpha1.Shift {
	// Shifts the team already had come first in their order, new ones
	// after by name: the diff a manager reads is short.
	shifts := make([]opsv1alpha1.Shift, 0, len(used))
	for _, s := range old {
		if u, ok := used[s.Name]; ok {
			shifts = append(shifts, u)
			delete(used, s.Name)
		}
	}
	added := make([]opsv1alpha1.Shift, 0, len(used))
	for _, s := range used {
		added = append(added, s)
	}
	slices.SortFunc(added, func(a, b opsv1alpha1.Shift) int { return cmp.Compare(a.Name, b.Name) })
	shifts = append(shifts, added...)
	order := map[string]int{}
	for i, s := range shifts {
		order[s.Name] = i
	}
	for m := range memberShifts {
		slices.SortFunc(memberShifts[m], func(a, b string) int { return cmp.Compare(order[a], order[b]) })
	}
	return shifts
}

// shiftHours are a shift's start and end, without its days.
type shiftHours struct{ start, end int }

// splitSet lists the hours whose shifts are written one per weekday.
type splitSet map[shiftHours]bool

// splitHours decides, for each set of hours, how the rostered members'
// weekdays become shifts: one shift per distinct set of days (mon-fri-...),
// or one per weekday (mon-..., tue-...) when that needs fewer, as when
// members work the same hours on many different sets of days. Either way
// each member's days are a disjoint union of shifts, so a member never
// needs more than 7 of the 8 a member may list.
func splitHours(r roster.Roster, serving []bool) splitSet {
	sets := map[shiftHours]map[[7]bool]bool{}
	for m, p := range r {
		if !serving[m] {
			continue
		}
		for _, sh := range shapes(p) {
			h := shiftHours{sh.start, sh.end}
			if sets[h] == nil {
				sets[h] = map[[7]bool]bool{}
			}
			sets[h][sh.days] = true
		}
	}
	split := splitSet{}
	for h, days := range sets {
		var union [7]bool
		for d := range days {
			for w, on := range d {
				union[w] = union[w] || on
			}
		}
		if n := len(slices.DeleteFunc(union[:], func(on bool) bool { return !on })); n < len(days) {
			split[h] = true
		}
	}
	return split
}

// apply cuts the shapes of split hours into one shape per weekday.
func (s splitSet) apply(in []shape) []shape {
	var out []shape
	for _, sh := range in {
		if !s[shiftHours{sh.start, sh.end}] {
			out = append(out, sh)
			continue
		}
		for _, w := range mondayFirst {
			if sh.days[w] {
				one := shape{start: sh.start, end: sh.end}
				one.days[w] = true
				out = append(out, one)
			}
		}
	}
	return out
}

// shapes groups a pattern's weekdays by start and length, Monday first.
func shapes(p roster.Pattern) []shape {
	var out []shape
	index := map[roster.Shift]int{}
	for _, w := range mondayFirst {
		s := p[w]
		if s.Off() {
			continue
		}
		i, ok := index[s]
		if !ok {
			i = len(out)
			index[s] = i
			out = append(out, shape{start: s.Start, end: (s.Start + s.Length) % 1440})
		}
		out[i].days[w] = true
	}
	return out
}

// Proposed returns a copy of the team with the shifts and members' shift
// lists replaced (status and metadata untouched; see Manifest).
func (in *Input) Proposed(r roster.Roster) (*opsv1alpha1.SupportTeam, error) {
	shifts, memberShifts, err := in.Apply(r)
	if err != nil {
		return nil, err
	}
	team := in.Team.DeepCopy()
	team.Spec.Shifts = shifts
	for m := range team.Spec.Members {
		team.Spec.Members[m].Shifts = memberShifts[m]
	}
	return team, nil
}
