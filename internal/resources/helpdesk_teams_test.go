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
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/supportstack/operator/internal/queues"
	"github.com/supportstack/operator/internal/queues/rttest"
)

// operatorUser runs RTOperatorUserPerl against rt with password.
func operatorUser(t *testing.T, rt *rttest.Server, password string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(file, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := rt.Command([]string{RTOperatorPasswordFileEnv + "=" + file}, "perl", "-e", RTOperatorUserPerl)
	if err != nil {
		t.Fatalf("RTOperatorUserPerl: %v\n%s", err, out)
	}
	return out
}

// groupRights lists the rights of the user-defined group on queues, each
// as "<queue id>/<right>", sorted.
func groupRights(t *testing.T, rt *rttest.Server, group string) []string {
	t.Helper()
	out := rt.Perl(`my $g = RT::Group->new(RT->SystemUser); $g->LoadUserDefinedGroup(q{` + group + `}) or die "no group";
my $acl = RT::ACL->new(RT->SystemUser);
$acl->Limit(FIELD => "PrincipalId", VALUE => $g->PrincipalObj->id);
while (my $ace = $acl->Next) { print $ace->ObjectType, ":", $ace->ObjectId, "/", $ace->RightName, "\n" }`)
	lines := strings.Fields(out)
	slices.Sort(lines)
	return lines
}

func rights(t *testing.T, rt *rttest.Server, group string, ids []string, r []string) string {
	t.Helper()
	out, err := rt.Command([]string{
		RTRightsGroupEnv + "=" + group,
		RTRightsQueuesEnv + "=" + strings.Join(ids, ","),
		RTRightsRightsEnv + "=" + strings.Join(r, " "),
	}, "perl", "-e", RTRightsPerl)
	if err != nil {
		t.Fatalf("RTRightsPerl: %v\n%s", err, out)
	}
	return out
}

// TestRTOperatorKeepsATeamInRT runs, against a real RT, what a SupportTeam
// with queueBackend.helpDesk makes happen there: the schema Job's service
// user, the operator's REST2 sync signed in as that user with its
// password, and the rights Job. The service user can do the sync and no
// more (no ticket, no right to grant); both programs write nothing when
// run again; the rights Job revokes what the team no longer has.
func TestRTOperatorKeepsATeamInRT(t *testing.T) {
	// The schema script runs it between single quotes: one in it would end
	// the program there and pass the rest to perl as arguments.
	for name, perl := range map[string]string{"RTOperatorUserPerl": RTOperatorUserPerl, "RTSchemaVersionPerl": RTSchemaVersionPerl} {
		if strings.Contains(perl, "'") {
			t.Fatalf("%s holds a single quote", name)
		}
	}
	rt := rttest.Start(t)
	const password = "Zq8yW3operatorPw"
	if out := operatorUser(t, rt, password); !strings.Contains(out, "made the RT user "+RTOperatorUser) || !strings.Contains(out, "granted AdminQueue") {
		t.Errorf("first run:\n%s", out)
	}
	if out := operatorUser(t, rt, password); strings.Contains(out, "rt-schema: ") {
		t.Errorf("a second run wrote something:\n%s", out)
	}
	// A right granted by hand to the service user goes; a new password is set.
	rt.Perl(`my $u = RT::User->new(RT->SystemUser); $u->Load("` + RTOperatorUser + `");
my ($ok, $msg) = $u->PrincipalObj->GrantRight(Right => "SuperUser", Object => RT->System); die $msg unless $ok;`)
	if out := operatorUser(t, rt, password+"2"); !strings.Contains(out, "revoked SuperUser") || !strings.Contains(out, "set the password") {
		t.Errorf("after a hand-granted SuperUser and a new password:\n%s", out)
	}

	// The operator's sync as the service user, through REST2 basic auth.
	ctx := context.Background()
	desired := queues.RTDesired{Owner: "ns/team", Group: "supportstack-ns-team",
		Queues:  []queues.RTQueue{{Name: "team-email"}, {Name: "team-phone"}},
		Members: []queues.RTPerson{{Email: "ana@example.com", RealName: "Ana"}, {Email: "bo@example.com", RealName: "Bo"}}}
	wrong := &queues.RequestTracker{BaseURL: rt.URL, User: RTOperatorUser, Token: password, InCluster: true}
	if _, err := wrong.Sync(ctx, desired); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("the old password still signs in: %v", err)
	}
	client := &queues.RequestTracker{BaseURL: rt.URL, User: RTOperatorUser, Token: password + "2", InCluster: true}
	res, err := client.Sync(ctx, desired)
	if err != nil {
		t.Fatalf("sync as %s: %v", RTOperatorUser, err)
	}
	if len(res.QueueIDs) != 2 {
		t.Fatalf("queue ids %v", res.QueueIDs)
	}
	if again, err := client.Sync(ctx, desired); err != nil || again.Writes != 0 {
		t.Errorf("a second sync: %d writes, %v", again.Writes, err)
	}
	members := strings.Fields(rt.Perl(`my $g = RT::Group->new(RT->SystemUser); $g->LoadUserDefinedGroup("supportstack-ns-team") or die;
my $m = $g->UserMembersObj; while (my $u = $m->Next) { print $u->EmailAddress, "\n" }`))
	slices.Sort(members)
	if !slices.Equal(members, []string{"ana@example.com", "bo@example.com"}) {
		t.Errorf("group members %v", members)
	}
	// What the service user cannot do: read a ticket, grant a right.
	code, ticket := rt.Call(http.MethodPost, "/ticket", map[string]any{"Queue": "General", "Subject": "private"})
	if code != http.StatusCreated {
		t.Fatalf("creating a ticket as root: %d %v", code, ticket)
	}
	req, err := http.NewRequest(http.MethodGet, rt.URL+"/REST/2.0/ticket/"+fmt.Sprint(ticket["id"]), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(RTOperatorUser, password+"2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || strings.Contains(string(body), "private") {
		t.Errorf("the service user reading a ticket: %d %s", resp.StatusCode, body)
	}
	if out := rt.Perl(`my $u = RT::User->new(RT->SystemUser); $u->Load("` + RTOperatorUser + `");
my $cu = RT::CurrentUser->new($u); my $g = RT::Group->new($cu); $g->LoadUserDefinedGroup("supportstack-ns-team");
my ($ok, $msg) = $g->PrincipalObj->GrantRight(Right => "SuperUser", Object => RT->System); print $ok ? "granted" : "refused";`); out != "refused" {
		t.Errorf("the service user could grant SuperUser to a group: %s", out)
	}

	// The rights Job's program: exactly the team's rights on its queues.
	ids := []string{res.QueueIDs["team-email"], res.QueueIDs["team-phone"]}
	out := rights(t, rt, desired.Group, ids, queues.RTQueueRights)
	if !strings.Contains(out, "18 rights on 2 queues; 18 granted, 0 revoked") {
		t.Errorf("first rights run: %s", out)
	}
	want := make([]string, 0, len(ids)*len(queues.RTQueueRights))
	for _, id := range ids {
		for _, r := range queues.RTQueueRights {
			want = append(want, "RT::Queue:"+id+"/"+r)
		}
	}
	slices.Sort(want)
	if got := groupRights(t, rt, desired.Group); !slices.Equal(got, want) {
		t.Errorf("rights after the first run:\n got %v\nwant %v", got, want)
	}
	if out := rights(t, rt, desired.Group, ids, queues.RTQueueRights); !strings.Contains(out, "0 granted, 0 revoked") {
		t.Errorf("a second rights run wrote: %s", out)
	}
	// The team drops a queue and the rights narrow: what it no longer has goes.
	out = rights(t, rt, desired.Group, ids[:1], []string{"SeeQueue", "ShowTicket"})
	if !strings.Contains(out, "2 rights on 1 queues; 0 granted, 16 revoked") {
		t.Errorf("narrowed rights run: %s", out)
	}
	if got := groupRights(t, rt, desired.Group); !slices.Equal(got, []string{"RT::Queue:" + ids[0] + "/SeeQueue", "RT::Queue:" + ids[0] + "/ShowTicket"}) {
		t.Errorf("rights after narrowing: %v", got)
	}
	// Input that is not a queue id or a group RT has is refused, not run.
	for _, bad := range [][2]string{{desired.Group, "1;system(1)"}, {"no-such-group", ids[0]}} {
		got, err := rt.Command([]string{RTRightsGroupEnv + "=" + bad[0], RTRightsQueuesEnv + "=" + bad[1], RTRightsRightsEnv + "=SeeQueue"}, "perl", "-e", RTRightsPerl)
		if err == nil || !strings.Contains(got, "rt-rights: ") {
			t.Errorf("group %q queues %q: %v %s", bad[0], bad[1], err, got)
		}
	}
}

// TestHelpDeskAdmitsTheOperatorAndTheRightsJobs: the web port admits the
// operator's pods beside the spec's peers (the same namespace by
// default), and the teams' rights Jobs are RT pods: they reach the
// database and it admits them. Without an operator namespace nothing is
// added.
func TestHelpDeskAdmitsTheOperatorAndTheRightsJobs(t *testing.T) {
	n := HelpDeskNames{HelpDesk: "rt"}
	policies := func(operator *networkingv1.NetworkPolicyPeer, ingressFrom []networkingv1.NetworkPolicyPeer) map[string]networkingv1.NetworkPolicySpec {
		out := map[string]networkingv1.NetworkPolicySpec{}
		for _, np := range HelpDeskNetworkPolicies("support", n, ingressFrom, "", nil, nil, operator) {
			out[np.Name] = np.Spec
		}
		return out
	}
	web := func(p map[string]networkingv1.NetworkPolicySpec) []networkingv1.NetworkPolicyPeer {
		return p["rt-web-ingress"].Ingress[0].From
	}

	without := policies(nil, nil)
	if from := web(without); len(from) != 1 || from[0].NamespaceSelector != nil {
		t.Errorf("web ingress without an operator namespace: %+v, want the help desk's namespace only", from)
	}
	with := policies(OperatorPeer("supportstack-system"), nil)
	from := web(with)
	if len(from) != 2 || from[0].NamespaceSelector != nil ||
		from[1].NamespaceSelector.MatchLabels[corev1.LabelMetadataName] != "supportstack-system" || from[1].PodSelector.MatchLabels["control-plane"] != "controller-manager" {
		t.Errorf("web ingress with the operator: %+v", from)
	}
	spec := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "web"}}}}
	if from := web(policies(OperatorPeer("ops"), spec)); len(from) != 2 || from[0].NamespaceSelector.MatchLabels["team"] != "web" || len(spec) != 1 {
		t.Errorf("web ingress with the spec's peer and the operator: %+v (spec %d peers)", from, len(spec))
	}
	rightsPod := labels.Set(HelpDeskLabels("rt", "rights"))
	for _, name := range []string{"rt-rt-egress", "rt-deny-all"} {
		selector, err := metav1.LabelSelectorAsSelector(ptrTo(with[name].PodSelector))
		if err != nil || !selector.Matches(rightsPod) {
			t.Errorf("%s does not select the rights Job's pods (%v)", name, err)
		}
	}
	db, err := metav1.LabelSelectorAsSelector(with["rt-db-ingress"].Ingress[0].From[0].PodSelector)
	if err != nil || !db.Matches(rightsPod) {
		t.Errorf("the database does not admit the rights Job's pods (%v)", err)
	}
}
