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
	"math"
	"slices"
	"sort"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// MaxIntervals is the most demand.intervals a queue may have (the API's
// MaxItems).
const MaxIntervals = 64

// weekOrder is the API's order of days, Monday first, as time.Weekday.
var weekOrder = [7]int{1, 2, 3, 4, 5, 6, 0}

// dayNames are the API's names by time.Weekday.
var dayNames = [7]opsv1alpha1.Weekday{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// run is a window of a day: half-hours [from, to) at one integer rate.
type run struct{ from, to, rate int }

// Intervals compresses r into at most limit demand intervals (a limit
// below 7 is taken as 7, enough for one window a day), deterministically:
//  1. each half-hour's rate is rounded to whole contacts per hour;
//  2. consecutive half-hours of a day with equal rates make one window;
//  3. days whose windows are identical are grouped: one item per
//     (from, to, rate) with all its days;
//  4. windows at rate 0 are dropped (a time outside every interval has
//     no demand);
//  5. while that is more than limit items, the adjacent pair of windows
//     (a zero-rate gap counts as a window) whose rates differ least is
//     merged, on every day that has the same windows as the first day
//     that has the pair (so grouped days stay grouped), into one window at
//     the time-weighted average rate, rounded; ties go to the shorter
//     pair, then the earlier day (Monday first), then the earlier time.
//
// Items are ordered by their first day (Monday first), then start.
func (r Rates) Intervals(limit int) []opsv1alpha1.DemandInterval {
	limit = max(limit, 7)
	var days [7][]run
	for wd := range 7 {
		for s := range Slots {
			rate := int(math.Round(r.PerHour[wd][s]))
			if n := len(days[wd]); n > 0 && days[wd][n-1].rate == rate {
				days[wd][n-1].to = s + 1
				continue
			}
			days[wd] = append(days[wd], run{s, s + 1, rate})
		}
	}
	for len(items(days)) > limit {
		if !mergeClosest(&days) {
			break
		}
	}
	return items(days)
}

// mergeClosest merges the adjacent pair of windows whose rates differ
// least (Intervals' rule 5) and reports whether there was a pair.
func mergeClosest(days *[7][]run) bool {
	bestDay, bestAt := -1, -1
	var bestDiff, bestLen int
	for _, wd := range weekOrder {
		runs := days[wd]
		for i := 0; i+1 < len(runs); i++ {
			diff := abs(runs[i].rate - runs[i+1].rate)
			length := runs[i+1].to - runs[i].from
			if bestDay < 0 || diff < bestDiff || (diff == bestDiff && length < bestLen) {
				bestDay, bestAt, bestDiff, bestLen = wd, i, diff, length
			}
		}
	}
	if bestDay < 0 {
		return false
	}
	pattern := slices.Clone(days[bestDay])
	for wd := range 7 {
		if slices.Equal(days[wd], pattern) {
			days[wd] = merged(pattern, bestAt)
		}
	}
	return true
}

// merged is runs with runs[i] and runs[i+1] made one window at their
// time-weighted average rate, rounded, joined with a neighbour that has
// the same rate.
func merged(runs []run, i int) []run {
	a, b := runs[i], runs[i+1]
	la, lb := a.to-a.from, b.to-b.from
	m := run{a.from, b.to, int(math.Round(float64(a.rate*la+b.rate*lb) / float64(la+lb)))}
	out := make([]run, 0, len(runs)-1)
	out = append(out, runs[:i]...)
	out = append(out, m)
	out = append(out, runs[i+2:]...)
	// Join equal neighbours so the window count stays minimal.
	joined := out[:1]
	for _, x := range out[1:] {
		if last := &joined[len(joined)-1]; last.rate == x.rate {
			last.to = x.to
			continue
		}
		joined = append(joined, x)
	}
	return joined
}

// items groups the non-zero windows of days into demand intervals.
func items(days [7][]run) []opsv1alpha1.DemandInterval {
	byKey := map[run][]int{}
	var order []run
	for pos, wd := range weekOrder {
		for _, x := range days[wd] {
			if x.rate == 0 {
				continue
			}
			if _, ok := byKey[x]; !ok {
				order = append(order, x)
			}
			byKey[x] = append(byKey[x], pos)
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if fa, fb := byKey[a][0], byKey[b][0]; fa != fb {
			return fa < fb
		}
		if a.from != b.from {
			return a.from < b.from
		}
		return a.to < b.to
	})
	out := make([]opsv1alpha1.DemandInterval, 0, len(order))
	for _, k := range order {
		in := opsv1alpha1.DemandInterval{From: clock(k.from), To: clock(k.to), ContactsPerHour: int32(k.rate)}
		for _, pos := range byKey[k] {
			in.Days = append(in.Days, dayNames[weekOrder[pos]])
		}
		out = append(out, in)
	}
	return out
}

// expand is the rate intervals give each half-hour of the week, by
// time.Weekday (what a pasted demand means).
func expand(intervals []opsv1alpha1.DemandInterval) [7][Slots]float64 {
	var f [7][Slots]float64
	for _, in := range intervals {
		from, to := slot(in.From), slot(in.To)
		for _, d := range in.Days {
			wd := slices.Index(dayNames[:], d)
			for s := from; s < to && wd >= 0; s++ {
				f[wd][s] = float64(in.ContactsPerHour)
			}
		}
	}
	return f
}

// clock writes half-hour s as HH:MM (48 is 24:00).
func clock(s int) opsv1alpha1.ClockTime {
	return opsv1alpha1.ClockTime(fmt.Sprintf("%02d:%02d", s/2, s%2*30))
}

// slot reads HH:MM (on :00 or :30) as a half-hour.
func slot(c opsv1alpha1.ClockTime) int {
	var h, m int
	_, _ = fmt.Sscanf(string(c), "%d:%d", &h, &m)
	return h*2 + m/30
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
