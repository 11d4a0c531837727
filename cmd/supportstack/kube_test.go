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

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/supportstack/operator/internal/testenv"
)

// TestMain keeps the user's kubeconfig out of the tests: the commands
// resolve -n and the context from it even when newClient is a fake, so
// $KUBECONFIG names a file that does not exist (an empty config, namespace
// "default"); tests that need one set their own.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "supportstack-test")
	if err != nil {
		panic(err)
	}
	if err := os.Setenv("KUBECONFIG", filepath.Join(dir, "no-kubeconfig")); err != nil {
		panic(err)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// twoContexts is a kubeconfig with two clusters: alpha (the current
// context, namespace team-a) and beta (no namespace: "default").
const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: alpha
  cluster: {server: "https://alpha.example:6443"}
- name: beta
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: someone
  user: {token: not-a-real-token}
contexts:
- name: alpha
  context: {cluster: alpha, user: someone, namespace: team-a}
- name: beta
  context: {cluster: beta, user: someone}
current-context: alpha
`

// oneContext is another kubeconfig: gamma, namespace team-g.
const oneContext = `apiVersion: v1
kind: Config
clusters:
- name: gamma
  cluster: {server: "https://gamma.example:6443"}
users:
- name: someone
  user: {token: not-a-real-token}
contexts:
- name: gamma
  context: {cluster: gamma, user: someone, namespace: team-g}
current-context: gamma
`

func writeKubeconfigs(t *testing.T) (two, one string) {
	t.Helper()
	dir := t.TempDir()
	two, one = filepath.Join(dir, "two"), filepath.Join(dir, "one")
	for path, text := range map[string]string{two: twoContexts, one: oneContext} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return two, one
}

// reached records the API server and the namespaces a command used.
type reached struct {
	host       string
	namespaces []string
}

// useRecorder replaces newClient with one that resolves the kubectl flags
// as the real one does (ToRESTConfig) and answers from an empty fake
// cluster, recording the server and every namespace read.
func useRecorder(t *testing.T) *reached {
	t.Helper()
	r := &reached{}
	note := func(ns string) {
		if !slices.Contains(r.namespaces, ns) {
			r.namespaces = append(r.namespaces, ns)
		}
	}
	old := newClient
	newClient = func(kube genericclioptions.RESTClientGetter) (client.Client, error) {
		cfg, err := kube.ToRESTConfig()
		if err != nil {
			return nil, err
		}
		r.host = cfg.Host
		return fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithInterceptorFuncs(interceptor.Funcs{
			Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				note(key.Namespace)
				return c.Get(ctx, key, obj, opts...)
			},
			List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
				lo := &client.ListOptions{}
				lo.ApplyOptions(opts)
				note(lo.Namespace)
				return c.List(ctx, list, opts...)
			},
		}).Build(), nil
	}
	t.Cleanup(func() { newClient = old })
	return r
}

// TestKubectlFlags: every command that reads the cluster resolves
// --kubeconfig, --context and -n/--namespace as kubectl does ($KUBECONFIG,
// the current context and its namespace unless overridden), for the
// server it talks to and the namespace it reads.
func TestKubectlFlags(t *testing.T) {
	two, one := writeKubeconfigs(t)
	t.Setenv("KUBECONFIG", two)
	const alpha, beta, gamma = "https://alpha.example:6443", "https://127.0.0.1:1", "https://gamma.example:6443"
	cases := []struct {
		name      string
		flags     []string
		host, ns  string
		wantError string
	}{
		{"$KUBECONFIG's current context and its namespace", nil, alpha, "team-a", ""},
		{"--context: that context's cluster; no namespace there is default", []string{"--context", "beta"}, beta, "default", ""},
		{"--context and -n", []string{"--context", "beta", "-n", "ops"}, beta, "ops", ""},
		{"--namespace in the current context", []string{"--namespace", "ops"}, alpha, "ops", ""},
		{"--kubeconfig over $KUBECONFIG", []string{"--kubeconfig", one}, gamma, "team-g", ""},
		{"flag=value forms", []string{"--kubeconfig=" + two, "--context=beta", "--namespace=ops"}, beta, "ops", ""},
		{"-s/--server over the context's cluster", []string{"-s", "https://other.example:6443", "-n", "ops"}, "https://other.example:6443", "ops", ""},
		{"an unknown context fails", []string{"--context", "nope"}, "", "", "nope"},
		{"a missing --kubeconfig fails", []string{"--kubeconfig", filepath.Join(t.TempDir(), "absent")}, "", "", "absent"},
	}
	commands := [][]string{
		{"coverage", "windows-tier1"},
		{"schedule", "train", "windows-tier1"},
		{"schedule", "propose", "windows-tier1"},
		{"verify-evidence", "helpdesk-weekly", "--no-head"},
		{"report"},
	}
	for _, tc := range cases {
		for _, command := range commands {
			t.Run(tc.name+"/"+strings.Join(command, " "), func(t *testing.T) {
				r := useRecorder(t)
				args := append(append([]string{}, command...), tc.flags...)
				wantNS := tc.ns
				if command[0] == "report" && !slices.ContainsFunc(tc.flags, func(f string) bool { return f == "-n" || strings.HasPrefix(f, "--namespace") }) {
					// report reads one namespace only when told which, else -A: all.
					args, wantNS = append(args, "-A"), ""
				}
				err := run(args, &bytes.Buffer{})
				if tc.wantError != "" {
					if err == nil || !strings.Contains(err.Error(), tc.wantError) {
						t.Fatalf("%v: error %v, want one saying %q", args, err, tc.wantError)
					}
					return
				}
				if r.host != tc.host {
					t.Errorf("%v: talked to %q, want %q", args, r.host, tc.host)
				}
				if !slices.Equal(r.namespaces, []string{wantNS}) {
					t.Errorf("%v: read namespaces %q, want only %q (err %v)", args, r.namespaces, wantNS, err)
				}
			})
		}
	}
}

// TestKubeFlagsHelp: -h lists kubectl's flags next to the command's own,
// without the flag package's complaints about printing their defaults.
func TestKubeFlagsHelp(t *testing.T) {
	var help bytes.Buffer
	old := flagOutput
	flagOutput = &help
	t.Cleanup(func() { flagOutput = old })
	if err := run([]string{"coverage", "-h"}, &bytes.Buffer{}); err == nil {
		t.Fatal("coverage -h: no flag.ErrHelp")
	}
	for _, want := range []string{"-kubeconfig", "-context", "-namespace", "  -n value", "-insecure-skip-tls-verify", "  -f string", "-at string"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("coverage -h does not show %q:\n%s", want, help.String())
		}
	}
	if strings.Contains(help.String(), "panic") {
		t.Errorf("coverage -h:\n%s", help.String())
	}
}

// buildPlugin builds the CLI as dir/kubectl-supportstack.
func buildPlugin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "kubectl-supportstack"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// TestKubectlPluginDiscovery runs the real kubectl with the CLI on PATH as
// kubectl-supportstack: kubectl finds the plugin, passes it its arguments
// (--help; and --kubeconfig, --context, -n after the subcommand), and the
// usage names it "kubectl supportstack".
func TestKubectlPluginDiscovery(t *testing.T) {
	assets := os.Getenv("K8S_ASSETS")
	if assets == "" {
		t.Fatal("K8S_ASSETS is not set: run this test with \"make test\", which sets it to bin/k8s/<version> (the real kubectl the plugin discovery test needs)")
	}
	kubectl := filepath.Join(assets, "kubectl")
	pluginDir := buildPlugin(t)
	two, _ := writeKubeconfigs(t)
	env := append(os.Environ(), "PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+two)
	kube := func(args ...string) (string, error) {
		cmd := exec.Command(kubectl, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := kube("plugin", "list", "--name-only")
	if err != nil || !strings.Contains(out, "kubectl-supportstack") {
		t.Fatalf("kubectl plugin list: %v\n%s", err, out)
	}
	out, err = kube("supportstack", "--help")
	if err != nil {
		t.Fatalf("kubectl supportstack --help: %v\n%s", err, out)
	}
	for _, want := range []string{"usage:", "kubectl supportstack coverage", "kubectl supportstack verify-evidence", "--kubeconfig FILE", "--context NAME"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl supportstack --help does not say %q:\n%s", want, out)
		}
	}
	// The flags reach the plugin: context beta's server refuses at once.
	out, err = kube("supportstack", "coverage", "--context", "beta", "-n", "ops", "windows-tier1")
	if err == nil || !strings.Contains(out, "127.0.0.1:1") {
		t.Errorf("kubectl supportstack coverage --context beta: want it to fail reaching beta's server 127.0.0.1:1; err %v\n%s", err, out)
	}
	// kubectl's own completion of the plugin: kubectl runs
	// kubectl_complete-supportstack, which asks the plugin's bash function.
	script, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "hack", "completion", "kubectl_complete-supportstack"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pluginDir, "kubectl_complete-supportstack"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]string{"sch": "schedule\n:4", "schedule ": "train\npropose\n:4", "report --format ": "json\ncsv\nhtml\n:4"} {
		args := append([]string{"__complete", "supportstack"}, strings.Split(line, " ")...)
		cmd := exec.Command(kubectl, args...)
		cmd.Env = env
		got, err := cmd.Output() // stdout only: kubectl writes its debug lines to stderr
		if err != nil || strings.TrimSpace(string(got)) != want {
			t.Errorf("kubectl __complete supportstack %s: %v, got %q, want %q", line, err, got, want)
		}
	}
	out, err = kube("supportstack", "verify-evidence")
	if err == nil || !strings.Contains(out, "kubectl supportstack verify-evidence [-n NAMESPACE] DRILL") {
		t.Errorf("kubectl supportstack verify-evidence (no drill): err %v, want the usage under the plugin's name\n%s", err, out)
	}
}
