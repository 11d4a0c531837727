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

package generated

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/supportstack/operator/internal/testenv"
)

// TestAdmissionPoliciesNameTheOperator: CEL cannot be rewritten by
// kustomize, so the admission policies spell the operator's ServiceAccount
// as config/default renders it. If the namespace, the prefix or the
// ServiceAccount's name changes, the policies would quietly stop matching
// the operator (or match nobody): this fails instead.
func TestAdmissionPoliciesNameTheOperator(t *testing.T) {
	root := testenv.RepoRoot()
	var kustomization struct {
		Namespace  string `json:"namespace"`
		NamePrefix string `json:"namePrefix"`
	}
	readYAML(t, filepath.Join(root, "config", "default", "kustomization.yaml"), &kustomization)
	var sa struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	readYAML(t, filepath.Join(root, "config", "rbac", "service_account.yaml"), &sa)
	want := "system:serviceaccount:" + kustomization.Namespace + ":" + kustomization.NamePrefix + sa.Metadata.Name

	files, err := filepath.Glob(filepath.Join(root, "config", "admission", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	identity := regexp.MustCompile(`system:serviceaccount:[a-z0-9.-]+:[a-z0-9.-]+`)
	found := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, got := range identity.FindAllString(string(raw), -1) {
			found++
			if got != want {
				t.Errorf("%s names %s; config/default runs the operator as %s", filepath.Base(f), got, want)
			}
		}
	}
	if found == 0 {
		t.Errorf("no admission policy names the operator's ServiceAccount %s", want)
	}
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
