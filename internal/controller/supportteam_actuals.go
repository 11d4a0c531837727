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
	"math"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
	"github.com/supportstack/operator/internal/queues"
)

// ActualsSyncInterval is how often a team's tickets are read from Request
// Tracker: never on every reconcile, so a team that changes often does not
// make RT answer a search each time.
const ActualsSyncInterval = 10 * time.Minute

// ActualsWindow is the look-back of the tickets read and kept: 28 days.
const ActualsWindow = actuals.DefaultWindow

// actualsMemory holds each team's ticket state between syncs, in the
// operator's memory. Not in status, which is too small for a busy team's
// tickets, nor in a ConfigMap, which could pass 1 MiB: after an operator
// restart the first syncs read RT again, each bounded by the Reader's
// request cap (ActualsReading until a pass completes).
type actualsMemory struct {
	mu    gosync.Mutex
	teams map[types.NamespacedName]*teamActuals
	// maxCalls bounds the REST2 requests of one sync; 0 is the Reader's
	// default (50). Tests lower it to make a catch-up take several syncs.
	maxCalls int
}

// teamActuals is one team's ticket state and when it was last read.
type teamActuals struct {
	state    actuals.State
	lastSync time.Time
}

// get returns the team's entry, creating it.
func (m *actualsMemory) get(key types.NamespacedName) *teamActuals {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.teams == nil {
		m.teams = map[types.NamespacedName]*teamActuals{}
	}
	e, ok := m.teams[key]
	if !ok {
		e = &teamActuals{}
		m.teams[key] = e
	}
	return e
}

// peek returns the team's entry, nil when there is none.
func (m *actualsMemory) peek(key types.NamespacedName) *teamActuals {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.teams[key]
}

// forget drops a team's state (deleted, or no longer on RT) and reports
// whether there was any: only a team read from RT has actuals series.
func (m *actualsMemory) forget(key types.NamespacedName) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, had := m.teams[key]
	delete(m.teams, key)
	return had
}

// reconcileActuals keeps status.queues[].actual, ActualsSynced and
// ServiceLevelMet for a team on Request Tracker, reading its tickets at
// most every ActualsSyncInterval. Between syncs it only carries the last
// figures over into the queue statuses coverage rebuilt, so such a
// reconcile writes nothing. It returns when the next sync is due (0 for a
// team not on RT).
func (r *SupportTeamReconciler) reconcileActuals(ctx context.Context, team, before *opsv1alpha1.SupportTeam) time.Duration {
	key := types.NamespacedName{Namespace: team.Namespace, Name: team.Name}
	b := team.Spec.QueueBackend
	if b == nil || b.RequestTracker == nil {
		// Series exist only for a team this operator has read from RT:
		// teams that never were on RT cost no search of the metrics.
		if r.actuals.forget(key) {
			forgetTeamActuals(team.Namespace, team.Name)
		}
		for i := range team.Status.Queues {
			team.Status.Queues[i].Actual = nil
		}
		team.Status.ActualsSyncedAt = nil
		meta.RemoveStatusCondition(&team.Status.Conditions, opsv1alpha1.ConditionActualsSynced)
		meta.RemoveStatusCondition(&team.Status.Conditions, opsv1alpha1.ConditionServiceLevelMet)
		return 0
	}
	carryActuals(team, before)
	entry := r.actuals.get(key)
	now := r.Clock.Now()
	if !entry.lastSync.IsZero() && now.Before(entry.lastSync.Add(ActualsSyncInterval)) {
		return entry.lastSync.Add(ActualsSyncInterval).Sub(now)
	}
	entry.lastSync = now
	if err := r.syncActuals(ctx, team, entry, now); err != nil {
		// The last figures stay; the error never holds the token.
		setCondition(team, opsv1alpha1.ConditionActualsSynced, metav1.ConditionFalse, opsv1alpha1.ReasonActualsUnavailable, err.Error())
	}
	return ActualsSyncInterval
}

// carryActuals copies the last figures into the queue statuses the
// reconcile rebuilt.
func carryActuals(team, before *opsv1alpha1.SupportTeam) {
	last := map[string]*opsv1alpha1.QueueActual{}
	for _, q := range before.Status.Queues {
		last[q.Name] = q.Actual
	}
	for i := range team.Status.Queues {
		team.Status.Queues[i].Actual = last[team.Status.Queues[i].Name]
	}
}

// syncActuals reads the tickets of the team's queues in RT (those RT holds
// as the team's: with an externalID) into entry and puts the figures in
// status and the metrics.
func (r *SupportTeamReconciler) syncActuals(ctx context.Context, team *opsv1alpha1.SupportTeam, entry *teamActuals, now time.Time) error {
	spec := team.Spec.QueueBackend.RequestTracker
	names := team.QueuesInBackend()
	if len(names) == 0 {
		return fmt.Errorf("no queue of the team is in Request Tracker %s yet (see QueuesSynced)", spec.URL)
	}
	if err := queues.CheckURL(spec.URL); err != nil {
		return err
	}
	backend := &requestTrackerBackend{secrets: r.APIReader, spec: spec}
	token, err := backend.token(ctx, team)
	if err != nil {
		return err
	}
	opt, err := actualsOptions(team, now)
	if err != nil {
		return err
	}
	reader := &actuals.Reader{BaseURL: spec.URL, Token: token, HTTP: r.HTTP, Queues: names, Window: ActualsWindow, Responders: opt.Responders,
		Now: r.Clock.Now, MaxCalls: r.actuals.maxCalls}
	st, res, err := reader.Sync(ctx, entry.state)
	if err != nil {
		return fmt.Errorf("reading tickets from Request Tracker %s: %w", spec.URL, err)
	}
	entry.state = st
	sort.Strings(names)
	if !res.Complete && st.SyncedUntil.IsZero() {
		// The first read (a new team, or after an operator restart) is not
		// through the 28 days yet: figures from part of the tickets would
		// undercount, so status keeps the last ones until it is.
		setCondition(team, opsv1alpha1.ConditionActualsSynced, metav1.ConditionTrue, opsv1alpha1.ReasonActualsReading,
			fmt.Sprintf("%d tickets of the last %s in queues %s read so far from Request Tracker %s (each sync reads a bounded number, every %s); "+
				"the figures are those of the last complete read, if any", len(st.Tickets), days(ActualsWindow), strings.Join(names, ", "), spec.URL, ActualsSyncInterval))
		return nil
	}
	figures := actuals.Compute(st.TicketList(), opt)

	changed := false
	// The series are set again from this sync's queues: a queue gone from
	// the spec, or no longer the team's in RT, loses its series.
	forgetTeamActuals(team.Namespace, team.Name)
	byName := map[string]actuals.QueueActual{}
	for _, q := range figures.Queues {
		byName[q.Queue] = q
	}
	for i := range team.Status.Queues {
		qs := &team.Status.Queues[i]
		var next *opsv1alpha1.QueueActual
		if q, ok := byName[qs.Name]; ok && qs.ExternalID != "" {
			next = &opsv1alpha1.QueueActual{Last24h: actualWindow(q.Last24h), Last7d: actualWindow(q.Last7d)}
			labels := []string{team.Namespace, team.Name, qs.Name}
			queueActualVolume7d.WithLabelValues(labels...).Set(float64(q.Last7d.Volume))
			if sl := q.Last7d.ServiceLevel; sl != nil {
				queueServiceLevel7d.WithLabelValues(labels...).Set(*sl)
			} else {
				queueServiceLevel7d.DeleteLabelValues(labels...)
			}
		}
		if !equality.Semantic.DeepEqual(qs.Actual, next) {
			changed = true
		}
		qs.Actual = next
	}
	if changed || team.Status.ActualsSyncedAt == nil {
		team.Status.ActualsSyncedAt = &metav1.Time{Time: now.Truncate(time.Second)}
	}

	// A pass cut short after a complete read only delays the newest
	// changes: the figures are those of the complete read plus what this
	// pass read.
	setCondition(team, opsv1alpha1.ConditionActualsSynced, metav1.ConditionTrue, opsv1alpha1.ReasonActualsRead,
		fmt.Sprintf("tickets of the last %s in queues %s read from Request Tracker %s; read again every %s",
			days(ActualsWindow), strings.Join(names, ", "), spec.URL, ActualsSyncInterval))
	serviceLevelMet(team)
	return nil
}

// actualsOptions are the team's targets (firstResponse per queue), calendar
// (its business hours as RT renders them, closed holidays) and responders
// (its members' RT user names: their e-mail addresses, as RTDesiredFor
// creates them).
func actualsOptions(team *opsv1alpha1.SupportTeam, now time.Time) (actuals.Options, error) {
	loc, err := time.LoadLocation(string(team.Spec.TimeZone))
	if err != nil {
		return actuals.Options{}, fmt.Errorf("timeZone %q: %w", team.Spec.TimeZone, err)
	}
	var closed []string
	for _, h := range team.Spec.Holidays {
		if !h.Open {
			closed = append(closed, string(h.Date))
		}
	}
	opt := actuals.Options{
		Calendar:   actuals.NewCalendar(loc, queues.BusinessHours(team), closed),
		Targets:    map[string]time.Duration{},
		Now:        now,
		Window:     ActualsWindow,
		Responders: map[string]bool{},
	}
	for _, q := range team.Spec.Queues {
		if q.ResponseTargets != nil {
			opt.Targets[q.Name] = q.ResponseTargets.FirstResponse.Duration
		}
	}
	for _, m := range team.Spec.Members {
		if m.Email != "" {
			opt.Responders[m.Email] = true
		}
	}
	return opt, nil
}

// actualWindow is a summary as status shows it.
func actualWindow(s actuals.Summary) opsv1alpha1.ActualWindow {
	w := opsv1alpha1.ActualWindow{Volume: int32(s.Volume), Met: int32(s.Met), Missed: int32(s.Missed), Pending: int32(s.Pending)}
	if s.ServiceLevel != nil {
		// Rounded down, so the percent shown reaches the target exactly
		// when the service level does.
		p := int32(math.Floor(*s.ServiceLevel*100 + 1e-9))
		w.ServiceLevelPercent = &p
	}
	if s.Answered > 0 {
		w.MedianFirstResponse = &metav1.Duration{Duration: s.MedianFirstResponse}
		w.P90FirstResponse = &metav1.Duration{Duration: s.P90FirstResponse}
	}
	return w
}

// serviceLevelMet sets ServiceLevelMet from the 7-day figures of the queues
// with a response target.
func serviceLevelMet(team *opsv1alpha1.SupportTeam) {
	targets := map[string]time.Duration{}
	for _, q := range team.Spec.Queues {
		if q.ResponseTargets != nil {
			targets[q.Name] = q.ResponseTargets.FirstResponse.Duration
		}
	}
	var below, at []string
	for _, q := range team.Status.Queues {
		target, ok := targets[q.Name]
		if !ok || q.Actual == nil || q.Actual.Last7d.ServiceLevelPercent == nil {
			continue
		}
		w := q.Actual.Last7d
		desc := fmt.Sprintf("%s %d%% (%d of %d within %s)", q.Name, *w.ServiceLevelPercent, w.Met, w.Met+w.Missed, target)
		if *w.ServiceLevelPercent < opsv1alpha1.ServiceLevelTargetPercent {
			below = append(below, desc)
		} else {
			at = append(at, desc)
		}
	}
	switch {
	case len(below) > 0:
		setCondition(team, opsv1alpha1.ConditionServiceLevelMet, metav1.ConditionFalse, opsv1alpha1.ReasonServiceLevelMissed,
			fmt.Sprintf("first responses in the last 7 days below the %d%% target: %s", opsv1alpha1.ServiceLevelTargetPercent, strings.Join(below, "; ")))
	case len(at) > 0:
		setCondition(team, opsv1alpha1.ConditionServiceLevelMet, metav1.ConditionTrue, opsv1alpha1.ReasonServiceLevelAchieved,
			fmt.Sprintf("first responses in the last 7 days at or above the %d%% target: %s", opsv1alpha1.ServiceLevelTargetPercent, strings.Join(at, "; ")))
	default:
		setCondition(team, opsv1alpha1.ConditionServiceLevelMet, metav1.ConditionUnknown, opsv1alpha1.ReasonNoTicketData,
			"no queue with a response target had a ticket met or missed in the last 7 days")
	}
}

// days writes a whole number of days.
func days(d time.Duration) string { return fmt.Sprintf("%d days", int(d/(24*time.Hour))) }
