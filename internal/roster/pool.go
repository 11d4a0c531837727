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
	"math"
	"time"
)

// The price-and-anneal phase, for teams too large for relax-and-descend.
// On the benchmark's middle size (20 people, seed 2) the weekly-pattern
// relaxation (pricing.go) is tight, and its weeks are easy to find: in
// an experiment (not kept; README, Benchmarks), column generation with
// CBC solving the master LP converged at 618,930, and CBC choosing one
// week per member among only the weeks a 2-second search for prices
// had met (its bound still 7 % low) found a roster of that value. So
// the best roster is made of weeks that were some member's best priced
// week at some step of even a short search. The annealing over single
// member-days does not find that combination (it ends 2-5 % above it).
// So the phase searches for prices, keeps every week the search met as
// member m's pool, puts every member on their best priced week, and
// anneals over whole weeks: a move replaces one or two members' weeks by
// weeks of their pools. Two annealings run at once (the second core),
// each ending with a descent over the pools, and the better is kept.

// poolMaxMembers is the largest team (members who serve a queue) the
// phase runs for: each step of the search for prices plans every
// member's week (12 ms for 20 people), and with many more members the
// search makes too few steps in its time for the pools to hold the good
// weeks.
const poolMaxMembers = 32

// The shares of Solve's time at which the annealing before the phase,
// its search for prices and its annealing over pools end.
var (
	poolAnnealShare = 0.2
	poolAscentShare = 0.6
	poolShare       = 0.85
)

// poolTempStart is the pool annealing's first temperature: one member's
// week replaced costs a few understaffed half-hours before the others
// follow, so it starts hotter than the annealing over member-days.
const poolTempStart = 50000.0

// weekPool holds, per member, the distinct weeks met.
type weekPool struct {
	weeks [][][7]int
	seen  []map[[7]int]bool
}

func newWeekPool(members int) *weekPool {
	p := &weekPool{weeks: make([][][7]int, members), seen: make([]map[[7]int]bool, members)}
	for m := range p.seen {
		p.seen[m] = map[[7]int]bool{}
	}
	return p
}

func (p *weekPool) add(m int, week [7]int) {
	if !p.seen[m][week] {
		p.seen[m][week] = true
		p.weeks[m] = append(p.weeks[m], week)
	}
}

// pools reports whether price-and-anneal runs on this problem: a team
// too large for relax-and-descend, at most poolMaxMembers who serve a
// queue, and a problem bestWeek runs on.
func (s *search) pools() bool {
	return len(s.members) > relaxMaxMembers && len(s.members) <= poolMaxMembers && s.md.plansWeeks()
}

// priceAndAnneal runs the phase from the best roster so far: the search
// for prices until ascentEnd, then the annealing over the pools, from
// every member on their best priced week, until deadline. The best
// roster's weeks join the pools, so the phase can fall back to them. It
// leaves the best roster seen in s.best and in the evaluator and returns
// the bound, in units of the objective, rounded up, or 0 if it found
// none.
func (s *search) priceAndAnneal(ascentEnd, deadline time.Time) int64 {
	l := newLagrangian(s, relaxScale)
	pool := newWeekPool(len(s.md.p.Members))
	l.seen = pool.add
	val := l.ascend(s.bestVal, ascentEnd)
	if val == math.MinInt64 {
		return 0
	}
	for _, m := range s.members {
		pool.add(m, s.best[m])
	}
	mu := l.prices()
	for _, m := range s.members {
		if week, _, ok := l.bestWeekAt(m, mu); ok {
			s.setWeek(m, week)
		}
	}
	// A twin anneals the same pools from the same roster on another core:
	// the annealing ends in a basin 4-5 % above the best in about one run
	// of five, and the better of two independent runs seldom does.
	twin := newSearch(s.md, s.rng.Uint64())
	for _, m := range s.members {
		twin.setWeek(m, s.e.pat[m])
	}
	twin.best, twin.bestVal = append([][7]int(nil), s.best...), s.bestVal
	beside(twin, func() { s.annealPools(pool.weeks, deadline) }, func() { twin.annealPools(pool.weeks, deadline) })
	if twin.bestVal < s.bestVal {
		s.best, s.bestVal = twin.best, twin.bestVal
	}
	s.restoreBest()
	return max(0, ceilDiv(val, relaxScale))
}

// annealPools is simulated annealing over whole weeks: each move gives
// one member (or, half the time, two) a random week of their pool, and is
// taken if it costs at most what the temperature allows (poolTempStart
// falling geometrically to tempEnd over the time left). The best roster
// met is kept in s.best.
func (s *search) annealPools(pool [][][7]int, deadline time.Time) {
	start := s.now()
	// The last tenth of the time goes to the descent.
	span := 0.9 * deadline.Sub(start).Seconds()
	if span <= 0 {
		return
	}
	cur, temp := s.total(), poolTempStart
	s.keepBest()
	var old [2][7]int
	var picked [2]int
	for n := 0; ; n++ {
		if n%64 == 0 {
			f := s.now().Sub(start).Seconds() / span
			if f >= 1 {
				s.restoreBest()
				s.descendPools(pool, deadline)
				return
			}
			temp = poolTempStart * math.Pow(tempEnd/poolTempStart, f)
		}
		k := 1 + s.rng.IntN(2)
		picked[0] = s.members[s.rng.IntN(len(s.members))]
		picked[1] = s.members[s.rng.IntN(len(s.members))]
		if k == 2 && picked[0] == picked[1] {
			k = 1
		}
		for j := range k {
			m := picked[j]
			old[j] = s.e.pat[m]
			s.setWeek(m, pool[m][s.rng.IntN(len(pool[m]))])
		}
		v := s.total()
		if d := v - cur; d <= 0 || s.rng.Float64() < math.Exp(-float64(d)/temp) {
			cur = v
			if v < s.bestVal {
				s.keepBest()
			}
			continue
		}
		for j := k - 1; j >= 0; j-- {
			s.setWeek(picked[j], old[j])
		}
	}
}

// descendPools replaces each member's week by the best week of their
// pool, in turn, until a round improves nothing or the deadline passes,
// and keeps the result if it is the best roster met.
func (s *search) descendPools(pool [][][7]int, deadline time.Time) {
	for improved := true; improved && s.now().Before(deadline); {
		improved = false
		for _, m := range s.members {
			if s.moveToBest(m, len(pool[m]), func(i int) [7]int { return pool[m][i] }) {
				improved = true
			}
		}
	}
	s.keepBest()
}
