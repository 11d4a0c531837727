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
	"reflect"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/resources"
)

const (
	testAgentImage  = "registry.example.com/supportstack/agent:test"
	testVersion     = "v0.0.0-test"
	resticPassword  = "correct horse battery staple"
	databaseURI     = "postgresql://app:db-pass-123@helpdesk-db:5432/helpdesk"
	s3SecretKeyText = "s3-secret-key-456"
)

func policyCondition(p *opsv1alpha1.BackupPolicy, condType string) *metav1.Condition {
	return meta.FindStatusCondition(p.Status.Conditions, condType)
}

func waitPolicy(t *testing.T, key client.ObjectKey, check func(*opsv1alpha1.BackupPolicy) error) *opsv1alpha1.BackupPolicy {
	t.Helper()
	p := &opsv1alpha1.BackupPolicy{}
	eventually(t, 20*time.Second, func() error {
		if err := k8sClient.Get(context.Background(), key, p); err != nil {
			return err
		}
		return check(p)
	})
	return p
}

func readyPolicy(p *opsv1alpha1.BackupPolicy) error {
	if c := policyCondition(p, opsv1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || p.Status.ObservedGeneration != p.Generation {
		return fmt.Errorf("Ready %+v, observed %d of %d", c, p.Status.ObservedGeneration, p.Generation)
	}
	return nil
}

// readySamplePolicy creates the sample policy and its inputs in a new
// namespace and waits until it is Ready.
func readySamplePolicy(t *testing.T) *opsv1alpha1.BackupPolicy {
	t.Helper()
	ns := newNamespace(t)
	createPolicyInputs(t, ns)
	policy := samplePolicy(t, ns)
	if err := k8sClient.Create(context.Background(), policy); err != nil {
		t.Fatal(err)
	}
	waitPolicy(t, client.ObjectKeyFromObject(policy), readyPolicy)
	return policy
}

func TestBackupPolicyChildren(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createPolicyInputs(t, ns)
	policy := samplePolicy(t, ns)
	if err := k8sClient.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	got := waitPolicy(t, client.ObjectKeyFromObject(policy), readyPolicy)

	for _, op := range []string{"backup", "prune", "check"} {
		var cj batchv1.CronJob
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "helpdesk-" + op}, &cj); err != nil {
			t.Fatalf("CronJob for %s: %v", op, err)
		}
		assertPolicyOwned(t, &cj, got)
		s := cj.Spec
		if s.ConcurrencyPolicy != batchv1.ForbidConcurrent || *s.TimeZone != "Europe/Warsaw" || *s.StartingDeadlineSeconds <= 0 ||
			*s.SuccessfulJobsHistoryLimit != 3 || *s.JobTemplate.Spec.BackoffLimit != 1 || *s.JobTemplate.Spec.ActiveDeadlineSeconds <= 0 {
			t.Errorf("%s CronJob spec %+v", op, s)
		}
		want := map[string]string{"backup": "0 2 * * *", "prune": "@daily", "check": "0 4 * * 0"}[op]
		if s.Schedule != want {
			t.Errorf("%s schedule %q, want %q", op, s.Schedule, want)
		}
		pod := s.JobTemplate.Spec.Template.Spec
		c := pod.Containers[0]
		if !*pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
			*c.SecurityContext.AllowPrivilegeEscalation || !*c.SecurityContext.ReadOnlyRootFilesystem ||
			len(c.SecurityContext.Capabilities.Drop) != 1 || c.SecurityContext.Capabilities.Drop[0] != "ALL" ||
			*pod.AutomountServiceAccountToken || pod.ServiceAccountName != "helpdesk-backup-agent" || c.Image != testAgentImage {
			t.Errorf("%s pod is not restricted: %+v / %+v", op, pod.SecurityContext, c.SecurityContext)
		}
		if c.Args[0] != op {
			t.Errorf("%s args %v", op, c.Args)
		}
		// Secrets reach the pod only by reference.
		raw, _ := json.Marshal(cj)
		for _, secret := range []string{resticPassword, "db-pass-123", s3SecretKeyText} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("%s CronJob contains a secret value", op)
			}
		}
		envs := map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			envs[e.Name] = e
		}
		if e := envs["RESTIC_PASSWORD"]; e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != "restic" {
			t.Errorf("%s RESTIC_PASSWORD %+v", op, e)
		}
		if op == "backup" {
			if e := envs[resources.ConnectionEnv("tickets")]; e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != "helpdesk-db" {
				t.Errorf("database URI env %+v", e)
			}
			if len(pod.Volumes) != 2 || pod.Volumes[1].PersistentVolumeClaim.ClaimName != "helpdesk-attachments" || !pod.Volumes[1].PersistentVolumeClaim.ReadOnly {
				t.Errorf("backup volumes %+v", pod.Volumes)
			}
		}
	}
	var sa corev1.ServiceAccount
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "helpdesk-backup-agent"}, &sa); err != nil || *sa.AutomountServiceAccountToken {
		t.Errorf("service account %+v %v", sa, err)
	}
	var np networkingv1.NetworkPolicy
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "helpdesk-backup-egress"}, &np); err != nil {
		t.Fatal(err)
	}
	assertPolicyOwned(t, &np, got)
	if len(np.Spec.PolicyTypes) != 2 || len(np.Spec.Ingress) != 0 || len(np.Spec.Egress) != 3 {
		t.Fatalf("network policy %+v", np.Spec)
	}
	db, repo := np.Spec.Egress[1], np.Spec.Egress[2]
	if db.To[0].PodSelector.MatchLabels["app"] != "postgres" || db.To[0].NamespaceSelector.MatchLabels[corev1.LabelMetadataName] != ns || db.Ports[0].Port.IntValue() != 5433 {
		t.Errorf("database egress %+v: want the Service's pods on the target port", db)
	}
	if repo.To[0].IPBlock.CIDR != "0.0.0.0/0" || repo.Ports[0].Port.IntValue() != 443 {
		t.Errorf("repository egress %+v: want HTTPS", repo)
	}
	if got.Status.NextScheduleTime == nil || got.Status.NextScheduleTime.Time.In(mustZone(t, "Europe/Warsaw")).Hour() != 2 {
		t.Errorf("nextScheduleTime %v", got.Status.NextScheduleTime)
	}

	// Suspend reaches the CronJobs; removing the check removes its CronJob.
	if err := update(t, k8sClient, got, func(p *opsv1alpha1.BackupPolicy) {
		p.Spec.Suspend = true
		p.Spec.Check = nil
	}); err != nil {
		t.Fatal(err)
	}
	waitPolicy(t, client.ObjectKeyFromObject(policy), readyPolicy)
	eventually(t, 10*time.Second, func() error {
		var cj batchv1.CronJob
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "helpdesk-backup"}, &cj); err != nil || !*cj.Spec.Suspend {
			return fmt.Errorf("backup CronJob not suspended: %v", err)
		}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "helpdesk-check"}, &cj); !apierrors.IsNotFound(err) {
			return fmt.Errorf("check CronJob still there: %v", err)
		}
		return nil
	})

	// A source removed takes its egress rule with it: the backup pods
	// reach only what the policy still backs up.
	if err := update(t, k8sClient, got, func(p *opsv1alpha1.BackupPolicy) { p.Spec.Sources.Postgres = nil }); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "helpdesk-backup-egress"}, &np); err != nil {
			return err
		}
		if len(np.Spec.Egress) != 2 || np.Spec.Egress[1].To[0].IPBlock == nil {
			return fmt.Errorf("egress %+v after the database source was removed, want DNS and the repository only", np.Spec.Egress)
		}
		return nil
	})
}

func assertPolicyOwned(t *testing.T, obj client.Object, owner *opsv1alpha1.BackupPolicy) {
	t.Helper()
	refs := obj.GetOwnerReferences()
	if len(refs) != 1 || refs[0].UID != owner.UID || !*refs[0].Controller {
		t.Errorf("%s owner references %+v", obj.GetName(), refs)
	}
}

// finishJob creates a Job of the backup CronJob and its pod, finished as
// kube-controller-manager and the kubelet would leave them.
func finishJob(t *testing.T, ns, name string, succeeded bool, message string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	var cj batchv1.CronJob
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "helpdesk-backup"}, &cj); err != nil {
		t.Fatal(err)
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: cj.Spec.JobTemplate.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(&cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))}},
		Spec: *cj.Spec.JobTemplate.Spec.DeepCopy(),
	}
	if err := k8sClient.Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	completeJob(t, job, succeeded, message, at)
}

func agentMessage(t *testing.T, ok bool, at time.Time, errMsg string) string {
	t.Helper()
	r := agentapi.Result{Operation: "backup", Policy: "x/helpdesk", Start: at.Add(-3 * time.Minute), End: at, Succeeded: ok, Error: errMsg, RecoverySet: "set-" + at.Format("150405")}
	if ok {
		r.Snapshots = []agentapi.Snapshot{{Source: "tickets", Database: "helpdesk", ID: "0557d900", Added: 4402351, Total: 4401861},
			{Source: "attachments", ID: "7a1b2c3d", Added: 1000, Total: 2000}}
	}
	return string(r.Encode())
}

func TestBackupPolicyStatusFromJobs(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createPolicyInputs(t, ns)
	policy := samplePolicy(t, ns)
	// Created now (fake clock) with a 26h RPO and no backup: RPO met for now.
	if err := k8sClient.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	waitPolicy(t, client.ObjectKeyFromObject(policy), readyPolicy)

	now := fakeClock.Now()
	finishJob(t, ns, "helpdesk-backup-1", true, agentMessage(t, true, now.Add(-time.Hour), ""), now.Add(-time.Hour))
	got := waitPolicy(t, client.ObjectKeyFromObject(policy), func(p *opsv1alpha1.BackupPolicy) error {
		if p.Status.LastBackup == nil || p.Status.LastBackup.SnapshotID != "0557d900" {
			return fmt.Errorf("lastBackup %+v", p.Status.LastBackup)
		}
		return nil
	})
	lb := got.Status.LastBackup
	if lb.Result != opsv1alpha1.BackupSucceeded || lb.BytesAdded != 4403351 || lb.TotalBytes != 4403861 || lb.JobName != "helpdesk-backup-1" {
		t.Errorf("lastBackup %+v", lb)
	}
	// The run is a recovery set: its name and every source's snapshot.
	wantSet := []opsv1alpha1.SourceSnapshot{{Source: "tickets", Database: "helpdesk", ID: "0557d900"}, {Source: "attachments", ID: "7a1b2c3d"}}
	if lb.RecoverySet != "set-"+now.Add(-time.Hour).Format("150405") || !reflect.DeepEqual(lb.Snapshots, wantSet) {
		t.Errorf("recovery set %q %+v, want %+v", lb.RecoverySet, lb.Snapshots, wantSet)
	}
	if got.Status.LastSuccessfulTime == nil || !got.Status.LastSuccessfulTime.Time.Equal(now.Add(-time.Hour).Truncate(time.Second)) {
		t.Errorf("lastSuccessfulTime %v", got.Status.LastSuccessfulTime)
	}
	if c := policyCondition(got, opsv1alpha1.ConditionLastBackupSucceeded); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("LastBackupSucceeded %+v", c)
	}
	if c := policyCondition(got, opsv1alpha1.ConditionRPOMet); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("RPOMet %+v", c)
	}
	labels := []string{ns, "helpdesk"}
	if v := backupLastBytesAdded.WithLabelValues(labels...).Value(); v != 4403351 {
		t.Errorf("last bytes added metric %v", v)
	}
	if v := backupLastDuration.WithLabelValues(labels...).Value(); v != 180 {
		t.Errorf("last duration metric %v", v)
	}

	// A failed run: the agent's one-line reason reaches status.
	finishJob(t, ns, "helpdesk-backup-2", false, agentMessage(t, false, now, "database helpdesk: connection refused at helpdesk-db:5432"), now)
	got = waitPolicy(t, client.ObjectKeyFromObject(policy), func(p *opsv1alpha1.BackupPolicy) error {
		if c := policyCondition(p, opsv1alpha1.ConditionLastBackupSucceeded); c == nil || c.Status != metav1.ConditionFalse {
			return fmt.Errorf("LastBackupSucceeded %+v", c)
		}
		return nil
	})
	if got.Status.LastBackup.Message != "database helpdesk: connection refused at helpdesk-db:5432" || len(got.Status.RecentBackups) != 2 ||
		got.Status.RecentBackups[1].JobName != "helpdesk-backup-1" {
		t.Errorf("after a failure: lastBackup %+v, recent %d", got.Status.LastBackup, len(got.Status.RecentBackups))
	}
	if v := backupConsecutiveFailures.WithLabelValues(labels...).Value(); v != 1 {
		t.Errorf("consecutive failures metric %v, want 1", v)
	}
	// A pod killed before the agent could write its result.
	finishJob(t, ns, "helpdesk-backup-3", false, "", now.Add(time.Minute))
	got = waitPolicy(t, client.ObjectKeyFromObject(policy), func(p *opsv1alpha1.BackupPolicy) error {
		if p.Status.LastBackup.JobName != "helpdesk-backup-3" {
			return fmt.Errorf("lastBackup %s", p.Status.LastBackup.JobName)
		}
		return nil
	})
	if !strings.HasPrefix(got.Status.LastBackup.Message, "BackoffLimitExceeded") || got.Status.LastBackup.Result != opsv1alpha1.BackupFailed {
		t.Errorf("killed run: %+v", got.Status.LastBackup)
	}
	if v := backupConsecutiveFailures.WithLabelValues(labels...).Value(); v != 2 {
		t.Errorf("consecutive failures metric %v, want 2", v)
	}

	// 26 hours later nothing new succeeded: the RPO is missed, on a timer,
	// and an event says so. A second look writes nothing more.
	defer fakeClock.SetTime(now)
	fakeClock.SetTime(now.Add(26 * time.Hour))
	r := &BackupPolicyReconciler{Client: k8sClient, APIReader: k8sClient, Recorder: &events.FakeRecorder{}, Clock: fakeClock, AgentImage: testAgentImage, MountingPods: testMountingPods(t)}
	res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(policy)})
	if err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(policy), got); err != nil {
		t.Fatal(err)
	}
	if c := policyCondition(got, opsv1alpha1.ConditionRPOMet); c == nil || c.Status != metav1.ConditionFalse || c.Reason != opsv1alpha1.ReasonRPOMissed {
		t.Errorf("RPOMet after 26h %+v", c)
	}
	if v := backupRPOMet.WithLabelValues(labels...).Value(); v != 0 {
		t.Errorf("rpo_met metric %v", v)
	}
	_ = res
	rv := settle(t, func() string {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(policy), got); err != nil {
			t.Fatal(err)
		}
		return got.ResourceVersion
	})
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(policy)}); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(policy), got); err != nil || got.ResourceVersion != rv {
		t.Errorf("a steady RPO breach rewrote status (%s -> %s)", rv, got.ResourceVersion)
	}
	eventually(t, 10*time.Second, func() error {
		var list eventsv1.EventList
		if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == opsv1alpha1.ReasonBackupFailed && strings.Contains(e.Note, "connection refused at helpdesk-db:5432") {
				return nil
			}
		}
		return fmt.Errorf("no BackupFailed event among %d", len(list.Items))
	})
}

func TestBackupPolicyMissingReferences(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	policy := samplePolicy(t, ns)
	if err := k8sClient.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	want := "repository.credentialsSecretRef: Secret s3-credentials not found; repository.passwordSecretRef: Secret restic not found; " +
		"sources.postgres[tickets].connectionSecretRef: Secret helpdesk-db not found; sources.volumes[attachments].claimName: PersistentVolumeClaim helpdesk-attachments not found"
	waitPolicy(t, client.ObjectKeyFromObject(policy), func(p *opsv1alpha1.BackupPolicy) error {
		if c := policyCondition(p, opsv1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse ||
			c.Reason != opsv1alpha1.ReasonInvalidSpec || c.Message != want {
			return fmt.Errorf("Ready = %+v\nwant InvalidSpec: %s", c, want)
		}
		return nil
	})
	var cjs batchv1.CronJobList
	if err := k8sClient.List(ctx, &cjs, client.InNamespace(ns)); err != nil || len(cjs.Items) != 0 {
		t.Errorf("CronJobs created for an invalid policy: %d %v", len(cjs.Items), err)
	}

	// The inputs appear: the policy recovers by itself (Secrets are not
	// watched, it looks again within 30s; call it now).
	createPolicyInputs(t, ns)
	r := &BackupPolicyReconciler{Client: k8sClient, APIReader: k8sClient, Recorder: &events.FakeRecorder{}, Clock: fakeClock, AgentImage: testAgentImage, MountingPods: testMountingPods(t)}
	// The manager may reconcile the same policy at this moment (a child it
	// owns appears): the loser of a create race is told AlreadyExists and,
	// like the manager's own queue, simply tries again.
	eventually(t, 20*time.Second, func() error {
		_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(policy)})
		return err
	})
	waitPolicy(t, client.ObjectKeyFromObject(policy), readyPolicy)

	// A key that is not there is named too.
	var secret corev1.Secret
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "restic"}, &secret); err != nil {
		t.Fatal(err)
	}
	secret.Data = map[string][]byte{"pass": []byte("x")}
	if err := k8sClient.Update(ctx, &secret); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(policy)}); err != nil {
		t.Fatal(err)
	}
	got := waitPolicy(t, client.ObjectKeyFromObject(policy), func(p *opsv1alpha1.BackupPolicy) error {
		if c := policyCondition(p, opsv1alpha1.ConditionReady); c.Message != "repository.passwordSecretRef: Secret restic has no key password" {
			return fmt.Errorf("Ready %q", c.Message)
		}
		return nil
	})
	for _, cond := range got.Status.Conditions {
		if strings.Contains(cond.Message, "db-pass-123") || strings.Contains(cond.Message, resticPassword) {
			t.Errorf("condition %s leaks a secret", cond.Type)
		}
	}
}

// stuckPod creates a pod of job as the Job controller would, then writes the
// status the kubelet leaves when the agent image is not on the node.
func stuckPod(t *testing.T, job *batchv1.Job, image string) {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{batchv1.JobNameLabel: job.Name}
	for k, v := range job.Spec.Template.Labels {
		labels[k] = v
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-stuck", Namespace: job.Namespace, Labels: labels},
		Spec: *job.Spec.Template.Spec.DeepCopy()}
	if err := k8sClient.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodPending
	pod.Status.StartTime = &metav1.Time{Time: time.Now()}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "agent", Image: image, State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImageNeverPull", Message: `Container image "` + image + `" is not present with pull policy of Never`}}}}
	if err := k8sClient.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
}

// A backup-now annotation starts one Job from the backup CronJob's template
// per new value; a pod of it that cannot start is named in PodsRunnable and
// an event within seconds.
func TestBackupNowAndStuckPods(t *testing.T) {
	ctx := context.Background()
	policy := readySamplePolicy(t)
	ns, key := policy.Namespace, client.ObjectKeyFromObject(policy)
	backupNow := func(token string) {
		t.Helper()
		if err := update(t, k8sClient, policy, func(p *opsv1alpha1.BackupPolicy) {
			if p.Annotations == nil {
				p.Annotations = map[string]string{}
			}
			p.Annotations[resources.AnnotationBackupNow] = token
		}); err != nil {
			t.Fatal(err)
		}
		waitPolicy(t, key, func(p *opsv1alpha1.BackupPolicy) error {
			if p.Status.LastBackupNowToken != token {
				return fmt.Errorf("lastBackupNowToken %q", p.Status.LastBackupNowToken)
			}
			return nil
		})
	}
	backupJobs := func() []batchv1.Job {
		t.Helper()
		var jobs batchv1.JobList
		if err := k8sClient.List(ctx, &jobs, client.InNamespace(ns), client.MatchingLabels{resources.LabelBackupPolicy: policy.Name}); err != nil {
			t.Fatal(err)
		}
		return jobs.Items
	}

	backupNow("first")
	jobs := backupJobs()
	var cronJob batchv1.CronJob
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: resources.BackupName(policy, "backup")}, &cronJob); err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || !metav1.IsControlledBy(&jobs[0], &cronJob) || jobs[0].Annotations["cronjob.kubernetes.io/instantiate"] != "manual" ||
		!strings.HasPrefix(jobs[0].Name, cronJob.Name+"-now-") ||
		!equality.Semantic.DeepEqual(jobs[0].Spec.Template.Spec.Containers[0].Args, cronJob.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args) {
		t.Fatalf("backup-now Jobs %+v", jobs)
	}
	// The same value again starts nothing; a new one starts a second Job.
	if err := update(t, k8sClient, policy, func(p *opsv1alpha1.BackupPolicy) { p.Labels = map[string]string{"nudge": "1"} }); err != nil {
		t.Fatal(err)
	}
	settle(t, func() string { return fmt.Sprint(len(backupJobs())) })
	if n := len(backupJobs()); n != 1 {
		t.Fatalf("%d Jobs after the same token, want 1", n)
	}
	backupNow("second")
	if n := len(backupJobs()); n != 2 {
		t.Fatalf("%d Jobs after a new token, want 2", n)
	}

	// Its pod cannot start: the image is not on the node.
	stuckPod(t, &jobs[0], testAgentImage)
	want := fmt.Sprintf("Job %s: pod %s-stuck: image %s not present on the node (imagePullPolicy Never)", jobs[0].Name, jobs[0].Name, testAgentImage)
	waitPolicy(t, key, func(p *opsv1alpha1.BackupPolicy) error {
		c := policyCondition(p, opsv1alpha1.ConditionPodsRunnable)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != opsv1alpha1.ReasonImageNotPresent || c.Message != want {
			return fmt.Errorf("PodsRunnable %+v", c)
		}
		return nil
	})
	eventually(t, 20*time.Second, func() error {
		var list eventsv1.EventList
		if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == opsv1alpha1.ReasonImageNotPresent && e.Note == want && e.Regarding.Name == policy.Name {
				return nil
			}
		}
		return fmt.Errorf("no %s event among %d", opsv1alpha1.ReasonImageNotPresent, len(list.Items))
	})
	// Once the Job is finished the pod no longer counts.
	completeJob(t, &jobs[0], true, agentMessage(t, true, fakeClock.Now(), ""), fakeClock.Now())
	waitPolicy(t, key, func(p *opsv1alpha1.BackupPolicy) error {
		if c := policyCondition(p, opsv1alpha1.ConditionPodsRunnable); c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("PodsRunnable %+v", c)
		}
		return nil
	})
}

// A policy whose CronJobs, ServiceAccount and NetworkPolicy are in shape
// makes no write request at all, counted at the client: the API server's
// defaults in the stored objects are not differences to patch away.
func TestBackupPolicySteadyStateMakesNoWrites(t *testing.T) {
	ctx := context.Background()
	policy := readySamplePolicy(t)
	ns, key := policy.Namespace, client.ObjectKeyFromObject(policy)
	settle(t, func() string {
		p := &opsv1alpha1.BackupPolicy{}
		if err := k8sClient.Get(ctx, key, p); err != nil {
			t.Fatal(err)
		}
		return p.ResourceVersion
	})
	c, writes := countingClient(t)
	recorder := events.NewFakeRecorder(10)
	r := &BackupPolicyReconciler{Client: c, APIReader: c, Recorder: recorder, Clock: fakeClock, AgentImage: testAgentImage, MountingPods: testMountingPods(t)}
	for i := 0; i < 3; i++ {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
			t.Fatal(err)
		}
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("3 steady-state reconciles sent %d write requests, want 0", n)
	}
	if n := len(recorder.Events); n != 0 {
		t.Errorf("3 steady-state reconciles recorded %d events, e.g. %q", n, <-recorder.Events)
	}

	// Drift is still repaired: an edited schedule and agent image are put back.
	cronJob := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: resources.BackupName(policy, "backup")}}
	if err := update(t, k8sClient, cronJob, func(cj *batchv1.CronJob) {
		cj.Spec.Schedule = "5 5 * * *"
		cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image = "attacker/agent:evil"
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(cronJob), cronJob); err != nil {
			return err
		}
		if got, image := cronJob.Spec.Schedule, cronJob.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image; got != string(policy.Spec.Schedule) || image != testAgentImage {
			return fmt.Errorf("CronJob schedule %q image %q, want %q %q", got, image, policy.Spec.Schedule, testAgentImage)
		}
		return nil
	})
}
