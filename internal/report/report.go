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

// Package report builds a help-desk manager's report of one team over a
// period from its tickets (package actuals), the demand in use (SpecInUse) and its
// roster (package coverage), and writes it as JSON, CSV or self-contained
// HTML. It is pure: the tickets are read elsewhere.
//
// Rules, all in the team's time zone:
//
//   - The period is [From, To), both first instants of local dates. Period kinds: a day
//     is one local day, a week starts on Monday, a month is a calendar
//     month; Bounds gives the last complete one that ended at or before an
//     instant. A day on which the clocks change has 46 or 50 half-hours.
//   - Tickets created in [From, To) are counted; their outcome (met,
//     missed, pending against the queue's first-response target in business
//     hours) is actuals.Compute's as known at Now (replies and resolutions
//     after Now are ignored, so a report for a past instant is
//     reproducible).
//   - Volumes: tickets created per local day and per local hour of the day
//     (0-23, summed over the period's days; the repeated hour of a
//     fall-back night counts in its hour once for each of its two passes,
//     tickets and forecast alike).
//   - Service level: Met/(Met+Missed) per queue with a target over the
//     period and per day, as a percent rounded down (as status shows it, so
//     it reaches the target exactly when the exact share does); pending
//     tickets are left out. It is compared with TargetPercent.
//   - Forecast: the team's demand in use (demand.intervals, or for a
//     History queue the operator's forecast in status; contacts per hour, overlapping windows adding up, read on the local wall clock at
//     each half-hour's start) times half an hour is the expected tickets of
//     a half-hour; a closed holiday forecasts none (as coverage requires no
//     staff on it), an open holiday is an ordinary day. Per day it is the
//     sum of the day's half-hours.
//   - Staff: coverage.Span over the period's days gives each half-hour's
//     required staff and scheduled staff per queue (the plan: shifts, time
//     off, closed holidays, exact allocation); the gap is required minus
//     scheduled where positive.
//   - Members: actuals.MemberActual per RT user (resolved, answered, median
//     first response in business time), named by the team's member whose
//     e-mail it is; members with no ticket are listed with zeros.
//   - Worst intervals: every queue's half-hour with a missed ticket or a
//     staff gap, ranked by missed tickets, then gap, then time, then queue
//     order; the first MaxWorst. Each has a cause (see Cause).
package report

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/supportstack/operator/internal/actuals"
	"github.com/supportstack/operator/internal/coverage"
	"github.com/supportstack/operator/internal/localday"
	"github.com/supportstack/operator/internal/training"
)

// Period is the kind of period a report covers.
type Period string

// Period kinds. Custom is a period given by its bounds.
const (
	Day    Period = "day"
	Week   Period = "week"
	Month  Period = "month"
	Custom Period = "custom"
)

// MaxWorst is how many worst intervals a report lists.
const MaxWorst = 10

// MaxTraining is how many training needs a report lists.
const MaxTraining = 5

// The demand margin: a half-hour's arrivals are above forecast when they
// exceed it by at least DemandMarginFraction of the forecast and by at
// least DemandMarginTickets tickets. The share keeps ordinary noise on a
// busy half-hour from being called a surge; the whole ticket keeps a
// quiet half-hour (forecast 0.5) from being one because a single ticket
// came.
const (
	DemandMarginFraction = 0.25
	DemandMarginTickets  = 1.0
)

// Cause is why a worst interval went wrong.
type Cause string

// Causes. DemandAboveForecast: arrivals above the forecast by the demand
// margin. StaffBelowPlan: fewer staff scheduled than required (the plan
// did not cover the demand in use). Both, or Neither (tickets missed
// with demand as forecast and the plan covering it: look at handling).
const (
	DemandAboveForecast Cause = "demand above forecast"
	StaffBelowPlan      Cause = "staff below plan"
	Both                Cause = "demand above forecast and staff below plan"
	Neither             Cause = "neither"
)

// CauseOf classifies a half-hour of one queue by the rules above.
func CauseOf(created int, forecast float64, required, scheduled int) Cause {
	demand := DemandAbove(created, forecast)
	staff := scheduled < required
	switch {
	case demand && staff:
		return Both
	case demand:
		return DemandAboveForecast
	case staff:
		return StaffBelowPlan
	}
	return Neither
}

// DemandAbove reports whether created exceeds forecast by the demand
// margin: created - forecast >= max(DemandMarginTickets,
// DemandMarginFraction*forecast).
func DemandAbove(created int, forecast float64) bool {
	return float64(created)-forecast >= math.Max(DemandMarginTickets, DemandMarginFraction*forecast)-1e-9
}

// Input is what a report is built from.
type Input struct {
	// Team is the roster and demand (coverage.FromSpec of the spec in
	// use: SupportTeam.SpecInUse); its Location is the team's time zone.
	Team coverage.Team
	// Name names the team in the report (namespace/name).
	Name string
	// Calendar, Targets and Responders are the team's business hours,
	// first-response targets per queue and members' RT users, as the
	// operator derives them (controller.ActualsOptions).
	Calendar   actuals.Calendar
	Targets    map[string]time.Duration
	Responders map[string]bool
	// MemberNames maps a member's RT user (e-mail) to the member's name.
	MemberNames map[string]string
	// NoEmail are the members with no e-mail in the spec: listed with
	// zeros, since their work in RT cannot be matched to them.
	NoEmail []string
	// TargetPercent is the service level (percent) each queue with a
	// target should reach.
	TargetPercent int
	// Period is the kind of period, From and To its bounds (local
	// midnights, To exclusive).
	Period   Period
	From, To time.Time
	// Now is when the report is as of; zero means To.
	Now time.Time
	// Tickets are the tickets read; those created outside [From, To) are
	// left out.
	Tickets []actuals.Ticket
}

// Bounds is the last complete period of kind that ended at or before at,
// in loc: the day before at's local day, the Monday-start week before
// at's week, or the calendar month before at's month.
func Bounds(kind Period, at time.Time, loc *time.Location) (from, to time.Time, err error) {
	l := at.In(loc)
	y, m, d := l.Date()
	switch kind {
	case Day:
		to = localday.Start(y, m, d, loc)
		from = localday.Start(y, m, d-1, loc)
	case Week:
		back := (int(l.Weekday()) + 6) % 7 // days since Monday
		to = localday.Start(y, m, d-back, loc)
		from = localday.Start(y, m, d-back-7, loc)
	case Month:
		to = localday.Start(y, m, 1, loc)
		from = localday.Start(y, m-1, 1, loc)
	default:
		return time.Time{}, time.Time{}, fmt.Errorf("period %q: use day, week or month", kind)
	}
	return from, to, nil
}

// Report is a team's report over a period. Times are in the team's zone.
type Report struct {
	Team          string    `json:"team"`
	TimeZone      string    `json:"timeZone"`
	Period        Period    `json:"period"`
	From          time.Time `json:"from"`
	To            time.Time `json:"to"`
	AsOf          time.Time `json:"asOf"`
	TargetPercent int       `json:"serviceLevelTargetPercent"`
	// Queues are the team's queues in spec order.
	Queues        []string            `json:"queues"`
	ServiceLevels []QueueServiceLevel `json:"serviceLevels"`
	Days          []DayFigures        `json:"days"`
	Hours         []HourFigures       `json:"hours"`
	Intervals     []HalfHour          `json:"intervals"`
	Members       []MemberFigures     `json:"members"`
	Worst         []WorstInterval     `json:"worstIntervals"`
	// Training are the (member, skill) pairs that would have closed the
	// most of the period's staff gaps, best first (at most MaxTraining).
	Training []TrainingNeed `json:"trainingNeeds"`
}

// TrainingNeed is a member and a skill that, had the member had it, would
// have closed some of the period's staff gaps under its roster: the
// ranking of supportstack schedule train (training.Rank), over the
// period's half-hours instead of the week ahead.
type TrainingNeed struct {
	Member string `json:"member"`
	Skill  string `json:"skill"`
	// ClosesStaffHalfHours is the staff-half-hours short it removes, net
	// of every queue.
	ClosesStaffHalfHours int `json:"closesStaffHalfHours"`
	// Advice says it in words: "train ben in portal: closes 9 of 19
	// short half-hours in portal".
	Advice string `json:"advice"`
}

// Figures are one queue's counts over some time: tickets created,
// forecast, met, missed and pending, and the service level.
type Figures struct {
	Queue    string  `json:"queue"`
	Created  int     `json:"created"`
	Forecast float64 `json:"forecast"`
	Met      int     `json:"met"`
	Missed   int     `json:"missed"`
	Pending  int     `json:"pending"`
	// ServiceLevelPercent is floor(100*Met/(Met+Missed)); absent without a
	// target or when nothing was met or missed.
	ServiceLevelPercent *int `json:"serviceLevelPercent,omitempty"`
}

// QueueServiceLevel is a queue's figures over the whole period.
type QueueServiceLevel struct {
	Figures
	// FirstResponseTargetSeconds is the queue's target; 0 without one.
	FirstResponseTargetSeconds int64 `json:"firstResponseTargetSeconds"`
	// MetTarget is ServiceLevelPercent >= the report's target percent.
	MetTarget *bool `json:"metTarget,omitempty"`
	// Answered tickets, and the median and 90th percentile (nearest rank)
	// of their first responses in business time.
	Answered                   int   `json:"answered"`
	MedianFirstResponseSeconds int64 `json:"medianFirstResponseSeconds"`
	P90FirstResponseSeconds    int64 `json:"p90FirstResponseSeconds"`
}

// DayFigures are one local day's figures per queue.
type DayFigures struct {
	Date string `json:"date"`
	// Holiday is "closed" or "open" on a holiday of the team.
	Holiday  string    `json:"holiday,omitempty"`
	Created  int       `json:"created"`
	Forecast float64   `json:"forecast"`
	Queues   []Figures `json:"queues"`
}

// HourFigures are the tickets created in one local hour of the day over
// the period, in total and per queue (spec order), and the forecast of
// the half-hours that start in that hour.
type HourFigures struct {
	Hour     int     `json:"hour"`
	Created  int     `json:"created"`
	Forecast float64 `json:"forecast"`
	Queues   []int   `json:"queues"`
}

// HalfHour is one half-hour of the period.
type HalfHour struct {
	Start  time.Time       `json:"start"`
	Queues []HalfHourQueue `json:"queues"`
}

// HalfHourQueue is one queue's figures in a half-hour.
type HalfHourQueue struct {
	Queue     string  `json:"queue"`
	Created   int     `json:"created"`
	Forecast  float64 `json:"forecast"`
	Met       int     `json:"met"`
	Missed    int     `json:"missed"`
	Required  int     `json:"requiredStaff"`
	Scheduled int     `json:"scheduledStaff"`
	Gap       int     `json:"gap"`
}

// MemberFigures is one person's productivity.
type MemberFigures struct {
	Name string `json:"name"`
	// RTUser is the person's Request Tracker user; empty for a member
	// with no e-mail in the spec, whose RT work cannot be matched (their
	// figures are zero).
	RTUser string `json:"rtUser"`
	// Member is false for an RT user who is not a member of the team
	// (resolved a ticket of its queues).
	Member                     bool  `json:"member"`
	Resolved                   int   `json:"resolved"`
	Answered                   int   `json:"answered"`
	MedianFirstResponseSeconds int64 `json:"medianFirstResponseSeconds"`
}

// WorstInterval is one of the worst half-hours of a queue.
type WorstInterval struct {
	HalfHourQueue
	Start time.Time `json:"start"`
	Cause Cause     `json:"cause"`
}

// Build computes the report.
func Build(in Input) (Report, error) {
	loc := in.Team.Location
	if loc == nil {
		return Report{}, fmt.Errorf("team has no time zone")
	}
	from, to := in.From.In(loc), in.To.In(loc)
	if !from.Before(to) {
		return Report{}, fmt.Errorf("period start %s is not before its end %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if !localday.IsStart(from, loc) || !localday.IsStart(to, loc) {
		return Report{}, fmt.Errorf("period %s to %s: both ends must be the first instants of local dates (midnight, or 01:00 where the clocks go forward at midnight)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	now := in.Now
	if now.IsZero() {
		now = to
	}
	if now.Before(from) {
		return Report{}, fmt.Errorf("report as of %s is before the period starts (%s)", now.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	days := 0
	for d := from; d.Before(to); d = nextDay(d) {
		days++
	}
	span, err := coverage.Span(in.Team, from, days)
	if err != nil {
		return Report{}, err
	}
	var tickets []actuals.Ticket
	for _, t := range in.Tickets {
		if !t.Created.Before(from) && t.Created.Before(to) {
			tickets = append(tickets, t)
		}
	}
	// Compute counts (Now-Window, Now]: a window one nanosecond longer
	// than Now-From keeps a ticket created at From exactly.
	figures := actuals.Compute(tickets, actuals.Options{
		Calendar: in.Calendar, Targets: in.Targets, Responders: in.Responders,
		Now: now, Window: now.Sub(from) + time.Nanosecond,
	})
	r := Report{
		Team: in.Name, TimeZone: loc.String(), Period: in.Period, From: from, To: to, AsOf: now.In(loc),
		TargetPercent: in.TargetPercent, Queues: make([]string, 0, len(in.Team.Queues)),
	}
	for _, q := range in.Team.Queues {
		r.Queues = append(r.Queues, q.Name)
	}
	r.Intervals = halfHours(in.Team, span, figures.Tickets)
	r.Days = dayFigures(in, r.Intervals, figures.Tickets)
	r.Hours = hourFigures(r.Queues, r.Intervals, figures.Tickets, loc)
	r.ServiceLevels = serviceLevels(in, r.Queues, r.Intervals, figures.Tickets)
	r.Members = memberFigures(in, figures.Members)
	r.Worst = worst(r.Intervals)
	r.Training = trainingNeeds(in.Team, span)
	return r, nil
}

// trainingNeeds ranks the training pairs that close the most of the
// staff gaps over span (the period's half-hours under its roster).
func trainingNeeds(team coverage.Team, span []coverage.Interval) []TrainingNeed {
	needs := training.Rank(team, coverage.Result{Intervals: span}, training.Options{Top: MaxTraining})
	out := make([]TrainingNeed, 0, len(needs))
	for _, n := range needs {
		out = append(out, TrainingNeed{Member: n.Member, Skill: n.Skill, ClosesStaffHalfHours: n.Closes, Advice: n.String()})
	}
	return out
}

// nextDay is the first instant of the local date after d's (d in the
// team's zone): the calendar date steps, not 24 hours.
func nextDay(d time.Time) time.Time {
	return localday.Start(d.Year(), d.Month(), d.Day()+1, d.Location())
}

// round2 rounds a forecast to hundredths, so sums of halves of rates
// print the same on every machine.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// forecast is the contacts (demand in use) of queue q in the half-hour starting
// at t (local): the rates of the windows holding t's wall-clock minute on
// its weekday, added up, times half an hour; none on a closed holiday.
func forecast(team coverage.Team, q coverage.Queue, t time.Time) float64 {
	d := coverage.DateOf(t)
	for _, h := range team.Holidays {
		if h == d {
			return 0
		}
	}
	minute := t.Hour()*60 + t.Minute()
	rate := 0.0
	for _, w := range q.Windows {
		if w.Days[t.Weekday()] && minute >= w.From && minute < w.To {
			rate += w.ContactsPerHour
		}
	}
	return rate * coverage.IntervalLength.Hours()
}

// halfHours puts the tickets, forecast and staff of each queue in each
// half-hour of the span.
func halfHours(team coverage.Team, span []coverage.Interval, tickets []actuals.TicketActual) []HalfHour {
	type key struct {
		unix  int64
		queue string
	}
	count := map[key]*HalfHourQueue{}
	for _, t := range tickets {
		k := key{t.Interval.Unix(), t.Queue}
		c := count[k]
		if c == nil {
			c = &HalfHourQueue{}
			count[k] = c
		}
		c.Created++
		switch t.Outcome {
		case actuals.Met:
			c.Met++
		case actuals.Missed:
			c.Missed++
		}
	}
	out := make([]HalfHour, 0, len(span))
	for _, iv := range span {
		h := HalfHour{Start: iv.Start, Queues: make([]HalfHourQueue, 0, len(team.Queues))}
		for qi, q := range team.Queues {
			hq := HalfHourQueue{Queue: q.Name, Forecast: round2(forecast(team, q, iv.Start)),
				Required: iv.RequiredStaff[qi], Scheduled: iv.Scheduled[qi], Gap: max(0, iv.RequiredStaff[qi]-iv.Scheduled[qi])}
			if c := count[key{iv.Start.Unix(), q.Name}]; c != nil {
				hq.Created, hq.Met, hq.Missed = c.Created, c.Met, c.Missed
			}
			h.Queues = append(h.Queues, hq)
		}
		out = append(out, h)
	}
	return out
}

// tally adds a ticket's outcome to f.
func (f *Figures) tally(t actuals.TicketActual) {
	f.Created++
	switch t.Outcome {
	case actuals.Met:
		f.Met++
	case actuals.Missed:
		f.Missed++
	case actuals.Pending:
		f.Pending++
	}
}

// level sets the service level when the queue has a target.
func (f *Figures) level(hasTarget bool) {
	if hasTarget && f.Met+f.Missed > 0 {
		// Integer arithmetic: floor without float rounding.
		p := 100 * f.Met / (f.Met + f.Missed)
		f.ServiceLevelPercent = &p
	}
}

// dayFigures are the volumes, forecast and service level of each day.
func dayFigures(in Input, halves []HalfHour, tickets []actuals.TicketActual) []DayFigures {
	loc := in.Team.Location
	holiday := map[coverage.Date]string{}
	for _, d := range in.Team.OpenHolidays {
		holiday[d] = "open"
	}
	for _, d := range in.Team.Holidays {
		holiday[d] = "closed" // a date in both is closed, as in coverage
	}
	var days []DayFigures
	index := map[string]int{}
	for _, h := range halves {
		date := h.Start.Format(time.DateOnly)
		i, ok := index[date]
		if !ok {
			i = len(days)
			index[date] = i
			df := DayFigures{Date: date, Holiday: holiday[coverage.DateOf(h.Start)], Queues: make([]Figures, len(in.Team.Queues))}
			for qi, q := range in.Team.Queues {
				df.Queues[qi].Queue = q.Name
			}
			days = append(days, df)
		}
		for qi, hq := range h.Queues {
			days[i].Queues[qi].Forecast += hq.Forecast
		}
	}
	queueIndex := map[string]int{}
	for qi, q := range in.Team.Queues {
		queueIndex[q.Name] = qi
	}
	for _, t := range tickets {
		qi, ok := queueIndex[t.Queue]
		if !ok {
			continue // a queue no longer in the spec: in the totals only
		}
		days[index[t.Created.In(loc).Format(time.DateOnly)]].Queues[qi].tally(t)
	}
	for i := range days {
		d := &days[i]
		for qi := range d.Queues {
			f := &d.Queues[qi]
			_, hasTarget := in.Targets[f.Queue]
			f.level(hasTarget)
			f.Forecast = round2(f.Forecast)
			d.Created += f.Created
			d.Forecast += f.Forecast
		}
		d.Forecast = round2(d.Forecast)
	}
	return days
}

// hourFigures counts the tickets and adds up the forecast of each local
// hour of the day.
func hourFigures(queues []string, halves []HalfHour, tickets []actuals.TicketActual, loc *time.Location) []HourFigures {
	hours := make([]HourFigures, 24)
	for h := range hours {
		hours[h] = HourFigures{Hour: h, Queues: make([]int, len(queues))}
	}
	for _, h := range halves {
		for _, q := range h.Queues {
			hours[h.Start.Hour()].Forecast += q.Forecast
		}
	}
	for h := range hours {
		hours[h].Forecast = round2(hours[h].Forecast)
	}
	for _, t := range tickets {
		h := t.Created.In(loc).Hour()
		hours[h].Created++
		for qi, q := range queues {
			if q == t.Queue {
				hours[h].Queues[qi]++
			}
		}
	}
	return hours
}

// serviceLevels are each queue's figures over the period: the spec's
// queues in order, then any other queue a ticket was in, by name.
func serviceLevels(in Input, queues []string, halves []HalfHour, tickets []actuals.TicketActual) []QueueServiceLevel {
	names := append([]string(nil), queues...)
	known := map[string]bool{}
	for _, q := range queues {
		known[q] = true
	}
	var extra []string
	for _, t := range tickets {
		if !known[t.Queue] {
			known[t.Queue] = true
			extra = append(extra, t.Queue)
		}
	}
	sort.Strings(extra)
	names = append(names, extra...)
	out := make([]QueueServiceLevel, 0, len(names))
	for qi, name := range names {
		s := QueueServiceLevel{Figures: Figures{Queue: name}}
		if qi < len(queues) {
			for _, h := range halves {
				s.Forecast += h.Queues[qi].Forecast
			}
		}
		s.Forecast = round2(s.Forecast)
		var firsts []time.Duration
		for _, t := range tickets {
			if t.Queue != name {
				continue
			}
			s.tally(t)
			if t.Answered {
				firsts = append(firsts, t.FirstResponseBusiness)
			}
		}
		target, hasTarget := in.Targets[name]
		s.level(hasTarget)
		if s.ServiceLevelPercent != nil {
			met := *s.ServiceLevelPercent >= in.TargetPercent
			s.MetTarget = &met
		}
		s.FirstResponseTargetSeconds = int64(target / time.Second)
		s.Answered = len(firsts)
		s.MedianFirstResponseSeconds = int64(actuals.Percentile(firsts, 50) / time.Second)
		s.P90FirstResponseSeconds = int64(actuals.Percentile(firsts, 90) / time.Second)
		out = append(out, s)
	}
	return out
}

// memberFigures names Compute's member figures and adds the team's
// members who had no ticket, sorted by name (then RT user).
func memberFigures(in Input, members []actuals.MemberActual) []MemberFigures {
	seen := map[string]bool{}
	out := make([]MemberFigures, 0, len(members)+len(in.MemberNames)+len(in.NoEmail))
	for _, m := range members {
		seen[m.Name] = true
		name, isMember := in.MemberNames[m.Name]
		if !isMember {
			name = m.Name
		}
		out = append(out, MemberFigures{Name: name, RTUser: m.Name, Member: isMember, Resolved: m.Resolved, Answered: m.Answered,
			MedianFirstResponseSeconds: int64(m.MedianFirstResponse / time.Second)})
	}
	for user, name := range in.MemberNames {
		if !seen[user] {
			out = append(out, MemberFigures{Name: name, RTUser: user, Member: true})
		}
	}
	for _, name := range in.NoEmail {
		out = append(out, MemberFigures{Name: name, Member: true})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].RTUser < out[j].RTUser
	})
	return out
}

// worst ranks the queue half-hours with a missed ticket or a gap: most
// missed first, then largest gap, then earliest, then spec order (the
// stable sort keeps the half-hours' and queues' order).
func worst(halves []HalfHour) []WorstInterval {
	var list []WorstInterval
	for _, h := range halves {
		for _, q := range h.Queues {
			if q.Missed == 0 && q.Gap == 0 {
				continue
			}
			list = append(list, WorstInterval{HalfHourQueue: q, Start: h.Start, Cause: CauseOf(q.Created, q.Forecast, q.Required, q.Scheduled)})
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].Missed != list[j].Missed {
			return list[i].Missed > list[j].Missed
		}
		return list[i].Gap > list[j].Gap
	})
	if len(list) > MaxWorst {
		list = list[:MaxWorst]
	}
	if list == nil {
		list = []WorstInterval{}
	}
	return list
}
