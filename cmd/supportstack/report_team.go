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
	"errors"
	"fmt"
	"io"
	"time"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/controller"
	"github.com/supportstack/operator/internal/coverage"
	"github.com/supportstack/operator/internal/localday"
	"github.com/supportstack/operator/internal/report"
)

// teamReportCmd writes a team's report for managers over a period: the
// last complete day, week (Monday to Monday) or month before --at, or the
// local dates --from (inclusive) to --to (exclusive), in the team's time
// zone. The tickets come from the team's Request Tracker or --tickets
// (tickets.go); the calendar, targets and responders are the operator's
// (controller.ActualsOptions), so the service levels are those status
// shows for the same tickets.
func teamReportCmd(args []string, out io.Writer) error {
	fs := newFlagSet("report team")
	tf := addTicketFlags(fs)
	periodFlag := fs.String("period", "", "day, week (Monday to Monday) or month: the last complete one before --at, in the team's time zone")
	fromFlag := fs.String("from", "", "first day of the period (YYYY-MM-DD, the team's time zone); with --to, instead of --period")
	toFlag := fs.String("to", "", "day after the period's last (YYYY-MM-DD, exclusive)")
	atFlag := fs.String("at", "", "when the report is as of (RFC 3339): tickets as RT holds them then; default now")
	format := fs.String("format", "html", "html, csv or json")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	write := map[string]func(report.Report, io.Writer) error{
		"json": report.Report.WriteJSON, "csv": report.Report.WriteCSV, "html": report.Report.WriteHTML,
	}[*format]
	if write == nil {
		return fmt.Errorf("--format %q: use html, csv or json", *format)
	}
	kind, fromDate, toDate, err := periodFlags(*periodFlag, *fromFlag, *toFlag)
	if err != nil {
		return err
	}
	at := time.Now()
	if *atFlag != "" {
		if at, err = time.Parse(time.RFC3339, *atFlag); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	}
	// The team's time zone places the period, so the team is read before
	// its tickets (a second read of the same object by the loader).
	team, err := loadTeam(*tf.file, tf.kube, names)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(string(team.Spec.TimeZone))
	if err != nil {
		return fmt.Errorf("timeZone %q: %w", team.Spec.TimeZone, err)
	}
	var from, to time.Time
	if kind == report.Custom {
		from = localday.Start(fromDate.Year(), fromDate.Month(), fromDate.Day(), loc)
		to = localday.Start(toDate.Year(), toDate.Month(), toDate.Day(), loc)
	} else if from, to, err = report.Bounds(kind, at, loc); err != nil {
		return err
	}
	if at.Before(from) {
		return fmt.Errorf("--at %s is before the period starts (%s): there are no tickets to report yet", at.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	tt, err := tf.load(context.Background(), names, from, to, at)
	if err != nil {
		return err
	}
	in, err := reportInput(tt.Team, at)
	if err != nil {
		return err
	}
	in.Period, in.From, in.To, in.Now, in.Tickets = kind, from, to, at, tt.Tickets
	r, err := report.Build(in)
	if err != nil {
		return err
	}
	return write(r, out)
}

// periodFlags checks --period, --from and --to: a period kind, or both
// dates (from before to) for a custom period.
func periodFlags(period, from, to string) (report.Period, time.Time, time.Time, error) {
	if from != "" || to != "" {
		if from == "" || to == "" {
			return "", time.Time{}, time.Time{}, errors.New("give both --from and --to (YYYY-MM-DD, --to exclusive), or --period day|week|month")
		}
		f, err := time.Parse(time.DateOnly, from)
		if err != nil {
			return "", time.Time{}, time.Time{}, fmt.Errorf("--from %q is not YYYY-MM-DD", from)
		}
		t, err := time.Parse(time.DateOnly, to)
		if err != nil {
			return "", time.Time{}, time.Time{}, fmt.Errorf("--to %q is not YYYY-MM-DD", to)
		}
		if !f.Before(t) {
			return "", time.Time{}, time.Time{}, fmt.Errorf("--from %s is not before --to %s (--to is the day after the last day reported)", from, to)
		}
		return report.Custom, f, t, nil
	}
	switch k := report.Period(period); k {
	case report.Day, report.Week, report.Month:
		return k, time.Time{}, time.Time{}, nil
	case "":
		return "", time.Time{}, time.Time{}, errors.New("give --period day|week|month, or --from and --to")
	}
	return "", time.Time{}, time.Time{}, fmt.Errorf("--period %q: use day, week or month (or --from and --to)", period)
}

// reportInput is the team's part of a report's input: its roster and
// the demand the operator used (coverage.FromSpec of SpecInUse: a History
// queue's forecast from status), and the calendar, targets and responders
// the operator measures its tickets with.
func reportInput(team *opsv1alpha1.SupportTeam, at time.Time) (report.Input, error) {
	model, err := coverage.FromSpec(team.SpecInUse())
	if err != nil {
		return report.Input{}, err
	}
	opt, err := controller.ActualsOptions(team, at)
	if err != nil {
		return report.Input{}, err
	}
	name := team.Name
	if team.Namespace != "" {
		name = team.Namespace + "/" + team.Name
	}
	in := report.Input{Team: model, Name: name, Calendar: opt.Calendar, Targets: opt.Targets, Responders: opt.Responders,
		MemberNames: map[string]string{}, TargetPercent: opsv1alpha1.ServiceLevelTargetPercent}
	for _, m := range team.Spec.Members {
		if m.Email != "" {
			in.MemberNames[m.Email] = m.Name
		} else {
			in.NoEmail = append(in.NoEmail, m.Name)
		}
	}
	return in, nil
}
