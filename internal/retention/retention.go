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

// Package retention decides which backups prune keeps, with restic
// forget's keep rules applied to whole recovery sets instead of single
// snapshots.
//
// restic forget groups snapshots by their tags; once every snapshot of a
// backup run carries that run's name as a tag, each run is a group of its
// own and every keep rule keeps everything. So prune lists the snapshots,
// groups them into recovery sets here, and forgets by id: a set is kept or
// forgotten whole, never one source of it.
package retention

import (
	"fmt"
	"sort"
	"time"
)

// Rules are restic's keep rules; a unit kept by any rule is kept.
type Rules struct {
	Last, Hourly, Daily, Weekly, Monthly, Yearly int
}

// Empty reports whether no rule keeps anything.
func (r Rules) Empty() bool {
	return r.Last <= 0 && r.Hourly <= 0 && r.Daily <= 0 && r.Weekly <= 0 && r.Monthly <= 0 && r.Yearly <= 0
}

// Unit is what is kept or forgotten as a whole: a recovery set.
type Unit struct {
	Name string
	// Time is when the unit was taken (a set's first snapshot).
	Time time.Time
	// Complete is a set in which every source of the policy succeeded.
	Complete bool
	// Verified is a set a drill proved restorable.
	Verified bool
}

// Decision is one unit's fate and the reasons it is kept.
type Decision struct {
	Unit
	Keep    bool
	Reasons []string
}

// Apply decides which units to keep, like restic forget: newest first,
// keep-last keeps the N newest, each bucket rule keeps the newest unit of
// each of the N newest hours/days/ISO weeks/months/years that have one
// (times in UTC). Whatever the rules say, it also keeps the newest complete
// set, so that prune never leaves a policy without one whole recovery
// point, and the newest verified set, the last one a drill proved.
func Apply(units []Unit, rules Rules) []Decision {
	out := make([]Decision, len(units))
	for i, u := range units {
		out[i] = Decision{Unit: u}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	buckets := []struct {
		name string
		n    int
		key  func(time.Time) string
	}{
		{"hourly", rules.Hourly, func(t time.Time) string { return t.Format("2006-01-02T15") }},
		{"daily", rules.Daily, func(t time.Time) string { return t.Format("2006-01-02") }},
		{"weekly", rules.Weekly, func(t time.Time) string {
			y, w := t.ISOWeek()
			return fmt.Sprintf("%04d-W%02d", y, w)
		}},
		{"monthly", rules.Monthly, func(t time.Time) string { return t.Format("2006-01") }},
		{"yearly", rules.Yearly, func(t time.Time) string { return t.Format("2006") }},
	}
	last := make([]string, len(buckets))
	left := make([]int, len(buckets))
	for b := range buckets {
		left[b] = buckets[b].n
	}
	complete, verified := false, false
	for i := range out {
		d := &out[i]
		t := d.Time.UTC()
		if i < rules.Last {
			d.Reasons = append(d.Reasons, "last")
		}
		for b, bucket := range buckets {
			if left[b] <= 0 {
				continue
			}
			if k := bucket.key(t); k != last[b] {
				last[b] = k
				left[b]--
				d.Reasons = append(d.Reasons, bucket.name)
			}
		}
		if d.Complete && !complete {
			complete = true
			d.Reasons = append(d.Reasons, "newest complete")
		}
		if d.Verified && !verified {
			verified = true
			d.Reasons = append(d.Reasons, "newest verified")
		}
		d.Keep = len(d.Reasons) > 0
	}
	return out
}
