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
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/report"
	"github.com/supportstack/operator/internal/testenv"
)

// The report package's seeded week: its team file, tickets and goldens.
const (
	reportTeamFile    = "../../internal/report/testdata/team.yaml"
	reportTicketsFile = "../../internal/report/testdata/tickets.json"
)

// TestReportTeamOffline runs `report team -f --tickets` with no cluster
// and no RT. The JSON and CSV are byte for byte the report package's
// goldens, which were built from a calendar written out by hand: so the
// CLI's calendar, targets and responders (the operator's
// controller.ActualsOptions from the team file) are the hand-checked ones,
// and --period week --at picks the week before.
func TestReportTeamOffline(t *testing.T) {
	base := []string{"report", "team", "-f", reportTeamFile, "--tickets", reportTicketsFile, "--period", "week", "--at", "2026-11-04T08:00:00-05:00"}
	for _, c := range []struct{ format, golden string }{
		{"json", "../../internal/report/testdata/week.json"},
		{"csv", "../../internal/report/testdata/week.csv"},
	} {
		t.Run(c.format, func(t *testing.T) {
			var out bytes.Buffer
			// As of Wednesday 4 Nov the week is still Mon 26 Oct to Mon 2
			// Nov, but the golden is as of Monday 08:00: --from/--to
			// reports the same days as of then.
			args := []string{"report", "team", "-f", reportTeamFile, "--tickets", reportTicketsFile,
				"--from", "2026-10-26", "--to", "2026-11-02", "--at", "2026-11-02T08:00:00-05:00", "--format", c.format}
			if err := run(args, &out); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(c.golden)
			if err != nil {
				t.Fatal(err)
			}
			// The golden's period is "week"; the same days by their dates
			// are "custom". Nothing else may differ.
			got := strings.Replace(out.String(), "custom", "week", 1)
			if got != string(want) {
				t.Errorf("report team --format %s differs from %s", c.format, c.golden)
			}
		})
	}
	t.Run("period week", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(append(base, "--format", "json"), &out); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"period": "week"`, `"from": "2026-10-26T00:00:00-04:00"`, `"to": "2026-11-02T00:00:00-05:00"`, `"asOf": "2026-11-04T08:00:00-05:00"`} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the JSON lacks %s", want)
			}
		}
	})
	t.Run("html", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(append(base, "--format", "html"), &out); err != nil {
			t.Fatal(err)
		}
		page := out.String()
		if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "<svg") || strings.Contains(page, "<script") {
			t.Errorf("not the self-contained HTML report: %.200s", page)
		}
	})
}

// TestReportTeamRefuses: each mistake is refused with what to write
// instead, before anything is read.
func TestReportTeamRefuses(t *testing.T) {
	base := []string{"report", "team", "-f", reportTeamFile, "--tickets", reportTicketsFile}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no period", nil, "give --period day|week|month, or --from and --to"},
		{"bad period", []string{"--period", "fortnight"}, `--period "fortnight": use day, week or month`},
		{"from after to", []string{"--from", "2026-11-02", "--to", "2026-10-26"}, "--from 2026-11-02 is not before --to 2026-10-26"},
		{"from equal to to", []string{"--from", "2026-11-02", "--to", "2026-11-02"}, "is not before --to"},
		{"from without to", []string{"--from", "2026-10-26"}, "give both --from and --to"},
		{"from not a date", []string{"--from", "26/10/2026", "--to", "2026-11-02"}, `--from "26/10/2026" is not YYYY-MM-DD`},
		{"unknown format", []string{"--period", "week", "--format", "pdf"}, `--format "pdf": use html, csv or json`},
		{"at not RFC 3339", []string{"--period", "week", "--at", "tomorrow"}, "--at"},
		{"at before the period", []string{"--from", "2026-10-26", "--to", "2026-11-02", "--at", "2026-10-25T12:00:00-04:00"}, "is before the period starts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(append(append([]string{}, base...), c.args...), &out)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one with %q", err, c.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes for a refused report", out.Len())
			}
		})
	}
}

// TestReportTeamFromCluster reads the team by name from the cluster (a
// fake client: the CLI only reads it): only the queues the operator has
// in RT (status.queues[].externalID) are the team's tickets, so with
// portal not in RT yet its tickets are not counted, while its demand and
// staff still are; the report names the team namespace/name.
func TestReportTeamFromCluster(t *testing.T) {
	team, err := loadTeam(reportTeamFile, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	team.Status.Queues = []opsv1alpha1.QueueStatus{{Name: "email", ExternalID: "3"}, {Name: "portal"}}
	useClient(t, fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(team).Build())
	var out bytes.Buffer
	err = run([]string{"report", "team", "-n", "helpdesk", "reports", "--tickets", reportTicketsFile,
		"--from", "2026-10-26", "--to", "2026-11-02", "--at", "2026-11-02T08:00:00-05:00", "--format", "json"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Team != "helpdesk/reports" || r.Period != report.Custom {
		t.Errorf("team %q period %q, want helpdesk/reports custom", r.Team, r.Period)
	}
	created := map[string]int{}
	forecast := map[string]float64{}
	for _, s := range r.ServiceLevels {
		created[s.Queue], forecast[s.Queue] = s.Created, s.Forecast
	}
	if created["email"] != 11 || created["portal"] != 0 || forecast["portal"] != 64 {
		t.Errorf("created %v forecast %v, want email 11, portal 0 of 64 forecast", created, forecast)
	}
}

// TestReportTeamHistoryDemand: a queue whose demand comes from history is
// reported against the demand the operator used (status.queues[].demand,
// through SupportTeam.SpecInUse), not the declared intervals: email's
// forecast on Tuesday 27 October is 10 an hour all day (240), not the
// declared 4 an hour 08:00-18:00 (40).
func TestReportTeamHistoryDemand(t *testing.T) {
	data, err := os.ReadFile(reportTeamFile)
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(data), "    demand:\n      averageHandleTime: 10m\n", "    demand:\n      source: History\n      averageHandleTime: 10m\n", 1)
	yaml += `status:
  queues:
  - name: email
    demand:
      source: History
      weeks: 4
      intervals:
      - {days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun], from: "00:00", to: "24:00", contactsPerHour: 10}
`
	teamFile := writeTicketsFile(t, "team.yaml", yaml)
	var out bytes.Buffer
	if err := run([]string{"report", "team", "-f", teamFile, "--tickets", reportTicketsFile, "--from", "2026-10-27", "--to", "2026-10-28",
		"--at", "2026-10-28T08:00:00-04:00", "--format", "json"}, &out); err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Days) != 1 || r.Days[0].Queues[0].Queue != "email" || r.Days[0].Queues[0].Forecast != 240 || r.Days[0].Queues[1].Forecast != 16 {
		t.Errorf("days %+v, want email's forecast 240 (the status's 10 an hour) and portal's 16", r.Days)
	}
}

// TestReportTeamMemberWithoutEmail: a member with no e-mail in the spec
// cannot be matched to RT's users, so the productivity table lists them
// with zeros instead of leaving them out; dan's replies as
// dan@example.com then count as an RT user's who is not a member.
func TestReportTeamMemberWithoutEmail(t *testing.T) {
	data, err := os.ReadFile(reportTeamFile)
	if err != nil {
		t.Fatal(err)
	}
	teamFile := writeTicketsFile(t, "team.yaml", strings.Replace(string(data), "{name: dan, email: dan@example.com,", "{name: dan,", 1))
	var out bytes.Buffer
	if err := run([]string{"report", "team", "-f", teamFile, "--tickets", reportTicketsFile, "--period", "week", "--at", "2026-11-04T08:00:00-05:00", "--format", "json"}, &out); err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, m := range r.Members {
		if m.Name == "dan" {
			found = m.Member && m.RTUser == "" && m.Resolved == 0 && m.Answered == 0
		}
	}
	if !found {
		t.Errorf("dan (no e-mail) is not listed as a member with zeros: %+v", r.Members)
	}
}
