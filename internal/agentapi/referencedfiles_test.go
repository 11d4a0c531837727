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
	"strings"
	"testing"
)

// TestReferencedFilesResult: the result is counts in one fixed shape, and
// passes only when no row is missing, mismatched or invalid.
func TestReferencedFilesResult(t *testing.T) {
	for _, tc := range []struct {
		name    string
		counts  ReferencedFileCounts
		passed  bool
		observe string
		message string
	}{
		{"no rows", ReferencedFileCounts{}, true, "checked 0, missing 0, size mismatched 0, invalid 0", ""},
		{"all present", ReferencedFileCounts{Checked: 1200}, true, "checked 1200, missing 0, size mismatched 0, invalid 0", ""},
		{"one missing", ReferencedFileCounts{Checked: 1200, Missing: 1}, false, "checked 1200, missing 1, size mismatched 0, invalid 0",
			"1 of 1200 referenced files missing, 0 of another size, 0 invalid rows (a path NULL, not text, absolute or leading out of the volume, or a size that is not a non-negative integer); paths are not shown"},
		{"one of another size", ReferencedFileCounts{Checked: 3, SizeMismatched: 1}, false, "checked 3, missing 0, size mismatched 1, invalid 0",
			"0 of 3 referenced files missing, 1 of another size, 0 invalid rows (a path NULL, not text, absolute or leading out of the volume, or a size that is not a non-negative integer); paths are not shown"},
		{"invalid rows only", ReferencedFileCounts{Checked: 2, Invalid: 2}, false, "checked 2, missing 0, size mismatched 0, invalid 2",
			"0 of 2 referenced files missing, 0 of another size, 2 invalid rows (a path NULL, not text, absolute or leading out of the volume, or a size that is not a non-negative integer); paths are not shown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ReferencedFilesResult(tc.counts)
			if r.Passed != tc.passed || r.Observed != tc.observe || r.Message != tc.message || r.Expected != "missing 0, size mismatched 0, invalid 0" {
				t.Errorf("%+v", r)
			}
			// The agent's own results are always recordable as they are.
			r.Name = "attachments"
			if got, kept := RecordableReferencedFilesCheck(r); !kept || got != r {
				t.Errorf("the agent's result %+v recorded as %+v (kept %v)", r, got, kept)
			}
		})
	}
}

// TestRecordableReferencedFilesCheck: the operator keeps a referencedFiles
// result only when it is exactly what the agent writes; a path, a row value
// or a server's message in any field fails the check unrecorded.
func TestRecordableReferencedFilesCheck(t *testing.T) {
	const path = "tickets/4711/alice@example.com.pdf"
	missed := ReferencedFileCounts{Checked: 10, Missing: 1}
	fill := func(c CheckResult) CheckResult {
		c.Name = "attachments"
		if c.Expected == "" {
			c.Expected = ReferencedFilesExpected
		}
		return c
	}
	for _, tc := range []struct {
		name string
		c    CheckResult
		keep bool
	}{
		{"passed", CheckResult{Passed: true, Observed: "checked 10, missing 0, size mismatched 0, invalid 0"}, true},
		{"failed with its message", CheckResult{Observed: missed.String(), Message: ReferencedFilesMissed(missed)}, true},
		{"too many rows", CheckResult{Observed: ReferencedFileCounts{Checked: MaxReferencedFiles, Missing: 3}.String(), Message: TooManyReferencedFiles("attachments")}, true},
		{"wrong columns", CheckResult{Message: ReferencedFilesColumns("attachments", 3)}, true},
		{"an SQLSTATE", CheckResult{Observed: ObservedError, Message: DescribeSQLState("42P01")}, true},
		{"a fixed error", CheckResult{Observed: ObservedError, Message: "the query was cancelled or ran out of time"}, true},
		{"a Go error type", CheckResult{Observed: ObservedError, Message: "the query failed without an SQLSTATE (*errors.errorString; the message is not shown)"}, true},

		{"a path observed", CheckResult{Observed: "missing " + path, Message: ReferencedFilesMissed(missed)}, false},
		{"a path after the counts", CheckResult{Observed: missed.String() + " " + path, Message: ReferencedFilesMissed(missed)}, false},
		{"a path in the message", CheckResult{Observed: missed.String(), Message: ReferencedFilesMissed(missed) + ": " + path}, false},
		{"a path in the expectation", CheckResult{Passed: true, Expected: "missing 0 " + path, Observed: "checked 10, missing 0, size mismatched 0, invalid 0"}, false},
		{"a message of other counts", CheckResult{Observed: missed.String(), Message: ReferencedFilesMissed(ReferencedFileCounts{Checked: 10, Missing: 2})}, false},
		{"passed with files missing", CheckResult{Passed: true, Observed: missed.String()}, false},
		{"passed with a message", CheckResult{Passed: true, Observed: "checked 10, missing 0, size mismatched 0, invalid 0", Message: path}, false},
		{"failed without a message", CheckResult{Observed: missed.String()}, false},
		{"a failure with nothing missing", CheckResult{Observed: "checked 10, missing 0, size mismatched 0, invalid 0", Message: ReferencedFilesMissed(ReferencedFileCounts{Checked: 10})}, false},
		{"more missing than checked", CheckResult{Observed: "checked 1, missing 9, size mismatched 0, invalid 0", Message: ReferencedFilesMissed(ReferencedFileCounts{Checked: 1, Missing: 9})}, false},
		// Eight digits could carry a row value seven digits cannot: counts
		// above the limit are refused.
		{"a count above the limit", CheckResult{Observed: "checked 9999999, missing 9999999, size mismatched 0, invalid 0",
			Message: ReferencedFilesMissed(ReferencedFileCounts{Checked: 9999999, Missing: 9999999})}, false},
		{"too many rows under the limit", CheckResult{Observed: missed.String(), Message: TooManyReferencedFiles("attachments")}, false},
		{"too many rows naming another check", CheckResult{Observed: ReferencedFileCounts{Checked: MaxReferencedFiles}.String(), Message: TooManyReferencedFiles(path)}, false},
		{"columns naming another check", CheckResult{Message: ReferencedFilesColumns(path, 3)}, false},
		{"a server message", CheckResult{Observed: ObservedError, Message: "ERROR: could not open file \"" + path + "\""}, false},
		{"an SQLSTATE with a path", CheckResult{Observed: ObservedError, Message: DescribeSQLState("42P01") + " " + path}, false},
		{"an error that passed", CheckResult{Passed: true, Observed: ObservedError, Message: DescribeSQLState("42P01")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fill(tc.c)
			got, kept := RecordableReferencedFilesCheck(c)
			switch {
			case kept != tc.keep:
				t.Errorf("kept %v, want %v: %+v", kept, tc.keep, got)
			case kept && got != c:
				t.Errorf("changed %+v to %+v", c, got)
			case !kept && (got.Passed || got.Observed != "" || got.Expected != "" || strings.Contains(got.Message, path) || got.Name != c.Name):
				t.Errorf("refused result recorded as %+v", got)
			}
		})
	}
}
