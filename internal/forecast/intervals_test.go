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
	"fmt"
	"strings"
	"testing"
	"time"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// set gives the half-hours [from, to) (HH:MM) of each day the rate.
func set(r *Rates, days []time.Weekday, from, to string, rate float64) {
	for _, d := range days {
		for s := slot(opsv1alpha1.ClockTime(from)); s < slot(opsv1alpha1.ClockTime(to)); s++ {
			r.PerHour[d][s] = rate
		}
	}
}

// show writes intervals one a line: "Mon,Tue 09:00-12:00 10".
func show(list []opsv1alpha1.DemandInterval) string {
	lines := make([]string, 0, len(list))
	for _, in := range list {
		days := make([]string, 0, len(in.Days))
		for _, d := range in.Days {
			days = append(days, string(d))
		}
		lines = append(lines, fmt.Sprintf("%s %s-%s %d", strings.Join(days, ","), in.From, in.To, in.ContactsPerHour))
	}
	return strings.Join(lines, "\n")
}

var (
	weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	mon      = []time.Weekday{time.Monday}
	monTue   = []time.Weekday{time.Monday, time.Tuesday}
)

// ladder is Monday's (and others') 08:00-17:00 in nine one-hour windows
// whose neighbours differ by 1, 14, 1, 19, 1, 18, 2 and 28.
func ladder(r *Rates, days []time.Weekday) {
	for i, rate := range []float64{5, 6, 20, 21, 40, 41, 60, 62, 90} {
		set(r, days, string(clock(16+2*i)), string(clock(18+2*i)), rate)
	}
}

func TestIntervals(t *testing.T) {
	cases := []struct {
		name  string
		rates func(r *Rates)
		max   int
		want  string
	}{{
		// 9.6 and 10.4 round to 10 and join 10's window; 0.4 rounds to 0
		// and is no demand.
		name: "round, merge equal half-hours, drop zero",
		rates: func(r *Rates) {
			set(r, mon, "09:00", "10:00", 9.6)
			set(r, mon, "10:00", "12:00", 10.4)
			set(r, mon, "12:00", "13:00", 4)
			set(r, mon, "20:00", "21:00", 0.4)
		},
		max:  64,
		want: "Mon 09:00-12:00 10\nMon 12:00-13:00 4",
	}, {
		// Identical windows on several days are one item; Tuesday shares
		// the morning only; Sunday's window ends at midnight.
		name: "days grouped",
		rates: func(r *Rates) {
			set(r, weekdays, "09:00", "12:00", 10)
			set(r, mon, "12:00", "13:00", 4)
			set(r, []time.Weekday{time.Saturday}, "09:00", "12:00", 10)
			set(r, []time.Weekday{time.Sunday}, "22:00", "24:00", 1)
		},
		max:  64,
		want: "Mon,Tue,Wed,Thu,Fri,Sat 09:00-12:00 10\nMon 12:00-13:00 4\nSun 22:00-24:00 1",
	}, {
		// Nine windows into 7: the pairs differing by 1 go first, the
		// earliest first (5,6 makes 6 at 5.5 rounded; then 20,21).
		name:  "cap: closest rates merged first",
		rates: func(r *Rates) { ladder(r, mon) },
		max:   7,
		want:  "Mon 08:00-10:00 6\nMon 10:00-12:00 21\nMon 12:00-13:00 40\nMon 13:00-14:00 41\nMon 14:00-15:00 60\nMon 15:00-16:00 62\nMon 16:00-17:00 90",
	}, {
		// Monday and Tuesday alike are merged together and stay grouped:
		// one merge (5,6 on both) makes 7 items. Merging on Monday alone
		// would split them (9 items) and go on to merge 20 and 21 too.
		name: "cap: grouped days merged together",
		rates: func(r *Rates) {
			for i, rate := range []float64{5, 6, 20, 21, 40, 60, 80} {
				set(r, monTue, string(clock(16+2*i)), string(clock(18+2*i)), rate)
			}
			set(r, []time.Weekday{time.Wednesday}, "08:00", "09:00", 3)
		},
		max:  7,
		want: "Mon,Tue 08:00-10:00 6\nMon,Tue 10:00-11:00 20\nMon,Tue 11:00-12:00 21\nMon,Tue 12:00-13:00 40\nMon,Tue 13:00-14:00 60\nMon,Tue 14:00-15:00 80\nWed 08:00-09:00 3",
	}, {
		// A zero gap is a window for merging: 1 an hour in every other
		// half-hour of Monday is 24 windows; max 3 is taken as 7; each
		// merge joins the earliest (1, 0) pair at 0.5, rounded to 1, into
		// the first window, 17 times.
		name: "cap: gaps merged",
		rates: func(r *Rates) {
			for s := 0; s < Slots; s += 2 {
				r.PerHour[time.Monday][s] = 1
			}
		},
		max:  3,
		want: "Mon 00:00-17:30 1\nMon 18:00-18:30 1\nMon 19:00-19:30 1\nMon 20:00-20:30 1\nMon 21:00-21:30 1\nMon 22:00-22:30 1\nMon 23:00-23:30 1",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r Rates
			c.rates(&r)
			got := r.Intervals(c.max)
			if show(got) != c.want {
				t.Errorf("got\n%s\nwant\n%s", show(got), c.want)
			}
			if round := expand(got); len(got) > 0 && show(rates(round).Intervals(c.max)) != c.want {
				t.Errorf("the intervals read back and compressed again differ: %s", show(rates(round).Intervals(c.max)))
			}
		})
	}
}

// rates wraps an expanded week.
func rates(f [7][Slots]float64) Rates { return Rates{PerHour: f} }

// TestIntervalsFit: every week of a busy desk (a different rate in every
// half-hour of every day) fits in MaxIntervals, deterministically.
func TestIntervalsFit(t *testing.T) {
	var r Rates
	for wd := range 7 {
		for s := range Slots {
			r.PerHour[wd][s] = float64((wd*31 + s*17) % 50)
		}
	}
	a, b := r.Intervals(MaxIntervals), r.Intervals(MaxIntervals)
	if len(a) > MaxIntervals || len(a) < MaxIntervals-8 || show(a) != show(b) {
		t.Errorf("%d intervals (want at most %d, not far fewer), same twice: %v", len(a), MaxIntervals, show(a) == show(b))
	}
}
