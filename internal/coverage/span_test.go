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
	"slices"
	"strings"
	"testing"
	"time"
)

// A week's Span from a midnight is Compute's week from that midnight,
// interval by interval: same requirement, same people, same allocation.
func TestSpanIsComputeFromMidnight(t *testing.T) {
	team := teamFrom(t, `
timeZone: America/New_York
shrinkage: 30
shifts:
- {name: early, days: [Mon, Tue, Wed, Thu, Fri], start: "07:00", end: "15:30"}
- {name: night, days: [Sun, Fri], start: "22:00", end: "06:00"}
members:
- {name: ann, skills: [windows], shifts: [early]}
- {name: bo, skills: [windows, email], shifts: [night, early]}
holidays: [{date: "2026-11-26"}]
`+oneQueue)
	start := at(t, team.Location, "2026-11-23 00:00")
	want, err := Compute(team, start)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Span(team, start, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want.Intervals) {
		t.Fatalf("span has %d intervals, Compute %d", len(got), len(want.Intervals))
	}
	for i := range got {
		if !sameInterval(got[i], want.Intervals[i]) {
			t.Fatalf("interval %d: span %+v, Compute %+v", i, got[i], want.Intervals[i])
		}
	}
	// Two weeks: the second repeats the first's demand.
	two, err := Span(team, start, 14)
	if err != nil {
		t.Fatal(err)
	}
	if len(two) != 2*336 || !slices.Equal(two[336+20].RequiredStaff, got[20].RequiredStaff) {
		t.Errorf("two weeks: %d intervals", len(two))
	}
}

// Span runs from local midnight to local midnight: a week with a clock
// change has an hour fewer or more half-hours.
func TestSpanAcrossClockChanges(t *testing.T) {
	team := teamFrom(t, "timeZone: America/New_York\nshrinkage: 0\n"+oneQueue)
	for _, tc := range []struct {
		from string
		want int
	}{
		{"2026-03-15 00:00", 336},
		{"2026-03-08 00:00", 334}, // spring forward on the first day
		{"2026-10-26 00:00", 338}, // fall back on Sunday 1 November
	} {
		got, err := Span(team, at(t, team.Location, tc.from), 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.want {
			t.Errorf("week from %s: %d half-hours, want %d", tc.from, len(got), tc.want)
		}
	}
}

func TestSpanRefusals(t *testing.T) {
	team := teamFrom(t, "timeZone: UTC\n"+oneQueue)
	for _, tc := range []struct {
		name  string
		team  Team
		start time.Time
		days  int
		want  string
	}{
		{"not midnight", team, time.Date(2026, 11, 23, 0, 30, 0, 0, time.UTC), 7, "not the start of a local day"},
		{"midnight elsewhere", team, time.Date(2026, 11, 23, 0, 0, 0, 0, time.FixedZone("x", 3600)), 7, "not the start of a local day"},
		{"no days", team, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), 0, "at least one"},
		{"no zone", Team{}, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), 7, "no time zone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Span(tc.team, tc.start, tc.days); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Span = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// sameInterval compares two intervals; nobody on shift may be a nil or an
// empty slice.
func sameInterval(a, b Interval) bool {
	return a.Start.Equal(b.Start) && a.OnShift == b.OnShift && slices.Equal(a.Members, b.Members) &&
		slices.Equal(a.RequiredAgents, b.RequiredAgents) && slices.Equal(a.RequiredStaff, b.RequiredStaff) && slices.Equal(a.Scheduled, b.Scheduled)
}

// Where the clocks go forward at midnight (Santiago, Sunday 6 September
// 2026: 00:00 becomes 01:00) the day starts at 01:00: a span can start
// there and one ending there ends at 01:00, not at 23:00 the day before.
func TestSpanWhereMidnightIsSkipped(t *testing.T) {
	team := teamFrom(t, "timeZone: America/Santiago\nshrinkage: 0\n"+oneQueue)
	loc := team.Location
	sunday := time.Date(2026, 9, 6, 1, 0, 0, 0, loc)
	if sunday.Hour() != 1 || sunday.Add(-time.Nanosecond).In(loc).Day() != 5 {
		t.Fatalf("the test's premise: %v is not the first instant of 6 September", sunday)
	}
	got, err := Span(team, sunday, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 46 || !got[0].Start.Equal(sunday) {
		t.Errorf("Sunday 6 September: %d half-hours from %v, want 46 from 01:00", len(got), got[0].Start)
	}
	week, err := Span(team, time.Date(2026, 8, 31, 0, 0, 0, 0, loc), 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(week) != 334 {
		t.Errorf("the week of 31 August: %d half-hours, want 334 (the Sunday lost an hour)", len(week))
	}
	if saturday, err := Span(team, time.Date(2026, 9, 5, 0, 0, 0, 0, loc), 1); err != nil || len(saturday) != 48 {
		t.Errorf("Saturday 5 September: %d half-hours (%v), want 48: it ends at 01:00 on the 6th", len(saturday), err)
	}
	if _, err := Span(team, time.Date(2026, 9, 5, 23, 0, 0, 0, loc), 1); err == nil {
		t.Error("a span from 23:00 the day before (what time.Date gives for 00:00) was accepted")
	}
}
