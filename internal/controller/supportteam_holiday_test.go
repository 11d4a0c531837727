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

package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// TestClosedHolidayIsNotUnderstaffed creates the sample team three times:
// without a holiday in the coming week, with a closed holiday on one of its
// weekdays, and with the same holiday open. The sample is short in both
// queues in every half-hour of a weekday's 08:00-18:00 demand (5 people for
// 8 staff) and has no night shift. Closed, the holiday needs nobody, so
// status counts 20 fewer understaffed intervals per queue than without it.
// Open, the day is worked as any weekday: status reads exactly as without
// a holiday (peaks, understaffed intervals, worst gaps, people on shift).
// Before open holidays kept their shifts, nobody worked the open holiday
// and its phone shortfall of all 6 staff became that queue's worst gap.
func TestClosedHolidayIsNotUnderstaffed(t *testing.T) {
	ctx := context.Background()
	nyc := mustZone(t, "America/New_York")
	// Two days ahead (the next weekday, if that is a weekend): wholly in
	// the coming 7 days whatever the hour.
	day := fakeClock.Now().In(nyc).AddDate(0, 0, 2)
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	date := opsv1alpha1.Date(day.Format(time.DateOnly))
	status := map[string]opsv1alpha1.SupportTeamStatus{}
	for _, variant := range []string{"none", "closed", "open"} {
		team := sampleTeam(t, newNamespace(t))
		if variant != "none" {
			team.Spec.Holidays = append(team.Spec.Holidays, opsv1alpha1.Holiday{Date: date, Name: "Founders' Day", Open: variant == "open"})
		}
		if err := k8sClient.Create(ctx, team); err != nil {
			t.Fatal(err)
		}
		got := readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue)
		if c := condition(got, opsv1alpha1.ConditionStaffed); c == nil || c.Status != metav1.ConditionFalse {
			t.Errorf("%s: Staffed = %+v, want False (the other weekdays stay short)", variant, c)
		}
		status[variant] = got.Status
	}
	none, closed, open := status["none"].Queues, status["closed"].Queues, status["open"].Queues
	if len(none) != 2 || len(closed) != 2 || len(open) != 2 {
		t.Fatalf("queues in status: none %+v, closed %+v, open %+v; want the sample's 2", none, closed, open)
	}
	for q := range none {
		if none[q].UnderstaffedIntervals-closed[q].UnderstaffedIntervals != 20 {
			t.Errorf("queue %s: %d understaffed intervals closed, %d without the holiday; want 20 fewer closed (the holiday's 08:00-18:00)",
				none[q].Name, closed[q].UnderstaffedIntervals, none[q].UnderstaffedIntervals)
		}
	}
	if !equality.Semantic.DeepEqual(open, none) || status["open"].OnShiftNow != status["none"].OnShiftNow {
		t.Errorf("status with the open holiday:\n%s\nwithout a holiday:\n%s", queuesString(open), queuesString(none))
	}
}

// queuesString prints queue statuses with their worst gaps (not pointers).
func queuesString(qs []opsv1alpha1.QueueStatus) string {
	var b strings.Builder
	for _, q := range qs {
		fmt.Fprintf(&b, "%s: peak %d agents %d staff, %d understaffed", q.Name, q.PeakRequiredAgents, q.PeakRequiredStaff, q.UnderstaffedIntervals)
		if q.WorstGap != nil {
			fmt.Fprintf(&b, ", worst %+v", *q.WorstGap)
		}
		b.WriteString("\n")
	}
	return b.String()
}
