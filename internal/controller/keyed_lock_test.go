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
	"sync"
	"sync/atomic"
	"testing"
)

// TestKeyedLock: holders of one key exclude each other, other keys do not
// wait for them, and an entry is dropped once nobody holds or waits for it.
func TestKeyedLock(t *testing.T) {
	var k keyedLock
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				unlock := k.lock("ns-a")
				if n := inside.Add(1); n > most.Load() {
					most.Store(n)
				}
				inside.Add(-1)
				unlock()
			}
		})
	}
	// Another key is free while ns-a is held.
	unlockA := k.lock("ns-a")
	done := make(chan struct{})
	go func() {
		k.lock("ns-b")()
		close(done)
	}()
	<-done
	unlockA()
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d holders of one key at once, want 1", most.Load())
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.locks) != 0 {
		t.Errorf("%d entries left with no holder, want 0", len(k.locks))
	}
}
