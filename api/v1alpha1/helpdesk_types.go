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
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HelpDeskSpec is the help desk a platform engineer asks for: Request
// Tracker 5, its web server and its PostgreSQL database, in the HelpDesk's
// namespace.
// +kubebuilder:validation:XValidation:rule="(has(oldSelf.database) && has(oldSelf.database.external)) == (has(self.database) && has(self.database.external))",message="spec.database cannot change between managed and external: the tickets stay in the database they are in; to move them, restore a backup into the other database and create a HelpDesk on it"
type HelpDeskSpec struct {
	// version is Request Tracker's major version. Only "5" (Debian's
	// request-tracker5, the image docker.io/supportstack/rt:5) exists.
	// +kubebuilder:validation:Enum="5"
	// +kubebuilder:default="5"
	// +optional
	Version string `json:"version,omitempty"`

	// site is RT's site configuration, typed: RT_SiteConfig is Perl that RT
	// executes, so there is no field for raw configuration, and every value
	// is written as a Perl single-quoted string.
	// +required
	Site HelpDeskSite `json:"site"`

	// web is RT's web server (Starman serving RT's PSGI application).
	// +optional
	Web HelpDeskWeb `json:"web,omitempty"`

	// database is where RT keeps tickets, users and rights.
	// +optional
	Database HelpDeskDatabase `json:"database,omitempty"`

	// attachments keeps RT's attachments as files on a volume (RT's
	// ExternalStorage, type Disk), beside the database they belong to:
	// files of any type but text and images always, text and images above
	// RT's cutoff of 10 MiB, each moved there from the database by the
	// externalizing CronJob (<name>-externalize).
	// +optional
	Attachments HelpDeskAttachments `json:"attachments,omitempty"`

	// maintenance schedules RT's periodic work as CronJobs that never run
	// twice at once, in spec.site.timeZone.
	// +optional
	Maintenance HelpDeskMaintenance `json:"maintenance,omitempty"`

	// mail is how RT sends e-mail: replies, autoreplies and notifications.
	// +optional
	Mail HelpDeskMail `json:"mail,omitempty"`

	// protection backs the help desk up and proves its backups restorable:
	// the operator creates and owns a BackupPolicy named like the HelpDesk
	// (the database and the attachments' volume in one recovery set, each
	// run) and, with drill, a DRDrill of it, also named like the HelpDesk,
	// that restores both and checks them against each other. Edit them
	// here: the operator puts its BackupPolicy and DRDrill back as this
	// says.
	// +optional
	Protection *HelpDeskProtection `json:"protection,omitempty"`

	// deletionPolicy says what deleting the HelpDesk does to its data:
	// Retain (the default) keeps the database's volume and the generated
	// credentials Secret, so a HelpDesk created again with the same name
	// finds its tickets; Delete removes them with the HelpDesk. An
	// external database is never deleted or emptied.
	// +kubebuilder:validation:Enum=Retain;Delete
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy HelpDeskDeletionPolicy `json:"deletionPolicy,omitempty"`
}

// HelpDeskDeletionPolicy is Retain or Delete.
type HelpDeskDeletionPolicy string

const (
	// HelpDeskRetain keeps the data when the HelpDesk is deleted.
	HelpDeskRetain HelpDeskDeletionPolicy = "Retain"
	// HelpDeskDelete removes the data with the HelpDesk.
	HelpDeskDelete HelpDeskDeletionPolicy = "Delete"
)

// SiteText is a value of RT's site configuration: printable text without
// quotes or backslashes. RT reads its configuration as Perl; the operator
// writes each value as a single-quoted Perl string (where only ' and \ are
// special) and refuses these characters outright, so no value can end its
// string and become code. The rule names them by their codes (x27 and x5c
// in a character class) rather than quoting them.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=128
// +kubebuilder:validation:XValidation:rule="!self.matches('[\\x27\\x5c\\x5c\\x00-\\x1f\\x7f]')",message="must not contain a single quote ('), a backslash or a control character: RT's site configuration is Perl, and these could end the value's string"
type SiteText string

// HelpDeskSite is the typed part of RT's site configuration.
type HelpDeskSite struct {
	// name is RT's $rtname, the tag in e-mail subjects ([name #123]).
	// Changing it later breaks the threading of mail about existing
	// tickets.
	// +required
	Name SiteText `json:"name"`

	// organization is RT's $Organization, used in ticket links and
	// Message-IDs, usually the organization's domain.
	// +required
	Organization SiteText `json:"organization"`

	// webDomain is the host name people reach RT at ($WebDomain). Default:
	// the web Service's name in the cluster, <name>-web.<namespace>.svc.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="must be a lower-case DNS name such as rt.example.com"
	// +optional
	WebDomain string `json:"webDomain,omitempty"`

	// timeZone is RT's time zone for dates it shows and business hours.
	// +kubebuilder:default=UTC
	// +optional
	TimeZone TimeZone `json:"timeZone,omitempty"`
}

// HelpDeskWeb sizes RT's web server.
type HelpDeskWeb struct {
	// replicas is the number of web pods.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=20
	// +kubebuilder:default=1
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// workers is the number of Starman worker processes per pod, each
	// serving one request at a time (about 100 MiB each).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=32
	// +kubebuilder:default=2
	// +optional
	Workers int32 `json:"workers,omitempty"`

	// ingressFrom are the peers that may reach RT's web port, as in a
	// NetworkPolicy's ingress rule (pods, namespaces, address blocks).
	// Default: every pod of the HelpDesk's own namespace. Nothing else
	// reaches any of the help desk's pods.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	IngressFrom []networkingv1.NetworkPolicyPeer `json:"ingressFrom,omitempty"`
}

// HelpDeskDatabase is RT's database: managed (the default) or external.
// +kubebuilder:validation:XValidation:rule="!(has(self.managed) && has(self.external))",message="set database.managed or database.external, not both: the help desk's tickets live in one database"
type HelpDeskDatabase struct {
	// managed runs PostgreSQL 15 for the help desk (the project's
	// PostgreSQL image): a StatefulSet of one pod whose data lives on a
	// PersistentVolumeClaim. The default.
	// +optional
	Managed *ManagedDatabase `json:"managed,omitempty"`

	// external is a PostgreSQL server the operator does not run, such as
	// a CloudNativePG cluster. RT's pods and its schema Job connect as the
	// Secret's role, which must own the database and must not be a
	// superuser (the schema Job refuses one); the operator never deletes
	// or changes the database beyond RT's schema.
	// +optional
	External *ExternalDatabase `json:"external,omitempty"`
}

// ExternalDatabase names the connection Secret of a database the operator
// does not run.
type ExternalDatabase struct {
	// secretName is a Secret in the HelpDesk's namespace with the keys of a
	// CloudNativePG cluster's app Secret (<cluster>-app): host, port
	// (default 5432), dbname, username, password, and uri (a
	// postgresql:// URI, needed only with spec.protection, which dumps
	// the database with it). host is a DNS name or an IPv4 address;
	// dbname and username are plain SQL names (lower-case letters, digits
	// and _), as RT's set-up writes them into SQL unquoted. The
	// help desk's pods may reach host on port and no other database (an
	// in-cluster Service's pods, an address as a /32; another name may
	// resolve anywhere, so then any address on port). It cannot change,
	// and if the Secret later names another database the operator stops
	// and says so: RT's schema was set up in the database it named.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="must be a Secret's name, such as rt-db-app"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="secretName cannot change: RT's schema was set up in the database it names; to move the help desk, restore a backup into the other database and create a HelpDesk on it"
	// +required
	SecretName string `json:"secretName"`
}

// ManagedDatabase sizes the managed PostgreSQL.
type ManagedDatabase struct {
	// storage is the size of the database's volume.
	// +kubebuilder:default="1Gi"
	// +optional
	Storage *resource.Quantity `json:"storage,omitempty"`

	// storageClassName is the volume's StorageClass; the cluster's default
	// when empty.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`
}

// HelpDeskAttachments sizes the attachments' volume.
type HelpDeskAttachments struct {
	// storage is the size of the attachments' volume.
	// +kubebuilder:default="1Gi"
	// +optional
	Storage *resource.Quantity `json:"storage,omitempty"`

	// storageClassName is the volume's StorageClass; the cluster's default
	// when empty. The web pods and the externalizing job mount it, so with
	// more than one node it needs ReadWriteMany (accessModes).
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// accessModes of the volume (default ReadWriteOnce: every pod that
	// mounts it must then run on one node).
	// +kubebuilder:validation:MaxItems=2
	// +optional
	AccessModes []corev1.PersistentVolumeAccessMode `json:"accessModes,omitempty"`
}

// HelpDeskMaintenance are the schedules of RT's periodic work.
type HelpDeskMaintenance struct {
	// externalizeAttachments runs rt-externalize-attachments, which moves
	// attachments from the database to the attachments' volume.
	// +kubebuilder:default="*/15 * * * *"
	// +optional
	ExternalizeAttachments CronSchedule `json:"externalizeAttachments,omitempty"`

	// cleanSessions runs rt-clean-sessions, which removes web sessions
	// older than a week.
	// +kubebuilder:default="30 3 * * *"
	// +optional
	CleanSessions CronSchedule `json:"cleanSessions,omitempty"`
}

// HelpDeskMail is RT's outgoing mail.
type HelpDeskMail struct {
	// relay is the SMTP server RT hands every outgoing message to (RT's
	// MailCommand smtp, on port 25 by default; without credentials, a
	// relay that accepts the help desk's pods, such as an in-cluster
	// Postfix; with them, any submission server). The pods of RT that send mail (web, mail gateway, cron)
	// may then reach it, on that port, and nothing else beyond the
	// database and DNS. Without a relay RT has no way to send mail (its
	// image has no sendmail): it logs each message it could not send.
	// +optional
	Relay *SMTPRelay `json:"relay,omitempty"`
}

// SMTPRelay is an SMTP server.
// +kubebuilder:validation:XValidation:rule="!has(self.credentialsSecretRef) || (has(self.startTLS) && self.startTLS)",message="credentialsSecretRef needs startTLS: true: RT would otherwise send the relay's password over a connection that is not encrypted"
// +kubebuilder:validation:XValidation:rule="!has(self.caSecretRef) || (has(self.startTLS) && self.startTLS)",message="caSecretRef needs startTLS: true: the CA verifies the relay's certificate, which only STARTTLS asks for"
type SMTPRelay struct {
	// host is the relay's DNS name or IPv4 address. An in-cluster
	// Service (smtp.mail.svc) is reached at its pods, on the port its
	// Service maps port to; another name may resolve anywhere, so the
	// help desk's pods may reach any address on port.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="must be a lower-case DNS name such as smtp.example.com or an IPv4 address"
	// +required
	Host string `json:"host"`

	// port is the relay's SMTP port; default 25 (a submission server's is
	// usually 587).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +kubebuilder:default=25
	// +optional
	Port int32 `json:"port,omitempty"`

	// startTLS makes RT switch every connection to the relay to TLS
	// (STARTTLS) before it sends anything, and verify the relay's
	// certificate for host against caSecretRef's bundle, else the image's
	// CA certificates. A relay that offers no STARTTLS, or whose
	// certificate does not verify, gets nothing: RT logs the message it
	// could not send.
	// +optional
	StartTLS bool `json:"startTLS,omitempty"`

	// caSecretRef is the Secret key (in the HelpDesk's namespace) of the
	// PEM bundle the relay's certificate must chain to, for a relay with
	// a private CA. Needs startTLS.
	// +optional
	CASecretRef *SecretKeyRef `json:"caSecretRef,omitempty"`

	// credentialsSecretRef names a Secret of the HelpDesk's namespace with
	// the keys username and password: RT logs in to the relay with them
	// (SMTP AUTH), after STARTTLS only (startTLS is required). They reach
	// RT's pods that send mail (web and mail gateway) as environment
	// variables from the Secret, never RT's configuration; a new password
	// reaches them when they restart.
	// +optional
	CredentialsSecretRef *SecretRef `json:"credentialsSecretRef,omitempty"`
}

// HelpDeskProtection is the help desk's BackupPolicy and DRDrill, in the
// words of BackupPolicy and DRDrill (their fields, same meaning); both run
// in spec.site.timeZone.
type HelpDeskProtection struct {
	// schedule of the backups.
	// +required
	Schedule CronSchedule `json:"schedule"`

	// repository the backups go to.
	// +required
	Repository Repository `json:"repository"`

	// retention of the backups.
	// +required
	Retention Retention `json:"retention"`

	// objectives of the backups (rpo).
	// +optional
	Objectives *BackupObjectives `json:"objectives,omitempty"`

	// drill, when set, restores the latest backup on its schedule in an
	// isolated sandbox and checks it: RT's queues are there, the row counts
	// of tickets, transactions, attachments, users and queues equal the
	// backup's manifest, the attachments' files equal the manifest, every
	// attachment the database keeps as a file has its file, and RT itself,
	// started on the restored copy without mail, shows the backup's queues
	// and tickets and reads attachments back with their SHA-256 (a
	// requestTracker check).
	// +optional
	Drill *HelpDeskDrill `json:"drill,omitempty"`
}

// HelpDeskDrill is the help desk's restore drill.
type HelpDeskDrill struct {
	// schedule of the drill's runs.
	// +required
	Schedule CronSchedule `json:"schedule"`

	// objectives the runs are measured against (rto, rpo).
	// +optional
	Objectives *DrillObjectives `json:"objectives,omitempty"`

	// evidence of each run (signing key).
	// +optional
	Evidence *EvidenceSpec `json:"evidence,omitempty"`
}

// HelpDeskStatus is what the operator observed of the help desk.
type HelpDeskStatus struct {
	// conditions: DatabaseReady, SchemaReady, WebReady, Secured, Protected
	// and Ready.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// version is the RT version whose schema the database holds.
	// +optional
	Version string `json:"version,omitempty"`

	// image is the Request Tracker image whose schema the database holds
	// (the image that set it up or last upgraded it). When the operator's
	// RT image changes, the help desk is backed up (with spec.protection),
	// RT's schema upgrade runs with the new image, and only then do RT's
	// pods roll to it.
	// +optional
	Image string `json:"image,omitempty"`

	// database is the database RT's schema was set up in: its name, host,
	// port and RT's role in it.
	// +optional
	Database string `json:"database,omitempty"`

	// url is where RT answers inside the cluster (the web Service).
	// +optional
	URL string `json:"url,omitempty"`

	// backupPolicy names the BackupPolicy the operator made for
	// spec.protection.
	// +optional
	BackupPolicy string `json:"backupPolicy,omitempty"`

	// drill names the DRDrill the operator made for spec.protection.drill.
	// +optional
	Drill string `json:"drill,omitempty"`

	// lastVerifiedRestore is the newest passed drill run of the help desk's
	// backups (the BackupPolicy's status.lastVerifiedRestore).
	// +optional
	LastVerifiedRestore *VerifiedRestore `json:"lastVerifiedRestore,omitempty"`

	// credentialsSecret names the Secret holding the generated passwords
	// (the database administrator's, RT's database role's and RT's root
	// user's). The operator never prints them.
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hd,categories=supportstack
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.version`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Protected",type=string,JSONPath=`.status.conditions[?(@.type=="Protected")].status`
// +kubebuilder:printcolumn:name="Last Drill",type=date,JSONPath=`.status.lastVerifiedRestore.time`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// HelpDesk is the support stack itself: Request Tracker 5 with its web
// server and database, deployed and kept locked down by the operator.
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 40",message="metadata.name: a lower-case DNS label of at most 40 characters starting with a letter: the help desk's Services and StatefulSet are named <name>-web and <name>-db"
type HelpDesk struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the help desk as the platform engineer declares it.
	// +required
	Spec HelpDeskSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status HelpDeskStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// HelpDeskList contains a list of HelpDesk.
type HelpDeskList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HelpDesk `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &HelpDesk{}, &HelpDeskList{})
}
