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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportstack/operator/internal/agent"
	"github.com/supportstack/operator/internal/agent/pgtest"
	"github.com/supportstack/operator/internal/agentapi"
)

func ptr64(v int64) *int64 { return &v }

// The checker role the restore creates in these tests, and its password.
const (
	checkerRole     = "supportstack_checker"
	checkerPassword = "checker-test-pw-0123"
)

// checkerURI connects to the sandbox as the checker role.
func checkerURI(sandbox *pgtest.Server) string {
	return fmt.Sprintf("postgresql://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", checkerRole, checkerPassword, sandbox.Port)
}

// TestDrillRestoreAndVerify restores the latest backup into a separate
// sandbox server and runs a drill's checks as the checker role the restore
// creates: they pass on a faithful copy, fail when the restored copy lost
// rows or an SQL expectation is not met, and a corrupted repository is an
// error of the drill, not a failed check.
func TestDrillRestoreAndVerify(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cfg := f.config(t)
	backup := f.runner(f.env).Backup(ctx, cfg)
	if !backup.Succeeded {
		t.Fatal(backup.Error)
	}
	sandbox := pgtest.Start(t)
	t.Setenv("SANDBOX_URI", sandbox.URI("postgres"))
	t.Setenv("CHECKER_PASSWORD", checkerPassword)
	t.Setenv("CHECKER_URI", checkerURI(sandbox))
	restoreTo := filepath.Join(t.TempDir(), "attachments")
	rcfg := agentapi.RestoreConfig{
		Policy:   cfg.Policy,
		Snapshot: "latest",
		Postgres: []agentapi.RestoreDatabase{{Source: "tickets", Database: "helpdesk", TargetURIEnv: "SANDBOX_URI"}},
		Volumes:  []agentapi.RestoreVolume{{Source: "attachments", SourcePath: f.attachments, Target: restoreTo}},
		Checker:  &agentapi.CheckerRole{Name: checkerRole, PasswordEnv: "CHECKER_PASSWORD"},
	}
	runner := f.runner(f.env)
	done, err := runner.Restore(ctx, rcfg)
	restored := done.Restored
	if err != nil {
		t.Fatal(err)
	}
	// The restore reports ids, times and the manifests' digests: the same
	// digests the backup recorded.
	if len(restored) != 2 || restored[0].ManifestSHA256 != backup.Snapshots[0].Digest || restored[1].ManifestSHA256 != backup.Snapshots[1].Digest {
		t.Fatalf("restored %+v, backup %+v", restored, backup.Snapshots)
	}
	if got, want := state(t, sandbox, "helpdesk"), state(t, f.pg, "helpdesk"); got != want {
		t.Errorf("sandbox %s, source %s", got, want)
	}
	ref := func(i int) *agentapi.ManifestRef {
		r := restored[i]
		return &agentapi.ManifestRef{Policy: cfg.Policy, Source: r.Source, Database: r.Database, Snapshot: r.ID, SHA256: r.ManifestSHA256}
	}
	restoredFiles := filepath.Join(restoreTo, f.attachments)

	checks := func(equals int64) []agentapi.VerifyCheck {
		return []agentapi.VerifyCheck{
			{Name: "tickets-present", Database: "helpdesk", TargetURIEnv: "CHECKER_URI", SQL: "SELECT count(*) FROM tickets", Min: ptr64(1)},
			{Name: "row-counts", Database: "helpdesk", TargetURIEnv: "CHECKER_URI", Tables: &agentapi.TableComparison{
				Tables: []string{"tickets", "articles", "kb.pages"}, From: ref(0)}},
			{Name: "attachments", Files: &agentapi.FileComparison{Path: restoredFiles, From: ref(1)}},
			{Name: "priorities", Database: "helpdesk", TargetURIEnv: "CHECKER_URI", SQL: "SELECT count(DISTINCT priority) FROM tickets", Equals: ptr64(equals)},
		}
	}
	results, err := runner.Verify(ctx, checks(5))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.Passed {
			t.Errorf("check %s failed on a faithful copy: %+v", r.Name, r)
		}
		t.Logf("%s: expected %s, observed %s", r.Name, r.Expected, r.Observed)
	}
	if results[0].Observed != "45000" || results[0].Expected != ">= 1" {
		t.Errorf("sql check %+v", results[0])
	}
	if !strings.HasPrefix(results[1].Expected, "public.tickets=45000, public.articles=50000") {
		t.Errorf("row counts compared with %q", results[1].Expected)
	}
	// Manifests come from the repository only, as the restore reported
	// them: one that is not there, one with another digest, and a
	// comparison naming none are errors of the drill.
	wrongDigest := ref(0)
	wrongDigest.SHA256 = strings.Repeat("0", 64)
	for _, tc := range []struct {
		name string
		cmp  *agentapi.TableComparison
		want string
	}{
		{"no such manifest", &agentapi.TableComparison{From: &agentapi.ManifestRef{Policy: cfg.Policy, Source: "tickets", Database: "helpdesk", Snapshot: "deadbeef"}}, "snapshot deadbeef has no manifest"},
		{"another digest", &agentapi.TableComparison{From: wrongDigest}, "the repository changed between the restore and the verification"},
		{"no reference", &agentapi.TableComparison{}, "names no manifest in the repository"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runner.Verify(ctx, []agentapi.VerifyCheck{{Name: "row-counts", Database: "helpdesk", TargetURIEnv: "CHECKER_URI", Tables: tc.cmp}})
			if !errors.As(err, new(*agent.DrillError)) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want a drill error with %q", err, tc.want)
			}
		})
	}

	t.Run("checks run as the checker role", func(t *testing.T) { checksRunAsChecker(t, runner, sandbox) })
	t.Run("observed holds numbers only", func(t *testing.T) { observedNumbersOnly(t, runner) })

	// The restored copy loses rows; one expectation is wrong.
	sandbox.Exec(t, "helpdesk", "DELETE FROM articles WHERE id % 10 = 0")
	results, err = runner.Verify(ctx, checks(4))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]agentapi.CheckResult{}
	for _, r := range results {
		byName[r.Name] = r
	}
	if r := byName["row-counts"]; r.Passed || r.Message != "public.articles has 45000 rows, 50000 at backup (-10.00%)" {
		t.Errorf("row counts after losing rows: %+v", r)
	}
	if r := byName["priorities"]; r.Passed || r.Observed != "5" || r.Expected != "= 4" {
		t.Errorf("sql expectation: %+v", r)
	}
	if !byName["tickets-present"].Passed || !byName["attachments"].Passed {
		t.Errorf("unaffected checks failed: %+v", results)
	}
	// The checks ran read-only: a check that tries to write is refused,
	// and the refusal is its SQLSTATE.
	results, err = runner.Verify(ctx, []agentapi.VerifyCheck{{Name: "sneaky", Database: "helpdesk", TargetURIEnv: "CHECKER_URI",
		SQL: "WITH d AS (DELETE FROM tickets RETURNING 1) SELECT count(*) FROM d", Min: ptr64(0)}})
	if err != nil || results[0].Passed || results[0].Message != "25006 read_only_sql_transaction (class 25 invalid transaction state)" {
		t.Errorf("writing check: %+v %v", results, err)
	}

	// A snapshot that does not exist, and a corrupted repository, are drill errors.
	missing := rcfg
	missing.Snapshot = "deadbeef"
	var drillErr *agent.DrillError
	if _, err := runner.Restore(ctx, missing); !errors.As(err, &drillErr) || !strings.Contains(err.Error(), `no recovery set or snapshot "deadbeef"`) {
		t.Errorf("missing snapshot: %v", err)
	}
	packs, _ := filepath.Glob(filepath.Join(f.repo, "data", "*", "*"))
	if len(packs) == 0 {
		t.Fatal("no pack files")
	}
	for _, p := range packs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(data) / 3; i < len(data)/3+64 && i < len(data); i++ {
			data[i] ^= 0xff
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sandbox.Exec(t, "postgres", "DROP DATABASE helpdesk")
	_, err = runner.Restore(ctx, rcfg)
	if !errors.As(err, &drillErr) || !strings.HasPrefix(err.Error(), "repository corrupt: ") {
		t.Errorf("corrupted pack: %v", err)
	}
	t.Logf("corrupted repository: %v", err)
}
