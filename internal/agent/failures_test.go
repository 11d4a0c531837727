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

	"github.com/supportstack/operator/internal/agentapi"
)

func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port
}

// dataSnapshots counts the data snapshots of the tickets source.
func (f *fixture) dataSnapshots(t *testing.T) int {
	n := 0
	for _, s := range f.snapshots(t) {
		if strings.Contains(strings.Join(s.Tags, ","), "source=tickets,kind=data") {
			n++
		}
	}
	return n
}

func writeScript(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pg_dump")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBackupFailures: each failure gives a failed result with a reason a
// person understands, and never a snapshot that claims success.
func TestBackupFailures(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cfg := f.config(t)
	if res := f.runner(f.env).Backup(ctx, cfg); !res.Succeeded {
		t.Fatalf("baseline backup: %s", res.Error)
	}
	baseline := f.dataSnapshots(t)

	t.Run("database down", func(t *testing.T) {
		port := closedPort(t)
		t.Setenv("TEST_PG_URI", fmt.Sprintf("postgresql://postgres:pw@127.0.0.1:%d/postgres", port))
		res := f.runner(f.env).Backup(ctx, cfg)
		want := fmt.Sprintf("database helpdesk: connection refused at 127.0.0.1:%d", port)
		if res.Succeeded || res.Error != want {
			t.Errorf("result %v %q, want failed with %q", res.Succeeded, res.Error, want)
		}
		if len(res.Snapshots) != 1 || res.Snapshots[0].Source != "attachments" {
			t.Errorf("snapshots %+v: the volume should still be backed up", res.Snapshots)
		}
	})

	t.Run("wrong database password", func(t *testing.T) {
		t.Setenv("TEST_PG_URI", strings.Replace(f.pg.URI("postgres"), "s3cret-test-pw", "wrong", 1))
		res := f.runner(f.env).Backup(ctx, cfg)
		if res.Succeeded || !strings.HasPrefix(res.Error, "database helpdesk: password authentication failed for user postgres at 127.0.0.1:") {
			t.Errorf("result %q", res.Error)
		}
		if strings.Contains(res.Error, "wrong") {
			t.Error("the password appears in the error")
		}
	})

	t.Run("wrong repository password", func(t *testing.T) {
		env := append(append([]string{}, f.env...), "RESTIC_PASSWORD=not the password")
		res := f.runner(env).Backup(ctx, cfg)
		if res.Succeeded || !strings.Contains(res.Error, "repository: wrong password") {
			t.Errorf("result %q", res.Error)
		}
	})

	t.Run("repository unreachable", func(t *testing.T) {
		env := append(append([]string{}, f.env...), fmt.Sprintf("RESTIC_REPOSITORY=rest:http://127.0.0.1:%d/helpdesk", closedPort(t)))
		res := f.runner(env).Backup(ctx, cfg)
		if res.Succeeded || !strings.HasPrefix(res.Error, "repository unreachable: ") {
			t.Errorf("result %q", res.Error)
		}
	})

	t.Run("pg_dump dies mid-stream", func(t *testing.T) {
		r := f.runner(f.env)
		r.PgDump = writeScript(t, `head -c 300000 /dev/urandom; echo "pg_dump: error: connection to server lost" >&2; exit 1`)
		res := r.Backup(ctx, cfg)
		if res.Succeeded || !strings.Contains(res.Error, "database helpdesk: pg_dump: pg_dump: error: connection to server lost") {
			t.Errorf("result %q", res.Error)
		}
	})

	t.Run("disk full", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Fatal("the disk-full case mounts a small tmpfs and needs root (CI runs as root)")
		}
		dir := t.TempDir()
		// restic compresses: 256 KiB holds the repository's keys and config,
		// not the compressed dump of ~100k rows.
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		defer func() { _ = exec.Command("umount", dir).Run() }()
		env := append(append([]string{}, f.env...), "RESTIC_REPOSITORY="+filepath.Join(dir, "repo"))
		res := f.runner(env).Backup(ctx, cfg)
		if res.Succeeded || !strings.Contains(res.Error, "disk full") {
			t.Errorf("result %q", res.Error)
		}
		for _, s := range res.Snapshots {
			if s.Source == "tickets" {
				t.Errorf("a database snapshot %s was reported on a full disk", s.ID)
			}
		}
	})

	if got := f.dataSnapshots(t); got != baseline {
		t.Errorf("%d database snapshots after the failures, %d before: a failed run left a snapshot", got, baseline)
	}
}

// TestKilledMidRun kills the agent (and restic) while a backup runs: no
// snapshot appears, the next backup succeeds, and the locks left are found
// stale and removed by the next prune.
func TestKilledMidRun(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cfg := f.config(t)
	if res := f.runner(f.env).Backup(ctx, cfg); !res.Succeeded {
		t.Fatalf("baseline backup: %s", res.Error)
	}
	baseline := f.dataSnapshots(t)

	bin := filepath.Join(t.TempDir(), "agent")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/agent").CombinedOutput(); err != nil {
		t.Fatalf("building the agent: %v\n%s", err, out)
	}
	slowDump := writeScript(t, `head -c 200000 /dev/urandom; sleep 60`)
	cfgArgs := agentapi.Args(agentapi.OperationBackup, agentapi.Config{Policy: "helpdesk/nightly",
		Postgres: []agentapi.PostgresSource{{Name: "tickets", URIEnv: "TEST_PG_URI", Databases: []string{"helpdesk"}}}})
	cmd := exec.Command(bin, append(cfgArgs,
		"--termination-log", filepath.Join(t.TempDir(), "termination"), "--pg-dump", slowDump)...)
	cmd.Env = append(append([]string{}, f.env...), "TEST_PG_URI="+f.pg.URI("postgres"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	becomeSubreaper(t)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for strings.TrimSpace(string(f.restic(t, "list", "locks", "--no-lock"))) == "" {
		if time.Now().After(deadline) {
			t.Fatal("the backup never took its lock")
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()
	reapGroup(t, cmd.Process.Pid)

	if got := f.dataSnapshots(t); got != baseline {
		t.Errorf("%d database snapshots after the kill, %d before", got, baseline)
	}
	cfg.StaleLockAge = agentapi.Duration{Duration: time.Millisecond}
	// The killed run's shared locks (its data backup's and its manifest's,
	// which starts alongside) do not stop the next backup...
	if res := f.runner(f.env).Backup(ctx, cfg); !res.Succeeded {
		t.Errorf("next backup: %q notes %v", res.Error, res.Notes)
	}
	// ...and the next prune, which needs the exclusive lock, finds them
	// stale and removes them.
	// One or two: the kill may come before the second restic takes its
	// lock.
	res := f.runner(f.env).Prune(ctx, cfg)
	removed := contains(res.Notes, "removed 1 stale lock(s)") || contains(res.Notes, "removed 2 stale lock(s)")
	if !res.Succeeded || !contains(res.Notes, "stale lock") || !removed {
		t.Errorf("next prune: %v %q notes %v", res.Succeeded, res.Error, res.Notes)
	}
	if locks := strings.TrimSpace(string(f.restic(t, "list", "locks", "--no-lock"))); locks != "" {
		t.Errorf("locks left: %s", locks)
	}
}

// becomeSubreaper makes the test process adopt its orphaned grandchildren.
// A killed agent's restic child is otherwise reparented to PID 1, and where
// PID 1 reaps late or never (a CI container), the zombie still answers
// kill(pid, 0): restic then takes its lock for a live one and keeps it.
func becomeSubreaper(t *testing.T) {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
}

// reapGroup waits until no process of the process group is left, reaping
// the ones reparented to this (subreaper) process.
func reapGroup(t *testing.T, pgid int) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := groupMembers(pgid)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v of the killed group are still there", left)
		}
		for _, pid := range left {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// groupMembers lists the processes (zombies included) of a process group.
func groupMembers(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command name (which may hold spaces) in ")":
		// state ppid pgrp ...
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		var state string
		var ppid, pgrp int
		if _, err := fmt.Sscanf(rest, " %s %d %d", &state, &ppid, &pgrp); err == nil && pgrp == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}
