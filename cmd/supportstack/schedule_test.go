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
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// trainingTeam is internal/training's hand-worked team: on Monday nobody
// on shift has mobile (20 half-hours short), and linux lacks a second
// person from 09:00 to 11:00 (4). dave, who works 13:00-19:00, closes 12
// of mobile's 20 once trained; ann and ben 8 (dave takes their windows
// place from 13:00); zoe, with no skills, 4 in linux or in mobile.
const trainingTeam = `apiVersion: ops.supportstack.io/v1alpha1
kind: SupportTeam
metadata: {name: hand, namespace: helpdesk}
spec:
  timeZone: UTC
  shrinkage: 0
  shifts:
  - {name: day, days: [Mon], start: "09:00", end: "17:00"}
  - {name: late, days: [Mon], start: "13:00", end: "19:00"}
  - {name: morning, days: [Mon], start: "09:00", end: "11:00"}
  members:
  - {name: zoe, skills: [], shifts: [morning]}
  - {name: dave, skills: [windows], shifts: [late]}
  - {name: ben, skills: [windows], shifts: [day]}
  - {name: ann, skills: [windows], shifts: [day]}
  - {name: lin, skills: [linux], shifts: [morning]}
  queues:
  - name: windows
    channel: Email
    skills: [windows]
    demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "17:00", contactsPerHour: 2}]}
  - name: mobile
    channel: Email
    skills: [mobile]
    demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "19:00", contactsPerHour: 1}]}
  - name: linux
    channel: Email
    skills: [linux]
    demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "11:00", contactsPerHour: 2}]}
`

func TestScheduleTrainFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "team.yaml")
	if err := os.WriteFile(path, []byte(trainingTeam), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"schedule", "train", "-f", path, "--at", "2026-11-23T00:00:00Z"}, &out); err != nil {
		t.Fatal(err)
	}
	want := `SupportTeam hand: 24 staff-half-hours short in the 7 days from Mon 2026-11-23 00:00 UTC

    QUEUE  STAFF-HALF-HOURS SHORT  HALF-HOURS SHORT  NOBODY WITH THE SKILLS  TOO FEW PEOPLE
  windows                       0                 0                       0               0
   mobile                      20                20                      20               0
    linux                       4                 4                       0               4

staff-half-hours short: required minus scheduled staff, summed over the half-hours; a half-hour short has nobody on shift with the queue's skills, or too few people

who to train in what, best first (top 5); skills added to one member, shifts unchanged:
  train dave in mobile: closes 12 of 20 short half-hours in mobile
  train ann in mobile: closes 8 of 20 short half-hours in mobile
  train ben in mobile: closes 8 of 20 short half-hours in mobile
  train zoe in linux: closes 4 of 4 short half-hours in linux
  train zoe in mobile: closes 4 of 20 short half-hours in mobile
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// Under the proposed roster: the people are moved to the gaps first, and
// training is ranked on what is left (the mobile gap is one of skills: no
// roster closes it).
func TestScheduleTrainUnderProposedRoster(t *testing.T) {
	path := filepath.Join(t.TempDir(), "team.yaml")
	if err := os.WriteFile(path, []byte(trainingTeam), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"schedule", "train", "-f", path, "--at", "2026-11-23T00:00:00Z", "--proposed", "--time-limit", "1s"}, &out); err != nil {
		t.Fatal(err)
	}
	var short int
	if _, err := fmt.Sscanf(out.String(), "SupportTeam hand under the proposed roster: %d staff-half-hours short", &short); err != nil {
		t.Fatalf("output:\n%s\n%v", out.String(), err)
	}
	if short < 20 || short > 24 || !strings.Contains(out.String(), "train dave in mobile") && !strings.Contains(out.String(), " in mobile: closes ") {
		t.Errorf("under the proposed roster %d short (the current roster: 24, of which 20 of skills no roster closes); output:\n%s", short, out.String())
	}
}

// From the cluster, flags after the name, the top one only.
func TestScheduleTrainFromCluster(t *testing.T) {
	team := &opsv1alpha1.SupportTeam{}
	if err := yaml.UnmarshalStrict([]byte(trainingTeam), team); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := opsv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	useClient(t, fake.NewClientBuilder().WithScheme(scheme).WithObjects(team).Build())
	var out bytes.Buffer
	if err := run([]string{"schedule", "train", "-n", "helpdesk", "hand", "--top", "1", "--at", "2026-11-23T00:00:00Z"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "(top 1); skills added to one member, shifts unchanged:\n  train dave in mobile: closes 12 of 20 short half-hours in mobile\n") {
		t.Errorf("output:\n%s\nwant dave in mobile alone", out.String())
	}
	if err := run([]string{"schedule", "train", "-n", "helpdesk", "other"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("a team that is not there: %v", err)
	}
}

// The sample team's gaps are all of people: every person on shift is
// already counted for a queue, so no training closes anything.
func TestScheduleTrainSampleNeedsPeople(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"schedule", "train", "-f", "../../config/samples/ops_v1alpha1_supportteam.yaml", "--at", "2026-11-23T15:00:00Z"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SupportTeam windows-tier1: ",
		"windows-phone ",
		"\nno one member trained in one skill closes any gap: the gaps need more people on shift",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestScheduleTrainNoGaps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "team.yaml")
	staffed := strings.Replace(trainingTeam, "contactsPerHour: 1}", "contactsPerHour: 0}", 1)
	staffed = strings.Replace(staffed, "from: \"09:00\", to: \"11:00\", contactsPerHour: 2", "from: \"09:00\", to: \"11:00\", contactsPerHour: 1", 1)
	if err := os.WriteFile(path, []byte(staffed), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"schedule", "train", "-f", path, "--at", "2026-11-23T00:00:00Z"}, &out); err != nil {
		t.Fatal(err)
	}
	if want := "SupportTeam hand: every queue is staffed in the 7 days from Mon 2026-11-23 00:00 UTC; no gap to train for\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

func TestScheduleRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"schedule"}, "supportstack schedule propose"},
		{"unknown subcommand", []string{"schedule", "hire"}, "supportstack schedule train"},
		{"negative --top", []string{"schedule", "train", "-f", "x", "--top", "-1"}, "--top -1"},
		{"bad --at", []string{"schedule", "train", "-f", "x", "--at", "monday"}, "--at"},
		{"not a SupportTeam", []string{"schedule", "train", "-f", "../../config/samples/ops_v1alpha1_backuppolicy.yaml"}, "not a SupportTeam"},
		{"no team named", []string{"schedule", "train"}, "name one SupportTeam"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%v) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}
