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
)

// BackupResultType is the outcome of one backup run.
// +kubebuilder:validation:Enum=Succeeded;Failed
type BackupResultType string

// Backup outcomes.
const (
	BackupSucceeded BackupResultType = "Succeeded"
	BackupFailed    BackupResultType = "Failed"
)

// BackupPolicySpec declares what to back up, when, where to, and for how long.
type BackupPolicySpec struct {
	// schedule is when backups run, a 5-field cron expression in timeZone,
	// e.g. "0 2 * * *" for 02:00 daily.
	// +required
	Schedule CronSchedule `json:"schedule"`

	// timeZone is the IANA zone the schedules are read in; default UTC.
	// +kubebuilder:default=UTC
	// +optional
	TimeZone TimeZone `json:"timeZone,omitempty"`

	// suspend stops new backups (and prune/check runs) from starting; running
	// ones finish. Default false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// sources are the databases and volumes to back up.
	// +required
	Sources BackupSources `json:"sources"`

	// repository is the restic repository snapshots go to.
	// +required
	Repository Repository `json:"repository"`

	// retention says which snapshots prune keeps; at least one rule is required.
	// +required
	Retention Retention `json:"retention"`

	// check schedules repository integrity checks (restic check); none when absent.
	// +optional
	Check *RepositoryCheck `json:"check,omitempty"`

	// objectives are the recovery objectives the policy is measured against.
	// +optional
	Objectives *BackupObjectives `json:"objectives,omitempty"`

	// verification says how recent a passed restore test (a DRDrillRun of
	// a DRDrill naming this policy) must be for the policy's backups to
	// count as proven restorable.
	// +kubebuilder:default={}
	// +optional
	Verification Verification `json:"verification,omitempty"`
}

// Verification is how fresh a passed restore test must be.
type Verification struct {
	// maxAge is how long a passed drill run proves the backups restorable;
	// default 192h (8 days, a weekly drill with a day of slack).
	// RestoreVerified turns False once the newest passed run is older.
	// +kubebuilder:default="192h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 20s, 30m, 4h or 1h30m (units h, m, s, ms; no days: write 192h for 8 days)"
	// +optional
	MaxAge *metav1.Duration `json:"maxAge,omitempty"`
}

// BackupSources lists what one policy backs up. Names are unique across both lists.
// +kubebuilder:validation:XValidation:rule="(has(self.postgres) && size(self.postgres) > 0) || (has(self.volumes) && size(self.volumes) > 0)",message="sources needs at least one postgres database or volume to back up"
// +kubebuilder:validation:XValidation:rule="!has(self.postgres) || !has(self.volumes) || self.postgres.all(p, !self.volumes.exists(v, v.name == p.name))",message="source names must be unique across sources.postgres and sources.volumes: rename one of them"
type BackupSources struct {
	// postgres lists PostgreSQL servers to dump with pg_dump.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Postgres []PostgresSource `json:"postgres,omitempty"`

	// volumes lists PersistentVolumeClaims (e.g. ticket attachments) to back up file by file.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Volumes []VolumeSource `json:"volumes,omitempty"`
}

// PostgresSource is one PostgreSQL server and the databases to dump from it.
type PostgresSource struct {
	// name identifies the source in snapshots and status (a DNS label).
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	// +required
	Name string `json:"name"`

	// connectionSecretRef names the Secret key holding a libpq connection
	// URI, postgresql://user:password@host:5432/?sslmode=require. It reaches
	// backup pods only as an environment variable from the Secret.
	// +required
	ConnectionSecretRef SecretKeyRef `json:"connectionSecretRef"`

	// databases to dump, each into its own snapshot.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z_][A-Za-z0-9_$-]*$`
	// +required
	Databases []string `json:"databases"`
}

// VolumeSource is a PersistentVolumeClaim whose files are backed up.
type VolumeSource struct {
	// name identifies the source in snapshots and status (a DNS label).
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	// +required
	Name string `json:"name"`

	// claimName is the PersistentVolumeClaim in the policy's namespace,
	// mounted read-only into the backup pod.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	ClaimName string `json:"claimName"`
}

// Repository is a restic repository.
type Repository struct {
	// url is any restic repository URL: s3:https://host/bucket/path,
	// rest:https://host/path, b2:bucket:path, azure:container:/path,
	// gs:bucket:/path, sftp:user@host:/path, swift:container:/path, or an
	// absolute path (/backups/helpdesk) on a volume.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.matches('^(s3:https?://[^ ]+|rest:https?://[^ ]+|(b2|azure|gs|swift):[^ ]+|sftp:[^ ]+|rclone:[^ ]+|/[^ ]*)$')",message="must be a restic repository URL such as s3:https://s3.example.com/bucket/path, rest:https://host/path, b2:bucket:path, sftp:user@host:/path or an absolute path /backups/name"
	// +required
	URL string `json:"url"`

	// passwordSecretRef names the Secret key holding the repository password
	// that encrypts every snapshot.
	// +required
	PasswordSecretRef SecretKeyRef `json:"passwordSecretRef"`

	// credentialsSecretRef names a Secret whose keys become environment
	// variables of the backup pods (e.g. AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY for S3).
	// +optional
	CredentialsSecretRef *SecretRef `json:"credentialsSecretRef,omitempty"`

	// volumeClaimName mounts this PersistentVolumeClaim when url is a path.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	VolumeClaimName string `json:"volumeClaimName,omitempty"`
}

// Retention lists restic forget rules; a snapshot kept by any rule is kept.
// +kubebuilder:validation:XValidation:rule="has(self.keepLast) || has(self.keepHourly) || has(self.keepDaily) || has(self.keepWeekly) || has(self.keepMonthly) || has(self.keepYearly)",message="retention needs at least one keep rule (keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly or keepYearly), otherwise prune would delete every snapshot"
type Retention struct {
	// schedule is when prune (restic forget --prune) runs, cron in the
	// policy's timeZone; default "@daily" (midnight).
	// +kubebuilder:default="@daily"
	// +optional
	Schedule CronSchedule `json:"schedule,omitempty"`

	// keepLast keeps the newest N snapshots.
	// +kubebuilder:validation:Minimum=1
	// +optional
	KeepLast *int32 `json:"keepLast,omitempty"`
	// keepHourly keeps the newest snapshot of each of the last N hours that have one.
	// +kubebuilder:validation:Minimum=1
	// +optional
	KeepHourly *int32 `json:"keepHourly,omitempty"`
	// keepDaily keeps the newest snapshot of each of the last N days that have one.
	// +kubebuilder:validation:Minimum=1
	// +optional
	KeepDaily *int32 `json:"keepDaily,omitempty"`
	// keepWeekly keeps the newest snapshot of each of the last N weeks that have one.
	// +kubebuilder:validation:Minimum=1
	// +optional
	KeepWeekly *int32 `json:"keepWeekly,omitempty"`
	// keepMonthly keeps the newest snapshot of each of the last N months that have one.
	// +kubebuilder:validation:Minimum=1
	// +optional
	KeepMonthly *int32 `json:"keepMonthly,omitempty"`
	// keepYearly keeps the newest snapshot of each of the last N years that have one.
	// +kubebuilder:validation:Minimum=1
	// +optional
	KeepYearly *int32 `json:"keepYearly,omitempty"`
}

// RepositoryCheck schedules restic check.
type RepositoryCheck struct {
	// schedule of the check, cron in the policy's timeZone, e.g. "0 4 * * 0".
	// +required
	Schedule CronSchedule `json:"schedule"`

	// readDataPercent is the share of pack data re-read and verified on each
	// check, 0-100 (restic check --read-data-subset). 0 checks structure only.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	ReadDataPercent int32 `json:"readDataPercent,omitempty"`
}

// BackupObjectives are the recovery objectives of a policy.
type BackupObjectives struct {
	// rpo is the recovery-point objective: the newest successful backup must
	// never be older than this, e.g. 26h for a daily backup.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 20s, 30m, 4h or 1h30m (units h, m, s, ms; no days: write 48h for 2 days)"
	// +required
	RPO metav1.Duration `json:"rpo"`
}

// BackupResult is one finished backup run: a recovery set.
type BackupResult struct {
	// jobName is the Job that ran the backup (its first part's, when the
	// run was split across nodes).
	// +optional
	JobName string `json:"jobName,omitempty"`
	// partJobs are the Jobs of the run's other parts: when the policy's
	// ReadWriteOnce volumes are mounted on different nodes, each node's
	// volumes are backed up by a pod of their own, on that node.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	PartJobs []string `json:"partJobs,omitempty"`
	// recoverySet names the run's snapshots in the repository: each carries
	// the tag run=<recoverySet> (the backup CronJob's name and the
	// scheduled minute, shared by the Jobs of every part). A DRDrill's
	// snapshot may name it.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	RecoverySet string `json:"recoverySet,omitempty"`
	// snapshots are the run's data snapshots, one per database and volume
	// that was backed up; the set is complete when result is Succeeded.
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +optional
	Snapshots []SourceSnapshot `json:"snapshots,omitempty"`
	// snapshotID is restic's short id of the snapshot (first of several when
	// the policy has several sources).
	// +optional
	SnapshotID string `json:"snapshotID,omitempty"`
	// startTime is when the backup started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// completionTime is when the backup finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// result is Succeeded or Failed.
	Result BackupResultType `json:"result"`
	// bytesAdded is the new data the run added to the repository.
	// +optional
	BytesAdded int64 `json:"bytesAdded,omitempty"`
	// totalBytes is the size of the data backed up.
	// +optional
	TotalBytes int64 `json:"totalBytes,omitempty"`
	// message explains a failure in one line.
	// +optional
	Message string `json:"message,omitempty"`
}

// SourceSnapshot is one source's snapshot in a recovery set.
type SourceSnapshot struct {
	// source is the name of the postgres or volume source.
	Source string `json:"source"`
	// database is the database, for a postgres source.
	// +optional
	Database string `json:"database,omitempty"`
	// id is restic's short id of the data snapshot.
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{8,64}$`
	ID string `json:"id"`
}

// VerifiedRestore is the newest drill run that proved a recovery set of
// the policy restorable.
type VerifiedRestore struct {
	// time is when the run passed.
	Time metav1.Time `json:"time"`
	// drill is the DRDrill the run belongs to.
	Drill string `json:"drill"`
	// drillRun is the DRDrillRun that passed.
	DrillRun string `json:"drillRun"`
	// recoverySet is the set the run restored (empty for snapshots taken
	// before backups were grouped into recovery sets).
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	RecoverySet string `json:"recoverySet,omitempty"`
	// recoveryPoint is when the restored snapshots were taken (the oldest):
	// a run counts only if it restored a recovery point at most maxAge
	// older than itself, so a drill pinned to an old set proves nothing
	// about today's backups.
	// +optional
	RecoveryPoint *metav1.Time `json:"recoveryPoint,omitempty"`
}

// BackupPolicyStatus is what the operator observed about a policy.
type BackupPolicyStatus struct {
	// observedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, LastBackupSucceeded, RPOMet, RestoreVerified,
	// PodsRunnable.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// lastBackup is the newest finished backup.
	// +optional
	LastBackup *BackupResult `json:"lastBackup,omitempty"`

	// lastSuccessfulTime is when the newest successful backup completed.
	// +optional
	LastSuccessfulTime *metav1.Time `json:"lastSuccessfulTime,omitempty"`

	// recentBackups are the newest finished backups, newest first, at most 10.
	// +kubebuilder:validation:MaxItems=10
	// +listType=atomic
	// +optional
	RecentBackups []BackupResult `json:"recentBackups,omitempty"`

	// lastBackupNowToken is the last ops.supportstack.io/backup-now
	// annotation value acted on: each new value starts one backup Job.
	// +optional
	LastBackupNowToken string `json:"lastBackupNowToken,omitempty"`

	// nextScheduleTime is when the next backup is due.
	// +optional
	NextScheduleTime *metav1.Time `json:"nextScheduleTime,omitempty"`

	// lastVerifiedRestore is the newest passed drill run of a DRDrill
	// naming this policy.
	// +optional
	LastVerifiedRestore *VerifiedRestore `json:"lastVerifiedRestore,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=bkp,categories=supportstack
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`
// +kubebuilder:printcolumn:name="Suspend",type=boolean,JSONPath=`.spec.suspend`
// +kubebuilder:printcolumn:name="Last Success",type=date,JSONPath=`.status.lastSuccessfulTime`
// +kubebuilder:printcolumn:name="RPO Met",type=string,JSONPath=`.status.conditions[?(@.type=="RPOMet")].status`
// +kubebuilder:printcolumn:name="Verified",type=string,JSONPath=`.status.conditions[?(@.type=="RestoreVerified")].status`
// +kubebuilder:printcolumn:name="Last Verified",type=date,JSONPath=`.status.lastVerifiedRestore.time`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// BackupPolicy declares scheduled, encrypted, retained backups of help-desk
// databases and attachment volumes into a restic repository.
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 45",message="metadata.name: at most 45 characters: the policy's CronJobs are named <name>-backup, <name>-prune and <name>-check, and a CronJob's name has at most 52"
type BackupPolicy struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the policy as the platform engineer declares it.
	// +required
	Spec BackupPolicySpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status BackupPolicyStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// BackupPolicyList contains a list of BackupPolicy.
type BackupPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BackupPolicy `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &BackupPolicy{}, &BackupPolicyList{})
}
