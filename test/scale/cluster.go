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
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/testenv"
)

// cluster is a kwok control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok-controller) run by kwokctl
// with the binary runtime, every port on 127.0.0.1.
type cluster struct {
	assets     string
	workDir    string
	name       string
	kubeconfig string
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freePorts(n int) ([]int, error) {
	seen := map[int]bool{}
	var ports []int
	for len(ports) < n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// kwokctlConfig binds every component to 127.0.0.1 (kwokctl's default is
// 0.0.0.0) on the ports given.
const kwokctlConfig = `apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
componentsPatches:
- name: etcd
  extraArgs:
  - {key: listen-peer-urls, value: "http://127.0.0.1:%[1]d"}
  - {key: initial-advertise-peer-urls, value: "http://127.0.0.1:%[1]d"}
  - {key: initial-cluster, value: "node0=http://127.0.0.1:%[1]d"}
  - {key: listen-client-urls, value: "http://127.0.0.1:%[2]d"}
  - {key: advertise-client-urls, value: "http://127.0.0.1:%[2]d"}
- name: kube-apiserver
  extraArgs:
  - {key: bind-address, value: 127.0.0.1}
  # A /16 for Services: the default /24 (254 addresses) filled with the
  # sandboxes of a thousand drill runs in flight and kept after failing.
  - {key: service-cluster-ip-range, value: 10.96.0.0/16}
- name: kube-controller-manager
  extraArgs:
  - {key: bind-address, value: 127.0.0.1}
- name: kube-scheduler
  extraArgs:
  - {key: bind-address, value: 127.0.0.1}
- name: kwok-controller
  extraArgs:
  - {key: server-address, value: "127.0.0.1:%[3]d"}
`

// startCluster creates the cluster under workDir (KWOK_WORKDIR, so nothing
// goes to ~/.kwok) and installs the CRDs and admission policies.
func startCluster(ctx context.Context, assets, workDir string) (*cluster, error) {
	c := &cluster{assets: assets, workDir: workDir, name: "scale"}
	ports, err := freePorts(7)
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(workDir, "kwokctl.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, kwokctlConfig, ports[0], ports[1], ports[2]), 0o600); err != nil {
		return nil, err
	}
	bin := func(name string) string { return filepath.Join(assets, name) }
	args := []string{"--name", c.name, "-c", cfg, "create", "cluster", "--runtime", "binary",
		"--kube-apiserver-binary", bin("kube-apiserver"),
		"--kube-controller-manager-binary", bin("kube-controller-manager"),
		"--kube-scheduler-binary", bin("kube-scheduler"),
		"--etcd-binary", bin("etcd"),
		"--kwok-controller-binary", bin("kwok"),
		"--etcd-port", fmt.Sprint(ports[1]),
		"--controller-port", fmt.Sprint(ports[2]),
		"--kube-apiserver-port", fmt.Sprint(ports[3]),
		"--kube-controller-manager-port", fmt.Sprint(ports[4]),
		"--kube-scheduler-port", fmt.Sprint(ports[5]),
		"--kubeconfig", filepath.Join(workDir, "kubeconfig"),
		"--disable-qps-limits",
		"--wait", "2m",
	}
	if out, err := c.kwokctl(ctx, args...); err != nil {
		// A half-created cluster still has processes to stop.
		_ = c.stop()
		return nil, fmt.Errorf("kwokctl create cluster: %w\n%s", err, out)
	}
	c.kubeconfig = filepath.Join(workDir, "clusters", c.name, "kubeconfig.yaml")
	return c, nil
}

func (c *cluster) kwokctl(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.assets, "kwokctl"), args...)
	cmd.Env = append(os.Environ(), "KWOK_WORKDIR="+c.workDir)
	return cmd.CombinedOutput()
}

// stop deletes the cluster: kwokctl stops its processes.
func (c *cluster) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.kwokctl(ctx, "--name", c.name, "delete", "cluster")
	if err != nil {
		return fmt.Errorf("kwokctl delete cluster: %w\n%s", err, out)
	}
	return nil
}

// restConfig is the cluster's admin config with client-side rate limits
// off, as controller-runtime's own default (QPS -1).
func (c *cluster) restConfig() (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = -1, -1
	return cfg, nil
}

// install creates the CRDs and the admission policies, and waits until
// every SupportStack kind can be listed.
func install(ctx context.Context, c client.Client) error {
	var objs []client.Object
	for _, dir := range []string{"crd/bases", "admission"} {
		read, err := testenv.ReadObjects(filepath.Join(testenv.RepoRoot(), "config", dir))
		if err != nil {
			return err
		}
		for _, o := range read {
			objs = append(objs, o)
		}
		if dir == "crd/bases" {
			for _, o := range objs {
				if err := c.Create(ctx, o); err != nil {
					return fmt.Errorf("creating %s: %w", o.GetName(), err)
				}
			}
			objs = nil
			if err := waitFor(ctx, 2*time.Minute, func() bool {
				for _, l := range []client.ObjectList{&opsv1alpha1.SupportTeamList{}, &opsv1alpha1.BackupPolicyList{},
					&opsv1alpha1.DRDrillList{}, &opsv1alpha1.DRDrillRunList{}} {
					if c.List(ctx, l, client.Limit(1)) != nil {
						return false
					}
				}
				return true
			}); err != nil {
				return fmt.Errorf("CRDs not served: %w", err)
			}
		}
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
		}
	}
	return nil
}

// waitFor polls ok every second until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ok() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
