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
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// faultProxy stands between the manager and the API server: plain HTTP on
// 127.0.0.1 towards the manager, the API server's TLS and the admin's
// client certificate towards the API server (rest.TransportFor). It
// forwards every request, watches included, except the writes it is told
// to refuse, and records every write (POST, PUT, PATCH, DELETE) the manager
// sends, refused or not.
type faultProxy struct {
	server  *httptest.Server
	forward *httputil.ReverseProxy
	// refuse is the status writes are answered with; 0 forwards them.
	refuse atomic.Int32

	mu     sync.Mutex
	writes []write
	// gate, when not nil, holds writes until it is closed; held counts them.
	gate chan struct{}
	held int
}

// write is one write request the manager sent.
type write struct {
	at     time.Time
	method string
	path   string
	// refused is the status the proxy answered instead of forwarding; 0
	// when forwarded.
	refused int
	// status is what the manager got: refused, or the API server's answer
	// (502 when it could not be reached).
	status int
}

func (w write) String() string {
	s := fmt.Sprintf("%s %s %s", w.at.Format("15:04:05.000"), w.method, w.path)
	if w.refused != 0 {
		return s + fmt.Sprintf(" (refused %d)", w.refused)
	}
	return s + fmt.Sprintf(" (%d)", w.status)
}

// newFaultProxy starts a proxy to the API server cfg reaches; it closes
// when the test ends.
func newFaultProxy(t *testing.T, cfg *rest.Config) *faultProxy {
	t.Helper()
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{forward: &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: transport,
		// Watches stream: pass every event on as it comes.
		FlushInterval: -1,
		// While the API server is down the proxy answers 502, as a load
		// balancer would; the manager logs what it gets.
		ErrorLog: log.New(io.Discard, "", 0),
	}}
	p.server = httptest.NewServer(p)
	// Close waits for the requests in flight: drop their connections
	// first, so that a write still held (a test that failed before it
	// released them) ends (ServeHTTP returns when its request's context
	// is done) and the cleanups after this one (envtest's Stop) run.
	t.Cleanup(func() {
		p.server.CloseClientConnections()
		p.server.Close()
	})
	return p
}

// config is how the manager reaches the API server: through the proxy.
func (p *faultProxy) config() *rest.Config { return &rest.Config{Host: p.server.URL} }

// refuseWrites makes the proxy answer every write with status (429 with
// Retry-After: 1, or 500 as an API server whose etcd fails), or forward
// them again when status is 0.
func (p *faultProxy) refuseWrites(status int) { p.refuse.Store(int32(status)) }

// statusDropped is what the proxy records for a held write whose
// connection closed before it was released (the manager gave up on it, or
// the proxy dropped its connections): it was never forwarded.
const statusDropped = 499

// holdWrites makes the proxy hold every write the manager sends until
// the function it returns is called, or the test ends, or the write's
// connection closes; holdWrites's waitHeld waits until one is held, so a
// test can break the control plane under a reconcile that is writing.
// release may be called more than once.
func (p *faultProxy) holdWrites(t *testing.T) (waitHeld func(*testing.T), release func()) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	gate := make(chan struct{})
	p.gate, p.held = gate, 0
	var once sync.Once
	waitHeld = func(t *testing.T) {
		t.Helper()
		for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
			p.mu.Lock()
			n := p.held
			p.mu.Unlock()
			if n > 0 {
				return
			}
			if time.Since(start) > 10*time.Second {
				t.Fatal("the manager sent no write in 10 s")
			}
		}
	}
	release = func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.gate == gate {
				p.gate = nil
			}
			close(gate)
		})
	}
	// A test that fails before it releases them must not leave writes
	// held: this runs before the manager, the proxy and envtest stop.
	t.Cleanup(release)
	return waitHeld, release
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		p.forward.ServeHTTP(w, r)
		return
	}
	p.mu.Lock()
	if gate := p.gate; gate != nil {
		p.held++
		p.mu.Unlock()
		// The request's context ends when its connection closes only
		// once its body has been read (net/http reads the connection in
		// the background from then on).
		body, err := io.ReadAll(r.Body)
		if err != nil {
			p.record(r, statusDropped)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-gate:
		case <-r.Context().Done():
			p.record(r, statusDropped)
			return
		}
		p.mu.Lock()
	}
	status := int(p.refuse.Load())
	i := len(p.writes)
	p.writes = append(p.writes, write{at: time.Now(), method: r.Method, path: r.URL.Path, refused: status, status: status})
	p.mu.Unlock()
	if status == 0 {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		p.forward.ServeHTTP(rec, r)
		p.mu.Lock()
		p.writes[i].status = rec.status
		p.mu.Unlock()
		return
	}
	reason := metav1.StatusReasonInternalError
	if status == http.StatusTooManyRequests {
		reason = metav1.StatusReasonTooManyRequests
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(&metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Code: int32(status), Reason: reason,
		Message: "refused by the test's fault proxy",
	})
}

// record records a write that was not forwarded, answered status.
func (p *faultProxy) record(r *http.Request, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes = append(p.writes, write{at: time.Now(), method: r.Method, path: r.URL.Path, status: status})
}

// statusRecorder remembers the status of a forwarded answer.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// writesBetween returns the writes the manager sent in [from, to).
func (p *faultProxy) writesBetween(from, to time.Time) []write {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []write
	for _, w := range p.writes {
		if !w.at.Before(from) && w.at.Before(to) {
			out = append(out, w)
		}
	}
	return out
}

// quiet waits until the manager has sent no write for gap, at most within.
func (p *faultProxy) quiet(t *testing.T, gap, within time.Duration) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		p.mu.Lock()
		last := start.Add(-gap)
		if n := len(p.writes); n > 0 && p.writes[n-1].at.After(last) {
			last = p.writes[n-1].at
		}
		p.mu.Unlock()
		if time.Since(last) >= gap {
			return
		}
		if time.Since(start) > within {
			t.Fatalf("the manager still writes after %v: %s", within, summary(p.writesBetween(start, time.Now())))
		}
	}
}

// summary counts writes by method and resource path, for failure messages
// and the test log.
func summary(writes []write) string {
	counts := map[string]int{}
	var keys []string
	for _, w := range writes {
		k := fmt.Sprintf("%s %s (%d)", w.method, resourceOf(w.path), w.status)
		if counts[k] == 0 {
			keys = append(keys, k)
		}
		counts[k]++
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d× %s", counts[k], k))
	}
	return strings.Join(parts, ", ")
}

// isEvent says whether w writes an Event (core/v1 or events.k8s.io/v1).
func isEvent(w write) bool {
	r := resourceOf(w.path)
	return r == "events" || strings.HasPrefix(r, "events/")
}

// resourceOf is a request path without its namespace and object name:
// /api/v1/namespaces/x/configmaps/y -> configmaps,
// /apis/ops.supportstack.io/v1alpha1/namespaces/x/supportteams/y/status ->
// supportteams/status.
func resourceOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "namespaces" && i+2 < len(parts) {
			tail := parts[i+2:]
			if len(tail) == 3 {
				return tail[0] + "/" + tail[2]
			}
			return tail[0]
		}
	}
	return path
}
