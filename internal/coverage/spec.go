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
	"time"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/staffing"
)

var weekdays = map[opsv1alpha1.Weekday]time.Weekday{
	"Sun": time.Sunday, "Mon": time.Monday, "Tue": time.Tuesday, "Wed": time.Wednesday,
	"Thu": time.Thursday, "Fri": time.Friday, "Sat": time.Saturday,
}

// ParseClock parses HH:MM (24:00 allowed) into minutes of the day.
func ParseClock(s string) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("time %q is outside 00:00-24:00", s)
	}
	return h*60 + m, nil
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

func days(list []opsv1alpha1.Weekday) [7]bool {
	var d [7]bool
	for _, w := range list {
		d[weekdays[w]] = true
	}
	return d
}

// FromSpec converts a SupportTeam spec into a Team. The API server has
// already validated it; errors here mean a rule CEL could not check.
func FromSpec(spec opsv1alpha1.SupportTeamSpec) (Team, error) {
	loc, err := time.LoadLocation(string(spec.TimeZone))
	if err != nil {
		return Team{}, fmt.Errorf("time zone %q: %w", spec.TimeZone, err)
	}
	team := Team{Location: loc, ShrinkagePercent: float64(spec.Shrinkage)}
	for _, s := range spec.Shifts {
		start, err := ParseClock(string(s.Start))
		if err != nil {
			return Team{}, fmt.Errorf("shift %s: %w", s.Name, err)
		}
		end, err := ParseClock(string(s.End))
		if err != nil {
			return Team{}, fmt.Errorf("shift %s: %w", s.Name, err)
		}
		team.Shifts = append(team.Shifts, Shift{Name: s.Name, Days: days(s.Days), Start: start, End: end})
	}
	for _, m := range spec.Members {
		team.Members = append(team.Members, Member{Name: m.Name, Skills: m.Skills, Shifts: m.Shifts})
	}
	for _, a := range spec.TimeOff {
		from, err := ParseDate(string(a.From))
		if err != nil {
			return Team{}, fmt.Errorf("time off of %s: %w", a.Member, err)
		}
		to, err := ParseDate(string(a.To))
		if err != nil {
			return Team{}, fmt.Errorf("time off of %s: %w", a.Member, err)
		}
		team.Absences = append(team.Absences, Absence{Member: a.Member, From: from, To: to})
	}
	for _, h := range spec.Holidays {
		d, err := ParseDate(string(h.Date))
		if err != nil {
			return Team{}, fmt.Errorf("holiday %s: %w", h.Name, err)
		}
		if h.Open {
			team.OpenHolidays = append(team.OpenHolidays, d)
		} else {
			team.Holidays = append(team.Holidays, d)
		}
	}
	for _, q := range spec.Queues {
		queue, err := queueFromSpec(q)
		if err != nil {
			return Team{}, err
		}
		team.Queues = append(team.Queues, queue)
	}
	return team, nil
}

// queueFromSpec converts one queue: its target (Phone and Chat) and demand.
func queueFromSpec(q opsv1alpha1.Queue) (Queue, error) {
	queue := Queue{Name: q.Name, Skills: q.Skills}
	switch q.Channel {
	case opsv1alpha1.ChannelPhone, opsv1alpha1.ChannelChat:
		queue.Live = true
		if q.ServiceLevel == nil {
			return Queue{}, fmt.Errorf("queue %s: %s needs serviceLevel", q.Name, q.Channel)
		}
		queue.Target = staffing.LiveTarget{
			Percent:      float64(q.ServiceLevel.Percent),
			AnswerWithin: q.ServiceLevel.AnswerWithin.Duration,
		}
		if q.ServiceLevel.MaxOccupancy != nil {
			queue.Target.MaxOccupancy = float64(*q.ServiceLevel.MaxOccupancy)
		}
		if q.ServiceLevel.Patience != nil {
			queue.Patience = q.ServiceLevel.Patience.Duration
		}
	}
	if q.Demand != nil {
		queue.Handle = q.Demand.AverageHandleTime.Duration
		for _, w := range q.Demand.Intervals {
			from, err := ParseClock(string(w.From))
			if err != nil {
				return Queue{}, fmt.Errorf("queue %s demand: %w", q.Name, err)
			}
			to, err := ParseClock(string(w.To))
			if err != nil {
				return Queue{}, fmt.Errorf("queue %s demand: %w", q.Name, err)
			}
			queue.Windows = append(queue.Windows, Window{Days: days(w.Days), From: from, To: to, ContactsPerHour: float64(w.ContactsPerHour)})
		}
	}
	return queue, nil
}
