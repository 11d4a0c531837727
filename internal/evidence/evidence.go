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
// signature. Verify walks a chain and names the first broken or forged link.
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
	"time"
)

// Check is one check's outcome as the report records it.
type Check struct {
	Name     string `json:"name"`
	Passed   bool   `json:"passed"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
}

// Report is what one drill run proves. Field order is the canonical order.
type Report struct {
	Drill                string    `json:"drill"` // namespace/name
	Run                  string    `json:"run"`
	Sequence             int64     `json:"sequence"` // 1 for the drill's first report
	SnapshotID           string    `json:"snapshotID"`
	SnapshotTime         time.Time `json:"snapshotTime"`
	ManifestSHA256       string    `json:"manifestSHA256"`
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
	// Name locates the record (the evidence ConfigMap's name).
	Name      string
	Canonical []byte
	SHA256    string
	Signature string
}

// Seal builds the record of report r, chained to previous (nil for a
// drill's first report) and signed when key is not nil.
func Seal(name string, r Report, previous *Record, key ed25519.PrivateKey) Record {
	r.PreviousReportSHA256 = ""
	r.Sequence = 1
	if previous != nil {
		r.PreviousReportSHA256 = previous.SHA256
		if prev, err := Parse(previous.Canonical); err == nil {
			r.Sequence = prev.Sequence + 1
		}
	}
	c := r.Canonical()
	rec := Record{Name: name, Canonical: c, SHA256: Hash(c)}
	if key != nil {
		rec.Signature = Sign(key, c)
	}
	return rec
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

// Verify checks a drill's records, oldest first: every record's bytes are
// canonical and hash to its stored SHA-256, its signature verifies with pub
// (when pub is not nil: then every record must be signed), the first has no
// predecessor, each next names its predecessor's hash and the next sequence
// number. It returns the first broken link.
func Verify(records []Record, pub ed25519.PublicKey) error {
	if len(records) == 0 {
		return ErrEmpty
	}
	var prev *Report
	prevHash := ""
	for i, rec := range records {
		broken := func(format string, args ...any) error {
			return &BrokenLink{Index: i, Record: rec.Name, Reason: fmt.Sprintf(format, args...)}
		}
		if got := Hash(rec.Canonical); got != rec.SHA256 {
			return broken("content hashes to %s but %s is recorded: the report was altered", got, rec.SHA256)
		}
		r, err := Parse(rec.Canonical)
		if err != nil {
			return broken("not a report: %v", err)
		}
		if !bytes.Equal(r.Canonical(), rec.Canonical) {
			return broken("not in canonical form: the report was re-encoded or altered")
		}
		if pub != nil {
			sig, err := base64.StdEncoding.DecodeString(rec.Signature)
			if err != nil || rec.Signature == "" {
				return broken("not signed")
			}
			if !ed25519.Verify(pub, rec.Canonical, sig) {
				return broken("the signature does not verify: forged or signed with another key")
			}
		}
		if r.PreviousReportSHA256 != prevHash {
			if prev == nil {
				return broken("names a previous report %s, but it is the first of the chain: records are missing before it", r.PreviousReportSHA256)
			}
			return broken("names previous report %s, but the previous record hashes to %s: a record was removed, replaced or reordered", r.PreviousReportSHA256, prevHash)
		}
		if prev != nil && r.Sequence != prev.Sequence+1 {
			return broken("sequence %d follows %d", r.Sequence, prev.Sequence)
		}
		if prev != nil && r.Drill != prev.Drill {
			return broken("belongs to drill %s, the chain to %s", r.Drill, prev.Drill)
		}
		prev, prevHash = &r, rec.SHA256
	}
	return nil
}
