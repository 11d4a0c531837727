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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportstack/operator/internal/agent"
	"github.com/supportstack/operator/internal/agent/pgtest"
	"github.com/supportstack/operator/internal/agentapi"
)

// oddTables are tables whose rows are easy to miscount from a dump: none,
// no columns, values with newlines, tabs and backslashes, a partitioned
// table, tables inheriting from others on two levels (count(*) on a
// parent counts its children's rows; its COPY holds only its own), names
// with dots and quotes, and a large object beside them.
const oddTables = `
CREATE TABLE empty (id int);
CREATE TABLE nocolumns ();
INSERT INTO nocolumns SELECT FROM generate_series(1, 7);
CREATE TABLE texts (id int, body text);
INSERT INTO texts VALUES (1, E'two\nlines'), (2, E'a\ttab and a \\ backslash'), (3, E'\\.\n\n\n'), (4, ''), (5, NULL);
CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO events SELECT g, date '2025-06-01' + g FROM generate_series(1, 400) g;
CREATE TABLE measures (id int, v int);
INSERT INTO measures VALUES (1, 1);
CREATE TABLE measures_2026 () INHERITS (measures);
INSERT INTO measures_2026 SELECT g, g FROM generate_series(1, 50) g;
CREATE TABLE measures_2026_q1 () INHERITS (measures_2026);
INSERT INTO measures_2026_q1 SELECT g, g FROM generate_series(1, 5) g;
CREATE SCHEMA "we.ird";
CREATE TABLE "we.ird"."ta""ble" (id int);
INSERT INTO "we.ird"."ta""ble" SELECT generate_series(1, 3);
CREATE TABLE "we"."ird.ta""ble" (id int);
SELECT lo_from_bytea(0, decode(repeat('0a', 5000), 'hex'));
`

// TestDumpRowsMatchCount backs up tables that are easy to miscount: the
// manifest's counts, read from the dump as it streams, equal count(*) on
// the source and on the restored copy.
func TestDumpRowsMatchCount(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.pg.Exec(t, "helpdesk", "CREATE SCHEMA we", oddTables)
	cfg := f.config(t)
	cfg.Volumes = nil
	res := f.runner(f.env).Backup(ctx, cfg)
	if !res.Succeeded {
		t.Fatal(res.Error)
	}
	m := f.manifest(t, res.Snapshots[0].Manifest)
	if m.Database.DumpBytes <= 0 {
		t.Errorf("manifest records no dump size: %+v", m.Database)
	}
	got := map[string]int64{}
	for _, tc := range m.Database.Tables {
		if tc.Estimated {
			t.Errorf("%s estimated: the dump is readable", tc.Table)
		}
		got[tc.Table] = tc.Rows
	}
	f.restoreDatabase(t, res.Snapshots[0].ID, "copy")
	for table, sql := range map[string]string{
		"public.empty": "empty", "public.nocolumns": "nocolumns", "public.texts": "texts",
		"public.events": "events", "public.events_2025": "events_2025", "public.events_2026": "events_2026",
		"public.measures": "measures", "public.measures_2026": "measures_2026", "public.measures_2026_q1": "measures_2026_q1",
		`we.ird.ta"ble`: `"we.ird"."ta""ble"`, `we.ird.ta"ble ` /* the other one */ : `"we"."ird.ta""ble"`,
		"public.tickets": "tickets", "kb.pages": "kb.pages",
	} {
		table = strings.TrimSpace(table)
		want := f.pg.QueryString(t, "helpdesk", "SELECT count(*) FROM "+sql)
		restored := f.pg.QueryString(t, "copy", "SELECT count(*) FROM "+sql)
		if want != restored {
			t.Errorf("%s: %s rows at the source, %s restored", sql, want, restored)
		}
		if strings.HasPrefix(table, "we.") {
			continue // two tables read "we.ird.ta\"ble": checked below
		}
		if g := got[table]; formatInt(g) != want {
			t.Errorf("manifest %s: %d rows, count(*) %s", table, g, want)
		}
	}
	// Two tables whose "schema.table" reads the same are two entries, each
	// with its own count (3 and 0), never one sum.
	var same []int64
	for _, tc := range m.Database.Tables {
		if tc.Table == `we.ird.ta"ble` {
			same = append(same, tc.Rows)
		}
	}
	if len(same) != 2 || same[0]+same[1] != 3 || (same[0] != 0 && same[1] != 0) {
		t.Errorf("tables named alike: %v", same)
	}
}

func formatInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestCopyDumpPassesEveryByte: whatever the stream (an uncompressed
// archive, a compressed one, not an archive at all), what reaches restic
// is byte for byte what pg_dump wrote; rows are counted only where they
// can be.
func TestCopyDumpPassesEveryByte(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(t, "postgres", "CREATE DATABASE d")
	pg.Exec(t, "d", "CREATE TABLE t (id int, s text)", "INSERT INTO t SELECT g, repeat('x', g % 300) FROM generate_series(1, 20000) g")
	pgEnv, err := agentapi.LibpqEnv(pg.URI("d"))
	if err != nil {
		t.Fatal(err)
	}
	dumpWith := func(args ...string) []byte {
		cmd := exec.Command("pg_dump", append([]string{"--format=custom", "--no-password"}, args...)...)
		cmd.Env = append(os.Environ(), pgEnv...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		in         []byte
		rows       int64
		unreadable string
	}{
		{"uncompressed", dumpWith("--compress=0"), 20000, ""},
		{"compressed", dumpWith(), -1, "the archive is compressed"},
		{"not an archive", bytes.Repeat([]byte("PGDMX garbage\n"), 10000), -1, "not a pg_dump custom-format archive"},
		{"cut short", dumpWith("--compress=0")[:300000], -1, "ends"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := agent.CopyDump(&out, bytes.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), tc.in) || got.Bytes != int64(len(tc.in)) {
				t.Errorf("copied %d bytes (reported %d) of %d, equal %v", out.Len(), got.Bytes, len(tc.in), bytes.Equal(out.Bytes(), tc.in))
			}
			if tc.rows >= 0 {
				if got.Rows == nil || got.Rows[agent.TableName{Schema: "public", Name: "t"}] != tc.rows {
					t.Errorf("rows %v (%s), want %d", got.Rows, got.Unreadable, tc.rows)
				}
			} else if got.Rows != nil || !strings.Contains(got.Unreadable, tc.unreadable) {
				t.Errorf("rows %v, unreadable %q, want nil and %q", got.Rows, got.Unreadable, tc.unreadable)
			}
		})
	}
}

// TestRestoreParallelOrPiped restores one backup both ways, piped and
// from a scratch file with pg_restore --jobs 2: both equal the source
// (a checksum over every row), the phases say which way and how long, the
// scratch file is gone afterwards, and a scratch directory too small for
// the dump falls back to the pipe.
func TestRestoreParallelOrPiped(t *testing.T) {
	ctx := context.Background()
	agent.PlentyOfDisk(t) // this test is not about the machine's disk
	f := newFixture(t)
	cfg := f.config(t)
	cfg.Volumes = nil
	if res := f.runner(f.env).Backup(ctx, cfg); !res.Succeeded {
		t.Fatal(res.Error)
	}
	source := state(t, f.pg, "helpdesk")
	for _, tc := range []struct {
		name         string
		jobs         int
		scratchBytes int64
		method       string
	}{
		{"piped", 1, 0, agentapi.RestorePiped},
		{"parallel", 2, 1 << 30, agentapi.RestoreParallel},
		{"scratch too small", 2, 4096, agentapi.RestorePiped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sandbox := pgtest.Start(t)
			t.Setenv("SANDBOX_URI", sandbox.URI("postgres"))
			scratch := t.TempDir()
			runner := f.runner(f.env)
			runner.ParallelRestoreMinBytes = 1
			done, err := runner.Restore(ctx, agentapi.RestoreConfig{Policy: cfg.Policy, Snapshot: "latest",
				Postgres: []agentapi.RestoreDatabase{{Source: "tickets", Database: "helpdesk", TargetURIEnv: "SANDBOX_URI"}},
				Jobs:     tc.jobs, ScratchDir: scratch, ScratchBytes: tc.scratchBytes})
			if err != nil {
				t.Fatal(err)
			}
			if got := state(t, sandbox, "helpdesk"); got != source {
				t.Errorf("restored %s, source %s", got, source)
			}
			p := done.Phases
			if p == nil || p.Method != tc.method || p.Fetch <= 0 || p.Load <= 0 || p.Indexes <= 0 {
				t.Fatalf("phases %+v, want method %s and every phase measured", p, tc.method)
			}
			if tc.method == agentapi.RestoreParallel && p.Jobs != 2 {
				t.Errorf("jobs %d", p.Jobs)
			}
			t.Logf("%s: fetch %.2fs, load %.2fs, indexes %.2fs", p.Method, p.Fetch, p.Load, p.Indexes)
			if left, _ := filepath.Glob(filepath.Join(scratch, "*")); len(left) != 0 {
				t.Errorf("left in the scratch directory: %v", left)
			}
		})
	}
}

// TestFormatOneRepository: a repository created by an older restic
// (format 1, no compression) holding a compressed dump as older agents
// wrote it (no recovery set, no dump size) keeps working: the agent
// restores that old snapshot, backs up into the repository, and restores
// the new backup; both equal the source.
func TestFormatOneRepository(t *testing.T) {
	ctx := context.Background()
	agent.PlentyOfDisk(t)
	f := newFixture(t)
	f.restic(t, "init", "--repository-version", "1")
	cfg := f.config(t)
	cfg.Volumes = nil
	source := state(t, f.pg, "helpdesk")

	// What an older agent stored: pg_dump's compressed custom format and a
	// manifest snapshot beside it, tagged without run=.
	pgEnv, err := agentapi.LibpqEnv(f.pg.URI("helpdesk"))
	if err != nil {
		t.Fatal(err)
	}
	dump := exec.Command("pg_dump", "--format=custom", "--no-password")
	dump.Env = append(os.Environ(), pgEnv...)
	compressed, err := dump.Output()
	if err != nil {
		t.Fatal(err)
	}
	oldTags := func(kind string) []string {
		return []string{"--tag", "policy=" + cfg.Policy, "--tag", "source=tickets", "--tag", "kind=" + kind, "--tag", "database=helpdesk"}
	}
	store := func(name string, data []byte, tags []string) string {
		cmd := exec.Command("restic", append([]string{"backup", "--json", "--stdin", "--stdin-filename", name}, tags...)...)
		cmd.Env, cmd.Stdin = f.env, bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("restic backup %s: %v", name, err)
		}
		sum, err := agent.ParseBackupSummary(out)
		if err != nil {
			t.Fatal(err)
		}
		return sum.SnapshotID
	}
	oldID := store("helpdesk.dump", compressed, oldTags("data"))
	manifest, _ := json.Marshal(agentapi.Manifest{Policy: cfg.Policy, Source: "tickets", DataSnapshot: oldID,
		Database: &agentapi.DatabaseManifest{Name: "helpdesk", ServerVersion: "15", Tables: []agentapi.TableCount{{Table: "public.tickets", Rows: 45000}}}})
	store("manifest.json", manifest, oldTags("manifest"))

	restore := func(snapshot string) agent.Restoration {
		t.Helper()
		sandbox := pgtest.Start(t)
		t.Setenv("SANDBOX_URI", sandbox.URI("postgres"))
		runner := f.runner(f.env)
		runner.ParallelRestoreMinBytes = 1
		done, err := runner.Restore(ctx, agentapi.RestoreConfig{Policy: cfg.Policy, Snapshot: snapshot,
			Postgres: []agentapi.RestoreDatabase{{Source: "tickets", Database: "helpdesk", TargetURIEnv: "SANDBOX_URI"}},
			Jobs:     2, ScratchDir: t.TempDir()})
		if err != nil {
			t.Fatalf("restoring %s: %v", snapshot, err)
		}
		if got := state(t, sandbox, "helpdesk"); got != source {
			t.Errorf("restored %s: %s, source %s", snapshot, got, source)
		}
		return done
	}
	if old := restore(oldID); old.RecoverySet != "" || old.Phases.Method != agentapi.RestorePiped {
		t.Errorf("old snapshot: set %q, phases %+v (no dump size: piped)", old.RecoverySet, old.Phases)
	}

	res := f.runner(f.env).Backup(ctx, cfg)
	if !res.Succeeded {
		t.Fatalf("backup into a format-1 repository: %s", res.Error)
	}
	var config struct{ Version int }
	if err := json.Unmarshal(f.restic(t, "cat", "config", "--no-lock"), &config); err != nil || config.Version != 1 {
		t.Fatalf("repository format %d (%v), want 1 still", config.Version, err)
	}
	if latest := restore("latest"); latest.RecoverySet != res.RecoverySet || latest.Phases.Method != agentapi.RestoreParallel {
		t.Errorf("latest: set %q (backup's %q), phases %+v", latest.RecoverySet, res.RecoverySet, latest.Phases)
	}
}

// TestEarlyFetchOfAnotherSnapshot: the dump streamed before the listing
// (restic's own latest) turns out not to be the snapshot chosen — a
// backup finished as the restore started. Its size differs from the
// chosen snapshot's manifest: the scratch database is made again and the
// chosen snapshot loaded, piped and in parallel; the same snapshot is
// kept.
func TestEarlyFetchOfAnotherSnapshot(t *testing.T) {
	ctx := context.Background()
	agent.PlentyOfDisk(t)
	f := newFixture(t)
	cfg := f.config(t)
	cfg.Volumes = nil
	first := f.runner(f.env).Backup(ctx, cfg)
	if !first.Succeeded {
		t.Fatal(first.Error)
	}
	atFirst := state(t, f.pg, "helpdesk")
	f.pg.Exec(t, "helpdesk", "INSERT INTO kb.pages SELECT 'late-' || g, 'Late ' || g FROM generate_series(1, 500) g")
	second := f.runner(f.env).Backup(ctx, cfg)
	if !second.Succeeded {
		t.Fatal(second.Error)
	}
	db := agentapi.RestoreDatabase{Source: "tickets", Database: "helpdesk", TargetURIEnv: "SANDBOX_URI"}
	for _, tc := range []struct {
		name  string
		early string
		jobs  int
	}{
		{"another snapshot, piped", second.Snapshots[0].ID, 1},
		{"another snapshot, parallel", second.Snapshots[0].ID, 2},
		{"the same snapshot", first.Snapshots[0].ID, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sandbox := pgtest.Start(t)
			t.Setenv("SANDBOX_URI", sandbox.URI("postgres"))
			runner := f.runner(f.env)
			runner.ParallelRestoreMinBytes = 1
			if _, err := runner.RestoreWithEarlyFetch(ctx, cfg.Policy, db, agentapi.RestoreConfig{Jobs: tc.jobs, ScratchDir: t.TempDir()}, first.Snapshots[0].ID, tc.early); err != nil {
				t.Fatal(err)
			}
			if got := state(t, sandbox, "helpdesk"); got != atFirst {
				t.Errorf("restored %s, the chosen snapshot holds %s", got, atFirst)
			}
			if locks := strings.TrimSpace(string(f.restic(t, "list", "locks", "--no-lock"))); locks != "" {
				t.Errorf("locks left: %s", locks)
			}
		})
	}
}
