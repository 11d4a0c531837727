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
	if *weeks < 1 {
		return fmt.Errorf("--weeks %d: must be at least 1", *weeks)
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
	// The team's history starts with its first ticket: weeks before it
	// are no data (a new desk), not weeks without contacts.
	for _, t := range tt.Tickets {
		if opt.Start.IsZero() || t.Created.Before(opt.Start) {
			opt.Start = t.Created
		}
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
		if err := forecastQueue(out, q, tt.Tickets, opt, end, *minTickets); err != nil {
			return err
		}
	}
	return nil
}

// forecastQueue writes one queue's proposed demand.
func forecastQueue(out io.Writer, q opsv1alpha1.Queue, tickets []actuals.Ticket, opt forecast.Options, end time.Time, minTickets int) error {
	var arrivals []time.Time
	var recent []actuals.Ticket
	historyStart := localday.Start(end.Year(), end.Month(), end.Day()-7*opt.Weeks, end.Location())
	for _, t := range tickets {
		if t.Queue != q.Name {
			continue
		}
		arrivals = append(arrivals, t.Created)
		if !t.Created.Before(historyStart) && t.Created.Before(end) {
			recent = append(recent, t)
		}
	}
	rates, err := forecast.Weekly(arrivals, opt)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n# queue %s: %d tickets created in the %d weeks before %s; %d of those weeks had data",
		q.Name, len(recent), opt.Weeks, end.Format(time.DateOnly), rates.Weeks)
	if h := forecastHolidays(opt.Holidays, historyStart, end); len(h) > 0 {
		fmt.Fprintf(&b, " (holidays left out: %s)", strings.Join(h, ", "))
	}
	b.WriteString("\n")
	if wape, err := forecast.Backtest(arrivals, opt, backtestWeeks); err != nil {
		fmt.Fprintf(&b, "# backtest: none (no arrivals in the %d weeks before %s)\n", backtestWeeks, end.Format(time.DateOnly))
	} else {
		fmt.Fprintf(&b, "# backtest: WAPE %.1f%% over the %d weeks before %s, each forecast from the %d weeks before it, per half-hour\n",
			wape*100, backtestWeeks, end.Format(time.DateOnly), opt.Weeks)
	}
	if len(recent) == 0 {
		// Pasting it would remove the queue's demand: say so.
		b.WriteString("# no tickets in the history: the demand below has no intervals; keep the team's unless the queue really has no contacts\n")
	}
	b.WriteString("demand:\n")
	handled := 0
	for _, t := range recent {
		if t.Resolved != nil && t.TimeWorked > 0 {
			handled++
		}
	}
	aht, ok := forecast.HandleTime(recent, minTickets)
	switch {
	case ok:
		fmt.Fprintf(&b, "  # mean time worked of %d resolved tickets\n  averageHandleTime: %s\n", handled, aht)
	case q.Demand != nil:
		fmt.Fprintf(&b, "  # the team's value kept: %d resolved tickets have time worked, %d needed to estimate it\n  averageHandleTime: %s\n",
			handled, minTickets, q.Demand.AverageHandleTime.Duration)
	default:
		fmt.Fprintf(&b, "  # averageHandleTime cannot be estimated (%d resolved tickets have time worked, %d needed) and the team has none: set it\n",
			handled, minTickets)
	}
	intervals := rates.Intervals(forecast.MaxIntervals)
	if len(intervals) == 0 {
		b.WriteString("  intervals: []\n")
	} else {
		b.WriteString("  intervals:\n")
	}
	for _, in := range intervals {
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
