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

// Package actuals computes what a help desk actually did from its own
// tickets: per queue and per 30-minute interval of the team's time zone,
// tickets created, first-response and resolution times, whether each first
// response met the queue's target in business hours, per-member figures,
// and 24-hour and 7-day summaries. The computation is pure (Compute); the
// tickets come from Request Tracker's REST2 API through Reader, which keeps
// a serializable State and reads only what changed since the last sync.
package actuals

import (
	"math"
	"sort"
	"time"

	"github.com/supportstack/operator/internal/localday"
)

// Interval is the length of the intervals tickets are counted in.
const Interval = 30 * time.Minute

// SystemUser is RT's internal user: its correspondence (auto-replies made by
// scrips) is never a first response.
const SystemUser = "RT_System"

// Span is one day's business hours in minutes after local midnight,
// [Start, End), the shape internal/queues renders into RT's
// ServiceBusinessHours (End 1440 is midnight at the end of the day; a shift
// past midnight is the rest of its day plus a span on the next day).
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Calendar is a team's business hours: the clock that response targets
// are measured in.
type Calendar struct {
	// Location is the team's time zone; nil means UTC.
	Location *time.Location
	// Days holds each open weekday's span; a weekday not in Days is closed.
	Days map[time.Weekday]Span
	// Holidays are local dates (2006-01-02) closed all day.
	Holidays map[string]bool
}

// AlwaysOpen is a calendar of 24 hours on every day: targets measured in
// wall-clock time, as RT does for a team without shifts.
func AlwaysOpen(loc *time.Location) Calendar {
	c := Calendar{Location: loc, Days: map[time.Weekday]Span{}}
	for d := time.Sunday; d <= time.Saturday; d++ {
		c.Days[d] = Span{0, 1440}
	}
	return c
}

func (c Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// BusinessTime is how much of [from, to) falls in business hours. Spans are
// wall-clock times of each local day, so a day on which the clocks change
// still opens at its Start and closes at its End; an open span that holds
// the change is an hour shorter or longer, as the clock on the wall is.
func (c Calendar) BusinessTime(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	loc := c.loc()
	f := from.In(loc)
	// Days step by calendar date from their first instant: where the clocks
	// go forward at midnight, time.Date(..., 0, 0, ...) is 23:00 of the day
	// before and would never move on.
	day := localday.Of(f, loc)
	var total time.Duration
	for ; day.Before(to); day = localday.Start(day.Year(), day.Month(), day.Day()+1, loc) {
		span, open := c.Days[day.Weekday()]
		if !open || c.Holidays[day.Format(time.DateOnly)] || span.End <= span.Start {
			continue
		}
		start, end := minuteOf(day, span.Start), minuteOf(day, span.End)
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if end.After(start) {
			total += end.Sub(start)
		}
	}
	return total
}

// Event is something a user did to a ticket at a time.
type Event struct {
	At   time.Time `json:"at"`
	User string    `json:"user"`
}

// Ticket is what the computation needs of one RT ticket. Reader builds it
// from the ticket and its transactions (FoldTicket).
type Ticket struct {
	ID          int       `json:"id"`
	Queue       string    `json:"queue"`
	Created     time.Time `json:"created"`
	LastUpdated time.Time `json:"lastUpdated"`
	// TimeWorked is RT's TimeWorked: the time members recorded working on
	// the ticket (zero when none was recorded).
	TimeWorked time.Duration `json:"timeWorked,omitempty"`
	// Replies are the ticket's Correspond transactions by a user other than
	// its requestors and RT_System, oldest first.
	Replies []Event `json:"replies,omitempty"`
	// Resolved is the first transition of Status to resolved.
	Resolved *Event `json:"resolved,omitempty"`
}

// Transaction is one RT transaction of a ticket, as REST2 lists it.
type Transaction struct {
	ID       int
	Type     string
	Creator  string
	Created  time.Time
	Field    string
	NewValue string
}

// FoldTicket fills t's Replies and Resolved from the ticket's complete
// history; requestors are the ticket's Requestor role members. Rules:
//   - a reply is a Correspond transaction whose creator is neither a
//     requestor nor RT_System; when the ticket has no requestor, the
//     creator of its Create transaction is taken as the requestor (a
//     customer's own mail creates the ticket), so the customer's follow-ups
//     never count as an answer;
//   - resolution is the first Status transaction whose new value is
//     "resolved" (a reopened and re-resolved ticket keeps its first time).
//
// Only the history decides, so folding the same history twice gives the
// same ticket: a ticket read again is replaced, never appended to.
func FoldTicket(t Ticket, requestors []string, history []Transaction) Ticket {
	h := append([]Transaction(nil), history...)
	sort.SliceStable(h, func(i, j int) bool {
		if !h[i].Created.Equal(h[j].Created) {
			return h[i].Created.Before(h[j].Created)
		}
		return h[i].ID < h[j].ID
	})
	req := map[string]bool{}
	for _, r := range requestors {
		req[r] = true
	}
	if len(req) == 0 {
		for _, tx := range h {
			if tx.Type == "Create" {
				req[tx.Creator] = true
				break
			}
		}
	}
	t.Replies, t.Resolved = nil, nil
	for _, tx := range h {
		switch {
		case tx.Type == "Correspond" && !req[tx.Creator] && tx.Creator != SystemUser:
			t.Replies = append(t.Replies, Event{At: tx.Created.UTC(), User: tx.Creator})
		case tx.Type == "Status" && tx.NewValue == "resolved" && t.Resolved == nil:
			t.Resolved = &Event{At: tx.Created.UTC(), User: tx.Creator}
		}
	}
	return t
}

// Options are the inputs of Compute besides the tickets.
type Options struct {
	// Calendar measures response targets (and the business-time figures).
	Calendar Calendar
	// Targets is each queue's first-response target in business time; a
	// queue without one has no service level (its tickets are NoTarget).
	Targets map[string]time.Duration
	// Now ends every window.
	Now time.Time
	// Window is the look-back of the intervals and member figures: tickets
	// created in (Now-Window, Now]. Zero means 28 days.
	Window time.Duration
	// Responders, when not nil, are the only users whose replies count as
	// a first response (the team's members); nil counts every reply.
	Responders map[string]bool
}

// Outcome is how a ticket fared against its queue's response target.
type Outcome string

// Outcomes. Pending tickets have no answer yet but are still within their
// target: they are neither met nor missed and left out of service levels.
const (
	Met      Outcome = "Met"
	Missed   Outcome = "Missed"
	Pending  Outcome = "Pending"
	NoTarget Outcome = "NoTarget"
)

// TicketActual is one ticket's figures.
type TicketActual struct {
	ID    int    `json:"id"`
	Queue string `json:"queue"`
	// Interval is the start of the 30-minute interval of the team's time
	// zone that holds Created.
	Interval time.Time `json:"interval"`
	Created  time.Time `json:"created"`
	// Responder and FirstResponse (wall clock) and FirstResponseBusiness
	// (business time) are empty while unanswered.
	Responder             string        `json:"responder,omitempty"`
	FirstResponse         time.Duration `json:"firstResponse,omitempty"`
	FirstResponseBusiness time.Duration `json:"firstResponseBusiness,omitempty"`
	Answered              bool          `json:"answered"`
	// Resolution is the wall-clock time to the first resolution; Resolver
	// made it. Empty while unresolved.
	Resolution time.Duration `json:"resolution,omitempty"`
	Resolver   string        `json:"resolver,omitempty"`
	Outcome    Outcome       `json:"outcome"`
}

// IntervalActual counts one queue's tickets created in one interval.
type IntervalActual struct {
	// Start is the interval's start in the team's time zone (its offset
	// tells the two 01:00 intervals of a fall-back night apart).
	Start    time.Time `json:"start"`
	Created  int       `json:"created"`
	Answered int       `json:"answered"`
	Resolved int       `json:"resolved"`
	Met      int       `json:"met"`
	Missed   int       `json:"missed"`
}

// Summary is a queue's figures over a window.
type Summary struct {
	// Volume is the tickets created in the window.
	Volume  int `json:"volume"`
	Met     int `json:"met"`
	Missed  int `json:"missed"`
	Pending int `json:"pending"`
	// ServiceLevel is Met/(Met+Missed), nil when both are zero or the
	// queue has no target.
	ServiceLevel *float64 `json:"serviceLevel,omitempty"`
	// Answered is how many tickets have a first response; the median and
	// 90th percentile (nearest rank) are of their first responses in
	// business time, zero when none is answered.
	Answered            int           `json:"answered"`
	MedianFirstResponse time.Duration `json:"medianFirstResponse"`
	P90FirstResponse    time.Duration `json:"p90FirstResponse"`
}

// QueueActual is one queue's figures.
type QueueActual struct {
	Queue     string           `json:"queue"`
	Intervals []IntervalActual `json:"intervals"`
	Last24h   Summary          `json:"last24h"`
	Last7d    Summary          `json:"last7d"`
}

// MemberActual is one member's figures over the window.
type MemberActual struct {
	Name string `json:"name"`
	// Resolved counts the tickets of the window whose first resolution
	// this member made.
	Resolved int `json:"resolved"`
	// Answered counts the tickets of the window whose first response this
	// member gave; the median is of those first responses in business time.
	Answered            int           `json:"answered"`
	MedianFirstResponse time.Duration `json:"medianFirstResponse"`
}

// Actuals is the result of Compute.
type Actuals struct {
	Tickets []TicketActual `json:"tickets"`
	Queues  []QueueActual  `json:"queues"`
	Members []MemberActual `json:"members"`
}

// DefaultWindow is the look-back when none is given.
const DefaultWindow = 28 * 24 * time.Hour

// IntervalStart is the start of the 30-minute interval of loc's local time
// that holds t: the local minute truncated to :00 or :30. It is taken off
// the instant, not rebuilt from the wall clock, so it is right in zones
// whose offset is not whole hours and on nights the clock goes back.
func IntervalStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	back := time.Duration(l.Minute()%30)*time.Minute + time.Duration(l.Second())*time.Second + time.Duration(l.Nanosecond())
	return l.Add(-back)
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of values:
// the smallest value with at least p% of the values at or below it, i.e.
// the ceil(p/100*n)-th smallest. It never interpolates, so it is always one
// of the values; zero for no values.
func Percentile(values []time.Duration, p float64) time.Duration {
	if len(values) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), values...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = max(1, min(rank, len(s)))
	return s[rank-1]
}

// ticketActual computes one ticket's figures at opt.Now.
func ticketActual(t Ticket, opt Options) TicketActual {
	cal := opt.Calendar
	a := TicketActual{ID: t.ID, Queue: t.Queue, Created: t.Created, Interval: IntervalStart(t.Created, cal.loc()), Outcome: NoTarget}
	for _, r := range t.Replies {
		if r.At.After(opt.Now) || (opt.Responders != nil && !opt.Responders[r.User]) {
			continue
		}
		a.Answered, a.Responder = true, r.User
		a.FirstResponse = r.At.Sub(t.Created)
		a.FirstResponseBusiness = cal.BusinessTime(t.Created, r.At)
		break
	}
	if t.Resolved != nil && !t.Resolved.At.After(opt.Now) {
		a.Resolution, a.Resolver = t.Resolved.At.Sub(t.Created), t.Resolved.User
	}
	target, ok := opt.Targets[t.Queue]
	switch {
	case !ok:
	case a.Answered && a.FirstResponseBusiness <= target:
		a.Outcome = Met
	case a.Answered:
		a.Outcome = Missed
	case cal.BusinessTime(t.Created, opt.Now) > target:
		a.Outcome = Missed
	default:
		a.Outcome = Pending
	}
	return a
}

func summarize(tickets []TicketActual, from, to time.Time, hasTarget bool) Summary {
	var s Summary
	var firsts []time.Duration
	for _, t := range tickets {
		if !t.Created.After(from) || t.Created.After(to) {
			continue
		}
		s.Volume++
		switch t.Outcome {
		case Met:
			s.Met++
		case Missed:
			s.Missed++
		case Pending:
			s.Pending++
		}
		if t.Answered {
			firsts = append(firsts, t.FirstResponseBusiness)
		}
	}
	if hasTarget && s.Met+s.Missed > 0 {
		sl := float64(s.Met) / float64(s.Met+s.Missed)
		s.ServiceLevel = &sl
	}
	s.Answered = len(firsts)
	s.MedianFirstResponse = Percentile(firsts, 50)
	s.P90FirstResponse = Percentile(firsts, 90)
	return s
}

// Compute gives the figures of the tickets created in (Now-Window, Now]:
// each ticket, each queue's non-empty intervals in time order and its 24-hour
// and 7-day summaries (queues with a target or a ticket, sorted by name),
// and each member who answered or resolved one (sorted by name). Events
// after Now are ignored, so a report for a past instant is reproducible.
func Compute(tickets []Ticket, opt Options) Actuals {
	window := opt.Window
	if window == 0 {
		window = DefaultWindow
	}
	from := opt.Now.Add(-window)
	out := Actuals{Tickets: []TicketActual{}, Queues: []QueueActual{}, Members: []MemberActual{}}
	byQueue := map[string][]TicketActual{}
	for q := range opt.Targets {
		byQueue[q] = nil
	}
	for _, t := range tickets {
		if !t.Created.After(from) || t.Created.After(opt.Now) {
			continue
		}
		a := ticketActual(t, opt)
		out.Tickets = append(out.Tickets, a)
		byQueue[a.Queue] = append(byQueue[a.Queue], a)
	}
	sort.Slice(out.Tickets, func(i, j int) bool {
		if !out.Tickets[i].Created.Equal(out.Tickets[j].Created) {
			return out.Tickets[i].Created.Before(out.Tickets[j].Created)
		}
		return out.Tickets[i].ID < out.Tickets[j].ID
	})
	for q, ts := range byQueue {
		_, hasTarget := opt.Targets[q]
		out.Queues = append(out.Queues, QueueActual{
			Queue:     q,
			Intervals: intervals(ts),
			Last24h:   summarize(ts, opt.Now.Add(-24*time.Hour), opt.Now, hasTarget),
			Last7d:    summarize(ts, opt.Now.Add(-7*24*time.Hour), opt.Now, hasTarget),
		})
	}
	sort.Slice(out.Queues, func(i, j int) bool { return out.Queues[i].Queue < out.Queues[j].Queue })
	out.Members = members(out.Tickets)
	return out
}

func intervals(ts []TicketActual) []IntervalActual {
	idx := map[int64]int{}
	list := []IntervalActual{}
	for _, t := range ts {
		k := t.Interval.Unix()
		i, ok := idx[k]
		if !ok {
			i = len(list)
			idx[k] = i
			list = append(list, IntervalActual{Start: t.Interval})
		}
		iv := &list[i]
		iv.Created++
		if t.Answered {
			iv.Answered++
		}
		if t.Resolver != "" {
			iv.Resolved++
		}
		switch t.Outcome {
		case Met:
			iv.Met++
		case Missed:
			iv.Missed++
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Start.Before(list[j].Start) })
	return list
}

func members(ts []TicketActual) []MemberActual {
	resolved := map[string]int{}
	firsts := map[string][]time.Duration{}
	for _, t := range ts {
		if t.Resolver != "" {
			resolved[t.Resolver]++
		}
		if t.Answered {
			firsts[t.Responder] = append(firsts[t.Responder], t.FirstResponseBusiness)
		}
	}
	names := map[string]bool{}
	for n := range resolved {
		names[n] = true
	}
	for n := range firsts {
		names[n] = true
	}
	list := make([]MemberActual, 0, len(names))
	for n := range names {
		list = append(list, MemberActual{Name: n, Resolved: resolved[n], Answered: len(firsts[n]), MedianFirstResponse: Percentile(firsts[n], 50)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
}

// NewCalendar builds a Calendar from the shape internal/queues'
// businessHours renders into RT's ServiceBusinessHours: per weekday
// (0 = Sunday) a [start, end) span in minutes after local midnight, and
// holidays as local dates (2006-01-02).
func NewCalendar(loc *time.Location, spans map[int][2]int, holidays []string) Calendar {
	c := Calendar{Location: loc, Days: map[time.Weekday]Span{}, Holidays: map[string]bool{}}
	for d, s := range spans {
		c.Days[time.Weekday(d)] = Span{Start: s[0], End: s[1]}
	}
	for _, h := range holidays {
		c.Holidays[h] = true
	}
	return c
}

// minuteOf is minute m (0 to 1440) of the local day that starts at day:
// never before the day's first instant (a day that starts at 01:00 opens
// then) and, for 1440, the next day's first instant.
func minuteOf(day time.Time, m int) time.Time {
	loc := day.Location()
	if m >= 1440 {
		return localday.Start(day.Year(), day.Month(), day.Day()+1, loc)
	}
	t := time.Date(day.Year(), day.Month(), day.Day(), 0, m, 0, 0, loc)
	if t.Before(day) {
		return day
	}
	return t
}
