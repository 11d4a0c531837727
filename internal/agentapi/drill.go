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
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// RestoreConfig says what a drill's restore Job restores, and where.
type RestoreConfig struct {
	Policy string `json:"policy"`
	// Snapshot is "latest" or a snapshot id (or its prefix).
	Snapshot string            `json:"snapshot"`
	Postgres []RestoreDatabase `json:"postgres,omitempty"`
	Volumes  []RestoreVolume   `json:"volumes,omitempty"`
	// Checker, when set, is the login role the restore creates on the
	// sandbox server once every database is restored: the verify Job's
	// checks run as it, never as the superuser the restore uses.
	Checker *CheckerRole `json:"checker,omitempty"`
	// Jobs is how many CPUs the restore pod may use (its CPU limit). With
	// 2 or more and a ScratchDir big enough, a large dump is fetched to a
	// file and loaded by pg_restore --jobs; otherwise it is piped.
	Jobs int `json:"jobs,omitempty"`
	// ScratchDir is a directory for the dump file; ScratchBytes is the
	// most it may hold (its emptyDir's sizeLimit).
	ScratchDir   string `json:"scratchDir,omitempty"`
	ScratchBytes int64  `json:"scratchBytes,omitempty"`
}

// CheckerRole is the role the verify Job's checks run as: LOGIN with only
// pg_read_all_data and CONNECT on the restored databases; NOSUPERUSER,
// NOCREATEDB, NOCREATEROLE, NOREPLICATION.
type CheckerRole struct {
	Name string `json:"name"`
	// PasswordEnv names the variable with the role's password.
	PasswordEnv string `json:"passwordEnv"`
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

// Restored is one restored snapshot: ids, a time and a digest, never a
// manifest's content (the verify Job reads manifests from the repository
// and checks them against ManifestSHA256). It is written as a compact JSON
// array (see MarshalJSON) so that the restore of about 40 databases fits a
// termination message.
type Restored struct {
	Source   string `json:"source"`
	Database string `json:"database,omitempty"`
	ID       string `json:"id"`
	// Time is the snapshot's time, to the second.
	Time time.Time `json:"time"`
	// ManifestSHA256 is Manifest.Digest() of the snapshot's manifest, hex.
	ManifestSHA256 string `json:"manifestSHA256"`
}

// MarshalJSON writes [source, database, id, unix seconds, digest] with the
// digest in unpadded base64url (43 characters instead of 64).
func (r Restored) MarshalJSON() ([]byte, error) {
	digest := r.ManifestSHA256
	if raw, err := hex.DecodeString(digest); err == nil && len(raw) == sha256.Size {
		digest = base64.RawURLEncoding.EncodeToString(raw)
	}
	return json.Marshal([]any{r.Source, r.Database, r.ID, r.Time.Unix(), digest})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Restored) UnmarshalJSON(b []byte) error {
	var fields []json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return fmt.Errorf("restored snapshot: %w", err)
	}
	if len(fields) != 5 {
		return fmt.Errorf("restored snapshot: %d fields, want 5 (source, database, id, time, digest)", len(fields))
	}
	var unix int64
	var digest string
	for i, dst := range []any{&r.Source, &r.Database, &r.ID, &unix, &digest} {
		if err := json.Unmarshal(fields[i], dst); err != nil {
			return fmt.Errorf("restored snapshot field %d: %w", i, err)
		}
	}
	r.Time = time.Unix(unix, 0).UTC()
	r.ManifestSHA256 = digest
	if raw, err := base64.RawURLEncoding.DecodeString(digest); err == nil && len(raw) == sha256.Size {
		r.ManifestSHA256 = hex.EncodeToString(raw)
	}
	return nil
}

// VerifyCheck is one check of a drill on the restored copy. Exactly one of
// SQL, Tables, Files, ReferencedFiles or RequestTracker is set.
type VerifyCheck struct {
	Name string `json:"name"`
	// Database and TargetURIEnv locate the restored database (SQL, Tables,
	// ReferencedFiles).
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
	// ReferencedFiles checks that the files a query lists are in a
	// restored directory.
	ReferencedFiles *ReferencedFiles `json:"referencedFiles,omitempty"`
	// RequestTracker uses the Request Tracker that runs beside the agent
	// on the restored database.
	RequestTracker *RequestTracker `json:"requestTracker,omitempty"`
}

// RequestTracker is a smoke test of a restored Request Tracker through its
// REST2 API at URL (the verify pod's loopback), measured against the
// database manifest From names; Database and TargetURIEnv reach the same
// database read-only for what RT never shows (deleted tickets) and for the
// keys of the attachments sampled. The result is counts, ids and times.
type RequestTracker struct {
	URL string `json:"url"`
	// AttachmentsPath is the restored copy of RT's attachment files in
	// the verify pod ("" when the check names no volume): an attachment
	// RT cannot read is told apart from one whose file is missing.
	AttachmentsPath string `json:"attachmentsPath,omitempty"`
	// SampleAttachments is how many of the newest attachments RT keeps
	// as files are read back and hashed.
	SampleAttachments int `json:"sampleAttachments,omitempty"`
	// From is where the database's manifest is in the repository.
	From *ManifestRef `json:"from"`
	// Manifest is what the verify Job read from From.
	Manifest DatabaseManifest `json:"-"`
}

// ReferencedFiles checks that the files the restored database refers to
// are in a restored directory: SQL returns one row per file, its path
// relative to Path and, optionally, its size in bytes. The result is
// counts only (see ReferencedFileCounts).
type ReferencedFiles struct {
	// Path is the restored copy of the volume; no path of a row may lead
	// out of it.
	Path string `json:"path"`
	SQL  string `json:"sql"`
}

// TableComparison compares restored row counts with a manifest.
type TableComparison struct {
	// Tables to compare (schema.table, or table in public); all of the
	// manifest's when empty.
	Tables           []string `json:"tables,omitempty"`
	TolerancePercent float64  `json:"tolerancePercent"`
	// From is where the manifest is in the repository: the verify Job
	// reads it from there, never from its configuration.
	From *ManifestRef `json:"from"`
	// Manifest is what the verify Job read from From.
	Manifest DatabaseManifest `json:"-"`
}

// FileComparison compares a restored directory with a manifest.
type FileComparison struct {
	Path string `json:"path"`
	// From is where the manifest is in the repository.
	From *ManifestRef `json:"from"`
	// Manifest is what the verify Job read from From.
	Manifest VolumeManifest `json:"-"`
}

// ManifestRef locates the manifest of a data snapshot in the repository.
type ManifestRef struct {
	Policy   string `json:"policy"`
	Source   string `json:"source"`
	Database string `json:"database,omitempty"`
	// Snapshot is the data snapshot's id (short or full).
	Snapshot string `json:"snapshot"`
	// SHA256, when set, is the digest the restore reported: a manifest in
	// the repository with another digest is refused.
	SHA256 string `json:"sha256,omitempty"`
}

// CheckResult is one check's outcome. For an SQL check Observed is a
// number ("45000", "0.25") or "null", never a value of another type, and
// Message never holds a server's message text: errors are their SQLSTATE.
type CheckResult struct {
	Name     string `json:"name"`
	Passed   bool   `json:"passed"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	Message  string `json:"message,omitempty"`
}
