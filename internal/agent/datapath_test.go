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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/agent"
	"github.com/supportstack/operator/internal/agent/pgtest"
	"github.com/supportstack/operator/internal/agentapi"
)

// seed creates a help-desk-like schema with about 100k rows.
const seed = `
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL, name text NOT NULL);
CREATE TABLE tickets (id bigserial PRIMARY KEY, customer_id bigint REFERENCES customers, subject text NOT NULL,
  status text NOT NULL, priority int NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE articles (id bigserial PRIMARY KEY, ticket_id bigint REFERENCES tickets, body text NOT NULL, created_at timestamptz NOT NULL);
CREATE SCHEMA kb;
CREATE TABLE kb.pages (slug text PRIMARY KEY, title text NOT NULL);
INSERT INTO customers (email, name) SELECT 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 5000) g;
INSERT INTO tickets (customer_id, subject, status, priority, created_at)
  SELECT 1 + g % 5000, 'Printer ' || g || ' does not print', (ARRAY['new','open','resolved'])[1 + g % 3], g % 5,
         timestamptz '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 45000) g;
INSERT INTO articles (ticket_id, body, created_at)
  SELECT 1 + g % 45000, repeat('Have you tried turning it off and on again? ', 1 + g % 4), timestamptz '2026-01-01' + g * interval '30 seconds'
  FROM generate_series(1, 50000) g;
INSERT INTO kb.pages SELECT 'page-' || g, 'How to ' || g FROM generate_series(1, 200) g;
`

// state is what "equal to the source" means: per-table row counts and a
// checksum over every row's content.
func state(t testing.TB, pg *pgtest.Server, db string) string {
	t.Helper()
	return pg.QueryString(t, db, `SELECT
	  (SELECT count(*) FROM customers) || '/' || (SELECT count(*) FROM tickets) || '/' ||
	  (SELECT count(*) FROM articles) || '/' || (SELECT count(*) FROM kb.pages) || ' ' ||
	  md5((SELECT string_agg(md5(c::text), '' ORDER BY id) FROM customers c) ||
	      (SELECT string_agg(md5(t::text), '' ORDER BY id) FROM tickets t) ||
	      (SELECT string_agg(md5(a::text), '' ORDER BY id) FROM articles a) ||
	      (SELECT string_agg(md5(p::text), '' ORDER BY slug) FROM kb.pages p))`)
}

type fixture struct {
	pg          *pgtest.Server
	repo        string
	attachments string
	env         []string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{pg: pgtest.Start(t), repo: filepath.Join(t.TempDir(), "repo"), attachments: filepath.Join(t.TempDir(), "attachments")}
	f.pg.Exec(t, "postgres", "CREATE DATABASE helpdesk")
	f.pg.Exec(t, "helpdesk", seed)
	for i := 0; i < 120; i++ {
		dir := filepath.Join(f.attachments, fmt.Sprintf("%03d", i%12))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		content := bytes.Repeat([]byte(fmt.Sprintf("attachment %d\n", i)), 100+i*10)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("scan-%d.txt", i)), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TEST_PG_URI", f.pg.URI("postgres"))
	f.env = append(os.Environ(), "RESTIC_REPOSITORY="+f.repo, "RESTIC_PASSWORD=correct horse battery staple", "RESTIC_CACHE_DIR="+t.TempDir())
	return f
}

func (f *fixture) config(t *testing.T) agentapi.Config {
	t.Helper()
	cfg, err := agentapi.ParseConfig(`{"policy":"helpdesk/nightly",
		"postgres":[{"name":"tickets","uriEnv":"TEST_PG_URI","databases":["helpdesk"]}],
		"volumes":[{"name":"attachments","path":"` + f.attachments + `"}],
		"retention":{"keepLast":1}}`)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (f *fixture) runner(env []string) *agent.Runner {
	return &agent.Runner{Restic: &agent.Restic{Binary: "restic", Env: env}, PgDump: "pg_dump", Env: env, Now: time.Now}
}

func (f *fixture) restic(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("restic", args...)
	cmd.Env = f.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("restic %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func (f *fixture) snapshots(t *testing.T) []agent.ResticSnapshot {
	t.Helper()
	var snaps []agent.ResticSnapshot
	if err := json.Unmarshal(f.restic(t, "snapshots", "--json", "--no-lock"), &snaps); err != nil {
		t.Fatal(err)
	}
	return snaps
}

// restoreDatabase streams a snapshot's dump into a fresh database with
// restic dump | pg_restore, as a restore Job would.
func (f *fixture) restoreDatabase(t *testing.T, snapshot, db string) {
	t.Helper()
	f.pg.Exec(t, "postgres", "CREATE DATABASE "+db)
	dump := exec.Command("restic", "dump", "--no-lock", snapshot, "helpdesk.dump")
	dump.Env = f.env
	pgEnv, err := agentapi.LibpqEnv(f.pg.URI(db))
	if err != nil {
		t.Fatal(err)
	}
	restore := exec.Command("pg_restore", "--no-owner", "--exit-on-error", "--dbname", db)
	restore.Env = append(os.Environ(), pgEnv...)
	pipe, err := dump.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	restore.Stdin = pipe
	var dumpErr, restoreOut bytes.Buffer
	dump.Stderr, restore.Stdout, restore.Stderr = &dumpErr, &restoreOut, &restoreOut
	if err := dump.Start(); err != nil {
		t.Fatal(err)
	}
	if err := restore.Run(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, restoreOut.String())
	}
	if err := dump.Wait(); err != nil {
		t.Fatalf("restic dump: %v\n%s", err, dumpErr.String())
	}
}

func (f *fixture) manifest(t *testing.T, id string) agentapi.Manifest {
	t.Helper()
	var m agentapi.Manifest
	if err := json.Unmarshal(f.restic(t, "dump", "--no-lock", id, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cfg := f.config(t)
	before := state(t, f.pg, "helpdesk")
	volumeBefore, err := agent.ScanVolume(f.attachments)
	if err != nil {
		t.Fatal(err)
	}

	first := f.runner(f.env).Backup(ctx, cfg)
	if !first.Succeeded || len(first.Snapshots) != 2 {
		t.Fatalf("first backup: %+v", first)
	}
	if !contains(first.Notes, "initialised the repository") {
		t.Errorf("notes %v: the repository should have been initialised", first.Notes)
	}
	if len(first.Encode()) > 4096 {
		t.Errorf("termination message is %d bytes", len(first.Encode()))
	}
	dbSnap, volSnap := first.Snapshots[0], first.Snapshots[1]
	t.Logf("first backup: database %s (%d bytes added), volume %s (%d bytes added)", dbSnap.ID, dbSnap.Added, volSnap.ID, volSnap.Added)

	// The data changes; the second backup is incremental.
	f.pg.Exec(t, "helpdesk",
		"INSERT INTO tickets (customer_id, subject, status, priority, created_at) SELECT 1, 'new ' || g, 'new', 1, now() FROM generate_series(1, 1000) g",
		"DELETE FROM articles WHERE id % 10 = 0",
		"UPDATE tickets SET status = 'resolved' WHERE id % 7 = 0")
	if err := os.WriteFile(filepath.Join(f.attachments, "000", "new.txt"), []byte("new attachment"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := f.runner(f.env).Backup(ctx, cfg)
	if !second.Succeeded {
		t.Fatalf("second backup: %s", second.Error)
	}
	if second.Snapshots[1].Added >= volSnap.Added {
		t.Errorf("incremental volume backup added %d bytes, the first %d: no de-duplication?", second.Snapshots[1].Added, volSnap.Added)
	}
	if state(t, f.pg, "helpdesk") == before {
		t.Fatal("the data did not change")
	}

	// Restore the first snapshot into a fresh database: equal to the source
	// at the first backup, and to its manifest.
	f.restoreDatabase(t, dbSnap.ID, "restored")
	if got := state(t, f.pg, "restored"); got != before {
		t.Errorf("restored database %s, source at backup time %s", got, before)
	}
	m := f.manifest(t, dbSnap.Manifest)
	if m.DataSnapshot != dbSnap.ID || m.Database == nil || m.Database.ServerVersion == "" || m.Digest() != dbSnap.Digest {
		t.Errorf("manifest %+v does not describe snapshot %s", m, dbSnap.ID)
	}
	counts := map[string]int64{}
	for _, tc := range m.Database.Tables {
		counts[tc.Table] = tc.Rows
	}
	want := strings.Fields(before)[0]
	if got := fmt.Sprintf("%d/%d/%d/%d", counts["public.customers"], counts["public.tickets"], counts["public.articles"], counts["kb.pages"]); got != want {
		t.Errorf("manifest row counts %s, restored %s", got, want)
	}

	// Restore the volume: same files, same bytes, same listing digest.
	target := t.TempDir()
	f.restic(t, "restore", "--no-lock", volSnap.ID, "--target", target)
	restored, err := agent.ScanVolume(filepath.Join(target, f.attachments))
	if err != nil {
		t.Fatal(err)
	}
	vm := f.manifest(t, volSnap.Manifest)
	if restored != volumeBefore || vm.Volume == nil || *vm.Volume != volumeBefore {
		t.Errorf("restored volume %+v, manifest %+v, source %+v", restored, vm.Volume, volumeBefore)
	}

	// Prune with keepLast 1 keeps the newest of each source and kind, and
	// leaves another policy's snapshots alone.
	other := cfg
	other.Policy = "helpdesk/other"
	other.Postgres = nil
	if res := f.runner(f.env).Backup(ctx, other); !res.Succeeded {
		t.Fatal(res.Error)
	}
	if res := f.runner(f.env).Prune(ctx, cfg); !res.Succeeded {
		t.Fatal(res.Error)
	}
	byPolicy := map[string]int{}
	for _, s := range f.snapshots(t) {
		byPolicy[s.Tags[0]]++
	}
	if byPolicy["policy=helpdesk/nightly"] != 4 || byPolicy["policy=helpdesk/other"] != 2 {
		t.Errorf("after prune: %v, want 4 of nightly (newest data+manifest per source) and other's 2 untouched", byPolicy)
	}
	if res := f.runner(f.env).Check(ctx, agentapi.Config{Policy: cfg.Policy, ReadDataPercent: 100, StaleLockAge: cfg.StaleLockAge}); !res.Succeeded {
		t.Errorf("check: %s", res.Error)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// TestRTRecordOnlyForRTDatabases: the manifest records the latest ticket
// update of Request Tracker's databases only. A database that looks like
// RT's by its table and column names, but not by their types, backs up as
// any other (no record, no failed backup, none of its owner's operators
// run); every database's manifest records its snapshot's time.
func TestRTRecordOnlyForRTDatabases(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.pg.Exec(t, "postgres", "CREATE DATABASE lookalike")
	f.pg.Exec(t, "lookalike",
		"CREATE TABLE queues (id int PRIMARY KEY)",
		"CREATE TABLE tickets (id int PRIMARY KEY, effectiveid int, status int, lastupdated text)",
		"INSERT INTO tickets VALUES (1, 1, 7, 'yesterday')")
	t.Setenv("TEST_PG_URI", f.pg.URI("postgres"))
	cfg, err := agentapi.ParseConfig(`{"policy":"helpdesk/lookalike","postgres":[{"name":"database","uriEnv":"TEST_PG_URI","databases":["lookalike","helpdesk"]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	res := f.runner(f.env).Backup(ctx, cfg)
	if !res.Succeeded || len(res.Snapshots) != 2 {
		t.Fatalf("backup: %+v", res)
	}
	for _, snap := range res.Snapshots {
		m := f.manifest(t, snap.Manifest)
		if m.Database == nil {
			t.Fatalf("snapshot %s has no database manifest", snap.ID)
		}
		if m.Database.RequestTracker != nil {
			t.Errorf("database %s: an RT record %+v, want none", m.Database.Name, m.Database.RequestTracker)
		}
		if at := m.Database.SnapshotTime; at == nil || at.Before(before) || at.After(time.Now()) {
			t.Errorf("database %s: snapshot time %v, want during the backup", m.Database.Name, at)
		}
	}
}
