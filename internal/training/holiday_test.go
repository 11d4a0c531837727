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
	"testing"
)

// Thanksgiving, Thursday 26 November, has mobile demand from 00:00 to
// 06:00, when only nik, on the night shift that started on Wednesday
// evening, is on shift, and nik has no mobile skill. Closed, the holiday
// needs nobody: no gap, nothing to train. Open, its 12 half-hours are
// short for lack of skills, and training nik closes all of them. Before
// holidays removed demand, the closed team had the open team's needs.
func TestHolidayTrainingNeeds(t *testing.T) {
	const spec = `
timeZone: UTC
shrinkage: 0
shifts: [{name: night, days: [Wed], start: "22:00", end: "06:00"}]
members: [{name: nik, skills: [windows], shifts: [night]}]
holidays: [{date: "2026-11-26", name: Thanksgiving%s}]
queues:
- name: mobile
  channel: Email
  skills: [mobile]
  demand: {averageHandleTime: 1h, intervals: [{days: [Thu], from: "00:00", to: "06:00", contactsPerHour: 1}]}
  responseTargets: {firstResponse: 4h}
`
	cases := []struct {
		name      string
		open      string
		wantShort int
		wantNeeds []string
	}{
		{"closed", "", 0, nil},
		{"open", ", open: true", 12, []string{"train nik in mobile: closes 12 of 12 short half-hours in mobile"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := teamFrom(t, fmt.Sprintf(spec, tc.open))
			rep := Analyze(team, compute(t, team), 0)
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
}
