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

package agent_test

import (
	"cmp"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/agent"
	"github.com/supportstack/operator/internal/agent/pgtest"
	"github.com/supportstack/operator/internal/agentapi"
)

// setsFixture is a policy of two databases and a volume, backed up as
// named recovery sets.
type setsFixture struct {
	*fixture
	cfg     agentapi.Config
	sandbox *pgtest.Server
	// restored is what the last restore reported.
	restored []agentapi.Restored
}

func newSetsFixture(t *testing.T) *setsFixture {
	f := &setsFixture{fixture: newFixture(t)}
	f.pg.Exec(t, "postgres", "CREATE DATABASE archive")
	f.pg.Exec(t, "archive", "CREATE TABLE closed (id int PRIMARY KEY)", "INSERT INTO closed SELECT generate_series(1, 10)")
	f.cfg = f.config(t)
	f.cfg.Postgres[0].Databases = []string{"helpdesk", "archive"}
	f.sandbox = pgtest.Start(t)
	t.Setenv("SANDBOX_URI", f.sandbox.URI("postgres"))
	return f
}

// backup runs a backup as the recovery set name.
func (f *setsFixture) backup(t *testing.T, name string) agentapi.Result {
	t.Helper()
	t.Setenv(agentapi.RecoverySetEnv, name)
	res := f.runner(f.env).Backup(context.Background(), f.cfg)
	if res.RecoverySet != name {
		t.Fatalf("backup reported set %q, want %q", res.RecoverySet, name)
	}
	return res
}

// restore restores every source of the policy from want into fresh
// databases and directory; it returns the set, the restored closed-ticket
// count of archive and the restored volume.
func (f *setsFixture) restore(t *testing.T, want string) (string, string, agentapi.VolumeManifest, error) {
	t.Helper()
	for _, db := range []string{"helpdesk", "archive"} {
		f.sandbox.Exec(t, "postgres", "DROP DATABASE IF EXISTS "+db)
	}
	target := t.TempDir()
	cfg := agentapi.RestoreConfig{Policy: f.cfg.Policy, Snapshot: want,
		Postgres: []agentapi.RestoreDatabase{
			{Source: "tickets", Database: "helpdesk", TargetURIEnv: "SANDBOX_URI"},
			{Source: "tickets", Database: "archive", TargetURIEnv: "SANDBOX_URI"},
		},
		Volumes: []agentapi.RestoreVolume{{Source: "attachments", SourcePath: f.attachments, Target: target}},
	}
	done, err := f.runner(f.env).Restore(context.Background(), cfg)
	restored, set := done.Restored, done.RecoverySet
	f.restored = restored
	if err != nil {
		return set, "", agentapi.VolumeManifest{}, err
	}
	vm, err := agent.ScanVolume(filepath.Join(target, f.attachments))
	if err != nil {
		t.Fatal(err)
	}
	return set, f.sandbox.QueryString(t, "archive", "SELECT count(*) FROM closed"), vm, nil
}

// snapshotOf is the id of the set's data snapshot of a source.
func snapshotOf(t *testing.T, res agentapi.Result, source string) string {
	t.Helper()
	for _, s := range res.Snapshots {
		if s.Source == source && s.Database == "" || s.Database == source {
			return s.ID
		}
	}
	t.Fatalf("backup %s has no snapshot of %s: %+v", res.RecoverySet, source, res.Snapshots)
	return ""
}

// TestRecoverySets backs up two databases and a volume three times; the
// newest run loses a database. "latest" restores the newest complete run,
// whole; a pinned snapshot id of a volume restores that run's databases
// too (before recovery sets, one id for every source always failed); an
// incomplete set named explicitly is refused, naming what it lacks.
func TestRecoverySets(t *testing.T) {
	f := newSetsFixture(t)
	first := f.backup(t, "backup-1")
	if !first.Succeeded || len(first.Snapshots) != 3 {
		t.Fatalf("first backup: %s %+v", first.Error, first.Snapshots)
	}
	volumeAt := func() agentapi.VolumeManifest {
		vm, err := agent.ScanVolume(f.attachments)
		if err != nil {
			t.Fatal(err)
		}
		return vm
	}
	volume1 := volumeAt()

	f.pg.Exec(t, "archive", "INSERT INTO closed SELECT generate_series(11, 20)")
	if err := os.WriteFile(filepath.Join(f.attachments, "new-after-1.txt"), []byte("second run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if second := f.backup(t, "backup-2"); !second.Succeeded {
		t.Fatal(second.Error)
	}
	volume2 := volumeAt()

	// The third run backs up helpdesk (changed: "latest" must not restore
	// this newest dump of it, which restic's own latest would pick) and the
	// volume, but archive fails.
	f.pg.Exec(t, "helpdesk", "CREATE TABLE after_two (id int)")
	f.pg.Exec(t, "postgres", "ALTER DATABASE archive RENAME TO archive_moved")
	if err := os.WriteFile(filepath.Join(f.attachments, "new-after-2.txt"), []byte("third run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	third := f.backup(t, "backup-3")
	if third.Succeeded || len(third.Snapshots) != 2 || !strings.Contains(third.Error, "database archive") {
		t.Fatalf("third backup should have failed on archive only: %s %+v", third.Error, third.Snapshots)
	}

	// Every snapshot carries its run's tag.
	for _, s := range f.snapshots(t) {
		if !slices.ContainsFunc(s.Tags, func(tag string) bool { return strings.HasPrefix(tag, agentapi.RecoverySetTag+"backup-") }) {
			t.Errorf("snapshot %s has no run tag: %v", s.ShortID, s.Tags)
		}
	}

	tests := []struct {
		name, want, set, closed string
		volume                  agentapi.VolumeManifest
		err                     string
	}{
		{name: "latest is the newest complete set", want: "latest", set: "backup-2", closed: "20", volume: volume2},
		{name: "a set by name", want: "backup-1", set: "backup-1", closed: "10", volume: volume1},
		{name: "the volume's snapshot id pins the whole set", want: snapshotOf(t, first, "attachments"), set: "backup-1", closed: "10", volume: volume1},
		{name: "a database's snapshot id pins the whole set", want: snapshotOf(t, first, "archive"), set: "backup-1", closed: "10", volume: volume1},
		{name: "an incomplete set is refused", want: "backup-3", err: "recovery set backup-3 is incomplete: it has no snapshot of database archive of tickets"},
		{name: "an unknown set", want: "backup-9", err: `no recovery set or snapshot "backup-9"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, closed, vm, err := f.restore(t, tt.want)
			if tt.err != "" {
				var drillErr *agent.DrillError
				if !errors.As(err, &drillErr) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want a drill error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if set != tt.set || closed != tt.closed || vm != tt.volume {
				t.Errorf("restored set %s (archive %s rows, volume %d files), want %s (%s rows, %d files)", set, closed, vm.Files, tt.set, tt.closed, tt.volume.Files)
			}
			if third := f.sandbox.QueryString(t, "helpdesk", "SELECT (to_regclass('after_two') IS NOT NULL)::text"); third != "false" {
				t.Errorf("helpdesk restored from backup-3, not from set %s", tt.set)
			}
			// A fetch started and then not used (restic's latest was not
			// the set's) is interrupted, so it removes its lock.
			if locks := strings.TrimSpace(string(f.restic(t, "list", "locks", "--no-lock"))); locks != "" {
				t.Errorf("locks left after the restore: %s: %s", locks, f.restic(t, "cat", "lock", "--no-lock", strings.Fields(locks)[0]))
			}
		})
	}
}

// TestSplitRunIsOneRecoverySet backs up a policy as two parts, as when
// its volume is mounted on another node than where the databases' part
// runs: two Jobs of two CronJobs, the same scheduled minute. Their
// snapshots form one set, which "latest" restores whole; while only one
// part has run, the set is incomplete and "latest" keeps to the older
// complete one.
func TestSplitRunIsOneRecoverySet(t *testing.T) {
	f := newSetsFixture(t)
	t.Setenv(agentapi.RecoverySetPrefixEnv, "helpdesk-backup")
	databases, volume := f.cfg, f.cfg
	databases.Volumes, volume.Postgres = nil, nil
	part := func(cfg agentapi.Config, job, wantSet string) {
		t.Helper()
		t.Setenv(agentapi.RecoverySetEnv, job)
		res := f.runner(f.env).Backup(context.Background(), cfg)
		if !res.Succeeded || res.RecoverySet != wantSet {
			t.Fatalf("part %s: set %q (want %q): %s", job, res.RecoverySet, wantSet, res.Error)
		}
	}
	part(databases, "helpdesk-backup-29412000", "helpdesk-backup-29412000")
	part(volume, "helpdesk-backup-2-29412000", "helpdesk-backup-29412000")

	f.pg.Exec(t, "archive", "INSERT INTO closed SELECT generate_series(11, 20)")
	part(databases, "helpdesk-backup-29412060", "helpdesk-backup-29412060")
	set, closed, _, err := f.restore(t, "latest")
	if err != nil || set != "helpdesk-backup-29412000" || closed != "10" {
		t.Fatalf("with the newer run half done, latest restored set %q (%s rows, %v); want the complete helpdesk-backup-29412000", set, closed, err)
	}
	if _, _, _, err := f.restore(t, "helpdesk-backup-29412060"); err == nil || !strings.Contains(err.Error(), "no snapshot of volume attachments") {
		t.Fatalf("the half-done set restored: %v", err)
	}
	// The second part of the newer run, on its node, a moment later.
	part(volume, "helpdesk-backup-2-29412060", "helpdesk-backup-29412060")
	if set, closed, _, err = f.restore(t, "latest"); err != nil || set != "helpdesk-backup-29412060" || closed != "20" {
		t.Fatalf("latest restored set %q (%s rows, %v), want helpdesk-backup-29412060 with 20 rows", set, closed, err)
	}
	// A backup-now Job of each part: the token's hash ends both names.
	part(volume, "helpdesk-backup-2-now-1a2b3c4d", "helpdesk-backup-1a2b3c4d")
	// Kubernetes before 1.27 labels pods job-name only.
	t.Setenv(agentapi.LegacyJobNameEnv, "helpdesk-backup-2-29412120")
	part(volume, "", "helpdesk-backup-29412120")
}

// TestVerifiedSetSurvivesPrune tags a set verified, as a passing drill
// does, and shows that prune's keep rules, which would forget it, do not;
// that a set is forgotten whole; and that a set restores by the snapshot
// ids it had before tagging rewrote them.
func TestVerifiedSetSurvivesPrune(t *testing.T) {
	ctx := context.Background()
	f := newSetsFixture(t)
	results := make([]agentapi.Result, 0, 3)
	for _, name := range []string{"backup-1", "backup-2", "backup-3"} {
		res := f.backup(t, name)
		if !res.Succeeded {
			t.Fatal(res.Error)
		}
		results = append(results, res)
		time.Sleep(1100 * time.Millisecond) // distinct snapshot times, to the second
	}
	n, err := f.runner(f.env).MarkVerified(ctx, agentapi.MarkVerified{Policy: f.cfg.Policy, RecoverySet: "backup-1"}, 1, 0)
	if err != nil || n != 6 {
		t.Fatalf("MarkVerified tagged %d snapshots, %v; want 6", n, err)
	}
	// A second drill of the same set: already tagged, not gone.
	if n, err := f.runner(f.env).MarkVerified(ctx, agentapi.MarkVerified{Policy: f.cfg.Policy, RecoverySet: "backup-1"}, 1, 0); err != nil || n != 6 {
		t.Errorf("tagging the set again: %d snapshots, %v; want its 6, tagged already", n, err)
	}
	// A set that is not there (pruned meanwhile) is a failure, not a success.
	var tagErr *agent.TagError
	if n, err := f.runner(f.env).MarkVerified(ctx, agentapi.MarkVerified{Policy: f.cfg.Policy, RecoverySet: "backup-9"}, 1, 0); !errors.As(err, &tagErr) || tagErr.Kind != agentapi.TagFailureGone || n != 0 {
		t.Errorf("tagging a set that is gone: %d, %v", n, err)
	}
	setsOf := func() map[string][]agent.ResticSnapshot {
		out := map[string][]agent.ResticSnapshot{}
		for _, s := range f.snapshots(t) {
			for _, tag := range s.Tags {
				if name, ok := strings.CutPrefix(tag, agentapi.RecoverySetTag); ok {
					out[name] = append(out[name], s)
				}
			}
		}
		return out
	}
	for _, s := range setsOf()["backup-1"] {
		if !slices.Contains(s.Tags, agentapi.VerifiedTag) || s.Original == "" {
			t.Errorf("snapshot %s of the verified set: tags %v, original %q", s.ShortID, s.Tags, s.Original)
		}
	}

	// keepLast 1 would forget backup-1 and backup-2.
	res := f.runner(f.env).Prune(ctx, f.cfg)
	if !res.Succeeded {
		t.Fatal(res.Error)
	}
	if !slices.Contains(res.Notes, "kept 2 of 3 recovery sets; newest verified: backup-1") || !slices.Contains(res.Notes, "forgot 6 snapshots and pruned") {
		t.Errorf("prune notes %q", res.Notes)
	}
	sets := setsOf()
	names := make([]string, 0, len(sets))
	for name, snaps := range sets {
		names = append(names, name)
		if len(snaps) != 6 {
			t.Errorf("set %s has %d snapshots after prune, want all 6", name, len(snaps))
		}
	}
	sort.Strings(names)
	if !slices.Equal(names, []string{"backup-1", "backup-3"}) {
		t.Errorf("sets after prune %v, want backup-1 (verified) and backup-3 (keepLast 1)", names)
	}

	// The verified set still restores, pinned by the id its volume
	// snapshot had at backup time.
	set, closed, _, err := f.restore(t, snapshotOf(t, results[0], "attachments"))
	if err != nil || set != "backup-1" || closed != "10" {
		t.Fatalf("restoring the verified set: %s %s %v", set, closed, err)
	}
	// It reports the ids the backup reported, not the ones tagging gave.
	for _, r := range f.restored {
		if want := snapshotOf(t, results[0], cmp.Or(r.Database, r.Source)); r.ID != want {
			t.Errorf("restored %s/%s as snapshot %s, the backup reported %s", r.Source, r.Database, r.ID, want)
		}
	}
	if res := f.runner(f.env).Check(ctx, agentapi.Config{Policy: f.cfg.Policy, ReadDataPercent: 100, StaleLockAge: f.cfg.StaleLockAge}); !res.Succeeded {
		t.Errorf("check after prune: %s", res.Error)
	}
}

// TestSnapshotsBeforeRecoverySets: a repository written before backups
// were grouped (no run tags) still restores "latest" source by source,
// a passing drill tags its snapshots by id, and prune applies the keep
// rules within each source as restic forget --group-by tags did.
func TestSnapshotsBeforeRecoverySets(t *testing.T) {
	ctx := context.Background()
	f := newSetsFixture(t)
	for _, name := range []string{"old-1", "old-2"} {
		if res := f.backup(t, name); !res.Succeeded {
			t.Fatal(res.Error)
		}
		f.restic(t, "tag", "--tag", agentapi.RecoverySetTag+name, "--remove", agentapi.RecoverySetTag+name)
		time.Sleep(1100 * time.Millisecond)
	}
	set, closed, _, err := f.restore(t, "latest")
	if err != nil || set != "" || closed != "10" {
		t.Fatalf("restore of legacy snapshots: set %q, %s rows, %v", set, closed, err)
	}
	var oldest []string
	for _, s := range f.snapshots(t) {
		if slices.Contains(s.Tags, "kind=data") && !slices.ContainsFunc(f.snapshots(t), func(o agent.ResticSnapshot) bool {
			return o.Time.Before(s.Time) && slices.Equal(o.Tags, s.Tags)
		}) {
			// As the restore reports them: the ids the backup gave,
			// which removing the run tag above rewrote.
			oldest = append(oldest, s.Original[:8])
		}
	}
	if len(oldest) != 3 {
		t.Fatalf("oldest data snapshots %v", oldest)
	}
	if _, err := f.runner(f.env).MarkVerified(ctx, agentapi.MarkVerified{Policy: f.cfg.Policy, Snapshots: oldest}, 1, 0); err != nil {
		t.Fatal(err)
	}
	if res := f.runner(f.env).Prune(ctx, f.cfg); !res.Succeeded {
		t.Fatal(res.Error)
	}
	// Per source and kind: the newest (keepLast 1) and, for data, the
	// verified oldest: 3 sources x (2 data + 1 manifest).
	if n := len(f.snapshots(t)); n != 9 {
		t.Errorf("%d snapshots after prune, want 9", n)
	}
}
