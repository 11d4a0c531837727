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

// Package e2e runs the operator against a whole local control plane: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok's
// simulated nodes, started by kwokctl --runtime binary through the same
// hack/demo.sh that `make demo` runs.
package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/supportstack/operator/internal/testenv"
)

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// demo runs hack/demo.sh with the test's own directory, cluster and port.
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

// processesUnder lists running processes whose command line mentions dir.
func processesUnder(t *testing.T, dir string) []string {
	t.Helper()
	out, _ := exec.Command("pgrep", "-af", dir).Output()
	var procs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !strings.Contains(line, "pgrep") {
			procs = append(procs, line)
		}
	}
	return procs
}

// TestDemo brings the demo up, checks that the samples were accepted and
// listed, that a bad manifest is refused at admission with the CEL message,
// and that demo-down leaves no process and no directory behind.
func TestDemo(t *testing.T) {
	ctrllog.SetLogger(logr.Discard()) // the test's clients log nothing worth reading
	assets := os.Getenv("K8S_ASSETS")
	manager := os.Getenv("MANAGER_BIN")
	if assets == "" || manager == "" {
		t.Fatal("K8S_ASSETS and MANAGER_BIN are not set: run this test with \"make test\" or \"make test-e2e\"")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	env := []string{
		"K8S_ASSETS=" + assets,
		"MANAGER_BIN=" + manager,
		"DEMO_DIR=" + dir,
		"DEMO_CLUSTER=supportstack-e2e",
		"DEMO_PROBE_ADDR=" + freeAddr(t),
		"DEMO_SETTLE_SECONDS=2",
	}
	t.Cleanup(func() {
		if _, err := os.Stat(dir); err == nil {
			demo(t, env, "down")
		}
	})

	out := demo(t, env, "up")
	t.Log(out)
	for _, want := range []string{
		"node-000000", // simulated nodes joined
		"operator ready",
		"backuppolicy.ops.supportstack.io/helpdesk created",
		"drdrill.ops.supportstack.io/helpdesk-weekly created",
		"supportteam.ops.supportstack.io/windows-tier1 created",
		"helpdesk    supportteam.ops.supportstack.io/windows-tier1",
		"helpdesk    backuppolicy.ops.supportstack.io/helpdesk",
		"helpdesk    drdrill.ops.supportstack.io/helpdesk-weekly",
		// The on-demand drill run: sandbox, Error from kwok's empty pods, signed evidence.
		"Error: restore: the restore Job completed but the agent left no result",
		"networkpolicy.networking.k8s.io/default-deny",
		"resourcequota/sandbox",
		"drill helpdesk/helpdesk-weekly: 1 evidence records, hash chain intact, every record signed by the given key",
		"helpdesk/helpdesk-weekly,verified,helpdesk-weekly-now-",
		`The BackupPolicy "bad" is invalid`,
		`spec.schedule: Invalid value: "0 25 * * *": must be a 5-field cron expression`,
		"retention needs at least one keep rule",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if procs := processesUnder(t, dir); len(procs) < 5 {
		t.Errorf("expected etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok and the manager running, found:\n%s",
			strings.Join(procs, "\n"))
	}

	t.Run("backup CronJob runs on the cluster", func(t *testing.T) {
		backupOnCluster(t, filepath.Join(assets, "kubectl"), filepath.Join(dir, "kubeconfig"))
	})
	t.Run("drill runs create and delete sandboxes on the cluster", func(t *testing.T) {
		drillOnCluster(t, filepath.Join(assets, "kubectl"), filepath.Join(dir, "kubeconfig"))
	})

	demo(t, env, "down")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("demo-down left %s behind", dir)
	}
	if procs := processesUnder(t, dir); len(procs) > 0 {
		t.Errorf("demo-down left processes running:\n%s", strings.Join(procs, "\n"))
	}
}
