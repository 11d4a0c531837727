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

// Package agent is what runs inside the backup, prune and check Job pods. It
// drives the standard tools (pg_dump, restic) with argument lists, never a
// shell line, records a manifest of what was backed up, and reports a small
// JSON result through the pod's termination message.
package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Config is the agent's non-secret configuration, passed as JSON in one
// argument. Secrets arrive only as environment variables from Secrets:
// RESTIC_PASSWORD, the repository credentials, and one connection URI per
// PostgreSQL source in the variable its URIEnv names.
type Config struct {
	// Policy is "<namespace>/<name>" of the BackupPolicy; every snapshot is
	// tagged with it, and prune only ever touches snapshots with its tag.
	Policy   string           `json:"policy"`
	Postgres []PostgresSource `json:"postgres,omitempty"`
	Volumes  []VolumeSource   `json:"volumes,omitempty"`
	// Retention is applied by prune.
	Retention Retention `json:"retention,omitempty"`
	// ReadDataPercent is check's --read-data-subset.
	ReadDataPercent int `json:"readDataPercent,omitempty"`
	// StaleLockAge: locks older than this are stale and removed; younger
	// ones are reported. Default 2h.
	StaleLockAge Duration `json:"staleLockAge,omitempty"`
	// ExactCountMaxRows: tables whose planner estimate exceeds this are
	// recorded with the estimate (marked) instead of count(*). Default 10M.
	ExactCountMaxRows int64 `json:"exactCountMaxRows,omitempty"`
}

// PostgresSource is one server and the databases to dump from it.
type PostgresSource struct {
	Name string `json:"name"`
	// URIEnv names the environment variable holding the libpq URI.
	URIEnv    string   `json:"uriEnv"`
	Databases []string `json:"databases"`
}

// VolumeSource is a mounted directory to back up.
type VolumeSource struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// Retention are restic forget's keep rules.
type Retention struct {
	KeepLast    int `json:"keepLast,omitempty"`
	KeepHourly  int `json:"keepHourly,omitempty"`
	KeepDaily   int `json:"keepDaily,omitempty"`
	KeepWeekly  int `json:"keepWeekly,omitempty"`
	KeepMonthly int `json:"keepMonthly,omitempty"`
	KeepYearly  int `json:"keepYearly,omitempty"`
}

// Duration is a time.Duration written as "2h" in JSON.
type Duration struct{ time.Duration }

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	d.Duration = v
	return err
}

// ParseConfig reads and checks the configuration.
func ParseConfig(s string) (Config, error) {
	var c Config
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("agent configuration: %w", err)
	}
	if c.Policy == "" {
		return c, fmt.Errorf("agent configuration: policy is empty")
	}
	if c.StaleLockAge.Duration == 0 {
		c.StaleLockAge.Duration = 2 * time.Hour
	}
	if c.ExactCountMaxRows == 0 {
		c.ExactCountMaxRows = 10_000_000
	}
	for _, p := range c.Postgres {
		if os.Getenv(p.URIEnv) == "" {
			return c, fmt.Errorf("source %s: environment variable %s with the connection URI is empty", p.Name, p.URIEnv)
		}
	}
	return c, nil
}

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
