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
	// SnapshotTime is the server's clock when the dump's snapshot was
	// taken: the dump holds every change committed before it. Absent from
	// manifests written before it was recorded.
	SnapshotTime *time.Time `json:"snapshotTime,omitempty"`
	// RequestTracker is, for a Request Tracker database, its latest ticket
	// update in the dump's snapshot; absent for other databases and from
	// manifests written before it was recorded.
	RequestTracker *RTManifest `json:"requestTracker,omitempty"`
}

// RTManifest is what a drill's requestTracker check compares with the
// restored RT: the ticket RT lists first when ordered by last update
// (deleted tickets aside, as RT lists them) and that update's time. A
// restored RT whose latest update is the same holds the help desk up to
// the dump's snapshot, however quiet the time between the two was.
type RTManifest struct {
	// LatestTicket is that ticket's id, 0 when RT had no ticket.
	LatestTicket int64 `json:"latestTicket"`
	// LatestUpdate is its last update (RT keeps whole seconds, UTC).
	LatestUpdate *time.Time `json:"latestUpdate,omitempty"`
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
