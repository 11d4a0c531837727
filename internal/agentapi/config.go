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
	// ExactCountMaxRows applies only when the agent cannot read a dump's
	// rows as it passes (see agent.copyDump): tables whose planner estimate
	// exceeds this are then recorded with the estimate (marked) instead of
	// count(*). Default 10M.
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

// ParseConfig reads and checks the configuration. The connection URIs are
// checked by CheckConnections, for a backup only: prune and check pods
// never connect to a database and are given no URI.
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
	return c, nil
}

// CheckConnections reports a postgres source whose URI variable is empty.
func (c Config) CheckConnections() error {
	for _, p := range c.Postgres {
		if os.Getenv(p.URIEnv) == "" {
			return fmt.Errorf("source %s: environment variable %s with the connection URI is empty", p.Name, p.URIEnv)
		}
	}
	return nil
}
