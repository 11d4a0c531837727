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

package agent

import (
	"context"

	"github.com/supportstack/operator/internal/agentapi"
)

// What the external tests reach of the package's internals.
var (
	CopyDump           = copyDump
	ParseBackupSummary = parseSummary
)

// TableName is tableName for the external tests.
type TableName = tableName

// RestoreWithEarlyFetch restores database db of the policy's snapshot
// snapID into the sandbox while a fetch started early streams snapshot
// earlyID, as if restic's own latest had picked that one (a backup that
// finished as the restore started).
func (a *Runner) RestoreWithEarlyFetch(ctx context.Context, policy string, db agentapi.RestoreDatabase, cfg agentapi.RestoreConfig, snapID, earlyID string) (agentapi.RestorePhases, error) {
	snaps, err := a.policySnapshots(ctx, policy)
	if err != nil {
		return agentapi.RestorePhases{}, err
	}
	var snap ResticSnapshot
	for _, s := range snaps {
		if s.hasID(snapID) {
			snap = s
		}
	}
	early, err := a.startFetch(ctx, earlyID, nil, db.Database)
	if err != nil {
		return agentapi.RestorePhases{}, err
	}
	manifest := func() agentapi.Manifest {
		m, _ := a.manifestFor(ctx, snaps, policy, db.Source, db.Database, snap)
		return m
	}
	return a.restoreDatabase(ctx, snap, early, db, cfg, manifest)
}

// PlentyOfDisk makes the restore see a scratch filesystem with room to
// spare, whatever the machine's disk holds, until the test ends.
func PlentyOfDisk(t interface{ Cleanup(func()) }) {
	saved := diskSpace
	diskSpace = func(string) (int64, int64, error) { return 1 << 40, 1 << 41, nil }
	t.Cleanup(func() { diskSpace = saved })
}
