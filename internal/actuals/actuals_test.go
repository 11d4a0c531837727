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
	"encoding/json"
	"reflect"
	"testing"
	"time"
	_ "time/tzdata" // the zones below must not depend on the machine's tz database
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// The seeded week is in America/New_York around its 2026 spring change:
// Sunday 2026-03-08 02:00 EST (UTC-5) becomes 03:00 EDT (UTC-4). Wednesday
// 2026-03-11 is a holiday. The autumn change (Sunday 2026-11-01 02:00 EDT
// back to 01:00 EST) is used where a night gains an hour.
func ny(t *testing.T, month time.Month, day, hour, minute int) time.Time {
	t.Helper()
	return time.Date(2026, month, day, hour, minute, 0, 0, zone(t, "America/New_York"))
}

func utc(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, time.UTC)
}

// weekdays is Mon-Fri 09:00-17:00 with the Wednesday holiday.
func weekdays(t *testing.T) Calendar {
	spans := map[int][2]int{1: {540, 1020}, 2: {540, 1020}, 3: {540, 1020}, 4: {540, 1020}, 5: {540, 1020}}
	return NewCalendar(zone(t, "America/New_York"), spans, []string{"2026-03-11"})
}

// nights is a Saturday 20:00 to Sunday 04:00 shift, split at midnight as
// internal/queues' businessHours splits a shift that ends the next day.
func nights(t *testing.T) Calendar {
	return NewCalendar(zone(t, "America/New_York"), map[int][2]int{6: {1200, 1440}, 0: {0, 240}}, nil)
}

func TestSeededTimesAreWhatTheCommentsSay(t *testing.T) {
	// The hand computations below convert local to UTC; check the zone
	// agrees on both sides of the change.
	for _, c := range []struct{ local, want time.Time }{
		{ny(t, 3, 6, 16, 30), utc(3, 6, 21, 30)},
		{ny(t, 3, 9, 9, 20), utc(3, 9, 13, 20)},
		{ny(t, 3, 8, 0, 10), utc(3, 8, 5, 10)},
		{ny(t, 3, 8, 3, 10), utc(3, 8, 7, 10)},
	} {
		if !c.local.Equal(c.want) {
			t.Errorf("%v is %v, want %v", c.local, c.local.UTC(), c.want)
		}
	}
}

func TestBusinessTime(t *testing.T) {
	for _, c := range []struct {
		name     string
		cal      Calendar
		from, to time.Time
		want     time.Duration
	}{
		// Friday 16:30-17:00 and Monday 09:00-09:20: the weekend is closed
		// and Monday is in EDT. Wall clock: 63h50m; a fixed UTC-5 offset
		// would read Monday 09:20 EDT as 08:20 and give 30m.
		{"weekend and DST", weekdays(t), ny(t, 3, 6, 16, 30), ny(t, 3, 9, 9, 20), 50 * time.Minute},
		// Tuesday 16:00-17:00, the Wednesday holiday, Thursday 09:00-10:00.
		{"holiday", weekdays(t), ny(t, 3, 10, 16, 0), ny(t, 3, 12, 10, 0), 2 * time.Hour},
		{"within a day", weekdays(t), ny(t, 3, 9, 10, 0), ny(t, 3, 9, 10, 45), 45 * time.Minute},
		{"before opening", weekdays(t), ny(t, 3, 9, 7, 0), ny(t, 3, 9, 8, 59), 0},
		{"reversed", weekdays(t), ny(t, 3, 9, 12, 0), ny(t, 3, 9, 10, 0), 0},
		// Saturday 23:00-24:00 EST, then Sunday 00:00-04:00 on the clock,
		// which is 3 real hours on the night the clock skips 02:00-03:00;
		// summing the span's minutes would say 5h.
		{"night shift across midnight, spring forward", nights(t), ny(t, 3, 7, 23, 0), ny(t, 3, 8, 4, 0), 4 * time.Hour},
		// The autumn night repeats 01:00-02:00: Sunday's span is 5 real hours.
		{"night shift across midnight, fall back", nights(t), ny(t, 10, 31, 23, 0), ny(t, 11, 1, 4, 0), 6 * time.Hour},
		{"always open is wall clock", AlwaysOpen(zone(t, "America/New_York")), ny(t, 3, 7, 12, 0), ny(t, 3, 8, 12, 0), 23 * time.Hour},
		// Santiago goes from 00:00 to 01:00 on Sunday 6 September 2026: the
		// Sunday starts at 01:00 (time.Date's 00:00 is 23:00 on Saturday, a
		// day that never moved on). Saturday noon to Sunday noon is 23 real
		// hours; Saturday 22:00 to Sunday 02:00 is 2 + 1.
		{"day starting at 01:00", AlwaysOpen(zone(t, "America/Santiago")), santiago(t, 5, 12), santiago(t, 6, 12), 23 * time.Hour},
		{"across the skipped midnight", AlwaysOpen(zone(t, "America/Santiago")), santiago(t, 5, 22), santiago(t, 6, 2), 3 * time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.cal.BusinessTime(c.from, c.to); got != c.want {
				t.Errorf("BusinessTime(%v, %v) = %v, want %v", c.from, c.to, got, c.want)
			}
		})
	}
}

func TestIntervalStart(t *testing.T) {
	newYork := zone(t, "America/New_York")
	kathmandu := zone(t, "Asia/Kathmandu") // UTC+5:45
	for _, c := range []struct {
		name string
		at   time.Time
		loc  *time.Location
		want time.Time
	}{
		{"before midnight", utc(3, 8, 4, 45), newYork, utc(3, 8, 4, 30)}, // Sat 23:45 EST -> 23:30
		{"after midnight", utc(3, 8, 5, 10), newYork, utc(3, 8, 5, 0)},   // Sun 00:10 EST -> 00:00
		{"last EST half hour", utc(3, 8, 6, 59), newYork, utc(3, 8, 6, 30)},
		{"first EDT hour", utc(3, 8, 7, 10), newYork, utc(3, 8, 7, 0)}, // 03:10 EDT -> 03:00
		// Fall back: 01:15 happens twice, in two different intervals.
		{"first 01:15", utc(11, 1, 5, 15), newYork, utc(11, 1, 5, 0)},
		{"second 01:15", utc(11, 1, 6, 15), newYork, utc(11, 1, 6, 0)},
		// 10:20 local is 04:35Z; the interval starts 10:00 local, 04:15Z,
		// where truncating in UTC would give 04:30Z (10:15 local).
		{"offset not whole hours", utc(3, 9, 4, 35), kathmandu, utc(3, 9, 4, 15)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := IntervalStart(c.at, c.loc)
			if !got.Equal(c.want) || got.Location() != c.loc {
				t.Errorf("IntervalStart(%v) = %v, want %v in %v", c.at, got, c.want.In(c.loc), c.loc)
			}
		})
	}
}

func mins(ms ...int) []time.Duration {
	out := make([]time.Duration, 0, len(ms))
	for _, m := range ms {
		out = append(out, time.Duration(m)*time.Minute)
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	twenty := mins(20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
	for _, c := range []struct {
		name   string
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", mins(5), 90, 5 * time.Minute},
		// rank ceil(0.5*4) = 2: the lower middle, not the 2.5 an average gives.
		{"median of four", mins(4, 1, 3, 2), 50, 2 * time.Minute},
		{"p90 of four", mins(4, 1, 3, 2), 90, 4 * time.Minute},
		{"median of five", mins(5, 3, 1, 4, 2), 50, 3 * time.Minute},
		// rank ceil(0.9*10) = 9: interpolation would give 9.1.
		{"p90 of ten", mins(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 90, 9 * time.Minute},
		{"p90 of twenty", twenty, 90, 18 * time.Minute},
		{"p100", twenty, 100, 20 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Percentile(c.values, c.p); got != c.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", c.values, c.p, got, c.want)
			}
		})
	}
}

func TestFoldTicket(t *testing.T) {
	at := func(h, m int) time.Time { return utc(3, 9, h, m) }
	history := []Transaction{
		// Out of order on purpose: the fold sorts by time.
		{ID: 6, Type: "Status", Creator: "alice", Created: at(12, 0), NewValue: "resolved"},
		{ID: 1, Type: "Create", Creator: "customer@example.com", Created: at(9, 0)},
		{ID: 2, Type: "Correspond", Creator: "RT_System", Created: at(9, 0)}, // auto-reply
		{ID: 3, Type: "Correspond", Creator: "customer@example.com", Created: at(9, 30)},
		{ID: 5, Type: "Correspond", Creator: "bob", Created: at(11, 0)},
		{ID: 4, Type: "Correspond", Creator: "alice", Created: at(10, 0)},
		{ID: 7, Type: "Status", Creator: "customer@example.com", Created: at(13, 0), NewValue: "open"},
		{ID: 8, Type: "Status", Creator: "bob", Created: at(14, 0), NewValue: "resolved"},
	}
	base := Ticket{ID: 1, Queue: "Support", Created: at(9, 0)}
	want := Ticket{ID: 1, Queue: "Support", Created: at(9, 0),
		Replies:  []Event{{At: at(10, 0), User: "alice"}, {At: at(11, 0), User: "bob"}},
		Resolved: &Event{At: at(12, 0), User: "alice"}}
	for _, c := range []struct {
		name       string
		requestors []string
	}{
		{"requestor role", []string{"customer@example.com"}},
		// Without a requestor the Create transaction's creator is one.
		{"creator as requestor", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := FoldTicket(base, c.requestors, history)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("FoldTicket = %+v, want %+v", got, want)
			}
			// Folding again (the ticket read twice) changes nothing.
			if again := FoldTicket(got, c.requestors, history); !reflect.DeepEqual(again, want) {
				t.Errorf("second FoldTicket = %+v, want %+v", again, want)
			}
		})
	}
}

func TestTransactionDecoding(t *testing.T) {
	// REST2 gives each item a lowercase "type" ("transaction") beside the
	// transaction's Type, in Perl's random key order; the lowercase one
	// must never be taken for the Type.
	for _, body := range []string{
		`{"id":"46","Type":"Correspond","type":"transaction","Creator":{"Name":"alice","id":"alice","type":"user"}}`,
		`{"type":"transaction","id":"46","Creator":{"type":"user","id":"alice","Name":"alice"},"Type":"Correspond"}`,
	} {
		var tx rtTransaction
		if err := json.Unmarshal([]byte(body), &tx); err != nil {
			t.Fatal(err)
		}
		if tx.Type != "Correspond" || tx.Creator.name() != "alice" || tx.ID.String() != "46" {
			t.Errorf("%s decoded as %+v", body, tx)
		}
	}
}

// santiago is hour h of a September 2026 day in America/Santiago.
func santiago(t *testing.T, day, h int) time.Time {
	t.Helper()
	return time.Date(2026, time.September, day, h, 0, 0, 0, zone(t, "America/Santiago"))
}
