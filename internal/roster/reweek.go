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
	"slices"
)

// reweekMaxCandidates bounds the candidate set for which reweek runs: its
// dynamic programme grows with the square of it.
const reweekMaxCandidates = 64

// plansWeeks reports whether the week programme (bestWeek, and so
// reweek, nearWeeks and the phases built on them) runs on this problem:
// few enough candidate shifts, and a day off in every week.
func (md *model) plansWeeks() bool {
	return len(md.cands) <= reweekMaxCandidates && md.rules.MaxConsecutiveDays < 7
}

// reweek re-plans member m's whole week at its best given everyone else's
// shifts, by dynamic programming, and keeps it if the full score improves.
//
// With everyone else fixed, the understaffing and overstaffing a member's
// shift on one weekday causes do not depend on their other days (rest
// keeps their shifts from overlapping), nor does a change; so the week's
// cost is a sum of per-day costs plus the hours over contract, which
// depend on the week's total. The programme runs over the six days after
// a day off f (every feasible week with at most six consecutive days has
// one; all seven f are tried), with the state (end of the previous day's
// shift, consecutive days so far, half-hours so far); the day off cuts the
// cycle, so the week wrap needs no special case. Fairness is left out of
// the programme and counted when the result is compared.
func (s *search) reweek(m int) bool { return s.replan(m, true) }

// reweekAny re-plans member m's week as reweek does but keeps the result
// even if it is worse (fairness), for the annealing to judge; it reports
// whether it ran.
func (s *search) reweekAny(m int) bool { return s.replan(m, false) }

func (s *search) replan(m int, improveOnly bool) bool {
	md := s.md
	if !md.plansWeeks() {
		return false
	}
	before := s.total()
	old := s.e.pat[m]
	for w := range 7 {
		s.e.set(m, w, -1)
	}
	cost := s.dayCosts(m)
	week, ok := s.bestWeek(m, cost, WeightOverContract)
	if !ok {
		week = old
	}
	for w := range 7 {
		s.e.set(m, w, week[w])
	}
	if !improveOnly || s.total() < before {
		return true
	}
	for w := range 7 {
		s.e.set(m, w, -1)
	}
	for w := range 7 {
		s.e.set(m, w, old[w])
	}
	return false
}

// dayCosts returns cost[w][c+1], the weighted cost of choice c (-1 off)
// for member m on weekday w with everyone else as they stand and m off
// all week (as m must be when it is called): understaffing,
// overstaffing and the change against the current pattern.
func (s *search) dayCosts(m int) *[7][]int64 {
	md := s.md
	nc := len(md.cands)
	var cost [7][]int64
	base := WeightUnderstaffed*int64(s.e.understaffed) + WeightOverstaffed*int64(s.e.overstaffed)
	for w := range 7 {
		cost[w] = make([]int64, nc+1)
		for i := range cost[w] {
			cost[w][i] = math.MaxInt64
		}
		cost[w][0] = WeightChanges * int64(b2i(s.e.cur[m][w] != -1))
		for _, c := range md.allowed[m][w] {
			s.e.set(m, w, c)
			cost[w][c+1] = WeightUnderstaffed*int64(s.e.understaffed) + WeightOverstaffed*int64(s.e.overstaffed) - base +
				WeightChanges*int64(b2i(c != s.e.cur[m][w]))
			s.e.set(m, w, -1)
		}
	}
	return &cost
}

// inf marks a state bestWeek has not reached.
const inf = math.MaxInt64 / 4

// dpOption is a candidate c on one day with its rest class, length in units and
// cost.
type dpOption struct {
	c, class, h int
	cost        int64
}

// day advances the programme by one day: from the states in dp, the day
// off (cost off) or any option that keeps the rest after the previous
// day's shift (conflict is the previous weekday's table), the run and the
// hours within bounds; the results go to next, with back-pointers in
// from[k] and choice[k].
func (t *weekDP) day(dp, next []int64, k int, conflict []bool, off int64, options []dpOption, nc int) {
	runs, hmax := t.runs, t.hmax
	stride := hmax + 1
	from, choice := t.from[k], t.choice[k]
	for i := range next {
		next[i] = inf
	}
	for cl, rep := range t.rep {
		for run := range runs {
			base := (cl*runs + run) * stride
			for h := 0; h <= hmax; h++ {
				v := dp[base+h]
				if v >= inf {
					continue
				}
				st := base + h
				if nv := v + off; nv < next[h] {
					next[h], from[h], choice[h] = nv, int32(st), -1
				}
				if run+1 >= runs {
					continue
				}
				for _, o := range options {
					nh := h + o.h
					if nh > hmax || (rep >= 0 && conflict[rep*nc+o.c]) {
						continue
					}
					to := (o.class*runs+run+1)*stride + nh
					if nv := v + o.cost; nv < next[to] {
						next[to], from[to], choice[to] = nv, int32(st), int16(o.c)
					}
				}
			}
		}
	}
}

// weekDP holds bestWeek's tables, built once per search.
type weekDP struct {
	class  []int // per candidate: its rest class (from 1)
	rep    []int // per class: one candidate (-1 for class 0, off)
	unit   int   // half-hours per step of the hours dimension
	runs   int
	hmax   int // in units
	dp     []int64
	next   []int64
	from   [6][]int32 // per day of the programme: previous state
	choice [6][]int16 // and the choice that led here
}

// newWeekDP builds the tables. Candidates with the same conflicts with
// every next-day candidate on every weekday (shifts ending early enough
// to conflict with none, or at the same minute) form one class, since
// the day after sees only that; and the hours count in units of the
// greatest common divisor of the candidates' lengths.
func newWeekDP(md *model) *weekDP {
	nc := len(md.cands)
	t := &weekDP{class: make([]int, nc), rep: []int{-1}}
	classes := map[string]int{}
	key := make([]byte, 0, 7*nc)
	t.unit = 0
	for c, sh := range md.cands {
		key = key[:0]
		for w := range 7 {
			for b := range nc {
				key = append(key, byte(b2i(md.conflict[w][c*nc+b])))
			}
		}
		if _, ok := classes[string(key)]; !ok {
			classes[string(key)] = len(t.rep)
			t.rep = append(t.rep, c)
		}
		t.class[c] = classes[string(key)]
		t.unit = gcd(t.unit, sh.Length/30)
	}
	t.unit = max(t.unit, 1)
	t.runs = md.rules.MaxConsecutiveDays + 1
	t.hmax = 6 * md.rules.MaxShift / 30 / t.unit
	n := len(t.rep) * t.runs * (t.hmax + 1)
	t.dp, t.next = make([]int64, n), make([]int64, n)
	for k := range t.from {
		t.from[k] = make([]int32, n)
		t.choice[k] = make([]int16, n)
	}
	return t
}

// options lists member m's candidates per weekday for the programme,
// with their costs from cost.
func (t *weekDP) options(md *model, m int, cost *[7][]int64) *[7][]dpOption {
	var options [7][]dpOption
	for w := range 7 {
		for _, c := range md.allowed[m][w] {
			options[w] = append(options[w], dpOption{c, t.class[c], md.cands[c].Length / 30 / t.unit, cost[w][c+1]})
		}
	}
	return &options
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// bestWeek solves reweek's programme, with overContract the cost of a
// half-hour over contract, and returns the week's candidates.
func (s *search) bestWeek(m int, cost *[7][]int64, overContract int64) ([7]int, bool) {
	md := s.md
	nc := len(md.cands)
	if s.wdp == nil {
		s.wdp = newWeekDP(md)
	}
	t := s.wdp
	stride := t.hmax + 1
	dp, next := t.dp, t.next
	var best [7]int
	bestCost := int64(inf)
	contract := md.contract[m] / 30
	options := t.options(md, m, cost)
	for f := range 7 {
		for i := range dp {
			dp[i] = inf
		}
		dp[0] = cost[f][0] // class off, no run, no hours
		for k := range 6 {
			w := (f + 1 + k) % 7
			conflict := md.conflict[(w+6)%7]
			t.day(dp, next, k, conflict, cost[w][0], options[w], nc)
			dp, next = next, dp
		}
		for st, v := range dp {
			if v >= inf {
				continue
			}
			total := v + overContract*int64(max(0, st%stride*t.unit-contract))
			if total >= bestCost {
				continue
			}
			bestCost = total
			best[f] = -1
			cur := st
			for k := 5; k >= 0; k-- {
				best[(f+1+k)%7] = int(t.choice[k][cur])
				cur = int(t.from[k][cur])
			}
		}
	}
	return best, bestCost < inf
}

// nearWeek is a week with its cost above member's best.
type nearWeek struct {
	week   [7]int
	excess int64
}

// nearWeeks lists every week of member m that bestWeek's programme
// allows and whose cost (under cost, overContract per half-hour over
// contract) is within delta of the best, in order of cost. The programme
// is run backwards from the end of each cut (the cost to complete the
// week from every state), and a depth-first walk forwards keeps only the
// prefixes that can still end within the margin, so the walk visits
// little more than the weeks it lists. A week with several days off is
// met once per day off and listed once.
func (s *search) nearWeeks(m int, cost *[7][]int64, overContract int64, delta int64) []nearWeek {
	md := s.md
	nc := len(md.cands)
	if s.wdp == nil {
		s.wdp = newWeekDP(md)
	}
	t := s.wdp
	stride, runs := t.hmax+1, t.runs
	options := t.options(md, m, cost)
	togo, best := s.completions(m, cost, overContract, options)
	if best >= inf {
		return nil
	}
	limit := best + delta
	seen := map[[7]int]bool{}
	var out []nearWeek
	var week [7]int
	var walk func(f, k, st int, acc int64)
	walk = func(f, k, st int, acc int64) {
		g := &togo[f]
		if k == 6 {
			if !seen[week] {
				seen[week] = true
				out = append(out, nearWeek{week, acc + g[6][st] - best})
			}
			return
		}
		w := (f + 1 + k) % 7
		conflict := md.conflict[(w+6)%7]
		h, run, rep := st%stride, st/stride%runs, t.rep[st/stride/runs]
		if acc+cost[w][0]+g[k+1][h] <= limit {
			week[w] = -1
			walk(f, k+1, h, acc+cost[w][0])
		}
		if run+1 >= runs {
			return
		}
		for _, o := range options[w] {
			nh := h + o.h
			if nh > t.hmax || (rep >= 0 && conflict[rep*nc+o.c]) {
				continue
			}
			if ns := (o.class*runs+run+1)*stride + nh; acc+o.cost+g[k+1][ns] <= limit {
				week[w] = o.c
				walk(f, k+1, ns, acc+o.cost)
			}
		}
	}
	for f := range 7 {
		if cost[f][0]+togo[f][0][0] <= limit {
			week[f] = -1
			walk(f, 0, 0, cost[f][0])
		}
	}
	slices.SortStableFunc(out, func(a, b nearWeek) int { return cmp64(a.excess, b.excess) })
	return out
}

// completions runs nearWeeks' programme backwards: togo[f][k][st] is the
// least cost of days k.. of cut f (the week after a day off on weekday
// f) from state st, hours over contract included; best is the least
// cost of a whole week.
func (s *search) completions(m int, cost *[7][]int64, overContract int64, options *[7][]dpOption) (togo *[7][7][]int64, best int64) {
	md, t := s.md, s.wdp
	nc := len(md.cands)
	stride, runs := t.hmax+1, t.runs
	n := len(t.dp)
	contract := md.contract[m] / 30
	togo = new([7][7][]int64)
	best = inf
	for f := range 7 {
		g := &togo[f]
		for k := range g {
			g[k] = make([]int64, n)
		}
		for st := range n {
			g[6][st] = overContract * int64(max(0, st%stride*t.unit-contract))
		}
		for k := 5; k >= 0; k-- {
			w := (f + 1 + k) % 7
			conflict := md.conflict[(w+6)%7]
			for st := range n {
				h, run, rep := st%stride, st/stride%runs, t.rep[st/stride/runs]
				v := cost[w][0] + g[k+1][h]
				if run+1 < runs {
					for _, o := range options[w] {
						nh := h + o.h
						if nh > t.hmax || (rep >= 0 && conflict[rep*nc+o.c]) {
							continue
						}
						v = min(v, o.cost+g[k+1][(o.class*runs+run+1)*stride+nh])
					}
				}
				g[k][st] = min(v, inf)
			}
		}
		best = min(best, cost[f][0]+g[0][0])
	}
	return togo, best
}
