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

package v1alpha1

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSpecInUse: only a History queue with a forecast in status takes it;
// the spec is never changed.
func TestSpecInUse(t *testing.T) {
	declared := []DemandInterval{{Days: []Weekday{"Mon"}, From: "08:00", To: "18:00", ContactsPerHour: 4}}
	forecast := []DemandInterval{{Days: []Weekday{"Tue"}, From: "09:00", To: "10:00", ContactsPerHour: 7}}
	demand := func(source DemandSource) *Demand {
		return &Demand{Source: source, AverageHandleTime: metav1.Duration{Duration: 15 * time.Minute}, Intervals: declared}
	}
	team := &SupportTeam{
		Spec: SupportTeamSpec{Queues: []Queue{
			{Name: "history", Demand: demand(DemandHistory)},
			{Name: "history-no-handle", Demand: demand(DemandHistory)},
			{Name: "falling-back", Demand: demand(DemandHistory)},
			{Name: "declared", Demand: demand(DemandDeclared)},
			{Name: "no-status", Demand: demand(DemandHistory)},
			{Name: "no-demand"},
		}},
		Status: SupportTeamStatus{Queues: []QueueStatus{
			{Name: "history", Demand: &DemandStatus{Source: DemandHistory, Intervals: forecast, AverageHandleTime: &metav1.Duration{Duration: 5 * time.Minute}}},
			{Name: "history-no-handle", Demand: &DemandStatus{Source: DemandHistory, Intervals: forecast}},
			{Name: "falling-back", Demand: &DemandStatus{Source: DemandDeclared}},
			// A stale status of a queue now Declared is not used.
			{Name: "declared", Demand: &DemandStatus{Source: DemandHistory, Intervals: forecast}},
			{Name: "no-demand", Demand: &DemandStatus{Source: DemandHistory, Intervals: forecast}},
		}},
	}
	before := team.DeepCopy()
	got := team.SpecInUse()
	want := map[string]struct {
		intervals []DemandInterval
		handle    time.Duration
	}{
		"history":           {forecast, 5 * time.Minute},
		"history-no-handle": {forecast, 15 * time.Minute},
		"falling-back":      {declared, 15 * time.Minute},
		"declared":          {declared, 15 * time.Minute},
		"no-status":         {declared, 15 * time.Minute},
	}
	for _, q := range got.Queues {
		w, ok := want[q.Name]
		if !ok {
			if q.Demand != nil {
				t.Errorf("queue %s without demand got %+v", q.Name, q.Demand)
			}
			continue
		}
		if !equality.Semantic.DeepEqual(q.Demand.Intervals, w.intervals) || q.Demand.AverageHandleTime.Duration != w.handle {
			t.Errorf("queue %s: %v intervals %+v, want %v %+v", q.Name, q.Demand.AverageHandleTime.Duration, q.Demand.Intervals, w.handle, w.intervals)
		}
	}
	if !equality.Semantic.DeepEqual(team, before) {
		t.Error("SpecInUse changed the team")
	}
}
