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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// TestClosedHolidayIsNotUnderstaffed creates the sample team twice with a
// holiday on a weekday of the coming week: closed in one, open in the
// other. The sample is short in both queues in every half-hour of a
// weekday's 08:00-18:00 demand (5 people for 8 staff), and nobody works
// the holiday, so open it stays short in those 20 half-hours per queue;
// closed it needs nobody, and status counts 20 fewer understaffed
// intervals per queue. Before holidays removed demand, both counted the
// same.
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
	understaffed := map[bool][]int32{}
	for _, open := range []bool{false, true} {
		team := sampleTeam(t, newNamespace(t))
		team.Spec.Holidays = append(team.Spec.Holidays, opsv1alpha1.Holiday{Date: date, Name: "Founders' Day", Open: open})
		if err := k8sClient.Create(ctx, team); err != nil {
			t.Fatal(err)
		}
		got := readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue)
		if c := condition(got, opsv1alpha1.ConditionStaffed); c == nil || c.Status != metav1.ConditionFalse {
			t.Errorf("open=%v: Staffed = %+v, want False (the other weekdays stay short)", open, c)
		}
		for _, q := range got.Status.Queues {
			understaffed[open] = append(understaffed[open], q.UnderstaffedIntervals)
		}
	}
	closed, open := understaffed[false], understaffed[true]
	if len(closed) != 2 || len(open) != 2 {
		t.Fatalf("queues in status: closed %v, open %v; want the sample's 2", closed, open)
	}
	for q := range closed {
		if open[q]-closed[q] != 20 {
			t.Errorf("queue %d: %d understaffed intervals closed, %d open; want 20 fewer closed (the holiday's 08:00-18:00)", q, closed[q], open[q])
		}
	}
}
