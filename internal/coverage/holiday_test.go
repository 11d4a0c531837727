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
// a closed holiday 12 more (the night shift that would have started on the
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

// ordinaryDay is roundTheClock's figures on a date of n half-hours with
// no holiday on it or the day before: one person needed in each, 16 short.
func ordinaryDay(n int) dayFigures {
	return dayFigures{Intervals: n, Required: n, Agents: n, Gaps: 16}
}

// A closed holiday needs nobody in any half-hour that starts on its date
// (however many the date has), so it has no gap; its shifts are gone, and
// the end of the night shift started the evening before is overstaffing.
// An open holiday is an ordinary day: its demand and its shifts (ann's day,
// nik's night into the next morning) are those of any day, so it has an
// ordinary day's 16 gaps and the day after it too. The days around keep
// theirs. Before open holidays kept their shifts, an open holiday had 36
// gaps (only nik's end of night on shift) and the day after 28.
func TestHolidayDemand(t *testing.T) {
	afterClosed := dayFigures{Intervals: 48, Required: 48, Agents: 48, Gaps: 28}
	cases := []struct {
		name     string
		zone     string
		holidays string
		holiday  string // the date looked at, and the day before and after
		before   string
		next     string
		want     dayFigures
		// wantBefore and wantNext are the days around it.
		wantBefore, wantNext dayFigures
		// onShift are the half-hours of the holiday with someone on
		// shift: nik from the evening before, and on an open holiday
		// ann's 16 and nik's 4 from 22:00 too.
		onShift int
	}{
		{
			name: "closed", zone: "UTC", holidays: `[{date: "2026-11-26", name: Thanksgiving}]`,
			before: "2026-11-25", holiday: "2026-11-26", next: "2026-11-27",
			want: dayFigures{Intervals: 48, Over: 12}, wantBefore: ordinaryDay(48), wantNext: afterClosed, onShift: 12,
		},
		{
			name: "open", zone: "UTC", holidays: `[{date: "2026-11-26", name: Thanksgiving, open: true}]`,
			before: "2026-11-25", holiday: "2026-11-26", next: "2026-11-27",
			want: ordinaryDay(48), wantBefore: ordinaryDay(48), wantNext: ordinaryDay(48), onShift: 12 + 16 + 4,
		},
		{
			// Clocks go back at 02:00: 01:00-02:00 twice, 50 half-hours,
			// 14 of them before 06:00.
			name: "closed on the fall-back day", zone: "America/New_York", holidays: `[{date: "2026-11-01"}]`,
			before: "2026-10-31", holiday: "2026-11-01", next: "2026-11-02",
			want: dayFigures{Intervals: 50, Over: 14}, wantBefore: ordinaryDay(48), wantNext: afterClosed, onShift: 14,
		},
		{
			name: "open on the fall-back day", zone: "America/New_York", holidays: `[{date: "2026-11-01", open: true}]`,
			before: "2026-10-31", holiday: "2026-11-01", next: "2026-11-02",
			want: ordinaryDay(50), wantBefore: ordinaryDay(48), wantNext: ordinaryDay(48), onShift: 14 + 16 + 4,
		},
		{
			// Clocks go forward at 02:00: 46 half-hours, 10 before 06:00.
			name: "closed on the spring-forward day", zone: "Europe/Warsaw", holidays: `[{date: "2026-03-29", name: Easter Sunday}]`,
			before: "2026-03-28", holiday: "2026-03-29", next: "2026-03-30",
			want: dayFigures{Intervals: 46, Over: 10}, wantBefore: ordinaryDay(48), wantNext: afterClosed, onShift: 10,
		},
		{
			name: "open on the spring-forward day", zone: "Europe/Warsaw", holidays: `[{date: "2026-03-29", name: Easter Sunday, open: true}]`,
			before: "2026-03-28", holiday: "2026-03-29", next: "2026-03-30",
			want: ordinaryDay(46), wantBefore: ordinaryDay(48), wantNext: ordinaryDay(48), onShift: 10 + 16 + 4,
		},
		{
			// An open holiday listed beside a closed one does not open
			// it.
			name: "closed beside an open one", zone: "UTC",
			holidays: `[{date: "2026-11-26", name: Thanksgiving}, {date: "2026-11-28", open: true}]`,
			before:   "2026-11-25", holiday: "2026-11-26", next: "2026-11-27",
			want: dayFigures{Intervals: 48, Over: 12}, wantBefore: ordinaryDay(48), wantNext: afterClosed, onShift: 12,
		},
		{
			// Nor does a closed one close it: Saturday the 28th is an
			// ordinary day after a Friday that lost Thursday's night.
			name: "open beside a closed one", zone: "UTC",
			holidays: `[{date: "2026-11-26", name: Thanksgiving}, {date: "2026-11-28", open: true}]`,
			before:   "2026-11-27", holiday: "2026-11-28", next: "2026-11-29",
			want: ordinaryDay(48), wantBefore: afterClosed, wantNext: ordinaryDay(48), onShift: 12 + 16 + 4,
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
				if got := figuresOn(ivs, tc.before); got != tc.wantBefore {
					t.Errorf("%s: the day before, %s: %+v, want %+v", name, tc.before, got, tc.wantBefore)
				}
				if got := figuresOn(ivs, tc.next); got != tc.wantNext {
					t.Errorf("%s: the day after, %s: %+v, want %+v", name, tc.next, got, tc.wantNext)
				}
			}
			if got := countOnShift(r, tc.holiday); got != tc.onShift {
				t.Errorf("holiday: someone on shift in %d half-hours, want %d", got, tc.onShift)
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

// An open holiday is the same weekday without a holiday entry, half-hour by
// half-hour: the same required staff, the same people on shift, the same
// allocation and so the same gaps, in Compute (summaries too) and Span, on
// an ordinary day and on both clock-change days. Before open holidays kept
// their shifts, the holiday and the morning after differed.
func TestOpenHolidayIsAnOrdinaryDay(t *testing.T) {
	for _, tc := range []struct{ zone, date string }{
		{"UTC", "2026-11-26"},
		{"America/New_York", "2026-11-01"},
		{"Europe/Warsaw", "2026-03-29"},
	} {
		t.Run(tc.zone, func(t *testing.T) {
			open := teamFrom(t, roundTheClock(tc.zone, `[{date: "`+tc.date+`", name: Open Day, open: true}]`))
			none := teamFrom(t, roundTheClock(tc.zone, `[]`))
			start := at(t, open.Location, tc.date+" 00:00").AddDate(0, 0, -2)
			got, err := Compute(open, start)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Compute(none, start)
			if err != nil {
				t.Fatal(err)
			}
			sameIntervals(t, "Compute", got.Intervals, want.Intervals)
			g, w := got.Queues[0], want.Queues[0]
			if g.UnderstaffedIntervals != w.UnderstaffedIntervals || g.PeakRequiredStaff != w.PeakRequiredStaff ||
				g.PeakRequiredAgents != w.PeakRequiredAgents || !g.WorstGap.Start.Equal(w.WorstGap.Start) {
				t.Errorf("summary with the open holiday %+v (worst %v), without %+v (worst %v)",
					g, g.WorstGap.Start, w, w.WorstGap.Start)
			}
			gotSpan, err := Span(open, start, 7)
			if err != nil {
				t.Fatal(err)
			}
			wantSpan, err := Span(none, start, 7)
			if err != nil {
				t.Fatal(err)
			}
			sameIntervals(t, "Span", gotSpan, wantSpan)
		})
	}
}

// sameIntervals fails t at the first half-hour in which got and want differ.
func sameIntervals(t *testing.T, name string, got, want []Interval) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d half-hours, want %d", name, len(got), len(want))
	}
	for i := range got {
		if !sameInterval(got[i], want[i]) {
			t.Fatalf("%s: half-hour %d: with the open holiday %+v, without a holiday %+v", name, i, got[i], want[i])
		}
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
	want := "holiday Thu 2026-11-26 is closed: no shift starts that day, no staff needed\n" +
		"holiday Fri 2026-11-27 is open: shifts and demand as on any Friday\n"
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
	// An open holiday alone in the range is named too.
	if notes := HolidayNotes(team, at(t, team.Location, "2026-11-27 00:00"), at(t, team.Location, "2026-11-28 00:00")); len(notes) != 1 || !strings.Contains(notes[0], "2026-11-27 is open") {
		t.Errorf("notes %q for the open Friday alone", notes)
	}
}
