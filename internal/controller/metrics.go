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
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Team metrics, labelled by namespace and team (and queue): bounded by the
// number of objects, never by time or people.
var (
	teamHeadcount = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "supportstack_team_headcount",
		Help: "Members on the team's roster.",
	}, []string{"namespace", "team"})
	queueRequiredStaff = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "supportstack_team_queue_required_staff",
		Help: "Staff the queue requires in the current 30-minute interval (after shrinkage).",
	}, []string{"namespace", "team", "queue"})
	queueScheduledStaff = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "supportstack_team_queue_scheduled_staff",
		Help: "Staff scheduled on the queue in the current 30-minute interval.",
	}, []string{"namespace", "team", "queue"})
	queueUnderstaffedIntervals = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "supportstack_team_queue_understaffed_intervals",
		Help: "30-minute intervals of the coming 7 days in which the queue is understaffed.",
	}, []string{"namespace", "team", "queue"})
)

func init() {
	metrics.Registry.MustRegister(teamHeadcount, queueRequiredStaff, queueScheduledStaff, queueUnderstaffedIntervals)
}

// forgetTeam removes every series of a deleted team.
func forgetTeam(namespace, team string) {
	labels := prometheus.Labels{"namespace": namespace, "team": team}
	teamHeadcount.DeletePartialMatch(labels)
	queueRequiredStaff.DeletePartialMatch(labels)
	queueScheduledStaff.DeletePartialMatch(labels)
	queueUnderstaffedIntervals.DeletePartialMatch(labels)
}
