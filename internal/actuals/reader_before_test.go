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

package actuals

import (
	"strings"
	"testing"
	"time"
)

// TestQueryCreatedBefore: CreatedBefore bounds the search by creation,
// 14 hours later than the bound (RT reads the date in its user's zone),
// and a Reader without it (the operator's) asks what it always asked.
func TestQueryCreatedBefore(t *testing.T) {
	start := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC)
	p := &Pass{Since: start, AfterID: 7}
	r := &Reader{Queues: []string{"support"}}
	want := "(Queue = 'support') AND LastUpdated > '2026-03-01 15:00:00' AND Created > '2026-03-01 15:00:00' AND id > 7"
	if got := r.query(p, start); got != want {
		t.Errorf("no bound: %s\nwant %s", got, want)
	}
	r.CreatedBefore = start.Add(7 * 24 * time.Hour)
	if got := r.query(p, start); !strings.Contains(got, " AND Created < '2026-03-09 19:00:00' AND id > 7") {
		t.Errorf("bounded: %s", got)
	}
}
