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
	"maps"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Request Tracker 5 (issue #20, HelpDesk): the objects a help desk owns,
// built from typed values. They run the image hack/images.sh builds as
// docker.io/supportstack/rt:5 (Debian's request-tracker5 and
// rt5-db-postgresql, uid 65532) under PodSecurity restricted with a
// read-only root file system: RT writes only Mason's cache
// (/var/cache/request-tracker5: RT does not start without it) and /tmp
// (multipart uploads fail without it), both emptyDirs here; sessions are
// in the database. The site configuration is a Secret mounted as
// /etc/request-tracker5/RT_SiteConfig.d/; it names the database password
// only as an environment variable (RTDatabasePasswordEnv), which the pods
// take from a Secret.
const (
	// RTWebPort is the port Starman listens on in the web container.
	RTWebPort = 8080
	// RTMailGatewayPort is the port Starman listens on in the mail
	// gateway's container: it serves RT's mail gateway and nothing else.
	RTMailGatewayPort = 8081
	// RTMailGatewayPath is RT's mail gateway (REST 1.0, no
	// authentication: whoever reaches it makes tickets and comments as
	// any sender), the path rt-mailgate posts messages to.
	RTMailGatewayPath = "/REST/1.0/NoAuth/mail-gateway"
	// RTDatabasePasswordEnv is the environment variable the site
	// configuration reads RT's database password from.
	RTDatabasePasswordEnv = "RT_DATABASE_PASSWORD"
	// RTSiteConfigFile is the file name of the rendered site configuration
	// in the configuration Secret (RT reads RT_SiteConfig.d/*.pm).
	RTSiteConfigFile = "50-supportstack.pm"

	// RTAttachmentsPath is where RT keeps attachments as files. Not under
	// /var/lib/request-tracker5, which Debian makes www-data's alone (0750):
	// RT runs as uid 65532 and could not reach it.
	RTAttachmentsPath = "/var/lib/rt-attachments"

	rtSiteConfigDir  = "/etc/request-tracker5/RT_SiteConfig.d"
	rtServer         = "/usr/share/request-tracker5/libexec/rt-server"
	rtSetupDatabase  = "/usr/sbin/rt-setup-database-5"
	rtRootPasswordIn = "/run/rt-root"
	// rtCacheBytes bounds Mason's compiled-component cache (192 KiB after
	// start-up and the first REST2 requests; it grows with each web page
	// first served) and rtTmpBytes /tmp (multipart request bodies, e.g.
	// uploaded attachments, are spooled there).
	rtCacheBytes = 256 << 20
	rtTmpBytes   = 256 << 20
)

// plainSQLIdentifier is what RT's set-up may write into SQL unquoted.
var plainSQLIdentifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// RTSite is the typed part of RT's site configuration.
type RTSite struct {
	// Name is RT's $rtname: the tag in e-mail subjects ([Name #123]).
	Name string
	// Organization is RT's $Organization, part of ticket links and
	// Message-IDs.
	Organization string
	// WebDomain is the host name users reach RT at ($WebDomain).
	WebDomain string
	// WebPort is the port users reach RT at ($WebPort; 0: RT's default, 80).
	WebPort int32
	// TimeZone is an IANA time zone name ($Timezone).
	TimeZone string

	DatabaseHost string
	DatabasePort int32 // 0: PostgreSQL's default
	DatabaseName string
	DatabaseUser string

	// Attachments, when set, keeps attachments as files under
	// RTAttachmentsPath (RT's ExternalStorage, type Disk), where the pods
	// mount RTObjects.AttachmentsClaim.
	Attachments bool
	// AttachmentsPath, when set, is where RT keeps the files instead of
	// RTAttachmentsPath (a test's RT on this machine).
	AttachmentsPath string
	// NoMail makes RT write every message it would send to a file under
	// /tmp (MailCommand testfile) instead: a drill's RT e-mails no one.
	NoMail bool
	// SMTPHost and SMTPPort, when set, are the relay RT sends mail through
	// over SMTP. NoMail wins over them.
	SMTPHost string
	SMTPPort int32
	// SMTPStartTLS switches each connection to TLS before anything is
	// sent, verifying the relay's certificate (against SMTPCAFile when
	// set); SMTPAuth logs in with the user and password of the
	// environment variables RTSMTPUsernameEnv and RTSMTPPasswordEnv, and
	// needs SMTPStartTLS.
	SMTPStartTLS bool
	SMTPCAFile   string
	SMTPAuth     bool
}

// The environment variables of RT's pods that send mail holding the
// relay's login (RTSite.SMTPAuth), and where its CA bundle is mounted.
const (
	RTSMTPUsernameEnv = "SUPPORTSTACK_SMTP_USERNAME"
	RTSMTPPasswordEnv = "SUPPORTSTACK_SMTP_PASSWORD"
	RTSMTPCAFile      = "/etc/supportstack/smtp-ca/ca.pem"
)

// PerlSingleQuoted is s as a Perl single-quoted string literal: inside
// '...' Perl interprets only \\ and \', so escaping those two leaves every
// other byte (", $, @, `, newlines, ");") literal data.
func PerlSingleQuoted(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// RTSiteConfig renders site as RT_SiteConfig Perl. Every user-supplied
// value is a single-quoted string literal (PerlSingleQuoted), so none can
// become code; the database password is read from the environment
// variable RTDatabasePasswordEnv at start-up and never written here. It
// refuses empty required values and control characters (which no name,
// domain or time zone has).
func RTSiteConfig(site RTSite) (string, error) {
	values := []struct{ key, value string }{
		{"rtname", site.Name},
		{"Organization", site.Organization},
		{"WebDomain", site.WebDomain},
		{"Timezone", site.TimeZone},
		{"DatabaseHost", site.DatabaseHost},
		{"DatabaseName", site.DatabaseName},
		{"DatabaseUser", site.DatabaseUser},
	}
	var b strings.Builder
	b.WriteString("# Rendered by SupportStack from typed values; every value is a Perl\n# single-quoted string. Do not edit: the operator rewrites it.\n")
	b.WriteString("Set($DatabaseType, 'Pg');\n")
	for _, v := range values {
		if v.value == "" {
			return "", fmt.Errorf("RT site configuration: $%s is empty", v.key)
		}
		if i := strings.IndexFunc(v.value, unicode.IsControl); i >= 0 {
			return "", fmt.Errorf("RT site configuration: $%s has a control character at byte %d", v.key, i)
		}
		fmt.Fprintf(&b, "Set($%s, %s);\n", v.key, PerlSingleQuoted(v.value))
	}
	// RT's set-up writes the database and user names into SQL unquoted
	// (rt-setup-database's acl step, as the database administrator):
	// only plain PostgreSQL identifiers may reach it.
	for _, v := range []struct{ key, value string }{{"DatabaseName", site.DatabaseName}, {"DatabaseUser", site.DatabaseUser}} {
		if !plainSQLIdentifier.MatchString(v.value) {
			return "", fmt.Errorf("RT site configuration: $%s %q is not a plain PostgreSQL identifier (lower-case letters, digits and _, starting with a letter or _, at most 63)", v.key, v.value)
		}
	}
	if site.WebPort < 0 || site.DatabasePort < 0 {
		return "", fmt.Errorf("RT site configuration: negative port")
	}
	if site.WebPort != 0 {
		fmt.Fprintf(&b, "Set($WebPort, %d);\n", site.WebPort)
	}
	if site.DatabasePort != 0 {
		fmt.Fprintf(&b, "Set($DatabasePort, %d);\n", site.DatabasePort)
	}
	if site.Attachments {
		path := RTAttachmentsPath
		if site.AttachmentsPath != "" {
			path = site.AttachmentsPath
		}
		fmt.Fprintf(&b, "Set(%%ExternalStorage, Type => 'Disk', Path => %s);\n", PerlSingleQuoted(path))
	}
	if err := rtMailCommand(&b, site); err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "Set($DatabasePassword, $ENV{%s});\n1;\n", PerlSingleQuoted(RTDatabasePasswordEnv))
	return b.String(), nil
}

// rtMailCommand writes RT's $MailCommand for site: to a file (NoMail), to
// the SMTP relay, or nothing (RT's default, which the image cannot carry
// out).
func rtMailCommand(b *strings.Builder, site RTSite) error {
	switch {
	case site.NoMail:
		b.WriteString("Set($MailCommand, 'testfile');\n")
	case site.SMTPHost != "":
		if i := strings.IndexFunc(site.SMTPHost, unicode.IsControl); i >= 0 || site.SMTPPort <= 0 {
			return fmt.Errorf("RT site configuration: the SMTP relay %q port %d is not a host and port", site.SMTPHost, site.SMTPPort)
		}
		if site.SMTPAuth && !site.SMTPStartTLS {
			return fmt.Errorf("RT site configuration: a login to the SMTP relay needs STARTTLS: the password would travel in the clear")
		}
		if i := strings.IndexFunc(site.SMTPCAFile, unicode.IsControl); i >= 0 {
			return fmt.Errorf("RT site configuration: the SMTP relay's CA file has a control character at byte %d", i)
		}
		// RT's MailCommand knows sendmail, qmail and files, not SMTP (it
		// falls back to sendmailpipe, which the image lacks), but takes
		// code: hand the message to the relay with Mail::Mailer's smtp,
		// which does STARTTLS (IO::Socket::SSL, verifying the certificate
		// for the host) before it logs in (Authen::SASL).
		options := fmt.Sprintf("Server => %s, Port => %d", PerlSingleQuoted(site.SMTPHost), site.SMTPPort)
		if site.SMTPStartTLS {
			options += ", StartTLS => 1, SSL_verify_mode => 1"
			if site.SMTPCAFile != "" {
				options += ", SSL_ca_file => " + PerlSingleQuoted(site.SMTPCAFile)
			}
		}
		if site.SMTPAuth {
			options += fmt.Sprintf(", Auth => [$ENV{%s}, $ENV{%s}]", PerlSingleQuoted(RTSMTPUsernameEnv), PerlSingleQuoted(RTSMTPPasswordEnv))
		}
		relay := PerlSingleQuoted(fmt.Sprintf("%s:%d", site.SMTPHost, site.SMTPPort))
		fmt.Fprintf(b, "Set($MailCommand, sub {\n"+
			"    my $ok = eval { $_[0]->send('smtp', %s) };\n"+
			"    RT->Logger->crit('could not hand a message to the SMTP relay ' . %s . ': ' . ($@ || 'it refused')) unless $ok;\n"+
			"    return $ok ? 1 : 0;\n});\n", options, relay)
	}
	return nil
}

// rtAdminEnv is how the schema and upgrade Jobs connect as db's
// administrator (rt-setup-database reads RT_DBA_USER and RT_DBA_PASSWORD).
func rtAdminEnv(db HelpDeskDatabaseConn) []corev1.EnvVar {
	env := []corev1.EnvVar{
		{Name: "RT_DBA_USER", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: db.AdminUser.DeepCopy()}},
		{Name: "RT_DBA_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: db.AdminPassword.DeepCopy()}},
	}
	if db.External {
		env = append(env, corev1.EnvVar{Name: RTExternalDatabaseEnv, Value: "1"})
	}
	return env
}

// RTObjects names what the RT pods run and read: the image, the Secret
// whose keys are RT_SiteConfig.d files (RTSiteConfigFile), and the Secret
// key of RT's own (non-superuser) database password.
type RTObjects struct {
	Name      string
	Namespace string
	// Labels go on the object and its pods; the web Deployment and
	// Service select on exactly these, so they must be unique to the
	// object: give the schema Job other labels than the web's (a
	// component label), or the Service would send requests to its pod.
	Labels       map[string]string
	Image        string
	ConfigSecret string
	// DatabasePassword is RT's database password ($DatabaseUser's).
	DatabasePassword corev1.SecretKeySelector
	// AttachmentsClaim, when set, is mounted at RTAttachmentsPath.
	AttachmentsClaim string
	// SMTP, when set, is what a pod that sends mail needs of the relay's
	// Secrets.
	SMTP *RTSMTPSecrets
	// AttachmentsReadWriteMany says the attachments' claim may be mounted
	// on several nodes at once; otherwise the pods that mount it are kept
	// on one node (LabelAttachments).
	AttachmentsReadWriteMany bool
}

func (o RTObjects) labels() map[string]string { return maps.Clone(o.Labels) }

// RTSMTPSecrets are the Secrets of the SMTP relay's login and CA.
type RTSMTPSecrets struct {
	// Credentials, when set, names the Secret with the keys username and
	// password, given to RT as RTSMTPUsernameEnv and RTSMTPPasswordEnv.
	Credentials string
	// CA, when set, is the Secret key of the PEM bundle, mounted at
	// RTSMTPCAFile.
	CA *corev1.SecretKeySelector
}

// addTo gives the pod's first container the relay's login and CA.
func (m *RTSMTPSecrets) addTo(spec *corev1.PodSpec) {
	c := &spec.Containers[0]
	if m.Credentials != "" {
		for _, e := range [][2]string{{RTSMTPUsernameEnv, "username"}, {RTSMTPPasswordEnv, "password"}} {
			c.Env = append(c.Env, corev1.EnvVar{Name: e[0], ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: m.Credentials}, Key: e[1]}}})
		}
	}
	if m.CA != nil {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "smtp-ca", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName:  m.CA.Name,
			Items:       []corev1.KeyToPath{{Key: m.CA.Key, Path: filepath.Base(RTSMTPCAFile)}},
			DefaultMode: ptr.To[int32](0o444),
		}}})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "smtp-ca", MountPath: filepath.Dir(RTSMTPCAFile), ReadOnly: true})
	}
}

// LabelAttachments on a pod (value: the HelpDesk's name) says it mounts the
// help desk's attachments' claim. A ReadWriteOnce claim is mounted on one
// node at a time, so each such pod prefers, with the greatest weight, a
// node that runs another one: a web pod or the externalizing job
// scheduled elsewhere would wait for the volume. Preferred, not required:
// when that node is lost, its pods stay Terminating until someone deletes
// them, and a required term would keep every new pod Pending with them;
// preferred, they start elsewhere once the volume is released.
const LabelAttachments = "ops.supportstack.io/attachments"

// podLabels are the labels of o's pods: o.Labels, and LabelAttachments
// when they mount the attachments' claim. (Only the pods': a Deployment's
// selector cannot change.)
func (o RTObjects) podLabels() map[string]string {
	l := o.labels()
	if o.AttachmentsClaim != "" {
		l[LabelAttachments] = o.Labels[LabelHelpDesk]
	}
	return l
}

// rtPodSpec is what every RT pod has: restricted security as uid 65532,
// no service account token, the site configuration mounted read-only,
// emptyDirs for what RT writes, the database password in the environment.
func (o RTObjects) rtPodSpec(container corev1.Container) corev1.PodSpec {
	container.Image = o.Image
	container.SecurityContext = RestrictedContainerSecurity()
	container.Env = append([]corev1.EnvVar{{Name: RTDatabasePasswordEnv, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: o.DatabasePassword.DeepCopy()}}}, container.Env...)
	container.VolumeMounts = append([]corev1.VolumeMount{
		{Name: "site-config", MountPath: rtSiteConfigDir, ReadOnly: true},
		{Name: "cache", MountPath: "/var/cache/request-tracker5"},
		{Name: "tmp", MountPath: "/tmp"},
	}, container.VolumeMounts...)
	spec := corev1.PodSpec{
		AutomountServiceAccountToken: ptr.To(false),
		EnableServiceLinks:           ptr.To(false),
		SecurityContext:              RestrictedPodSecurity(),
		Volumes: []corev1.Volume{
			{Name: "site-config", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: o.ConfigSecret, DefaultMode: ptr.To[int32](0o440)}}},
			boundedEmptyDir("cache", rtCacheBytes),
			boundedEmptyDir("tmp", rtTmpBytes),
		},
		Containers: []corev1.Container{container},
	}
	if o.SMTP != nil {
		o.SMTP.addTo(&spec)
	}
	if o.AttachmentsClaim != "" {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "attachments", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: o.AttachmentsClaim}}})
		spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "attachments", MountPath: RTAttachmentsPath})
		if !o.AttachmentsReadWriteMany {
			spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
					Weight: 100,
					PodAffinityTerm: corev1.PodAffinityTerm{
						LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelAttachments: o.Labels[LabelHelpDesk]}},
						TopologyKey:   corev1.LabelHostname,
					},
				}},
			}}
		}
	}
	return spec
}

// RTAwaitDatabasePatience is about how long AwaitDatabase waits for the
// database to accept a connection (the script's clock counts whole
// seconds, and a try under way may take 5 s more).
const RTAwaitDatabasePatience = 30 * time.Second

// RTAwaitDatabaseScript (Perl, arguments: host, port, patience in seconds,
// then the command) waits until a TCP connection to host:port succeeds, at
// most the patience, then runs the command in its place. A pod's
// NetworkPolicies reach the database's node a moment after the pod starts
// (kube-router adds its address to the database's allowed sources when it
// next syncs), so a command that connects at once may be refused and its
// pod fail: the Job then runs it again in a new pod, and the failed pod
// stays behind. Once the patience is spent the command runs anyway and
// says itself why it cannot connect. The probe sends nothing: PostgreSQL
// logs nothing for a connection closed before its startup packet.
const RTAwaitDatabaseScript = `use strict; use warnings; use IO::Socket::IP;
my ($host, $port, $patience) = splice @ARGV, 0, 3;
my $until = time + $patience;
while (1) {
    my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Timeout => 5);
    if ($s) { close $s; last }
    if (time >= $until) { print STDERR "the database at $host:$port accepted no connection in $patience s ($@); running $ARGV[0] anyway\n"; last }
    sleep 1;
}
exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n";
`

// AwaitDatabase returns command wrapped so that it runs once db's server
// accepts a connection (RTAwaitDatabaseScript): for the HelpDesk's
// one-shot RT pods (its CronJobs, schema and upgrade Jobs), which connect
// at once. A team's rights Job (RTRightsJob) does not wait yet: its
// builder has no database address, and its Job runs a refused pod again
// (backoff limit 2).
func AwaitDatabase(db HelpDeskDatabaseConn, command ...string) []string {
	return append([]string{"/usr/bin/perl", "-e", RTAwaitDatabaseScript, "--",
		db.Host, strconv.Itoa(int(db.Port)), strconv.Itoa(int(RTAwaitDatabasePatience / time.Second))}, command...)
}

// RTCronJob runs one of RT's periodic commands on schedule (in timeZone),
// never twice at once, as the web pods run (site configuration, database
// password, attachments).
func RTCronJob(o RTObjects, schedule, timeZone string, command ...string) *batchv1.CronJob {
	spec := o.rtPodSpec(corev1.Container{Name: "rt", Command: command})
	spec.RestartPolicy = corev1.RestartPolicyNever
	setEphemeralStorage(&spec)
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: o.labels()},
		Spec: batchv1.CronJobSpec{
			Schedule:                   schedule,
			TimeZone:                   ptr.To(timeZone),
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			SuccessfulJobsHistoryLimit: ptr.To[int32](1),
			FailedJobsHistoryLimit:     ptr.To[int32](3),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: o.labels()},
				Spec: batchv1.JobSpec{
					BackoffLimit: ptr.To[int32](2),
					Template:     corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: o.podLabels()}, Spec: spec},
				},
			},
		},
	}
}

// rtServerRoleEnv tells RTServerScript which paths its port answers.
const rtServerRoleEnv = "SUPPORTSTACK_RT_ROLE"

// RTServerScript serves RT's PSGI application, as rt-server builds it
// (rt-server returns the application instead of serving it when it is
// loaded by another script), behind one gate that decides which paths a
// port answers. The web role (the default) answers every path but RT's
// mail gateway: any path or raw request URI that names mail-gateway, in
// any case or percent-encoding of its hyphen, is refused with 403, so the
// public web port never creates tickets for anonymous senders. The
// mail-gateway role answers RTMailGatewayPath alone (repeated slashes
// folded, an optional trailing slash; \z, not $, which would let a
// trailing newline through to RT's REST 1.0 dhandler) and 404 for
// everything else, and hands RT that exact path, so a mail fetcher reaches
// no login page, REST API or attachment through it.
//
// The sandbox role is a drill's (RTSandboxContainer): it listens on
// 127.0.0.1 alone, whatever its arguments say, so only the agent beside it
// in the verify pod connects; it answers REST2 (/REST/2.0/) and nothing
// else, reads only (GET and HEAD; anything else is 405), and every request
// is RT's system user without credentials: the drill knows no RT password,
// and RT reaches the restored database as the read-only checker role.
const RTServerScript = `use strict; use warnings;
my $role = $ENV{` + rtServerRoleEnv + `} || "web";
my $rt = do "` + rtServer + `";
die "rt-server did not return RT's application: ", ($@ || $! || "no code"), "\n" unless ref $rt eq "CODE";
if ($role eq "sandbox") {
    require RT::REST2::Middleware::Auth;
    no warnings "once";
    *RT::REST2::Middleware::Auth::login_as_system_user = sub { RT->SystemUser };
    @RT::REST2::Middleware::Auth::auth_priority = ("login_as_system_user");
    push @ARGV, "--host", "127.0.0.1";
}
my $gateway = qr{\A/REST/1\.0/NoAuth/mail-gateway/?\z};
my $app = sub {
    my $env = shift;
    my $path = $env->{PATH_INFO} // "";
    my $raw = $env->{REQUEST_URI} // "";
    (my $folded = $path) =~ s{/+}{/}g;
    my $refuse = $role eq "mail-gateway" ? ($folded !~ $gateway && 404)
        : $role eq "sandbox" ? (($folded !~ m{\A/REST/2\.0/} && 404) || (($env->{REQUEST_METHOD} // "") !~ /\A(?:GET|HEAD)\z/ && 405))
        : (($path =~ /mail-gateway/i || $raw =~ /mail(?:-|%2d)gateway/i) && 403);
    return [$refuse, ["Content-Type" => "text/plain"], [$refuse == 403 ? "RT's mail gateway is not served on this port\n" : $refuse == 405 ? "read only\n" : "not found\n"]] if $refuse;
    $env->{PATH_INFO} = "` + RTMailGatewayPath + `" if $role eq "mail-gateway";
    return $rt->($env, @_);
};
require RT::PlackRunner;
my $runner = RT::PlackRunner->new(server => "Starman", env => "deployment", app => $app);
$runner->parse_options(@ARGV);
$SIG{PIPE} = "IGNORE";
$runner->run;
`

// rtServerContainer runs RTServerScript with Starman (a preforking
// production server; not RT's development server) on port, workers
// processes, in role.
func rtServerContainer(role string, port, workers int32, probe corev1.ProbeHandler) corev1.Container {
	return corev1.Container{
		Name:    "rt",
		Command: []string{"/usr/bin/perl", "-e", RTServerScript, "--"},
		Args:    []string{"--port", fmt.Sprint(port), "--workers", fmt.Sprint(workers)},
		Env:     []corev1.EnvVar{{Name: rtServerRoleEnv, Value: role}},
		Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: port}},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:     probe,
			PeriodSeconds:    5,
			TimeoutSeconds:   5,
			FailureThreshold: 3,
			// The API server's default, written out: a derived spec that
			// leaves it 0 differs from the stored one on every reconcile.
			SuccessThreshold: 1,
		},
	}
}

// RTWebDeployment serves RT's web interface and REST APIs (RTServerScript,
// web role: never the mail gateway) on RTWebPort, workers processes per
// pod. Ready when RT answers its login page.
func RTWebDeployment(o RTObjects, replicas, workers int32) *appsv1.Deployment {
	return rtServerDeployment(o, replicas, rtServerContainer("web", RTWebPort, workers,
		corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}}))
}

// RTMailGatewayDeployment serves RT's mail gateway alone (RTServerScript,
// mail-gateway role) on RTMailGatewayPort, for the pods labelled as the
// help desk's mail fetchers (HelpDeskNetworkPolicies). Ready when Starman
// listens, which it does once RT has started. It never mounts the
// attachments' claim (o.AttachmentsClaim is ignored): RT writes new
// attachments to the database and only rt-externalize-attachments moves
// them to files, so the gateway needs none, and a ReadWriteOnce volume
// mounted here could pin it to another node than the web's and never
// attach. A small empty emptyDir stands at RTAttachmentsPath because RT's
// Disk storage does not start on a missing path.
func RTMailGatewayDeployment(o RTObjects, replicas int32) *appsv1.Deployment {
	o.AttachmentsClaim = ""
	d := rtServerDeployment(o, replicas, rtServerContainer("mail-gateway", RTMailGatewayPort, 2,
		corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}}))
	spec := &d.Spec.Template.Spec
	spec.Volumes = append(spec.Volumes, boundedEmptyDir("attachments", 1<<20))
	spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "attachments", MountPath: RTAttachmentsPath})
	setEphemeralStorage(spec)
	return d
}

func rtServerDeployment(o RTObjects, replicas int32, container corev1.Container) *appsv1.Deployment {
	spec := o.rtPodSpec(container)
	setEphemeralStorage(&spec)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: o.labels()},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: o.labels()},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: o.podLabels()}, Spec: spec},
		},
	}
}

// RTService is the Service of RT's web or mail gateway Deployment (o
// names either): port 80 to Starman.
func RTService(o RTObjects) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: o.labels()},
		Spec: corev1.ServiceSpec{
			Selector: o.labels(),
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
		},
	}
}

// RTExternalDatabaseEnv is set in the schema Job when RT's database is on a
// server the operator does not run (RTSchemaScript).
const RTExternalDatabaseEnv = "SUPPORTSTACK_EXTERNAL_DATABASE"

// RTSchemaScript is the schema Job's shell script. rt-setup-database's
// init is not re-runnable: its create step fails on an existing database
// ("Failed to create database") and, with --skip-create, its schema step
// on existing tables. So the script first asks the server, as the database
// administrator, what is there:
//
//   - no database: init (create, schema, acl, coredata, insert with the
//     root password);
//   - the database without tables (made by someone else, e.g. POSTGRES_DB
//     or a CloudNativePG bootstrap): the same steps without create;
//   - RT's schema with its root user: nothing but acl again (RT's role and
//     grants; acl creates the role only when missing), so a second run
//     changes no data;
//   - tables but no root user: a set-up that stopped half-way; the Job
//     fails and says so rather than guess.
//
// With an external database (RTExternalDatabaseEnv set) the administrator
// is RT's own role: the script connects straight to RT's database (which
// the server's owner made: it never creates one there) and fails when
// that role is a superuser, which would give every RT pod every right on
// someone else's server.
//
// Every run that succeeds then keeps RT's service user for the operator
// (RTOperatorUserPerl) and records the schema's RT version when the
// database has none yet (RTSchemaVersionPerl).
var RTSchemaScript = `set -eu
state="$(perl -e '
use strict; use warnings;
use lib "/usr/share/request-tracker5/lib";
use RT; RT->LoadConfig(); require RT::Handle; use DBI;
my %o = (RaiseError => 1, PrintError => 0, AutoCommit => 1);
if ($ENV{` + RTExternalDatabaseEnv + `}) {
    my $ext = DBI->connect(RT::Handle->DSN, $ENV{RT_DBA_USER}, $ENV{RT_DBA_PASSWORD}, {%o, RaiseError => 0, PrintError => 1});
    if (!$ext) { print "unreachable"; exit 0 }
    my ($super) = $ext->selectrow_array("SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
    if ($super) { print "superuser"; exit 0 }
    $ext->disconnect;
} else {
    my $sys = DBI->connect(RT::Handle->SystemDSN, $ENV{RT_DBA_USER}, $ENV{RT_DBA_PASSWORD}, \%o);
    my ($db) = $sys->selectrow_array("SELECT 1 FROM pg_database WHERE datname = ?", undef, RT->Config->Get("DatabaseName"));
    $sys->disconnect;
    if (!$db) { print "none"; exit 0 }
}
my $dbh = DBI->connect(RT::Handle->DSN, $ENV{RT_DBA_USER}, $ENV{RT_DBA_PASSWORD}, \%o);
my ($tables) = $dbh->selectrow_array("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()");
if (!$tables) { print "empty"; exit 0 }
my ($users) = $dbh->selectrow_array("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?", undef, "users");
my ($root) = $users ? $dbh->selectrow_array("SELECT count(*) FROM users WHERE name = ?", undef, "root") : (0);
print $root ? "initialised" : "partial";
')"
setup=` + rtSetupDatabase + `
root="--root-password-file=` + rtRootPasswordIn + `/password"
case "$state" in
none)
  echo "rt-schema: no database yet: rt-setup-database --action init"
  $setup --action init "$root" ;;
empty)
  echo "rt-schema: the database exists without tables: schema, acl, coredata, insert"
  $setup --action schema,acl,coredata
  $setup --action insert --datafile=/usr/share/request-tracker5/etc/initialdata "$root" ;;
initialised)
  echo "rt-schema: RT's schema and root user are there already: acl only (role and grants)"
  $setup --action acl ;;
unreachable)
  echo "rt-schema: cannot connect to the external database (above: the server's answer): check the host, port, dbname, username and password of its Secret, and that the database exists (its owner makes it: the operator creates none on an external server)" >&2
  exit 1 ;;
superuser)
  echo "rt-schema: the external database's role is a superuser: RT's pods would run with every right on that server; give the HelpDesk a role that owns RT's database and no more (a CloudNativePG cluster's app Secret)" >&2
  exit 1 ;;
*)
  echo "rt-schema: the database has tables but no RT root user: a set-up stopped half-way; drop the database or finish it by hand" >&2
  exit 1 ;;
esac
` + RTOperatorPasswordFileEnv + `=` + rtOperatorPasswordIn + `/password perl -e '` + RTOperatorUserPerl + `'
perl -e '` + RTSchemaVersionPerl + `'
echo "rt-schema: done"
`

// RTSchemaJob sets up RT's database with RTSchemaScript: the database
// administrator's name and password (db.AdminUser, db.AdminPassword: for
// the managed database a superuser, for an external one RT's own role,
// which owns the database), RT's root password (rootPassword) and the
// password of the operator's RT user (operatorPassword), both mounted as
// files, come from Secrets. It may run again on a set-up database: it
// then changes nothing but RT's role and grants. RT's acl step writes RT's
// database password into SQL unescaped when it creates RT's role (never
// on an external server, where the role exists): that password must be
// letters and digits only (the operator generates it so).
func RTSchemaJob(o RTObjects, db HelpDeskDatabaseConn, rootPassword, operatorPassword corev1.SecretKeySelector) *batchv1.Job {
	spec := o.rtPodSpec(corev1.Container{
		Name:    "schema",
		Command: AwaitDatabase(db, "/bin/sh", "-c", RTSchemaScript),
		Env:     rtAdminEnv(db),
		VolumeMounts: []corev1.VolumeMount{
			{Name: "root-password", MountPath: rtRootPasswordIn, ReadOnly: true},
			{Name: "operator-password", MountPath: rtOperatorPasswordIn, ReadOnly: true},
		},
	})
	spec.RestartPolicy = corev1.RestartPolicyNever
	for _, v := range []struct {
		name string
		key  corev1.SecretKeySelector
	}{{"root-password", rootPassword}, {"operator-password", operatorPassword}} {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: v.name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName:  v.key.Name,
			Items:       []corev1.KeyToPath{{Key: v.key.Key, Path: "password"}},
			DefaultMode: ptr.To[int32](0o440),
		}}})
	}
	setEphemeralStorage(&spec)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: o.labels()},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](2),
			Template:     corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: o.labels()}, Spec: spec},
		},
	}
}
