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

// Package coverage expands a team's shifts, members, time off and holidays
// into scheduled staff per 30-minute interval, compares it with the staff each
// queue requires (package staffing) and summarises the gaps. It has no
// Kubernetes client and must not import one (nor controller); FromSpec
// converts the API type.
//
// Rules, all in the team's time zone:
//
//   - Intervals are the 336 half-hours following the local half-hour that
//     contains "now". They are consecutive in absolute time, so a day with a
//     daylight-saving change has 46 or 50 of them, and shifts, demand windows
//     and dates are read on the wall clock.
//   - A shift covers [start, end) of the day it starts on; end <= start runs
//     past midnight into the next day. Time off and closed holidays remove
//     whole shift instances by the date the instance starts, so a night
//     shift starting the evening before a closed holiday is worked.
//   - A closed holiday (the help desk shuts) also removes demand: every
//     interval whose start falls on its date requires no agents and no
//     staff, so it is never understaffed, and members on shift in it (the
//     end of a night shift from the evening before) are overstaffing. An
//     open holiday (the help desk works) changes nothing: its shifts run
//     and its demand counts as on the same weekday without a holiday, and
//     whoever is off that day is written as time off. It is only listed
//     (HolidayNotes), so reports and forecasts can set it apart.
//   - A member serves a queue when they have all of its skills. At any moment
//     a member is counted for one queue only. Allocation per interval is
//     exact: of all the ways to count the members on shift for queues they
//     serve, it takes one with the least total shortfall (the sum over
//     queues of required minus scheduled staff, where short), so a gap it
//     reports cannot be closed by moving the same people between queues.
//     Among those it is deterministic: queues earlier in the spec are
//     filled first (each as far as possible without emptying a place of an
//     earlier one), members are tried by name, and members left over, whose
//     queues are all full, go to the queue they serve that is least over
//     its requirement (ties by queue order). See Allocator.
//   - Overlapping demand windows of one queue add up.
package coverage

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/supportstack/operator/internal/staffing"
)

// IntervalLength is the resolution of the coverage.
const IntervalLength = 30 * time.Minute

// Horizon is how far ahead coverage is computed.
const Horizon = 7 * 24 * time.Hour

// Date is a calendar date in the team's time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Shift is a weekly working pattern; Start and End are minutes of the day
// (End may be 1440 for midnight at the end of the day).
type Shift struct {
	Name       string
	Days       [7]bool // indexed by time.Weekday
	Start, End int
}

// Member is a person on the roster.
type Member struct {
	Name   string
	Skills []string
	Shifts []string
}

// Absence removes a member's shifts starting from From to To inclusive.
type Absence struct {
	Member   string
	From, To Date
}

// Window is a recurring demand window; From and To are minutes of the day.
type Window struct {
	Days            [7]bool
	From, To        int
	ContactsPerHour float64
}

// Queue is a queue with its demand and target.
type Queue struct {
	Name   string
	Skills []string
	// Live selects Erlang C, or Erlang A with Patience (Phone, Chat);
	// otherwise the workload model.
	Live   bool
	Handle time.Duration
	Target staffing.LiveTarget
	// Patience is the callers' mean patience; 0 (everyone waits) is
	// Erlang C.
	Patience time.Duration
	Windows  []Window
}

// Team is everything coverage needs.
type Team struct {
	Location         *time.Location
	ShrinkagePercent float64
	Shifts           []Shift
	Members          []Member
	Absences         []Absence
	// Holidays are the closed holidays: no shift instance starts on them
	// and no half-hour starting on them needs staff.
	Holidays []Date
	// OpenHolidays are the holidays on which the help desk works as on any
	// other day: they change no figure (shifts and demand as on the same
	// weekday without a holiday) and are listed so a table can name them.
	// A date also in Holidays is closed.
	OpenHolidays []Date
	Queues       []Queue
}

// Gap is one interval's shortfall.
type Gap struct {
	Start     time.Time
	Required  int
	Scheduled int
}

// QueueSummary is the coverage of one queue over the horizon.
type QueueSummary struct {
	Name                  string
	PeakRequiredAgents    int
	PeakRequiredStaff     int
	UnderstaffedIntervals int
	// WorstGap is the interval with the largest shortfall (the earliest of
	// equal ones); nil when no interval is understaffed.
	WorstGap *Gap
}

// Interval is one half-hour: per queue (in Team.Queues order) the required
// agents, required staff and scheduled staff.
type Interval struct {
	Start   time.Time
	OnShift int
	// Members are the members on shift, as indices into Team.Members in
	// name order (len(Members) == OnShift). Consecutive intervals with the
	// same people share one slice: read it, do not modify it.
	Members        []int
	RequiredAgents []int
	RequiredStaff  []int
	Scheduled      []int
}

// Result is the coverage of a team from now over the horizon.
type Result struct {
	Intervals  []Interval
	Queues     []QueueSummary
	Headcount  int
	OnShiftNow int
	// OnShiftNowMembers are the members on shift now, as indices into
	// Team.Members in name order (len == OnShiftNow).
	OnShiftNowMembers []int
	// NextBoundary is when the window next moves by one interval.
	NextBoundary time.Time
}

// Understaffed is the total number of understaffed queue-intervals.
func (r Result) Understaffed() int {
	n := 0
	for _, q := range r.Queues {
		n += q.UnderstaffedIntervals
	}
	return n
}

type plan struct {
	team      Team
	shifts    [][]*Shift // per member
	absent    []map[Date]bool
	closed    map[Date]bool // closed holidays: no shift, no demand
	eligible  [][]int       // per member: queues they serve
	nameOrder []int         // members by name (then by position in the spec)
	allocator *Allocator
	required  []map[float64][2]int
}

// Compute returns the coverage of the team for the Horizon after now.
func Compute(team Team, now time.Time) (Result, error) {
	if team.Location == nil {
		return Result{}, fmt.Errorf("team has no time zone")
	}
	p, err := newPlan(team)
	if err != nil {
		return Result{}, err
	}
	local := now.In(team.Location)
	start := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute()-local.Minute()%30, 0, 0, team.Location)
	n := int(Horizon / IntervalLength)
	res := Result{
		Intervals:    make([]Interval, 0, n),
		Queues:       make([]QueueSummary, len(team.Queues)),
		Headcount:    len(team.Members),
		NextBoundary: start.Add(IntervalLength),
	}
	for qi, q := range team.Queues {
		res.Queues[qi].Name = q.Name
	}
	scratch := make([]int, 0, len(team.Members))
	var onShift []int
	for i := 0; i < n; i++ {
		t := start.Add(time.Duration(i) * IntervalLength).In(team.Location)
		scratch = p.onShift(t, scratch[:0])
		if i == 0 || !slices.Equal(scratch, onShift) {
			onShift = slices.Clone(scratch)
		}
		iv, err := p.interval(t, onShift)
		if err != nil {
			return Result{}, err
		}
		for qi := range team.Queues {
			s := &res.Queues[qi]
			s.PeakRequiredAgents = max(s.PeakRequiredAgents, iv.RequiredAgents[qi])
			s.PeakRequiredStaff = max(s.PeakRequiredStaff, iv.RequiredStaff[qi])
			if short := iv.RequiredStaff[qi] - iv.Scheduled[qi]; short > 0 {
				s.UnderstaffedIntervals++
				if s.WorstGap == nil || short > s.WorstGap.Required-s.WorstGap.Scheduled {
					s.WorstGap = &Gap{Start: t, Required: iv.RequiredStaff[qi], Scheduled: iv.Scheduled[qi]}
				}
			}
		}
		res.Intervals = append(res.Intervals, iv)
	}
	res.OnShiftNowMembers = p.onShift(local, nil)
	res.OnShiftNow = len(res.OnShiftNowMembers)
	return res, nil
}

func newPlan(team Team) (*plan, error) {
	p := &plan{team: team, closed: map[Date]bool{}}
	byName := map[string]*Shift{}
	for i := range team.Shifts {
		byName[team.Shifts[i].Name] = &team.Shifts[i]
	}
	memberIndex := map[string]int{}
	for mi, m := range team.Members {
		memberIndex[m.Name] = mi
		var shifts []*Shift
		for _, name := range m.Shifts {
			s, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("member %s works shift %q, which the team does not declare", m.Name, name)
			}
			shifts = append(shifts, s)
		}
		p.shifts = append(p.shifts, shifts)
		p.absent = append(p.absent, map[Date]bool{})
		p.eligible = append(p.eligible, ServedQueues(m.Skills, team.Queues))
	}
	for _, a := range team.Absences {
		mi, ok := memberIndex[a.Member]
		if !ok {
			return nil, fmt.Errorf("time off for %q, who is not a member", a.Member)
		}
		// Walk the dates at noon UTC so no clock change can skip or repeat one.
		for d := time.Date(a.From.Year, a.From.Month, a.From.Day, 12, 0, 0, 0, time.UTC); !a.To.Before(DateOf(d)); d = d.AddDate(0, 0, 1) {
			p.absent[mi][DateOf(d)] = true
		}
	}
	// OpenHolidays are not read: an open holiday is an ordinary day.
	for _, h := range team.Holidays {
		p.closed[h] = true
	}
	p.nameOrder = make([]int, len(team.Members))
	for i := range p.nameOrder {
		p.nameOrder[i] = i
	}
	sort.SliceStable(p.nameOrder, func(a, b int) bool {
		return team.Members[p.nameOrder[a]].Name < team.Members[p.nameOrder[b]].Name
	})
	p.allocator = NewAllocator(p.eligible, len(team.Queues))
	p.required = make([]map[float64][2]int, len(team.Queues))
	for qi := range p.required {
		p.required[qi] = map[float64][2]int{}
	}
	return p, nil
}

// onShift appends to dst the members working at local time t, by name.
func (p *plan) onShift(t time.Time, dst []int) []int {
	today := DateOf(t)
	yesterday := DateOf(time.Date(t.Year(), t.Month(), t.Day()-1, 12, 0, 0, 0, time.UTC))
	wd := t.Weekday()
	ywd := (wd + 6) % 7
	minute := t.Hour()*60 + t.Minute()
	for _, mi := range p.nameOrder {
		for _, s := range p.shifts[mi] {
			var instance Date
			switch {
			case s.End > s.Start && s.Days[wd] && minute >= s.Start && minute < s.End:
				instance = today
			case s.End <= s.Start && s.Days[wd] && minute >= s.Start:
				instance = today
			case s.End <= s.Start && s.Days[ywd] && minute < s.End:
				instance = yesterday
			default:
				continue
			}
			if p.closed[instance] || p.absent[mi][instance] {
				continue
			}
			dst = append(dst, mi)
			break
		}
	}
	return dst
}

// requirement returns the agents and staff queue qi needs at contactsPerHour.
func (p *plan) requirement(qi int, contactsPerHour float64) (int, int, error) {
	if r, ok := p.required[qi][contactsPerHour]; ok {
		return r[0], r[1], nil
	}
	q := p.team.Queues[qi]
	var agents int
	if q.Live {
		r, err := staffing.LiveWithPatience(contactsPerHour, q.Handle, q.Patience, q.Target)
		if err != nil {
			return 0, 0, fmt.Errorf("queue %s: %w", q.Name, err)
		}
		agents = r.Agents
	} else {
		agents = staffing.Workload(contactsPerHour, q.Handle).Agents
	}
	staff := staffing.Staff(agents, p.team.ShrinkagePercent)
	p.required[qi][contactsPerHour] = [2]int{agents, staff}
	return agents, staff, nil
}

func (p *plan) interval(t time.Time, onShift []int) (Interval, error) {
	nq := len(p.team.Queues)
	iv := Interval{
		Start:          t,
		OnShift:        len(onShift),
		Members:        onShift,
		RequiredAgents: make([]int, nq),
		RequiredStaff:  make([]int, nq),
		Scheduled:      make([]int, nq),
	}
	wd := t.Weekday()
	minute := t.Hour()*60 + t.Minute()
	// Checked before the demand windows: a closed holiday needs nobody
	// whatever its windows say (the zero requirements are already there).
	if len(p.closed) > 0 && p.closed[DateOf(t)] {
		p.allocator.Allocate(onShift, iv.RequiredStaff, iv.Scheduled)
		return iv, nil
	}
	for qi, q := range p.team.Queues {
		rate := 0.0
		for _, w := range q.Windows {
			if w.Days[wd] && minute >= w.From && minute < w.To {
				rate += w.ContactsPerHour
			}
		}
		agents, staff, err := p.requirement(qi, rate)
		if err != nil {
			return Interval{}, err
		}
		iv.RequiredAgents[qi], iv.RequiredStaff[qi] = agents, staff
	}
	p.allocator.Allocate(onShift, iv.RequiredStaff, iv.Scheduled)
	return iv, nil
}
