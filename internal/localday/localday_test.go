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

package localday

import (
	"testing"
	"time"
)

// TestStart: the four zones whose clocks go forward at midnight in 2026
// (two where time.Date lands on 23:00 of the day before, two where it
// lands on 01:00), a fall-back day, an ordinary day and a day that
// overflows its month.
func TestStart(t *testing.T) {
	cases := []struct {
		zone    string
		y       int
		m       time.Month
		d       int
		want    string
		isStart bool // whether 00:00 as time.Date builds it is Start
	}{
		{"America/Santiago", 2026, 9, 6, "2026-09-06T01:00:00-03:00", false},
		{"America/Havana", 2026, 3, 8, "2026-03-08T01:00:00-04:00", false},
		{"Africa/Cairo", 2026, 4, 24, "2026-04-24T01:00:00+03:00", true},
		{"Asia/Beirut", 2026, 3, 29, "2026-03-29T01:00:00+03:00", true},
		{"America/Santiago", 2026, 9, 7, "2026-09-07T00:00:00-03:00", true},
		{"America/New_York", 2026, 11, 1, "2026-11-01T00:00:00-04:00", true},
		{"America/New_York", 2026, 10, 32, "2026-11-01T00:00:00-04:00", true},
	}
	for _, c := range cases {
		t.Run(c.zone+" "+c.want, func(t *testing.T) {
			loc, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			got := Start(c.y, c.m, c.d, loc)
			if got.Format(time.RFC3339) != c.want || got.Location() != loc {
				t.Errorf("Start = %s (%s), want %s in %s", got.Format(time.RFC3339), got.Location(), c.want, loc)
			}
			naive := time.Date(c.y, c.m, c.d, 0, 0, 0, 0, loc)
			if IsStart(naive, loc) != c.isStart {
				t.Errorf("IsStart(%s) = %v, want %v", naive.Format(time.RFC3339), !c.isStart, c.isStart)
			}
			if !IsStart(got, loc) || IsStart(got.Add(time.Nanosecond), loc) || IsStart(got.Add(-time.Nanosecond), loc) {
				t.Errorf("IsStart wrong about %s or its neighbours", got.Format(time.RFC3339))
			}
			if of := Of(got.Add(12*time.Hour), loc); !of.Equal(got) {
				t.Errorf("Of(noon) = %s, want %s", of.Format(time.RFC3339), c.want)
			}
		})
	}
}
