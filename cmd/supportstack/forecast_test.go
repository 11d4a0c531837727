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

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
	"github.com/supportstack/operator/internal/controller"
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

// TestForecastCmd: two weeks of history (--weeks 2), read as the
// operator reads its days: from 9 March 09:00, so the history starts on
// the 10th and holds 16 March's Monday, whose 09:00 half-hour had 3
// tickets: 6 an hour, all kept. The tickets read are those of 9 and 16
// March and 23 March 08:30: 7. The backtest forecasts 23 February, 2
// March and 16 March right (each from Mondays of 6 an hour; 9 March is a
// holiday, left out of the comparison and of 16 March's history): WAPE 0.
// Handle time: 15m from the 3 tickets with time worked when 3 are
// enough, else the team's 10m; billing has no tickets: no forecast, and
// no block to paste. One week is refused: its first day is partial.
func TestForecastCmd(t *testing.T) {
	teamYAML := strings.Replace(ticketsTeam("https://rt.example.com"), "  timeZone: America/New_York\n",
		"  timeZone: America/New_York\n  holidays:\n  - {date: \"2026-03-09\", name: Spring Day, open: true}\n", 1)
	team := writeTicketsFile(t, "team.yaml", teamYAML)
	tickets := forecastTickets(t)
	run := func(extra ...string) string {
		t.Helper()
		var out strings.Builder
		args := append([]string{"-f", team, "--tickets", tickets, "--weeks", "2", "--at", "2026-03-23T09:00:00-04:00"}, extra...)
		if err := forecastCmd(args, &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	got := run("--min-tickets", "3")
	want := `# SupportTeam desk: demand proposed from 16 tickets of ` + tickets + ` (billing, support), history ending 2026-03-23 (America/New_York)
# Paste each queue's demand under its entry in spec.queues.

# queue support: 7 tickets created since 2026-03-09 09:00; history 2026-03-10 to 2026-03-23, 2 weeks with data
# backtest: WAPE 0.0% over the 4 weeks before 2026-03-23, each forecast from the 2 weeks before it, per half-hour
# the intervals (whole contacts per hour) keep 100 % of the forecast's 3.0 contacts a week
demand:
  # mean time worked of 3 resolved tickets
  averageHandleTime: 15m0s
  intervals:
  - {days: [Mon], from: "09:00", to: "09:30", contactsPerHour: 6}

# queue billing: no forecast: no ticket of queue billing in the last 14 days; keep the team's demand (the operator would use demand.intervals)
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

	if err := forecastCmd([]string{"-f", team, "--tickets", tickets, "--weeks", "1"}, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "must be at least 2") {
		t.Errorf("--weeks 1: %v", err)
	}
	if got := run(); !strings.Contains(got, "  # the team's value kept: 3 resolved tickets have time worked, 30 needed to estimate it\n  averageHandleTime: 10m0s\n") {
		t.Errorf("with too few tickets for a handle time:\n%s", got)
	}
}

// TestForecastCmdAsTheOperator: `supportstack forecast --weeks 4`
// proposes what a History queue's status shows (controller.ForecastDemand
// on the 28 days the operator holds): the same intervals and handle time,
// from six weeks of varied tickets, some on the first, partial day of the
// 28 (read from 09:00 on Monday 23 February) and some earlier, which the
// CLI reads for its backtest. A queue of one ticket every other day
// is too sparse for whole contacts per hour: the CLI says how much its
// intervals keep and warns; with its tickets three and four weeks old
// every half-hour's forecast is under 0.5 an hour, so none is kept, and
// the operator keeps demand.intervals.
func TestForecastCmdAsTheOperator(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 23, 10, 0, 0, 0, ny)
	var list, held []actuals.Ticket
	for day := 9; day < 28+23; day++ {
		for hour := 8; hour < 18; hour++ {
			for i := range (day*7 + hour*3) % 5 {
				c := time.Date(2026, time.February, day, hour, (i*17+day)%60, 0, 0, ny)
				tk := actuals.Ticket{ID: len(list) + 1, Queue: "support", Created: c, Resolved: &actuals.Event{At: c.Add(time.Hour)}, TimeWorked: time.Duration(5+(i+day)%9) * time.Minute}
				list = append(list, tk)
			}
		}
		if day%2 == 0 && day < 28+9 { // none in the last two weeks
			list = append(list, actuals.Ticket{ID: len(list) + 1, Queue: "billing", Created: time.Date(2026, time.February, day, 8+day%9, 0, 0, 0, ny)})
		}
	}
	for _, tk := range list {
		if !tk.Created.Before(now.Add(-controller.ActualsWindow)) && !tk.Created.After(now) {
			held = append(held, tk)
		}
	}
	data, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	teamFile := writeTicketsFile(t, "team.yaml", ticketsTeam("https://rt.example.com"))
	var out strings.Builder
	if err := forecastCmd([]string{"-f", teamFile, "--tickets", writeTicketsFile(t, "tickets.json", string(data)), "--weeks", "4", "--at", now.Format(time.RFC3339)}, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	start, end := strings.Index(got, "\n# queue support"), strings.Index(got, "\n# queue billing")
	if start < 0 || end < 0 {
		t.Fatalf("no support or billing section:\n%s", got)
	}
	block := got[start:end]
	var pasted struct {
		Demand opsv1alpha1.Demand `json:"demand"`
	}
	if err := yaml.Unmarshal([]byte(block[strings.Index(block, "demand:"):]), &pasted); err != nil {
		t.Fatal(err)
	}
	team, err := loadTeam(teamFile, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := controller.ForecastDemand(team, "support", held, now)
	if st.Source != opsv1alpha1.DemandHistory || len(st.Intervals) < 10 || !equality.Semantic.DeepEqual(st.Intervals, pasted.Demand.Intervals) ||
		st.AverageHandleTime == nil || st.AverageHandleTime.Duration != pasted.Demand.AverageHandleTime.Duration {
		t.Errorf("the CLI proposes\n%s\nthe operator's status: %s %+v %v", block, st.Source, st.Intervals, st.AverageHandleTime)
	}
	billing := got[end:]
	if !strings.Contains(billing, "# the intervals (whole contacts per hour) keep 0 % of the forecast's") ||
		!strings.Contains(billing, "# WARNING: under 80 %: too sparse for whole contacts per hour; the operator would keep demand.intervals") {
		t.Errorf("billing is not flagged as too sparse:\n%s", billing)
	}
	if st := controller.ForecastDemand(team, "billing", held, now); st.Source != opsv1alpha1.DemandDeclared || !strings.Contains(st.Message, "too sparse") {
		t.Errorf("the operator uses billing's forecast: %+v", st)
	}
}
