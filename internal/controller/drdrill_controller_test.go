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
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/evidence"
)

// TestDrillScheduleAndHistory: scheduled runs on the drill's clock, never
// two at once, missed runs past the starting deadline skipped, history
// bounded with the newest passed run kept, and an invalid drill refused.
func TestDrillScheduleAndHistory(t *testing.T) {
	ctx := context.Background()
	suiteTime := fakeClock.Now()
	t.Cleanup(func() { fakeClock.SetTime(suiteTime) })
	// A schedule is read from the drill's creation, stamped in real time by
	// the API server: move the fake clock to a ten-minute mark at least a
	// minute after the real now, so the drill is created before it whatever
	// the date the suite runs on.
	start := time.Now().UTC().Add(time.Minute).Truncate(10 * time.Minute).Add(10 * time.Minute)
	fakeClock.SetTime(start)
	// Every ten minutes: the run due at start begins at once.
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) {
		d.Spec.Suspend = false
		d.Spec.Schedule = "*/10 * * * *"
		d.Spec.TimeZone = "UTC"
		d.Spec.HistoryLimit = opsv1alpha1.HistoryLimit{Passed: 0, Failed: 1}
		d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever
	})
	key := client.ObjectKeyFromObject(drill)
	nudge := func(v string) {
		t.Helper()
		if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Labels = map[string]string{"nudge": v} }); err != nil {
			t.Fatal(err)
		}
	}
	first := runsOf(t, drill, 1)[0]
	wantName := fmt.Sprintf("%s-%d", drill.Name, start.Unix()/60)
	if first.Name != wantName || first.Annotations[AnnotationScheduledAt] != start.Format(time.RFC3339) {
		t.Errorf("first scheduled run %s %v, want %s", first.Name, first.Annotations, wantName)
	}
	// While it runs, the next due time (start + 10m) passes: no second run.
	fakeClock.Step(11 * time.Minute)
	nudge("1")
	settle(t, func() string { return fmt.Sprint(len(runsOf(t, drill, 1))) })
	runsOf(t, drill, 1)
	walk(t, drill, first.Name, true, false)
	// Once it ended, the due run starts (no starting deadline).
	runs := runsOf(t, drill, 2)
	var second string
	for _, r := range runs {
		if r.Name != first.Name {
			second = r.Name
		}
	}
	walk(t, drill, second, false, false)

	// With a starting deadline, a run missed by more is skipped.
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Spec.StartingDeadlineSeconds = ptrTo[int64](60) }); err != nil {
		t.Fatal(err)
	}
	fakeClock.Step(2*time.Hour + 5*time.Minute)
	nudge("2")
	var d opsv1alpha1.DRDrill
	eventually(t, 20*time.Second, func() error {
		if err := k8sClient.Get(ctx, key, &d); err != nil {
			return err
		}
		if d.Status.LastScheduleTime == nil || fakeClock.Now().Sub(d.Status.LastScheduleTime.Time) > time.Hour {
			return fmt.Errorf("last schedule %v", d.Status.LastScheduleTime)
		}
		return nil
	})
	runsOf(t, drill, 2)

	// Two more failed runs by hand: history keeps one failed and the
	// newest passed run although historyLimit.passed is 0.
	for _, token := range []string{"f1", "f2"} {
		runNow(t, drill, token)
		var name string
		eventually(t, 20*time.Second, func() error {
			var list opsv1alpha1.DRDrillRunList
			if err := k8sClient.List(ctx, &list, client.InNamespace(drill.Namespace)); err != nil {
				return err
			}
			for _, r := range list.Items {
				if !r.Status.Phase.IsFinal() {
					name = r.Name
					return nil
				}
			}
			return errors.New("no active run")
		})
		walk(t, drill, name, false, false)
	}
	eventually(t, 20*time.Second, func() error {
		var list opsv1alpha1.DRDrillRunList
		if err := k8sClient.List(ctx, &list, client.InNamespace(drill.Namespace)); err != nil {
			return err
		}
		var phases []string
		for _, r := range list.Items {
			if r.DeletionTimestamp.IsZero() {
				phases = append(phases, r.Name+"="+string(r.Status.Phase))
			}
		}
		if len(phases) != 2 || !strings.Contains(strings.Join(phases, " "), first.Name+"=Passed") {
			return fmt.Errorf("runs kept: %v", phases)
		}
		return nil
	})
	// Evidence outlives the deleted runs: four records, one chain.
	chain, err := evidence.LoadChain(ctx, k8sClient, drill.Namespace, drill.Name)
	if err != nil || len(chain) != 4 {
		t.Fatalf("%d records, %v", len(chain), err)
	}
	if err := evidence.Verify(chain, testSigningKey.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("chain: %v", err)
	}

	// An invalid drill (a check naming a database the policy lacks) is not Ready and starts nothing.
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) {
		d.Spec.Checks[0].Database = "crm"
		d.Annotations[AnnotationRunNow] = "after-edit"
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		if err := k8sClient.Get(ctx, key, &d); err != nil {
			return err
		}
		c := meta.FindStatusCondition(d.Status.Conditions, opsv1alpha1.ConditionReady)
		want := `check tickets-present: BackupPolicy helpdesk backs up no database "crm" (it has helpdesk)`
		if c == nil || c.Reason != opsv1alpha1.ReasonInvalidSpec || c.Message != want {
			return fmt.Errorf("Ready %+v", c)
		}
		return nil
	})
	if d.Status.LastRunNowToken == "after-edit" {
		t.Error("an invalid drill started a run")
	}
}

func TestScheduleTimes(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		spec, zone, since, now string
		limit                  int
		// due: how many and the first and last ("" = none); next "" = the
		// walk stopped at limit.
		count       int
		first, last string
		next        string
	}{
		{"a minute before the due time", "0 6 * * 1", "UTC", "2026-11-20T00:00:00Z", "2026-11-23T05:59:00Z", 1000, 0, "", "", "2026-11-23T06:00:00Z"},
		{"at the due time", "0 6 * * 1", "UTC", "2026-11-20T00:00:00Z", "2026-11-23T06:00:00Z", 1000, 1, "2026-11-23T06:00:00Z", "2026-11-23T06:00:00Z", "2026-11-30T06:00:00Z"},
		// 06:00 in Warsaw is 05:00 UTC in winter.
		{"time zone", "0 6 * * 1", "Europe/Warsaw", "2026-11-20T00:00:00Z", "2026-11-23T05:30:00Z", 1000, 1, "2026-11-23T05:00:00Z", "2026-11-23T05:00:00Z", "2026-11-30T05:00:00Z"},
		// Several due: every one, oldest first, not only the newest.
		{"several due", "*/10 * * * *", "UTC", "2026-11-23T10:00:00Z", "2026-11-23T11:05:00Z", 1000, 6, "2026-11-23T10:10:00Z", "2026-11-23T11:00:00Z", "2026-11-23T11:10:00Z"},
		// Exactly limit due: the walk is complete.
		{"exactly the limit", "*/10 * * * *", "UTC", "2026-11-23T10:00:00Z", "2026-11-23T11:05:00Z", 6, 6, "2026-11-23T10:10:00Z", "2026-11-23T11:00:00Z", "2026-11-23T11:10:00Z"},
		// A year of minutes unattended: the walk stops at the limit and
		// says more are due; the next walk goes on from the last.
		{"a year of missed minutes", "* * * * *", "UTC", "2025-11-23T00:00:00Z", "2026-11-23T11:05:30Z", 1000, 1000, "2025-11-23T00:01:00Z", "2025-11-23T16:40:00Z", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := func(s string) time.Time {
				v, err := time.Parse(time.RFC3339, s)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			due, next, err := scheduleTimes(tc.spec, tc.zone, at(tc.since), at(tc.now), tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			wantNext := time.Time{}
			if tc.next != "" {
				wantNext = at(tc.next)
			}
			if len(due) != tc.count || !next.Equal(wantNext) {
				t.Fatalf("scheduleTimes(%q, %s, since %s, now %s) = %d times, next %v; want %d, %s", tc.spec, tc.zone, tc.since, tc.now, len(due), next, tc.count, tc.next)
			}
			if tc.count > 0 && (!due[0].Equal(at(tc.first)) || !due[len(due)-1].Equal(at(tc.last))) {
				t.Errorf("due from %v to %v, want %s to %s", due[0], due[len(due)-1], tc.first, tc.last)
			}
			for i := 1; i < len(due); i++ {
				if !due[i].After(due[i-1]) {
					t.Fatalf("not oldest first at %d: %v", i, due[i-1:i+1])
				}
			}
		})
	}
}

// TestBlockedNextSchedule: a drill that cannot start runs shows the oldest
// schedule time still owed (missed, not yet carried by a run), else the
// next one due.
func TestBlockedNextSchedule(t *testing.T) {
	at := func(hour, minute int) time.Time { return time.Date(2026, 11, 23, hour, minute, 0, 0, time.UTC) }
	times := func(ts ...time.Time) []metav1.Time {
		out := make([]metav1.Time, 0, len(ts))
		for _, t := range ts {
			out = append(out, metav1.Time{Time: t})
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		missed []metav1.Time
		next   time.Time
		want   time.Time
	}{
		{"nothing missed: the next time due", nil, at(12, 10), at(12, 10)},
		{"missed times: the oldest is still owed", times(at(11, 0), at(11, 10), at(11, 20)), at(11, 30), at(11, 0)},
		{"the oldest wherever it is listed", times(at(11, 20), at(10, 50), at(11, 10)), at(11, 30), at(10, 50)},
		{"the walk stopped with more due: the oldest missed", times(at(9, 0), at(9, 1)), time.Time{}, at(9, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := blockedNextSchedule(tc.missed, tc.next); !got.Equal(tc.want) {
				t.Errorf("blockedNextSchedule(%v, %v) = %v, want %v", tc.missed, tc.next, got, tc.want)
			}
		})
	}
}

func TestNewerRun(t *testing.T) {
	at := func(min int) *metav1.Time {
		return &metav1.Time{Time: time.Date(2026, 11, 23, 15, min, 0, 0, time.UTC)}
	}
	run := func(name string, created, completed int) *opsv1alpha1.DRDrillRun {
		return &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: *at(created)},
			Status: opsv1alpha1.DRDrillRunStatus{CompletionTime: at(completed)}}
	}
	for _, tc := range []struct {
		name string
		a, b *opsv1alpha1.DRDrillRun
		want bool
	}{
		{"completed later", run("a", 0, 20), run("b", 5, 10), true},               // completed later
		{"completed earlier", run("a", 0, 10), run("b", 5, 20), false},            // completed earlier
		{"ended together, created later", run("a", 5, 20), run("b", 0, 20), true}, // ended together: created later
		{"all equal, by name", run("b", 0, 20), run("a", 0, 20), true},            // all equal: by name, deterministic
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newerRun(tc.a, tc.b); got != tc.want {
				t.Errorf("newerRun(%s, %s) = %v", tc.a.Name, tc.b.Name, got)
			}
			if tc.a.Name != tc.b.Name && newerRun(tc.b, tc.a) == tc.want {
				t.Errorf("newerRun is not antisymmetric for %s, %s", tc.a.Name, tc.b.Name)
			}
		})
	}
}
