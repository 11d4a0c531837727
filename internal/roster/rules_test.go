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

package roster

import (
	"slices"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/coverage"
)

// tiny is a one-week problem from monday (a local midnight in Paris) with
// one queue "phone", no demand yet, and the benchmark's rules.
func tiny(t *testing.T, monday time.Time, members ...Member) Problem {
	t.Helper()
	p := Problem{Location: monday.Location(), Start: monday, Weeks: 1, Members: members, Rules: benchRules()}
	p.Queues = []Queue{{Name: "phone", Skills: []string{"phone"}}}
	md := &model{p: p, days: 7}
	n := int(md.date(7).Sub(monday) / coverage.IntervalLength)
	p.Required = [][]int{make([]int, n)}
	return p
}

// demand sets queue q's requirement to staff on day (0 = the first) from
// wall-clock minute from to minute to.
func demand(p *Problem, q, day, from, to, staff int) {
	md := &model{p: *p}
	for i := range p.Required[q] {
		t := p.Start.Add(time.Duration(i) * coverage.IntervalLength)
		m := t.Hour()*60 + t.Minute()
		if md.dayOf(t) == day && m >= from && m < to {
			p.Required[q][i] = staff
		}
	}
}

// ann serves the phone queue.
var ann = Member{Name: "ann", Skills: []string{"phone"}}

func at(h int) int { return h * 60 }

func TestHardRules(t *testing.T) {
	loc := paris(t)
	mar23 := time.Date(2026, time.March, 23, 0, 0, 0, 0, loc) // the week of the spring change
	mar16 := time.Date(2026, time.March, 16, 0, 0, 0, 0, loc) // an ordinary week
	oct19 := time.Date(2026, time.October, 19, 0, 0, 0, 0, loc)
	late := Shift{Start: at(14), Length: 600} // 14:00-24:00
	cases := []struct {
		name  string
		setup func() Problem
		// bad is a roster that breaks rule (nil: no such roster, the
		// rule is the pattern's shape); good one that keeps it.
		bad, good Roster
		rule      Rule
		// short is the optimum understaffing: a solver that ignored the
		// rule would find less.
		short int
	}{
		{
			name: "rest across midnight",
			setup: func() Problem {
				p := tiny(t, mar16, ann)
				demand(&p, 0, 0, at(20), at(24), 1) // Monday evening
				demand(&p, 0, 1, at(6), at(10), 1)  // Tuesday morning, 6 h later
				return p
			},
			bad:   Roster{{time.Monday: late, time.Tuesday: {Start: at(6), Length: 240}}},
			good:  Roster{{time.Monday: late, time.Tuesday: {Start: at(11), Length: 240}}},
			rule:  RuleRest,
			short: 8,
		},
		{
			// Saturday 14:00-24:00 then Sunday 11:00 is 11 h on the wall
			// clock but 10 h on 29 March 2026, when clocks skip 02:00-03:00.
			name: "rest across the spring clock change",
			setup: func() Problem {
				p := tiny(t, mar23, ann)
				demand(&p, 0, 5, at(20), at(24), 1)
				demand(&p, 0, 6, at(11), at(15), 1)
				return p
			},
			bad:   Roster{{time.Saturday: late, time.Sunday: {Start: at(11), Length: 240}}},
			good:  Roster{{time.Saturday: late, time.Sunday: {Start: at(12), Length: 240}}},
			rule:  RuleRest,
			short: 2,
		},
		{
			name: "the same shifts in an ordinary week keep the rest",
			setup: func() Problem {
				p := tiny(t, mar16, ann)
				demand(&p, 0, 5, at(20), at(24), 1)
				demand(&p, 0, 6, at(11), at(15), 1)
				return p
			},
			good:  Roster{{time.Saturday: late, time.Sunday: {Start: at(11), Length: 240}}},
			short: 0,
		},
		{
			// 25 October 2026: the night is 25 h, so 10 h on the wall
			// clock are 11 h of rest.
			name: "rest across the autumn clock change",
			setup: func() Problem {
				p := tiny(t, oct19, ann)
				demand(&p, 0, 5, at(20), at(24), 1)
				demand(&p, 0, 6, at(10), at(14), 1)
				return p
			},
			good:  Roster{{time.Saturday: late, time.Sunday: {Start: at(10), Length: 240}}},
			short: 0,
		},
		{
			name: "time off on the first day of the horizon",
			setup: func() Problem {
				p := tiny(t, mar16, ann)
				p.Absences = []coverage.Absence{{Member: "ann", From: coverage.Date{Year: 2026, Month: time.March, Day: 16}, To: coverage.Date{Year: 2026, Month: time.March, Day: 16}}}
				demand(&p, 0, 0, at(8), at(12), 1)
				return p
			},
			good:  Roster{{time.Monday: {Start: at(8), Length: 240}}},
			short: 8,
		},
		{
			name: "a member with no skills for any queue is never rostered",
			setup: func() Problem {
				p := tiny(t, mar16, ann, Member{Name: "lead", Skills: []string{"management"}, Current: Pattern{time.Monday: {Start: at(8), Length: 480}}})
				demand(&p, 0, 0, at(8), at(16), 2)
				return p
			},
			bad:   Roster{{time.Monday: {Start: at(8), Length: 480}}, {time.Monday: {Start: at(8), Length: 480}}},
			good:  Roster{{time.Monday: {Start: at(8), Length: 480}}, {}},
			rule:  RuleSkills,
			short: 16,
		},
		{
			name: "a queue nobody can serve keeps its shortfall",
			setup: func() Problem {
				p := tiny(t, mar16, ann)
				p.Queues = append(p.Queues, Queue{Name: "mobile", Skills: []string{"mobile"}})
				p.Required = append(p.Required, make([]int, len(p.Required[0])))
				demand(&p, 1, 0, at(8), at(12), 10)
				return p
			},
			good:  Roster{{}},
			short: 80,
		},
		{
			name: "availability",
			setup: func() Problem {
				ann := ann
				ann.Availability = []Window{{Day: time.Monday, From: at(8), To: at(16)}}
				p := tiny(t, mar16, ann)
				demand(&p, 0, 0, at(12), at(20), 1)
				return p
			},
			bad:   Roster{{time.Monday: {Start: at(12), Length: 480}}},
			good:  Roster{{time.Monday: {Start: at(12), Length: 240}}},
			rule:  RuleAvailability,
			short: 8,
		},
		{
			// Friday to Wednesday is six days in a row across the week
			// wrap; counted Monday to Sunday it looks like 3 + 3.
			name: "max consecutive days across the week wrap",
			setup: func() Problem {
				p := tiny(t, mar16, ann)
				for d := range 7 {
					demand(&p, 0, d, at(8), at(12), 1)
				}
				return p
			},
			bad:   Roster{fourHours(time.Friday, time.Saturday, time.Sunday, time.Monday, time.Tuesday, time.Wednesday)},
			good:  Roster{fourHours(time.Friday, time.Saturday, time.Sunday, time.Monday, time.Tuesday)},
			rule:  RuleConsecutive,
			short: 16,
		},
		{
			// 06:00-10:00 and 16:00-20:00 need two shifts: one a day
			// covers one of them.
			name: "at most one shift a day",
			setup: func() Problem {
				p := tiny(t, mar16, ann)
				demand(&p, 0, 0, at(6), at(10), 1)
				demand(&p, 0, 0, at(16), at(20), 1)
				return p
			},
			bad:   Roster{{time.Monday: {Start: at(6), Length: 900}}},
			good:  Roster{{time.Monday: {Start: at(6), Length: 240}}},
			rule:  RuleShift,
			short: 8,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.setup()
			if tc.bad != nil {
				v := Check(p, tc.bad)
				if !slices.ContainsFunc(v, func(v Violation) bool { return v.Rule == tc.rule }) {
					t.Errorf("Check(bad) = %v, want a %s violation", v, tc.rule)
				}
			}
			if v := Check(p, tc.good); len(v) > 0 {
				t.Errorf("Check(good) = %v, want none", v)
			}
			start := time.Now()
			res, err := Solve(p, Options{Seed: 1, Iterations: 20000, TimeLimit: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("Solve took %s with a 1 s limit", time.Since(start))
			}
			if v := Check(p, res.Roster); len(v) > 0 {
				t.Errorf("solver's roster breaks %v", v)
			}
			if res.Score.Understaffed != tc.short {
				t.Errorf("understaffed %d, want the optimum %d (roster %v)", res.Score.Understaffed, tc.short, res.Roster)
			}
			sc, err := Evaluate(p, tc.good)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Understaffed != tc.short {
				t.Errorf("the good roster is understaffed %d, want %d", sc.Understaffed, tc.short)
			}
		})
	}
}

func fourHours(days ...time.Weekday) Pattern {
	var p Pattern
	for _, d := range days {
		p[d] = Shift{Start: at(8), Length: 240}
	}
	return p
}

// TestNoSkillMemberStaysOff: the solver leaves a member who serves no
// queue without shifts even though their current pattern has some.
func TestNoSkillMemberStaysOff(t *testing.T) {
	p := tiny(t, time.Date(2026, time.March, 16, 0, 0, 0, 0, paris(t)), ann,
		Member{Name: "lead", Current: Pattern{time.Monday: {Start: at(8), Length: 480}}})
	demand(&p, 0, 0, at(8), at(16), 2)
	res, err := Solve(p, Options{Seed: 3, Iterations: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Roster[1] != (Pattern{}) {
		t.Fatalf("lead rostered %v", res.Roster[1])
	}
}
