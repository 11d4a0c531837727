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

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// allocCase is one interval: who serves what, who is on shift, what is required.
type allocCase struct {
	eligible [][]int
	onShift  []int
	required []int
}

// randomCase draws a small team: 2-5 queues, 3-10 members (some off
// shift), each member serving 0-3 queues (so skills overlap), required 0-4.
func randomCase(r *rand.Rand) allocCase {
	nq, nm := 2+r.IntN(4), 3+r.IntN(8)
	c := allocCase{eligible: make([][]int, nm), required: make([]int, nq)}
	for q := range c.required {
		c.required[q] = r.IntN(5)
	}
	for m := range c.eligible {
		for q := 0; q < nq; q++ {
			if r.IntN(3) == 0 {
				c.eligible[m] = append(c.eligible[m], q)
			}
		}
		if r.IntN(6) != 0 {
			c.onShift = append(c.onShift, m)
		}
	}
	r.Shuffle(len(c.onShift), func(i, j int) { c.onShift[i], c.onShift[j] = c.onShift[j], c.onShift[i] })
	return c
}

// oracle enumerates every assignment of the members on shift (each to one
// queue they serve, or to none) and returns the least total shortfall and
// the lexicographically largest vector of filled places, min(required,
// scheduled) per queue, among the assignments reaching it. It shares no
// code with Allocator.
func oracle(c allocCase) (int, []int) {
	best, bestFilled := -1, []int(nil)
	counts := make([]int, len(c.required))
	var walk func(i int)
	walk = func(i int) {
		if i == len(c.onShift) {
			short := 0
			filled := make([]int, len(counts))
			for q := range counts {
				short += max(0, c.required[q]-counts[q])
				filled[q] = min(c.required[q], counts[q])
			}
			if best < 0 || short < best || (short == best && slices.Compare(filled, bestFilled) > 0) {
				best, bestFilled = short, filled
			}
			return
		}
		walk(i + 1) // counted for no queue
		for _, q := range c.eligible[c.onShift[i]] {
			counts[q]++
			walk(i + 1)
			counts[q]--
		}
	}
	walk(0)
	return best, bestFilled
}

func TestAllocateMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 1))
	for n := 0; n < 5000; n++ {
		c := randomCase(r)
		a := NewAllocator(c.eligible, len(c.required))
		scheduled := make([]int, len(c.required))
		short := a.Allocate(c.onShift, c.required, scheduled)
		want, wantFilled := oracle(c)
		if short != want {
			t.Fatalf("case %d %+v: shortfall %d, brute force finds %d", n, c, short, want)
		}
		filled := make([]int, len(scheduled))
		got := 0
		for q := range scheduled {
			filled[q] = min(c.required[q], scheduled[q])
			got += max(0, c.required[q]-scheduled[q])
		}
		if got != short {
			t.Fatalf("case %d: returned shortfall %d, scheduled %v says %d", n, short, scheduled, got)
		}
		if !slices.Equal(filled, wantFilled) {
			t.Fatalf("case %d %+v: filled %v, want the queue-order largest %v", n, c, filled, wantFilled)
		}
		checkCounted(t, c, a, scheduled)

		// Same input again, on the same Allocator: the same answer.
		again := make([]int, len(scheduled))
		a.Allocate(c.onShift, c.required, again)
		if !slices.Equal(again, scheduled) {
			t.Fatalf("case %d: second run %v, first %v", n, again, scheduled)
		}
		// The order of a member's queues in eligible does not matter.
		shuffled := make([][]int, len(c.eligible))
		for m, qs := range c.eligible {
			shuffled[m] = slices.Clone(qs)
			r.Shuffle(len(qs), func(i, j int) { shuffled[m][i], shuffled[m][j] = shuffled[m][j], shuffled[m][i] })
		}
		Allocate(shuffled, c.onShift, c.required, again)
		if !slices.Equal(again, scheduled) {
			t.Fatalf("case %d: with each member's queues shuffled %v, before %v", n, again, scheduled)
		}
		// Member indices do not matter, only the order onShift gives.
		perm := r.Perm(len(c.eligible))
		relabelled := make([][]int, len(c.eligible))
		for m := range c.eligible {
			relabelled[perm[m]] = c.eligible[m]
		}
		onShift := make([]int, len(c.onShift))
		for i, m := range c.onShift {
			onShift[i] = perm[m]
		}
		Allocate(relabelled, onShift, c.required, again)
		if !slices.Equal(again, scheduled) {
			t.Fatalf("case %d: members renumbered %v, before %v", n, again, scheduled)
		}
	}
}

// checkCounted asserts each member on shift who serves a queue is counted
// once, for a queue they serve, and nobody else is counted.
func checkCounted(t *testing.T, c allocCase, a *Allocator, scheduled []int) {
	t.Helper()
	counts := make([]int, len(scheduled))
	on := map[int]bool{}
	for _, m := range c.onShift {
		on[m] = true
	}
	for m := range c.eligible {
		q := a.Assigned(m)
		switch {
		case !on[m] || len(c.eligible[m]) == 0:
			if q != -1 {
				t.Fatalf("member %d (on shift %v, serves %v) counted for queue %d", m, on[m], c.eligible[m], q)
			}
		case !slices.Contains(c.eligible[m], q):
			t.Fatalf("member %d serves %v, counted for %d", m, c.eligible[m], q)
		default:
			counts[q]++
		}
	}
	if !slices.Equal(counts, scheduled) {
		t.Fatalf("members counted %v, scheduled says %v", counts, scheduled)
	}
}

func TestAllocateRules(t *testing.T) {
	for _, c := range []struct {
		name     string
		eligible [][]int
		onShift  []int
		required []int
		want     []int
		short    int
	}{
		{
			// Queue 0 could take member 0 or 1; it takes the first listed
			// who is free, and queue 1 is left to member 1.
			name: "first member listed", eligible: [][]int{{0}, {0, 1}}, onShift: []int{0, 1},
			required: []int{1, 1}, want: []int{1, 1},
		},
		{
			// Member 1 took queue 0 first; queue 1 only has member 1, so
			// the augmenting path moves 1 to queue 1 and 0 into queue 0.
			name: "augmenting path moves a member", eligible: [][]int{{0}, {0, 1}}, onShift: []int{1, 0},
			required: []int{1, 1}, want: []int{1, 1},
		},
		{
			// One member for two queues: the earlier queue in the spec wins.
			name: "ties by queue order", eligible: [][]int{{0, 1}}, onShift: []int{0},
			required: []int{1, 1}, want: []int{1, 0}, short: 1,
		},
		{
			// Both queues are full with members 0 and 1; member 2 serves
			// both and goes where required - scheduled is largest: queue 1
			// needs 2 and has 2, queue 0 needs 1 and has 1: equal, so queue 0.
			name: "leftover ties by queue order", eligible: [][]int{{0}, {1}, {0, 1}, {1}}, onShift: []int{0, 1, 3, 2},
			required: []int{1, 2}, want: []int{2, 2},
		},
		{
			// Queue 1 requires nothing; queue 0 is already over by nothing
			// after member 0, so the spare member 1 goes to queue 0
			// (required - scheduled 0 vs 0 - 0 = 0: tie, queue order)
			// and the next spare, member 2, to queue 1 (-1 vs 0).
			name: "spares spread", eligible: [][]int{{0}, {0, 1}, {0, 1}}, onShift: []int{0, 1, 2},
			required: []int{1, 0}, want: []int{2, 1},
		},
		{
			name: "member with no queue is not counted", eligible: [][]int{nil, {0}}, onShift: []int{0, 1},
			required: []int{2}, want: []int{1}, short: 1,
		},
		{
			name: "queue nobody serves", eligible: [][]int{{0}, {0}}, onShift: []int{0, 1},
			required: []int{1, 3}, want: []int{2, 0}, short: 3,
		},
		{
			name: "off shift is not counted", eligible: [][]int{{0}, {0}}, onShift: []int{1},
			required: []int{2}, want: []int{1}, short: 1,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := make([]int, len(c.required))
			short := Allocate(c.eligible, c.onShift, c.required, got)
			if !slices.Equal(got, c.want) || short != c.short {
				t.Errorf("scheduled %v short %d, want %v short %d", got, short, c.want, c.short)
			}
		})
	}
}

// TestOverlappingSkillsNoFalseShortfall is issue #18's report: four people
// whose skills overlap can cover every queue, yet the greedy rule used
// before (fewest-available queue first: mobile and linux, 2 each, before
// windows, 3) gave cat to mobile and ben to linux, so windows, left with
// ann alone and dan unable to take it, showed short by one.
func TestOverlappingSkillsNoFalseShortfall(t *testing.T) {
	team := teamFrom(t, `
timeZone: UTC
shrinkage: 0
shifts: [{name: day, days: [Mon], start: "09:00", end: "10:00"}]
members:
- {name: ann, skills: [windows], shifts: [day]}
- {name: ben, skills: [windows, linux], shifts: [day]}
- {name: cat, skills: [windows, mobile], shifts: [day]}
- {name: dan, skills: [mobile, linux], shifts: [day]}
queues:
- name: windows
  channel: Email
  skills: [windows]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "10:00", contactsPerHour: 2}]}
  responseTargets: {firstResponse: 4h}
- name: mobile
  channel: Email
  skills: [mobile]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "10:00", contactsPerHour: 1}]}
  responseTargets: {firstResponse: 4h}
- name: linux
  channel: Email
  skills: [linux]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "10:00", contactsPerHour: 1}]}
  responseTargets: {firstResponse: 4h}
`)
	r, err := Compute(team, at(t, team.Location, "2026-11-23 09:00"))
	if err != nil {
		t.Fatal(err)
	}
	for _, iv := range r.Intervals[:2] {
		if !slices.Equal(iv.RequiredStaff, []int{2, 1, 1}) || !slices.Equal(iv.Scheduled, []int{2, 1, 1}) {
			t.Errorf("%s: required %v scheduled %v, want [2 1 1] both (ann and cat on windows, dan on mobile, ben on linux)",
				iv.Start.Format("15:04"), iv.RequiredStaff, iv.Scheduled)
		}
	}
	if n := r.Understaffed(); n != 0 {
		t.Errorf("%d understaffed queue-intervals, want 0", n)
	}
}

// TestComputeMemberOrderDoesNotMatter: members are tried by name, so the
// order the spec lists them in changes no figure.
func TestComputeMemberOrderDoesNotMatter(t *testing.T) {
	team := bigTeam()
	now := at(t, team.Location, "2026-11-23 08:10")
	want, err := Compute(team, now)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(18, 2))
	r.Shuffle(len(team.Members), func(i, j int) { team.Members[i], team.Members[j] = team.Members[j], team.Members[i] })
	got, err := Compute(team, now)
	if err != nil {
		t.Fatal(err)
	}
	names := func(team Team, members []int) []string {
		out := make([]string, 0, len(members))
		for _, m := range members {
			out = append(out, team.Members[m].Name)
		}
		return out
	}
	sorted := bigTeam()
	for i := range want.Intervals {
		if !slices.Equal(got.Intervals[i].Scheduled, want.Intervals[i].Scheduled) {
			t.Fatalf("%v: scheduled %v with the members shuffled, %v before", want.Intervals[i].Start, got.Intervals[i].Scheduled, want.Intervals[i].Scheduled)
		}
		// Members lists the same people, by name, whatever the spec's order.
		before, after := names(sorted, want.Intervals[i].Members), names(team, got.Intervals[i].Members)
		if !slices.Equal(before, after) || !slices.IsSorted(after) || len(after) != got.Intervals[i].OnShift {
			t.Fatalf("%v: members on shift %v shuffled, %v before (%d on shift)", want.Intervals[i].Start, after, before, got.Intervals[i].OnShift)
		}
	}
}

// An Allocator reused for another interval forgets who was counted in the
// last one: a member who left the shift is counted for nothing.
func TestAllocatorReuse(t *testing.T) {
	a := NewAllocator([][]int{{0}, {0, 1}, {1}}, 2)
	scheduled := make([]int, 2)
	a.Allocate([]int{0, 1, 2}, []int{1, 1}, scheduled)
	if a.Assigned(0) != 0 || a.Assigned(1) != 1 || a.Assigned(2) != 1 {
		t.Fatalf("first interval: members counted for %d %d %d, want 0 1 1", a.Assigned(0), a.Assigned(1), a.Assigned(2))
	}
	short := a.Allocate([]int{1}, []int{1, 1}, scheduled)
	if a.Assigned(0) != -1 || a.Assigned(1) != 0 || a.Assigned(2) != -1 || !slices.Equal(scheduled, []int{1, 0}) || short != 1 {
		t.Errorf("second interval (only member 1): counted for %d %d %d, scheduled %v short %d; want -1 0 -1, [1 0], 1",
			a.Assigned(0), a.Assigned(1), a.Assigned(2), scheduled, short)
	}
}
