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
	"testing"
)

// TestPatienceSwitchesToErlangA: a Phone queue's serviceLevel.patience
// sizes it with Erlang A. The published Erlang C example (200 calls an hour
// of 180 s, 80 % within 20 s: 14 agents) needs 12 agents when callers hang
// up after 2 minutes on average (internal/staffing's worked example), and
// 20 staff at 30 % shrinkage become 18; without patience the queue keeps
// Erlang C's 14 and 20.
func TestPatienceSwitchesToErlangA(t *testing.T) {
	for _, tc := range []struct {
		name          string
		patience      string
		agents, staff int
	}{
		{"no patience: Erlang C", "", 14, 20},
		{"2m patience: Erlang A", ", patience: 2m", 12, 18},
	} {
		t.Run(tc.name, func(t *testing.T) {
			team := teamFrom(t, `
timeZone: UTC
shrinkage: 30
shifts: [{name: day, days: [Mon], start: "09:00", end: "17:00"}]
members: [{name: ann, skills: [phone], shifts: [day]}]
queues:
- name: calls
  channel: Phone
  skills: [phone]
  demand:
    averageHandleTime: 180s
    intervals: [{days: [Mon], from: "09:00", to: "10:00", contactsPerHour: 200}]
  serviceLevel: {percent: 80, answerWithin: 20s`+tc.patience+`}
`)
			r, err := Compute(team, at(t, team.Location, "2026-11-23 09:00"))
			if err != nil {
				t.Fatal(err)
			}
			iv := r.Intervals[0]
			if iv.RequiredAgents[0] != tc.agents || iv.RequiredStaff[0] != tc.staff {
				t.Errorf("09:00: %d agents, %d staff; want %d, %d", iv.RequiredAgents[0], iv.RequiredStaff[0], tc.agents, tc.staff)
			}
		})
	}
}
