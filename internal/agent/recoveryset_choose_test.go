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
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/agentapi"
)

func TestChooseRecoverySet(t *testing.T) {
	const policy = "helpdesk/nightly"
	sources := []sourceKey{{"tickets", "helpdesk"}, {"tickets", "archive"}, {"attachments", ""}}
	at := func(h int) time.Time { return time.Date(2026, 11, 30, h, 0, 0, 0, time.UTC) }
	n := 0
	// run makes a set's data and manifest snapshots of the sources given.
	run := func(set string, h int, keys ...sourceKey) []ResticSnapshot {
		out := make([]ResticSnapshot, 0, 2*len(keys))
		for _, k := range keys {
			for _, kind := range []string{"data", "manifest"} {
				n++
				id := fmt.Sprintf("%08x%056d", n, 0)
				out = append(out, ResticSnapshot{ID: id, ShortID: id[:8], Time: at(h), Tags: snapshotTags(policy, k.source, k.database, kind, set)})
			}
		}
		return out
	}
	complete1 := run("backup-1", 1, sources...)
	complete2 := run("backup-2", 2, sources...)
	partial3 := run("backup-3", 3, sources[0], sources[2])
	legacy := run("", 0, sources...)
	tagged := complete1[2]
	tagged.Original, tagged.ID = tagged.ID, "ffffffff"+tagged.ID[8:]
	retagged := append(append([]ResticSnapshot{}, complete1[:2]...), tagged)

	all := func(groups ...[]ResticSnapshot) []ResticSnapshot {
		var out []ResticSnapshot
		for _, g := range groups {
			out = append(out, g...)
		}
		return out
	}
	tests := []struct {
		name  string
		snaps []ResticSnapshot
		want  string
		set   string // "" with no error: snapshots without sets, source by source
		err   string
	}{
		{"latest skips the newer incomplete set", all(complete1, complete2, partial3), "latest", "backup-2", ""},
		{"empty means latest", all(complete1, partial3), "", "backup-1", ""},
		{"a set by name", all(complete1, complete2), "backup-1", "backup-1", ""},
		{"a data snapshot's id prefix", all(complete1, complete2), complete1[0].ShortID, "backup-1", ""},
		{"a manifest snapshot's id", all(complete1, complete2), complete2[5].ID, "backup-2", ""},
		{"the id a snapshot had before restic tag rewrote it", all(retagged, complete1[3:], complete2), tagged.Original[:8], "backup-1", ""},
		{"an incomplete set by name", all(complete1, partial3), "backup-3", "", "recovery set backup-3 is incomplete: it has no snapshot of database archive of tickets"},
		{"an incomplete set by id", all(complete1, partial3), partial3[0].ShortID, "", "recovery set backup-3 is incomplete"},
		{"no complete set", partial3, "latest", "", "no complete recovery set: in none of the 1 backup runs in the repository did every source succeed (the newest, backup-3, lacks database archive of tickets)"},
		{"nothing at all", nil, "latest", "", "BackupPolicy helpdesk/nightly has no snapshot in the repository yet"},
		{"unknown", complete1, "backup-9", "", `no recovery set or snapshot "backup-9"`},
		{"an id prefix shorter than 8 digits matches nothing", complete1, complete1[0].ID[:6], "", `no recovery set or snapshot`},
		{"legacy snapshots only: source by source", legacy, "latest", "", ""},
		{"legacy beside incomplete sets: source by source", all(legacy, partial3), "latest", "", ""},
		{"a complete set wins over legacy", all(legacy, complete1), "latest", "backup-1", ""},
		{"a legacy snapshot by id", all(legacy, complete1), legacy[0].ShortID, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, legacy, err := chooseRecoverySet(tt.snaps, policy, sources, tt.want)
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
			case err != nil:
				t.Fatal(err)
			case tt.set == "" && set != nil:
				t.Fatalf("set %s, want snapshots without sets", set.name)
			case tt.set == "" && slices.ContainsFunc(legacy, func(s ResticSnapshot) bool { return recoverySetName(s) != "" }):
				t.Fatalf("the snapshots without sets include one of a set: %+v", legacy)
			case tt.set != "" && (set == nil || set.name != tt.set):
				t.Fatalf("set %+v, want %s", set, tt.set)
			}
		})
	}
}

func TestForgettableKeepsSetsWhole(t *testing.T) {
	const policy = "helpdesk/nightly"
	sources := []sourceKey{{"tickets", "helpdesk"}, {"attachments", ""}}
	var snaps []ResticSnapshot
	for d := 1; d <= 4; d++ {
		set := fmt.Sprintf("backup-%d", d)
		for _, k := range sources {
			for _, kind := range []string{"data", "manifest"} {
				id := fmt.Sprintf("%s-%s-%s", set, k.source, kind)
				tags := snapshotTags(policy, k.source, k.database, kind, set)
				if d == 1 {
					tags = append(tags, agentapi.VerifiedTag)
				}
				snaps = append(snaps, ResticSnapshot{ID: id, Time: time.Date(2026, 11, d, 2, 0, 0, 0, time.UTC), Tags: tags})
			}
		}
	}
	ids, note := forgettable(snaps, policy, sources, agentapi.Retention{KeepLast: 2})
	if note != "kept 3 of 4 recovery sets; newest verified: backup-1" {
		t.Errorf("note %q", note)
	}
	if len(ids) != 4 {
		t.Fatalf("forget %v, want the 4 snapshots of backup-2", ids)
	}
	for _, id := range ids {
		if !strings.HasPrefix(id, "backup-2-") {
			t.Errorf("forgets %s, want only backup-2's", id)
		}
	}
}
