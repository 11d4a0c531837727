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

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/supportstack/operator/internal/testenv"
)

// chartReplacesInstall moves the demo's operator from install.yaml (what
// make build-installer writes) to the Helm chart, as a user switching
// installers would: everything install.yaml made except the CRDs and the
// namespace is deleted (so every user object stays), and the chart
// installs the operator again under another release name in another
// namespace (release ops in platform), naming only the operator image: the
// agent image is derived from it. The operator it brings up must work on
// real pods: a BackupPolicy it has never seen reaches Ready and its backup
// now succeeds with the derived agent image; a drill run it starts is
// admitted (the admission policies name this release's ServiceAccount) and
// passes; its log holds no RBAC refusal (the chart's RBAC is enough).
func chartReplacesInstall(t *testing.T, c cluster) {
	helm := os.Getenv("HELM")
	if helm == "" {
		t.Fatal("HELM is not set: run this test with \"make test\" or \"make test-e2e\", which build helm")
	}
	installed, err := os.ReadFile(filepath.Join(c.dir, "deploy", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.stdin(t, withoutKinds(t, installed, "CustomResourceDefinition", "Namespace"), "delete", "--wait", "-f", "-")
	waitFor(t, 90*time.Second, func() error {
		if pods := c.run(t, "get", "pods", "-n", "supportstack-system", "-l", "control-plane=controller-manager", "-o", "name"); strings.TrimSpace(pods) != "" {
			return fmt.Errorf("the install.yaml operator's pods are still there: %s", pods)
		}
		return nil
	})

	// helm keeps its cache and configuration under the test's directory:
	// nothing is left in the user's home.
	home := t.TempDir()
	cmd := exec.Command(helm, "upgrade", "--install", "ops", filepath.Join(testenv.RepoRoot(), "charts", "supportstack-operator"),
		"--kubeconfig", c.kubeconfig, "--namespace", "platform", "--create-namespace",
		"--set", "image.repository=supportstack/operator", "--set", "image.tag=dev",
		"--wait", "--timeout", "180s")
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helm upgrade --install: %v\n%s", err, out)
	}
	spec := c.run(t, "get", "deploy", "-n", "platform", "ops-controller-manager", "-o", `jsonpath={.metadata.labels.app\.kubernetes\.io/managed-by} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].args}`)
	for _, want := range []string{"Helm ", "supportstack/operator:dev ", "--agent-image=supportstack/agent:dev"} {
		if !strings.Contains(spec, want) {
			t.Errorf("the chart's manager Deployment %q lacks %q", spec, want)
		}
	}

	// A policy of the attachments alone: the HelpDesk's database admits
	// the backup pods of its own BackupPolicy only.
	c.apply(t, chartPolicy)
	c.run(t, "wait", "-n", "helpdesk", "bkp/helpdesk-chart", "--for", "condition=Ready", "--timeout", "90s")
	c.run(t, "annotate", "-n", "helpdesk", "bkp/helpdesk-chart", "ops.supportstack.io/backup-now=chart")
	c.run(t, "wait", "-n", "helpdesk", "bkp/helpdesk-chart", "--for", "condition=LastBackupSucceeded", "--timeout", "240s")
	c.run(t, "delete", "-n", "helpdesk", "bkp/helpdesk-chart", "--wait")

	before := c.run(t, "get", "drdrillruns", "-n", "helpdesk", "-l", "ops.supportstack.io/drill=helpdesk-weekly", "-o", "name")
	c.run(t, "annotate", "-n", "helpdesk", "drdrill/helpdesk-weekly", "ops.supportstack.io/run-now=chart", "--overwrite")
	var run string
	waitFor(t, 60*time.Second, func() error {
		for _, name := range strings.Fields(c.run(t, "get", "drdrillruns", "-n", "helpdesk", "-l", "ops.supportstack.io/drill=helpdesk-weekly", "-o", "name")) {
			if !strings.Contains(before, name) {
				run = name
				return nil
			}
		}
		return fmt.Errorf("no new run of helpdesk-weekly (drill: %s)", c.run(t, "get", "drdrill", "-n", "helpdesk", "helpdesk-weekly", "-o", "jsonpath={.status.conditions}"))
	})
	waitFor(t, 300*time.Second, func() error {
		if phase := c.run(t, "get", "-n", "helpdesk", run, "-o", "jsonpath={.status.phase}"); phase != "Passed" {
			if phase == "Failed" || phase == "Error" {
				t.Fatalf("%s under the chart's operator: %s", run, c.run(t, "get", "-n", "helpdesk", run, "-o", "jsonpath={.status.message}"))
			}
			return fmt.Errorf("%s is %q", run, phase)
		}
		return nil
	})

	noRBACRefusal(t, c, "platform", "ops-controller-manager")
}

// withoutKinds returns the documents of a multi-document manifest whose
// kind is none of kinds.
func withoutKinds(t *testing.T, manifest []byte, kinds ...string) string {
	t.Helper()
	var kept []string
	for _, doc := range bytes.Split(manifest, []byte("\n---\n")) {
		var head struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("install.yaml: %v", err)
		}
		if head.Kind == "" || slices.Contains(kinds, head.Kind) {
			continue
		}
		kept = append(kept, string(doc))
	}
	if len(kept) == 0 {
		t.Fatal("install.yaml holds nothing but CRDs and namespaces")
	}
	return strings.Join(kept, "\n---\n")
}

// stdin runs kubectl with input on its standard input; the test fails on
// an error.
func (c cluster) stdin(t *testing.T, input string, args ...string) {
	t.Helper()
	cmd := exec.Command(c.kubectl, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// chartPolicy is what the chart's operator backs up: the help desk's
// attachments, into the demo's repository under a policy of its own.
const chartPolicy = `
apiVersion: ops.supportstack.io/v1alpha1
kind: BackupPolicy
metadata: {name: helpdesk-chart, namespace: helpdesk}
spec:
  schedule: "0 2 * * *"
  timeZone: Europe/Warsaw
  sources:
    volumes:
    - {name: attachments, claimName: helpdesk-attachments}
  repository:
    url: s3:http://s3.backup-store.svc.cluster.local:8080/helpdesk-backups
    passwordSecretRef: {name: restic, key: password}
    credentialsSecretRef: {name: s3-credentials}
  retention: {keepLast: 7}
`
