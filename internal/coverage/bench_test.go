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
	"testing"
	"time"

	"github.com/supportstack/operator/internal/staffing"
)

// bigTeam is a 200-person team with 20 queues (half live, half backlog),
// three shifts including a night shift, time off and holidays.
func bigTeam() Team {
	loc, _ := time.LoadLocation("America/New_York")
	weekdays := [7]bool{false, true, true, true, true, true, false}
	all := [7]bool{true, true, true, true, true, true, true}
	team := Team{
		Location:         loc,
		ShrinkagePercent: 30,
		Shifts: []Shift{
			{Name: "early", Days: weekdays, Start: 7 * 60, End: 15*60 + 30},
			{Name: "late", Days: weekdays, Start: 11*60 + 30, End: 20 * 60},
			{Name: "night", Days: all, Start: 22 * 60, End: 6 * 60},
		},
		Holidays: []Date{{2026, time.December, 25}, {2026, time.December, 26}},
	}
	for q := 0; q < 20; q++ {
		queue := Queue{Name: fmt.Sprintf("queue-%02d", q), Skills: []string{fmt.Sprintf("skill-%d", q%8)}, Handle: time.Duration(120+q*10) * time.Second}
		if q%2 == 0 {
			queue.Live = true
			queue.Target = staffing.LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second, MaxOccupancy: 85}
		}
		for h := 8; h < 18; h++ {
			queue.Windows = append(queue.Windows, Window{Days: weekdays, From: h * 60, To: h*60 + 60, ContactsPerHour: float64(20 + (h*7+q*13)%60)})
		}
		team.Queues = append(team.Queues, queue)
	}
	shifts := []string{"early", "late", "night"}
	for m := 0; m < 200; m++ {
		name := fmt.Sprintf("member-%03d", m)
		team.Members = append(team.Members, Member{
			Name:   name,
			Skills: []string{fmt.Sprintf("skill-%d", m%8), fmt.Sprintf("skill-%d", (m+3)%8)},
			Shifts: []string{shifts[m%3]},
		})
		if m%10 == 0 {
			team.Absences = append(team.Absences, Absence{Member: name, From: Date{2026, time.November, 24}, To: Date{2026, time.November, 27}})
		}
	}
	return team
}

// BenchmarkCompute200People20Queues measures what one SupportTeam reconcile
// spends on coverage: 200 members, 20 queues, 336 intervals. Goal: < 20 ms.
func BenchmarkCompute200People20Queues(b *testing.B) {
	team := bigTeam()
	now := time.Date(2026, time.November, 23, 8, 10, 0, 0, team.Location)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(team, now); err != nil {
			b.Fatal(err)
		}
	}
	ms := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / 1e6
	b.ReportMetric(ms, "ms/reconcile")
	b.ReportMetric(20, "goal-ms")
}
