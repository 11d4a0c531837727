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

// Package localday finds where local dates begin. A day is a calendar
// date of a time zone, stepped as (y, m, d+1), never as 24 hours.
package localday

import "time"

// Start is the first instant of the local date y-m-d in loc (d may
// overflow the month, as in time.Date). It is 00:00 except where the
// clocks go forward at midnight (America/Santiago, America/Havana,
// Africa/Cairo, Asia/Beirut): there 00:00 does not exist and the day
// starts at 01:00. time.Date(y, m, d, 0, 0, 0, 0, loc) is not that: for
// such a date it may return 23:00 of the day before, a date that steps
// back onto itself.
func Start(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	want := time.Date(y, m, d, 12, 0, 0, 0, time.UTC) // the normalised date
	if ty, tm, td := t.Date(); ty != want.Year() || tm != want.Month() || td != want.Day() {
		// t is in the day before, in the zone that ends at the gap:
		// the day starts where the next zone does.
		_, end := t.ZoneBounds()
		return end
	}
	return t
}

// Of is the first instant of t's local date in loc.
func Of(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return Start(y, m, d, loc)
}

// IsStart reports whether t is the first instant of its local date in
// loc.
func IsStart(t time.Time, loc *time.Location) bool {
	return t.Equal(Of(t, loc))
}
