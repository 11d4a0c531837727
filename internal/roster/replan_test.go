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
	"testing"
	"time"
)

// TestReplanDaysIsExact: replanDays over every member-day of a tiny
// instance (brute_test.go's) is the whole problem, so from any start it
// must reach the brute-force optimum, every hard rule kept and the
// incremental score equal to Evaluate's. The branch and bound's bound
// (submodular coverage, convex hours over contract) would cut off the
// optimum here if it were not a lower bound.
func TestReplanDaysIsExact(t *testing.T) {
	compared := 0
	for seed := range uint64(60) {
		p, md, best, ok := tinyWithChoice(t, seed)
		if !ok {
			continue
		}
		s := newSearch(md, seed)
		s.construct()
		var items [][2]int
		for _, m := range s.members {
			for w := range 7 {
				if len(md.allowed[m][w]) > 0 {
					items = append(items, [2]int{m, w})
				}
			}
		}
		s.replanDays(items, 1<<30, time.Now().Add(time.Minute))
		r := s.e.roster()
		if v := Check(p, r); len(v) > 0 {
			t.Fatalf("seed %d: %v", seed, v)
		}
		sc, _ := Evaluate(p, r)
		if sc != s.e.score() {
			t.Fatalf("seed %d: incremental %+v, from scratch %+v", seed, s.e.score(), sc)
		}
		if sc.Total() != best {
			t.Errorf("seed %d: replanDays over %d member-days reached %d (%+v), brute force %d", seed, len(items), sc.Total(), sc, best)
		}
		compared++
	}
	if compared < 40 {
		t.Fatalf("only %d instances had a choice", compared)
	}
}

// TestPolishReachesWeekdayOptimum: the solver's polish ends at a roster
// that no joint re-plan of one weekday of the whole team improves. Its
// other neighbourhoods (one member-day, two member-days, one member's
// week) miss rosters where three or more members must change their
// shifts on the same day together (one starts earlier so another can end
// earlier and a third move to the gap). Without replanWeekdays in the
// polish, some seeds end above the weekday optimum.
func TestPolishReachesWeekdayOptimum(t *testing.T) {
	loc := paris(t)
	for seed := range uint64(8) {
		p := generate(loc, seed, 5, 2, 1, 1.1)
		res, err := Solve(p, Options{Seed: seed, Iterations: 3000, TimeLimit: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		keepsRulesAndScore(t, p, res, seed)
		md, _ := compile(p)
		s := searchAt(md, seed, res.Roster)
		for w := range 7 {
			items := make([][2]int, 0, len(s.members))
			for _, m := range s.members {
				items = append(items, [2]int{m, w})
			}
			s.replanDays(items, 1<<30, time.Now().Add(time.Minute))
		}
		if got := s.total(); got < res.Score.Total() {
			t.Errorf("seed %d: solver %d, a joint re-plan of its weekdays %d", seed, res.Score.Total(), got)
		}
	}
}
