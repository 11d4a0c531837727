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
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/resources"
)

// The drill's agent side of the trust model (issue #11 items 4, 7 and 9's
// error lines), against the real API server: checks never get the scratch
// superuser's credentials, an SQL check's row value never reaches status,
// events or evidence, and a restore report too large to name every
// snapshot ends the run in Error with a reason.

// customerEmail is the row value the drill author's check selects.
const customerEmail = "alice.customer@example.com"

// drillAuthor is a client acting as a user who may edit DRDrills in ns
// (write checks, start a run now) and nothing else.
func drillAuthor(t *testing.T, ns string) client.Client {
	t.Helper()
	return actAs(t, "drill-author-"+ns, ns, rbacv1.PolicyRule{
		APIGroups: []string{opsv1alpha1.GroupVersion.Group}, Resources: []string{"drdrills"}, Verbs: []string{"get", "list", "watch", "update", "patch"},
	})
}

// scratchEnv maps a drill Job's variables to the scratch Secret keys they
// read; the whole Secret as envFrom shows as "*".
func scratchEnv(job *batchv1.Job) map[string]string {
	keys := map[string]string{}
	for _, c := range append(job.Spec.Template.Spec.InitContainers, job.Spec.Template.Spec.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == resources.ScratchSecretName {
				keys[e.Name] = e.ValueFrom.SecretKeyRef.Key
			}
		}
		for _, f := range c.EnvFrom {
			if f.SecretRef != nil && f.SecretRef.Name == resources.ScratchSecretName {
				keys["*"] = "*"
			}
		}
	}
	return keys
}

// TestDrillChecksNeverSeeSuperuserOrRows: a drill author adds a check that
// selects a customer's e-mail and starts a run. The verify Job that runs
// the author's SQL gets only the checker role's URI (no superuser password
// or URI in its pod spec); the restore Job gets the superuser's URI and the
// checker's password to create that role. The verify pod then reports the
// e-mail (as a compromised agent would: the real agent refuses to) under
// the check and as the name of a check the procedure does not have, and,
// under a second check that packs it into one numeric (three digits a
// character), as that number: both checks fail, and neither the e-mail nor
// its digits are in any status, event or evidence.
func TestDrillChecksNeverSeeSuperuserOrRows(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, nil)
	ns := drill.Namespace
	author := drillAuthor(t, ns)
	leak := opsv1alpha1.DrillCheck{Name: "leak", Database: "helpdesk", SQL: "SELECT email FROM customers ORDER BY id LIMIT 1", Expect: &opsv1alpha1.Expectation{Min: ptrTo[int64](0)}}
	packed := opsv1alpha1.DrillCheck{Name: "packed", Database: "helpdesk", Expect: &opsv1alpha1.Expectation{Min: ptrTo[int64](0)},
		SQL: "SELECT ('1' || string_agg(lpad(ascii(c)::text, 3, '0'), ''))::numeric FROM regexp_split_to_table((SELECT email FROM customers ORDER BY id LIMIT 1), '') c"}
	packedEmail := "1"
	for _, c := range customerEmail {
		packedEmail += fmt.Sprintf("%03d", c)
	}
	if err := update(t, author, drill, func(d *opsv1alpha1.DRDrill) {
		d.Spec.Checks = append(d.Spec.Checks, leak, packed)
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[AnnotationRunNow] = "leak-1"
	}); err != nil {
		t.Fatalf("the drill author edits the drill: %v", err)
	}
	name := runsOf(t, drill, 1)[0].Name
	run := waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunProvisioning))
	sandbox := resources.SandboxNamespaceName(run)
	w := newWalkTimes(run)
	actAsQuotaController(t, sandbox)
	readyScratch(t, sandbox)
	waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunRestoring))

	var scratch corev1.Secret
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: resources.ScratchSecretName}, &scratch); err != nil {
		t.Fatal(err)
	}
	superPW, superURI := string(scratch.Data[resources.ScratchSuperuserPassword]), string(scratch.Data[resources.ScratchSuperuserURI])
	checkerPW, checkerURI := string(scratch.Data[resources.ScratchCheckerPassword]), string(scratch.Data[resources.ScratchCheckerURI])
	if len(superPW) != 48 || len(checkerPW) != 48 || superPW == checkerPW || !strings.HasPrefix(checkerURI, "postgresql://"+resources.CheckerRoleName+":"+checkerPW+"@") {
		t.Fatalf("scratch Secret: superuser password %d characters, checker %d, checker URI %q", len(superPW), len(checkerPW), strings.Replace(checkerURI, checkerPW, "<pw>", 1))
	}
	var restore batchv1.Job
	eventually(t, 10*time.Second, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: "restore"}, &restore)
	})
	if got := scratchEnv(&restore); len(got) != 2 || got[resources.SandboxURIEnv] != resources.ScratchSuperuserURI || got[resources.CheckerPasswordEnv] != resources.ScratchCheckerPassword {
		t.Errorf("restore Job reads %v from the scratch Secret", got)
	}
	var rcfg agentapi.RestoreConfig
	if err := json.Unmarshal([]byte(restore.Spec.Template.Spec.Containers[0].Args[2]), &rcfg); err != nil || rcfg.Checker == nil || rcfg.Checker.Name != resources.CheckerRoleName {
		t.Errorf("the restore creates no checker role: %+v %v", rcfg, err)
	}

	finishDrillJob(t, sandbox, "restore", restoreResult(w))
	waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunVerifying))
	var verify batchv1.Job
	eventually(t, 10*time.Second, func() error { return k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: "verify"}, &verify) })
	if got := scratchEnv(&verify); len(got) != 1 || got[resources.SandboxURIEnv] != resources.ScratchCheckerURI {
		t.Errorf("verify Job reads %v from the scratch Secret, want only %s=%s", got, resources.SandboxURIEnv, resources.ScratchCheckerURI)
	}
	spec, _ := json.Marshal(verify.Spec)
	for what, secret := range map[string]string{"superuser password": superPW, "superuser URI": superURI, "checker password": checkerPW} {
		if strings.Contains(string(spec), secret) {
			t.Errorf("the verify Job's spec holds the %s", what)
		}
	}
	job, err := agentapi.ParseVerifyConfig(verify.Spec.Template.Spec.Containers[0].Args[2])
	checks := job.Checks
	if err != nil || len(checks) != 5 || checks[3].SQL != leak.SQL || checks[4].SQL != packed.SQL {
		t.Fatalf("verify checks %+v %v", checks, err)
	}

	// The verify pod reports the row value.
	forged := verifyResult(w, true)
	forged.Checks = append(forged.Checks,
		agentapi.CheckResult{Name: "leak", Passed: true, Expected: ">= 0", Observed: customerEmail},
		agentapi.CheckResult{Name: "packed", Passed: true, Expected: ">= 0", Observed: packedEmail},
		agentapi.CheckResult{Name: customerEmail, Passed: true, Expected: ">= 0", Observed: "1"})
	releaseQuota(t, sandbox)
	finishDrillJob(t, sandbox, "verify", forged)
	run = waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.Phase != opsv1alpha1.DrillRunFailed || r.Status.Evidence == nil {
			return fmt.Errorf("phase %s (%s), evidence %v", r.Status.Phase, r.Status.Message, r.Status.Evidence)
		}
		return nil
	})
	want := "checks failed: leak, packed; the verify Job reported 1 checks the procedure does not have; they were not recorded"
	if !strings.HasPrefix(run.Status.Message, want) || len(run.Status.Checks) != 5 {
		t.Fatalf("run message %q with %d checks, want %q and 5", run.Status.Message, len(run.Status.Checks), want)
	}
	for i, name := range []string{"leak", "packed"} {
		if c := run.Status.Checks[3+i]; c.Name != name || c.Passed || c.Observed != "" ||
			c.Message != "the verify Job reported a result for this SQL check that is not one number or a message the agent writes; it was not recorded" {
			t.Errorf("%s check recorded as %+v", name, c)
		}
	}
	// Nowhere: the run, the drill, the events, the evidence.
	var d opsv1alpha1.DRDrill
	var events corev1.EventList
	var evidence corev1.ConfigMapList
	for _, read := range []func() error{
		func() error { return k8sClient.Get(ctx, client.ObjectKeyFromObject(drill), &d) },
		func() error { return k8sClient.List(ctx, &events, client.InNamespace(ns)) },
		func() error { return k8sClient.List(ctx, &evidence, client.InNamespace(ns)) },
	} {
		if err := read(); err != nil {
			t.Fatal(err)
		}
	}
	for what, obj := range map[string]any{"run": run, "drill": &d, "events": &events, "ConfigMaps": &evidence} {
		b, _ := json.Marshal(obj)
		if strings.Contains(string(b), customerEmail) {
			t.Errorf("the customer's e-mail is in the %s: %s", what, b)
		}
		if strings.Contains(string(b), packedEmail[1:13]) {
			t.Errorf("the customer's e-mail, packed into digits, is in the %s: %s", what, b)
		}
	}
	if len(evidence.Items) == 0 {
		t.Error("no evidence ConfigMap to search")
	}
}

// TestDrillRestoreReportTooLarge: a restore of more databases than its
// termination message can name (the agent counts the ones left out) ends
// the run in Error with the reason and what to do, not "agent left no
// result"; a Job whose termination message is not an agent result (what a
// crashed or compromised pod leaves) has none of that message copied.
func TestDrillRestoreReportTooLarge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		message func(w walkTimes) string
		want    string
		absent  string
	}{
		{"snapshots left out", func(w walkTimes) string {
			res := restoreResult(w)
			for i := 0; i < 300; i++ {
				res.Restored = append(res.Restored, agentapi.Restored{Source: "tickets", Database: fmt.Sprintf("tenant_%03d", i), ID: fmt.Sprintf("%08x", i), Time: w.snapshot, ManifestSHA256: strings.Repeat("c", 64)})
			}
			return string(res.Encode())
		}, "restore: the restore Job's report names ", ""},
		{"a recovery set that is not a name", func(w walkTimes) string {
			res := restoreResult(w)
			res.RecoverySet = "x,policy=other/db" // would become restic tag filters
			return string(res.Encode())
		}, "restore: the restore Job's report names a recovery set or snapshot id that is not one; it is not recorded", ""},
		{"a snapshot id that is not one", func(w walkTimes) string {
			res := restoreResult(w)
			res.Restored[1].ID = "--remove=verified"
			return string(res.Encode())
		}, "restore: the restore Job's report names a recovery set or snapshot id that is not one; it is not recorded", ""},
		{"not an agent result", func(walkTimes) string { return "panic: duplicate key: Key (email)=(" + customerEmail + ")" },
			"restore: the restore Job failed: BackoffLimitExceeded: Job has reached the specified backoff limit (its termination message is not an agent result and is not shown", customerEmail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drill := drillFixture(t, nil)
			ns := drill.Namespace
			runNow(t, drill, "big")
			name := runsOf(t, drill, 1)[0].Name
			run := waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunProvisioning))
			sandbox := resources.SandboxNamespaceName(run)
			w := newWalkTimes(run)
			actAsQuotaController(t, sandbox)
			readyScratch(t, sandbox)
			waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunRestoring))
			job := &batchv1.Job{}
			eventually(t, 30*time.Second, func() error {
				return k8sClient.Get(context.Background(), client.ObjectKey{Namespace: sandbox, Name: "restore"}, job)
			})
			message := tc.message(w)
			if len(message) > 4096 {
				t.Fatalf("termination message of %d bytes", len(message))
			}
			completeJob(t, job, tc.absent == "", message, w.restoreEnd)
			run = waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunError))
			if !strings.HasPrefix(run.Status.Message, tc.want) {
				t.Errorf("message %q, want %q…", run.Status.Message, tc.want)
			}
			if tc.absent != "" && strings.Contains(run.Status.Message, tc.absent) {
				t.Errorf("the termination message was copied: %q", run.Status.Message)
			}
			t.Logf("%s", run.Status.Message)
		})
	}
}
