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

// SandboxKeep says when a run's sandbox namespace survives the run.
// +kubebuilder:validation:Enum=Never;OnFailure;Always
type SandboxKeep string

// Sandbox keep policies.
const (
	SandboxKeepNever     SandboxKeep = "Never"
	SandboxKeepOnFailure SandboxKeep = "OnFailure"
	SandboxKeepAlways    SandboxKeep = "Always"
)

// DrillProcedure is what one restore test does. A DRDrill holds it as a
// template; each DRDrillRun holds an immutable copy taken when the run was
// created, so later edits of the drill never change what a past run proves.
type DrillProcedure struct {
	// backupPolicyName is the BackupPolicy, in the same namespace, whose
	// snapshots are restored. Its existence is checked by the reconciler.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	BackupPolicyName string `json:"backupPolicyName"`

	// snapshot is the recovery set to restore: "latest" (default: the
	// newest backup run in which every source of the policy succeeded), a
	// recovery set's name (status.recentBackups[].recoverySet of the
	// policy), or the id of any snapshot of a set (8 to 64 hex digits).
	// Every source restores from the same set.
	// +kubebuilder:default=latest
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self == 'latest' || self.matches('^[0-9a-f]{8,64}$') || (self.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$') && self.matches('[-.]'))",message="snapshot must be \"latest\", a recovery set name (a backup pod's name: lowercase letters, digits, '-' and '.') or a restic snapshot id of 8 to 64 lowercase hex digits"
	// +optional
	Snapshot string `json:"snapshot,omitempty"`

	// sandbox is where the restore runs, isolated from customers.
	// +kubebuilder:default={}
	// +optional
	Sandbox Sandbox `json:"sandbox,omitempty"`

	// checks run against the restored copy; the run passes when all pass.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.filter(c, has(c.requestTracker)).size() <= 1",message="at most one requestTracker check: a verify pod runs one Request Tracker"
	// +optional
	Checks []DrillCheck `json:"checks,omitempty"`

	// objectives are the recovery objectives the run is measured against.
	// +optional
	Objectives *DrillObjectives `json:"objectives,omitempty"`

	// evidence configures the tamper-evident report each run leaves.
	// +optional
	Evidence *EvidenceSpec `json:"evidence,omitempty"`
}

// Sandbox describes the isolated namespace a run restores into.
type Sandbox struct {
	// keep says when the sandbox survives the run: Never, OnFailure (default)
	// or Always. A kept sandbox is deleted after ttl.
	// +kubebuilder:default=OnFailure
	// +optional
	Keep SandboxKeep `json:"keep,omitempty"`

	// ttl is how long a kept sandbox lives after the run ends, e.g. 2h;
	// default 2h, at most 168h (7 days). A kept sandbox counts toward its
	// namespace's concurrent drill runs until it is deleted.
	// +kubebuilder:default="2h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 20s, 30m, 4h or 1h30m (units h, m, s, ms; no days: write 48h for 2 days)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$') || duration(self) <= duration('168h')",message="must be at most 168h (7 days): a kept sandbox holds restored production data and copies of the repository Secrets; keep it shorter, or copy out what you need to inspect"
	// +optional
	TTL *metav1.Duration `json:"ttl,omitempty"`

	// postgresImage is the image of the scratch PostgreSQL server; use the
	// major version of the source server. Default postgres:15.
	// +kubebuilder:default="postgres:15"
	// +kubebuilder:validation:MaxLength=512
	// +optional
	PostgresImage string `json:"postgresImage,omitempty"`

	// namespace is the sandbox namespace's fixed name; default
	// "drill-<run name>". It is created by the run and deleted at teardown,
	// so it must not be the drill's own namespace, which holds the source data
	// (enforced at admission by the ValidatingAdmissionPolicy in
	// config/admission: CRD validation rules cannot read metadata.namespace).
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// DrillCheck is one check on the restored copy. Set exactly one of sql,
// compareManifest, files, referencedFiles or requestTracker.
// +kubebuilder:validation:XValidation:rule="[has(self.sql), has(self.compareManifest), has(self.files), has(self.referencedFiles), has(self.requestTracker)].filter(x, x).size() == 1",message="a check needs exactly one of sql, compareManifest, files, referencedFiles or requestTracker"
// +kubebuilder:validation:XValidation:rule="!has(self.sql) || (has(self.database) && has(self.expect))",message="an sql check needs database and expect (e.g. expect: {min: 1})"
type DrillCheck struct {
	// name identifies the check in results and evidence.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	// +required
	Name string `json:"name"`

	// database the sql (or referencedFiles.sql) runs in (read-only, with a
	// statement timeout). A compareManifest or referencedFiles check may
	// leave it out when the BackupPolicy backs up one database.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Database string `json:"database,omitempty"`

	// sql is a query returning one row with one numeric column, e.g.
	// SELECT count(*) FROM tickets.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	SQL string `json:"sql,omitempty"`

	// expect is what the sql's result must satisfy.
	// +optional
	Expect *Expectation `json:"expect,omitempty"`

	// compareManifest compares row counts with the manifest recorded at backup time.
	// +optional
	CompareManifest *ManifestComparison `json:"compareManifest,omitempty"`

	// files compares a restored volume with the manifest recorded at backup time.
	// +optional
	Files *FilesCheck `json:"files,omitempty"`

	// referencedFiles proves the restored database and a restored volume
	// agree: every file a query in database lists exists in the volume
	// (with its size, when the query returns one).
	// +optional
	ReferencedFiles *ReferencedFilesCheck `json:"referencedFiles,omitempty"`

	// requestTracker starts Request Tracker on the restored database (and
	// attachments) and uses it through its REST2 API: the restored help
	// desk must work, not only hold the rows.
	// +optional
	RequestTracker *RequestTrackerCheck `json:"requestTracker,omitempty"`
}

// RequestTrackerCheck starts Request Tracker 5 (the operator's RT image,
// its --rt-image) in the verify pod, beside the agent, on the restored
// database in database, connected as the read-only checker role: RT reads,
// it cannot write. It sends no mail (MailCommand testfile), listens on the
// pod's loopback only and has the sandbox's egress (DNS, the scratch
// server, the repository), so a drill never e-mails a customer or fires an
// escalation. The check passes when, through REST2: RT answers; its queues
// (disabled ones included) number the manifest's queues rows; the tickets
// it lists (every type and status, merged ones included) and the deleted
// ones, which RT never lists, number the manifest's tickets rows; the
// ticket it lists first by last update, and that ticket's history, read
// back, with that update the one the backup recorded at its dump (then
// the restored help desk reaches the dump's snapshot, however quiet the
// days before it; otherwise the check fails and the run's RPO is measured
// from the restored RT's own latest update; backups by agents before
// 2026-12-04 record none); and each sampled attachment that RT keeps as a
// file reads back through RT with the SHA-256 its row names.
// Results are counts, ids and times, never a ticket's content.
// +kubebuilder:validation:XValidation:rule="!has(self.sampleAttachments) || self.sampleAttachments == 0 || (has(self.attachmentsVolume) && size(self.attachmentsVolume) > 0)",message="sampleAttachments needs attachmentsVolume: the attachments RT keeps as files are read from that volume's restored copy"
type RequestTrackerCheck struct {
	// attachmentsVolume is the sources.volumes entry of the BackupPolicy
	// that holds RT's attachment files (ExternalStorage, type Disk): RT
	// reads its restored copy. Leave it out when RT keeps every attachment
	// in the database.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	AttachmentsVolume string `json:"attachmentsVolume,omitempty"`

	// sampleAttachments is how many of the newest attachments RT keeps as
	// files are read back through RT and hashed, 0-100; default 5. It needs
	// attachmentsVolume.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	SampleAttachments *int32 `json:"sampleAttachments,omitempty"`
}

// ReferencedFilesCheck checks that the files the restored database refers
// to are in a restored volume. Its result is counts only (checked, missing,
// size mismatched, invalid), never a path or a value of a row.
type ReferencedFilesCheck struct {
	// volume is the name of a sources.volumes entry of the BackupPolicy;
	// the query's paths are relative to its restored copy.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Volume string `json:"volume"`

	// sql is a query returning one row per referenced file, with one or two
	// columns: the file's path relative to the volume (text), then,
	// optionally, its size in bytes (an integer), e.g.
	// SELECT path, size FROM attachments. It runs as the read-only checker
	// role with the sql checks' statement timeout (30s, which covers reading
	// the rows and looking up the files). At most 1,000,000 rows: more fails
	// the check. A row whose path is NULL, not text, absolute or leads out
	// of the volume (by ".." or a symbolic link), or whose size is not a
	// non-negative integer, counts as invalid and fails the check.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +required
	SQL string `json:"sql"`
}

// Expectation bounds a numeric result; set at least one field.
// +kubebuilder:validation:XValidation:rule="has(self.min) || has(self.max) || has(self.equals)",message="expect needs at least one of min, max or equals"
// +kubebuilder:validation:XValidation:rule="!has(self.min) || !has(self.max) || self.min <= self.max",message="expect.min must not be greater than expect.max"
type Expectation struct {
	// min is the smallest acceptable value.
	// +optional
	Min *int64 `json:"min,omitempty"`
	// max is the largest acceptable value.
	// +optional
	Max *int64 `json:"max,omitempty"`
	// equals is the only acceptable value.
	// +optional
	Equals *int64 `json:"equals,omitempty"`
}

// ManifestComparison compares restored row counts with the backup manifest.
type ManifestComparison struct {
	// tables to compare (schema-qualified or in public); all tables of the
	// manifest when empty.
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=127
	// +optional
	Tables []string `json:"tables,omitempty"`

	// tolerancePercent is the allowed difference between restored and
	// recorded row counts, 0-100; default 0 (exact).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	TolerancePercent int32 `json:"tolerancePercent,omitempty"`
}

// FilesCheck compares a restored volume with the backup manifest.
type FilesCheck struct {
	// volume is the name of a sources.volumes entry of the BackupPolicy.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Volume string `json:"volume"`

	// compareManifest compares file count, bytes and the listing digest.
	// +optional
	CompareManifest bool `json:"compareManifest,omitempty"`
}

// DrillObjectives are the recovery objectives a run is measured against.
// +kubebuilder:validation:XValidation:rule="has(self.rto) || has(self.rpo)",message="objectives needs rto, rpo or both"
type DrillObjectives struct {
	// rto is the recovery-time objective: provisioning, restore and
	// verification together must take at most this, e.g. 30m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 20s, 30m, 4h or 1h30m (units h, m, s, ms; no days: write 48h for 2 days)"
	// +optional
	RTO *metav1.Duration `json:"rto,omitempty"`

	// rpo is the recovery-point objective: the restored snapshot must be at
	// most this old when the run starts, e.g. 26h.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 20s, 30m, 4h or 1h30m (units h, m, s, ms; no days: write 48h for 2 days)"
	// +optional
	RPO *metav1.Duration `json:"rpo,omitempty"`
}

// EvidenceSpec configures run evidence.
type EvidenceSpec struct {
	// signingKeySecretRef names a Secret key holding an ed25519 private key
	// (PEM PKCS#8 or 64 raw bytes); reports are signed with it when set.
	// +optional
	SigningKeySecretRef *SecretKeyRef `json:"signingKeySecretRef,omitempty"`
}

// HistoryLimit bounds how many finished runs are kept.
type HistoryLimit struct {
	// passed is how many passed runs to keep, 0-100; default 12. The newest
	// passed run is never deleted.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=12
	// +optional
	Passed int32 `json:"passed"`

	// failed is how many failed or errored runs to keep, 0-100; default 12.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=12
	// +optional
	Failed int32 `json:"failed"`
}

// DRDrillSpec schedules restore tests of one BackupPolicy.
type DRDrillSpec struct {
	DrillProcedure `json:",inline"`

	// schedule is when runs start, cron in timeZone, e.g. "0 6 * * 1".
	// +required
	Schedule CronSchedule `json:"schedule"`

	// timeZone is the IANA zone the schedule is read in; default UTC.
	// +kubebuilder:default=UTC
	// +optional
	TimeZone TimeZone `json:"timeZone,omitempty"`

	// suspend stops new scheduled runs; on-demand runs still start. Default false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// startingDeadlineSeconds: a scheduled run missed by more than this is
	// skipped (like a CronJob's). Default: no deadline.
	// +kubebuilder:validation:Minimum=0
	// +optional
	StartingDeadlineSeconds *int64 `json:"startingDeadlineSeconds,omitempty"`

	// historyLimit bounds the finished runs kept.
	// +kubebuilder:default={}
	// +optional
	HistoryLimit HistoryLimit `json:"historyLimit,omitempty"`
}

// LastRun summarises the newest finished run of a drill.
type LastRun struct {
	// name of the DRDrillRun.
	Name string `json:"name"`
	// result is the run's final phase: Passed, Failed or Error.
	Result DrillRunPhase `json:"result"`
	// measuredRTO is the run's measured recovery time.
	// +optional
	MeasuredRTO *metav1.Duration `json:"measuredRTO,omitempty"`
	// measuredRPO is the age of the restored snapshot when the run started.
	// +optional
	MeasuredRPO *metav1.Duration `json:"measuredRPO,omitempty"`
	// completionTime is when the run ended.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
}

// DRDrillStatus is what the operator observed about a drill.
type DRDrillStatus struct {
	// observedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, LastRunPassed, ObjectivesMet.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// activeRun is the run in progress, if any.
	// +optional
	ActiveRun string `json:"activeRun,omitempty"`

	// lastRun is the newest finished run.
	// +optional
	LastRun *LastRun `json:"lastRun,omitempty"`

	// lastPassedTime is when the newest passed run ended.
	// +optional
	LastPassedTime *metav1.Time `json:"lastPassedTime,omitempty"`

	// lastScheduleTime is the newest schedule time acted on: the one the
	// newest scheduled run is for, or the newest one skipped (then listed in
	// missedSchedules).
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`

	// missedSchedules are schedule times that passed without a run, oldest
	// first: the operator was not running, the drill was suspended or
	// invalid, a run was still active when a newer time came due, or the
	// starting deadline had passed. The next run the drill creates carries
	// them (spec.missedSchedules) into its evidence report, and they are
	// cleared here in the same write that acknowledges that run. At most 32:
	// older ones are counted in missedSchedulesDropped.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +optional
	MissedSchedules []metav1.Time `json:"missedSchedules,omitempty"`

	// missedSchedulesDropped counts skipped schedule times older than those
	// in missedSchedules that the list had no room for; the next run carries
	// the count too.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MissedSchedulesDropped int64 `json:"missedSchedulesDropped,omitempty"`

	// nextScheduleTime is when the next scheduled run is due; while the
	// drill cannot start runs (invalid, createdRuns full) it stays at the
	// oldest schedule time owed, in the past.
	// +optional
	NextScheduleTime *metav1.Time `json:"nextScheduleTime,omitempty"`

	// lastRunNowToken is the last ops.supportstack.io/run-now annotation value acted on.
	// +optional
	LastRunNowToken string `json:"lastRunNowToken,omitempty"`

	// createdRuns are the runs the operator created for this drill that
	// still exist. Only these are carried out, summarised and chained into
	// the drill's evidence: a DRDrillRun created by anyone else ends in
	// Error (NotCreatedByOperator) without a sandbox or evidence.
	// +listType=map
	// +listMapKey=uid
	// +kubebuilder:validation:MaxItems=512
	// +optional
	CreatedRuns []CreatedRun `json:"createdRuns,omitempty"`

	// evidenceHead is the newest record of the drill's evidence chain, kept
	// where only the operator writes it: verify-evidence checks that the
	// chain ends there, so deleting the newest records shows.
	// +optional
	EvidenceHead *EvidenceHead `json:"evidenceHead,omitempty"`
}

// CreatedRun identifies a run the operator created for its drill.
type CreatedRun struct {
	// name of the DRDrillRun.
	// +required
	Name string `json:"name"`
	// uid of the DRDrillRun: a run deleted and re-created under the same
	// name is another run.
	// +required
	UID types.UID `json:"uid"`
}

// EvidenceHead is the newest record of a drill's evidence chain.
type EvidenceHead struct {
	// sequence of the newest record (1 for the first).
	// +required
	Sequence int64 `json:"sequence"`
	// sha256 of the newest record's canonical report.
	// +required
	SHA256 string `json:"sha256"`
	// configMapName is the evidence ConfigMap holding the newest record.
	// +required
	ConfigMapName string `json:"configMapName"`
	// run is the run the newest record describes.
	// +optional
	Run string `json:"run,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=drill,categories=supportstack
// +kubebuilder:printcolumn:name="Policy",type=string,JSONPath=`.spec.backupPolicyName`
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`
// +kubebuilder:printcolumn:name="Last Result",type=string,JSONPath=`.status.lastRun.result`
// +kubebuilder:printcolumn:name="Last Passed",type=date,JSONPath=`.status.lastPassedTime`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// DRDrill schedules isolated restore tests of a BackupPolicy's snapshots,
// measured against RTO/RPO objectives. Each execution is a DRDrillRun.
type DRDrill struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the drill as the platform engineer declares it.
	// +required
	Spec DRDrillSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status DRDrillStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// DRDrillList contains a list of DRDrill.
type DRDrillList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DRDrill `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &DRDrill{}, &DRDrillList{})
}
