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
	"slices"
	"time"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
	"github.com/supportstack/operator/internal/localday"
)

// MinKept is the least share of the forecast week's contacts that its
// intervals (whole contacts per hour) must keep for the forecast to stand
// in for demand.intervals: below it the queue is too sparse for the API's
// integers (a queue of a few tickets a week rounds to patches or nothing).
const MinKept = 0.8

// Kept is the share of r's week of contacts that intervals (r's, as
// Intervals made them) keep: the contacts the intervals forecast over
// the week divided by those r forecasts, each half-hour counted as half
// an hour. Rounding a sparse queue's fractions of a contact per hour to
// whole ones loses most of them (0.3 an hour rounds to none), so a low
// value means the intervals understate the queue. It is 1 when r
// forecasts no contacts (nothing to lose), and may exceed 1 where
// rounding up adds more than rounding down loses.
func (r Rates) Kept(intervals []opsv1alpha1.DemandInterval) float64 {
	total := r.PerWeek()
	if total == 0 {
		return 1
	}
	f := expand(intervals)
	kept := 0.0
	for wd := range 7 {
		for s := range Slots {
			kept += f[wd][s] / 2
		}
	}
	return kept / total
}

// PerWeek is the contacts r forecasts over a week.
func (r Rates) PerWeek() float64 {
	total := 0.0
	for wd := range 7 {
		for s := range Slots {
			total += r.PerHour[wd][s] / 2
		}
	}
	return total
}

// Demand is a queue's demand proposed from its tickets, as QueueDemand
// chooses it.
type Demand struct {
	// Rates is the forecast week (Rates.Weeks: weeks that had data).
	Rates Rates
	// Intervals are Rates as the API takes them (at most MaxIntervals).
	Intervals []opsv1alpha1.DemandInterval
	// Kept is Rates.Kept(Intervals); below MinKept the intervals are too
	// sparse to use.
	Kept float64
	// Start and End bound the history: its first day with data and the
	// first instant of End's local date.
	Start, End time.Time
	// Tickets is how many of the tickets given are the queue's: those
	// the handle time weighs.
	Tickets int
	// HandleTime is the mean time worked of the resolved tickets among
	// them, when HandleTimeOK (at least Options' minimum); Handled is how
	// many have time worked.
	HandleTime   time.Duration
	HandleTimeOK bool
	Handled      int
}

// QueueDemand forecasts queue's demand from tickets as both the operator
// (demand.source History) and `supportstack forecast` do, so the two
// agree. tickets are those read from readFrom on (the operator's memory
// of 28 days; the CLI passes those created in [readFrom, opt.End)): all
// of queue's count for the handle time and the first ticket, those in the
// history for the rates. The history is
// opt.Weeks whole weeks before opt.End's local date, starting no earlier
// than the first local day after readFrom's (that one is read only from
// readFrom's time of day), nor than the day of the queue's first ticket
// when that is later: a queue new in RT has no tickets before it, and
// those days are no data, not zero demand. The handle time is HandleTime
// of the same tickets with at least minHandled (zero: DefaultHandleTimeMin).
//
// It fails, saying why, with no ticket of the queue, or when its first
// ticket is less than a week before the history's end: a forecast needs
// every weekday at least once.
func QueueDemand(tickets []actuals.Ticket, queue string, opt Options, readFrom time.Time, minHandled int) (Demand, error) {
	opt, err := opt.normalized()
	if err != nil {
		return Demand{}, err
	}
	if minHandled == 0 {
		minHandled = DefaultHandleTimeMin
	}
	loc := opt.Location
	var arrivals []time.Time
	var own []actuals.Ticket
	for _, t := range tickets {
		if t.Queue == queue {
			arrivals = append(arrivals, t.Created)
			own = append(own, t)
		}
	}
	if len(arrivals) == 0 {
		return Demand{}, fmt.Errorf("no ticket of queue %s in the last %d days", queue, int(opt.End.Sub(readFrom).Round(time.Hour)/(24*time.Hour)))
	}
	end := localday.Of(opt.End, loc)
	r := readFrom.In(loc)
	start := localday.Start(r.Year(), r.Month(), r.Day()+1, loc)
	if first := slices.MinFunc(arrivals, time.Time.Compare); first.After(start) {
		start = localday.Of(first, loc)
	}
	if end.Sub(start) < 7*24*time.Hour-time.Hour { // a week with a clock change is 167h
		return Demand{}, fmt.Errorf("queue %s's first ticket is less than a week old", queue)
	}
	opt.Start = start
	rates, err := Weekly(arrivals, opt)
	if err != nil {
		return Demand{}, err
	}
	d := Demand{Rates: rates, Intervals: rates.Intervals(MaxIntervals), Start: start, End: end, Tickets: len(own)}
	if hs := localday.Start(end.Year(), end.Month(), end.Day()-7*opt.Weeks, loc); hs.After(d.Start) {
		d.Start = hs
	}
	d.Kept = rates.Kept(d.Intervals)
	d.HandleTime, d.Handled, d.HandleTimeOK = HandleTime(own, minHandled)
	return d, nil
}
