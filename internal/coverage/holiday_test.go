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
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// dayFigures sums one local date's intervals of the only queue.
type dayFigures struct {
	Intervals int // half-hours starting on the date
	Required  int // required staff, summed
	Agents    int // required agents, summed
	Gaps      int // half-hours short of staff
	Over      int // half-hours with more staff scheduled than required
}

func figuresOn(ivs []Interval, date string) dayFigures {
	var f dayFigures
	for _, iv := range ivs {
		if iv.Start.Format(time.DateOnly) != date {
			continue
		}
		f.Intervals++
		f.Required += iv.RequiredStaff[0]
		f.Agents += iv.RequiredAgents[0]
		switch {
		case iv.Scheduled[0] < iv.RequiredStaff[0]:
			f.Gaps++
		case iv.Scheduled[0] > iv.RequiredStaff[0]:
			f.Over++
		}
	}
	return f
}

// roundTheClock is a team whose one queue needs one person every half-hour
// of every day (4 contacts of 15 minutes an hour is one agent, no
// shrinkage). ann works 09:00-17:00 and nik 22:00-06:00 every day, so an
// ordinary day has 16 gaps (06:00-09:00 and 17:00-22:00) and the day after
// a holiday 12 more (the night shift that would have started on the
// holiday is not worked).
func roundTheClock(zone, holidays string) string {
	return fmt.Sprintf(`
timeZone: %s
shrinkage: 0
shifts:
- {name: day, days: [Sun, Mon, Tue, Wed, Thu, Fri, Sat], start: "09:00", end: "17:00"}
- {name: night, days: [Sun, Mon, Tue, Wed, Thu, Fri, Sat], start: "22:00", end: "06:00"}
members:
- {name: ann, skills: [windows], shifts: [day]}
- {name: nik, skills: [windows], shifts: [night]}
holidays: %s
queues:
- name: mail
  channel: Email
  skills: [windows]
  demand:
    averageHandleTime: 15m
    intervals: [{days: [Sun, Mon, Tue, Wed, Thu, Fri, Sat], from: "00:00", to: "24:00", contactsPerHour: 4}]
  responseTargets: {firstResponse: 4h}
`, zone, holidays)
}

// A closed holiday needs nobody in any half-hour that starts on its date
// (however many the date has), so it has no gap, and the end of the night
// shift started the evening before is overstaffing; an open one keeps its
// demand and its gaps. The days around it keep theirs either way. Shifts
// starting on the holiday are gone in both cases. Before holidays removed
// demand, the closed cases had the open cases' figures.
func TestHolidayDemand(t *testing.T) {
	ordinary := dayFigures{Intervals: 48, Required: 48, Agents: 48, Gaps: 16}
	after := dayFigures{Intervals: 48, Required: 48, Agents: 48, Gaps: 28}
	cases := []struct {
		name     string
		zone     string
		holidays string
		holiday  string // the date looked at, and the day before and after
		before   string
		next     string
		want     dayFigures
		// nightOn are the half-hours of the holiday the night shift from
		// the evening before is on shift.
		nightOn int
	}{
		{
			name: "closed", zone: "UTC", holidays: `[{date: "2026-11-26", name: Thanksgiving}]`,
			before: "2026-11-25", holiday: "2026-11-26", next: "2026-11-27",
			want: dayFigures{Intervals: 48, Over: 12}, nightOn: 12,
		},
		{
			name: "open", zone: "UTC", holidays: `[{date: "2026-11-26", name: Thanksgiving, open: true}]`,
			before: "2026-11-25", holiday: "2026-11-26", next: "2026-11-27",
			want: dayFigures{Intervals: 48, Required: 48, Agents: 48, Gaps: 36}, nightOn: 12,
		},
		{
			// Clocks go back at 02:00: 01:00-02:00 twice, 50 half-hours,
			// 14 of them before 06:00.
			name: "closed on the fall-back day", zone: "America/New_York", holidays: `[{date: "2026-11-01"}]`,
			before: "2026-10-31", holiday: "2026-11-01", next: "2026-11-02",
			want: dayFigures{Intervals: 50, Over: 14}, nightOn: 14,
		},
		{
			name: "open on the fall-back day", zone: "America/New_York", holidays: `[{date: "2026-11-01", open: true}]`,
			before: "2026-10-31", holiday: "2026-11-01", next: "2026-11-02",
			want: dayFigures{Intervals: 50, Required: 50, Agents: 50, Gaps: 36}, nightOn: 14,
		},
		{
			// Clocks go forward at 02:00: 46 half-hours, 10 before 06:00.
			name: "closed on the spring-forward day", zone: "Europe/Warsaw", holidays: `[{date: "2026-03-29", name: Easter Sunday}]`,
			before: "2026-03-28", holiday: "2026-03-29", next: "2026-03-30",
			want: dayFigures{Intervals: 46, Over: 10}, nightOn: 10,
		},
		{
			name: "open on the spring-forward day", zone: "Europe/Warsaw", holidays: `[{date: "2026-03-29", name: Easter Sunday, open: true}]`,
			before: "2026-03-28", holiday: "2026-03-29", next: "2026-03-30",
			want: dayFigures{Intervals: 46, Required: 46, Agents: 46, Gaps: 36}, nightOn: 10,
		},
		{
			// An open holiday listed beside a closed one stays open, and
			// the closed one closed.
			name: "closed beside an open one", zone: "UTC",
			holidays: `[{date: "2026-11-26", name: Thanksgiving}, {date: "2026-11-28", open: true}]`,
			before:   "2026-11-25", holiday: "2026-11-26", next: "2026-11-27",
			want: dayFigures{Intervals: 48, Over: 12}, nightOn: 12,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := teamFrom(t, roundTheClock(tc.zone, tc.holidays))
			// Two days before the holiday, so the day before, the holiday
			// and the day after are whole in Compute's week too.
			start := at(t, team.Location, tc.before+" 00:00").AddDate(0, 0, -1)
			r, err := Compute(team, start)
			if err != nil {
				t.Fatal(err)
			}
			span, err := Span(team, start, 7)
			if err != nil {
				t.Fatal(err)
			}
			for name, ivs := range map[string][]Interval{"Compute": r.Intervals, "Span": span} {
				if got := figuresOn(ivs, tc.holiday); got != tc.want {
					t.Errorf("%s: holiday %s: %+v, want %+v", name, tc.holiday, got, tc.want)
				}
				if got := figuresOn(ivs, tc.before); got != ordinary {
					t.Errorf("%s: the day before, %s: %+v, want %+v", name, tc.before, got, ordinary)
				}
				if got := figuresOn(ivs, tc.next); got != after {
					t.Errorf("%s: the day after, %s: %+v, want %+v", name, tc.next, got, after)
				}
			}
			if got := countOnShift(r, tc.holiday); got != tc.nightOn {
				t.Errorf("holiday: someone on shift in %d half-hours, want %d (the night shift from the evening before)", got, tc.nightOn)
			}
			// The summary counts what the intervals say, and never puts
			// the worst gap on a closed holiday.
			gaps := 0
			for _, iv := range r.Intervals {
				if iv.Scheduled[0] < iv.RequiredStaff[0] {
					gaps++
				}
			}
			q := r.Queues[0]
			if q.UnderstaffedIntervals != gaps {
				t.Errorf("summary: %d understaffed intervals, the intervals %d", q.UnderstaffedIntervals, gaps)
			}
			if tc.want.Gaps == 0 && q.WorstGap != nil && q.WorstGap.Start.Format(time.DateOnly) == tc.holiday {
				t.Errorf("worst gap %v is on the closed holiday", q.WorstGap.Start)
			}
		})
	}
}

// The tables a manager reads say which holidays in the week are open and
// which closed, and nothing of holidays outside it.
func TestHolidayNotes(t *testing.T) {
	team := teamFrom(t, roundTheClock("America/New_York",
		`[{date: "2026-11-26", name: Thanksgiving}, {date: "2026-11-27", open: true}, {date: "2026-12-25", name: Christmas Day}]`))
	r, err := Compute(team, at(t, team.Location, "2026-11-23 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteHourly(&out, team, r); err != nil {
		t.Fatal(err)
	}
	want := "holiday Thu 2026-11-26 is closed: no staff needed\n" +
		"holiday Fri 2026-11-27 is open: demand kept, no shift starts that day, so its gaps count\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("table ends:\n%s\nwant it to end with\n%s", out.String()[max(0, out.Len()-400):], want)
	}
	if strings.Contains(out.String(), "2026-12-25") {
		t.Errorf("the table names Christmas, outside the week")
	}
	// The closed holiday's hours show no requirement and no "!" mark.
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "2026-11-26") && strings.Contains(line, "!") {
			t.Errorf("closed holiday row marked short: %q", line)
		}
	}
	// The week ending on the day before the holidays names none.
	if notes := HolidayNotes(team, at(t, team.Location, "2026-11-19 00:00"), at(t, team.Location, "2026-11-26 00:00")); len(notes) != 0 {
		t.Errorf("notes %q for a week without holidays", notes)
	}
}
