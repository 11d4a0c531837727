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

package resources

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// What a HelpDesk is made of (issue #20): its managed PostgreSQL, the
// credentials the operator generates for it, and RT's objects
// (helpdesk_rt.go).
const (
	// LabelHelpDesk names the HelpDesk an object belongs to.
	LabelHelpDesk = "ops.supportstack.io/helpdesk"
	// LabelMailFetcher on a pod (value: a HelpDesk's name) lets it reach
	// that help desk's mail gateway: the pods that fetch or receive mail
	// and hand it to RT with rt-mailgate. No other pod may.
	LabelMailFetcher = "ops.supportstack.io/mail-fetcher"

	// DefaultRTImage is Request Tracker 5 (hack/images.sh rt).
	DefaultRTImage = "docker.io/supportstack/rt:5"
	// DefaultPostgresImage is the project's PostgreSQL 15 (hack/images.sh
	// postgres).
	DefaultPostgresImage = "docker.io/supportstack/postgres:15"

	// Keys of a HelpDesk's generated credentials Secret.
	HelpDeskAdminPasswordKey    = "database-admin-password"
	HelpDeskDatabasePasswordKey = "database-password"
	HelpDeskRootPasswordKey     = "root-password"
	HelpDeskAdminUserKey        = "database-admin-user"

	// HelpDeskDatabaseName and HelpDeskDatabaseUser are RT's database and
	// its own (non-superuser) role in the managed PostgreSQL;
	// HelpDeskAdminUser is the server's superuser, which only the schema
	// Job uses.
	HelpDeskDatabaseName = "rt5"
	HelpDeskDatabaseUser = "rt_user"
	HelpDeskAdminUser    = "postgres"

	postgresDir = "/var/lib/postgresql/data"
)

// HelpDeskLabels are the labels of a HelpDesk's component (database,
// schema, web): the web and database Services select on exactly these.
func HelpDeskLabels(helpDesk, component string) map[string]string {
	return map[string]string{
		opsv1alpha1.LabelManagedBy:    opsv1alpha1.ManagedByValue,
		LabelHelpDesk:                 helpDesk,
		"app.kubernetes.io/name":      "request-tracker",
		"app.kubernetes.io/instance":  helpDesk,
		"app.kubernetes.io/component": component,
	}
}

// HelpDeskNames are the names of a HelpDesk's objects.
type HelpDeskNames struct{ HelpDesk string }

// Credentials is the Secret of generated passwords.
func (n HelpDeskNames) Credentials() string { return n.HelpDesk + "-credentials" }

// SiteConfig is the Secret holding RT's rendered site configuration.
func (n HelpDeskNames) SiteConfig() string { return n.HelpDesk + "-site-config" }

// Database is the managed PostgreSQL's StatefulSet and Service.
func (n HelpDeskNames) Database() string { return n.HelpDesk + "-db" }

// DatabaseClaim is the managed PostgreSQL's volume claim.
func (n HelpDeskNames) DatabaseClaim() string { return n.HelpDesk + "-db-data" }

// AttachmentsClaim is the attachments' volume claim.
func (n HelpDeskNames) AttachmentsClaim() string { return n.HelpDesk + "-attachments" }

// Externalize is the CronJob of rt-externalize-attachments (a CronJob's
// name has at most 52 characters, a HelpDesk's 40).
func (n HelpDeskNames) Externalize() string { return n.HelpDesk + "-externalize" }

// Sessions is the CronJob of rt-clean-sessions.
func (n HelpDeskNames) Sessions() string { return n.HelpDesk + "-sessions" }

// Web is RT's web Deployment and Service.
func (n HelpDeskNames) Web() string { return n.HelpDesk + "-web" }

// MailGateway is the Deployment and Service of RT's mail gateway.
func (n HelpDeskNames) MailGateway() string { return n.HelpDesk + "-mailgate" }

// Schema is the schema Job of RT version v.
func (n HelpDeskNames) Schema(v string) string { return n.HelpDesk + "-schema-" + v }

func (n HelpDeskNames) credential(key string) corev1.SecretKeySelector {
	return corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: n.Credentials()}, Key: key}
}

// AdminUser selects the database administrator's name in the credentials
// Secret, which carries it beside the password so the schema Job reads
// both alike.
func (n HelpDeskNames) AdminUser() corev1.SecretKeySelector {
	return n.credential(HelpDeskAdminUserKey)
}

// AdminPassword selects the database administrator's password.
func (n HelpDeskNames) AdminPassword() corev1.SecretKeySelector {
	return n.credential(HelpDeskAdminPasswordKey)
}

// DatabasePassword selects the password of RT's own database role.
func (n HelpDeskNames) DatabasePassword() corev1.SecretKeySelector {
	return n.credential(HelpDeskDatabasePasswordKey)
}

// RootPassword selects the password of RT's root user.
func (n HelpDeskNames) RootPassword() corev1.SecretKeySelector {
	return n.credential(HelpDeskRootPasswordKey)
}

// HelpDeskDatabasePassword selects RT's database password: the external
// database's Secret's, or the generated one.
func HelpDeskDatabasePassword(hd *opsv1alpha1.HelpDesk) corev1.SecretKeySelector {
	if ext := hd.Spec.Database.External; ext != nil {
		return corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: ext.SecretName}, Key: ExternalDatabasePasswordKey}
	}
	return HelpDeskNames{HelpDesk: hd.Name}.DatabasePassword()
}

// HelpDeskDatabaseConn is where RT's database is and whom RT and its
// schema Job connect as: the managed PostgreSQL (ManagedDatabaseConn) or
// an external server (ExternalDatabaseConn).
type HelpDeskDatabaseConn struct {
	Host string
	Port int32
	Name string
	User string
	// Password is RT's role's password; AdminUser and AdminPassword are
	// what the schema Job connects as (for an external database, RT's
	// role itself).
	Password, AdminUser, AdminPassword corev1.SecretKeySelector
	// BackupURI is the libpq URI spec.protection's BackupPolicy dumps the
	// database with.
	BackupURI corev1.SecretKeySelector
	// External is set for a server the operator does not run: the schema
	// Job then neither creates the database nor accepts a superuser.
	External bool
}

// String names the database: "<name> at <host>:<port> as <user>".
func (c HelpDeskDatabaseConn) String() string {
	return fmt.Sprintf("%s at %s:%d as %s", c.Name, c.Host, c.Port, c.User)
}

// ManagedDatabaseConn is the managed PostgreSQL's connection: RT's own
// role, and its administrator for the schema Job.
func ManagedDatabaseConn(namespace string, n HelpDeskNames) HelpDeskDatabaseConn {
	return HelpDeskDatabaseConn{
		Host: n.Database() + "." + namespace + ".svc", Port: 5432, Name: HelpDeskDatabaseName, User: HelpDeskDatabaseUser,
		Password: n.DatabasePassword(), AdminUser: n.AdminUser(), AdminPassword: n.AdminPassword(),
		BackupURI: n.credential(HelpDeskBackupURIKey),
	}
}

// Keys of an external database's connection Secret: those of a
// CloudNativePG cluster's app Secret.
const (
	ExternalDatabaseHostKey     = "host"
	ExternalDatabasePortKey     = "port"
	ExternalDatabaseNameKey     = "dbname"
	ExternalDatabaseUserKey     = "username"
	ExternalDatabasePasswordKey = "password"
	ExternalDatabaseURIKey      = "uri"
)

var databaseHost = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// ExternalDatabaseConn reads the connection of an external database from
// its Secret's data (ExternalDatabase*Key). It refuses what RT's
// configuration and set-up could not carry safely, naming the key and
// never a value but the host: a host that is not a DNS name or IPv4
// address, a port out of range, a database or role name that is not a
// plain SQL identifier (RT's set-up writes them into SQL unquoted).
// withURI asks for the uri key too (spec.protection dumps with it).
func ExternalDatabaseConn(secretName string, data map[string][]byte, withURI bool) (HelpDeskDatabaseConn, error) {
	key := func(k string) corev1.SecretKeySelector {
		return corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secretName}, Key: k}
	}
	required := []string{ExternalDatabaseHostKey, ExternalDatabaseNameKey, ExternalDatabaseUserKey, ExternalDatabasePasswordKey}
	if withURI {
		required = append(required, ExternalDatabaseURIKey)
	}
	for _, k := range required {
		if len(data[k]) == 0 {
			why := ""
			if k == ExternalDatabaseURIKey {
				why = " (spec.protection dumps the database with it)"
			}
			return HelpDeskDatabaseConn{}, fmt.Errorf("the external database's Secret %s has no key %s%s: give it the keys of a CloudNativePG app Secret (host, port, dbname, username, password, uri)", secretName, k, why)
		}
	}
	c := HelpDeskDatabaseConn{
		Host: string(data[ExternalDatabaseHostKey]), Port: 5432,
		Name: string(data[ExternalDatabaseNameKey]), User: string(data[ExternalDatabaseUserKey]),
		Password: key(ExternalDatabasePasswordKey), AdminUser: key(ExternalDatabaseUserKey), AdminPassword: key(ExternalDatabasePasswordKey),
		BackupURI: key(ExternalDatabaseURIKey), External: true,
	}
	if !databaseHost.MatchString(c.Host) || len(c.Host) > 253 {
		return HelpDeskDatabaseConn{}, fmt.Errorf("the external database's Secret %s: key %s is not a lower-case DNS name or an IPv4 address", secretName, ExternalDatabaseHostKey)
	}
	if p := data[ExternalDatabasePortKey]; len(p) > 0 {
		port, err := strconv.Atoi(string(p))
		if err != nil || port < 1 || port > 65535 {
			return HelpDeskDatabaseConn{}, fmt.Errorf("the external database's Secret %s: key %s is not a port from 1 to 65535", secretName, ExternalDatabasePortKey)
		}
		c.Port = int32(port)
	}
	for _, v := range []struct{ key, value string }{{ExternalDatabaseNameKey, c.Name}, {ExternalDatabaseUserKey, c.User}} {
		if !plainSQLIdentifier.MatchString(v.value) {
			return HelpDeskDatabaseConn{}, fmt.Errorf("the external database's Secret %s: key %s is not a plain PostgreSQL name (lower-case letters, digits and _, starting with a letter or _, at most 63), which RT's set-up writes into SQL unquoted", secretName, v.key)
		}
	}
	return c, nil
}

// HelpDeskClaim is a volume of the help desk (the database's or the
// attachments'). It is not owned by the HelpDesk: deletionPolicy decides
// whether it outlives it.
func HelpDeskClaim(namespace, name, helpDesk, component string, size resource.Quantity, class *string, modes []corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: HelpDeskLabels(helpDesk, component)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      modes,
			StorageClassName: class,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
		},
	}
}

// HelpDeskDatabaseService is the managed database's Service.
func HelpDeskDatabaseService(namespace string, n HelpDeskNames) *corev1.Service {
	labels := HelpDeskLabels(n.HelpDesk, "database")
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: n.Database(), Namespace: namespace, Labels: labels},
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: "postgres", Port: 5432, TargetPort: intstr.FromString("postgres")}},
		},
	}
}

// HelpDeskDatabase is the managed PostgreSQL: a StatefulSet of one pod (a
// StatefulSet never runs two pods on the data at once, as a Deployment's
// rollout would) on the claim, restricted, its superuser's password from
// the credentials Secret.
func HelpDeskDatabase(namespace string, n HelpDeskNames, image string) *appsv1.StatefulSet {
	labels := HelpDeskLabels(n.HelpDesk, "database")
	security := RestrictedPodSecurity()
	security.RunAsUser, security.RunAsGroup, security.FSGroup = ptr.To[int64](postgresUID), ptr.To[int64](postgresUID), ptr.To[int64](postgresUID)
	spec := corev1.PodSpec{
		AutomountServiceAccountToken: ptr.To(false),
		EnableServiceLinks:           ptr.To(false),
		SecurityContext:              security,
		Containers: []corev1.Container{{
			Name:  "postgres",
			Image: image,
			Env: []corev1.EnvVar{
				{Name: "PGDATA", Value: postgresDir + "/pgdata"},
				{Name: "POSTGRES_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: ptr.To(n.AdminPassword())}},
			},
			Ports: []corev1.ContainerPort{{Name: "postgres", ContainerPort: 5432}},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"pg_isready", "-h", "127.0.0.1", "-U", HelpDeskAdminUser}}},
				// Every field, defaults included: a desired spec with
				// zeroes would differ from the stored one on every
				// reconcile and be written again.
				PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
			},
			VolumeMounts: []corev1.VolumeMount{
				{Name: "data", MountPath: postgresDir},
				{Name: "run", MountPath: "/var/run/postgresql"},
				{Name: "tmp", MountPath: "/tmp"},
			},
			SecurityContext: RestrictedContainerSecurity(),
		}},
		Volumes: []corev1.Volume{
			{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: n.DatabaseClaim()}}},
			boundedEmptyDir("run", 1<<20),
			boundedEmptyDir("tmp", 64<<20),
		},
	}
	setEphemeralStorage(&spec)
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: n.Database(), Namespace: namespace, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](1),
			ServiceName: n.Database(),
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template:    corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
}

// HelpDeskNetworkPolicies let a help desk's pods make only the connections
// a help desk needs: every pod of the help desk is denied all traffic
// (<hd>-deny-all), then RT's pods (web, mail gateway, schema, cron) may
// reach DNS and the database (<hd>-rt-egress), the database accepts only
// RT's pods and the backup pods of backupPolicy, when not empty
// (<hd>-db-ingress), RT's web port accepts only ingressFrom (default: pods
// of the help desk's own namespace; <hd>-web-ingress), and the mail
// gateway's port only pods of the namespace labelled LabelMailFetcher=<hd>
// (<hd>-mailgate-ingress). RT's pods that send mail (web, mail gateway,
// cron) may reach the SMTP relay, when there is one (<hd>-smtp-egress,
// which allows nothing without a relay: taking the relay away takes the
// way out with it). The teams' rights Jobs (RTRightsJob) are RT pods too.
// The operator's pods (operator, when not nil) also reach the web port:
// they keep the queues of the teams that use the help desk through REST2.
func HelpDeskNetworkPolicies(namespace string, n HelpDeskNames, ingressFrom []networkingv1.NetworkPolicyPeer, backupPolicy string, external, relay *EgressPeer, operator *networkingv1.NetworkPolicyPeer) []*networkingv1.NetworkPolicy {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	dns, pg, web, gateway := intstr.FromInt32(53), intstr.FromInt32(5432), intstr.FromInt32(RTWebPort), intstr.FromInt32(RTMailGatewayPort)
	both := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	component := func(components ...string) metav1.LabelSelector {
		return metav1.LabelSelector{
			MatchLabels:      map[string]string{LabelHelpDesk: n.HelpDesk},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app.kubernetes.io/component", Operator: metav1.LabelSelectorOpIn, Values: components}},
		}
	}
	rtPods := component("web", "mailgate", "schema", "cron", "rights")
	database := component("database")
	if len(ingressFrom) == 0 {
		ingressFrom = []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
	}
	if operator != nil {
		ingressFrom = append(slices.Clone(ingressFrom), *operator)
	}
	policy := func(suffix string, selector metav1.LabelSelector, types []networkingv1.PolicyType) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: n.HelpDesk + "-" + suffix, Namespace: namespace, Labels: HelpDeskLabels(n.HelpDesk, "network")},
			Spec:       networkingv1.NetworkPolicySpec{PodSelector: selector, PolicyTypes: types},
		}
	}
	denyAll := policy("deny-all", metav1.LabelSelector{MatchLabels: map[string]string{LabelHelpDesk: n.HelpDesk}}, both)
	egress := policy("rt-egress", rtPods, []networkingv1.PolicyType{networkingv1.PolicyTypeEgress})
	egress.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{
		{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}}},
		{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &database}}, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &pg}}},
	}
	if external != nil {
		egress.Spec.Egress[1] = external.EgressRule()
	}
	dbIngress := policy("db-ingress", database, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress})
	dbPeers := []networkingv1.NetworkPolicyPeer{{PodSelector: &rtPods}}
	if backupPolicy != "" {
		dbPeers = append(dbPeers, networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelBackupPolicy: backupPolicy}}})
	}
	dbIngress.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{
		{From: dbPeers, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &pg}}},
	}
	webIngress := policy("web-ingress", component("web"), []networkingv1.PolicyType{networkingv1.PolicyTypeIngress})
	webIngress.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{
		{From: ingressFrom, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &web}}},
	}
	mailIngress := policy("mailgate-ingress", component("mailgate"), []networkingv1.PolicyType{networkingv1.PolicyTypeIngress})
	fetchers := metav1.LabelSelector{MatchLabels: map[string]string{LabelMailFetcher: n.HelpDesk}}
	mailIngress.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{
		{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &fetchers}}, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &gateway}}},
	}
	smtp := policy("smtp-egress", component("web", "mailgate", "cron"), []networkingv1.PolicyType{networkingv1.PolicyTypeEgress})
	if relay != nil {
		smtp.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{relay.EgressRule()}
	}
	return []*networkingv1.NetworkPolicy{denyAll, egress, dbIngress, webIngress, mailIngress, smtp}
}

// HelpDeskBackupURIKey is the credentials Secret's key of the libpq URI
// the help desk's BackupPolicy dumps the database with.
const HelpDeskBackupURIKey = "backup-uri"

// HelpDeskBackupURI is the database administrator's libpq URI of the
// managed PostgreSQL (a superuser: pg_dump reads every table and sequence
// RT has, and the schema Job made them as that user).
func HelpDeskBackupURI(namespace string, n HelpDeskNames, adminPassword string) string {
	u := url.URL{Scheme: "postgresql", User: url.UserPassword(HelpDeskAdminUser, adminPassword),
		Host: n.Database() + "." + namespace + ".svc:5432", Path: "/", RawQuery: "sslmode=disable"}
	return u.String()
}

// HelpDeskBackupPolicy backs up the help desk's database and attachments'
// volume in one recovery set per run.
func HelpDeskBackupPolicy(namespace string, n HelpDeskNames, db HelpDeskDatabaseConn, p *opsv1alpha1.HelpDeskProtection, zone opsv1alpha1.TimeZone) *opsv1alpha1.BackupPolicy {
	return &opsv1alpha1.BackupPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: n.HelpDesk, Namespace: namespace, Labels: HelpDeskLabels(n.HelpDesk, "protection")},
		Spec: opsv1alpha1.BackupPolicySpec{
			Schedule: p.Schedule,
			TimeZone: zone,
			Sources: opsv1alpha1.BackupSources{
				Postgres: []opsv1alpha1.PostgresSource{{
					Name:                "database",
					ConnectionSecretRef: opsv1alpha1.SecretKeyRef{Name: db.BackupURI.Name, Key: db.BackupURI.Key},
					Databases:           []string{db.Name},
				}},
				Volumes: []opsv1alpha1.VolumeSource{{Name: "attachments", ClaimName: n.AttachmentsClaim()}},
			},
			Repository: p.Repository,
			Retention:  p.Retention,
			Objectives: p.Objectives,
		},
	}
}

// rtExternalFiles is the path, relative to the attachments' volume, of
// every attachment RT keeps as a file: RT's Disk storage fans the SHA-256
// key out as abc/def/<the rest>.
const rtExternalFiles = `SELECT substr(content, 1, 3) || '/' || substr(content, 4, 3) || '/' || substr(content, 7) FROM attachments WHERE contentencoding = 'external'`

// HelpDeskDrill restores the help desk's latest backup in a sandbox and
// checks it: RT's queues are there, the row counts of RT's main tables and
// the attachments' files equal the backup's manifest, every attachment
// the database keeps as a file has its file, and RT itself, started on the
// restored copy, shows the backup's queues and tickets and reads back
// attachments with their SHA-256 (the requestTracker check).
func HelpDeskDrill(namespace string, n HelpDeskNames, database string, d *opsv1alpha1.HelpDeskDrill, zone opsv1alpha1.TimeZone, postgresImage string) *opsv1alpha1.DRDrill {
	return &opsv1alpha1.DRDrill{
		ObjectMeta: metav1.ObjectMeta{Name: n.HelpDesk, Namespace: namespace, Labels: HelpDeskLabels(n.HelpDesk, "protection")},
		Spec: opsv1alpha1.DRDrillSpec{
			DrillProcedure: opsv1alpha1.DrillProcedure{
				BackupPolicyName: n.HelpDesk,
				Snapshot:         "latest",
				Sandbox:          opsv1alpha1.Sandbox{PostgresImage: postgresImage},
				Checks: []opsv1alpha1.DrillCheck{
					{Name: "queues", Database: database, SQL: "SELECT count(*) FROM queues", Expect: &opsv1alpha1.Expectation{Min: ptr.To[int64](1)}},
					{Name: "row-counts", CompareManifest: &opsv1alpha1.ManifestComparison{Tables: []string{"tickets", "transactions", "attachments", "users", "queues"}}},
					{Name: "attachment-files", Files: &opsv1alpha1.FilesCheck{Volume: "attachments", CompareManifest: true}},
					{Name: "attachments-referenced", Database: database, ReferencedFiles: &opsv1alpha1.ReferencedFilesCheck{Volume: "attachments", SQL: rtExternalFiles}},
					{Name: "request-tracker", Database: database, RequestTracker: &opsv1alpha1.RequestTrackerCheck{AttachmentsVolume: "attachments"}},
				},
				Objectives: d.Objectives,
				Evidence:   d.Evidence,
			},
			Schedule: d.Schedule,
			TimeZone: zone,
			// The CRD's defaults, written out: the fields are not omitted
			// when zero, so leaving them out would keep no failed run.
			HistoryLimit: opsv1alpha1.HistoryLimit{Passed: 12, Failed: 12},
		},
	}
}
