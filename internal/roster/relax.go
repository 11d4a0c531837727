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

// The relax-and-descend phase. The annealing moves one or two
// member-days at a time, and on small teams it often settles in a basin
// that only changing most members' weeks at once leaves (on the 5-person
// benchmark instance, a roster 4 % above the optimum with every member
// working a different week). The weekly-pattern relaxation (pricing.go)
// points across: at good prices, the optimum's members' weeks are each
// within (optimum - L) of their best priced weeks in total, a few units
// where the bound is tight. So the phase finds the prices (the
// subgradient search), lists each member's near weeks (nearWeeks, within
// relaxMargin of their best), starts from every member on their best
// priced week, and descends over those lists: every member's week
// replaced by each of theirs, then every pair of members' weeks by each
// pair of theirs, until nothing improves. It also yields L, a lower bound
// on every roster's objective, which Solve reports.

// relaxScale is the pricing's scale in the phase: the prices are
// fractional, and thousandths of a unit keep the bound within a unit of
// theirs.
const relaxScale = 1000

// relaxMargin is how far above a member's best priced week (in units of
// the objective) a week may be to enter their list, and relaxListMax the
// most weeks a list keeps (the cheapest): the pair step costs the product
// of two lists per pair of members.
const (
	relaxMargin  = 16
	relaxListMax = 128
)

// relaxMaxMembers is the largest team (members who serve a queue) the
// phase runs for: each step of the search for prices plans every
// member's week, and the pair step grows with the square of the team. On
// 20 people the search is still far from settled in the time it has,
// and the phase made the benchmark's middle size worse (README,
// Benchmarks).
const relaxMaxMembers = 8

// The shares of Solve's time at which the annealing before the phase,
// each round's search for prices and descents, and the annealing after
// the phase end. The annealing comes first because the search for prices
// steps towards the best roster's objective: from a constructed
// roster's, far above, it takes longer.
var (
	relaxAnnealShare      = 0.2
	relaxAscentShares     = []float64{0.45, 0.65}
	relaxShares           = []float64{0.55, 0.75}
	relaxAnnealAfterShare = 0.85
)

// relaxAndDescend runs the phase from the best roster so far (s.best)
// in rounds, each a subgradient search until its time in ascents and
// descents until the matching time in descents: one from every member on
// their best priced week, then, if that is not the best roster known, one
// from the best roster. A later round searches for prices towards the
// better roster an earlier one found, which the Polyak step needs. It
// leaves the best roster seen in s.best and in the evaluator, and returns
// the bound, in units of the objective, rounded up (the objective is an
// integer), or 0 if it found none.
func (s *search) relaxAndDescend(ascents, descents []time.Time) int64 {
	l := newLagrangian(s, relaxScale)
	val := int64(math.MinInt64)
	for k := range ascents {
		val = l.ascend(s.bestVal, ascents[k])
		if val == math.MinInt64 {
			return 0
		}
		mu := l.prices()
		near := make([][]nearWeek, len(s.members))
		for j, m := range s.members {
			near[j] = s.nearWeeks(m, l.dayCosts(m, mu), relaxScale*WeightOverContract, relaxMargin*relaxScale)
			if len(near[j]) == 0 {
				return ceilDiv(val, relaxScale) // cannot happen: the best week is listed
			}
			near[j] = near[j][:min(len(near[j]), relaxListMax)]
		}
		for j, m := range s.members {
			s.setWeek(m, near[j][0].week)
		}
		s.descend(near, descents[k])
		if s.total() > s.bestVal {
			s.restoreBest()
			s.descend(near, descents[k])
		}
		s.keepBest()
		s.restoreBest()
	}
	return max(0, ceilDiv(val, relaxScale)) // every objective is >= 0
}

// relaxes reports whether relax-and-descend runs on this problem: a team
// of at most relaxMaxMembers who serve a queue, and a problem bestWeek
// (and nearWeeks) run on.
func (s *search) relaxes() bool {
	return len(s.members) <= relaxMaxMembers && s.md.plansWeeks()
}

// setWeek gives member m the week (candidates per weekday, -1 off),
// clearing the old one first so that no two of their shifts are ever
// counted at once.
func (s *search) setWeek(m int, week [7]int) {
	for w := range 7 {
		s.e.set(m, w, -1)
	}
	for w := range 7 {
		s.e.set(m, w, week[w])
	}
}

// descend replaces each member's week by the best of their list (near[j]
// for s.members[j]), then each pair of members' weeks by the best pair
// of their lists, and repeats until a round improves nothing or the
// deadline passes.
func (s *search) descend(near [][]nearWeek, deadline time.Time) {
	for improved := true; improved; {
		improved = false
		for j, m := range s.members {
			if s.moveToBest(m, len(near[j]), func(i int) [7]int { return near[j][i].week }) {
				improved = true
			}
		}
		for j1, m1 := range s.members {
			for j2 := j1 + 1; j2 < len(s.members); j2++ {
				if s.now().After(deadline) {
					return
				}
				m2 := s.members[j2]
				c1, c2, curV := s.e.pat[m1], s.e.pat[m2], s.total()
				for _, a := range near[j1] {
					s.setWeek(m1, a.week)
					for _, b := range near[j2] {
						s.setWeek(m2, b.week)
						if v := s.total(); v < curV {
							c1, c2, curV, improved = a.week, b.week, v, true
						}
					}
				}
				s.setWeek(m1, c1)
				s.setWeek(m2, c2)
			}
		}
	}
}

// moveToBest gives member m the best of n listed weeks (week(i) is the
// i-th) if it scores better than theirs, and reports whether m moved.
func (s *search) moveToBest(m, n int, week func(i int) [7]int) bool {
	cur, curV := s.e.pat[m], s.total()
	moved := false
	for i := range n {
		w := week(i)
		s.setWeek(m, w)
		if v := s.total(); v < curV {
			cur, curV, moved = w, v, true
		}
	}
	s.setWeek(m, cur)
	return moved
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		q++
	}
	return q
}
