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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/retention"
)

// A recovery set is every snapshot of one backup run: each database's and
// each volume's data and manifest, tagged run=<name>. Restores take all
// their sources from one set, so the database and the attachments they
// restore are from the same moment; prune keeps or forgets a set whole.

// recoverySetName is the run a snapshot belongs to; "" for snapshots taken
// before backups were grouped into sets.
func recoverySetName(s ResticSnapshot) string {
	for _, t := range s.Tags {
		if name, ok := strings.CutPrefix(t, agentapi.RecoverySetTag); ok {
			return name
		}
	}
	return ""
}

// hasID reports whether id is a prefix of the snapshot's id or of its
// original id: tagging a snapshot (verified) rewrites it under a new id,
// and status, evidence and manifests keep the one it had at backup time.
func (s ResticSnapshot) hasID(id string) bool {
	return id != "" && (strings.HasPrefix(s.ID, id) || strings.HasPrefix(s.Original, id))
}

// backupID is the snapshot's short id as the backup reported it: tagging
// rewrites a snapshot under a new id, and status, evidence and the drills
// that pin an id know the first one.
func (s ResticSnapshot) backupID() string {
	if len(s.Original) >= 8 {
		return s.Original[:8]
	}
	return s.ShortID
}

// newRecoverySetName names a run that was given no name (one started by
// hand): its start time, and a random suffix for two in the same second.
func newRecoverySetName(start time.Time) string {
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	return start.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(suffix)
}

type recoverySet struct {
	name     string
	time     time.Time // the first snapshot's
	snaps    []ResticSnapshot
	verified bool
}

// sourceKey is one database of a postgres source, or a volume source.
type sourceKey struct{ source, database string }

func (k sourceKey) String() string {
	if k.database == "" {
		return "volume " + k.source
	}
	return "database " + k.database + " of " + k.source
}

// recoverySets groups snapshots into sets, newest first; snapshots of no
// set are returned apart.
func recoverySets(snaps []ResticSnapshot) (sets []recoverySet, loose []ResticSnapshot) {
	index := map[string]int{}
	for _, s := range snaps {
		name := recoverySetName(s)
		if name == "" {
			loose = append(loose, s)
			continue
		}
		i, ok := index[name]
		if !ok {
			i = len(sets)
			index[name] = i
			sets = append(sets, recoverySet{name: name, time: s.Time})
		}
		set := &sets[i]
		set.snaps = append(set.snaps, s)
		if s.Time.Before(set.time) {
			set.time = s.Time
		}
		set.verified = set.verified || slices.Contains(s.Tags, agentapi.VerifiedTag)
	}
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].time.After(sets[j].time) })
	return sets, loose
}

// missing lists the sources the set has no data or no manifest snapshot of.
func (set recoverySet) missing(policy string, sources []sourceKey) []string {
	var out []string
	for _, k := range sources {
		for _, kind := range []string{"data", "manifest"} {
			if len(withTags(set.snaps, snapshotTags(policy, k.source, k.database, kind, ""))) == 0 {
				out = append(out, k.String())
				break
			}
		}
	}
	return out
}

// minIDPrefix is the shortest snapshot id prefix a drill may pin: a
// shorter one would match by chance.
const minIDPrefix = 8

// chooseRecoverySet resolves a drill's snapshot ("latest", a set's name,
// or the id of any snapshot of a set, at least 8 hex digits) to the set
// every source restores from. When the answer is snapshots taken before
// recovery sets, it returns no set and those snapshots only (never one of
// a set): each source then resolves want among them, as before sets.
func chooseRecoverySet(snaps []ResticSnapshot, policy string, sources []sourceKey, want string) (*recoverySet, []ResticSnapshot, error) {
	sets, loose := recoverySets(snaps)
	if want == "" || want == "latest" {
		for i := range sets {
			if len(sets[i].missing(policy, sources)) == 0 {
				return &sets[i], nil, nil
			}
		}
		switch {
		case len(loose) > 0:
			return nil, loose, nil
		case len(sets) == 0:
			return nil, nil, &DrillError{fmt.Sprintf("BackupPolicy %s has no snapshot in the repository yet", policy)}
		}
		return nil, nil, &DrillError{fmt.Sprintf("no complete recovery set: in none of the %d backup runs in the repository did every source succeed (the newest, %s, lacks %s)",
			len(sets), sets[0].name, strings.Join(sets[0].missing(policy, sources), ", "))}
	}
	var named *recoverySet
	for i := range sets {
		if sets[i].name == want {
			named = &sets[i]
		}
	}
	if named == nil {
		matched := map[string]bool{}
		for _, s := range snaps {
			if len(want) >= minIDPrefix && s.hasID(want) {
				matched[recoverySetName(s)] = true
			}
		}
		switch {
		case len(matched) == 0:
			return nil, nil, &DrillError{fmt.Sprintf("no recovery set or snapshot %q of BackupPolicy %s in the repository", want, policy)}
		case len(matched) > 1:
			return nil, nil, &DrillError{fmt.Sprintf("snapshot id %q is ambiguous: it starts snapshots of %d backup runs; give more digits", want, len(matched))}
		case matched[""]:
			return nil, loose, nil
		}
		for i := range sets {
			if matched[sets[i].name] {
				named = &sets[i]
			}
		}
	}
	if m := named.missing(policy, sources); len(m) > 0 {
		return nil, nil, &DrillError{fmt.Sprintf("recovery set %s is incomplete: it has no snapshot of %s (that source failed in that backup run); restore another set", named.name, strings.Join(m, ", "))}
	}
	return named, nil, nil
}

// restoreSources are the sources a restore takes from one set.
func restoreSources(cfg agentapi.RestoreConfig) []sourceKey {
	keys := make([]sourceKey, 0, len(cfg.Postgres)+len(cfg.Volumes))
	for _, db := range cfg.Postgres {
		keys = append(keys, sourceKey{db.Source, db.Database})
	}
	for _, v := range cfg.Volumes {
		keys = append(keys, sourceKey{v.Source, ""})
	}
	return keys
}

// backupSources are the sources a policy backs up.
func backupSources(cfg agentapi.Config) []sourceKey {
	var keys []sourceKey
	for _, p := range cfg.Postgres {
		for _, db := range p.Databases {
			keys = append(keys, sourceKey{p.Name, db})
		}
	}
	for _, v := range cfg.Volumes {
		keys = append(keys, sourceKey{v.Name, ""})
	}
	return keys
}

// forgettable decides, with the policy's keep rules applied to whole
// recovery sets, which snapshots prune forgets. Snapshots of no set are
// kept by the same rules within their own source, kind and database, as
// restic forget --group-by tags did before sets. It returns the ids to
// forget and one line on what is kept.
func forgettable(snaps []ResticSnapshot, policy string, sources []sourceKey, keep agentapi.Retention) ([]string, string) {
	rules := retention.Rules{Last: keep.KeepLast, Hourly: keep.KeepHourly, Daily: keep.KeepDaily,
		Weekly: keep.KeepWeekly, Monthly: keep.KeepMonthly, Yearly: keep.KeepYearly}
	sets, loose := recoverySets(snaps)
	byName := map[string][]ResticSnapshot{}
	units := make([]retention.Unit, 0, len(sets))
	for _, set := range sets {
		byName[set.name] = set.snaps
		units = append(units, retention.Unit{Name: set.name, Time: set.time, Verified: set.verified,
			Complete: len(set.missing(policy, sources)) == 0})
	}
	var forget []string
	kept, verified := 0, ""
	for _, d := range retention.Apply(units, rules) {
		switch {
		case !d.Keep:
			for _, s := range byName[d.Name] {
				forget = append(forget, s.ID)
			}
		default:
			kept++
			if slices.Contains(d.Reasons, "newest verified") {
				verified = d.Name
			}
		}
	}
	groups := map[string][]retention.Unit{}
	for _, s := range loose {
		tags := slices.Clone(s.Tags)
		slices.Sort(tags)
		key := strings.Join(slices.DeleteFunc(tags, func(t string) bool { return t == agentapi.VerifiedTag }), ",")
		groups[key] = append(groups[key], retention.Unit{Name: s.ID, Time: s.Time, Complete: true, Verified: slices.Contains(s.Tags, agentapi.VerifiedTag)})
	}
	for _, group := range groups {
		for _, d := range retention.Apply(group, rules) {
			if !d.Keep {
				forget = append(forget, d.Name)
			}
		}
	}
	note := fmt.Sprintf("kept %d of %d recovery sets", kept, len(sets))
	if verified != "" {
		note += "; newest verified: " + verified
	}
	return forget, note
}

// MarkVerified tags the snapshots of a recovery set a drill proved
// restorable and returns how many it tagged. restic tag takes the
// repository's exclusive lock, so a backup, prune or restore in progress
// makes it wait and retry. Its error is a *TagError.
func (a *Runner) MarkVerified(ctx context.Context, m agentapi.MarkVerified, attempts int, wait time.Duration) (int, error) {
	args := []string{"tag", "--add", agentapi.VerifiedTag}
	switch {
	case m.RecoverySet != "":
		args = append(args, "--tag", "policy="+m.Policy+","+agentapi.RecoverySetTag+m.RecoverySet)
	case len(m.Snapshots) > 0:
		// Ids as the restore reported them (from the backup): tagging
		// rewrote some, and restic tag knows only the current ones.
		snaps, err := a.policySnapshots(ctx, m.Policy)
		if err != nil {
			return 0, &TagError{agentapi.TagFailureFailed, err}
		}
		args = append(args, "--")
		for _, id := range m.Snapshots {
			for _, s := range snaps {
				if len(id) >= minIDPrefix && s.hasID(id) {
					args = append(args, s.ID)
				}
			}
		}
		if len(args) == 4 {
			return 0, &TagError{agentapi.TagFailureGone, errors.New("none of the restored snapshots is left in the repository")}
		}
	default:
		return 0, &TagError{agentapi.TagFailureFailed, errors.New("nothing to tag verified")}
	}
	var err error
	for i := 0; i < attempts; i++ {
		var out []byte
		if out, err = a.Restic.run(ctx, args...); err == nil {
			// restic says "create exclusive lock for repository" first and
			// "modified tags on N snapshots" last.
			var n int
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if _, scanErr := fmt.Sscanf(lines[len(lines)-1], "modified tags on %d snapshots", &n); scanErr != nil || n == 0 {
				// Nothing to modify is also a set an earlier drill tagged
				// already (two drills of one backup): it is tagged, not gone.
				if already := a.alreadyVerified(ctx, m); already > 0 {
					return already, nil
				}
				return 0, &TagError{agentapi.TagFailureGone, fmt.Errorf("restic tag modified no snapshot: %s", lines[len(lines)-1])}
			}
			return n, nil
		}
		if !strings.Contains(err.Error(), "locked") {
			return 0, &TagError{agentapi.TagFailureFailed, err}
		}
		if i == attempts-1 {
			break
		}
		select {
		case <-ctx.Done():
			return 0, &TagError{agentapi.TagFailureLocked, ctx.Err()}
		case <-time.After(wait):
		}
	}
	return 0, &TagError{agentapi.TagFailureLocked, err}
}

// alreadyVerified counts the snapshots of m's set (or m's snapshots, by
// the ids the restore reported) that carry the verified tag already; 0
// when the repository cannot be read.
func (a *Runner) alreadyVerified(ctx context.Context, m agentapi.MarkVerified) int {
	snaps, err := a.policySnapshots(ctx, m.Policy)
	if err != nil {
		return 0
	}
	n := 0
	for _, s := range withTags(snaps, []string{agentapi.VerifiedTag}) {
		inSet := m.RecoverySet != "" && slices.Contains(s.Tags, agentapi.RecoverySetTag+m.RecoverySet)
		for _, id := range m.Snapshots {
			inSet = inSet || (len(id) >= minIDPrefix && s.hasID(id))
		}
		if inSet {
			n++
		}
	}
	return n
}

// TagError is why MarkVerified tagged nothing: Kind is one of the
// agentapi.TagFailure* words, Err the detail for the pod log.
type TagError struct {
	Kind string
	Err  error
}

func (e *TagError) Error() string {
	return "tagging the restored set verified: " + e.Kind + ": " + e.Err.Error()
}
