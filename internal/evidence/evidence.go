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

// Package evidence makes the tamper-evident record of DR drill runs: a
// canonical JSON report per run, its SHA-256, the SHA-256 of the drill's
// previous report inside it (a hash chain), and an optional ed25519
// signature. Each report names its drill and run by name and UID and its
// place in the chain (a sequence from 1); the chain's head is kept in the
// DRDrill's status. VerifyChain walks a chain and names the first broken,
// forged or foreign record, and a chain that ends before its head.
// It is shared by the DRDrillRun reconciler and the supportstack CLI, so it
// must not import package controller or the agent.
package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Check is one check's outcome as the report records it.
type Check struct {
	Name     string `json:"name"`
	Passed   bool   `json:"passed"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
}

// Trigger is what started a run: the schedule (with the time it was due)
// or a run-now token. FieldManager is the field manager that set the
// run-now annotation as the writing client reported it: a hint, not an
// authenticated identity.
type Trigger struct {
	Kind          string `json:"kind"` // schedule or run-now
	ScheduledTime string `json:"scheduledTime,omitempty"`
	RunNowToken   string `json:"runNowToken,omitempty"`
	FieldManager  string `json:"fieldManager,omitempty"`
}

// Report is what one drill run proves. Field order is the canonical order.
// Drill, DrillUID, Run, RunUID and Sequence bind the report to the one
// drill and run it describes and to its place in the drill's chain;
// ProcedureSHA256 is the SHA-256 of the procedure the run carried out
// (ProcedureJSON: checks with their SQL, objectives, snapshot, sources).
//
// Fields added after reports were first recorded (MissedSchedules,
// MissedSchedulesDropped, RecoverySet) are omitempty: a report without them
// has the same canonical bytes as before they existed, so chains recorded
// earlier still verify. A field added later must be omitempty too.
type Report struct {
	Drill    string  `json:"drill"` // namespace/name
	DrillUID string  `json:"drillUID"`
	Run      string  `json:"run"`
	RunUID   string  `json:"runUID"`
	Sequence int64   `json:"sequence"` // 1 for the drill's first report
	Trigger  Trigger `json:"trigger"`
	// MissedSchedules are the drill's schedule times that passed without a
	// run since the previous run it created, oldest first (the run's
	// spec.missedSchedules); MissedSchedulesDropped counts older ones that
	// were not listed.
	MissedSchedules        []time.Time `json:"missedSchedules,omitempty"`
	MissedSchedulesDropped int64       `json:"missedSchedulesDropped,omitempty"`
	ProcedureSHA256        string      `json:"procedureSHA256"`
	SnapshotID             string      `json:"snapshotID"`
	SnapshotTime           time.Time   `json:"snapshotTime"`
	ManifestSHA256         string      `json:"manifestSHA256"`
	// RecoverySet is the backup run whose snapshots were restored ("" for
	// snapshots taken before backups were grouped into recovery sets).
	RecoverySet          string    `json:"recoverySet,omitempty"`
	Checks               []Check   `json:"checks"`
	ProvisionSeconds     float64   `json:"provisionSeconds"`
	RestoreSeconds       float64   `json:"restoreSeconds"`
	VerifySeconds        float64   `json:"verifySeconds"`
	MeasuredRTOSeconds   float64   `json:"measuredRTOSeconds"`
	MeasuredRPOSeconds   float64   `json:"measuredRPOSeconds"`
	ObjectiveRTOSeconds  float64   `json:"objectiveRTOSeconds,omitempty"`
	ObjectiveRPOSeconds  float64   `json:"objectiveRPOSeconds,omitempty"`
	ObjectivesMet        bool      `json:"objectivesMet"`
	Result               string    `json:"result"`            // Passed, Failed or Error
	Message              string    `json:"message,omitempty"` // why the run ended as it did
	StartTime            time.Time `json:"startTime"`
	CompletionTime       time.Time `json:"completionTime"`
	OperatorVersion      string    `json:"operatorVersion"`
	PreviousReportSHA256 string    `json:"previousReportSHA256"` // "" for the first report
}

// Canonical is the report's one byte representation: compact JSON in field
// order, times in UTC with nanoseconds, no HTML escaping.
func (r Report) Canonical() []byte {
	r.SnapshotTime, r.StartTime, r.CompletionTime = r.SnapshotTime.UTC(), r.StartTime.UTC(), r.CompletionTime.UTC()
	if len(r.MissedSchedules) > 0 {
		missed := make([]time.Time, len(r.MissedSchedules))
		for i, t := range r.MissedSchedules {
			missed[i] = t.UTC()
		}
		r.MissedSchedules = missed
	}
	if r.Checks == nil {
		r.Checks = []Check{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(r) // a Report always encodes
	return bytes.TrimRight(b.Bytes(), "\n")
}

// Hash is the hex SHA-256 of canonical bytes.
func Hash(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// Sign returns the base64 ed25519 signature of canonical bytes.
func Sign(key ed25519.PrivateKey, canonical []byte) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(key, canonical))
}

// Record is a stored report: its canonical bytes as stored, the hash stored
// beside them and the signature, if any.
type Record struct {
	// Name locates the record (the evidence ConfigMap's name, which is
	// ConfigMapName of the report's run).
	Name string
	// Run is the run the record is stored under (the evidence ConfigMap's
	// drillrun label); it must be the report's run.
	Run       string
	Canonical []byte
	SHA256    string
	Signature string
	// Procedure is the procedure's canonical JSON stored beside the report
	// (the SQL an auditor reads); when present it must hash to the
	// report's ProcedureSHA256.
	Procedure []byte
}

// Seal builds the record of report r as the next after head (nil for a
// drill's first report), signed when key is not nil: the chain continues
// from the head the drill's status holds, whatever ConfigMaps are listed
// beside it.
func Seal(name string, r Report, head *Head, key ed25519.PrivateKey) Record {
	r.PreviousReportSHA256, r.Sequence = "", 1
	if head != nil {
		r.PreviousReportSHA256, r.Sequence = head.SHA256, head.Sequence+1
	}
	c := r.Canonical()
	rec := Record{Name: name, Run: r.Run, Canonical: c, SHA256: Hash(c)}
	if key != nil {
		rec.Signature = Sign(key, c)
	}
	return rec
}

// HeadOf is the head a chain has when rec is its newest record (nil for
// nil, or a record that does not parse).
func HeadOf(rec *Record) *Head {
	if rec == nil {
		return nil
	}
	r, err := Parse(rec.Canonical)
	if err != nil {
		return nil
	}
	return &Head{Sequence: r.Sequence, SHA256: rec.SHA256}
}

// Parse reads a stored report.
func Parse(canonical []byte) (Report, error) {
	var r Report
	dec := json.NewDecoder(bytes.NewReader(canonical))
	dec.DisallowUnknownFields()
	err := dec.Decode(&r)
	return r, err
}

// BrokenLink says where and why a chain does not hold.
type BrokenLink struct {
	Index  int
	Record string
	Reason string
}

func (b *BrokenLink) Error() string {
	return fmt.Sprintf("evidence record %d (%s): %s", b.Index+1, b.Record, b.Reason)
}

// ErrEmpty is returned for a chain with no record.
var ErrEmpty = errors.New("no evidence records")

// Head is the newest record of a drill's chain as the drill's status (or
// an auditor) holds it.
type Head struct {
	Sequence int64
	SHA256   string
}

// Expect is what a chain must be bound to. Empty fields are not checked;
// every record must still belong to the same drill as the first.
type Expect struct {
	// Drill is the namespace/name every record must name.
	Drill string
	// DrillUID is the UID every record must name.
	DrillUID string
	// Head, when set, is the record the chain must end with: newer records
	// that were deleted show as a chain ending before it.
	Head *Head
}

// Verify checks a drill's records, oldest first, as VerifyChain does
// without an expected drill or head.
func Verify(records []Record, pub ed25519.PublicKey) error {
	return VerifyChain(records, pub, Expect{})
}

// VerifyChain checks a drill's records, oldest first: every record's bytes
// are canonical and hash to its stored SHA-256, its stored procedure (if
// any) hashes to the procedure digest it records, its signature verifies
// with pub (when pub is not nil: then every record must be signed), it
// names the expected drill (and the same drill as the first record) and
// its own run (with the run's UID, stored under that run's label and
// ConfigMap name), the first has no predecessor and sequence 1, each next names its
// predecessor's hash and the next sequence number, and the last is the
// expected head. It returns the first broken link.
func VerifyChain(records []Record, pub ed25519.PublicKey, want Expect) error {
	if len(records) == 0 {
		if h := want.Head; h != nil {
			return fmt.Errorf("%w, but the drill's evidence head is sequence %d (sha256 %s): every record was deleted", ErrEmpty, h.Sequence, h.SHA256)
		}
		return ErrEmpty
	}
	var prev, first *Report
	prevHash := ""
	for i, rec := range records {
		broken := func(format string, args ...any) error {
			return &BrokenLink{Index: i, Record: rec.Name, Reason: fmt.Sprintf(format, args...)}
		}
		r, why := checkRecord(rec, pub)
		if why != "" {
			return broken("%s", why)
		}
		if err := checkBinding(r, rec, first, want); err != "" {
			return broken("%s", err)
		}
		if r.PreviousReportSHA256 != prevHash {
			if prev == nil {
				return broken("names a previous report %s, but it is the first of the chain: records are missing before it (its sequence is %d)", r.PreviousReportSHA256, r.Sequence)
			}
			return broken("names previous report %s, but the previous record hashes to %s: a record was removed, replaced or reordered%s", r.PreviousReportSHA256, prevHash, gap(prev.Sequence, r.Sequence))
		}
		if prev == nil && r.Sequence != 1 {
			return broken("sequence %d, but it is the first of the chain: records 1 to %d are missing", r.Sequence, r.Sequence-1)
		}
		if prev != nil && r.Sequence != prev.Sequence+1 {
			return broken("%s", strings.TrimSuffix(strings.TrimPrefix(gap(prev.Sequence, r.Sequence), " ("), ")"))
		}
		if first == nil {
			first = &r
		}
		prev, prevHash = &r, rec.SHA256
	}
	if h := want.Head; h != nil && (prev.Sequence != h.Sequence || prevHash != h.SHA256) {
		last := len(records) - 1
		return &BrokenLink{Index: last, Record: records[last].Name, Reason: headMismatch(prev.Sequence, prevHash, *h)}
	}
	return nil
}

// checkRecord checks one record on its own: hash, canonical form, stored
// procedure and signature. It returns the report, or why the record fails.
func checkRecord(rec Record, pub ed25519.PublicKey) (Report, string) {
	if got := Hash(rec.Canonical); got != rec.SHA256 {
		return Report{}, fmt.Sprintf("content hashes to %s but %s is recorded: the report was altered", got, rec.SHA256)
	}
	r, err := Parse(rec.Canonical)
	if err != nil {
		return r, fmt.Sprintf("not a report: %v", err)
	}
	if !bytes.Equal(r.Canonical(), rec.Canonical) {
		return r, "not in canonical form: the report was re-encoded or altered"
	}
	if len(rec.Procedure) > 0 && Hash(rec.Procedure) != r.ProcedureSHA256 {
		return r, fmt.Sprintf("the stored procedure hashes to %s but the report records %s: the procedure shown beside it was altered", Hash(rec.Procedure), r.ProcedureSHA256)
	}
	if pub != nil {
		sig, err := base64.StdEncoding.DecodeString(rec.Signature)
		if err != nil || rec.Signature == "" {
			return r, "not signed"
		}
		if !ed25519.Verify(pub, rec.Canonical, sig) {
			return r, "the signature does not verify: forged or signed with another key"
		}
	}
	return r, ""
}

// headMismatch says how a chain ending at sequence seq (hash sum) misses
// the expected head h.
func headMismatch(seq int64, sum string, h Head) string {
	reason := fmt.Sprintf("is the newest record (sequence %d, sha256 %s), but the drill's evidence head is sequence %d (sha256 %s): ", seq, sum, h.Sequence, h.SHA256)
	switch {
	case h.Sequence == seq+1:
		return reason + fmt.Sprintf("the newest record (sequence %d) was deleted", h.Sequence)
	case h.Sequence > seq:
		return reason + fmt.Sprintf("the newest records (sequence %d to %d) were deleted", seq+1, h.Sequence)
	case h.Sequence < seq:
		return reason + "records were added after the head that the operator did not record"
	}
	return reason + "the newest record was replaced"
}

// checkBinding says why report r, stored as rec, does not belong to the
// chain ("" when it does): the expected drill, or the drill of the chain's
// first record; and its own run (a run UID, stored under that run's label
// and ConfigMap name).
func checkBinding(r Report, rec Record, first *Report, want Expect) string {
	if want.Drill != "" && r.Drill != want.Drill {
		return fmt.Sprintf("belongs to drill %s (run %s), not to %s: a record of another drill under this drill's label", r.Drill, r.Run, want.Drill)
	}
	if want.DrillUID != "" && r.DrillUID != want.DrillUID {
		return fmt.Sprintf("belongs to drill %s with uid %q, not to the drill being verified (uid %s): a record of another (or an earlier, deleted) drill of that name", r.Drill, r.DrillUID, want.DrillUID)
	}
	if first != nil && (r.Drill != first.Drill || r.DrillUID != first.DrillUID) {
		return fmt.Sprintf("belongs to drill %s (uid %q), the chain to %s (uid %q)", r.Drill, r.DrillUID, first.Drill, first.DrillUID)
	}
	if r.RunUID == "" {
		return fmt.Sprintf("names run %s without its UID: not a record the operator writes", r.Run)
	}
	if rec.Run != r.Run || rec.Name != ConfigMapName(r.Run) {
		return fmt.Sprintf("is the report of run %s (uid %s), but it is stored as the record of run %q (its ConfigMap is %s, the run's own is %s): a record moved under another run's name",
			r.Run, r.RunUID, rec.Run, rec.Name, ConfigMapName(r.Run))
	}
	return ""
}

// gap explains a sequence that does not follow prev.
func gap(prev, seq int64) string {
	switch {
	case seq == prev+1:
		return ""
	case seq == prev+2:
		return fmt.Sprintf(" (sequence %d follows %d: record %d is missing)", seq, prev, prev+1)
	case seq > prev+2:
		return fmt.Sprintf(" (sequence %d follows %d: records %d to %d are missing)", seq, prev, prev+1, seq-1)
	}
	return fmt.Sprintf(" (sequence %d follows %d: a record is duplicated or out of order)", seq, prev)
}
