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
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/supportstack/operator/internal/testenv"
)

const (
	// dryRunFieldManager owns every apply this test makes, real or dry-run:
	// server-side apply refuses a request without a field manager.
	dryRunFieldManager = "supportstack-dryrun-test"
	// dryRunNamespace receives the namespaced objects a render leaves
	// without a namespace (config/samples), as `kubectl apply -n` would.
	dryRunNamespace = "dryrun-test"
)

var (
	dryRunCRDKind       = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	dryRunNamespaceKind = schema.GroupKind{Kind: "Namespace"}
)

// dryRunServer validates manifests on a test API server.
type dryRunServer struct {
	c client.Client
}

// apply server-side applies m (its raw bytes, which the server decodes)
// with fieldValidation=Strict: server-side apply refuses a field its schema
// does not declare in any case, and Strict makes it refuse a duplicate key
// too instead of keeping the last value. opts add client.DryRunAll.
// A namespaced object without a namespace goes to dryRunNamespace; the
// namespace it names is created first if missing (a dry-run create in a
// namespace that does not exist is refused before validation).
func (s *dryRunServer) apply(ctx context.Context, m manifest, opts ...client.PatchOption) error {
	obj := m.obj.DeepCopy()
	namespaced, err := s.c.IsObjectNamespaced(obj)
	if err != nil {
		return fmt.Errorf("the API server does not serve this kind: %w", err)
	}
	if namespaced {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(dryRunNamespace)
		}
		if err := s.ensureNamespace(ctx, obj.GetNamespace()); err != nil {
			return err
		}
	}
	opts = append(opts, client.FieldOwner(dryRunFieldManager), client.ForceOwnership,
		client.FieldValidation(metav1.FieldValidationStrict))
	return s.c.Patch(ctx, obj, client.RawPatch(types.ApplyYAMLPatchType, m.raw), opts...)
}

func (s *dryRunServer) ensureNamespace(ctx context.Context, name string) error {
	err := s.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// validate returns one error per object of ms the API server refuses.
// CustomResourceDefinitions and Namespaces are applied for real: a custom
// resource can be validated only against a CRD the server serves, and a
// dry-run create needs its namespace to exist. Everything else is applied
// with dryRun=All, which runs the whole validation and admission chain (the
// OpenAPI schema, CEL rules, ValidatingAdmissionPolicies) and stores nothing.
func (s *dryRunServer) validate(ctx context.Context, ms []manifest) []error {
	var errs []error
	var rest []manifest
	for _, m := range ms {
		var err error
		switch m.obj.GroupVersionKind().GroupKind() {
		case dryRunCRDKind:
			err = s.installCRD(ctx, m)
		case dryRunNamespaceKind:
			err = s.apply(ctx, m)
		default:
			rest = append(rest, m)
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: refused: %w", m, err))
		}
	}
	for _, m := range rest {
		if err := s.apply(ctx, m, client.DryRunAll); err != nil {
			errs = append(errs, fmt.Errorf("%s: refused: %w", m, err))
		}
	}
	return errs
}

// installCRD applies a CRD for real and waits until it is served. The
// apply replaces the schema testenv installed from config/crd/bases (the
// schema is one atomic value for server-side apply), so the custom
// resources that follow are validated against the CRD as the render has it
// (testCRDReplaced shows it).
func (s *dryRunServer) installCRD(ctx context.Context, m manifest) error {
	if err := s.apply(ctx, m); err != nil {
		return err
	}
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(m.obj.GroupVersionKind())
	established := func(ctx context.Context) (bool, error) {
		if err := s.c.Get(ctx, client.ObjectKey{Name: m.obj.GetName()}, got); err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conds {
			if c, ok := c.(map[string]any); ok && c["type"] == "Established" && c["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, established); err != nil {
		return fmt.Errorf("not established: %w", err)
	}
	return nil
}

// installPrometheusOperatorCRDs generates the ServiceMonitor and
// PrometheusRule CRDs with controller-gen from the Go types of the
// Prometheus Operator module in go.mod, and installs them through
// installCRD, so those objects of the renders are validated against their
// real schema. The module's other CRDs (Prometheus, Alertmanager, ...) are
// megabytes of schema no render uses.
func installPrometheusOperatorCRDs(ctx context.Context, t *testing.T, s *dryRunServer) {
	t.Helper()
	gen := os.Getenv("CONTROLLER_GEN")
	if gen == "" {
		t.Fatal("CONTROLLER_GEN is not set: run this test with \"make test\" (it generates the Prometheus Operator's CRDs with controller-gen)")
	}
	pkg := reflect.TypeFor[monitoringv1.ServiceMonitor]().PkgPath()
	dir := t.TempDir()
	cmd := exec.Command(gen, "crd", "paths="+pkg, "output:crd:dir="+dir)
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen crd paths=%s: %v\n%s", pkg, err, out)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wanted := []string{monitoringv1.ServiceMonitorsKind, monitoringv1.PrometheusRuleKind}
	var installed []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := splitManifests("controller-gen crd paths="+pkg+": "+filepath.Base(f), data)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			kind, _, _ := unstructured.NestedString(m.obj.Object, "spec", "names", "kind")
			if !slices.Contains(wanted, kind) {
				continue
			}
			if err := s.installCRD(ctx, m); err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			installed = append(installed, kind)
		}
	}
	slices.Sort(installed)
	slices.Sort(wanted)
	if !slices.Equal(installed, wanted) {
		t.Fatalf("controller-gen made CRDs of %v, want %v", installed, wanted)
	}
}

// dryRunRender is one set of manifests the test validates.
type dryRunRender struct {
	name   string
	render func(t *testing.T) []manifest
	// check, if set, asserts more about the render's objects.
	check func(t *testing.T, ms []manifest)
}

// kustomizeRenders are the kustomize builds of each directory.
func kustomizeRenders(dirs ...string) []dryRunRender {
	rs := make([]dryRunRender, 0, len(dirs))
	for _, dir := range dirs {
		rs = append(rs, dryRunRender{name: "kustomize build " + dir, render: func(t *testing.T) []manifest {
			return kustomizeBuild(t, dir)
		}})
	}
	return rs
}

// installerRender is what `make build-installer` writes to dist/install.yaml.
var installerRender = dryRunRender{name: "install.yaml", render: renderInstall, check: checkInstallerImages}

// checkInstallerImages asserts the installer's manager runs the operator
// image it was given and passes the agent image to the manager.
func checkInstallerImages(t *testing.T, ms []manifest) {
	var deployments []string
	for _, m := range ms {
		if m.obj.GetKind() != "Deployment" {
			continue
		}
		deployments = append(deployments, m.obj.GetName())
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m.obj.Object, &d); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		i := slices.IndexFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == "manager" })
		if i < 0 {
			t.Fatalf("%s has no container named manager", m)
		}
		c := d.Spec.Template.Spec.Containers[i]
		if c.Image != installOperatorImage {
			t.Errorf("%s: manager image is %q, want %q", m, c.Image, installOperatorImage)
		}
		if !slices.Contains(c.Args, "--agent-image="+installAgentImage) {
			t.Errorf("%s: manager args %q lack --agent-image=%s", m, c.Args, installAgentImage)
		}
	}
	if len(deployments) != 1 {
		t.Errorf("install.yaml holds Deployments %v, want the manager's only", deployments)
	}
}

// demoRenders are the files of config/demo, each applied as it is.
func demoRenders(t *testing.T) []dryRunRender {
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "demo", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("config/demo holds no *.yaml: the glob is broken")
	}
	rs := make([]dryRunRender, 0, len(files))
	for _, f := range files {
		rel := filepath.Join("config", "demo", filepath.Base(f))
		rs = append(rs, dryRunRender{name: rel, render: func(t *testing.T) []manifest {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			return mustSplitManifests(t, rel, data)
		}})
	}
	return rs
}

// TestManifestsPassServerSideDryRun applies every object a user would
// install — the installer (make build-installer), the kustomize
// directories, the demo's files, the Helm chart with default values and with
// every toggle on — to a real API server with server-side apply, dryRun=All
// and fieldValidation=Strict: the server checks each against its OpenAPI
// schema (built-in kinds, the SupportStack CRDs as the render installs them,
// the Prometheus Operator's CRDs generated from its Go types), CEL rules and
// admission policies, as `kubectl apply --server-side` on a cluster would.
func TestManifestsPassServerSideDryRun(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	ctx := t.Context()
	s := &dryRunServer{c: env.Client}
	if err := s.ensureNamespace(ctx, dryRunNamespace); err != nil {
		t.Fatal(err)
	}
	installPrometheusOperatorCRDs(ctx, t, s)

	t.Run("broken objects are refused", func(t *testing.T) { testDryRunRefusals(ctx, t, s) })
	t.Run("custom resources meet the CRD the render applies", func(t *testing.T) { testCRDReplaced(ctx, t, s) })

	renders := slices.Concat([]dryRunRender{installerRender},
		kustomizeRenders("config/default", "config/prometheus", "config/grafana", "config/samples"),
		demoRenders(t), helmRenders(t))
	for _, r := range renders {
		t.Run(r.name, func(t *testing.T) {
			ms := r.render(t)
			if r.check != nil {
				r.check(t, ms)
			}
			for _, err := range s.validate(ctx, ms) {
				t.Error(err)
			}
			t.Logf("%d objects validated", len(ms))
		})
	}
}

// dryRunRefusal is an object the dry-run must accept, and a one-line change to it
// the API server must refuse with a message containing want: the dryRunRefusal
// then comes from that change, not from anything else in the object.
type dryRunRefusal struct {
	name      string
	valid     string
	from, to  string
	wantError string
}

var dryRunRefusals = []dryRunRefusal{{
	name: "unknown field in a built-in kind",
	valid: `apiVersion: apps/v1
kind: Deployment
metadata: {name: dryrun-probe}
spec:
  selector: {matchLabels: {app: dryrun-probe}}
  template:
    metadata: {labels: {app: dryrun-probe}}
    spec:
      containers:
      - {name: c, image: busybox}
`,
	from: "spec:\n  selector", to: "spec:\n  replica: 1\n  selector",
	wantError: ".spec.replica: field not declared in schema",
}, {
	name: "duplicate field (refused only with fieldValidation=Strict)",
	valid: `apiVersion: v1
kind: ConfigMap
metadata: {name: dryrun-probe}
data:
  a: "1"
`,
	from: `  a: "1"`, to: "  a: \"1\"\n  a: \"2\"",
	wantError: `key "a" already set in map`,
}, {
	name: "CRD enum violated",
	valid: `apiVersion: ops.supportstack.io/v1alpha1
kind: DRDrill
metadata: {name: dryrun-probe}
spec:
  backupPolicyName: helpdesk
  schedule: "0 6 * * 1"
  snapshot: latest
  sandbox: {keep: OnFailure, ttl: 2h, postgresImage: "postgres:15"}
  checks:
  - {name: tickets-present, database: helpdesk, sql: "SELECT count(*) FROM tickets", expect: {min: 1}}
  objectives: {rto: 30m, rpo: 26h}
`,
	from: "keep: OnFailure", to: "keep: Sometimes",
	wantError: `spec.sandbox.keep: Unsupported value: "Sometimes"`,
}, {
	name: "CRD CEL rule violated",
	valid: `apiVersion: ops.supportstack.io/v1alpha1
kind: BackupPolicy
metadata: {name: dryrun-probe}
spec:
  schedule: "0 2 * * *"
  sources:
    volumes:
    - {name: attachments, claimName: helpdesk-attachments}
  repository:
    url: s3:https://s3.example.com/helpdesk-backups
    passwordSecretRef: {name: restic, key: password}
  retention: {keepLast: 7}
`,
	from: "url: s3:https://", to: "url: ftp://",
	wantError: `spec.repository.url: Invalid value: "ftp://s3.example.com/helpdesk-backups": must be a restic repository URL`,
}, {
	name: "admission policy violated",
	valid: `apiVersion: ops.supportstack.io/v1alpha1
kind: DRDrill
metadata: {name: dryrun-probe}
spec:
  backupPolicyName: helpdesk
  schedule: "0 6 * * 1"
  snapshot: latest
  sandbox: {keep: OnFailure, postgresImage: "postgres:15"}
  checks:
  - {name: tickets-present, database: helpdesk, sql: "SELECT count(*) FROM tickets", expect: {min: 1}}
  objectives: {rto: 30m}
`,
	from: "sandbox: {", to: "sandbox: {namespace: " + dryRunNamespace + ", ",
	wantError: "spec.sandbox.namespace must not be " + dryRunNamespace,
}, {
	name: "ServiceMonitor enum violated (the generated Prometheus Operator CRD)",
	valid: `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: dryrun-probe}
spec:
  endpoints:
  - {port: https, scheme: https}
  selector: {matchLabels: {app: dryrun-probe}}
`,
	from: "scheme: https", to: "scheme: ftp",
	wantError: `spec.endpoints[0].scheme: Unsupported value: "ftp"`,
}, {
	name: "PrometheusRule pattern violated (the generated Prometheus Operator CRD)",
	valid: `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: dryrun-probe}
spec:
  groups:
  - name: g
    rules:
    - {alert: A, expr: up == 0, for: 5m}
`,
	from: "for: 5m", to: "for: five minutes",
	wantError: "spec.groups[0].rules[0].for: Invalid value",
}, {
	name: "kind the API server does not serve",
	valid: `apiVersion: v1
kind: ConfigMap
metadata: {name: dryrun-probe}
`,
	from: "apiVersion: v1\nkind: ConfigMap", to: "apiVersion: monitoring.coreos.com/v1\nkind: Probe",
	wantError: "the API server does not serve this kind",
}}

// testDryRunRefusals feeds each dryRunRefusal through splitManifests and validate,
// the functions the renders go through: the valid object must pass and
// leave nothing stored (the dry-run persists nothing), the broken one must
// be refused with the API server's message.
func testDryRunRefusals(ctx context.Context, t *testing.T, s *dryRunServer) {
	for _, r := range dryRunRefusals {
		t.Run(r.name, func(t *testing.T) {
			broken := strings.Replace(r.valid, r.from, r.to, 1)
			if broken == r.valid {
				t.Fatalf("%q is not in the valid object", r.from)
			}
			valid := mustSplitManifests(t, "valid "+r.name, []byte(r.valid))
			for _, err := range s.validate(ctx, valid) {
				t.Errorf("the valid object is refused: %v", err)
			}
			obj := valid[0].obj.DeepCopy()
			obj.SetNamespace(dryRunNamespace)
			if err := s.c.Get(ctx, client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
				t.Errorf("after the dry-run, getting %s: %v, want NotFound", valid[0], err)
			}
			errs := s.validate(ctx, mustSplitManifests(t, "broken "+r.name, []byte(broken)))
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), r.wantError) {
				t.Errorf("the broken object: errors %v, want one containing %q", errs, r.wantError)
			}
		})
	}
}

// dryRunProbeCRD is a CRD of the test's own, with its spec's properties.
func dryRunProbeCRD(properties string) string {
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: probes.dryrun.supportstack.io}
spec:
  group: dryrun.supportstack.io
  names: {kind: Probe, listKind: ProbeList, plural: probes, singular: probe}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties: ` + properties + "\n"
}

// testCRDReplaced shows that a custom resource is validated against the
// CRD a render applies, not the one installed before by another field
// manager (as testenv installs config/crd/bases): a field the render's
// schema no longer declares is refused.
func testCRDReplaced(ctx context.Context, t *testing.T, s *dryRunServer) {
	both := mustSplitManifests(t, "probe CRD", []byte(dryRunProbeCRD("{a: {type: string}, b: {type: string}}")))[0]
	if err := s.c.Create(ctx, both.obj.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	if err := s.installCRD(ctx, both); err != nil {
		t.Fatalf("the CRD applied over itself: %v", err)
	}
	probe := func(field string) []error {
		return s.validate(ctx, mustSplitManifests(t, "probe", []byte(
			"apiVersion: dryrun.supportstack.io/v1\nkind: Probe\nmetadata: {name: p}\nspec: {"+field+": x}\n")))
	}
	// The API server serves a CRD's new schema a moment after the update
	// that set it; poll rather than sleep.
	eventually := func(what string, ok func() bool) {
		t.Helper()
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 15*time.Second, true,
			func(context.Context) (bool, error) { return ok(), nil })
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eventually("spec.b accepted with the CRD declaring a and b", func() bool { return len(probe("b")) == 0 })
	onlyA := mustSplitManifests(t, "probe CRD without b", []byte(dryRunProbeCRD("{a: {type: string}}")))[0]
	if err := s.installCRD(ctx, onlyA); err != nil {
		t.Fatal(err)
	}
	eventually("spec.b refused once the render's CRD declares a only", func() bool {
		errs := probe("b")
		return len(errs) == 1 && strings.Contains(errs[0].Error(), ".spec.b: field not declared in schema")
	})
	if errs := probe("a"); len(errs) != 0 {
		t.Errorf("spec.a refused: %v", errs)
	}
}

// dryRunChartValues sets, besides every toggle of the chart's values.yaml
// (each boolean named enabled or create, all turned on), each optional value the templates render
// only when set, so that the dry-run sees the blocks they produce. Every
// key must exist in values.yaml: a renamed value fails the test rather than
// going unrendered.
const dryRunChartValues = `
image: {pullPolicy: Always}
agentImage: registry.example.com/supportstack/agent:v-test
imagePullSecrets: [{name: regcred}]
replicas: 2
logLevel: debug
nodeSelector: {kubernetes.io/os: linux}
tolerations: [{key: dedicated, operator: Equal, value: operators, effect: NoSchedule}]
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}]
podAnnotations: {example.com/team: platform}
podLabels: {example.com/cost-center: helpdesk}
priorityClassName: platform-critical
topologySpreadConstraints:
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector: {matchLabels: {control-plane: controller-manager}}
extraArgs: [--agent-cache-size=2Gi, --stuck-pod-timeout=30m, --metrics-cert-path=/certs]
extraVolumes: [{name: metrics-cert, secret: {secretName: supportstack-metrics-cert}}]
extraVolumeMounts: [{name: metrics-cert, mountPath: /certs, readOnly: true}]
serviceAccount: {annotations: {example.com/role: operator}}
serviceMonitor: {labels: {release: kube-prometheus-stack}}
prometheusRule: {labels: {release: kube-prometheus-stack}}
grafanaDashboard: {labels: {team: platform}, annotations: {grafana_folder: SupportStack}}
`

// chartValuesAllOn returns dryRunChartValues with every toggle of defaults (a
// boolean named enabled or create) set to true, and the toggles' paths.
func chartValuesAllOn(t *testing.T, defaults map[string]any) (map[string]any, []string) {
	t.Helper()
	set := map[string]any{}
	if err := yaml.Unmarshal([]byte(dryRunChartValues), &set); err != nil {
		t.Fatal(err)
	}
	if missing := missingValueKeys(set, defaults, ""); len(missing) > 0 {
		t.Fatalf("dryRunChartValues sets %v, which %s/values.yaml does not have", missing, helmChart)
	}
	toggles := valueToggles(defaults)
	for _, tg := range toggles {
		m := set
		keys := strings.Split(tg, ".")
		for _, k := range keys[:len(keys)-1] {
			sub, ok := m[k].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[k] = sub
			}
			m = sub
		}
		m[keys[len(keys)-1]] = true
	}
	return set, toggles
}

// missingValueKeys lists the keys of set, as dotted paths, that defaults lacks;
// below a key whose default is an empty map (nodeSelector, labels) any key
// is the user's.
func missingValueKeys(set, defaults map[string]any, path string) []string {
	var missing []string
	for k, v := range set {
		d, ok := defaults[k]
		if !ok {
			missing = append(missing, path+k)
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			if dsub, ok := d.(map[string]any); ok && len(dsub) > 0 {
				missing = append(missing, missingValueKeys(sub, dsub, path+k+".")...)
			}
		}
	}
	return missing
}

// helmRenders are helm template of the chart with its default values, and
// with every toggle on and every optional value set, CRDs included
// (--include-crds: what helm install creates from crds/); the latter also
// as a 53-character release in namespace platform and with a long
// fullnameOverride, so that names other than config/default's reach the
// API server.
func helmRenders(t *testing.T) []dryRunRender {
	defaults := chartDefaults(t)
	// allOn renders every toggle on, every optional value set, and args.
	allOn := func(t *testing.T, release, namespace string, args ...string) []manifest {
		values, toggles := chartValuesAllOn(t, defaults)
		if len(toggles) == 0 {
			t.Fatalf("%s/values.yaml has no boolean toggle: the walk is broken", helmChart)
		}
		out, err := yaml.Marshal(values)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(file, out, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Logf("toggles on: %s", strings.Join(toggles, ", "))
		return helmTemplate(t, release, namespace, append([]string{"--values", file}, args...)...)
	}
	return []dryRunRender{{
		name: "helm template (default values)",
		render: func(t *testing.T) []manifest {
			return helmTemplate(t, driftRelease, driftNamespace)
		},
	}, {
		name: "helm template (every toggle on)",
		render: func(t *testing.T) []manifest {
			// A namespace no earlier render made: namespace.create renders it.
			return allOn(t, driftRelease, "supportstack-helm")
		},
		check: checkTogglesRendered,
	}, {
		name: "helm template (53-character release in platform, every toggle on)",
		render: func(t *testing.T) []manifest {
			return allOn(t, longRelease, "platform")
		},
		check: checkNotDefaultNames,
	}, {
		name: "helm template (long fullnameOverride, every toggle on)",
		render: func(t *testing.T) []manifest {
			return allOn(t, driftRelease, "platform-override",
				"--set", "fullnameOverride=Helpdesk.Operators-"+longRelease)
		},
		check: checkNotDefaultNames,
	}}
}

// checkNotDefaultNames asserts a render for another release or
// fullnameOverride names its objects otherwise than config/default (whose
// names the default render already validated): the dry-run then sees the
// chart's cut names. CRDs and the Namespace have names of their own.
func checkNotDefaultNames(t *testing.T, ms []manifest) {
	checkTogglesRendered(t, ms)
	for _, m := range ms {
		switch m.obj.GetKind() {
		case "CustomResourceDefinition", "Namespace":
			continue
		}
		if strings.HasPrefix(m.obj.GetName(), "supportstack-") {
			t.Errorf("%s: named as config/default names it; this render must use another prefix", m)
		}
	}
}

// checkTogglesRendered asserts the every-toggle render holds the objects
// only toggles add, so that the dry-run validates them: the
// Namespace, the ServiceMonitor and the PrometheusRule (against the
// generated Prometheus Operator CRDs) and the dashboard ConfigMap.
func checkTogglesRendered(t *testing.T, ms []manifest) {
	kinds := map[string]bool{}
	for _, m := range ms {
		kinds[m.obj.GetKind()] = true
	}
	for _, k := range []string{"Namespace", monitoringv1.ServiceMonitorsKind, monitoringv1.PrometheusRuleKind, "ConfigMap", "NetworkPolicy"} {
		if !kinds[k] {
			t.Errorf("the every-toggle render holds no %s", k)
		}
	}
}
