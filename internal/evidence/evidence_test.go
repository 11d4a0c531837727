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

package evidence

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func report(run string, result string) Report {
	t0 := time.Date(2026, time.November, 23, 6, 0, 0, 0, time.FixedZone("CET", 3600))
	return Report{
		Drill: "helpdesk/weekly", Run: run, RunUID: "uid-" + run, SnapshotID: "0557d900", SnapshotTime: t0.Add(-5 * time.Hour), ManifestSHA256: strings.Repeat("a", 64),
		Checks:           []Check{{Name: "tickets-present", Passed: true, Expected: ">= 1", Observed: "200000"}, {Name: "<html>&", Passed: result == "Passed", Expected: "= 5", Observed: "4"}},
		ProvisionSeconds: 41, RestoreSeconds: 170, VerifySeconds: 21, MeasuredRTOSeconds: 232, MeasuredRPOSeconds: 18180,
		ObjectiveRTOSeconds: 1800, ObjectiveRPOSeconds: 93600, ObjectivesMet: true, Result: result,
		StartTime: t0, CompletionTime: t0.Add(232 * time.Second), OperatorVersion: "v0.1.0",
	}
}

// chain seals n reports in order.
func chain(n int, key ed25519.PrivateKey) []Record {
	var recs []Record
	for i := 0; i < n; i++ {
		var prev *Record
		if i > 0 {
			prev = &recs[i-1]
		}
		run := fmt.Sprintf("weekly-%d", i+1)
		recs = append(recs, Seal(ConfigMapName(run), report(run, "Passed"), HeadOf(prev), key))
	}
	return recs
}

func TestCanonicalIsStable(t *testing.T) {
	r := report("weekly-1", "Passed")
	a := r.Canonical()
	r.StartTime = r.StartTime.UTC() // the same instant in another zone
	if string(a) != string(r.Canonical()) {
		t.Error("the same report in another time zone gives other bytes")
	}
	if !strings.Contains(string(a), `"name":"<html>&"`) || strings.Contains(string(a), "\n") {
		t.Errorf("canonical form escapes or breaks lines: %s", a)
	}
	back, err := Parse(a)
	if err != nil || string(back.Canonical()) != string(a) {
		t.Errorf("round trip: %v", err)
	}
}

func TestVerifyChain(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	otherPub, otherKey, _ := ed25519.GenerateKey(nil)
	_ = otherPub
	cases := []struct {
		name   string
		tamper func([]Record) []Record
		pub    ed25519.PublicKey
		want   string // "" = valid; else a substring of the error
	}{
		{"intact signed chain", nil, pub, ""},
		{"intact, not checking signatures", nil, nil, ""},
		{"a result edited in place", func(r []Record) []Record {
			r[2].Canonical = []byte(strings.Replace(string(r[2].Canonical), `"result":"Passed"`, `"result":"Failed"`, 1))
			return r
		}, nil, "evidence record 3 (weekly-3-evidence): content hashes to"},
		{"edited and re-hashed, but not re-signed", func(r []Record) []Record {
			r[1].Canonical = []byte(strings.Replace(string(r[1].Canonical), `"observed":"4"`, `"observed":"5"`, 1))
			r[1].SHA256 = Hash(r[1].Canonical)
			return r
		}, pub, "evidence record 2 (weekly-2-evidence): the signature does not verify"},
		{"edited, re-hashed, re-signed with another key", func(r []Record) []Record {
			r[1].Canonical = []byte(strings.Replace(string(r[1].Canonical), `"observed":"4"`, `"observed":"5"`, 1))
			r[1].SHA256 = Hash(r[1].Canonical)
			r[1].Signature = Sign(otherKey, r[1].Canonical)
			return r
		}, pub, "evidence record 2 (weekly-2-evidence): the signature does not verify"},
		{"edited and re-hashed without signatures: the next link breaks", func(r []Record) []Record {
			r[1].Canonical = []byte(strings.Replace(string(r[1].Canonical), `"observed":"4"`, `"observed":"5"`, 1))
			r[1].SHA256 = Hash(r[1].Canonical)
			return r
		}, nil, "evidence record 3 (weekly-3-evidence): names previous report"},
		{"a record removed", func(r []Record) []Record { return append(r[:1], r[2:]...) }, nil, "evidence record 2 (weekly-3-evidence): names previous report"},
		{"the first record removed", func(r []Record) []Record { return r[1:] }, nil, "it is the first of the chain"},
		{"two records swapped", func(r []Record) []Record { r[1], r[2] = r[2], r[1]; return r }, nil, "evidence record 2 (weekly-3-evidence)"},
		{"unsigned record where signatures are required", func(r []Record) []Record { r[3].Signature = ""; return r }, pub, "evidence record 4 (weekly-4-evidence): not signed"},
		{"re-encoded with spaces", func(r []Record) []Record {
			r[0].Canonical = []byte(strings.Replace(string(r[0].Canonical), `,"run"`, `, "run"`, 1))
			r[0].SHA256 = Hash(r[0].Canonical)
			return r
		}, nil, "not in canonical form"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs := chain(5, key)
			if tc.tamper != nil {
				recs = tc.tamper(recs)
			}
			err := Verify(recs, tc.pub)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("intact chain refused: %v", err)
				}
				return
			}
			var broken *BrokenLink
			if !errors.As(err, &broken) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a broken link containing %q", err, tc.want)
			}
			t.Logf("found: %v", err)
		})
	}
	if err := Verify(nil, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty chain: %v", err)
	}
	if err := VerifyChain(nil, nil, Expect{Head: &Head{Sequence: 4, SHA256: "ab"}}); !errors.Is(err, ErrEmpty) || !strings.Contains(err.Error(), "evidence head is sequence 4 (sha256 ab): every record was deleted") {
		t.Errorf("every record deleted: %v", err)
	}
	recs := chain(3, nil)
	if r, _ := Parse(recs[2].Canonical); r.Sequence != 3 || r.PreviousReportSHA256 != recs[1].SHA256 {
		t.Errorf("third report: sequence %d previous %s", r.Sequence, r.PreviousReportSHA256)
	}
}

// boundChain seals n reports of drill helpdesk/weekly (uid d-1), each with
// its procedure stored beside it.
func boundChain(n int, key ed25519.PrivateKey) []Record {
	var recs []Record
	for i := 0; i < n; i++ {
		var prev *Record
		if i > 0 {
			prev = &recs[i-1]
		}
		r := report(fmt.Sprintf("weekly-%d", i+1), "Passed")
		r.DrillUID, r.RunUID = "d-1", fmt.Sprintf("r-%d", i+1)
		proc := []byte(`{"backupPolicyName":"helpdesk","checks":[{"name":"tickets-present","sql":"SELECT count(*) FROM tickets"}]}`)
		r.ProcedureSHA256 = Hash(proc)
		rec := Seal(ConfigMapName(r.Run), r, HeadOf(prev), key)
		rec.Procedure = proc
		recs = append(recs, rec)
	}
	return recs
}

// TestVerifyChainBinding: every record is bound to its drill, the chain
// starts at sequence 1 and ends at the head the drill's status holds.
func TestVerifyChainBinding(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	head := func(recs []Record) *Head {
		r, _ := Parse(recs[len(recs)-1].Canonical)
		return &Head{Sequence: r.Sequence, SHA256: recs[len(recs)-1].SHA256}
	}
	want := func(recs []Record) Expect { return Expect{Drill: "helpdesk/weekly", DrillUID: "d-1", Head: head(recs)} }
	for _, tc := range []struct {
		name string
		// tamper returns the chain as the verifier finds it and what it expects.
		tamper func(recs []Record) ([]Record, Expect)
		want   string
	}{
		{"intact, bound, at its head", func(r []Record) ([]Record, Expect) { return r, want(r) }, ""},
		{"another drill's signed record copied in", func(r []Record) ([]Record, Expect) {
			foreign := report("ledger-1", "Passed")
			foreign.Drill, foreign.DrillUID = "finance/ledger", "d-2"
			w := want(r)
			return append(r[:2], Seal("ledger-1-evidence", foreign, HeadOf(&r[1]), key)), w
		}, "evidence record 3 (ledger-1-evidence): belongs to drill finance/ledger (run ledger-1), not to helpdesk/weekly"},
		{"a record of an earlier drill of the same name", func(r []Record) ([]Record, Expect) {
			w := want(r)
			w.DrillUID = "d-new"
			return r, w
		}, `evidence record 1 (weekly-1-evidence): belongs to drill helpdesk/weekly with uid "d-1", not to the drill being verified (uid d-new)`},
		{"the newest record deleted", func(r []Record) ([]Record, Expect) { w := want(r); return r[:4], w },
			"evidence record 4 (weekly-4-evidence): is the newest record (sequence 4"},
		{"the two newest records deleted", func(r []Record) ([]Record, Expect) { w := want(r); return r[:3], w },
			"the newest records (sequence 4 to 5) were deleted"},
		{"the newest record replaced", func(r []Record) ([]Record, Expect) {
			w := want(r)
			again := report("weekly-5", "Failed")
			again.DrillUID, again.RunUID = "d-1", "r-5"
			again.Message = "forged"
			return append(r[:4], Seal(ConfigMapName("weekly-5"), again, HeadOf(&r[3]), key)), w
		}, "evidence record 5 (weekly-5-evidence): is the newest record (sequence 5, sha256"},
		{"a middle record deleted", func(r []Record) ([]Record, Expect) { w := want(r); return append(r[:2], r[3:]...), w },
			"evidence record 3 (weekly-4-evidence): names previous report"},
		{"a chain whose first record does not start at 1", func(r []Record) ([]Record, Expect) {
			first := report("weekly-1", "Passed")
			first.DrillUID = "d-1"
			rec := Seal(ConfigMapName("weekly-1"), first, nil, key)
			// A forger re-seals sequence 7 as if it were first.
			p, _ := Parse(rec.Canonical)
			p.Sequence = 7
			c := p.Canonical()
			return []Record{{Name: rec.Name, Run: rec.Run, Canonical: c, SHA256: Hash(c), Signature: Sign(key, c)}}, Expect{}
		}, "evidence record 1 (weekly-1-evidence): sequence 7, but it is the first of the chain: records 1 to 6 are missing"},
		{"two records' ConfigMaps renamed and relabelled to each other's run", func(r []Record) ([]Record, Expect) {
			// The chain's order and hashes still hold; each record now sits
			// under the other run's name, so looking a run up shows the
			// other run's result.
			r[1].Name, r[2].Name = r[2].Name, r[1].Name
			r[1].Run, r[2].Run = r[2].Run, r[1].Run
			return r, want(r)
		}, `evidence record 2 (weekly-3-evidence): is the report of run weekly-2 (uid r-2), but it is stored as the record of run "weekly-3" (its ConfigMap is weekly-3-evidence, the run's own is weekly-2-evidence): a record moved under another run's name`},
		{"a record relabelled to another run, its name kept", func(r []Record) ([]Record, Expect) {
			r[3].Run = "weekly-9"
			return r, want(r)
		}, `evidence record 4 (weekly-4-evidence): is the report of run weekly-4 (uid r-4), but it is stored as the record of run "weekly-9"`},
		{"a signed report that names no run UID", func(r []Record) ([]Record, Expect) {
			first := report("weekly-1", "Passed")
			first.DrillUID, first.RunUID = "d-1", ""
			return []Record{Seal(ConfigMapName("weekly-1"), first, nil, key)}, Expect{Drill: "helpdesk/weekly", DrillUID: "d-1"}
		}, "evidence record 1 (weekly-1-evidence): names run weekly-1 without its UID: not a record the operator writes"},
		{"the stored procedure edited", func(r []Record) ([]Record, Expect) {
			r[1].Procedure = []byte(strings.Replace(string(r[1].Procedure), "count(*)", "1", 1))
			return r, want(r)
		}, "evidence record 2 (weekly-2-evidence): the stored procedure hashes to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, w := tc.tamper(boundChain(5, key))
			err := VerifyChain(recs, pub, w)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("intact chain refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			t.Logf("found: %v", err)
		})
	}
}
