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
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/queues/rttest"
)

// actualsTicket is a ticket seeded in RT: created by the customer at
// created, then replies by RT users at given times.
type actualsTicket struct {
	queue   string
	created time.Time
	replies []actualsReply
}

type actualsReply struct {
	who string
	at  time.Time
}

// seedActuals creates the tickets with RT's Perl API, each action by the
// user who would take it, then moves each record's Created (and the
// ticket's LastUpdated, to its last event) to the seeded instant with
// __Set: RT stamps records with the real clock and accepts no Created date.
// The customer and outsider@example.com (privileged, not a team member)
// are created; alice@example.com exists already (the queue sync made her).
func seedActuals(t *testing.T, s *rttest.Server, tickets ...actualsTicket) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`RT->Config->Set(MailCommand => 'testfile');
for my $name ('customer@example.com', 'outsider@example.com', 'alice@example.com') {
    my $u = RT::User->new(RT->SystemUser);
    unless ($u->Load($name)) {
        my ($ok, $msg) = $u->Create(Name => $name, EmailAddress => $name, Privileged => ($name =~ /^customer/ ? 0 : 1));
        die "user $name: $msg" unless $ok;
    }
    my ($g, $gm) = $u->PrincipalObj->GrantRight(Right => 'SuperUser', Object => $RT::System);
}
sub as { my $cu = RT::CurrentUser->new; $cu->Load($_[0]) or die "no user $_[0]"; return $cu }
sub stamp { my ($rec, $field, $when) = @_; my ($ok, $msg) = $rec->__Set(Field => $field, Value => $when); die "stamp $field: $msg" unless $ok }
`)
	rt := func(at time.Time) string { return at.UTC().Format(time.DateTime) }
	for _, tk := range tickets {
		fmt.Fprintf(&b, `{
my $t = RT::Ticket->new(as('customer@example.com'));
my ($id, $txn, $msg) = $t->Create(Queue => '%s', Requestor => ['customer@example.com'], Subject => 'seeded',
    MIMEObj => MIME::Entity->build(Type => 'text/plain', Data => 'help'));
die "ticket: $msg" unless $id;
my $tx = RT::Transaction->new(RT->SystemUser); $tx->Load($txn); stamp($tx, 'Created', '%s'); stamp($t, 'Created', '%s');
`, tk.queue, rt(tk.created), rt(tk.created))
		last := tk.created
		for _, r := range tk.replies {
			fmt.Fprintf(&b, "{ my $as = RT::Ticket->new(as('%s')); $as->Load($id); my ($ok, $m, $obj) = $as->Correspond(Content => 'reply'); die \"correspond: $m\" unless $ok; stamp($obj, 'Created', '%s'); }\n",
				r.who, rt(r.at))
			last = r.at
		}
		fmt.Fprintf(&b, "$t->Load($id); stamp($t, 'LastUpdated', '%s'); print \"$id\\n\";\n}\n", rt(last))
	}
	out := strings.Fields(s.Perl(b.String()))
	if len(out) != len(tickets) {
		t.Fatalf("seeding printed %q, want %d ticket ids", out, len(tickets))
	}
}

// est is a New York wall-clock time of November 2026 (after the clocks went
// back: UTC-5).
func est(t *testing.T, day, hour, minute int) time.Time {
	t.Helper()
	return time.Date(2026, time.November, day, hour, minute, 0, 0, mustZone(t, "America/New_York"))
}

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
func pct(p int32) *int32                   { return &p }

// actualOf returns a queue's actual figures from status.
func actualOf(t *testing.T, team *opsv1alpha1.SupportTeam, queue string) *opsv1alpha1.QueueActual {
	t.Helper()
	for _, q := range team.Status.Queues {
		if q.Name == queue {
			return q.Actual
		}
	}
	t.Fatalf("no queue %s in status", queue)
	return nil
}

// actualsFixture is the sample team on the suite's RT, driven by the
// test's own clock (the manager, which would sync the team on the suite's
// clock, is stopped for the test).
type actualsFixture struct {
	rt            *rttest.Server
	ns            string
	team          *opsv1alpha1.SupportTeam
	key           client.ObjectKey
	clk           *clocktesting.FakeClock
	newReconciler func(c client.Client) *SupportTeamReconciler
	reconcile     func(r *SupportTeamReconciler) (ctrl.Result, *opsv1alpha1.SupportTeam, error)
}

// newActualsFixture creates the team (changed by edit first, when given)
// and its token Secret; the clock starts at Monday 23 November 10:00 EST.
func newActualsFixture(t *testing.T, edit func(*opsv1alpha1.SupportTeam)) *actualsFixture {
	t.Helper()
	ctx := context.Background()
	stopManagerFor(t)
	f := &actualsFixture{rt: rttest.Start(t), ns: newNamespace(t)}
	f.team = sampleTeam(t, f.ns)
	f.team.Spec.QueueBackend = &opsv1alpha1.QueueBackend{RequestTracker: &opsv1alpha1.RequestTrackerBackend{
		URL: f.rt.URL, TokenSecretRef: opsv1alpha1.SecretKeyRef{Name: "rt-token", Key: "token"},
	}}
	if edit != nil {
		edit(f.team)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "rt-token", Namespace: f.ns,
			Labels: map[string]string{opsv1alpha1.LabelSecretUse: opsv1alpha1.SecretUseQueueToken}},
		StringData: map[string]string{"token": f.rt.Token},
	}
	for _, obj := range []client.Object{secret, f.team} {
		if err := k8sClient.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	f.key = client.ObjectKeyFromObject(f.team)
	f.clk = clocktesting.NewFakeClock(est(t, 23, 10, 0))
	f.newReconciler = func(c client.Client) *SupportTeamReconciler {
		return &SupportTeamReconciler{Client: c, APIReader: k8sClient, Recorder: &events.FakeRecorder{},
			HTTP: &http.Client{Timeout: 30 * time.Second}, Clock: f.clk}
	}
	f.reconcile = func(r *SupportTeamReconciler) (ctrl.Result, *opsv1alpha1.SupportTeam, error) {
		t.Helper()
		res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: f.key})
		got := &opsv1alpha1.SupportTeam{}
		if gerr := k8sClient.Get(ctx, f.key, got); gerr != nil {
			t.Fatal(gerr)
		}
		return res, got, err
	}
	return f
}

// TestActualsFromRequestTracker points the sample team at the suite's RT,
// seeds tickets at controlled times around Monday 23 November 2026 10:00 EST
// and checks status, conditions and metrics against hand-computed figures.
// Business hours are the shifts' span, Mon-Fri 07:00-20:00; the escalations
// queue's target is 4h, the phone queue has none. At 10:10 EST:
//
//	e1 escalations Fri 20 18:00, alice Mon 23 08:00: 2h Fri + 1h Mon = 3h, Met (7d)
//	e2 escalations Thu 19 09:00, outsider 10:00 (not a member: no answer), alice 15:00: 6h, Missed (7d)
//	e3 escalations Mon 23 07:30, unanswered: 2h40m so far, Pending (24h, 7d)
//	e4 escalations Sun 22 12:00, alice Mon 07:30: Sunday closed, 30m, Met (24h, 7d)
//	e5 escalations Tue 10 09:00, alice 10:00: in the 28 days read, not in 7
//	p1 phone Mon 23 09:00, alice 09:10: 10m, no target
//
// escalations 7d: 4 tickets, 2 met, 1 missed, 1 pending, 66%, median of
// (30m, 3h, 6h) the 2nd = 3h, p90 the 3rd = 6h.
func TestActualsFromRequestTracker(t *testing.T) {
	ctx := context.Background()
	f := newActualsFixture(t, nil)
	rt, ns, team, key, clk, newReconciler, reconcile := f.rt, f.ns, f.team, f.key, f.clk, f.newReconciler, f.reconcile

	// The first reconcile makes the queues and alice in RT; no ticket yet.
	_, got, err := reconcile(newReconciler(k8sClient))
	if err != nil {
		t.Fatal(err)
	}
	if c := condition(got, opsv1alpha1.ConditionServiceLevelMet); c == nil || c.Status != metav1.ConditionUnknown || c.Reason != opsv1alpha1.ReasonNoTicketData {
		t.Errorf("ServiceLevelMet without tickets = %+v, want Unknown NoTicketData", c)
	}

	seedActuals(t, rt,
		actualsTicket{"windows-escalations", est(t, 20, 18, 0), []actualsReply{{"alice@example.com", est(t, 23, 8, 0)}}},
		actualsTicket{"windows-escalations", est(t, 19, 9, 0), []actualsReply{{"outsider@example.com", est(t, 19, 10, 0)}, {"alice@example.com", est(t, 19, 15, 0)}}},
		actualsTicket{"windows-escalations", est(t, 23, 7, 30), nil},
		actualsTicket{"windows-escalations", est(t, 22, 12, 0), []actualsReply{{"alice@example.com", est(t, 23, 7, 30)}}},
		actualsTicket{"windows-escalations", est(t, 10, 9, 0), []actualsReply{{"alice@example.com", est(t, 10, 10, 0)}}},
		actualsTicket{"windows-phone", est(t, 23, 9, 0), []actualsReply{{"alice@example.com", est(t, 23, 9, 10)}}},
	)

	// An operator restart: a new reconciler has no ticket state and reads
	// the 28 days again.
	clk.SetTime(est(t, 23, 10, 10))
	r := newReconciler(k8sClient)
	if _, got, err = reconcile(r); err != nil {
		t.Fatal(err)
	}
	wantEsc := &opsv1alpha1.QueueActual{
		Last24h: opsv1alpha1.ActualWindow{Volume: 2, Met: 1, Pending: 1, ServiceLevelPercent: pct(100),
			MedianFirstResponse: dur(30 * time.Minute), P90FirstResponse: dur(30 * time.Minute)},
		Last7d: opsv1alpha1.ActualWindow{Volume: 4, Met: 2, Missed: 1, Pending: 1, ServiceLevelPercent: pct(66),
			MedianFirstResponse: dur(3 * time.Hour), P90FirstResponse: dur(6 * time.Hour)},
	}
	phone := opsv1alpha1.ActualWindow{Volume: 1, MedianFirstResponse: dur(10 * time.Minute), P90FirstResponse: dur(10 * time.Minute)}
	wantPhone := &opsv1alpha1.QueueActual{Last24h: phone, Last7d: phone}
	if a := actualOf(t, got, "windows-escalations"); !equality.Semantic.DeepEqual(a, wantEsc) {
		t.Errorf("windows-escalations actual = %+v\nwant %+v", a, wantEsc)
	}
	if a := actualOf(t, got, "windows-phone"); !equality.Semantic.DeepEqual(a, wantPhone) {
		t.Errorf("windows-phone actual = %+v\nwant %+v", a, wantPhone)
	}
	if got.Status.ActualsSyncedAt == nil || !got.Status.ActualsSyncedAt.Equal(&metav1.Time{Time: clk.Now()}) {
		t.Errorf("actualsSyncedAt = %v, want %v", got.Status.ActualsSyncedAt, clk.Now())
	}
	if c := condition(got, opsv1alpha1.ConditionActualsSynced); c == nil || c.Status != metav1.ConditionTrue || c.Reason != opsv1alpha1.ReasonActualsRead {
		t.Errorf("ActualsSynced = %+v, want True ActualsRead", c)
	}
	wantSL := "first responses in the last 7 days below the 90% target: windows-escalations 66% (2 of 3 within 4h0m0s)"
	if c := condition(got, opsv1alpha1.ConditionServiceLevelMet); c == nil || c.Status != metav1.ConditionFalse || c.Message != wantSL {
		t.Errorf("ServiceLevelMet = %+v, want False: %s", c, wantSL)
	}
	labels := []string{ns, team.Name, "windows-escalations"}
	if v := testutil.ToFloat64(queueActualVolume7d.WithLabelValues(labels...)); v != 4 {
		t.Errorf("volume_7d = %v, want 4", v)
	}
	if v := testutil.ToFloat64(queueServiceLevel7d.WithLabelValues(labels...)); v != 2.0/3 {
		t.Errorf("service_level_7d = %v, want 2/3", v)
	}
	// The phone queue has no target: no service-level series.
	if queueServiceLevel7d.DeleteLabelValues(ns, team.Name, "windows-phone") {
		t.Error("the phone queue, without a target, has a service-level series")
	}

	// A ticket comes in at 10:12. Five minutes after the sync the reconciler
	// does not read RT: nothing changes and nothing is written.
	seedActuals(t, rt, actualsTicket{"windows-escalations", est(t, 23, 10, 12), nil})
	c, writes := countingClient(t)
	r.Client = c
	clk.SetTime(est(t, 23, 10, 15))
	res, between, err := reconcile(r)
	if err != nil {
		t.Fatal(err)
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("a reconcile between syncs sent %d writes, want 0", n)
	}
	if a := actualOf(t, between, "windows-escalations"); !equality.Semantic.DeepEqual(a, wantEsc) {
		t.Errorf("between syncs windows-escalations actual = %+v, want the last figures", a)
	}
	if res.RequeueAfter <= 0 || res.RequeueAfter > 5*time.Minute {
		t.Errorf("between syncs requeue after %v, want at most the 5m to the next sync", res.RequeueAfter)
	}

	// Ten minutes after the last sync it reads again: the new ticket is pending.
	clk.SetTime(est(t, 23, 10, 20))
	if _, got, err = reconcile(r); err != nil {
		t.Fatal(err)
	}
	wantEsc.Last24h.Volume, wantEsc.Last24h.Pending = 3, 2
	wantEsc.Last7d.Volume, wantEsc.Last7d.Pending = 5, 2
	if a := actualOf(t, got, "windows-escalations"); !equality.Semantic.DeepEqual(a, wantEsc) {
		t.Errorf("after the next sync windows-escalations actual = %+v\nwant %+v", a, wantEsc)
	}
	if writes.Load() == 0 {
		t.Error("the sync with new figures wrote nothing")
	}

	// An operator restart with 4 requests a sync (a search and 3
	// histories): the first syncs read part of the 7 tickets and status
	// keeps the last figures, not a partial count, until the read is through.
	r = newReconciler(k8sClient)
	r.actuals.maxCalls = 4
	for i := 0; ; i++ {
		if i == 5 {
			t.Fatal("the bounded read did not complete in 5 syncs")
		}
		clk.SetTime(est(t, 23, 10, 30+10*i))
		if _, got, err = reconcile(r); err != nil {
			t.Fatal(err)
		}
		if a := actualOf(t, got, "windows-escalations"); !equality.Semantic.DeepEqual(a, wantEsc) {
			t.Errorf("sync %d after a restart: windows-escalations actual = %+v\nwant %+v", i, a, wantEsc)
		}
		c := condition(got, opsv1alpha1.ConditionActualsSynced)
		if c.Reason == opsv1alpha1.ReasonActualsRead {
			if i == 0 {
				t.Error("4 requests read 7 tickets in one sync")
			}
			break
		}
		if c.Status != metav1.ConditionTrue || c.Reason != opsv1alpha1.ReasonActualsReading {
			t.Errorf("sync %d after a restart: ActualsSynced = %+v, want True ActualsReading", i, c)
		}
	}

	// The phone queue leaves the spec: at the next sync its series go.
	if err := update(t, k8sClient, got, func(tm *opsv1alpha1.SupportTeam) {
		tm.Spec.Queues = tm.Spec.Queues[1:]
	}); err != nil {
		t.Fatal(err)
	}
	// DeleteLabelValues reports whether the series was there; put it back.
	if !queueActualVolume7d.DeleteLabelValues(ns, team.Name, "windows-phone") {
		t.Fatal("the phone queue had no volume series before it left the spec")
	}
	queueActualVolume7d.WithLabelValues(ns, team.Name, "windows-phone").Set(1)
	clk.Step(10 * time.Minute)
	if _, got, err = reconcile(r); err != nil {
		t.Fatal(err)
	}
	if queueActualVolume7d.DeleteLabelValues(ns, team.Name, "windows-phone") {
		t.Error("the phone queue, gone from the spec, still has a volume series")
	}
	if a := actualOf(t, got, "windows-escalations"); !equality.Semantic.DeepEqual(a, wantEsc) {
		t.Errorf("after the phone queue left: windows-escalations actual = %+v\nwant %+v", a, wantEsc)
	}

	// RT stops: the next sync fails, ActualsSynced says why, the figures stay.
	rt.Stop()
	clk.Step(10 * time.Minute)
	if _, got, err = reconcile(r); err == nil {
		t.Error("a reconcile with RT stopped returned no error")
	}
	cond := condition(got, opsv1alpha1.ConditionActualsSynced)
	if cond == nil || cond.Status != metav1.ConditionFalse || cond.Reason != opsv1alpha1.ReasonActualsUnavailable ||
		!strings.HasPrefix(cond.Message, "reading tickets from Request Tracker "+rt.URL+": ") {
		t.Errorf("ActualsSynced with RT stopped = %+v, want False ActualsUnavailable with the error", cond)
	}
	if strings.Contains(cond.Message, rt.Token) {
		t.Fatal("the RT token leaked into ActualsSynced")
	}
	if a := actualOf(t, got, "windows-escalations"); !equality.Semantic.DeepEqual(a, wantEsc) {
		t.Errorf("with RT stopped windows-escalations actual = %+v, want the last figures %+v", a, wantEsc)
	}
	if c := condition(got, opsv1alpha1.ConditionServiceLevelMet); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("ServiceLevelMet with RT stopped = %+v, want the last (False)", c)
	}

	// The team goes: its series go with it.
	if err := k8sClient.Delete(ctx, team); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	if queueActualVolume7d.DeleteLabelValues(labels...) || queueServiceLevel7d.DeleteLabelValues(labels...) {
		t.Error("the deleted team's actuals series are still there")
	}
}
