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
	"sort"
	"strings"
	"testing"
	"time"
)

// smtpSink listens on 25 and 587 in a namespace of its own: a mail relay an
// attacker would like a restored copy to reach.
var smtpSink = `
apiVersion: v1
kind: Namespace
metadata: {name: e2e-mail}
---` + listener("e2e-mail", "smtp", 25, 587)

// listener is a restricted busybox pod named name that accepts
// connections on each port (busybox httpd: a connection is all a probe
// needs), and its Service of the same name with those ports. Ports below
// 1024 need no privilege: the pod lowers ip_unprivileged_port_start.
func listener(namespace, name string, ports ...int) string {
	serve, servicePorts := make([]string, 0, len(ports)), make([]string, 0, len(ports))
	for i, p := range ports {
		foreground := ""
		if i == len(ports)-1 {
			foreground = "-f "
		}
		serve = append(serve, fmt.Sprintf("httpd %s-p %d -h /tmp/www", foreground, p))
		servicePorts = append(servicePorts, fmt.Sprintf("{name: p%d, port: %d}", p, p))
	}
	return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %[2]s, namespace: %[1]s, labels: {app: %[2]s}}
spec:
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    seccompProfile: {type: RuntimeDefault}
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "0"}]
  containers:
  - name: listen
    image: supportstack/busybox:dev
    imagePullPolicy: Never
    command: [sh, -c, "mkdir -p /tmp/www && %[3]s"]
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
    volumeMounts: [{name: tmp, mountPath: /tmp}]
  volumes: [{name: tmp, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  selector: {app: %[2]s}
  ports: [%[4]s]
`, namespace, name, strings.Join(serve, " && "), strings.Join(servicePorts, ", "))
}

// target is one connection a probe pod attempts.
type target struct{ name, host, port string }

// probeManifest is a restricted pod with the given labels that tries each
// target three times (NetworkPolicies are programmed a moment after a pod
// starts) with bash's /dev/tcp and prints NAME=open or NAME=closed.
func probeManifest(namespace, name, labels string, targets []target) string {
	var script strings.Builder
	script.WriteString("sleep 2\n")
	for _, tg := range targets {
		fmt.Fprintf(&script, "r=closed; for i in 1 2 3; do if timeout 3 bash -c 'exec 3<>/dev/tcp/%s/%s' 2>/dev/null; then r=open; break; fi; sleep 1; done; echo %s=$r\n", tg.host, tg.port, tg.name)
	}
	return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s, labels: {%s}}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: probe
    image: supportstack/postgres:15
    imagePullPolicy: Never
    command: [bash, -c, %q]
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
    resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}}
`, name, namespace, labels, script.String())
}

// probe runs a probe pod and returns what it found, target by target.
func probe(t *testing.T, c cluster, namespace, name, labels string, targets []target) map[string]string {
	t.Helper()
	c.apply(t, probeManifest(namespace, name, labels, targets))
	waitFor(t, 3*time.Minute, func() error {
		phase := strings.TrimSpace(c.run(t, "get", "pod", "-n", namespace, name, "-o", "jsonpath={.status.phase}"))
		if phase != "Succeeded" {
			return fmt.Errorf("probe %s/%s is %s", namespace, name, phase)
		}
		return nil
	})
	found := map[string]string{}
	for _, line := range strings.Split(c.run(t, "logs", "-n", namespace, name), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			found[k] = v
		}
	}
	return found
}

// isolation tries every cell of the matrix: from a drill's sandbox, from
// outside it, from the backup pods, and from an unrestricted pod (the
// control: what is closed elsewhere is open from there, so "closed" means
// blocked, not absent).
func isolation(t *testing.T, c cluster) {
	c.apply(t, smtpSink)
	waitFor(t, 2*time.Minute, func() error {
		if out := c.run(t, "get", "pod", "-n", "e2e-mail", "smtp", "-o", "jsonpath={.status.phase}"); out != "Running" {
			return fmt.Errorf("smtp sink is %s", out)
		}
		return nil
	})
	sandbox := strings.TrimSpace(c.run(t, "get", "drdrillruns", "-n", "helpdesk", "-l", "ops.supportstack.io/drill=e2e-kept",
		"-o", "jsonpath={.items[0].status.sandboxNamespace}"))
	if sandbox == "" {
		t.Fatal("no kept sandbox: the restore test must run first")
	}
	var (
		repository = target{"repository", "s3.backup-store.svc.cluster.local", "8080"}
		scratch    = target{"scratch", "scratch-postgres." + sandbox + ".svc.cluster.local", "5432"}
		database   = target{"helpdesk-db", "helpdesk-db.helpdesk.svc.cluster.local", "5432"}
		smtp       = target{"smtp", "smtp.e2e-mail.svc.cluster.local", "25"}
		submission = target{"submission", "smtp.e2e-mail.svc.cluster.local", "587"}
		api        = target{"kubernetes-api", "kubernetes.default.svc.cluster.local", "443"}
		metrics    = target{"operator-metrics", "supportstack-controller-manager-metrics-service.supportstack-system.svc.cluster.local", "8443"}
	)
	all := []target{repository, scratch, database, smtp, submission, api, metrics}
	cases := []struct {
		name, namespace, labels string
		want                    map[string]string
	}{
		{"a drill agent in the sandbox", sandbox, "ops.supportstack.io/component: drill-agent", map[string]string{
			"repository": "open", "scratch": "open", "helpdesk-db": "closed", "smtp": "closed", "submission": "closed",
			"kubernetes-api": "closed", "operator-metrics": "closed"}},
		{"another pod in the sandbox", sandbox, "app: intruder", map[string]string{
			"repository": "closed", "scratch": "closed", "helpdesk-db": "closed", "smtp": "closed", "submission": "closed",
			"kubernetes-api": "closed", "operator-metrics": "closed"}},
		{"a backup pod", "helpdesk", "ops.supportstack.io/backuppolicy: helpdesk", map[string]string{
			"repository": "open", "scratch": "closed", "helpdesk-db": "open", "smtp": "closed", "submission": "closed",
			"kubernetes-api": "closed", "operator-metrics": "closed"}},
		// The help desk's database admits RT's pods and the backup pods
		// alone (the HelpDesk's NetworkPolicies): the backup pod's open
		// cell above is the control for it.
		{"an unrestricted pod outside the sandbox (control)", "helpdesk", "app: control", map[string]string{
			"repository": "open", "scratch": "closed", "helpdesk-db": "closed", "smtp": "open", "submission": "open",
			"kubernetes-api": "open"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := probe(t, c, tc.namespace, fmt.Sprintf("e2e-probe-%d", i), tc.labels, all)
			var cells []string
			for name, want := range tc.want {
				cells = append(cells, fmt.Sprintf("%s: %s (want %s)", name, got[name], want))
				if got[name] != want {
					t.Errorf("%s -> %s is %q, want %s", tc.name, name, got[name], want)
				}
			}
			sort.Strings(cells)
			t.Logf("%s: %s", tc.name, strings.Join(cells, ", "))
		})
	}
}
