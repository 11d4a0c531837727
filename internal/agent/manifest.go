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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supportstack/operator/internal/agentapi"
)

// ScanVolume computes the manifest of the tree under root.
func ScanVolume(root string) (agentapi.VolumeManifest, error) {
	type entry struct {
		path string
		size int64
		sum  string
	}
	var entries []entry
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		entries = append(entries, entry{filepath.ToSlash(rel), n, hex.EncodeToString(h.Sum(nil))})
		return nil
	})
	if err != nil {
		return agentapi.VolumeManifest{}, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].path < entries[j].path })
	h := sha256.New()
	var m agentapi.VolumeManifest
	for _, e := range entries {
		_, _ = fmt.Fprintf(h, "%s\t%d\t%s\n", e.path, e.size, e.sum) // a hash never fails to write
		m.Files++
		m.Bytes += e.size
	}
	m.ListingSHA256 = hex.EncodeToString(h.Sum(nil))
	return m, nil
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// DatabaseSnapshot is an open repeatable-read transaction whose snapshot
// pg_dump shares, so the manifest's counts describe exactly what is dumped.
type DatabaseSnapshot struct {
	conn       *pgx.Conn
	tx         pgx.Tx
	SnapshotID string
	Manifest   agentapi.DatabaseManifest
	tables     []snapshotTable
}

// snapshotTable is a table of the snapshot with the planner's estimate of
// its rows and the tables that inherit from it (partitions included), at
// every level: count(*) on a table counts theirs too, and the dump holds
// each one's own rows.
type snapshotTable struct {
	name        tableName
	partitioned bool // no rows of its own
	estimate    int64
	descendants []inheritor
}

// inheritor is a table below another; foreign tables have no data in the
// dump.
type inheritor struct {
	name                 tableName
	partitioned, foreign bool
}

// openDatabaseSnapshot connects, exports a snapshot and lists its tables;
// countRows fills the manifest's counts once the dump has been read.
func (a *Runner) openDatabaseSnapshot(ctx context.Context, uri, db string) (*DatabaseSnapshot, error) {
	conn, err := a.connect(ctx, uri)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	s := &DatabaseSnapshot{conn: conn, tx: tx, Manifest: agentapi.DatabaseManifest{Name: db}}
	fail := func(err error) (*DatabaseSnapshot, error) { s.Close(ctx); return nil, err }
	// The statement's start is before the snapshot is taken: the dump
	// holds every change committed before that time.
	var at time.Time
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot(), current_setting('server_version'), statement_timestamp()").Scan(&s.SnapshotID, &s.Manifest.ServerVersion, &at); err != nil {
		return fail(err)
	}
	at = at.UTC()
	s.Manifest.SnapshotTime = &at
	rows, err := tx.Query(ctx, `SELECT n.nspname, c.relname, c.relkind = 'p', c.reltuples::bigint,
		CASE WHEN c.relhassubclass THEN ARRAY(
			WITH RECURSIVE below(oid) AS (
				SELECT inhrelid FROM pg_inherits WHERE inhparent = c.oid
				UNION SELECT i.inhrelid FROM pg_inherits i JOIN below b ON i.inhparent = b.oid)
			SELECT ARRAY[dn.nspname::text, d.relname::text, d.relkind::text]
			FROM below JOIN pg_class d ON d.oid = below.oid JOIN pg_namespace dn ON dn.oid = d.relnamespace) END
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
		ORDER BY 1, 2`)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var t snapshotTable
		var below [][]string
		if err := rows.Scan(&t.name.Schema, &t.name.Name, &t.partitioned, &t.estimate, &below); err != nil {
			rows.Close()
			return fail(err)
		}
		for _, d := range below {
			t.descendants = append(t.descendants, inheritor{name: tableName{d[0], d[1]}, partitioned: d[2] == "p", foreign: d[2] == "f"})
		}
		s.tables = append(s.tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if s.Manifest.RequestTracker, err = s.rtLatest(ctx); err != nil {
		return fail(err)
	}
	return s, nil
}

// rtLatest is, for a Request Tracker database (public.queues, and
// public.tickets with RT's columns of RT's types), the ticket RT lists
// first ordered by last update in the snapshot, as REST2 lists them:
// deleted tickets aside, PostgreSQL's order. nil for any other database.
// It reads in a savepoint with pg_catalog's operators only: a database
// that merely looks like RT's never fails its backup here, and its owner's
// own operators never run as the backup's role.
func (s *DatabaseSnapshot) rtLatest(ctx context.Context) (*agentapi.RTManifest, error) {
	has := map[string]bool{}
	for _, t := range s.tables {
		if t.name.Schema == "public" {
			has[t.name.Name] = true
		}
	}
	if !has["queues"] || !has["tickets"] {
		return nil, nil
	}
	sp, err := s.tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = sp.Rollback(ctx) }()
	var columns int
	if err := sp.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = 'public.tickets'::pg_catalog.regclass AND NOT attisdropped
		AND ((attname IN ('id', 'effectiveid') AND atttypid IN ('pg_catalog.int4'::pg_catalog.regtype, 'pg_catalog.int8'::pg_catalog.regtype))
		  OR (attname = 'status' AND atttypid IN ('pg_catalog.varchar'::pg_catalog.regtype, 'pg_catalog.text'::pg_catalog.regtype))
		  OR (attname = 'lastupdated' AND atttypid = 'pg_catalog.timestamp'::pg_catalog.regtype))`).Scan(&columns); err != nil || columns != 4 {
		return nil, nil //nolint:nilerr // not RT's tickets table: no record, the backup goes on
	}
	rt := &agentapi.RTManifest{}
	var updated *time.Time
	err = sp.QueryRow(ctx, `SELECT id::pg_catalog.int8, lastupdated FROM public.tickets
		WHERE status::pg_catalog.text OPERATOR(pg_catalog.<>) 'deleted'::pg_catalog.text AND effectiveid::pg_catalog.int8 OPERATOR(pg_catalog.>) 0::pg_catalog.int8
		ORDER BY lastupdated DESC, id DESC LIMIT 1`).Scan(&rt.LatestTicket, &updated)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return rt, nil
	case err != nil, updated == nil: // RT always sets it; a ticket without one says nothing
		return nil, nil //nolint:nilerr // no record rather than a failed backup
	}
	u := updated.UTC()
	rt.LatestUpdate = &u
	return rt, nil
}

// countRows records every table's rows in the manifest. A table's rows
// come from the dump itself when copyDump could read it (a partitioned
// table's are its leaves'): exact, and no second scan of the database.
// Otherwise — an archive the agent cannot read — the table is counted in
// the snapshot the dump used, with count(*), up to exactMax estimated rows,
// and above that recorded with the planner's estimate, marked as one.
func (s *DatabaseSnapshot) countRows(ctx context.Context, dumped DumpStream, exactMax int64) error {
	s.Manifest.DumpBytes = dumped.Bytes
	for _, t := range s.tables {
		tc := agentapi.TableCount{Table: t.name.Schema + "." + t.name.Name}
		switch rows, ok := dumpedRows(dumped, t); {
		case ok:
			tc.Rows = rows
		case t.estimate > exactMax:
			tc.Rows, tc.Estimated = t.estimate, true
		default:
			if err := s.tx.QueryRow(ctx, "SELECT count(*) FROM "+quoteIdent(t.name.Schema)+"."+quoteIdent(t.name.Name)).Scan(&tc.Rows); err != nil {
				return fmt.Errorf("counting %s: %w", tc.Table, err)
			}
		}
		s.Manifest.Tables = append(s.Manifest.Tables, tc)
	}
	return nil
}

// dumpedRows is what count(*) on a table returns, from the dump: its own
// rows and those of every table below it (a partitioned table has none of
// its own). Not known when a table's data is not in the dump (a foreign
// table below it, an archive the agent could not read).
func dumpedRows(dumped DumpStream, t snapshotTable) (int64, bool) {
	if dumped.Rows == nil {
		return 0, false
	}
	tables := append([]inheritor{{name: t.name, partitioned: t.partitioned}}, t.descendants...)
	var sum int64
	for _, d := range tables {
		if d.partitioned {
			continue
		}
		rows, ok := dumped.Rows[d.name]
		if d.foreign || !ok {
			return 0, false
		}
		sum += rows
	}
	return sum, true
}

// Close ends the transaction and the connection.
func (s *DatabaseSnapshot) Close(ctx context.Context) {
	_ = s.tx.Rollback(ctx)
	_ = s.conn.Close(ctx)
}
