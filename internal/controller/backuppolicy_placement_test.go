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
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

// testMountingPods is a started cache of pods' nodes and claims, as the
// manager's BackupPolicy reconciler has, for reconcilers a test drives.
func testMountingPods(t *testing.T) client.Reader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := newMountingPodCache(ctx, env.Config, testenv.Scheme())
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		t.Fatal("the mounting pods cache did not sync")
	}
	return c
}

// placementFixture is a namespace with simulated nodes (Node objects: no
// kubelet), claims and the application pods that mount them.
type placementFixture struct {
	ns    string
	nodes map[string]string // short name (a, b, c) -> the Node's name
}

func newPlacementFixture(t *testing.T) *placementFixture {
	t.Helper()
	ctx := context.Background()
	f := &placementFixture{ns: newNamespace(t), nodes: map[string]string{}}
	createPolicyInputs(t, f.ns) // helpdesk-attachments is ReadWriteOnce
	for _, short := range []string{"a", "b", "c"} {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: f.ns + "-node-" + short}}
		if err := k8sClient.Create(ctx, node); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), node) })
		f.nodes[short] = node.Name
	}
	for name, mode := range map[string]corev1.PersistentVolumeAccessMode{
		"reports": corev1.ReadWriteOnce, "shared": corev1.ReadWriteMany, "solo": corev1.ReadWriteOncePod,
	} {
		if err := k8sClient.Create(ctx, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns}, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{mode},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// appPod runs an application pod mounting claims on a node (as the
// scheduler and the kubelet would have made it: bound and Running).
func (f *placementFixture) appPod(t *testing.T, name, node string, claims ...string) *corev1.Pod {
	t.Helper()
	return f.labelledPod(t, name, node, map[string]string{"app": "helpdesk"}, claims...)
}

// labelledPod is appPod with the pod's labels.
func (f *placementFixture) labelledPod(t *testing.T, name, node string, labels map[string]string, claims ...string) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: labels},
		Spec: corev1.PodSpec{NodeName: f.nodes[node], Containers: []corev1.Container{{Name: "rt", Image: "request-tracker:5"}}}}
	for _, c := range claims {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: c, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
	}
	if err := k8sClient.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodRunning
	if err := k8sClient.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

// backupCronJobs are the policy's backup CronJobs by name.
func backupCronJobs(t *testing.T, policy *opsv1alpha1.BackupPolicy) map[string]batchv1.CronJob {
	t.Helper()
	var list batchv1.CronJobList
	if err := k8sClient.List(context.Background(), &list, client.InNamespace(policy.Namespace), client.MatchingLabels{
		resources.LabelBackupPolicy: policy.Name, resources.LabelOperation: agentapi.OperationBackup}); err != nil {
		t.Fatal(err)
	}
	out := map[string]batchv1.CronJob{}
	for _, cj := range list.Items {
		out[cj.Name] = cj
	}
	return out
}

// placedOn is the node a CronJob's pods must run on ("" for anywhere) and
// the claims they mount.
func placedOn(cj batchv1.CronJob) (string, []string) {
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	node := requiredNode(pod.Affinity)
	var claims []string
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil {
			claims = append(claims, v.PersistentVolumeClaim.ClaimName)
		}
	}
	slices.Sort(claims)
	return node, claims
}

// wantPlacement waits until the policy's backup CronJobs are exactly want:
// name -> "node claim,claim".
func wantPlacement(t *testing.T, policy *opsv1alpha1.BackupPolicy, want map[string]string) map[string]batchv1.CronJob {
	t.Helper()
	var got map[string]batchv1.CronJob
	eventually(t, 20*time.Second, func() error {
		got = backupCronJobs(t, policy)
		seen := map[string]string{}
		for name, cj := range got {
			node, claims := placedOn(cj)
			seen[name] = node + " " + strings.Join(claims, ",")
		}
		if fmt.Sprint(seen) != fmt.Sprint(want) {
			return fmt.Errorf("backup CronJobs %v, want %v", seen, want)
		}
		return nil
	})
	return got
}

// TestBackupFollowsTheApplication: a policy whose ReadWriteOnce claim is
// mounted by a pod on node B gets backup pods that run on B; the pod moves
// to C and the CronJob follows; a second claim mounted on A splits the run
// into two CronJobs on one schedule whose Jobs are recorded as one run
// (one recovery set); steady state writes nothing; the part is removed
// when the claim goes back to one node.
func TestBackupFollowsTheApplication(t *testing.T) {
	ctx := context.Background()
	f := newPlacementFixture(t)
	app := f.appPod(t, "helpdesk-0", "b", "helpdesk-attachments")
	policy := samplePolicy(t, f.ns)
	if err := k8sClient.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(policy)
	first := resources.BackupPartName(policy, 1)
	wantPlacement(t, policy, map[string]string{first: f.nodes["b"] + " helpdesk-attachments"})

	// The application moves to node C: the old pod is gone, a new one runs.
	if err := k8sClient.Delete(ctx, app, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	f.appPod(t, "helpdesk-1", "c", "helpdesk-attachments")
	wantPlacement(t, policy, map[string]string{first: f.nodes["c"] + " helpdesk-attachments"})

	// A second ReadWriteOnce claim, mounted on A: two parts, ordered by node.
	f.appPod(t, "reports-0", "a", "reports")
	if err := update(t, k8sClient, policy, func(p *opsv1alpha1.BackupPolicy) {
		p.Spec.Sources.Volumes = append(p.Spec.Sources.Volumes, opsv1alpha1.VolumeSource{Name: "reports", ClaimName: "reports"})
	}); err != nil {
		t.Fatal(err)
	}
	second := resources.BackupPartName(policy, 2)
	cronJobs := wantPlacement(t, policy, map[string]string{first: f.nodes["a"] + " reports", second: f.nodes["c"] + " helpdesk-attachments"})
	for name, cj := range cronJobs {
		if cj.Spec.Schedule != string(policy.Spec.Schedule) {
			t.Errorf("CronJob %s runs at %q, not on the policy's schedule %q", name, cj.Spec.Schedule, policy.Spec.Schedule)
		}
		env := map[string]string{}
		for _, e := range cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Env {
			env[e.Name] = e.Value
		}
		if env[agentapi.RecoverySetPrefixEnv] != first {
			t.Errorf("CronJob %s names its recovery sets after %q, want %q (one set per run)", name, env[agentapi.RecoverySetPrefixEnv], first)
		}
		// The databases are dumped by the first part only.
		if _, dumps := env[resources.ConnectionEnv("tickets")]; dumps != (name == first) {
			t.Errorf("CronJob %s dumps the databases: %v", name, dumps)
		}
	}
	p := waitPolicy(t, key, readyPolicy)
	if c := policyCondition(p, opsv1alpha1.ConditionReady); !strings.Contains(c.Message, "2 parts") {
		t.Errorf("Ready does not say the backup runs in two parts: %q", c.Message)
	}

	// Nothing moves: three reconciles write nothing.
	settle(t, func() string {
		if err := k8sClient.Get(ctx, key, p); err != nil {
			t.Fatal(err)
		}
		return p.ResourceVersion
	})
	c, writes := countingClient(t)
	recorder := events.NewFakeRecorder(10)
	r := &BackupPolicyReconciler{Client: c, APIReader: c, Recorder: recorder, Clock: fakeClock, AgentImage: testAgentImage, MountingPods: testMountingPods(t)}
	for range 3 {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
			t.Fatal(err)
		}
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("3 steady-state reconciles of a split policy sent %d write requests, want 0", n)
	}

	// A run on demand: one Job per part; both finished is one recorded run.
	if err := update(t, k8sClient, policy, func(p *opsv1alpha1.BackupPolicy) {
		p.Annotations = map[string]string{resources.AnnotationBackupNow: "split-1"}
	}); err != nil {
		t.Fatal(err)
	}
	jobs := runJobs(t, policy, 2)
	at := fakeClock.Now()
	completeJob(t, &jobs[0], true, partMessage(t, true, at, jobs[0].Name, "tickets", "helpdesk", "reports"), at)
	// Half a run is not a run: nothing is recorded until the other part
	// ends (a reconcile that reads the API server, not a cache, sees the
	// finished part at once).
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Get(ctx, key, p); err != nil {
		t.Fatal(err)
	}
	if len(p.Status.RecentBackups) != 0 {
		t.Fatalf("recorded a run with one of its two parts finished: %+v", p.Status.RecentBackups)
	}

	// Meanwhile the second claim's pod joins the first on node C: one part
	// again. The second CronJob still has a Job whose result is unread: it is
	// suspended (no run on its old node), not deleted (its Job would go).
	if err := k8sClient.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "reports-0", Namespace: f.ns}}, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	f.appPod(t, "reports-1", "c", "reports")
	eventually(t, 20*time.Second, func() error {
		cjs := backupCronJobs(t, policy)
		node, claims := placedOn(cjs[first])
		if old, ok := cjs[second]; !ok || old.Spec.Suspend == nil || !*old.Spec.Suspend || node != f.nodes["c"] || len(claims) != 2 {
			return fmt.Errorf("part 2's CronJob %v (suspend %v); part 1 on %q with %v", ok, old.Spec.Suspend, node, claims)
		}
		return nil
	})

	completeJob(t, &jobs[1], true, partMessage(t, true, at.Add(time.Minute), jobs[1].Name, "attachments", "", ""), at.Add(time.Minute))
	p = waitPolicy(t, key, func(p *opsv1alpha1.BackupPolicy) error {
		if len(p.Status.RecentBackups) != 1 {
			return fmt.Errorf("%d recent backups", len(p.Status.RecentBackups))
		}
		return nil
	})
	run := p.Status.RecentBackups[0]
	if run.Result != opsv1alpha1.BackupSucceeded || run.JobName != jobs[0].Name || !slices.Equal(run.PartJobs, []string{jobs[1].Name}) ||
		len(run.Snapshots) != 3 || run.RecoverySet != agentapi.RecoverySetOf(first, jobs[0].Name) {
		t.Errorf("the split run recorded as %+v", run)
	}

	// Its Job recorded, the second CronJob is deleted.
	wantPlacement(t, policy, map[string]string{first: f.nodes["c"] + " helpdesk-attachments,reports"})
}

// runJobs waits for the n Jobs a backup-now made, ordered by part.
func runJobs(t *testing.T, policy *opsv1alpha1.BackupPolicy, n int) []batchv1.Job {
	t.Helper()
	var jobs batchv1.JobList
	eventually(t, 20*time.Second, func() error {
		if err := k8sClient.List(context.Background(), &jobs, client.InNamespace(policy.Namespace), client.MatchingLabels{
			resources.LabelBackupPolicy: policy.Name, resources.LabelOperation: agentapi.OperationBackup}); err != nil {
			return err
		}
		if len(jobs.Items) != n {
			return fmt.Errorf("%d backup Jobs, want %d", len(jobs.Items), n)
		}
		return nil
	})
	slices.SortFunc(jobs.Items, func(a, b batchv1.Job) int {
		return strings.Compare(a.Labels[resources.LabelBackupPart], b.Labels[resources.LabelBackupPart])
	})
	return jobs.Items
}

// partMessage is what a part's agent reports: one snapshot per source it
// backed up, in the run's set.
func partMessage(t *testing.T, ok bool, at time.Time, job, source, database, volume string) string {
	t.Helper()
	r := agentapi.Result{Operation: "backup", Policy: "x/helpdesk", Start: at.Add(-time.Minute), End: at, Succeeded: ok,
		RecoverySet: agentapi.RecoverySetOf("helpdesk-backup", job)}
	id := func(s string) string { return fmt.Sprintf("%08x", len(s)*7919+len(job)) }
	r.Snapshots = append(r.Snapshots, agentapi.Snapshot{Source: source, Database: database, ID: id(source + database), Added: 10, Total: 100})
	if volume != "" {
		r.Snapshots = append(r.Snapshots, agentapi.Snapshot{Source: volume, ID: id(volume), Added: 1, Total: 10})
	}
	if !ok {
		r.Error = "volume " + source + ": restic failed"
	}
	return string(r.Encode())
}

// TestBackupFollowsAHelpDesksPods: a HelpDesk's RT pods are the operator's
// (managed-by), but they are the application whose claim the backup must
// follow: the policy's backup runs on the node of RT's web pod, and a
// newer pod of the operator's own (a backup pod) mounting the claim
// elsewhere does not move it.
func TestBackupFollowsAHelpDesksPods(t *testing.T) {
	ctx := context.Background()
	f := newPlacementFixture(t)
	operators := func(more map[string]string) map[string]string {
		labels := map[string]string{opsv1alpha1.LabelManagedBy: opsv1alpha1.ManagedByValue}
		maps.Copy(labels, more)
		return labels
	}
	f.labelledPod(t, "helpdesk-web-0", "b", operators(map[string]string{resources.LabelHelpDesk: "helpdesk"}), "helpdesk-attachments")
	policy := samplePolicy(t, f.ns)
	if err := k8sClient.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	first := resources.BackupPartName(policy, 1)
	wantPlacement(t, policy, map[string]string{first: f.nodes["b"] + " helpdesk-attachments"})
	f.labelledPod(t, "helpdesk-backup-0", "c", operators(map[string]string{resources.LabelBackupPolicy: policy.Name}), "helpdesk-attachments")
	time.Sleep(2 * time.Second) // the cache has the pod; the policy would have moved by now
	wantPlacement(t, policy, map[string]string{first: f.nodes["b"] + " helpdesk-attachments"})
}

// TestBackupPlacementOfSharedAndSinglePodClaims: a ReadWriteMany claim puts
// no constraint on the backup pod, wherever it is mounted; a
// ReadWriteOncePod claim is refused with a condition that says why and
// what to do.
func TestBackupPlacementOfSharedAndSinglePodClaims(t *testing.T) {
	ctx := context.Background()
	f := newPlacementFixture(t)
	f.appPod(t, "shared-0", "b", "shared")
	f.appPod(t, "solo-0", "c", "solo")
	policy := samplePolicy(t, f.ns)
	policy.Spec.Sources.Volumes = []opsv1alpha1.VolumeSource{{Name: "shared", ClaimName: "shared"}}
	if err := k8sClient.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	wantPlacement(t, policy, map[string]string{resources.BackupPartName(policy, 1): " shared"})

	if err := update(t, k8sClient, policy, func(p *opsv1alpha1.BackupPolicy) {
		p.Spec.Sources.Volumes = append(p.Spec.Sources.Volumes, opsv1alpha1.VolumeSource{Name: "solo", ClaimName: "solo"})
	}); err != nil {
		t.Fatal(err)
	}
	p := waitPolicy(t, client.ObjectKeyFromObject(policy), func(p *opsv1alpha1.BackupPolicy) error {
		c := policyCondition(p, opsv1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionFalse {
			return fmt.Errorf("Ready %+v", c)
		}
		return nil
	})
	msg := policyCondition(p, opsv1alpha1.ConditionReady).Message
	for _, want := range []string{"sources.volumes[solo].claimName", "ReadWriteOncePod", "no backup pod ever can", "ReadWriteOnce ("} {
		if !strings.Contains(msg, want) {
			t.Errorf("Ready's message %q does not say %q", msg, want)
		}
	}
}

// TestBackupPodStuckOnMultiAttach: the application moved after the run was
// placed, so the backup pod waits on its old node where its ReadWriteOnce
// volume cannot attach; the attach/detach controller says so in an event.
// PodsRunnable names the Multi-Attach reason, and since the CronJob now
// places the part on the new node, the operator ends the stuck Job (its
// deadline cut to now, so Forbid does not hold the next runs back for
// hours), and its result says why.
func TestBackupPodStuckOnMultiAttach(t *testing.T) {
	ctx := context.Background()
	f := newPlacementFixture(t)
	app := f.appPod(t, "helpdesk-0", "b", "helpdesk-attachments")
	policy := samplePolicy(t, f.ns)
	policy.Annotations = map[string]string{resources.AnnotationBackupNow: "stuck"}
	if err := k8sClient.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	job := runJobs(t, policy, 1)[0]
	if node := requiredNode(job.Spec.Template.Spec.Affinity); node != f.nodes["b"] {
		t.Fatalf("the Job requires node %q, want %q", node, f.nodes["b"])
	}
	// The application moves to C.
	if err := k8sClient.Delete(ctx, app, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	f.appPod(t, "helpdesk-1", "c", "helpdesk-attachments")
	wantPlacement(t, policy, map[string]string{resources.BackupPartName(policy, 1): f.nodes["c"] + " helpdesk-attachments"})

	labels := map[string]string{batchv1.JobNameLabel: job.Name}
	for k, v := range job.Spec.Template.Labels {
		labels[k] = v
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-x", Namespace: f.ns, Labels: labels}, Spec: *job.Spec.Template.Spec.DeepCopy()}
	pod.Spec.NodeName = f.nodes["b"]
	if err := k8sClient.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	msg := `Multi-Attach error for volume "pvc-1" Volume is already used by pod(s) helpdesk-1`
	if err := k8sClient.Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: pod.Name + ".attach", Namespace: f.ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: f.ns, Name: pod.Name, UID: pod.UID, APIVersion: "v1"},
		Reason:         "FailedAttachVolume", Message: msg, Type: corev1.EventTypeWarning,
		Source: corev1.EventSource{Component: "attachdetach-controller"}, LastTimestamp: metav1.Now(), FirstTimestamp: metav1.Now(), Count: 1,
	}); err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodPending
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "agent", Image: testAgentImage, State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}
	if err := k8sClient.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(policy)
	waitPolicy(t, key, func(p *opsv1alpha1.BackupPolicy) error {
		c := policyCondition(p, opsv1alpha1.ConditionPodsRunnable)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != opsv1alpha1.ReasonMultiAttach || !strings.Contains(c.Message, msg) {
			return fmt.Errorf("PodsRunnable %+v", c)
		}
		return nil
	})
	eventually(t, 20*time.Second, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&job), &job); err != nil {
			return err
		}
		if d := job.Spec.ActiveDeadlineSeconds; d == nil || *d > 600 || job.Annotations[annotationEndedBecause] == "" {
			return fmt.Errorf("the stuck Job still has its deadline %v", d)
		}
		return nil
	})
	// The Job controller fails it at its deadline; the run is recorded with why.
	completeJob(t, &job, false, "", fakeClock.Now())
	p := waitPolicy(t, key, func(p *opsv1alpha1.BackupPolicy) error {
		if len(p.Status.RecentBackups) != 1 {
			return fmt.Errorf("%d recent backups", len(p.Status.RecentBackups))
		}
		return nil
	})
	if got := p.Status.RecentBackups[0].Message; !strings.Contains(got, "ended by the operator") || !strings.Contains(got, "next run is placed on node "+f.nodes["c"]) {
		t.Errorf("the ended Job's result says %q", got)
	}
}

// TestBackupRepositoryOnAReadWriteOnceClaim: a repository on a ReadWriteOnce
// claim that another pod has mounted puts every backup, prune and check pod
// on that pod's node; sources mounted on another node are refused with
// what to do, and accepted once they are on the same node.
func TestBackupRepositoryOnAReadWriteOnceClaim(t *testing.T) {
	ctx := context.Background()
	f := newPlacementFixture(t)
	app := f.appPod(t, "helpdesk-0", "b", "helpdesk-attachments")
	f.appPod(t, "store-0", "c", "reports") // the repository's claim
	policy := samplePolicy(t, f.ns)
	policy.Spec.Repository.URL, policy.Spec.Repository.VolumeClaimName, policy.Spec.Repository.CredentialsSecretRef = "/repository", "reports", nil
	if err := k8sClient.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(policy)
	waitPolicy(t, key, func(p *opsv1alpha1.BackupPolicy) error {
		c := policyCondition(p, opsv1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "repository.volumeClaimName: PersistentVolumeClaim reports is ReadWriteOnce and mounted on node "+f.nodes["c"]) {
			return fmt.Errorf("Ready %+v", c)
		}
		return nil
	})
	if err := k8sClient.Delete(ctx, app, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	f.appPod(t, "helpdesk-1", "c", "helpdesk-attachments")
	waitPolicy(t, key, readyPolicy)
	wantPlacement(t, policy, map[string]string{resources.BackupPartName(policy, 1): f.nodes["c"] + " helpdesk-attachments,reports"})
	var prune batchv1.CronJob
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: resources.BackupName(policy, agentapi.OperationPrune)}, &prune); err != nil {
		t.Fatal(err)
	}
	if node := requiredNode(prune.Spec.JobTemplate.Spec.Template.Spec.Affinity); node != f.nodes["c"] {
		t.Errorf("the prune CronJob requires node %q, want the repository's %q", node, f.nodes["c"])
	}
}
