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

package coverage

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestWriteHourlyGolden renders a small team's week, reviewed in
// testdata/hourly.txt (go test ./internal/coverage -run Hourly -update).
func TestWriteHourlyGolden(t *testing.T) {
	team := teamFrom(t, `
timeZone: Europe/Warsaw
shrinkage: 25
shifts:
- {name: day, days: [Mon, Tue], start: "09:00", end: "13:00"}
members:
- {name: ann, skills: [windows], shifts: [day]}
- {name: ben, skills: [windows], shifts: [day]}
timeOff: [{member: ben, from: "2026-11-24", to: "2026-11-24"}]
queues:
- name: phone
  channel: Phone
  skills: [windows]
  demand: {averageHandleTime: 4m, intervals: [{days: [Mon, Tue], from: "10:00", to: "11:30", contactsPerHour: 20}]}
  serviceLevel: {percent: 80, answerWithin: 30s}
`)
	r, err := Compute(team, at(t, team.Location, "2026-11-23 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHourly(&buf, team, r); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "hourly.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("hourly table differs from %s:\n%s", path, buf.String())
	}
}
