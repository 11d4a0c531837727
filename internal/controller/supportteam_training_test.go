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
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// TestStaffedNamesTrainingForSkillsGap adds to the sample team an iOS
// e-mail queue worked 18:00-20:00 on weekdays, when only carol and dave
// (late shift, windows and email) are on shift: nobody has ios. Staffed
// says so and names the training that closes the most: carol or dave each
// give the queue one of its 2 staff (1 agent at 30 % shrinkage) in its 20
// half-hours of the week, so 20 of 40; carol comes first by name. The
// windows-phone gaps, where everyone on shift is busy, get no such note.
func TestStaffedNamesTrainingForSkillsGap(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	team := sampleTeam(t, ns)
	team.Spec.Queues = append(team.Spec.Queues, opsv1alpha1.Queue{
		Name: "ios-mail", Channel: opsv1alpha1.ChannelEmail, Skills: []string{"ios"},
		Demand: &opsv1alpha1.Demand{
			AverageHandleTime: metav1.Duration{Duration: time.Hour},
			Intervals: []opsv1alpha1.DemandInterval{{
				Days: []opsv1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri"}, From: "18:00", To: "20:00", ContactsPerHour: 1,
			}},
		},
		ResponseTargets: &opsv1alpha1.ResponseTargets{FirstResponse: metav1.Duration{Duration: 4 * time.Hour}},
	})
	if err := k8sClient.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	got := readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue)
	staffed := condition(got, opsv1alpha1.ConditionStaffed)
	// The clock is Monday 10:00 in New York: the first gap is that evening.
	want := "; nobody on shift has the skills of ios-mail (ios) at Mon 2026-11-23 18:00 EST; training carol in ios closes 20 of 40 short half-hours in ios-mail"
	if staffed == nil || staffed.Status != metav1.ConditionFalse || !strings.HasSuffix(staffed.Message, want) ||
		!strings.Contains(staffed.Message, "worst: queue windows-phone at ") {
		t.Errorf("Staffed = %+v\nwant the worst gap, then %q", staffed, want)
	}

	// The sample team alone is short of people, not skills: no note.
	plain := sampleTeam(t, newNamespace(t))
	if err := k8sClient.Create(ctx, plain); err != nil {
		t.Fatal(err)
	}
	got = readyTeam(t, client.ObjectKeyFromObject(plain), metav1.ConditionTrue)
	if c := condition(got, opsv1alpha1.ConditionStaffed); c == nil || c.Status != metav1.ConditionFalse || strings.Contains(c.Message, "nobody on shift") {
		t.Errorf("Staffed = %+v, want understaffed with no skills note", c)
	}
}
