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

package actuals

import (
	"reflect"
	"testing"
	"time"
)

func reply(at time.Time, user string) []Event { return []Event{{At: at.UTC(), User: user}} }

func resolved(at time.Time, user string) *Event { return &Event{At: at.UTC(), User: user} }

func ratio(f float64) *float64 { return &f }

// seededWeek is the week of TestCompute; each ticket's comment gives its
// business-time first response under weekdays() and its outcome at
// Friday 2026-03-13 12:00 EDT. Targets: Support 1h, Billing 4h.
func seededWeek(t *testing.T) []Ticket {
	return []Ticket{
		// Fri 16:30 EST, answered Mon 09:20 EDT: 30m+20m = 50m, Met (wall
		// clock 63h50m would be Missed).
		{ID: 1, Queue: "Support", Created: ny(t, 3, 6, 16, 30), Replies: reply(ny(t, 3, 9, 9, 20), "alice"), Resolved: resolved(ny(t, 3, 9, 10, 0), "alice")},
		// Sat 23:45 EST (interval 23:30 of Saturday), answered Mon 09:30: 30m, Met.
		{ID: 2, Queue: "Support", Created: ny(t, 3, 7, 23, 45), Replies: reply(ny(t, 3, 9, 9, 30), "alice")},
		// Sun 00:10 EST (interval 00:00 of Sunday), answered Mon 10:30: 1h30m, Missed.
		{ID: 3, Queue: "Support", Created: ny(t, 3, 8, 0, 10), Replies: reply(ny(t, 3, 9, 10, 30), "bob")},
		// Thu 09:00, unanswered: 8h+3h past a 1h target, Missed.
		{ID: 4, Queue: "Support", Created: ny(t, 3, 12, 9, 0)},
		// Fri 11:30, unanswered for 30m: Pending, left out of the service level.
		{ID: 5, Queue: "Support", Created: ny(t, 3, 13, 11, 30)},
		// Fri 10:50: only the customer wrote (FoldTicket keeps no reply of
		// theirs); unanswered 1h10m, Missed.
		{ID: 6, Queue: "Support", Created: ny(t, 3, 13, 10, 50)},
		// Tue 16:00, answered Thu 10:00 across the Wednesday holiday: 2h of
		// a 4h target, Met (10h without the holiday).
		{ID: 7, Queue: "Billing", Created: ny(t, 3, 10, 16, 0), Replies: reply(ny(t, 3, 12, 10, 0), "carol"), Resolved: resolved(ny(t, 3, 12, 11, 0), "carol")},
		// Fri 09:15, answered 09:45: 30m, Met; bob resolves.
		{ID: 8, Queue: "Billing", Created: ny(t, 3, 13, 9, 15), Replies: reply(ny(t, 3, 13, 9, 45), "alice"), Resolved: resolved(ny(t, 3, 13, 11, 0), "bob")},
		// Thu 16:30, unanswered: 30m Thursday + 3h Friday = 3h30m of 4h,
		// Pending (19h30m of wall clock would be Missed).
		{ID: 13, Queue: "Billing", Created: ny(t, 3, 12, 16, 30)},
		// Before the 28-day window: nowhere, not even in alice's figures.
		{ID: 9, Queue: "Support", Created: ny(t, 2, 1, 10, 0), Replies: reply(ny(t, 2, 1, 10, 5), "alice"), Resolved: resolved(ny(t, 2, 1, 11, 0), "alice")},
		// After Now: nowhere.
		{ID: 10, Queue: "Support", Created: ny(t, 3, 13, 13, 0)},
		// Fri 11:45, answered at 12:30, after Now: unanswered for 15m, Pending.
		{ID: 11, Queue: "Support", Created: ny(t, 3, 13, 11, 45), Replies: reply(ny(t, 3, 13, 12, 30), "alice"), Resolved: resolved(ny(t, 3, 13, 12, 40), "alice")},
		// Fri 6 March 10:00 EST, 6 hours before the 7-day window opens
		// (Fri 16:00Z): in the intervals and members, not in last7d. 10m, Met.
		{ID: 12, Queue: "Support", Created: ny(t, 3, 6, 10, 0), Replies: reply(ny(t, 3, 6, 10, 10), "alice"), Resolved: resolved(ny(t, 3, 6, 11, 0), "alice")},
	}
}

func TestCompute(t *testing.T) {
	opt := Options{
		Calendar: weekdays(t),
		Targets:  map[string]time.Duration{"Support": time.Hour, "Billing": 4 * time.Hour},
		Now:      ny(t, 3, 13, 12, 0),
	}
	got := Compute(seededWeek(t), opt)

	outcomes := map[int]Outcome{}
	firsts := map[int]time.Duration{}
	for _, a := range got.Tickets {
		outcomes[a.ID] = a.Outcome
		firsts[a.ID] = a.FirstResponseBusiness
	}
	wantOutcomes := map[int]Outcome{1: Met, 2: Met, 3: Missed, 4: Missed, 5: Pending, 6: Missed, 7: Met, 8: Met, 11: Pending, 12: Met, 13: Pending}
	if !reflect.DeepEqual(outcomes, wantOutcomes) {
		t.Errorf("outcomes = %v, want %v", outcomes, wantOutcomes)
	}
	wantFirsts := map[int]time.Duration{1: 50 * time.Minute, 2: 30 * time.Minute, 3: 90 * time.Minute, 4: 0, 5: 0, 6: 0,
		7: 2 * time.Hour, 8: 30 * time.Minute, 11: 0, 12: 10 * time.Minute, 13: 0}
	if !reflect.DeepEqual(firsts, wantFirsts) {
		t.Errorf("business first responses = %v, want %v", firsts, wantFirsts)
	}

	want := []QueueActual{
		{
			Queue: "Billing",
			Intervals: []IntervalActual{
				{Start: ny(t, 3, 10, 16, 0), Created: 1, Answered: 1, Resolved: 1, Met: 1},
				{Start: ny(t, 3, 12, 16, 30), Created: 1},
				{Start: ny(t, 3, 13, 9, 0), Created: 1, Answered: 1, Resolved: 1, Met: 1},
			},
			// Tickets 13 (pending) and 8.
			Last24h: Summary{Volume: 2, Met: 1, Pending: 1, ServiceLevel: ratio(1), Answered: 1, MedianFirstResponse: 30 * time.Minute, P90FirstResponse: 30 * time.Minute},
			// Nearest rank of [30m, 2h]: median rank 1, p90 rank 2.
			Last7d: Summary{Volume: 3, Met: 2, Pending: 1, ServiceLevel: ratio(1), Answered: 2, MedianFirstResponse: 30 * time.Minute, P90FirstResponse: 2 * time.Hour},
		},
		{
			Queue: "Support",
			Intervals: []IntervalActual{
				{Start: ny(t, 3, 6, 10, 0), Created: 1, Answered: 1, Resolved: 1, Met: 1},
				{Start: ny(t, 3, 6, 16, 30), Created: 1, Answered: 1, Resolved: 1, Met: 1},
				{Start: ny(t, 3, 7, 23, 30), Created: 1, Answered: 1, Met: 1},
				{Start: ny(t, 3, 8, 0, 0), Created: 1, Answered: 1, Missed: 1},
				{Start: ny(t, 3, 12, 9, 0), Created: 1, Missed: 1},
				{Start: ny(t, 3, 13, 10, 30), Created: 1, Missed: 1},
				{Start: ny(t, 3, 13, 11, 30), Created: 2},
			},
			// Tickets 5, 6, 11: one missed, two pending left out: 0/1.
			Last24h: Summary{Volume: 3, Missed: 1, Pending: 2, ServiceLevel: ratio(0)},
			// Tickets 1-6 and 11: met 1, 2; missed 3, 4, 6; pending 5, 11:
			// 2/5. First responses [30m, 50m, 90m]: median rank 2, p90 rank 3.
			Last7d: Summary{Volume: 7, Met: 2, Missed: 3, Pending: 2, ServiceLevel: ratio(0.4), Answered: 3,
				MedianFirstResponse: 50 * time.Minute, P90FirstResponse: 90 * time.Minute},
		},
	}
	if !reflect.DeepEqual(got.Queues, want) {
		t.Errorf("queues =\n%+v\nwant\n%+v", got.Queues, want)
	}
	for _, q := range got.Queues {
		for _, iv := range q.Intervals {
			if iv.Start.Location().String() != "America/New_York" {
				t.Errorf("interval %v is not in the team's zone", iv.Start)
			}
		}
	}

	wantMembers := []MemberActual{
		// alice answered 12 (10m), 2 (30m), 8 (30m), 1 (50m): median rank 2;
		// resolved 1 and 12 (9 is too old, 11's is after Now).
		{Name: "alice", Resolved: 2, Answered: 4, MedianFirstResponse: 30 * time.Minute},
		{Name: "bob", Resolved: 1, Answered: 1, MedianFirstResponse: 90 * time.Minute},
		{Name: "carol", Resolved: 1, Answered: 1, MedianFirstResponse: 2 * time.Hour},
	}
	if !reflect.DeepEqual(got.Members, wantMembers) {
		t.Errorf("members = %+v, want %+v", got.Members, wantMembers)
	}
}

func TestComputeResponders(t *testing.T) {
	// With the team's members given, a reply by someone else (bob, say a
	// colleague from another team on Cc) is no first response: ticket 3 is
	// unanswered, still Missed; bob's resolution still counts.
	opt := Options{
		Calendar:   weekdays(t),
		Targets:    map[string]time.Duration{"Support": time.Hour, "Billing": 4 * time.Hour},
		Now:        ny(t, 3, 13, 12, 0),
		Responders: map[string]bool{"alice": true, "carol": true},
	}
	got := Compute(seededWeek(t), opt)
	for _, q := range got.Queues {
		if q.Queue == "Support" && (q.Last7d.Answered != 2 || q.Last7d.Missed != 3 || q.Last7d.MedianFirstResponse != 30*time.Minute) {
			t.Errorf("Support last7d = %+v, want 2 answered (30m, 50m), 3 missed", q.Last7d)
		}
	}
	wantMembers := []MemberActual{
		{Name: "alice", Resolved: 2, Answered: 4, MedianFirstResponse: 30 * time.Minute},
		{Name: "bob", Resolved: 1},
		{Name: "carol", Resolved: 1, Answered: 1, MedianFirstResponse: 2 * time.Hour},
	}
	if !reflect.DeepEqual(got.Members, wantMembers) {
		t.Errorf("members = %+v, want %+v", got.Members, wantMembers)
	}
}

func TestComputeQueueWithoutTarget(t *testing.T) {
	// A queue with tickets but no target has volumes and no service level.
	got := Compute([]Ticket{{ID: 1, Queue: "Sales", Created: ny(t, 3, 13, 9, 0)}},
		Options{Calendar: weekdays(t), Now: ny(t, 3, 13, 12, 0)})
	if len(got.Queues) != 1 || got.Queues[0].Last24h.Volume != 1 || got.Queues[0].Last24h.ServiceLevel != nil || got.Tickets[0].Outcome != NoTarget {
		t.Errorf("Compute = %+v, want Sales with volume 1 and no service level", got)
	}
}
