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
	"time"

	"github.com/supportstack/operator/internal/coverage"
)

// Evaluate scores a roster from scratch: every half-hour's members on
// shift allocated with coverage.Allocate. It does not check the hard rules
// (Check does) and is the reference the solver's incremental score is
// tested against.
func Evaluate(p Problem, r Roster) (Score, error) {
	md, err := compile(p)
	if err != nil {
		return Score{}, err
	}
	if len(r) != len(p.Members) {
		return Score{}, fmt.Errorf("roster has %d patterns for %d members", len(r), len(p.Members))
	}
	return md.evaluate(r), nil
}

func (md *model) evaluate(r Roster) Score {
	p := md.p
	on := make([][]int, md.n)
	for m, pat := range r {
		if !md.serving[m] {
			continue
		}
		for d := -1; d < md.days; d++ {
			s := pat[md.dayWeekday[d+1]]
			if s.Off() || md.removed[m][d+1] {
				continue
			}
			for _, i := range md.coverShift(d, s, nil) {
				if !slices.Contains(on[i], m) {
					on[i] = append(on[i], m)
				}
			}
		}
	}
	var sc Score
	alloc := coverage.NewAllocator(md.eligible, len(p.Queues))
	sched := make([]int, len(p.Queues))
	for i := range on {
		short := alloc.Allocate(on[i], md.req[i], sched)
		sc.Understaffed += short
		sc.Overstaffed += len(on[i]) - (sum(md.req[i]) - short)
	}
	unsocial := []int{}
	for m, pat := range r {
		if !md.serving[m] {
			continue
		}
		sc.OverContract += max(0, pat.Minutes()-md.contract[m]) / 30
		n := 0
		for w, s := range pat {
			if s != p.Members[m].Current[w] && (!s.Off() || !p.Members[m].Current[w].Off()) {
				sc.Changes++
			}
			if Unsocial(time.Weekday(w), s) {
				n++
			}
		}
		unsocial = append(unsocial, n)
	}
	if len(unsocial) > 0 {
		sc.Unfairness = slices.Max(unsocial) - slices.Min(unsocial)
	}
	return sc
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// evaluator keeps a roster's score up to date as single member-days change:
// only the half-hours a change touches are allocated again, and the
// allocation of a half-hour is cached by its requirement and by how many
// members of each kind (members serving the same queues are
// interchangeable) are on shift. The cache key is a 64-bit Zobrist hash of
// both, kept up to date as counts change: a random word per requirement
// row and per kind, added once per member of that kind on shift. Two
// different states share a key with probability about 2^-64 per pair.
type evaluator struct {
	md  *model
	pat [][7]int // candidate per member and weekday, -1 off
	cur [][7]int // the current pattern in candidates: -1 off, -2 not a candidate
	// inst[m][w]: the days (from -1) a shift on weekday w is worked.
	inst         [][7][]int
	nm           int
	cnt          []uint8 // [i*nm+m]: instances of member m covering half-hour i
	kind         []int   // per member, members with the same eligible queues share one
	reps         [][]int // members of each kind
	nk           int
	kcnt         []uint16 // [i*nk+k]: members of kind k on shift in half-hour i
	short, idle  []int
	understaffed int
	overstaffed  int
	changes      int
	minutes      []int
	unsocialN    []int
	alloc        *coverage.Allocator
	cache        map[uint64][2]int
	hash         []uint64 // per half-hour: its key
	kindWord     []uint64
	onBuf        []int
	sched        []int
	stamp        []uint32
	gen          uint32
	touched      []int
	covBuf       []int
}

func newEvaluator(md *model) *evaluator {
	nm := len(md.p.Members)
	e := &evaluator{
		md: md, nm: nm,
		pat: make([][7]int, nm), cur: make([][7]int, nm), inst: make([][7][]int, nm),
		cnt: make([]uint8, md.n*nm), kind: make([]int, nm),
		short: make([]int, md.n), idle: make([]int, md.n),
		minutes: make([]int, nm), unsocialN: make([]int, nm),
		alloc: coverage.NewAllocator(md.eligible, len(md.p.Queues)),
		cache: map[uint64][2]int{}, sched: make([]int, len(md.p.Queues)),
		stamp: make([]uint32, md.n),
	}
	kinds := map[string]int{}
	for m := range nm {
		for w := range 7 {
			e.pat[m][w] = -1
			e.cur[m][w] = -1
			if s := md.p.Members[m].Current[w]; !s.Off() {
				e.cur[m][w] = -2
				if c, ok := md.candIdx[s]; ok {
					e.cur[m][w] = c
				}
			}
			e.inst[m][w] = md.instances(m, time.Weekday(w))
		}
		k := fmt.Sprint(md.eligible[m])
		if _, ok := kinds[k]; !ok {
			kinds[k] = len(e.reps)
			e.reps = append(e.reps, nil)
		}
		e.kind[m] = kinds[k]
		e.reps[e.kind[m]] = append(e.reps[e.kind[m]], m)
		if md.serving[m] {
			e.changes += changed(e.cur[m], e.pat[m])
		}
	}
	e.nk = len(e.reps)
	e.kcnt = make([]uint16, md.n*e.nk)
	// The words are fixed (not seeded by the solver) so the cache works
	// the same for every seed.
	words := rand.New(rand.NewPCG(1, 2))
	for range e.nk {
		e.kindWord = append(e.kindWord, words.Uint64())
	}
	rows := map[string]uint64{}
	e.hash = make([]uint64, md.n)
	for i := range md.n {
		k := fmt.Sprint(md.req[i])
		if _, ok := rows[k]; !ok {
			rows[k] = words.Uint64()
		}
		e.hash[i] = rows[k]
		e.short[i] = sum(md.req[i])
		e.understaffed += e.short[i]
	}
	return e
}

func changed(cur, pat [7]int) int {
	n := 0
	for w := range 7 {
		if cur[w] != pat[w] {
			n++
		}
	}
	return n
}

// score returns the current score.
func (e *evaluator) score() Score {
	sc, _, _ := e.tally()
	return sc
}

// tally returns the current score and the fewest and most unsocial
// shifts of a member who serves a queue.
func (e *evaluator) tally() (sc Score, lo, hi int) {
	sc = Score{Understaffed: e.understaffed, Overstaffed: e.overstaffed, Changes: e.changes}
	lo, hi = -1, -1
	for m := range e.nm {
		if !e.md.serving[m] {
			continue
		}
		sc.OverContract += max(0, e.minutes[m]-e.md.contract[m]) / 30
		if lo < 0 || e.unsocialN[m] < lo {
			lo = e.unsocialN[m]
		}
		hi = max(hi, e.unsocialN[m])
	}
	sc.Unfairness = hi - lo
	return sc, lo, hi
}

// rank orders rosters by the objective and, at equal objective, by how
// many members who serve a queue work the most or the fewest unsocial
// shifts (none when all work as many): the objective times more than
// twice the team's size, plus that count. A rank below another's is an
// objective no higher; within an int64 for any objective below 2^62
// divided by that factor.
func (e *evaluator) rank() int64 {
	sc, lo, hi := e.tally()
	extremes := 0
	if hi > lo {
		for m := range e.nm {
			if e.md.serving[m] && (e.unsocialN[m] == lo || e.unsocialN[m] == hi) {
				extremes++
			}
		}
	}
	return sc.Total()*int64(2*e.nm+1) + int64(extremes)
}

// set gives member m candidate c (-1 off) on weekday w and re-scores the
// half-hours it touches. It does not check the hard rules.
func (e *evaluator) set(m, w, c int) {
	old := e.pat[m][w]
	if old == c {
		return
	}
	md := e.md
	e.changes -= b2i(old != e.cur[m][w])
	e.changes += b2i(c != e.cur[m][w])
	if old >= 0 {
		e.minutes[m] -= md.cands[old].Length
		e.unsocialN[m] -= b2i(md.unsocial[w][old])
	}
	if c >= 0 {
		e.minutes[m] += md.cands[c].Length
		e.unsocialN[m] += b2i(md.unsocial[w][c])
	}
	e.pat[m][w] = c
	e.gen++
	e.touched = e.touched[:0]
	for _, d := range e.inst[m][w] {
		if old >= 0 {
			e.covBuf = md.cover(d, old, e.covBuf[:0])
			for _, i := range e.covBuf {
				e.cnt[i*e.nm+m]--
				if e.cnt[i*e.nm+m] == 0 {
					e.kcnt[i*e.nk+e.kind[m]]--
					e.hash[i] -= e.kindWord[e.kind[m]]
				}
				e.touch(i)
			}
		}
		if c >= 0 {
			e.covBuf = md.cover(d, c, e.covBuf[:0])
			for _, i := range e.covBuf {
				if e.cnt[i*e.nm+m] == 0 {
					e.kcnt[i*e.nk+e.kind[m]]++
					e.hash[i] += e.kindWord[e.kind[m]]
				}
				e.cnt[i*e.nm+m]++
				e.touch(i)
			}
		}
	}
	for _, i := range e.touched {
		s, idle := e.allocate(i)
		e.understaffed += s - e.short[i]
		e.overstaffed += idle - e.idle[i]
		e.short[i], e.idle[i] = s, idle
	}
}

func (e *evaluator) touch(i int) {
	if e.stamp[i] != e.gen {
		e.stamp[i] = e.gen
		e.touched = append(e.touched, i)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// allocate returns half-hour i's shortfall and idle staff, from the cache
// or from coverage's exact allocation of representatives of each kind.
func (e *evaluator) allocate(i int) (int, int) {
	if v, ok := e.cache[e.hash[i]]; ok {
		return v[0], v[1]
	}
	e.onBuf = e.onBuf[:0]
	for k, members := range e.reps {
		if !e.md.serving[members[0]] {
			continue
		}
		e.onBuf = append(e.onBuf, members[:e.kcnt[i*e.nk+k]]...)
	}
	short := e.alloc.Allocate(e.onBuf, e.md.req[i], e.sched)
	idle := len(e.onBuf) - (sum(e.md.req[i]) - short)
	e.cache[e.hash[i]] = [2]int{short, idle}
	return short, idle
}

// roster returns the patterns as shifts.
func (e *evaluator) roster() Roster {
	r := make(Roster, e.nm)
	for m := range e.nm {
		for w := range 7 {
			if c := e.pat[m][w]; c >= 0 {
				r[m][w] = e.md.cands[c]
			}
		}
	}
	return r
}
