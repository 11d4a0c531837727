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

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/queues"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/staffing"
)

func TestSupportTeamStatusAndChildren(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	team := sampleTeam(t, ns)
	if err := k8sClient.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	got := readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue)

	// Monday 10:00 in New York: alice, bob and erin (early) are on shift.
	if got.Status.Headcount != 5 || got.Status.OnShiftNow != 3 {
		t.Errorf("headcount %d onShiftNow %d, want 5 and 3", got.Status.Headcount, got.Status.OnShiftNow)
	}
	if want := []string{"alice", "bob", "erin"}; fmt.Sprint(got.Status.OnShift) != fmt.Sprint(want) {
		t.Errorf("onShift %v, want %v", got.Status.OnShift, want)
	}
	// alice, the Lead, is on shift: she is every queue's contact.
	for _, q := range got.Status.Queues {
		if want := (opsv1alpha1.OnCallContact{Name: "alice", Email: "alice@example.com", Role: opsv1alpha1.RoleLead, OnShift: true}); q.OnCall == nil || *q.OnCall != want {
			t.Errorf("queue %s onCall %+v, want %+v", q.Name, q.OnCall, want)
		}
	}
	if len(got.Status.Queues) != 2 {
		t.Fatalf("status.queues = %+v", got.Status.Queues)
	}
	phone := got.Status.Queues[0]
	live, err := staffing.Live(40, 3*time.Minute, staffing.LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if phone.Name != "windows-phone" || int(phone.PeakRequiredAgents) != live.Agents || int(phone.PeakRequiredStaff) != staffing.Staff(live.Agents, 30) {
		t.Errorf("phone queue %+v, want %d agents and %d staff", phone, live.Agents, staffing.Staff(live.Agents, 30))
	}
	// 5 windows people over two shifts cannot give 6 on the phones from
	// 08:00 to 18:00 every weekday.
	staffed := condition(got, opsv1alpha1.ConditionStaffed)
	if staffed == nil || staffed.Status != metav1.ConditionFalse || staffed.Reason != opsv1alpha1.ReasonUnderstaffed ||
		!strings.Contains(staffed.Message, "worst: queue windows-phone at 2026-11-") {
		t.Errorf("Staffed = %+v", staffed)
	}
	if phone.UnderstaffedIntervals == 0 || phone.WorstGap == nil || phone.WorstGap.Required <= phone.WorstGap.Scheduled {
		t.Errorf("phone queue gaps %+v", phone)
	}
	if c := condition(got, opsv1alpha1.ConditionQueuesSynced); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("QueuesSynced = %+v", c)
	}
	if v := teamGauge(t, "supportstack_team_headcount", ns, "windows-tier1"); v != 5 {
		t.Errorf("supportstack_team_headcount = %v, want 5", v)
	}
	if v := teamGauge(t, "supportstack_team_queue_understaffed_intervals", ns, "windows-tier1", "windows-phone"); v != float64(phone.UnderstaffedIntervals) {
		t.Errorf("supportstack_team_queue_understaffed_intervals = %v, want %d", v, phone.UnderstaffedIntervals)
	}
	// From Monday 10:00, the next 24 hours hold the rest of Monday's and
	// the start of Tuesday's short hours, not the whole week's.
	if v := teamGauge(t, "supportstack_team_queue_understaffed_intervals_next_24h", ns, "windows-tier1", "windows-phone"); v <= 0 || v > 48 || v >= float64(phone.UnderstaffedIntervals) {
		t.Errorf("supportstack_team_queue_understaffed_intervals_next_24h = %v, want 1-48 and fewer than the week's %d", v, phone.UnderstaffedIntervals)
	}
	// Monday 10:00: the phones need staff and have the early shift.
	if req, sched := teamGauge(t, "supportstack_team_queue_required_staff", ns, "windows-tier1", "windows-phone"),
		teamGauge(t, "supportstack_team_queue_scheduled_staff", ns, "windows-tier1", "windows-phone"); req != float64(phone.PeakRequiredStaff) || sched < 1 {
		t.Errorf("required/scheduled staff metrics %v/%v", req, sched)
	}

	// The routing ConfigMap, owned by the team.
	var cm corev1.ConfigMap
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "windows-tier1-queues"}, &cm); err != nil {
		t.Fatal(err)
	}
	assertOwned(t, &cm, got)
	var table queues.Table
	if err := json.Unmarshal([]byte(cm.Data[resources.RoutingKey]), &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Queues) != 2 || table.Queues[0].Escalation == nil ||
		*table.Queues[0].Escalation != (queues.EscalationRoute{After: "30m0s", Team: "windows-tier1", Queue: "windows-escalations"}) {
		t.Errorf("routing table %+v", table)
	}
	if strings.Join(table.Queues[1].Members, ",") != "carol,dave,erin" {
		t.Errorf("escalation queue members %v, want carol, dave, erin (windows+email)", table.Queues[1].Members)
	}

	// Access for the leads: their own team and its routing table, nothing else.
	var role rbacv1.Role
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "windows-tier1-team-leads"}, &role); err != nil {
		t.Fatal(err)
	}
	assertOwned(t, &role, got)
	if len(role.Rules) != 2 || role.Rules[0].ResourceNames[0] != "windows-tier1" || role.Rules[1].ResourceNames[0] != "windows-tier1-queues" {
		t.Errorf("role rules %+v", role.Rules)
	}
	var binding rbacv1.RoleBinding
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "windows-tier1-team-leads"}, &binding); err != nil {
		t.Fatal(err)
	}
	assertOwned(t, &binding, got)
	if subjects := subjectNames(binding); subjects != "alice@example.com,erin@example.com" {
		t.Errorf("binding subjects %s, want the lead and the manager", subjects)
	}

	// An event says the team is understaffed.
	eventually(t, 10*time.Second, func() error {
		var list eventsv1.EventList
		if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == opsv1alpha1.ReasonUnderstaffed && e.Regarding.Name == "windows-tier1" {
				return nil
			}
		}
		return fmt.Errorf("no %s event among %d", opsv1alpha1.ReasonUnderstaffed, len(list.Items))
	})

	// A roster change recomputes the binding: erin is no longer a manager.
	if err := update(t, k8sClient, got, func(team *opsv1alpha1.SupportTeam) { team.Spec.Members[4].Role = opsv1alpha1.RoleSpecialist }); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&binding), &binding); err != nil {
			return err
		}
		if s := subjectNames(binding); s != "alice@example.com" {
			var now opsv1alpha1.SupportTeam
			_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(got), &now)
			return fmt.Errorf("subjects %s; team generation %d observed %d members %+v", s, now.Generation, now.Status.ObservedGeneration, now.Spec.Members[4])
		}
		return nil
	})
}

func assertOwned(t *testing.T, obj client.Object, owner *opsv1alpha1.SupportTeam) {
	t.Helper()
	refs := obj.GetOwnerReferences()
	if len(refs) != 1 || refs[0].UID != owner.UID || refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("%s owner references %+v, want the team as controller", obj.GetName(), refs)
	}
	if obj.GetLabels()[opsv1alpha1.LabelManagedBy] != opsv1alpha1.ManagedByValue || obj.GetLabels()[resources.LabelSupportTeam] != owner.Name {
		t.Errorf("%s labels %v", obj.GetName(), obj.GetLabels())
	}
}

func subjectNames(b rbacv1.RoleBinding) string {
	names := make([]string, 0, len(b.Subjects))
	for _, s := range b.Subjects {
		names = append(names, s.Name)
	}
	return strings.Join(names, ",")
}

// TestSteadyStateMakesNoWrites reconciles a settled team again and checks
// that neither the team nor any child changed.
func TestSteadyStateMakesNoWrites(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	team := sampleTeam(t, ns)
	if err := k8sClient.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue)
	objs := []client.Object{
		&opsv1alpha1.SupportTeam{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "windows-tier1"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "windows-tier1-queues"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "windows-tier1-team-leads"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "windows-tier1-team-leads"}},
	}
	versions := func() []string {
		v := make([]string, 0, len(objs))
		for _, o := range objs {
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				t.Fatal(err)
			}
			v = append(v, o.GetResourceVersion())
		}
		return v
	}
	// Let the manager finish the reconciles its own writes triggered.
	settled := settle(t, func() string { return strings.Join(versions(), ",") })
	c, writes := countingClient(t)
	r := &SupportTeamReconciler{Client: c, Recorder: &events.FakeRecorder{}, Clock: fakeClock}
	for i := 0; i < 3; i++ {
		res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(team)})
		if err != nil {
			t.Fatal(err)
		}
		if res.RequeueAfter <= 0 || res.RequeueAfter > 30*time.Minute {
			t.Errorf("requeue after %v, want the next interval boundary within 30m", res.RequeueAfter)
		}
	}
	if after := strings.Join(versions(), ","); after != settled {
		t.Errorf("resource versions changed from %v to %v: a steady-state reconcile wrote", settled, after)
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("3 steady-state reconciles sent %d write requests, want 0", n)
	}
}

// TestClockMovesStatus moves the injected clock to a Saturday: nobody is on
// shift, and status follows without anyone editing the spec's meaning.
func TestClockMovesStatus(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	team := sampleTeam(t, ns)
	if err := k8sClient.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue)

	monday := fakeClock.Now()
	defer fakeClock.SetTime(monday)
	fakeClock.SetTime(time.Date(2026, time.November, 28, 15, 0, 0, 0, time.UTC)) // Saturday 10:00 in New York
	r := &SupportTeamReconciler{Client: k8sClient, Recorder: &events.FakeRecorder{}, Clock: fakeClock}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(team)}); err != nil {
		t.Fatal(err)
	}
	var got opsv1alpha1.SupportTeam
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(team), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.OnShiftNow != 0 {
		t.Errorf("Saturday onShiftNow = %d, want 0", got.Status.OnShiftNow)
	}
	// Nobody works on Saturday: the Manager, off shift, is the contact.
	if len(got.Status.OnShift) != 0 {
		t.Errorf("Saturday onShift %v, want none", got.Status.OnShift)
	}
	for _, q := range got.Status.Queues {
		if want := (opsv1alpha1.OnCallContact{Name: "erin", Email: "erin@example.com", Role: opsv1alpha1.RoleManager}); q.OnCall == nil || *q.OnCall != want {
			t.Errorf("Saturday queue %s onCall %+v, want %+v", q.Name, q.OnCall, want)
		}
	}
}

func TestEscalationTargetNotFound(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	team := sampleTeam(t, ns)
	team.Spec.Queues[0].Escalation.ToTeam = "windows-tier2"
	team.Spec.Queues[0].Escalation.ToQueue = "windows-escalations"
	if err := k8sClient.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	got := readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionFalse)
	ready := condition(got, opsv1alpha1.ConditionReady)
	want := "queue windows-phone escalates to team windows-tier2, which does not exist in namespace " + ns
	if ready.Reason != opsv1alpha1.ReasonEscalationTargetNotFound || ready.Message != want {
		t.Errorf("Ready = %s: %s, want %s: %s", ready.Reason, ready.Message, opsv1alpha1.ReasonEscalationTargetNotFound, want)
	}
	if c := condition(got, opsv1alpha1.ConditionQueuesSynced); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("QueuesSynced = %+v", c)
	}

	// The target team appears, but without the queue.
	tier2 := sampleTeam(t, ns)
	tier2.Name = "windows-tier2"
	tier2.Spec.Queues = tier2.Spec.Queues[:1]
	tier2.Spec.Queues[0].Escalation = nil
	if err := k8sClient.Create(ctx, tier2); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(team), got); err != nil {
			return err
		}
		if c := condition(got, opsv1alpha1.ConditionReady); !strings.Contains(c.Message, "which has no such queue") {
			return fmt.Errorf("Ready message %q", c.Message)
		}
		return nil
	})

	// The queue is added: the team recovers by itself.
	if err := update(t, k8sClient, tier2, func(team *opsv1alpha1.SupportTeam) {
		team.Spec.Queues = append(team.Spec.Queues, opsv1alpha1.Queue{
			Name: "windows-escalations", Channel: opsv1alpha1.ChannelEmail, Skills: []string{"windows"},
			ResponseTargets: &opsv1alpha1.ResponseTargets{FirstResponse: metav1.Duration{Duration: 4 * time.Hour}},
		})
	}); err != nil {
		t.Fatal(err)
	}
	readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue)
}

// TestLeadEditsOnlyOwnTeam impersonates a lead against the real API server.
func TestLeadEditsOnlyOwnTeam(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	mine := sampleTeam(t, ns)
	if err := k8sClient.Create(ctx, mine); err != nil {
		t.Fatal(err)
	}
	other := sampleTeam(t, ns)
	other.Name = "linux-tier1"
	for i := range other.Spec.Members {
		other.Spec.Members[i].Email = "other-" + other.Spec.Members[i].Email
	}
	if err := k8sClient.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	readyTeam(t, client.ObjectKeyFromObject(mine), metav1.ConditionTrue)
	readyTeam(t, client.ObjectKeyFromObject(other), metav1.ConditionTrue)

	alice := actAs(t, "alice@example.com", "")

	var own opsv1alpha1.SupportTeam
	eventually(t, 10*time.Second, func() error { return alice.Get(ctx, client.ObjectKeyFromObject(mine), &own) })
	if err := update(t, alice, &own, func(team *opsv1alpha1.SupportTeam) { team.Spec.DisplayName = "Windows Tier 1 (days)" }); err != nil {
		t.Errorf("lead cannot update her own team: %v", err)
	}
	var routing corev1.ConfigMap
	if err := alice.Get(ctx, client.ObjectKey{Namespace: ns, Name: "windows-tier1-queues"}, &routing); err != nil {
		t.Errorf("lead cannot read her team's routing table: %v", err)
	}

	var theirs opsv1alpha1.SupportTeam
	if err := alice.Get(ctx, client.ObjectKeyFromObject(other), &theirs); !apierrors.IsForbidden(err) {
		t.Errorf("reading another team: got %v, want Forbidden", err)
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(other), &theirs); err != nil {
		t.Fatal(err)
	}
	theirs.Spec.Shrinkage = 10
	err := alice.Update(ctx, &theirs)
	if !apierrors.IsForbidden(err) {
		t.Errorf("updating another team: got %v, want Forbidden", err)
	}
	t.Logf("refused: %v", err)
	if err := alice.Get(ctx, client.ObjectKey{Namespace: ns, Name: "linux-tier1-queues"}, &routing); !apierrors.IsForbidden(err) {
		t.Errorf("reading another team's routing table: got %v, want Forbidden", err)
	}
	if err := alice.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Errorf("listing secrets: got %v, want Forbidden", err)
	}
	if err := alice.Create(ctx, &opsv1alpha1.SupportTeam{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shadow"}, Spec: own.Spec}); !apierrors.IsForbidden(err) {
		t.Errorf("creating a team: got %v, want Forbidden", err)
	}
}
