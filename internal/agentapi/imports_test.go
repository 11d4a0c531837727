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
	"os/exec"
	"strings"
	"testing"
)

// deps lists the packages pkg links, as the go tool sees them.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// The manager reads termination messages through this package only: it must
// not link the agent, its database driver or its program runner.
func TestManagerDoesNotLinkTheAgent(t *testing.T) {
	for _, d := range deps(t, "github.com/supportstack/operator/cmd") {
		if strings.Contains(d, "pgx") || d == "github.com/supportstack/operator/internal/agent" {
			t.Errorf("the manager links %s", d)
		}
	}
}

// The contract imports only the standard library, so either side can take it.
func TestContractImportsOnlyTheStandardLibrary(t *testing.T) {
	for _, d := range deps(t, "github.com/supportstack/operator/internal/agentapi") {
		if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") && d != "github.com/supportstack/operator/internal/agentapi" {
			t.Errorf("agentapi imports %s", d)
		}
	}
}
