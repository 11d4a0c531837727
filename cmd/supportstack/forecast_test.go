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
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
)

// forecastTickets are support's tickets: three each Monday 16 February
// to 16 March 2026 at 09:05, 09:10 and 09:20 New York (those of 16 March
// resolved with 12, 15 and 18 minutes worked), and one on 23 March 08:30,
// after the history's end.
func forecastTickets(t *testing.T) string {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	list := make([]actuals.Ticket, 0, 16)
	for _, day := range []int{16 + 0, 23, 2 + 28, 9 + 28, 16 + 28} {
		for i, minute := range []int{5, 10, 20} {
			tk := actuals.Ticket{ID: len(list) + 1, Queue: "support", Created: time.Date(2026, time.February, day, 9, minute, 0, 0, ny)}
			if day == 16+28 {
				tk.Resolved = &actuals.Event{At: tk.Created.Add(time.Hour)}
				tk.TimeWorked = time.Duration(12+3*i) * time.Minute
			}
			list = append(list, tk)
		}
	}
	list = append(list, actuals.Ticket{ID: 99, Queue: "support", Created: time.Date(2026, time.March, 23, 8, 30, 0, 0, ny)})
	data, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return writeTicketsFile(t, "tickets.json", string(data))
}

// TestForecastCmd: one week of history (--weeks 1). support's Mondays at
// 09:00 had 3 tickets in half an hour: 6 an hour. The backtest forecasts
// 23 February, 2 March and 16 March right or wrong: 9 March is a holiday,
// left out of the comparison, and so of the history of 16 March, whose
// forecast (from a week with no Monday data) is 0 for 3 tickets: WAPE
// 3/9. Handle time: 15m from the 3 tickets with time worked when 3 are
// enough, else the team's 10m; billing has no tickets and no value.
func TestForecastCmd(t *testing.T) {
	teamYAML := strings.Replace(ticketsTeam("https://rt.example.com"), "  timeZone: America/New_York\n",
		"  timeZone: America/New_York\n  holidays:\n  - {date: \"2026-03-09\", name: Spring Day, open: true}\n", 1)
	team := writeTicketsFile(t, "team.yaml", teamYAML)
	tickets := forecastTickets(t)
	run := func(extra ...string) string {
		t.Helper()
		var out strings.Builder
		args := append([]string{"-f", team, "--tickets", tickets, "--weeks", "1", "--at", "2026-03-23T09:00:00-04:00"}, extra...)
		if err := forecastCmd(args, &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	got := run("--min-tickets", "3")
	want := `# SupportTeam desk: demand proposed from 16 tickets of ` + tickets + ` (billing, support), history ending 2026-03-23 (America/New_York)
# Paste each queue's demand under its entry in spec.queues.

# queue support: 3 tickets created in the 1 weeks before 2026-03-23; 1 of those weeks had data
# backtest: WAPE 33.3% over the 4 weeks before 2026-03-23, each forecast from the 1 weeks before it, per half-hour
demand:
  # mean time worked of 3 resolved tickets
  averageHandleTime: 15m0s
  intervals:
  - {days: [Mon], from: "09:00", to: "09:30", contactsPerHour: 6}

# queue billing: 0 tickets created in the 1 weeks before 2026-03-23; 1 of those weeks had data
# backtest: none (no arrivals in the 4 weeks before 2026-03-23)
# no tickets in the history: the demand below has no intervals; keep the team's unless the queue really has no contacts
demand:
  # averageHandleTime cannot be estimated (0 resolved tickets have time worked, 3 needed) and the team has none: set it
  intervals: []
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// What is printed is the API's Demand, ready to paste.
	block := got[strings.Index(got, "demand:"):strings.Index(got, "\n\n# queue billing")]
	var pasted struct {
		Demand opsv1alpha1.Demand `json:"demand"`
	}
	if err := yaml.UnmarshalStrict([]byte(block), &pasted); err != nil || pasted.Demand.AverageHandleTime.Duration != 15*time.Minute || len(pasted.Demand.Intervals) != 1 {
		t.Errorf("support's block is not the Demand printed: %+v, %v", pasted.Demand, err)
	}

	if got := run(); !strings.Contains(got, "  # the team's value kept: 3 resolved tickets have time worked, 30 needed to estimate it\n  averageHandleTime: 10m0s\n") {
		t.Errorf("with too few tickets for a handle time:\n%s", got)
	}
}
