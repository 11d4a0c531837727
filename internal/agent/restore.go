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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/supportstack/operator/internal/agentapi"
)

// DrillError is a drill that could not be carried out (as opposed to a
// check that failed): no such snapshot, a corrupt repository.
type DrillError struct{ Reason string }

func (e *DrillError) Error() string { return e.Reason }

// withTags keeps the snapshots that carry every tag.
func withTags(snaps []ResticSnapshot, tags []string) []ResticSnapshot {
	var out []ResticSnapshot
	for _, s := range snaps {
		if isSubset(tags, s.Tags) {
			out = append(out, s)
		}
	}
	return out
}

func isSubset(want, have []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// policySnapshots lists a policy's snapshots once; restore picks data and
// manifest snapshots from the list (each restic start reads the index).
func (a *Runner) policySnapshots(ctx context.Context, policy string) ([]ResticSnapshot, error) {
	return a.Restic.Snapshots(ctx, []string{"policy=" + policy})
}

// findSnapshot resolves "latest" or an id among the snapshots with tags.
func findSnapshot(snaps []ResticSnapshot, tags []string, want string) (ResticSnapshot, error) {
	var found *ResticSnapshot
	for _, s := range withTags(snaps, tags) {
		if want == "" || want == "latest" {
			if found == nil || s.Time.After(found.Time) {
				found = &s
			}
		} else if strings.HasPrefix(s.ID, want) {
			found = &s
		}
	}
	if found == nil {
		return ResticSnapshot{}, &DrillError{fmt.Sprintf("no snapshot %q with tags %s in the repository", want, strings.Join(tags, ","))}
	}
	return *found, nil
}

// manifestFor reads the manifest stored for a data snapshot. The manifest
// is stored right after its data snapshot: candidates are tried from the
// first one taken at or after it, so one restic dump usually suffices.
func (a *Runner) manifestFor(ctx context.Context, snaps []ResticSnapshot, policy, source, database string, data ResticSnapshot) (agentapi.Manifest, error) {
	candidates := withTags(snaps, snapshotTags(policy, source, database, "manifest"))
	distance := func(s ResticSnapshot) time.Duration {
		if d := s.Time.Sub(data.Time); d >= 0 {
			return d
		}
		return math.MaxInt64/2 + data.Time.Sub(s.Time) // before the data: last resort
	}
	sort.SliceStable(candidates, func(i, j int) bool { return distance(candidates[i]) < distance(candidates[j]) })
	for _, s := range candidates {
		out, err := a.Restic.run(ctx, "dump", "--no-lock", s.ID, "manifest.json")
		if err != nil {
			return agentapi.Manifest{}, err
		}
		var m agentapi.Manifest
		if err := json.Unmarshal(out, &m); err != nil {
			return agentapi.Manifest{}, fmt.Errorf("manifest snapshot %s: %w", s.ShortID, err)
		}
		if m.DataSnapshot == data.ShortID || strings.HasPrefix(data.ID, m.DataSnapshot) {
			return m, nil
		}
	}
	return agentapi.Manifest{}, &DrillError{fmt.Sprintf("snapshot %s has no manifest in the repository", data.ShortID)}
}

// Restore restores the configured sources into the sandbox. A corrupt
// repository or a missing snapshot is a *DrillError.
func (a *Runner) Restore(ctx context.Context, cfg agentapi.RestoreConfig) ([]agentapi.Restored, error) {
	out, err := a.restore(ctx, cfg)
	if err != nil {
		return out, corrupt(err)
	}
	return out, nil
}

func (a *Runner) restore(ctx context.Context, cfg agentapi.RestoreConfig) ([]agentapi.Restored, error) {
	var out []agentapi.Restored
	snaps, err := a.policySnapshots(ctx, cfg.Policy)
	if err != nil {
		return out, err
	}
	for _, db := range cfg.Postgres {
		snap, err := findSnapshot(snaps, snapshotTags(cfg.Policy, db.Source, db.Database, "data"), cfg.Snapshot)
		if err != nil {
			return out, err
		}
		// The manifest is read while the dump streams: it is not needed to
		// restore, and a recovery is timed.
		type manifestRead struct {
			m   agentapi.Manifest
			err error
		}
		read := make(chan manifestRead, 1)
		go func() {
			m, err := a.manifestFor(ctx, snaps, cfg.Policy, db.Source, db.Database, snap)
			read <- manifestRead{m, err}
		}()
		restoreErr := a.restoreDatabase(ctx, snap, db)
		mr := <-read
		if mr.err != nil {
			return out, mr.err
		}
		if restoreErr != nil {
			return out, fmt.Errorf("database %s: %w", db.Database, restoreErr)
		}
		out = append(out, agentapi.Restored{Source: db.Source, Database: db.Database, ID: snap.ShortID, Time: snap.Time, Manifest: mr.m})
	}
	for _, v := range cfg.Volumes {
		snap, err := findSnapshot(snaps, snapshotTags(cfg.Policy, v.Source, "", "data"), cfg.Snapshot)
		if err != nil {
			return out, err
		}
		m, err := a.manifestFor(ctx, snaps, cfg.Policy, v.Source, "", snap)
		if err != nil {
			return out, err
		}
		// restic 0.14 restores full paths: the files land under
		// Target/<path at backup time>.
		if _, err := a.Restic.run(ctx, "restore", "--no-lock", snap.ID, "--target", v.Target, "--include", v.SourcePath); err != nil {
			return out, corrupt(fmt.Errorf("volume %s: %w", v.Source, err))
		}
		out = append(out, agentapi.Restored{Source: v.Source, ID: snap.ShortID, Time: snap.Time, Manifest: m,
			Path: filepath.Join(v.Target, v.SourcePath)})
	}
	return out, nil
}

// corrupt marks repository integrity errors as drill errors.
func corrupt(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.ToLower(err.Error())
	var re *ResticError
	if errors.As(err, &re) {
		msg += " " + strings.ToLower(re.Stderr)
	}
	for _, s := range []string{"ciphertext verification failed", "hash mismatch", "invalid data returned", "unexpected eof", "decrypting blob", "not found in index"} {
		if strings.Contains(msg, s) {
			return &DrillError{"repository corrupt: " + err.Error()}
		}
	}
	return err
}

func (a *Runner) restoreDatabase(ctx context.Context, snap ResticSnapshot, db agentapi.RestoreDatabase) error {
	target := os.Getenv(db.TargetURIEnv)
	if target == "" {
		return fmt.Errorf("environment variable %s with the sandbox URI is empty", db.TargetURIEnv)
	}
	// Create the scratch database on the sandbox server.
	admin, err := agentapi.DatabaseURI(target, "postgres")
	if err != nil {
		return err
	}
	conn, err := a.connect(ctx, admin)
	if err != nil {
		return describePg(err)
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+quoteIdent(db.Database))
	_ = conn.Close(ctx)
	if err != nil {
		return fmt.Errorf("creating the scratch database: %w", err)
	}
	uri, err := agentapi.DatabaseURI(target, db.Database)
	if err != nil {
		return err
	}
	pgEnv, err := agentapi.LibpqEnv(uri)
	if err != nil {
		return err
	}
	// restic dump streams the dump into pg_restore; it never touches disk.
	dump := a.Restic.command(ctx, "dump", "--no-lock", snap.ID, db.Database+".dump")
	// --dbname is the database's name only; where and as whom come from the
	// libpq environment, so no password is ever in an argument.
	restore := exec.CommandContext(ctx, a.pgRestore(), "--no-owner", "--no-privileges", "--exit-on-error", "--no-password", "--dbname", db.Database)
	restore.Env = append(append([]string{}, a.Env...), pgEnv...)
	pipe, err := dump.StdoutPipe()
	if err != nil {
		return err
	}
	var dumpErr, restoreErr bytes.Buffer
	dump.Stderr = &dumpErr
	restore.Stdin, restore.Stdout, restore.Stderr = pipe, io.Discard, &restoreErr
	if err := dump.Start(); err != nil {
		return err
	}
	restoreRunErr := restore.Run()
	// If pg_restore stopped early, restic must not block writing to a pipe
	// nobody reads: closing our end makes its next write fail.
	_ = pipe.Close()
	dumpRunErr := dump.Wait()
	if dumpRunErr != nil {
		dumpFailure := corrupt(&ResticError{Args: dump.Args, Detail: lastLine(dumpErr.String()), Stderr: dumpErr.String(), Err: dumpRunErr})
		var drillErr *DrillError
		if restoreRunErr == nil || errors.As(dumpFailure, &drillErr) {
			return dumpFailure
		}
	}
	if restoreRunErr != nil {
		return fmt.Errorf("pg_restore: %s", firstNonEmpty(lastLine(restoreErr.String()), restoreRunErr.Error()))
	}
	return nil
}

func (a *Runner) pgRestore() string {
	if a.PgRestore != "" {
		return a.PgRestore
	}
	return "pg_restore"
}
