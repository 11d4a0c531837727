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

package controller

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

var (
	env *testenv.Env
	// k8sClient reads straight from the API server, never from a cache.
	k8sClient client.Client
	// testDrillTimeouts are the defaults with a short stuck-pod timeout, so
	// a stuck drill pod ends its run in seconds (stuck time is real time).
	testDrillTimeouts = func() DrillTimeouts { d := DefaultDrillTimeouts; d.StuckPod = 8 * time.Second; return d }()
	// fakeClock is the clock every reconciler of the test manager reads.
	fakeClock = clocktesting.NewFakeClock(time.Date(2026, time.November, 23, 15, 0, 0, 0, time.UTC)) // Monday 10:00 in New York
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	k8sClient = env.Client
	if err := startManager(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = env.Stop()
		os.Exit(1)
	}
	code := m.Run()
	if err := stopManager(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
	}
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping envtest:", err)
	}
	os.Exit(code)
}

// stopManager stops the running test manager and waits for it.
var stopManager func() error

// startManager starts the operator's reconcilers against envtest, as
// cmd/main.go does, with the fake clock.
func startManager() error {
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:  testenv.Scheme(),
		Cache:   CacheOptions(),
		Client:  ClientOptions(),
		Metrics: metricsserver.Options{BindAddress: "0"},
		// A restarted manager registers the same controller names again.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return err
	}
	if err := SetupWithManager(mgr, Options{AgentImage: testAgentImage, Clock: fakeClock, Version: testVersion, DrillTimeouts: testDrillTimeouts,
		HelpDeskWebURL: testHelpDeskWebURL, RTImage: testRTImage}); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- mgr.Start(ctx) }()
	stopManager = func() error {
		cancel()
		return <-done
	}
	return nil
}

// restartManager kills the operator and starts a new one: nothing but what
// the API server holds survives.
// stopManagerFor stops the manager for a part of a test and returns what
// starts it again; if the test ends first, its cleanup starts it.
func stopManagerFor(t *testing.T) (start func()) {
	t.Helper()
	if err := stopManager(); err != nil {
		t.Fatalf("stopping the manager: %v", err)
	}
	up := false
	t.Cleanup(func() {
		if !up {
			if err := startManager(); err != nil {
				t.Error(err)
			}
		}
	})
	return func() {
		t.Helper()
		if err := startManager(); err != nil {
			t.Fatalf("starting the manager: %v", err)
		}
		up = true
	}
}

func restartManager(t *testing.T) {
	t.Helper()
	if err := stopManager(); err != nil {
		t.Fatalf("stopping the manager: %v", err)
	}
	if err := startManager(); err != nil {
		t.Fatalf("starting the manager: %v", err)
	}
}

// testRTImage is the manager's --rt-image (the default when empty);
// TestHelpDeskImageUpgrade changes it and restarts the manager.
var testRTImage string

// helpDeskWebURLs maps a namespace to the local RT that stands in for the
// web Service of its help desks (TestSupportTeamOnHelpDesk).
var helpDeskWebURLs sync.Map

func testHelpDeskWebURL(namespace string, names resources.HelpDeskNames) string {
	if url, ok := helpDeskWebURLs.Load(namespace); ok {
		return url.(string)
	}
	return resources.HelpDeskWebURL(namespace, names)
}
