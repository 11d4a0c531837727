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

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleWithHolidays is config/samples' team with its holidays replaced.
func sampleWithHolidays(t *testing.T, holidays string) string {
	t.Helper()
	data, err := os.ReadFile("../../config/samples/ops_v1alpha1_supportteam.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const christmas = "  holidays:\n  - {date: \"2026-12-25\", name: Christmas Day}\n"
	if !strings.Contains(string(data), christmas) {
		t.Fatalf("the sample no longer lists %q", christmas)
	}
	path := filepath.Join(t.TempDir(), "team.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), christmas, "  holidays: "+holidays+"\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The sample is 89 staff-half-hours short on each weekday of the week of
// 23 November (445 in all). With Thanksgiving closed its Thursday needs
// nobody, and Black Friday, open, is worked as any Friday:
// 89*3 + 0 + 89 = 356. Both commands name the two holidays and what each
// does. Before open holidays kept their shifts, Friday was short of all 8
// staff in its 20 half-hours of demand (160, 427 in all).
func TestTrainAndCoverageNameHolidays(t *testing.T) {
	path := sampleWithHolidays(t, `[{date: "2026-11-26", name: Thanksgiving}, {date: "2026-11-27", name: Black Friday, open: true}]`)
	notes := "\nholiday Thu 2026-11-26 is closed: no shift starts that day, no staff needed\n" +
		"holiday Fri 2026-11-27 is open: shifts and demand as on any Friday\n"
	var out bytes.Buffer
	if err := run([]string{"schedule", "train", "-f", path, "--at", "2026-11-23T05:00:00Z"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "SupportTeam windows-tier1: 356 staff-half-hours short in the 7 days from Mon 2026-11-23 00:00 EST\n") ||
		!strings.HasSuffix(out.String(), "shift (supportstack coverage shows when)\n"+notes) {
		t.Errorf("schedule train:\n%s\nwant 356 short and ending with%s", out.String(), notes)
	}
	out.Reset()
	if err := run([]string{"coverage", "-f", path, "--at", "2026-11-23T05:00:00Z"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), notes) {
		t.Errorf("coverage:\n%s\nwant it to end with%s", out.String(), notes)
	}
}

// An open holiday changes no figure: schedule train and coverage print for
// the sample with Black Friday open exactly what they print without any
// holiday, followed by the note naming it. Before open holidays kept their
// shifts, Friday's 20 half-hours were short of everyone.
func TestOpenHolidayPrintsAsWithout(t *testing.T) {
	open := sampleWithHolidays(t, `[{date: "2026-11-27", name: Black Friday, open: true}]`)
	none := sampleWithHolidays(t, `[]`)
	for _, cmd := range [][]string{{"schedule", "train"}, {"coverage"}} {
		var got, want bytes.Buffer
		if err := run(append(cmd, "-f", open, "--at", "2026-11-23T05:00:00Z"), &got); err != nil {
			t.Fatal(err)
		}
		if err := run(append(cmd, "-f", none, "--at", "2026-11-23T05:00:00Z"), &want); err != nil {
			t.Fatal(err)
		}
		note := "holiday Fri 2026-11-27 is open: shifts and demand as on any Friday\n"
		if cmd[0] == "schedule" {
			// train sets its notes apart by a blank line.
			note = "\n" + note
		}
		if got.String() != want.String()+note {
			t.Errorf("%s with the open holiday:\n%s\nwant what it prints without a holiday and %q:\n%s", cmd, got.String(), note, want.String())
		}
	}
}
