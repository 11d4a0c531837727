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

package coverage

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteHourly prints the week hour by hour for managers: per queue the
// required and scheduled staff as "required/scheduled", marked with "!" when
// short. An hour shows the larger requirement and the smaller schedule of
// its two half-hours, so a gap in either half shows. Hours in which no queue
// has demand and nobody works are left out.
func WriteHourly(w io.Writer, team Team, r Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	table := &errWriter{w: tw}
	header := make([]string, 0, 2+len(r.Queues))
	header = append(header, "HOUR ("+team.Location.String()+")", "ON SHIFT")
	for _, q := range r.Queues {
		header = append(header, strings.ToUpper(q.Name))
	}
	table.printf("%s\t\n", strings.Join(header, "\t"))
	for i := 0; i < len(r.Intervals); {
		first := r.Intervals[i]
		group := []Interval{first}
		for i++; i < len(r.Intervals) && sameHour(r.Intervals[i].Start, first.Start); i++ {
			group = append(group, r.Intervals[i])
		}
		onShift := group[0].OnShift
		busy := false
		cells := make([]string, len(r.Queues))
		for qi := range r.Queues {
			req, sched := 0, group[0].Scheduled[qi]
			for _, iv := range group {
				req = max(req, iv.RequiredStaff[qi])
				sched = min(sched, iv.Scheduled[qi])
				onShift = min(onShift, iv.OnShift)
				if iv.RequiredStaff[qi] > 0 || iv.OnShift > 0 {
					busy = true
				}
			}
			mark := ""
			for _, iv := range group {
				if iv.Scheduled[qi] < iv.RequiredStaff[qi] {
					mark = " !"
				}
			}
			cells[qi] = fmt.Sprintf("%d/%d%s", req, sched, mark)
		}
		if !busy {
			continue
		}
		table.printf("%s\t%d\t%s\t\n", first.Start.Format("Mon 2006-01-02 15:04 MST"), onShift, strings.Join(cells, "\t"))
	}
	table.printf("\n")
	if table.err != nil {
		return table.err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	legend := &errWriter{w: w}
	legend.printf("cells: required/scheduled staff; ! marks a shortfall in that hour\n")
	for _, q := range r.Queues {
		if q.WorstGap != nil {
			legend.printf("%s: %d understaffed half-hours, worst %s: %d required, %d scheduled\n",
				q.Name, q.UnderstaffedIntervals, q.WorstGap.Start.Format("Mon 2006-01-02 15:04 MST"), q.WorstGap.Required, q.WorstGap.Scheduled)
		} else {
			legend.printf("%s: staffed in every half-hour\n", q.Name)
		}
	}
	if n := len(r.Intervals); n > 0 {
		for _, note := range HolidayNotes(team, r.Intervals[0].Start, r.Intervals[n-1].Start.Add(IntervalLength)) {
			legend.printf("%s\n", note)
		}
	}
	return legend.err
}

// errWriter keeps the first write error so a run of prints checks once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// sameHour compares wall-clock hours including the zone abbreviation, so the
// repeated hour of a fall-back night stays two rows.
func sameHour(a, b time.Time) bool {
	return a.Format("2006-01-02 15 MST") == b.Format("2006-01-02 15 MST")
}

// HolidayNotes says, for each holiday whose date falls in [from, to) in the
// team's time zone (by date order), whether it is closed (no shift, no
// staff needed) or open (worked as any other day: its figures are those of
// the same weekday without a holiday), e.g.
// "holiday Fri 2026-11-27 is open: shifts and demand as on any Friday".
func HolidayNotes(team Team, from, to time.Time) []string {
	if team.Location == nil || !from.Before(to) {
		return nil
	}
	first, last := DateOf(from.In(team.Location)), DateOf(to.Add(-time.Nanosecond).In(team.Location))
	closed := map[Date]bool{}
	for _, d := range team.Holidays {
		closed[d] = true
	}
	dates := slices.Concat(team.Holidays, team.OpenHolidays)
	slices.SortFunc(dates, func(a, b Date) int {
		switch {
		case a.Before(b):
			return -1
		case b.Before(a):
			return 1
		}
		return 0
	})
	dates = slices.Compact(dates)
	var notes []string
	for _, d := range dates {
		if d.Before(first) || last.Before(d) {
			continue
		}
		// The weekday helps a manager place the date; noon UTC has it.
		day := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
		if closed[d] {
			notes = append(notes, fmt.Sprintf("holiday %s %s is closed: no shift starts that day, no staff needed", day.Format("Mon"), d))
		} else {
			notes = append(notes, fmt.Sprintf("holiday %s %s is open: shifts and demand as on any %s", day.Format("Mon"), d, day.Format("Monday")))
		}
	}
	return notes
}
