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
	"slices"
	"time"
)

// replanMaxItems bounds the member-days replanDays re-plans at once.
const replanMaxItems = 16

// replanMaxCover bounds how many of the member-days may cover one
// half-hour: its table holds 2^n entries.
const replanMaxCover = 12

// replanItem is one member-day of a replan with its options.
type replanItem struct {
	m, w int
	opts []replanOption
	old  int // index of the shift it had
}

// replanOption is one choice of a member-day: candidate c (-1 off) and
// the local half-hours it covers with the item's bit in each.
type replanOption struct {
	c   int
	iv  []int // local half-hour
	bit []int // the item's bit in that half-hour's mask
}

// replanDays re-plans a set of member-days jointly and exactly, everyone and
// everything else as it stands, and reports whether the score improved.
// It gives up (keeping the best found, never worse than before) after
// maxNodes nodes or at the deadline.
//
// With the other member-days fixed, a member-day's shift is feasible
// (availability, rest with the days either side, consecutive days) by the
// member's own days alone, their hours over contract and changes are the
// member's own, and the half-hours' understaffing and overstaffing depend
// on which of the member-days covering each are on shift: a table per
// half-hour over those subsets, filled from coverage's exact allocation as
// needed. A depth-first branch and bound assigns the member-days in turn,
// checking the member's rules on the days assigned so far. Its bound uses
// that a half-hour's staff covered (the rank of a transversal matroid,
// the queues' requirements as copies) is submodular in the members on
// shift, that hours over contract are convex in a member's hours, and that
// changes are per member-day: a member-day's gain given more shifts
// assigned is at most its gain given fewer, so the cost of a node less
// every unassigned member-day's best gain at that node bounds every
// completion from below (fairness, at least zero, left out; leaves are
// scored with it).
func (s *search) replanDays(items [][2]int, maxNodes int, deadline time.Time) bool {
	if len(items) == 0 || len(items) > replanMaxItems {
		return false
	}
	before := s.total()
	r := newReplanner(s, items)
	if r == nil {
		return false
	}
	r.maxNodes, r.deadline = maxNodes, deadline
	r.bestV = r.oldCost()
	r.best = slices.Clone(r.oldChoice)
	r.dfs(0, 0)
	r.restore(r.best)
	return s.total() < before
}

// replanner is one replanDays's state.
type replanner struct {
	s   *search
	its []replanItem
	// pat, minutes and unsoc: the group's members' weeks, weekly minutes
	// and unsocial shifts as assigned so far.
	pat       map[int]*[7]int
	minutes   map[int]int
	unsoc     map[int]int
	oldChoice []int
	ivs       []int   // local half-hour -> half-hour of the horizon
	itemsAt   [][]int // per local half-hour: the items that may cover it
	table     [][]int64
	onShift   [][]int // per local half-hour: members on shift outside the group
	masks     []int
	on        []int
	oLo, oHi  int // unsocial shifts of the members outside the group
	choice    []int
	best      []int
	bestV     int64
	deltas    [][]int64
	order     [][]int
	nodes     int
	maxNodes  int
	deadline  time.Time
	stop      bool
}

// newReplanner clears the group's member-days and lists their options; it
// returns nil, with the group as it was, when it cannot run.
func newReplanner(s *search, items [][2]int) *replanner {
	e := s.e
	k := len(items)
	r := &replanner{s: s, its: make([]replanItem, k), pat: map[int]*[7]int{}, minutes: map[int]int{}, unsoc: map[int]int{}}
	for j, mw := range items {
		r.its[j] = replanItem{m: mw[0], w: mw[1]}
		if _, ok := r.pat[mw[0]]; !ok {
			p := e.pat[mw[0]]
			r.pat[mw[0]] = &p
		}
	}
	// Clear the group, then read each member's state without it.
	olds := make([]int, k)
	for j, it := range r.its {
		olds[j] = e.pat[it.m][it.w]
		e.set(it.m, it.w, -1)
		r.pat[it.m][it.w] = -1
	}
	for m := range r.pat {
		r.minutes[m] = e.minutes[m]
		r.unsoc[m] = e.unsocialN[m]
	}
	r.options(olds)
	r.oldChoice = make([]int, k)
	ok := true
	for j := range r.its {
		r.oldChoice[j] = r.its[j].old
		// Not expected (the search keeps every shift feasible).
		ok = ok && r.its[j].old >= 0
	}
	for _, at := range r.itemsAt {
		ok = ok && len(at) <= replanMaxCover
	}
	if !ok {
		for j, it := range r.its {
			e.set(it.m, it.w, olds[j])
		}
		return nil
	}
	r.tables()
	r.choice = make([]int, k)
	r.deltas = make([][]int64, k)
	r.order = make([][]int, k)
	for j := range r.its {
		r.deltas[j] = make([]int64, len(r.its[j].opts))
	}
	return r
}

// options lists each item's options: off, and every allowed shift that
// feasible accepts with the group's days off (feasible reads them as off,
// so a shift it rejects stays infeasible whatever the group gets) or that
// the item had (olds).
func (r *replanner) options(olds []int) {
	s, e, md := r.s, r.s.e, r.s.md
	local := map[int]int{}
	for j := range r.its {
		it := &r.its[j]
		it.old = -1
		for _, c := range append([]int{-1}, md.allowed[it.m][it.w]...) {
			if c >= 0 && !s.feasible(it.m, it.w, c) && c != olds[j] {
				continue
			}
			o := replanOption{c: c}
			if c == olds[j] {
				it.old = len(it.opts)
			}
			for _, d := range e.inst[it.m][it.w] {
				if c < 0 {
					break
				}
				e.covBuf = md.cover(d, c, e.covBuf[:0])
				for _, i := range e.covBuf {
					li, ok := local[i]
					if !ok {
						li = len(r.ivs)
						local[i] = li
						r.ivs = append(r.ivs, i)
						r.itemsAt = append(r.itemsAt, nil)
					}
					b := slices.Index(r.itemsAt[li], j)
					if b < 0 {
						b = len(r.itemsAt[li])
						r.itemsAt[li] = append(r.itemsAt[li], j)
					}
					o.iv = append(o.iv, li)
					o.bit = append(o.bit, b)
				}
			}
			it.opts = append(it.opts, o)
		}
	}
}

// tables sets up the per-half-hour tables, the members on shift outside
// the group and the unsocial range of the members outside it.
func (r *replanner) tables() {
	e := r.s.e
	nm := e.nm
	r.table = make([][]int64, len(r.ivs))
	r.onShift = make([][]int, len(r.ivs))
	for li, i := range r.ivs {
		r.table[li] = make([]int64, 1<<len(r.itemsAt[li]))
		for x := range r.table[li] {
			r.table[li][x] = -1
		}
		for m := range nm {
			if e.cnt[i*nm+m] > 0 {
				r.onShift[li] = append(r.onShift[li], m)
			}
		}
	}
	r.masks = make([]int, len(r.ivs))
	r.on = make([]int, 0, nm+len(r.its))
	r.oLo, r.oHi = -1, -1
	for _, m := range r.s.members {
		if _, ok := r.pat[m]; ok {
			continue
		}
		if r.oLo < 0 || e.unsocialN[m] < r.oLo {
			r.oLo = e.unsocialN[m]
		}
		r.oHi = max(r.oHi, e.unsocialN[m])
	}
}

func (r *replanner) restore(choice []int) {
	for j, it := range r.its {
		r.s.e.set(it.m, it.w, it.opts[choice[j]].c)
	}
}

// cost is local half-hour li's weighted understaffing and overstaffing
// with the items of mask (bits of itemsAt[li]) on shift.
func (r *replanner) cost(li, mask int) int64 {
	if v := r.table[li][mask]; v >= 0 {
		return v
	}
	e, md := r.s.e, r.s.md
	i := r.ivs[li]
	r.on = append(r.on[:0], r.onShift[li]...)
	for b, j := range r.itemsAt[li] {
		if m := r.its[j].m; mask&(1<<b) != 0 && !slices.Contains(r.on, m) {
			r.on = append(r.on, m)
		}
	}
	short := e.alloc.Allocate(r.on, md.req[i], e.sched)
	idle := len(r.on) - (sum(md.req[i]) - short)
	v := WeightUnderstaffed*int64(short) + WeightOverstaffed*int64(idle)
	r.table[li][mask] = v
	return v
}

// fairness is the weighted unfairness of the assignment so far.
func (r *replanner) fairness() int64 {
	lo, hi := r.oLo, r.oHi
	for m := range r.pat {
		n := r.unsoc[m]
		if lo < 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	return WeightUnfairness * int64(hi-lo)
}

// delta is the cost of giving item j option o in the current state.
func (r *replanner) delta(j int, o *replanOption) int64 {
	e, md := r.s.e, r.s.md
	it := &r.its[j]
	if o.c < 0 {
		return WeightChanges * int64(b2i(e.cur[it.m][it.w] != -1))
	}
	m := it.m
	l := md.cands[o.c].Length
	d := WeightOverContract*int64(max(0, r.minutes[m]+l-md.contract[m])/30-max(0, r.minutes[m]-md.contract[m])/30) +
		WeightChanges*int64(b2i(o.c != e.cur[m][it.w]))
	for x, li := range o.iv {
		d += r.cost(li, r.masks[li]|1<<o.bit[x]) - r.cost(li, r.masks[li])
	}
	return d
}

func (r *replanner) apply(j int, o *replanOption) {
	it := &r.its[j]
	r.pat[it.m][it.w] = o.c
	if o.c >= 0 {
		r.minutes[it.m] += r.s.md.cands[o.c].Length
		r.unsoc[it.m] += b2i(r.s.md.unsocial[it.w][o.c])
		for x, li := range o.iv {
			r.masks[li] |= 1 << o.bit[x]
		}
	}
}

func (r *replanner) unapply(j int, o *replanOption) {
	it := &r.its[j]
	r.pat[it.m][it.w] = -1
	if o.c >= 0 {
		r.minutes[it.m] -= r.s.md.cands[o.c].Length
		r.unsoc[it.m] -= b2i(r.s.md.unsocial[it.w][o.c])
		for x, li := range o.iv {
			r.masks[li] &^= 1 << o.bit[x]
		}
	}
}

// oldCost is the cost of the group's old shifts, the first incumbent: only
// a better assignment replaces it.
func (r *replanner) oldCost() int64 {
	var v int64
	for j := range r.its {
		o := &r.its[j].opts[r.its[j].old]
		v += r.delta(j, o)
		r.apply(j, o)
	}
	v += r.fairness()
	for j := range r.its {
		r.unapply(j, &r.its[j].opts[r.its[j].old])
	}
	return v
}

// bound returns the node's lower bound, v less every unassigned item's
// best gain, and fills deltas[j] for item j.
func (r *replanner) bound(j int, v int64) int64 {
	lb := v
	for jj := j; jj < len(r.its); jj++ {
		g := int64(0)
		for x := range r.its[jj].opts {
			d := r.delta(jj, &r.its[jj].opts[x])
			if jj == j {
				r.deltas[j][x] = d
			}
			g = min(g, d)
		}
		lb += g
	}
	return lb
}

// dfs assigns item j and the ones after it, v the cost so far.
func (r *replanner) dfs(j int, v int64) {
	r.nodes++
	if j == len(r.its) {
		if t := v + r.fairness(); t < r.bestV {
			r.bestV = t
			copy(r.best, r.choice)
		}
		return
	}
	if r.nodes > r.maxNodes || r.stop {
		return
	}
	if r.nodes%256 == 0 && r.s.now().After(r.deadline) {
		r.stop = true
		return
	}
	lb := r.bound(j, v)
	if lb >= r.bestV {
		return
	}
	dj := r.deltas[j]
	own := int64(0)
	for _, d := range dj {
		own = min(own, d)
	}
	r.order[j] = r.order[j][:0]
	for x := range dj {
		r.order[j] = append(r.order[j], x)
	}
	slices.SortStableFunc(r.order[j], func(a, b int) int { return cmp64(dj[a], dj[b]) })
	it := &r.its[j]
	p := r.pat[it.m]
	for _, x := range r.order[j] {
		// The other items' best gains hold whatever this one gets.
		if lb-own+dj[x] >= r.bestV {
			break
		}
		o := &it.opts[x]
		if o.c >= 0 && !r.s.feasibleIn(p, it.m, it.w, o.c) {
			continue
		}
		r.choice[j] = x
		r.apply(j, o)
		r.dfs(j+1, v+dj[x])
		r.unapply(j, o)
	}
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// feasibleIn is feasible on a given week of member m rather than theirs.
func (s *search) feasibleIn(pat *[7]int, m, w, c int) bool {
	if c < 0 {
		return true
	}
	if !s.allowed[m][w][c] {
		return false
	}
	prev, next := (w+6)%7, (w+1)%7
	if !s.md.restOK(time.Weekday(prev), pat[prev], c) || !s.md.restOK(time.Weekday(w), c, pat[next]) {
		return false
	}
	run := 1
	for d := 1; d < 7 && pat[(w+d)%7] >= 0; d++ {
		run++
	}
	for d := 1; d < 7 && pat[(w+7-d)%7] >= 0; d++ {
		run++
	}
	return min(run, 7) <= s.md.rules.MaxConsecutiveDays
}
