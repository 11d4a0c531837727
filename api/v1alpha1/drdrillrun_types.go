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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// DrillRunPhase is where a run is in its life.
// +kubebuilder:validation:Enum=Pending;Provisioning;Restoring;Verifying;Passed;Failed;Error
type DrillRunPhase string

// Run phases. Passed, Failed and Error are final. Failed means a check or an
// objective failed; Error means the drill could not be carried out.
const (
	DrillRunPending      DrillRunPhase = "Pending"
	DrillRunProvisioning DrillRunPhase = "Provisioning"
	DrillRunRestoring    DrillRunPhase = "Restoring"
	DrillRunVerifying    DrillRunPhase = "Verifying"
	DrillRunPassed       DrillRunPhase = "Passed"
	DrillRunFailed       DrillRunPhase = "Failed"
	DrillRunError        DrillRunPhase = "Error"
)

// DRDrillRunSpec is one execution of a drill: a copy of the drill's procedure
// taken when the run was created. It cannot be changed afterwards.
type DRDrillRunSpec struct {
	// drillName is the DRDrill this run belongs to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	DrillName string `json:"drillName"`

	DrillProcedure `json:",inline"`

	// trigger is what started the run, as the operator recorded it when it
	// created the run; its evidence report carries it.
	// +optional
	Trigger *RunTrigger `json:"trigger,omitempty"`

	// missedSchedules are the drill's schedule times that passed without a
	// run since the previous run it created (oldest first), as its
	// status.missedSchedules held them when it created this run; the run's
	// evidence report records them, so a skipped run is visible. They are
	// not part of the procedure (nor of its SHA-256).
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +optional
	MissedSchedules []metav1.Time `json:"missedSchedules,omitempty"`

	// missedSchedulesDropped counts further skipped schedule times, older
	// than missedSchedules, that were not listed for want of room.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MissedSchedulesDropped int64 `json:"missedSchedulesDropped,omitempty"`
}

// RunTriggerKind is what started a run.
// +kubebuilder:validation:Enum=schedule;run-now
type RunTriggerKind string

// Run triggers.
const (
	// RunTriggerSchedule: the drill's schedule was due.
	RunTriggerSchedule RunTriggerKind = "schedule"
	// RunTriggerRunNow: a new ops.supportstack.io/run-now token on the drill.
	RunTriggerRunNow RunTriggerKind = "run-now"
)

// RunTrigger records what started a run.
type RunTrigger struct {
	// kind is schedule or run-now.
	// +required
	Kind RunTriggerKind `json:"kind"`
	// scheduledTime is the schedule time a scheduled run is for.
	// +optional
	ScheduledTime *metav1.Time `json:"scheduledTime,omitempty"`
	// runNowToken is the ops.supportstack.io/run-now value that started the
	// run (its first 256 bytes).
	// +kubebuilder:validation:MaxLength=256
	// +optional
	RunNowToken string `json:"runNowToken,omitempty"`
	// fieldManager is the field manager that last set the run-now
	// annotation, from the drill's managedFields. It is reported by the
	// client that wrote the annotation (kubectl says "kubectl-annotate"),
	// not authenticated: it is a hint, never an identity.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	FieldManager string `json:"fieldManager,omitempty"`
}

// SnapshotRef identifies the restored snapshots.
type SnapshotRef struct {
	// id is restic's snapshot id; with several sources, their ids joined
	// by commas in source order.
	ID string `json:"id"`
	// time is when the snapshot was taken (the oldest, with several).
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
	// manifestSHA256 is the SHA-256 of the backup manifest recorded with
	// the snapshot (with several, their digests joined by commas).
	// +optional
	ManifestSHA256 string `json:"manifestSHA256,omitempty"`
	// recoverySet is the backup run whose snapshots were restored (the
	// snapshots' run=<recoverySet> tag); empty for snapshots taken before
	// backups were grouped into recovery sets.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	RecoverySet string `json:"recoverySet,omitempty"`
}

// PhaseTimings are the measured durations of a run's phases.
type PhaseTimings struct {
	// provision is the time to create the sandbox and scratch database.
	// +optional
	Provision *metav1.Duration `json:"provision,omitempty"`
	// restore is the time of the restore Job.
	// +optional
	Restore *metav1.Duration `json:"restore,omitempty"`
	// restorePhases is how the restore loaded the databases and how long
	// each part took.
	// +optional
	RestorePhases *RestorePhases `json:"restorePhases,omitempty"`
	// verify is the time of the verify Job.
	// +optional
	Verify *metav1.Duration `json:"verify,omitempty"`
	// total is provision + restore + verify as measured end to end.
	// +optional
	Total *metav1.Duration `json:"total,omitempty"`
}

// RestoreMethod is how the restore fed pg_restore.
// +kubebuilder:validation:Enum=Piped;Parallel
type RestoreMethod string

const (
	// RestorePiped streams restic dump into pg_restore: small dumps, or a
	// restore pod with one CPU or too little scratch space.
	RestorePiped RestoreMethod = "Piped"
	// RestoreParallel fetches the dump to the restore pod's scratch
	// directory and loads it with pg_restore --jobs.
	RestoreParallel RestoreMethod = "Parallel"
)

// RestorePhases are the parts of a restore, summed over its databases.
type RestorePhases struct {
	// method is Parallel when any database was loaded in parallel.
	Method RestoreMethod `json:"method"`
	// jobs is pg_restore's --jobs (1 when piped).
	// +kubebuilder:validation:Minimum=1
	Jobs int32 `json:"jobs"`
	// fetch is reading the dumps from the repository; piped, it overlaps
	// load.
	Fetch metav1.Duration `json:"fetch"`
	// load is pg_restore until the last table's rows were in (schema and
	// rows).
	Load metav1.Duration `json:"load"`
	// indexes is the post-data work left after the rows: indexes,
	// constraints, triggers.
	Indexes metav1.Duration `json:"indexes"`
}

// CheckResult is the outcome of one check.
type CheckResult struct {
	// name of the check.
	Name string `json:"name"`
	// passed is true when observed satisfies expected.
	Passed bool `json:"passed"`
	// expected is the expectation in words, e.g. ">= 1".
	// +optional
	Expected string `json:"expected,omitempty"`
	// observed is what the restored copy showed.
	// +optional
	Observed string `json:"observed,omitempty"`
	// message explains a failure.
	// +optional
	Message string `json:"message,omitempty"`
}

// EvidenceRef points at a run's tamper-evident report.
type EvidenceRef struct {
	// configMapName is the immutable ConfigMap holding the report.
	// +optional
	ConfigMapName string `json:"configMapName,omitempty"`
	// sha256 of the canonical report.
	// +optional
	SHA256 string `json:"sha256,omitempty"`
	// previousSHA256 is the sha256 of the drill's previous report (the hash chain).
	// +optional
	PreviousSHA256 string `json:"previousSHA256,omitempty"`
	// signature is the base64 ed25519 signature of the report, when signed.
	// +optional
	Signature string `json:"signature,omitempty"`
}

// DRDrillRunStatus is the observed progress and result of a run.
type DRDrillRunStatus struct {
	// observedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions of the run, with Ready.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// phase is where the run is: Pending, Provisioning, Restoring, Verifying,
	// Passed, Failed or Error.
	// +optional
	Phase DrillRunPhase `json:"phase,omitempty"`
	// message explains the phase in one line.
	// +optional
	Message string `json:"message,omitempty"`
	// sandboxNamespace is the namespace the run restores into.
	// +optional
	SandboxNamespace string `json:"sandboxNamespace,omitempty"`
	// sandboxNamespaceUID is the UID of the sandbox namespace this run
	// created, recorded when it created it. The run copies Secrets into,
	// starts pods and Jobs in, and deletes only the namespace with this
	// UID: a namespace of the same name that someone else made is never
	// used.
	// +optional
	SandboxNamespaceUID types.UID `json:"sandboxNamespaceUID,omitempty"`
	// snapshot is the restored snapshot.
	// +optional
	Snapshot *SnapshotRef `json:"snapshot,omitempty"`
	// startTime is when provisioning started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// phaseStartTime is when the current phase started; phase timeouts
	// count from it.
	// +optional
	PhaseStartTime *metav1.Time `json:"phaseStartTime,omitempty"`
	// completionTime is when the run reached a final phase.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// timings per phase.
	// +optional
	Timings *PhaseTimings `json:"timings,omitempty"`
	// measuredRTO is start of provisioning to end of verification.
	// +optional
	MeasuredRTO *metav1.Duration `json:"measuredRTO,omitempty"`
	// measuredRPO is the run's start minus the snapshot's time; with a
	// requestTracker check whose restored RT lacks the latest ticket update
	// the backup recorded at its dump, the run's start minus RT's own
	// latest update, when that is older.
	// +optional
	MeasuredRPO *metav1.Duration `json:"measuredRPO,omitempty"`
	// objectivesMet is true when measured RTO and RPO are within the objectives.
	// +optional
	ObjectivesMet *bool `json:"objectivesMet,omitempty"`
	// checks are the results of the procedure's checks.
	// +listType=map
	// +listMapKey=name
	// +optional
	Checks []CheckResult `json:"checks,omitempty"`
	// evidence points at the run's report.
	// +optional
	Evidence *EvidenceRef `json:"evidence,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=drillrun,categories=supportstack
// +kubebuilder:printcolumn:name="Drill",type=string,JSONPath=`.spec.drillName`
// +kubebuilder:printcolumn:name="Result",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="RTO",type=string,JSONPath=`.status.measuredRTO`
// +kubebuilder:printcolumn:name="RPO",type=string,JSONPath=`.status.measuredRPO`
// +kubebuilder:printcolumn:name="Objectives Met",type=boolean,JSONPath=`.status.objectivesMet`
// +kubebuilder:printcolumn:name="Snapshot",type=string,JSONPath=`.status.snapshot.id`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// DRDrillRun is one execution of a DRDrill: sandbox, restore, verification,
// measured RTO/RPO and evidence. Its spec is immutable.
type DRDrillRun struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the procedure this run carries out; immutable after creation.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a DRDrillRun's spec is immutable: create a new run (or annotate the DRDrill with ops.supportstack.io/run-now) instead of editing this one"
	// +required
	Spec DRDrillRunSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status DRDrillRunStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// DRDrillRunList contains a list of DRDrillRun.
type DRDrillRunList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DRDrillRun `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &DRDrillRun{}, &DRDrillRunList{})
}
