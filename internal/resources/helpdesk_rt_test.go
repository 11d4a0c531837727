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
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// perlSiteValues runs config as Perl the way RT reads RT_SiteConfig.d
// files (RT's Set is called with the variable and its value) and returns
// what each Set received, and everything the file printed: a value that
// escaped its string literal and ran would print or die here.
func perlSiteValues(t *testing.T, config string, env map[string]string) (map[string]string, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "50-site.pm")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	// Set's prototype is RT::Config's: a reference to the variable, then
	// the value. The values are printed as JSON after a marker, so that
	// anything else printed shows.
	harness := `use strict; use warnings; use JSON::PP;
my %got;
sub Set(\[$@%]@) {
  my ($ref, $value) = @_;
  no strict 'refs';
  my ($name) = grep { \${"main::$_"} == $ref } keys %main::;
  die "Set of an unknown variable" unless defined $name;
  $got{$name} = "$value";
}
my $file = shift;
my $ok = do $file;
die "loading $file: " . ($@ || $! || "returned false") unless $ok;
print "\n--values--\n", JSON::PP->new->canonical->encode(\%got);`
	cmd := exec.Command("perl", "-e", harness, file)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("perl: %v\n%s\nconfig:\n%s", err, out, config)
	}
	before, after, found := strings.Cut(string(out), "\n--values--\n")
	if !found {
		t.Fatalf("perl printed no values:\n%s", out)
	}
	got := map[string]string{}
	if err := json.Unmarshal([]byte(after), &got); err != nil {
		t.Fatalf("%v: %s", err, after)
	}
	return got, before
}

// The table of values a site configuration must carry through as data:
// Perl's string delimiters and escapes, interpolation sigils, and a value
// that would close its literal and call print if it were not escaped.
var perlHostileValues = []struct{ name, value string }{
	{"plain", "Support"},
	{"single quote", "O'Brien & Sons"},
	{"backslash", `C:\support\`},
	{"backslash before quote", `a\'b`},
	{"breakout", `x'); print('x'); Set($rtname, 'owned`},
	{"breakout with backslash", `x\'); print('x'); #`},
	{"interpolation", `$ENV{HOME} @INC ${\ print('x')} "q"`},
	{"backticks", "`id`; system('id')"},
	{"unicode", "Société Générale — 支持"},
}

func TestPerlSingleQuoted(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Support", `'Support'`},
		{"O'Brien", `'O\'Brien'`},
		{`a\b`, `'a\\b'`},
		{`end\`, `'end\\'`},
		{`'); print('x'); #`, `'\'); print(\'x\'); #'`},
		{"", `''`},
	} {
		if got := PerlSingleQuoted(tc.in); got != tc.want {
			t.Errorf("PerlSingleQuoted(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestRTSiteConfigValuesStayData(t *testing.T) {
	for _, tc := range perlHostileValues {
		t.Run(tc.name, func(t *testing.T) {
			// The database and user names are plain identifiers
			// (TestRTSiteConfigRefuses); every other value is free text.
			site := RTSite{
				Name: tc.value, Organization: tc.value, WebDomain: tc.value, TimeZone: tc.value,
				WebPort: 443, DatabaseHost: tc.value, DatabasePort: 5432, DatabaseName: "rt5", DatabaseUser: "rt_user",
			}
			config, err := RTSiteConfig(site)
			if err != nil {
				t.Fatal(err)
			}
			got, printed := perlSiteValues(t, config, map[string]string{RTDatabasePasswordEnv: "s3cret'\\"})
			if printed != "" {
				t.Errorf("loading the configuration printed %q: a value ran as code\n%s", printed, config)
			}
			want := map[string]string{
				"DatabaseType": "Pg", "rtname": tc.value, "Organization": tc.value, "WebDomain": tc.value, "Timezone": tc.value,
				"DatabaseHost": tc.value, "DatabaseName": "rt5", "DatabaseUser": "rt_user",
				"WebPort": "443", "DatabasePort": "5432", "DatabasePassword": "s3cret'\\",
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("$%s = %q, want %q\n%s", k, got[k], v, config)
				}
			}
			if len(got) != len(want) {
				t.Errorf("the configuration set %d variables, want %d: %v", len(got), len(want), got)
			}
		})
	}
}

func TestRTSiteConfigHoldsNoPassword(t *testing.T) {
	config, err := RTSiteConfig(RTSite{Name: "rt", Organization: "example.com", WebDomain: "rt.example.com", TimeZone: "UTC",
		DatabaseHost: "db", DatabaseName: "rt5", DatabaseUser: "rt_user"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(config, "Set($DatabasePassword, $ENV{'"+RTDatabasePasswordEnv+"'});\n") {
		t.Errorf("the database password is not read from $ENV{%s}:\n%s", RTDatabasePasswordEnv, config)
	}
	if strings.Contains(config, "WebPort") || strings.Contains(config, "DatabasePort") {
		t.Errorf("zero ports are written, want RT's defaults:\n%s", config)
	}
	got, _ := perlSiteValues(t, config, map[string]string{RTDatabasePasswordEnv: "from-the-environment"})
	if got["DatabasePassword"] != "from-the-environment" {
		t.Errorf("$DatabasePassword = %q, want the environment's", got["DatabasePassword"])
	}
}

func TestRTSiteConfigRefuses(t *testing.T) {
	ok := RTSite{Name: "rt", Organization: "example.com", WebDomain: "rt.example.com", TimeZone: "UTC",
		DatabaseHost: "db", DatabaseName: "rt5", DatabaseUser: "rt_user"}
	for _, tc := range []struct {
		name   string
		change func(*RTSite)
		want   string
	}{
		{"empty name", func(s *RTSite) { s.Name = "" }, "$rtname is empty"},
		{"empty time zone", func(s *RTSite) { s.TimeZone = "" }, "$Timezone is empty"},
		{"newline", func(s *RTSite) { s.Organization = "a\nSet($x, 1);" }, "$Organization has a control character at byte 1"},
		{"NUL", func(s *RTSite) { s.WebDomain = "rt\x00" }, "$WebDomain has a control character"},
		{"negative port", func(s *RTSite) { s.DatabasePort = -1 }, "negative port"},
		// RT's set-up writes these into SQL unquoted, as the administrator.
		{"a quote in the database user", func(s *RTSite) { s.DatabaseUser = `rt"; DROP ROLE postgres; --` }, "$DatabaseUser"},
		{"a quote in the database name", func(s *RTSite) { s.DatabaseName = "rt'5" }, "$DatabaseName"},
		{"an upper-case user", func(s *RTSite) { s.DatabaseUser = "RT" }, "not a plain PostgreSQL identifier"},
		{"a 64-byte name", func(s *RTSite) { s.DatabaseName = strings.Repeat("r", 64) }, "$DatabaseName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := ok
			tc.change(&site)
			_, err := RTSiteConfig(site)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := RTSiteConfig(ok); err != nil {
		t.Errorf("a valid site: %v", err)
	}
}

func testRTObjects() RTObjects {
	return RTObjects{
		Name: "rt-web", Namespace: "desk", Labels: map[string]string{"app": "rt", "desk": "one"},
		Image: "docker.io/supportstack/rt:5", ConfigSecret: "rt-site",
		DatabasePassword: corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "rt-db"}, Key: "password"},
	}
}

func secretRef(name, key string) corev1.SecretKeySelector {
	return corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}

// checkRestrictedRTPod asserts what PodSecurity restricted and a read-only
// root need of an RT pod, and that its secrets come only from Secrets.
func checkRestrictedRTPod(t *testing.T, spec corev1.PodSpec) {
	t.Helper()
	ps := spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser != 65532 ||
		ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v: want runAsNonRoot, uid 65532, seccomp RuntimeDefault", ps)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("the service account token is mounted")
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	cs := c.SecurityContext
	if cs == nil || cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation ||
		cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem ||
		cs.Capabilities == nil || len(cs.Capabilities.Drop) != 1 || cs.Capabilities.Drop[0] != "ALL" || len(cs.Capabilities.Add) != 0 ||
		cs.Privileged != nil && *cs.Privileged {
		t.Errorf("container security context %+v: want no privilege escalation, read-only root, drop ALL", cs)
	}
	if c.Image != "docker.io/supportstack/rt:5" {
		t.Errorf("image %q", c.Image)
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	// What RT writes, each on an emptyDir with a size limit.
	for _, path := range []string{"/var/cache/request-tracker5", "/tmp"} {
		m, ok := mounts[path]
		if !ok {
			t.Errorf("%s is not mounted: RT cannot write it on a read-only root", path)
			continue
		}
		if v := volumes[m.Name]; v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil || m.ReadOnly {
			t.Errorf("%s is on %+v, want a writable emptyDir with a size limit", path, v.VolumeSource)
		}
	}
	m, ok := mounts["/etc/request-tracker5/RT_SiteConfig.d"]
	if !ok || !m.ReadOnly || volumes[m.Name].Secret == nil || volumes[m.Name].Secret.SecretName != "rt-site" {
		t.Errorf("the site configuration mount %+v (%+v): want Secret rt-site, read-only", m, volumes[m.Name].VolumeSource)
	}
	var password *corev1.EnvVar
	for i, e := range c.Env {
		if e.Value != "" && strings.Contains(strings.ToLower(e.Name), "password") {
			t.Errorf("environment variable %s has a literal value", e.Name)
		}
		if e.Name == RTDatabasePasswordEnv {
			password = &c.Env[i]
		}
	}
	if password == nil || password.ValueFrom == nil || password.ValueFrom.SecretKeyRef == nil ||
		password.ValueFrom.SecretKeyRef.Name != "rt-db" || password.ValueFrom.SecretKeyRef.Key != "password" {
		t.Errorf("%s: %+v, want Secret rt-db key password", RTDatabasePasswordEnv, password)
	}
	if c.Resources.Limits.StorageEphemeral().IsZero() {
		t.Error("no ephemeral storage limit")
	}
}

func TestRTMailGatewayDeployment(t *testing.T) {
	o := testRTObjects()
	d := RTMailGatewayDeployment(o, 1)
	spec := d.Spec.Template.Spec
	checkRestrictedRTPod(t, spec)
	c := spec.Containers[0]
	if args := strings.Join(append(c.Command, c.Args...), " "); args != "/usr/bin/perl -e "+RTServerScript+" -- --port 8081 --workers 2" {
		t.Errorf("command %q", args)
	}
	if len(c.Env) < 2 || c.Env[1].Name != rtServerRoleEnv || c.Env[1].Value != "mail-gateway" {
		t.Errorf("env %+v: want %s=mail-gateway", c.Env, rtServerRoleEnv)
	}
	// Never the attachments' claim (a ReadWriteOnce volume could keep it
	// from the web's node); an empty emptyDir at the path instead.
	o.AttachmentsClaim = "rt-attachments"
	for _, v := range RTMailGatewayDeployment(o, 1).Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			t.Errorf("the mail gateway mounts the claim %s", v.PersistentVolumeClaim.ClaimName)
		}
		if v.Name == "attachments" && v.EmptyDir == nil {
			t.Errorf("attachments volume %+v, want an emptyDir", v)
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || m.MountPath == RTAttachmentsPath
	}
	if !mounted {
		t.Errorf("nothing mounted at %s: RT's Disk storage does not start without the path", RTAttachmentsPath)
	}
	if p := c.ReadinessProbe; p == nil || p.TCPSocket == nil || len(c.Ports) != 1 || c.Ports[0].ContainerPort != RTMailGatewayPort {
		t.Errorf("readiness probe %+v on ports %+v: want a TCP probe on %d", p, c.Ports, RTMailGatewayPort)
	}
}

func TestRTWebDeployment(t *testing.T) {
	o := testRTObjects()
	for _, tc := range []struct{ replicas, workers int32 }{{1, 2}, {3, 5}} {
		d := RTWebDeployment(o, tc.replicas, tc.workers)
		if d.Name != "rt-web" || d.Namespace != "desk" || d.Labels["desk"] != "one" {
			t.Errorf("metadata %+v", d.ObjectMeta)
		}
		if *d.Spec.Replicas != tc.replicas {
			t.Errorf("replicas %d, want %d", *d.Spec.Replicas, tc.replicas)
		}
		if d.Spec.Selector.MatchLabels["app"] != "rt" || d.Spec.Template.Labels["desk"] != "one" || len(d.Spec.Selector.MatchLabels) != 2 {
			t.Errorf("selector %v, template labels %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
		}
		spec := d.Spec.Template.Spec
		checkRestrictedRTPod(t, spec)
		c := spec.Containers[0]
		args := strings.Join(append(c.Command, c.Args...), " ")
		if want := "/usr/bin/perl -e " + RTServerScript + " -- --port 8080 --workers " + fmt.Sprint(tc.workers); args != want {
			t.Errorf("command %q, want %q", args, want)
		}
		if len(c.Env) < 2 || c.Env[1].Name != rtServerRoleEnv || c.Env[1].Value != "web" {
			t.Errorf("env %+v: want %s=web", c.Env, rtServerRoleEnv)
		}
		p := c.ReadinessProbe
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.StrVal != "http" || len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != RTWebPort {
			t.Errorf("readiness probe %+v on ports %+v: want an HTTP GET on port http (%d)", p, c.Ports, RTWebPort)
		}
	}
	// The builder copies the labels: changing the caller's map later
	// changes nothing.
	d := RTWebDeployment(o, 1, 1)
	o.Labels["app"] = "changed"
	if d.Spec.Selector.MatchLabels["app"] != "rt" {
		t.Error("the Deployment shares the caller's label map")
	}
}

func TestRTService(t *testing.T) {
	s := RTService(testRTObjects())
	if s.Name != "rt-web" || s.Namespace != "desk" || s.Spec.Selector["app"] != "rt" || s.Spec.Selector["desk"] != "one" || len(s.Spec.Selector) != 2 {
		t.Errorf("service %+v", s)
	}
	if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Port != 80 || s.Spec.Ports[0].TargetPort.StrVal != "http" {
		t.Errorf("ports %+v: want 80 to the container's http port", s.Spec.Ports)
	}
}

func TestRTSchemaJob(t *testing.T) {
	o := testRTObjects()
	o.Name = "rt-schema"
	db := HelpDeskDatabaseConn{Host: "rt-db.ns.svc", Port: 5432, AdminUser: secretRef("pg-admin", "user"), AdminPassword: secretRef("pg-admin", "password")}
	j := RTSchemaJob(o, db, secretRef("rt-root", "root-password"), secretRef("rt-root", "operator-password"))
	spec := j.Spec.Template.Spec
	checkRestrictedRTPod(t, spec)
	if spec.RestartPolicy != corev1.RestartPolicyNever || j.Spec.BackoffLimit == nil {
		t.Errorf("restart policy %s, backoff limit %v", spec.RestartPolicy, j.Spec.BackoffLimit)
	}
	c := spec.Containers[0]
	env := map[string]*corev1.SecretKeySelector{}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			env[e.Name] = e.ValueFrom.SecretKeyRef
		}
	}
	for name, want := range map[string]corev1.SecretKeySelector{
		"RT_DBA_USER": secretRef("pg-admin", "user"), "RT_DBA_PASSWORD": secretRef("pg-admin", "password"),
		RTDatabasePasswordEnv: secretRef("rt-db", "password"),
	} {
		if got := env[name]; got == nil || *got != want {
			t.Errorf("%s from %+v, want %+v", name, got, want)
		}
	}
	for _, e := range c.Env {
		if e.Name == RTExternalDatabaseEnv {
			t.Errorf("the managed database's schema Job says the database is external")
		}
	}
	external := RTSchemaJob(o, HelpDeskDatabaseConn{External: true}, secretRef("rt-root", "root-password"), secretRef("rt-root", "operator-password")).Spec.Template.Spec.Containers[0].Env
	if e := external[len(external)-1]; e.Name != RTExternalDatabaseEnv || e.Value != "1" {
		t.Errorf("an external database's schema Job lacks %s=1: %+v", RTExternalDatabaseEnv, external)
	}
	for _, want := range []struct{ volume, key, dir string }{
		{"root-password", "root-password", rtRootPasswordIn},
		{"operator-password", "operator-password", rtOperatorPasswordIn},
	} {
		var volume *corev1.Volume
		for i, v := range spec.Volumes {
			if v.Name == want.volume {
				volume = &spec.Volumes[i]
			}
		}
		if volume == nil || volume.Secret == nil || volume.Secret.SecretName != "rt-root" || len(volume.Secret.Items) != 1 ||
			volume.Secret.Items[0].Key != want.key || volume.Secret.Items[0].Path != "password" {
			t.Fatalf("%s volume %+v", want.volume, volume)
		}
		mounted := false
		for _, m := range c.VolumeMounts {
			mounted = mounted || m.Name == volume.Name && m.MountPath == want.dir && m.ReadOnly
		}
		if !mounted {
			t.Errorf("%s is not mounted read-only at %s", want.key, want.dir)
		}
	}
	if !slices.Equal(c.Command, AwaitDatabase(db, "/bin/sh", "-c", RTSchemaScript)) {
		t.Errorf("command %q, want the schema script once %s:%d accepts a connection", c.Command, db.Host, db.Port)
	}
}

// The schema script's decisions, run with sh and stand-ins for perl (the
// state it reports) and rt-setup-database (which records its arguments).
func TestRTSchemaScript(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatal("the schema script runs under sh: install a POSIX shell")
	}
	for _, tc := range []struct {
		state   string
		want    string
		wantErr bool
	}{
		{"none", "--action init --root-password-file=/run/rt-root/password\n", false},
		{"empty", "--action schema,acl,coredata\n--action insert --datafile=/usr/share/request-tracker5/etc/initialdata --root-password-file=/run/rt-root/password\n", false},
		{"initialised", "--action acl\n", false},
		{"partial", "", true},
	} {
		t.Run(tc.state, func(t *testing.T) {
			dir := t.TempDir()
			calls := filepath.Join(dir, "calls")
			stub := func(name, body string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			perls := filepath.Join(dir, "perls")
			stub("perl", "echo run >>"+perls+"\nprintf %s "+tc.state+"\n")
			stub("rt-setup-database-5", `echo "$*" >>`+calls+"\n")
			script := strings.ReplaceAll(RTSchemaScript, rtSetupDatabase, filepath.Join(dir, "rt-setup-database-5"))
			cmd := exec.Command("sh", "-c", script)
			cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v\n%s", err, tc.wantErr, out)
			}
			got, _ := os.ReadFile(calls)
			if string(got) != tc.want {
				t.Errorf("rt-setup-database calls:\n%s\nwant:\n%s", got, tc.want)
			}
			// The state, then (after a set-up that succeeded) the
			// operator's RT user.
			ran, _ := os.ReadFile(perls)
			if want := map[bool]string{false: "run\nrun\nrun\n", true: "run\n"}[tc.wantErr]; string(ran) != want {
				t.Errorf("perl ran %d times", strings.Count(string(ran), "run"))
			}
		})
	}
}

// rtRenderedPods are the RT builders' pods, for the package's ephemeral
// storage check (TestEveryPodBoundsEphemeralStorage's everyRenderedPod
// should list them too).
func rtRenderedPods() []renderedPod {
	o := testRTObjects()
	job := RTSchemaJob(o, HelpDeskDatabaseConn{AdminUser: secretRef("pg-admin", "user"), AdminPassword: secretRef("pg-admin", "password")}, secretRef("rt-root", "password"), secretRef("rt-root", "operator-password"))
	return []renderedPod{
		{"RT web Deployment", "RTWebDeployment", RTWebDeployment(o, 2, 4).Spec.Template.Spec},
		{"RT mail gateway Deployment", "RTMailGatewayDeployment", RTMailGatewayDeployment(o, 1).Spec.Template.Spec},
		{"RT schema Job", "RTSchemaJob", job.Spec.Template.Spec},
		{"RT upgrade Job", "RTUpgradeJob", RTUpgradeJob(o, HelpDeskDatabaseConn{AdminUser: secretRef("pg-admin", "user"), AdminPassword: secretRef("pg-admin", "password")}).Spec.Template.Spec},
		{"a team's rights Job", "RTRightsJob", RTRightsJob(o, RTRights{Group: "g", QueueIDs: []string{"1"}, Rights: []string{"SeeQueue"}}).Spec.Template.Spec},
		{"RT CronJob", "RTCronJob", RTCronJob(o, "*/15 * * * *", "UTC", "/usr/sbin/rt-externalize-attachments-5").Spec.JobTemplate.Spec.Template.Spec},
		{"help desk database", "HelpDeskDatabase", HelpDeskDatabase("support", HelpDeskNames{HelpDesk: "rt"}, DefaultPostgresImage).Spec.Template.Spec},
	}
}

func TestRTPodsBoundEphemeralStorage(t *testing.T) {
	for _, pod := range rtRenderedPods() {
		if p := ephemeralProblems(&pod.spec); len(p) > 0 {
			t.Errorf("%s: %s", pod.name, strings.Join(p, "; "))
		}
	}
}

// TestRTSiteConfigMail: RT itself (RT::Config, Debian's request-tracker5)
// reads the mail settings the operator writes: with a relay, MailCommand
// is code (RT's own MailCommand has no SMTP: TestRTSendsThroughTheRelay
// sends through it); a drill's RT (NoMail) writes messages to a temporary
// file even when a relay is given; without either, RT's default stays.
func TestRTSiteConfigMail(t *testing.T) {
	base := RTSite{Name: "rt", Organization: "example.com", WebDomain: "rt.example.com", TimeZone: "UTC",
		DatabaseHost: "db", DatabaseName: "rt5", DatabaseUser: "rt_user"}
	relay, drill := base, base
	relay.SMTPHost, relay.SMTPPort = "smtp.mail.svc", 2525
	drill.SMTPHost, drill.SMTPPort, drill.NoMail = "smtp.mail.svc", 2525, true
	for _, tc := range []struct {
		name string
		site RTSite
		want string
	}{
		{"relay", relay, "CODE "},
		{"drill", drill, "testfile "},
		{"neither", base, "sendmailpipe "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config, err := RTSiteConfig(tc.site)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("perl", "-I/usr/share/request-tracker5/lib", "-e",
				`use RT; RT::LoadConfig(); my $c = RT->Config->Get("MailCommand"); print ref($c) || $c, " ", join(",", RT->Config->Get("MailParams"))`)
			cmd.Env = rtSiteEnv(t, config)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("RT::LoadConfig: %v\n%s", err, config)
			}
			if string(out) != tc.want {
				t.Errorf("RT's MailCommand and MailParams: %q, want %q\n%s", out, tc.want, config)
			}
		})
	}
	bad := relay
	bad.SMTPPort = 0
	if _, err := RTSiteConfig(bad); err == nil {
		t.Errorf("a relay without a port was rendered")
	}
}

// TestHelpDeskSMTPEgress: RT's pods that send mail may reach the relay (an
// in-cluster Service's pods on their port, or an address), and nothing
// when there is none: the policy stays, empty, so that taking the relay
// away takes the way out with it.
func TestHelpDeskSMTPEgress(t *testing.T) {
	n := HelpDeskNames{HelpDesk: "rt"}
	find := func(relay *EgressPeer) *networkingv1.NetworkPolicy {
		for _, np := range HelpDeskNetworkPolicies("support", n, nil, "", nil, relay, nil) {
			if np.Name == "rt-smtp-egress" {
				return np
			}
		}
		t.Fatal("no rt-smtp-egress")
		return nil
	}
	none := find(nil)
	if len(none.Spec.Egress) != 0 || len(none.Spec.PolicyTypes) != 1 || none.Spec.PolicyTypes[0] != networkingv1.PolicyTypeEgress {
		t.Errorf("without a relay: %+v, want an egress policy allowing nothing", none.Spec)
	}
	if got := none.Spec.PodSelector.MatchExpressions[0].Values; !slices.Equal(got, []string{"web", "mailgate", "cron"}) {
		t.Errorf("the policy selects %v, want RT's pods that send mail", got)
	}
	inCluster := find(&EgressPeer{Namespace: "mail", PodSelector: map[string]string{"app": "postfix"}, Port: 2525})
	if e := inCluster.Spec.Egress; len(e) != 1 || len(e[0].To) != 1 || e[0].To[0].PodSelector.MatchLabels["app"] != "postfix" ||
		e[0].To[0].NamespaceSelector.MatchLabels[corev1.LabelMetadataName] != "mail" || e[0].Ports[0].Port.IntVal != 2525 {
		t.Errorf("an in-cluster relay: %+v", e)
	}
	address := find(&EgressPeer{CIDR: "192.0.2.25/32", Port: 25})
	if e := address.Spec.Egress; len(e) != 1 || e[0].To[0].IPBlock == nil || e[0].To[0].IPBlock.CIDR != "192.0.2.25/32" || e[0].Ports[0].Port.IntVal != 25 {
		t.Errorf("a relay by address: %+v", e)
	}
}

// rtSiteEnv writes config as RT's site configuration (RT_SiteConfig.d)
// into a new directory and returns an environment in which RT's programs
// read it.
func rtSiteEnv(t *testing.T, config string) []string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "RT_SiteConfig.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"RT_SiteConfig.pm": "1;\n", filepath.Join("RT_SiteConfig.d", RTSiteConfigFile): config} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return append(os.Environ(), "RT_SITE_CONFIG="+filepath.Join(dir, "RT_SiteConfig.pm"), "RT_SITE_CONFIG_DIR="+filepath.Join(dir, "RT_SiteConfig.d"))
}

// TestRTPodsShareTheAttachmentsNode: the pods that mount a ReadWriteOnce
// attachments' claim (web, the periodic jobs) carry LabelAttachments and
// prefer a node running another such pod; the mail gateway and the
// schema Job, which do not mount it, are free, and so is every pod of a
// ReadWriteMany claim. The Deployment's selector stays without the label.
func TestRTPodsShareTheAttachmentsNode(t *testing.T) {
	o := testRTObjects()
	o.Labels[LabelHelpDesk] = "desk"
	o.AttachmentsClaim = "desk-attachments"
	colocated := func(what string, labels map[string]string, spec corev1.PodSpec, want bool) {
		t.Helper()
		labelled := labels[LabelAttachments] == "desk"
		var terms []corev1.WeightedPodAffinityTerm
		if spec.Affinity != nil && spec.Affinity.PodAffinity != nil {
			terms = spec.Affinity.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		}
		preferred := len(terms) == 1 && terms[0].Weight == 100 && terms[0].PodAffinityTerm.TopologyKey == corev1.LabelHostname &&
			len(terms[0].PodAffinityTerm.LabelSelector.MatchLabels) == 1 && terms[0].PodAffinityTerm.LabelSelector.MatchLabels[LabelAttachments] == "desk"
		if labelled != want || preferred != want || (!want && spec.Affinity != nil) {
			t.Errorf("%s: labelled %v, affinity %+v; want colocated %v", what, labelled, spec.Affinity, want)
		}
	}
	web := RTWebDeployment(o, 2, 2)
	colocated("web", web.Spec.Template.Labels, web.Spec.Template.Spec, true)
	if _, ok := web.Spec.Selector.MatchLabels[LabelAttachments]; ok {
		t.Errorf("the web Deployment's selector has %s: a selector cannot change on existing Deployments", LabelAttachments)
	}
	cron := RTCronJob(o, "*/15 * * * *", "UTC", "/usr/sbin/rt-externalize-attachments-5")
	colocated("externalize", cron.Spec.JobTemplate.Spec.Template.Labels, cron.Spec.JobTemplate.Spec.Template.Spec, true)
	gateway := RTMailGatewayDeployment(o, 1)
	colocated("mail gateway", gateway.Spec.Template.Labels, gateway.Spec.Template.Spec, false)
	schema := RTSchemaJob(testRTObjects(), HelpDeskDatabaseConn{}, secretRef("rt-root", "password"), secretRef("rt-root", "operator-password"))
	colocated("schema", schema.Spec.Template.Labels, schema.Spec.Template.Spec, false)

	o.AttachmentsReadWriteMany = true
	many := RTWebDeployment(o, 2, 2)
	if many.Spec.Template.Spec.Affinity != nil {
		t.Errorf("web pods of a ReadWriteMany claim are tied to a node: %+v", many.Spec.Template.Spec.Affinity)
	}
}
