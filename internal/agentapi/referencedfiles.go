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

package agentapi

import (
	"fmt"
	"regexp"
	"strconv"
)

// A referencedFiles check reads production data (the restored database and
// volume) with a query the drill author wrote, so its result is counts and
// fixed words only: never a path, a row value or a server's message. The
// agent writes its texts with the functions below, and the operator keeps a
// result only when every text is exactly what these functions write, so a
// compromised verify pod cannot carry a path into status, events or
// evidence either.

// MaxReferencedFiles is the most rows a referencedFiles check reads: a
// million lookups fit the check's statement timeout on ordinary storage and
// bound the verify pod's work. A query returning more fails the check.
const MaxReferencedFiles = 1_000_000

// ReferencedFilesExpected is the Expected of every referencedFiles check.
const ReferencedFilesExpected = "missing 0, size mismatched 0, invalid 0"

// ReferencedFileCounts is what a referencedFiles check found, one count a
// kind of row. Each row read is in Checked and in at most one other count.
type ReferencedFileCounts struct {
	// Checked is the number of rows read.
	Checked int
	// Missing rows name a path with no regular file in the volume.
	Missing int
	// SizeMismatched rows name a file whose size is not the row's.
	SizeMismatched int
	// Invalid rows have a path that is NULL, not text, absolute or leads
	// out of the volume, or a size that is not a non-negative integer.
	Invalid int
}

// String is the check's Observed: "checked 1200, missing 1, size
// mismatched 0, invalid 0".
func (c ReferencedFileCounts) String() string {
	return fmt.Sprintf("checked %d, missing %d, size mismatched %d, invalid %d", c.Checked, c.Missing, c.SizeMismatched, c.Invalid)
}

// Passed says whether every row named a file that is there, with its size.
func (c ReferencedFileCounts) Passed() bool {
	return c.Missing == 0 && c.SizeMismatched == 0 && c.Invalid == 0
}

// ReferencedFilesResult is the result of a check that read every row of its
// query: passed, or failed with a message made of the counts.
func ReferencedFilesResult(c ReferencedFileCounts) CheckResult {
	r := CheckResult{Passed: c.Passed(), Expected: ReferencedFilesExpected, Observed: c.String()}
	if !r.Passed {
		r.Message = ReferencedFilesMissed(c)
	}
	return r
}

// ReferencedFilesMissed is the message of a check that found rows without
// their file: "1 of 1200 referenced files missing, 1 of another size, 0
// invalid rows (...); paths are not shown".
func ReferencedFilesMissed(c ReferencedFileCounts) string {
	return fmt.Sprintf("%d of %d referenced files missing, %d of another size, %d invalid rows (a path NULL, not text, absolute or leading out of the volume, or a size that is not a non-negative integer); paths are not shown",
		c.Missing, c.Checked, c.SizeMismatched, c.Invalid)
}

// TooManyReferencedFiles is the message of a check whose query returned
// more than MaxReferencedFiles rows; Observed counts the rows read up to
// the limit.
func TooManyReferencedFiles(check string) string {
	return fmt.Sprintf("check %q returned more than %d rows; a referencedFiles check reads at most %d: narrow its query or split it into several checks", check, MaxReferencedFiles, MaxReferencedFiles)
}

// ReferencedFilesColumns is the message of a check whose query does not
// return one or two columns.
func ReferencedFilesColumns(check string, columns int) string {
	return fmt.Sprintf("check %q must return one or two columns (a path relative to the volume, then optionally a size in bytes); it returned %d columns", check, columns)
}

var (
	// Seven digits hold MaxReferencedFiles.
	referencedObserved = regexp.MustCompile(`^checked ([0-9]{1,7}), missing ([0-9]{1,7}), size mismatched ([0-9]{1,7}), invalid ([0-9]{1,7})$`)
	referencedColumns  = regexp.MustCompile(`it returned ([0-9]{1,4}) columns$`)
)

// parseReferencedFileCounts reads what ReferencedFileCounts.String writes.
func parseReferencedFileCounts(observed string) (ReferencedFileCounts, bool) {
	m := referencedObserved.FindStringSubmatch(observed)
	if m == nil {
		return ReferencedFileCounts{}, false
	}
	var n [4]int
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1]) // at most 7 digits: never fails
	}
	c := ReferencedFileCounts{Checked: n[0], Missing: n[1], SizeMismatched: n[2], Invalid: n[3]}
	ok := c.Checked <= MaxReferencedFiles && c.Missing+c.SizeMismatched+c.Invalid <= c.Checked
	return c, ok
}

// sqlErrorMessage says whether m is one of the lines the agent writes for a
// failed query: a SQLSTATE line, a fixed error, or a Go error type.
func sqlErrorMessage(m string) bool {
	if s := sqlState.FindStringSubmatch(m); s != nil && m == DescribeSQLState(s[1]) {
		return true
	}
	for _, fixed := range sqlFixedErrors {
		if m == fixed {
			return true
		}
	}
	return sqlUnknownError.MatchString(m)
}

// RecordableReferencedFilesCheck is c when it is exactly one of the results
// the agent writes for a referencedFiles check (counts with their message,
// too many rows, the wrong number of columns, a failed query's SQLSTATE);
// otherwise c failed, its Observed is empty and its Message says that what
// the verify Job reported was not recorded.
func RecordableReferencedFilesCheck(c CheckResult) (CheckResult, bool) {
	ok := false
	if c.Expected == ReferencedFilesExpected {
		counts, isCounts := parseReferencedFileCounts(c.Observed)
		switch {
		case isCounts && c.Passed:
			ok = counts.Passed() && c.Message == ""
		case isCounts:
			ok = (!counts.Passed() && c.Message == ReferencedFilesMissed(counts)) ||
				(counts.Checked == MaxReferencedFiles && c.Message == TooManyReferencedFiles(c.Name))
		case c.Passed:
		case c.Observed == ObservedError:
			ok = sqlErrorMessage(c.Message)
		case c.Observed == "":
			if m := referencedColumns.FindStringSubmatch(c.Message); m != nil {
				n, _ := strconv.Atoi(m[1])
				ok = c.Message == ReferencedFilesColumns(c.Name, n)
			}
		}
	}
	if ok {
		return c, true
	}
	return CheckResult{Name: c.Name, Passed: false,
		Message: "the verify Job reported a result for this referencedFiles check that is not counts or a message the agent writes; it was not recorded"}, false
}
