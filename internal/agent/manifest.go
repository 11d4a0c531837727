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
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

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
}

// openDatabaseSnapshot connects, exports a snapshot and counts every table
// in it.
func (a *Runner) openDatabaseSnapshot(ctx context.Context, uri, db string, exactMax int64) (*DatabaseSnapshot, error) {
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
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot(), current_setting('server_version')").Scan(&s.SnapshotID, &s.Manifest.ServerVersion); err != nil {
		return fail(err)
	}
	rows, err := tx.Query(ctx, `SELECT n.nspname, c.relname, c.reltuples::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
		ORDER BY 1, 2`)
	if err != nil {
		return fail(err)
	}
	type table struct {
		schema, name string
		estimate     int64
	}
	var tables []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.schema, &t.name, &t.estimate); err != nil {
			rows.Close()
			return fail(err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	for _, t := range tables {
		tc := agentapi.TableCount{Table: t.schema + "." + t.name}
		if t.estimate > exactMax {
			tc.Rows, tc.Estimated = t.estimate, true
		} else if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+quoteIdent(t.schema)+"."+quoteIdent(t.name)).Scan(&tc.Rows); err != nil {
			return fail(fmt.Errorf("counting %s: %w", tc.Table, err))
		}
		s.Manifest.Tables = append(s.Manifest.Tables, tc)
	}
	return s, nil
}

// Close ends the transaction and the connection.
func (s *DatabaseSnapshot) Close(ctx context.Context) {
	_ = s.tx.Rollback(ctx)
	_ = s.conn.Close(ctx)
}
