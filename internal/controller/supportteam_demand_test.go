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
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
)

// demandOf returns a queue's status.queues[].demand.
func demandOf(t *testing.T, team *opsv1alpha1.SupportTeam, queue string) *opsv1alpha1.DemandStatus {
	t.Helper()
	for _, q := range team.Status.Queues {
		if q.Name == queue {
			return q.Demand
		}
	}
	t.Fatalf("no queue %s in status", queue)
	return nil
}

// TestDemandFromHistory: the escalations queue takes its arrival rates from
// its own tickets in the suite's RT (demand.source History). Three weeks
// before Monday 23 November 2026 (EST), every Monday brings 2 tickets
// between 09:00 and 09:30 and every Wednesday one between 14:00 and 14:30,
// except Wednesday 11 November, an open holiday, which brings 4: a holiday
// is left out of the history, so the forecast is 4 an hour on Mondays
// 09:00-09:30 and 2 on Wednesdays 14:00-14:30, nothing else. The declared
// intervals (4 an hour, weekdays 08:00-18:00) are the fallback until then.
func TestDemandFromHistory(t *testing.T) {
	f := newActualsFixture(t, func(team *opsv1alpha1.SupportTeam) {
		team.Spec.Queues[1].Demand.Source = opsv1alpha1.DemandHistory
		team.Spec.Holidays = append(team.Spec.Holidays, opsv1alpha1.Holiday{Date: "2026-11-11", Name: "Veterans Day", Open: true})
	})
	const queue = "windows-escalations"
	labels := []string{f.ns, f.team.Name, queue}

	// No ticket read yet: the declared intervals, and status says so.
	_, got, err := f.reconcile(f.newReconciler(k8sClient))
	if err != nil {
		t.Fatal(err)
	}
	if d := demandOf(t, got, queue); d == nil || d.Source != opsv1alpha1.DemandDeclared || len(d.Intervals) != 0 {
		t.Errorf("before any ticket is read: demand %+v, want Declared", d)
	}
	// Monday 10:00 is inside the declared 08:00-18:00: staff is required.
	if v := teamGauge(t, "supportstack_team_queue_required_staff", labels[0], labels[1], labels[2]); v == 0 {
		t.Error("declared demand: no staff required on Monday 10:00")
	}
	if d := demandOf(t, got, "windows-phone"); d != nil {
		t.Errorf("the phone queue (source Declared) has a demand status %+v", d)
	}

	tickets := make([]actualsTicket, 0, 12)
	for _, day := range []int{2, 9, 16} {
		tickets = append(tickets,
			actualsTicket{queue, est(t, day, 9, 5), nil},
			actualsTicket{queue, est(t, day, 9, 25), nil},
			actualsTicket{queue, est(t, day+2, 14, 10), nil})
	}
	for i := range 3 {
		tickets = append(tickets, actualsTicket{queue, est(t, 11, 14, 1+i), nil})
	}
	seedActuals(t, f.rt, tickets...)

	// An operator restart reads the tickets; the reconcile after it
	// forecasts from them.
	r := f.newReconciler(k8sClient)
	f.clk.SetTime(est(t, 23, 10, 10))
	if _, _, err = f.reconcile(r); err != nil {
		t.Fatal(err)
	}
	f.clk.SetTime(est(t, 23, 10, 15))
	if _, got, err = f.reconcile(r); err != nil {
		t.Fatal(err)
	}
	want := []opsv1alpha1.DemandInterval{
		{Days: []opsv1alpha1.Weekday{"Mon"}, From: "09:00", To: "09:30", ContactsPerHour: 4},
		{Days: []opsv1alpha1.Weekday{"Wed"}, From: "14:00", To: "14:30", ContactsPerHour: 2},
	}
	d := demandOf(t, got, queue)
	if d == nil || d.Source != opsv1alpha1.DemandHistory || d.Weeks < 3 || d.ComputedAt == nil || !equality.Semantic.DeepEqual(d.Intervals, want) {
		t.Fatalf("demand from history = %+v\nwant source History, at least 3 weeks, intervals %+v", d, want)
	}
	t.Logf("demand from history: %s", d.Message)
	// Coverage uses the forecast: nothing comes in on Monday at 10:00.
	if v := teamGauge(t, "supportstack_team_queue_required_staff", labels[0], labels[1], labels[2]); v != 0 {
		t.Errorf("forecast demand: %v staff required on Monday 10:00, want 0", v)
	}

	// A reconcile that reads nothing new writes nothing: the forecast
	// keeps its time.
	c, writes := countingClient(t)
	r.Client = c
	f.clk.SetTime(est(t, 23, 10, 18))
	if _, got, err = f.reconcile(r); err != nil {
		t.Fatal(err)
	}
	if d3 := demandOf(t, got, queue); d3 == nil || !d3.ComputedAt.Equal(d.ComputedAt) {
		t.Errorf("a steady reconcile moved the forecast: %+v, was %+v", d3, d)
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("a steady reconcile sent %d writes, want 0", n)
	}

	// After another restart, before any read completes, status keeps the
	// forecast: it outlives the operator's memory.
	r = f.newReconciler(k8sClient)
	r.actuals.maxCalls = 2
	f.clk.SetTime(est(t, 23, 10, 40))
	if _, got, err = f.reconcile(r); err != nil {
		t.Fatal(err)
	}
	if d2 := demandOf(t, got, queue); d2 == nil || d2.Source != opsv1alpha1.DemandHistory || !equality.Semantic.DeepEqual(d2.Intervals, want) {
		t.Errorf("after a restart: demand %+v, want the forecast kept", d2)
	}
	if v := teamGauge(t, "supportstack_team_queue_required_staff", labels[0], labels[1], labels[2]); v != 0 {
		t.Errorf("after a restart: %v staff required on Monday 10:00, want 0 (the forecast)", v)
	}
}

// TestHistoryDemandRules: the rules of historyDemand and forecastDemand
// that the envtest does not reach, on tickets put straight into the
// operator's memory. Monday 23 November 2026 10:00 EST is now; the sample
// team's escalations queue takes its demand from history.
func TestHistoryDemandRules(t *testing.T) {
	const queue = "windows-escalations"
	now := est(t, 23, 10, 0)
	resolved := func(created time.Time, worked time.Duration) actuals.Ticket {
		return actuals.Ticket{Queue: queue, Created: created, Resolved: &actuals.Event{At: created.Add(time.Hour)}, TimeWorked: worked}
	}
	// weeksOf gives 2 tickets every Monday 09:00-09:30 of the weeks before
	// now, the last one first, each with time worked.
	weeksOf := func(weeks int, worked time.Duration) []actuals.Ticket {
		var ts []actuals.Ticket
		for w := 1; w <= weeks; w++ {
			ts = append(ts, resolved(est(t, 23-7*w, 9, 5), worked), resolved(est(t, 23-7*w, 9, 25), worked))
		}
		return ts
	}
	monday := []opsv1alpha1.DemandInterval{{Days: []opsv1alpha1.Weekday{"Mon"}, From: "09:00", To: "09:30", ContactsPerHour: 4}}
	cases := []struct {
		name     string
		tickets  []actuals.Ticket
		source   opsv1alpha1.DemandSource
		weeks    int32
		interval []opsv1alpha1.DemandInterval
		handle   time.Duration // the average handle time coverage uses
		message  string
	}{
		{name: "no ticket in the 28 days", source: opsv1alpha1.DemandDeclared, handle: 15 * time.Minute,
			message: "no ticket of queue windows-escalations in the last 28 days: using demand.intervals"},
		{name: "the first ticket is six days old", tickets: []actuals.Ticket{resolved(est(t, 17, 9, 0), 0)}, source: opsv1alpha1.DemandDeclared,
			handle: 15 * time.Minute, message: "queue windows-escalations's first ticket is less than a week old: using demand.intervals"},
		// Two weeks of tickets: the two weeks before them are no data, so
		// the rate is 4 an hour, not 2 (as zeros would make it).
		{name: "a queue new in RT two weeks ago", tickets: weeksOf(2, 0), source: opsv1alpha1.DemandHistory, weeks: 2, interval: monday,
			handle: 15 * time.Minute, message: "fewer than 30 resolved tickets with time worked"},
		// 15 weeks would be 30 tickets, but only 4 weeks are kept: 8.
		{name: "too few tickets with time worked keep the declared handle time", tickets: weeksOf(4, 20*time.Minute), source: opsv1alpha1.DemandHistory,
			weeks: 4, interval: monday, handle: 15 * time.Minute, message: "handle time: demand.averageHandleTime"},
		{name: "30 resolved tickets with time worked set the handle time",
			tickets: append(weeksOf(4, 20*time.Minute), sameMinute(resolved(est(t, 20, 12, 0), 8*time.Minute), 22)...),
			source:  opsv1alpha1.DemandHistory, weeks: 4, handle: (8*20 + 22*8) * time.Minute / 30,
			message: "handle time: the mean time worked of its resolved tickets"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := sampleTeam(t, "ns")
			team.Spec.Queues[1].Demand.Source = opsv1alpha1.DemandHistory
			r := &SupportTeamReconciler{Clock: clocktesting.NewFakeClock(now)}
			st := actuals.State{SyncedUntil: now, Tickets: map[int]actuals.Ticket{}}
			for i, tk := range tc.tickets {
				tk.ID = i + 1
				st.Tickets[tk.ID] = tk
			}
			r.actuals.get(types.NamespacedName{Namespace: team.Namespace, Name: team.Name}).state = st
			spec, chosen := r.historyDemand(team, team.DeepCopy())
			d := chosen[queue]
			if d == nil || d.Source != tc.source || !strings.Contains(d.Message, tc.message) {
				t.Fatalf("demand %+v, want source %s and a message with %q", d, tc.source, tc.message)
			}
			if tc.interval != nil && !equality.Semantic.DeepEqual(d.Intervals, tc.interval) {
				t.Errorf("intervals %+v, want %+v", d.Intervals, tc.interval)
			}
			if d.Weeks != tc.weeks {
				t.Errorf("weeks %d, want %d", d.Weeks, tc.weeks)
			}
			used := spec.Queues[1].Demand
			if used.AverageHandleTime.Duration != tc.handle {
				t.Errorf("coverage's handle time %v, want %v", used.AverageHandleTime.Duration, tc.handle)
			}
			if tc.source == opsv1alpha1.DemandHistory && !equality.Semantic.DeepEqual(used.Intervals, d.Intervals) {
				t.Errorf("coverage's intervals %+v, want the forecast %+v", used.Intervals, d.Intervals)
			}
			if tc.source == opsv1alpha1.DemandDeclared && !equality.Semantic.DeepEqual(used, team.Spec.Queues[1].Demand) {
				t.Errorf("a fallback changed the demand coverage uses: %+v", used)
			}
			if _, ok := chosen["windows-phone"]; ok || !equality.Semantic.DeepEqual(spec.Queues[0], team.Spec.Queues[0]) {
				t.Error("the phone queue (Declared) was touched")
			}
		})
	}
}

// sameMinute is n copies of a ticket.
func sameMinute(tk actuals.Ticket, n int) []actuals.Ticket {
	out := make([]actuals.Ticket, n)
	for i := range out {
		out[i] = tk
	}
	return out
}
