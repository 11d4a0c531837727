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
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/resources"
)

// TestDrillRunRequestTracker: a drill with a requestTracker check, against
// the real API server: the sandbox quota makes room for RT beside the
// verify agent, the verify Job runs RT as a sidecar of the operator's RT
// image with the check in the agent's configuration, and the agent's
// findings are recorded in the run's checks; a forged result would not be
// (TestRecordableResultByKind). TestHelpDesk runs it on real pods.
func TestDrillRunRequestTracker(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) {
		d.Spec.Checks = []opsv1alpha1.DrillCheck{{Name: "request-tracker", RequestTracker: &opsv1alpha1.RequestTrackerCheck{AttachmentsVolume: "attachments", SampleAttachments: ptrTo[int32](3)}}}
	})
	runNow(t, drill, "rt-1")
	run := runsOf(t, drill, 1)[0]
	sandbox := resources.SandboxNamespaceName(&run)
	w := newWalkTimes(waitRun(t, drill.Namespace, run.Name, inPhase(opsv1alpha1.DrillRunProvisioning)))
	var quota corev1.ResourceQuota
	eventually(t, 30*time.Second, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: "sandbox"}, &quota)
	})
	if cpu := quota.Spec.Hard[corev1.ResourceLimitsCPU]; cpu.Cmp(resource.MustParse("7")) != 0 {
		t.Errorf("the sandbox quota's limits.cpu is %s, want 7: the three drill pods' and RT's", cpu.String())
	}
	actAsQuotaController(t, sandbox)
	readyScratch(t, sandbox)
	waitRun(t, drill.Namespace, run.Name, inPhase(opsv1alpha1.DrillRunRestoring))
	finishDrillJob(t, sandbox, "restore", restoreResult(w))
	waitRun(t, drill.Namespace, run.Name, inPhase(opsv1alpha1.DrillRunVerifying))

	var job batchv1.Job
	eventually(t, 30*time.Second, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: "verify"}, &job)
	})
	spec := job.Spec.Template.Spec
	if len(spec.InitContainers) != 1 || spec.InitContainers[0].Image != resources.DefaultRTImage ||
		spec.InitContainers[0].RestartPolicy == nil || *spec.InitContainers[0].RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Fatalf("the verify pod's init containers %+v, want RT's sidecar of %s", spec.InitContainers, resources.DefaultRTImage)
	}
	config, err := agentapi.ParseVerifyConfig(spec.Containers[0].Args[2])
	if err != nil {
		t.Fatal(err)
	}
	if c := config.Checks[0].RequestTracker; c == nil || c.URL != resources.RTSandboxURL || c.SampleAttachments != 3 || c.From == nil || c.From.Snapshot != "aaaaaaaa" {
		t.Errorf("the verify configuration's requestTracker check: %+v", c)
	}

	// A quiet weekend: the latest ticket update is three days older than
	// the dump, and the backup recorded that same update at its snapshot,
	// a second before restic's snapshot time.
	quiet := w.snapshot.Add(-72 * time.Hour).UTC().Truncate(time.Second)
	dump := w.snapshot.Add(-time.Second).UTC().Truncate(time.Second)
	findings := agentapi.RTResult(agentapi.RTFindings{Version: "5.0.3", Queues: 2, ManifestQueues: 2, Tickets: 3, Deleted: 1, ManifestTickets: 4,
		Latest: 4, History: 4, Updated: quiet, Backup: &agentapi.RTBackupPoint{Latest: 4, Updated: quiet, Snapshot: dump}, Sampled: 3, Matched: 3})
	findings.Name = "request-tracker"
	finishDrillJob(t, sandbox, "verify", agentapi.DrillResult{Operation: "verify", Start: w.restoreEnd, End: w.verifyEnd, AllPassed: true, Checks: []agentapi.CheckResult{findings}})
	done := waitRun(t, drill.Namespace, run.Name, inPhase(opsv1alpha1.DrillRunPassed))
	if len(done.Status.Checks) != 1 || done.Status.Checks[0].Observed != findings.Observed || !done.Status.Checks[0].Passed {
		t.Errorf("the run's checks %+v, want the agent's findings: %s", done.Status.Checks, fmt.Sprint(findings))
	}
	if want := done.Status.StartTime.Sub(dump).Truncate(time.Second); done.Status.MeasuredRPO == nil || done.Status.MeasuredRPO.Duration != want {
		t.Errorf("measured RPO %v, want %s: from the dump's snapshot the restored RT's latest update vouches for, not the quiet weekend's 75h", done.Status.MeasuredRPO, want)
	}
}

// TestMeasureRPOFromTickets: the RPO a requestTracker check's findings
// give. The backup's record of its latest update lets a quiet help desk
// keep the snapshot's age; a restored RT that lacks the backup's latest
// update measures from its own; the restored data never shortens the RPO
// below the snapshot's age.
func TestMeasureRPOFromTickets(t *testing.T) {
	start := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	snapshot := start.Add(-4 * time.Hour) // restic's time
	dump := snapshot.Add(-2 * time.Second)
	friday := start.Add(-66 * time.Hour)
	findings := func(restored, backedUp time.Time, dumpAt time.Time) agentapi.CheckResult {
		f := agentapi.RTFindings{Version: "5.0.3", Queues: 1, ManifestQueues: 1, Tickets: 5, ManifestTickets: 5, Latest: 5, History: 3, Updated: restored}
		if !backedUp.IsZero() {
			f.Backup = &agentapi.RTBackupPoint{Latest: 5, Updated: backedUp, Snapshot: dumpAt}
		}
		return agentapi.RTResult(f)
	}
	for _, tc := range []struct {
		name   string
		result agentapi.CheckResult
		want   time.Duration
	}{
		{"a quiet weekend the backup vouches for", findings(friday, friday, dump), 4*time.Hour + 2*time.Second},
		{"an older backup without the record", findings(friday, time.Time{}, time.Time{}), 4 * time.Hour},
		{"the restored RT lacks the backup's latest update", findings(friday, snapshot.Add(-time.Minute), dump), 66 * time.Hour},
		{"a dump time after restic's (a clock ahead)", findings(friday, friday, snapshot.Add(time.Hour)), 4 * time.Hour},
		{"a restored update newer than the backup's", findings(start.Add(-time.Minute), friday, dump), 4 * time.Hour},
		{"not a requestTracker result", agentapi.CheckResult{Passed: true, Expected: ">= 1", Observed: "5"}, 4 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := &opsv1alpha1.DRDrillRun{}
			run.Status.StartTime = &metav1.Time{Time: start}
			run.Status.Snapshot = &opsv1alpha1.SnapshotRef{Time: &metav1.Time{Time: snapshot}}
			run.Status.MeasuredRPO = &metav1.Duration{Duration: start.Sub(snapshot)}
			measureRPOFromTickets(run, tc.result)
			if run.Status.MeasuredRPO.Duration != tc.want {
				t.Errorf("RPO %s, want %s (%s)", run.Status.MeasuredRPO.Duration, tc.want, tc.result.Observed)
			}
		})
	}
}
