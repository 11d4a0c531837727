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
	"maps"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Team coverage metrics are kept as plain figures per team and turned into
// series only when /metrics is scraped. Four gauges per queue and one per
// team are 21,000 series at 1,000 teams of 5 queues (make bench-scale); as
// GaugeVec children, each with its own label pairs, they held about 20 MB
// of the manager's live heap, against well under 1 MB as figures.
var (
	teamHeadcountDesc = prometheus.NewDesc("supportstack_team_headcount",
		"Members on the team's roster.", []string{"namespace", "team"}, nil)
	queueRequiredStaffDesc = prometheus.NewDesc("supportstack_team_queue_required_staff",
		"Staff the queue requires in the current 30-minute interval (after shrinkage).", []string{"namespace", "team", "queue"}, nil)
	queueScheduledStaffDesc = prometheus.NewDesc("supportstack_team_queue_scheduled_staff",
		"Staff scheduled on the queue in the current 30-minute interval.", []string{"namespace", "team", "queue"}, nil)
	queueUnderstaffedIntervalsDesc = prometheus.NewDesc("supportstack_team_queue_understaffed_intervals",
		"30-minute intervals of the coming 7 days in which the queue is understaffed.", []string{"namespace", "team", "queue"}, nil)
	queueUnderstaffedNextDayDesc = prometheus.NewDesc("supportstack_team_queue_understaffed_intervals_next_24h",
		"30-minute intervals of the next 24 hours (from the current one) in which the queue is understaffed.", []string{"namespace", "team", "queue"}, nil)
)

// teamFigures are one team's coverage figures as of its last reconcile.
type teamFigures struct {
	Headcount float64
	Queues    []queueFigures
}

// queueFigures are one queue's coverage figures.
type queueFigures struct {
	Name                                                 string
	RequiredStaff, ScheduledStaff, Understaffed, NextDay float64
}

// teamCollector exports every team's latest figures.
type teamCollector struct {
	mu    sync.RWMutex
	teams map[types.NamespacedName]teamFigures
}

// teamMetrics is the manager's one teamCollector.
var teamMetrics = &teamCollector{teams: map[types.NamespacedName]teamFigures{}}

func init() { metrics.Registry.MustRegister(teamMetrics) }

// set replaces a team's figures: a queue removed from the team loses its
// series with it.
func (c *teamCollector) set(team types.NamespacedName, f teamFigures) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.teams[team] = f
}

// forget removes a deleted team's series.
func (c *teamCollector) forget(team types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.teams, team)
}

func (c *teamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{teamHeadcountDesc, queueRequiredStaffDesc, queueScheduledStaffDesc, queueUnderstaffedIntervalsDesc, queueUnderstaffedNextDayDesc} {
		ch <- d
	}
}

func (c *teamCollector) Collect(ch chan<- prometheus.Metric) {
	// Copy under the lock and send after: a slow scrape must not hold up
	// the team reconciles that set figures.
	c.mu.RLock()
	teams := maps.Clone(c.teams)
	c.mu.RUnlock()
	for key, f := range teams {
		ch <- prometheus.MustNewConstMetric(teamHeadcountDesc, prometheus.GaugeValue, f.Headcount, key.Namespace, key.Name)
		for _, q := range f.Queues {
			for _, s := range []struct {
				desc *prometheus.Desc
				v    float64
			}{
				{queueRequiredStaffDesc, q.RequiredStaff}, {queueScheduledStaffDesc, q.ScheduledStaff},
				{queueUnderstaffedIntervalsDesc, q.Understaffed}, {queueUnderstaffedNextDayDesc, q.NextDay},
			} {
				ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, s.v, key.Namespace, key.Name, q.Name)
			}
		}
	}
}
