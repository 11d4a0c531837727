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

// The renders the chart tests (chart_test.go) and the server-side dry-run
// (dryrun_test.go) both make, and how they run tools and read the output.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/supportstack/operator/internal/testenv"
)

const (
	// helmChart is the chart, relative to the repository root.
	helmChart = "charts/supportstack-operator"
	// chartKubeVersion is the Kubernetes version helm renders and lints
	// for: make test's API server's (bin/k8s). Without it a helm built from
	// the Go module proxy (make helm) assumes v1.20.0, which the chart's
	// kubeVersion (>=1.30.0-0: ValidatingAdmissionPolicy v1) refuses.
	chartKubeVersion = "1.37.2"
	// installOperatorImage and installAgentImage are the images the renders
	// are given: hack/render-install.sh's two arguments, the chart's image
	// and agentImage values; the tests find them where they belong.
	installOperatorImage = "supportstack/operator:v-test"
	installAgentImage    = "supportstack/agent:v-test"
	// longRelease is a release name of 53 characters, the longest Helm
	// accepts: the chart cuts its name prefix so that every name still fits
	// its kind (a Service's at most 63 characters).
	longRelease = "platform-helpdesk-support-operator-eu-west-production"
)

// manifest is one object of a render and where it came from.
type manifest struct {
	// source names the render or file (and, for helm, the template).
	source string
	// raw is the YAML document as rendered: the API server parses these
	// bytes itself, so it sees duplicate keys a decoder here would merge.
	raw []byte
	obj *unstructured.Unstructured
}

func (m manifest) String() string {
	name := m.obj.GetName()
	if ns := m.obj.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return fmt.Sprintf("%s: %s %s", m.source, m.obj.GetKind(), name)
}

// splitManifests cuts a multi-document YAML stream into its objects,
// skipping empty documents (a leading "---", helm's blank templates, a
// comment-only document); a document without a kind is an error.
func splitManifests(source string, data []byte) ([]manifest, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []manifest
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		if t := bytes.TrimSpace(j); len(t) == 0 || string(t) == "null" || string(t) == "{}" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", source, err, doc)
		}
		out = append(out, manifest{source: source + helmSourceComment(doc), raw: doc, obj: u})
	}
}

// helmSourceComment is " (templates/x.yaml)" for a document helm template
// rendered (it starts each with "# Source: chart/templates/x.yaml"), else "".
func helmSourceComment(doc []byte) string {
	for line := range strings.SplitSeq(string(doc), "\n") {
		if src, ok := strings.CutPrefix(line, "# Source: "); ok {
			return " (" + strings.TrimSpace(src) + ")"
		}
	}
	return ""
}

// mustSplitManifests is splitManifests failing the test on an error or on
// a render without any object (a test of it would prove nothing).
func mustSplitManifests(t *testing.T, source string, data []byte) []manifest {
	t.Helper()
	ms, err := splitManifests(source, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatalf("%s renders no object", source)
	}
	return ms
}

// runTool runs a command in the repository root with helm's cache and
// configuration under the test's directory (nothing in the user's home)
// and env added to the environment, and returns its standard output.
func runTool(t *testing.T, env []string, name string, args ...string) []byte {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(name, args...)
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(cmd.Args, " "), err, out, stderr.String())
	}
	return out
}

// helmPath is the helm that make test builds; the test fails without it.
func helmPath(t *testing.T) string {
	t.Helper()
	helm := os.Getenv("HELM")
	if helm == "" {
		t.Fatal("HELM is not set: run this test with \"make test\", which builds helm (make helm) and sets it")
	}
	return helm
}

// helmTemplate is `helm template` of the chart as release in namespace
// for chartKubeVersion, CRDs included (what helm install creates from
// crds/), with the given extra arguments.
func helmTemplate(t *testing.T, release, namespace string, args ...string) []manifest {
	t.Helper()
	args = append([]string{"template", release, helmChart, "--namespace", namespace, "--include-crds",
		"--kube-version", chartKubeVersion}, args...)
	return mustSplitManifests(t, "helm "+strings.Join(args, " "), runTool(t, nil, helmPath(t), args...))
}

// kustomizeTool is how the tests run kustomize: KUSTOMIZE when set
// (make's bin/kustomize), else K8S_ASSETS's kubectl kustomize, which make
// test sets (hack/render-install.sh does the same); it fails with neither.
// It returns the environment for hack/render-install.sh and the command
// line of a kustomize build.
func kustomizeTool(t *testing.T) (env, build []string) {
	t.Helper()
	if k := os.Getenv("KUSTOMIZE"); k != "" {
		return []string{"KUSTOMIZE=" + k}, []string{k, "build"}
	}
	assets := os.Getenv("K8S_ASSETS")
	if assets == "" {
		t.Fatal("neither KUSTOMIZE nor K8S_ASSETS is set: run this test with \"make test\" (its kubectl renders config/)")
	}
	kubectl := filepath.Join(assets, "kubectl")
	return []string{"KUSTOMIZE=", "KUBECTL=" + kubectl}, []string{kubectl, "kustomize"}
}

// kustomizeBuild is the kustomize build of dir, relative to the repository
// root.
func kustomizeBuild(t *testing.T, dir string) []manifest {
	t.Helper()
	_, build := kustomizeTool(t)
	return mustSplitManifests(t, "kustomize build "+dir, runTool(t, nil, build[0], append(build[1:], dir)...))
}

// renderInstall is hack/render-install.sh's output (make build-installer's
// dist/install.yaml, make deploy's objects) for the install images.
func renderInstall(t *testing.T) []manifest {
	t.Helper()
	env, _ := kustomizeTool(t)
	out := runTool(t, env, filepath.Join("hack", "render-install.sh"), installOperatorImage, installAgentImage)
	return mustSplitManifests(t, "hack/render-install.sh "+installOperatorImage+" "+installAgentImage+" (dist/install.yaml)", out)
}

// chartDefaults is the chart's values.yaml.
func chartDefaults(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), helmChart, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]any{}
	if err := yaml.Unmarshal(data, &defaults); err != nil {
		t.Fatalf("%s/values.yaml: %v", helmChart, err)
	}
	return defaults
}

// valueToggles are the dotted paths of the toggles of defaults, sorted:
// the booleans named enabled or create (others, such as
// securityContext.allowPrivilegeEscalation, are settings). The chart's add
// objects and are off by default, but networkPolicy.enabled (config/default
// has the NetworkPolicy).
func valueToggles(defaults map[string]any) []string {
	var toggles []string
	var walk func(m map[string]any, path string)
	walk = func(m map[string]any, path string) {
		for k, v := range m {
			switch v := v.(type) {
			case bool:
				if k == "enabled" || k == "create" {
					toggles = append(toggles, path+k)
				}
			case map[string]any:
				walk(v, path+k+".")
			}
		}
	}
	walk(defaults, "")
	slices.Sort(toggles)
	return toggles
}

// togglesOn are --set arguments turning every toggle of values.yaml on,
// and nothing else: the drift test compares that render to config/, so
// it cannot take the optional values the dry-run adds (chartValuesAllOn).
func togglesOn(t *testing.T) []string {
	t.Helper()
	toggles := valueToggles(chartDefaults(t))
	if len(toggles) == 0 {
		t.Fatalf("%s/values.yaml has no boolean toggle: the walk is broken", helmChart)
	}
	args := make([]string, 0, 2*len(toggles))
	for _, tg := range toggles {
		args = append(args, "--set", tg+"=true")
	}
	return args
}
