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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
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
		} else if s.hasID(want) {
			found = &s
		}
	}
	if found == nil {
		return ResticSnapshot{}, &DrillError{fmt.Sprintf("no snapshot %q with tags %s in the repository", want, strings.Join(tags, ","))}
	}
	return *found, nil
}

// manifestFor reads the manifest stored for a data snapshot. Candidates
// are tried in the order most likely to hold it, so one restic dump
// usually suffices: the manifest of the data's recovery set first (its
// restic starts alongside the data's, a moment earlier), then by distance
// from the data's time, those after it first (before recovery sets, the
// manifest was stored right after its data).
func (a *Runner) manifestFor(ctx context.Context, snaps []ResticSnapshot, policy, source, database string, data ResticSnapshot) (agentapi.Manifest, error) {
	candidates := withTags(snaps, snapshotTags(policy, source, database, "manifest", ""))
	set := recoverySetName(data)
	distance := func(s ResticSnapshot) time.Duration {
		if set != "" && recoverySetName(s) == set {
			return -1
		}
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
		if data.hasID(m.DataSnapshot) {
			return m, nil
		}
	}
	return agentapi.Manifest{}, &DrillError{fmt.Sprintf("snapshot %s has no manifest in the repository", data.ShortID)}
}

// Restoration is what a restore did: the snapshots it restored, the
// recovery set they came from ("" for snapshots taken before recovery
// sets), and how the databases were loaded.
type Restoration struct {
	Restored    []agentapi.Restored
	RecoverySet string
	Phases      *agentapi.RestorePhases
}

// Restore restores the configured sources into the sandbox, all from one
// recovery set. A corrupt repository or a missing snapshot is a
// *DrillError.
func (a *Runner) Restore(ctx context.Context, cfg agentapi.RestoreConfig) (Restoration, error) {
	out, err := a.restore(ctx, cfg)
	if err != nil {
		return out, corrupt(err)
	}
	return out, nil
}

func (a *Runner) restore(ctx context.Context, cfg agentapi.RestoreConfig) (Restoration, error) {
	var out Restoration
	// Restoring the latest backup, the first database's newest dump starts
	// streaming while the snapshots are listed (each restic start costs
	// about 0.7 s); it is used only if it is the snapshot the listing
	// chooses, and pg_restore reads nothing of it before then.
	var early *dumpFetch
	if (cfg.Snapshot == "" || cfg.Snapshot == "latest") && len(cfg.Postgres) > 0 {
		db := cfg.Postgres[0]
		early, _ = a.startFetch(ctx, "latest", snapshotTags(cfg.Policy, db.Source, db.Database, "data", ""), db.Database)
		defer func() {
			if early != nil {
				early.stop()
			}
		}()
	}
	snaps, err := a.policySnapshots(ctx, cfg.Policy)
	if err != nil {
		return out, err
	}
	set, legacy, err := chooseRecoverySet(snaps, cfg.Policy, restoreSources(cfg), cfg.Snapshot)
	if err != nil {
		return out, err
	}
	pool, want := legacy, cfg.Snapshot
	if set != nil {
		// Within the set, each source's newest snapshot (one pod backs up
		// each source once; this is only a tie-break).
		pool, want, out.RecoverySet = set.snaps, "latest", set.name
	}
	err = a.restoreFrom(ctx, cfg, pool, want, &out, func(snap ResticSnapshot, tags []string) *dumpFetch {
		// restic's latest is the newest snapshot with the tags.
		f := early
		early = nil
		if f != nil && newest(withTags(snaps, tags)).ID == snap.ID {
			return f
		}
		if f != nil {
			f.stop()
		}
		return nil
	})
	return out, err
}

// newest is the snapshot with the latest time (the zero one for none).
func newest(snaps []ResticSnapshot) ResticSnapshot {
	var n ResticSnapshot
	for _, s := range snaps {
		if n.ID == "" || s.Time.After(n.Time) {
			n = s
		}
	}
	return n
}

// restoreFrom restores every configured source from snaps, each source's
// snapshot being want ("latest" or an id). started hands over a fetch
// already streaming a database's snapshot, if it has that one.
func (a *Runner) restoreFrom(ctx context.Context, cfg agentapi.RestoreConfig, snaps []ResticSnapshot, want string, out *Restoration,
	started func(snap ResticSnapshot, tags []string) *dumpFetch) error {
	for _, db := range cfg.Postgres {
		tags := snapshotTags(cfg.Policy, db.Source, db.Database, "data", "")
		snap, err := findSnapshot(snaps, tags, want)
		if err != nil {
			return err
		}
		fetch := started(snap, tags)
		// The manifest is read while the dump starts streaming: a recovery
		// is timed. The restore waits for it only to size the dump.
		type manifestRead struct {
			m   agentapi.Manifest
			err error
		}
		read := make(chan manifestRead, 1)
		go func() {
			m, err := a.manifestFor(ctx, snaps, cfg.Policy, db.Source, db.Database, snap)
			read <- manifestRead{m, err}
		}()
		var mr *manifestRead
		manifest := func() agentapi.Manifest {
			if mr == nil {
				r := <-read
				mr = &r
			}
			return mr.m
		}
		phases, restoreErr := a.restoreDatabase(ctx, snap, fetch, db, cfg, manifest)
		manifest()
		if mr.err != nil {
			return mr.err
		}
		if restoreErr != nil {
			return fmt.Errorf("database %s: %w", db.Database, restoreErr)
		}
		out.Phases = addPhases(out.Phases, phases)
		out.Restored = append(out.Restored, agentapi.Restored{Source: db.Source, Database: db.Database, ID: snap.backupID(), Time: snap.Time, ManifestSHA256: mr.m.Digest()})
	}
	for _, v := range cfg.Volumes {
		snap, err := findSnapshot(snaps, snapshotTags(cfg.Policy, v.Source, "", "data", ""), want)
		if err != nil {
			return err
		}
		m, err := a.manifestFor(ctx, snaps, cfg.Policy, v.Source, "", snap)
		if err != nil {
			return err
		}
		// restic 0.14 restores full paths: the files land under
		// Target/<path at backup time>.
		// Under the repository's shared lock (as is the dump below): a
		// prune, which takes the exclusive one, cannot forget the set
		// mid-restore.
		if _, err := a.Restic.run(ctx, "restore", snap.ID, "--target", v.Target, "--include", v.SourcePath); err != nil {
			return corrupt(fmt.Errorf("volume %s: %w", v.Source, err))
		}
		out.Restored = append(out.Restored, agentapi.Restored{Source: v.Source, ID: snap.backupID(), Time: snap.Time, ManifestSHA256: m.Digest()})
	}
	if c := cfg.Checker; c != nil {
		// One role per sandbox server, with CONNECT on what was restored there.
		byTarget := map[string][]string{}
		var targets []string
		for _, db := range cfg.Postgres {
			if byTarget[db.TargetURIEnv] == nil {
				targets = append(targets, db.TargetURIEnv)
			}
			byTarget[db.TargetURIEnv] = append(byTarget[db.TargetURIEnv], db.Database)
		}
		for _, env := range targets {
			if err := a.createChecker(ctx, os.Getenv(env), *c, byTarget[env]); err != nil {
				return fmt.Errorf("creating the checker role %s: %w", c.Name, err)
			}
		}
	}
	return nil
}

// checkerRights is what the checker role must be: a login role that is no
// superuser and can create nothing, a member of pg_read_all_data alone.
const checkerRights = `SELECT r.rolcanlogin AND NOT (r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls)
	AND ARRAY(SELECT b.rolname::text FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid) = ARRAY['pg_read_all_data']
	FROM pg_roles r WHERE r.rolname = $1`

// createChecker creates (or resets) the role the verify Job's checks run
// as, on the server target points at, as that server's superuser: LOGIN
// with the password from the checker's variable, NOSUPERUSER NOCREATEDB
// NOCREATEROLE NOREPLICATION NOBYPASSRLS, a member of pg_read_all_data,
// and CONNECT on the restored databases (from which PUBLIC's rights are
// revoked). It then reads the role back and refuses one with more rights.
func (a *Runner) createChecker(ctx context.Context, target string, c agentapi.CheckerRole, databases []string) error {
	password := os.Getenv(c.PasswordEnv)
	if password == "" {
		return fmt.Errorf("environment variable %s with the checker role's password is empty", c.PasswordEnv)
	}
	admin, err := agentapi.DatabaseURI(target, "postgres")
	if err != nil {
		return err
	}
	conn, err := a.connect(ctx, admin)
	if err != nil {
		return describePg(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var versionNum int
	var version string
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int, current_setting('server_version')").Scan(&versionNum, &version); err != nil {
		return errors.New(reduceSQLError(err))
	}
	if versionNum < 140000 {
		return &DrillError{fmt.Sprintf("the sandbox server is PostgreSQL %s: the checks' role needs pg_read_all_data, which PostgreSQL 14 added; set sandbox.postgresImage to PostgreSQL 14 or later", version)}
	}
	role := quoteIdent(c.Name)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", c.Name).Scan(&exists); err != nil {
		return errors.New(reduceSQLError(err))
	}
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	statements := []string{
		verb + " ROLE " + role + " LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD " + quoteLiteral(password),
		"GRANT pg_read_all_data TO " + role,
	}
	for _, db := range databases {
		statements = append(statements, "REVOKE ALL ON DATABASE "+quoteIdent(db)+" FROM PUBLIC", "GRANT CONNECT ON DATABASE "+quoteIdent(db)+" TO "+role)
	}
	for _, q := range statements {
		if _, err := conn.Exec(ctx, q); err != nil {
			return errors.New(reduceSQLError(err)) // never the statement: it holds the password
		}
	}
	var ok bool
	if err := conn.QueryRow(ctx, checkerRights, c.Name).Scan(&ok); err != nil {
		return errors.New(reduceSQLError(err))
	}
	if !ok {
		return fmt.Errorf("the role has rights beyond LOGIN and pg_read_all_data (another membership or attribute): drop it from the sandbox server")
	}
	return nil
}

// quoteLiteral quotes an SQL string literal (standard_conforming_strings).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

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

// restoreDatabase restores a database's dump from snap into a new scratch
// database, from fetch if it is already streaming it (restic's latest,
// started before the listing chose snap). Such a fetch is checked: the
// bytes it brought must be the dump's size in snap's manifest, else (a
// backup finished as the restore started, and restic's latest was that
// one) the scratch database is made again and snap loaded by its id. A
// manifest without the size (older backups) cannot check it: it is not
// used.
func (a *Runner) restoreDatabase(ctx context.Context, snap ResticSnapshot, fetch *dumpFetch, db agentapi.RestoreDatabase, cfg agentapi.RestoreConfig, manifest func() agentapi.Manifest) (agentapi.RestorePhases, error) {
	if fetch != nil {
		defer fetch.stop()
	}
	target := os.Getenv(db.TargetURIEnv)
	if target == "" {
		return agentapi.RestorePhases{}, fmt.Errorf("environment variable %s with the sandbox URI is empty", db.TargetURIEnv)
	}
	if err := a.scratchDatabase(ctx, target, db.Database, false); err != nil {
		return agentapi.RestorePhases{}, err
	}
	uri, err := agentapi.DatabaseURI(target, db.Database)
	if err != nil {
		return agentapi.RestorePhases{}, err
	}
	pgEnv, err := agentapi.LibpqEnv(uri)
	if err != nil {
		return agentapi.RestorePhases{}, err
	}
	m := manifest()
	var size int64
	if m.Database != nil {
		size = m.Database.DumpBytes
	}
	// The dump's size (recorded by the backup) decides how it is loaded.
	parallel := a.parallelRestore(cfg, m)
	early := fetch != nil && size > 0
	if fetch != nil && !early {
		fetch.stop()
	}
	if !early {
		if fetch, err = a.startFetch(ctx, snap.ID, nil, db.Database); err != nil {
			return agentapi.RestorePhases{}, err
		}
		defer fetch.stop()
	}
	phases, fetched, err := a.load(ctx, fetch, db.Database, pgEnv, cfg, parallel, early)
	if err == nil && early && fetched != size {
		if err := a.scratchDatabase(ctx, target, db.Database, true); err != nil {
			return phases, err
		}
		if fetch, err = a.startFetch(ctx, snap.ID, nil, db.Database); err != nil {
			return phases, err
		}
		defer fetch.stop()
		phases, _, err = a.load(ctx, fetch, db.Database, pgEnv, cfg, parallel, false)
	}
	if err != nil {
		return phases, err
	}
	if _, err := a.invokerOnly(ctx, uri); err != nil {
		return phases, fmt.Errorf("making the restored functions SECURITY INVOKER: %w", err)
	}
	return phases, nil
}

// scratchDatabase creates the database on the sandbox server, dropping it
// first when again.
func (a *Runner) scratchDatabase(ctx context.Context, target, database string, again bool) error {
	admin, err := agentapi.DatabaseURI(target, "postgres")
	if err != nil {
		return err
	}
	conn, err := a.connect(ctx, admin)
	if err != nil {
		return describePg(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if again {
		if _, err := conn.Exec(ctx, "DROP DATABASE "+quoteIdent(database)+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("dropping the scratch database: %s", reduceSQLError(err))
		}
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+quoteIdent(database)); err != nil {
		return fmt.Errorf("creating the scratch database: %s", reduceSQLError(err))
	}
	return nil
}

// load runs pg_restore on what fetch brings: piped, or from a file in the
// scratch directory with --jobs when parallel. With count, the bytes
// fetched are counted (piped, through a relay) and returned.
func (a *Runner) load(ctx context.Context, fetch *dumpFetch, database string, pgEnv []string, cfg agentapi.RestoreConfig, parallel, count bool) (agentapi.RestorePhases, int64, error) {
	phases := agentapi.RestorePhases{Method: agentapi.RestorePiped, Jobs: 1}
	// --dbname is the database's name only; where and as whom come from the
	// libpq environment, so no password is ever in an argument.
	args := []string{"--verbose", "--no-owner", "--no-privileges", "--exit-on-error", "--no-password", "--dbname", database}
	var restoreIn io.Reader = fetch.out
	var fetched int64
	relayed := func(bool) {}
	switch {
	case parallel:
		file, n, err := fetch.toFile(cfg.ScratchDir)
		if err != nil {
			return phases, 0, corrupt(err)
		}
		defer func() { _ = os.Remove(file) }()
		fetched = n
		phases.Method, phases.Jobs = agentapi.RestoreParallel, cfg.Jobs
		args = append(args, "--jobs", strconv.Itoa(cfg.Jobs), file)
		restoreIn = nil
	case count:
		r, w, err := os.Pipe()
		if err != nil {
			return phases, 0, err
		}
		done := make(chan struct{})
		go func() {
			fetched, _ = io.Copy(w, fetch.out)
			_ = w.Close()
			close(done)
		}()
		restoreIn = r
		relayed = func(whole bool) {
			_ = r.Close() // a relay still writing stops
			if whole {
				fetch.finish()
			} else {
				fetch.stop()
			}
			<-done
		}
	}
	restore := exec.CommandContext(ctx, a.pgRestore(), args...)
	restore.Env = append(append([]string{}, a.Env...), pgEnv...)
	progress := &restoreProgress{}
	restore.Stdin, restore.Stdout, restore.Stderr = restoreIn, io.Discard, progress
	loadStart := time.Now()
	restoreRunErr := restore.Run()
	loaded := time.Now()
	relayed(restoreRunErr == nil)
	// If pg_restore stopped early, restic must not block writing to a pipe
	// nobody reads: stop interrupts it. If pg_restore succeeded, it read the
	// dump: restic is let finish on its own.
	if restoreRunErr == nil {
		fetch.finish()
	} else {
		fetch.stop()
	}
	phases.Fetch = fetch.ended.Sub(fetch.started).Seconds()
	post := progress.loadEnd()
	if post.IsZero() {
		post = loaded
	}
	phases.Load, phases.Indexes = post.Sub(loadStart).Seconds(), loaded.Sub(post).Seconds()
	if fetch.err != nil {
		dumpFailure := corrupt(fetch.err)
		var drillErr *DrillError
		if restoreRunErr == nil || errors.As(dumpFailure, &drillErr) {
			return phases, fetched, dumpFailure
		}
	}
	if restoreRunErr != nil {
		// pg_restore's stderr quotes rows (DETAIL, CONTEXT, the server's
		// message): only what carries no data is kept.
		stderr := progress.stderr()
		if strings.TrimSpace(stderr) == "" {
			return phases, fetched, fmt.Errorf("pg_restore: %v", restoreRunErr)
		}
		return phases, fetched, errors.New(ReducePgRestore(stderr))
	}
	return phases, fetched, nil
}

// restoredDefiners selects the SECURITY DEFINER functions and procedures
// of a restored database, outside the system schemas.
const restoredDefiners = `SELECT p.oid::regprocedure::text AS signature, p.prokind = 'p' AS is_procedure FROM pg_proc p
	JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')`

// invokerOnly turns every SECURITY DEFINER function and procedure of the
// restored database uri names into SECURITY INVOKER, as the sandbox's
// superuser, and returns how many it changed. pg_restore --no-owner makes
// the superuser own everything it restores, so a SECURITY DEFINER function
// from the backup would run a check's call as the superuser: reading the
// server's files, running programs. It reads the catalogue back and fails
// if one is left. The restored event triggers are disabled first.
func (a *Runner) invokerOnly(ctx context.Context, uri string) (int, error) {
	conn, err := a.connect(ctx, uri)
	if err != nil {
		return 0, describePg(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	// Event triggers from the backup are the superuser's too and would fire
	// on the ALTERs below (ddl_command_*), running the backup's code as the
	// superuser: disable them first. ALTER EVENT TRIGGER fires none.
	if _, err := conn.Exec(ctx, `DO $supportstack$
DECLARE e record;
BEGIN
	FOR e IN SELECT evtname FROM pg_event_trigger LOOP
		EXECUTE format('ALTER EVENT TRIGGER %I DISABLE', e.evtname);
	END LOOP;
END
$supportstack$`); err != nil {
		return 0, errors.New(reduceSQLError(err))
	}
	var changed int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM ("+restoredDefiners+") d").Scan(&changed); err != nil {
		return 0, errors.New(reduceSQLError(err))
	}
	if changed == 0 {
		return 0, nil
	}
	// One DO block: the names never leave the server.
	do := `DO $supportstack$
DECLARE f record;
BEGIN
	FOR f IN ` + restoredDefiners + ` LOOP
		EXECUTE format('ALTER %s %s SECURITY INVOKER', CASE WHEN f.is_procedure THEN 'PROCEDURE' ELSE 'FUNCTION' END, f.signature);
	END LOOP;
END
$supportstack$`
	if _, err := conn.Exec(ctx, do); err != nil {
		return 0, errors.New(reduceSQLError(err))
	}
	var left int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM ("+restoredDefiners+") d").Scan(&left); err != nil {
		return 0, errors.New(reduceSQLError(err))
	}
	if left != 0 {
		return 0, fmt.Errorf("%d of %d SECURITY DEFINER functions or procedures are left after ALTER ... SECURITY INVOKER", left, changed)
	}
	return changed, nil
}

func (a *Runner) pgRestore() string {
	if a.PgRestore != "" {
		return a.PgRestore
	}
	return "pg_restore"
}
