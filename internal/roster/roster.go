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

// Package roster proposes a weekly working pattern for every member of a
// team that meets the staff each queue requires as closely as possible. It is
// pure Go with no Kubernetes client; the caller computes the required staff
// per queue and half-hour (package coverage's Erlang and workload rules) and
// converts the result back into SupportTeam shifts.
//
// # Model
//
// The horizon is Weeks whole weeks from Start, a midnight in the team's time
// zone, cut into the consecutive absolute half-hours in between (a day with a
// daylight-saving change has 46 or 50 of them). Required[q][i] is the staff
// queue q needs in half-hour i.
//
// The decision is a Pattern per member: for each weekday either off or one
// Shift, which repeats every week (that is what a SupportTeam's weekly shifts
// express). A shift covers the half-hours whose wall clock falls in
// [Start, Start+Length) of the day it starts on, running past midnight into
// the next day, exactly as package coverage reads a shift. Time off and
// Problem.Holidays remove whole instances by the date an instance starts;
// Holidays are the days the help desk is closed, whose demand is the
// caller's to remove too (rosterplan reads Required from coverage.Span,
// which has none on them). A holiday on which the help desk works is not a
// Holiday here: its instances are worked like any other day's. The
// instance that starts the day before the horizon counts for its morning
// part.
//
// Candidate shifts are every start from Rules.EarliestStart to
// Rules.LatestStart in steps of Rules.StartStep and every length in
// Rules.Lengths (or MinShift..MaxShift in 30-minute steps). Solver,
// validator and the benchmark's MILP share this set.
//
// # Hard rules (Check reports each breach as a Violation)
//
//   - Skills: a member is allocated only to queues whose skills they all
//     have. A member who can serve no queue is never rostered: the proposal
//     gives them no shift (a manager rosters leads and trainees by hand), and
//     they count in no objective term.
//   - Availability: with availability windows, every half-hour of a shift
//     (on the weekday it falls on) lies inside a window; no windows means
//     always available.
//   - At most one shift per weekday, and only candidate shifts.
//   - Rest: between a shift and the next day's shift at least
//     Rules.MinRest, measured in absolute time on every pair of dates of
//     the horizon and the week wrap (Sunday to Monday; the pattern repeats),
//     so across midnight and across a daylight-saving change (a night of 23
//     or 25 hours). The rule is on the pattern: time off does not relax it.
//     Rules must be such that two shifts two days apart cannot break it.
//   - At most Rules.MaxConsecutiveDays consecutive working weekdays,
//     counted cyclically (the wrap Sunday to Monday included).
//
// # Objective
//
// A weighted sum whose weights encode the order of the terms (Weights):
//
//  1. Understaffed staff-half-hours: over every queue and half-hour,
//     max(0, required - allocated), with the exact allocation of the
//     members on shift to the queues they serve (coverage.Allocate).
//  2. Hours over contract: per member, the pattern's weekly minutes above
//     HoursPerWeek (default 40, rounded down to the half-hour), in
//     half-hours. A soft rule: a manager may want overtime to close a gap.
//  3. Overstaffing: staff-half-hours on shift that no requirement uses.
//  4. Changes: member-days (weekdays) whose shift differs from Current.
//  5. Unfairness: the most minus the fewest unsocial shifts (on Saturday or
//     Sunday, or any part before 07:00 or after 20:00) per rostered member.
//
// The allocation a score uses is cached per half-hour, keyed by its
// requirement and the number of members of each kind on shift, and a move
// re-allocates only the half-hours it touches.
//
// Weights 10000, 1000, 100, 10, 1 make one understaffed half-hour outweigh
// any overstaffing an 8-hour shift adds (16 half-hours); the order is strict
// per unit, and between terms up to the weight ratio (one understaffed
// half-hour is worth up to ten half-hours over contract).
//
// # Solver
//
// Solve is a construction followed by simulated annealing and a polish
// (see Solve); it is pure Go and bounded by Options.TimeLimit (default
// 5 s). With Options.Iterations set and reached before the time limit, the
// same problem and seed give the same roster. The exact re-plan of one
// member's week runs only when there are at most 64 candidate shifts and
// MaxConsecutiveDays is below 7. On teams of up to six members who serve a
// queue the polish also re-plans one weekday of the whole team jointly and
// exactly, by a branch and bound whose bound rests on the allocation's
// staff covered being submodular in the members on shift (replanDays).
//
// # Proof
//
// Check re-reads every hard rule; Evaluate scores from scratch. The tests
// compare the solver with a brute-force enumeration of tiny instances and
// with COIN-OR CBC on the same model written as a MILP (milp_test.go,
// hack/install-cbc.sh); BenchmarkRosterVsMILP (make bench) prints both on
// three sizes.
package roster

import (
	"fmt"
	"time"

	"github.com/supportstack/operator/internal/coverage"
)

// Shift is one day's shift of a pattern; Start and Length are minutes.
// Length 0 means off.
type Shift struct {
	Start, Length int
}

// Off reports whether the shift is a day off.
func (s Shift) Off() bool { return s.Length == 0 }

// String formats the shift as HH:MM-HH:MM, or "off".
func (s Shift) String() string {
	if s.Off() {
		return "off"
	}
	end := (s.Start + s.Length) % 1440
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.Start/60, s.Start%60, end/60, end%60)
}

// Pattern is a member's week, indexed by time.Weekday.
type Pattern [7]Shift

// Minutes returns the pattern's nominal weekly working minutes.
func (p Pattern) Minutes() int {
	n := 0
	for _, s := range p {
		n += s.Length
	}
	return n
}

// Window is a weekly availability window on Day, [From, To) in minutes.
type Window struct {
	Day      time.Weekday
	From, To int
}

// Member is a person to roster.
type Member struct {
	Name   string
	Skills []string
	// HoursPerWeek is the contract; 0 means 40.
	HoursPerWeek float64
	// Availability windows; none means always available.
	Availability []Window
	// Current is the pattern the member works today.
	Current Pattern
}

// Queue is a queue with the skills it needs.
type Queue struct {
	Name   string
	Skills []string
}

// Rules are the team's rostering limits, in minutes. Zero values take the
// defaults noted.
type Rules struct {
	// MinShift and MaxShift bound a shift's length (default 4h and 10h).
	MinShift, MaxShift int
	// Lengths, when set, lists the only lengths allowed (each a multiple
	// of 30 in [MinShift, MaxShift]).
	Lengths []int
	// EarliestStart and LatestStart bound the start (both 0: any time).
	EarliestStart, LatestStart int
	// StartStep is the spacing of candidate starts (default 30).
	StartStep int
	// MinRest is the least rest between two shifts (default 11h).
	MinRest int
	// MaxConsecutiveDays bounds consecutive working days (default 6).
	MaxConsecutiveDays int
}

// Problem is a rostering problem.
type Problem struct {
	Location *time.Location
	// Start is a local midnight; the horizon is Weeks (1-4) weeks from it.
	Start    time.Time
	Weeks    int
	Members  []Member
	Queues   []Queue
	Required [][]int // [queue][half-hour of the horizon]
	Absences []coverage.Absence
	// Holidays are the closed holidays: no shift instance starting on one
	// is worked. Open holidays are ordinary days and are not listed.
	Holidays []coverage.Date
	Rules    Rules
}

// Roster is a proposal: one pattern per member, in Problem.Members order.
type Roster []Pattern

// Weights of the objective terms (see the package doc).
const (
	WeightUnderstaffed = 10000
	WeightOverContract = 1000
	WeightOverstaffed  = 100
	WeightChanges      = 10
	WeightUnfairness   = 1
)

// Score is a roster's objective, term by term.
type Score struct {
	Understaffed int // staff-half-hours short
	OverContract int // half-hours per week above contracts, summed
	Overstaffed  int // staff-half-hours unused
	Changes      int // member-days changed
	Unfairness   int // max - min unsocial shifts per member
}

// Total is the weighted objective.
func (s Score) Total() int64 {
	return WeightUnderstaffed*int64(s.Understaffed) + WeightOverContract*int64(s.OverContract) +
		WeightOverstaffed*int64(s.Overstaffed) + WeightChanges*int64(s.Changes) + WeightUnfairness*int64(s.Unfairness)
}

// Unsocial reports whether a shift on weekday d counts for fairness.
func Unsocial(d time.Weekday, s Shift) bool {
	if s.Off() {
		return false
	}
	return d == time.Saturday || d == time.Sunday || s.Start < 7*60 || s.Start+s.Length > 20*60
}

// withDefaults returns the rules with zero values replaced.
func (r Rules) withDefaults() Rules {
	if r.MinShift == 0 {
		r.MinShift = 4 * 60
	}
	if r.MaxShift == 0 {
		r.MaxShift = 10 * 60
	}
	if r.EarliestStart == 0 && r.LatestStart == 0 {
		r.LatestStart = 1440 - 30
	}
	if r.StartStep == 0 {
		r.StartStep = 30
	}
	if r.MinRest == 0 {
		r.MinRest = 11 * 60
	}
	if r.MaxConsecutiveDays == 0 {
		r.MaxConsecutiveDays = 6
	}
	return r
}

// Candidates returns the candidate shifts the rules allow, by start then
// length.
func (r Rules) Candidates() []Shift {
	r = r.withDefaults()
	lengths := r.Lengths
	if len(lengths) == 0 {
		for l := r.MinShift; l <= r.MaxShift; l += 30 {
			lengths = append(lengths, l)
		}
	}
	var out []Shift
	for s := r.EarliestStart; s <= r.LatestStart; s += r.StartStep {
		for _, l := range lengths {
			out = append(out, Shift{Start: s, Length: l})
		}
	}
	return out
}

func (r Rules) validate() error {
	switch {
	case r.MinShift%30 != 0 || r.MaxShift%30 != 0 || r.MinShift <= 0 || r.MinShift > r.MaxShift || r.MaxShift > 16*60:
		return fmt.Errorf("shift lengths %d..%d minutes: need multiples of 30 with 0 < min <= max <= 16h", r.MinShift, r.MaxShift)
	case r.EarliestStart%30 != 0 || r.LatestStart%30 != 0 || r.EarliestStart < 0 || r.LatestStart >= 1440 || r.EarliestStart > r.LatestStart:
		return fmt.Errorf("starts %d..%d minutes: need half-hours within the day, earliest <= latest", r.EarliestStart, r.LatestStart)
	case r.StartStep%30 != 0 || r.StartStep <= 0:
		return fmt.Errorf("start step %d minutes: need a positive multiple of 30", r.StartStep)
	case r.MinRest < 0 || r.MaxConsecutiveDays < 1:
		return fmt.Errorf("min rest %d minutes and max consecutive days %d: need >= 0 and >= 1", r.MinRest, r.MaxConsecutiveDays)
	// Only consecutive days are checked for rest; a shift ending as late
	// as possible (an hour more across a clock change) must leave MinRest
	// before the earliest start two days after it.
	case r.LatestStart+r.MaxShift+r.MinRest+60 > 2*1440+r.EarliestStart:
		return fmt.Errorf("min rest %d minutes with shifts up to %d minutes could be broken two days apart; not supported", r.MinRest, r.MaxShift)
	}
	for _, l := range r.Lengths {
		if l%30 != 0 || l < r.MinShift || l > r.MaxShift {
			return fmt.Errorf("length %d minutes: need a multiple of 30 in [%d, %d]", l, r.MinShift, r.MaxShift)
		}
	}
	return nil
}
