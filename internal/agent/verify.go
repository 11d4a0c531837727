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
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/supportstack/operator/internal/agentapi"
)

// manifest reads the manifest ref points at.
func (a *Runner) manifest(ctx context.Context, ref agentapi.ManifestRef) (agentapi.Manifest, error) {
	short := ref.Snapshot
	if len(short) > 8 {
		short = short[:8]
	}
	snaps, err := a.policySnapshots(ctx, ref.Policy)
	if err != nil {
		return agentapi.Manifest{}, corrupt(err)
	}
	data := ResticSnapshot{ID: ref.Snapshot, ShortID: short}
	for _, s := range snaps {
		if strings.HasPrefix(s.ID, ref.Snapshot) {
			data = s
		}
	}
	m, err := a.manifestFor(ctx, snaps, ref.Policy, ref.Source, ref.Database, data)
	return m, corrupt(err)
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
			if c.Tables.From != nil {
				cmp := *c.Tables
				c.Tables = &cmp
				var m agentapi.Manifest
				if m, err = a.manifest(ctx, *c.Tables.From); err == nil && m.Database == nil {
					err = &DrillError{fmt.Sprintf("snapshot %s has no database manifest", c.Tables.From.Snapshot)}
				} else if err == nil {
					c.Tables.Manifest = *m.Database
				}
			}
			if err == nil {
				r, err = a.verifyTables(ctx, c)
			}
		case c.Files != nil:
			if c.Files.From != nil {
				cmp := *c.Files
				c.Files = &cmp
				var m agentapi.Manifest
				if m, err = a.manifest(ctx, *c.Files.From); err == nil && m.Volume == nil {
					err = &DrillError{fmt.Sprintf("snapshot %s has no volume manifest", c.Files.From.Snapshot)}
				} else if err == nil {
					c.Files.Manifest = *m.Volume
				}
			}
			if err == nil {
				r, err = verifyFiles(c)
			}
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

// readOnly runs fn in a read-only transaction with a statement timeout on
// the restored database: checks can read the sandbox, never change it.
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
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = '"+sqlTimeout+"'"); err != nil {
		return err
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

func (a *Runner) verifySQL(ctx context.Context, c agentapi.VerifyCheck) (agentapi.CheckResult, error) {
	r := agentapi.CheckResult{Expected: expectation(c)}
	err := a.readOnly(ctx, c, func(tx pgx.Tx) error {
		var v any
		if err := tx.QueryRow(ctx, c.SQL).Scan(&v); err != nil {
			// The query's own failure is the check's failure, not the drill's.
			r.Observed, r.Message = "error", lastLine(err.Error())
			return nil
		}
		n, ok := number(v)
		if !ok {
			r.Observed, r.Message = fmt.Sprint(v), "the query must return one number"
			return nil
		}
		r.Observed = strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.6f", n), "0"), ".")
		r.Passed = (c.Equals == nil || n == float64(*c.Equals)) && (c.Min == nil || n >= float64(*c.Min)) && (c.Max == nil || n <= float64(*c.Max))
		if !r.Passed {
			r.Message = fmt.Sprintf("observed %s, expected %s", r.Observed, r.Expected)
		}
		return nil
	})
	return r, err
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case int16:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case pgtype.Numeric:
		f, err := n.Float64Value()
		return f.Float64, err == nil && f.Valid
	}
	return 0, false
}

func qualified(table string) string {
	if strings.Contains(table, ".") {
		return table
	}
	return "public." + table
}

func (a *Runner) verifyTables(ctx context.Context, c agentapi.VerifyCheck) (agentapi.CheckResult, error) {
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
			var got int64
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+quoteIdent(schema)+"."+quoteIdent(table)).Scan(&got); err != nil {
				r.Passed = false
				problems = append(problems, fmt.Sprintf("%s: %s", name, lastLine(err.Error())))
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
