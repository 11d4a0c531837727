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
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/supportstack/operator/internal/coverage"
	"github.com/supportstack/operator/internal/roster"
	"github.com/supportstack/operator/internal/rosterplan"
	"github.com/supportstack/operator/internal/training"
)

const scheduleUsage = `usage:
  supportstack schedule train [-f FILE | [-n NAMESPACE] NAME] [--top N] [--at RFC3339]
  supportstack schedule propose [-f FILE | [-n NAMESPACE] NAME] [--weeks N] [-o table|yaml] [--time-limit 5s] [--seed N] [--at RFC3339]`

// scheduleCmd holds the commands that help a manager plan the roster.
func scheduleCmd(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(strings.ReplaceAll(scheduleUsage, "  supportstack ", "  "+progName()+" "))
	}
	switch args[0] {
	case "train":
		return trainCmd(args[1:], out)
	case "propose":
		return proposeCmd(args[1:], out)
	}
	return errors.New(strings.ReplaceAll(scheduleUsage, "  supportstack ", "  "+progName()+" "))
}

// trainCmd prints the team's understaffed half-hours of the coming week
// by queue and cause (nobody on shift with the skills, or too few people)
// and the training pairs that close the most of them.
func trainCmd(args []string, out io.Writer) error {
	fs := newFlagSet("schedule train")
	file := fs.String("f", "", "read the SupportTeam from this YAML file instead of the cluster")
	kube := kubeFlags(fs)
	at := fs.String("at", "", "start of the week to look at (RFC 3339); default now")
	top := fs.Int("top", 5, "how many training pairs to list (0: every pair that closes something)")
	proposed := fs.Bool("proposed", false, "under the roster schedule propose proposes, not the current one")
	limit := fs.Duration("time-limit", roster.DefaultTimeLimit, "with --proposed, how long the solver searches")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *top < 0 {
		return fmt.Errorf("--top %d: give 0 (all) or more", *top)
	}
	now := time.Now()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	}
	team, err := loadTeam(*file, kube, names)
	if err != nil {
		return err
	}
	name := team.Name
	if *proposed {
		// Training that closes gaps no roster can: those left once the
		// people are rostered as well as they can be.
		p, err := rosterplan.Propose(demandInUse(team), now, rosterplan.Options{Weeks: 1, Solver: roster.Options{TimeLimit: *limit, Seed: 1}})
		if err != nil {
			return err
		}
		team, name = p.Team, name+" under the proposed roster"
	}
	model, err := coverage.FromSpec(team.SpecInUse())
	if err != nil {
		return err
	}
	result, err := coverage.Compute(model, now)
	if err != nil {
		return err
	}
	if err := writeTraining(out, name, result, training.Analyze(model, result, *top), *top); err != nil {
		return err
	}
	// Name the holidays of the week: a closed one has no gap to train for,
	// an open one is in the figures above as an ordinary day.
	text := &lineWriter{w: out}
	notes := coverage.HolidayNotes(model, result.Intervals[0].Start, result.Intervals[len(result.Intervals)-1].Start.Add(coverage.IntervalLength))
	if len(notes) > 0 {
		text.printf("\n%s\n", strings.Join(notes, "\n"))
	}
	return text.err
}

func writeTraining(out io.Writer, name string, r coverage.Result, rep training.Report, top int) error {
	from := r.Intervals[0].Start.Format("Mon 2006-01-02 15:04 MST")
	if rep.ShortHalfHours == 0 {
		_, err := fmt.Fprintf(out, "SupportTeam %s: every queue is staffed in the 7 days from %s; no gap to train for\n", name, from)
		return err
	}
	if _, err := fmt.Fprintf(out, "SupportTeam %s: %d staff-half-hours short in the 7 days from %s\n\n", name, rep.ShortHalfHours, from); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	table := &lineWriter{w: tw}
	table.printf("QUEUE\tSTAFF-HALF-HOURS SHORT\tHALF-HOURS SHORT\tNOBODY WITH THE SKILLS\tTOO FEW PEOPLE\t\n")
	for _, q := range rep.Queues {
		table.printf("%s\t%d\t%d\t%d\t%d\t\n", q.Name, q.ShortHalfHours, q.Intervals, q.SkillsIntervals, q.Intervals-q.SkillsIntervals)
	}
	if table.err != nil {
		return table.err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	text := &lineWriter{w: out}
	text.printf("\nstaff-half-hours short: required minus scheduled staff, summed over the half-hours; a half-hour short has nobody on shift with the queue's skills, or too few people\n")
	if len(rep.Needs) == 0 {
		text.printf("\nno one member trained in one skill closes any gap: the gaps need more people on shift (supportstack coverage shows when)\n")
		return text.err
	}
	heading := "every training that closes a gap"
	if top > 0 {
		heading = fmt.Sprintf("who to train in what, best first (top %d)", top)
	}
	text.printf("\n%s; skills added to one member, shifts unchanged:\n", heading)
	for _, n := range rep.Needs {
		text.printf("  %s\n", n)
	}
	return text.err
}

// lineWriter keeps the first write error, so a table is written without
// checking every line.
type lineWriter struct {
	w   io.Writer
	err error
}

func (l *lineWriter) printf(format string, args ...any) {
	if l.err == nil {
		_, l.err = fmt.Fprintf(l.w, format, args...)
	}
}
