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
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

// TestReferencedFileLookUp: a referenced path is looked up inside the
// restored volume only. Every way out (an absolute path, "..", a symbolic
// link with an absolute or an escaping relative target) is invalid, and is
// invalid the same whether its target outside exists or not: each such
// case comes in a pair, one naming a file outside that exists and one
// naming a file that does not, and both must give the same outcome, so a
// drill's counts cannot tell which files exist outside the volume.
func TestReferencedFileLookUp(t *testing.T) {
	base := t.TempDir()
	vol, outside := filepath.Join(base, "volume"), filepath.Join(base, "outside")
	for _, dir := range []string{filepath.Join(vol, "tickets", "7"), outside} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(vol, "a.txt"), "hello")
	write(filepath.Join(vol, "tickets", "7", "scan.pdf"), "pdf")
	write(filepath.Join(outside, "secret.txt"), "secret")
	links := map[string]string{
		"in-volume":                  "tickets/7/scan.pdf",
		"tickets/7/up":               "../../a.txt",
		"absolute-in-volume":         filepath.Join(vol, "a.txt"),
		"out-absolute":               filepath.Join(outside, "secret.txt"),
		"out-absolute-missing":       filepath.Join(outside, "nosuch.txt"),
		"out-relative":               "../outside/secret.txt",
		"out-relative-missing":       "../outside/nosuch.txt",
		"tickets/7/out-deep":         "../../../../../../../../../../../etc/passwd",
		"tickets/7/out-deep-missing": "../../../../../../../../../../../etc/nosuch",
		"out-dir":                    outside,
		"loop":                       "loop",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(vol, name)); err != nil {
			t.Fatal(err)
		}
	}
	v, err := openVolume(vol)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	if v.escapes == nil {
		t.Fatal("os.Root's error for a path leading out of it was not found: escapes would count as missing")
	}
	rel := func(p string) string {
		r, err := filepath.Rel(vol, p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	for _, tc := range []struct {
		name string
		path string
		size int64 // -1: no size column
		want fileOutcome
	}{
		{"a file", "a.txt", -1, filePresent},
		{"a file with its size", "a.txt", 5, filePresent},
		{"a file of another size", "a.txt", 4, fileSizeMismatched},
		{"a file in a directory", "tickets/7/scan.pdf", 3, filePresent},
		{"dot and dot-dot inside the volume", "./tickets/7/../7/scan.pdf", 3, filePresent},
		{"no such file", "tickets/7/nosuch.pdf", -1, fileMissing},
		{"a directory is not a file", "tickets/7", -1, fileMissing},
		{"a file with a trailing slash", "a.txt/", -1, fileMissing},
		{"a link inside the volume", "in-volume", 3, filePresent},
		{"a link up to a file inside the volume", "tickets/7/up", 5, filePresent},
		{"a link loop", "loop", -1, fileMissing},
		{"empty", "", -1, fileInvalid},
		{"a NUL", "a.txt\x00", -1, fileInvalid},
		// An absolute target is refused even when it lies inside the
		// volume: the restored copy is not where the link was made.
		{"an absolute link inside the volume", "absolute-in-volume", 5, fileInvalid},

		{"absolute, existing", filepath.Join(outside, "secret.txt"), -1, fileInvalid},
		{"absolute, missing", filepath.Join(outside, "nosuch.txt"), -1, fileInvalid},
		{"absolute into the volume", filepath.Join(vol, "a.txt"), 5, fileInvalid},
		{"etc/passwd by dot-dot, existing", "../../../../../../../../../../../etc/passwd", -1, fileInvalid},
		{"etc/passwd by dot-dot, missing", "../../../../../../../../../../../etc/nosuch", -1, fileInvalid},
		{"dot-dot next door, existing", rel(filepath.Join(outside, "secret.txt")), 6, fileInvalid},
		{"dot-dot next door, missing", rel(filepath.Join(outside, "nosuch.txt")), 6, fileInvalid},
		{"dot-dot from inside, existing", "tickets/../../outside/secret.txt", -1, fileInvalid},
		{"dot-dot from inside, missing", "tickets/../../outside/nosuch.txt", -1, fileInvalid},
		{"absolute link out, existing", "out-absolute", 6, fileInvalid},
		{"absolute link out, missing", "out-absolute-missing", 6, fileInvalid},
		{"relative link out, existing", "out-relative", 6, fileInvalid},
		{"relative link out, missing", "out-relative-missing", 6, fileInvalid},
		{"deep link out, existing", "tickets/7/out-deep", -1, fileInvalid},
		{"deep link out, missing", "tickets/7/out-deep-missing", -1, fileInvalid},
		{"through a link to a directory outside, existing", "out-dir/secret.txt", 6, fileInvalid},
		{"through a link to a directory outside, missing", "out-dir/nosuch.txt", 6, fileInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := v.lookUp(tc.path, tc.size); got != tc.want {
				t.Errorf("lookUp(%q, %d) = %d, want %d", tc.path, tc.size, got, tc.want)
			}
		})
	}
}

// TestReferencedFileRow: what a row of the query must hold to name a file:
// a text path and, when there is a second column, a non-negative integer
// size. Anything else is an invalid row, never an error of the check.
func TestReferencedFileRow(t *testing.T) {
	numeric := func(i int64, exp int32) pgtype.Numeric {
		return pgtype.Numeric{Int: big.NewInt(i), Exp: exp, Valid: true}
	}
	for _, tc := range []struct {
		name     string
		values   []any
		notText  bool
		wantSize int64
		wantOK   bool
	}{
		{"a path", []any{"a.txt"}, false, -1, true},
		{"a path and a bigint", []any{"a.txt", int64(5)}, false, 5, true},
		{"an integer size", []any{"a.txt", int32(5)}, false, 5, true},
		{"a smallint size", []any{"a.txt", int16(5)}, false, 5, true},
		{"a zero size", []any{"a.txt", int64(0)}, false, 0, true},
		{"a numeric size", []any{"a.txt", numeric(5, 0)}, false, 5, true},
		{"a numeric 5.0", []any{"a.txt", numeric(50, -1)}, false, 5, true},
		{"a numeric with exponent", []any{"a.txt", numeric(5, 3)}, false, 5000, true},
		{"a NULL path", []any{nil}, false, 0, false},
		{"a path of another type", []any{"a.txt"}, true, 0, false},
		{"a number as path", []any{int64(7)}, false, 0, false},
		{"a NULL size", []any{"a.txt", nil}, false, 0, false},
		{"a negative size", []any{"a.txt", int64(-1)}, false, 0, false},
		{"a fractional numeric", []any{"a.txt", numeric(55, -1)}, false, 0, false},
		{"a numeric over int64", []any{"a.txt", numeric(1, 19)}, false, 0, false},
		{"a numeric of 100,000 digits", []any{"a.txt", numeric(1, 100000)}, false, 0, false},
		{"a NaN", []any{"a.txt", pgtype.Numeric{NaN: true, Valid: true}}, false, 0, false},
		{"an infinity", []any{"a.txt", pgtype.Numeric{InfinityModifier: pgtype.Infinity, Valid: true}}, false, 0, false},
		{"a NULL numeric", []any{"a.txt", pgtype.Numeric{}}, false, 0, false},
		{"a float", []any{"a.txt", float64(5)}, false, 0, false},
		{"a text size", []any{"a.txt", "5"}, false, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, size, ok := referencedFile(tc.values, !tc.notText)
			if ok != tc.wantOK || (ok && (size != tc.wantSize || path != "a.txt")) {
				t.Errorf("referencedFile(%v) = %q, %d, %v; want size %d, ok %v", tc.values, path, size, ok, tc.wantSize, tc.wantOK)
			}
		})
	}
}
