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

package agent_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/agent"
	"github.com/supportstack/operator/internal/agent/pgtest"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/resources"
)

// rtEnv is the environment of RT's programs under the site configuration
// in dir (RT_SiteConfig.pm and RT_SiteConfig.d), with env added.
func rtEnv(dir string, env ...string) []string {
	return append(append(os.Environ(), "RT_SITE_CONFIG="+filepath.Join(dir, "RT_SiteConfig.pm"), "RT_SITE_CONFIG_DIR="+filepath.Join(dir, "RT_SiteConfig.d")), env...)
}

// rtPerl runs code with RT's API loaded in the environment env.
func rtPerl(t *testing.T, env []string, code string) string {
	t.Helper()
	cmd := exec.Command("perl", "-I/usr/share/request-tracker5/lib", "-e", "use strict; use warnings; use RT; RT::LoadConfig(); RT::Init();\n"+code)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("perl: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// rtSite writes RT's site configuration for site into a new directory.
func rtSite(t *testing.T, site resources.RTSite) string {
	t.Helper()
	dir := t.TempDir()
	config, err := resources.RTSiteConfig(site)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "RT_SiteConfig.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"RT_SiteConfig.pm": "Set($LogToSTDERR, 'warning'); Set($LogToSyslog, undef);\n1;\n",
		filepath.Join("RT_SiteConfig.d", resources.RTSiteConfigFile): config,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// restoredRT is a Request Tracker 5 on PostgreSQL with tickets, a deleted
// and a merged one, and binary attachments RT keeps as files; backed up by
// the agent and restored into a sandbox server with the checker role, as a
// drill's restore Job does.
type restoredRT struct {
	runner  *agent.Runner
	sandbox *pgtest.Server
	files   string // the restored attachments
	from    *agentapi.ManifestRef
}

func restoreRT(ctx context.Context, t *testing.T) restoredRT {
	t.Helper()
	for _, f := range []string{"/usr/sbin/rt-setup-database-5", "/usr/sbin/rt-externalize-attachments-5"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("Request Tracker is not installed (%v): apt-get install --no-install-recommends request-tracker5 rt5-db-postgresql (.ci/run does)", err)
		}
	}
	f := &fixture{pg: pgtest.Start(t), repo: filepath.Join(t.TempDir(), "repo"), attachments: filepath.Join(t.TempDir(), "attachments")}
	if err := os.MkdirAll(f.attachments, 0o755); err != nil {
		t.Fatal(err)
	}
	f.env = append(os.Environ(), "RESTIC_REPOSITORY="+f.repo, "RESTIC_PASSWORD=correct horse battery staple", "RESTIC_CACHE_DIR="+t.TempDir())
	site := rtSite(t, resources.RTSite{Name: "source", Organization: "source.test", WebDomain: "127.0.0.1", TimeZone: "UTC",
		DatabaseHost: "127.0.0.1", DatabasePort: int32(f.pg.Port), DatabaseName: "rt5", DatabaseUser: "rt_user",
		Attachments: true, AttachmentsPath: f.attachments, NoMail: true})
	env := rtEnv(site, resources.RTDatabasePasswordEnv+"=rtuserpw0123")
	root := filepath.Join(t.TempDir(), "root-password")
	if err := os.WriteFile(root, []byte("rootpw0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	setup := exec.Command("/usr/sbin/rt-setup-database-5", "--action", "init", "--dba", "postgres", "--dba-password", pgtest.Password, "--root-password-file", root)
	setup.Env = env
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("rt-setup-database: %v\n%s", err, out)
	}
	// Four tickets: #1 and #2 with a binary attachment each, #3 deleted,
	// #4 merged into #2.
	rtPerl(t, env, `use MIME::Entity;
for my $n (1 .. 4) {
    my $mime = MIME::Entity->build(Type => "multipart/mixed", From => 'root@localhost', Subject => "printer $n");
    $mime->attach(Type => "text/plain", Data => "the printer on floor $n does not print");
    $mime->attach(Type => "application/octet-stream", Filename => "screenshot-$n.png", Encoding => "base64",
        Data => sprintf("\x89PNG\r\n\x1a\n%s", ("screenshot $n " x 50))) if $n <= 2;
    my $t = RT::Ticket->new(RT->SystemUser);
    my ($id, undef, $msg) = $t->Create(Queue => "General", Subject => "printer $n", MIMEObj => $mime);
    die "creating ticket $n: $msg" unless $id;
}
my $t3 = RT::Ticket->new(RT->SystemUser); $t3->Load(3);
my ($ok, $msg) = $t3->SetStatus("deleted"); die "deleting #3: $msg" unless $ok;
my $t4 = RT::Ticket->new(RT->SystemUser); $t4->Load(4);
($ok, $msg) = $t4->MergeInto(2); die "merging #4: $msg" unless $ok;`)
	externalize := exec.Command("/usr/sbin/rt-externalize-attachments-5")
	externalize.Env = env
	if out, err := externalize.CombinedOutput(); err != nil {
		t.Fatalf("rt-externalize-attachments: %v\n%s", err, out)
	}
	if n := f.pg.QueryString(t, "rt5", "SELECT count(*)::text FROM attachments WHERE contentencoding = 'external'"); n != "2" {
		t.Fatalf("%s attachments stored as files, want the 2 binary ones", n)
	}
	// A quiet weekend: nobody has touched a ticket for three days, #1
	// last of those RT lists (RT keeps whole seconds, UTC); the deleted #3,
	// which RT never lists, a day after it.
	f.pg.Exec(t, "rt5", `UPDATE tickets SET lastupdated = date_trunc('second', now() AT TIME ZONE 'UTC') - interval '3 days' - id * interval '1 minute'`,
		`UPDATE tickets SET lastupdated = lastupdated + interval '1 day' WHERE id = 3`)

	t.Setenv("TEST_PG_URI", f.pg.URI("postgres"))
	cfg, err := agentapi.ParseConfig(`{"policy":"helpdesk/rt",
		"postgres":[{"name":"database","uriEnv":"TEST_PG_URI","databases":["rt5"]}],
		"volumes":[{"name":"attachments","path":"` + f.attachments + `"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	var h restoredRT
	var restored agent.Restoration
	h.runner, h.sandbox, h.files, restored = f.backupAndRestore(ctx, t, cfg, "database")
	for _, r := range restored.Restored {
		if r.Database == "rt5" {
			h.from = &agentapi.ManifestRef{Policy: cfg.Policy, Source: r.Source, Database: r.Database, Snapshot: r.ID, SHA256: r.ManifestSHA256}
		}
	}
	if h.from == nil {
		t.Fatalf("the restore reported no snapshot of rt5: %+v", restored.Restored)
	}
	return h
}

// serve starts RT in its drill's sandbox role on the restored database, as
// the checker role, with the restored attachments, as the verify pod's
// sidecar does; it returns RT's base URL.
func (h restoredRT) serve(t *testing.T) string {
	t.Helper()
	site := rtSite(t, resources.RTSite{Name: "drill", Organization: "drill.invalid", WebDomain: "127.0.0.1", TimeZone: "UTC",
		DatabaseHost: "127.0.0.1", DatabasePort: int32(h.sandbox.Port), DatabaseName: "rt5", DatabaseUser: checkerRole,
		Attachments: true, AttachmentsPath: h.files, NoMail: true})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command("/usr/bin/perl", "-e", resources.RTServerScript, "--", "--server", "Standalone", "--port", fmt.Sprint(port))
	cmd.Env = rtEnv(site, resources.RTDatabasePasswordEnv+"="+checkerPassword, "SUPPORTSTACK_RT_ROLE=sandbox")
	log, err := os.Create(filepath.Join(t.TempDir(), "rt.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		_ = log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("RT's log:\n%s", b)
		}
	})
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// check is the requestTracker check of the restored RT at url.
func (h restoredRT) check(url string, sample int) agentapi.VerifyCheck {
	return agentapi.VerifyCheck{Name: "rt-smoke", Database: "rt5", TargetURIEnv: "CHECKER_URI",
		RequestTracker: &agentapi.RequestTracker{URL: url, AttachmentsPath: h.files, SampleAttachments: sample, From: h.from}}
}

// verify runs the check and returns its result as the operator records it
// (and fails the test if the operator would not).
func (h restoredRT) verify(ctx context.Context, t *testing.T, c agentapi.VerifyCheck) agentapi.CheckResult {
	t.Helper()
	results, err := h.runner.Verify(ctx, []agentapi.VerifyCheck{c})
	if err != nil {
		t.Fatal(err)
	}
	r := results[0]
	if _, kept := agentapi.RecordableRequestTrackerCheck(r); !kept {
		t.Errorf("the operator would not record %+v", r)
	}
	for _, text := range []string{r.Observed, r.Message, r.Expected} {
		if strings.Contains(text, "printer") || strings.Contains(text, "screenshot") {
			t.Errorf("the check reports a ticket's content: %q", text)
		}
	}
	t.Logf("%s: passed %v; expected %s; observed %s; %s", r.Name, r.Passed, r.Expected, r.Observed, r.Message)
	return r
}

// TestRequestTrackerCheckDataPath: a real RT 5 on PostgreSQL, backed up and
// restored as a drill does, started in its sandbox role on the restored
// database as the read-only checker: the requestTracker check passes with
// the manifest's queues (General, ___Approvals) and tickets (two listed, the
// merged one listed too, the deleted one counted from the database), the
// latest-updated ticket and its history, and both attachments read back
// through RT with their SHA-256; three quiet days before the backup do not
// move the recovery point off the dump's snapshot, which the backup's
// record of its latest update vouches for. Then one restored file is cut
// short and the other removed: the check fails naming one of each; a
// restored copy whose tickets are an hour behind the backup's fails naming
// both latest updates, and recovers to its own. An RT that never answers
// fails the check in the agent's words; and RT wrote nothing to the
// restored database.
func TestRequestTrackerCheckDataPath(t *testing.T) {
	ctx := context.Background()
	h := restoreRT(ctx, t)
	rows := func() string {
		return h.sandbox.QueryString(t, "rt5", "SELECT (SELECT count(*) FROM tickets) || '/' || (SELECT count(*) FROM transactions) || '/' || (SELECT count(*) FROM attachments) || '/' || (SELECT count(*) FROM sessions)")
	}
	before := rows()
	url := h.serve(t)

	backedUp := time.Now()
	r := h.verify(ctx, t, h.check(url, 5))
	quiet := h.sandbox.QueryString(t, "rt5", `SELECT to_char(lastupdated, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM tickets WHERE id = 1`)
	if !r.Passed || !strings.HasPrefix(r.Observed, "RT 5.") ||
		!strings.Contains(r.Observed, "; queues 2; tickets 3 listed + 1 deleted; latest update ticket #1 at "+quiet+", ") ||
		!strings.HasSuffix(r.Observed, "; attachments 2 of 2 read back with their SHA-256, 0 missing") {
		t.Errorf("the whole restored RT: %+v, want passed with 2 queues, 3 tickets listed + 1 deleted, ticket #1 updated last (%s), 2 of 2 attachments", r, quiet)
	}
	if want := "queues 2, tickets 4 (the backup manifest's rows); the backup's latest update ticket #1 at " + quiet + ", its snapshot at "; !strings.HasPrefix(r.Expected, want) {
		t.Errorf("expected %q, want it to start %q", r.Expected, want)
	}
	// Three quiet days do not count against the RPO: the backup recorded
	// the same latest update at its dump, so the restored RT holds the help
	// desk up to the dump's snapshot, taken minutes ago.
	if rp, ok := agentapi.RTRecoveryPoint(r); !ok || backedUp.Sub(rp) > 10*time.Minute || rp.After(backedUp) {
		t.Errorf("recovery point %v (%v), want the dump's snapshot, minutes before %v", rp, ok, backedUp)
	}
	if r := h.verify(ctx, t, h.check(url, 1)); !r.Passed || !strings.HasSuffix(r.Observed, "attachments 1 of 1 read back with their SHA-256, 0 missing") {
		t.Errorf("a sample of 1: %+v", r)
	}

	// One restored file cut short, the other gone.
	keys := strings.Fields(h.sandbox.QueryString(t, "rt5", "SELECT string_agg(content, ' ' ORDER BY id) FROM attachments WHERE contentencoding = 'external'"))
	file := func(key string) string { return filepath.Join(h.files, key[:3], key[3:6], key[6:]) }
	if err := os.Truncate(file(keys[0]), 10); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(file(keys[1])); err != nil {
		t.Fatal(err)
	}
	r = h.verify(ctx, t, h.check(url, 5))
	if r.Passed || !strings.HasSuffix(r.Observed, "attachments 0 of 2 read back with their SHA-256, 1 missing") ||
		!strings.Contains(r.Message, "1 of 2 sampled attachments have no file in the restored volume") ||
		!strings.Contains(r.Message, "1 of 2 sampled attachments read back through RT with another SHA-256 than their row's") {
		t.Errorf("a file cut short and one removed: %+v, want failed naming one of each", r)
	}

	// The restored copy an hour behind its backup: every ticket's last
	// update an hour older than the dump had it. The counts still match;
	// the latest update does not, and the recovery point is RT's own.
	h.sandbox.Exec(t, "rt5", "UPDATE tickets SET lastupdated = lastupdated - interval '1 hour'")
	behind := h.sandbox.QueryString(t, "rt5", `SELECT to_char(lastupdated, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM tickets WHERE id = 1`)
	r = h.verify(ctx, t, h.check(url, 5))
	if r.Passed || !strings.Contains(r.Message, "RT's latest update is ticket #1 at "+behind+", the backup's latest update was ticket #1 at "+quiet) {
		t.Errorf("an hour behind its backup: %+v, want failed naming both updates", r)
	}
	if rp, ok := agentapi.RTRecoveryPoint(r); !ok || rp.UTC().Format(time.RFC3339) != behind {
		t.Errorf("recovery point %v (%v), want the restored RT's latest update %s", rp, ok, behind)
	}

	agent.RTStartWait = 2 * time.Second
	t.Cleanup(func() { agent.RTStartWait = 4 * time.Minute })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()
	if r := h.verify(ctx, t, h.check(closed, 5)); r.Passed || r.Message != agentapi.RTNotAnswering(2*time.Second) {
		t.Errorf("no RT: %+v, want failed: %s", r, agentapi.RTNotAnswering(2*time.Second))
	}
	if after := rows(); after != before {
		t.Errorf("tickets/transactions/attachments/sessions in the restored database: %s before RT served, %s after", before, after)
	}
}
