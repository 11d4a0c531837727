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

package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/controller"
	"github.com/supportstack/operator/internal/evidence"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

// drillConfig is the drill-run phase's size: runs drills (the first of
// the set) each run once per round; with more than one round the drills'
// history limit is lowered to one passed and one failed run first, so the
// operator prunes.
type drillConfig struct {
	runs, rounds int
	timeout      time.Duration
	workers      int // the manager's, for the report
}

// failing says whether drill i's runs fail a check on purpose: the last
// tenth of the drills, triggered only once every other run of the round
// exists, so they are the last in every namespace's queue. A failed run keeps its sandbox (keep: OnFailure, ttl 2h), and
// a kept sandbox counts toward the namespace's limit of concurrent runs
// (2): two failures early in a namespace's queue would hold its other
// runs Pending for two hours.
func (c drillConfig) failing(i int) bool { return i >= c.runs-c.runs/10 }

// drillPhase is what the drill-run phase measured.
type drillPhase struct {
	cfg                             drillConfig
	passed, failed, errored, stuck  int
	wantPassed, wantFailed          int
	wall                            time.Duration
	triggerToEnd, startToEnd        []time.Duration
	stuckRuns                       []string
	chainsOK                        int
	chainProblems                   []string
	records, wantRecords            int
	runsLeft, wantRunsLeft          int
	sandboxesLeft, wantSandboxes    int
	settle                          time.Duration
	m0, m1                          sample
	p0, p1                          procStats
	peak                            procStats
	liveHeap                        string // at the end of the phase
	events                          int
	kubeletWrites, kubeletConflicts int64
	scheduled                       int
}

// runDrills triggers every drill's run-now annotation once per round,
// plays the kubelet and the drill agent for the runs' pods, and measures
// what the operator did.
func runDrills(ctx context.Context, rc *rest.Config, c client.Client, m *manager, s set, cfg drillConfig) (*drillPhase, error) {
	d := &drillPhase{cfg: cfg}
	w, err := watchRuns(ctx, rc)
	if err != nil {
		return nil, err
	}
	defer w.cancel()
	kc, cnt, err := countingClient(rc, testenv.Scheme())
	if err != nil {
		return nil, err
	}
	k := &kubelet{cfg: cfg, c: kc, cache: w.cache, queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[types.NamespacedName]())}
	if err := k.start(ctx, 4); err != nil {
		return nil, err
	}
	defer k.queue.ShutDown()
	if cfg.rounds > 1 {
		if err := parallel(ctx, 4, drillsOf(s, cfg.runs), func(dr *opsv1alpha1.DRDrill) error {
			return c.Patch(ctx, dr, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"historyLimit":{"passed":1,"failed":1}}}`)))
		}); err != nil {
			return nil, fmt.Errorf("lowering the history limit: %w", err)
		}
	}
	events0 := operatorEvents(ctx, c)
	if d.m0, err = m.scrape(); err != nil {
		return nil, err
	}
	d.p0, _ = m.proc()
	m.takePeak()
	t0 := time.Now()
	for r := 1; r <= cfg.rounds; r++ {
		if err := d.round(ctx, c, w, s, r); err != nil {
			return nil, err
		}
		if r < cfg.rounds {
			// The failed runs' kept sandboxes would hold the next round's
			// runs Pending for their ttl: delete them, as a person who has
			// looked at the failure would.
			if err := deleteSandboxes(ctx, c); err != nil {
				return nil, err
			}
		}
	}
	d.wall = time.Since(t0)
	d.settleHistory(ctx, c, s)
	d.peak = m.takePeak()
	if d.m1, err = m.scrape(); err != nil {
		return nil, err
	}
	d.p1, _ = m.proc()
	d.liveHeap = heapFigure(m.liveHeap())
	d.events = operatorEvents(ctx, c) - events0
	d.kubeletWrites, d.kubeletConflicts = cnt.writes(), k.conflicts.Load()
	d.scheduled = scheduledPods(ctx, c)
	d.checkEvidence(ctx, c, s)
	return d, nil
}

func drillsOf(s set, n int) []*opsv1alpha1.DRDrill {
	out := make([]*opsv1alpha1.DRDrill, 0, n)
	for i := range n {
		out = append(out, s.drill(i))
	}
	return out
}

// round triggers one run of each drill and waits until each is final
// with its evidence recorded, or until the timeout.
func (d *drillPhase) round(ctx context.Context, c client.Client, w *runWatcher, s set, r int) error {
	token := fmt.Sprintf("scale-round-%d", r)
	drills := drillsOf(s, d.cfg.runs)
	triggered := make([]time.Time, len(drills))
	for i := range drills {
		if d.cfg.failing(i) {
			d.wantFailed++
		} else {
			d.wantPassed++
		}
	}
	keys := make([]types.NamespacedName, len(drills))
	var passing, failing []int
	for i, dr := range drills {
		keys[i] = types.NamespacedName{Namespace: dr.Namespace, Name: controller.RunNowRunName(dr, token)}
		if d.cfg.failing(i) {
			failing = append(failing, i)
		} else {
			passing = append(passing, i)
		}
	}
	trigger := func(idx []int) error {
		return parallel(ctx, 4, idx, func(i int) error {
			triggered[i] = time.Now()
			patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, controller.AnnotationRunNow, token)
			return c.Patch(ctx, drills[i], client.RawPatch(types.MergePatchType, []byte(patch)))
		})
	}
	tr := time.Now()
	deadline := tr.Add(d.cfg.timeout)
	// Runs queue in the order the operator creates them, which is not the
	// order of the triggers (the drills' work queue holds earlier
	// entries): the failing drills are triggered once every passing
	// drill's run exists, so their runs come last in every namespace.
	if err := trigger(passing); err != nil {
		return fmt.Errorf("triggering round %d: %w", r, err)
	}
	passingKeys := make([]types.NamespacedName, len(passing))
	for j, i := range passing {
		passingKeys[j] = keys[i]
	}
	for w.created(passingKeys) < len(passingKeys) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if err := trigger(failing); err != nil {
		return fmt.Errorf("triggering round %d: %w", r, err)
	}
	fmt.Printf("drill runs, round %d: %d runs triggered in %s (the %d failing ones after every passing run existed)\n",
		r, len(drills), time.Since(tr).Round(time.Second), len(failing))
	lastLog := time.Now()
	for {
		done, phases := w.finished(keys)
		if done == len(keys) {
			break
		}
		if time.Since(lastLog) > 30*time.Second {
			fmt.Printf("  %s: %d of %d runs final with evidence; the others: %s\n", time.Since(tr).Round(time.Second), done, len(keys), phases)
			lastLog = time.Now()
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	d.tally(w, keys, triggered)
	return nil
}

// tally counts the round's runs by their final phase and their times.
func (d *drillPhase) tally(w *runWatcher, keys []types.NamespacedName, triggered []time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, k := range keys {
		run, seen := w.runs[k], w.finalSeen[k]
		if run == nil || !run.Status.Phase.IsFinal() || run.Status.Evidence == nil {
			d.stuck++
			what := "not created"
			if run != nil {
				what = fmt.Sprintf("%s (%s)", run.Status.Phase, run.Status.Message)
			}
			if len(d.stuckRuns) < 10 {
				d.stuckRuns = append(d.stuckRuns, k.String()+": "+what)
			}
			continue
		}
		switch run.Status.Phase {
		case opsv1alpha1.DrillRunPassed:
			d.passed++
		case opsv1alpha1.DrillRunFailed:
			d.failed++
		default:
			d.errored++
			if len(d.stuckRuns) < 10 {
				d.stuckRuns = append(d.stuckRuns, k.String()+": "+string(run.Status.Phase)+" ("+run.Status.Message+")")
			}
		}
		d.triggerToEnd = append(d.triggerToEnd, seen.Sub(triggered[i]))
		if st, ct := run.Status.StartTime, run.Status.CompletionTime; st != nil && ct != nil {
			d.startToEnd = append(d.startToEnd, ct.Sub(st.Time))
		}
	}
}

// settleHistory waits until every drill keeps only its history limit of
// runs and only the failed runs' sandboxes (keep: OnFailure) are left.
func (d *drillPhase) settleHistory(ctx context.Context, c client.Client, s set) {
	limit := 12
	if d.cfg.rounds > 1 {
		limit = 1
	}
	d.wantRunsLeft = d.cfg.runs * min(d.cfg.rounds, limit)
	d.wantSandboxes = d.wantFailed / d.cfg.rounds
	t0 := time.Now()
	_ = waitFor(ctx, 5*time.Minute, func() bool {
		d.runsLeft, d.sandboxesLeft = countRuns(ctx, c, s), countSandboxes(ctx, c)
		return d.runsLeft == d.wantRunsLeft && d.sandboxesLeft == d.wantSandboxes
	})
	d.settle = time.Since(t0)
}

func countRuns(ctx context.Context, c client.Client, s set) int {
	var runs opsv1alpha1.DRDrillRunList
	if err := c.List(ctx, &runs); err != nil {
		return -1
	}
	n := 0
	for _, r := range runs.Items {
		if strings.HasPrefix(r.Namespace, s.prefix+"-") && r.DeletionTimestamp.IsZero() {
			n++
		}
	}
	return n
}

// sandboxSelector selects the runs' sandbox namespaces (and their pods).
func sandboxSelector() labels.Selector {
	req, err := labels.NewRequirement(resources.LabelDrillRun, selection.Exists, nil)
	if err != nil {
		panic(err)
	}
	return labels.NewSelector().Add(*req)
}

func deleteSandboxes(ctx context.Context, c client.Client) error {
	var nss corev1.NamespaceList
	if err := c.List(ctx, &nss, client.MatchingLabelsSelector{Selector: sandboxSelector()}); err != nil {
		return err
	}
	for i := range nss.Items {
		if err := c.Delete(ctx, &nss.Items[i]); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	return nil
}

func countSandboxes(ctx context.Context, c client.Client) int {
	var nss corev1.NamespaceList
	if err := c.List(ctx, &nss, client.MatchingLabelsSelector{Selector: sandboxSelector()}); err != nil {
		return -1
	}
	return len(nss.Items)
}

// scheduledPods counts sandbox pods bound to a node: with no nodes in the
// cluster there are none, so kwok's stages never touched a drill's pod.
func scheduledPods(ctx context.Context, c client.Client) int {
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.MatchingLabelsSelector{Selector: sandboxSelector()}); err != nil {
		return -1
	}
	n := 0
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" {
			n++
		}
	}
	return n
}

// checkEvidence verifies every drill's chain with the repository's
// verifier: one record per run, signed with the namespace's key, ending
// at the drill's evidence head.
func (d *drillPhase) checkEvidence(ctx context.Context, c client.Client, s set) {
	pub := benchSigningKey().Public().(ed25519.PublicKey)
	d.wantRecords = d.cfg.runs * d.cfg.rounds
	for _, want := range drillsOf(s, d.cfg.runs) {
		problem := func(format string, args ...any) {
			if len(d.chainProblems) < 10 {
				d.chainProblems = append(d.chainProblems, want.Name+": "+fmt.Sprintf(format, args...))
			}
		}
		drill := &opsv1alpha1.DRDrill{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(want), drill); err != nil {
			problem("%v", err)
			continue
		}
		chain, err := evidence.LoadChain(ctx, c, drill.Namespace, drill.Name)
		if err != nil {
			problem("%v", err)
			continue
		}
		d.records += len(chain)
		err = evidence.VerifyChain(chain, pub, evidence.Expect{Drill: drill.Namespace + "/" + drill.Name, DrillUID: string(drill.UID),
			Head: evidence.HeadFromStatus(drill.Status.EvidenceHead)})
		switch {
		case err != nil:
			problem("%v", err)
		case len(chain) != d.cfg.rounds:
			problem("%d records, want %d", len(chain), d.cfg.rounds)
		default:
			d.chainsOK++
		}
	}
}

// runWatcher keeps the harness's view of every DRDrillRun and of the
// sandboxes' pods in an informer cache, and notes when it first saw each
// run final with its evidence recorded.
type runWatcher struct {
	cache     ctrlcache.Cache
	cancel    context.CancelFunc
	mu        sync.Mutex
	runs      map[types.NamespacedName]*opsv1alpha1.DRDrillRun
	finalSeen map[types.NamespacedName]time.Time
}

func watchRuns(ctx context.Context, rc *rest.Config) (*runWatcher, error) {
	c, err := ctrlcache.New(rc, ctrlcache.Options{Scheme: testenv.Scheme(), ByObject: map[client.Object]ctrlcache.ByObject{
		&corev1.Pod{}: {Label: sandboxSelector()},
	}})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &runWatcher{cache: c, cancel: cancel, runs: map[types.NamespacedName]*opsv1alpha1.DRDrillRun{}, finalSeen: map[types.NamespacedName]time.Time{}}
	inf, err := c.GetInformer(ctx, &opsv1alpha1.DRDrillRun{})
	if err != nil {
		cancel()
		return nil, err
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    w.see,
		UpdateFunc: func(_, o any) { w.see(o) },
	}); err != nil {
		cancel()
		return nil, err
	}
	if _, err := c.GetInformer(ctx, &corev1.Pod{}); err != nil {
		cancel()
		return nil, err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		cancel()
		return nil, errors.New("harness cache did not sync")
	}
	return w, nil
}

func (w *runWatcher) see(o any) {
	run, ok := o.(*opsv1alpha1.DRDrillRun)
	if !ok {
		return
	}
	k := client.ObjectKeyFromObject(run)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runs[k] = run
	if _, seen := w.finalSeen[k]; !seen && run.Status.Phase.IsFinal() && run.Status.Evidence != nil {
		w.finalSeen[k] = time.Now()
	}
}

// created counts the runs that exist (or existed: final and seen).
func (w *runWatcher) created(keys []types.NamespacedName) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, k := range keys {
		if _, final := w.finalSeen[k]; final || w.runs[k] != nil {
			n++
		}
	}
	return n
}

// finished counts the runs final with evidence and sums up the others'
// phases.
func (w *runWatcher) finished(keys []types.NamespacedName) (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	done := 0
	others := map[string]int{}
	for _, k := range keys {
		if _, ok := w.finalSeen[k]; ok {
			done++
			continue
		}
		phase := "not created"
		if r := w.runs[k]; r != nil {
			phase = string(r.Status.Phase)
			if phase == "" {
				phase = "new"
			}
			if r.Status.Phase.IsFinal() {
				phase += " without evidence"
			}
		}
		others[phase]++
	}
	parts := make([]string, 0, len(others))
	for _, p := range sortedKeys(others) {
		parts = append(parts, fmt.Sprintf("%s %d", p, others[p]))
	}
	return done, strings.Join(parts, ", ")
}

// kubelet writes the sandbox pods' status as the kubelet would, and the
// drill agent's result as the container's termination message: the
// scratch PostgreSQL server becomes Ready, the restore and verify Jobs'
// pods succeed with the agent's result. kube-controller-manager's Job
// controller then completes the Jobs.
type kubelet struct {
	cfg       drillConfig
	c         client.Client
	cache     ctrlcache.Cache
	queue     workqueue.TypedRateLimitingInterface[types.NamespacedName]
	conflicts atomic.Int64
}

func (k *kubelet) start(ctx context.Context, workers int) error {
	inf, err := k.cache.GetInformer(ctx, &corev1.Pod{})
	if err != nil {
		return err
	}
	add := func(o any) {
		if p, ok := o.(*corev1.Pod); ok {
			k.queue.Add(client.ObjectKeyFromObject(p))
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, o any) { add(o) }}); err != nil {
		return err
	}
	for range workers {
		go func() {
			for {
				key, shutdown := k.queue.Get()
				if shutdown {
					return
				}
				if err := k.handle(ctx, key); err != nil {
					if apierrors.IsConflict(err) {
						k.conflicts.Add(1)
					} else {
						fmt.Printf("  kubelet: pod %s: %v\n", key, err)
					}
					k.queue.AddRateLimited(key)
				} else {
					k.queue.Forget(key)
				}
				k.queue.Done(key)
			}
		}()
	}
	return nil
}

func (k *kubelet) handle(ctx context.Context, key types.NamespacedName) error {
	cached := &corev1.Pod{}
	if err := k.cache.Get(ctx, key, cached); err != nil {
		return client.IgnoreNotFound(err)
	}
	if cached.Status.Phase == corev1.PodSucceeded || cached.Status.Phase == corev1.PodFailed || !cached.DeletionTimestamp.IsZero() {
		return nil
	}
	pod := cached.DeepCopy()
	now := metav1.Now()
	pod.Status.StartTime = &pod.CreationTimestamp
	switch op := pod.Labels[batchv1.JobNameLabel]; {
	case pod.Name == resources.ScratchPostgresName:
		if podIsReady(pod) {
			return nil
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
		pod.Status.ContainerStatuses = nil
		for _, ct := range pod.Spec.Containers {
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{Name: ct.Name, Image: ct.Image, Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}})
		}
	case op == agentapi.OperationRestore || op == agentapi.OperationVerify:
		i, _, ok := runOf(pod.Labels[resources.LabelDrillRun])
		if !ok {
			return fmt.Errorf("pod of run %q: not a run this harness triggered", pod.Labels[resources.LabelDrillRun])
		}
		res := agentResult(op, i, !k.cfg.failing(i), pod.CreationTimestamp.Time, now.Time)
		pod.Status.Phase = corev1.PodSucceeded
		pod.Status.ContainerStatuses = nil
		for _, ct := range pod.Spec.Containers {
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{Name: ct.Name, Image: ct.Image,
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed",
					Message: string(res.Encode()), StartedAt: pod.CreationTimestamp, FinishedAt: now}}})
		}
	default:
		return nil
	}
	return k.c.Status().Update(ctx, pod)
}

func podIsReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// runOf reads the drill index and round from a run's name
// (drill-0042-now-<hash of scale-round-r>).
func runOf(run string) (drill, round int, ok bool) {
	tail, found := strings.CutPrefix(run, "drill-")
	if !found {
		return 0, 0, false
	}
	num, _, found := strings.Cut(tail, "-now-")
	if !found {
		return 0, 0, false
	}
	i, err := strconv.Atoi(num)
	if err != nil {
		return 0, 0, false
	}
	for r := 1; r <= 100; r++ {
		if controller.RunNowRunName(&opsv1alpha1.DRDrill{ObjectMeta: metav1.ObjectMeta{Name: "drill-" + num}}, fmt.Sprintf("scale-round-%d", r)) == run {
			return i, r, true
		}
	}
	return 0, 0, false
}

// agentResult is the result the drill agent reports for drill i's
// policy (database app<i>, volume attachments), in the shape of
// internal/controller's envtest fakes (restoreResult, verifyResult):
// the restore three hours after the snapshots, the verify's row-counts
// check failing unless pass.
func agentResult(op string, i int, pass bool, start, end time.Time) agentapi.DrillResult {
	db := fmt.Sprintf("app%04d", i)
	if op == agentapi.OperationRestore {
		snap := end.Add(-3 * time.Hour)
		return agentapi.DrillResult{Operation: op, Start: start, End: end, RecoverySet: fmt.Sprintf("policy-%04d-29400000-x7k2p", i),
			Phases: &agentapi.RestorePhases{Method: agentapi.RestoreParallel, Jobs: 2, Fetch: 61.5, Load: 120.25, Indexes: 40},
			Restored: []agentapi.Restored{
				{Source: "db", Database: db, ID: fmt.Sprintf("aaaa%04d", i), Time: snap, ManifestSHA256: strings.Repeat("d", 64)},
				{Source: "attachments", ID: fmt.Sprintf("bbbb%04d", i), Time: snap.Add(time.Minute), ManifestSHA256: strings.Repeat("e", 64)},
			}}
	}
	res := agentapi.DrillResult{Operation: op, Start: start, End: end, AllPassed: pass, Checks: []agentapi.CheckResult{
		{Name: "rows-present", Passed: true, Expected: ">= 1", Observed: "45000"},
		{Name: "row-counts", Passed: pass, Expected: "public.articles=50000, public.tickets=45000 (±0%)", Observed: "public.articles=50000, public.tickets=45000"},
		{Name: "attachments", Passed: true, Expected: "3 files", Observed: "3 files"},
	}}
	if !pass {
		res.Checks[1].Observed = "public.articles=45000, public.tickets=45000"
		res.Checks[1].Message = "public.articles has 45000 rows, 50000 at backup (-10.00%)"
	} else {
		res.Tagged = 2
	}
	return res
}

// quantile of durations (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	idx := int(q*float64(len(s)) + 0.5)
	idx = min(max(idx-1, 0), len(s)-1)
	return s[idx]
}

func (d *drillPhase) print(r *report) {
	total := d.cfg.runs * d.cfg.rounds
	r.add("(d) drill runs: %d drills x %d rounds = %d runs (run-now annotation; the harness plays the kubelet and the agent: scratch server Ready, restore and verify pods Succeeded with the agent's result as termination message; the last tenth of the drills, last in every namespace's queue, fail their row-counts check on purpose; between rounds the harness deletes their kept sandboxes)",
		d.cfg.runs, d.cfg.rounds, total)
	r.add("    final with evidence: passed %d (expected %d), failed %d (expected %d), error %d (expected 0), not final after %s: %d",
		d.passed, d.wantPassed, d.failed, d.wantFailed, d.errored, d.cfg.timeout, d.stuck)
	if d.stuck > 0 {
		r.add("    the runs did not all end in time: the figures below cover those that did (wall time is the timeout), and the runs and sandboxes left include the unfinished runs'; first of those not final with evidence, or in Error:")
	}
	for _, s := range d.stuckRuns {
		r.add("      %s", s)
	}
	r.add("    time per run, trigger to final with evidence (p50 / p90 / p99): %s / %s / %s; status startTime to completionTime: %s / %s / %s (runs queue: at most %d run at once per namespace)",
		quantile(d.triggerToEnd, 0.5).Round(100*time.Millisecond), quantile(d.triggerToEnd, 0.9).Round(100*time.Millisecond), quantile(d.triggerToEnd, 0.99).Round(100*time.Millisecond),
		quantile(d.startToEnd, 0.5), quantile(d.startToEnd, 0.9), quantile(d.startToEnd, 0.99), controller.DefaultMaxConcurrentDrillRuns)
	r.add("    wall time for the %d runs: %s (%.2f runs/s)", total, d.wall.Round(time.Second), float64(total)/d.wall.Seconds())
	r.add("    evidence: %d records (expected %d, one per run); %d of %d chains verify (internal/evidence.VerifyChain: signatures, hashes, sequence, the drill's head)",
		d.records, d.wantRecords, d.chainsOK, d.cfg.runs)
	for _, p := range d.chainProblems {
		r.add("      %s", p)
	}
	r.add("    history: %d runs left (expected %d: %d per drill, the history limit being 1 passed and 1 failed run with more than one round, else 12); sandbox namespaces left %d (expected %d: the last round's failed runs' kept sandboxes, keep OnFailure, ttl 2h); settled %s after the last run",
		d.runsLeft, d.wantRunsLeft, d.wantRunsLeft/d.cfg.runs, d.sandboxesLeft, d.wantSandboxes, d.settle.Round(time.Second))
	dm := d.m1.minus(d.m0)
	w := writesOf(dm)
	r.add("    manager API writes %.0f = %.1f per run (%s; %d Events); reads (GET) %.0f = %.1f per run", w, w/float64(total), verbs(dm), d.events,
		dm.byLabel("rest_client_requests_total", "method")["GET"], dm.byLabel("rest_client_requests_total", "method")["GET"]/float64(total))
	r.add("    reconciles: %s; errors: %s", perController(dm.byLabel("controller_runtime_reconcile_total", "controller")), perController(errorsBy(dm)))
	r.add("    manager peak RSS during the phase %s (%.0f MiB at its start), CPU %.1fs", rssFigure(d.peak), mib(d.p0.rss), d.p1.cpu-d.p0.cpu)
	workerFigures(r, dm, d.wall, d.cfg.workers)
	r.add("    manager live heap after a forced GC at the end of the phase: %s", d.liveHeap)
	r.add("    harness as kubelet: %d status writes (%d conflicts retried); sandbox pods bound to a node: %d (no nodes: kwok's stages never touch them)",
		d.kubeletWrites, d.kubeletConflicts, d.scheduled)
}
