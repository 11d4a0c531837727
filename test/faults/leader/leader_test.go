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

// Package leader tests the operator's failover (issue #16, "Faults"): two
// replicas of the manager with leader election against one API server
// (envtest), the leader killed in every phase of a drill run. Killing cuts
// the replica off the API server and stops it without releasing its lease,
// as a killed process would; the other replica takes over once the lease
// expires and a replacement starts. Each run must still end in exactly one
// terminal state with one evidence record on an intact chain, one sandbox
// that is deleted, and one Job per step. The sandbox-namespace admission
// policy is installed as config/default names it (sandboxPolicy), so that a
// sandbox whose UID the dead leader did not record is proven the run's.
package leader

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/controller"
	"github.com/supportstack/operator/internal/evidence"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

// TestLeaderElectionIDMatchesMain: the replicas here compete for the
// Lease the operator's binary uses.
func TestLeaderElectionIDMatchesMain(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "cmd", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "LeaderElectionID:") || !strings.Contains(string(src), strconv.Quote(leaderElectionID)) {
		t.Errorf("cmd/main.go does not elect its leader with the Lease %s", leaderElectionID)
	}
}

// phaseCase is a run whose leader dies while it is in killIn, and the
// terminal state it must reach.
type phaseCase struct {
	name   string
	killIn opsv1alpha1.DrillRunPhase
	want   opsv1alpha1.DrillRunPhase
	// Passed: the run's evidence waits for its signing key (deleted before
	// the run ends, restored after the kill), so the leader dies between
	// the result and its evidence. Failed: the sandbox is kept for ttl, so
	// the leader dies holding the timer that deletes it.
	//
	// dieWriting, when set, is the field of the run's status the leader
	// dies writing: it has done what the field records (created the
	// sandbox, recorded the evidence) and the write that says so is lost.
	// drillHead is the drill's status.evidenceHead instead.
	dieWriting string
	// graceful stops the leader as SIGTERM does instead of killing it: it
	// releases its lease.
	graceful bool
	// noPolicy: the sandbox-namespace admission policy is removed for the
	// case (an installation without it).
	noPolicy bool
}

const keptTTL = 10 * time.Second

// drillHead is the field of the DRDrill's status that names its newest
// evidence record.
const drillHead = "evidenceHead"

// TestLeaderKilledInEveryDrillPhase kills the leading replica once per
// phase of a drill run, each case in a namespace of its own.
func TestLeaderKilledInEveryDrillPhase(t *testing.T) {
	ctrl.SetLogger(logr.Discard())
	// client-go's event broadcaster logs through klog every event a
	// killed replica can no longer send.
	klog.SetLogger(logr.Discard())
	env := startEnv(t)
	c := env.Client
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: leaseNamespace}}); err != nil {
		t.Fatal(err)
	}
	watcher, err := client.NewWithWatch(env.Config, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stopWatching := context.WithCancel(context.Background())
	obs := &observer{c: watcher, runs: map[client.ObjectKey]*history{}}
	obs.watchAll(ctx, t)
	f := &fleet{cfg: env.Config, c: c, obs: obs}
	t.Cleanup(func() {
		f.stop(t)
		stopWatching()
		obs.stopped.Wait()
	})
	installSandboxPolicy(t, c)
	f.start(t)
	f.leader(t, 30*time.Second)
	f.start(t)

	cases := []phaseCase{
		{name: "Pending", killIn: opsv1alpha1.DrillRunPending, want: opsv1alpha1.DrillRunPassed},
		{name: "Provisioning", killIn: opsv1alpha1.DrillRunProvisioning, want: opsv1alpha1.DrillRunPassed},
		{name: "Restoring", killIn: opsv1alpha1.DrillRunRestoring, want: opsv1alpha1.DrillRunPassed},
		{name: "Verifying", killIn: opsv1alpha1.DrillRunVerifying, want: opsv1alpha1.DrillRunPassed},
		{name: "Verifying-graceful-stop", killIn: opsv1alpha1.DrillRunVerifying, graceful: true, want: opsv1alpha1.DrillRunPassed},
		{name: "Passed-evidence-unrecorded", killIn: opsv1alpha1.DrillRunPassed, dieWriting: "evidence", want: opsv1alpha1.DrillRunPassed},
		// The evidence ConfigMap written, the drill's head not yet moved
		// to it (recordEvidence, advanceHead).
		{name: "Passed-evidence-head-unmoved", killIn: opsv1alpha1.DrillRunPassed, dieWriting: drillHead, want: opsv1alpha1.DrillRunPassed},
		{name: "Passed-before-evidence", killIn: opsv1alpha1.DrillRunPassed, want: opsv1alpha1.DrillRunPassed},
		{name: "Failed-sandbox-kept", killIn: opsv1alpha1.DrillRunFailed, want: opsv1alpha1.DrillRunFailed},
		// The sandbox created, its UID not recorded: see sandboxUnrecorded.
		// Last of the cases played one by one, so that the policy installed
		// at the start has been in force controller.SandboxPolicyMargin by
		// then without a wait, and the case that removes it comes after.
		{name: "Provisioning-sandbox-unrecorded", killIn: opsv1alpha1.DrillRunProvisioning, dieWriting: "sandboxNamespaceUID", want: opsv1alpha1.DrillRunPassed},
		{name: "Sandbox-unrecorded-no-policy", killIn: opsv1alpha1.DrillRunProvisioning, dieWriting: "sandboxNamespaceUID", noPolicy: true, want: opsv1alpha1.DrillRunError},
	}
	var (
		mu    sync.Mutex
		table []string
	)
	play := func(t *testing.T, tc phaseCase, g *killGroup) {
		s := &scenario{t: t, c: c, f: f, obs: obs, tc: tc, group: g}
		if g != nil {
			defer func() { g.leave(s.over != nil) }()
		}
		if tc.noPolicy {
			defer withoutSandboxPolicy(t, c)()
		}
		s.play()
		line := s.measure()
		mu.Lock()
		defer mu.Unlock()
		table = append(table, line)
	}
	// The cases killed plainly share one kill, their runs in flight
	// together (each case in its own phase); those that die at a write,
	// or stop gracefully, have a failover each.
	var shared []phaseCase
	for _, tc := range cases {
		if tc.dieWriting == "" && !tc.graceful {
			shared = append(shared, tc)
		}
	}
	t.Run("one-kill", func(t *testing.T) {
		g := newKillGroup(f)
		for _, tc := range shared {
			t.Run(tc.name, func(t *testing.T) {
				g.join(t)
				t.Parallel()
				play(t, tc, g)
			})
		}
	})
	for _, tc := range cases {
		if tc.dieWriting != "" || tc.graceful {
			t.Run(tc.name, func(t *testing.T) { play(t, tc, nil) })
		}
	}
	t.Logf("failovers (lease %s, renew deadline %s, retry %s):\n%s", leaseDuration, renewDeadline, retryPeriod, strings.Join(table, "\n"))
}

// startEnv starts the API server, or fails saying how to get one.
func startEnv(t *testing.T) *testenv.Env {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run make test (it builds kube-apiserver and etcd and sets it)")
	}
	env, err := testenv.Start()
	if err != nil {
		t.Fatalf("starting envtest (run make test): %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	return env
}

// scenario is one case: its namespace, drill, run and failover.
type scenario struct {
	t   *testing.T
	c   client.Client
	f   *fleet
	obs *observer
	tc  phaseCase
	// group, when set, is the kill the case shares with others.
	group *killGroup
	ns    string
	// drill is the case's drill.
	drill client.ObjectKey
	run   client.ObjectKey
	// walked are the drills and runs carried to their end.
	walked []walked
	over   *takeover
}

type walked struct {
	drill *opsv1alpha1.DRDrill
	run   client.ObjectKey
	want  opsv1alpha1.DrillRunPhase
	// sandboxLeft: the run ends with its sandbox namespace left behind.
	sandboxLeft bool
}

// play carries the case's run through every phase, killing the leader in
// the case's, then checks every run it walked.
func (s *scenario) play() {
	t := s.t
	s.ns = newTeamNamespace(t, s.c)
	drill := newDrill(t, s.c, s.ns, "helpdesk-weekly", func(d *opsv1alpha1.DRDrill) {
		d.Spec.Sandbox.TTL = &metav1.Duration{Duration: keptTTL}
	})
	s.drill = client.ObjectKeyFromObject(drill)
	switch {
	case s.tc.dieWriting == "sandboxNamespaceUID":
		s.sandboxUnrecorded(drill)
	case s.tc.killIn == opsv1alpha1.DrillRunPending:
		// The namespace's one slot is taken by another drill's run, so
		// this one waits its turn.
		blocker := newDrill(t, s.c, s.ns, "blocker", nil)
		first := runNow(t, s.c, blocker, "first")
		s.waitRun(first, "Provisioning with its sandbox", hasSandbox)
		s.run = runNow(t, s.c, drill, "queued")
		s.waitRun(s.run, "queued", func(r *opsv1alpha1.DRDrillRun) bool {
			c := meta.FindStatusCondition(r.Status.Conditions, opsv1alpha1.ConditionReady)
			return r.Status.Phase == opsv1alpha1.DrillRunPending && c != nil && c.Reason == opsv1alpha1.ReasonQueued
		})
		s.kill()
		s.walk(blocker, first, opsv1alpha1.DrillRunPassed, false)
		s.walk(drill, s.run, s.tc.want, true)
	default:
		s.run = runNow(t, s.c, drill, "now")
		s.walk(drill, s.run, s.tc.want, true)
	}
	for _, w := range s.walked {
		s.check(w)
	}
	s.f.leader(t, 2*leaseDuration)
}

// sandboxUnrecorded: the leader dies after creating the run's sandbox
// namespace, before the status write that records its UID. The
// sandbox-namespace admission policy, created and last changed at least
// controller.SandboxPolicyMargin before the namespace, proves the
// namespace the run's (only the operator may give a namespace the sandbox
// label and run-UID annotation): the next leader adopts it and the run
// goes on to Passed, its sandbox deleted. Without the policy the next
// leader cannot prove the namespace is the run's (createSandboxNamespace:
// it trusts only a UID the run recorded, so that nobody who can create
// namespaces can plant one), ends the run in Error saying to delete it,
// and leaves it, empty (SandboxNotVerified).
func (s *scenario) sandboxUnrecorded(drill *opsv1alpha1.DRDrill) {
	s.run = client.ObjectKey{Namespace: s.ns, Name: controller.RunNowRunName(drill, "now")}
	if !s.tc.noPolicy {
		awaitSandboxPolicyInForce(s.t, s.c)
	}
	s.armDeath()
	runNow(s.t, s.c, drill, "now")
	s.awaitDeath()
	if !s.tc.noPolicy {
		s.walk(drill, s.run, s.tc.want, false)
		return
	}
	s.walked = append(s.walked, walked{drill: drill, run: s.run, want: s.tc.want, sandboxLeft: true})
	s.waitRun(s.run, "ended with evidence", func(r *opsv1alpha1.DRDrillRun) bool {
		return r.Status.Phase.IsFinal() && r.Status.Evidence != nil && len(r.Finalizers) == 0
	})
}

// armDeath makes the leader die as it writes the case's field of the run's
// status. Every live replica is armed, as only the leader writes: if the
// leader loses its lease on its own first (a renewal stalled on a loaded
// machine), the one that takes over dies at the write instead.
func (s *scenario) armDeath() {
	for _, r := range s.f.live() {
		if r.link.dieAt.Load() == nil {
			die := statusWriteOf("drdrillruns", s.run, s.tc.dieWriting)
			if s.tc.dieWriting == drillHead {
				die = statusWriteOf("drdrills", s.drill, drillHead)
			}
			r.link.dieAt.Store(&die)
		}
	}
}

// awaitDeath waits for the armed leader to die, then fails over. A
// replica that stops on its own meanwhile is replaced, and the
// replacement armed.
func (s *scenario) awaitDeath() {
	s.t.Helper()
	var dead *replica
	eventually(s.t, 30*time.Second, func() error {
		for _, r := range s.f.replicas {
			if r.link.dieAt.Load() != nil && r.link.dead.Err() != nil {
				dead = r
				return nil
			}
		}
		s.f.topUp(s.t)
		s.armDeath()
		return fmt.Errorf("no leader wrote status.%s", s.tc.dieWriting)
	})
	for _, r := range s.f.replicas {
		r.link.dieAt.Store(nil)
	}
	if s.over != nil {
		s.t.Fatal("the leader was killed twice in one case")
	}
	over := s.f.failover(s.t, dead)
	s.over = &over
}

func hasSandbox(r *opsv1alpha1.DRDrillRun) bool {
	return r.Status.Phase == opsv1alpha1.DrillRunProvisioning && r.Status.SandboxNamespaceUID != ""
}

// kill kills the leader (once per case).
func (s *scenario) kill() {
	s.t.Helper()
	if s.over != nil {
		s.t.Fatal("the leader was killed twice in one case")
	}
	over := s.f.killLeader
	switch {
	case s.group != nil:
		over = s.group.arrive
	case s.tc.graceful:
		over = s.f.handOver
	}
	o := over(s.t)
	s.over = &o
}

// killIfIn kills the leader when the case's run is in the case's phase.
func (s *scenario) killIfIn(subject bool, phase opsv1alpha1.DrillRunPhase) {
	if subject && s.tc.killIn == phase {
		s.kill()
	}
}

// walk carries a run to its end as the cluster and the agent would.
func (s *scenario) walk(drill *opsv1alpha1.DRDrill, key client.ObjectKey, want opsv1alpha1.DrillRunPhase, subject bool) {
	t := s.t
	t.Helper()
	s.walked = append(s.walked, walked{drill: drill, run: key, want: want})
	run := s.waitRun(key, "Provisioning with its sandbox", hasSandbox)
	sandbox, started := run.Status.SandboxNamespace, run.Status.StartTime.Time
	actAsQuotaController(t, s.c, sandbox)
	s.waitRun(key, "waiting for its scratch server", func(r *opsv1alpha1.DRDrillRun) bool {
		return r.Status.Phase == opsv1alpha1.DrillRunProvisioning && strings.HasPrefix(r.Status.Message, "waiting for the scratch PostgreSQL server")
	})
	s.killIfIn(subject, opsv1alpha1.DrillRunProvisioning)
	readyScratch(t, s.c, sandbox)

	s.waitRun(key, "Restoring", inPhase(opsv1alpha1.DrillRunRestoring))
	s.jobExists(sandbox, "restore")
	s.killIfIn(subject, opsv1alpha1.DrillRunRestoring)
	finishDrillJob(t, s.c, sandbox, restoreResult(started))

	s.waitRun(key, "Verifying", inPhase(opsv1alpha1.DrillRunVerifying))
	s.jobExists(sandbox, "verify")
	s.killIfIn(subject, opsv1alpha1.DrillRunVerifying)
	keyless := subject && s.tc.killIn == opsv1alpha1.DrillRunPassed && s.tc.dieWriting == ""
	dying := subject && s.tc.dieWriting != ""
	if dying {
		s.armDeath()
	}
	if keyless {
		if err := s.c.Delete(context.Background(), signingKeySecret(t, s.ns)); err != nil {
			t.Fatal(err)
		}
	}
	finishDrillJob(t, s.c, sandbox, verifyResult(started, want == opsv1alpha1.DrillRunPassed))

	switch {
	case dying:
		s.awaitDeath()
	case keyless:
		s.waitRun(key, "Passed, its evidence waiting for the signing key", func(r *opsv1alpha1.DRDrillRun) bool {
			return r.Status.Phase == want && conditionIs(r, opsv1alpha1.ConditionEvidenceRecorded, opsv1alpha1.ReasonEvidenceNotSigned)
		})
		s.kill()
		if err := s.c.Create(context.Background(), signingKeySecret(t, s.ns)); err != nil {
			t.Fatal(err)
		}
	case want == opsv1alpha1.DrillRunFailed:
		s.waitRun(key, "Failed, evidence recorded, its sandbox kept", func(r *opsv1alpha1.DRDrillRun) bool {
			return r.Status.Phase == want && r.Status.Evidence != nil && conditionIs(r, opsv1alpha1.ConditionSandboxDeleted, opsv1alpha1.ReasonSandboxKept)
		})
		s.killIfIn(subject, opsv1alpha1.DrillRunFailed)
	}
	s.waitRun(key, "ended with evidence and its sandbox let go", func(r *opsv1alpha1.DRDrillRun) bool {
		return r.Status.Phase.IsFinal() && r.Status.Evidence != nil && len(r.Finalizers) == 0
	})
}

func inPhase(p opsv1alpha1.DrillRunPhase) func(*opsv1alpha1.DRDrillRun) bool {
	return func(r *opsv1alpha1.DRDrillRun) bool { return r.Status.Phase == p }
}

func conditionIs(r *opsv1alpha1.DRDrillRun, kind, reason string) bool {
	c := meta.FindStatusCondition(r.Status.Conditions, kind)
	return c != nil && c.Reason == reason
}

// waitRun waits until the run is what ok says (described by what).
func (s *scenario) waitRun(key client.ObjectKey, what string, ok func(*opsv1alpha1.DRDrillRun) bool) *opsv1alpha1.DRDrillRun {
	s.t.Helper()
	run := &opsv1alpha1.DRDrillRun{}
	eventually(s.t, 30*time.Second, func() error {
		if err := s.c.Get(context.Background(), key, run); err != nil {
			return err
		}
		if !ok(run) {
			var notes []string
			for _, c := range run.Status.Conditions {
				if c.Type != opsv1alpha1.ConditionReady {
					notes = append(notes, fmt.Sprintf("%s=%s %s", c.Type, c.Status, c.Message))
				}
			}
			return fmt.Errorf("run %s is %s (%s; %s), not yet %s", key.Name, run.Status.Phase, run.Status.Message, strings.Join(notes, "; "), what)
		}
		return nil
	})
	return run
}

func (s *scenario) jobExists(sandbox, name string) {
	s.t.Helper()
	if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: sandbox, Name: name}, &batchv1.Job{}); err != nil {
		s.t.Fatalf("the %s Job: %v", name, err)
	}
}

// check asserts what the failover must not have broken for a walked run.
func (s *scenario) check(w walked) {
	t := s.t
	t.Helper()
	ctx := context.Background()
	h := s.obs.caughtUp(t, s.c, w.run)
	var run opsv1alpha1.DRDrillRun
	if err := s.c.Get(ctx, w.run, &run); err != nil {
		t.Fatal(err)
	}
	// One terminal state, reached once, through the phases in order.
	if h.final != w.want || len(h.flips) > 0 {
		t.Errorf("run %s: first terminal state %q (want %s), then %v", w.run.Name, h.final, w.want, h.flips)
	}
	if !inOrder(h.phases) {
		t.Errorf("run %s went through %v, not the phases in order", w.run.Name, h.phases)
	}
	if len(h.sandboxes) != 1 {
		t.Errorf("run %s: %d sandbox namespaces %v, want 1", w.run.Name, len(h.sandboxes), h.sandboxes)
	}
	s.checkEvidence(w, &run)
	if w.sandboxLeft {
		s.checkSandboxLeft(w, &run, h)
		return
	}
	// One Job per step.
	for op, uids := range h.jobs {
		if len(uids) != 1 || (op != "restore" && op != "verify") {
			t.Errorf("run %s: %d %s Jobs created", w.run.Name, len(uids), op)
		}
	}
	if len(h.jobs) != 2 {
		t.Errorf("run %s: Jobs of steps %v, want restore and verify", w.run.Name, h.jobs)
	}
	s.checkSandboxGone(w, &run)
}

// checkSandboxLeft: the run ended in Error saying which namespace to
// delete; the namespace is left as the dead leader made it, with nothing
// in it (no Secret was copied, no pod started, no Job created).
func (s *scenario) checkSandboxLeft(w walked, run *opsv1alpha1.DRDrillRun, h history) {
	t := s.t
	t.Helper()
	ctx := context.Background()
	if !strings.Contains(run.Status.Message, "already exists and was not created by this run") || !strings.Contains(run.Status.Message, "it carries this run's UID") {
		t.Errorf("run %s: message %q does not say to delete the namespace", w.run.Name, run.Status.Message)
	}
	if len(h.jobs) != 0 {
		t.Errorf("run %s: Jobs %v", w.run.Name, h.jobs)
	}
	for _, name := range h.sandboxes {
		var ns corev1.Namespace
		if err := s.c.Get(ctx, client.ObjectKey{Name: name}, &ns); err != nil || !ns.DeletionTimestamp.IsZero() {
			t.Errorf("sandbox %s: %v, deleted %v: the operator cannot prove it is the run's and must leave it", name, err, ns.DeletionTimestamp)
		}
		var secrets corev1.SecretList
		var pods corev1.PodList
		if err := s.c.List(ctx, &secrets, client.InNamespace(name)); err != nil {
			t.Fatal(err)
		}
		if err := s.c.List(ctx, &pods, client.InNamespace(name)); err != nil {
			t.Fatal(err)
		}
		if len(secrets.Items)+len(pods.Items) != 0 {
			t.Errorf("sandbox %s left with %d Secrets and %d pods in it", name, len(secrets.Items), len(pods.Items))
		}
		// Status says so, naming the namespace to check and delete.
		c := meta.FindStatusCondition(run.Status.Conditions, opsv1alpha1.ConditionSandboxDeleted)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != opsv1alpha1.ReasonSandboxNotVerified || !strings.Contains(c.Message, "kubectl delete namespace "+name) {
			t.Errorf("run %s: SandboxDeleted %+v; want False, %s, naming %s", w.run.Name, c, opsv1alpha1.ReasonSandboxNotVerified, name)
		}
	}
}

// inOrder says whether phases never go back: Pending, Provisioning,
// Restoring, Verifying, then one final phase.
func inOrder(phases []opsv1alpha1.DrillRunPhase) bool {
	rank := map[opsv1alpha1.DrillRunPhase]int{"": 0, opsv1alpha1.DrillRunPending: 1, opsv1alpha1.DrillRunProvisioning: 2,
		opsv1alpha1.DrillRunRestoring: 3, opsv1alpha1.DrillRunVerifying: 4,
		opsv1alpha1.DrillRunPassed: 5, opsv1alpha1.DrillRunFailed: 5, opsv1alpha1.DrillRunError: 5}
	last := -1
	for _, p := range phases {
		r, ok := rank[p]
		if !ok || r <= last {
			return false
		}
		last = r
	}
	return last == 5
}

// checkEvidence: exactly one evidence ConfigMap for the run, the one its
// status names, and the drill's chain verifies up to its head.
func (s *scenario) checkEvidence(w walked, run *opsv1alpha1.DRDrillRun) {
	t := s.t
	t.Helper()
	ctx := context.Background()
	var cms corev1.ConfigMapList
	if err := s.c.List(ctx, &cms, client.InNamespace(w.run.Namespace),
		client.MatchingLabels{resources.LabelDrillRun: w.run.Name, resources.LabelEvidence: "true"}); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(run.Status.Conditions, opsv1alpha1.ConditionEvidenceRecorded); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("run %s: EvidenceRecorded %+v", w.run.Name, c)
	}
	if len(cms.Items) != 1 || run.Status.Evidence == nil || cms.Items[0].Name != run.Status.Evidence.ConfigMapName {
		t.Errorf("run %s: %d evidence ConfigMaps, status names %+v", w.run.Name, len(cms.Items), run.Status.Evidence)
		return
	}
	var drill opsv1alpha1.DRDrill
	if err := s.c.Get(ctx, client.ObjectKeyFromObject(w.drill), &drill); err != nil {
		t.Fatal(err)
	}
	n, err := evidence.VerifyDrillWith(ctx, s.c, drill.Namespace, drill.Name, signingKey.Public().(ed25519.PublicKey),
		evidence.Expect{DrillUID: string(drill.UID), Head: evidence.HeadFromStatus(drill.Status.EvidenceHead)})
	if err != nil || n != 1 {
		t.Errorf("drill %s: chain of %d records: %v", drill.Name, n, err)
	}
	rec, report, err := evidence.FromConfigMap(&cms.Items[0])
	if err != nil || rec.SHA256 != run.Status.Evidence.SHA256 || report.Run != w.run.Name || report.Result != string(w.want) {
		t.Errorf("run %s: evidence %+v (sha256 %s, status %s): %v", w.run.Name, report, rec.SHA256, run.Status.Evidence.SHA256, err)
	}
}

// checkSandboxGone: the run let its sandbox go (the namespace is deleted;
// envtest has no namespace controller to finish removing it) and says so;
// a kept sandbox went no earlier than its ttl.
func (s *scenario) checkSandboxGone(w walked, run *opsv1alpha1.DRDrillRun) {
	t := s.t
	t.Helper()
	var ns corev1.Namespace
	err := s.c.Get(context.Background(), client.ObjectKey{Name: run.Status.SandboxNamespace}, &ns)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		t.Fatal(err)
	case ns.DeletionTimestamp.IsZero():
		t.Errorf("run %s ended with its sandbox %s orphaned", w.run.Name, ns.Name)
	case w.want == opsv1alpha1.DrillRunFailed:
		kept := ns.DeletionTimestamp.Sub(run.Status.CompletionTime.Time)
		// Deleted at its ttl (to the second the API server keeps), by
		// the new leader: the old one's timer died with it.
		if kept < keptTTL-time.Second || kept > keptTTL+10*time.Second {
			t.Errorf("run %s: its kept sandbox was deleted %s after the run ended, not at its ttl of %s", w.run.Name, kept, keptTTL)
		}
		// After the kill (to the second the API server keeps): the
		// leader died holding the timer, as the case means.
		if s.over != nil && ns.DeletionTimestamp.Before(&metav1.Time{Time: s.over.killedAt.Truncate(time.Second)}) {
			t.Errorf("run %s: its kept sandbox was deleted at %s, before the leader was killed at %s: the ttl is too short for the case",
				w.run.Name, ns.DeletionTimestamp, s.over.killedAt.Format(time.RFC3339Nano))
		}
	}
	if c := meta.FindStatusCondition(run.Status.Conditions, opsv1alpha1.ConditionSandboxDeleted); c == nil || c.Status != metav1.ConditionTrue || len(run.Finalizers) != 0 {
		t.Errorf("run %s: SandboxDeleted %+v, finalizers %v", w.run.Name, c, run.Finalizers)
	}
}

// measure checks the new leader took the case's run over and says how long
// the failover took.
func (s *scenario) measure() string {
	t := s.t
	t.Helper()
	o := s.over
	if o == nil {
		t.Fatal("the leader was never killed")
		return ""
	}
	// Its controllers start once it holds the lease, so its first
	// reconcile of the run comes after the Lease's acquireTime.
	first, ok := o.leader.reconciles.firstOf(s.run)
	if !ok || first.Before(o.acquiredAt) {
		t.Errorf("the new leader %s never reconciled run %s after it took the lease (first: %v, lease acquired %s)", o.leader.name, s.run.Name, first, o.acquiredAt)
	}
	if errs := o.leader.reconciles.logErrors(); len(errs) > 0 {
		t.Logf("the new leader's reconcile errors: %v", errs)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%5.2fs", d.Seconds()) }
	if o.graceful {
		return fmt.Sprintf("%-32s stopped, lease released: stop->acquired %s  stop->first reconcile %s", s.tc.name, ms(o.acquiredAt.Sub(o.killedAt)), ms(first.Sub(o.killedAt)))
	}
	return fmt.Sprintf("%-32s kill->expiry %s  expiry->acquired %s  expiry->first reconcile %s  kill->first reconcile %s  requests refused after the kill %d (%d writes)",
		s.tc.name, ms(o.expiry.Sub(o.killedAt)), ms(o.acquiredAt.Sub(o.expiry)), ms(first.Sub(o.expiry)), ms(first.Sub(o.killedAt)),
		o.killed.link.refused.Load(), o.killed.link.refusedWrites.Load())
}
