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

// Package layers checks the project's layering as the go tool sees it: what
// each package (and each binary) links, against the rules its package doc
// states. An arrow back up fails here before anyone reads the code.
package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/supportstack/operator"

// deps lists every package pkg links (transitively), as the go tool sees it.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", module+"/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestLayers(t *testing.T) {
	standardLibraryOnly := func(d string) bool { return !strings.Contains(strings.SplitN(d, "/", 2)[0], ".") }
	noTestServer := func(d string) bool {
		return d != module+"/internal/testenv" && d != module+"/internal/agent/pgtest" && d != module+"/internal/queues/rttest"
	}
	cases := []struct {
		name    string
		pkg     string
		allowed func(dep string) bool
	}{
		// The manager reads termination messages through agentapi: it must
		// not link the agent, its database driver or its program runner.
		{"the manager links neither the agent nor pgx", "cmd", func(d string) bool {
			return !strings.Contains(d, "pgx") && d != module+"/internal/agent"
		}},
		{"the contract imports only the standard library", "internal/agentapi", func(d string) bool {
			return standardLibraryOnly(d) || d == module+"/internal/agentapi"
		}},
		{"the agent knows no Kubernetes and no operator package", "internal/agent", func(d string) bool {
			return !strings.HasPrefix(d, "k8s.io/") && !strings.HasPrefix(d, "sigs.k8s.io/") &&
				(!strings.HasPrefix(d, module+"/") || d == module+"/internal/agent" || d == module+"/internal/agentapi" || d == module+"/internal/retention")
		}},
		{"retention is the standard library", "internal/retention", func(d string) bool {
			return standardLibraryOnly(d) || d == module+"/internal/retention"
		}},
		{"the API imports no operator package", "api/v1alpha1", func(d string) bool {
			return !strings.HasPrefix(d, module+"/") || d == module+"/api/v1alpha1"
		}},
		{"resources builds objects without a client", "internal/resources", func(d string) bool {
			return !strings.HasPrefix(d, "sigs.k8s.io/controller-runtime") && !strings.HasPrefix(d, "k8s.io/client-go") &&
				d != module+"/internal/controller" && d != module+"/internal/agent"
		}},
		{"staffing is the standard library", "internal/staffing", func(d string) bool {
			return standardLibraryOnly(d) || d == module+"/internal/staffing"
		}},
		{"coverage has no client", "internal/coverage", func(d string) bool {
			return !strings.HasPrefix(d, "sigs.k8s.io/controller-runtime") && !strings.HasPrefix(d, "k8s.io/client-go") &&
				d != module+"/internal/controller"
		}},
		{"roster has no client", "internal/roster", func(d string) bool {
			return !strings.HasPrefix(d, "sigs.k8s.io/controller-runtime") && !strings.HasPrefix(d, "k8s.io/client-go") &&
				d != module+"/internal/controller" && d != module+"/internal/rosterplan"
		}},
		{"rosterplan has no client", "internal/rosterplan", func(d string) bool {
			return !strings.HasPrefix(d, "sigs.k8s.io/controller-runtime") && !strings.HasPrefix(d, "k8s.io/client-go") &&
				d != module+"/internal/controller"
		}},
		{"training has no client", "internal/training", func(d string) bool {
			return !strings.HasPrefix(d, "sigs.k8s.io/controller-runtime") && !strings.HasPrefix(d, "k8s.io/client-go") &&
				d != module+"/internal/controller"
		}},
		{"queues has no client", "internal/queues", func(d string) bool {
			return !strings.HasPrefix(d, "sigs.k8s.io/controller-runtime") && !strings.HasPrefix(d, "k8s.io/client-go") &&
				d != module+"/internal/controller"
		}},
		{"podhealth reads pods, it does not fetch them", "internal/podhealth", func(d string) bool {
			return !strings.HasPrefix(d, "sigs.k8s.io/controller-runtime") && !strings.HasPrefix(d, "k8s.io/client-go") &&
				d != module+"/internal/controller"
		}},
		{"evidence does not reach into the reconcilers or the agent", "internal/evidence", func(d string) bool {
			return d != module+"/internal/controller" && d != module+"/internal/agent"
		}},
		{"the reconcilers do not link the agent", "internal/controller", func(d string) bool {
			return d != module+"/internal/agent" && !strings.Contains(d, "pgx")
		}},
		{"schedule is the standard library and the cron parser", "internal/schedule", func(d string) bool {
			return standardLibraryOnly(d) || d == module+"/internal/schedule" || strings.HasPrefix(d, "github.com/robfig/cron")
		}},
		{"the agent binary knows no Kubernetes", "cmd/agent", func(d string) bool {
			return !strings.HasPrefix(d, "k8s.io/") && !strings.HasPrefix(d, "sigs.k8s.io/") && !strings.HasPrefix(d, module+"/internal/controller")
		}},
		// No binary links the test servers (envtest, PostgreSQL, Request Tracker).
		{"the manager links no test server", "cmd", noTestServer},
		{"the agent links no test server", "cmd/agent", noTestServer},
		{"the CLI links no test server", "cmd/supportstack", noTestServer},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, d := range deps(t, tc.pkg) {
				if !tc.allowed(d) {
					t.Errorf("%s links %s", tc.pkg, d)
				}
			}
		})
	}
}
