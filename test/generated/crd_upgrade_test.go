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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/supportstack/operator/internal/testenv"
)

// TestCRDUpgradeAfterHelm follows README's upgrade step for a Helm
// install. Helm creates the chart's crds/ once, under its field manager
// "helm", and never upgrades them, so the user applies the new version's
// CRDs: `kubectl apply --server-side -f charts/supportstack-operator/crds/`
// stops on a conflict with manager helm for every field the new version
// changes, and with --force-conflicts (what README says) it installs the
// new schema.
func TestCRDUpgradeAfterHelm(t *testing.T) {
	assets := os.Getenv("K8S_ASSETS")
	if assets == "" || os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("K8S_ASSETS or KUBEBUILDER_ASSETS is not set: run this test with \"make test\"")
	}
	env := &envtest.Environment{}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	user, err := env.AddUser(envtest.User{Name: "crd-upgrader", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfigFile := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfigFile, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	scheme := testenv.Scheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	// The chart's CRDs as helm install creates them, and the next version:
	// the same files with a changed schema (a description) and
	// controller-gen annotation, as a regenerated CRD differs.
	crds := filepath.Join(testenv.RepoRoot(), "charts", "supportstack-operator", "crds")
	files, err := filepath.Glob(filepath.Join(crds, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in %s: %v", crds, err)
	}
	next := t.TempDir()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(raw, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.Create(context.Background(), &crd, client.FieldOwner("helm")); err != nil {
			t.Fatalf("creating %s as helm does: %v", crd.Name, err)
		}
		var upgraded apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(raw, &upgraded); err != nil {
			t.Fatal(err)
		}
		upgraded.Annotations["controller-gen.kubebuilder.io/version"] = "v99.0.0"
		upgraded.Spec.Versions[0].Schema.OpenAPIV3Schema.Description = "the next version's description"
		out, err := yaml.Marshal(&upgraded)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(next, filepath.Base(f)), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	kubectl := func(args ...string) (string, error) {
		out, err := exec.Command(filepath.Join(assets, "kubectl"), append([]string{"--kubeconfig", kubeconfigFile}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := kubectl("apply", "--server-side", "-f", next); err == nil || !strings.Contains(out, `conflicts with "helm"`) {
		t.Fatalf("kubectl apply --server-side without --force-conflicts over helm's CRDs: %v, want a conflict with \"helm\":\n%s", err, out)
	}
	if out, err := kubectl("apply", "--server-side", "--force-conflicts", "-f", next); err != nil {
		t.Fatalf("README's upgrade step failed: %v\n%s", err, out)
	}
	var list apiextensionsv1.CustomResourceDefinitionList
	if err := c.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != len(files) {
		t.Fatalf("%d CRDs on the server, want %d", len(list.Items), len(files))
	}
	for _, crd := range list.Items {
		if crd.Annotations["controller-gen.kubebuilder.io/version"] != "v99.0.0" || crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Description != "the next version's description" {
			t.Errorf("%s was not upgraded", crd.Name)
		}
	}
}
