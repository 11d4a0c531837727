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
	"time"

	"github.com/supportstack/operator/internal/coverage"
	"github.com/supportstack/operator/internal/staffing"
)

// largeTeam is 200 members and 20 queues over three shifts, short almost
// every weekday hour: queues need skill q%10, members hold two of the
// first eight skills, so queues 8, 9, 18 and 19 have nobody (skills gaps)
// and the rest too few people.
func largeTeam() coverage.Team {
	weekdays := [7]bool{false, true, true, true, true, true, false}
	team := coverage.Team{
		Location:         time.UTC,
		ShrinkagePercent: 30,
		Shifts: []coverage.Shift{
			{Name: "early", Days: weekdays, Start: 7 * 60, End: 15*60 + 30},
			{Name: "late", Days: weekdays, Start: 11*60 + 30, End: 20 * 60},
			{Name: "night", Days: [7]bool{true, true, true, true, true, true, true}, Start: 22 * 60, End: 6 * 60},
		},
	}
	for q := 0; q < 20; q++ {
		queue := coverage.Queue{Name: fmt.Sprintf("queue-%02d", q), Skills: []string{fmt.Sprintf("skill-%d", q%10)}, Handle: time.Duration(120+q*10) * time.Second}
		if q%2 == 0 {
			queue.Live = true
			queue.Target = staffing.LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second, MaxOccupancy: 85}
		}
		for h := 8; h < 18; h++ {
			queue.Windows = append(queue.Windows, coverage.Window{Days: weekdays, From: h * 60, To: h*60 + 60, ContactsPerHour: float64(20 + (h*7+q*13)%60)})
		}
		team.Queues = append(team.Queues, queue)
	}
	shifts := []string{"early", "late", "night"}
	for m := 0; m < 200; m++ {
		team.Members = append(team.Members, coverage.Member{
			Name:   fmt.Sprintf("member-%03d", m),
			Skills: []string{fmt.Sprintf("skill-%d", m%8), fmt.Sprintf("skill-%d", (m+3)%8)},
			Shifts: []string{shifts[m%3]},
		})
	}
	return team
}

// BenchmarkAnalyze200People20Queues ranks every training pair of
// largeTeam (what supportstack schedule train computes) after its coverage.
func BenchmarkAnalyze200People20Queues(b *testing.B) {
	team := largeTeam()
	r, err := coverage.Compute(team, monday)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var rep Report
	for b.Loop() {
		rep = Analyze(team, r, 10)
	}
	b.ReportMetric(float64(rep.ShortHalfHours), "short-half-hours")
	b.ReportMetric(float64(rep.Needs[0].Closes), "best-closes")
}

// BenchmarkSkillsNote200People20Queues is what a reconcile of largeTeam
// adds to its Staffed condition: the best pair in one queue's skills.
func BenchmarkSkillsNote200People20Queues(b *testing.B) {
	team := largeTeam()
	r, err := coverage.Compute(team, monday)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if SkillsNote(team, r) == "" {
			b.Fatal("no skills gap")
		}
	}
}
