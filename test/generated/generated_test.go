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

// Package generated checks that the checked-in generated files (CRDs,
// the manager ClusterRole, DeepCopy methods) are what `make manifests
// generate` produces from the current markers, so the API server never runs
// a schema that the Go types no longer describe.
package generated

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportstack/operator/internal/testenv"
)

// copyTree copies the files under src/rel into dst/rel.
func copyTree(t *testing.T, src, dst, rel string) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(src, rel), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, r), 0o755)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, r)), 0o755); err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, r), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGeneratedFilesUpToDate(t *testing.T) {
	controllerGen := os.Getenv("CONTROLLER_GEN")
	if controllerGen == "" {
		t.Fatal("CONTROLLER_GEN is not set: run this test with \"make test\"")
	}
	root := testenv.RepoRoot()
	work := t.TempDir()
	for _, rel := range []string{"go.mod", "go.sum", "hack/boilerplate.go.txt"} {
		copyTree(t, root, work, rel)
	}
	for _, rel := range []string{"api", "internal", "cmd"} {
		copyTree(t, root, work, rel)
	}
	// The same invocations as the Makefile's manifests and generate targets.
	for _, args := range [][]string{
		{"rbac:roleName=manager-role", "crd", "paths=./...", "output:crd:artifacts:config=config/crd/bases"},
		{"object:headerFile=hack/boilerplate.go.txt", "paths=./..."},
	} {
		cmd := exec.Command(controllerGen, args...)
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("controller-gen %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	var generated []string
	for _, pattern := range []string{"config/crd/bases/*.yaml", "config/rbac/role.yaml", "api/*/zz_generated.deepcopy.go"} {
		fresh, _ := filepath.Glob(filepath.Join(work, pattern))
		checked, _ := filepath.Glob(filepath.Join(root, pattern))
		if len(fresh) != len(checked) {
			t.Errorf("%s: controller-gen writes %d files, %d are checked in: run \"make manifests generate\" and commit", pattern, len(fresh), len(checked))
		}
		generated = append(generated, fresh...)
	}
	for _, f := range generated {
		rel, _ := filepath.Rel(work, f)
		want, _ := os.ReadFile(f)
		got, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Errorf("%s is generated but not checked in: run \"make manifests generate\" and commit", rel)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what controller-gen generates: run \"make manifests generate\" and commit", rel)
		}
	}
	if len(generated) < 6 {
		t.Fatalf("only %d generated files found: the check would prove nothing", len(generated))
	}
}
