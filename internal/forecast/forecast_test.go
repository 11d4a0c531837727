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

package forecast

import (
	"math"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/actuals"
)

func newYork(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at is n arrivals at local March day hh:mm in 2026.
func at(loc *time.Location, n, day, hh, mm int) []time.Time {
	out := make([]time.Time, 0, n)
	for range n {
		out = append(out, time.Date(2026, time.March, day, hh, mm, 0, 0, loc))
	}
	return out
}

func join(parts ...[]time.Time) []time.Time {
	var out []time.Time
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestWeekly: the EWMA weights by hand on three weeks of Mondays (2, 9
// and 16 March 2026, history ending Monday 23 March), Alpha 0.5: the
// 09:00 half-hour has 8, 2 and 4 arrivals, 16, 4 and 8 an hour, weighted
// 0.25, 0.5 and 1 (most recent most).
func TestWeekly(t *testing.T) {
	loc := newYork(t)
	base := join(at(loc, 8, 2, 9, 5), at(loc, 2, 9, 9, 10), at(loc, 4, 16, 9, 29))
	end := time.Date(2026, 3, 23, 0, 0, 0, 0, loc)
	cases := []struct {
		name     string
		arrivals []time.Time
		opt      Options
		weekday  time.Weekday
		slot     int
		want     float64
		weeks    int
	}{
		// Uniform weights would give 9.33, reversed ones 11.43.
		{"weights 1, 0.5, 0.25", base, Options{Location: loc, End: end, Weeks: 3, Alpha: 0.5}, time.Monday, 18, (8*1 + 4*0.5 + 16*0.25) / 1.75, 3},
		// The 9 March holiday (open or closed) is no data: it neither
		// counts as zero (6.86) nor with its 2 arrivals (8).
		{"holiday left out", base, Options{Location: loc, End: end, Weeks: 3, Alpha: 0.5, Holidays: map[string]bool{"2026-03-09": true}}, time.Monday, 18, (8*1 + 16*0.25) / 1.25, 3},
		// Days before Start's date were not read: no data, not zero (a
		// Start during the day takes its whole date).
		{"before start", base, Options{Location: loc, End: end, Weeks: 3, Alpha: 0.5, Start: time.Date(2026, 3, 16, 8, 0, 0, 0, loc)}, time.Monday, 18, 8, 1},
		// Arrivals on or after End's date, or another slot, change nothing.
		{"outside the history", join(base, at(loc, 5, 23, 9, 0), at(loc, 5, 2, 9, 30)), Options{Location: loc, End: end.Add(9 * time.Hour), Weeks: 3, Alpha: 0.5}, time.Monday, 18, 8, 3},
		// Fall back, Sunday 1 November: 01:00-02:00 happens twice; its
		// half-hours lasted an hour each. Two arrivals at 01:10 (EDT and
		// EST) are 2 an hour, not 4.
		{"repeated hour", []time.Time{
			time.Date(2026, 11, 1, 5, 10, 0, 0, time.UTC), time.Date(2026, 11, 1, 6, 10, 0, 0, time.UTC),
		}, Options{Location: loc, End: time.Date(2026, 11, 2, 0, 0, 0, 0, loc), Weeks: 1}, time.Sunday, 2, 2, 1},
		// Spring forward, Sunday 8 March: 02:00-03:00 does not exist;
		// that week has no data for 02:00, so the week before (1 March,
		// 1 arrival: 2 an hour) is the whole average, not 2*0.7/1.7.
		{"skipped hour", at(loc, 1, 1, 2, 10), Options{Location: loc, End: time.Date(2026, 3, 9, 0, 0, 0, 0, loc), Weeks: 2}, time.Sunday, 4, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Weekly(c.arrivals, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.PerHour[c.weekday][c.slot]; !near(got, c.want) || r.Weeks != c.weeks {
				t.Errorf("rate %g over %d weeks, want %g over %d", got, r.Weeks, c.want, c.weeks)
			}
		})
	}
}

func TestWeeklyOptions(t *testing.T) {
	end := time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC)
	for _, opt := range []Options{{}, {End: end, Weeks: -1}, {End: end, Alpha: 1}, {End: end, Alpha: -0.2}} {
		if _, err := Weekly(nil, opt); err == nil {
			t.Errorf("%+v accepted", opt)
		}
	}
}

// TestBacktestUsesNoFutureData: with one week of history, the target week
// (3 arrivals Tuesday 10:00) is forecast from the week before it only (2
// arrivals Monday 09:00: Mon 09:00-09:30 at 4 an hour, 2 contacts), so the
// error is (3 + 2) / 3. A backtest that let the target week (or the
// arrivals after it) into its own forecast would score 0.
func TestBacktestUsesNoFutureData(t *testing.T) {
	loc := newYork(t)
	arrivals := join(at(loc, 2, 9, 9, 0), at(loc, 3, 17, 10, 0), at(loc, 7, 24, 10, 0))
	opt := Options{Location: loc, End: time.Date(2026, 3, 23, 0, 0, 0, 0, loc), Weeks: 1}
	wape, err := Backtest(arrivals, opt, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !near(wape, 5.0/3) {
		t.Errorf("WAPE %g, want 5/3", wape)
	}
	// Weeks that repeat exactly are forecast exactly.
	same := join(at(loc, 2, 2, 9, 0), at(loc, 2, 9, 9, 0), at(loc, 2, 16, 9, 0))
	if wape, err := Backtest(same, opt, 2); err != nil || wape != 0 {
		t.Errorf("repeating weeks: WAPE %g, %v; want 0", wape, err)
	}
	if _, err := Backtest(nil, opt, 1); err == nil {
		t.Error("a backtest without arrivals gave a figure")
	}
}

func TestHandleTime(t *testing.T) {
	resolved := &actuals.Event{}
	tickets := []actuals.Ticket{
		{ID: 1, Resolved: resolved, TimeWorked: 10 * time.Minute},
		{ID: 2, Resolved: resolved, TimeWorked: 21 * time.Minute},
		{ID: 3, TimeWorked: 90 * time.Minute}, // not resolved: its work is not done
		{ID: 4, Resolved: resolved},           // no time recorded
	}
	cases := []struct {
		name string
		min  int
		want time.Duration
		ok   bool
	}{
		{"enough", 2, 15*time.Minute + 30*time.Second, true},
		{"too few", 3, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, n, ok := HandleTime(tickets, c.min)
			if got != c.want || ok != c.ok || n != 2 {
				t.Errorf("HandleTime = %s, %d, %v; want %s, 2, %v", got, n, ok, c.want, c.ok)
			}
		})
	}
	if _, _, ok := HandleTime(nil, 0); ok {
		t.Error("no tickets gave a handle time")
	}
}

// TestWeeklyClocksForwardAtMidnight: in Santiago the clocks go forward at
// 00:00 on Sunday 6 September 2026, so that date starts at 01:00. One
// week of history ending Monday 7 September: 3 arrivals on the Saturday
// at 12:00 and 4 on the Sunday at 12:00 are each their own weekday's
// (6 and 8 an hour); the Sunday's 00:00 and 00:30 did not exist, so they
// are no data, not zero. (Days keyed by time.Date at 00:00 put that
// Sunday on the Saturday's date: the Saturday was overwritten and the
// Sunday had no data.)
func TestWeeklyClocksForwardAtMidnight(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	arrivals := make([]time.Time, 0, 8)
	for range 3 {
		arrivals = append(arrivals, time.Date(2026, 9, 5, 12, 0, 0, 0, loc))
	}
	for range 4 {
		arrivals = append(arrivals, time.Date(2026, 9, 6, 12, 0, 0, 0, loc))
	}
	// 01:00 on the Sunday, its first instant: that date's 01:00 slot.
	arrivals = append(arrivals, time.Date(2026, 9, 6, 1, 0, 0, 0, loc))
	r, err := Weekly(arrivals, Options{Location: loc, End: time.Date(2026, 9, 7, 12, 0, 0, 0, loc), Weeks: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.PerHour[time.Saturday][24]; !near(got, 6) {
		t.Errorf("Saturday 12:00: %g an hour, want 6", got)
	}
	if got := r.PerHour[time.Sunday][24]; !near(got, 8) {
		t.Errorf("Sunday 12:00: %g an hour, want 8", got)
	}
	if got := r.PerHour[time.Sunday][2]; !near(got, 2) {
		t.Errorf("Sunday 01:00: %g an hour, want 2", got)
	}
}
