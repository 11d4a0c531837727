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

package apiserver

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// convergeAfterRestart bounds how long the manager may take to reach a
// revision once the API server answers again. Its informers list and watch
// again after client-go's reflector backoff: 800 ms, doubling while the
// server stays away, capped at 30 s, each delay jittered up to twice as
// long (so one can reach 60 s), and reset only after 2 minutes without a
// failure, so it carries over from kube-apiserver's outage to etcd's.
// Outages of 12 s or more (under load) can leave a delay of 13-51 s to
// run after the server is back. A reconcile that failed while the server
// was down is retried within as long as it was down (the work queue's
// exponential backoff). 60 s for the longest delay, 10 s for the list and
// the reconciles; the test logs what it took (~4 s, < 1 s after etcd).
const convergeAfterRestart = 70 * time.Second

// steadyWindow is how long the manager must send no write (Events aside)
// once converged.
const steadyWindow = 20 * time.Second

// TestControlPlaneRestarts: kube-apiserver stops and starts again while
// the team's and the policy's specs change, then etcd does. The manager
// does not exit (its informers re-list and watch again), every object
// reaches the last revision (status observed it and says Ready, the
// children hold it), and then the manager writes nothing but Events for
// steadyWindow.
func TestControlPlaneRestarts(t *testing.T) {
	cp := startControlPlane(t)
	proxy := newFaultProxy(t, cp.cfg)
	mgr := startManager(t, proxy.config())
	f := newFixture(t, cp.direct)
	f.converge(t, 0, 30*time.Second)
	apiServer, etcd := cp.env.ControlPlane.APIServer, cp.env.ControlPlane.Etcd
	address := apiServer.SecureServing.URL("https", "").Host

	// The API server stops under revision 1's reconciles: the proxy holds
	// their first write until it is down. Revision 2 is written as soon as
	// it is back, while the manager's watches are still broken.
	waitHeld, release := proxy.holdWrites(t)
	f.change(t, 1)
	waitHeld(t)
	down := time.Now()
	// A terminating kube-apiserver waits for its open watches: with the
	// manager's open, it does not stop within envtest's 20 s StopTimeout.
	// From a second on, the proxy drops the manager's connections every
	// half second until it has stopped, as a load balancer in front of a
	// terminating API server does.
	stopping := make(chan struct{})
	go func() {
		for tick := time.NewTicker(500 * time.Millisecond); ; {
			select {
			case <-stopping:
				tick.Stop()
				return
			case <-tick.C:
				if time.Since(down) >= time.Second {
					proxy.server.CloseClientConnections()
				}
			}
		}
	}()
	err := apiServer.Stop()
	close(stopping)
	if err != nil {
		t.Fatalf("stopping kube-apiserver: %v", err)
	}
	stopped := time.Since(down)
	release()
	if err := apiServer.Start(); err != nil {
		t.Fatalf("starting kube-apiserver again: %v", err)
	}
	if again := apiServer.SecureServing.URL("https", "").Host; again != address {
		t.Fatalf("kube-apiserver came back on %s, not %s", again, address)
	}
	up := time.Now()
	t.Logf("kube-apiserver: stopped in %v, down %v", stopped.Round(time.Millisecond), up.Sub(down).Round(time.Millisecond))
	f.change(t, 2)
	took := f.converge(t, 2, convergeAfterRestart)
	writes := proxy.writesBetween(down, time.Now())
	t.Logf("revision 2 reached %v after kube-apiserver answered again; writes since it stopped: %s", took.Round(time.Millisecond), summary(writes))
	mgr.running(t)

	// etcd stops under revision 3's reconciles and starts again; the API
	// server stays up and reconnects.
	waitHeld, release = proxy.holdWrites(t)
	f.change(t, 3)
	waitHeld(t)
	down = time.Now()
	if err := etcd.Stop(); err != nil {
		t.Fatalf("stopping etcd: %v", err)
	}
	release()
	if err := etcd.Start(); err != nil {
		t.Fatalf("starting etcd again: %v", err)
	}
	up = time.Now()
	serving := waitServing(t, cp.direct, 30*time.Second)
	t.Logf("etcd: down %v; kube-apiserver served again %v after", up.Sub(down).Round(time.Millisecond), serving.Round(time.Millisecond))
	took = f.converge(t, 3, convergeAfterRestart)
	writes = proxy.writesBetween(down, time.Now())
	t.Logf("revision 3 reached %v after kube-apiserver served again; writes since etcd stopped: %s", took.Round(time.Millisecond), summary(writes))
	mgr.running(t)

	// Steady state: nothing left to write. Events are not counted: an
	// Event whose request the proxy cut while kube-apiserver stopped failed
	// on its connection, which the event broadcaster retries after a
	// random 0-10 s, then every 10 s, up to 12 times, past any quiet gap
	// short enough to wait for; those retries are logged, not asserted.
	proxy.quiet(t, time.Second, 10*time.Second)
	from := time.Now()
	time.Sleep(steadyWindow)
	var steady, events []write
	for _, w := range proxy.writesBetween(from, time.Now()) {
		if isEvent(w) {
			events = append(events, w)
		} else {
			steady = append(steady, w)
		}
	}
	t.Logf("writes in %v of steady state: %d (and %d Event writes: %v)", steadyWindow, len(steady), len(events), events)
	if len(steady) > 0 {
		t.Errorf("the manager sent %d writes (Events aside) in %v of steady state: %v", len(steady), steadyWindow, steady)
	}
	if err := f.converged(3); err != nil {
		t.Errorf("after the steady window: %v", err)
	}
	mgr.running(t)
}

// waitServing waits until the API server reads from etcd again, and
// returns how long that took.
func waitServing(t *testing.T, c client.Client, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		var nss corev1.NamespaceList
		err := c.List(context.Background(), &nss)
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("kube-apiserver does not serve %v after etcd started again: %v", within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
