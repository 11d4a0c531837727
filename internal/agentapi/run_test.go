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

import "testing"

func TestRecoverySetOf(t *testing.T) {
	for _, tc := range []struct{ prefix, job, want string }{
		{"helpdesk-backup", "helpdesk-backup-29412000", "helpdesk-backup-29412000"},
		{"helpdesk-backup", "helpdesk-backup-2-29412000", "helpdesk-backup-29412000"},
		{"helpdesk-backup", "helpdesk-backup-3-now-1a2b3c4d", "helpdesk-backup-1a2b3c4d"},
		{"", "helpdesk-backup-29412000-x7k2p", "helpdesk-backup-29412000-x7k2p"}, // a pod of an older CronJob: its own name
		{"helpdesk-backup", "", ""}, // no Job: the agent names the set by time
	} {
		if got := RecoverySetOf(tc.prefix, tc.job); got != tc.want || (got != "" && !ValidRecoverySet(got)) {
			t.Errorf("RecoverySetOf(%q, %q) = %q, want %q (valid)", tc.prefix, tc.job, got, tc.want)
		}
	}
}
