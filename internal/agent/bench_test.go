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
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/agent/pgtest"
	"github.com/supportstack/operator/internal/agentapi"
)

// run measures a finished process: wall time and the largest resident set
// of the process or any descendant it waited for.
type run struct {
	wall  time.Duration
	maxKB int64
}

func measure(cmds ...*exec.Cmd) (run, error) {
	start := time.Now()
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			return run{}, err
		}
	}
	var r run
	var firstErr error
	for _, c := range cmds {
		if err := c.Wait(); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", filepath.Base(c.Path), err)
		}
		if u, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok && u.Maxrss > r.maxKB {
			r.maxKB = u.Maxrss
		}
	}
	r.wall = time.Since(start)
	return r, firstErr
}

// seedLarge fills the fixture's helpdesk database with BENCH_DB_MB
// (default 1024) of ticket rows.
func seedLarge(b *testing.B, f *fixture) {
	sizeMB := 1024
	if v, err := strconv.Atoi(os.Getenv("BENCH_DB_MB")); err == nil && v > 0 {
		sizeMB = v
	}
	rows := sizeMB * 1024 * 1024 / 325 // about 325 bytes per row on disk, indexes included
	b.Logf("seeding %d rows (~%d MB)...", rows, sizeMB)
	f.pg.Exec(b, "helpdesk", fmt.Sprintf(`CREATE TABLE bulk (id bigint PRIMARY KEY, subject text, body text);
		INSERT INTO bulk SELECT g, 'Ticket ' || g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 17)::text) || repeat(md5((g %% 1000)::text), 3)
		FROM generate_series(1, %d) g`, rows), "VACUUM ANALYZE bulk")
	b.Logf("database size: %s", f.pg.QueryString(b, "helpdesk", "SELECT pg_size_pretty(pg_database_size('helpdesk'))"))
}

func buildAgent(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "agent")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/agent").CombinedOutput(); err != nil {
		b.Fatalf("building the agent: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkBackupLarge compares the agent's backup of a large database
// (BENCH_DB_MB, default 1024) with the same work done by hand,
// pg_dump --format=custom | restic backup --stdin, in the same run, then
// both again after changing 1 % of the rows. Run with -benchtime=1x
// (make bench does): one backup is the unit of work.
func BenchmarkBackupLarge(b *testing.B) {
	f := newFixture(b)
	seedLarge(b, f)
	bin := buildAgent(b)
	agentRun := func(repo string) run {
		cmd := exec.Command(bin, "backup", "--termination-log", "", "--config",
			`{"policy":"bench/agent","postgres":[{"name":"tickets","uriEnv":"TEST_PG_URI","databases":["helpdesk"]}]}`)
		cmd.Env = append(append([]string{}, f.env...), "RESTIC_REPOSITORY="+repo)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		r, err := measure(cmd)
		if err != nil {
			b.Fatalf("agent: %v\n%s", err, out.String())
		}
		return r
	}
	byHand := func(repo string) run {
		pgEnv, err := agentapi.LibpqEnv(f.pg.URI("helpdesk"))
		if err != nil {
			b.Fatal(err)
		}
		dump := exec.Command("pg_dump", "--format=custom", "--no-password")
		dump.Env = append(os.Environ(), pgEnv...)
		store := exec.Command("restic", "backup", "--json", "--stdin", "--stdin-filename", "helpdesk.dump", "--tag", "policy=bench/hand")
		store.Env = append(append([]string{}, f.env...), "RESTIC_REPOSITORY="+repo)
		pipe, err := dump.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		store.Stdin = pipe
		store.Stdout = io.Discard
		r, err := measure(store, dump)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	initRepo := func(repo string) {
		cmd := exec.Command("restic", "init")
		cmd.Env = append(append([]string{}, f.env...), "RESTIC_REPOSITORY="+repo)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("restic init: %v\n%s", err, out)
		}
	}
	agentRepo, handRepo := filepath.Join(b.TempDir(), "agent-repo"), filepath.Join(b.TempDir(), "hand-repo")
	initRepo(agentRepo)
	initRepo(handRepo)

	report := func(what string, a, h run) {
		ratio := a.wall.Seconds() / h.wall.Seconds()
		b.Logf("%s: agent %.1fs, %d MB peak; by hand %.1fs, %d MB peak; time ratio %.2f (goal <= 1.10)",
			what, a.wall.Seconds(), a.maxKB/1024, h.wall.Seconds(), h.maxKB/1024, ratio)
		b.ReportMetric(ratio, what+"-ratio")
		b.ReportMetric(a.wall.Seconds(), what+"-agent-s")
		b.ReportMetric(h.wall.Seconds(), what+"-byhand-s")
		b.ReportMetric(float64(a.maxKB/1024), what+"-agent-peak-MB")
		b.ReportMetric(float64(h.maxKB/1024), what+"-byhand-peak-MB")
	}
	for b.Loop() {
		// Alternate the order so caches favour neither.
		h := byHand(handRepo)
		a := agentRun(agentRepo)
		report("full", a, h)
		f.pg.Exec(b, "helpdesk", "UPDATE bulk SET subject = subject || ' (edited)' WHERE id % 100 = 0")
		a = agentRun(agentRepo)
		h = byHand(handRepo)
		report("incremental", a, h)
	}
}

// BenchmarkDrillLarge measures a drill's recovery time for the large
// database the way a DRDrillRun does, minus the Kubernetes scheduling:
// provisioning a fresh scratch server, the agent's restore (restic dump |
// pg_restore, manifest lookup) and its verify (row counts against the
// manifest, an SQL check). The baseline, in the same run, is the same
// recovery by hand: start a scratch server, createdb, restic dump |
// pg_restore. Goal: ratio <= 1.15. The ratio against the pipe alone (a
// server already running) is printed too.
func BenchmarkDrillLarge(b *testing.B) {
	one := int64(1)
	f := newFixture(b)
	seedLarge(b, f)
	bin := buildAgent(b)
	backup := exec.Command(bin, "backup", "--termination-log", "", "--config",
		`{"policy":"bench/drill","postgres":[{"name":"tickets","uriEnv":"TEST_PG_URI","databases":["helpdesk"]}]}`)
	backup.Env = f.env
	out, err := backup.CombinedOutput()
	if err != nil {
		b.Fatalf("backup: %v\n%s", err, out)
	}
	res, err := agentapi.DecodeResult(bytes.TrimSpace(out))
	if err != nil || len(res.Snapshots) == 0 {
		b.Fatalf("backup result %s: %v", out, err)
	}
	snapshot := res.Snapshots[0].ID

	// byHand returns the time to start a scratch server and the time of
	// createdb + restic dump | pg_restore into it.
	byHand := func() (server, restore time.Duration) {
		t0 := time.Now()
		scratch := pgtest.Start(b)
		server = time.Since(t0)
		start := time.Now()
		scratch.Exec(b, "postgres", "CREATE DATABASE helpdesk")
		pgEnv, err := agentapi.LibpqEnv(scratch.URI("helpdesk"))
		if err != nil {
			b.Fatal(err)
		}
		dump := exec.Command("restic", "dump", "--no-lock", snapshot, "helpdesk.dump")
		dump.Env = f.env
		pgRestore := exec.Command("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--no-password", "--dbname", "helpdesk")
		pgRestore.Env = append(os.Environ(), pgEnv...)
		pipe, err := dump.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		pgRestore.Stdin = pipe
		if _, err := measure(pgRestore, dump); err != nil {
			b.Fatal(err)
		}
		return server, time.Since(start)
	}
	drill := func() (provision, restore, verify time.Duration) {
		start := time.Now()
		sandbox := pgtest.Start(b)
		provision = time.Since(start)
		env := append(append([]string{}, f.env...), "SANDBOX_URI="+sandbox.URI("postgres"), "CHECKER_PASSWORD="+checkerPassword,
			"CHECKER_URI="+checkerURI(sandbox))
		step := func(args ...string) agentapi.DrillResult {
			cmd := exec.Command(bin, args...)
			cmd.Env = env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				b.Fatalf("agent %s: %v\n%s", args[0], err, stderr.String())
			}
			r, err := agentapi.DecodeDrillResult(bytes.TrimSpace(stdout.Bytes()))
			if err != nil {
				b.Fatal(err)
			}
			return r
		}
		t0 := time.Now()
		restored := step("restore", "--termination-log", "", "--config",
			`{"policy":"bench/drill","snapshot":"latest","postgres":[{"source":"tickets","database":"helpdesk","targetURIEnv":"SANDBOX_URI"}],
			"checker":{"name":"`+checkerRole+`","passwordEnv":"CHECKER_PASSWORD"}}`)
		restore = time.Since(t0)
		// As the operator does: the verify Job reads the manifest the
		// restore names from the repository, and runs as the checker.
		if len(restored.Restored) != 1 || restored.Restored[0].ManifestSHA256 == "" {
			b.Fatalf("restore reported %+v", restored.Restored)
		}
		r := restored.Restored[0]
		checks, _ := json.Marshal([]agentapi.VerifyCheck{
			{Name: "rows", Database: "helpdesk", TargetURIEnv: "CHECKER_URI", Tables: &agentapi.TableComparison{
				From: &agentapi.ManifestRef{Policy: "bench/drill", Source: "tickets", Database: "helpdesk", Snapshot: r.ID, SHA256: r.ManifestSHA256}}},
			{Name: "present", Database: "helpdesk", TargetURIEnv: "CHECKER_URI", SQL: "SELECT count(*) FROM bulk", Min: &one},
		})
		t0 = time.Now()
		v := step("verify", "--termination-log", "", "--config", string(checks))
		verify = time.Since(t0)
		if !v.AllPassed {
			b.Fatalf("the drill's checks failed on a faithful restore: %+v", v.Checks)
		}
		return provision, restore, verify
	}
	// Alternate the order so caches favour neither; the ratio is of the
	// totals over all iterations (make bench runs 3).
	var drillTotal, handTotal, pipeTotal time.Duration
	for i := 0; b.Loop(); i++ {
		var server, hand, p, r, v time.Duration
		if i%2 == 0 {
			server, hand = byHand()
			p, r, v = drill()
		} else {
			p, r, v = drill()
			server, hand = byHand()
		}
		rto := p + r + v
		drillTotal, handTotal, pipeTotal = drillTotal+rto, handTotal+server+hand, pipeTotal+hand
		b.Logf("drill RTO %.1fs (provision %.1fs, restore %.1fs, verify %.1fs) vs by hand %.1fs (scratch server %.1fs, restic dump | pg_restore %.1fs)",
			rto.Seconds(), p.Seconds(), r.Seconds(), v.Seconds(), (server + hand).Seconds(), server.Seconds(), hand.Seconds())
	}
	ratio := drillTotal.Seconds() / handTotal.Seconds()
	b.Logf("over %d runs: drill %.1fs vs by hand %.1fs: ratio %.2f (goal <= 1.15); against the pipe alone %.2f",
		b.N, drillTotal.Seconds(), handTotal.Seconds(), ratio, drillTotal.Seconds()/pipeTotal.Seconds())
	b.ReportMetric(ratio, "rto-ratio")
	b.ReportMetric(drillTotal.Seconds()/pipeTotal.Seconds(), "rto-ratio-vs-pipe")
	b.ReportMetric(drillTotal.Seconds()/float64(b.N), "drill-rto-s")
	b.ReportMetric(handTotal.Seconds()/float64(b.N), "byhand-s")
}
