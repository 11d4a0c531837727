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

package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/agentapi"
)

// TestRestoreProgress feeds pg_restore --verbose output, split at awkward
// places: the end of the rows is the last table's data finishing
// (parallel) or else the first post-data object (piped); progress lines
// are dropped, errors kept for ReducePgRestore.
func TestRestoreProgress(t *testing.T) {
	piped := `pg_restore: connecting to database for restore
pg_restore: creating TABLE "public.tickets"
pg_restore: processing data for table "public.tickets"
pg_restore: creating CONSTRAINT "public.tickets tickets_pkey"
pg_restore: creating INDEX "public.tickets_queue_idx"
`
	parallel := `pg_restore: entering main parallel loop
pg_restore: launching item 3353 TABLE DATA tickets
pg_restore: finished item 3353 TABLE DATA tickets
pg_restore: launching item 3205 CONSTRAINT tickets tickets_pkey
pg_restore: creating CONSTRAINT "public.tickets tickets_pkey"
pg_restore: finished item 3354 TABLE DATA transactions
pg_restore: creating INDEX "public.transactions_ticket_idx"
`
	failed := `pg_restore: creating TABLE "public.contacts"
pg_restore: from TOC entry 3210; 1259 16390 INDEX contacts_email postgres
pg_restore: error: could not execute query: ERROR:  could not create unique index "contacts_email"
DETAIL:  Key (norm(email))=(alice@example.com) is duplicated.
`
	for _, tc := range []struct {
		name    string
		out     string
		endLine int // the line (0-based) whose arrival ends the load; -1: none
		kept    string
	}{
		{"piped", piped, 3, ""},
		{"parallel", parallel, 5, ""},
		{"failed", failed, -1, "pg_restore: from TOC entry 3210; 1259 16390 INDEX contacts_email postgres\npg_restore: error: could not execute query: ERROR:  could not create unique index \"contacts_email\"\nDETAIL:  Key (norm(email))=(alice@example.com) is duplicated.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &restoreProgress{}
			var arrived []time.Time
			for _, line := range strings.SplitAfter(tc.out, "\n") {
				// Two writes per line, the first ending mid-word.
				half := len(line) / 2
				_, _ = p.Write([]byte(line[:half]))
				_, _ = p.Write([]byte(line[half:]))
				arrived = append(arrived, time.Now())
				time.Sleep(2 * time.Millisecond)
			}
			end := p.loadEnd()
			switch {
			case tc.endLine < 0 && !end.IsZero():
				t.Errorf("load ended at %v, want never", end)
			case tc.endLine >= 0 && (end.Before(arrived[tc.endLine-1]) || end.After(arrived[tc.endLine])):
				t.Errorf("load ended at %v, want when line %d arrived (%v)", end, tc.endLine, arrived[tc.endLine])
			}
			if got := p.stderr(); got != tc.kept {
				t.Errorf("kept %q, want %q", got, tc.kept)
			}
		})
	}
}

// TestAddPhases sums databases' phases; one loaded in parallel makes the
// restore's method parallel.
func TestAddPhases(t *testing.T) {
	var sum *agentapi.RestorePhases
	sum = addPhases(sum, agentapi.RestorePhases{Method: agentapi.RestorePiped, Jobs: 1, Fetch: 1, Load: 2, Indexes: 3})
	sum = addPhases(sum, agentapi.RestorePhases{Method: agentapi.RestoreParallel, Jobs: 2, Fetch: 10, Load: 20, Indexes: 30})
	sum = addPhases(sum, agentapi.RestorePhases{Method: agentapi.RestorePiped, Jobs: 1, Fetch: 100, Load: 200, Indexes: 300})
	want := agentapi.RestorePhases{Method: agentapi.RestoreParallel, Jobs: 2, Fetch: 111, Load: 222, Indexes: 333}
	if *sum != want {
		t.Errorf("%+v, want %+v", *sum, want)
	}
}

// TestParallelRestoreRule: parallel only with 2 jobs or more, a scratch
// directory, a dump of the minimum size whose size the manifest records,
// that fits both the directory's limit and the disk with 10 % of it left
// free.
func TestParallelRestoreRule(t *testing.T) {
	const gib = int64(1) << 30
	saved := diskSpace
	t.Cleanup(func() { diskSpace = saved })
	withDump := func(n int64) agentapi.Manifest {
		return agentapi.Manifest{Database: &agentapi.DatabaseManifest{DumpBytes: n}}
	}
	a := &Runner{}
	for _, tc := range []struct {
		name         string
		jobs         int
		dir          string
		scratchBytes int64
		avail, total int64
		m            agentapi.Manifest
		want         bool
	}{
		{"room to spare", 2, "/s", 0, 20 * gib, 100 * gib, withDump(9 * gib), true},
		{"the file would leave the disk under 10 % free", 2, "/s", 0, 20 * gib, 100 * gib, withDump(9*gib + gib/2), false},
		{"over the directory's limit", 2, "/s", 4 * gib, 20 * gib, 100 * gib, withDump(4 * gib), false},
		{"within the directory's limit", 2, "/s", 5 * gib, 20 * gib, 100 * gib, withDump(4 * gib), true},
		{"one CPU", 1, "/s", 0, 20 * gib, 100 * gib, withDump(gib), false},
		{"no scratch directory", 2, "", 0, 20 * gib, 100 * gib, withDump(gib), false},
		{"small dump", 2, "/s", 0, 20 * gib, 100 * gib, withDump(ParallelRestoreMinBytes - 1), false},
		{"size not recorded (older backup)", 2, "/s", 0, 20 * gib, 100 * gib, withDump(0), false},
		{"no database manifest", 2, "/s", 0, 20 * gib, 100 * gib, agentapi.Manifest{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diskSpace = func(string) (int64, int64, error) { return tc.avail, tc.total, nil }
			got := a.parallelRestore(agentapi.RestoreConfig{Jobs: tc.jobs, ScratchDir: tc.dir, ScratchBytes: tc.scratchBytes}, tc.m)
			if got != tc.want {
				t.Errorf("parallel %v, want %v", got, tc.want)
			}
		})
	}
}

// TestFetchLetsResticFinish: a restic that has written the whole dump may
// still be running (removing its lock) when the reader reaches the end; the
// fetch waits for it rather than interrupting it, which would fail a whole
// dump (an e2e drill under load failed with "restic: signal interrupt
// received"). A restic that outlasts the grace is still interrupted.
func TestFetchLetsResticFinish(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "restic")
	// Writes the dump, closes its stdout, then takes a while to exit; an
	// interrupt makes it fail, as restic does.
	script := "#!/bin/sh\ntrap 'echo signal interrupt received >&2; exit 130' INT\nprintf 'PGDMP-whole-dump'\nexec 1>&-\nsleep 1 & wait\nexit 0\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	a := &Runner{Restic: &Restic{Binary: fake}}

	f, err := a.startFetch(context.Background(), "latest", nil, "helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	file, n, err := f.toFile(dir)
	if err != nil || n != int64(len("PGDMP-whole-dump")) {
		t.Fatalf("toFile = %s, %d, %v; want the whole dump and no error", file, n, err)
	}

	before := finishGrace
	finishGrace = 100 * time.Millisecond
	t.Cleanup(func() { finishGrace = before })
	f, err = a.startFetch(context.Background(), "latest", nil, "helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.toFile(dir); err == nil || !strings.Contains(err.Error(), "signal interrupt received") {
		t.Errorf("a restic still running after the grace: %v, want it interrupted", err)
	}
}
