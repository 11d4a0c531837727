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

// Every condition type and reason the operator sets, per kind. Conditions are
// metav1.Conditions in status.conditions; each reason is also the reason of
// the event recorded when the condition changes, where there is one.

// Condition types and reasons shared by every SupportStack kind.
const (
	// ConditionReady summarises the object: True when everything it asks for
	// is in place and healthy. What that means per kind is said with each
	// kind's conditions below.
	ConditionReady = "Ready"

	// ReasonInvalidSpec (Ready=False): the spec passed admission but refers to
	// something that is missing or inconsistent outside the object (a Secret,
	// a PVC, another team, a BackupPolicy). The message names what to fix.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonReconciled (Ready=True): everything is in shape.
	ReasonReconciled = "Reconciled"
)

// SupportTeam conditions. Ready is True when the queues are materialized in
// the team's queue backend, the team lead's access is in place and coverage
// is computed for the coming 7 days; False with ReasonInvalidSpec,
// ReasonEscalationTargetNotFound or ReasonBackendUnavailable otherwise.
// Whether the team is staffed is Staffed, not Ready.
const (
	// ConditionStaffed is True when scheduled staff meets the required staff
	// in every 30-minute interval of the coming 7 days, for every queue.
	ConditionStaffed = "Staffed"
	// ConditionQueuesSynced is True when the queues are materialized in the
	// team's queue backend.
	ConditionQueuesSynced = "QueuesSynced"

	// ReasonEscalationTargetNotFound (Ready and QueuesSynced False): a queue
	// escalates to a team or queue that does not exist.
	ReasonEscalationTargetNotFound = "EscalationTargetNotFound"
	// ReasonAllIntervalsStaffed (Staffed=True): no interval is short.
	// Staffed is Unknown, with ReasonInvalidSpec, while coverage cannot be
	// computed from the spec (the message says why).
	ReasonAllIntervalsStaffed = "AllIntervalsStaffed"
	// ReasonUnderstaffed (Staffed=False): the message names the first
	// short intervals and queues.
	ReasonUnderstaffed = "Understaffed"
	// ReasonQueuesMaterialized (QueuesSynced=True): the backend holds the
	// queues as the spec says.
	ReasonQueuesMaterialized = "QueuesMaterialized"
	// ReasonBackendUnavailable (Ready and QueuesSynced False): the queue
	// backend refused or could not be reached.
	ReasonBackendUnavailable = "BackendUnavailable"
)

// SupportTeam actuals (issue #15): what the team's tickets in Request
// Tracker show. Set only for teams whose queueBackend is requestTracker.
const (
	// ConditionActualsSynced is True when the last read of the team's
	// tickets from Request Tracker succeeded; False with
	// ReasonActualsUnavailable and the error when it failed (the last
	// figures stay in status.queues[].actual).
	ConditionActualsSynced = "ActualsSynced"
	// ConditionServiceLevelMet is True when every queue with a response
	// target and a 7-day service level is at or above ServiceLevelTargetPercent;
	// False naming the queues below it; Unknown when no queue has a 7-day
	// service level (no ticket met or missed its target).
	ConditionServiceLevelMet = "ServiceLevelMet"

	// ServiceLevelTargetPercent is the share of tickets (percent) that must
	// get their first response within the queue's
	// responseTargets.firstResponse for ServiceLevelMet: a target names a
	// time, not a share, and 90 % is the common help-desk commitment.
	ServiceLevelTargetPercent = 90

	// ReasonActualsRead (ActualsSynced=True): every ticket of the look-back
	// window has been read.
	ReasonActualsRead = "ActualsRead"
	// ReasonActualsReading (ActualsSynced=True): the read is bounded per
	// sync and the first read has not reached the end of the look-back yet
	// (a busy team's first syncs, or after an operator restart); status
	// keeps the figures of the last complete read until it has.
	ReasonActualsReading = "ActualsReading"
	// ReasonActualsUnavailable (ActualsSynced=False): Request Tracker could
	// not be read; the message says why.
	ReasonActualsUnavailable = "ActualsUnavailable"
	// ReasonServiceLevelAchieved (ServiceLevelMet=True).
	ReasonServiceLevelAchieved = "ServiceLevelAchieved"
	// ReasonServiceLevelMissed (ServiceLevelMet=False): the message names
	// each queue below the target with its figures.
	ReasonServiceLevelMissed = "ServiceLevelMissed"
	// ReasonNoTicketData (ServiceLevelMet=Unknown).
	ReasonNoTicketData = "NoTicketData"
)

// SupportTeam queue backend trust (issue #11, item 1): what the operator
// refuses to do for a team's queue backend. Each is Ready and QueuesSynced
// False, with a Warning event of the same reason, and nothing is written or
// sent until the message's fix is made.
const (
	// ReasonSecretNotMarked: queueBackend.requestTracker.tokenSecretRef names
	// a Secret without the label LabelSecretUse=SecretUseQueueToken; its value
	// is not read and no request is sent to the backend.
	ReasonSecretNotMarked = "SecretNotMarked"
	// ReasonInsecureURL: the Request Tracker URL is plain http to a host
	// that is not loopback (a team stored before the CRD refused such URLs).
	ReasonInsecureURL = "InsecureURL"
	// ReasonConfigMapNotOwned: the routing ConfigMap's name is taken by a
	// ConfigMap this SupportTeam does not control; it is neither written nor
	// adopted, and the team's leads get no read access to it.
	ReasonConfigMapNotOwned = "ConfigMapNotOwned"
)

// SupportTeam Request Tracker queue ownership (issue #11, item 1, review
// fix): queue names come from the spec a team lead edits, the RT token is
// the platform's. Ready and QueuesSynced False, with a Warning event.
const (
	// ReasonQueueNotOwned: a queue of spec.queues has the name of an RT queue
	// whose Description does not start with this team's marker (another
	// team's queue, or one made by hand). It is never changed, re-enabled
	// or disabled, and gets no rights or service level from this team; the
	// team's other queues are synced.
	ReasonQueueNotOwned = "QueueNotOwned"
)

// SupportTeam with queueBackend.helpDesk (issue #20, point 3): the team's
// queues, group and rights live in a HelpDesk's RT. Ready and QueuesSynced
// False, with a Warning event.
const (
	// ReasonHelpDeskNotFound: no HelpDesk of that name in the team's
	// namespace (or it is being deleted).
	ReasonHelpDeskNotFound = "HelpDeskNotFound"
	// ReasonHelpDeskNotReady: the HelpDesk's web server or its credentials
	// are not there yet; the team syncs when they are.
	ReasonHelpDeskNotReady = "HelpDeskNotReady"
	// ReasonRightsFailed: the Job that sets the team's group's rights on
	// its queues failed; its log says why.
	ReasonRightsFailed = "RightsFailed"
)

// BackupPolicy conditions. Ready is True when every reference resolves
// (Secrets, keys, PVCs) and the backup, prune and check CronJobs, their
// ServiceAccount and NetworkPolicy are in place; False with
// ReasonInvalidSpec otherwise. Whether backups succeed is
// LastBackupSucceeded and RPOMet, not Ready.
const (
	// ConditionLastBackupSucceeded is True when the newest finished backup
	// succeeded; absent until one finishes.
	ConditionLastBackupSucceeded = "LastBackupSucceeded"
	// ConditionRPOMet is True while the newest successful backup (or, before
	// the first one, the policy's creation) is younger than objectives.rpo;
	// absent without objectives.
	ConditionRPOMet = "RPOMet"

	// ReasonBackupSucceeded (LastBackupSucceeded=True).
	ReasonBackupSucceeded = "BackupSucceeded"
	// ReasonBackupFailed (LastBackupSucceeded=False): the message is the
	// agent's one-line reason.
	ReasonBackupFailed = "BackupFailed"
	// ReasonBackupStarted is the event of a backup Job started by the
	// ops.supportstack.io/backup-now annotation.
	ReasonBackupStarted = "BackupStarted"
	// ReasonWithinRPO (RPOMet=True).
	ReasonWithinRPO = "WithinRPO"
	// ReasonRPOMissed (RPOMet=False).
	ReasonRPOMissed = "RPOMissed"

	// ConditionPodsRunnable is True while no pod of a running backup Job is
	// stuck; False, with one of the pod reasons below, naming the Job, the
	// pod and the cause, while one cannot make progress.
	ConditionPodsRunnable = "PodsRunnable"
	// ReasonPodsRunnable (PodsRunnable=True).
	ReasonPodsRunnable = "PodsRunnable"

	// ConditionRestoreVerified is True while a DRDrillRun of a DRDrill
	// naming the policy passed within spec.verification.maxAge: the
	// policy's backups are proven restorable.
	ConditionRestoreVerified = "RestoreVerified"
	// ReasonRestoreVerified (RestoreVerified=True): the message names the
	// run, when it passed and the recovery set it restored.
	ReasonRestoreVerified = "RestoreVerified"
	// ReasonNoDrill (RestoreVerified=False): no DRDrill names the policy,
	// so nothing ever tests its backups.
	ReasonNoDrill = "NoDrill"
	// ReasonNeverVerified (RestoreVerified=False): drills name the policy
	// but none of their runs has passed yet.
	ReasonNeverVerified = "NeverVerified"
	// ReasonVerificationStale (RestoreVerified=False): the newest passed
	// run is older than spec.verification.maxAge.
	ReasonVerificationStale = "VerificationStale"
)

// DRDrillRun sandbox trust (issue #11, items 5, 6, 9): a run never uses a
// namespace it did not create, and waits its turn. Each is the Ready
// condition's reason with a Warning (taken) or Normal (queued) event.
const (
	// ReasonSandboxNamespaceTaken (Ready=False, the run ends in Error): the
	// sandbox namespace's name is held by a namespace this run did not
	// create (its UID is not the one in status.sandboxNamespaceUID). Nothing
	// is copied into it, nothing is started in it and it is never deleted.
	ReasonSandboxNamespaceTaken = "SandboxNamespaceTaken"
	// ReasonQueued (Ready=False, phase Pending): as many runs as the
	// manager's --max-concurrent-drill-runs-per-namespace allows are
	// running in the run's namespace (or finished with their sandboxes
	// kept); the message names them, and the run starts when one of them
	// ends or its kept sandbox is deleted.
	ReasonQueued = "Queued"
	// ReasonInsufficientEphemeralStorage (Ready=False, the run ends in
	// Error before its sandbox is made): the scratch server or the restore
	// pod requests more ephemeral storage than any schedulable node
	// allocates; the message names the need and the largest node's
	// allocatable (issue #19).
	ReasonInsufficientEphemeralStorage = "InsufficientEphemeralStorage"
)

// Issue #11 review: a sandbox made before sandbox UIDs were recorded.
const (
	// ReasonSandboxNotVerified (SandboxDeleted=False, with a Warning event):
	// the run names a sandbox namespace but recorded no UID for it (an
	// operator version before UIDs were recorded made it), so the operator
	// cannot prove it created the namespace and does not delete it; the
	// message says to check it and delete it by hand.
	ReasonSandboxNotVerified = "SandboxNotVerified"
)

// Reasons of events that go with no condition.
const (
	// ReasonApplied: a child object was created or changed.
	ReasonApplied = "Applied"
	// ReasonDeleted: a child object the spec no longer asks for was deleted.
	ReasonDeleted = "Deleted"
	// ReasonRequestTrackerSynced: a team's queues were written to Request Tracker.
	ReasonRequestTrackerSynced = "RequestTrackerSynced"
	// ReasonRunDeleted: a drill run beyond the history limit was deleted.
	ReasonRunDeleted = "RunDeleted"
	// ReasonStarted: a drill run started.
	ReasonStarted = "Started"
	// ReasonSandboxCreated: a drill run's sandbox namespace was created.
	ReasonSandboxCreated = "SandboxCreated"
	// ReasonRestored: a drill run's restore finished.
	ReasonRestored = "Restored"
)

// Why a pod the operator started cannot make progress: the reason of the
// BackupPolicy's PodsRunnable=False, of the event recorded on the owner, and,
// for a drill run, of the Error it ends in when the pod stays stuck.
const (
	// ReasonUnschedulable: the scheduler finds no node for the pod.
	ReasonUnschedulable = "Unschedulable"
	// ReasonVolumeUnbound: a PersistentVolumeClaim the pod mounts is not
	// bound (no StorageClass, or one that provides nothing) or not found.
	ReasonVolumeUnbound = "VolumeUnbound"
	// ReasonImageNotPresent: the image is not on the node and the pull
	// policy is Never.
	ReasonImageNotPresent = "ImageNotPresent"
	// ReasonImagePullFailed: the kubelet cannot pull the image.
	ReasonImagePullFailed = "ImagePullFailed"
	// ReasonCrashLoop: a container keeps exiting and being restarted.
	ReasonCrashLoop = "CrashLoop"
	// ReasonContainerConfigError: a container cannot be created (a missing
	// Secret or key, a bad mount).
	ReasonContainerConfigError = "ContainerConfigError"
	// ReasonMultiAttach: a ReadWriteOnce volume the pod mounts is attached
	// to another node (the application's pod moved after the backup pod
	// was placed); the next run is placed on the application's node.
	ReasonMultiAttach = "MultiAttach"
)

// DRDrill conditions. Ready is True when the drill is valid against its
// BackupPolicy and signing key and is scheduled (or suspended, with
// ReasonSuspended); False with ReasonInvalidSpec otherwise, and then no run
// starts. Whether drills pass is LastRunPassed and ObjectivesMet.
const (
	// ConditionLastRunPassed is True when the newest finished run passed;
	// Unknown until one finishes.
	ConditionLastRunPassed = "LastRunPassed"
	// ConditionObjectivesMet is True when the newest finished run met the
	// RTO and RPO objectives; Unknown until one finishes.
	ConditionObjectivesMet = "ObjectivesMet"

	// ReasonSuspended (Ready=True): spec.suspend; run-now still starts runs.
	ReasonSuspended = "Suspended"
	// ReasonNoRunYet (LastRunPassed and ObjectivesMet Unknown).
	ReasonNoRunYet = "NoRunYet"
	// ReasonObjectivesMet (ObjectivesMet=True).
	ReasonObjectivesMet = "ObjectivesMet"
	// ReasonObjectivesMissed (ObjectivesMet=False): the message says which
	// objective was missed and by how much.
	ReasonObjectivesMissed = "ObjectivesMissed"
	// ReasonRunCreated is the event of a new run (schedule or run-now).
	ReasonRunCreated = "RunCreated"
	// ReasonMissedSchedule is the event of a scheduled time skipped past
	// startingDeadlineSeconds.
	ReasonMissedSchedule = "MissedSchedule"
)

// DRDrillRun conditions. Ready is True when the run Passed; False while it
// runs (ReasonRunning, the message names the phase) and when it Failed
// (ReasonDrillFailed) or ended in Error (ReasonDrillError). The drill's
// LastRunPassed takes the same reasons from its newest finished run.
const (
	// ConditionSandboxDeleted is True once the sandbox namespace is deleted
	// (or being deleted by the namespace controller); False with
	// ReasonSandboxKept while spec.sandbox.keep holds it until its ttl.
	ConditionSandboxDeleted = "SandboxDeleted"
	// ConditionEvidenceRecorded is True once the run's signed report is
	// stored in its evidence ConfigMap; False with ReasonEvidenceNotSigned while the
	// signing key is missing.
	ConditionEvidenceRecorded = "EvidenceRecorded"

	// ReasonRunning (Ready=False): the run is in Provisioning, Restoring or
	// Verifying.
	ReasonRunning = "Running"
	// ReasonDrillPassed (Ready=True): every check passed and the
	// objectives were met.
	ReasonDrillPassed = "DrillPassed"
	// ReasonDrillFailed (Ready=False): a check failed or an objective was
	// missed; the message names them.
	ReasonDrillFailed = "DrillFailed"
	// ReasonDrillError (Ready=False): the drill could not be carried out (no
	// snapshot, a corrupt repository, a vanished sandbox, a timeout).
	ReasonDrillError = "DrillError"
	// ReasonSandboxKept (SandboxDeleted=False).
	ReasonSandboxKept = "SandboxKept"
	// ReasonSandboxDeleted (SandboxDeleted=True).
	ReasonSandboxDeleted = "SandboxDeleted"
	// ReasonEvidenceRecorded (EvidenceRecorded=True).
	ReasonEvidenceRecorded = "EvidenceRecorded"
	// ReasonEvidenceNotSigned (EvidenceRecorded=False): the signing key Secret or
	// key is missing or not an ed25519 key.
	ReasonEvidenceNotSigned = "EvidenceNotSigned"
)

// Drill run trust and evidence (issue #11, items 2 and 8): runs nobody but
// the operator may start, and evidence whose failure never keeps a sandbox.
const (
	// ReasonNotCreatedByOperator (Ready=False, phase Error; and
	// EvidenceRecorded=False): the run is not one its DRDrill's controller
	// created and acknowledged (by name and UID in the drill's
	// status.createdRuns). It gets no sandbox and no evidence, and is never
	// summarised or chained. Runs are started with the DRDrill's
	// ops.supportstack.io/run-now annotation.
	ReasonNotCreatedByOperator = "NotCreatedByOperator"
	// ReasonEvidenceFailed (EvidenceRecorded=False): writing the evidence
	// failed (the message says why); it is retried, and the sandbox is torn
	// down as spec.sandbox.keep says regardless.
	ReasonEvidenceFailed = "EvidenceFailed"
)

// Drill run acknowledgement, review fix (issue #11, item 2): the list of
// runs a drill created is bounded, and a full list is said, not retried.
const (
	// ReasonCreatedRunsFull (DRDrill Ready=False, with a Warning event):
	// status.createdRuns holds as many runs as it may (512), so no run is
	// started (it could not be acknowledged, and would be refused) until
	// runs are deleted; the message names the finished runs whose evidence
	// was never recorded, which history pruning keeps.
	ReasonCreatedRunsFull = "CreatedRunsFull"
)

// HelpDesk conditions (issue #20). Ready is True when the database answers,
// RT's schema is set up for spec.version and every web pod is ready; False
// with the first of these that is not, its reason and message.
const (
	// ConditionDatabaseReady is True when the managed PostgreSQL's pod is
	// ready.
	ConditionDatabaseReady = "DatabaseReady"
	// ConditionSchemaReady is True when RT's schema Job for spec.version
	// completed.
	ConditionSchemaReady = "SchemaReady"
	// ConditionWebReady is True when every web replica is updated and ready.
	ConditionWebReady = "WebReady"
	// ReasonProtectionIncomplete (Protected=False): the BackupPolicy is
	// not Ready or not RestoreVerified; the message has its condition.
	ReasonProtectionIncomplete = "ProtectionIncomplete"
	// ConditionSecured is True when the help desk's NetworkPolicies are
	// applied and its namespace enforces PodSecurity restricted; False
	// with ReasonPodSecurityNotEnforced when the namespace does not. It
	// does not count in Ready: the help desk works either way.
	ConditionSecured = "Secured"
	// ReasonControlsInForce (Secured=True): the message lists the controls.
	ReasonControlsInForce = "ControlsInForce"
	// ReasonPodSecurityNotEnforced (Secured=False): the namespace lacks
	// pod-security.kubernetes.io/enforce=restricted; the message says so.
	ReasonPodSecurityNotEnforced = "PodSecurityNotEnforced"
	// ConditionProtected is True when spec.protection's BackupPolicy is
	// Ready and, with a drill, RestoreVerified (a drill run passed within
	// the policy's verification maxAge); False naming the condition that
	// is not; False with ReasonNotProtected without spec.protection. It
	// does not count in Ready.
	ConditionProtected = "Protected"
	// ReasonNotProtected (Protected=False): no spec.protection.
	ReasonNotProtected = "NotProtected"
	// ReasonBackupsVerified (Protected=True): backups run, and a drill
	// proved the latest restorable.
	ReasonBackupsVerified = "BackupsVerified"
	// ReasonBackupsRunning (Protected=True): backups run; no drill asked.
	ReasonBackupsRunning = "BackupsRunning"
	// ReasonProgressing (False): the part is starting; the message says
	// what is awaited.
	ReasonProgressing = "Progressing"
	// ReasonSchemaFailed (SchemaReady and Ready False): the schema Job
	// failed; the message has the end of its log's reason and the command
	// that shows the log.
	ReasonSchemaFailed = "SchemaFailed"
	// ReasonUpgradeFailed (SchemaReady and Ready False): a new RT image's
	// upgrade stopped: the backup before it failed, or its upgrade Job
	// did; RT's pods keep the image they run.
	ReasonUpgradeFailed = "UpgradeFailed"
	// ReasonUpgraded (event): RT's schema is the new image's; RT's pods
	// roll to it.
	ReasonUpgraded = "Upgraded"
	// ReasonUpgradeWithoutBackup (Warning event): a HelpDesk without
	// spec.protection is upgraded with no backup first.
	ReasonUpgradeWithoutBackup = "UpgradeWithoutBackup"
	// ReasonAvailable (True): the part is up.
	ReasonAvailable = "Available"
	// ReasonWaiting (Unknown): the part was not looked at because one it
	// depends on (the database, RT's schema) is not ready; the message
	// names that one. A condition left as it was would tell of a past
	// state, such as WebReady True while the database is down.
	ReasonWaiting = "Waiting"
	// ReasonDeleting is the reason of the event that says what
	// deletionPolicy Delete removed with the HelpDesk.
	ReasonDeleting = "Deleting"
)
