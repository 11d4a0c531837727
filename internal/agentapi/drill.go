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
	"time"
)

// RestoreConfig says what a drill's restore Job restores, and where.
type RestoreConfig struct {
	Policy string `json:"policy"`
	// Snapshot is "latest" or a snapshot id (or its prefix).
	Snapshot string            `json:"snapshot"`
	Postgres []RestoreDatabase `json:"postgres,omitempty"`
	Volumes  []RestoreVolume   `json:"volumes,omitempty"`
}

// RestoreDatabase restores one database of a source into the sandbox server.
type RestoreDatabase struct {
	Source   string `json:"source"`
	Database string `json:"database"`
	// TargetURIEnv names the variable with the sandbox server's URI.
	TargetURIEnv string `json:"targetURIEnv"`
}

// RestoreVolume restores a volume source into a directory.
type RestoreVolume struct {
	Source string `json:"source"`
	// SourcePath is where the volume was mounted when it was backed up.
	SourcePath string `json:"sourcePath"`
	Target     string `json:"target"`
}

// Restored is one restored snapshot.
type Restored struct {
	Source   string    `json:"source"`
	Database string    `json:"database,omitempty"`
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Manifest Manifest  `json:"manifest"`
	// ManifestSHA256 is Manifest.Digest() of the full manifest, set when the
	// report leaves the manifest's table list out.
	ManifestSHA256 string `json:"manifestSHA256,omitempty"`
	// Path is where a volume's files were restored.
	Path string `json:"path,omitempty"`
}

// VerifyCheck is one check of a drill on the restored copy. Exactly one of
// SQL, Tables or Files is set.
type VerifyCheck struct {
	Name string `json:"name"`
	// Database and TargetURIEnv locate the restored database (SQL, Tables).
	Database     string `json:"database,omitempty"`
	TargetURIEnv string `json:"targetURIEnv,omitempty"`

	SQL    string `json:"sql,omitempty"`
	Min    *int64 `json:"min,omitempty"`
	Max    *int64 `json:"max,omitempty"`
	Equals *int64 `json:"equals,omitempty"`

	// Tables compares row counts with the manifest recorded at backup time.
	Tables *TableComparison `json:"tables,omitempty"`
	// Files compares a restored directory with its manifest.
	Files *FileComparison `json:"files,omitempty"`
}

// TableComparison compares restored row counts with a manifest.
type TableComparison struct {
	// Tables to compare (schema.table, or table in public); all of the
	// manifest's when empty.
	Tables           []string         `json:"tables,omitempty"`
	TolerancePercent float64          `json:"tolerancePercent"`
	Manifest         DatabaseManifest `json:"manifest"`
	// From, when set, reads Manifest from the repository: the operator
	// passes where the manifest is, not its (possibly large) table list.
	From *ManifestRef `json:"from,omitempty"`
}

// FileComparison compares a restored directory with a manifest.
type FileComparison struct {
	Path     string         `json:"path"`
	Manifest VolumeManifest `json:"manifest"`
	// From, when set, reads Manifest from the repository.
	From *ManifestRef `json:"from,omitempty"`
}

// ManifestRef locates the manifest of a data snapshot in the repository.
type ManifestRef struct {
	Policy   string `json:"policy"`
	Source   string `json:"source"`
	Database string `json:"database,omitempty"`
	// Snapshot is the data snapshot's id (short or full).
	Snapshot string `json:"snapshot"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	Name     string `json:"name"`
	Passed   bool   `json:"passed"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	Message  string `json:"message,omitempty"`
}
