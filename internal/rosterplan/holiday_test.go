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

package rosterplan

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// holidayTeam needs 2 people 09:00-17:00 on weekdays (2 contacts an hour
// of an hour each) and has exactly 2 who work those hours, so the only
// possible gap of the week of Monday 23 November is Thanksgiving, Thursday
// the 26th, when no shift is worked. Shifts are 8 hours, so no shift
// starting on Wednesday reaches Thursday's demand.
const holidayTeam = `apiVersion: ops.supportstack.io/v1alpha1
kind: SupportTeam
metadata: {name: holiday, namespace: helpdesk}
spec:
  timeZone: America/New_York
  shrinkage: 0
  rostering: {minShift: 8h, maxShift: 8h}
  shifts:
  - {name: day, days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}
  members:
  - {name: ann, skills: [windows], shifts: [day]}
  - {name: bo, skills: [windows], shifts: [day]}
  holidays: [{date: "2026-11-26", name: Thanksgiving%s}]
  queues:
  - name: phones
    channel: Email
    skills: [windows]
    demand: {averageHandleTime: 1h, intervals: [{days: [Mon, Tue, Wed, Thu, Fri], from: "09:00", to: "17:00", contactsPerHour: 2}]}
    responseTargets: {firstResponse: 4h}
`

// A closed holiday is no demand for the solver and no shortfall in either
// roster's figures; an open one keeps its 16 half-hours of 2 staff short in
// both (no roster can cover a day no shift starts on), and the table says
// which it is. Before holidays removed demand, the closed team had the open
// team's figures.
func TestProposeHoliday(t *testing.T) {
	cases := []struct {
		name       string
		open       string
		wantShort  int // staff-half-hours short, now and proposed
		wantGaps   int // understaffed queue-intervals, now and proposed
		wantDemand int // required staff summed over Thursday, as the solver reads it
		wantNote   string
	}{
		{"closed", "", 0, 0, 0, "holiday Thu 2026-11-26 is closed: no staff needed\n"},
		{"open", ", open: true", 32, 16, 32, "holiday Thu 2026-11-26 is open: demand kept, no shift starts that day, so its gaps count\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := teamFrom(t, strings.Replace(holidayTeam, "%s", tc.open, 1))
			p, err := Propose(team, monday, Options{Weeks: 1, Solver: solver})
			if err != nil {
				t.Fatal(err)
			}
			demand := 0
			for i, iv := range p.Input.Now {
				if iv.Start.Format(time.DateOnly) == "2026-11-26" {
					demand += p.Input.Problem.Required[0][i]
				}
			}
			if demand != tc.wantDemand {
				t.Errorf("solver's demand on Thanksgiving: %d staff-half-hours, want %d", demand, tc.wantDemand)
			}
			for name, f := range map[string]Figures{"now": p.Now, "proposed": p.Proposed} {
				if f.StaffHalfHoursShort != tc.wantShort || f.UnderstaffedIntervals != tc.wantGaps {
					t.Errorf("%s: %d staff-half-hours short in %d intervals, want %d in %d",
						name, f.StaffHalfHoursShort, f.UnderstaffedIntervals, tc.wantShort, tc.wantGaps)
				}
			}
			if p.Result.Score.Understaffed != tc.wantShort {
				t.Errorf("the solver scores %d short, want %d", p.Result.Score.Understaffed, tc.wantShort)
			}
			var out bytes.Buffer
			if err := p.WriteTable(&out); err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(out.String(), tc.wantNote) {
				t.Errorf("table does not end with %q:\n%s", tc.wantNote, out.String())
			}
		})
	}
}
