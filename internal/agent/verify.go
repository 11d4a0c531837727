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
	"math"
	"math/big"
	"os"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/supportstack/operator/internal/agentapi"
)

// manifest reads the manifest ref points at. The source's newest manifest
// is tried first, with one restic start (a drill verifies the newest
// backup, usually); the snapshots are listed only when that is not the
// one.
func (a *Runner) manifest(ctx context.Context, ref agentapi.ManifestRef) (agentapi.Manifest, error) {
	short := ref.Snapshot
	if len(short) > 8 {
		short = short[:8]
	}
	tags := snapshotTags(ref.Policy, ref.Source, ref.Database, "manifest", "")
	if out, err := a.Restic.run(ctx, "dump", "--no-lock", "--tag", strings.Join(tags, ","), "latest", "manifest.json"); err == nil {
		var m agentapi.Manifest
		if json.Unmarshal(out, &m) == nil && ref.Snapshot != "" && strings.HasPrefix(m.DataSnapshot, ref.Snapshot) && (ref.SHA256 == "" || m.Digest() == ref.SHA256) {
			return m, nil
		}
	}
	snaps, err := a.policySnapshots(ctx, ref.Policy)
	if err != nil {
		return agentapi.Manifest{}, corrupt(err)
	}
	data := ResticSnapshot{ID: ref.Snapshot, ShortID: short}
	for _, s := range snaps {
		if s.hasID(ref.Snapshot) {
			data = s
		}
	}
	m, err := a.manifestFor(ctx, snaps, ref.Policy, ref.Source, ref.Database, data)
	if err != nil {
		return m, corrupt(err)
	}
	if ref.SHA256 != "" && m.Digest() != ref.SHA256 {
		return m, &DrillError{fmt.Sprintf("the manifest of snapshot %s in the repository has SHA-256 %.12s…, the restore reported %.12s…: the repository changed between the restore and the verification", short, m.Digest(), ref.SHA256)}
	}
	return m, nil
}

// sqlTimeout bounds every check query.
const sqlTimeout = "30s"

// Verify runs the checks. An error means the checks could not be run (the
// sandbox is unreachable); failed checks are results, not errors.
func (a *Runner) Verify(ctx context.Context, checks []agentapi.VerifyCheck) ([]agentapi.CheckResult, error) {
	results := make([]agentapi.CheckResult, 0, len(checks))
	for _, c := range checks {
		var r agentapi.CheckResult
		var err error
		switch {
		case c.SQL != "":
			r, err = a.verifySQL(ctx, c)
		case c.Tables != nil:
			// Manifests come from the repository only, never from the
			// configuration.
			cmp := *c.Tables
			c.Tables = &cmp
			var m agentapi.Manifest
			var counted map[string]int64
			if c.Tables.From == nil {
				err = &DrillError{"the row-count comparison names no manifest in the repository (from)"}
			} else if m, counted, err = a.manifestWhileCounting(ctx, c); err == nil && m.Database == nil {
				err = &DrillError{fmt.Sprintf("snapshot %s has no database manifest", c.Tables.From.Snapshot)}
			}
			if err == nil {
				c.Tables.Manifest = *m.Database
				r, err = a.verifyTables(ctx, c, counted)
			}
		case c.Files != nil:
			cmp := *c.Files
			c.Files = &cmp
			var m agentapi.Manifest
			if c.Files.From == nil {
				err = &DrillError{"the files comparison names no manifest in the repository (from)"}
			} else if m, err = a.manifest(ctx, *c.Files.From); err == nil && m.Volume == nil {
				err = &DrillError{fmt.Sprintf("snapshot %s has no volume manifest", c.Files.From.Snapshot)}
			}
			if err == nil {
				c.Files.Manifest = *m.Volume
				r, err = verifyFiles(c)
			}
		case c.ReferencedFiles != nil:
			r, err = a.verifyReferencedFiles(ctx, c)
		case c.RequestTracker != nil:
			r, err = a.verifyRequestTracker(ctx, c)
		default:
			err = fmt.Errorf("check %s has nothing to check", c.Name)
		}
		if err != nil {
			return results, fmt.Errorf("check %s: %w", c.Name, err)
		}
		r.Name = c.Name
		results = append(results, r)
	}
	return results, nil
}

// checkerPrivileges finds what the checks' connection must not have: a
// superuser, or the rights to run programs or read and write the server's
// files.
const checkerPrivileges = `SELECT current_user::text, current_setting('is_superuser') = 'on',
	pg_has_role('pg_execute_server_program', 'USAGE') OR pg_has_role('pg_read_server_files', 'USAGE') OR pg_has_role('pg_write_server_files', 'USAGE')`

// readOnly runs fn in a read-only transaction with a statement timeout on
// the restored database, connected as the checker role: checks can read the
// sandbox, never change it, run a program or read a file. A connection
// with a superuser's (or a file or program role's) rights is refused: the
// verify Job must be given the checker's URI.
func (a *Runner) readOnly(ctx context.Context, c agentapi.VerifyCheck, fn func(pgx.Tx) error) error {
	uri, err := agentapi.DatabaseURI(os.Getenv(c.TargetURIEnv), c.Database)
	if err != nil {
		return err
	}
	conn, err := a.connect(ctx, uri)
	if err != nil {
		return describePg(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return errors.New(reduceSQLError(err))
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var user string
	var super, files bool
	if err := tx.QueryRow(ctx, checkerPrivileges).Scan(&user, &super, &files); err != nil {
		return errors.New(reduceSQLError(err))
	}
	if super || files {
		what := "a superuser"
		if !super {
			what = "a role that may run programs or read and write the server's files"
		}
		return &DrillError{fmt.Sprintf("checks never run as %s: the verify Job connected to the sandbox as %s, %s; give it the checker role's URI (scratch Secret key checker-uri)", what, user, what)}
	}
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = '"+sqlTimeout+"'"); err != nil {
		return errors.New(reduceSQLError(err))
	}
	return fn(tx)
}

func expectation(c agentapi.VerifyCheck) string {
	var parts []string
	if c.Equals != nil {
		parts = append(parts, fmt.Sprintf("= %d", *c.Equals))
	}
	if c.Min != nil {
		parts = append(parts, fmt.Sprintf(">= %d", *c.Min))
	}
	if c.Max != nil {
		parts = append(parts, fmt.Sprintf("<= %d", *c.Max))
	}
	return strings.Join(parts, " and ")
}

// verifySQL runs a check's query. Its result must be one number (or NULL):
// the number is recorded, any other value is never copied anywhere, and a
// failed query is its SQLSTATE, never the server's message.
func (a *Runner) verifySQL(ctx context.Context, c agentapi.VerifyCheck) (agentapi.CheckResult, error) {
	r := agentapi.CheckResult{Expected: expectation(c)}
	notOne := func(what string) {
		r.Observed, r.Message = "", agentapi.NotOneNumber(c.Name, what)
	}
	err := a.readOnly(ctx, c, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, c.SQL)
		if err != nil {
			// The query's own failure is the check's failure, not the drill's.
			r.Observed, r.Message = agentapi.ObservedError, reduceSQLError(err)
			return nil
		}
		defer rows.Close()
		fields := rows.FieldDescriptions()
		var values []any
		n := 0
		for rows.Next() {
			if n++; n == 1 {
				if values, err = rows.Values(); err != nil {
					break
				}
			}
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		switch {
		case err != nil:
			r.Observed, r.Message = agentapi.ObservedError, reduceSQLError(err)
		case len(fields) != 1:
			notOne(fmt.Sprintf("%d columns (values not shown)", len(fields)))
		case n == 0:
			notOne("no row")
		case n > 1:
			notOne(fmt.Sprintf("%d rows (values not shown)", n))
		default:
			num, ok := numberOf(values[0])
			if !ok {
				notOne(fmt.Sprintf("a value of type %s (value not shown)", typeName(tx, fields[0].DataTypeOID)))
				return nil
			}
			// A number longer than a count or a decimal can carry row text
			// (three digits a character): it is never recorded.
			if d := agentapi.SignificantDigits(num.text); d > agentapi.MaxSignificantDigits {
				r.Message = agentapi.TooManyDigits(c.Name, d)
				return nil
			}
			r.Observed = num.text
			r.Passed = num.rat != nil && within(num.rat, c)
			if !r.Passed {
				r.Message = agentapi.ExpectationMissed(r.Observed, r.Expected)
			}
		}
		return nil
	})
	return r, err
}

// typeName names a result column's type as agentapi.ShownType does: a
// common type by its PostgreSQL name, any other (one the backup defined,
// whose name is the backup's) by its OID.
func typeName(tx pgx.Tx, oid uint32) string {
	name := ""
	if t, ok := tx.Conn().TypeMap().TypeForOID(oid); ok {
		name = t.Name
	}
	return agentapi.ShownType(name, oid)
}

// number is a check's result: rat is nil for NULL, NaN and infinities,
// which meet no expectation.
type number struct {
	rat  *big.Rat
	text string
}

// numberOf reads an integer, a floating-point number or a numeric; ok is
// false for every other type.
func numberOf(v any) (number, bool) {
	switch n := v.(type) {
	case nil:
		return number{text: agentapi.ObservedNull}, true
	case int64:
		return number{new(big.Rat).SetInt64(n), strconv.FormatInt(n, 10)}, true
	case int32:
		return numberOf(int64(n))
	case int16:
		return numberOf(int64(n))
	case float32:
		return numberOf(float64(n))
	case float64:
		text := strconv.FormatFloat(n, 'f', -1, 64)
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return number{text: text}, true
		}
		return number{new(big.Rat).SetFloat64(n), text}, true
	case pgtype.Numeric:
		switch {
		case !n.Valid:
			return number{text: agentapi.ObservedNull}, true
		case n.NaN:
			return number{text: "NaN"}, true
		case n.InfinityModifier == pgtype.Infinity:
			return number{text: "+Inf"}, true
		case n.InfinityModifier == pgtype.NegativeInfinity:
			return number{text: "-Inf"}, true
		}
		r := new(big.Rat).SetInt(n.Int)
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n.Exp))), nil)
		if n.Exp >= 0 {
			r.Mul(r, new(big.Rat).SetInt(scale))
		} else {
			r.Quo(r, new(big.Rat).SetInt(scale))
		}
		text := r.FloatString(max(0, -int(n.Exp)))
		if strings.Contains(text, ".") {
			text = strings.TrimSuffix(strings.TrimRight(text, "0"), ".")
		}
		return number{r, text}, true
	}
	return number{}, false
}

func abs(n int32) int32 {
	if n < 0 {
		return -n
	}
	return n
}

// within compares a number with a check's expectation exactly.
func within(n *big.Rat, c agentapi.VerifyCheck) bool {
	cmp := func(b int64) int { return n.Cmp(new(big.Rat).SetInt64(b)) }
	return (c.Equals == nil || cmp(*c.Equals) == 0) && (c.Min == nil || cmp(*c.Min) >= 0) && (c.Max == nil || cmp(*c.Max) <= 0)
}

func qualified(table string) string {
	if strings.Contains(table, ".") {
		return table
	}
	return "public." + table
}

// manifestWhileCounting reads the manifest a row-count check names and,
// meanwhile, counts the restored tables it will compare (those it names,
// or every table): the manifest's restic start and the counts' scans
// overlap instead of adding up. A table whose count fails is left out, to
// be counted (and its error reported) by verifyTables.
func (a *Runner) manifestWhileCounting(ctx context.Context, c agentapi.VerifyCheck) (agentapi.Manifest, map[string]int64, error) {
	type manifestRead struct {
		m   agentapi.Manifest
		err error
	}
	read := make(chan manifestRead, 1)
	go func() {
		m, err := a.manifest(ctx, *c.Tables.From)
		read <- manifestRead{m, err}
	}()
	counted := map[string]int64{}
	_ = a.readOnly(ctx, c, func(tx pgx.Tx) error {
		tables := c.Tables.Tables
		if len(tables) == 0 {
			rows, err := tx.Query(ctx, `SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
				AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`)
			if err != nil {
				return err
			}
			if tables, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				return err
			}
		}
		for _, name := range tables {
			schema, table, _ := strings.Cut(qualified(name), ".")
			var n int64
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+quoteIdent(schema)+"."+quoteIdent(table)).Scan(&n); err != nil {
				return err // the transaction is over: the rest are counted later
			}
			counted[schema+"."+table] = n
		}
		return nil
	})
	r := <-read
	return r.m, counted, r.err
}

// verifyTables compares the restored tables' rows with the manifest's;
// counted holds counts taken already.
func (a *Runner) verifyTables(ctx context.Context, c agentapi.VerifyCheck, counted map[string]int64) (agentapi.CheckResult, error) {
	cmp := c.Tables
	recorded := map[string]agentapi.TableCount{}
	for _, t := range cmp.Manifest.Tables {
		recorded[t.Table] = t
	}
	tables := cmp.Tables
	if len(tables) == 0 {
		for _, t := range cmp.Manifest.Tables {
			tables = append(tables, t.Table)
		}
	}
	r := agentapi.CheckResult{Passed: true}
	var expected, observed, problems []string
	err := a.readOnly(ctx, c, func(tx pgx.Tx) error {
		for _, name := range tables {
			name = qualified(name)
			want, ok := recorded[name]
			if !ok {
				r.Passed = false
				problems = append(problems, name+" is not in the backup manifest")
				continue
			}
			schema, table, _ := strings.Cut(name, ".")
			got, ok := counted[name] // counted while the manifest was read
			var err error
			if !ok {
				err = tx.QueryRow(ctx, "SELECT count(*) FROM "+quoteIdent(schema)+"."+quoteIdent(table)).Scan(&got)
			}
			if err != nil {
				r.Passed = false
				problems = append(problems, fmt.Sprintf("%s: %s", name, reduceSQLError(err)))
				observed = append(observed, name+"=error")
				expected = append(expected, fmt.Sprintf("%s=%d", name, want.Rows))
				continue
			}
			tolerance := cmp.TolerancePercent
			if want.Estimated && tolerance < 10 {
				tolerance = 10 // the manifest holds a planner estimate
			}
			expected = append(expected, fmt.Sprintf("%s=%d", name, want.Rows))
			observed = append(observed, fmt.Sprintf("%s=%d", name, got))
			if diff := math.Abs(float64(got - want.Rows)); diff > float64(want.Rows)*tolerance/100 {
				r.Passed = false
				problems = append(problems, fmt.Sprintf("%s has %d rows, %d at backup (%+.2f%%)", name, got, want.Rows, 100*float64(got-want.Rows)/math.Max(1, float64(want.Rows))))
			}
		}
		return nil
	})
	r.Expected = strings.Join(expected, ", ") + fmt.Sprintf(" (±%g%%)", cmp.TolerancePercent)
	r.Observed = strings.Join(observed, ", ")
	r.Message = strings.Join(problems, "; ")
	return r, err
}

func describeVolume(m agentapi.VolumeManifest) string {
	return fmt.Sprintf("%d files, %d bytes, listing %.12s", m.Files, m.Bytes, m.ListingSHA256)
}

func verifyFiles(c agentapi.VerifyCheck) (agentapi.CheckResult, error) {
	got, err := ScanVolume(c.Files.Path)
	if err != nil {
		return agentapi.CheckResult{}, err
	}
	r := agentapi.CheckResult{Expected: describeVolume(c.Files.Manifest), Observed: describeVolume(got), Passed: got == c.Files.Manifest}
	if !r.Passed {
		r.Message = "the restored files differ from the manifest recorded at backup time"
	}
	return r, nil
}
