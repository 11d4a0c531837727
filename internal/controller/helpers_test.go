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

// Helpers every controller test uses: namespaces, samples, retries and
// waiting for the manager.

package controller

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

func ptrTo[T any](v T) *T { return &v }

// update re-reads obj, applies mutate and writes it with c, retrying on
// conflicts: the controller writes status concurrently, which moves the
// resourceVersion a test read.
func update[T client.Object](t *testing.T, c client.Client, obj T, mutate func(T)) error {
	t.Helper()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate(obj)
		return c.Update(context.Background(), obj)
	})
}

// settle waits until read returns the same value twice a second apart (the
// manager has stopped writing), and returns it.
func settle(t *testing.T, read func() string) string {
	t.Helper()
	last := read()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		now := read()
		if now == last {
			return now
		}
		last = now
	}
	t.Fatalf("still changing after 20s: %s", last)
	return ""
}

// eventNotes lists the notes of the events of reason regarding the named object in ns.
func eventNotes(t *testing.T, ns, regarding, reason string) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := k8sClient.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, e := range list.Items {
		if e.Regarding.Name == regarding && e.Reason == reason {
			notes = append(notes, e.Note)
		}
	}
	return notes
}

// waitNotes waits until check accepts the notes of the events of reason
// regarding the named object in ns. The manager's recorder sends events
// from a goroutine of its own, after the write the test may just have
// seen: a note a test expects to appear is waited for, while a check that
// none appeared (or none more) reads eventNotes at once.
// want says what check accepts, for the failure's message.
func waitNotes(t *testing.T, ns, regarding, reason, want string, check func(notes []string) bool) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		if notes := eventNotes(t, ns, regarding, reason); !check(notes) {
			return fmt.Errorf("%s events of %s %q, want %s", reason, regarding, notes, want)
		}
		return nil
	})
}

// eventually retries check until it returns nil or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "team-"}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// sample reads config/samples' object of kind into obj, in namespace ns.
func sample[T client.Object](t *testing.T, ns, kind string, obj T) T {
	t.Helper()
	if err := testenv.Sample(ns, kind, obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// completeJob finishes a Job as a cluster would: the pod terminates with
// the agent's termination message first, then the Job controller marks the
// Job finished (start three minutes before at).
func completeJob(t *testing.T, job *batchv1.Job, succeeded bool, message string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	name, ns := job.Name, job.Namespace
	start := metav1.NewTime(at.Add(-3 * time.Minute))
	end := metav1.NewTime(at)
	labels := map[string]string{batchv1.JobNameLabel: name}
	for k, v := range job.Spec.Template.Labels {
		labels[k] = v
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-pod", Namespace: ns, Labels: labels},
		Spec:       *job.Spec.Template.Spec.DeepCopy(),
	}
	if err := k8sClient.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	exit := int32(0)
	if !succeeded {
		exit = 1
	}
	pod.Status.Phase = corev1.PodSucceeded
	if !succeeded {
		pod.Status.Phase = corev1.PodFailed
	}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "agent", Image: testAgentImage, State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, Message: message, StartedAt: start, FinishedAt: end},
	}}}
	if err := k8sClient.Status().Update(ctx, pod); err != nil {
		t.Fatalf("pod status: %v", err)
	}
	job.Status.StartTime = &start
	// The finished condition's time is when kube-controller-manager saw the
	// pod end, in real time: the reconcilers wait that long (real time) for
	// the pod's termination message to reach their cache. The fake clock's
	// time would make them give up at once under load.
	seen := metav1.Now()
	if succeeded {
		job.Status.Succeeded = 1
		job.Status.CompletionTime = &end
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: seen, LastProbeTime: seen},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: seen, LastProbeTime: seen},
		}
	} else {
		job.Status.Failed = 2
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: seen, LastProbeTime: seen},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: seen, LastProbeTime: seen},
		}
	}
	if err := k8sClient.Status().Update(ctx, job); err != nil {
		t.Fatalf("job status: %v", err)
	}
}

// createPolicyInputs creates what the sample policy refers to.
func createPolicyInputs(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	for _, obj := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "restic", Namespace: ns}, StringData: map[string]string{"password": resticPassword}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s3-credentials", Namespace: ns}, StringData: map[string]string{"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": s3SecretKeyText}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "helpdesk-db", Namespace: ns}, StringData: map[string]string{"uri": databaseURI}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "helpdesk-db", Namespace: ns}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "postgres"},
			Ports:    []corev1.ServicePort{{Port: 5432, TargetPort: intstr.FromInt32(5433)}},
		}},
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "helpdesk-attachments", Namespace: ns}, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		}},
	} {
		if err := k8sClient.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
}

func samplePolicy(t *testing.T, ns string) *opsv1alpha1.BackupPolicy {
	t.Helper()
	return sample(t, ns, "BackupPolicy", &opsv1alpha1.BackupPolicy{})
}

// drillFixture is a namespace with the sample BackupPolicy, its inputs, a
// signing key and the sample DRDrill (suspended, so only run-now starts
// runs, unless mutate says otherwise).
func drillFixture(t *testing.T, mutate func(*opsv1alpha1.DRDrill)) *opsv1alpha1.DRDrill {
	t.Helper()
	ctx := context.Background()
	ns := newNamespace(t)
	createPolicyInputs(t, ns)
	der, err := x509.MarshalPKCS8PrivateKey(testSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	keySecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "drill-signing-key", Namespace: ns},
		Data: map[string][]byte{"ed25519.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}}
	if err := k8sClient.Create(ctx, keySecret); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Create(ctx, samplePolicy(t, ns)); err != nil {
		t.Fatal(err)
	}
	drill := sample(t, ns, "DRDrill", &opsv1alpha1.DRDrill{})
	drill.Spec.Suspend = true
	if mutate != nil {
		mutate(drill)
	}
	if err := k8sClient.Create(ctx, drill); err != nil {
		t.Fatal(err)
	}
	return drill
}

func inPhase(phase opsv1alpha1.DrillRunPhase) func(*opsv1alpha1.DRDrillRun) error {
	return func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.Phase != phase {
			return fmt.Errorf("phase %q (%s), want %s", r.Status.Phase, r.Status.Message, phase)
		}
		return nil
	}
}

func runNow(t *testing.T, drill *opsv1alpha1.DRDrill, token string) {
	t.Helper()
	if err := update(t, k8sClient, drill, func(d *opsv1alpha1.DRDrill) {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[AnnotationRunNow] = token
	}); err != nil {
		t.Fatal(err)
	}
}

// runsOf waits until the drill has exactly n runs and returns them.
func runsOf(t *testing.T, drill *opsv1alpha1.DRDrill, n int) []opsv1alpha1.DRDrillRun {
	t.Helper()
	var runs opsv1alpha1.DRDrillRunList
	eventually(t, 30*time.Second, func() error {
		if err := k8sClient.List(context.Background(), &runs, client.InNamespace(drill.Namespace), client.MatchingLabels{resources.LabelDrill: drill.Name}); err != nil {
			return err
		}
		if len(runs.Items) != n {
			names := []string{}
			for _, r := range runs.Items {
				names = append(names, r.Name+"="+string(r.Status.Phase))
			}
			return fmt.Errorf("%d runs %v, want %d", len(runs.Items), names, n)
		}
		return nil
	})
	return runs.Items
}

var testSigningKey = ed25519.NewKeyFromSeed([]byte("supportstack-drill-test-seed-32b"))

// waitRun waits until the named run satisfies check.
func waitRun(t *testing.T, ns, name string, check func(*opsv1alpha1.DRDrillRun) error) *opsv1alpha1.DRDrillRun {
	t.Helper()
	run := &opsv1alpha1.DRDrillRun{}
	eventually(t, 30*time.Second, func() error {
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, run); err != nil {
			return err
		}
		return check(run)
	})
	return run
}

// actAsQuotaController fills in the sandbox quota's status, as
// kube-controller-manager would: until then admission refuses every pod.
func actAsQuotaController(t *testing.T, sandbox string) {
	t.Helper()
	setQuotaStatus(t, sandbox, false)
}

// releaseQuota sets the sandbox quota's usage back to nothing, as the quota
// controller does once the restore pod finished (finished pods do not
// count): envtest has no quota controller, and admission only adds.
func releaseQuota(t *testing.T, sandbox string) {
	t.Helper()
	setQuotaStatus(t, sandbox, true)
}

// setQuotaStatus writes the sandbox quota's status as the quota controller
// would: hard limits from the spec and nothing used. Unless reset, a status
// already there is left alone.
func setQuotaStatus(t *testing.T, sandbox string, reset bool) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		var q corev1.ResourceQuota
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: sandbox, Name: "sandbox"}, &q); err != nil {
			return err
		}
		if q.Status.Hard != nil && !reset {
			return nil
		}
		if q.Status.Hard == nil {
			q.Status.Hard = q.Spec.Hard
		}
		q.Status.Used = corev1.ResourceList{}
		for k := range q.Spec.Hard {
			q.Status.Used[k] = resource.MustParse("0")
		}
		return k8sClient.Status().Update(context.Background(), &q)
	})
}

// finishDrillJob completes the sandbox Job of an operation with the agent's
// result.
func finishDrillJob(t *testing.T, sandbox, operation string, res agentapi.DrillResult) {
	t.Helper()
	job := &batchv1.Job{}
	eventually(t, 30*time.Second, func() error {
		return k8sClient.Get(context.Background(), client.ObjectKey{Namespace: sandbox, Name: operation}, job)
	})
	completeJob(t, job, res.Error == "", string(res.Encode()), res.End)
}

func newWalkTimes(run *opsv1alpha1.DRDrillRun) walkTimes {
	now := run.Status.StartTime.Time
	return walkTimes{start: now, snapshot: now.Add(-3 * time.Hour), restoreStart: now.Add(time.Minute), restoreEnd: now.Add(5 * time.Minute), verifyEnd: now.Add(20 * time.Minute)}
}

// readyScratch marks the scratch PostgreSQL pod Ready, as the kubelet would.
func readyScratch(t *testing.T, sandbox string) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		var pod corev1.Pod
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: sandbox, Name: resources.ScratchPostgresName}, &pod); err != nil {
			return err
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
		return k8sClient.Status().Update(context.Background(), &pod)
	})
}

// testRecoverySet is the backup run the fake restore Job reports restoring.
const testRecoverySet = "helpdesk-backup-29400000-x7k2p"

func restoreResult(w walkTimes) agentapi.DrillResult {
	const snapshot = "aaaaaaaa"
	return agentapi.DrillResult{Operation: "restore", Start: w.restoreStart, End: w.restoreEnd, RecoverySet: testRecoverySet,
		Phases: &agentapi.RestorePhases{Method: agentapi.RestoreParallel, Jobs: 2, Fetch: 61.5, Load: 120.25, Indexes: 40}, Restored: []agentapi.Restored{
			{Source: "tickets", Database: "helpdesk", ID: snapshot, Time: w.snapshot, ManifestSHA256: strings.Repeat("d", 64)},
			{Source: "attachments", ID: "bbbbbbbb", Time: w.snapshot.Add(time.Minute), ManifestSHA256: strings.Repeat("e", 64)},
		}}
}

func verifyResult(w walkTimes, pass bool) agentapi.DrillResult {
	res := agentapi.DrillResult{Operation: "verify", Start: w.restoreEnd.Add(time.Minute), End: w.verifyEnd, AllPassed: pass, Checks: []agentapi.CheckResult{
		{Name: "tickets-present", Passed: true, Expected: ">= 1", Observed: "45000"},
		{Name: "row-counts", Passed: pass, Expected: "public.articles=50000, public.tickets=45000 (±0%)", Observed: "public.articles=45000, public.tickets=45000"},
		{Name: "attachments", Passed: true, Expected: "3 files", Observed: "3 files"},
	}}
	if !pass {
		res.Checks[1].Message = "public.articles has 45000 rows, 50000 at backup (-10.00%)"
	} else {
		res.Tagged = 4
	}
	return res
}

// walk carries a run through every phase, restarting the manager in each
// phase when restart is set, and returns the finished run.
func walk(t *testing.T, drill *opsv1alpha1.DRDrill, runName string, pass, restart bool) *opsv1alpha1.DRDrillRun {
	t.Helper()
	ns := drill.Namespace
	maybeRestart := func() {
		if restart {
			restartManager(t)
		}
	}
	run := waitRun(t, ns, runName, inPhase(opsv1alpha1.DrillRunProvisioning))
	sandbox := resources.SandboxNamespaceName(run)
	w := newWalkTimes(run)
	maybeRestart()
	actAsQuotaController(t, sandbox)
	readyScratch(t, sandbox)
	waitRun(t, ns, runName, inPhase(opsv1alpha1.DrillRunRestoring))
	maybeRestart()
	finishDrillJob(t, sandbox, "restore", restoreResult(w))
	waitRun(t, ns, runName, inPhase(opsv1alpha1.DrillRunVerifying))
	maybeRestart()
	finishDrillJob(t, sandbox, "verify", verifyResult(w, pass))
	want := opsv1alpha1.DrillRunPassed
	if !pass {
		want = opsv1alpha1.DrillRunFailed
	}
	waitRun(t, ns, runName, inPhase(want))
	maybeRestart()
	return waitRun(t, ns, runName, func(r *opsv1alpha1.DRDrillRun) error {
		if r.Status.Evidence == nil {
			return errors.New("no evidence yet")
		}
		return nil
	})
}

// walkTimes are the moments of a passing run, from the fake clock.
type walkTimes struct{ start, snapshot, restoreStart, restoreEnd, verifyEnd time.Time }

// readyTeam waits until the team's status describes its current generation.
func readyTeam(t *testing.T, key client.ObjectKey, wantReady metav1.ConditionStatus) *opsv1alpha1.SupportTeam {
	t.Helper()
	return readyTeamWithin(t, key, wantReady, 20*time.Second)
}

// rtSyncLimit bounds a wait on a reconcile that syncs a real Request
// Tracker: a series of REST calls (queues, group, users, memberships,
// rights), each a Perl request. Alone on this machine a sync takes 7-10s,
// beside two busy cores 13s; beside the rest of make test on 2 cores it
// took over 20s in CI (TestSupportTeamWithRequestTracker twice,
// TestLeadCannotTakeOverRTQueue once). A wait that succeeds returns as soon
// as it does: only a failure waits this long.
const rtSyncLimit = 3 * time.Minute

// readyTeamWithin is readyTeam with its own limit, for reconciles that wait
// on a slower party than the API server (a real Request Tracker).
func readyTeamWithin(t *testing.T, key client.ObjectKey, wantReady metav1.ConditionStatus, limit time.Duration) *opsv1alpha1.SupportTeam {
	t.Helper()
	team := &opsv1alpha1.SupportTeam{}
	eventually(t, limit, func() error {
		if err := k8sClient.Get(context.Background(), key, team); err != nil {
			return err
		}
		c := condition(team, opsv1alpha1.ConditionReady)
		if team.Status.ObservedGeneration != team.Generation || c == nil || c.Status != wantReady {
			return fmt.Errorf("team %s: observedGeneration %d of %d, Ready %+v", key, team.Status.ObservedGeneration, team.Generation, c)
		}
		return nil
	})
	return team
}

// sampleTeam is config/samples' SupportTeam, in namespace ns.
func sampleTeam(t *testing.T, ns string) *opsv1alpha1.SupportTeam {
	t.Helper()
	return sample(t, ns, "SupportTeam", &opsv1alpha1.SupportTeam{})
}

// countingClient reads and writes the API server directly, like k8sClient,
// and counts every write request it sends: create, update, patch, delete and
// their status forms. A no-op PATCH leaves resourceVersion alone but still
// costs a request (and, through createOrPatch, an event): only counting the
// requests shows a reconcile that writes nothing.
func countingClient(t *testing.T) (client.Client, *atomic.Int64) {
	t.Helper()
	base, err := client.NewWithWatch(env.Config, client.Options{Scheme: k8sClient.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return countWrites(base)
}

// countingCachedClient reads through a cache made as the manager makes
// its own (CacheOptions) and counts its write requests as countingClient
// does.
func countingCachedClient(t *testing.T) (client.Client, *atomic.Int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opts := CacheOptions()
	opts.Scheme = k8sClient.Scheme()
	c, err := cache.New(env.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		t.Fatal("the cache did not sync")
	}
	base, err := client.NewWithWatch(env.Config, client.Options{Scheme: k8sClient.Scheme(), Cache: &client.CacheOptions{Reader: c}})
	if err != nil {
		t.Fatal(err)
	}
	return countWrites(base)
}

// waitCached waits until c's cache holds the API server's version of the
// object at key, and reads it from the cache into cached.
func waitCached(t *testing.T, c client.Client, key client.ObjectKey, cached client.Object) {
	t.Helper()
	ctx := context.Background()
	stored := cached.DeepCopyObject().(client.Object)
	eventually(t, 20*time.Second, func() error {
		if err := k8sClient.Get(ctx, key, stored); err != nil {
			return err
		}
		if err := c.Get(ctx, key, cached); err != nil {
			return err
		}
		if cached.GetResourceVersion() != stored.GetResourceVersion() {
			return fmt.Errorf("cache at %s, API server at %s", cached.GetResourceVersion(), stored.GetResourceVersion())
		}
		return nil
	})
}

// countWrites counts the write requests sent through base.
func countWrites(base client.WithWatch) (client.Client, *atomic.Int64) {
	writes := &atomic.Int64{}
	return interceptor.NewClient(base, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			writes.Add(1)
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			writes.Add(1)
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			writes.Add(1)
			return c.Patch(ctx, obj, patch, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			writes.Add(1)
			return c.Delete(ctx, obj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			writes.Add(1)
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			writes.Add(1)
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}), writes
}

// actAs returns a client that acts as user (in the group
// system:authenticated, as every signed-in user is) through impersonation.
// When rules are given, user is first granted exactly those: a Role and
// RoleBinding in namespace, or a ClusterRole and ClusterRoleBinding when
// namespace is empty. Each is named "actas-<user>"; granting one user two
// sets of rules in one place fails the test rather than mixing them.
func actAs(t *testing.T, user, namespace string, rules ...rbacv1.PolicyRule) client.Client {
	t.Helper()
	if len(rules) > 0 {
		name := "actas-" + user
		subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
		objs := []client.Object{
			&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Rules: rules},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Subjects: subjects,
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}},
		}
		if namespace == "" {
			objs = []client.Object{
				&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules},
				&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, Subjects: subjects,
					RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}},
			}
		}
		for _, o := range objs {
			if err := k8sClient.Create(context.Background(), o); err != nil {
				t.Fatalf("granting %s its rules: %v", user, err)
			}
		}
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// teamGauge returns the exported value of a team metric (labels namespace,
// team and, for a queue's, queue) as a scrape of /metrics shows it, and
// fails the test when the series is not exported.
func teamGauge(t *testing.T, metric string, namespace, team string, queue ...string) float64 {
	t.Helper()
	want := map[string]string{"namespace": namespace, "team": team}
	if len(queue) > 0 {
		want["queue"] = queue[0]
	}
	for _, s := range exportedGauges(t, metric) {
		if maps.Equal(s.labels, want) {
			return s.value
		}
	}
	t.Fatalf("%s%v is not exported", metric, want)
	return 0
}

// exportedGauge is one series of a gauge as /metrics serves it.
type exportedGauge struct {
	labels map[string]string
	value  float64
}

// exportedGauges returns every series of a gauge the manager's registry
// serves.
func exportedGauges(t *testing.T, metric string) []exportedGauge {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []exportedGauge
	for _, f := range families {
		if f.GetName() != metric {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out = append(out, exportedGauge{labels: labels, value: m.GetGauge().GetValue()})
		}
	}
	return out
}
