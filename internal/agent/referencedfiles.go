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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/supportstack/operator/internal/agentapi"
)

// A referencedFiles check proves the restored database and a restored
// volume agree: a query the drill author wrote lists files (a path relative
// to the volume and, optionally, a size), and each must be a regular file
// there. The paths come from production data through the author's SQL, so
// a path is looked up only inside the volume (os.Root: no absolute path, no
// "..", no symbolic link leads out of it, and nothing outside is ever
// looked at), and the result is counts only.

// pathTypes are the column types a path may have: text, varchar and
// char(n) (PostgreSQL reports a domain as its base type). A path of any
// other type is an invalid row; cast it with ::text.
var pathTypes = map[uint32]bool{pgtype.TextOID: true, pgtype.VarcharOID: true, pgtype.BPCharOID: true}

// fileOutcome is what one row of the query found.
type fileOutcome int

const (
	filePresent fileOutcome = iota
	fileMissing
	fileSizeMismatched
	fileInvalid
)

// count adds one row's outcome to c.
func count(c *agentapi.ReferencedFileCounts, o fileOutcome) {
	c.Checked++
	switch o {
	case fileMissing:
		c.Missing++
	case fileSizeMismatched:
		c.SizeMismatched++
	case fileInvalid:
		c.Invalid++
	}
}

// volume is a restored volume opened so that no lookup leaves it.
type volume struct {
	root *os.Root
	// escapes is the error os.Root gives for a path or symbolic link
	// leading out of it. Go does not export it; an absolute path is refused
	// with it before any lookup, so the volume asks for one to learn it.
	escapes error
}

func openVolume(path string) (*volume, error) {
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	_, err = root.Stat("/")
	return &volume{root: root, escapes: errors.Unwrap(err)}, nil
}

func (v *volume) Close() error { return v.root.Close() }

// lookUp finds one referenced file. size < 0 means the row gave none. A
// path that is empty, absolute, holds a NUL or leads out of the volume
// (lexically or through a symbolic link) is invalid, whatever is outside:
// os.Root resolves links within the volume and refuses one leading out
// before looking at its target. Anything else but a regular file (nothing,
// a directory, a device, an unreadable path) is missing.
func (v *volume) lookUp(path string, size int64) fileOutcome {
	if !filepath.IsLocal(path) || strings.ContainsRune(path, 0) {
		return fileInvalid
	}
	fi, err := v.root.Stat(path)
	switch {
	case err != nil && v.escapes != nil && errors.Is(err, v.escapes):
		return fileInvalid
	case err != nil, !fi.Mode().IsRegular():
		return fileMissing
	case size >= 0 && fi.Size() != size:
		return fileSizeMismatched
	}
	return filePresent
}

// referencedFile reads one row's path and size (-1 without a size
// column); ok is false for a row that names no file: a NULL or non-text
// path, or a size that is not a non-negative integer.
func referencedFile(values []any, pathIsText bool) (path string, size int64, ok bool) {
	path, isString := values[0].(string)
	if !pathIsText || !isString {
		return "", 0, false
	}
	if len(values) == 1 {
		return path, -1, true
	}
	size, ok = fileSize(values[1])
	return path, size, ok
}

// fileSize reads a size in bytes: a non-negative integer, or a numeric
// with an integer value that fits an int64.
func fileSize(v any) (int64, bool) {
	var n int64
	switch s := v.(type) {
	case int64:
		n = s
	case int32:
		n = int64(s)
	case int16:
		n = int64(s)
	case pgtype.Numeric:
		// Numbers of more than 19 digits are never sizes; refusing them
		// first spares computing a power of ten of up to 131,072 digits.
		if !s.Valid || s.Exp > 18 {
			return 0, false
		}
		i, err := s.Int64Value()
		if err != nil || !i.Valid {
			return 0, false
		}
		n = i.Int64
	default:
		return 0, false
	}
	return n, n >= 0
}

// verifyReferencedFiles runs a referencedFiles check: its query as the
// checker role, read-only, under the sql checks' statement timeout, each
// row's file looked up in the restored volume as it is read, at most
// agentapi.MaxReferencedFiles rows. A volume that cannot be opened is an
// error of the drill (the restore did not leave it); everything else is
// the check's result.
func (a *Runner) verifyReferencedFiles(ctx context.Context, c agentapi.VerifyCheck) (agentapi.CheckResult, error) {
	vol, err := openVolume(c.ReferencedFiles.Path)
	if err != nil {
		return agentapi.CheckResult{}, &DrillError{fmt.Sprintf("the restored volume cannot be opened: %v", err)}
	}
	defer func() { _ = vol.Close() }()
	r := agentapi.CheckResult{Expected: agentapi.ReferencedFilesExpected}
	err = a.readOnly(ctx, c, func(tx pgx.Tx) error {
		// Cancelled to stop a query that returns too many rows, rather than
		// read the rest of them.
		queryCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		rows, err := tx.Query(queryCtx, c.ReferencedFiles.SQL)
		if err != nil {
			r.Observed, r.Message = agentapi.ObservedError, reduceSQLError(err)
			return nil
		}
		defer rows.Close()
		fields := rows.FieldDescriptions()
		if len(fields) != 1 && len(fields) != 2 {
			// No columns may be a query that failed as it ran (a write, a
			// function the checker may not call): its SQLSTATE says more.
			if len(fields) == 0 {
				rows.Close()
			}
			if err := rows.Err(); len(fields) == 0 && err != nil {
				r.Observed, r.Message = agentapi.ObservedError, reduceSQLError(err)
			} else {
				r.Message = agentapi.ReferencedFilesColumns(c.Name, len(fields))
			}
			return nil
		}
		pathIsText := pathTypes[fields[0].DataTypeOID]
		var counts agentapi.ReferencedFileCounts
		for rows.Next() {
			if counts.Checked == agentapi.MaxReferencedFiles {
				cancel()
				rows.Close()
				r.Observed, r.Message = counts.String(), agentapi.TooManyReferencedFiles(c.Name)
				return nil
			}
			values, err := rows.Values()
			if err != nil {
				r.Observed, r.Message = agentapi.ObservedError, reduceSQLError(err)
				return nil
			}
			outcome := fileInvalid
			if path, size, ok := referencedFile(values, pathIsText); ok {
				outcome = vol.lookUp(path, size)
			}
			count(&counts, outcome)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			r.Observed, r.Message = agentapi.ObservedError, reduceSQLError(err)
			return nil
		}
		r = agentapi.ReferencedFilesResult(counts)
		return nil
	})
	return r, err
}
