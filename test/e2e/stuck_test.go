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
	"fmt"
	"strings"
	"testing"
	"time"
)

// stuckDrills restore the demo's backups with scratch images that cannot
// run: one the node does not have (and cannot pull: the cluster pulls from
// nowhere), one that exits at once (the agent without arguments).
const stuckDrills = `
apiVersion: ops.supportstack.io/v1alpha1
kind: DRDrill
metadata: {name: e2e-no-image, namespace: helpdesk}
spec:
  backupPolicyName: helpdesk
  schedule: "0 6 * * 1"
  timeZone: UTC
  suspend: true
  sandbox: {keep: Never, postgresImage: "supportstack/no-such-image:dev"}
  checks: [{name: tickets, database: rt5, sql: "SELECT count(*) FROM tickets", expect: {min: 1}}]
  evidence: {signingKeySecretRef: {name: drill-signing-key, key: ed25519.key}}
---
apiVersion: ops.supportstack.io/v1alpha1
kind: DRDrill
metadata: {name: e2e-crash, namespace: helpdesk}
spec:
  backupPolicyName: helpdesk
  schedule: "0 6 * * 1"
  timeZone: UTC
  suspend: true
  sandbox: {keep: Never, postgresImage: "supportstack/agent:dev"}
  checks: [{name: tickets, database: rt5, sql: "SELECT count(*) FROM tickets", expect: {min: 1}}]
  evidence: {signingKeySecretRef: {name: drill-signing-key, key: ed25519.key}}
`

// unboundPolicy backs up a claim of a StorageClass that does not exist.
const unboundPolicy = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: e2e-orphan, namespace: helpdesk}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: no-such-class
  resources: {requests: {storage: 1Gi}}
---
apiVersion: ops.supportstack.io/v1alpha1
kind: BackupPolicy
metadata: {name: e2e-unbound, namespace: helpdesk}
spec:
  schedule: "0 2 * * *"
  sources:
    volumes: [{name: orphan, claimName: e2e-orphan}]
  repository:
    url: s3:http://s3.backup-store.svc.cluster.local:8080/helpdesk-backups
    passwordSecretRef: {name: restic, key: password}
    credentialsSecretRef: {name: s3-credentials}
  retention: {keepLast: 3}
`

// condition reads one condition of a BackupPolicy as "Status Reason: Message".
func condition(t *testing.T, c cluster, policy, condType string) string {
	t.Helper()
	return strings.TrimSpace(c.run(t, "get", "bkp", "-n", "helpdesk", policy, "-o",
		fmt.Sprintf(`jsonpath={range .status.conditions[?(@.type=="%s")]}{.status} {.reason}: {.message}{end}`, condType)))
}

// runMessage waits for a run of drill whose "phase: message" contains want
// and returns that.
func runMessage(t *testing.T, c cluster, drill, want string, timeout time.Duration) (message string) {
	t.Helper()
	waitFor(t, timeout, func() error {
		out := strings.TrimSpace(c.run(t, "get", "drdrillruns", "-n", "helpdesk", "-l", "ops.supportstack.io/drill="+drill,
			"-o", `jsonpath={range .items[*]}{.metadata.name}{"\t"}{.status.phase}{"\t"}{.status.message}{"\n"}{end}`))
		for _, line := range strings.Split(out, "\n") {
			f := strings.SplitN(line, "\t", 3)
			if len(f) == 3 && strings.Contains(f[1]+": "+f[2], want) {
				message = f[1] + ": " + f[2]
				return nil
			}
		}
		return fmt.Errorf("no run of %s says %q: %s", drill, want, out)
	})
	return message
}

// stuckPods makes each cause happen on the real cluster and checks it is
// named within a minute, and that a stuck drill ends in Error with it once
// the stuck-pod timeout (30 s here) passes.
func stuckPods(t *testing.T, c cluster) {
	// A short stuck-pod timeout: the Deployment rolls out a new manager.
	c.run(t, "patch", "-n", "supportstack-system", "deploy/supportstack-controller-manager", "--type=json", "-p",
		`[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--stuck-pod-timeout=30s"}]`)
	c.run(t, "rollout", "status", "-n", "supportstack-system", "deploy/supportstack-controller-manager", "--timeout=120s")

	t.Run("an image the node does not have", func(t *testing.T) {
		c.apply(t, stuckDrills)
		start := time.Now()
		c.run(t, "annotate", "-n", "helpdesk", "drdrill", "e2e-no-image", "ops.supportstack.io/run-now=1")
		runMessage(t, c, "e2e-no-image", "pod scratch-postgres: cannot pull image supportstack/no-such-image:dev", time.Minute)
		t.Logf("reported after %s", time.Since(start).Round(time.Second))
		msg := runMessage(t, c, "e2e-no-image", "Error: the scratch PostgreSQL server: pod scratch-postgres: cannot pull image", 2*time.Minute)
		t.Logf("ended: %s", msg)
	})
	t.Run("a container that keeps crashing", func(t *testing.T) {
		start := time.Now()
		c.run(t, "annotate", "-n", "helpdesk", "drdrill", "e2e-crash", "ops.supportstack.io/run-now=1")
		runMessage(t, c, "e2e-crash", "pod scratch-postgres: container postgres keeps crashing", 90*time.Second)
		t.Logf("reported after %s", time.Since(start).Round(time.Second))
		msg := runMessage(t, c, "e2e-crash", "Error: the scratch PostgreSQL server: pod scratch-postgres: container postgres keeps crashing", 2*time.Minute)
		t.Logf("ended: %s", msg)
	})
	t.Run("a claim no volume will bind", func(t *testing.T) {
		c.apply(t, unboundPolicy)
		c.run(t, "wait", "-n", "helpdesk", "bkp/e2e-unbound", "--for=condition=Ready", "--timeout=60s")
		start := time.Now()
		c.run(t, "annotate", "-n", "helpdesk", "bkp", "e2e-unbound", "ops.supportstack.io/backup-now=1")
		want := "False VolumeUnbound: Job e2e-unbound-backup-now-"
		waitFor(t, time.Minute, func() error {
			if got := condition(t, c, "e2e-unbound", "PodsRunnable"); !strings.HasPrefix(got, want) ||
				!strings.Contains(got, "PVC e2e-orphan unbound: StorageClass no-such-class has not provided a volume") {
				return fmt.Errorf("PodsRunnable %q", got)
			}
			return nil
		})
		t.Logf("reported after %s", time.Since(start).Round(time.Second))
		c.run(t, "delete", "bkp", "-n", "helpdesk", "e2e-unbound", "--wait=true")
	})
	t.Run("no node will take the pod", func(t *testing.T) {
		node := strings.TrimSpace(c.run(t, "get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"))
		c.run(t, "cordon", node)
		defer c.run(t, "uncordon", node)
		start := time.Now()
		c.run(t, "annotate", "-n", "helpdesk", "bkp", "helpdesk", "ops.supportstack.io/backup-now=e2e-cordoned", "--overwrite")
		waitFor(t, time.Minute, func() error {
			if got := condition(t, c, "helpdesk", "PodsRunnable"); !strings.HasPrefix(got, "False Unschedulable: Job helpdesk-backup-now-") ||
				!strings.Contains(got, "unschedulable: 0/1 nodes are available: 1 node(s) were unschedulable") {
				return fmt.Errorf("PodsRunnable %q", got)
			}
			return nil
		})
		t.Logf("reported after %s", time.Since(start).Round(time.Second))
		c.run(t, "uncordon", node)
		waitFor(t, 3*time.Minute, func() error {
			if got := condition(t, c, "helpdesk", "PodsRunnable"); !strings.HasPrefix(got, "True") {
				return fmt.Errorf("PodsRunnable %q after uncordon", got)
			}
			return nil
		})
	})
}
