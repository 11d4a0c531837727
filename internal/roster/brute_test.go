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
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// bruteInstance is a tiny problem: 2 or 3 members available on one or two
// consecutive days (Saturday and Sunday of the spring clock change, or
// Tuesday and Wednesday), starts 06:00, 10:00 and 14:00 of 4 or 8 hours
// (so 14:00-22:00 then 06:00 breaks the rest), short contracts, random
// skills, current patterns and demand.
func bruteInstance(t *testing.T, seed uint64) Problem {
	rng := rand.New(rand.NewPCG(seed, 7))
	members := 2 + int(seed%2)
	days := []time.Weekday{time.Tuesday, time.Wednesday}
	if seed%3 == 0 {
		days = []time.Weekday{time.Saturday, time.Sunday}
	}
	if members == 3 {
		days = days[:1]
	}
	p := tiny(t, time.Date(2026, time.March, 23, 0, 0, 0, 0, paris(t)))
	p.Rules = Rules{MinShift: 240, MaxShift: 480, Lengths: []int{240, 480}, EarliestStart: at(6), LatestStart: at(14), StartStep: 240, MinRest: 660}
	p.Queues = append(p.Queues, Queue{Name: "chat", Skills: []string{"chat"}})
	p.Required = append(p.Required, make([]int, len(p.Required[0])))
	for m := range members {
		mem := Member{Name: fmt.Sprintf("m%d", m), HoursPerWeek: []float64{4, 8, 12}[rng.IntN(3)]}
		mem.Skills = [][]string{{"phone"}, {"chat"}, {"phone", "chat"}, {"email"}}[rng.IntN(4)]
		for _, d := range days {
			mem.Availability = append(mem.Availability, Window{Day: d, From: 0, To: 1440})
			if rng.IntN(2) == 0 {
				mem.Current[d] = Shift{Start: at(6 + 4*rng.IntN(3)), Length: 240 * (1 + rng.IntN(2))}
			}
		}
		// The night after the last day is free, for shifts ending there.
		mem.Availability = append(mem.Availability, Window{Day: days[len(days)-1] + 1, From: 0, To: 360})
		p.Members = append(p.Members, mem)
	}
	for q := range p.Queues {
		for _, d := range days {
			day := int(d+6) % 7 // horizon day: the horizon starts on Monday
			for h := 6; h < 22; h += 2 {
				demand(&p, q, day, at(h), at(h+2), rng.IntN(2))
			}
		}
	}
	return p
}

// TestSolverMatchesBruteForce: on tiny instances, every roster is
// enumerated, Check keeps the feasible ones and Evaluate scores them; the
// solver must reach the least objective. The enumeration shares only
// Check and Evaluate with the solver, not its incremental scoring, its
// precomputed rest table or its moves.
func TestSolverMatchesBruteForce(t *testing.T) {
	chosen := 0
	for seed := range uint64(60) {
		p := bruteInstance(t, seed)
		md, err := compile(p)
		if err != nil {
			t.Fatal(err)
		}
		best, feasible := bruteOptimum(p, md)
		res, err := Solve(p, Options{Seed: seed, Iterations: 20000})
		if err != nil {
			t.Fatal(err)
		}
		if v := Check(p, res.Roster); len(v) > 0 {
			t.Fatalf("seed %d: %v", seed, v)
		}
		if feasible < 2 {
			continue // nobody serves a queue: nothing to choose
		}
		chosen++
		if res.Score.Total() != best {
			t.Errorf("seed %d: solver %d (%+v), brute force optimum %d over %d feasible rosters", seed, res.Score.Total(), res.Score, best, feasible)
		}
	}
	if chosen < 40 {
		t.Fatalf("only %d instances had a choice", chosen)
	}
}

// tinyWithChoice is tiny instance seed compiled, with its least objective
// by enumeration; ok is false when it has fewer than two feasible rosters
// (nobody serves a queue: nothing to choose), which the comparisons skip.
func tinyWithChoice(t *testing.T, seed uint64) (p Problem, md *model, best int64, ok bool) {
	t.Helper()
	p = bruteInstance(t, seed)
	md, err := compile(p)
	if err != nil {
		t.Fatal(err)
	}
	best, feasible := bruteOptimum(p, md)
	return p, md, best, feasible >= 2
}

// bruteOptimum enumerates every roster of a bruteInstance (each member's
// patterns within their availability windows), keeps those Check accepts
// and returns the least objective Evaluate gives and how many there were.
func bruteOptimum(p Problem, md *model) (int64, int) {
	cands := md.rules.Candidates()
	// options[m] are member m's patterns within availability.
	options := make([][]Pattern, len(p.Members))
	for m, mem := range p.Members {
		options[m] = []Pattern{{}}
		for w := range 7 {
			if !slices.Contains(mem.Availability, Window{Day: time.Weekday(w), From: 0, To: 1440}) {
				continue
			}
			var next []Pattern
			for _, o := range options[m] {
				next = append(next, o)
				for _, c := range cands {
					o2 := o
					o2[w] = c
					next = append(next, o2)
				}
			}
			options[m] = next
		}
	}
	best, feasible := int64(-1), 0
	r := make(Roster, len(p.Members))
	var walk func(m int)
	walk = func(m int) {
		if m == len(r) {
			if len(md.check(r)) > 0 {
				return
			}
			feasible++
			if v := md.evaluate(r).Total(); best < 0 || v < best {
				best = v
			}
			return
		}
		for _, o := range options[m] {
			r[m] = o
			walk(m + 1)
		}
	}
	walk(0)
	return best, feasible
}
