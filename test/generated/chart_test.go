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
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
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
	// driftRelease and driftNamespace make the chart name its objects as
	// config/default does (namePrefix supportstack-, namespace
	// supportstack-system), so that the two renders pair up by name.
	driftRelease   = "supportstack"
	driftNamespace = "supportstack-system"
	// driftOperatorImage and driftAgentImage are the images both renders
	// are given: hack/render-install.sh's two arguments, the chart's image
	// and agentImage values.
	driftOperatorImage = "supportstack/operator:v-drift"
	driftAgentImage    = "supportstack/agent:v-drift"
)

// chartToggles are the chart's values that add objects, all off by
// default but networkPolicy.enabled (config/default has the NetworkPolicy).
var chartToggles = []string{
	"namespace.create", "networkPolicy.enabled", "serviceMonitor.enabled",
	"prometheusRule.enabled", "grafanaDashboard.enabled",
}

// installOnly are the objects config/default renders and the chart with
// default values does not, each with the reason.
var installOnly = map[string]string{
	"Namespace/supportstack-system": "helm install needs the release namespace before it creates anything " +
		"(--create-namespace); namespace.create renders it for helm template users",
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

// chartCmd runs a command in the repository root with helm's cache and
// configuration under the test's directory (nothing in the user's home),
// and returns its standard output.
func chartCmd(t *testing.T, env []string, name string, args ...string) []byte {
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

// chartObjects parses a multi-document render into objects, failing on a
// document that is not one.
func chartObjects(t *testing.T, source string, data []byte) []*unstructured.Unstructured {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatalf("%s: %v\n%s", source, err, doc)
		}
		if len(obj) == 0 {
			continue // a comment-only document
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" || u.GetName() == "" {
			t.Fatalf("%s: a document without kind or name:\n%s", source, doc)
		}
		objs = append(objs, u)
	}
	if len(objs) == 0 {
		t.Fatalf("%s renders nothing", source)
	}
	return objs
}

// chartRender is `helm template` of the chart with the drift images, CRDs
// included, and the given extra arguments.
func chartRender(t *testing.T, release, namespace string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	repo, tag, _ := strings.Cut(driftOperatorImage, ":")
	args = append([]string{"template", release, helmChart, "--namespace", namespace, "--include-crds",
		"--set", "image.repository=" + repo, "--set", "image.tag=" + tag, "--set", "agentImage=" + driftAgentImage}, args...)
	return chartObjects(t, "helm "+strings.Join(args, " "), chartCmd(t, nil, helmPath(t), args...))
}

// togglesOn are --set arguments turning every toggle on.
func togglesOn() []string {
	args := make([]string, 0, 2*len(chartToggles))
	for _, tg := range chartToggles {
		args = append(args, "--set", tg+"=true")
	}
	return args
}

// kustomizeTool is how the test runs kustomize: KUSTOMIZE when set
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
		t.Fatal("neither KUSTOMIZE nor K8S_ASSETS is set: run this test with \"make test\" (its kubectl renders config/default)")
	}
	kubectl := filepath.Join(assets, "kubectl")
	return []string{"KUSTOMIZE=", "KUBECTL=" + kubectl}, []string{kubectl, "kustomize"}
}

// installRender is hack/render-install.sh's output (make build-installer's
// dist/install.yaml, make deploy's objects) for the drift images.
func installRender(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	env, _ := kustomizeTool(t)
	out := chartCmd(t, env, filepath.Join("hack", "render-install.sh"), driftOperatorImage, driftAgentImage)
	return chartObjects(t, "hack/render-install.sh", out)
}

// grafanaRender is config/grafana's kustomization: the ServiceMonitor,
// PrometheusRule and dashboard ConfigMap as config/default would name them.
func grafanaRender(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	_, build := kustomizeTool(t)
	return chartObjects(t, "kustomize build config/grafana", chartCmd(t, nil, build[0], build[1], "config/grafana"))
}

// objectKey pairs objects of two renders: kind and name.
func objectKey(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetName()
}

// clusterScoped are the kinds whose metadata.namespace means nothing:
// kustomize's namespace transformer sets it on ValidatingAdmissionPolicies
// and their bindings too (it does not know them to be cluster-scoped), and
// the API server ignores it; the chart sets none.
var clusterScoped = map[string]bool{
	"Namespace": true, "CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
}

// comparable is the object as the drift test compares it: without labels
// and annotations (Helm adds its own; the pod template's too), without a
// cluster-scoped object's namespace, and without empty lists and maps
// (config/manager's `ports: []`, which the API server drops).
func comparable(u *unstructured.Unstructured) any {
	c := u.DeepCopy()
	c.SetLabels(nil)
	c.SetAnnotations(nil)
	if clusterScoped[c.GetKind()] {
		c.SetNamespace("")
	}
	if c.GetKind() == "Deployment" {
		unstructured.RemoveNestedField(c.Object, "spec", "template", "metadata", "labels")
		unstructured.RemoveNestedField(c.Object, "spec", "template", "metadata", "annotations")
	}
	obj := dropEmpty(c.Object)
	if c.GetKind() == "ValidatingAdmissionPolicy" {
		obj = dropBlankLines(obj)
	}
	return obj
}

// dropBlankLines collapses blank lines in every string. kustomize (kyaml)
// re-emits a folded (>-) CEL expression with a more-indented line, as
// config/admission's are, with a blank line the YAML spec (and Helm, and
// kubectl apply -f) does not read there: the same CEL either way.
func dropBlankLines(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = dropBlankLines(e)
		}
	case []any:
		for i, e := range v {
			v[i] = dropBlankLines(e)
		}
	case string:
		for strings.Contains(v, "\n\n") {
			v = strings.ReplaceAll(v, "\n\n", "\n")
		}
		return v
	}
	return v
}

// dropEmpty removes empty lists and maps, recursively.
func dropEmpty(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if e = dropEmpty(e); e != nil {
				out[k] = e
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			out = append(out, dropEmpty(e))
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return v
}

// valueDiffs lists where got differs from want, one line per path.
func valueDiffs(path string, want, got any) []string {
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if wok && gok {
		keys := map[string]bool{}
		for k := range wm {
			keys[k] = true
		}
		for k := range gm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		diffs := make([]string, 0, len(sorted))
		for _, k := range sorted {
			diffs = append(diffs, valueDiffs(path+"."+k, wm[k], gm[k])...)
		}
		return diffs
	}
	wl, wok := want.([]any)
	gl, gok := got.([]any)
	if wok && gok && len(wl) == len(gl) {
		diffs := make([]string, 0, len(wl))
		for i := range wl {
			diffs = append(diffs, valueDiffs(fmt.Sprintf("%s[%d]", path, i), wl[i], gl[i])...)
		}
		return diffs
	}
	if reflect.DeepEqual(want, got) {
		return nil
	}
	w, _ := yaml.Marshal(want)
	g, _ := yaml.Marshal(got)
	return []string{fmt.Sprintf("%s:\n  config/ has: %s\n  the chart has: %s", path,
		strings.ReplaceAll(strings.TrimSpace(string(w)), "\n", "\n    "), strings.ReplaceAll(strings.TrimSpace(string(g)), "\n", "\n    "))}
}

// compareRenders requires the chart's objects to be config's, paired by
// kind and name, except those of exempt (key to reason), and equal but for
// labels and annotations.
func compareRenders(t *testing.T, config, chart []*unstructured.Unstructured, exempt map[string]string) {
	t.Helper()
	byKey := map[string]*unstructured.Unstructured{}
	for _, u := range chart {
		if byKey[objectKey(u)] != nil {
			t.Errorf("the chart renders %s twice", objectKey(u))
		}
		byKey[objectKey(u)] = u
	}
	for _, want := range config {
		key := objectKey(want)
		got := byKey[key]
		delete(byKey, key)
		if got == nil {
			if _, ok := exempt[key]; !ok {
				t.Errorf("config/ renders %s, the chart does not (a template is missing, or a name drifted)", key)
			}
			continue
		}
		if diffs := valueDiffs(key, comparable(want), comparable(got)); len(diffs) > 0 {
			t.Errorf("%s differs between config/ and the chart (a stale copy: make chart; or a template of %s that no longer renders what config/ does):\n%s",
				key, helmChart, strings.Join(diffs, "\n"))
		}
	}
	for key := range byKey {
		t.Errorf("the chart renders %s, which config/ does not: put it behind a toggle that is off by default", key)
	}
}

// TestChartLint runs helm lint --strict on the chart with its default
// values and with every toggle on: a template error, a YAML error or a
// lint warning fails.
func TestChartLint(t *testing.T) {
	helm := helmPath(t)
	chartCmd(t, nil, helm, "lint", "--strict", helmChart)
	chartCmd(t, nil, helm, append([]string{"lint", "--strict", helmChart}, togglesOn()...)...)
}

// TestChartMatchesInstall is the drift test: with release supportstack in
// supportstack-system, default values and the installer's two images, the
// chart renders every object hack/render-install.sh renders (make deploy,
// dist/install.yaml) under the same kind and name, and nothing else, and
// each equal to it but for labels and annotations: CRDs, RBAC rules,
// bindings' roleRefs and subjects, admission policies and bindings, the
// Deployment (containers, args, probes, securityContext, resources), the
// metrics Service, the NetworkPolicy, the ServiceAccount. With every
// toggle on, the extra objects are config/grafana's (ServiceMonitor,
// PrometheusRule, dashboard ConfigMap) and the Namespace, equal to them.
func TestChartMatchesInstall(t *testing.T) {
	install := installRender(t)
	t.Run("default values", func(t *testing.T) {
		compareRenders(t, install, chartRender(t, driftRelease, driftNamespace), installOnly)
	})
	t.Run("every toggle on", func(t *testing.T) {
		config := slices.Concat(install, grafanaRender(t))
		compareRenders(t, config, chartRender(t, driftRelease, driftNamespace, togglesOn()...), nil)
	})
	t.Run("networkPolicy off", func(t *testing.T) {
		objs := chartRender(t, driftRelease, driftNamespace, "--set", "networkPolicy.enabled=false")
		if slices.ContainsFunc(objs, func(u *unstructured.Unstructured) bool { return u.GetKind() == "NetworkPolicy" }) {
			t.Error("networkPolicy.enabled=false still renders a NetworkPolicy")
		}
	})
}

// TestChartNamespaceIsRestricted: namespace.create renders the release
// namespace with config/manager's PodSecurity label (the drift test
// ignores labels, and this one is what makes the manager's namespace
// refuse privileged pods).
func TestChartNamespaceIsRestricted(t *testing.T) {
	for _, u := range chartRender(t, "ops", "platform", "--set", "namespace.create=true") {
		if u.GetKind() == "Namespace" {
			if u.GetName() != "platform" || u.GetLabels()["pod-security.kubernetes.io/enforce"] != "restricted" {
				t.Errorf("namespace.create renders Namespace %s labelled %v, want platform with pod-security.kubernetes.io/enforce: restricted",
					u.GetName(), u.GetLabels())
			}
			return
		}
	}
	t.Error("namespace.create=true renders no Namespace")
}

// TestChartOtherRelease renders the chart as release ops in namespace
// platform, every toggle on: nothing keeps config/default's names, the
// admission policies name the ServiceAccount the Deployment runs as (a
// policy naming another would let the operator's requests through
// unchecked, or refuse its drill runs), bindings bind what the chart
// renders, and the alerts select the rendered metrics Service's job.
func TestChartOtherRelease(t *testing.T) {
	objs := chartRender(t, "ops", "platform", togglesOn()...)
	names := map[string]bool{}
	for _, u := range objs {
		names[objectKey(u)] = true
	}
	const user = "system:serviceaccount:platform:ops-controller-manager"
	if !names["ServiceAccount/ops-controller-manager"] {
		t.Fatalf("no ServiceAccount ops-controller-manager among %v", names)
	}
	namingUser := 0
	for _, u := range objs {
		key := objectKey(u)
		if u.GetKind() == "CustomResourceDefinition" {
			continue
		}
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		if s := string(data); strings.Contains(s, "supportstack-system") || strings.Contains(s, "supportstack-controller-manager") {
			t.Errorf("%s still names config/default's namespace or manager:\n%s", key, s)
		}
		if !clusterScoped[u.GetKind()] && u.GetNamespace() != "platform" {
			t.Errorf("%s is in namespace %q, not the release's", key, u.GetNamespace())
		}
		if strings.Contains(string(data), user) {
			namingUser++
		}
		switch u.GetKind() {
		case "Deployment":
			sa, _, _ := unstructured.NestedString(u.Object, "spec", "template", "spec", "serviceAccountName")
			if sa != "ops-controller-manager" {
				t.Errorf("the Deployment runs as %q", sa)
			}
		case "ValidatingAdmissionPolicyBinding":
			policy, _, _ := unstructured.NestedString(u.Object, "spec", "policyName")
			if !names["ValidatingAdmissionPolicy/"+policy] {
				t.Errorf("%s binds policy %q, which the chart does not render", key, policy)
			}
		case "RoleBinding", "ClusterRoleBinding":
			checkBinding(t, u, names)
		case "PrometheusRule":
			if data := string(data); !strings.Contains(data, `job="ops-controller-manager-metrics-service"`) {
				t.Errorf("the alerts do not select the job of Service ops-controller-manager-metrics-service:\n%s", data)
			}
		}
	}
	// config/admission names the operator in drill-run-creation and
	// operator-reach.
	if namingUser < 2 {
		t.Errorf("%d objects name %s, want the two admission policies that name the operator", namingUser, user)
	}
}

// checkBinding asserts a binding's role and ServiceAccount subjects are the
// chart's own.
func checkBinding(t *testing.T, u *unstructured.Unstructured, names map[string]bool) {
	t.Helper()
	kind, _, _ := unstructured.NestedString(u.Object, "roleRef", "kind")
	role, _, _ := unstructured.NestedString(u.Object, "roleRef", "name")
	if !names[kind+"/"+role] {
		t.Errorf("%s binds %s/%s, which the chart does not render", objectKey(u), kind, role)
	}
	subjects, _, _ := unstructured.NestedSlice(u.Object, "subjects")
	for _, s := range subjects {
		s, _ := s.(map[string]any)
		if s["kind"] == "ServiceAccount" && (s["name"] != "ops-controller-manager" || s["namespace"] != "platform") {
			t.Errorf("%s binds ServiceAccount %v/%v, not the manager's", objectKey(u), s["namespace"], s["name"])
		}
	}
}

// TestChartVersion: the chart's version and appVersion are one release
// (vMAJOR.MINOR.PATCH, equal), and with default values both images are of
// that version, the agent's derived from the operator's as the Makefile
// derives AGENT_IMG from IMG, also from another registry.
func TestChartVersion(t *testing.T) {
	var chart struct {
		Version    string `json:"version"`
		AppVersion string `json:"appVersion"`
	}
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), helmChart, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatal(err)
	}
	if chart.Version != chart.AppVersion || !regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(chart.Version) {
		t.Fatalf("Chart.yaml: version %q and appVersion %q must be one vX.Y.Z (make chart VERSION=vX.Y.Z)", chart.Version, chart.AppVersion)
	}
	for _, c := range []struct {
		set          []string
		image, agent string
	}{
		{nil, "supportstack/operator:" + chart.AppVersion, "supportstack/agent:" + chart.AppVersion},
		{[]string{"--set", "image.repository=registry.example.com:5000/supportstack/operator", "--set", "image.tag=v9.9.9"},
			"registry.example.com:5000/supportstack/operator:v9.9.9", "registry.example.com:5000/supportstack/agent:v9.9.9"},
		{[]string{"--set", "agentImage=mirror.example.com/agent@sha256:0123"},
			"supportstack/operator:" + chart.AppVersion, "mirror.example.com/agent@sha256:0123"},
	} {
		args := append([]string{"template", driftRelease, helmChart, "--show-only", "templates/deployment.yaml"}, c.set...)
		objs := chartObjects(t, "helm template", chartCmd(t, nil, helmPath(t), args...))
		containers, _, _ := unstructured.NestedSlice(objs[0].Object, "spec", "template", "spec", "containers")
		manager, _ := containers[0].(map[string]any)
		args2, _, _ := unstructured.NestedStringSlice(manager, "args")
		if manager["image"] != c.image || !slices.Contains(args2, "--agent-image="+c.agent) {
			t.Errorf("with %v: image %v and args %v, want image %s and --agent-image=%s", c.set, manager["image"], args2, c.image, c.agent)
		}
	}
}

// TestChartLogLevel: logLevel becomes the manager's zap flag, and none is
// passed by default (the drift test holds the default args to config's).
func TestChartLogLevel(t *testing.T) {
	objs := chartObjects(t, "helm template", chartCmd(t, nil, helmPath(t), "template", driftRelease, helmChart,
		"--show-only", "templates/deployment.yaml", "--set", "logLevel=debug", "--set", "replicas=2"))
	containers, _, _ := unstructured.NestedSlice(objs[0].Object, "spec", "template", "spec", "containers")
	manager, _ := containers[0].(map[string]any)
	args, _, _ := unstructured.NestedStringSlice(manager, "args")
	if !slices.Contains(args, "--zap-log-level=debug") || !slices.Contains(args, "--leader-elect") {
		t.Errorf("logLevel=debug gives args %v, want --zap-log-level=debug and --leader-elect", args)
	}
	// JSON numbers: float64.
	if r, _, _ := unstructured.NestedFieldNoCopy(objs[0].Object, "spec", "replicas"); r != float64(2) {
		t.Errorf("replicas=2 gives %v replicas", r)
	}
}

// TestChartCopiesUpToDate: what hack/gen-chart.sh copies from config/ is
// in the chart byte for byte, and running it changes nothing in the
// chart (copies, values table): a copy edited by hand, a config file
// changed without make chart, a file config/ no longer has, all fail.
// The script runs on a copy of the chart, so the checkout is not touched.
func TestChartCopiesUpToDate(t *testing.T) {
	root := testenv.RepoRoot()
	// Copies the test checks directly, without trusting the script.
	for copyPath, source := range map[string]string{
		"files/rbac/role.yaml":                       "config/rbac/role.yaml",
		"files/prometheus/alerts.yaml":               "config/prometheus/alerts.yaml",
		"files/grafana/supportstack.json":            "config/grafana/supportstack.json",
		"files/admission/operator_reach_policy.yaml": "config/admission/operator_reach_policy.yaml",
	} {
		assertSameFile(t, filepath.Join(root, source), filepath.Join(root, helmChart, copyPath))
	}
	crds, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CRD in config/crd/bases (%v)", err)
	}
	for _, crd := range crds {
		assertSameFile(t, crd, filepath.Join(root, helmChart, "crds", filepath.Base(crd)))
	}

	// The script, into a copy of the chart: the result must be the chart.
	work := t.TempDir()
	if err := os.CopyFS(filepath.Join(work, "chart"), os.DirFS(filepath.Join(root, helmChart))); err != nil {
		t.Fatal(err)
	}
	chartCmd(t, []string{"CHART_DIR=" + filepath.Join(work, "chart")}, filepath.Join("hack", "gen-chart.sh"))
	want := treeFiles(t, filepath.Join(root, helmChart))
	got := treeFiles(t, filepath.Join(work, "chart"))
	for name, data := range got {
		if w, ok := want[name]; !ok {
			t.Errorf("hack/gen-chart.sh writes %s, which the chart lacks: run make chart", name)
		} else if !bytes.Equal(w, data) {
			t.Errorf("%s/%s is not what hack/gen-chart.sh writes: run make chart (edit config/ or values.yaml, never a copy)", helmChart, name)
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("%s/%s is not what hack/gen-chart.sh writes (its source is gone?): run make chart", helmChart, name)
		}
	}
}

// assertSameFile fails unless the two files hold the same bytes.
func assertSameFile(t *testing.T, source, copyPath string) {
	t.Helper()
	want, err := os.ReadFile(source)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatalf("%v: run make chart", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is not a copy of %s: run make chart", copyPath, source)
	}
}

// treeFiles maps every file under dir (relative path) to its content.
func treeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestChartValuesTable: README.md's values table is what
// hack/gen-chart-values writes from values.yaml (a value added, removed or
// redescribed without make chart fails), and every value has a
// description (the generator refuses one without).
func TestChartValuesTable(t *testing.T) {
	chartCmd(t, nil, "go", "run", "./hack/gen-chart-values", "-chart", helmChart, "-check")
}
