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
	"strings"
	"testing"
)

func TestCoverageFromFile(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"coverage", "-f", "../../config/samples/ops_v1alpha1_supportteam.yaml", "--at", "2026-11-23T15:00:00Z"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SupportTeam windows-tier1: 5 members, 3 on shift now",
		"HOUR (America/New_York)",
		"WINDOWS-PHONE",
		"Mon 2026-11-23 10:00 EST",
		"windows-phone: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCoverageRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: supportstack coverage"},
		{[]string{"coverage", "-f", "../../config/samples/ops_v1alpha1_backuppolicy.yaml"}, "not a SupportTeam"},
		{[]string{"coverage", "-f", "missing.yaml"}, "no such file"},
		{[]string{"coverage", "--at", "monday", "-f", "x"}, "--at"},
	} {
		err := run(tc.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%v) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
