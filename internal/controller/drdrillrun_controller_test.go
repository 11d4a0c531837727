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
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/evidence"
	"github.com/supportstack/operator/internal/resources"
)

// sandboxDeleted checks that the run let its sandbox go: the namespace is
// deleted or being deleted (envtest has no namespace controller to finish
// the job; the e2e test watches the real one) and the finalizer is gone.
func sandboxDeleted(t *testing.T, run *opsv1alpha1.DRDrillRun) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		var ns corev1.Namespace
		err := k8sClient.Get(context.Background(), client.ObjectKey{Name: resources.SandboxNamespaceName(run)}, &ns)
		if err == nil && ns.DeletionTimestamp.IsZero() {
			return fmt.Errorf("sandbox %s not deleted", ns.Name)
		} else if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		var r opsv1alpha1.DRDrillRun
		if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(run), &r); err != nil {
			return err
		}
		if len(r.Finalizers) != 0 {
			return fmt.Errorf("finalizers %v", r.Finalizers)
		}
		return nil
	})
}

func TestDrillRunWalksEveryPhase(t *testing.T) {
	ctx := context.Background()
	drill := drillFixture(t, nil)
	ns := drill.Namespace
	runNow(t, drill, "audit-2026-11")
	runs := runsOf(t, drill, 1)
	name := runs[0].Name
	run := waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunProvisioning))
	if !metav1.IsControlledBy(run, drill) || run.Annotations[AnnotationTrigger] != "run-now" || len(run.Spec.Checks) != 3 || run.Spec.DrillName != drill.Name {
		t.Errorf("run %+v", run.ObjectMeta)
	}
	if run.Finalizers[0] != FinalizerSandbox {
		t.Errorf("finalizers %v", run.Finalizers)
	}
	sandbox := resources.SandboxNamespaceName(run)

	// The sandbox: restricted pod security, labelled back to the run.
	var sb corev1.Namespace
	eventually(t, 10*time.Second, func() error { return k8sClient.Get(ctx, client.ObjectKey{Name: sandbox}, &sb) })
	for k, v := range map[string]string{"pod-security.kubernetes.io/enforce": "restricted", resources.LabelDrillRun: name, resources.LabelDrillRunNamespace: ns} {
		if sb.Labels[k] != v {
			t.Errorf("sandbox label %s=%q, want %q", k, sb.Labels[k], v)
		}
	}
	var quota corev1.ResourceQuota
	eventually(t, 10*time.Second, func() error { return k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: "sandbox"}, &quota) })
	for res, want := range map[corev1.ResourceName]string{corev1.ResourcePods: "4", corev1.ResourceServicesLoadBalancers: "0", corev1.ResourcePersistentVolumeClaims: "1"} {
		if q := quota.Spec.Hard[res]; q.String() != want {
			t.Errorf("quota %s = %s, want %s", res, q.String(), want)
		}
	}
	actAsQuotaController(t, sandbox)
	var policies networkingv1.NetworkPolicyList
	eventually(t, 10*time.Second, func() error {
		if err := k8sClient.List(ctx, &policies, client.InNamespace(sandbox)); err != nil {
			return err
		}
		if len(policies.Items) != 3 {
			return fmt.Errorf("%d NetworkPolicies", len(policies.Items))
		}
		return nil
	})
	for _, np := range policies.Items {
		if len(np.Spec.PolicyTypes) != 2 {
			t.Errorf("%s: policy types %v", np.Name, np.Spec.PolicyTypes)
		}
		switch np.Name {
		case "default-deny":
			if len(np.Spec.PodSelector.MatchLabels) != 0 || len(np.Spec.Ingress)+len(np.Spec.Egress) != 0 {
				t.Errorf("default-deny is not: %+v", np.Spec)
			}
		case "drill-agent-egress":
			// DNS, the scratch server, the repository (s3.example.com on 443:
			// an external name, so any address on that port) and nothing else.
			var ports []string
			for _, rule := range np.Spec.Egress {
				for _, p := range rule.Ports {
					ports = append(ports, p.Port.String())
				}
			}
			if got := strings.Join(ports, ","); got != "53,53,5432,443" || len(np.Spec.Ingress) != 0 {
				t.Errorf("agent egress ports %s, ingress %v", got, np.Spec.Ingress)
			}
		case "scratch-postgres-ingress":
			if len(np.Spec.Egress) != 0 || len(np.Spec.Ingress) != 1 || np.Spec.Ingress[0].From[0].PodSelector.MatchLabels[resources.LabelComponent] != resources.ComponentDrillAgent {
				t.Errorf("scratch ingress %+v", np.Spec)
			}
		default:
			t.Errorf("unexpected NetworkPolicy %s", np.Name)
		}
	}
	// Repository secrets are copied in; the scratch server has a generated password.
	var repo, scratch corev1.Secret
	eventually(t, 10*time.Second, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: resources.RepositorySecretName}, &repo); err != nil {
			return err
		}
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: resources.ScratchSecretName}, &scratch)
	})
	if string(repo.Data["password"]) != resticPassword || len(scratch.Data["password"]) != 48 {
		t.Errorf("repository secret %v, scratch password length %d", repo.Data, len(scratch.Data["password"]))
	}
	var pg corev1.Pod
	eventually(t, 20*time.Second, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: resources.ScratchPostgresName}, &pg)
	})
	if pg.Spec.Containers[0].Image != "postgres:15" || !*pg.Spec.SecurityContext.RunAsNonRoot || *pg.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("scratch pod %+v", pg.Spec)
	}
	readyScratch(t, sandbox)
	run = waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunRestoring))
	if run.Status.Timings == nil || run.Status.Timings.Provision == nil {
		t.Errorf("no provision timing: %+v", run.Status)
	}
	var restore batchv1.Job
	eventually(t, 10*time.Second, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: "restore"}, &restore)
	})
	c := restore.Spec.Template.Spec.Containers[0]
	var rcfg agentapi.RestoreConfig
	if err := json.Unmarshal([]byte(c.Args[2]), &rcfg); err != nil || c.Args[0] != "restore" || rcfg.Policy != ns+"/helpdesk" || rcfg.Snapshot != "latest" ||
		len(rcfg.Postgres) != 1 || len(rcfg.Volumes) != 1 || restore.Spec.Template.Labels[resources.LabelComponent] != resources.ComponentDrillAgent ||
		*restore.Spec.BackoffLimit != 0 || *restore.Spec.Template.Spec.AutomountServiceAccountToken {
		t.Errorf("restore Job %v %+v %v", c.Args, rcfg, err)
	}
	// A large dump may be loaded in parallel: one job per CPU of the pod's
	// limit, fetched to /tmp, whose emptyDir holds it and restic's cache.
	tmp := restore.Spec.Template.Spec.Volumes[0].EmptyDir
	if rcfg.Jobs != int(c.Resources.Limits.Cpu().Value()) || rcfg.Jobs < 2 || rcfg.ScratchDir != "/tmp" || rcfg.ScratchBytes < 1<<30 ||
		tmp == nil || tmp.SizeLimit == nil || tmp.SizeLimit.Value() != rcfg.ScratchBytes+resources.DefaultAgentCacheBytes {
		t.Errorf("restore Job's parallel restore: config %+v, cpu limit %s, /tmp %+v", rcfg, c.Resources.Limits.Cpu(), tmp)
	}

	w := newWalkTimes(run)
	finishDrillJob(t, sandbox, "restore", restoreResult(w))
	run = waitRun(t, ns, name, inPhase(opsv1alpha1.DrillRunVerifying))
	if run.Status.Snapshot == nil || run.Status.Snapshot.ID != "aaaaaaaa,bbbbbbbb" || !strings.HasPrefix(run.Status.Snapshot.ManifestSHA256, strings.Repeat("d", 64)+",") || !run.Status.Snapshot.Time.Time.Equal(w.snapshot) || run.Status.MeasuredRPO.Duration != 3*time.Hour {
		t.Errorf("snapshot %+v, RPO %v", run.Status.Snapshot, run.Status.MeasuredRPO)
	}
	var verify batchv1.Job
	eventually(t, 10*time.Second, func() error { return k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: "verify"}, &verify) })
	job, err := agentapi.ParseVerifyConfig(verify.Spec.Template.Spec.Containers[0].Args[2])
	checks := job.Checks
	if err != nil || len(checks) != 3 ||
		checks[1].Tables == nil || checks[1].Tables.From.Snapshot != "aaaaaaaa" || checks[1].Database != "helpdesk" ||
		checks[2].Files == nil || checks[2].Files.From == nil || checks[2].Files.From.SHA256 != strings.Repeat("e", 64) || checks[2].Files.Path != "/restore/data/attachments" {
		t.Errorf("verify checks %+v %v", checks, err)
	}
	if m := job.MarkVerified; m == nil || m.Policy != ns+"/"+run.Spec.BackupPolicyName || m.RecoverySet != testRecoverySet || len(m.Snapshots) != 0 {
		t.Errorf("the verify Job would tag %+v, want recovery set %s of the policy", m, testRecoverySet)
	}

	finishDrillJob(t, sandbox, "verify", verifyResult(w, true))
	run = waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.Phase != opsv1alpha1.DrillRunPassed || r.Status.Evidence == nil {
			return fmt.Errorf("phase %s, evidence %v", r.Status.Phase, r.Status.Evidence)
		}
		return nil
	})
	st := run.Status
	if p := st.Timings.RestorePhases; p == nil || p.Method != opsv1alpha1.RestoreParallel || p.Jobs != 2 ||
		p.Fetch.Duration != 61500*time.Millisecond || p.Load.Duration != 120250*time.Millisecond || p.Indexes.Duration != 40*time.Second {
		t.Errorf("restore phases %+v", p)
	}
	if st.MeasuredRTO.Duration != 20*time.Minute || !*st.ObjectivesMet || len(st.Checks) != 3 || st.Timings.Restore.Duration != 4*time.Minute {
		t.Errorf("passed run status %+v", st)
	}
	sandboxDeleted(t, run)

	// Evidence: immutable, signed, chained from nothing.
	var cm corev1.ConfigMap
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: st.Evidence.ConfigMapName}, &cm); err != nil {
		t.Fatal(err)
	}
	rec, report, err := evidence.FromConfigMap(&cm)
	if err != nil || cm.Immutable == nil || !*cm.Immutable || rec.SHA256 != st.Evidence.SHA256 || report.Sequence != 1 || report.PreviousReportSHA256 != "" ||
		report.Result != "Passed" || report.MeasuredRTOSeconds != 1200 || report.SnapshotID != "aaaaaaaa,bbbbbbbb" || report.OperatorVersion != testVersion || len(report.Checks) != 3 {
		t.Errorf("evidence %+v %v", report, err)
	}
	if err := evidence.Verify([]evidence.Record{rec}, testSigningKey.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("evidence does not verify: %v", err)
	}

	// The drill summarises its newest run.
	eventually(t, 20*time.Second, func() error {
		var d opsv1alpha1.DRDrill
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(drill), &d); err != nil {
			return err
		}
		passed := meta.FindStatusCondition(d.Status.Conditions, opsv1alpha1.ConditionLastRunPassed)
		met := meta.FindStatusCondition(d.Status.Conditions, opsv1alpha1.ConditionObjectivesMet)
		ready := meta.FindStatusCondition(d.Status.Conditions, opsv1alpha1.ConditionReady)
		if d.Status.LastRun == nil || d.Status.LastRun.Name != name || d.Status.LastPassedTime == nil || d.Status.ActiveRun != "" ||
			passed == nil || passed.Status != metav1.ConditionTrue || met == nil || met.Status != metav1.ConditionTrue ||
			ready == nil || ready.Status != metav1.ConditionTrue || d.Status.LastRunNowToken != "audit-2026-11" {
			return fmt.Errorf("drill status %+v", d.Status)
		}
		return nil
	})
	// Metrics, labelled by namespace and drill.
	labels := []string{ns, drill.Name}
	for name, want := range map[string]float64{
		"measured_rto":   drillMeasuredRTO.WithLabelValues(labels...).Value() - 1200,
		"measured_rpo":   drillMeasuredRPO.WithLabelValues(labels...).Value() - 3*3600,
		"objectives_met": drillObjectivesMet.WithLabelValues(labels...).Value() - 1,
		"last_run":       drillLastRun.WithLabelValues(labels...).Value() - float64(st.CompletionTime.Unix()),
		"last_passed":    drillLastPassed.WithLabelValues(labels...).Value() - float64(st.CompletionTime.Unix()),
	} {
		if want != 0 {
			t.Errorf("supportstack_drill_%s is off by %v", name, want)
		}
	}
	// The same token does not start another run.
	runsOf(t, drill, 1)
}

// TestDrillRunSurvivesRestarts kills the operator in every phase; each run
// still ends in exactly one final state with one evidence record, and its
// sandbox goes. A failed run's sandbox is kept for its ttl, then deleted.
func TestDrillRunSurvivesRestarts(t *testing.T) {
	ctx := context.Background()
	start := fakeClock.Now()
	t.Cleanup(func() { fakeClock.SetTime(start) })
	drill := drillFixture(t, nil)
	runNow(t, drill, "first")
	first := runsOf(t, drill, 1)[0].Name
	run := walk(t, drill, first, true, true)
	sandboxDeleted(t, run)

	runNow(t, drill, "second")
	var second string
	for _, r := range runsOf(t, drill, 2) {
		if r.Name != first {
			second = r.Name
		}
	}
	failed := walk(t, drill, second, false, true)
	if failed.Status.Phase != opsv1alpha1.DrillRunFailed || !strings.Contains(failed.Status.Message, "checks failed: row-counts") {
		t.Errorf("failed run: %s %s", failed.Status.Phase, failed.Status.Message)
	}
	// keep: OnFailure, ttl 2h: the sandbox stays for inspection...
	restartManager(t)
	settle(t, func() string {
		var ns corev1.Namespace
		_ = k8sClient.Get(ctx, client.ObjectKey{Name: resources.SandboxNamespaceName(failed)}, &ns)
		return fmt.Sprint(ns.DeletionTimestamp)
	})
	var ns corev1.Namespace
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: resources.SandboxNamespaceName(failed)}, &ns); err != nil || !ns.DeletionTimestamp.IsZero() {
		t.Fatalf("the failed run's sandbox should be kept: %v %v", err, ns.DeletionTimestamp)
	}
	// ...until the ttl has passed.
	fakeClock.Step(2*time.Hour + time.Minute)
	if err := update(t, k8sClient, failed, func(r *opsv1alpha1.DRDrillRun) { r.Annotations["nudge"] = "ttl" }); err != nil {
		t.Fatal(err)
	}
	sandboxDeleted(t, failed)

	// Exactly one evidence record per run, and the chain holds.
	chain, err := evidence.LoadChain(ctx, k8sClient, drill.Namespace, drill.Name)
	if err != nil || len(chain) != 2 {
		t.Fatalf("chain of %d records: %v", len(chain), err)
	}
	if err := evidence.Verify(chain, testSigningKey.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("chain: %v", err)
	}
	// The API server refuses to edit an evidence ConfigMap; a forger who
	// deletes and re-creates the first one with one byte changed is named.
	var cm corev1.ConfigMap
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: drill.Namespace, Name: chain[0].Name}, &cm); err != nil {
		t.Fatal(err)
	}
	edited := cm.DeepCopy()
	edited.Data[evidence.KeyReport] = strings.Replace(cm.Data[evidence.KeyReport], `"result":"Passed"`, `"result":"Passes"`, 1)
	if err := k8sClient.Update(ctx, edited); err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Errorf("editing evidence in place: %v", err)
	}
	if err := k8sClient.Delete(ctx, &cm); err != nil {
		t.Fatal(err)
	}
	edited.ResourceVersion, edited.UID = "", ""
	if err := k8sClient.Create(ctx, edited); err != nil {
		t.Fatal(err)
	}
	if _, err := evidence.VerifyDrill(ctx, k8sClient, drill.Namespace, drill.Name, nil); err == nil ||
		!strings.Contains(err.Error(), "evidence record 1 ("+chain[0].Name+")") || !strings.Contains(err.Error(), "run "+first) {
		t.Errorf("verify after re-creating an edited report: %v", err)
	}
	second2, _ := evidence.Parse(chain[1].Canonical)
	if second2.Run != second || second2.Result != "Failed" || second2.Sequence != 2 || second2.PreviousReportSHA256 != chain[0].SHA256 || !strings.Contains(second2.Message, "row-counts") {
		t.Errorf("second report %+v", second2)
	}
}

// TestDrillRunErrors: what makes a drill impossible ends it in Error with
// a message that says so, never in Failed.
func TestDrillRunErrors(t *testing.T) {
	ctx := context.Background()
	start := fakeClock.Now()
	t.Cleanup(func() { fakeClock.SetTime(start) })
	drill := drillFixture(t, func(d *opsv1alpha1.DRDrill) { d.Spec.Sandbox.Keep = opsv1alpha1.SandboxKeepNever })
	ns := drill.Namespace
	count := 0
	next := func(token string) (*opsv1alpha1.DRDrillRun, string) {
		t.Helper()
		runNow(t, drill, token)
		count++
		sum := ""
		for _, r := range runsOf(t, drill, count) {
			if r.Annotations[AnnotationTrigger] == "run-now" && !r.Status.Phase.IsFinal() {
				sum = r.Name
			}
		}
		run := waitRun(t, ns, sum, inPhase(opsv1alpha1.DrillRunProvisioning))
		sandbox := resources.SandboxNamespaceName(run)
		actAsQuotaController(t, sandbox)
		return run, sandbox
	}
	wantError := func(name, contains string) {
		t.Helper()
		run := waitRun(t, ns, name, func(r *opsv1alpha1.DRDrillRun) error {
			if r.Status.Phase != opsv1alpha1.DrillRunError || r.Status.Evidence == nil {
				return fmt.Errorf("phase %s (%s)", r.Status.Phase, r.Status.Message)
			}
			return nil
		})
		if !strings.Contains(run.Status.Message, contains) {
			t.Errorf("%s: message %q, want it to say %q", name, run.Status.Message, contains)
		}
		sandboxDeleted(t, run)
	}

	// The snapshot does not exist.
	run, sandbox := next("missing-snapshot")
	readyScratch(t, sandbox)
	w := newWalkTimes(run)
	finishDrillJob(t, sandbox, "restore", agentapi.DrillResult{Operation: "restore", Start: w.restoreStart, End: w.restoreEnd, DrillError: true,
		Error: `no snapshot "latest" with tags supportstack-policy=x in the repository`})
	wantError(run.Name, `restore: no snapshot "latest"`)

	// The restore Job is deleted under the run.
	run, sandbox = next("job-deleted")
	readyScratch(t, sandbox)
	waitRun(t, ns, run.Name, inPhase(opsv1alpha1.DrillRunRestoring))
	if err := k8sClient.Delete(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: sandbox, Name: "restore"}}); err != nil {
		t.Fatal(err)
	}
	wantError(run.Name, "the restore Job in "+sandbox+" was deleted before it finished")

	// The sandbox namespace is deleted under the run.
	run, sandbox = next("sandbox-deleted")
	readyScratch(t, sandbox)
	waitRun(t, ns, run.Name, inPhase(opsv1alpha1.DrillRunRestoring))
	if err := k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sandbox}}); err != nil {
		t.Fatal(err)
	}
	wantError(run.Name, "the sandbox namespace "+sandbox+" was deleted during Restoring")

	// The scratch server crash-loops: the run says so at once, then ends in
	// Error once the pod has been stuck for the stuck-pod timeout.
	run, sandbox = next("crash-loop")
	eventually(t, 30*time.Second, func() error {
		var pod corev1.Pod
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: resources.ScratchPostgresName}, &pod); err != nil {
			return err
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.StartTime = &metav1.Time{Time: time.Now()}
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "postgres", RestartCount: 3,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "initdb: could not create directory"}}}}
		return k8sClient.Status().Update(ctx, &pod)
	})
	stuck := "the scratch PostgreSQL server: pod scratch-postgres: container postgres keeps crashing (3 restarts); last exit code 1: initdb: could not create directory"
	waitRun(t, ns, run.Name, func(r *opsv1alpha1.DRDrillRun) error {
		if !strings.HasPrefix(r.Status.Message, stuck+"; the run ends in Error if this lasts") {
			return fmt.Errorf("message %q", r.Status.Message)
		}
		return nil
	})
	wantError(run.Name, stuck+" (stuck for ")

	// The scratch server never becomes ready: Provisioning times out.
	run, _ = next("never-ready")
	fakeClock.Step(DefaultDrillTimeouts.Provisioning + time.Minute)
	if err := update(t, k8sClient, run, func(r *opsv1alpha1.DRDrillRun) { r.Annotations["nudge"] = "timeout" }); err != nil {
		t.Fatal(err)
	}
	wantError(run.Name, "Provisioning did not finish within its timeout of 15m0s")
}
