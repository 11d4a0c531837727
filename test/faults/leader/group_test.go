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
	"flag"
	"os"
	"strconv"
	"sync"
	"testing"
)

// sharedKillCases bounds the cases of one killGroup.
const sharedKillCases = 8

// TestMain lets a killGroup's cases run at once: they wait for each other
// at their kill points, so go test's -parallel (GOMAXPROCS by default, 2
// here) must not hold any of them back.
func TestMain(m *testing.M) {
	flag.Parse()
	if p, err := strconv.Atoi(flag.Lookup("test.parallel").Value.String()); err == nil && p < sharedKillCases {
		if err := flag.Set("test.parallel", strconv.Itoa(sharedKillCases)); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// killGroup is one kill shared by cases that run at the same time, each in
// a namespace of its own: every case carries its run to its own phase,
// and the last to get there kills the leader, with every run in flight.
type killGroup struct {
	f  *fleet
	mu sync.Mutex
	// waiting counts the cases not yet at their kill point.
	waiting int
	killed  chan struct{}
	// over is the kill; ok says it happened (false: a case failed before
	// its kill point, or the kill itself failed).
	over takeover
	ok   bool
}

func newKillGroup(f *fleet) *killGroup {
	return &killGroup{f: f, killed: make(chan struct{})}
}

// join counts a case in; call it before t.Parallel, so that every case
// that runs (a -run filter may leave some out) has joined before any
// arrives.
func (g *killGroup) join(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.waiting == sharedKillCases {
		t.Fatalf("more than %d cases share a kill: they could not all run at once", sharedKillCases)
	}
	g.waiting++
}

// arrive says the case's run is where its leader must die; it returns
// once the leader was killed.
func (g *killGroup) arrive(t *testing.T) takeover {
	t.Helper()
	if g.done() {
		g.kill(t)
	}
	<-g.killed
	if !g.ok {
		t.Fatal("the shared kill did not happen: another case failed before its kill point, or the kill failed (see it)")
	}
	return g.over
}

// leave is deferred by a case: one that failed before its kill point no
// longer holds the others up.
func (g *killGroup) leave(arrived bool) {
	if !arrived && g.done() {
		close(g.killed)
	}
}

// done counts a case out, and says whether it was the last.
func (g *killGroup) done() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiting--
	return g.waiting == 0
}

func (g *killGroup) kill(t *testing.T) {
	t.Helper()
	defer close(g.killed) // also when the kill fails the case that made it
	g.over = g.f.killLeader(t)
	g.ok = true
}
