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

import "testing"

func TestDefaultAgentImage(t *testing.T) {
	for _, tc := range []struct{ name, version, want string }{
		// go build ./cmd, hack/images.sh: the local cluster's agent:dev.
		{"no version set", "", "supportstack/agent:dev"},
		{"make with the default VERSION", "dev", "supportstack/agent:dev"},
		{"a release", "v0.3.0", "supportstack/agent:v0.3.0"},
		{"git describe", "v0.3.0-4-g1a2b3c4-dirty", "supportstack/agent:v0.3.0-4-g1a2b3c4-dirty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := defaultAgentImage(tc.version); got != tc.want {
				t.Errorf("defaultAgentImage(%q) = %q, want %q", tc.version, got, tc.want)
			}
		})
	}
}
