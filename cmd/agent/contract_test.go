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

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportstack/operator/internal/agentapi"
)

// contractHarness runs the agent's entry point with restic, pg_dump and
// pg_restore replaced by a script that records that it ran, against an
// empty repository directory.
type contractHarness struct {
	dir, marker, repo, termination string
}

func newContractHarness(t *testing.T) *contractHarness {
	t.Helper()
	h := &contractHarness{dir: t.TempDir()}
	h.marker = filepath.Join(h.dir, "ran")
	h.repo = filepath.Join(h.dir, "repo")
	h.termination = filepath.Join(h.dir, "termination-log")
	if err := os.Mkdir(h.repo, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho \"$0 $*\" >>" + h.marker + "\nexit 1\n"
	for _, name := range []string{"restic", "pg_dump", "pg_restore"} {
		if err := os.WriteFile(filepath.Join(h.dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("RESTIC_REPOSITORY", h.repo)
	t.Setenv("RESTIC_PASSWORD", "contract-test")
	t.Setenv("PG_TICKETS", "postgresql://app@127.0.0.1:1/helpdesk")
	t.Setenv("SANDBOX_URI", "postgresql://postgres@127.0.0.1:1/postgres")
	return h
}

func (h *contractHarness) run(op, config string) (code int, stdout, stderr string) {
	var out, errs bytes.Buffer
	code = run([]string{op, "--" + agentapi.ConfigFlag, config, "--termination-log", h.termination,
		"--restic", filepath.Join(h.dir, "restic"), "--pg-dump", filepath.Join(h.dir, "pg_dump"),
		"--pg-restore", filepath.Join(h.dir, "pg_restore"), "--connect-patience", "0s"}, &out, &errs)
	return code, out.String(), errs.String()
}

// ran reports what the fake binaries recorded; repoEntries what is in the
// repository directory.
func (h *contractHarness) ran(t *testing.T) string {
	b, err := os.ReadFile(h.marker)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func (h *contractHarness) repoEntries(t *testing.T) int {
	entries, err := os.ReadDir(h.repo)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// withVersion rewrites the contract version of a configuration the
// manager wrote: present false removes it (a manager from before contract
// versions).
func withVersion(t *testing.T, config string, version int, present bool) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(config), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, agentapi.ContractField)
	if present {
		m[agentapi.ContractField] = version
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const contractPolicy = "helpdesk/nightly"

// contractConfigs is one configuration of each operation, as the manager
// writes them.
func contractConfigs() map[string]string {
	one := int64(1)
	cfg := agentapi.Config{Policy: contractPolicy,
		Postgres:  []agentapi.PostgresSource{{Name: "tickets", URIEnv: "PG_TICKETS", Databases: []string{"helpdesk"}}},
		Retention: agentapi.Retention{KeepDaily: 7}}
	return map[string]string{
		agentapi.OperationBackup: agentapi.Args(agentapi.OperationBackup, cfg)[2],
		agentapi.OperationPrune:  agentapi.Args(agentapi.OperationPrune, cfg)[2],
		agentapi.OperationCheck:  agentapi.Args(agentapi.OperationCheck, cfg)[2],
		agentapi.OperationRestore: agentapi.Args(agentapi.OperationRestore, agentapi.RestoreConfig{Policy: contractPolicy, Snapshot: "latest",
			Postgres: []agentapi.RestoreDatabase{{Source: "tickets", Database: "helpdesk", TargetURIEnv: "SANDBOX_URI"}}})[2],
		agentapi.OperationVerify: agentapi.Args(agentapi.OperationVerify, agentapi.VerifyJob{
			Checks:       agentapi.VerifyConfig{{Name: "present", Database: "helpdesk", TargetURIEnv: "SANDBOX_URI", SQL: "SELECT 1", Min: &one}},
			MarkVerified: &agentapi.MarkVerified{Policy: contractPolicy, RecoverySet: "helpdesk-backup-1"}})[2],
	}
}

// An agent given a configuration of another contract version (the next
// one, or none at all) runs nothing: it exits with ExitContractMismatch
// and leaves, in the termination log, the failed result of its operation
// with the refusal the manager records in status.
func TestAgentRefusesAnotherContractVersion(t *testing.T) {
	for op, config := range contractConfigs() {
		for _, tc := range []struct {
			name       string
			version    int
			present    bool
			wantConfig string
		}{
			{"next version", agentapi.ContractVersion + 1, true, "a config of contract v2"},
			{"no version", 0, false, "a config without a contract version"},
		} {
			t.Run(op+"/"+tc.name, func(t *testing.T) {
				h := newContractHarness(t)
				code, stdout, stderr := h.run(op, withVersion(t, config, tc.version, tc.present))
				if code != agentapi.ExitContractMismatch {
					t.Errorf("exit code %d, want %d\nstderr: %s", code, agentapi.ExitContractMismatch, stderr)
				}
				if ran := h.ran(t); ran != "" {
					t.Errorf("the agent ran a program on a refused configuration:\n%s", ran)
				}
				if n := h.repoEntries(t); n != 0 {
					t.Errorf("the repository directory holds %d entries after a refusal", n)
				}
				msg := h.readRefusal(t, op)
				if !agentapi.IsContractMismatch(msg) || !strings.Contains(msg, tc.wantConfig) || !strings.Contains(msg, "deploy them together") {
					t.Errorf("termination message error %q: not the contract refusal naming %q", msg, tc.wantConfig)
				}
				if !strings.Contains(stderr, msg) || !strings.Contains(stdout, "agent contract v") {
					t.Errorf("the pod log lacks the refusal:\nstdout: %s\nstderr: %s", stdout, stderr)
				}
			})
		}
	}
}

// readRefusal decodes the termination log as the manager does for op and
// returns its error line, checking the rest of the result says failed.
func (h *contractHarness) readRefusal(t *testing.T, op string) string {
	t.Helper()
	b, err := os.ReadFile(h.termination)
	if err != nil {
		t.Fatalf("no termination log: %v", err)
	}
	if op == agentapi.OperationRestore || op == agentapi.OperationVerify {
		r, err := agentapi.DecodeDrillResult(b)
		if err != nil || r.Operation != op || !r.DrillError || r.AllPassed {
			t.Errorf("drill result %s: want operation %s, drillError, not passed (%v)", b, op, err)
		}
		return r.Error
	}
	r, err := agentapi.DecodeResult(b)
	if err != nil || r.Operation != op || r.Succeeded || r.Policy != contractPolicy {
		t.Errorf("result %s: want operation %s, policy %s, not succeeded (%v)", b, op, contractPolicy, err)
	}
	return r.Error
}

// The control: the same harness notices when the agent does run, so the
// refusal test's "nothing ran" is not vacuous. With its own contract
// version the backup reaches pg_dump or restic (which fail here).
func TestAgentRunsItsOwnContractVersion(t *testing.T) {
	for _, op := range []string{agentapi.OperationBackup, agentapi.OperationPrune, agentapi.OperationRestore} {
		t.Run(op, func(t *testing.T) {
			h := newContractHarness(t)
			code, _, stderr := h.run(op, contractConfigs()[op])
			if code == agentapi.ExitContractMismatch || code == 0 {
				t.Errorf("exit code %d with the agent's own contract version and failing tools\nstderr: %s", code, stderr)
			}
			if h.ran(t) == "" {
				t.Errorf("neither restic nor pg_dump ran\nstderr: %s", stderr)
			}
		})
	}
}

// A manager of a later version may also pass a flag this agent does not
// know: the refusal still reaches the termination log, not a usage error.
func TestAgentRefusesALaterManagersFlags(t *testing.T) {
	h := newContractHarness(t)
	config := withVersion(t, contractConfigs()[agentapi.OperationBackup], agentapi.ContractVersion+1, true)
	var out, errs bytes.Buffer
	code := run([]string{agentapi.OperationBackup, "--future-flag", "x", "--" + agentapi.ConfigFlag + "=" + config,
		"--termination-log", h.termination}, &out, &errs)
	if code != agentapi.ExitContractMismatch {
		t.Fatalf("exit code %d, want %d\nstderr: %s", code, agentapi.ExitContractMismatch, errs.String())
	}
	if msg := h.readRefusal(t, agentapi.OperationBackup); !agentapi.IsContractMismatch(msg) {
		t.Errorf("termination message %q is not the contract refusal", msg)
	}
	// Its own version with an unknown flag stays a usage error.
	if code := run([]string{agentapi.OperationBackup, "--future-flag", "x", "--" + agentapi.ConfigFlag,
		contractConfigs()[agentapi.OperationBackup]}, &out, &errs); code != 2 {
		t.Errorf("exit code %d for an unknown flag, want 2", code)
	}
}
