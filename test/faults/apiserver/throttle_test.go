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
	"maps"
	"math"
	"net/http"
	"slices"
	"testing"
	"time"
)

// What bounds the manager's retries (controller-runtime's and client-go's
// defaults, which the operator keeps).
const (
	// backoffBase is the first delay of the work queue's per-item
	// exponential backoff (workqueue.DefaultTypedControllerRateLimiter:
	// 5 ms, doubling, up to 1,000 s).
	backoffBase = 5 * time.Millisecond
	// retryAfter is the Retry-After the proxy sends with a 429: client-go
	// sleeps that long before it sends the request again (at most 10 times).
	retryAfter = time.Second
	// writesPerReconcile is how many writes a failing reconcile sends
	// before it gives up: the first child write that fails ends it, then
	// its deferred status patch (patchStatus) is tried once.
	writesPerReconcile = 2
	// maxRetries is how often client-go sends a request again after a 429
	// with Retry-After (rest.Request's default).
	maxRetries = 10
	// backedOffGap is the least the last gap between two refused writes
	// to one object in the 500 phase may be. The work queue's retries of
	// an object come 5 ms, 10 ms, ... 2.56 s, 5.12 s apart: a 10 s phase
	// whose retries start within its first 4.8 s (its first 500 answers
	// the resend of a write refused with 429, at most a second in) holds
	// the 2.56 s gap. A controller that requeues every second on an error
	// (style.md's anti-pattern, which the count bound alone lets pass)
	// writes every ~1 s to the end. A starved CPU only widens gaps.
	backedOffGap = 2 * time.Second
)

// refusedBound is the most writes a manager that backs off may send for
// objects (each reconciled by one controller, one reconcile at a time)
// while every write is refused for window:
//
//   - reconciles of one object: the one its spec change queues, one that
//     may be running or queued already, and the backoff's retries. Retry n
//     waits backoffBase·2ⁿ⁻¹, so k retries take backoffBase·(2ᵏ-1): within
//     window, k ≤ log2(window/backoffBase + 1);
//   - each reconcile sends writesPerReconcile first attempts;
//   - a 429 with Retry-After makes client-go send the same request again,
//     one attempt per retryAfter at most: window/retryAfter per object;
//   - Events: the recorder writes each in a goroutine of its own; it drops
//     an event the API server refuses (client-go's retries aside) and
//     records a repeat of a recorded event as a count in its cache, written
//     once (PATCH) as a series. Allowing each object one new event in the
//     window: 2 requests, each sent up to 1 + maxRetries times.
//
// For 2 objects and 20 s: 2 × (2 × (2 + 11) + 20 + 2 × 11) = 136. A
// reconcile retried without backoff would send a write every few
// milliseconds through the 500s: thousands.
func refusedBound(objects int, window time.Duration) int {
	retries := int(math.Log2(float64(window)/float64(backoffBase) + 1))
	reconciles := 2 + retries
	events := 2 * (1 + maxRetries)
	return objects * (writesPerReconcile*reconciles + int(window/retryAfter) + events)
}

// TestAPIServerRefusesWrites: for 10 s the API server answers every write
// of the manager's with 429 (Retry-After: 1), then for 10 s with 500, while
// the team's and the policy's specs change. The manager backs off (the
// writes it sends stay within refusedBound), does not exit, and once the
// writes pass again both objects reach the new revision within the
// backoff's last delay (no status update is lost): status observed the new
// generation and says what it means, and the children hold the new spec.
func TestAPIServerRefusesWrites(t *testing.T) {
	const phase = 10 * time.Second
	cp := startControlPlane(t)
	proxy := newFaultProxy(t, cp.cfg)
	mgr := startManager(t, proxy.config())
	f := newFixture(t, cp.direct)
	ready := f.converge(t, 0, 30*time.Second)
	t.Logf("Ready %v after creation", ready.Round(time.Millisecond))
	// The window starts once creation's writes and events are done.
	proxy.quiet(t, time.Second, 10*time.Second)

	start := time.Now()
	proxy.refuseWrites(http.StatusTooManyRequests)
	f.change(t, 1)
	time.Sleep(phase)
	switched := time.Now()
	proxy.refuseWrites(http.StatusInternalServerError)
	time.Sleep(phase)
	proxy.refuseWrites(0)
	end := time.Now()

	mgr.running(t)
	throttled := proxy.writesBetween(start, switched)
	failed := proxy.writesBetween(switched, end)
	t.Logf("refused while answering 429: %d (%s)", len(throttled), summary(throttled))
	t.Logf("refused while answering 500: %d (%s)", len(failed), summary(failed))
	if len(throttled) == 0 || len(failed) == 0 {
		t.Fatalf("the manager sent %d writes in the 429 phase and %d in the 500 phase: the fault was not exercised", len(throttled), len(failed))
	}
	bound := refusedBound(2, end.Sub(start))
	if n := len(throttled) + len(failed); n > bound {
		t.Errorf("the manager sent %d writes in %v of refusals, more than the %d a backoff allows: a hot loop", n, end.Sub(start).Round(time.Second), bound)
	}

	// In the 500 phase (no Retry-After, so client-go sends nothing again)
	// each refused write is a reconcile's: the gaps between the writes to
	// one object must grow, as the backoff's do. Events aside: the
	// recorder writes them on its own.
	gaps := gapsByObject(failed)
	if len(gaps) == 0 {
		t.Errorf("no object was written 3 times in the 500 phase: %s", summary(failed))
	}
	for _, path := range slices.Sorted(maps.Keys(gaps)) {
		g := gaps[path]
		t.Logf("500 phase, %s: gaps %v", path, g)
		if last := g[len(g)-1]; last < backedOffGap {
			t.Errorf("the manager retried %s %v after the previous refused write at the end of the 500 phase (gaps %v), less than the %v a backoff leaves: it does not back off", path, last, g, backedOffGap)
		}
	}

	// The last retry in the window waited less than the window: the next
	// comes at most one window after it ended, and its reconcile's writes pass.
	took := f.converge(t, 1, end.Sub(start)+5*time.Second)
	t.Logf("revision 1 reached %v after the fault ended", took.Round(time.Millisecond))
	mgr.running(t)
}

// gapsByObject returns, for each object (request path) written at least 3
// times among writes, Events aside, the gaps between its successive
// writes, rounded to the millisecond.
func gapsByObject(writes []write) map[string][]time.Duration {
	byPath := map[string][]time.Time{}
	for _, w := range writes {
		if !isEvent(w) {
			byPath[w.path] = append(byPath[w.path], w.at)
		}
	}
	gaps := map[string][]time.Duration{}
	for path, at := range byPath {
		if len(at) < 3 {
			continue
		}
		g := make([]time.Duration, 0, len(at)-1)
		for i := 1; i < len(at); i++ {
			g = append(g, at[i].Sub(at[i-1]).Round(time.Millisecond))
		}
		gaps[path] = g
	}
	return gaps
}
