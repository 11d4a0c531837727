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

package roster

import (
	"fmt"
	"time"

	"github.com/supportstack/operator/internal/coverage"
	"github.com/supportstack/operator/internal/localday"
)

// model is a Problem compiled for the solver, the validator and the MILP.
type model struct {
	p     Problem
	rules Rules
	n     int // half-hours in the horizon
	days  int // days in the horizon
	// ivMinute is each half-hour's wall-clock minute of the day; dayIv the
	// half-hours of each day of the horizon, in order.
	ivMinute []int
	dayIv    [][]int
	// dayWeekday[d+1] is the weekday of day d, d from -1 (the day before
	// the horizon) to days.
	dayWeekday []time.Weekday
	dayDate    []coverage.Date
	// removed[m][d+1]: member m's instances starting on day d are removed.
	removed [][]bool
	cands   []Shift
	candIdx map[Shift]int
	// allowed[m][w] are the candidates available to member m on weekday w.
	allowed  [][7][]int
	eligible [][]int // queues each member serves
	serving  []bool  // member serves at least one queue
	// conflict[w][a*len(cands)+b]: a on weekday w then b the next day
	// leaves less than MinRest on some date.
	conflict [7][]bool
	unsocial [7][]bool
	contract []int // minutes per week, rounded down to the half-hour
	req      [][]int
}

func compile(p Problem) (*model, error) {
	if p.Location == nil {
		return nil, fmt.Errorf("problem has no time zone")
	}
	if p.Weeks < 1 || p.Weeks > 4 {
		return nil, fmt.Errorf("weeks %d: need 1 to 4", p.Weeks)
	}
	start := p.Start.In(p.Location)
	if start.Hour() != 0 || start.Minute() != 0 || start.Second() != 0 || start.Nanosecond() != 0 {
		return nil, fmt.Errorf("horizon start %s is not a local midnight", start)
	}
	r := p.Rules.withDefaults()
	if err := r.validate(); err != nil {
		return nil, err
	}
	md := &model{p: p, rules: r, days: 7 * p.Weeks, cands: r.Candidates(), candIdx: map[Shift]int{}}
	for i, c := range md.cands {
		md.candIdx[c] = i
	}
	end := md.date(md.days)
	md.n = int(end.Sub(start) / coverage.IntervalLength)
	for q := range p.Queues {
		if len(p.Required) != len(p.Queues) || len(p.Required[q]) != md.n {
			return nil, fmt.Errorf("required staff: need %d queues x %d half-hours", len(p.Queues), md.n)
		}
	}
	md.dayIv = make([][]int, md.days)
	for i := 0; i < md.n; i++ {
		t := start.Add(time.Duration(i) * coverage.IntervalLength)
		md.ivMinute = append(md.ivMinute, t.Hour()*60+t.Minute())
		d := md.dayOf(t)
		md.dayIv[d] = append(md.dayIv[d], i)
	}
	for d := -1; d <= md.days; d++ {
		t := md.date(d)
		md.dayWeekday = append(md.dayWeekday, t.Weekday())
		md.dayDate = append(md.dayDate, coverage.DateOf(t))
	}
	if err := md.members(); err != nil {
		return nil, err
	}
	md.rest()
	for w := range 7 {
		md.unsocial[w] = make([]bool, len(md.cands))
		for c, s := range md.cands {
			md.unsocial[w][c] = Unsocial(time.Weekday(w), s)
		}
	}
	md.req = make([][]int, md.n)
	for i := range md.req {
		md.req[i] = make([]int, len(p.Queues))
		for q := range p.Queues {
			md.req[i][q] = p.Required[q][i]
		}
	}
	return md, nil
}

// date returns the first instant of day d of the horizon: local midnight,
// or 01:00 where the clocks go forward at midnight (time.Date would give
// 23:00 of the day before there).
func (md *model) date(d int) time.Time {
	s := md.p.Start.In(md.p.Location)
	return localday.Start(s.Year(), s.Month(), s.Day()+d, md.p.Location)
}

func (md *model) dayOf(t time.Time) int {
	s := md.p.Start.In(md.p.Location)
	// Count calendar days at noon UTC so no clock change skews them.
	a := time.Date(s.Year(), s.Month(), s.Day(), 12, 0, 0, 0, time.UTC)
	b := time.Date(t.Year(), t.Month(), t.Day(), 12, 0, 0, 0, time.UTC)
	return int(b.Sub(a) / (24 * time.Hour))
}

// at returns the absolute time of minute m (may exceed a day) of day d.
func (md *model) at(d, minute int) time.Time {
	s := md.p.Start.In(md.p.Location)
	return time.Date(s.Year(), s.Month(), s.Day()+d, 0, minute, 0, 0, md.p.Location)
}

func (md *model) members() error {
	index := map[string]int{}
	holiday := map[coverage.Date]bool{}
	for _, h := range md.p.Holidays {
		holiday[h] = true
	}
	for m, mem := range md.p.Members {
		if _, dup := index[mem.Name]; dup {
			return fmt.Errorf("member %s listed twice", mem.Name)
		}
		index[mem.Name] = m
		el := served(mem.Skills, md.p.Queues)
		md.eligible = append(md.eligible, el)
		md.serving = append(md.serving, len(el) > 0)
		h := mem.HoursPerWeek
		if h == 0 {
			h = 40
		}
		md.contract = append(md.contract, int(h*2)*30)
		rm := make([]bool, md.days+2)
		for d := range rm {
			rm[d] = holiday[md.dayDate[d]]
		}
		md.removed = append(md.removed, rm)
		var allowed [7][]int
		for w := range 7 {
			for c, s := range md.cands {
				if available(mem.Availability, time.Weekday(w), s) {
					allowed[w] = append(allowed[w], c)
				}
			}
		}
		md.allowed = append(md.allowed, allowed)
	}
	for _, a := range md.p.Absences {
		m, ok := index[a.Member]
		if !ok {
			return fmt.Errorf("time off for %q, who is not a member", a.Member)
		}
		for d, date := range md.dayDate {
			if !date.Before(a.From) && !a.To.Before(date) {
				md.removed[m][d] = true
			}
		}
	}
	return nil
}

func served(skills []string, queues []Queue) []int {
	has := map[string]bool{}
	for _, s := range skills {
		has[s] = true
	}
	var out []int
	for q, queue := range queues {
		ok := true
		for _, s := range queue.Skills {
			ok = ok && has[s]
		}
		if ok {
			out = append(out, q)
		}
	}
	return out
}

// available reports whether every half-hour of s on weekday w lies in a
// window of the weekday it falls on.
func available(windows []Window, w time.Weekday, s Shift) bool {
	if len(windows) == 0 {
		return true
	}
	for m := s.Start; m < s.Start+s.Length; m += 30 {
		day, minute := (w+time.Weekday(m/1440))%7, m%1440
		in := false
		for _, win := range windows {
			in = in || (win.Day == day && minute >= win.From && minute+30 <= win.To)
		}
		if !in {
			return false
		}
	}
	return true
}

// rest fills conflict: shift a on day d then b on day d+1, for every d from
// the day before the horizon to its last day (the pattern repeats, so this
// includes the week wrap), in absolute time.
func (md *model) rest() {
	nc := len(md.cands)
	for w := range 7 {
		md.conflict[w] = make([]bool, nc*nc)
	}
	for d := -1; d < md.days; d++ {
		w := md.dayWeekday[d+1]
		for a, sa := range md.cands {
			end := md.at(d, sa.Start+sa.Length)
			for b, sb := range md.cands {
				if md.at(d+1, sb.Start).Sub(end) < time.Duration(md.rules.MinRest)*time.Minute {
					md.conflict[w][a*nc+b] = true
				}
			}
		}
	}
}

// restOK reports whether shift a on weekday w and b the next day keep the
// rest on every date (indices into cands; -1 is off).
func (md *model) restOK(w time.Weekday, a, b int) bool {
	return a < 0 || b < 0 || !md.conflict[w][a*len(md.cands)+b]
}

// cover appends the half-hours of the horizon that the instance of shift c
// starting on day d (from -1) covers, by coverage's wall-clock rule.
func (md *model) cover(d, c int, dst []int) []int {
	return md.coverShift(d, md.cands[c], dst)
}

// coverShift is cover for any shift, candidate or not.
func (md *model) coverShift(d int, s Shift, dst []int) []int {
	end := s.Start + s.Length
	if d >= 0 {
		for _, i := range md.dayIv[d] {
			if md.ivMinute[i] >= s.Start && md.ivMinute[i] < end {
				dst = append(dst, i)
			}
		}
	}
	if end > 1440 && d+1 < md.days {
		for _, i := range md.dayIv[d+1] {
			if md.ivMinute[i] < end-1440 {
				dst = append(dst, i)
			}
		}
	}
	return dst
}

// instances returns the days (from -1) on which a shift on weekday w starts
// and is not removed for member m.
func (md *model) instances(m int, w time.Weekday) []int {
	var out []int
	for d := -1; d < md.days; d++ {
		if md.dayWeekday[d+1] == w && !md.removed[m][d+1] {
			out = append(out, d)
		}
	}
	return out
}
