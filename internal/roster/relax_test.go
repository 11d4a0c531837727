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
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestNearWeeksListsEveryWeekWithinMargin: nearWeeks against an
// enumeration of all 5^7 weeks of one member that Check accepts, under
// random day costs (negative ones included, as prices make them): every
// week within the margin of the best is listed once with its excess, in
// order, and no other. Rest (14:00-22:00 then 06:00 is 8 h) and three
// consecutive days at most both bind, the week wrap included, and the
// member's contract (16 h) makes hours over it cost.
func TestNearWeeksListsEveryWeekWithinMargin(t *testing.T) {
	loc := paris(t)
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 12))
		p := annAndBob(t, loc)
		md, err := compile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := newSearch(md, seed)
		const m, overContract = 1, 700
		var cost [7][]int64
		for w := range 7 {
			cost[w] = make([]int64, len(md.cands)+1)
			for c := range cost[w] {
				cost[w][c] = int64(rng.IntN(4001) - 2500)
			}
		}
		weekCost := func(week [7]int) int64 {
			var v int64
			half := 0
			for w, c := range week {
				v += cost[w][c+1]
				if c >= 0 {
					half += md.cands[c].Length / 30
				}
			}
			return v + overContract*int64(max(0, half-md.contract[m]/30))
		}
		type listed struct {
			week [7]int
			cost int64
		}
		var all []listed
		var week [7]int
		var walk func(w int)
		walk = func(w int) {
			if w == 7 {
				r := Roster{{}, {}}
				for d, c := range week {
					if c >= 0 {
						r[m][d] = md.cands[c]
					}
				}
				if len(md.check(r)) == 0 {
					all = append(all, listed{week, weekCost(week)})
				}
				return
			}
			for c := -1; c < len(md.cands); c++ {
				week[w] = c
				walk(w + 1)
			}
		}
		walk(0)
		best := slices.MinFunc(all, func(a, b listed) int { return cmp64(a.cost, b.cost) }).cost
		for _, delta := range []int64{0, 500, 3000} {
			got := s.nearWeeks(m, &cost, overContract, delta)
			want := map[[7]int]int64{}
			for _, l := range all {
				if l.cost <= best+delta {
					want[l.week] = l.cost - best
				}
			}
			if len(got) != len(want) {
				t.Fatalf("seed %d margin %d: %d weeks listed, %d within it", seed, delta, len(got), len(want))
			}
			for k, nw := range got {
				if e, ok := want[nw.week]; !ok || e != nw.excess {
					t.Fatalf("seed %d margin %d: week %v listed at %d, enumeration says %d (within: %v)", seed, delta, nw.week, nw.excess, e, ok)
				}
				delete(want, nw.week)
				if k > 0 && got[k-1].excess > nw.excess {
					t.Fatalf("seed %d margin %d: listed out of order", seed, delta)
				}
			}
			if delta == 3000 && len(got) < 20 {
				t.Fatalf("seed %d: only %d weeks within 3000: the margin tests too little", seed, len(got))
			}
		}
	}
}

// TestRelaxAndDescendReachesTheOptimum: on the tiny instances whose every
// roster is enumerated (brute_test.go), relax-and-descend alone (no
// annealing before it: from the constructed roster) reaches the optimum
// on nearly all, and its bound never exceeds the optimum. A descent
// that missed a member's near week, or prices far from the best, would
// leave it in the constructed roster's basin.
func TestRelaxAndDescendReachesTheOptimum(t *testing.T) {
	reached, compared := phaseOnTiny(t, func(s *search, now time.Time) int64 {
		s.construct()
		return s.relaxAndDescend([]time.Time{now.Add(2 * time.Second)}, []time.Time{now.Add(4 * time.Second)})
	})
	if compared < 20 || reached*10 < compared*9 {
		t.Fatalf("optimum reached on %d of %d instances", reached, compared)
	}
}

// phaseOnTiny runs a phase of the solver (it constructs a roster and
// improves it, returning its bound) on each tiny instance with a choice
// (brute_test.go), fails if a roster breaks a rule, if the evaluator does
// not hold the best roster kept, or if a bound exceeds the enumerated
// optimum, and returns on how many of how many instances it reached the
// optimum.
func phaseOnTiny(t *testing.T, phase func(s *search, now time.Time) int64) (reached, compared int) {
	t.Helper()
	for seed := range uint64(30) {
		p, md, best, ok := tinyWithChoice(t, seed)
		if !ok {
			continue
		}
		compared++
		s := newSearch(md, seed)
		bound := phase(s, time.Now())
		if v := Check(p, s.e.roster()); len(v) > 0 {
			t.Fatalf("seed %d: %v", seed, v)
		}
		got := s.total()
		if got != s.bestVal {
			t.Fatalf("seed %d: the evaluator holds %d, the best kept %d", seed, got, s.bestVal)
		}
		if bound > best {
			t.Errorf("seed %d: bound %d above the optimum %d", seed, bound, best)
		}
		if got == best {
			reached++
		}
		t.Logf("seed %d: optimum %d, reached %d, bound %d", seed, best, got, bound)
	}
	return reached, compared
}

// TestAttemptTwiceKeepsTheBetter: on a small team Solve runs two attempts
// at once from different seeds (run this test with -race: they share the
// model). The search returned is the one that ended lower and holds its
// best roster, moves were made, and the bound is one (above zero, not
// above the objective).
func TestAttemptTwiceKeepsTheBetter(t *testing.T) {
	p := generate(paris(t), 1, 5, 2, 1, 1.1)
	md, err := compile(p)
	if err != nil {
		t.Fatal(err)
	}
	differed := false
	for seed := range uint64(4) {
		a, b := newSearch(md, seed), newSearch(md, seed^twinSeed)
		start := time.Now()
		got, iter, bound := attemptTwice(a, b, start, start.Add(time.Second))
		want := a
		if b.total() < a.total() {
			want = b
		}
		differed = differed || a.total() != b.total()
		if got != want {
			t.Errorf("seed %d: kept the attempt at %d, the other ended at %d", seed, got.total(), want.total())
		}
		if got.total() != got.bestVal {
			t.Errorf("seed %d: the evaluator holds %d, the best kept %d", seed, got.total(), got.bestVal)
		}
		if v := Check(p, got.e.roster()); len(v) > 0 {
			t.Fatalf("seed %d: %v", seed, v)
		}
		if iter <= 0 || bound <= 0 || bound > got.total() {
			t.Errorf("seed %d: %d moves, bound %d for an objective of %d", seed, iter, bound, got.total())
		}
		t.Logf("seed %d: attempts ended at %d and %d, bound %d", seed, a.total(), b.total(), bound)
	}
	if !differed {
		t.Log("the two attempts ended equal on every seed: which one is kept went untested")
	}
}

// TestTwinYieldsWhenCoresAreTaken: the twin attempt's watch, fed a
// process CPU clock that runs at a given number of cores, yields when two
// windows in a row see fewer than 1.5 (other work has taken a core),
// never while the process has two, at once when the CPU time cannot be
// read, and returns without yielding when the attempts end first.
func TestTwinYieldsWhenCoresAreTaken(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cores     float64 // the fake clock's rate; negative: unreadable
		after     time.Duration
		wantYield bool
	}{
		{"two cores", 2, 6 * twinWindow, false},
		{"one core", 1, 6 * twinWindow, true},
		{"unreadable", -1, 2 * twinWindow, true},
		{"ended first", 1, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Now()
			cpu := func() time.Duration {
				if tc.cores < 0 {
					return -1
				}
				return time.Duration(tc.cores * float64(time.Since(t0)))
			}
			var yield atomic.Bool
			done := make(chan struct{})
			returned := make(chan struct{})
			go func() {
				defer close(returned)
				watchCores(&yield, done, cpu)
			}()
			time.Sleep(tc.after)
			close(done)
			select {
			case <-returned:
			case <-time.After(5 * time.Second):
				t.Fatal("the watch did not return after done closed")
			}
			if yield.Load() != tc.wantYield {
				t.Errorf("yield = %v after %v at %v cores, want %v", yield.Load(), tc.after, tc.cores, tc.wantYield)
			}
		})
	}
}
