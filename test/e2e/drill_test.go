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
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/evidence"
)

// everyMinuteDrill restores a database-only BackupPolicy every minute and
// never keeps its sandbox. (Database only: kwok's cluster has no storage
// provisioner to bind the scratch volume a volume source would need.)
const everyMinuteDrill = `
apiVersion: ops.supportstack.io/v1alpha1
kind: BackupPolicy
metadata: {name: drill-e2e, namespace: helpdesk}
spec:
  schedule: "0 3 1 1 *"
  sources:
    postgres: [{name: tickets, connectionSecretRef: {name: helpdesk-db, key: uri}, databases: [helpdesk]}]
  repository:
    url: s3:https://s3.example.com/e2e
    passwordSecretRef: {name: restic, key: password}
  retention: {keepLast: 3}
---
apiVersion: ops.supportstack.io/v1alpha1
kind: DRDrill
metadata: {name: every-minute-drill, namespace: helpdesk}
spec:
  backupPolicyName: drill-e2e
  schedule: "* * * * *"
  sandbox: {keep: Never}
  checks:
  - {name: tickets-present, database: helpdesk, sql: "SELECT count(*) FROM tickets", expect: {min: 1}}
  objectives: {rto: 30m, rpo: 26h}
  historyLimit: {passed: 2, failed: 2}
`

// drillOnCluster lets the drill run on the kwok control plane: each run
// creates its sandbox namespace (quota, policies, scratch server, restore
// Job), and after the run the real namespace controller deletes it. kwok
// runs no container, so each run ends in Error saying the agent left no
// result; its evidence is recorded and chained all the same.
func drillOnCluster(t *testing.T, kubectl, kubeconfig string) {
	ctx := context.Background()
	c := applyManifest(t, kubectl, kubeconfig, everyMinuteDrill)
	runsOfDrill := client.MatchingLabels{"ops.supportstack.io/drill": "every-minute-drill"}
	sandboxes := map[string]string{} // namespace -> "seen" or "deleted"
	var gone []string
	deadline := time.Now().Add(6 * time.Minute)
	for len(gone) < 2 {
		var runs opsv1alpha1.DRDrillRunList
		if err := c.List(ctx, &runs, client.InNamespace("helpdesk"), runsOfDrill); err != nil {
			t.Fatal(err)
		}
		for _, r := range runs.Items {
			ns := r.Status.SandboxNamespace
			if ns == "" {
				continue
			}
			var n corev1.Namespace
			err := c.Get(ctx, client.ObjectKey{Name: ns}, &n)
			switch {
			case err == nil && sandboxes[ns] == "":
				sandboxes[ns] = "seen"
				if n.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
					t.Errorf("sandbox %s labels %v", ns, n.Labels)
				}
			case apierrors.IsNotFound(err) && sandboxes[ns] == "seen":
				sandboxes[ns] = "deleted"
				gone = append(gone, ns)
				t.Logf("run %s: %s (%s); sandbox %s created and deleted", r.Name, r.Status.Phase, r.Status.Message, ns)
				if r.Status.Phase != opsv1alpha1.DrillRunError || !strings.Contains(r.Status.Message, "the restore Job completed but the agent left no result") {
					t.Errorf("run %s: %s %q: kwok runs no agent, so the run must end in Error saying so", r.Name, r.Status.Phase, r.Status.Message)
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 6 minutes: sandboxes %v", sandboxes)
		}
		time.Sleep(2 * time.Second)
	}

	// The evidence of every run is chained; the history keeps two failed runs.
	waitFor(t, time.Minute, func() error {
		n, err := evidence.VerifyDrill(ctx, c, "helpdesk", "every-minute-drill", nil)
		if err != nil || n < 2 {
			return fmt.Errorf("%d records: %v", n, err)
		}
		var runs opsv1alpha1.DRDrillRunList
		if err := c.List(ctx, &runs, client.InNamespace("helpdesk"), runsOfDrill); err != nil {
			return err
		}
		finished := 0
		for _, r := range runs.Items {
			if r.Status.Phase == opsv1alpha1.DrillRunError {
				finished++
			}
		}
		if finished > 2 {
			return fmt.Errorf("%d finished runs kept, history limit 2", finished)
		}
		return nil
	})

	// Deleting the drill deletes its runs; their finalizers delete any
	// sandbox still there, and the namespace controller empties it.
	if err := c.Delete(ctx, &opsv1alpha1.DRDrill{ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "every-minute-drill"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, func() error {
		var runs opsv1alpha1.DRDrillRunList
		if err := c.List(ctx, &runs, client.InNamespace("helpdesk"), runsOfDrill); err != nil {
			return err
		}
		var namespaces corev1.NamespaceList
		if err := c.List(ctx, &namespaces, client.HasLabels{"ops.supportstack.io/drillrun"}); err != nil {
			return err
		}
		var left []string
		for _, n := range namespaces.Items {
			if strings.HasPrefix(n.Name, "drill-every-minute-drill-") {
				left = append(left, n.Name)
			}
		}
		if len(runs.Items)+len(left) > 0 {
			return fmt.Errorf("%d runs and sandbox namespaces %v left", len(runs.Items), left)
		}
		return nil
	})
}
