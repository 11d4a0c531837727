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

package coverage

// Allocator assigns the members on shift in one interval to the queues
// they serve so that the total shortfall, the sum over queues of
// max(0, required - scheduled), is as small as it can be (a maximum
// bipartite b-matching, found with augmenting paths). The rule, which the
// package doc states for users:
//
//  1. Queues are filled in their order: queue 0 as far as any assignment
//     can fill it, then queue 1 as far as it can without taking a filled
//     place from queue 0, and so on. Each place is won with an augmenting
//     path: the queue takes a member serving it; if that member was
//     counted for another queue, that queue takes a replacement, and so on
//     until a member who was not yet counted joins. Along the path every
//     queue but the first keeps its count and the first gains one, so a
//     place once filled is never lost. Trying every queue's places this
//     way, once each in order, is Kuhn's algorithm with the places of a
//     queue as copies of one vertex; it ends with a maximum matching,
//     because a place that finds no augmenting path now finds none after
//     later augmentations either (the places that can be filled together
//     form a matroid, and this is its greedy algorithm). The greedy
//     algorithm also makes the result the lexicographically largest
//     vector of filled places in queue order among all maximum matchings.
//  2. Members are tried in the order onShift lists them (Compute lists
//     them by name): a member not yet counted before one who would have
//     to be moved.
//  3. Members left over (every queue they serve is full) are counted for
//     the queue they serve that is least over its requirement, the
//     largest required - scheduled, ties by queue order; so each member on
//     shift who serves any queue is counted exactly once.
//
// An Allocator keeps its buffers between calls, so allocating every
// interval of a horizon allocates nothing per interval. It is not safe for
// concurrent use.
type Allocator struct {
	eligible [][]int
	adj      [][]int  // per queue: the members on shift who serve it, in onShift order
	assign   []int    // per member: the queue they are counted for, or -1
	last     []int    // the members on shift in the last call
	counts   []int    // the scheduled slice of the current call
	seenM    []uint32 // per member: the search that last visited them
	seenQ    []uint32 // per queue: the search that last visited it
	search   uint32
}

// NewAllocator returns an Allocator for members whose served queues are
// eligible[member] (queue indices below queues).
func NewAllocator(eligible [][]int, queues int) *Allocator {
	a := &Allocator{
		eligible: eligible,
		adj:      make([][]int, queues),
		assign:   make([]int, len(eligible)),
		seenM:    make([]uint32, len(eligible)),
		seenQ:    make([]uint32, queues),
	}
	for m := range a.assign {
		a.assign[m] = -1
	}
	return a
}

// Allocate counts each member of onShift (indices into eligible, no
// repeats) for at most one queue they serve, by the rule of Allocator,
// writes the staff counted per queue into scheduled (overwriting it) and
// returns the total shortfall against required. required and scheduled
// have one entry per queue.
func (a *Allocator) Allocate(onShift, required, scheduled []int) int {
	for _, m := range a.last {
		a.assign[m] = -1
	}
	a.last = append(a.last[:0], onShift...)
	for _, m := range onShift {
		a.assign[m] = -1
	}
	for q := range a.adj {
		a.adj[q] = a.adj[q][:0]
		scheduled[q] = 0
	}
	for _, m := range onShift {
		for _, q := range a.eligible[m] {
			a.adj[q] = append(a.adj[q], m)
		}
	}
	a.counts = scheduled
	short := 0
	for q := range a.adj {
		for scheduled[q] < required[q] {
			a.nextSearch()
			if !a.augment(q) {
				// No augmenting path from q now; filling later queues
				// only adds members to the matching, so none appears.
				break
			}
		}
		short += max(0, required[q]-scheduled[q])
	}
	for _, m := range onShift {
		if a.assign[m] >= 0 || len(a.eligible[m]) == 0 {
			continue
		}
		best := -1
		for _, q := range a.eligible[m] {
			if best < 0 || required[q]-scheduled[q] > required[best]-scheduled[best] ||
				(required[q]-scheduled[q] == required[best]-scheduled[best] && q < best) {
				best = q
			}
		}
		a.assign[m] = best
		scheduled[best]++
	}
	return short
}

// Assigned returns the queue member was counted for by the last Allocate,
// or -1 (not on shift then, or serving no queue).
func (a *Allocator) Assigned(member int) int { return a.assign[member] }

func (a *Allocator) nextSearch() {
	a.search++
	if a.search == 0 { // wrapped: forget every mark
		clear(a.seenM)
		clear(a.seenQ)
		a.search = 1
	}
}

// augment finds queue q one more member: one not yet counted, or one
// counted elsewhere whose queue finds a replacement in turn.
func (a *Allocator) augment(q int) bool {
	a.seenQ[q] = a.search
	for _, m := range a.adj[q] {
		if a.assign[m] < 0 {
			a.take(m, q)
			return true
		}
	}
	for _, m := range a.adj[q] {
		if a.seenM[m] == a.search {
			continue
		}
		a.seenM[m] = a.search
		from := a.assign[m]
		if a.seenQ[from] == a.search {
			continue // explored in this search already, and it found nobody
		}
		if a.augment(from) {
			// from has its replacement; m moves to q.
			a.counts[from]--
			a.take(m, q)
			return true
		}
	}
	return false
}

func (a *Allocator) take(m, q int) {
	a.assign[m] = q
	a.counts[q]++
}

// Allocate is a one-off Allocator.Allocate: it counts the members of
// onShift for the queues in eligible[member] with the least total
// shortfall, writes scheduled and returns that shortfall.
func Allocate(eligible [][]int, onShift, required, scheduled []int) int {
	return NewAllocator(eligible, len(required)).Allocate(onShift, required, scheduled)
}

// ServedQueues returns the indices of the queues whose skills are all
// among skills, in queue order.
func ServedQueues(skills []string, queues []Queue) []int {
	var served []int
	for qi, q := range queues {
		if hasAll(skills, q.Skills) {
			served = append(served, qi)
		}
	}
	return served
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
