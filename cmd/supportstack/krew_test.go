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
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/supportstack/operator/internal/testenv"
)

// TestKrewManifest: plugins/supportstack.yaml is a krew Plugin that installs
// this CLI as kubectl-supportstack on every platform it lists, each archive
// of the manifest's version with a sha256 (all zeros until a release fills
// it in).
func TestKrewManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "plugins", "supportstack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var plugin struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Version          string `json:"version"`
			Homepage         string `json:"homepage"`
			ShortDescription string `json:"shortDescription"`
			Description      string `json:"description"`
			Caveats          string `json:"caveats"`
			Platforms        []struct {
				Selector struct {
					MatchLabels map[string]string `json:"matchLabels"`
				} `json:"selector"`
				URI    string `json:"uri"`
				SHA256 string `json:"sha256"`
				Bin    string `json:"bin"`
				Files  []struct {
					From string `json:"from"`
					To   string `json:"to"`
				} `json:"files"`
			} `json:"platforms"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(data, &plugin); err != nil {
		t.Fatalf("plugins/supportstack.yaml: %v", err)
	}
	if plugin.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || plugin.Kind != "Plugin" || plugin.Metadata.Name != "supportstack" {
		t.Fatalf("not the krew Plugin supportstack: %s %s %s", plugin.APIVersion, plugin.Kind, plugin.Metadata.Name)
	}
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(plugin.Spec.Version) || plugin.Spec.ShortDescription == "" || plugin.Spec.Homepage == "" {
		t.Errorf("version %q (want vX.Y.Z), shortDescription and homepage must be set", plugin.Spec.Version)
	}
	if len(plugin.Spec.Platforms) == 0 {
		t.Fatal("no platform")
	}
	sum := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, p := range plugin.Spec.Platforms {
		goos, arch := p.Selector.MatchLabels["os"], p.Selector.MatchLabels["arch"]
		bin := "kubectl-supportstack"
		if goos == "windows" {
			bin += ".exe"
		}
		archive := "/" + plugin.Spec.Version + "/kubectl-supportstack_" + goos + "_" + arch + ".tar.gz"
		if !strings.HasPrefix(p.URI, "https://") || !strings.HasSuffix(p.URI, archive) {
			t.Errorf("%s/%s: uri %s does not end in %s", goos, arch, p.URI, archive)
		}
		if !sum.MatchString(p.SHA256) {
			t.Errorf("%s/%s: sha256 %q is not 64 hex digits", goos, arch, p.SHA256)
		}
		if p.Bin != bin || len(p.Files) == 0 || p.Files[0].From != bin {
			t.Errorf("%s/%s: bin %q and files %v must install %s", goos, arch, p.Bin, p.Files, bin)
		}
	}
}
