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

package queues

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/queues/rttest"
)

const deskTeam = `
metadata: {name: desk, namespace: helpdesk}
spec:
  timeZone: Europe/Warsaw
  shifts: [{name: always, days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun], start: "00:00", end: "24:00"}]
  members:
  - {name: alice, email: alice@example.com, role: Lead, skills: [windows], shifts: [always]}
  - {name: bob, email: bob@example.com, skills: [windows], shifts: [always]}
  queues:
  - name: desk-mail
    channel: Email
    skills: [windows]
    responseTargets: {firstResponse: 4h, resolution: 48h}
  - name: desk-phone
    channel: Phone
    skills: [windows]
    serviceLevel: {percent: 80, answerWithin: 20s}
`

func loadTeam(t *testing.T, doc string) *opsv1alpha1.SupportTeam {
	t.Helper()
	team := &opsv1alpha1.SupportTeam{}
	if err := yaml.UnmarshalStrict([]byte(doc), team); err != nil {
		t.Fatal(err)
	}
	return team
}

func TestRequestTrackerProvider(t *testing.T) {
	ctx := context.Background()
	s := rttest.Start(t)
	rt := &RequestTracker{BaseURL: s.URL, Token: s.Token, HTTP: &http.Client{Timeout: 30 * time.Second}}
	team := loadTeam(t, deskTeam)

	// A queue of that name already exists (created by hand): it is not the
	// team's until an RT admin releases it by starting its Description with
	// the team's marker; then it is adopted.
	code, created := s.Call(http.MethodPost, "/queue", map[string]any{"Name": "desk-phone"})
	if code != http.StatusCreated {
		t.Fatalf("creating the pre-existing queue: %d %v", code, created)
	}
	preexisting := created["id"].(string)
	res, err := rt.Sync(ctx, RTDesiredFor(team))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NotOwned) != 1 || res.NotOwned[0].Name != "desk-phone" || res.QueueIDs["desk-phone"] != "" {
		t.Errorf("hand-made desk-phone: not owned %+v, ids %v; want it reported and left alone", res.NotOwned, res.QueueIDs)
	}
	if code, _ := s.Call(http.MethodPut, "/queue/"+preexisting, map[string]any{"Description": OwnerMarker("helpdesk/desk") + " released by an RT admin"}); code != http.StatusOK {
		t.Fatalf("releasing desk-phone: %d", code)
	}

	res, err = rt.Sync(ctx, RTDesiredFor(team))
	if err != nil {
		t.Fatal(err)
	}
	if res.QueueIDs["desk-phone"] != preexisting || len(res.NotOwned) != 0 {
		t.Errorf("desk-phone id %s (not owned %+v), want the released %s adopted", res.QueueIDs["desk-phone"], res.NotOwned, preexisting)
	}
	for _, name := range []string{"desk-mail", "desk-phone"} {
		code, q := s.Call(http.MethodGet, "/queue/"+name, nil)
		if code != http.StatusOK || q["Disabled"] != "0" || !strings.HasPrefix(q["Description"].(string), "SupportStack helpdesk/desk:") {
			t.Errorf("queue %s: %d %v", name, code, q)
		}
	}
	_, mail := s.Call(http.MethodGet, "/queue/desk-mail", nil)
	if mail["SLADisabled"] != "0" {
		t.Errorf("desk-mail has response targets but SLADisabled = %v", mail["SLADisabled"])
	}
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		code, u := s.Call(http.MethodGet, "/user/"+email, nil)
		if code != http.StatusOK || u["Privileged"] != float64(1) {
			t.Errorf("user %s: %d privileged=%v", email, code, u["Privileged"])
		}
	}
	members := strings.TrimSpace(s.Perl(`
my $g = RT::Group->new(RT->SystemUser); $g->LoadUserDefinedGroup('supportstack-helpdesk-desk') or die "no group";
my $m = $g->UserMembersObj; my @n; while (my $u = $m->Next) { push @n, $u->Name } print join(',', sort @n);`))
	if members != "alice@example.com,bob@example.com" {
		t.Errorf("group members %q", members)
	}
	t.Logf("first sync: %d writes", res.Writes)

	// Nothing changed: no writes at all.
	again, err := rt.Sync(ctx, RTDesiredFor(team))
	if err != nil {
		t.Fatal(err)
	}
	if again.Writes != 0 {
		t.Errorf("second sync made %d writes, want 0", again.Writes)
	}

	// Service levels and rights: load the rendered configuration into RT.
	cfg := RenderRT(team)
	if err := os.WriteFile(filepath.Join(s.ConfigDir(), "supportstack-helpdesk-desk.pm"), []byte(cfg.SiteConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	acl := filepath.Join(t.TempDir(), "initialdata")
	if err := os.WriteFile(acl, []byte(cfg.InitialData), 0o644); err != nil {
		t.Fatal(err)
	}
	s.InsertData(acl)
	// A second team's snippet beside it: both teams' levels must survive.
	other := RenderRT(loadTeam(t, strings.NewReplacer("name: desk,", "name: desk2,", "desk-mail", "desk2-mail", "desk-phone", "desk2-phone").Replace(deskTeam)))
	if err := os.WriteFile(filepath.Join(s.ConfigDir(), "supportstack-helpdesk-desk2.pm"), []byte(other.SiteConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	if got := strings.TrimSpace(s.Perl(`
my %sla = RT->Config->Get('ServiceAgreements'); my %hours = RT->Config->Get('ServiceBusinessHours');
print join(',', sort keys %{ $sla{Levels} }), ' ', join(',', sort keys %hours);`)); got != "supportstack-helpdesk-desk-desk-mail,supportstack-helpdesk-desk2-desk2-mail supportstack-helpdesk-desk,supportstack-helpdesk-desk2" {
		t.Errorf("levels and business hours after loading two teams: %s", got)
	}
	if got := strings.TrimSpace(s.Perl(`
my $u = RT::User->new(RT->SystemUser); $u->Load('alice@example.com');
my $q = RT::Queue->new(RT->SystemUser); $q->Load('desk-mail');
print join(',', map { $u->HasRight(Right => $_, Object => $q) ? 1 : 0 } qw(OwnTicket ReplyToTicket AdminQueue));`)); got != "1,1,0" {
		t.Errorf("alice's rights on desk-mail (OwnTicket, ReplyToTicket, AdminQueue) = %s, want 1,1,0", got)
	}

	// A customer writes in (as RT's mail gateway would: the requestor is the
	// creator, which is what makes the response target apply).
	ticketID := strings.TrimSpace(s.Perl(`
my $cust = RT::User->new(RT->SystemUser);
my ($uid, $umsg) = $cust->Create(Name => 'customer@example.com', EmailAddress => 'customer@example.com');
die "customer: $umsg" unless $uid;
my $q = RT::Queue->new(RT->SystemUser); $q->Load('desk-mail') or die "no queue";
my $everyone = RT::Group->new(RT->SystemUser); $everyone->LoadSystemInternalGroup('Everyone');
$everyone->PrincipalObj->GrantRight(Right => 'CreateTicket', Object => $q);
my $t = RT::Ticket->new(RT::CurrentUser->new($cust));
my ($id, $txn, $msg) = $t->Create(Queue => $q->id, Subject => 'printer on fire', Requestor => 'customer@example.com');
die "ticket: $msg" unless $id;
print $id;`))
	_, tk := s.Call(http.MethodGet, "/ticket/"+ticketID, nil)
	createdAt, err1 := time.Parse(time.RFC3339, tk["Created"].(string))
	due, err2 := time.Parse(time.RFC3339, tk["Due"].(string))
	if err1 != nil || err2 != nil {
		t.Fatalf("ticket times: Created %v, Due %v", tk["Created"], tk["Due"])
	}
	// The team works around the clock, so the 4h first-response target is
	// 4 real hours. RT stamps Created on insert and computes Due from its
	// clock when the SLA applies, a moment later: the two may straddle a
	// second boundary (seen once in CI: 4h0m1s).
	if d := due.Sub(createdAt); d < 4*time.Hour || d > 4*time.Hour+2*time.Second {
		t.Errorf("Due - Created = %v, want 4h (SLA %v)", d, tk["SLA"])
	}
	if tk["SLA"] != "supportstack-helpdesk-desk-desk-mail" {
		t.Errorf("ticket SLA level %v", tk["SLA"])
	}

	// desk-mail leaves the spec: disabled in RT, its ticket kept.
	team.Spec.Queues = team.Spec.Queues[1:]
	removed, err := rt.Sync(ctx, RTDesiredFor(team))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(removed.Disabled, ",") != "desk-mail" {
		t.Errorf("disabled %v, want desk-mail", removed.Disabled)
	}
	if _, q := s.Call(http.MethodGet, "/queue/desk-mail", nil); q["Disabled"] != "1" {
		t.Errorf("desk-mail Disabled = %v, want 1", q["Disabled"])
	}
	if code, _ := s.Call(http.MethodGet, "/ticket/"+ticketID, nil); code != http.StatusOK {
		t.Errorf("ticket %s after disabling its queue: %d, want it kept", ticketID, code)
	}
	if final, err := rt.Sync(ctx, RTDesiredFor(team)); err != nil || final.Writes != 0 {
		t.Errorf("sync after disabling: %d writes, %v; want 0", final.Writes, err)
	}

	// A wrong token is an error that names RT's answer, not a panic.
	bad := &RequestTracker{BaseURL: s.URL, Token: "1-1-wrong"}
	if _, err := bad.Sync(ctx, RTDesiredFor(team)); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: %v, want a 401 error", err)
	}
}

// TestRequestTrackerUserCreatedMeanwhile: the operator syncs teams in
// parallel, so another team's sync may create a person between this sync's
// lookup (not found) and its create, which RT then refuses as a duplicate.
// The sync takes the user that exists instead of failing. The race is
// played by answering the first lookup of carol "not found" after she was
// created.
func TestRequestTrackerUserCreatedMeanwhile(t *testing.T) {
	ctx := context.Background()
	s := rttest.Start(t)
	const carol = "carol@example.com"
	if code, u := s.Call(http.MethodPost, "/user", map[string]any{"Name": carol, "EmailAddress": carol, "Privileged": 1}); code != http.StatusCreated {
		t.Fatalf("creating carol as the other team's sync would: %d %v", code, u)
	}
	var hidden, creates atomic.Int32
	rt := &RequestTracker{BaseURL: s.URL, Token: s.Token, HTTP: &http.Client{Timeout: 30 * time.Second, Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/user/"+url.PathEscape(carol)) && hidden.Add(1) == 1 {
			return &http.Response{StatusCode: http.StatusNotFound, Body: io.NopCloser(strings.NewReader(`{"message":"Not Found"}`)), Header: http.Header{}, Request: req}, nil
		}
		if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/REST/2.0/user") {
			creates.Add(1)
		}
		return http.DefaultTransport.RoundTrip(req)
	})}}
	var res RTResult
	id, err := rt.syncUser(ctx, &res, RTPerson{Email: carol, RealName: "Carol"})
	if err != nil {
		t.Fatalf("syncing a user another sync created meanwhile: %v", err)
	}
	_, u := s.Call(http.MethodGet, "/user/"+carol, nil)
	if fmt.Sprint(id) != fmt.Sprint(u["id"]) || creates.Load() != 1 {
		t.Errorf("id %d, %d creates; want carol's id %v after the one refused create", id, creates.Load(), u["id"])
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
