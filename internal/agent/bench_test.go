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
	"slices"
	"strconv"
	"strings"
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
// (default 1024) of help-desk data: tickets, their transactions (the
// correspondence, most of the bytes) and attachments.
func seedLarge(b *testing.B, f *fixture) {
	sizeMB := 1024
	if v, err := strconv.Atoi(os.Getenv("BENCH_DB_MB")); err == nil && v > 0 {
		sizeMB = v
	}
	tickets := sizeMB * 1024 * 1024 / 1250 // ~1.25 kB per ticket with its three transactions, attachments and indexes
	b.Logf("seeding %d tickets (~%d MB)...", tickets, sizeMB)
	f.pg.Exec(b, "helpdesk", `CREATE TABLE rt_tickets (id bigint PRIMARY KEY, queue int, subject text, status text, owner int, created timestamptz, updated timestamptz);
		CREATE TABLE rt_transactions (id bigserial PRIMARY KEY, ticket bigint, kind text, body text, created timestamptz);
		CREATE INDEX ON rt_transactions (ticket);
		CREATE TABLE rt_attachments (id bigserial PRIMARY KEY, ticket bigint, filename text, content bytea)`,
		fmt.Sprintf(`INSERT INTO rt_tickets SELECT g, g %% 12, 'Ticket ' || g || ': ' || (ARRAY['printer','vpn','password','laptop','mail'])[1 + g %% 5] || ' problem', (ARRAY['new','open','stalled','resolved'])[1 + g %% 4], g %% 40,
			timestamptz '2024-01-01' + g * interval '20 seconds', timestamptz '2024-01-01' + g * interval '20 seconds' + interval '3 hours' FROM generate_series(1, %d) g`, tickets),
		fmt.Sprintf(`INSERT INTO rt_transactions (ticket, kind, body, created) SELECT 1 + g / 3, (ARRAY['Create','Correspond','Comment'])[1 + g %% 3],
			'Hello, ' || md5(g::text) || E'\n' || repeat(md5((g %% 5000)::text) || ' ', 6) || E'\nRegards', timestamptz '2024-01-01' + g * interval '7 seconds'
			FROM generate_series(0, %d) g`, tickets*3-1),
		fmt.Sprintf(`INSERT INTO rt_attachments (ticket, filename, content) SELECT g * 40, 'scan-' || g || '.pdf', decode(string_agg(md5(g::text || ':' || i), ''), 'hex')
			FROM generate_series(1, %d) g, generate_series(1, 64) i GROUP BY g`, tickets/40),
		"VACUUM ANALYZE")
	b.Logf("database size: %s", f.pg.QueryString(b, "helpdesk", "SELECT pg_size_pretty(pg_database_size('helpdesk'))"))
}

// aDay is a realistic day of help-desk changes on the seeded database: new
// tickets appended with their correspondence (0.5 %), recent tickets
// updated (status, owner: 3,300 of them) and a few attachments added (20
// of 100 kB, incompressible).
func aDay(b *testing.B, f *fixture) {
	f.pg.Exec(b, "helpdesk",
		`INSERT INTO rt_tickets SELECT m + g, g % 12, 'New ticket ' || g, 'new', 0, now(), now()
			FROM (SELECT max(id) m FROM rt_tickets) x, generate_series(1, (SELECT count(*) / 200 FROM rt_tickets)) g`,
		`INSERT INTO rt_transactions (ticket, kind, body, created) SELECT id, 'Create', 'Hello, ' || md5(id::text) || ' my screen is black', now()
			FROM rt_tickets WHERE status = 'new' AND owner = 0 AND created > now() - interval '1 hour'`,
		`UPDATE rt_tickets SET status = 'resolved', owner = 7, updated = now() WHERE id IN (SELECT id FROM rt_tickets ORDER BY id DESC OFFSET 20000 LIMIT 3300)`,
		`INSERT INTO rt_attachments (ticket, filename, content) SELECT g, 'photo-' || g || '.jpg', decode(string_agg(md5(random()::text), ''), 'hex')
			FROM generate_series(1, 20) g, generate_series(1, 6400) i GROUP BY g`)
}

// dirBytes is the size of the files under dir.
func dirBytes(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// agentPeakKB reads the agent's own peak RSS from its last log line.
func agentPeakKB(b *testing.B, log string) int64 {
	i := strings.LastIndex(log, agentPeakRSSLine)
	if i < 0 {
		b.Fatalf("the agent logged no peak RSS:\n%s", log)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(log[i+len(agentPeakRSSLine):], "\n", 2)[0]), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// agentPeakRSSLine is cmd/agent's PeakRSSLine (a main package cannot be
// imported).
const agentPeakRSSLine = "agent peak RSS KiB (own, children excluded): "

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	slices.Sort(s)
	return s[len(s)/2]
}

func buildAgent(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "agent")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/agent").CombinedOutput(); err != nil {
		b.Fatalf("building the agent: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkBackupLarge compares the agent's backup of a large help-desk
// database (BENCH_DB_MB, default 1024) with the fastest pipeline found by
// hand with the same tools, each into its own fresh repository, alternated
// over BENCH_ROUNDS (default 3) rounds, medians; then the repository's
// growth after a realistic day of changes (aDay) against its full size,
// for the agent and for the pipeline the agent used to run. Run with
// -benchtime=1x (make bench does).
func BenchmarkBackupLarge(b *testing.B) {
	f := newFixture(b)
	seedLarge(b, f)
	bin := buildAgent(b)
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	pgEnv, err := agentapi.LibpqEnv(f.pg.URI("helpdesk"))
	if err != nil {
		b.Fatal(err)
	}
	repoEnv := func(repo string) []string { return append(append([]string{}, f.env...), "RESTIC_REPOSITORY="+repo) }
	initRepo := func(repo string) {
		cmd := exec.Command("restic", "init")
		cmd.Env = repoEnv(repo)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("restic init: %v\n%s", err, out)
		}
	}
	agentRun := func(repo string) (run, int64) {
		cmd := exec.Command(bin, "backup", "--termination-log", "", "--config",
			agentapi.Args(agentapi.OperationBackup, json.RawMessage(`{"policy":"bench/agent","postgres":[{"name":"tickets","uriEnv":"TEST_PG_URI","databases":["helpdesk"]}]}`))[2])
		cmd.Env = repoEnv(repo)
		var out, log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &log
		r, err := measure(cmd)
		if err != nil {
			b.Fatalf("agent: %v\n%s%s", err, out.String(), log.String())
		}
		return r, agentPeakKB(b, log.String())
	}
	// A pipe from pg_dump's arguments into restic backup --stdin.
	piped := func(dumpArgs []string, resticArgs ...string) func(repo string) run {
		return func(repo string) run {
			dump := exec.Command("pg_dump", append([]string{"--no-password"}, dumpArgs...)...)
			dump.Env = append(os.Environ(), pgEnv...)
			store := exec.Command("restic", append([]string{"backup", "--json", "--stdin", "--stdin-filename", "helpdesk.dump"}, resticArgs...)...)
			store.Env = repoEnv(repo)
			pipe, err := dump.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			store.Stdin, store.Stdout = pipe, io.Discard
			r, err := measure(store, dump)
			if err != nil {
				b.Fatal(err)
			}
			return r
		}
	}
	// pg_dump's directory format with 2 jobs, then restic backup of it.
	directory := func(repo string) run {
		dir := filepath.Join(b.TempDir(), "dump")
		dump := exec.Command("pg_dump", "--no-password", "--format=directory", "--jobs=2", "--compress=0", "--file", dir)
		dump.Env = append(os.Environ(), pgEnv...)
		start := time.Now()
		r1, err := measure(dump)
		if err != nil {
			b.Fatal(err)
		}
		store := exec.Command("restic", "backup", "--json", dir)
		store.Env, store.Stdout = repoEnv(repo), io.Discard
		r2, err := measure(store)
		if err != nil {
			b.Fatal(err)
		}
		_ = os.RemoveAll(dir)
		return run{wall: time.Since(start), maxKB: max(r1.maxKB, r2.maxKB)}
	}
	pipelines := []struct {
		name string
		run  func(repo string) run
	}{
		{"pg_dump -Fc | restic --stdin (the agent's pipeline before)", piped([]string{"--format=custom"})},
		{"pg_dump -Fc -Z0 | restic --stdin --compression auto", piped([]string{"--format=custom", "--compress=0"}, "--compression", "auto")},
		{"pg_dump -Fd -j2 -Z0, then restic backup of the directory", directory},
	}
	agentTimes := make([]time.Duration, 0, rounds)
	var agentPeak, agentTreePeak int64
	handTimes := make([][]time.Duration, len(pipelines))
	for round := range rounds {
		// Each in a fresh repository, the order rotated every round.
		for k := range len(pipelines) + 1 {
			i := (k + round) % (len(pipelines) + 1)
			repo := filepath.Join(b.TempDir(), "repo")
			initRepo(repo)
			if i == len(pipelines) {
				r, own := agentRun(repo)
				agentTimes = append(agentTimes, r.wall)
				agentPeak, agentTreePeak = max(agentPeak, own), max(agentTreePeak, r.maxKB)
				continue
			}
			handTimes[i] = append(handTimes[i], pipelines[i].run(repo).wall)
		}
	}
	best := 0
	for i, p := range pipelines {
		b.Logf("by hand: %s: median %.2fs of %v", p.name, median(handTimes[i]).Seconds(), handTimes[i])
		if median(handTimes[i]) < median(handTimes[best]) {
			best = i
		}
	}
	ratio := median(agentTimes).Seconds() / median(handTimes[best]).Seconds()
	b.Logf("agent: median %.2fs of %v; own peak RSS %d MiB (goal <= 64), with pg_dump and restic %d MiB", median(agentTimes).Seconds(), agentTimes, agentPeak/1024, agentTreePeak/1024)
	b.Logf("full backup: agent / fastest by hand (%s) = %.2f (goal <= 1.10)", pipelines[best].name, ratio)
	// A day's increment: the agent's repository and one the old pipeline
	// fills, each with a full backup, then the day, then one more backup.
	agentRepo, oldRepo := filepath.Join(b.TempDir(), "agent-repo"), filepath.Join(b.TempDir(), "old-repo")
	initRepo(agentRepo)
	initRepo(oldRepo)
	agentRun(agentRepo)
	pipelines[0].run(oldRepo)
	agentFull, oldFull := dirBytes(b, agentRepo), dirBytes(b, oldRepo)
	aDay(b, f)
	agentRun(agentRepo)
	pipelines[0].run(oldRepo)
	agentGrowth, oldGrowth := dirBytes(b, agentRepo)-agentFull, dirBytes(b, oldRepo)-oldFull
	b.Logf("a day's increment: agent %.1f MB of %.1f MB full (%.2f%%, goal <= 5%%); the old pipeline %.1f MB of %.1f MB (%.2f%%)",
		float64(agentGrowth)/1e6, float64(agentFull)/1e6, 100*float64(agentGrowth)/float64(agentFull),
		float64(oldGrowth)/1e6, float64(oldFull)/1e6, 100*float64(oldGrowth)/float64(oldFull))
	for b.Loop() {
	}
	// After b.Loop, which resets what was reported before it.
	b.ReportMetric(ratio, "full-ratio")
	b.ReportMetric(median(agentTimes).Seconds(), "full-agent-s")
	b.ReportMetric(median(handTimes[best]).Seconds(), "full-fastest-byhand-s")
	b.ReportMetric(float64(agentPeak)/1024, "agent-own-peak-MiB")
	b.ReportMetric(100*float64(agentGrowth)/float64(agentFull), "day-increment-%")
	b.ReportMetric(100*float64(oldGrowth)/float64(oldFull), "day-increment-old-%")
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
		agentapi.Args(agentapi.OperationBackup, json.RawMessage(`{"policy":"bench/drill","postgres":[{"name":"tickets","uriEnv":"TEST_PG_URI","databases":["helpdesk"]}]}`))[2])
	backup.Env = f.env
	var stderr bytes.Buffer
	backup.Stderr = &stderr
	out, err := backup.Output()
	if err != nil {
		b.Fatalf("backup: %v\n%s%s", err, out, stderr.String())
	}
	res, err := agentapi.DecodeResult(bytes.TrimSpace(out))
	if err != nil || len(res.Snapshots) == 0 {
		b.Fatalf("backup result %s: %v", out, err)
	}
	snapshot := res.Snapshots[0].ID

	// byHand returns the time to start a scratch server and the time of
	// createdb + the restore: restic dump | pg_restore, or (parallel)
	// restic dump to a file, then pg_restore --jobs 2 of it.
	byHand := func(parallel bool) (server, restore time.Duration) {
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
		args := []string{"--no-owner", "--no-privileges", "--exit-on-error", "--no-password", "--dbname", "helpdesk"}
		if parallel {
			file := filepath.Join(b.TempDir(), "helpdesk.dump")
			out, err := os.Create(file)
			if err != nil {
				b.Fatal(err)
			}
			dump.Stdout = out
			if _, err := measure(dump); err != nil {
				b.Fatal(err)
			}
			_ = out.Close()
			load := exec.Command("pg_restore", append(args, "--jobs", "2", file)...)
			load.Env = append(os.Environ(), pgEnv...)
			if _, err := measure(load); err != nil {
				b.Fatal(err)
			}
			_ = os.Remove(file)
			return server, time.Since(start)
		}
		pgRestore := exec.Command("pg_restore", args...)
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
		restored := step("restore", "--termination-log", "", "--config", agentapi.Args(agentapi.OperationRestore, json.RawMessage(
			`{"policy":"bench/drill","snapshot":"latest","postgres":[{"source":"tickets","database":"helpdesk","targetURIEnv":"SANDBOX_URI"}],
			"checker":{"name":"`+checkerRole+`","passwordEnv":"CHECKER_PASSWORD"},"jobs":2,"scratchDir":"`+b.TempDir()+`"}`))[2])
		restore = time.Since(t0)
		if p := restored.Phases; p != nil {
			b.Logf("agent restore: %s, %d jobs: fetch %.1fs, load %.1fs, indexes %.1fs", p.Method, p.Jobs, p.Fetch, p.Load, p.Indexes)
		}
		// As the operator does: the verify Job reads the manifest the
		// restore names from the repository, and runs as the checker.
		if len(restored.Restored) != 1 || restored.Restored[0].ManifestSHA256 == "" {
			b.Fatalf("restore reported %+v", restored.Restored)
		}
		r := restored.Restored[0]
		checks := agentapi.Args(agentapi.OperationVerify, agentapi.VerifyJob{Checks: []agentapi.VerifyCheck{
			{Name: "rows", Database: "helpdesk", TargetURIEnv: "CHECKER_URI", Tables: &agentapi.TableComparison{
				From: &agentapi.ManifestRef{Policy: "bench/drill", Source: "tickets", Database: "helpdesk", Snapshot: r.ID, SHA256: r.ManifestSHA256}}},
			{Name: "present", Database: "helpdesk", TargetURIEnv: "CHECKER_URI", SQL: "SELECT count(*) FROM rt_tickets", Min: &one},
		}})
		t0 = time.Now()
		v := step("verify", "--termination-log", "", "--config", checks[2])
		verify = time.Since(t0)
		if !v.AllPassed {
			b.Fatalf("the drill's checks failed on a faithful restore: %+v", v.Checks)
		}
		return provision, restore, verify
	}
	// Alternate the order so caches favour neither; the ratio is of the
	// medians over all iterations (make bench runs 3), against the faster
	// of the two ways by hand.
	var drills, pipes, parallels, servers []time.Duration
	for i := 0; b.Loop(); i++ {
		order := []int{0, 1, 2}
		if i%2 == 1 {
			order = []int{2, 1, 0}
		}
		for _, k := range order {
			switch k {
			case 0:
				server, hand := byHand(false)
				servers, pipes = append(servers, server), append(pipes, hand)
			case 1:
				p, r, v := drill()
				drills = append(drills, p+r+v)
				b.Logf("drill RTO %.1fs (provision %.1fs, restore %.1fs, verify %.1fs)", (p + r + v).Seconds(), p.Seconds(), r.Seconds(), v.Seconds())
			case 2:
				server, hand := byHand(true)
				servers, parallels = append(servers, server), append(parallels, hand)
			}
		}
	}
	server := median(servers)
	pipe, parallel := server+median(pipes), server+median(parallels)
	fastest, how := min(pipe, parallel), "restic dump | pg_restore"
	if parallel < pipe {
		how = "restic dump to a file, pg_restore --jobs 2"
	}
	ratio := median(drills).Seconds() / fastest.Seconds()
	b.Logf("by hand (scratch server %.1fs +): restic dump | pg_restore %.1fs; restic dump to a file, pg_restore --jobs 2 %.1fs", server.Seconds(), pipe.Seconds(), parallel.Seconds())
	b.Logf("drill RTO median %.1fs of %v vs fastest by hand (%s) %.1fs: ratio %.2f (goal <= 1.15)", median(drills).Seconds(), drills, how, fastest.Seconds(), ratio)
	b.ReportMetric(ratio, "rto-ratio")
	b.ReportMetric(median(drills).Seconds(), "drill-rto-s")
	b.ReportMetric(fastest.Seconds(), "fastest-byhand-s")
}
