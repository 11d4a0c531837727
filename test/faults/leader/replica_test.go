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

package leader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/supportstack/operator/internal/controller"
	"github.com/supportstack/operator/internal/testenv"
)

// leaderElectionID is the Lease cmd/main.go's managers compete for
// (TestLeaderElectionIDMatchesMain keeps the two equal).
const leaderElectionID = "supportstack-operator.ops.supportstack.io"

// leaseNamespace holds the Lease, as the operator's own namespace does.
const leaseNamespace = "supportstack-system"

// Lease timings: controller-runtime's defaults (15s, 10s, 2s) shortened so
// that a failover takes seconds.
var (
	leaseDuration = 5 * time.Second
	renewDeadline = 3 * time.Second
	retryPeriod   = 500 * time.Millisecond
)

// Drill runs of one namespace at once: one, so a second run is queued
// (Pending) behind the first.
const maxRunsPerNamespace = 1

const (
	testAgentImage = "registry.example.com/supportstack/agent:test"
	testVersion    = "v0.0.0-leader-test"
)

// errCut is what every request of a killed replica gets.
var errCut = errors.New("the replica was killed: its connection to the API server is cut")

// link is a replica's connection to the API server. Cutting it fails every
// request the replica makes from then on and aborts those in flight
// (watches, a lease renewal, a write): a killed process neither renews
// its lease nor writes again, whatever its goroutines were doing.
type link struct {
	dead   context.Context
	cancel context.CancelFunc
	once   sync.Once
	// cutAt is when the link was cut (read it once dead is done).
	cutAt time.Time
	// dieAt, when set, is asked before every request: true cuts the link
	// there, the request unsent, as if the process died just before it.
	dieAt atomic.Pointer[func(*http.Request) bool]
	// refused counts the requests made after the cut, writes apart: what
	// a stale leader would have sent.
	refused, refusedWrites atomic.Int64
}

func newLink() *link {
	ctx, cancel := context.WithCancel(context.Background())
	return &link{dead: ctx, cancel: cancel}
}

// cut cuts the link (once).
func (l *link) cut() {
	l.once.Do(func() {
		l.cutAt = time.Now()
		l.cancel()
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// wrap is the link as a rest.Config transport wrapper.
func (l *link) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if die := l.dieAt.Load(); die != nil && l.dead.Err() == nil && (*die)(req) {
			l.cut()
		}
		if l.dead.Err() != nil {
			l.refused.Add(1)
			if req.Method != http.MethodGet {
				l.refusedWrites.Add(1)
			}
			return nil, errCut
		}
		ctx, cancel := context.WithCancel(req.Context())
		stop := context.AfterFunc(l.dead, cancel)
		resp, err := next.RoundTrip(req.WithContext(ctx))
		if err != nil {
			stop()
			cancel()
			return nil, err
		}
		resp.Body = &cutBody{ReadCloser: resp.Body, done: func() { stop(); cancel() }}
		return resp, nil
	})
}

// cutBody releases its request's cut watch when the body is closed.
type cutBody struct {
	io.ReadCloser
	done func()
}

func (b *cutBody) Close() error {
	defer b.done()
	return b.ReadCloser.Close()
}

// statusWriteOf matches a write of the status of obj (of resource, e.g.
// drdrillruns) that sets field: the replica dies just before persisting
// it.
func statusWriteOf(resource string, obj types.NamespacedName, field string) func(*http.Request) bool {
	path := fmt.Sprintf("/apis/ops.supportstack.io/v1alpha1/namespaces/%s/%s/%s/status", obj.Namespace, resource, obj.Name)
	return func(req *http.Request) bool {
		if (req.Method != http.MethodPatch && req.Method != http.MethodPut) || req.URL.Path != path || req.GetBody == nil {
			return false
		}
		body, err := req.GetBody()
		if err != nil {
			return false
		}
		defer func() { _ = body.Close() }()
		var obj struct {
			Status map[string]json.RawMessage `json:"status"`
		}
		if err := json.NewDecoder(body).Decode(&obj); err != nil {
			return false
		}
		v, ok := obj.Status[field]
		return ok && string(v) != "null"
	}
}

// reconciles records, for one replica, when its DRDrillRun controller
// first began reconciling each run (controller-runtime logs "Reconciling"
// at V(5) with the request's namespace and name) and the errors its
// controllers logged.
type reconciles struct {
	mu     sync.Mutex
	first  map[types.NamespacedName]time.Time
	errors []string
}

func (r *reconciles) saw(key types.NamespacedName, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.first[key]; !ok {
		r.first[key] = at
	}
}

// firstOf is when the replica first reconciled the run; ok is false if it
// never did.
func (r *reconciles) firstOf(key types.NamespacedName) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.first[key]
	return at, ok
}

// logErrors are the errors the replica's controllers logged (the first 50).
func (r *reconciles) logErrors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errors)
}

func (r *reconciles) logged(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errors) < 50 {
		r.errors = append(r.errors, msg)
	}
}

// reconcileSink is the replica's logger: it keeps only what reconciles
// needs.
type reconcileSink struct {
	r  *reconciles
	kv []any
}

func (s reconcileSink) Init(logr.RuntimeInfo) {}
func (s reconcileSink) Enabled(int) bool      { return true }

func (s reconcileSink) Info(_ int, msg string, kv ...any) {
	if msg != "Reconciling" {
		return
	}
	v := values(append(slices.Clip(s.kv), kv...))
	if v["controller"] != "drdrillrun" {
		return
	}
	ns, _ := v["namespace"].(string)
	name, _ := v["name"].(string)
	s.r.saw(types.NamespacedName{Namespace: ns, Name: name}, time.Now())
}

func (s reconcileSink) Error(err error, msg string, kv ...any) {
	v := values(append(slices.Clip(s.kv), kv...))
	s.r.logged(fmt.Sprintf("%s %v/%v: %s: %v", v["controller"], v["namespace"], v["name"], msg, err))
}

func (s reconcileSink) WithValues(kv ...any) logr.LogSink {
	return reconcileSink{r: s.r, kv: append(slices.Clip(s.kv), kv...)}
}

func (s reconcileSink) WithName(string) logr.LogSink { return s }

func values(kv []any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}

// replica is one operator process: the manager cmd/main.go builds, with
// leader election, in this test process, talking to the API server
// through its own link.
type replica struct {
	name       string
	mgr        ctrl.Manager
	link       *link
	reconciles *reconciles
	cancel     context.CancelFunc
	done       chan error
	// elected is closed when the replica became leader (after its
	// controllers started: the Lease's acquireTime says when it took
	// the lease).
	elected chan struct{}
	killed  bool
	// exited is set when the manager stopped on its own (it lost its
	// lease: a renewal failed for renewDeadline), with why.
	exited  atomic.Bool
	exitErr error
}

// startReplica starts a manager as cmd/main.go does with --leader-elect,
// except that a killed replica does not release its lease (a killed
// process cannot) and the lease timings are short.
func startReplica(name string, cfg *rest.Config) (*replica, error) {
	r := &replica{name: name, link: newLink(), reconciles: &reconciles{first: map[types.NamespacedName]time.Time{}},
		done: make(chan error, 1), elected: make(chan struct{})}
	c := rest.CopyConfig(cfg)
	c.Wrap(r.link.wrap)
	mgr, err := ctrl.NewManager(c, ctrl.Options{
		Scheme:  testenv.Scheme(),
		Cache:   controller.CacheOptions(),
		Client:  controller.ClientOptions(),
		Metrics: metricsserver.Options{BindAddress: "0"},
		Logger:  logr.New(reconcileSink{r: r.reconciles}),
		// Replicas in one process register the same controller names.
		Controller:              config.Controller{SkipNameValidation: ptr.To(true)},
		LeaderElection:          true,
		LeaderElectionID:        leaderElectionID,
		LeaderElectionNamespace: leaseNamespace,
		// As cmd/main.go: a stopped manager releases its lease. A killed
		// one cannot (its link is cut first), so its lease must expire.
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &leaseDuration,
		RenewDeadline:                 &renewDeadline,
		RetryPeriod:                   &retryPeriod,
		GracefulShutdownTimeout:       ptr.To(5 * time.Second),
	})
	if err != nil {
		return nil, err
	}
	if err := controller.SetupWithManager(mgr, controller.Options{AgentImage: testAgentImage, Version: testVersion,
		MaxConcurrentDrillRunsPerNamespace: maxRunsPerNamespace}); err != nil {
		return nil, err
	}
	r.mgr = mgr
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		err := mgr.Start(ctx)
		if ctx.Err() == nil {
			r.exitErr = err
			r.exited.Store(true)
		}
		r.done <- err
	}()
	go func() {
		select {
		case <-mgr.Elected():
			close(r.elected)
		case <-ctx.Done():
		}
	}()
	return r, nil
}

// isLeader says whether the replica has been elected.
func (r *replica) isLeader() bool {
	select {
	case <-r.elected:
		return true
	default:
		return false
	}
}

// kill cuts the replica off the API server, then stops it: no release of
// its lease, no last write.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	r.link.cut()
	r.stop(t)
}

// stop stops the replica as SIGTERM does: its manager's context is
// cancelled, and it waits for the manager to return.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	r.killed = true
	select {
	case err := <-r.done:
		// A killed manager may say it lost its lease, or nothing: either
		// is a stop.
		_ = err
	case <-time.After(15 * time.Second):
		t.Fatalf("replica %s did not stop within 15s of its kill", r.name)
	}
}

// fleet is the set of replicas of one Deployment: two run at a time.
type fleet struct {
	cfg      *rest.Config
	c        client.Client
	obs      *observer
	replicas []*replica
}

func (f *fleet) start(t *testing.T) *replica {
	t.Helper()
	r, err := startReplica(fmt.Sprintf("replica-%d", len(f.replicas)+1), f.cfg)
	if err != nil {
		t.Fatalf("starting a replica: %v", err)
	}
	f.replicas = append(f.replicas, r)
	return r
}

func (f *fleet) live() []*replica {
	var out []*replica
	for _, r := range f.replicas {
		if !r.killed && !r.exited.Load() {
			out = append(out, r)
		}
	}
	return out
}

// topUp starts replicas until two run, after any that stopped on their
// own (said in the test log: a lease lost to a slow API server is a
// failover the test did not plan, and one it survives the same way).
func (f *fleet) topUp(t *testing.T) {
	t.Helper()
	for _, r := range f.replicas {
		if r.exited.Load() && !r.killed {
			r.killed = true
			t.Logf("replica %s stopped on its own: %v", r.name, r.exitErr)
		}
	}
	for len(f.live()) < 2 {
		f.start(t)
	}
}

// leader waits until exactly one live replica leads and returns it.
func (f *fleet) leader(t *testing.T, within time.Duration) *replica {
	t.Helper()
	var leaders []string
	var found *replica
	eventually(t, within, func() error {
		leaders, found = nil, nil
		for _, r := range f.live() {
			if r.isLeader() {
				leaders, found = append(leaders, r.name), r
			}
		}
		if len(leaders) != 1 {
			return fmt.Errorf("%d live replicas lead (%v), want 1", len(leaders), leaders)
		}
		return nil
	})
	return found
}

func (f *fleet) lease(t *testing.T) *coordinationv1.Lease {
	t.Helper()
	l := &coordinationv1.Lease{}
	if err := f.c.Get(context.Background(), client.ObjectKey{Namespace: leaseNamespace, Name: leaderElectionID}, l); err != nil {
		t.Fatalf("reading the Lease: %v", err)
	}
	return l
}

// takeover is one failover, measured.
type takeover struct {
	killed, leader *replica
	// killedAt is when the leader was cut off (or stopped, if graceful);
	// expiry when its lease ran out (its last renewal + the lease
	// duration; none if it released it); acquiredAt when the new leader
	// took the lease (the Lease's acquireTime).
	killedAt, expiry, acquiredAt time.Time
	graceful                     bool
}

// killLeader kills the leader, waits for the other replica to take the
// lease over, then starts a replacement so two replicas run again.
func (f *fleet) killLeader(t *testing.T) takeover {
	t.Helper()
	f.topUp(t)
	return f.failover(t, f.leader(t, 2*leaseDuration))
}

// failover kills old, the leader (its link may be cut already: it died at
// a write), waits for the other replica to take the lease over, then
// starts a replacement so two replicas run again.
func (f *fleet) failover(t *testing.T, old *replica) takeover {
	t.Helper()
	before := holder(f.lease(t))
	old.link.cut()
	// Read between the cut and the stop: no renewal can follow the cut,
	// and the lease cannot expire yet however long the stop takes.
	held := f.lease(t)
	if holder(held) != before {
		t.Fatalf("the Lease changed hands at the kill: %q -> %q", before, holder(held))
	}
	old.stop(t)
	expiry := held.Spec.RenewTime.Add(leaseDuration)
	next, after := f.takenOver(t, old, held)
	// The lease was not released (a killed process cannot): the Lease
	// went from the old holder straight to the new one, and the new
	// leader took it only once it had expired. client-go's elector
	// notices a renewal by comparing the lease record with whole-second
	// times, so it may count the lease from a renewal up to a second
	// before the last one.
	if holders := f.obs.leaseHolders(t, held, after); !slices.Equal(holders, []string{holder(held), holder(after)}) {
		t.Errorf("the Lease's holders from the kill to the takeover: %q, want the old leader then the new one (no release)", holders)
	}
	if acquired := after.Spec.AcquireTime.Time; acquired.Before(expiry.Add(-time.Second)) {
		t.Errorf("the new leader took the lease at %s, %s before the killed leader's expired: it was released or not honoured",
			acquired.Format(time.RFC3339Nano), expiry.Sub(acquired))
	}
	f.topUp(t)
	return takeover{killed: old, leader: next, killedAt: old.link.cutAt, expiry: expiry, acquiredAt: after.Spec.AcquireTime.Time}
}

// handOver stops the leader as SIGTERM stops cmd/main.go's manager: its
// reconciles finish, then it releases the lease, and the other replica
// takes over at once, without waiting for the lease to expire.
func (f *fleet) handOver(t *testing.T) takeover {
	t.Helper()
	f.topUp(t)
	old := f.leader(t, 2*leaseDuration)
	held := f.lease(t)
	stoppedAt := time.Now()
	old.stop(t)
	next, after := f.takenOver(t, old, held)
	// Released: a version of the Lease with no holder (client-go's
	// release) came between the old holder's and the new one's.
	if holders := f.obs.leaseHolders(t, held, after); !slices.Equal(holders, []string{holder(held), "", holder(after)}) {
		t.Errorf("the Lease's holders from the stop to the takeover: %q, want the old leader, none (released), the new one", holders)
	}
	f.topUp(t)
	return takeover{killed: old, leader: next, killedAt: stoppedAt, acquiredAt: after.Spec.AcquireTime.Time, graceful: true}
}

// takenOver waits for another replica than old to lead and hold the lease.
func (f *fleet) takenOver(t *testing.T, old *replica, held *coordinationv1.Lease) (*replica, *coordinationv1.Lease) {
	t.Helper()
	next := f.leader(t, 3*leaseDuration)
	if next == old {
		t.Fatal("the old leader still leads")
	}
	after := f.lease(t)
	if h := holder(after); h == "" || h == holder(held) || after.Spec.AcquireTime == nil {
		t.Fatalf("the Lease is held by %q after the takeover (%q before)", h, holder(held))
	}
	return next, after
}

func holder(l *coordinationv1.Lease) string { return ptr.Deref(l.Spec.HolderIdentity, "") }

// stop kills every live replica.
func (f *fleet) stop(t *testing.T) {
	t.Helper()
	for _, r := range f.live() {
		r.kill(t)
	}
}

// eventually retries check every 100ms until it returns nil or within has
// passed.
func eventually(t *testing.T, within time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
