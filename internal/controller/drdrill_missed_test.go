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
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/evidence"
	"github.com/supportstack/operator/internal/testenv"
)

// scheduleStart moves the fake clock to a ten-minute mark at least a
// minute after the real now (a drill's schedule is read from its creation,
// stamped in real time by the API server) and puts it back after the test.
func scheduleStart(t *testing.T) time.Time {
	t.Helper()
	suiteTime := fakeClock.Now()
	t.Cleanup(func() { fakeClock.SetTime(suiteTime) })
	start := time.Now().UTC().Add(time.Minute).Truncate(10 * time.Minute).Add(10 * time.Minute)
	fakeClock.SetTime(start)
	return start
}

// tenMinuteMarks are the ten-minute marks from..to minutes (inclusive)
// after start.
func tenMinuteMarks(start time.Time, from, to int) []time.Time {
	var out []time.Time
	for m := from; m <= to; m += 10 {
		out = append(out, start.Add(time.Duration(m)*time.Minute))
	}
	return out
}

// marksAfter are the ten-minute marks after created and not after until:
// the schedule times of a "*/10 * * * *" drill created then.
func marksAfter(created, until time.Time) []time.Time {
	var out []time.Time
	for t := created.Truncate(10 * time.Minute).Add(10 * time.Minute); !t.After(until); t = t.Add(10 * time.Minute) {
		out = append(out, t)
	}
	return out
}

func unixTimes(ts []metav1.Time) []int64 {
	out := make([]int64, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Unix())
	}
	return out
}

func wantUnix(ts []time.Time) []int64 {
	out := make([]int64, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Unix())
	}
	return out
}

// TestDrillMissedSchedulesRecorded (issue 12, item 5): every schedule time
// that passes without a run is kept in the drill's status, counted once in
// supportstack_drill_missed_schedules_total and named in one event; the
// next run the drill creates carries them in its spec, the drill's list is
// cleared, and the run's evidence report records them. Past 32 the oldest
// are counted, not listed, and a run-now run carries them too.
func TestDrillMissedSchedulesRecorded(t *testing.T) {
	ctx := context.Background()
	start := scheduleStart(t)
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) {
		d.Spec.Schedule = "*/10 * * * *"
		d.Spec.TimeZone = "UTC"
		d.Spec.StartingDeadlineSeconds = ptrTo[int64](60)
		d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever
	})
	key := client.ObjectKeyFromObject(drill)
	ns, name := drill.Namespace, drill.Name
	// Suspended: no schedule, no next-schedule series.
	var d opsv1alpha1.DRDrill
	eventually(t, 20*time.Second, func() error {
		mustGet(t, k8sClient, key, &d)
		if d.Status.ObservedGeneration != d.Generation {
			return fmt.Errorf("not reconciled yet")
		}
		return nil
	})
	if series := strings.Join(seriesOf(t, "supportstack_drill_next_schedule_timestamp_seconds"), " "); strings.Contains(series, ns+"/"+name) {
		t.Errorf("next schedule exported for a suspended drill: %s", series)
	}
	if series := strings.Join(seriesOf(t, "supportstack_drill_missed_schedules_total"), " "); strings.Contains(series, ns+"/"+name) {
		t.Errorf("missed schedules counted before any was missed: %s", series)
	}

	// The drill, suspended, let the schedule times since its creation
	// pass (up to start+30m; at least four); the newest is 5m late, past
	// the 60s deadline: all are missed.
	fakeClock.SetTime(start.Add(35 * time.Minute))
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Spec.Suspend = false }); err != nil {
		t.Fatal(err)
	}
	missed := marksAfter(d.CreationTimestamp.Time, start.Add(30*time.Minute))
	n := len(missed)
	eventually(t, 20*time.Second, func() error {
		mustGet(t, k8sClient, key, &d)
		if got := unixTimes(d.Status.MissedSchedules); fmt.Sprint(got) != fmt.Sprint(wantUnix(missed)) {
			return fmt.Errorf("status.missedSchedules %v, want %v", got, wantUnix(missed))
		}
		// Waited for too: CI once read the missed schedules with no
		// nextScheduleTime beside them (the shared fake clock moves
		// under parallel tests).
		if d.Status.NextScheduleTime == nil {
			return fmt.Errorf("no nextScheduleTime yet")
		}
		return nil
	})
	if d.Status.MissedSchedulesDropped != 0 || d.Status.LastScheduleTime == nil || !d.Status.LastScheduleTime.Equal(&metav1.Time{Time: start.Add(30 * time.Minute)}) {
		t.Errorf("dropped %d, lastScheduleTime %v", d.Status.MissedSchedulesDropped, d.Status.LastScheduleTime)
	}
	if d.Status.NextScheduleTime == nil || !d.Status.NextScheduleTime.Time.Equal(start.Add(40*time.Minute)) {
		t.Errorf("nextScheduleTime %v", d.Status.NextScheduleTime)
	}
	eventually(t, 10*time.Second, func() error {
		if got := drillNextSchedule.WithLabelValues(ns, name).Value(); got != float64(start.Add(40*time.Minute).Unix()) {
			return fmt.Errorf("next schedule metric %v", got)
		}
		return nil
	})
	// Counted once, however often the drill is reconciled again.
	for i := range 3 {
		if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Labels = map[string]string{"nudge": fmt.Sprint(i)} }); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, func() string { mustGet(t, k8sClient, key, &d); return d.ResourceVersion })
	missedCounter(t, ns, name, n)
	wantEvent := fmt.Sprintf("%d scheduled run(s) did not start (due from %s to %s): the newest, due at %s, was 5m0s late, past the starting deadline of 60s",
		n, missed[0].Format(time.RFC3339), missed[n-1].Format(time.RFC3339), missed[n-1].Format(time.RFC3339))
	waitNotes(t, ns, name, opsv1alpha1.ReasonMissedSchedule, fmt.Sprintf("one starting %q", wantEvent), func(notes []string) bool {
		return len(notes) == 1 && strings.HasPrefix(notes[0], wantEvent)
	})
	runsOf(t, drill, 0)

	// The next due time runs: the run carries the four, the drill's list
	// is cleared, and the run's evidence records them.
	fakeClock.SetTime(start.Add(40 * time.Minute))
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Labels = map[string]string{"nudge": "run"} }); err != nil {
		t.Fatal(err)
	}
	run := runsOf(t, drill, 1)[0]
	if run.Name != ScheduledRunName(drill, start.Add(40*time.Minute)) || fmt.Sprint(unixTimes(run.Spec.MissedSchedules)) != fmt.Sprint(wantUnix(missed)) || run.Spec.MissedSchedulesDropped != 0 {
		t.Fatalf("run %s carries %v (+%d)", run.Name, unixTimes(run.Spec.MissedSchedules), run.Spec.MissedSchedulesDropped)
	}
	// Cleared in the write that acknowledges the run, right after creating it.
	eventually(t, 10*time.Second, func() error {
		mustGet(t, k8sClient, key, &d)
		if len(d.Status.CreatedRuns) != 1 {
			return fmt.Errorf("run not acknowledged yet")
		}
		if len(d.Status.MissedSchedules) != 0 || d.Status.MissedSchedulesDropped != 0 || !d.Status.LastScheduleTime.Time.Equal(start.Add(40*time.Minute)) {
			return fmt.Errorf("after the run: missed %v (+%d), lastScheduleTime %v", d.Status.MissedSchedules, d.Status.MissedSchedulesDropped, d.Status.LastScheduleTime)
		}
		return nil
	})
	finished := walk(t, drill, run.Name, true, false)
	chain, err := evidence.LoadChain(ctx, k8sClient, ns, name)
	if err != nil || len(chain) != 1 {
		t.Fatalf("%d records, %v", len(chain), err)
	}
	if err := evidence.VerifyChain(chain, testSigningKey.Public().(ed25519.PublicKey), evidence.Expect{Drill: ns + "/" + name}); err != nil {
		t.Fatalf("chain: %v", err)
	}
	report, err := evidence.Parse(chain[0].Canonical)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.MissedSchedules) != n || !report.MissedSchedules[0].Equal(missed[0]) || !report.MissedSchedules[n-1].Equal(missed[n-1]) || report.MissedSchedulesDropped != 0 {
		t.Errorf("the report records missed %v (+%d)", report.MissedSchedules, report.MissedSchedulesDropped)
	}
	if report.Run != finished.Name || report.RecoverySet != finished.Status.Snapshot.RecoverySet {
		t.Errorf("report of %s, recovery set %q; run's %q", report.Run, report.RecoverySet, finished.Status.Snapshot.RecoverySet)
	}
	eventually(t, 10*time.Second, func() error {
		if got := drillLastRunPassed.WithLabelValues(ns, name).Value(); got != 1 {
			return fmt.Errorf("last run passed metric %v", got)
		}
		return nil
	})

	// Six hours unattended: 36 more times pass, the newest past its
	// deadline. 32 are listed, the 4 oldest counted; a run-now run carries
	// them all and the drill's list is cleared.
	fakeClock.SetTime(start.Add(6*time.Hour + 45*time.Minute))
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Labels = map[string]string{"nudge": "later"} }); err != nil {
		t.Fatal(err)
	}
	later := tenMinuteMarks(start, 50, 400)
	eventually(t, 20*time.Second, func() error {
		mustGet(t, k8sClient, key, &d)
		if got := unixTimes(d.Status.MissedSchedules); fmt.Sprint(got) != fmt.Sprint(wantUnix(later[4:])) || d.Status.MissedSchedulesDropped != 4 {
			return fmt.Errorf("status.missedSchedules %d listed (+%d dropped), want the newest 32 of %d", len(got), d.Status.MissedSchedulesDropped, len(later))
		}
		return nil
	})
	missedCounter(t, ns, name, n+36)
	runNow(t, drill, "after-the-gap")
	carried := waitRun(t, ns, RunNowRunName(drill, "after-the-gap"), func(*opsv1alpha1.DRDrillRun) error { return nil })
	if fmt.Sprint(unixTimes(carried.Spec.MissedSchedules)) != fmt.Sprint(wantUnix(later[4:])) || carried.Spec.MissedSchedulesDropped != 4 {
		t.Errorf("run-now run carries %d (+%d)", len(carried.Spec.MissedSchedules), carried.Spec.MissedSchedulesDropped)
	}
	eventually(t, 10*time.Second, func() error {
		mustGet(t, k8sClient, key, &d)
		if len(d.Status.MissedSchedules) != 0 || d.Status.MissedSchedulesDropped != 0 {
			return fmt.Errorf("drill still holds %d (+%d)", len(d.Status.MissedSchedules), d.Status.MissedSchedulesDropped)
		}
		return nil
	})

	// Suspended again: the next-schedule series is gone.
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Spec.Suspend = true }); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		for _, m := range seriesOf(t, "supportstack_drill_next_schedule_timestamp_seconds") {
			if m == ns+"/"+name {
				return fmt.Errorf("next schedule still exported for the suspended drill")
			}
		}
		return nil
	})
}

// missedCounter waits for supportstack_drill_missed_schedules_total of
// the drill to read want. The reconciler adds to it right after the
// status write that records the times, so a test that has just seen that
// write may read the counter before the addition (CI once read 4 of 40).
// A count past want never comes back to it: the wait fails then too.
func missedCounter(t *testing.T, ns, name string, want int) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		if got := testutil.ToFloat64(drillMissedSchedules.WithLabelValues(ns, name)); got != float64(want) {
			return fmt.Errorf("missed counter %v, want %d", got, want)
		}
		return nil
	})
}

// seriesOf lists the namespace/drill label pairs of a drill metric's series.
func seriesOf(t *testing.T, metric string) []string {
	t.Helper()
	return slices.Sorted(maps.Keys(gaugesOf(t, metric)))
}

// gaugesOf returns a drill gauge's values by namespace/drill.
func gaugesOf(t *testing.T, metric string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range exportedGauges(t, metric) {
		out[s.labels["namespace"]+"/"+s.labels["drill"]] = s.value
	}
	return out
}

// TestDrillMissedSchedulesAcrossACrash: the operator stopped after
// creating a scheduled run and before acknowledging it, which is when the
// drill's missed list is cleared. The new operator finds the run under its
// deterministic name carrying exactly the list the drill holds,
// acknowledges it and clears the list in one write: the times are
// recorded once (by that run), not lost and not carried again. A run under
// that name carrying another list is not the drill's: it is refused, the
// schedule time it took is recorded as missed and the list stays for the
// next run.
func TestDrillMissedSchedulesAcrossACrash(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// forge changes the run found under the name from the one the
		// drill would create.
		forge        func(run *opsv1alpha1.DRDrillRun)
		acknowledged bool
	}{
		{"the drill's own run", func(*opsv1alpha1.DRDrillRun) {}, true},
		{"a run hiding the missed times", func(run *opsv1alpha1.DRDrillRun) { run.Spec.MissedSchedules = nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := scheduleStart(t)
			drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) {
				d.Spec.Schedule = "*/10 * * * *"
				d.Spec.TimeZone = "UTC"
				d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever
			})
			key := client.ObjectKeyFromObject(drill)
			ns, name := drill.Namespace, drill.Name
			// What the previous operator wrote before it stopped: two
			// missed times recorded, then the run due at +20m created.
			missed := tenMinuteMarks(start, 0, 10)
			due := start.Add(20 * time.Minute)
			startManagerAgain := stopManagerFor(t)
			if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Spec.Suspend = false }); err != nil {
				t.Fatal(err)
			}
			var d opsv1alpha1.DRDrill
			mustGet(t, k8sClient, key, &d)
			d.Status.MissedSchedules = []metav1.Time{{Time: missed[0]}, {Time: missed[1]}}
			d.Status.LastScheduleTime = &metav1.Time{Time: missed[1]}
			if err := k8sClient.Status().Update(ctx, &d); err != nil {
				t.Fatal(err)
			}
			trigger := &opsv1alpha1.RunTrigger{Kind: opsv1alpha1.RunTriggerSchedule, ScheduledTime: &metav1.Time{Time: due}}
			run, err := newRun(&d, ScheduledRunName(&d, due), trigger, k8sClient.Scheme())
			if err != nil {
				t.Fatal(err)
			}
			tc.forge(run)
			if err := k8sClient.Create(ctx, run); err != nil {
				t.Fatal(err)
			}
			before := testutil.ToFloat64(drillMissedSchedules.WithLabelValues(ns, name))
			fakeClock.SetTime(due.Add(time.Minute))
			startManagerAgain()

			if tc.acknowledged {
				waitRun(t, ns, run.Name, inPhase(opsv1alpha1.DrillRunProvisioning))
				eventually(t, 20*time.Second, func() error {
					mustGet(t, k8sClient, key, &d)
					if len(d.Status.CreatedRuns) != 1 || d.Status.CreatedRuns[0].UID != run.UID {
						return fmt.Errorf("createdRuns %v", d.Status.CreatedRuns)
					}
					return nil
				})
				if len(d.Status.MissedSchedules) != 0 || !d.Status.LastScheduleTime.Time.Equal(due) {
					t.Errorf("after acknowledging: missed %v, lastScheduleTime %v", d.Status.MissedSchedules, d.Status.LastScheduleTime)
				}
				if got := testutil.ToFloat64(drillMissedSchedules.WithLabelValues(ns, name)); got != before {
					t.Errorf("missed counter moved from %v to %v: times recorded before the crash counted again", before, got)
				}
				finished := walk(t, &d, run.Name, true, false)
				chain, err := evidence.LoadChain(ctx, k8sClient, ns, name)
				if err != nil || len(chain) != 1 {
					t.Fatalf("%d records, %v", len(chain), err)
				}
				report, _ := evidence.Parse(chain[0].Canonical)
				if report.Run != finished.Name || len(report.MissedSchedules) != 2 || !report.MissedSchedules[1].Equal(missed[1]) {
					t.Errorf("report of %s records missed %v", report.Run, report.MissedSchedules)
				}
				// A later run carries nothing: the times are recorded once.
				runNow(t, &d, "later")
				later := waitRun(t, ns, RunNowRunName(&d, "later"), func(*opsv1alpha1.DRDrillRun) error { return nil })
				if len(later.Spec.MissedSchedules) != 0 {
					t.Errorf("the next run carries %v again", later.Spec.MissedSchedules)
				}
				return
			}
			waitRun(t, ns, run.Name, inPhase(opsv1alpha1.DrillRunError))
			want := []int64{missed[0].Unix(), missed[1].Unix(), due.Unix()}
			eventually(t, 20*time.Second, func() error {
				mustGet(t, k8sClient, key, &d)
				if got := unixTimes(d.Status.MissedSchedules); fmt.Sprint(got) != fmt.Sprint(want) {
					return fmt.Errorf("status.missedSchedules %v, want %v", got, want)
				}
				return nil
			})
			if len(d.Status.CreatedRuns) != 0 {
				t.Errorf("the forged run was acknowledged: %v", d.Status.CreatedRuns)
			}
			missedCounter(t, ns, name, int(before)+1)
			const forged = "a run the operator did not create holds the name of the run due then"
			waitNotes(t, ns, name, opsv1alpha1.ReasonMissedSchedule, fmt.Sprintf("one saying %q", forged), func(notes []string) bool {
				return len(notes) == 1 && strings.Contains(notes[0], forged)
			})
			noEvidenceOf(t, drill, run.Name)
		})
	}
}

// TestDrillMissedSchedulesLongOutage: a minutely drill left for more than
// two days has more missed times than one reconcile walks
// (maxScheduleWalk); they are walked and recorded 1000 at a time over
// successive reconciles, each counted exactly once: the counter, the 32
// listed and the dropped count add up to every minute that passed.
func TestDrillMissedSchedulesLongOutage(t *testing.T) {
	start := scheduleStart(t)
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) {
		d.Spec.Schedule = "* * * * *"
		d.Spec.TimeZone = "UTC"
		d.Spec.StartingDeadlineSeconds = ptrTo[int64](10)
	})
	key := client.ObjectKeyFromObject(drill)
	ns, name := drill.Namespace, drill.Name
	var d opsv1alpha1.DRDrill
	mustGet(t, k8sClient, key, &d)
	now := start.Add(2500*time.Minute + 30*time.Second)
	want := int64(now.Truncate(time.Minute).Sub(d.CreationTimestamp.Truncate(time.Minute)) / time.Minute)
	if want <= 2*maxScheduleWalk {
		t.Fatalf("only %d minutes: the walk would not be split three times", want)
	}
	fakeClock.SetTime(now)
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Spec.Suspend = false }); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		mustGet(t, k8sClient, key, &d)
		if d.Status.NextScheduleTime == nil || !d.Status.NextScheduleTime.Time.Equal(now.Truncate(time.Minute).Add(time.Minute)) {
			return fmt.Errorf("nextScheduleTime %v: still walking", d.Status.NextScheduleTime)
		}
		return nil
	})
	if got := int64(len(d.Status.MissedSchedules)) + d.Status.MissedSchedulesDropped; len(d.Status.MissedSchedules) != maxMissedSchedules || got != want ||
		!d.Status.MissedSchedules[maxMissedSchedules-1].Time.Equal(now.Truncate(time.Minute)) {
		t.Errorf("%d listed + %d dropped = %d, want %d ending at %v", len(d.Status.MissedSchedules), d.Status.MissedSchedulesDropped, got, want, now.Truncate(time.Minute))
	}
	missedCounter(t, ns, name, int(want))
	// One event per walk: two of 1000, then the rest.
	waitNotes(t, ns, name, opsv1alpha1.ReasonMissedSchedule, "three, two of them for 1000 times", func(notes []string) bool {
		full := 0
		for _, n := range notes {
			if strings.HasPrefix(n, "1000 scheduled run(s) did not start") {
				full++
			}
		}
		return len(notes) == 3 && full == 2
	})
	runsOf(t, drill, 0)
}

// TestDrillBlockedKeepsSchedule (issue 12, finding 7): a drill that cannot
// start runs (its BackupPolicy renamed away) does not stop silently. Each
// schedule time is recorded as missed as it passes, counted once, in an
// event that says why; status.nextScheduleTime and its gauge stay at the
// oldest time owed, falling into the past, so SupportStackDrillNotScheduled
// (time() - gauge > 3600) fires once it is an hour late. Between schedule
// times a reconcile writes nothing. Suspended, it owes nothing. Fixed, the
// drill schedules on from the newest time recorded: nothing is counted
// twice, and the next run carries every time missed.
func TestDrillBlockedKeepsSchedule(t *testing.T) {
	ctx := context.Background()
	start := scheduleStart(t)
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) {
		d.Spec.Suspend = false
		d.Spec.Schedule = "*/10 * * * *"
		d.Spec.TimeZone = "UTC"
		d.Spec.BackupPolicyName = "helpdesk-renamed"
		d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever
	})
	key := client.ObjectKeyFromObject(drill)
	ns, name := drill.Namespace, drill.Name
	nudge := func(v string) {
		t.Helper()
		if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Labels = map[string]string{"nudge": v} }); err != nil {
			t.Fatal(err)
		}
	}
	var d opsv1alpha1.DRDrill
	mustGet(t, k8sClient, key, &d)
	created := d.CreationTimestamp.Time
	gauge := func() float64 { return drillNextSchedule.WithLabelValues(ns, name).Value() }
	// blocked waits until the drill is invalid and has recorded exactly
	// missed, showing owed as its next schedule time and gauge.
	blocked := func(missed []time.Time, owed time.Time) {
		t.Helper()
		eventually(t, 20*time.Second, func() error {
			mustGet(t, k8sClient, key, &d)
			if c := meta.FindStatusCondition(d.Status.Conditions, opsv1alpha1.ConditionReady); c == nil || c.Reason != opsv1alpha1.ReasonInvalidSpec {
				return fmt.Errorf("Ready %+v", c)
			}
			if got := unixTimes(d.Status.MissedSchedules); fmt.Sprint(got) != fmt.Sprint(wantUnix(missed)) {
				return fmt.Errorf("status.missedSchedules %v, want %v", got, wantUnix(missed))
			}
			if d.Status.NextScheduleTime == nil || !d.Status.NextScheduleTime.Time.Equal(owed) {
				return fmt.Errorf("nextScheduleTime %v, want %v", d.Status.NextScheduleTime, owed)
			}
			if got := gauge(); got != float64(owed.Unix()) {
				return fmt.Errorf("next schedule gauge %v, want %d", got, owed.Unix())
			}
			return nil
		})
	}

	// At start the times since creation (start and any before) passed
	// without a run: recorded at once, the oldest still owed.
	missed := marksAfter(created, start)
	owed := missed[0]
	blocked(missed, owed)
	missedCounter(t, ns, name, len(missed))
	why := fmt.Sprintf("the drill is invalid: backupPolicyName: BackupPolicy helpdesk-renamed not found in %s", ns)
	waitNotes(t, ns, name, opsv1alpha1.ReasonMissedSchedule, fmt.Sprintf("one saying %q", why),
		func(notes []string) bool { return len(notes) == 1 && strings.Contains(notes[0], why) })

	// Steady between schedule times: three reconciles send no write and
	// record no event.
	settle(t, func() string { mustGet(t, k8sClient, key, &d); return d.ResourceVersion })
	c, writes := countingClient(t)
	recorder := events.NewFakeRecorder(10)
	r := &DRDrillReconciler{Client: c, APIReader: c, Recorder: recorder, Clock: fakeClock}
	for range 3 {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
			t.Fatal(err)
		}
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("3 reconciles of a blocked drill between schedule times sent %d write requests, want 0", n)
	}
	if n := len(recorder.Events); n != 0 {
		t.Errorf("3 reconciles of a blocked drill between schedule times recorded %d events, e.g. %q", n, <-recorder.Events)
	}

	// 75 minutes on: seven more times recorded as they passed, the gauge
	// still at the oldest owed, now over an hour behind: the alert's
	// expression holds.
	fakeClock.SetTime(start.Add(75 * time.Minute))
	nudge("later")
	missed = marksAfter(created, start.Add(70*time.Minute))
	blocked(missed, owed)
	if late := fakeClock.Now().Unix() - int64(gauge()); late <= 3600 {
		t.Errorf("time() - next schedule gauge = %ds: SupportStackDrillNotScheduled (> 3600) would not fire", late)
	}
	missedCounter(t, ns, name, len(missed))
	waitNotes(t, ns, name, opsv1alpha1.ReasonMissedSchedule, fmt.Sprintf("two saying %q", why), func(notes []string) bool {
		return len(notes) == 2 && strings.Contains(notes[0], why) && strings.Contains(notes[1], why)
	})

	// Suspended it owes nothing: no series. Unsuspended, still invalid,
	// the times it missed are still owed.
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Spec.Suspend = true }); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		mustGet(t, k8sClient, key, &d)
		if d.Status.NextScheduleTime != nil || slices.Contains(seriesOf(t, "supportstack_drill_next_schedule_timestamp_seconds"), ns+"/"+name) {
			return fmt.Errorf("suspended: nextScheduleTime %v, or its series still exported", d.Status.NextScheduleTime)
		}
		return nil
	})
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Spec.Suspend = false }); err != nil {
		t.Fatal(err)
	}
	blocked(missed, owed)

	// Fixed: Ready, the next time ahead, nothing recorded or counted again.
	next := start.Add(80 * time.Minute)
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) { d.Spec.BackupPolicyName = "helpdesk" }); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		mustGet(t, k8sClient, key, &d)
		if c := meta.FindStatusCondition(d.Status.Conditions, opsv1alpha1.ConditionReady); c == nil || c.Reason != opsv1alpha1.ReasonReconciled {
			return fmt.Errorf("Ready %+v", c)
		}
		return nil
	})
	if got := unixTimes(d.Status.MissedSchedules); fmt.Sprint(got) != fmt.Sprint(wantUnix(missed)) || d.Status.NextScheduleTime == nil || !d.Status.NextScheduleTime.Time.Equal(next) {
		t.Errorf("fixed: missed %v (want %v), nextScheduleTime %v (want %v)", got, wantUnix(missed), d.Status.NextScheduleTime, next)
	}
	if got := testutil.ToFloat64(drillMissedSchedules.WithLabelValues(ns, name)); got != float64(len(missed)) {
		t.Errorf("missed counter %v after the fix, want %d: times counted twice", got, len(missed))
	}
	if notes := eventNotes(t, ns, name, opsv1alpha1.ReasonMissedSchedule); len(notes) != 2 {
		t.Errorf("MissedSchedule events after the fix %q, want the two from before", notes)
	}
	runsOf(t, drill, 0)

	// The next due time runs and carries every time missed while blocked.
	fakeClock.SetTime(next)
	nudge("run")
	run := runsOf(t, drill, 1)[0]
	if run.Name != ScheduledRunName(drill, next) || fmt.Sprint(unixTimes(run.Spec.MissedSchedules)) != fmt.Sprint(wantUnix(missed)) {
		t.Errorf("run %s carries %v, want %v", run.Name, unixTimes(run.Spec.MissedSchedules), wantUnix(missed))
	}
	eventually(t, 20*time.Second, func() error {
		mustGet(t, k8sClient, key, &d)
		if len(d.Status.CreatedRuns) != 1 || len(d.Status.MissedSchedules) != 0 {
			return fmt.Errorf("after the run: createdRuns %v, missed %v", d.Status.CreatedRuns, d.Status.MissedSchedules)
		}
		return nil
	})
}

// TestMissedEventsFromAStaleCache (CI flake of
// TestDrillMissedSchedulesLongOutage): two walks recorded from the same
// cached copy of the drill, whose resourceVersion did not move between
// them, are two MissedSchedule events, each with its own times. The
// recorder folds events about one object version with the same reason
// and action into a series that keeps the first note, so an event that
// named the cache's version lost the second walk's times.
func TestMissedEventsFromAStaleCache(t *testing.T) {
	ctx := context.Background()
	start := scheduleStart(t)
	drill := drillFixture(t, nil)
	clientset, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: clientset.EventsV1()})
	stop := make(chan struct{})
	broadcaster.StartRecordingToSink(stop)
	t.Cleanup(func() { close(stop); broadcaster.Shutdown() })
	r := &DRDrillReconciler{Client: k8sClient, APIReader: k8sClient, Clock: fakeClock,
		Recorder: broadcaster.NewRecorder(testenv.Scheme(), "supportstack-drdrill-stale")}
	var cached opsv1alpha1.DRDrill
	mustGet(t, k8sClient, client.ObjectKeyFromObject(drill), &cached)
	for i, at := range []time.Time{start.Add(time.Minute), start.Add(2 * time.Minute)} {
		if err := r.recordMissed(ctx, cached.DeepCopy(), cached.DeepCopy(), []time.Time{at}, fmt.Sprintf("walk %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitNotes(t, drill.Namespace, drill.Name, opsv1alpha1.ReasonMissedSchedule, "two, one per walk", func(notes []string) bool {
		return len(notes) == 2 && slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, "walk 1") })
	})
}

// TestDrillObjectiveMetrics: the drill's objectives are exported beside
// what runs measure (the dashboard draws measured RTO against the
// objective), follow edits, and go with the objective or the drill.
func TestDrillObjectiveMetrics(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) {
		d.Spec.Objectives = &opsv1alpha1.DrillObjectives{RTO: &metav1.Duration{Duration: 30 * time.Minute}, RPO: &metav1.Duration{Duration: 26 * time.Hour}}
	})
	id := drill.Namespace + "/" + drill.Name
	expect := func(rto, rpo float64) {
		t.Helper()
		eventually(t, 20*time.Second, func() error {
			for _, e := range []struct {
				metric string
				want   float64
			}{{"supportstack_drill_rto_objective_seconds", rto}, {"supportstack_drill_rpo_objective_seconds", rpo}} {
				got, ok := gaugesOf(t, e.metric)[id]
				if e.want < 0 && ok {
					return fmt.Errorf("%s{%s} = %v, want no series", e.metric, id, got)
				}
				if e.want >= 0 && (!ok || got != e.want) {
					return fmt.Errorf("%s{%s} = %v (present %v), want %v", e.metric, id, got, ok, e.want)
				}
			}
			return nil
		})
	}
	expect(1800, 26*3600)
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) {
		d.Spec.Objectives = &opsv1alpha1.DrillObjectives{RTO: &metav1.Duration{Duration: 45 * time.Minute}}
	}); err != nil {
		t.Fatal(err)
	}
	expect(2700, -1)
	if err := k8sClient.Delete(ctx, drill); err != nil {
		t.Fatal(err)
	}
	expect(-1, -1)
}
