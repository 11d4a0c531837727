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
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
	"github.com/supportstack/operator/internal/forecast"
)

// HistoryWeeks is how many weeks of tickets a demand.source History
// forecast weighs: the 28 days the operator keeps.
const HistoryWeeks = int(ActualsWindow / (7 * 24 * time.Hour))

// historyDemand chooses the demand of each queue whose demand.source is
// History and returns the spec coverage and proposals use (a copy with
// those queues' intervals replaced) and each such queue's status.
//
// The forecast is made from the team's tickets in the operator's memory once
// a read of the 28 days is complete. Until then (a new team, or after an
// operator restart) the rates in status stay in use: status is where the
// forecast outlives the operator. With neither, or with less than a week of
// tickets, the declared intervals are the fallback and the message says so.
// The forecast follows the tickets of the last sync, so coverage catches up
// with a sync at the next reconcile.
func (r *SupportTeamReconciler) historyDemand(team, before *opsv1alpha1.SupportTeam) (opsv1alpha1.SupportTeamSpec, map[string]*opsv1alpha1.DemandStatus) {
	spec := team.Spec
	var history []int
	for i, q := range spec.Queues {
		if q.Demand != nil && q.Demand.Source == opsv1alpha1.DemandHistory {
			history = append(history, i)
		}
	}
	if len(history) == 0 {
		return spec, nil
	}
	last := map[string]*opsv1alpha1.DemandStatus{}
	for _, q := range before.Status.Queues {
		last[q.Name] = q.Demand
	}
	var tickets []actuals.Ticket
	read := false
	if e := r.actuals.peek(types.NamespacedName{Namespace: team.Namespace, Name: team.Name}); e != nil && !e.state.SyncedUntil.IsZero() {
		tickets, read = e.state.TicketList(), true
	}
	now := r.Clock.Now()
	chosen := map[string]*opsv1alpha1.DemandStatus{}
	for _, qi := range history {
		q := spec.Queues[qi]
		var st *opsv1alpha1.DemandStatus
		if read {
			st = forecastDemand(team, q.Name, tickets, now)
		} else if prev := last[q.Name]; prev != nil && prev.Source == opsv1alpha1.DemandHistory {
			st = prev
		} else {
			st = declaredDemand("no ticket history read from Request Tracker yet (see ActualsSynced)")
		}
		keepComputedAt(last[q.Name], st)
		chosen[q.Name] = st
	}
	return spec.WithDemand(chosen), chosen
}

// forecastDemand forecasts one queue's rates from the tickets created in
// it, over the whole weeks before the current local day, every holiday of
// the spec (closed or open: both are unusual days) left out, the history
// chosen by forecast.QueueDemand (as `supportstack forecast` chooses it):
// from the first whole day of the 28 days read, or the day of the queue's
// first ticket when later. Intervals that keep under forecast.MinKept of
// the forecast's contacts (a sparse queue rounded to whole contacts per
// hour) fall back to demand.intervals.
func forecastDemand(team *opsv1alpha1.SupportTeam, queue string, tickets []actuals.Ticket, now time.Time) *opsv1alpha1.DemandStatus {
	loc, err := time.LoadLocation(string(team.Spec.TimeZone))
	if err != nil {
		return declaredDemand(fmt.Sprintf("timeZone %q: %v", team.Spec.TimeZone, err))
	}
	holidays := map[string]bool{}
	for _, h := range team.Spec.Holidays {
		holidays[string(h.Date)] = true
	}
	opt := forecast.Options{Location: loc, Holidays: holidays, End: now, Weeks: HistoryWeeks}
	d, err := forecast.QueueDemand(tickets, queue, opt, now.Add(-ActualsWindow), forecast.DefaultHandleTimeMin)
	if err != nil {
		return declaredDemand(err.Error())
	}
	if d.Kept < forecast.MinKept {
		return declaredDemand(fmt.Sprintf("the forecast's whole contacts per hour keep %.0f %% of its %.1f tickets a week: too sparse", d.Kept*100, d.Rates.PerWeek()))
	}
	st := &opsv1alpha1.DemandStatus{
		Source:     opsv1alpha1.DemandHistory,
		Weeks:      int32(d.Rates.Weeks),
		Intervals:  d.Intervals,
		ComputedAt: &metav1.Time{Time: now.Truncate(time.Second)},
		Message: fmt.Sprintf("arrival rates forecast from the tickets of %d weeks before %s (per weekday and half-hour, weighted to the recent weeks, holidays left out; the intervals keep %.0f %% of its contacts)",
			d.Rates.Weeks, d.End.Format(time.DateOnly), d.Kept*100),
	}
	if d.HandleTimeOK {
		st.AverageHandleTime = &metav1.Duration{Duration: d.HandleTime}
		st.Message += "; handle time: the mean time worked of its resolved tickets"
	} else {
		st.Message += fmt.Sprintf("; handle time: demand.averageHandleTime (fewer than %d resolved tickets with time worked)", forecast.DefaultHandleTimeMin)
	}
	return st
}

// declaredDemand is the fallback to demand.intervals, and why.
func declaredDemand(why string) *opsv1alpha1.DemandStatus {
	return &opsv1alpha1.DemandStatus{Source: opsv1alpha1.DemandDeclared, Message: why + ": using demand.intervals"}
}

// keepComputedAt gives an unchanged forecast its previous time, so a
// steady state writes nothing.
func keepComputedAt(prev, st *opsv1alpha1.DemandStatus) {
	if prev == nil || prev.ComputedAt == nil || st.ComputedAt == nil {
		return
	}
	if prev.Source == st.Source && prev.Weeks == st.Weeks && equality.Semantic.DeepEqual(prev.Intervals, st.Intervals) &&
		equality.Semantic.DeepEqual(prev.AverageHandleTime, st.AverageHandleTime) {
		st.ComputedAt = prev.ComputedAt
	}
}
