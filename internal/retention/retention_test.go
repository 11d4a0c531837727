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

package retention

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestApply(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	// Two runs a day, 20..30 November: 02:00 and 14:00.
	daily := func(mark func(u *Unit)) []Unit {
		var units []Unit
		for d := 20; d <= 30; d++ {
			for _, h := range []int{2, 14} {
				u := Unit{Name: day(d, h).Format("0102-15"), Time: day(d, h), Complete: true}
				mark(&u)
				units = append(units, u)
			}
		}
		return units
	}
	none := func(*Unit) {}
	tests := []struct {
		name  string
		units []Unit
		rules Rules
		kept  []string // names kept, newest first
		why   map[string]string
	}{
		{
			name: "keep-last", units: daily(none), rules: Rules{Last: 3},
			kept: []string{"1130-14", "1130-02", "1129-14"},
		},
		{
			name: "keep-daily keeps the newest of each day", units: daily(none), rules: Rules{Daily: 3},
			kept: []string{"1130-14", "1129-14", "1128-14"},
		},
		{
			name: "rules add up", units: daily(none), rules: Rules{Last: 2, Daily: 2},
			kept: []string{"1130-14", "1130-02", "1129-14"},
			why:  map[string]string{"1130-14": "last,daily,newest complete", "1130-02": "last", "1129-14": "daily"},
		},
		{
			name: "weekly uses ISO weeks", units: daily(none), rules: Rules{Weekly: 2},
			// 30 Nov 2026 is a Monday: week 49 holds only it; week 48 ends Sunday the 29th.
			kept: []string{"1130-14", "1129-14"},
		},
		{
			name: "monthly and yearly", units: daily(none), rules: Rules{Monthly: 5, Yearly: 5},
			kept: []string{"1130-14"},
			why:  map[string]string{"1130-14": "monthly,yearly,newest complete"},
		},
		{
			name: "the newest verified set survives rules that would forget it",
			units: daily(func(u *Unit) {
				u.Verified = u.Name == "1121-02" || u.Name == "1120-02"
			}),
			rules: Rules{Last: 2},
			kept:  []string{"1130-14", "1130-02", "1121-02"},
			why:   map[string]string{"1121-02": "newest verified"},
		},
		{
			name: "the newest complete set survives newer incomplete ones",
			units: daily(func(u *Unit) {
				u.Complete = u.Time.Before(day(29, 0))
			}),
			rules: Rules{Last: 2},
			// The incomplete sets newer than it are kept by the rules among
			// themselves; the complete ones likewise.
			kept: []string{"1130-14", "1130-02", "1128-14", "1128-02"},
			why:  map[string]string{"1128-14": "last,newest complete", "1130-02": "last"},
		},
		{
			name: "incomplete sets never take a complete set's slot",
			units: daily(func(u *Unit) {
				u.Complete = u.Time.Hour() == 2 // the afternoon run always misses a source
			}),
			rules: Rules{Daily: 3},
			kept:  []string{"1130-14", "1130-02", "1129-02", "1128-02"},
			why:   map[string]string{"1130-14": "daily", "1130-02": "daily,newest complete"},
		},
		{
			name: "no complete set (a source was just added): the rules among all",
			units: daily(func(u *Unit) {
				u.Complete = false
			}),
			rules: Rules{Last: 2},
			kept:  []string{"1130-14", "1130-02"},
		},
		{
			name: "unsorted input is sorted newest first",
			units: []Unit{
				{Name: "old", Time: day(1, 0)}, {Name: "new", Time: day(3, 0)}, {Name: "mid", Time: day(2, 0)},
			},
			rules: Rules{Last: 2},
			kept:  []string{"new", "mid"},
		},
		{name: "nothing to decide", rules: Rules{Last: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var kept []string
			for _, d := range Apply(tt.units, tt.rules) {
				if d.Keep {
					kept = append(kept, d.Name)
				}
				if want, ok := tt.why[d.Name]; ok && strings.Join(d.Reasons, ",") != want {
					t.Errorf("%s kept for %v, want %s", d.Name, d.Reasons, want)
				}
			}
			if !slices.Equal(kept, tt.kept) {
				t.Errorf("kept %v, want %v", kept, tt.kept)
			}
		})
	}
}

func TestRulesEmpty(t *testing.T) {
	if !(Rules{}).Empty() || (Rules{Yearly: 1}).Empty() {
		t.Fatal("Empty is wrong")
	}
}
