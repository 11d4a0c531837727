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

package agentapi

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var updateShape = flag.Bool("update", false, "rewrite testdata/contract-shape.txt")

// Every configuration the manager passes carries the contract version, the
// agent's check accepts it, and the operation's parser reads back exactly
// what was written (the added member changes nothing else).
func TestArgsCarryContract(t *testing.T) {
	one := int64(1)
	for _, tc := range []struct {
		name  string
		op    string
		cfg   any
		parse func(string) (any, error)
	}{
		{"empty backup", OperationBackup, Config{}, func(s string) (any, error) { return decodeStrict[Config](s) }},
		{"backup", OperationBackup, Config{Policy: "helpdesk/nightly", Postgres: []PostgresSource{{Name: "tickets", URIEnv: "PG_TICKETS", Databases: []string{"helpdesk"}}},
			Volumes: []VolumeSource{{Name: "files", Path: "/data/files"}}, Retention: Retention{KeepDaily: 7}, StaleLockAge: Duration{2 * time.Hour}, ExactCountMaxRows: 10_000_000},
			func(s string) (any, error) { return ParseConfig(s) }},
		{"prune", OperationPrune, Config{Policy: "helpdesk/nightly", Retention: Retention{KeepLast: 3, KeepMonthly: 12}, StaleLockAge: Duration{time.Hour}, ExactCountMaxRows: 5},
			func(s string) (any, error) { return ParseConfig(s) }},
		{"restore", OperationRestore, RestoreConfig{Policy: "helpdesk/nightly", Snapshot: "latest", Jobs: 2, ScratchDir: "/tmp", ScratchBytes: 1 << 30,
			Postgres: []RestoreDatabase{{Source: "tickets", Database: "helpdesk", TargetURIEnv: "SANDBOX_URI"}}, Checker: &CheckerRole{Name: "checker", PasswordEnv: "CHECKER_PASSWORD"}},
			func(s string) (any, error) { return ParseRestoreConfig(s) }},
		{"verify", OperationVerify, VerifyJob{Checks: VerifyConfig{{Name: "present", Database: "helpdesk", TargetURIEnv: "CHECKER_URI", SQL: "SELECT 1", Min: &one}},
			MarkVerified: &MarkVerified{Policy: "helpdesk/nightly", RecoverySet: "helpdesk-backup-29000000"}},
			func(s string) (any, error) { return ParseVerifyConfig(s) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := Args(tc.op, tc.cfg)
			if len(args) != 3 || args[0] != tc.op || args[1] != "--"+ConfigFlag {
				t.Fatalf("Args = %q, want [%s --%s JSON]", args, tc.op, ConfigFlag)
			}
			var members map[string]json.RawMessage
			if err := json.Unmarshal([]byte(args[2]), &members); err != nil {
				t.Fatalf("the configuration is not a JSON object: %v\n%s", err, args[2])
			}
			if got := string(members[ContractField]); got != fmt.Sprint(ContractVersion) {
				t.Errorf("%s = %q, want %d", ContractField, got, ContractVersion)
			}
			if err := CheckContract(args[2]); err != nil {
				t.Errorf("the agent refuses the manager's own configuration: %v", err)
			}
			got, err := tc.parse(args[2])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.cfg) {
				t.Errorf("read back %+v, want %+v", got, tc.cfg)
			}
		})
	}
}

// decodeStrict reads a configuration as the agent's parsers do, without
// their defaults (so that the zero configuration compares equal).
func decodeStrict[T any](s string) (T, error) {
	var v T
	err := json.Unmarshal([]byte(s), &v)
	return v, err
}

// A list (the old bare verify configuration) or a null cannot carry the
// version: Args refuses to write one rather than send an agent a config it
// will refuse.
func TestArgsPanicsOnNonObject(t *testing.T) {
	for _, cfg := range []any{VerifyConfig{{Name: "x"}}, (*Config)(nil), "text"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Args(%T) did not panic", cfg)
				}
			}()
			Args(OperationVerify, cfg)
		}()
	}
}

func TestCheckContract(t *testing.T) {
	v := ContractVersion
	for _, tc := range []struct {
		name   string
		config string
		want   int // the configuration's version in the refusal; -1: accepted
	}{
		{"this version", fmt.Sprintf(`{"contractVersion":%d,"policy":"a/b"}`, v), -1},
		{"this version, not first", fmt.Sprintf(`{"policy":"a/b","contractVersion":%d}`, v), -1},
		{"next version", fmt.Sprintf(`{"contractVersion":%d,"policy":"a/b"}`, v+1), v + 1},
		{"previous version", fmt.Sprintf(`{"contractVersion":%d}`, v-1), v - 1},
		{"no version (a manager from before versions)", `{"policy":"a/b"}`, 0},
		{"version as a string", fmt.Sprintf(`{"contractVersion":"%d"}`, v), 0},
		{"version as a fraction", fmt.Sprintf(`{"contractVersion":%d.5}`, v), 0},
		{"bare list of checks", `[{"name":"present"}]`, 0},
		{"null", `null`, 0},
		{"not JSON: left to the parser", `{"policy":`, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckContract(tc.config)
			if tc.want < 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce *ContractError
			if !errors.As(err, &ce) {
				t.Fatalf("CheckContract = %v, want a *ContractError", err)
			}
			if ce.Agent != v || ce.Config != tc.want {
				t.Errorf("refusal %+v, want agent %d config %d", *ce, v, tc.want)
			}
		})
	}
}

// The refusal says both versions and what to do, and the manager tells it
// from every other failure, whichever versions the two sides are.
func TestContractMismatchMessage(t *testing.T) {
	for _, e := range []*ContractError{{Agent: 1, Config: 2}, {Agent: 2, Config: 1}, {Agent: 12, Config: 0}} {
		msg := e.Error()
		if !IsContractMismatch(msg) {
			t.Errorf("IsContractMismatch(%q) = false", msg)
		}
		if !strings.Contains(msg, fmt.Sprintf("agent contract v%d", e.Agent)) || !strings.Contains(msg, "deploy them together") {
			t.Errorf("%q lacks the agent's version or the remedy", msg)
		}
		if e.Config != 0 && !strings.Contains(msg, fmt.Sprintf("contract v%d:", e.Config)) {
			t.Errorf("%q lacks the configuration's version", msg)
		}
	}
	for _, other := range []string{
		"", "restic: repository is already locked", "agent configuration: policy is empty",
		"backup failed: agent contract v1 cannot run a config of contract v2", // not at the start: another error quoting it
		"agent contract vX cannot run a config of contract v2",
	} {
		if IsContractMismatch(other) {
			t.Errorf("IsContractMismatch(%q) = true", other)
		}
	}
}

func TestConfigPolicy(t *testing.T) {
	for config, want := range map[string]string{
		Args(OperationBackup, Config{Policy: "helpdesk/nightly"})[2]: "helpdesk/nightly",
		`[{"name":"present"}]`: "", `{"policy":`: "", `{"policy":7}`: "",
	} {
		if got := ConfigPolicy(config); got != want {
			t.Errorf("ConfigPolicy(%s) = %q, want %q", config, got, want)
		}
	}
}

// TestContractShape lists every member of the configurations and results
// the two sides exchange, with its JSON name and Go type, against
// testdata/contract-shape.txt. A difference means the contract changed:
// if the other side's previous build can no longer read it, bump
// ContractVersion; then (or if it can) rewrite the file with -update.
func TestContractShape(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "contract v%d\n", ContractVersion)
	for _, v := range []any{Config{}, RestoreConfig{}, VerifyJob{}, Result{}, DrillResult{}} {
		describeShape(&b, reflect.TypeOf(v), reflect.TypeOf(v).Name(), map[reflect.Type]bool{})
	}
	path := filepath.Join("testdata", "contract-shape.txt")
	if *updateShape {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("the contract's shapes changed (bump ContractVersion if the other side's previous build cannot read them; then go test -run TestContractShape -update):\n--- %s\n%s\n--- now\n%s", path, want, got)
	}
}

var jsonMarshaler = reflect.TypeFor[json.Marshaler]()

// describeShape writes one line per member of struct type t (and of the
// structs it holds), as path: JSON name, Go type.
func describeShape(b *strings.Builder, t reflect.Type, path string, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t == reflect.TypeFor[time.Time]() {
		return
	}
	seen[t] = true
	if t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) {
		fmt.Fprintf(b, "%s: own JSON encoding\n", path)
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Tag.Get("json")
		if name == "-" {
			continue // not on the wire
		}
		fmt.Fprintf(b, "%s.%s: json %q, %s\n", path, f.Name, name, f.Type)
		describeShape(b, f.Type, path+"."+f.Name, seen)
	}
}
