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

// attachmentCount is how many files the tickets/attachments schema lists.
const attachmentCount = 200

// The files the help desk lost before its backup: one deleted, one cut short.
const (
	lostAttachment      = 17
	truncatedAttachment = 42
)

func attachmentPath(i int) string {
	return fmt.Sprintf("tickets/%d/attachment-%d.bin", 1+i%40, i)
}

// restoredHelpDesk is a help desk (database rt5, an attachments volume)
// backed up and restored into a sandbox by the agent, as a drill's restore
// Job does: the restored database is reached as the checker role through
// CHECKER_URI, the restored volume is at files.
type restoredHelpDesk struct {
	runner  *agent.Runner
	sandbox *pgtest.Server
	files   string
}

// restoreHelpDesk makes a help desk whose attachments table lists
// attachmentCount files with their sizes, loses two of the files before the
// backup when lose is set, backs it up and restores it into a sandbox.
func restoreHelpDesk(ctx context.Context, t *testing.T, lose bool) restoredHelpDesk {
	t.Helper()
	f := &fixture{pg: pgtest.Start(t), repo: filepath.Join(t.TempDir(), "repo"), attachments: filepath.Join(t.TempDir(), "attachments")}
	f.env = append(os.Environ(), "RESTIC_REPOSITORY="+f.repo, "RESTIC_PASSWORD=correct horse battery staple", "RESTIC_CACHE_DIR="+t.TempDir())
	t.Setenv("TEST_PG_URI", f.pg.URI("postgres"))
	f.pg.Exec(t, "postgres", "CREATE DATABASE rt5")
	rows := make([]string, 0, attachmentCount)
	for i := range attachmentCount {
		path, size := attachmentPath(i), 100+7*i
		if err := os.MkdirAll(filepath.Join(f.attachments, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(f.attachments, path), []byte(strings.Repeat("x", size)), 0o644); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, fmt.Sprintf("(%d, '%s', %d)", 1+i%40, path, size))
	}
	f.pg.Exec(t, "rt5",
		"CREATE TABLE tickets (id bigint PRIMARY KEY, subject text NOT NULL)",
		"INSERT INTO tickets SELECT g, 'Printer ' || g || ' does not print' FROM generate_series(1, 40) g",
		"CREATE TABLE attachments (id bigserial PRIMARY KEY, ticket_id bigint NOT NULL REFERENCES tickets, path text NOT NULL, size bigint NOT NULL)",
		"INSERT INTO attachments (ticket_id, path, size) VALUES "+strings.Join(rows, ", "))
	if lose {
		if err := os.Remove(filepath.Join(f.attachments, attachmentPath(lostAttachment))); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(filepath.Join(f.attachments, attachmentPath(truncatedAttachment)), 50); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := agentapi.ParseConfig(`{"policy":"helpdesk/nightly",
		"postgres":[{"name":"tickets","uriEnv":"TEST_PG_URI","databases":["rt5"]}],
		"volumes":[{"name":"attachments","path":"` + f.attachments + `"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	runner, sandbox, files, _ := f.backupAndRestore(ctx, t, cfg, "tickets")
	return restoredHelpDesk{runner: runner, sandbox: sandbox, files: files}
}

// backupAndRestore backs cfg up (its database rt5, from source, and the
// fixture's attachments) and restores the newest backup as a drill's
// restore Job does: the database into a new sandbox server, where it
// creates the checker role (reached through CHECKER_URI), the attachments
// under a new directory (files).
func (f *fixture) backupAndRestore(ctx context.Context, t *testing.T, cfg agentapi.Config, source string) (runner *agent.Runner, sandbox *pgtest.Server, files string, restored agent.Restoration) {
	t.Helper()
	runner = f.runner(f.env)
	if res := runner.Backup(ctx, cfg); !res.Succeeded {
		t.Fatal(res.Error)
	}
	sandbox = pgtest.Start(t)
	t.Setenv("SANDBOX_URI", sandbox.URI("postgres"))
	t.Setenv("CHECKER_PASSWORD", checkerPassword)
	t.Setenv("CHECKER_URI", checkerURI(sandbox))
	target := filepath.Join(t.TempDir(), "restore")
	restored, err := runner.Restore(ctx, agentapi.RestoreConfig{Policy: cfg.Policy, Snapshot: "latest",
		Postgres: []agentapi.RestoreDatabase{{Source: source, Database: "rt5", TargetURIEnv: "SANDBOX_URI"}},
		Volumes:  []agentapi.RestoreVolume{{Source: "attachments", SourcePath: f.attachments, Target: target}},
		Checker:  &agentapi.CheckerRole{Name: checkerRole, PasswordEnv: "CHECKER_PASSWORD"}})
	if err != nil {
		t.Fatal(err)
	}
	return runner, sandbox, filepath.Join(target, f.attachments), restored
}

// check is a referencedFiles check on the restored help desk.
func (h restoredHelpDesk) check(name, sql string) agentapi.VerifyCheck {
	return agentapi.VerifyCheck{Name: name, Database: "rt5", TargetURIEnv: "CHECKER_URI",
		ReferencedFiles: &agentapi.ReferencedFiles{Path: h.files, SQL: sql}}
}

// verify runs checks and returns their results, each one as the operator
// would record it (and fails the test if the operator would not).
func (h restoredHelpDesk) verify(ctx context.Context, t *testing.T, checks ...agentapi.VerifyCheck) []agentapi.CheckResult {
	t.Helper()
	results, err := h.runner.Verify(ctx, checks)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if _, kept := agentapi.RecordableReferencedFilesCheck(r); !kept {
			t.Errorf("the operator would not record %+v", r)
		}
		for _, text := range []string{r.Observed, r.Message, r.Expected} {
			if strings.Contains(text, "attachment-") || strings.Contains(text, "/") {
				t.Errorf("check %s reports a path: %q", r.Name, text)
			}
		}
	}
	return results
}

// TestReferencedFilesDataPath: a help desk's attachments table lists 200
// files with their sizes. Backed up whole and restored, a referencedFiles
// check passes; backed up after one file was deleted and another cut short,
// the restored copy fails it with missing 1, size mismatched 1 (and, without
// the size column, missing 1 only), in counts, never a path.
func TestReferencedFilesDataPath(t *testing.T) {
	ctx := context.Background()
	all := fmt.Sprintf("checked %d, missing 0, size mismatched 0, invalid 0", attachmentCount)
	for _, tc := range []struct {
		name                string
		lose                bool
		withSize, pathsOnly string
		passed              bool
	}{
		{"all agree", false, all, all, true},
		{"one lost, one truncated", true,
			fmt.Sprintf("checked %d, missing 1, size mismatched 1, invalid 0", attachmentCount),
			fmt.Sprintf("checked %d, missing 1, size mismatched 0, invalid 0", attachmentCount), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := restoreHelpDesk(ctx, t, tc.lose)
			results := h.verify(ctx, t,
				h.check("attachments-present", "SELECT path, size FROM attachments"),
				h.check("attachments-exist", "SELECT a.path FROM attachments a JOIN tickets t ON t.id = a.ticket_id"))
			for i, want := range []string{tc.withSize, tc.pathsOnly} {
				r := results[i]
				if r.Observed != want || r.Passed != tc.passed || r.Expected != agentapi.ReferencedFilesExpected {
					t.Errorf("%s: %+v, want observed %q, passed %v", r.Name, r, want, tc.passed)
				}
				t.Logf("%s: observed %s; %s", r.Name, r.Observed, r.Message)
			}
			if !tc.lose {
				return
			}
			// The restored database lists the lost files; without their
			// rows it agrees with the volume again.
			h.sandbox.Exec(t, "rt5", fmt.Sprintf("DELETE FROM attachments WHERE path IN ('%s', '%s')", attachmentPath(lostAttachment), attachmentPath(truncatedAttachment)))
			r := h.verify(ctx, t, h.check("attachments-present", "SELECT path, size FROM attachments"))[0]
			if want := fmt.Sprintf("checked %d, missing 0, size mismatched 0, invalid 0", attachmentCount-2); !r.Passed || r.Observed != want {
				t.Errorf("after deleting the lost files' rows: %+v, want passed, %s", r, want)
			}
		})
	}
}

// TestReferencedFilesNeverLeaveTheVolume: rows naming files outside the
// restored volume (../../etc/passwd, an absolute path, a symbolic link in
// the restored volume pointing out) are invalid rows, and give the same
// counts whether the file outside exists or not, so a drill author cannot
// learn what is outside the volume. Malformed queries and rows fail the
// check with counts or a fixed message (a numeric size is read as an
// integer); a query over the row limit fails
// it without reading the rest; a volume that is not there is an error of
// the drill.
func TestReferencedFilesNeverLeaveTheVolume(t *testing.T) {
	ctx := context.Background()
	h := restoreHelpDesk(ctx, t, false)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A restored volume may hold links a person or a program made in the
	// source; these point out of it.
	for name, target := range map[string]string{
		"tickets/1/exists":  filepath.Join(outside, "secret.txt"),
		"tickets/1/missing": filepath.Join(outside, "nosuch.txt"),
		"tickets/2/exists":  strings.Repeat("../", 40) + strings.TrimPrefix(filepath.Join(outside, "secret.txt"), "/"),
		"tickets/2/missing": strings.Repeat("../", 40) + strings.TrimPrefix(filepath.Join(outside, "nosuch.txt"), "/"),
	} {
		if err := os.Symlink(target, filepath.Join(h.files, name)); err != nil {
			t.Fatal(err)
		}
	}
	relOutside, err := filepath.Rel(h.files, outside)
	if err != nil {
		t.Fatal(err)
	}
	h.sandbox.Exec(t, "rt5", "CREATE TABLE probes (name text, path text, size bigint)",
		fmt.Sprintf(`INSERT INTO probes VALUES
			('dot-dot etc/passwd', '../../etc/passwd', NULL), ('dot-dot etc/nosuch', '../../etc/nosuch', NULL),
			('deep etc/passwd', '%[1]setc/passwd', NULL), ('deep etc/nosuch', '%[1]setc/nosuch', NULL),
			('absolute exists', '%[2]s/secret.txt', 6), ('absolute missing', '%[2]s/nosuch.txt', 6),
			('relative exists', '%[3]s/secret.txt', 6), ('relative missing', '%[3]s/nosuch.txt', 6),
			('absolute link exists', 'tickets/1/exists', 6), ('absolute link missing', 'tickets/1/missing', 6),
			('relative link exists', 'tickets/2/exists', 6), ('relative link missing', 'tickets/2/missing', 6)`,
			strings.Repeat("../", 40), outside, relOutside))
	const invalidOne = "checked 1, missing 0, size mismatched 0, invalid 1"
	for _, pair := range [][2]string{
		{"dot-dot etc/passwd", "dot-dot etc/nosuch"},
		{"deep etc/passwd", "deep etc/nosuch"},
		{"absolute exists", "absolute missing"},
		{"relative exists", "relative missing"},
		{"absolute link exists", "absolute link missing"},
		{"relative link exists", "relative link missing"},
	} {
		t.Run(pair[0], func(t *testing.T) {
			results := h.verify(ctx, t,
				h.check("exists", "SELECT path, size FROM probes WHERE name = '"+pair[0]+"'"),
				h.check("missing", "SELECT path, size FROM probes WHERE name = '"+pair[1]+"'"))
			if results[0].Observed != invalidOne || results[1].Observed != invalidOne || results[0].Message != results[1].Message {
				t.Errorf("a file outside the volume that exists: %+v; one that does not: %+v; want both %q", results[0], results[1], invalidOne)
			}
		})
	}

	limit := agentapi.MaxReferencedFiles
	for _, tc := range []struct {
		name, sql, observed, message string
		passed                       bool
	}{
		{"a NULL path, a negative and a NULL size", `VALUES (NULL::text, 1::bigint), ('` + attachmentPath(0) + `', -1), ('` + attachmentPath(0) + `', NULL)`,
			"checked 3, missing 0, size mismatched 0, invalid 3", "", false},
		{"a path of another type", "SELECT ticket_id, size FROM attachments", fmt.Sprintf("checked %d, missing 0, size mismatched 0, invalid %d", attachmentCount, attachmentCount), "", false},
		{"a fractional size", "SELECT path, size + 0.5 FROM attachments LIMIT 3", "checked 3, missing 0, size mismatched 0, invalid 3", "", false},
		{"a numeric size", "SELECT path, size::numeric FROM attachments", fmt.Sprintf("checked %d, missing 0, size mismatched 0, invalid 0", attachmentCount), "", true},
		{"three columns", "SELECT path, size, id FROM attachments", "", agentapi.ReferencedFilesColumns("q", 3), false},
		{"no such table", "SELECT path FROM attachment", agentapi.ObservedError, "42P01 undefined_table (class 42 syntax error or access rule violation)", false},
		{"a write", "WITH d AS (DELETE FROM attachments RETURNING path) SELECT path FROM d", agentapi.ObservedError, "25006 read_only_sql_transaction (class 25 invalid transaction state)", false},
		{"reading a server file", "SELECT pg_read_file('/etc/passwd')", agentapi.ObservedError, "42501 insufficient_privilege (class 42 syntax error or access rule violation)", false},
		{"rows up to the limit", fmt.Sprintf("SELECT ''::text FROM generate_series(1, %d)", limit), fmt.Sprintf("checked %d, missing 0, size mismatched 0, invalid %d", limit, limit), "", false},
		{"a row over the limit", fmt.Sprintf("SELECT ''::text FROM generate_series(1, %d)", limit+1), fmt.Sprintf("checked %d, missing 0, size mismatched 0, invalid %d", limit, limit), agentapi.TooManyReferencedFiles("q"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.verify(ctx, t, h.check("q", tc.sql))[0]
			if r.Passed != tc.passed || r.Observed != tc.observed || (tc.message != "" && r.Message != tc.message) {
				t.Errorf("%+v, want passed %v, observed %q, message %q", r, tc.passed, tc.observed, tc.message)
			}
		})
	}

	noVolume := h.check("q", "SELECT path FROM attachments")
	noVolume.ReferencedFiles.Path = filepath.Join(t.TempDir(), "not-restored")
	if _, err := h.runner.Verify(ctx, []agentapi.VerifyCheck{noVolume}); !errors.As(err, new(*agent.DrillError)) || !strings.Contains(err.Error(), "the restored volume cannot be opened") {
		t.Errorf("a volume that is not there: %v, want a drill error", err)
	}
}
