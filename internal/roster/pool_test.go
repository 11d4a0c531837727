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

// TestPriceAndAnnealReachesTheOptimum: on the tiny instances whose every
// roster is enumerated (brute_test.go), price-and-anneal alone (from the
// constructed roster, a short search for prices, a short annealing over
// the pools) reaches the optimum on most, keeps the rules, leaves the
// best roster in the evaluator, and its bound never exceeds the optimum.
// Pools that missed the weeks the search met, or an annealing that lost
// its best roster, would leave it in the constructed roster's basin.
func TestPriceAndAnnealReachesTheOptimum(t *testing.T) {
	reached, compared := phaseOnTiny(t, func(s *search, now time.Time) int64 {
		s.construct()
		s.keepBest()
		return s.priceAndAnneal(now.Add(200*time.Millisecond), now.Add(500*time.Millisecond))
	})
	if compared < 20 || reached*4 < compared*3 {
		t.Fatalf("optimum reached on %d of %d instances", reached, compared)
	}
}

// TestSolveAnnealsPoolsOnMiddleTeams: a team of 12 (too large for
// relax-and-descend) gets the price-and-anneal phase under a time limit:
// Solve reports its bound, below the roster's objective, and the roster
// keeps the rules and is scored as Evaluate scores it; with an iteration
// budget the phase does not run (it would make the seeded result depend
// on the clock), so there is no bound.
func TestSolveAnnealsPoolsOnMiddleTeams(t *testing.T) {
	p := generate(paris(t), 3, 12, 3, 1, 1.1)
	res, err := Solve(p, Options{Seed: 3, TimeLimit: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	keepsRulesAndScore(t, p, res, 3)
	if res.Bound <= 0 {
		t.Fatalf("no bound: the phase did not run on a team of %d", len(p.Members))
	}
	// On a quiet machine the search for prices ends about 25 % below the
	// objective here; CI's load once left it 68 % below. A pricing off by
	// its scale (1,000) lands far below a tenth.
	if 10*res.Bound < res.Score.Total() {
		t.Fatalf("bound %d is less than a tenth of the objective %d", res.Bound, res.Score.Total())
	}
	budget, err := Solve(p, Options{Seed: 3, Iterations: 20000})
	if err != nil {
		t.Fatal(err)
	}
	keepsRulesAndScore(t, p, budget, 3)
	if budget.Bound != 0 {
		t.Fatalf("bound %d with an iteration budget", budget.Bound)
	}
}
