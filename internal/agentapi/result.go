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
	"time"
)

// Snapshot is one snapshot a backup made.
type Snapshot struct {
	Source   string  `json:"source"`
	Database string  `json:"database,omitempty"`
	ID       string  `json:"id"`
	Manifest string  `json:"manifest"` // id of the manifest snapshot
	Added    int64   `json:"bytesAdded"`
	Total    int64   `json:"totalBytes"`
	Seconds  float64 `json:"seconds"`
	Digest   string  `json:"manifestSHA256"`
}

// Result is what the agent reports through the termination message.
type Result struct {
	Operation string     `json:"operation"`
	Policy    string     `json:"policy"`
	Start     time.Time  `json:"startTime"`
	End       time.Time  `json:"completionTime"`
	Succeeded bool       `json:"succeeded"`
	Snapshots []Snapshot `json:"snapshots,omitempty"`
	// Notes are facts worth a line in status (a repository initialised,
	// stale locks removed).
	Notes []string `json:"notes,omitempty"`
	// Error is one line a human understands.
	Error string `json:"error,omitempty"`
}

const truncatedNote = "snapshot list truncated to fit the termination message"

// terminationLimit is the size Kubernetes keeps of a termination message.
const terminationLimit = 4096

// Encode renders the result as JSON under 4 KiB: snapshots are dropped from
// the end (and counted in a note) until it fits.
func (r Result) Encode() []byte {
	for {
		b, _ := json.Marshal(r)
		if len(b) <= terminationLimit || len(r.Snapshots) == 0 {
			if len(b) > terminationLimit {
				r.Notes = nil
				if len(r.Error) > 1024 {
					r.Error = r.Error[:1024]
				}
				b, _ = json.Marshal(r)
			}
			return b
		}
		if len(r.Notes) == 0 || r.Notes[len(r.Notes)-1] != truncatedNote {
			r.Notes = append(r.Notes, truncatedNote)
		}
		r.Snapshots = r.Snapshots[:len(r.Snapshots)-1]
	}
}

// DecodeResult parses a termination message.
func DecodeResult(b []byte) (Result, error) {
	var r Result
	err := json.Unmarshal(b, &r)
	return r, err
}

// DrillResult is what restore and verify report through the termination log.
type DrillResult struct {
	Operation string        `json:"operation"`
	Start     time.Time     `json:"startTime"`
	End       time.Time     `json:"completionTime"`
	Restored  []Restored    `json:"restored,omitempty"`
	Checks    []CheckResult `json:"checks,omitempty"`
	// DrillError is true when the drill could not be carried out (no such
	// snapshot, a corrupt repository), as opposed to a failed check.
	DrillError bool   `json:"drillError,omitempty"`
	Error      string `json:"error,omitempty"`
	// AllPassed is the verify verdict: every check ran and passed.
	AllPassed bool `json:"allPassed,omitempty"`
	// ChecksOmitted counts checks left out of a termination message that
	// could not hold them all (passed ones first; the pod log has them all).
	ChecksOmitted int `json:"checksOmitted,omitempty"`
}

// Encode renders the result for the termination log. Kubernetes keeps 4 KiB
// of it: when the manifests' table lists do not fit they are left out (the
// snapshot ids, times and manifest digests stay; the verify Job reads the
// manifests from the repository), then check messages are shortened.
func (r DrillResult) Encode() []byte {
	b, _ := json.Marshal(r)
	if len(b) <= terminationLimit {
		return b
	}
	restored := make([]Restored, 0, len(r.Restored))
	for _, x := range r.Restored {
		if x.Manifest.Database != nil {
			x.ManifestSHA256 = x.Manifest.Digest()
			db := *x.Manifest.Database
			db.Tables = nil
			x.Manifest.Database = &db
		}
		restored = append(restored, x)
	}
	r.Restored = restored
	for _, limit := range []int{512, 128, 32, 0} {
		b, _ = json.Marshal(r)
		if len(b) <= terminationLimit {
			return b
		}
		checks := make([]CheckResult, 0, len(r.Checks))
		for _, c := range r.Checks {
			c.Expected, c.Observed, c.Message = clip(c.Expected, limit), clip(c.Observed, limit), clip(c.Message, limit)
			checks = append(checks, c)
		}
		r.Checks = checks
		r.Error = clip(r.Error, max(limit, 256))
	}
	// Still too long (many checks with long names): checks go from the end,
	// failed ones after passed ones, and the count left out is reported;
	// AllPassed keeps the verdict.
	ordered := make([]CheckResult, 0, len(r.Checks))
	for _, want := range []bool{false, true} {
		for _, c := range r.Checks {
			if c.Passed == want {
				ordered = append(ordered, c)
			}
		}
	}
	for n := len(ordered) - 1; n >= 0; n-- {
		r.Checks, r.ChecksOmitted = ordered[:n], len(ordered)-n
		if b, _ = json.Marshal(r); len(b) <= terminationLimit {
			break
		}
	}
	return b
}

func clip(s string, n int) string {
	switch {
	case len(s) <= n:
		return s
	case n == 0:
		return ""
	}
	return s[:n] + "…"
}

// DecodeDrillResult parses a restore or verify termination message.
func DecodeDrillResult(b []byte) (DrillResult, error) {
	var r DrillResult
	err := json.Unmarshal(b, &r)
	return r, err
}
