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

// The weekly-pattern relaxation. A roster's objective is
//
//	W_u*sum(req) + sum_m [W_o*on_m - (W_u+W_o)*a_m + over-contract_m + changes_m] + fairness
//
// where on_m counts member m's half-hours on shift and a_m those the
// allocation gives a queue, with sum_m a_mqi <= req_qi for every queue q
// and half-hour i. Pricing those capacity rows at mu_qi >= 0 instead
// gives, for any roster,
//
//	objective >= L(mu) = W_u*sum(req) - sum_qi mu_qi*req_qi + sum_m z_m(mu)
//
// where z_m(mu) is member m's best week on its own with every half-hour
// on shift costing W_o plus the best of (mu_qi - W_u - W_o) over the
// queues q they serve, or nothing (idle) if none is negative: the added
// terms mu*(sum a - req) are <= 0 and fairness is >= 0. The solver's
// week programme (bestWeek) finds z_m. Three things rest on it: the
// bound the benchmark reports (lagrange_test.go), the bound Solve
// reports, and the solver's relax-and-descend phase (relax.go), which
// uses more: any roster R has
//
//	sum_m (week cost of R_m - z_m) <= objective(R) - L(mu)
//
// so in a roster within d of L(mu) every member's week is within d of
// their best priced week.

// pricing prices member weeks at given capacity prices. Prices and
// costs are in units of 1/scale of the objective's: scale 1 keeps the
// prices integers of the objective (the benchmark writes them into
// CBC's programme), a larger scale follows an LP's fractional duals.
type pricing struct {
	md    *model
	scale int64
	req   int64 // sum of requirements
	// covers[m][w][c]: the half-hours of the horizon member m covers
	// working candidate c on weekday w (every instance of the weekday).
	covers [][7][][]int
	value  [][]int64 // [m][i]: price of a half-hour on shift, at the last dayCosts
	queue  [][]int   // [m][i]: the queue it goes to, -1 none
}

func newPricing(md *model, scale int64) *pricing {
	nm := len(md.p.Members)
	l := &pricing{md: md, scale: scale, covers: make([][7][][]int, nm), value: make([][]int64, nm), queue: make([][]int, nm)}
	for i := range md.n {
		for q := range md.p.Queues {
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

// dayCosts prices member m's half-hours on shift (the best queue's
// mu - (W_u + W_o) when negative, else 0: not allocated) and returns the
// cost of each choice per weekday (index 0 off, c+1 candidate c):
// overstaffing for every half-hour on shift plus its price, and the
// change.
func (l *pricing) dayCosts(m int, mu [][]int64) *[7][]int64 {
	md := l.md
	for i := range md.n {
		best, bq := int64(0), -1
		for _, q := range md.eligible[m] {
			if md.req[i][q] == 0 {
				continue
			}
			if v := mu[i][q] - l.scale*(WeightUnderstaffed+WeightOverstaffed); v < best {
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
			cost[w][0] = l.scale * WeightChanges
		}
		for _, c := range md.allowed[m][w] {
			var v int64
			if cur.Off() || !curOK || curIdx != c {
				v = l.scale * WeightChanges
			}
			for _, i := range l.covers[m][w][c] {
				v += l.scale*WeightOverstaffed + l.value[m][i]
			}
			cost[w][c+1] = v
		}
	}
	return &cost
}

// weekCost is what week (candidates per weekday, -1 off) costs member m
// under cost, hours over contract included.
func (l *pricing) weekCost(m int, cost *[7][]int64, week [7]int) int64 {
	var v int64
	half := 0
	for w, c := range week {
		v += cost[w][c+1]
		if c >= 0 {
			half += l.md.cands[c].Length / 30
		}
	}
	return v + l.scale*WeightOverContract*int64(max(0, half-l.md.contract[m]/30))
}

// constant is L(mu) without the members' terms: W_u*sum(req) -
// sum mu*req.
func (l *pricing) constant(mu [][]int64) int64 {
	val := l.scale * WeightUnderstaffed * l.req
	for i := range mu {
		for q, v := range mu[i] {
			val -= v * int64(l.md.req[i][q])
		}
	}
	return val
}

// lagrangian is the subgradient search's state: the prices (in units of
// the objective) and the member-week pricing at a scale (1 keeps the
// prices integers, as the benchmark's CBC programme needs them).
type lagrangian struct {
	*pricing
	s  *search
	mu [][]float64 // [i][q], >= 0
	// seen, when set, is told every member week evaluate prices best.
	seen   func(m int, week [7]int)
	ascent struct {
		theta  float64     // scale of the step
		stall  int         // steps since the best bound
		dir    [][]float64 // the last direction
		best   int64       // the best L met
		bestMu [][]float64 // and its prices
	}
}

func newLagrangian(s *search, scale int64) *lagrangian {
	l := &lagrangian{pricing: newPricing(s.md, scale), s: s, mu: make([][]float64, s.md.n)}
	l.ascent.theta, l.ascent.best = 1, math.MinInt64
	for i := range l.mu {
		l.mu[i] = make([]float64, len(s.md.p.Queues))
		for q := range l.mu[i] {
			l.mu[i][q] = WeightUnderstaffed / 2
		}
	}
	return l
}

// prices returns mu in the pricing's units, rounded to integers: the
// prices evaluate (and the benchmark's MILP) use.
func (l *lagrangian) prices() [][]int64 {
	out := make([][]int64, len(l.mu))
	for i := range l.mu {
		out[i] = make([]int64, len(l.mu[i]))
		for q, v := range l.mu[i] {
			out[i][q] = int64(math.Round(v * float64(l.scale)))
		}
	}
	return out
}

// bestWeekAt is member m's best week at prices mu and its priced cost,
// z_m(mu); ok is false if the week programme found none.
func (l *lagrangian) bestWeekAt(m int, mu [][]int64) (week [7]int, z int64, ok bool) {
	cost := l.dayCosts(m, mu)
	week, ok = l.s.bestWeek(m, cost, l.scale*WeightOverContract)
	if !ok {
		return week, 0, false
	}
	return week, l.weekCost(m, cost, week), true
}

// evaluate returns L(mu) (in the pricing's units) with each serving
// member's best week found by bestWeek, and the subgradient
// sum_m a_mqi - req_qi.
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
		week, z, ok := l.bestWeekAt(m, mu)
		if !ok {
			continue // no week keeps the rules: bestWeek found none (cannot happen with a day off allowed)
		}
		val += z
		if l.seen != nil {
			l.seen(m, week)
		}
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
// tiny, towards target (a roster's objective), leaves the best prices
// found in mu and returns their L (in the pricing's units); a later call
// goes on from there, with a new target if a better roster is known. Each step
// follows the subgradient deflected by the last direction (Camerini,
// Fratta and Maffioli: the plain subgradient zigzags between the
// half-hours a member's best week moves across), Polyak's step length,
// and halves its scale after ascentStall steps without a better bound.
// On the 5-person benchmark instances this reaches within 1-5 units of
// the optimum in about a second; the plain subgradient with a patience of
// 150 steps was still 1,000 units short after 5 s.
const (
	ascentStall      = 30
	ascentDeflection = 0.7
)

func (l *lagrangian) ascend(target int64, deadline time.Time) int64 {
	a := &l.ascent
	for l.s.now().Before(deadline) {
		val, g := l.evaluate()
		if val > a.best {
			a.best, a.stall = val, 0
			a.bestMu = make([][]float64, len(l.mu))
			for i := range l.mu {
				a.bestMu[i] = append([]float64(nil), l.mu[i]...)
			}
		} else if a.stall++; a.stall >= ascentStall {
			a.theta, a.stall = a.theta/2, 0
		}
		dir := a.dir
		if dir == nil {
			a.dir, dir = g, g
		} else {
			for i := range g {
				for q, v := range g[i] {
					dir[i][q] = v + ascentDeflection*dir[i][q]
				}
			}
		}
		norm := 0.0
		for i := range dir {
			for q, v := range dir[i] {
				if l.mu[i][q] <= 0 && v < 0 {
					dir[i][q] = 0 // projected: the price stays at 0
					continue
				}
				norm += v * v
			}
		}
		if norm == 0 || a.theta < 1e-3 {
			break
		}
		step := a.theta * max(float64(target)-float64(val)/float64(l.scale), 1) / norm
		for i := range dir {
			for q, v := range dir[i] {
				l.mu[i][q] = min(max(0, l.mu[i][q]+step*v), WeightUnderstaffed+WeightOverstaffed)
			}
		}
	}
	if a.bestMu != nil {
		l.mu = a.bestMu
	}
	return a.best
}
