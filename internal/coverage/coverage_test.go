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
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// teamFrom builds a Team from a SupportTeam spec written in YAML.
func teamFrom(t *testing.T, spec string) Team {
	t.Helper()
	var s opsv1alpha1.SupportTeamSpec
	if err := yaml.UnmarshalStrict([]byte(spec), &s); err != nil {
		t.Fatal(err)
	}
	team, err := FromSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	return team
}

func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	ts, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// onShiftAt returns the number of members on shift in the interval starting at local time s.
func onShiftAt(t *testing.T, r Result, loc *time.Location, s string) int {
	t.Helper()
	want := at(t, loc, s)
	for _, iv := range r.Intervals {
		if iv.Start.Equal(want) {
			return iv.OnShift
		}
	}
	t.Fatalf("no interval starts at %s", s)
	return 0
}

// countOnShift counts intervals of the local date that have someone on shift.
func countOnShift(r Result, date string) int {
	n := 0
	for _, iv := range r.Intervals {
		if iv.Start.Format(time.DateOnly) == date && iv.OnShift > 0 {
			n++
		}
	}
	return n
}

func intervalsOn(r Result, date string) int {
	n := 0
	for _, iv := range r.Intervals {
		if iv.Start.Format(time.DateOnly) == date {
			n++
		}
	}
	return n
}

const oneQueue = `
queues:
- name: mail
  channel: Email
  skills: [windows]
  demand:
    averageHandleTime: 15m
    intervals: [{days: [Mon, Tue, Wed, Thu, Fri], from: "09:00", to: "17:00", contactsPerHour: 4}]
  responseTargets: {firstResponse: 4h}
`

func TestDayShiftWeek(t *testing.T) {
	team := teamFrom(t, `
timeZone: Europe/Warsaw
shrinkage: 0
shifts: [{name: day, days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}]
members:
- {name: ann, skills: [windows], shifts: [day]}
- {name: ben, skills: [windows], shifts: [day]}
`+oneQueue)
	now := at(t, team.Location, "2026-11-23 08:10") // a Monday
	r, err := Compute(team, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Intervals) != 336 {
		t.Fatalf("%d intervals, want 336", len(r.Intervals))
	}
	if !r.Intervals[0].Start.Equal(at(t, team.Location, "2026-11-23 08:00")) {
		t.Errorf("first interval starts %v, want the half-hour containing now", r.Intervals[0].Start)
	}
	if !r.NextBoundary.Equal(at(t, team.Location, "2026-11-23 08:30")) {
		t.Errorf("next boundary %v", r.NextBoundary)
	}
	if r.OnShiftNow != 0 || r.Headcount != 2 {
		t.Errorf("onShiftNow %d headcount %d, want 0 and 2", r.OnShiftNow, r.Headcount)
	}
	if got := onShiftAt(t, r, team.Location, "2026-11-23 09:00"); got != 2 {
		t.Errorf("Monday 09:00: %d on shift, want 2", got)
	}
	if got := onShiftAt(t, r, team.Location, "2026-11-23 17:00"); got != 0 {
		t.Errorf("Monday 17:00: %d on shift, want 0 (end is exclusive)", got)
	}
	if got := countOnShift(r, "2026-11-28"); got != 0 {
		t.Errorf("Saturday: %d intervals staffed, want 0", got)
	}
	q := r.Queues[0]
	if q.PeakRequiredAgents != 1 || q.PeakRequiredStaff != 1 || q.UnderstaffedIntervals != 0 || q.WorstGap != nil {
		t.Errorf("queue summary %+v, want 1 agent, 1 staff, no gaps", q)
	}
}

func TestOvernightShift(t *testing.T) {
	team := teamFrom(t, `
timeZone: UTC
shrinkage: 0
shifts: [{name: night, days: [Mon], start: "22:00", end: "06:00"}]
members: [{name: nia, skills: [windows], shifts: [night]}]
`+oneQueue)
	r, err := Compute(team, at(t, team.Location, "2026-11-23 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		at   string
		want int
	}{
		{"Monday early morning", "2026-11-23 05:30", 0}, // Monday early morning belongs to a Sunday shift, not declared
		{"Monday before the shift", "2026-11-23 21:30", 0},
		{"Monday shift start", "2026-11-23 22:00", 1},
		{"Monday before midnight", "2026-11-23 23:30", 1},
		{"Tuesday midnight", "2026-11-24 00:00", 1}, // past midnight into Tuesday
		{"Tuesday before the end", "2026-11-24 05:30", 1},
		{"Tuesday shift end", "2026-11-24 06:00", 0},
		{"Tuesday night", "2026-11-24 22:00", 0}, // not on Tuesday
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := onShiftAt(t, r, team.Location, c.at); got != c.want {
				t.Errorf("%s: %d on shift, want %d", c.at, got, c.want)
			}
		})
	}
	if got := countOnShift(r, "2026-11-23") + countOnShift(r, "2026-11-24"); got != 16 {
		t.Errorf("night shift covers %d intervals, want 16", got)
	}
}

func TestHolidayAndOvernight(t *testing.T) {
	team := teamFrom(t, `
timeZone: America/New_York
shrinkage: 0
shifts:
- {name: day, days: [Wed, Thu, Fri], start: "09:00", end: "17:00"}
- {name: night, days: [Wed, Thu], start: "22:00", end: "02:00"}
members:
- {name: dee, skills: [windows], shifts: [day]}
- {name: nik, skills: [windows], shifts: [night]}
holidays: [{date: "2026-12-24", name: Christmas Eve}]
`+oneQueue)
	r, err := Compute(team, at(t, team.Location, "2026-12-21 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if got := countOnShift(r, "2026-12-24"); got != 4 {
		// Thursday the 24th: no day shift, no night shift starting that day;
		// only Wednesday's night shift runs 00:00-02:00 into it.
		t.Errorf("holiday has %d staffed intervals, want 4 (the end of the night shift started the day before)", got)
	}
	if got := onShiftAt(t, r, team.Location, "2026-12-24 01:30"); got != 1 {
		t.Errorf("holiday 01:30: %d on shift, want 1", got)
	}
	if got := onShiftAt(t, r, team.Location, "2026-12-24 22:00"); got != 0 {
		t.Errorf("holiday 22:00: %d on shift, want 0", got)
	}
	if got := onShiftAt(t, r, team.Location, "2026-12-25 10:00"); got != 1 {
		t.Errorf("the day after: %d on shift, want 1", got)
	}
}

func TestOverlappingTimeOff(t *testing.T) {
	team := teamFrom(t, `
timeZone: Europe/Warsaw
shrinkage: 0
shifts: [{name: day, days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}]
members:
- {name: ann, skills: [windows], shifts: [day]}
- {name: ben, skills: [windows], shifts: [day]}
timeOff:
- {member: ann, from: "2026-11-24", to: "2026-11-25"}
- {member: ann, from: "2026-11-25", to: "2026-11-26"}
- {member: ben, from: "2026-11-26", to: "2026-11-26"}
`+oneQueue)
	r, err := Compute(team, at(t, team.Location, "2026-11-23 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	for date, want := range map[string]int{
		"2026-11-23 10:00": 2, "2026-11-24 10:00": 1, "2026-11-25 10:00": 1,
		"2026-11-26 10:00": 0, "2026-11-27 10:00": 2,
	} {
		t.Run(date, func(t *testing.T) {
			if got := onShiftAt(t, r, team.Location, date); got != want {
				t.Errorf("%s: %d on shift, want %d", date, got, want)
			}
		})
	}
	q := r.Queues[0]
	if q.UnderstaffedIntervals != 16 {
		t.Errorf("%d understaffed intervals, want 16 (Thursday 09:00-17:00, both away)", q.UnderstaffedIntervals)
	}
	if q.WorstGap == nil || !q.WorstGap.Start.Equal(at(t, team.Location, "2026-11-26 09:00")) || q.WorstGap.Required != 1 || q.WorstGap.Scheduled != 0 {
		t.Errorf("worst gap %+v, want Thursday 09:00, 1 required, 0 scheduled", q.WorstGap)
	}
}

func TestDaylightSaving(t *testing.T) {
	team := teamFrom(t, `
timeZone: America/New_York
shrinkage: 0
shifts: [{name: early, days: [Sun], start: "00:00", end: "04:00"}]
members: [{name: eve, skills: [windows], shifts: [early]}]
`+oneQueue)
	// Spring forward: Sunday 8 March 2026, 02:00 EST becomes 03:00 EDT.
	r, err := Compute(team, at(t, team.Location, "2026-03-07 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if got := intervalsOn(r, "2026-03-08"); got != 46 {
		t.Errorf("spring-forward Sunday has %d intervals, want 46", got)
	}
	if got := countOnShift(r, "2026-03-08"); got != 6 {
		t.Errorf("00:00-04:00 on the spring-forward night covers %d intervals, want 6 (3 real hours)", got)
	}
	// Fall back: Sunday 1 November 2026, 02:00 EDT becomes 01:00 EST.
	r, err = Compute(team, at(t, team.Location, "2026-10-31 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if got := intervalsOn(r, "2026-11-01"); got != 50 {
		t.Errorf("fall-back Sunday has %d intervals, want 50", got)
	}
	if got := countOnShift(r, "2026-11-01"); got != 10 {
		t.Errorf("00:00-04:00 on the fall-back night covers %d intervals, want 10 (5 real hours)", got)
	}
	for i := 1; i < len(r.Intervals); i++ {
		if d := r.Intervals[i].Start.Sub(r.Intervals[i-1].Start); d != IntervalLength {
			t.Fatalf("intervals %d and %d are %v apart", i-1, i, d)
		}
	}
}

func TestAllocationCountsEachPersonOnce(t *testing.T) {
	team := teamFrom(t, `
timeZone: UTC
shrinkage: 0
shifts: [{name: day, days: [Mon], start: "09:00", end: "10:00"}]
members:
- {name: gen, skills: [windows, linux], shifts: [day]}
- {name: win, skills: [windows], shifts: [day]}
queues:
- name: a-windows
  channel: Email
  skills: [windows]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "10:00", contactsPerHour: 1}]}
  responseTargets: {firstResponse: 4h}
- name: b-linux
  channel: Email
  skills: [linux]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "10:00", contactsPerHour: 1}]}
  responseTargets: {firstResponse: 4h}
`)
	r, err := Compute(team, at(t, team.Location, "2026-11-23 09:00"))
	if err != nil {
		t.Fatal(err)
	}
	iv := r.Intervals[0]
	// gen is the only one who can take linux; win takes windows. A naive
	// first-come allocation would give gen to a-windows and leave b-linux empty.
	if iv.Scheduled[0] != 1 || iv.Scheduled[1] != 1 {
		t.Errorf("scheduled %v, want [1 1]", iv.Scheduled)
	}
	for _, iv := range r.Intervals {
		if iv.Scheduled[0]+iv.Scheduled[1] > iv.OnShift {
			t.Fatalf("%v: %v scheduled with %d on shift", iv.Start, iv.Scheduled, iv.OnShift)
		}
	}
	if r.Understaffed() != 0 {
		t.Errorf("%d understaffed intervals, want 0", r.Understaffed())
	}
}

func TestErlangRequirementAndShrinkage(t *testing.T) {
	team := teamFrom(t, `
timeZone: UTC
shrinkage: 30
shifts: [{name: day, days: [Mon], start: "08:00", end: "18:00"}]
members: [{name: a, skills: [phone], shifts: [day]}]
queues:
- name: phone
  channel: Phone
  skills: [phone]
  demand: {averageHandleTime: 3m, intervals: [{days: [Mon], from: "08:00", to: "18:00", contactsPerHour: 200}]}
  serviceLevel: {percent: 80, answerWithin: 20s}
`)
	r, err := Compute(team, at(t, team.Location, "2026-11-23 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	q := r.Queues[0]
	if q.PeakRequiredAgents != 14 || q.PeakRequiredStaff != 20 {
		t.Errorf("peak %d agents %d staff, want 14 and 20", q.PeakRequiredAgents, q.PeakRequiredStaff)
	}
	if q.UnderstaffedIntervals != 20 || q.WorstGap.Required-q.WorstGap.Scheduled != 19 {
		t.Errorf("%d understaffed, worst %+v; want 20 intervals short by 19", q.UnderstaffedIntervals, q.WorstGap)
	}
}

// FuzzCompute feeds arbitrary shifts, demand and absences into the expansion:
// it must never panic and must keep its invariants.
func FuzzCompute(f *testing.F) {
	f.Add([]byte{9, 0, 17, 0, 2, 3, 200, 1, 5}, int64(0), uint8(0))
	f.Add([]byte{22, 30, 6, 0, 255, 1, 0, 0, 0}, int64(1772931600), uint8(1))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0}, int64(1793498400), uint8(2))
	zones := []string{"UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Europe/Warsaw"}
	f.Fuzz(func(t *testing.T, data []byte, unix int64, zone uint8) {
		if len(data) < 9 {
			return
		}
		loc, err := time.LoadLocation(zones[int(zone)%len(zones)])
		if err != nil {
			t.Fatal(err)
		}
		minute := func(h, m byte) int { return (int(h)%25*60 + int(m)%60) % 1441 }
		var dayset [7]bool
		for i := range dayset {
			dayset[i] = data[4]&(1<<i) != 0
		}
		team := Team{
			Location:         loc,
			ShrinkagePercent: float64(data[5] % 91),
			Shifts:           []Shift{{Name: "s", Days: dayset, Start: minute(data[0], data[1]), End: minute(data[2], data[3])}},
			Queues: []Queue{
				{Name: "live", Skills: []string{"a"}, Live: true, Handle: time.Duration(data[6]) * time.Second,
					Target:  staffingTarget(data[7]),
					Windows: []Window{{Days: dayset, From: minute(data[0], 0), To: minute(data[2], 0), ContactsPerHour: float64(data[8]) * 3}}},
				{Name: "mail", Skills: []string{"b"}, Handle: time.Duration(data[8]) * time.Minute,
					Windows: []Window{{Days: dayset, From: 0, To: 1440, ContactsPerHour: float64(data[6])}}},
			},
			Holidays: []Date{DateOf(time.Unix(unix%4e9, 0).In(loc))},
		}
		for i := 0; i < int(data[7]%8); i++ {
			skills := []string{"a", "b"}[:1+i%2]
			team.Members = append(team.Members, Member{Name: string(rune('a' + i)), Skills: skills, Shifts: []string{"s"}})
		}
		if len(team.Members) > 0 {
			d := DateOf(time.Unix(unix%4e9, 0).In(loc))
			team.Absences = []Absence{{Member: "a", From: d, To: d}}
		}
		r, err := Compute(team, time.Unix(unix%4e9, 0))
		if err != nil {
			return // e.g. demand too large for the agent bound: refused, not panicked
		}
		if len(r.Intervals) != int(Horizon/IntervalLength) {
			t.Fatalf("%d intervals", len(r.Intervals))
		}
		for _, iv := range r.Intervals {
			sum := 0
			for qi := range iv.Scheduled {
				sum += iv.Scheduled[qi]
				if iv.RequiredStaff[qi] < iv.RequiredAgents[qi] {
					t.Fatalf("staff %d below agents %d", iv.RequiredStaff[qi], iv.RequiredAgents[qi])
				}
			}
			if sum > iv.OnShift || iv.OnShift > len(team.Members) {
				t.Fatalf("scheduled %d with %d on shift of %d", sum, iv.OnShift, len(team.Members))
			}
		}
	})
}
