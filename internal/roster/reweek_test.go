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
	"math/rand/v2"
	"testing"
	"time"
)

// TestReweekIsExact: reweek's dynamic programme finds the best week of one
// member given the others, as an enumeration of all 5^7 weeks of that
// member scores them (every term but fairness, which the programme leaves
// to the comparison). Rest (14:00-22:00 then 06:00 is 8 h) and three
// consecutive days at most both bind, the week wrap included.
func TestReweekIsExact(t *testing.T) {
	loc := paris(t)
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 11))
		p := annAndBob(t, loc)
		p.Members[1].Current = Pattern{time.Monday: {Start: at(6), Length: 480}, time.Sunday: {Start: at(14), Length: 240}}
		for d := range 7 {
			for h := 6; h < 22; h += 2 {
				demand(&p, 0, d, at(h), at(h+2), rng.IntN(3))
			}
		}
		md, err := compile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := newSearch(md, seed)
		s.construct()
		other := s.e.roster()[0]
		if !s.reweekAny(1) {
			t.Fatal("reweek did not run")
		}
		got := s.e.score()
		if v := Check(p, s.e.roster()); len(v) > 0 {
			t.Fatalf("seed %d: reweek broke %v", seed, v)
		}
		noFair := func(sc Score) int64 { return sc.Total() - WeightUnfairness*int64(sc.Unfairness) }
		cands := md.rules.Candidates()
		best := int64(-1)
		var week Pattern
		var walk func(w int)
		walk = func(w int) {
			if w == 7 {
				r := Roster{other, week}
				if len(md.check(r)) > 0 {
					return
				}
				if v := noFair(md.evaluate(r)); best < 0 || v < best {
					best = v
				}
				return
			}
			week[w] = Shift{}
			walk(w + 1)
			for _, c := range cands {
				week[w] = c
				walk(w + 1)
			}
		}
		walk(0)
		if noFair(got) != best {
			t.Errorf("seed %d: reweek reached %d (%+v), enumeration %d", seed, noFair(got), got, best)
		}
	}
}

// annAndBob is a tiny problem whose rules bind in a week of bob's (member
// 1): five choices a day (off, or 4 or 8 hours from 06:00 or 14:00), rest
// (14:00-22:00 then 06:00 is 8 h, under 11) and three consecutive days at
// most, the week wrap included; bob's contract is 16 hours.
func annAndBob(t *testing.T, loc *time.Location) Problem {
	p := tiny(t, time.Date(2026, time.March, 23, 0, 0, 0, 0, loc), ann, Member{Name: "bob", Skills: []string{"phone"}, HoursPerWeek: 16})
	p.Rules = Rules{MinShift: 240, MaxShift: 480, Lengths: []int{240, 480}, EarliestStart: at(6), LatestStart: at(14), StartStep: 480, MinRest: 660, MaxConsecutiveDays: 3}
	return p
}
