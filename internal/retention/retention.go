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
// (times in UTC).
//
// The rules choose among complete sets: an incomplete set cannot be
// restored whole, so it must not take the slot of a complete one (two runs
// a day, the afternoon one always missing a source, would otherwise keep
// only afternoons). Incomplete sets newer than the newest complete one (a
// run in progress, or a source failing since) are kept by the same rules
// among themselves, since they hold the newest copy of the sources that
// did succeed; older incomplete sets are forgotten. Whatever the rules
// say, the newest complete set and the newest verified set (the last one a
// drill proved) are kept.
func Apply(units []Unit, rules Rules) []Decision {
	out := make([]Decision, len(units))
	for i, u := range units {
		out[i] = Decision{Unit: u}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	var complete, newer []*Decision
	newestComplete := -1
	for i := range out {
		switch {
		case out[i].Complete:
			if newestComplete < 0 {
				newestComplete = i
				out[i].Reasons = append(out[i].Reasons, "newest complete")
			}
			complete = append(complete, &out[i])
		case newestComplete < 0:
			newer = append(newer, &out[i])
		}
	}
	applyRules(complete, rules)
	applyRules(newer, rules)
	for i := range out {
		if out[i].Verified {
			out[i].Reasons = append(out[i].Reasons, "newest verified")
			break
		}
	}
	for i := range out {
		out[i].Keep = len(out[i].Reasons) > 0
	}
	return out
}

// applyRules adds the reasons the keep rules keep each unit, newest first.
func applyRules(units []*Decision, rules Rules) {
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
	for i, d := range units {
		t := d.Time.UTC()
		var reasons []string
		if i < rules.Last {
			reasons = append(reasons, "last")
		}
		for b, bucket := range buckets {
			if left[b] <= 0 {
				continue
			}
			if k := bucket.key(t); k != last[b] {
				last[b] = k
				left[b]--
				reasons = append(reasons, bucket.name)
			}
		}
		// The rules' reasons first, then the guarantees.
		d.Reasons = append(reasons, d.Reasons...)
	}
}
