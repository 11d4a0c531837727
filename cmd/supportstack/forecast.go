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

package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
	"github.com/supportstack/operator/internal/forecast"
	"github.com/supportstack/operator/internal/localday"
)

// backtestWeeks is how many weeks forecast backtests.
const backtestWeeks = 4

// forecastCmd proposes each queue's demand from the team's ticket history
// (internal/forecast's method) and prints it as YAML to paste under
// spec.queues[], with the backtest WAPE and the history used as comments.
func forecastCmd(args []string, out io.Writer) error {
	fs := newFlagSet("forecast")
	tf := addTicketFlags(fs)
	weeks := fs.Int("weeks", forecast.DefaultWeeks, "weeks of history each forecast takes")
	alpha := fs.Float64("alpha", forecast.DefaultAlpha, "smoothing weight, between 0 and 1: week k back weighs (1-alpha)^(k-1)")
	at := fs.String("at", "", "end of the history (RFC 3339; the history ends at local midnight of its date); default now")
	minTickets := fs.Int("min-tickets", forecast.DefaultHandleTimeMin, "resolved tickets with time worked needed to propose an average handle time")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	now := time.Now()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	}
	if *weeks < 2 {
		// As in the operator, the history starts at the first whole day
		// read: the weeks read less their first day hold no whole week.
		return fmt.Errorf("--weeks %d: must be at least 2 (the first day of the weeks read is partial, so one week is never whole)", *weeks)
	}
	// The forecast takes `weeks` weeks, and the backtest of each of the
	// 4 weeks before it takes `weeks` more; two days more cover local
	// midnight in any zone.
	from := now.AddDate(0, 0, -7*(*weeks+backtestWeeks)-2)
	tt, err := tf.load(context.Background(), names, from, now, now)
	if err != nil {
		return err
	}
	team := tt.Team
	loc, err := time.LoadLocation(string(team.Spec.TimeZone))
	if err != nil {
		return fmt.Errorf("timeZone %q: %w", team.Spec.TimeZone, err)
	}
	opt := forecast.Options{Location: loc, End: now, Weeks: *weeks, Alpha: *alpha, Holidays: map[string]bool{}}
	for _, h := range team.Spec.Holidays {
		opt.Holidays[string(h.Date)] = true
	}
	end := localday.Of(now, loc)
	if _, err := fmt.Fprintf(out, "# SupportTeam %s: demand proposed from %d tickets of %s (%s), history ending %s (%s)\n"+
		"# Paste each queue's demand under its entry in spec.queues.\n",
		team.Name, len(tt.Tickets), tt.Source, strings.Join(tt.Queues, ", "), end.Format(time.DateOnly), loc); err != nil {
		return err
	}
	for _, q := range team.Spec.Queues {
		if !slices.Contains(tt.Queues, q.Name) {
			continue
		}
		if err := forecastQueue(out, q, tt.Tickets, opt, *minTickets); err != nil {
			return err
		}
	}
	return nil
}

// forecastQueue writes one queue's proposed demand: forecast.QueueDemand
// from the tickets of the `weeks` weeks before now, as the operator
// chooses it from the 28 days it keeps (so --weeks 4 proposes what a
// History queue's status shows), and the backtest of the 4 weeks before.
func forecastQueue(out io.Writer, q opsv1alpha1.Queue, tickets []actuals.Ticket, opt forecast.Options, minTickets int) error {
	readFrom := opt.End.Add(-time.Duration(opt.Weeks) * 7 * 24 * time.Hour)
	// The tickets read since readFrom, as the operator holds them: the
	// load took more weeks for the backtest.
	var read []actuals.Ticket
	for _, t := range tickets {
		if !t.Created.Before(readFrom) && t.Created.Before(opt.End) {
			read = append(read, t)
		}
	}
	d, err := forecast.QueueDemand(read, q.Name, opt, readFrom, minTickets)
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "\n# queue %s: no forecast: %s; keep the team's demand (the operator would use demand.intervals)\n", q.Name, err)
		_, err = io.WriteString(out, b.String())
		return err
	}
	fmt.Fprintf(&b, "\n# queue %s: %d tickets created since %s; history %s to %s, %d weeks with data",
		q.Name, d.Tickets, readFrom.In(opt.Location).Format("2006-01-02 15:04"), d.Start.Format(time.DateOnly), d.End.Format(time.DateOnly), d.Rates.Weeks)
	if h := forecastHolidays(opt.Holidays, d.Start, d.End); len(h) > 0 {
		fmt.Fprintf(&b, " (holidays left out: %s)", strings.Join(h, ", "))
	}
	b.WriteString("\n")
	// The backtest weighs the weeks before the history too, from the
	// team's first ticket on: weeks before it are no data (a new desk).
	bt := opt
	var arrivals []time.Time
	for _, t := range tickets {
		if bt.Start.IsZero() || t.Created.Before(bt.Start) {
			bt.Start = t.Created
		}
		if t.Queue == q.Name {
			arrivals = append(arrivals, t.Created)
		}
	}
	if wape, err := forecast.Backtest(arrivals, bt, backtestWeeks); err != nil {
		fmt.Fprintf(&b, "# backtest: none (no arrivals in the %d weeks before %s)\n", backtestWeeks, d.End.Format(time.DateOnly))
	} else {
		fmt.Fprintf(&b, "# backtest: WAPE %.1f%% over the %d weeks before %s, each forecast from the %d weeks before it, per half-hour\n",
			wape*100, backtestWeeks, d.End.Format(time.DateOnly), opt.Weeks)
	}
	fmt.Fprintf(&b, "# the intervals (whole contacts per hour) keep %.0f %% of the forecast's %.1f contacts a week\n", d.Kept*100, d.Rates.PerWeek())
	if d.Kept < forecast.MinKept {
		fmt.Fprintf(&b, "# WARNING: under %.0f %%: too sparse for whole contacts per hour; the operator would keep demand.intervals\n", forecast.MinKept*100)
	}
	b.WriteString("demand:\n")
	switch {
	case d.HandleTimeOK:
		fmt.Fprintf(&b, "  # mean time worked of %d resolved tickets\n  averageHandleTime: %s\n", d.Handled, d.HandleTime)
	case q.Demand != nil:
		fmt.Fprintf(&b, "  # the team's value kept: %d resolved tickets have time worked, %d needed to estimate it\n  averageHandleTime: %s\n",
			d.Handled, minTickets, q.Demand.AverageHandleTime.Duration)
	default:
		fmt.Fprintf(&b, "  # averageHandleTime cannot be estimated (%d resolved tickets have time worked, %d needed) and the team has none: set it\n",
			d.Handled, minTickets)
	}
	if len(d.Intervals) == 0 {
		b.WriteString("  intervals: []\n")
	} else {
		b.WriteString("  intervals:\n")
	}
	for _, in := range d.Intervals {
		days := make([]string, 0, len(in.Days))
		for _, d := range in.Days {
			days = append(days, string(d))
		}
		fmt.Fprintf(&b, "  - {days: [%s], from: %q, to: %q, contactsPerHour: %d}\n", strings.Join(days, ", "), in.From, in.To, in.ContactsPerHour)
	}
	_, err = io.WriteString(out, b.String())
	return err
}

// forecastHolidays are the holidays in [from, to), sorted.
func forecastHolidays(holidays map[string]bool, from, to time.Time) []string {
	var in []string
	for d := range holidays {
		if d >= from.Format(time.DateOnly) && d < to.Format(time.DateOnly) {
			in = append(in, d)
		}
	}
	sort.Strings(in)
	return in
}
