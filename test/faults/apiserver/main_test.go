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

// Package apiserver holds fault tests of the operator's manager against a
// real kube-apiserver and etcd (envtest) (issue #16): an API server that
// answers 429 and 500 for a while, and an API server and an etcd that
// restart while the manager reconciles. The manager talks to the API server
// through a proxy (faultProxy) that refuses writes on demand and records
// every write the manager sends; the tests change objects through a client
// that bypasses the proxy.
//
// Each test starts its own control plane (startControlPlane), with fixed
// certificate and data directories, so that its API server and etcd can be
// stopped and started again on the same addresses with the same data.
package apiserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/supportstack/operator/internal/controller"
	"github.com/supportstack/operator/internal/testenv"
)

// The manager's options are those of internal/controller's tests.
const (
	testAgentImage = "registry.example.com/supportstack/agent:test"
	testVersion    = "v0.0.0-test"
)

// fakeNow is the manager's clock (a Monday, 10:00 in New York): nothing
// the operator computes from the time changes while a test runs, so a
// steady state has nothing to write.
var fakeNow = time.Date(2026, time.November, 23, 15, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	os.Exit(m.Run())
}

// controlPlane is a running etcd and kube-apiserver with the SupportStack
// CRDs and admission policies installed.
type controlPlane struct {
	env *envtest.Environment
	// cfg reaches the API server directly (admin).
	cfg *rest.Config
	// direct reads and writes straight to the API server, past the proxy.
	direct client.Client
}

// startControlPlane starts etcd and kube-apiserver for one test and stops
// them when it ends. Unlike internal/testenv's, its API server keeps its
// certificates in a directory of the test's (envtest makes new ones, under
// a new CA, when it restarts one with a directory of its own) and etcd keeps
// its data in another (envtest deletes its own on Stop).
func startControlPlane(t *testing.T) *controlPlane {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run make test (or export KUBEBUILDER_ASSETS=$(hack/setup-k8s.sh))")
	}
	dir := t.TempDir()
	certs, data := filepath.Join(dir, "apiserver"), filepath.Join(dir, "etcd")
	for _, d := range []string{certs, data} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{CertDir: certs},
			Etcd:      &envtest.Etcd{DataDir: data},
		},
	}
	policies, err := testenv.ReadObjects(filepath.Join(testenv.RepoRoot(), "config", "admission"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := env.Start()
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("starting envtest: %v", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range policies {
		if err := c.Create(context.Background(), p); err != nil {
			t.Fatalf("installing %s %s: %v", p.GetKind(), p.GetName(), err)
		}
	}
	return &controlPlane{env: env, cfg: cfg, direct: c}
}

// runningManager is the operator's manager running in the test.
type runningManager struct {
	done chan struct{}
	err  error
}

// startManager starts the operator's manager as cmd/main.go builds it
// (CacheOptions, ClientOptions, no client-side rate limit: QPS -1, as
// ctrl.GetConfig leaves it) with the options internal/controller's tests
// use, on cfg. It stops when the test ends.
func startManager(t *testing.T, cfg *rest.Config) *runningManager {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = -1
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  testenv.Scheme(),
		Cache:   controller.CacheOptions(),
		Client:  controller.ClientOptions(),
		Metrics: metricsserver.Options{BindAddress: "0"},
		// Every test starts a manager: the same controller names again.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	timeouts := controller.DefaultDrillTimeouts
	timeouts.StuckPod = 8 * time.Second
	if err := controller.SetupWithManager(mgr, controller.Options{
		AgentImage: testAgentImage, Clock: clocktesting.NewFakeClock(fakeNow), Version: testVersion, DrillTimeouts: timeouts,
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &runningManager{done: make(chan struct{})}
	go func() {
		defer close(m.done)
		m.err = mgr.Start(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-m.done
	})
	return m
}

// running fails the test if the manager has returned (Start returns only
// on an error or when the test stops it).
func (m *runningManager) running(t *testing.T) {
	t.Helper()
	select {
	case <-m.done:
		t.Fatalf("the manager exited: %v", errors.Join(m.err, errors.New("Start returned")))
	default:
	}
}
