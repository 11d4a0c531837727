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
	Operation string    `json:"operation"`
	Policy    string    `json:"policy"`
	Start     time.Time `json:"startTime"`
	End       time.Time `json:"completionTime"`
	Succeeded bool      `json:"succeeded"`
	// RecoverySet is the backup run's name: its snapshots carry the tag
	// run=<RecoverySet>.
	RecoverySet string     `json:"recoverySet,omitempty"`
	Snapshots   []Snapshot `json:"snapshots,omitempty"`
	// Notes are facts worth a line in status (a repository initialised,
	// stale locks removed).
	Notes []string `json:"notes,omitempty"`
	// Error is one line a human understands.
	Error string `json:"error,omitempty"`
}

const truncatedNote = "snapshot list truncated to fit the termination message"

// TruncatedMarker ends an error line cut to fit the termination message.
const TruncatedMarker = "… (truncated to fit the termination message)"

// terminationLimit is the size Kubernetes keeps of a termination message.
const terminationLimit = 4096

// errorBudget is what an error line may take, JSON-encoded, in a result
// that does not fit as it is.
const errorBudget = 1024

// Encode renders the result as JSON of at most 4 KiB, measured after
// encoding (a character JSON escapes takes up to 6 bytes): a long error is
// cut first (marked with TruncatedMarker), then snapshots are dropped from
// the end (and counted in a note), then notes, then the error is cut to
// what is left.
func (r Result) Encode() []byte {
	b, _ := json.Marshal(r)
	if len(b) <= terminationLimit {
		return b
	}
	r.Error = clipEncoded(r.Error, errorBudget, TruncatedMarker)
	if b, _ = json.Marshal(r); len(b) > terminationLimit && len(r.Snapshots) > 0 {
		all := r.Snapshots
		r.Notes = append(r.Notes, truncatedNote)
		keep := longestFitting(len(all)-1, func(n int) bool {
			r.Snapshots = all[:n]
			b, _ = json.Marshal(r)
			return len(b) <= terminationLimit
		})
		r.Snapshots = all[:keep]
		b, _ = json.Marshal(r)
	}
	if len(b) > terminationLimit {
		r.Notes = nil
		b = fitError(&r, &r.Error)
	}
	return b
}

// fitError cuts *msg until v's encoding fits the termination message.
func fitError(v any, msg *string) []byte {
	full := *msg
	b, _ := json.Marshal(v)
	if len(b) <= terminationLimit {
		return b
	}
	*msg = ""
	b, _ = json.Marshal(v)
	room := terminationLimit - len(b) - len(`,"error":""`)
	*msg = clipEncoded(full, max(room, 0), TruncatedMarker)
	b, _ = json.Marshal(v)
	return b
}

// encodedLen is the length of s as a JSON string, without its quotes.
func encodedLen(s string) int {
	b, _ := json.Marshal(s)
	return len(b) - 2
}

// clipEncoded returns s, or its longest prefix (whole characters) followed
// by marker, whose JSON encoding takes at most n bytes. An n too small for
// even the marker gives "".
func clipEncoded(s string, n int, marker string) string {
	if encodedLen(s) <= n {
		return s
	}
	if encodedLen(marker) > n {
		return ""
	}
	runes := []rune(s)
	// Every character takes at least one byte: no more than n of them fit.
	lo, hi := 0, min(len(runes), n+1) // the longest fitting prefix is in [lo, hi)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if encodedLen(string(runes[:mid])+marker) <= n {
			lo = mid
		} else {
			hi = mid
		}
	}
	return string(runes[:lo]) + marker
}

// DecodeResult parses a termination message.
func DecodeResult(b []byte) (Result, error) {
	var r Result
	err := json.Unmarshal(b, &r)
	return r, err
}

// Why a passed verification could not tag its set verified.
const (
	// TagFailureLocked: another run held the repository's exclusive lock
	// for as long as the verify Job waited.
	TagFailureLocked = "locked"
	// TagFailureGone: no snapshot of the set was left to tag (a prune
	// forgot it meanwhile).
	TagFailureGone = "gone"
	// TagFailureFailed: restic tag failed otherwise (the pod log says how).
	TagFailureFailed = "failed"
)

// RestorePhases is how a restore loaded its databases and how long each
// part took.
type RestorePhases struct {
	// Method is RestorePiped or RestoreParallel (if any database was).
	Method string `json:"method"`
	// Jobs is pg_restore's --jobs (1 when piped).
	Jobs int `json:"jobs"`
	// Fetch is reading the dumps from the repository (piped, it overlaps
	// Load); Load is pg_restore up to its first index, constraint or
	// trigger (schema and rows); Indexes is the rest (post-data: indexes,
	// constraints, triggers), in seconds.
	Fetch   float64 `json:"fetch"`
	Load    float64 `json:"load"`
	Indexes float64 `json:"indexes"`
}

// How a restore fed pg_restore: through a pipe from restic dump, or from a
// file in the scratch directory with pg_restore --jobs.
const (
	RestorePiped    = "pipe"
	RestoreParallel = "parallel"
)

// DrillResult is what restore and verify report through the termination log.
type DrillResult struct {
	Operation string     `json:"operation"`
	Start     time.Time  `json:"startTime"`
	End       time.Time  `json:"completionTime"`
	Restored  []Restored `json:"restored,omitempty"`
	// RecoverySet is the backup run the restore took every snapshot from;
	// empty for snapshots taken before recovery sets.
	RecoverySet string        `json:"recoverySet,omitempty"`
	Checks      []CheckResult `json:"checks,omitempty"`
	// Phases is how the restore went, summed over its databases.
	Phases *RestorePhases `json:"phases,omitempty"`
	// Tagged counts the snapshots a passed verification tagged verified;
	// TagFailure, when it could not, is one of the TagFailure* words (never
	// free text: the operator writes the sentence).
	Tagged     int    `json:"tagged,omitempty"`
	TagFailure string `json:"tagFailure,omitempty"`
	// DrillError is true when the drill could not be carried out (no such
	// snapshot, a corrupt repository), as opposed to a failed check.
	DrillError bool   `json:"drillError,omitempty"`
	Error      string `json:"error,omitempty"`
	// AllPassed is the verify verdict: every check ran and passed.
	AllPassed bool `json:"allPassed,omitempty"`
	// ChecksOmitted counts checks left out of a termination message that
	// could not hold them all (passed ones first; the pod log has them all).
	ChecksOmitted int `json:"checksOmitted,omitempty"`
	// RestoredOmitted counts restored snapshots left out of a termination
	// message that could not hold them all: the operator cannot plan the
	// verification without them and ends the run in Error.
	RestoredOmitted int `json:"restoredOmitted,omitempty"`
}

// Encode renders the result for the termination log, at most 4 KiB
// measured after encoding: a long error is cut first, then check texts are
// shortened, then checks are left out (passed ones first), then restored
// snapshots (counted), then the error is cut to what is left.
func (r DrillResult) Encode() []byte {
	b, _ := json.Marshal(r)
	if len(b) <= terminationLimit {
		return b
	}
	r.Error = clipEncoded(r.Error, errorBudget, TruncatedMarker)
	for _, limit := range []int{512, 128, 32, 0} {
		if b, _ = json.Marshal(r); len(b) <= terminationLimit {
			return b
		}
		checks := make([]CheckResult, 0, len(r.Checks))
		for _, c := range r.Checks {
			c.Expected, c.Observed, c.Message = clipEncoded(c.Expected, limit, "…"), clipEncoded(c.Observed, limit, "…"), clipEncoded(c.Message, limit, "…")
			checks = append(checks, c)
		}
		r.Checks = checks
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
	keep := longestFitting(len(ordered), func(n int) bool {
		r.Checks, r.ChecksOmitted = ordered[:n], len(ordered)-n
		b, _ = json.Marshal(r)
		return len(b) <= terminationLimit
	})
	r.Checks, r.ChecksOmitted = ordered[:keep], len(ordered)-keep
	if b, _ = json.Marshal(r); len(b) <= terminationLimit {
		return b
	}
	all := r.Restored
	keep = longestFitting(len(all), func(n int) bool {
		r.Restored, r.RestoredOmitted = all[:n], len(all)-n
		b, _ = json.Marshal(r)
		return len(b) <= terminationLimit
	})
	r.Restored, r.RestoredOmitted = all[:keep], len(all)-keep
	return fitError(&r, &r.Error)
}

// longestFitting is the largest n in [0, total] for which fits(n) holds,
// fits being monotonic (true up to some n, false after); 0 when none fits.
func longestFitting(total int, fits func(n int) bool) int {
	if fits(total) {
		return total
	}
	lo, hi := 0, total // fits(hi) is false; the answer is in [lo, hi)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// DecodeDrillResult parses a restore or verify termination message.
func DecodeDrillResult(b []byte) (DrillResult, error) {
	var r DrillResult
	err := json.Unmarshal(b, &r)
	return r, err
}
