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
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// holidayTeam needs 2 people 09:00-17:00 on weekdays (2 contacts an hour
// of an hour each) and has exactly 2, who work those hours on every
// weekday but Thursday: the week of Monday 23 November is short 2 staff in
// Thursday's 16 half-hours (32 staff-half-hours), unless Thursday the 26th,
// Thanksgiving, is closed. Shifts are 8 hours, so no shift starting on
// Wednesday reaches Thursday's demand, and 5 of them are a 40-hour week.
const holidayTeam = `apiVersion: ops.supportstack.io/v1alpha1
kind: SupportTeam
metadata: {name: holiday, namespace: helpdesk}
spec:
  timeZone: America/New_York
  shrinkage: 0
  rostering: {minShift: 8h, maxShift: 8h}
  shifts:
  - {name: day, days: [Mon, Tue, Wed, Fri], start: "09:00", end: "17:00"}
  members:
  - {name: ann, skills: [windows], shifts: [day]}
  - {name: bo, skills: [windows], shifts: [day]}
  holidays: %s
  queues:
  - name: phones
    channel: Email
    skills: [windows]
    demand: {averageHandleTime: 1h, intervals: [{days: [Mon, Tue, Wed, Thu, Fri], from: "09:00", to: "17:00", contactsPerHour: 2}]}
    responseTargets: {firstResponse: 4h}
`

// A closed holiday is no demand for the solver, no shortfall in either
// roster's figures, and a day the solver is told no shift is worked. An
// open holiday is an ordinary Thursday: the solver is given its 32
// staff-half-hours of demand and no holiday, the current roster (nobody
// on Thursdays) is 32 short as without a holiday, and the proposal puts
// both people on Thursday (it is short of nothing). The table says which
// the holiday is. Before open holidays kept their shifts, the solver was
// told the open holiday was worked by nobody and the proposal stayed 32
// short.
func TestProposeHoliday(t *testing.T) {
	cases := []struct {
		name         string
		holidays     string
		wantHolidays string // what the solver is told
		wantNow      int    // staff-half-hours short now
		wantDemand   int    // required staff summed over Thursday, as the solver reads it
		wantNote     string
	}{
		{"closed", `[{date: "2026-11-26", name: Thanksgiving}]`, "[2026-11-26]", 0, 0,
			"holiday Thu 2026-11-26 is closed: no shift starts that day, no staff needed\n"},
		{"open", `[{date: "2026-11-26", name: Thanksgiving, open: true}]`, "[]", 32, 32,
			"holiday Thu 2026-11-26 is open: shifts and demand as on any Thursday\n"},
		{"none", `[]`, "[]", 32, 32, "&& kubectl apply -f team.yaml\n"},
	}
	proposals := map[string]*Proposal{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := teamFrom(t, fmt.Sprintf(holidayTeam, tc.holidays))
			p, err := Propose(team, monday, Options{Weeks: 1, Solver: solver})
			if err != nil {
				t.Fatal(err)
			}
			proposals[tc.name] = p
			if got := fmt.Sprint(p.Input.Problem.Holidays); got != tc.wantHolidays {
				t.Errorf("the solver is told the holidays are %s, want %s", got, tc.wantHolidays)
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
			if p.Now.StaffHalfHoursShort != tc.wantNow || p.Now.UnderstaffedIntervals != tc.wantNow/2 {
				t.Errorf("now: %d staff-half-hours short in %d intervals, want %d in %d",
					p.Now.StaffHalfHoursShort, p.Now.UnderstaffedIntervals, tc.wantNow, tc.wantNow/2)
			}
			// Two people, five 8-hour days each: every weekday covered.
			if p.Proposed.StaffHalfHoursShort != 0 || p.Result.Score.Understaffed != 0 {
				t.Errorf("proposed: %d staff-half-hours short (the solver scores %d), want 0",
					p.Proposed.StaffHalfHoursShort, p.Result.Score.Understaffed)
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
	// The open holiday is the Thursday without a holiday: the same
	// demand, the same people and allocation now, the same problem for
	// the solver.
	open, none := proposals["open"], proposals["none"]
	if open == nil || none == nil {
		t.Fatal("a proposal failed")
	}
	if len(open.Input.Now) != len(none.Input.Now) {
		t.Fatalf("%d half-hours with the open holiday, %d without", len(open.Input.Now), len(none.Input.Now))
	}
	for i := range open.Input.Now {
		o, n := open.Input.Now[i], none.Input.Now[i]
		if !o.Start.Equal(n.Start) || !slices.Equal(o.Members, n.Members) ||
			!slices.Equal(o.RequiredStaff, n.RequiredStaff) || !slices.Equal(o.Scheduled, n.Scheduled) {
			t.Fatalf("half-hour %d: with the open holiday %+v, without %+v", i, o, n)
		}
	}
	if fmt.Sprint(open.Input.Problem) != fmt.Sprint(none.Input.Problem) {
		t.Errorf("the solver's problem differs with the open holiday:\n%+v\nwithout:\n%+v", open.Input.Problem, none.Input.Problem)
	}
}
