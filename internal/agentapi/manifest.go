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
	"encoding/json"
	"time"
)

// Manifest records what a snapshot holds, so a restore can be compared with
// the source as it was at backup time. It is stored as its own snapshot
// (tagged kind=manifest) next to the data snapshot it describes.
type Manifest struct {
	Policy       string            `json:"policy"`
	Source       string            `json:"source"`
	Time         time.Time         `json:"time"`
	DataSnapshot string            `json:"dataSnapshot,omitempty"`
	Database     *DatabaseManifest `json:"database,omitempty"`
	Volume       *VolumeManifest   `json:"volume,omitempty"`
}

// DatabaseManifest is a PostgreSQL database at the dump's snapshot.
type DatabaseManifest struct {
	Name          string       `json:"name"`
	ServerVersion string       `json:"serverVersion"`
	Tables        []TableCount `json:"tables"`
	// DumpBytes is the size of the dump as restic stored it (before
	// restic's compression); a restore sizes its scratch file from it.
	// Absent from manifests written before it was recorded.
	DumpBytes int64 `json:"dumpBytes,omitempty"`
}

// TableCount is one table's row count: the rows of the table's data in the
// dump, or count(*) in the dump's snapshot when the agent could not read
// the dump. Estimated marks a planner estimate (a table above
// exactCountMaxRows in that case, or in manifests of older agents), which
// a drill compares with tolerance.
type TableCount struct {
	Table     string `json:"table"` // schema.name
	Rows      int64  `json:"rows"`
	Estimated bool   `json:"estimated,omitempty"`
}

// VolumeManifest is a directory tree.
type VolumeManifest struct {
	Files int64 `json:"files"`
	Bytes int64 `json:"bytes"`
	// ListingSHA256 is the SHA-256 of the sorted lines "path\tsize\tsha256\n"
	// of every regular file, paths relative to the volume root.
	ListingSHA256 string `json:"listingSHA256"`
}

// Digest is the SHA-256 of the manifest's canonical JSON.
func (m Manifest) Digest() string {
	b, _ := json.Marshal(m)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
