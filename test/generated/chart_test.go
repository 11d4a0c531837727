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
	"bytes"
	"fmt"
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
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/supportstack/operator/internal/testenv"
)

const (
	// driftRelease and driftNamespace make the chart name its objects as
	// config/default does (namePrefix supportstack-, namespace
	// supportstack-system), so that the two renders pair up by name.
	driftRelease   = "supportstack"
	driftNamespace = "supportstack-system"
)

// installOnly are the objects config/default renders and the chart with
// default values does not, each with the reason.
var installOnly = map[string]string{
	"Namespace/supportstack-system": "helm install needs the release namespace before it creates anything " +
		"(--create-namespace); namespace.create renders it for helm template users",
}

// renderObjects are the objects of a render, failing on one without a
// name: the chart tests pair and look objects up by kind and name.
func renderObjects(t *testing.T, ms []manifest) []*unstructured.Unstructured {
	t.Helper()
	objs := make([]*unstructured.Unstructured, 0, len(ms))
	for _, m := range ms {
		if m.obj.GetName() == "" {
			t.Fatalf("%s: a document without a name:\n%s", m.source, m.raw)
		}
		objs = append(objs, m.obj)
	}
	return objs
}

// chartObjects parses chartTemplate's output into objects, failing on a
// document that is not one.
func chartObjects(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	return renderObjects(t, mustSplitManifests(t, "helm template", data))
}

// chartRender is `helm template` of the chart with the install images, CRDs
// included, and the given extra arguments.
func chartRender(t *testing.T, release, namespace string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	repo, tag, _ := strings.Cut(installOperatorImage, ":")
	args = append([]string{"--set", "image.repository=" + repo, "--set", "image.tag=" + tag,
		"--set", "agentImage=" + installAgentImage}, args...)
	return renderObjects(t, helmTemplate(t, release, namespace, args...))
}

// chartTemplate is `helm template` of the chart as release supportstack
// for chartKubeVersion with the given extra arguments, and its output:
// for the tests of one template (--show-only) or of the YAML as written.
func chartTemplate(t *testing.T, args ...string) []byte {
	t.Helper()
	args = append([]string{"template", driftRelease, helmChart, "--kube-version", chartKubeVersion}, args...)
	return runTool(t, nil, helmPath(t), args...)
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

// comparable is the object as the drift test compares its spec: without
// labels and annotations (Helm adds its own, the pod template's too;
// metadataDiffs holds config/'s to be among the chart's), without a
// cluster-scoped object's namespace, and without empty lists (config/manager's
// `ports: []`, which the API server drops). An empty map stays: `{}` often
// means something (namespaceSelector: {} is every namespace, emptyDir: {}
// a volume).
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
		if meta, ok, _ := unstructured.NestedMap(c.Object, "spec", "template", "metadata"); ok && len(meta) == 0 {
			unstructured.RemoveNestedField(c.Object, "spec", "template", "metadata")
		}
	}
	obj := dropEmptyLists(c.Object)
	if c.GetKind() == "ValidatingAdmissionPolicy" {
		obj = dropBlankLines(obj)
	}
	return obj
}

// metadataDiffs lists the labels and annotations of config's object (but
// kustomize's app.kubernetes.io/managed-by, which is Helm's in the chart)
// that the chart's lacks or sets otherwise: the aggregate-to-* labels that
// put the admin, editor and viewer roles into Kubernetes' own, the labels
// the ServiceMonitor selects on the Service, the pod labels the
// Deployment, Service and NetworkPolicy select, the dashboard's sidecar
// label. The Deployment's pod template too, where the chart's labels
// but app.kubernetes.io/instance must be config's exactly with default
// values (a label added to the pod is a label on every install).
func metadataDiffs(want, got *unstructured.Unstructured) []string {
	var diffs []string
	subset := func(what string, want, got map[string]string, skip string) {
		for k, v := range want {
			if k == skip {
				continue
			}
			if g, ok := got[k]; !ok || g != v {
				diffs = append(diffs, fmt.Sprintf("%s %s: config/ has %q, the chart has %q (set: %v)", what, k, v, g, ok))
			}
		}
	}
	const managedBy = "app.kubernetes.io/managed-by"
	subset("label", want.GetLabels(), got.GetLabels(), managedBy)
	subset("annotation", want.GetAnnotations(), got.GetAnnotations(), "")
	if want.GetKind() == "Deployment" {
		podMeta := func(u *unstructured.Unstructured, field string) map[string]string {
			m, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", field)
			return m
		}
		subset("pod template label", podMeta(want, "labels"), podMeta(got, "labels"), "")
		subset("pod template annotation", podMeta(want, "annotations"), podMeta(got, "annotations"), "")
		for k := range podMeta(got, "labels") {
			if _, ok := podMeta(want, "labels")[k]; !ok && k != "app.kubernetes.io/instance" {
				diffs = append(diffs, fmt.Sprintf("pod template label %s: the chart adds it, config/ does not", k))
			}
		}
	}
	sort.Strings(diffs)
	return diffs
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

// dropEmptyLists removes the keys whose value is an empty list,
// recursively; maps, empty or not, stay.
func dropEmptyLists(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if l, ok := e.([]any); ok && len(l) == 0 {
				continue
			}
			out[k] = dropEmptyLists(e)
		}
		return out
	case []any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			out = append(out, dropEmptyLists(e))
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
// kind and name, except those of exempt (key to reason), equal but for
// labels and annotations, and with config's labels and annotations among
// theirs (metadataDiffs).
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
		if diffs := metadataDiffs(want, got); len(diffs) > 0 {
			t.Errorf("%s: the chart's labels or annotations lack config/'s (%s's fromConfig or a template drops or overrides them):\n%s",
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
	runTool(t, nil, helm, "lint", "--strict", helmChart, "--kube-version", chartKubeVersion)
	runTool(t, nil, helm, append([]string{"lint", "--strict", helmChart, "--kube-version", chartKubeVersion}, togglesOn(t)...)...)
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
	install := renderObjects(t, renderInstall(t))
	t.Run("default values", func(t *testing.T) {
		compareRenders(t, install, chartRender(t, driftRelease, driftNamespace), installOnly)
	})
	t.Run("every toggle on", func(t *testing.T) {
		config := slices.Concat(install, renderObjects(t, kustomizeBuild(t, "config/grafana")))
		compareRenders(t, config, chartRender(t, driftRelease, driftNamespace, togglesOn(t)...), nil)
	})
	t.Run("networkPolicy off", func(t *testing.T) {
		objs := chartRender(t, driftRelease, driftNamespace, "--set", "networkPolicy.enabled=false")
		if slices.ContainsFunc(objs, func(u *unstructured.Unstructured) bool { return u.GetKind() == "NetworkPolicy" }) {
			t.Error("networkPolicy.enabled=false still renders a NetworkPolicy")
		}
	})
}

// TestChartNamespaceIsRestricted: namespace.create renders the release
// namespace with config/manager's PodSecurity label in another namespace
// than the drift test's (this label is what makes the manager's namespace
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

// longRelease2 differs from longRelease only past the 21st character.
const longRelease2 = "platform-helpdesk-support-operator-eu-west-productiox"

// chartPrefix is a valid prefix the chart leaves as it is: at most 28
// characters, a DNS-1035 label.
var chartPrefix = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,26}[a-z0-9])?$`)

// TestChartOtherRelease renders the chart as other releases in namespace
// platform, every toggle on: a short release name (its prefix unchanged),
// the longest release name Helm accepts, a long fullnameOverride, and a
// release name with dots and a leading digit. In each, every name is
// valid for its kind (a Service's a DNS-1035 label, every other a DNS-1123
// label: at most 63 characters), nothing keeps config/default's names, the
// admission policies name the ServiceAccount the Deployment runs as (a
// policy naming another would let the operator's requests through
// unchecked, or refuse its drill runs), bindings bind what the chart
// renders, and the alerts select the rendered metrics Service's job.
func TestChartOtherRelease(t *testing.T) {
	for _, c := range []struct {
		name, release string
		set           []string
		// prefix is the prefix the chart must keep; empty: cut, any valid
		// one.
		prefix string
	}{
		{name: "short release", release: "ops", prefix: "ops"},
		{name: "53-character release", release: longRelease},
		{name: "long fullnameOverride", release: "ops", set: []string{"--set", "fullnameOverride=" + longRelease + "-override"}},
		{name: "dotted release", release: "1.ops"},
		{name: "fullnameOverride", release: "ops", set: []string{"--set", "fullnameOverride=helpdesk-ops"}, prefix: "helpdesk-ops"},
	} {
		t.Run(c.name, func(t *testing.T) {
			objs := chartRender(t, c.release, "platform", append(togglesOn(t), c.set...)...)
			prefix := checkOtherRelease(t, objs)
			if c.prefix != "" && prefix != c.prefix {
				t.Errorf("the chart's prefix is %q, want %q (a valid short name must stay as the user gave it)", prefix, c.prefix)
			}
		})
	}
}

// TestChartLongNamesStayApart: two 53-character release names that differ
// only past the cut name their cluster-scoped objects (ClusterRoles,
// bindings, admission policies) differently, so that neither release
// overwrites the other's.
func TestChartLongNamesStayApart(t *testing.T) {
	first := map[string]bool{}
	for _, u := range chartRender(t, longRelease, "platform") {
		if clusterScoped[u.GetKind()] && u.GetKind() != "CustomResourceDefinition" {
			first[objectKey(u)] = true
		}
	}
	if len(first) == 0 {
		t.Fatal("no cluster-scoped object rendered")
	}
	for _, u := range chartRender(t, longRelease2, "platform") {
		if first[objectKey(u)] {
			t.Errorf("releases %s and %s both render %s", longRelease, longRelease2, objectKey(u))
		}
	}
}

// checkOtherRelease asserts the release-specific names of one render (see
// TestChartOtherRelease) and returns the prefix the chart used.
func checkOtherRelease(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	names := map[string]bool{}
	var sa string
	for _, u := range objs {
		names[objectKey(u)] = true
		if u.GetKind() == "ServiceAccount" {
			sa = u.GetName()
		}
	}
	prefix, ok := strings.CutSuffix(sa, "-controller-manager")
	if !ok {
		t.Fatalf("ServiceAccount %q: want <prefix>-controller-manager", sa)
	}
	if !chartPrefix.MatchString(prefix) {
		t.Errorf("ServiceAccount %q: want a prefix of at most 28 characters of [-a-z0-9] starting with a letter", sa)
	}
	user := "system:serviceaccount:platform:" + sa
	namingUser := 0
	for _, u := range objs {
		if u.GetKind() == "CustomResourceDefinition" {
			continue
		}
		checkObjectName(t, u, prefix)
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), user) {
			namingUser++
		}
		checkReleaseObject(t, u, string(data), names, sa)
	}
	// config/admission names the operator in drill-run-creation,
	// operator-reach and sandbox-namespace.
	if namingUser < 3 {
		t.Errorf("%d objects name %s, want the three admission policies that name the operator", namingUser, user)
	}
	// The operator looks the sandbox-namespace policy and its binding up
	// by the name its flag gives: the names this release rendered.
	for _, u := range objs {
		if u.GetKind() != "Deployment" {
			continue
		}
		var policy string
		for _, a := range managerArgs(t, u) {
			if v, ok := strings.CutPrefix(a, "--sandbox-namespace-policy="); ok {
				policy = v
			}
		}
		for _, kind := range []string{"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} {
			if !names[kind+"/"+policy] {
				t.Errorf("the manager's --sandbox-namespace-policy=%s names no %s the release renders", policy, kind)
			}
		}
	}
	return prefix
}

// checkObjectName asserts a name is valid for its kind and carries the
// release's prefix.
func checkObjectName(t *testing.T, u *unstructured.Unstructured, prefix string) {
	t.Helper()
	name := u.GetName()
	var errs []string
	if u.GetKind() == "Service" {
		errs = validation.IsDNS1035Label(name)
	} else {
		errs = validation.IsDNS1123Label(name)
	}
	if len(errs) > 0 {
		t.Errorf("%s (%d characters): %v", objectKey(u), len(name), errs)
	}
	if u.GetKind() != "Namespace" && !strings.HasPrefix(name, prefix+"-") {
		t.Errorf("%s does not carry the release's prefix %s-", objectKey(u), prefix)
	}
}

// checkReleaseObject asserts one object of another release (data its
// YAML) names that release's namespace, ServiceAccount sa and objects.
func checkReleaseObject(t *testing.T, u *unstructured.Unstructured, data string, names map[string]bool, sa string) {
	t.Helper()
	key := objectKey(u)
	if strings.Contains(data, "supportstack-system") || strings.Contains(data, "supportstack-controller-manager") {
		t.Errorf("%s still names config/default's namespace or manager:\n%s", key, data)
	}
	if !clusterScoped[u.GetKind()] && u.GetNamespace() != "platform" {
		t.Errorf("%s is in namespace %q, not the release's", key, u.GetNamespace())
	}
	switch u.GetKind() {
	case "Deployment":
		got, _, _ := unstructured.NestedString(u.Object, "spec", "template", "spec", "serviceAccountName")
		if got != sa {
			t.Errorf("the Deployment runs as %q, not ServiceAccount %s", got, sa)
		}
	case "ValidatingAdmissionPolicyBinding":
		policy, _, _ := unstructured.NestedString(u.Object, "spec", "policyName")
		if !names["ValidatingAdmissionPolicy/"+policy] {
			t.Errorf("%s binds policy %q, which the chart does not render", key, policy)
		}
	case "RoleBinding", "ClusterRoleBinding":
		checkBinding(t, u, names, sa)
	case "PrometheusRule":
		job := sa + "-metrics-service"
		if !names["Service/"+job] || !strings.Contains(data, `job="`+job+`"`) {
			t.Errorf("the alerts do not select the job of the rendered Service %s:\n%s", job, data)
		}
	}
}

// checkBinding asserts a binding's role and ServiceAccount subjects are the
// chart's own: ServiceAccount sa in namespace platform.
func checkBinding(t *testing.T, u *unstructured.Unstructured, names map[string]bool, sa string) {
	t.Helper()
	kind, _, _ := unstructured.NestedString(u.Object, "roleRef", "kind")
	role, _, _ := unstructured.NestedString(u.Object, "roleRef", "name")
	if !names[kind+"/"+role] {
		t.Errorf("%s binds %s/%s, which the chart does not render", objectKey(u), kind, role)
	}
	subjects, _, _ := unstructured.NestedSlice(u.Object, "subjects")
	for _, s := range subjects {
		s, _ := s.(map[string]any)
		if s["kind"] == "ServiceAccount" && (s["name"] != sa || s["namespace"] != "platform") {
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
		objs := chartObjects(t, chartTemplate(t, append([]string{"--show-only", "templates/deployment.yaml"}, c.set...)...))
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
	objs := chartObjects(t, chartTemplate(t,
		"--show-only", "templates/deployment.yaml", "--set", "logLevel=debug", "--set", "replicas=2"))
	containers, _, _ := unstructured.NestedSlice(objs[0].Object, "spec", "template", "spec", "containers")
	manager, _ := containers[0].(map[string]any)
	args, _, _ := unstructured.NestedStringSlice(manager, "args")
	if !slices.Contains(args, "--zap-log-level=debug") || !slices.Contains(args, "--leader-elect") {
		t.Errorf("logLevel=debug gives args %v, want --zap-log-level=debug and --leader-elect", args)
	}
	// Unstructured's JSON integers: int64.
	if r, _, _ := unstructured.NestedFieldNoCopy(objs[0].Object, "spec", "replicas"); r != int64(2) {
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
		"files/rbac/role.yaml":                          "config/rbac/role.yaml",
		"files/prometheus/alerts.yaml":                  "config/prometheus/alerts.yaml",
		"files/grafana/supportstack.json":               "config/grafana/supportstack.json",
		"files/admission/operator_reach_policy.yaml":    "config/admission/operator_reach_policy.yaml",
		"files/admission/sandbox_namespace_policy.yaml": "config/admission/sandbox_namespace_policy.yaml",
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
	runTool(t, []string{"CHART_DIR=" + filepath.Join(work, "chart")}, filepath.Join("hack", "gen-chart.sh"))
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
	runTool(t, nil, "go", "run", "./hack/gen-chart-values", "-chart", helmChart, "-check")
}

// TestChartAgentImageRequired: with an operator repository not named
// .../operator and no agentImage, the render fails saying to set
// agentImage (rather than run Docker Hub's supportstack/agent, which a
// private registry's user did not choose); with agentImage it renders
// that image.
func TestChartAgentImageRequired(t *testing.T) {
	cmd := exec.Command(helmPath(t), "template", driftRelease, helmChart, "--kube-version", chartKubeVersion,
		"--set", "image.repository=registry.example.com/team/op")
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "set agentImage") {
		t.Errorf("image.repository=registry.example.com/team/op without agentImage: err %v, want a failure saying to set agentImage:\n%s", err, out)
	}
	objs := chartObjects(t, chartTemplate(t, "--show-only", "templates/deployment.yaml",
		"--set", "image.repository=registry.example.com/team/op", "--set", "agentImage=registry.example.com/team/ag:v1"))
	if args := managerArgs(t, objs[0]); !slices.Contains(args, "--agent-image=registry.example.com/team/ag:v1") {
		t.Errorf("agentImage set: args %v", args)
	}
}

// managerArgs is the manager container's args in a rendered Deployment.
func managerArgs(t *testing.T, deploy *unstructured.Unstructured) []string {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	if len(containers) == 0 {
		t.Fatalf("%s has no container", objectKey(deploy))
	}
	manager, _ := containers[0].(map[string]any)
	args, _, _ := unstructured.NestedStringSlice(manager, "args")
	return args
}

// TestChartUserKeysOnce: a user's label or annotation on a key the chart
// sets renders once (a YAML map with a key twice is refused by
// fieldValidation=Strict and read as the last by others), with the user's
// value (grafanaDashboard.labels, podAnnotations), except the labels that
// select the manager pod, which podLabels cannot change.
func TestChartUserKeysOnce(t *testing.T) {
	out := chartTemplate(t, "--set", "grafanaDashboard.enabled=true", "--set-string", "grafanaDashboard.labels.grafana_dashboard=true",
		"--set", "podAnnotations.kubectl\\.kubernetes\\.io/default-container=sidecar",
		"--set", "podLabels.control-plane=other", "--set", "podLabels.team=helpdesk",
		"--set", "serviceMonitor.enabled=true", "--set", "serviceMonitor.labels.control-plane=scraped")
	for _, doc := range strings.Split(string(out), "\n---") {
		if err := yaml.UnmarshalStrict([]byte(doc), &map[string]any{}); err != nil {
			t.Errorf("a document does not parse strictly (a key twice?): %v\n%s", err, doc)
		}
	}
	for _, u := range chartObjects(t, out) {
		labels := u.GetLabels()
		switch u.GetKind() {
		case "ConfigMap":
			if labels["grafana_dashboard"] != "true" {
				t.Errorf("grafanaDashboard.labels.grafana_dashboard=true gives %v", labels)
			}
		case "ServiceMonitor":
			if labels["control-plane"] != "scraped" {
				t.Errorf("serviceMonitor.labels.control-plane=scraped gives %v", labels)
			}
		case "Deployment":
			pod, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "labels")
			notes, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "annotations")
			if pod["control-plane"] != "controller-manager" || pod["team"] != "helpdesk" {
				t.Errorf("podLabels control-plane=other, team=helpdesk give pod labels %v, want control-plane kept and team added", pod)
			}
			if notes["kubectl.kubernetes.io/default-container"] != "sidecar" {
				t.Errorf("podAnnotations default-container=sidecar gives %v", notes)
			}
		}
	}
}

// TestChartManagerTuning: extraArgs come after the chart's arguments (a
// repeated flag's last value wins), extraVolumes and extraVolumeMounts
// reach the pod and the manager container, priorityClassName and
// topologySpreadConstraints the pod; none renders by default (the drift
// test holds the default Deployment to config/'s).
func TestChartManagerTuning(t *testing.T) {
	objs := chartObjects(t, chartTemplate(t, "--show-only", "templates/deployment.yaml",
		"--set", "extraArgs={--agent-cache-size=2Gi,--stuck-pod-timeout=30m,--metrics-cert-path=/certs}",
		"--set", "extraVolumes[0].name=metrics-cert", "--set", "extraVolumes[0].secret.secretName=supportstack-metrics-cert",
		"--set", "extraVolumeMounts[0].name=metrics-cert", "--set", "extraVolumeMounts[0].mountPath=/certs",
		"--set", "priorityClassName=platform-critical",
		"--set", "topologySpreadConstraints[0].maxSkew=1", "--set", "topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone",
		"--set", "topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway"))
	deploy := objs[0]
	args := managerArgs(t, deploy)
	if n := len(args); n < 4 || !strings.HasPrefix(args[n-4], "--agent-image=") ||
		!slices.Equal(args[n-3:], []string{"--agent-cache-size=2Gi", "--stuck-pod-timeout=30m", "--metrics-cert-path=/certs"}) {
		t.Errorf("args %v: want extraArgs after --agent-image, in order", args)
	}
	pod, _, _ := unstructured.NestedMap(deploy.Object, "spec", "template", "spec")
	containers, _ := pod["containers"].([]any)
	manager, _ := containers[0].(map[string]any)
	for _, c := range []struct {
		what string
		got  any
		want string
	}{
		{"volumes", pod["volumes"], "[map[name:metrics-cert secret:map[secretName:supportstack-metrics-cert]]]"},
		{"volumeMounts", manager["volumeMounts"], "[map[mountPath:/certs name:metrics-cert]]"},
		{"priorityClassName", pod["priorityClassName"], "platform-critical"},
		{"topologySpreadConstraints", pod["topologySpreadConstraints"],
			"[map[maxSkew:1 topologyKey:topology.kubernetes.io/zone whenUnsatisfiable:ScheduleAnyway]]"},
	} {
		if got := fmt.Sprint(c.got); got != c.want {
			t.Errorf("%s: %s, want %s", c.what, got, c.want)
		}
	}
}

// TestChartDriftComparison holds the drift test's comparison to what it
// may forgive: an empty list is no list (config/manager's `ports: []`,
// which the API server drops), but an empty map is not an absent one
// (namespaceSelector: {} selects every namespace, emptyDir: {} is a
// volume), and a label config/ sets is the chart's to keep.
func TestChartDriftComparison(t *testing.T) {
	obj := func(doc string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		return u
	}
	const base = "kind: ServiceMonitor\nmetadata: {name: m, labels: {a: b}}\nspec: {selector: {matchLabels: {x: y}}"
	for _, c := range []struct {
		name, want, got string
		equal           bool
	}{
		{"empty list and none", base + ", endpoints: []}", base + "}", true},
		{"empty map and none", base + ", namespaceSelector: {}}", base + "}", false},
		{"none and empty map", base + "}", base + ", namespaceSelector: {}}", false},
		{"a label more in the chart", base + "}", strings.Replace(base, "{a: b}", "{a: b, c: d}", 1) + "}", true},
		{"a label of config/ missing", base + "}", strings.Replace(base, "{a: b}", "{c: d}", 1) + "}", false},
		{"managed-by differs", strings.Replace(base, "{a: b}", "{a: b, app.kubernetes.io/managed-by: kustomize}", 1) + "}",
			strings.Replace(base, "{a: b}", "{a: b, app.kubernetes.io/managed-by: Helm}", 1) + "}", true},
	} {
		want, got := obj(c.want), obj(c.got)
		diffs := append(valueDiffs("x", comparable(want), comparable(got)), metadataDiffs(want, got)...)
		if (len(diffs) == 0) != c.equal {
			t.Errorf("%s: diffs %v, want equal %v", c.name, diffs, c.equal)
		}
	}
}

// TestMakefileAgentImage: make build-installer and make deploy stop, before
// running anything, when IMG is not .../operator:TAG and AGENT_IMG is not
// given (make -n: nothing is built or applied), and derive or take the
// agent image otherwise.
func TestMakefileAgentImage(t *testing.T) {
	makeN := func(args ...string) (string, error) {
		cmd := exec.Command("make", append([]string{"-n", "--no-print-directory"}, args...)...)
		cmd.Dir = testenv.RepoRoot()
		// Nothing from a make that runs this test (make test IMG=...
		// passes IMG down in MAKEFLAGS) or from the environment.
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); !slices.Contains([]string{"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "IMG", "AGENT_IMG"}, k) {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, target := range []string{"build-installer", "deploy"} {
		out, err := makeN(target, "IMG=reg.example.com/team/op:v1")
		if err == nil || !strings.Contains(out, "AGENT_IMG is not set") || strings.Contains(out, "render-install.sh") {
			t.Errorf("make -n %s IMG=reg.example.com/team/op:v1: err %v, want a stop naming AGENT_IMG before any command:\n%s", target, err, out)
		}
		for _, c := range [][]string{
			{"IMG=reg.example.com/team/operator:v1", `"reg.example.com/team/operator:v1" "reg.example.com/team/agent:v1"`},
			{"IMG=reg.example.com/team/op:v1 AGENT_IMG=reg.example.com/team/ag:v1", `"reg.example.com/team/op:v1" "reg.example.com/team/ag:v1"`},
		} {
			out, err := makeN(append([]string{target}, strings.Fields(c[0])...)...)
			if err != nil || !strings.Contains(out, "hack/render-install.sh "+c[1]) {
				t.Errorf("make -n %s %s: err %v, want render-install.sh %s:\n%s", target, c[0], err, c[1], out)
			}
		}
	}
}
