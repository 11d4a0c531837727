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

package training

import (
	"fmt"
	"slices"
	"testing"
)

// Thanksgiving, Thursday 26 November, has mobile demand (one person) from
// 00:00 to 06:00, when nik is on the night shift that started on Wednesday
// evening, and from 09:00 to 17:00, when ann works her day shift; neither
// has the mobile skill. Closed, the holiday needs nobody: no gap, nothing to
// train. Open, it is an ordinary Thursday, as without a holiday: ann's 16
// half-hours and nik's 12 are short for lack of skills, and training ann
// closes 16 of the 28, nik 12; the gaps, their causes and the needs are
// those of the team without the holiday. Before open holidays kept their
// shifts, ann was not on shift on the open holiday and only nik's training
// was proposed.
func TestHolidayTrainingNeeds(t *testing.T) {
	const spec = `
timeZone: UTC
shrinkage: 0
shifts:
- {name: day, days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}
- {name: night, days: [Wed], start: "22:00", end: "06:00"}
members:
- {name: ann, skills: [windows], shifts: [day]}
- {name: nik, skills: [windows], shifts: [night]}
holidays: %s
queues:
- name: mobile
  channel: Email
  skills: [mobile]
  demand:
    averageHandleTime: 1h
    intervals:
    - {days: [Thu], from: "00:00", to: "06:00", contactsPerHour: 1}
    - {days: [Thu], from: "09:00", to: "17:00", contactsPerHour: 1}
  responseTargets: {firstResponse: 4h}
`
	ordinary := []string{
		"train ann in mobile: closes 16 of 28 short half-hours in mobile",
		"train nik in mobile: closes 12 of 28 short half-hours in mobile",
	}
	cases := []struct {
		name      string
		holidays  string
		wantShort int
		wantNeeds []string
	}{
		{"closed", `[{date: "2026-11-26", name: Thanksgiving}]`, 0, nil},
		{"open", `[{date: "2026-11-26", name: Thanksgiving, open: true}]`, 28, ordinary},
		{"none", `[]`, 28, ordinary},
	}
	gaps := map[string][]Gap{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := teamFrom(t, fmt.Sprintf(spec, tc.holidays))
			r := compute(t, team)
			gaps[tc.name] = Gaps(team, r)
			rep := Analyze(team, r, 0)
			if rep.ShortHalfHours != tc.wantShort || rep.Queues[0].SkillsHalfHours != tc.wantShort {
				t.Errorf("%d staff-half-hours short (%d for skills), want %d for skills", rep.ShortHalfHours, rep.Queues[0].SkillsHalfHours, tc.wantShort)
			}
			var needs []string
			for _, n := range rep.Needs {
				needs = append(needs, n.String())
			}
			if fmt.Sprint(needs) != fmt.Sprint(tc.wantNeeds) {
				t.Errorf("needs %q, want %q", needs, tc.wantNeeds)
			}
		})
	}
	// Gap by gap, with the interval it is in and its cause: the open
	// holiday is the Thursday without one.
	if !slices.Equal(gaps["open"], gaps["none"]) {
		t.Errorf("gaps with the open holiday %+v,\nwithout %+v", gaps["open"], gaps["none"])
	}
}
