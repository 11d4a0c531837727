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

// Package e2e runs the whole chain on a single-node Kubernetes whose pods are
// real containers (hack/cluster.sh), through the same hack/demo.sh that
// `make demo` runs: the images built from Debian packages, the operator
// deployed from config/default, a real backup into an in-cluster S3
// repository, a drill that passes and one that fails, then what only a real
// cluster can show: the restored database equal to the source, the sandbox's
// isolation tried connection by connection, stuck pods diagnosed, no RBAC
// refusal in the operator's log, the operator moved from install.yaml to
// the Helm chart and backing up again, and nothing left on the machine
// afterwards.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/testenv"
)

// cluster is the demo's cluster as the tests drive it.
type cluster struct {
	dir, kubectl, kubeconfig string
}

// run runs kubectl against the cluster and returns its output; the test
// fails on an error.
func (c cluster) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.try(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// try runs kubectl and returns its combined output and error.
// jobLogs returns the logs of every pod of a Job, each line prefixed with
// its pod: "kubectl logs job/NAME" reads one pod only, which after a retry
// can be the failed one (a first pod that started before the re-created
// database Service resolved, say) rather than the one that succeeded.
func (c cluster) jobLogs(t *testing.T, namespace, job string) string {
	t.Helper()
	return c.run(t, "logs", "-n", namespace, "-l", "batch.kubernetes.io/job-name="+job, "--tail=-1", "--prefix")
}

func (c cluster) try(args ...string) (string, error) {
	cmd := exec.Command(c.kubectl, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// apply applies a manifest.
func (c cluster) apply(t *testing.T, manifest string) {
	t.Helper()
	c.stdin(t, manifest, "apply", "-f", "-")
}

// waitFor retries check every 2 s until it succeeds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(2 * time.Second)
	}
}

// demo runs hack/demo.sh with the test's own directory.
func demo(t *testing.T, env []string, action string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(testenv.RepoRoot(), "hack", "demo.sh"), action)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hack/demo.sh %s: %v\n%s", action, err, out)
	}
	return string(out)
}

// leftovers lists what the cluster left on the machine: processes naming
// dir, and what hack/cluster.sh check finds (mounts, links, chains, ipsets).
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	out, _ := exec.Command("pgrep", "-af", dir).Output()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !strings.Contains(line, "pgrep") {
			found = append(found, "process: "+line)
		}
	}
	check := exec.Command(filepath.Join(testenv.RepoRoot(), "hack", "cluster.sh"), "check")
	check.Env = append(os.Environ(), "CLUSTER_DIR="+filepath.Join(dir, "cluster"))
	if out, err := check.CombinedOutput(); err != nil {
		found = append(found, "hack/cluster.sh check: "+strings.TrimSpace(string(out)))
	}
	return found
}

// plantLeftovers leaves on the machine what a cluster killed before
// `hack/cluster.sh down` leaves (a timed-out CI job, an ended session): its
// node link, a cgroup and a guard chain. `up` must remove them rather than
// refuse, and the final leftovers check proves they are gone. (A killed
// session's node link once made the next CI run's `up` refuse.)
func plantLeftovers(t *testing.T, demoDir string) {
	t.Helper()
	cgroup := "/sys/fs/cgroup/memory/ssk/kubepods" // cgroup v1 (hybrid), as on these machines
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err != nil {
		cgroup = "/sys/fs/cgroup/ssk/kubepods" // cgroup v2
	}
	planted := []struct{ plant, exists []string }{
		{[]string{"ip", "link", "add", "ssk-node", "type", "bridge"}, []string{"ip", "link", "show", "ssk-node"}},
		{[]string{"mkdir", "-p", cgroup}, []string{"test", "-d", cgroup}},
		{[]string{"iptables", "-w", "5", "-t", "raw", "-N", "SSK-GUARD-PRE"}, []string{"iptables", "-w", "5", "-t", "raw", "-S", "SSK-GUARD-PRE"}},
	}
	// Should `up` fail before it removes them (before the demo's directory
	// exists, so the test's cleanup runs no demo-down), they go anyway.
	t.Cleanup(func() {
		if _, err := os.Stat(demoDir); err == nil {
			return
		}
		for _, cmd := range [][]string{
			{"ip", "link", "del", "ssk-node"},
			{"rmdir", cgroup, filepath.Dir(cgroup)},
			{"iptables", "-w", "5", "-t", "raw", "-X", "SSK-GUARD-PRE"},
		} {
			_ = exec.Command(cmd[0], cmd[1:]...).Run()
		}
	})
	for _, p := range planted {
		// A leftover that is already there (a CI job killed on this machine
		// before) is planted already: up must remove it all the same.
		if exec.Command(p.exists[0], p.exists[1:]...).Run() == nil {
			t.Logf("leftover already on the machine: %s", strings.Join(p.exists, " "))
			continue
		}
		if out, err := exec.Command(p.plant[0], p.plant[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("planting a leftover: %s: %v\n%s", strings.Join(p.plant, " "), err, out)
		}
	}
}

// TestRealCluster brings the demo up on a real single-node cluster and
// checks what it shows, then what only real pods can show, then that
// demo-down leaves nothing behind.
func TestRealCluster(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the real-pod cluster runs a kubelet, containerd and NetworkPolicy enforcement: run make test as root")
	}
	assets := os.Getenv("K8S_ASSETS")
	if assets == "" {
		t.Fatal("K8S_ASSETS is not set: run this test with \"make test\" or \"make test-e2e\"")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	env := []string{"K8S_ASSETS=" + assets, "DEMO_DIR=" + dir}
	t.Cleanup(func() {
		if _, err := os.Stat(dir); err == nil {
			demo(t, env, "down")
		}
	})

	plantLeftovers(t, dir)
	start := time.Now()
	out := demo(t, env, "up")
	if b, err := os.ReadFile(filepath.Join(dir, "cluster.log")); err != nil || !strings.Contains(string(b), "removing what a cluster killed before `down` left") {
		t.Errorf("hack/cluster.sh up did not say it removed the planted leftovers (%v):\n%s", err, b)
	}
	t.Logf("make demo took %s:\n%s", time.Since(start).Round(time.Second), out)
	for _, want := range []string{
		" Ready ",                 // the node
		"successfully rolled out", // the operator's Deployment
		"LastBackupSucceeded=True BackupSucceeded",
		"helpdesk-weekly-now-",
		": Passed\n",
		"check tickets-present: passed",
		"check row-counts: passed",
		"check attachments: passed",
		"source: 2 tickets",
		": Failed\n",
		"check tickets-match-source: FAILED (expected = 2, observed 3)",
		"drill helpdesk/helpdesk: 1 evidence records, hash chain intact, every record signed by the given key",
		"drill helpdesk/helpdesk-weekly: 1 evidence records, hash chain intact, every record signed by the given key",
		"drill helpdesk/helpdesk-after-cleanup: 1 evidence records, hash chain intact, every record signed by the given key",
		`The BackupPolicy "bad" is invalid`,
		// The help desk is a HelpDesk: a team on it, tickets with files, its
		// own drill that uses the restored RT.
		"5 members in the Request Tracker of HelpDesk helpdesk; 9 rights on each queue set by Job helpdesk-rights-",
		"can alice@example.com (the team's lead) get secret helpdesk-credentials? no",
		"ticket #3 in queue windows-phone",
		"attachments kept as files: 3",
		"helpdesk-now-",
		"check request-tracker: passed",
		"check attachments-referenced: passed",
		"; recovery point ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "drill-report.html")); err != nil || !strings.Contains(string(b), "helpdesk-weekly") {
		t.Errorf("the HTML report: %v", err)
	}
	c := cluster{dir: dir, kubectl: filepath.Join(assets, "kubectl"), kubeconfig: filepath.Join(dir, "cluster", "kubeconfig", "admin.kubeconfig")}
	// Protected by the HelpDesk's own drill, though our own drills passed
	// and failed after it.
	if got := c.run(t, "get", "hd", "-n", "helpdesk", "helpdesk", "-o", `jsonpath={.status.conditions[?(@.type=="Protected")].status} {.status.lastVerifiedRestore.drill}`); got != "True helpdesk" {
		t.Errorf("the HelpDesk's Protected and last verified restore's drill: %q, want True by its own drill helpdesk", got)
	}

	t.Run("the backup of a mounted ReadWriteOnce volume runs on the node that has it", func(t *testing.T) { backupBesideMount(t, c) })
	t.Run("the restored database equals the source at backup time", func(t *testing.T) { restoredEqualsSource(t, c) })
	t.Run("the sandbox and the backup pods reach only what they must", func(t *testing.T) { isolation(t, c) })
	t.Run("pods that cannot run are diagnosed", func(t *testing.T) { stuckPods(t, c) })
	t.Run("the operator's probes and HTTPS metrics answer", func(t *testing.T) { metrics(t, c) })
	t.Run("a passed drill verifies the policy's restores, until maxAge", func(t *testing.T) { verifiedRestores(t, c) })
	t.Run("the operator met no RBAC refusal", func(t *testing.T) { noRBACRefusal(t, c, "supportstack-system", "supportstack-controller-manager") })
	t.Run("the operator's Go runtime keeps under its container's memory limit", func(t *testing.T) {
		memoryLimitFromContainer(t, c, "supportstack-system", "supportstack-controller-manager")
	})
	t.Run("the Helm chart replaces install.yaml with an operator that backs up and drills", func(t *testing.T) { chartReplacesInstall(t, c) })

	demo(t, env, "down")
	if left := leftovers(t, dir); len(left) > 0 {
		t.Errorf("demo-down left behind:\n%s", strings.Join(left, "\n"))
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("demo-down left %s behind", dir)
	}
}

// noRBACRefusal fails on each line of the log of the operator (Deployment
// name in namespace) that says the API server refused it.
func noRBACRefusal(t *testing.T, c cluster, namespace, name string) {
	t.Helper()
	logs := c.run(t, "logs", "-n", namespace, "deploy/"+name)
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "forbidden") || strings.Contains(line, "is not allowed") {
			t.Errorf("operator log: %s", line)
		}
	}
}

// memoryLimitFromContainer checks that the manager read its container's
// memory limit from its cgroup (internal/memlimit) and gave the Go runtime
// 55% of it: the limit the Deployment sets, as the kubelet and runc applied
// it.
func memoryLimitFromContainer(t *testing.T, c cluster, namespace, name string) {
	t.Helper()
	want := strings.TrimSpace(c.run(t, "get", "-n", namespace, "deploy/"+name, "-o", "jsonpath={.spec.template.spec.containers[0].resources.limits.memory}"))
	if want != "256Mi" {
		t.Fatalf("the Deployment's memory limit is %q; this test expects config/manager's 256Mi", want)
	}
	logs := c.run(t, "logs", "-n", namespace, "deploy/"+name)
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "Go runtime memory limit set") {
			if !strings.Contains(line, `"containerLimitBytes":268435456`) || !strings.Contains(line, `"softLimitBytes":147639470`) {
				t.Errorf("the manager's memory limit: %s; want the container's 268435456 bytes and 55%% of it", line)
			}
			return
		}
	}
	t.Errorf("the manager's log does not say it set the Go runtime's memory limit from its container's")
}

// scratchSQL runs a query in a sandbox's scratch PostgreSQL server.
func scratchSQL(t *testing.T, c cluster, sandbox, query string) string {
	t.Helper()
	return strings.TrimSpace(c.run(t, "exec", "-n", sandbox, "scratch-postgres", "--", "psql", "-tA", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "rt5", "-c", query))
}

// sourceSQL runs a query in the help desk's database: RT's, in the
// HelpDesk's managed PostgreSQL.
func sourceSQL(t *testing.T, c cluster, query string) string {
	t.Helper()
	return strings.TrimSpace(c.run(t, "exec", "-n", "helpdesk", "statefulset/helpdesk-db", "--", "psql", "-tA", "-U", "postgres", "-d", "rt5", "-c", query))
}

// fingerprint is every table's row count and an md5 over all its rows in
// primary-key order.
const fingerprint = `SELECT string_agg(f, ' ' ORDER BY f) FROM (
  SELECT 'tickets:' || count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) AS f FROM tickets t
  UNION ALL
  SELECT 'articles:' || count(*) || ':' || md5(coalesce(string_agg(a::text, '|' ORDER BY id), '')) FROM articles a) x`

// keptDrill is a drill whose sandbox is always kept, so a test can look in.
const keptDrill = `
apiVersion: ops.supportstack.io/v1alpha1
kind: DRDrill
metadata: {name: e2e-kept, namespace: helpdesk}
spec:
  backupPolicyName: helpdesk
  schedule: "0 6 * * 1"
  timeZone: UTC
  suspend: true
  snapshot: latest
  sandbox: {keep: Always, ttl: 1h, postgresImage: "supportstack/postgres:15"}
  checks:
  - {name: row-counts, compareManifest: {tables: [tickets, articles], tolerancePercent: 0}}
  - {name: attachments, files: {volume: attachments, compareManifest: true}}
  evidence:
    signingKeySecretRef: {name: drill-signing-key, key: ed25519.key}
`

// runDrill starts a run of drill now and waits until it ends; it returns
// the run's phase and sandbox.
func runDrill(t *testing.T, c cluster, drill, token string) (phase, sandbox string) {
	t.Helper()
	c.run(t, "annotate", "-n", "helpdesk", "drdrill", drill, "ops.supportstack.io/run-now="+token, "--overwrite")
	var run string
	waitFor(t, 30*time.Second, func() error {
		run = strings.TrimSpace(c.run(t, "get", "drdrillruns", "-n", "helpdesk", "-l", "ops.supportstack.io/drill="+drill,
			"-o", `jsonpath={range .items[?(@.metadata.annotations.ops\.supportstack\.io/trigger=="run-now")]}{.metadata.name}{"\n"}{end}`))
		if run == "" {
			return fmt.Errorf("no run of %s yet", drill)
		}
		return nil
	})
	run = strings.Split(run, "\n")[len(strings.Split(run, "\n"))-1]
	waitFor(t, 5*time.Minute, func() error {
		phase = strings.TrimSpace(c.run(t, "get", "drdrillrun", "-n", "helpdesk", run, "-o", "jsonpath={.status.phase}"))
		switch phase {
		case "Passed", "Failed", "Error":
			return nil
		}
		return fmt.Errorf("run %s is %s", run, phase)
	})
	sandbox = strings.TrimSpace(c.run(t, "get", "drdrillrun", "-n", "helpdesk", run, "-o", "jsonpath={.status.sandboxNamespace}"))
	if phase != "Passed" {
		t.Logf("run %s: %s", run, c.run(t, "get", "drdrillrun", "-n", "helpdesk", run, "-o", "jsonpath={.status.message}"))
	}
	return phase, sandbox
}

// restoredEqualsSource backs up the help desk as it is now, restores that
// backup in a kept sandbox and compares every table's rows with the source
// at backup time (the source does not change in between).
func restoredEqualsSource(t *testing.T, c cluster) {
	c.run(t, "annotate", "-n", "helpdesk", "bkp", "helpdesk", "ops.supportstack.io/backup-now=e2e-equal", "--overwrite")
	source := sourceSQL(t, c, fingerprint)
	waitFor(t, 5*time.Minute, func() error {
		out := c.run(t, "get", "bkp", "-n", "helpdesk", "helpdesk", "-o", "jsonpath={.status.lastBackup.jobName} {.status.lastBackup.result}")
		if !strings.Contains(out, "-now-") || !strings.HasSuffix(strings.TrimSpace(out), "Succeeded") || strings.Contains(out, demoBackupJob(t, c)) {
			return fmt.Errorf("last backup: %s", out)
		}
		return nil
	})
	c.apply(t, keptDrill)
	phase, sandbox := runDrill(t, c, "e2e-kept", "equal")
	if phase != "Passed" {
		t.Fatalf("the kept drill is %s", phase)
	}
	restored := scratchSQL(t, c, sandbox, fingerprint)
	if restored != source || !strings.Contains(source, "tickets:3:") {
		t.Errorf("restored %q, source at backup time %q", restored, source)
	}
}

// backupBesideMount: the demo's attachments volume is ReadWriteOnce and
// mounted by RT's running web pod; the backup CronJob requires
// that pod's node, and the demo's backup pod ran there, mounted the claim
// and succeeded, its snapshots in the run's recovery set.
func backupBesideMount(t *testing.T, c cluster) {
	node := c.run(t, "get", "pods", "-n", "helpdesk", "-l", "app.kubernetes.io/component=web,ops.supportstack.io/helpdesk=helpdesk", "--field-selector", "status.phase=Running",
		"-o", "jsonpath={.items[0].spec.nodeName}")
	if node == "" {
		t.Fatal("no running web pod of HelpDesk helpdesk")
	}
	required := c.run(t, "get", "cronjob", "-n", "helpdesk", "helpdesk-backup", "-o",
		"jsonpath={.spec.jobTemplate.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[*].matchFields[*].values[*]}")
	if required != node {
		t.Errorf("the backup CronJob requires node %q, the attachments are mounted on %q", required, node)
	}
	job := demoBackupJob(t, c)
	out := c.run(t, "get", "pods", "-n", "helpdesk", "-l", "batch.kubernetes.io/job-name="+job, "-o",
		`jsonpath={range .items[*]}{.spec.nodeName} {.status.phase} {.spec.volumes[*].persistentVolumeClaim.claimName}{"\n"}{end}`)
	if !strings.Contains(out, node+" Succeeded helpdesk-attachments") {
		t.Errorf("backup pods of %s: %q; want one on %s that mounted helpdesk-attachments and succeeded", job, out, node)
	}
	set := c.run(t, "get", "bkp", "-n", "helpdesk", "helpdesk", "-o", `jsonpath={.status.recentBackups[?(@.jobName=="`+job+`")].recoverySet}`)
	if want := "helpdesk-backup-" + job[strings.LastIndex(job, "-")+1:]; set != want {
		t.Errorf("backup %s recorded recovery set %q, want %q (the CronJob's name and the run's key)", job, set, want)
	}
}

// demoBackupJob is the Job the demo's own backup-now started.
func demoBackupJob(t *testing.T, c cluster) string {
	t.Helper()
	out := strings.TrimSpace(c.run(t, "get", "jobs", "-n", "helpdesk", "-o", `jsonpath={range .items[?(@.metadata.annotations.ops\.supportstack\.io/backup-now=="demo")]}{.metadata.name}{end}`))
	if out == "" {
		t.Fatal("the demo's backup Job is gone")
	}
	return out
}

// scrapeMetrics reads the manager's metrics at ip as the ServiceAccount sa
// of supportstack-system.
func scrapeMetrics(t *testing.T, c cluster, ip, sa string) (string, error) {
	t.Helper()
	token := strings.TrimSpace(c.run(t, "create", "token", "-n", "supportstack-system", sa))
	return c.try("--server", "https://"+ip+":8443", "--insecure-skip-tls-verify", "--token", token, "get", "--raw", "/metrics")
}

// managerIP is the manager pod's IP.
func managerIP(t *testing.T, c cluster) string {
	t.Helper()
	return strings.TrimSpace(c.run(t, "get", "pods", "-n", "supportstack-system", "-l", "control-plane=controller-manager", "-o", "jsonpath={.items[0].status.podIP}"))
}

// metrics reads the manager's HTTPS metrics endpoint from the node as
// Prometheus would: with the token of a ServiceAccount bound to the
// metrics-reader ClusterRole it answers; with one that is not, it refuses.
func metrics(t *testing.T, c cluster) {
	ready := c.run(t, "get", "pods", "-n", "supportstack-system", "-l", "control-plane=controller-manager",
		"-o", `jsonpath={.items[0].status.conditions[?(@.type=="Ready")].status} {.items[0].status.podIP}`)
	status, ip, _ := strings.Cut(strings.TrimSpace(ready), " ")
	if status != "True" || ip == "" {
		t.Fatalf("manager pod: %q", ready)
	}
	for _, sa := range []string{"e2e-metrics", "e2e-nobody"} {
		c.run(t, "create", "serviceaccount", "-n", "supportstack-system", sa)
	}
	c.run(t, "create", "clusterrolebinding", "e2e-metrics", "--clusterrole=supportstack-metrics-reader", "--serviceaccount=supportstack-system:e2e-metrics")
	scrape := func(sa string) (string, error) { return scrapeMetrics(t, c, ip, sa) }
	var out string
	waitFor(t, 30*time.Second, func() error { // the binding reaches the authorizer's cache
		var err error
		if out, err = scrape("e2e-metrics"); err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	// What the dashboard's panels read, served by the real manager once the
	// demo's team, backup and drills have run (test/generated checks every
	// name the dashboard and the alerts read is registered).
	for _, want := range []string{"controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total", "workqueue_depth",
		"supportstack_backup_last_success_timestamp_seconds", "supportstack_backup_last_bytes_added", "supportstack_backup_rpo_met",
		"supportstack_drill_last_run_passed", "supportstack_drill_measured_rto_seconds", "supportstack_drill_rto_objective_seconds",
		"supportstack_drill_objectives_met", "supportstack_team_queue_required_staff", "supportstack_team_queue_scheduled_staff"} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if out, err := scrape("e2e-nobody"); err == nil || !strings.Contains(out, "Forbidden") {
		t.Errorf("an unauthorised reader got: %v %.200s", err, out)
	}
}
