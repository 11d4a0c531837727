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
	"fmt"
	"strings"
	"testing"
)

func TestLibpqEnv(t *testing.T) {
	env, err := LibpqEnv("postgresql://app:p%40ss@db.example:6432/helpdesk?sslmode=require&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(env, " ")
	for _, want := range []string{"PGHOST=db.example", "PGPORT=6432", "PGUSER=app", "PGPASSWORD=p@ss", "PGDATABASE=helpdesk", "PGSSLMODE=require", "PGCONNECT_TIMEOUT=5"} {
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %s", got, want)
		}
	}
	for _, tc := range []struct{ name, bad string }{
		{"not a postgres URI", "mysql://x"},
		{"keyword/value connection string", "host=db user=app password=pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.bad
			if _, err := LibpqEnv(bad); err == nil || strings.Contains(err.Error(), bad) {
				t.Errorf("LibpqEnv(%q) = %v: want an error that does not echo the URI", bad, err)
			}
		})
	}
	uri, err := DatabaseURI("postgresql://app:pw@db:5432/postgres?sslmode=disable", "helpdesk")
	if err != nil || uri != "postgresql://app:pw@db:5432/helpdesk?sslmode=disable" {
		t.Errorf("DatabaseURI = %q, %v", uri, err)
	}
}

func TestResultFitsTerminationMessage(t *testing.T) {
	r := Result{Operation: "backup", Policy: "ns/p", Succeeded: true}
	for i := 0; i < 200; i++ {
		r.Snapshots = append(r.Snapshots, Snapshot{Source: fmt.Sprintf("source-%d", i), ID: "0123abcd", Manifest: "89abcdef", Digest: strings.Repeat("f", 64)})
	}
	b := r.Encode()
	if len(b) > 4096 {
		t.Fatalf("%d bytes", len(b))
	}
	back, err := DecodeResult(b)
	if err != nil || len(back.Snapshots) == 0 || !back.Succeeded || back.Notes[len(back.Notes)-1] != truncatedNote || len(back.Notes) != 1 {
		t.Errorf("decoded %d snapshots, notes %v, err %v", len(back.Snapshots), back.Notes, err)
	}
}

func TestParseConfigRefusals(t *testing.T) {
	t.Setenv("SET_URI", "postgresql://x@y/z")
	for _, tc := range []struct{ name, cfg, want string }{
		{"truncated JSON", `{`, "agent configuration"},
		{"no policy", `{"postgres":[]}`, "policy is empty"},
		{"unset URI variable", `{"policy":"a/b","postgres":[{"name":"db","uriEnv":"UNSET_URI_FOR_TEST"}]}`, "environment variable UNSET_URI_FOR_TEST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, want := tc.cfg, tc.want
			if _, err := ParseConfig(cfg); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("ParseConfig(%s) = %v, want %q", cfg, err, want)
			}
		})
	}
	c, err := ParseConfig(`{"policy":"a/b","postgres":[{"name":"db","uriEnv":"SET_URI","databases":["z"]}],"staleLockAge":"30m"}`)
	if err != nil || c.StaleLockAge.Minutes() != 30 || c.ExactCountMaxRows != 10_000_000 {
		t.Errorf("%+v %v", c, err)
	}
}

func TestDrillResultFitsTerminationMessage(t *testing.T) {
	db := &DatabaseManifest{Name: "helpdesk", ServerVersion: "15.8"}
	for i := 0; i < 300; i++ {
		db.Tables = append(db.Tables, TableCount{Table: fmt.Sprintf("public.table_%03d", i), Rows: int64(i)})
	}
	m := Manifest{Policy: "ns/p", Source: "tickets", DataSnapshot: "0123abcd", Database: db}
	r := DrillResult{Operation: "restore", Restored: []Restored{{Source: "tickets", Database: "helpdesk", ID: "0123abcd", Manifest: m}}}
	for i := 0; i < 64; i++ {
		r.Checks = append(r.Checks, CheckResult{Name: fmt.Sprintf("check-%d", i), Passed: i%2 == 0, Expected: strings.Repeat("e", 300), Observed: strings.Repeat("o", 300)})
	}
	b := r.Encode()
	if len(b) > 4096 {
		t.Fatalf("%d bytes", len(b))
	}
	back, err := DecodeDrillResult(b)
	if err != nil || len(back.Restored) != 1 || len(back.Checks)+back.ChecksOmitted != 64 || len(back.Checks) < 48 {
		t.Fatalf("decoded %+v, %v", back, err)
	}
	// The digest of the full manifest survives the trimming.
	if got := back.Restored[0]; got.ManifestSHA256 != m.Digest() || got.Manifest.Database.Tables != nil {
		t.Errorf("trimmed restore %+v, want digest %s", got, m.Digest())
	}
	// 64 checks with 63-character names cannot fit: passed ones go first.
	for i := range r.Checks {
		r.Checks[i].Name = fmt.Sprintf("%063d", i)
	}
	back, err = DecodeDrillResult(r.Encode())
	if err != nil || back.ChecksOmitted == 0 || len(back.Checks)+back.ChecksOmitted != 64 || back.Checks[0].Passed {
		t.Errorf("long names: %d checks, %d omitted, %v", len(back.Checks), back.ChecksOmitted, err)
	}
	for _, c := range back.Checks[:min(len(back.Checks), 32)] {
		if c.Passed {
			t.Errorf("a passed check %s was kept before a failed one", c.Name)
		}
	}
	small := DrillResult{Operation: "verify", Checks: []CheckResult{{Name: "a", Passed: true, Expected: ">= 1", Observed: "3"}}}
	if back, _ := DecodeDrillResult(small.Encode()); back.Checks[0] != small.Checks[0] {
		t.Errorf("a small result changed: %+v", back)
	}
}
