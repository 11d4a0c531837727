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
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/coverage"
)

// The weekly-pattern bound. CBC's bound comes from the LP relaxation of
// the MILP in milp_test.go, which lets a member work half of an early
// shift and half of a late one on the same day, or a fraction of a shift
// that would break the rest rule: the best roster known on the middle
// size is 7-14 % above it. Keeping every member's week whole gives a stronger bound,
// the Lagrangian dual of the queues' capacity rows (the value of the LP
// over whole weekly patterns that column generation would reach):
//
//	L(mu) = W_u*sum(req) - sum_qi mu_qi*req_qi + sum_m z_m(mu)
//
// where z_m(mu) is member m's best week on its own with every half-hour
// it is allocated to queue q priced mu_qi - (W_u + W_o): a week of the
// MILP's own per-member rows (one shift a weekday, rest, consecutive
// days, hours over contract, changes). For any mu >= 0, L(mu) is at most
// the optimum: a roster's allocation keeps sum_m a_mqi <= req_qi, so the
// added terms are <= 0. Fairness (>= 0) is left out, which only lowers
// it. A subgradient search looks for a high L(mu) with the week programme
// bestWeek for z_m; the bound the benchmark reports is then computed
// again with every z_m solved by CBC as a MILP of that member's rows, so
// it rests on CBC's optima, not on the solver's programme (and the two
// must agree).

// lagrangian holds the prices and, per member, weekday and candidate, the
// half-hours of the horizon the shift covers.
type lagrangian struct {
	md     *model
	s      *search
	mu     [][]float64 // [i][q], >= 0
	req    int64       // sum of requirements
	covers [][7][][]int
	value  [][]int64 // [m][i]: price of a half-hour on shift, this evaluation
	queue  [][]int   // [m][i]: the queue it goes to, -1 none
}

func newLagrangian(s *search) *lagrangian {
	md := s.md
	nm := len(md.p.Members)
	l := &lagrangian{md: md, s: s, mu: make([][]float64, md.n), covers: make([][7][][]int, nm),
		value: make([][]int64, nm), queue: make([][]int, nm)}
	for i := range l.mu {
		l.mu[i] = make([]float64, len(md.p.Queues))
		for q := range l.mu[i] {
			l.mu[i][q] = WeightUnderstaffed / 2
			l.req += int64(md.req[i][q])
		}
	}
	for m := range nm {
		l.value[m], l.queue[m] = make([]int64, md.n), make([]int, md.n)
		for w := range 7 {
			l.covers[m][w] = make([][]int, len(md.cands))
			for _, c := range md.allowed[m][w] {
				for _, d := range md.instances(m, time.Weekday(w)) {
					l.covers[m][w][c] = md.cover(d, c, l.covers[m][w][c])
				}
			}
		}
	}
	return l
}

// prices returns mu rounded to integers, the prices evaluate and the
// MILP use.
func (l *lagrangian) prices() [][]int64 {
	out := make([][]int64, len(l.mu))
	for i := range l.mu {
		out[i] = make([]int64, len(l.mu[i]))
		for q, v := range l.mu[i] {
			out[i][q] = int64(math.Round(v))
		}
	}
	return out
}

// dayCosts prices member m's half-hours on shift (the best queue's
// mu - (W_u + W_o) when negative, else 0: not allocated) and returns the
// cost of each choice per weekday (index 0 off, c+1 candidate c):
// overstaffing for every half-hour on shift plus its price, and the
// change.
func (l *lagrangian) dayCosts(m int, mu [][]int64) *[7][]int64 {
	md := l.md
	for i := range md.n {
		best, bq := int64(0), -1
		for _, q := range md.eligible[m] {
			if md.req[i][q] == 0 {
				continue
			}
			if v := mu[i][q] - (WeightUnderstaffed + WeightOverstaffed); v < best {
				best, bq = v, q
			}
		}
		l.value[m][i], l.queue[m][i] = best, bq
	}
	var cost [7][]int64
	for w := range 7 {
		cost[w] = make([]int64, len(md.cands)+1)
		for i := range cost[w] {
			cost[w][i] = inf
		}
		cur := md.p.Members[m].Current[w]
		curIdx, curOK := md.candIdx[cur]
		cost[w][0] = 0
		if !cur.Off() {
			cost[w][0] = WeightChanges
		}
		for _, c := range md.allowed[m][w] {
			var v int64
			if cur.Off() || !curOK || curIdx != c {
				v = WeightChanges
			}
			for _, i := range l.covers[m][w][c] {
				v += WeightOverstaffed + l.value[m][i]
			}
			cost[w][c+1] = v
		}
	}
	return &cost
}

// weekCost is what week (candidates per weekday, -1 off) costs member m
// under cost, hours over contract included.
func (l *lagrangian) weekCost(m int, cost *[7][]int64, week [7]int) int64 {
	var v int64
	half := 0
	for w, c := range week {
		v += cost[w][c+1]
		if c >= 0 {
			half += l.md.cands[c].Length / 30
		}
	}
	return v + WeightOverContract*int64(max(0, half-l.md.contract[m]/30))
}

// constant is L(mu) without the members' terms: W_u*sum(req) -
// sum mu*req.
func (l *lagrangian) constant(mu [][]int64) int64 {
	val := WeightUnderstaffed * l.req
	for i := range mu {
		for q, v := range mu[i] {
			val -= v * int64(l.md.req[i][q])
		}
	}
	return val
}

// evaluate returns L(mu) with each serving member's best week found by
// bestWeek, and the subgradient sum_m a_mqi - req_qi.
func (l *lagrangian) evaluate() (int64, [][]float64) {
	md := l.md
	mu := l.prices()
	val := l.constant(mu)
	g := make([][]float64, md.n)
	for i := range g {
		g[i] = make([]float64, len(md.p.Queues))
		for q := range g[i] {
			g[i][q] = -float64(md.req[i][q])
		}
	}
	for m := range md.p.Members {
		if !md.serving[m] {
			continue
		}
		cost := l.dayCosts(m, mu)
		week, ok := l.s.bestWeek(m, cost)
		if !ok {
			continue // no week keeps the rules: bestWeek found none (cannot happen with a day off allowed)
		}
		val += l.weekCost(m, cost, week)
		for w, c := range week {
			if c < 0 {
				continue
			}
			for _, i := range l.covers[m][w][c] {
				if q := l.queue[m][i]; q >= 0 {
					g[i][q]++
				}
			}
		}
	}
	return val, g
}

// ascend runs the subgradient search until deadline or until its step is
// tiny, with Polyak steps towards target (a roster's objective), the step
// halved after 150 steps without a better bound, and leaves the best
// prices found in mu.
func (l *lagrangian) ascend(target int64, deadline time.Time) {
	theta := 1.0
	best := int64(math.MinInt64)
	var bestMu [][]float64
	stall := 0
	for time.Now().Before(deadline) {
		val, g := l.evaluate()
		if val > best {
			best, stall = val, 0
			bestMu = make([][]float64, len(l.mu))
			for i := range l.mu {
				bestMu[i] = append([]float64(nil), l.mu[i]...)
			}
		} else if stall++; stall >= 150 {
			theta, stall = theta/2, 0
		}
		norm := 0.0
		for i := range g {
			for q, v := range g[i] {
				if l.mu[i][q] <= 0 && v < 0 {
					g[i][q] = 0 // projected: the price stays at 0
					continue
				}
				norm += v * v
			}
		}
		if norm == 0 || theta < 1e-3 {
			break
		}
		step := theta * float64(max(target-val, 1)) / norm
		for i := range g {
			for q, v := range g[i] {
				l.mu[i][q] = min(max(0, l.mu[i][q]+step*v), WeightUnderstaffed+WeightOverstaffed)
			}
		}
	}
	if bestMu != nil {
		l.mu = bestMu
	}
}

// subproblem is one member's rows of the MILP with the capacity rows
// priced at mu (integers) instead: writeLP writes it.
type subproblem struct {
	member int
	mu     [][]int64
}

// weekBound is the weekly-pattern bound of p: the subgradient search
// (towards target, a roster's objective, for up to limit), then L(mu) at
// the best prices with every member's term solved by CBC as a MILP of
// that member's rows. It fails the test if CBC does not prove a member's
// optimum or if bestWeek's optimum differs in cost from CBC's for any
// member (the programme and the MILP are the same model), and returns the
// bound and the time it took, the CBC solves included.
func weekBound(t testing.TB, p Problem, target int64, limit time.Duration) (int64, time.Duration) {
	t.Helper()
	md, err := compile(p)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	l := newLagrangian(newSearch(md, 1))
	l.ascend(target, start.Add(limit))
	mu := l.prices()
	bound := l.constant(mu)
	dir := t.TempDir()
	for m := range md.p.Members {
		if !md.serving[m] {
			continue
		}
		cost := l.dayCosts(m, mu)
		week, ok := l.s.bestWeek(m, cost)
		if !ok {
			t.Fatalf("member %d: the week programme found no week", m)
		}
		dp := l.weekCost(m, cost, week)
		lp := filepath.Join(dir, fmt.Sprintf("member%d.lp", m))
		ml, err := writeLP(md, lp, &subproblem{member: m, mu: mu})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("cbc", lp, "threads", "1", "solve").CombinedOutput()
		if err != nil {
			t.Fatalf("cbc: %v\n%s", err, out)
		}
		optimal, obj, _, _ := parseCBC(string(out))
		if !optimal || !strings.Contains(string(out), "Objective value:") {
			t.Fatalf("member %d: CBC did not prove its week optimal:\n%s", m, out)
		}
		z := int64(math.Round(obj)) + ml.offset
		if z != dp {
			t.Fatalf("member %d: CBC's best week costs %d, bestWeek's %d", m, z, dp)
		}
		bound += z
	}
	return bound, time.Since(start)
}

// TestWeekBoundIsABound: on the tiny instances whose every roster is
// enumerated (brute_test.go), the weekly-pattern bound never exceeds the
// least objective (a wrong sign, a dropped -mu*req, or a member's week
// priced above what it costs would put it above on some instance), bestWeek
// and CBC agree on the cost of every member's best week (weekBound fails
// otherwise), and it is tight where the relaxation loses nothing: equal to
// the optimum on at least half of them (a week priced below its cost
// would lower it).
func TestWeekBoundIsABound(t *testing.T) {
	needCBC(t)
	compared, tight := 0, 0
	for seed := range uint64(30) {
		p, _, best, ok := tinyWithChoice(t, seed)
		if !ok {
			continue
		}
		compared++
		bound, _ := weekBound(t, p, best, 20*time.Second) // the search ends early, once its step is tiny
		if bound > best {
			t.Errorf("seed %d: bound %d above the enumerated optimum %d", seed, bound, best)
		}
		if bound == best {
			tight++
		}
		t.Logf("seed %d: optimum %d bound %d", seed, best, bound)
	}
	if compared < 20 || tight*2 < compared {
		t.Fatalf("bound equal to the optimum on %d of %d instances", tight, compared)
	}
}

// TestWeekBoundWithNightsHolidaysAndOddCurrentShifts runs the bound where
// the tiny instances never go: two weeks (each weekday worked twice),
// shifts that cross midnight (into the next day, from the day before the
// horizon and past its end), night demand, a public holiday, time off
// and a current shift that is not a candidate (so keeping it is
// impossible and every choice is a change). The programme and CBC must
// agree on every member's best week, and the bound must not exceed the
// objective of a roster the solver finds, nor CBC's best.
func TestWeekBoundWithNightsHolidaysAndOddCurrentShifts(t *testing.T) {
	needCBC(t)
	loc := paris(t)
	p := generate(loc, 3, 4, 2, 2, 1.1)
	p.Rules = Rules{MinShift: 240, MaxShift: 480, Lengths: []int{240, 480}, EarliestStart: 360, LatestStart: 1200, StartStep: 120, MinRest: 660, MaxConsecutiveDays: 5}
	p.Holidays = []coverage.Date{coverage.DateOf(p.Start.AddDate(0, 0, 9))}
	p.Members[0].Current[time.Tuesday] = Shift{Start: 9 * 60, Length: 300}
	p.Absences = append(p.Absences, coverage.Absence{Member: p.Members[1].Name,
		From: coverage.DateOf(p.Start.AddDate(0, 0, 2)), To: coverage.DateOf(p.Start.AddDate(0, 0, 3))})
	for q := range p.Required {
		for i := range p.Required[q] {
			if h := p.Start.Add(time.Duration(i) * coverage.IntervalLength).In(loc).Hour(); (h >= 22 || h < 2) && i%3 == q {
				p.Required[q][i] = 1
			}
		}
	}
	md, err := compile(p)
	if err != nil {
		t.Fatal(err)
	}
	night := false
	for _, c := range md.cands {
		night = night || c.Start+c.Length > 1440
	}
	if _, ok := md.candIdx[p.Members[0].Current[time.Tuesday]]; ok || !night || len(p.Absences) == 0 {
		t.Fatalf("the instance lost what it tests: night shifts %v, time off %d, odd current shift a candidate %v", night, len(p.Absences), ok)
	}
	res, err := Solve(p, Options{Seed: 3, Iterations: 20000})
	if err != nil {
		t.Fatal(err)
	}
	keepsRulesAndScore(t, p, res, 3)
	o := solveCBC(t, p, 20*time.Second)
	upper := res.Score.Total()
	if o.Total >= 0 {
		checkOracle(t, p, o)
		upper = min(upper, o.Total)
	}
	bound, _ := weekBound(t, p, upper, 20*time.Second)
	if bound > upper {
		t.Fatalf("bound %d above a roster's objective %d (solver %d, CBC %d)", bound, upper, res.Score.Total(), o.Total)
	}
	if o.Bound > 0 && bound < o.Bound-WeightUnderstaffed {
		t.Errorf("weekly-pattern bound %d far below CBC's %d", bound, o.Bound)
	}
	t.Logf("solver %d, CBC best %d bound %d, weekly-pattern bound %d", res.Score.Total(), o.Total, o.Bound, bound)
}
