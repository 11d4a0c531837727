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
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/actuals"
)

// TestKept: whole contacts per hour keep what rounds up and lose what
// rounds down. 6 an hour on Monday 09:00-09:30 is kept whole (3
// contacts); 0.4 an hour in 10 half-hours (2 contacts) rounds to nothing:
// 3 of 5 kept, 60 %; 0.6 an hour there rounds to 1: 3+5 of 3+3, 133 %.
// No contacts at all lose nothing.
func TestKept(t *testing.T) {
	cases := []struct {
		name   string
		sparse float64
		want   float64
	}{
		{"only the whole rate", 0, 1},
		{"a sparse tail rounded away", 0.4, 3.0 / 5},
		{"a sparse tail rounded up", 0.6, 8.0 / 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r Rates
			r.PerHour[time.Monday][18] = 6
			for s := 20; s < 30; s++ {
				r.PerHour[time.Tuesday][s] = c.sparse
			}
			if got := r.Kept(r.Intervals(MaxIntervals)); !near(got, c.want) {
				t.Errorf("Kept = %g, want %g", got, c.want)
			}
		})
	}
	if got := (Rates{}).Kept(nil); got != 1 {
		t.Errorf("no contacts: Kept = %g, want 1", got)
	}
}

// TestQueueDemand: the history's choice shared by the operator and the
// CLI, now Monday 23 March 2026 10:00 New York, 28 days read (from
// Monday 23 February 10:00). q's Mondays have 2 tickets at 09:05 and
// 09:25, each resolved with 20 minutes worked.
func TestQueueDemand(t *testing.T) {
	loc := newYork(t)
	now := time.Date(2026, 3, 23, 10, 0, 0, 0, loc)
	readFrom := now.Add(-28 * 24 * time.Hour)
	monday := func(day, minute int) actuals.Ticket { // February, overflowing into March
		c := time.Date(2026, time.February, day, 9, minute, 0, 0, loc)
		return actuals.Ticket{Queue: "q", Created: c, Resolved: &actuals.Event{At: c.Add(time.Hour)}, TimeWorked: 20 * time.Minute}
	}
	// eleven is a ticket at 11:00 on 23 February, after the read began:
	// were that day history, Monday 11:00 would have a rate.
	eleven := monday(23, 0)
	eleven.Created = eleven.Created.Add(2 * time.Hour)
	mondays := func(days ...int) []actuals.Ticket {
		out := make([]actuals.Ticket, 0, 2*len(days))
		for _, d := range days {
			out = append(out, monday(d, 5), monday(d, 25))
		}
		return out
	}
	cases := []struct {
		name    string
		tickets []actuals.Ticket
		rate    float64 // Monday 09:00's forecast
		start   string
		weeks   int
		n       int
		err     string
	}{
		{name: "no ticket", err: "no ticket of queue q in the last 28 days"},
		{name: "another queue's tickets", tickets: []actuals.Ticket{{Queue: "other", Created: now.Add(-time.Hour)}}, err: "no ticket of queue q"},
		{name: "first ticket six days old", tickets: []actuals.Ticket{monday(28+17, 0)}, err: "less than a week old"},
		// 28×24 hours before now is 23 February 09:00 (the clocks went
		// forward on 8 March): that day is read from 09:00 only, so its
		// tickets (09:05, 09:25) count for the handle time but the day
		// is not history: it starts on the 24th and three Mondays have
		// data, each 4 an hour (with the 23rd's 09:25 half-hour it would
		// still be 4, with its 09:00 half-hour missing, less).
		{name: "the first day read is partial", tickets: append(mondays(23, 28+2, 28+9, 28+16), eleven), rate: 4, start: "2026-02-24", weeks: 4, n: 9},
		// A queue new two weeks ago: the weeks before its first ticket
		// are no data, so 4 an hour, not 2.
		{name: "history from the first ticket's day", tickets: mondays(28+9, 28+16), rate: 4, start: "2026-03-09", weeks: 2, n: 4},
		// Today's tickets count for the handle time, not the rates.
		{name: "today's tickets", tickets: append(mondays(28+9, 28+16), monday(28+23, 5)), rate: 4, start: "2026-03-09", weeks: 2, n: 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := QueueDemand(c.tickets, "q", Options{Location: loc, End: now, Weeks: 4}, readFrom, 1)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want one with %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Rates.PerHour[time.Monday][18]; !near(got, c.rate) || d.Start.Format(time.DateOnly) != c.start || d.Rates.Weeks != c.weeks {
				t.Errorf("Monday 09:00 %g an hour from %s, %d weeks; want %g from %s, %d weeks", got, d.Start.Format(time.DateOnly), d.Rates.Weeks, c.rate, c.start, c.weeks)
			}
			if got := d.Rates.PerHour[time.Monday][22]; got != 0 {
				t.Errorf("Monday 11:00 %g an hour, want 0 (the partial first day is not history)", got)
			}
			if d.End.Format(time.RFC3339) != "2026-03-23T00:00:00-04:00" || d.Kept != 1 || len(d.Intervals) != 1 {
				t.Errorf("end %s, kept %g, intervals %+v", d.End.Format(time.RFC3339), d.Kept, d.Intervals)
			}
			want := c.n
			if d.Tickets != want || d.Handled != want || !d.HandleTimeOK || d.HandleTime != 20*time.Minute {
				t.Errorf("%d tickets, %d handled, handle time %v %v; want %d, %d, 20m", d.Tickets, d.Handled, d.HandleTime, d.HandleTimeOK, want, want)
			}
		})
	}
}
