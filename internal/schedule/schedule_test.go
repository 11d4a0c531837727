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

package schedule

import (
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	from := time.Date(2026, time.March, 28, 12, 0, 0, 0, time.UTC) // the day before Europe springs forward
	cases := []struct {
		name       string
		spec, zone string
		want       string
	}{
		{"DST spring forward skips 02:00", "0 2 * * *", "Europe/Warsaw", "2026-03-30T02:00:00+02:00"}, // 02:00 does not exist on the 29th (clocks jump to 03:00)
		{"weekly on Sunday", "0 4 * * 0", "UTC", "2026-03-29T04:00:00Z"},
		{"hourly macro", "@hourly", "UTC", "2026-03-28T13:00:00Z"},
		{"weekday business hours over a weekend", "*/15 8-18 * * MON-FRI", "America/New_York", "2026-03-30T08:00:00-04:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Next(tc.spec, tc.zone, from)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := time.Parse(time.RFC3339, tc.want)
			if !got.Equal(want) {
				t.Errorf("Next(%q, %s) = %v, want %v", tc.spec, tc.zone, got, want)
			}
		})
	}
	if _, err := Next("61 * * * *", "UTC", from); err == nil {
		t.Error("minute 61 accepted")
	}
	if _, err := Next("@daily", "Mars/Olympus", from); err == nil {
		t.Error("unknown zone accepted")
	}
}
