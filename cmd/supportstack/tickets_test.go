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
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
	"github.com/supportstack/operator/internal/queues/rttest"
	"github.com/supportstack/operator/internal/testenv"
)

// ticketsTeam is a SupportTeam on Request Tracker url with queues support
// and billing.
func ticketsTeam(url string) string {
	return fmt.Sprintf(`apiVersion: ops.supportstack.io/v1alpha1
kind: SupportTeam
metadata: {name: desk, namespace: helpdesk}
spec:
  timeZone: America/New_York
  shifts:
  - {name: day, days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}
  members:
  - {name: alice, email: alice@example.com, role: Lead, skills: [desk], shifts: [day]}
  queues:
  - name: support
    channel: Email
    skills: [desk]
    responseTargets: {firstResponse: 4h}
    demand:
      averageHandleTime: 10m
      intervals:
      - {days: [Mon, Tue, Wed, Thu, Fri], from: "09:00", to: "17:00", contactsPerHour: 2}
  - name: billing
    channel: Email
    skills: [desk]
    responseTargets: {firstResponse: 4h}
  queueBackend:
    requestTracker: {url: %q, tokenSecretRef: {name: rt-token, key: token}}
`, url)
}

func writeTicketsFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadTickets parses args as a command with addTicketFlags would and loads
// the tickets of [from, to).
func loadTickets(t *testing.T, args []string, from, to, now time.Time) (*teamTickets, error) {
	t.Helper()
	fs := newFlagSet("test")
	f := addTicketFlags(fs)
	names, err := parseInterspersed(fs, args)
	if err != nil {
		t.Fatal(err)
	}
	return f.load(context.Background(), names, from, to, now)
}

func ticketIDs(list []actuals.Ticket) []int {
	ids := make([]int, 0, len(list))
	for _, tk := range list {
		ids = append(ids, tk.ID)
	}
	return ids
}

// TestLoadTicketsFromFile: --tickets keeps the tickets of the team's
// queues created in [from, to): one at from is in, one at to is out, and
// one of a queue not the team's is out; the result is ordered by id.
func TestLoadTicketsFromFile(t *testing.T) {
	from := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC)
	to := from.Add(7 * 24 * time.Hour)
	list := []actuals.Ticket{
		{ID: 9, Queue: "support", Created: from.Add(time.Hour), TimeWorked: 12 * time.Minute},
		{ID: 3, Queue: "billing", Created: from},
		{ID: 4, Queue: "support", Created: to},
		{ID: 5, Queue: "support", Created: from.Add(-time.Second)},
		{ID: 6, Queue: "general", Created: from.Add(time.Hour)},
		{ID: 7, Queue: "support", Created: to.Add(-time.Second)},
	}
	data, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	team := writeTicketsFile(t, "team.yaml", ticketsTeam("https://rt.example.com"))
	tickets := writeTicketsFile(t, "tickets.json", string(data))
	got, err := loadTickets(t, []string{"-f", team, "--tickets", tickets}, from, to, to)
	if err != nil {
		t.Fatal(err)
	}
	if ids := fmt.Sprint(ticketIDs(got.Tickets)); ids != "[3 7 9]" {
		t.Errorf("tickets %s, want [3 7 9]", ids)
	}
	if q := strings.Join(got.Queues, ","); q != "billing,support" || got.Source != tickets || got.Team.Name != "desk" {
		t.Errorf("queues %s, source %s, team %s", q, got.Source, got.Team.Name)
	}
	if got.Tickets[2].TimeWorked != 12*time.Minute {
		t.Errorf("time worked lost: %+v", got.Tickets[2])
	}
	if _, err := loadTickets(t, []string{"-f", team, "--tickets", team}, from, to, to); err == nil || !strings.Contains(err.Error(), "not a JSON array of tickets") {
		t.Errorf("a YAML file as --tickets: %v", err)
	}
}

// TestLoadTicketsFileNeverSendsClusterToken: a team file names the URL
// the token goes to, so a file from someone else must not make the CLI
// read the cluster's token Secret (which the user may read) and send it
// there. With -f and no --rt-token-file the load is refused, says what to
// give instead, and the file's URL gets no request at all, though the
// Secret is there and marked as a queue token.
func TestLoadTicketsFileNeverSendsClusterToken(t *testing.T) {
	var requests int
	var leaked []string
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		leaked = append(leaked, r.Header.Get("Authorization"))
		http.Error(w, "no", http.StatusNotFound)
	}))
	t.Cleanup(trap.Close)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "rt-token", Labels: map[string]string{opsv1alpha1.LabelSecretUse: opsv1alpha1.SecretUseQueueToken}},
		Data:       map[string][]byte{"token": []byte("the-real-token")},
	}
	useClient(t, fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(secret).Build())
	team := writeTicketsFile(t, "team.yaml", ticketsTeam(trap.URL))
	from := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC)
	_, err := loadTickets(t, []string{"-f", team}, from, from.Add(24*time.Hour), from.Add(24*time.Hour))
	if err == nil || !strings.Contains(err.Error(), "not read from the cluster for a team from a file") || !strings.Contains(err.Error(), "--rt-token-file") {
		t.Errorf("-f without --rt-token-file: %v, want the refusal naming --rt-token-file", err)
	}
	if requests != 0 {
		t.Errorf("the file's URL got %d requests (Authorization %q)", requests, leaked)
	}
}

// roundTripFunc is an http.RoundTripper from a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// seedRTTickets creates a ticket in each queue at each instant (RT's
// clock stamps them now; Created and LastUpdated are then set to the
// instant in RT's database, as internal/actuals' tests do) and returns the
// ids in order.
func seedRTTickets(t *testing.T, s *rttest.Server, tickets ...struct {
	queue string
	at    time.Time
}) []int {
	t.Helper()
	var b strings.Builder
	b.WriteString(`
for my $name (qw(support billing general)) {
    my $q = RT::Queue->new(RT->SystemUser);
    $q->Load($name) or do { my ($ok, $msg) = $q->Create(Name => $name); die "queue $name: $msg" unless $ok };
}
sub mk {
    my ($queue, $when) = @_;
    my $t = RT::Ticket->new(RT->SystemUser);
    my ($id, $txn, $msg) = $t->Create(Queue => $queue, Requestor => ['customer@example.com'], Subject => 'seeded');
    die "ticket: $msg" unless $id;
    for my $f (qw(Created LastUpdated)) { my ($ok, $m) = $t->__Set(Field => $f, Value => $when); die $m unless $ok }
    return $id;
}
my @ids;
`)
	for _, tk := range tickets {
		fmt.Fprintf(&b, "push @ids, mk('%s', '%s');\n", tk.queue, tk.at.UTC().Format("2006-01-02 15:04:05"))
	}
	b.WriteString(`print join(",", @ids);`)
	fields := strings.Split(strings.TrimSpace(s.Perl(b.String())), ",")
	ids := make([]int, 0, len(fields))
	for _, f := range fields {
		id, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("seeding printed %q", f)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestLoadTicketsFromRT reads the tickets from the suite's Request
// Tracker: from a file with --rt-token-file (the spec's queues), and from
// the cluster with the token in the team's Secret (the queues with an
// externalID only, as the operator reads them). A Secret not marked as a
// queue token is not sent.
func TestLoadTicketsFromRT(t *testing.T) {
	s := rttest.Start(t)
	from := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC)
	to := from.Add(7 * 24 * time.Hour)
	type seed = struct {
		queue string
		at    time.Time
	}
	ids := seedRTTickets(t, s,
		seed{"support", from.Add(-time.Hour)}, // before the period
		seed{"support", from},                 // its first instant: in
		seed{"billing", from.Add(24 * time.Hour)},
		seed{"general", from.Add(24 * time.Hour)}, // not the team's
		seed{"support", to},                       // the end: out
		seed{"support", to.Add(20 * time.Hour)},   // after the end, beyond the query's slack
	)
	now := to.Add(24 * time.Hour)
	team := writeTicketsFile(t, "team.yaml", ticketsTeam(s.URL))
	tokenFile := writeTicketsFile(t, "token", s.Token+"\n")

	// The histories read are those of the period's tickets only: the
	// ticket at its end, which the query's time-zone slack returns, is
	// filtered before its history is read, and the one after it is not
	// even searched.
	fs := newFlagSet("test")
	f := addTicketFlags(fs)
	var paths []string
	f.http = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		paths = append(paths, r.URL.Path)
		return http.DefaultTransport.RoundTrip(r)
	})}
	if err := fs.Parse([]string{"-f", team, "--rt-token-file", tokenFile}); err != nil {
		t.Fatal(err)
	}
	got, err := f.load(context.Background(), nil, from, to, now)
	if err != nil {
		t.Fatal(err)
	}
	if g, want := fmt.Sprint(ticketIDs(got.Tickets)), fmt.Sprint([]int{ids[1], ids[2]}); g != want || got.Source != s.URL {
		t.Errorf("from a file: tickets %s from %s, want %s from %s", g, got.Source, want, s.URL)
	}
	var histories []string
	for _, p := range paths {
		if strings.HasSuffix(p, "/history") {
			histories = append(histories, p)
		}
	}
	if want := fmt.Sprintf("[/REST/2.0/ticket/%d/history /REST/2.0/ticket/%d/history]", ids[1], ids[2]); fmt.Sprint(histories) != want {
		t.Errorf("histories read %v, want %s (none of the tickets created at or after the period's end)", histories, want)
	}

	// The cluster: billing is not in RT as the team's (no externalID).
	fs = newFlagSet("test")
	f = addTicketFlags(fs)
	if err := fs.Parse([]string{"-f", team}); err != nil {
		t.Fatal(err)
	}
	parsed, err := loadTeam(*f.file, f.kube, nil)
	if err != nil {
		t.Fatal(err)
	}
	desk := *parsed
	desk.Status.Queues = []opsv1alpha1.QueueStatus{{Name: "support", ExternalID: "1"}, {Name: "billing"}}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "rt-token", Labels: map[string]string{opsv1alpha1.LabelSecretUse: opsv1alpha1.SecretUseQueueToken}},
		Data:       map[string][]byte{"token": []byte(s.Token)},
	}
	useClient(t, fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(&desk, secret).Build())
	got, err = loadTickets(t, []string{"-n", "helpdesk", "desk"}, from, to, now)
	if err != nil {
		t.Fatal(err)
	}
	if g, want := fmt.Sprint(ticketIDs(got.Tickets)), fmt.Sprint([]int{ids[1]}); g != want || strings.Join(got.Queues, ",") != "support" {
		t.Errorf("from the cluster: tickets %s of queues %v, want %s of support", g, got.Queues, want)
	}

	unmarked := secret.DeepCopy()
	unmarked.Labels = nil
	useClient(t, fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(&desk, unmarked).Build())
	if _, err := loadTickets(t, []string{"-n", "helpdesk", "desk"}, from, to, now); err == nil || !strings.Contains(err.Error(), "is not marked for use as a queue token") {
		t.Errorf("unmarked Secret: %v", err)
	}
}

// kubeconfigFor writes a kubeconfig reaching the envtest API server as its
// administrator (whom --as then narrows to a user).
func kubeconfigFor(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	enc := base64.StdEncoding.EncodeToString
	return writeTicketsFile(t, "kubeconfig", fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: envtest
  cluster: {server: %q, certificate-authority-data: %s}
users:
- name: admin
  user: {client-certificate-data: %s, client-key-data: %s}
contexts:
- name: envtest
  context: {cluster: envtest, user: admin}
current-context: envtest
`, cfg.Host, enc(cfg.CAData), enc(cfg.CertData), enc(cfg.KeyData)))
}

// TestLoadTicketsClusterRBAC: from a real API server, the team and its
// token Secret are read with the user's own credentials (--as a manager):
// a manager who may read the team but not the Secret gets the API
// server's refusal and the way round it (--rt-token-file); once a Role
// lets them read it, the tickets come from RT. Needs envtest (make test).
func TestLoadTicketsClusterRBAC(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatalf("%v (run the tests with make test)", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	s := rttest.Start(t)
	from := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC)
	to := from.Add(7 * 24 * time.Hour)
	ids := seedRTTickets(t, s, struct {
		queue string
		at    time.Time
	}{"support", from.Add(time.Hour)})
	ctx := context.Background()
	c := env.Client
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "helpdesk"}}
	fs := newFlagSet("test")
	f := addTicketFlags(fs)
	if err := fs.Parse([]string{"-f", writeTicketsFile(t, "team.yaml", ticketsTeam(s.URL))}); err != nil {
		t.Fatal(err)
	}
	desk, err := loadTeam(*f.file, f.kube, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "rt-token", Labels: map[string]string{opsv1alpha1.LabelSecretUse: opsv1alpha1.SecretUseQueueToken}},
		Data:       map[string][]byte{"token": []byte(s.Token)},
	}
	readTeams := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "read-teams"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{opsv1alpha1.GroupVersion.Group}, Resources: []string{"supportteams"}, Verbs: []string{"get"}}}}
	binding := func(role string) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: role},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "manager"}},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role}}
	}
	for _, obj := range []client.Object{ns, desk, secret, readTeams, binding("read-teams")} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	desk.Status.Queues = []opsv1alpha1.QueueStatus{{Name: "support", ExternalID: "1"}}
	if err := c.Status().Update(ctx, desk); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfigFor(t, env.Config))
	args := []string{"-n", "helpdesk", "--as", "manager", "desk"}

	_, err = loadTickets(t, args, from, to, to)
	if err == nil || !strings.Contains(err.Error(), "forbidden") || !strings.Contains(err.Error(), "--rt-token-file") {
		t.Errorf("a manager who may not read the Secret: %v", err)
	}

	readSecret := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "read-rt-token"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"rt-token"}, Verbs: []string{"get"}}}}
	for _, obj := range []client.Object{readSecret, binding("read-rt-token")} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	got, err := loadTickets(t, args, from, to, to)
	if err != nil {
		t.Fatal(err)
	}
	if g := fmt.Sprint(ticketIDs(got.Tickets)); g != fmt.Sprint(ids) {
		t.Errorf("tickets %s, want %v", g, ids)
	}
}
