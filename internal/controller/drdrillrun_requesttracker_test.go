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

	findings := agentapi.RTResult(agentapi.RTFindings{Version: "5.0.3", Queues: 2, ManifestQueues: 2, Tickets: 3, Deleted: 1, ManifestTickets: 4,
		Newest: 4, History: 4, Updated: w.snapshot, Sampled: 3, Matched: 3})
	findings.Name = "request-tracker"
	finishDrillJob(t, sandbox, "verify", agentapi.DrillResult{Operation: "verify", Start: w.restoreEnd, End: w.verifyEnd, AllPassed: true, Checks: []agentapi.CheckResult{findings}})
	done := waitRun(t, drill.Namespace, run.Name, inPhase(opsv1alpha1.DrillRunPassed))
	if len(done.Status.Checks) != 1 || done.Status.Checks[0].Observed != findings.Observed || !done.Status.Checks[0].Passed {
		t.Errorf("the run's checks %+v, want the agent's findings: %s", done.Status.Checks, fmt.Sprint(findings))
	}
}
