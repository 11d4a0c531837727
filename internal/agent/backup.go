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
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/supportstack/operator/internal/agentapi"
)

// Runner carries out the agent's operations.
type Runner struct {
	Restic *Restic
	// PgDump and PgRestore are the PostgreSQL client binaries.
	PgDump    string
	PgRestore string
	// Env is the base environment of child processes.
	Env []string
	Now func() time.Time
	// ConnectPatience is how long a database connection that is refused or
	// times out is retried: a pod's NetworkPolicies reach every node a
	// moment after the pod starts, so its first connections may be
	// rejected. Zero tries once.
	ConnectPatience time.Duration
	// ParallelRestoreMinBytes overrides the package's ParallelRestoreMinBytes
	// when positive (tests restore small databases both ways).
	ParallelRestoreMinBytes int64
}

// connect opens a connection, retrying refused and timed-out attempts for
// ConnectPatience; a refusal by the server itself (a wrong password, no such
// database) is final at once.
func (a *Runner) connect(ctx context.Context, uri string) (*pgx.Conn, error) {
	deadline := time.Now().Add(a.ConnectPatience)
	for {
		conn, err := pgx.Connect(ctx, uri)
		var pgErr *pgconn.PgError
		if err == nil || errors.As(err, &pgErr) || time.Now().After(deadline) || ctx.Err() != nil {
			return conn, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Second):
		}
	}
}

// snapshotTags are the tags of a policy's snapshots of one source (and
// database) and kind (data or manifest), in one recovery set (none: any);
// backup writes them, restore finds snapshots by them.
func snapshotTags(policy, source, database, kind, set string) []string {
	t := []string{"policy=" + policy, "source=" + source, "kind=" + kind}
	if database != "" {
		t = append(t, "database="+database)
	}
	if set != "" {
		t = append(t, agentapi.RecoverySetTag+set)
	}
	return t
}

// prepare clears stale locks, initialising the repository when there is
// none (listing the locks is what finds out: one restic start, not two).
func (a *Runner) prepare(ctx context.Context, cfg agentapi.Config, res *agentapi.Result) error {
	notes, err := a.Restic.RemoveStaleLocks(ctx, cfg.StaleLockAge.Duration, a.Now())
	if IsMissingRepository(err) {
		if _, err := a.Restic.run(ctx, "init"); err != nil {
			return err
		}
		res.Notes = append(res.Notes, "initialised the repository")
		return nil
	}
	res.Notes = append(res.Notes, notes...)
	return err
}

func (a *Runner) finish(res agentapi.Result, errs []error) agentapi.Result {
	res.End = a.Now()
	res.Succeeded = len(errs) == 0
	if len(errs) > 0 {
		msgs := make([]string, 0, len(errs))
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		res.Error = strings.Join(msgs, "; ")
	}
	return res
}

// Backup backs up every source of cfg into one recovery set, named by
// RecoverySetPrefixEnv and RecoverySetEnv (the Job's name: the Jobs of a
// run split across nodes share one set, see agentapi.RecoverySetOf) or
// else after the start time. A retried pod of the Job adds to the same
// set: a restore takes each source's newest snapshot in it, and finds a
// database's manifest by its data snapshot's id. A source
// that fails leaves no snapshot; the others are still backed up, and the
// result is failed: the set is incomplete.
//
// No restic start precedes the backups (each one derives the key and
// reads the index: about 0.7 s of CPU). When restic fails, the repository
// is prepared once (initialised if missing, stale locks removed; an
// unreachable repository or a wrong password is then the run's one error)
// and a source that found no repository or an exclusive lock is tried
// again. Stale shared locks, left by a killed backup, do not stop a
// backup; prune and check, which need the exclusive lock, remove them
// first.
func (a *Runner) Backup(ctx context.Context, cfg agentapi.Config) agentapi.Result {
	res := agentapi.Result{Operation: "backup", Policy: cfg.Policy, Start: a.Now()}
	job := os.Getenv(agentapi.RecoverySetEnv)
	if job == "" {
		job = os.Getenv(agentapi.LegacyJobNameEnv)
	}
	res.RecoverySet = agentapi.RecoverySetOf(os.Getenv(agentapi.RecoverySetPrefixEnv), job)
	if res.RecoverySet == "" {
		res.RecoverySet = newRecoverySetName(res.Start)
	}
	prepared := false
	var repoErr error
	attempt := func(backup func() (agentapi.Snapshot, error)) (agentapi.Snapshot, error) {
		snap, err := backup()
		var re *ResticError
		if err == nil || prepared || !errors.As(err, &re) {
			return snap, err
		}
		prepared = true
		if repoErr = a.prepare(ctx, cfg, &res); repoErr != nil {
			return snap, err
		}
		if IsMissingRepository(err) || IsLocked(err) {
			return backup()
		}
		return snap, err
	}
	var errs []error
	for _, src := range cfg.Postgres {
		for _, db := range src.Databases {
			snap, err := attempt(func() (agentapi.Snapshot, error) { return a.backupDatabase(ctx, cfg, res.RecoverySet, src, db) })
			if repoErr != nil {
				return a.finish(res, append(errs, repoErr))
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("database %s: %w", db, err))
				continue
			}
			res.Snapshots = append(res.Snapshots, snap)
		}
	}
	for _, vol := range cfg.Volumes {
		snap, err := attempt(func() (agentapi.Snapshot, error) { return a.backupVolume(ctx, cfg, res.RecoverySet, vol) })
		if repoErr != nil {
			return a.finish(res, append(errs, repoErr))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("volume %s: %w", vol.Name, err))
			continue
		}
		res.Snapshots = append(res.Snapshots, snap)
	}
	if len(errs) > 0 {
		// A failed source's restic was interrupted: see dumpFetch.stop.
		a.Restic.unlockStale(ctx)
	}
	return a.finish(res, errs)
}

// describePg turns a connection error into one line: "connection refused
// at db.example:5432".
func describePg(err error) error {
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		msg := connErr.Unwrap().Error()
		switch {
		case strings.Contains(msg, "connection refused"):
			return fmt.Errorf("connection refused at %s:%d", connErr.Config.Host, connErr.Config.Port)
		case strings.Contains(msg, "password authentication failed"):
			return fmt.Errorf("password authentication failed for user %s at %s:%d", connErr.Config.User, connErr.Config.Host, connErr.Config.Port)
		}
		return fmt.Errorf("cannot connect to %s:%d: %s", connErr.Config.Host, connErr.Config.Port, lastLine(msg))
	}
	return err
}

func (a *Runner) backupDatabase(ctx context.Context, cfg agentapi.Config, set string, src agentapi.PostgresSource, db string) (agentapi.Snapshot, error) {
	started := a.Now()
	uri, err := agentapi.DatabaseURI(os.Getenv(src.URIEnv), db)
	if err != nil {
		return agentapi.Snapshot{}, err
	}
	dbSnap, err := a.openDatabaseSnapshot(ctx, uri, db)
	if err != nil {
		return agentapi.Snapshot{}, describePg(err)
	}
	defer dbSnap.Close(ctx)
	pgEnv, err := agentapi.LibpqEnv(uri)
	if err != nil {
		return agentapi.Snapshot{}, err
	}
	manifest, err := a.startManifest(ctx, snapshotTags(cfg.Policy, src.Name, db, "manifest", set))
	if err != nil {
		return agentapi.Snapshot{}, err
	}
	defer manifest.abandon()

	// pg_dump streams into restic; nothing of the dump touches the disk.
	// Uncompressed: restic compresses (zstd, repository format 2) and, on
	// data zlib has not scrambled, deduplicates what did not change since
	// the last backup.
	dump := exec.CommandContext(ctx, a.PgDump, "--format=custom", "--compress=0", "--no-password", "--snapshot="+dbSnap.SnapshotID)
	dump.Env = append(append([]string{}, a.Env...), pgEnv...)
	var dumpErr bytes.Buffer
	dump.Stderr = &dumpErr
	dumpOut, err := dump.StdoutPipe()
	if err != nil {
		return agentapi.Snapshot{}, err
	}
	store := a.Restic.BackupCommand(ctx, snapshotTags(cfg.Policy, src.Name, db, "data", set), "--stdin", "--stdin-filename", db+".dump")
	storeIn, err := store.StdinPipe()
	if err != nil {
		return agentapi.Snapshot{}, err
	}
	var storeOut, storeErr bytes.Buffer
	store.Stdout, store.Stderr = &storeOut, &storeErr
	if err := store.Start(); err != nil {
		return agentapi.Snapshot{}, err
	}
	if err := dump.Start(); err != nil {
		_ = store.Process.Kill()
		_ = store.Wait()
		return agentapi.Snapshot{}, err
	}
	dumped, copyErr := copyDump(storeIn, dumpOut)
	if copyErr != nil {
		// restic stopped reading (no repository, a lock): pg_dump must not
		// block on a pipe nobody reads.
		_ = dump.Process.Kill()
	}
	if waitErr := dump.Wait(); waitErr != nil || copyErr != nil {
		// Interrupt restic before it sees the end of its input: a failed
		// dump must never become a snapshot that looks complete, and an
		// interrupted restic stores nothing and removes its lock. (When
		// restic itself stopped, its stderr says why: no repository,
		// locked.)
		_ = store.Process.Signal(os.Interrupt)
		_ = store.Wait()
		if copyErr != nil || waitErr == nil {
			return agentapi.Snapshot{}, &ResticError{Args: store.Args, Detail: lastLine(storeErr.String()), Stderr: storeErr.String(), Err: firstError(copyErr, waitErr)}
		}
		return agentapi.Snapshot{}, fmt.Errorf("pg_dump: %s", firstNonEmpty(lastLine(dumpErr.String()), waitErr.Error()))
	}
	_ = storeIn.Close()
	if err := store.Wait(); err != nil {
		return agentapi.Snapshot{}, &ResticError{Args: store.Args, Detail: lastLine(storeErr.String()), Stderr: storeErr.String(), Err: err}
	}
	summary, err := parseSummary(storeOut.Bytes())
	if err != nil {
		return agentapi.Snapshot{}, err
	}
	if err := dbSnap.countRows(ctx, dumped, cfg.ExactCountMaxRows); err != nil {
		return agentapi.Snapshot{}, describePg(err)
	}
	m := agentapi.Manifest{Policy: cfg.Policy, Source: src.Name, Time: started, DataSnapshot: summary.SnapshotID, Database: &dbSnap.Manifest}
	return a.storeManifest(manifest, src.Name, db, m, summary, started)
}

func (a *Runner) backupVolume(ctx context.Context, cfg agentapi.Config, set string, vol agentapi.VolumeSource) (agentapi.Snapshot, error) {
	started := a.Now()
	manifest, err := a.startManifest(ctx, snapshotTags(cfg.Policy, vol.Name, "", "manifest", set))
	if err != nil {
		return agentapi.Snapshot{}, err
	}
	defer manifest.abandon()
	vm, err := ScanVolume(vol.Path)
	if err != nil {
		return agentapi.Snapshot{}, fmt.Errorf("reading %s: %w", vol.Path, err)
	}
	summary, err := a.Restic.BackupPaths(ctx, snapshotTags(cfg.Policy, vol.Name, "", "data", set), vol.Path)
	if err != nil {
		return agentapi.Snapshot{}, err
	}
	m := agentapi.Manifest{Policy: cfg.Policy, Source: vol.Name, Time: started, DataSnapshot: summary.SnapshotID, Volume: &vm}
	return a.storeManifest(manifest, vol.Name, "", m, summary, started)
}

// pendingManifest is the restic backup that stores a source's manifest,
// started with the source's own backup so that its start (deriving the
// key, reading the index: about 0.7 s of one core) overlaps the data's
// instead of following it. It waits for its input until store or abandon.
type pendingManifest struct {
	cmd      *exec.Cmd
	in       io.WriteCloser
	out, err bytes.Buffer
	done     bool
}

func (a *Runner) startManifest(ctx context.Context, tags []string) (*pendingManifest, error) {
	p := &pendingManifest{cmd: a.Restic.BackupCommand(ctx, tags, "--stdin", "--stdin-filename", "manifest.json")}
	in, err := p.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	p.in = in
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.err
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

// store writes the manifest and waits for its snapshot.
func (p *pendingManifest) store(m agentapi.Manifest) (BackupSummary, error) {
	p.done = true
	b, err := json.Marshal(m)
	if err != nil {
		p.interrupt()
		return BackupSummary{}, err
	}
	_, writeErr := p.in.Write(b)
	_ = p.in.Close()
	if err := p.cmd.Wait(); err != nil || writeErr != nil {
		return BackupSummary{}, &ResticError{Args: p.cmd.Args, Detail: lastLine(p.err.String()), Stderr: p.err.String(), Err: firstError(err, writeErr)}
	}
	return parseSummary(p.out.Bytes())
}

// abandon stops a manifest backup that was not given its manifest: restic
// is interrupted before its input ends, so it stores nothing and removes
// its lock.
func (p *pendingManifest) abandon() {
	if !p.done {
		p.done = true
		p.interrupt()
	}
}

func (p *pendingManifest) interrupt() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	_ = p.cmd.Wait()
	_ = p.in.Close()
}

func (a *Runner) storeManifest(p *pendingManifest, source, db string, m agentapi.Manifest, data BackupSummary, started time.Time) (agentapi.Snapshot, error) {
	ms, err := p.store(m)
	if err != nil {
		return agentapi.Snapshot{}, fmt.Errorf("storing the manifest: %w", err)
	}
	return agentapi.Snapshot{
		Source: source, Database: db, ID: data.SnapshotID, Manifest: ms.SnapshotID,
		Added: data.DataAdded, Total: data.TotalBytes, Seconds: a.Now().Sub(started).Seconds(), Digest: m.Digest(),
	}, nil
}

func firstError(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Prune forgets the policy's recovery sets beyond its keep rules, whole
// (never one source of a set), keeping the newest complete set and the
// newest verified one whatever the rules say, and prunes unreferenced
// data. Snapshots of other policies in the same repository are never
// touched: only snapshots tagged with this policy are considered.
func (a *Runner) Prune(ctx context.Context, cfg agentapi.Config) agentapi.Result {
	res := agentapi.Result{Operation: "prune", Policy: cfg.Policy, Start: a.Now()}
	if err := a.prepare(ctx, cfg, &res); err != nil {
		return a.finish(res, []error{err})
	}
	if keep := cfg.Retention; keep == (agentapi.Retention{}) {
		return a.finish(res, []error{errors.New("retention has no keep rule: refusing to forget every snapshot")})
	}
	snaps, err := a.policySnapshots(ctx, cfg.Policy)
	if err != nil {
		return a.finish(res, []error{err})
	}
	ids, note := forgettable(snaps, cfg.Policy, backupSources(cfg), cfg.Retention)
	res.Notes = append(res.Notes, note)
	if len(ids) == 0 {
		return a.finish(res, nil)
	}
	if err := a.Restic.ForgetIDs(ctx, ids); err != nil {
		return a.finish(res, []error{err})
	}
	res.Notes = append(res.Notes, fmt.Sprintf("forgot %d snapshots and pruned", len(ids)))
	return a.finish(res, nil)
}

// Check verifies the repository's structure and a share of its data.
func (a *Runner) Check(ctx context.Context, cfg agentapi.Config) agentapi.Result {
	res := agentapi.Result{Operation: "check", Policy: cfg.Policy, Start: a.Now()}
	if err := a.prepare(ctx, cfg, &res); err != nil {
		return a.finish(res, []error{err})
	}
	if _, err := a.Restic.Check(ctx, cfg.ReadDataPercent); err != nil {
		return a.finish(res, []error{err})
	}
	return a.finish(res, nil)
}
