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

// What the cluster would do around the operator in envtest, where no pod
// runs: the quota controller, the kubelet, the Job controller and the
// agent's result. The same as internal/controller's tests do
// (helpers_test.go), cut to what a drill run needs.

package leader

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/controller"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

var signingKey = ed25519.NewKeyFromSeed([]byte("supportstack-leader-test-seed-32"))

// signingKeySecret is the Secret the sample DRDrill signs its evidence with.
func signingKeySecret(t *testing.T, ns string) *corev1.Secret {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(signingKey)
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "drill-signing-key", Namespace: ns},
		Data: map[string][]byte{"ed25519.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}}
}

// sample reads config/samples' object of kind into obj, in namespace ns.
func sample[T client.Object](t *testing.T, ns, kind string, obj T) T {
	t.Helper()
	if err := testenv.Sample(ns, kind, obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// newTeamNamespace is a namespace with the sample BackupPolicy, what it
// refers to and the drills' signing key.
func newTeamNamespace(t *testing.T, c client.Client) string {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "team-"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "restic", Namespace: ns.Name}, StringData: map[string]string{"password": "restic-pass"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s3-credentials", Namespace: ns.Name}, StringData: map[string]string{"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s3-secret"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "helpdesk-db", Namespace: ns.Name}, StringData: map[string]string{"uri": "postgresql://app:db-pass@helpdesk-db:5432/helpdesk"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "helpdesk-db", Namespace: ns.Name}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "postgres"},
			Ports:    []corev1.ServicePort{{Port: 5432, TargetPort: intstr.FromInt32(5433)}},
		}},
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "helpdesk-attachments", Namespace: ns.Name}, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		}},
		signingKeySecret(t, ns.Name),
		sample(t, ns.Name, "BackupPolicy", &opsv1alpha1.BackupPolicy{}),
	} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	return ns.Name
}

// newDrill creates the sample DRDrill under name in ns, suspended (only
// run-now starts runs), changed by mutate.
func newDrill(t *testing.T, c client.Client, ns, name string, mutate func(*opsv1alpha1.DRDrill)) *opsv1alpha1.DRDrill {
	t.Helper()
	d := sample(t, ns, "DRDrill", &opsv1alpha1.DRDrill{})
	d.Name = name
	d.Spec.Suspend = true
	if mutate != nil {
		mutate(d)
	}
	if err := c.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// runNow asks the drill for a run, as a person would, and returns the
// run's key.
func runNow(t *testing.T, c client.Client, d *opsv1alpha1.DRDrill, token string) client.ObjectKey {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(d), d); err != nil {
			return err
		}
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[controller.AnnotationRunNow] = token
		return c.Update(context.Background(), d)
	})
	if err != nil {
		t.Fatal(err)
	}
	return client.ObjectKey{Namespace: d.Namespace, Name: controller.RunNowRunName(d, token)}
}

// actAsQuotaController fills in the sandbox quota's status as
// kube-controller-manager would: until then admission refuses every pod.
func actAsQuotaController(t *testing.T, c client.Client, sandbox string) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		var q corev1.ResourceQuota
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: sandbox, Name: "sandbox"}, &q); err != nil {
			return err
		}
		if q.Status.Hard != nil {
			return nil
		}
		q.Status.Hard = q.Spec.Hard
		q.Status.Used = corev1.ResourceList{}
		for k := range q.Spec.Hard {
			q.Status.Used[k] = resource.MustParse("0")
		}
		return c.Status().Update(context.Background(), &q)
	})
}

// readyScratch marks the scratch PostgreSQL pod Ready, as the kubelet would.
func readyScratch(t *testing.T, c client.Client, sandbox string) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		var pod corev1.Pod
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: sandbox, Name: resources.ScratchPostgresName}, &pod); err != nil {
			return err
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
		return c.Status().Update(context.Background(), &pod)
	})
}

// finishDrillJob completes the sandbox Job of an operation as the cluster
// would: its pod terminates with the agent's result as its termination
// message, then the Job controller marks the Job finished.
func finishDrillJob(t *testing.T, c client.Client, sandbox string, res agentapi.DrillResult) {
	t.Helper()
	ctx := context.Background()
	job := &batchv1.Job{}
	eventually(t, 20*time.Second, func() error {
		return c.Get(ctx, client.ObjectKey{Namespace: sandbox, Name: res.Operation}, job)
	})
	succeeded := res.Error == ""
	start, end := metav1.NewTime(res.Start), metav1.NewTime(res.End)
	labels := map[string]string{batchv1.JobNameLabel: job.Name}
	for k, v := range job.Spec.Template.Labels {
		labels[k] = v
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-pod", Namespace: sandbox, Labels: labels}, Spec: *job.Spec.Template.Spec.DeepCopy()}
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	exit := int32(0)
	pod.Status.Phase = corev1.PodSucceeded
	if !succeeded {
		pod.Status.Phase, exit = corev1.PodFailed, 1
	}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "agent", Image: testAgentImage, State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, Message: string(res.Encode()), StartedAt: start, FinishedAt: end},
	}}}
	if err := c.Status().Update(ctx, pod); err != nil {
		t.Fatalf("pod status: %v", err)
	}
	seen := metav1.Now()
	job.Status.StartTime = &start
	if succeeded {
		job.Status.Succeeded, job.Status.CompletionTime = 1, &end
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: seen, LastProbeTime: seen},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: seen, LastProbeTime: seen},
		}
	} else {
		job.Status.Failed = 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: seen, LastProbeTime: seen},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: seen, LastProbeTime: seen},
		}
	}
	if err := c.Status().Update(ctx, job); err != nil {
		t.Fatalf("job status: %v", err)
	}
}

// restoreResult is what the restore agent reports for the sample policy,
// its times relative to the run's start.
func restoreResult(started time.Time) agentapi.DrillResult {
	snapshot := started.Add(-3 * time.Hour)
	return agentapi.DrillResult{Operation: agentapi.OperationRestore, Start: started.Add(time.Minute), End: started.Add(5 * time.Minute),
		RecoverySet: "helpdesk-backup-29400000-x7k2p", Restored: []agentapi.Restored{
			{Source: "tickets", Database: "helpdesk", ID: "aaaaaaaa", Time: snapshot, ManifestSHA256: strings.Repeat("d", 64)},
			{Source: "attachments", ID: "bbbbbbbb", Time: snapshot.Add(time.Minute), ManifestSHA256: strings.Repeat("e", 64)},
		}}
}

// verifyResult is what the verify agent reports for the sample drill's
// three checks: all passed, or row-counts failed.
func verifyResult(started time.Time, pass bool) agentapi.DrillResult {
	res := agentapi.DrillResult{Operation: agentapi.OperationVerify, Start: started.Add(6 * time.Minute), End: started.Add(20 * time.Minute), AllPassed: pass,
		Checks: []agentapi.CheckResult{
			{Name: "tickets-present", Passed: true, Expected: ">= 1", Observed: "45000"},
			{Name: "row-counts", Passed: pass, Expected: "public.articles=50000 (±0%)", Observed: "public.articles=45000"},
			{Name: "attachments", Passed: true, Expected: "3 files", Observed: "3 files"},
		}}
	if pass {
		res.Tagged = 4
	}
	return res
}
