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
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

const samplePath = "../../config/samples/ops_v1alpha1_supportteam.yaml"

// proposeArgs find the sample's best roster, which the YAML and table
// tests assert. On a quiet machine that takes well under a second, but the
// search stops at a time on the clock, and beside a CI run the process may
// get a twentieth of a core: with 40 busy loops on this machine's 2 cores, 2 s
// found it in 0 of 4 runs and 5 s in 4 of 4 (1 s missed it in one CI run).
var proposeArgs = []string{"--at", "2026-11-23T15:00:00Z", "--time-limit", "10s", "--seed", "3"}

// -o yaml from a file: a SupportTeam, the same one but for its shifts.
func TestProposeYAMLFromFile(t *testing.T) {
	var out bytes.Buffer
	if err := run(append([]string{"schedule", "propose", "-f", samplePath, "-o", "yaml"}, proposeArgs...), &out); err != nil {
		t.Fatal(err)
	}
	proposed := &opsv1alpha1.SupportTeam{}
	if err := yaml.UnmarshalStrict(out.Bytes(), proposed); err != nil {
		t.Fatalf("output is not a SupportTeam: %v\n%s", err, out.String())
	}
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	original := &opsv1alpha1.SupportTeam{}
	if err := yaml.UnmarshalStrict(data, original); err != nil {
		t.Fatal(err)
	}
	// Everyone on 08:00-18:00 on weekdays is the only roster with the
	// fewest gaps (5 people for 8 places, every half-hour).
	want := []opsv1alpha1.Shift{{Name: "mon-fri-0800-1800", Days: []opsv1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri"}, Start: "08:00", End: "18:00"}}
	if !reflect.DeepEqual(proposed.Spec.Shifts, want) {
		t.Errorf("shifts %+v, want %+v", proposed.Spec.Shifts, want)
	}
	if proposed.APIVersion != "ops.supportstack.io/v1alpha1" || proposed.Kind != "SupportTeam" || proposed.Name != original.Name || proposed.Namespace != original.Namespace {
		t.Errorf("type and name %s %s %s/%s", proposed.APIVersion, proposed.Kind, proposed.Namespace, proposed.Name)
	}
	proposed.Spec.Shifts, original.Spec.Shifts = nil, nil
	for i := range proposed.Spec.Members {
		if got := proposed.Spec.Members[i].Shifts; !reflect.DeepEqual(got, []string{"mon-fri-0800-1800"}) {
			t.Errorf("%s works %v", proposed.Spec.Members[i].Name, got)
		}
		proposed.Spec.Members[i].Shifts, original.Spec.Members[i].Shifts = nil, nil
	}
	if !reflect.DeepEqual(proposed, original) {
		t.Errorf("the proposal changed more than shifts:\n%+v\nwant\n%+v", proposed, original)
	}
}

// From the cluster (flags after the name): status and server fields are
// dropped, so kubectl apply takes the output as is.
func TestProposeYAMLFromCluster(t *testing.T) {
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	team := &opsv1alpha1.SupportTeam{}
	if err := yaml.UnmarshalStrict(data, team); err != nil {
		t.Fatal(err)
	}
	team.Namespace = "helpdesk"
	team.Status.Headcount = 5
	scheme := runtime.NewScheme()
	if err := opsv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	useClient(t, fake.NewClientBuilder().WithScheme(scheme).WithObjects(team).WithStatusSubresource(team).Build())
	var out bytes.Buffer
	// The roster is not checked here: 1 s (the last --time-limit counts).
	if err := run(append(append([]string{"schedule", "propose", "-n", "helpdesk", "windows-tier1", "-o", "yaml"}, proposeArgs...), "--time-limit", "1s"), &out); err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(out.Bytes(), &obj); err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"name": "windows-tier1", "namespace": "helpdesk"}; !reflect.DeepEqual(obj["metadata"], want) || obj["status"] != nil {
		t.Errorf("metadata %v status %v, want %v and no status", obj["metadata"], obj["status"], want)
	}
	if obj["apiVersion"] != "ops.supportstack.io/v1alpha1" || obj["kind"] != "SupportTeam" {
		t.Errorf("apiVersion %v kind %v", obj["apiVersion"], obj["kind"])
	}
}

func TestProposeTable(t *testing.T) {
	var out bytes.Buffer
	if err := run(append([]string{"schedule", "propose", "-f", samplePath}, proposeArgs...), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SupportTeam windows-tier1: proposed roster for 1 week(s) from Mon 2026-11-23 EST (America/New_York); the operator never applies it\n\n" +
			"                                NOW     PROPOSED\n" +
			"understaffed queue-intervals    200     200\n" +
			"staff-half-hours short          445     300\n" +
			"hours over contract (per week)  12h30m  50h\n" +
			"shifts in spec.shifts           2       1\n",
		"MEMBER  CONTRACT  NOW     PROPOSED\nalice   40h       42h30m  50h\n",
		"MEMBER  DAY  NOW              PROPOSED\nalice   Mon  07:00-15:30  ->  08:00-18:00\n",
		"\n25 member-days change. Review, then apply:",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestProposeRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"weeks 0", []string{"--weeks", "0"}, "--weeks 0: give 1 to 4"},
		{"weeks 5", []string{"--weeks", "5"}, "--weeks 5: give 1 to 4"},
		{"json", []string{"-o", "json"}, "-o json: give table or yaml"},
		{"no time", []string{"--time-limit", "0s"}, "--time-limit 0s"},
		{"bad --at", []string{"--at", "monday"}, "--at"},
		{"not a team", []string{"-f", "../../config/samples/ops_v1alpha1_backuppolicy.yaml"}, "not a SupportTeam"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"schedule", "propose", "-f", samplePath}, tc.args...)
			if err := run(args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%v) = %v, want an error containing %q", args, err, tc.want)
			}
		})
	}
}
