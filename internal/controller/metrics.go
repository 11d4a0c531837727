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
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/supportstack/operator/internal/figures"
)

// Actuals metrics, labelled by namespace, team and queue, from the team's
// tickets in Request Tracker (never per person).
var (
	queueActualVolume7d = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "supportstack_team_queue_actual_volume_7d",
		Help: "Tickets created in the queue in the 7 days before the last read of Request Tracker.",
	}, []string{"namespace", "team", "queue"})
	queueServiceLevel7d = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "supportstack_team_queue_service_level_7d",
		Help: "Share (0-1) of the queue's tickets of the last 7 days first answered within responseTargets.firstResponse, of those met or missed; absent when none was.",
	}, []string{"namespace", "team", "queue"})
)

// intervalsPerDay is the number of 30-minute coverage intervals in 24 hours.
const intervalsPerDay = 48

// Backup metrics, labelled by namespace and policy.
var (
	backupLastSuccess = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_backup_last_success_timestamp_seconds",
		Help: "Completion time of the newest successful backup, Unix seconds.",
	}, []string{"namespace", "policy"})
	backupLastDuration = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_backup_last_duration_seconds",
		Help: "Duration of the newest finished backup.",
	}, []string{"namespace", "policy"})
	backupLastBytesAdded = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_backup_last_bytes_added",
		Help: "Bytes the newest successful backup added to the repository.",
	}, []string{"namespace", "policy"})
	backupRPOMet = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_backup_rpo_met",
		Help: "1 while the newest successful backup is within the recovery-point objective, else 0.",
	}, []string{"namespace", "policy"})
	backupConsecutiveFailures = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_backup_consecutive_failures",
		Help: "Finished backups that failed since the newest successful one (counted over status.recentBackups: at most 10).",
	}, []string{"namespace", "policy"})
	backupRestoreVerified = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_backup_restore_verified",
		Help: "1 while a drill run restoring the policy passed within spec.verification.maxAge (RestoreVerified), else 0.",
	}, []string{"namespace", "policy"})
	backupLastVerifiedRestore = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_backup_last_verified_restore_timestamp_seconds",
		Help: "Completion time of the newest passed drill run restoring the policy, Unix seconds.",
	}, []string{"namespace", "policy"})
	backupVerificationMaxAge = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_backup_verification_max_age_seconds",
		Help: "The policy's spec.verification.maxAge: how long a passed drill run proves its backups restorable.",
	}, []string{"namespace", "policy"})
)

// Drill metrics, labelled by namespace and drill, from the newest finished run.
var (
	drillLastRun = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_last_run_timestamp_seconds",
		Help: "Completion time of the drill's newest finished run, Unix seconds.",
	}, []string{"namespace", "drill"})
	drillLastPassed = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_last_passed_timestamp_seconds",
		Help: "Completion time of the drill's newest passed run, Unix seconds.",
	}, []string{"namespace", "drill"})
	drillMeasuredRTO = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_measured_rto_seconds",
		Help: "Recovery time measured by the newest finished run: provisioning to the end of verification.",
	}, []string{"namespace", "drill"})
	drillMeasuredRPO = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_measured_rpo_seconds",
		Help: "Age of the snapshot the newest finished run restored, when it started.",
	}, []string{"namespace", "drill"})
	// The objectives are exported beside the measurements so a dashboard
	// or an alert can draw or compare both (measured RTO against
	// spec.objectives.rto) without reading the drill's spec.
	drillRTOObjective = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_rto_objective_seconds",
		Help: "The drill's spec.objectives.rto; absent when it sets none.",
	}, []string{"namespace", "drill"})
	drillRPOObjective = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_rpo_objective_seconds",
		Help: "The drill's spec.objectives.rpo; absent when it sets none.",
	}, []string{"namespace", "drill"})
	drillObjectivesMet = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_objectives_met",
		Help: "1 when the newest finished run met the drill's RTO and RPO objectives, else 0.",
	}, []string{"namespace", "drill"})
	drillEvidenceSequence = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_evidence_sequence",
		Help: "Sequence number of the newest record of the drill's evidence chain (its head): a chain that verifies but ends below it was truncated.",
	}, []string{"namespace", "drill"})
	drillLastRunPassed = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_last_run_passed",
		Help: "1 when the drill's newest finished run passed, 0 when it failed or errored.",
	}, []string{"namespace", "drill"})
	drillNextSchedule = figures.NewVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_next_schedule_timestamp_seconds",
		Help: "When the drill's next scheduled run is due, Unix seconds; absent while it is suspended. While it cannot start runs (invalid, or createdRuns full) it stays at the oldest time owed, in the past.",
	}, []string{"namespace", "drill"})
	// drillMissedSchedules counts each schedule time that passed without a
	// run once, when it is recorded in the drill's status.missedSchedules.
	drillMissedSchedules = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supportstack_drill_missed_schedules_total",
		Help: "Schedule times that passed without a run (operator down, drill suspended or invalid, a run still active, starting deadline passed).",
	}, []string{"namespace", "drill"})
)

func init() {
	metrics.Registry.MustRegister(backupLastSuccess, backupLastDuration, backupLastBytesAdded, backupRPOMet,
		backupConsecutiveFailures, backupRestoreVerified, backupLastVerifiedRestore, backupVerificationMaxAge,
		drillRunPhaseStart, drillRunPhaseTimeout,
		drillLastRun, drillLastPassed, drillMeasuredRTO, drillMeasuredRPO, drillObjectivesMet, drillEvidenceSequence)
	metrics.Registry.MustRegister(queueActualVolume7d, queueServiceLevel7d)
	metrics.Registry.MustRegister(drillLastRunPassed, drillNextSchedule, drillMissedSchedules, drillRTOObjective, drillRPOObjective)
}

// Metrics of running drill runs, labelled by namespace, drill, run and phase.
var (
	drillRunPhaseStart = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_run_phase_start_timestamp_seconds",
		Help: "When the running drill run entered its current phase, Unix seconds; absent once the run ends.",
	}, []string{"namespace", "drill", "run", "phase"})
	drillRunPhaseTimeout = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "supportstack_drill_run_phase_timeout_seconds",
		Help: "The timeout of the running drill run's current phase; absent once the run ends.",
	}, []string{"namespace", "drill", "run", "phase"})
)

// forgetRunPhase removes the phase series of a run.
func forgetRunPhase(namespace, run string) {
	deleteSeries(prometheus.Labels{"namespace": namespace, "run": run}, drillRunPhaseStart, drillRunPhaseTimeout)
}

// forgetPolicy removes every series of a deleted policy.
func forgetPolicy(namespace, policy string) {
	deleteSeries(prometheus.Labels{"namespace": namespace, "policy": policy},
		backupLastSuccess, backupLastDuration, backupLastBytesAdded, backupRPOMet,
		backupConsecutiveFailures, backupRestoreVerified, backupLastVerifiedRestore, backupVerificationMaxAge)
}

// forgetTeam removes every series of a deleted team.
func forgetTeam(namespace, team string) {
	teamMetrics.forget(types.NamespacedName{Namespace: namespace, Name: team})
	forgetTeamActuals(namespace, team)
}

// forgetTeamActuals removes a team's actuals series (deleted, or no longer
// on Request Tracker).
func forgetTeamActuals(namespace, team string) {
	deleteSeries(prometheus.Labels{"namespace": namespace, "team": team}, queueActualVolume7d, queueServiceLevel7d)
}

// forgetDrill removes every series of a deleted drill.
func forgetDrill(namespace, drill string) {
	deleteSeries(prometheus.Labels{"namespace": namespace, "drill": drill},
		drillLastRun, drillLastPassed, drillMeasuredRTO, drillMeasuredRPO, drillObjectivesMet, drillEvidenceSequence)
	deleteSeries(prometheus.Labels{"namespace": namespace, "drill": drill}, drillLastRunPassed, drillNextSchedule, drillRTOObjective, drillRPOObjective)
	drillMissedSchedules.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "drill": drill})
}

// partialDeleter is a gauge family that removes series by some of their
// labels: a GaugeVec or a figures.Vec.
type partialDeleter interface {
	DeletePartialMatch(prometheus.Labels) int
}

func deleteSeries(labels prometheus.Labels, gauges ...partialDeleter) {
	for _, g := range gauges {
		g.DeletePartialMatch(labels)
	}
}
