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
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, want := tc.cfg, tc.want
			if _, err := ParseConfig(cfg); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("ParseConfig(%s) = %v, want %q", cfg, err, want)
			}
		})
	}
	c, err := ParseConfig(`{"policy":"a/b","postgres":[{"name":"db","uriEnv":"SET_URI","databases":["z"]}],"staleLockAge":"30m"}`)
	if err != nil || c.StaleLockAge.Minutes() != 30 || c.ExactCountMaxRows != 10_000_000 || c.CheckConnections() != nil {
		t.Errorf("%+v %v", c, err)
	}
	// A prune or check pod has no URI: its configuration still parses;
	// a backup refuses it.
	c, err = ParseConfig(`{"policy":"a/b","postgres":[{"name":"db","uriEnv":"UNSET_URI_FOR_TEST"}]}`)
	if err != nil {
		t.Errorf("a configuration without the URI's variable: %v", err)
	}
	if err := c.CheckConnections(); err == nil || !strings.Contains(err.Error(), "environment variable UNSET_URI_FOR_TEST") {
		t.Errorf("CheckConnections = %v", err)
	}
}

func TestDrillResultFitsTerminationMessage(t *testing.T) {
	db := &DatabaseManifest{Name: "helpdesk", ServerVersion: "15.8"}
	for i := 0; i < 300; i++ {
		db.Tables = append(db.Tables, TableCount{Table: fmt.Sprintf("public.table_%03d", i), Rows: int64(i)})
	}
	m := Manifest{Policy: "ns/p", Source: "tickets", DataSnapshot: "0123abcd", Database: db}
	r := DrillResult{Operation: "restore", Restored: []Restored{{Source: "tickets", Database: "helpdesk", ID: "0123abcd", ManifestSHA256: m.Digest()}}}
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
	// The digest of the manifest survives the trimming of the checks.
	if got := back.Restored[0]; got.ManifestSHA256 != m.Digest() {
		t.Errorf("restore %+v, want digest %s", got, m.Digest())
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

// fortyDatabases is the restore of 40 databases of one source, each with
// its snapshot id, time and manifest digest.
func fortyDatabases(n int) DrillResult {
	start := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	r := DrillResult{Operation: OperationRestore, Start: start, End: start.Add(4 * time.Minute)}
	for i := 0; i < n; i++ {
		sum := sha256.Sum256([]byte(fmt.Sprint(i)))
		r.Restored = append(r.Restored, Restored{Source: "tickets", Database: fmt.Sprintf("tenant_%02d", i), ID: fmt.Sprintf("%08x", 0xa0000000+i),
			Time: start.Add(-3*time.Hour + time.Duration(i)*time.Second), ManifestSHA256: hex.EncodeToString(sum[:])})
	}
	return r
}

// TestRestoreResultFitsFortyDatabases: a restore result carries ids, times
// and digests only, compactly enough for 40 databases; it round-trips
// exactly (the digest is hex again, the time to the second). More than fit
// are counted as left out, never an oversized message.
func TestRestoreResultFitsFortyDatabases(t *testing.T) {
	for _, tc := range []struct {
		name      string
		databases int
		omitted   bool
	}{
		{"one database", 1, false},
		{"forty databases", 40, false},
		{"two hundred databases", 200, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fortyDatabases(tc.databases)
			b := r.Encode()
			if len(b) > terminationLimit {
				t.Fatalf("%d databases encode to %d bytes", tc.databases, len(b))
			}
			back, err := DecodeDrillResult(b)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(back.Restored) + back.RestoredOmitted; got != tc.databases || (back.RestoredOmitted > 0) != tc.omitted {
				t.Fatalf("%d restored + %d omitted, want %d (omitted: %v)", len(back.Restored), back.RestoredOmitted, tc.databases, tc.omitted)
			}
			for i, x := range back.Restored {
				if x != r.Restored[i] {
					t.Errorf("restored[%d] = %+v, want %+v", i, x, r.Restored[i])
				}
			}
			t.Logf("%d databases: %d bytes", tc.databases, len(b))
		})
	}
}

// escapeHeavy is a backup error whose characters JSON escapes: 3.6 KB that
// encode to about 15 KB.
var escapeHeavy = strings.Repeat("\"<>&\u0001", 720)

// TestResultsMeasuredAfterEncoding: a result is cut by its encoded size, so
// an error heavy in characters JSON escapes fits, cut on a character
// boundary and marked as truncated, with the snapshots it reports kept.
func TestResultsMeasuredAfterEncoding(t *testing.T) {
	if len(escapeHeavy) != 3600 {
		t.Fatalf("fixture is %d bytes", len(escapeHeavy))
	}
	backup := Result{Operation: OperationBackup, Policy: "helpdesk/nightly", Error: "restic: " + escapeHeavy,
		Snapshots: []Snapshot{{Source: "tickets", Database: "helpdesk", ID: "0123abcd", Manifest: "89abcdef", Digest: strings.Repeat("f", 64)}}}
	b := backup.Encode()
	back, err := DecodeResult(b)
	if len(b) > terminationLimit || err != nil || len(back.Snapshots) != 1 || !strings.HasSuffix(back.Error, TruncatedMarker) ||
		!strings.HasPrefix(backup.Error, strings.TrimSuffix(back.Error, TruncatedMarker)) || !utf8.ValidString(back.Error) {
		t.Errorf("backup result of %d bytes: %d snapshots, error %.60q…, %v", len(b), len(back.Snapshots), back.Error, err)
	}
	drill := fortyDatabases(30)
	drill.Error, drill.DrillError = escapeHeavy, true
	b = drill.Encode()
	dback, err := DecodeDrillResult(b)
	if len(b) > terminationLimit || err != nil || !strings.HasSuffix(dback.Error, TruncatedMarker) || !dback.DrillError || len(dback.Restored) != 30 {
		t.Errorf("drill result of %d bytes: %d restored, error %.60q…, %v", len(b), len(dback.Restored), dback.Error, err)
	}
}

// FuzzResultEncode: whatever the error and the number of snapshots, checks
// and restored databases, the encoded results fit and decode.
func FuzzResultEncode(f *testing.F) {
	f.Add(escapeHeavy, 0, 0)
	f.Add(strings.Repeat("é\u2028\x00", 2000), 100, 70)
	f.Add("short", 3, 3)
	f.Fuzz(func(t *testing.T, msg string, snapshots, checks int) {
		snapshots, checks = max(0, snapshots%300), max(0, checks%100)
		r := Result{Operation: OperationBackup, Policy: "ns/p", Error: msg, Notes: []string{msg}}
		for i := 0; i < snapshots; i++ {
			r.Snapshots = append(r.Snapshots, Snapshot{Source: msg, ID: "0123abcd"})
		}
		if b := r.Encode(); len(b) > terminationLimit {
			t.Fatalf("backup result: %d bytes", len(b))
		} else if _, err := DecodeResult(b); err != nil {
			t.Fatal(err)
		}
		d := fortyDatabases(snapshots % 120)
		d.Error = msg
		for i := 0; i < checks; i++ {
			d.Checks = append(d.Checks, CheckResult{Name: fmt.Sprintf("check-%d", i), Message: msg, Expected: msg, Observed: "1"})
		}
		if b := d.Encode(); len(b) > terminationLimit {
			t.Fatalf("drill result: %d bytes", len(b))
		} else if _, err := DecodeDrillResult(b); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRecordableSQLCheck: the operator keeps an SQL check's result only in
// the shapes the agent writes; a verify pod that reports a row value in any
// field (a compromised or an old agent) has the check failed and nothing
// of it recorded.
func TestRecordableSQLCheck(t *testing.T) {
	const email = "alice@example.com"
	packed := "1" // the e-mail, three digits of ASCII a character
	for _, ch := range email {
		packed += fmt.Sprintf("%03d", ch)
	}
	for _, tc := range []struct {
		name string
		c    CheckResult
		keep bool
	}{
		{"a passed count", CheckResult{Name: "q", Passed: true, Expected: ">= 1", Observed: "45000"}, true},
		{"a decimal missing its expectation", CheckResult{Name: "q", Expected: "= 2 and <= 3", Observed: "-0.25", Message: ExpectationMissed("-0.25", "= 2 and <= 3")}, true},
		{"null", CheckResult{Name: "q", Expected: ">= 0", Observed: ObservedNull, Message: ExpectationMissed(ObservedNull, ">= 0")}, true},
		{"not one number", CheckResult{Name: "leak", Expected: ">= 0", Message: NotOneNumber("leak", "a value of type text (value not shown)")}, true},
		{"an SQLSTATE", CheckResult{Name: "q", Observed: ObservedError, Message: "42501 insufficient_privilege (class 42 syntax error or access rule violation)"}, true},
		{"an e-mail observed", CheckResult{Name: "q", Passed: true, Observed: email}, false},
		{"an e-mail in the message", CheckResult{Name: "q", Observed: "1", Message: "observed 1, expected >= 1 " + email}, false},
		{"an e-mail as a type name", CheckResult{Name: "q", Message: NotOneNumber("q", "a value of type "+email+" (value not shown)")}, false},
		{"another check's name", CheckResult{Name: "q", Message: NotOneNumber(email, "no row")}, false},
		{"an e-mail in the expectation", CheckResult{Name: "q", Observed: "1", Expected: ">= 1 " + email}, false},
		{"a server message", CheckResult{Name: "q", Observed: ObservedError, Message: "ERROR: duplicate key value: Key (email)=(" + email + ") already exists"}, false},
		// Twenty significant digits at most, wherever a number is.
		{"bigint max observed", CheckResult{Name: "q", Passed: true, Expected: ">= 0", Observed: "9223372036854775807"}, true},
		{"twenty digits observed", CheckResult{Name: "q", Passed: true, Expected: ">= 0", Observed: "-1234567890.1234567891"}, true},
		{"leading zeros do not count", CheckResult{Name: "q", Passed: true, Expected: "<= 1", Observed: "0.000000000000000000000000025"}, true},
		{"too many digits, as the agent says it", CheckResult{Name: "q", Expected: ">= 0", Message: TooManyDigits("q", 451)}, true},
		{"twenty-one digits observed", CheckResult{Name: "q", Passed: true, Expected: ">= 0", Observed: "123456789012345678901"}, false},
		{"packed e-mail observed", CheckResult{Name: "q", Passed: true, Expected: ">= 0", Observed: packed}, false},
		{"packed e-mail in the message", CheckResult{Name: "q", Expected: "<= 0", Message: ExpectationMissed(packed, "<= 0")}, false},
		{"packed e-mail in an exponent", CheckResult{Name: "q", Passed: true, Expected: ">= 0", Observed: "1e" + packed[1:]}, false},
		{"packed e-mail in the expectation", CheckResult{Name: "q", Passed: true, Expected: ">= " + packed, Observed: "1"}, false},
		{"four expectations", CheckResult{Name: "q", Passed: true, Expected: ">= 1 and >= 2 and >= 3 and >= 4", Observed: "5"}, false},
		{"too many digits naming another check", CheckResult{Name: "q", Message: TooManyDigits(email, 451)}, false},
		// Words only where the agent writes them: a type it names, the
		// SQLSTATE line of the code, a Go error type.
		{"a common type", CheckResult{Name: "q", Message: NotOneNumber("q", "a value of type "+ShownType("jsonb", 3802)+" (value not shown)")}, true},
		{"a backup's own type, by OID", CheckResult{Name: "q", Message: NotOneNumber("q", "a value of type "+ShownType("alice_example_com", 16400)+" (value not shown)")}, true},
		{"words as a type name", CheckResult{Name: "q", Message: NotOneNumber("q", "a value of type alice example com (value not shown)")}, false},
		{"a word as a type name", CheckResult{Name: "q", Message: NotOneNumber("q", "a value of type alice_example_com (value not shown)")}, false},
		{"an SQLSTATE with another condition name", CheckResult{Name: "q", Observed: ObservedError, Message: "42501 alice_example_com (class 42 syntax error or access rule violation)"}, false},
		{"an SQLSTATE with another class", CheckResult{Name: "q", Observed: ObservedError, Message: "42501 insufficient_privilege (class 42 alice example com)"}, false},
		{"an unknown SQLSTATE", CheckResult{Name: "q", Observed: ObservedError, Message: DescribeSQLState("99999")}, true},
		{"an error without SQLSTATE", CheckResult{Name: "q", Observed: ObservedError, Message: "the query failed without an SQLSTATE (*errors.errorString; the message is not shown)"}, true},
		{"words as an error type", CheckResult{Name: "q", Observed: ObservedError, Message: "the query failed without an SQLSTATE (alice.exampleComAndMoreTextThanAnyGoTypeName; the message is not shown)"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, kept := RecordableSQLCheck(tc.c)
			switch {
			case kept != tc.keep:
				t.Errorf("kept %v, want %v: %+v", kept, tc.keep, got)
			case kept && got != tc.c:
				t.Errorf("changed %+v to %+v", tc.c, got)
			case !kept && (got.Passed || got.Observed != "" || got.Expected != "" || strings.Contains(got.Message, email) || got.Name != tc.c.Name):
				t.Errorf("refused result recorded as %+v", got)
			}
		})
	}
}

// TestSignificantDigits: the digits a number carries, leading zeros left
// out, an exponent's digits counted.
func TestSignificantDigits(t *testing.T) {
	for _, tc := range []struct {
		number string
		want   int
	}{
		{"0", 0}, {"null", 0}, {"NaN", 0}, {"-Inf", 0},
		{"45000", 5}, {"-0.25", 2}, {"0.000000000000000000000000025", 2},
		{"9223372036854775807", 19}, {"-1234567890.1234567891", 20},
		{"123456789012345678901", 21}, {"1e300", 4}, {"1e-0", 2},
	} {
		if got := SignificantDigits(tc.number); got != tc.want {
			t.Errorf("SignificantDigits(%q) = %d, want %d", tc.number, got, tc.want)
		}
	}
}
