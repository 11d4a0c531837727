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

package resources

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/placement"
)

// logAllowance is the least a pod's ephemeral-storage limit must leave
// beyond its emptyDirs: the kubelet's default log rotation keeps five
// files of 10 MiB per container. The check uses its own figure, not
// WritableLayerBytes, so a builder that forgot the allowance fails it.
const logAllowance = 5 * 10 << 20

// ephemeralProblems is the check every rendered pod must pass: each
// container (init containers too) requests and limits ephemeral storage,
// the limit at least the request; each emptyDir has a sizeLimit; and the
// containers' limits hold all emptyDirs plus each container's logs (the
// kubelet evicts a pod whose volumes and containers write more than the
// sum of its containers' limits).
func ephemeralProblems(spec *corev1.PodSpec) []string {
	var problems []string
	limits := int64(0)
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		req, hasReq := c.Resources.Requests[corev1.ResourceEphemeralStorage]
		lim, hasLim := c.Resources.Limits[corev1.ResourceEphemeralStorage]
		switch {
		case !hasReq || req.Sign() <= 0:
			problems = append(problems, fmt.Sprintf("container %s requests no ephemeral storage", c.Name))
		case !hasLim || lim.Sign() <= 0:
			problems = append(problems, fmt.Sprintf("container %s has no ephemeral-storage limit", c.Name))
		case lim.Cmp(req) < 0:
			problems = append(problems, fmt.Sprintf("container %s: ephemeral-storage limit %s under its request %s", c.Name, lim.String(), req.String()))
		}
	}
	for _, c := range spec.Containers {
		limits += c.Resources.Limits.StorageEphemeral().Value()
	}
	volumes := int64(0)
	for _, v := range spec.Volumes {
		if v.EmptyDir == nil {
			continue
		}
		if v.EmptyDir.SizeLimit == nil || v.EmptyDir.SizeLimit.Sign() <= 0 {
			problems = append(problems, fmt.Sprintf("emptyDir %s has no sizeLimit", v.Name))
			continue
		}
		volumes += v.EmptyDir.SizeLimit.Value()
	}
	if need := volumes + int64(len(spec.Containers))*logAllowance; limits < need {
		problems = append(problems, fmt.Sprintf("the containers' ephemeral-storage limits (%d) do not hold the emptyDirs and logs (%d)", limits, need))
	}
	return problems
}

// renderedPod is one pod spec a builder renders.
type renderedPod struct {
	name    string
	builder string // the function under test, for TestEveryPodBuilderChecked
	spec    corev1.PodSpec
}

// everyRenderedPod renders each pod-bearing builder of the package in
// each of its shapes.
func everyRenderedPod() []renderedPod {
	keep := int32(3)
	policy := &opsv1alpha1.BackupPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "helpdesk", Namespace: "support"},
		Spec: opsv1alpha1.BackupPolicySpec{
			Schedule: "0 2 * * *",
			Sources: opsv1alpha1.BackupSources{
				Postgres: []opsv1alpha1.PostgresSource{{Name: "tickets", ConnectionSecretRef: opsv1alpha1.SecretKeyRef{Name: "db", Key: "uri"}, Databases: []string{"helpdesk"}}},
				Volumes:  []opsv1alpha1.VolumeSource{{Name: "attachments", ClaimName: "att"}},
			},
			Repository: opsv1alpha1.Repository{URL: "s3:https://s3.example.com/b", PasswordSecretRef: opsv1alpha1.SecretKeyRef{Name: "restic", Key: "password"}},
			Retention:  opsv1alpha1.Retention{KeepLast: &keep},
			Check:      &opsv1alpha1.RepositoryCheck{Schedule: "0 4 * * 0"},
		},
	}
	onVolume := policy.DeepCopy()
	onVolume.Spec.Repository = opsv1alpha1.Repository{URL: "/backups", VolumeClaimName: "backups", PasswordSecretRef: policy.Spec.Repository.PasswordSecretRef}
	large := policy.DeepCopy()
	large.Status.LastBackup = &opsv1alpha1.BackupResult{Result: opsv1alpha1.BackupSucceeded, TotalBytes: 50 << 30}
	run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: "support", Name: "helpdesk-now-1"}}

	pods := make([]renderedPod, 0, 15)
	for _, op := range []string{agentapi.OperationBackup, agentapi.OperationPrune, agentapi.OperationCheck} {
		cj := BackupCronJob(policy, op, "agent:1")
		pods = append(pods, renderedPod{op + " CronJob", "BackupCronJob", cj.Spec.JobTemplate.Spec.Template.Spec})
		cj = BackupCronJob(onVolume, op, "agent:1", WithAgentCache(512<<20))
		pods = append(pods, renderedPod{op + " CronJob, repository on a volume, 512Mi cache", "BackupCronJob", cj.Spec.JobTemplate.Spec.Template.Spec})
	}
	plan := placement.Plan{Parts: []placement.Part{{Node: "node-a", Volumes: []string{"attachments"}}, {Databases: true}}}
	for _, cj := range BackupCronJobs(policy, "agent:1", plan, WithAgentCache(1<<30)) {
		pods = append(pods, renderedPod{"backup CronJob " + cj.Name + " of a run split over two nodes", "BackupCronJobs", cj.Spec.JobTemplate.Spec.Template.Spec})
	}
	now := BackupNowJob(BackupCronJob(policy, agentapi.OperationBackup, "agent:1", WithAgentCache(8<<30)), "t1")
	pods = append(pods, renderedPod{"backup-now Job", "BackupNowJob", now.Spec.Template.Spec})
	for _, p := range []*opsv1alpha1.BackupPolicy{policy, large} {
		scratch, _ := ScratchPostgres(run, ScratchBytes(p))
		pods = append(pods, renderedPod{"scratch server for " + FormatBytes(ScratchBytes(p)), "ScratchPostgres", scratch.Spec})
		restore := DrillJob(run, p, "agent:1", agentapi.RestoreConfig{ScratchBytes: ScratchBytes(p)}, 60, true)
		pods = append(pods, renderedPod{"restore Job for " + FormatBytes(ScratchBytes(p)), "DrillJob", restore.Spec.Template.Spec})
	}
	pipe := DrillJob(run, policy, "agent:1", agentapi.RestoreConfig{}, 60, false, WithAgentCache(1<<30))
	pods = append(pods, renderedPod{"restore Job piping the dump", "DrillJob", pipe.Spec.Template.Spec})
	verify := DrillJob(run, policy, "agent:1", agentapi.VerifyJob{}, 60, true)
	pods = append(pods, renderedPod{"verify Job", "DrillJob", verify.Spec.Template.Spec})
	withRT := DrillJob(run, policy, "agent:1", agentapi.VerifyJob{Checks: agentapi.VerifyConfig{{Name: "rt", Database: "rt5",
		RequestTracker: &agentapi.RequestTracker{URL: RTSandboxURL, AttachmentsPath: "/restore/data/attachments"}}}}, 60, true)
	pods = append(pods, renderedPod{"verify Job with Request Tracker", "DrillJob", withRT.Spec.Template.Spec})
	// Request Tracker (helpdesk_rt.go); rtPodSpec is rendered through them.
	pods = append(pods, rtRenderedPods()...)
	return pods
}

// TestEveryPodBoundsEphemeralStorage (issue #19): every pod spec the
// operator renders requests and limits ephemeral storage, bounds each
// emptyDir and holds its emptyDirs within its limit.
func TestEveryPodBoundsEphemeralStorage(t *testing.T) {
	for _, pod := range everyRenderedPod() {
		t.Run(pod.name, func(t *testing.T) {
			if p := ephemeralProblems(&pod.spec); len(p) > 0 {
				t.Errorf("%s", strings.Join(p, "; "))
			}
		})
	}
}

// TestEphemeralCheckFails: the check above refuses each way a pod can
// fail it, so its passing means something.
func TestEphemeralCheckFails(t *testing.T) {
	good := func() corev1.PodSpec {
		cj := BackupCronJob(&opsv1alpha1.BackupPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p"}}, agentapi.OperationPrune, "agent:1")
		return cj.Spec.JobTemplate.Spec.Template.Spec
	}
	cases := []struct {
		name   string
		mutate func(*corev1.PodSpec)
		want   string
	}{
		{"no request", func(s *corev1.PodSpec) { delete(s.Containers[0].Resources.Requests, corev1.ResourceEphemeralStorage) }, "requests no ephemeral storage"},
		{"no limit", func(s *corev1.PodSpec) { delete(s.Containers[0].Resources.Limits, corev1.ResourceEphemeralStorage) }, "no ephemeral-storage limit"},
		{"limit under request", func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Limits[corev1.ResourceEphemeralStorage] = resource.MustParse("1Mi")
		}, "under its request"},
		{"unbounded emptyDir", func(s *corev1.PodSpec) { s.Volumes[0].EmptyDir.SizeLimit = nil }, "emptyDir tmp has no sizeLimit"},
		{"emptyDir beyond the limit", func(s *corev1.PodSpec) {
			s.Volumes[0].EmptyDir.SizeLimit = resource.NewQuantity(DefaultAgentCacheBytes+WritableLayerBytes, resource.BinarySI)
		}, "do not hold the emptyDirs and logs"},
		{"unbounded init container", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "init"}}
		}, "container init requests no ephemeral storage"},
	}
	if p := ephemeralProblems(ptrTo(good())); len(p) > 0 {
		t.Fatalf("the unbroken pod fails: %v", p)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := good()
			tc.mutate(&spec)
			if p := strings.Join(ephemeralProblems(&spec), "; "); !strings.Contains(p, tc.want) {
				t.Errorf("problems %q, want one saying %q", p, tc.want)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestEveryPodBuilderChecked: every function of the package that returns
// a pod, a pod spec or an object holding one (Job, CronJob, Deployment,
// ...) is rendered by everyRenderedPod, so a new builder cannot skip the
// check. agentPodSpec is rendered through the Job builders.
func TestEveryPodBuilderChecked(t *testing.T) {
	podBearing := map[string]bool{"corev1.Pod": true, "corev1.PodSpec": true, "corev1.PodTemplateSpec": true, "batchv1.Job": true,
		"batchv1.CronJob": true, "batchv1.JobSpec": true, "appsv1.Deployment": true, "appsv1.StatefulSet": true, "appsv1.DaemonSet": true, "appsv1.ReplicaSet": true}
	checked := map[string]bool{"agentPodSpec": true, "rtPodSpec": true, "rtServerDeployment": true}
	for _, p := range everyRenderedPod() {
		checked[p.builder] = true
	}
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var builders []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Type.Results == nil {
				continue
			}
			for _, r := range fn.Type.Results.List {
				typ := r.Type
				for unwrapped := false; !unwrapped; {
					switch t := typ.(type) {
					case *ast.StarExpr:
						typ = t.X
					case *ast.ArrayType:
						typ = t.Elt
					default:
						unwrapped = true
					}
				}
				if sel, ok := typ.(*ast.SelectorExpr); ok && podBearing[fmt.Sprintf("%s.%s", sel.X, sel.Sel.Name)] {
					builders = append(builders, fn.Name.Name)
				}
			}
		}
	}
	sort.Strings(builders)
	if len(builders) < 4 {
		t.Fatalf("found only the builders %v: the scan is broken", builders)
	}
	for _, b := range builders {
		if !checked[b] {
			t.Errorf("%s renders a pod that TestEveryPodBoundsEphemeralStorage does not check: add it to everyRenderedPod", b)
		}
	}
}

// TestAgentCacheBoundsTmp: the agent pods' /tmp is the configured cache
// (plus the dump file in the restore pod), the default when none is set.
func TestAgentCacheBoundsTmp(t *testing.T) {
	policy := drillPolicy("s3:https://s3.example.com/b", "helpdesk")
	run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: "support", Name: "r"}}
	tmp := func(spec corev1.PodSpec) int64 {
		for _, v := range spec.Volumes {
			if v.Name == "tmp" {
				return v.EmptyDir.SizeLimit.Value()
			}
		}
		return -1
	}
	cases := []struct {
		name string
		spec corev1.PodSpec
		want int64
	}{
		{"backup, default", BackupCronJob(policy, agentapi.OperationBackup, "a").Spec.JobTemplate.Spec.Template.Spec, 2 << 30},
		{"backup, 512Mi", BackupCronJob(policy, agentapi.OperationBackup, "a", WithAgentCache(512<<20)).Spec.JobTemplate.Spec.Template.Spec, 512 << 20},
		{"prune, zero keeps the default", BackupCronJob(policy, agentapi.OperationPrune, "a", WithAgentCache(0)).Spec.JobTemplate.Spec.Template.Spec, 2 << 30},
		{"restore, 3Gi dump and 1Gi cache", DrillJob(run, policy, "a", agentapi.RestoreConfig{ScratchBytes: 3 << 30}, 1, false, WithAgentCache(1<<30)).Spec.Template.Spec, 4 << 30},
		{"verify, 1Gi cache", DrillJob(run, policy, "a", agentapi.VerifyJob{}, 1, false, WithAgentCache(1<<30)).Spec.Template.Spec, 1 << 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tmp(tc.spec); got != tc.want {
				t.Errorf("/tmp sizeLimit %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseAgentCacheSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64 // -1: refused
	}{
		{"2Gi", 2 << 30},
		{"256Mi", 256 << 20},
		{"1G", 1e9},
		{"255Mi", -1},
		{"268435455", -1}, // one byte under 256Mi
		{"-1Gi", -1},
		{"", -1},
		{"lots", -1},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAgentCacheSize(tc.in)
			switch {
			case tc.want < 0 && (err == nil || !strings.Contains(err.Error(), "--agent-cache-size")):
				t.Errorf("ParseAgentCacheSize(%q) = %d, %v: want refused, naming the flag", tc.in, got, err)
			case tc.want >= 0 && (err != nil || got != tc.want):
				t.Errorf("ParseAgentCacheSize(%q) = %d, %v: want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestScratchBytes: twice the newest backup, at least 1 GiB, plus the WAL
// room; never less for a larger backup.
func TestScratchBytes(t *testing.T) {
	withBackup := func(total int64) *opsv1alpha1.BackupPolicy {
		p := &opsv1alpha1.BackupPolicy{}
		if total >= 0 {
			p.Status.LastBackup = &opsv1alpha1.BackupResult{Result: opsv1alpha1.BackupSucceeded, TotalBytes: total}
		}
		return p
	}
	cases := []struct {
		name  string
		total int64
		want  int64
	}{
		{"no backup yet", -1, 2 << 30},
		{"small backup: the 1Gi floor", 100 << 20, 2 << 30},
		{"5Gi", 5 << 30, 11 << 30},
	}
	// A newer run that failed (read less, or nothing) does not shrink it:
	// the largest recent successful run counts.
	failedAfter := withBackup(5 << 30)
	failedAfter.Status.RecentBackups = []opsv1alpha1.BackupResult{
		{Result: opsv1alpha1.BackupFailed, TotalBytes: 0}, {Result: opsv1alpha1.BackupSucceeded, TotalBytes: 5 << 30}}
	failedAfter.Status.LastBackup = &failedAfter.Status.RecentBackups[0]
	if got := ScratchBytes(failedAfter); got != 11<<30 {
		t.Errorf("after a failed run, ScratchBytes = %s, want 11Gi", FormatBytes(got))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ScratchBytes(withBackup(tc.total)); got != tc.want {
				t.Errorf("ScratchBytes = %s, want %s", FormatBytes(got), FormatBytes(tc.want))
			}
		})
	}
	prev := int64(0)
	for total := int64(0); total < 64<<30; total += 700 << 20 {
		got := ScratchBytes(withBackup(total))
		if got < prev || got < 2*total+ScratchWALBytes {
			t.Fatalf("ScratchBytes(%d) = %d: under the previous %d or under twice the backup plus WAL", total, got, prev)
		}
		prev = got
	}
}

// TestSandboxQuotaHoldsItsPods: for any backup and cache size the sandbox
// quota's ephemeral storage holds the scratch server, restore and verify
// pods as rendered (the verify pod with RT beside it, for a run with a
// requestTracker check), and one more agent pod of a plain verify pod's
// size, so the quota is never what blocks a drill.
func TestSandboxQuotaHoldsItsPods(t *testing.T) {
	run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: "support", Name: "r"}}
	policy := drillPolicy("s3:https://s3.example.com/b", "helpdesk")
	for _, total := range []int64{0, 300 << 20, 7 << 30, 200 << 30} {
		for _, cache := range []int64{0, MinAgentCacheBytes, 2 << 30, 20 << 30} {
			policy.Status.LastBackup = &opsv1alpha1.BackupResult{Result: opsv1alpha1.BackupSucceeded, TotalBytes: total}
			scratchBytes := ScratchBytes(policy)
			scratch, _ := ScratchPostgres(run, scratchBytes)
			restore := DrillJob(run, policy, "a", agentapi.RestoreConfig{ScratchBytes: scratchBytes}, 1, true, WithAgentCache(cache))
			verify := DrillJob(run, policy, "a", agentapi.VerifyJob{}, 1, true, WithAgentCache(cache))
			// The one more agent pod: a plain verify pod's size.
			extra := PodEphemeralRequest(&verify.Spec.Template.Spec)
			if total == 7<<30 {
				// A run with RT beside its verify agent.
				run = rtDrillRun()
				verify = DrillJob(run, policy, "a", agentapi.VerifyJob{Checks: agentapi.VerifyConfig{{Name: "rt-smoke", Database: "rt5",
					RequestTracker: &agentapi.RequestTracker{URL: RTSandboxURL, AttachmentsPath: "/restore/data/attachments"}}}}, 1, true, WithAgentCache(cache))
			}
			need := PodEphemeralRequest(&scratch.Spec) + PodEphemeralRequest(&restore.Spec.Template.Spec) + PodEphemeralRequest(&verify.Spec.Template.Spec) + extra
			hard := SandboxQuota(run, scratchBytes, cache).Spec.Hard
			for _, r := range []corev1.ResourceName{corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsEphemeralStorage} {
				if q := hard[r]; q.Value() < need {
					t.Errorf("backup %s, cache %s: quota %s %s, the pods need %s", FormatBytes(total), FormatBytes(cache), r, FormatBytes(q.Value()), FormatBytes(need))
				}
			}
		}
	}
}

func TestPodEphemeralRequest(t *testing.T) {
	c := func(name, req string) corev1.Container {
		return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse(req)}}}
	}
	sidecar := func(c corev1.Container) corev1.Container {
		c.RestartPolicy = ptrTo(corev1.ContainerRestartPolicyAlways)
		return c
	}
	cases := []struct {
		name string
		spec corev1.PodSpec
		want int64
	}{
		{"containers add up", corev1.PodSpec{Containers: []corev1.Container{c("a", "1Gi"), c("b", "512Mi")}}, 3 << 29},
		{"a larger init container sets it", corev1.PodSpec{InitContainers: []corev1.Container{c("i", "4Gi"), c("j", "1Gi")}, Containers: []corev1.Container{c("a", "1Gi")}}, 4 << 30},
		{"a smaller init container does not", corev1.PodSpec{InitContainers: []corev1.Container{c("i", "1Mi")}, Containers: []corev1.Container{c("a", "1Gi")}}, 1 << 30},
		{"a sidecar adds to the containers", corev1.PodSpec{InitContainers: []corev1.Container{sidecar(c("s", "256Mi"))}, Containers: []corev1.Container{c("a", "1Gi")}}, 5 << 28},
		{"no request", corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := PodEphemeralRequest(&tc.spec); got != tc.want {
				t.Errorf("PodEphemeralRequest = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestNodeRoom: a pod fails to fit only when every node it could be
// scheduled on reports less allocatable ephemeral storage than it needs.
func TestNodeRoom(t *testing.T) {
	type opt func(*corev1.Node)
	node := func(allocatable string, opts ...opt) corev1.Node {
		n := corev1.Node{Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
		if allocatable != "" {
			n.Status.Allocatable = corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse(allocatable)}
		}
		for _, o := range opts {
			o(&n)
		}
		return n
	}
	unschedulable := func(n *corev1.Node) { n.Spec.Unschedulable = true }
	notReady := func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }
	noCondition := func(n *corev1.Node) { n.Status.Conditions = nil }
	taint := func(e corev1.TaintEffect) opt {
		return func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "k", Effect: e}) }
	}
	const need = 12 << 30
	cases := []struct {
		name    string
		nodes   []corev1.Node
		ok      bool
		largest int64
	}{
		{"no nodes: cannot tell", nil, true, 0},
		{"one node large enough", []corev1.Node{node("8Gi"), node("20Gi")}, true, 20 << 30},
		{"exactly enough", []corev1.Node{node("12Gi")}, true, 12 << 30},
		{"all too small", []corev1.Node{node("8Gi"), node("6Gi")}, false, 8 << 30},
		{"the large node is cordoned", []corev1.Node{node("8Gi"), node("100Gi", unschedulable)}, false, 8 << 30},
		{"the large node is not ready", []corev1.Node{node("8Gi"), node("100Gi", notReady)}, false, 8 << 30},
		{"the large node reports no Ready condition", []corev1.Node{node("8Gi"), node("100Gi", noCondition)}, false, 8 << 30},
		{"the large node is tainted NoSchedule", []corev1.Node{node("8Gi"), node("100Gi", taint(corev1.TaintEffectNoSchedule))}, false, 8 << 30},
		{"the large node is tainted NoExecute", []corev1.Node{node("8Gi"), node("100Gi", taint(corev1.TaintEffectNoExecute))}, false, 8 << 30},
		{"PreferNoSchedule still schedules", []corev1.Node{node("8Gi"), node("100Gi", taint(corev1.TaintEffectPreferNoSchedule))}, true, 100 << 30},
		{"a node without allocatable ephemeral storage: unknown", []corev1.Node{node("8Gi"), node("")}, true, 8 << 30},
		{"only unschedulable nodes: cannot tell", []corev1.Node{node("1Gi", unschedulable)}, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, largest := NodeRoom(need, tc.nodes)
			if ok != tc.ok || (!ok && largest != tc.largest) {
				t.Errorf("NodeRoom = %v, %s; want %v, %s", ok, FormatBytes(largest), tc.ok, FormatBytes(tc.largest))
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	for in, want := range map[int64]string{12 << 30: "12Gi", 512 << 20: "512Mi", 17 << 29: "8.5Gi", 0: "0Gi", 1536 << 10: "1.5Mi"} {
		if got := FormatBytes(in); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", in, got, want)
		}
	}
}
