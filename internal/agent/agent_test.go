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
	"errors"
	"strings"
	"testing"
)

func TestDescribeRestic(t *testing.T) {
	cases := []struct{ name, stderr, want string }{
		{"wrong password", "Fatal: wrong password or no key found", "repository: wrong password"},
		{"disk full", "Fatal: unable to save snapshot: write /r/data/x: no space left on device", "repository: disk full: unable to save snapshot"},
		{"connection refused", "Fatal: unable to open config file: Stat: Get \"http://127.0.0.1:1/config\": dial tcp 127.0.0.1:1: connect: connection refused", "repository unreachable: "},
		{"repository locked", "Fatal: unable to create lock in backend: repository is already locked exclusively by PID 12", "repository is locked by another run"},
		{"unknown error after progress", "some progress\nFatal: something new", "restic: something new"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := (&ResticError{Detail: lastLine(tc.stderr), Err: errors.New("exit status 1")}).Error()
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("%q -> %q, want prefix %q", tc.stderr, got, tc.want)
			}
		})
	}
}
