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

package actuals

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/queues/rttest"
)

// Seeding: tickets and transactions are made with RT's own Perl API, each
// by the user who would make it (the customer creates and writes back, the
// member answers and resolves, both acting as themselves, so RT records
// them as Creator with its usual scrips running). RT stamps every record
// with the real clock and neither its Perl API nor REST2 accepts a Created
// date, so the script then moves each record's Created (and the ticket's
// LastUpdated and Resolved) to the seeded instant with the records' own
// __Set, which writes the column of the test RT's SQLite database and
// nothing else. The reader sees exactly what RT would hold had the week
// really happened.

// seedStep is one thing done to a ticket at a seeded time.
type seedStep struct {
	at   time.Time
	who  string // RT user name
	kind string // "correspond" or "resolve"
}

// seedPrelude sets up the queues and users: alice is a privileged member
// (SuperUser, so she may act on any queue), the customer an unprivileged
// requestor who may create and reply. Mail goes to files, not sendmail.
const seedPrelude = `
RT->Config->Set(MailCommand => 'testfile');
for my $name (qw(Support Billing)) {
    my $q = RT::Queue->new(RT->SystemUser);
    $q->Load($name) or do { my ($ok, $msg) = $q->Create(Name => $name); die "queue $name: $msg" unless $ok };
}
my %priv = ('alice' => 1, 'customer@example.com' => 0);
for my $name (sort keys %priv) {
    my $u = RT::User->new(RT->SystemUser);
    next if $u->Load($name);
    my ($ok, $msg) = $u->Create(Name => $name, EmailAddress => ($name =~ /@/ ? $name : "$name\@example.com"), Privileged => $priv{$name});
    die "user $name: $msg" unless $ok;
    my ($g, $gm) = $u->PrincipalObj->GrantRight(Right => 'SuperUser', Object => $RT::System);
    die "right for $name: $gm" unless $g;
}
sub as { my $cu = RT::CurrentUser->new; $cu->Load($_[0]) or die "no user $_[0]"; return $cu }
sub stamp { my ($rec, $field, $when) = @_; my ($ok, $msg) = $rec->__Set(Field => $field, Value => $when); die "stamp $field: $msg" unless $ok }
sub last_txn {
    my ($t, $type) = @_;
    my $txns = RT::Transactions->new(RT->SystemUser);
    $txns->LimitToTicket($t->id);
    $txns->Limit(FIELD => 'Type', VALUE => $type);
    $txns->OrderBy(FIELD => 'id', ORDER => 'DESC');
    return $txns->First;
}
`

// rtTime is RT's database format, UTC.
func rtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

// seedTicket creates a ticket by the customer in queue at created, runs the
// steps, sets LastUpdated to the last instant, and returns its id.
func seedTicket(t *testing.T, s *rttest.Server, queue string, created time.Time, steps ...seedStep) int {
	t.Helper()
	var b strings.Builder
	b.WriteString(seedPrelude)
	fmt.Fprintf(&b, `
my $t = RT::Ticket->new(as('customer@example.com'));
my ($id, $txn, $msg) = $t->Create(Queue => '%s', Requestor => ['customer@example.com'], Subject => 'seeded',
    MIMEObj => MIME::Entity->build(Type => 'text/plain', Data => 'help'));
die "ticket: $msg" unless $id;
my $tx = RT::Transaction->new(RT->SystemUser); $tx->Load($txn); stamp($tx, 'Created', '%s');
stamp($t, 'Created', '%s');
`, queue, rtTime(created), rtTime(created))
	last := created
	for _, st := range steps {
		fmt.Fprintf(&b, "{ my $as = RT::Ticket->new(as('%s')); $as->Load($id);\n", st.who)
		switch st.kind {
		case "correspond":
			b.WriteString("  my ($ok, $m, $obj) = $as->Correspond(Content => 'reply'); die \"correspond: $m\" unless $ok;\n")
			fmt.Fprintf(&b, "  stamp($obj, 'Created', '%s');\n", rtTime(st.at))
		case "resolve":
			b.WriteString("  my ($ok, $m) = $as->SetStatus('resolved'); die \"resolve: $m\" unless $ok;\n")
			fmt.Fprintf(&b, "  stamp(last_txn($as, 'Status'), 'Created', '%s'); stamp($t, 'Resolved', '%s');\n", rtTime(st.at), rtTime(st.at))
		}
		b.WriteString("}\n")
		if st.at.After(last) {
			last = st.at
		}
	}
	// The scrips (auto-open on reply) ran on the real clock: their Status
	// transactions keep it, which the fold ignores (they are not "resolved").
	fmt.Fprintf(&b, "$t->Load($id); stamp($t, 'LastUpdated', '%s'); print $id;\n", rtTime(last))
	out := strings.TrimSpace(s.Perl(b.String()))
	id, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("seeding printed %q, not a ticket id", out)
	}
	return id
}

// counter counts the REST2 requests the reader makes, independently of
// its own count.
type counter struct {
	n     atomic.Int64
	paths []string
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	c.paths = append(c.paths, r.URL.Path)
	return http.DefaultTransport.RoundTrip(r)
}

// rtWeek seeds the RT week of TestReaderAgainstRT and returns the ids.
// Business first responses under weekdays(), outcomes at Fri 13 March
// 12:00 EDT (Support target 1h, Billing 4h):
//
//	r1 Support Fri 6 16:30 EST, alice Mon 9 09:20 EDT: 50m Met; alice resolves
//	r2 Support Sun 8 00:10 EST, customer writes 01:00, alice Mon 10:30: 1h30m Missed
//	r3 Support Fri 13 10:50 EDT, customer writes 11:00, no answer: 1h10m Missed
//	r4 Billing Tue 10 16:00 EDT, alice Thu 12 10:00 (Wed holiday): 2h Met
//	r5 Support Fri 13 11:30 EDT, no answer: 30m Pending
//	r6 General (a queue not read) Fri 13 11:00 EDT, alice 11:10
func rtWeek(t *testing.T, s *rttest.Server) map[string]int {
	return map[string]int{
		"r1": seedTicket(t, s, "Support", ny(t, 3, 6, 16, 30), seedStep{ny(t, 3, 9, 9, 20), "alice", "correspond"}, seedStep{ny(t, 3, 9, 10, 0), "alice", "resolve"}),
		"r2": seedTicket(t, s, "Support", ny(t, 3, 8, 0, 10), seedStep{ny(t, 3, 8, 1, 0), "customer@example.com", "correspond"}, seedStep{ny(t, 3, 9, 10, 30), "alice", "correspond"}),
		"r3": seedTicket(t, s, "Support", ny(t, 3, 13, 10, 50), seedStep{ny(t, 3, 13, 11, 0), "customer@example.com", "correspond"}),
		"r4": seedTicket(t, s, "Billing", ny(t, 3, 10, 16, 0), seedStep{ny(t, 3, 12, 10, 0), "alice", "correspond"}),
		"r5": seedTicket(t, s, "Support", ny(t, 3, 13, 11, 30)),
		"r6": seedTicket(t, s, "General", ny(t, 3, 13, 11, 0), seedStep{ny(t, 3, 13, 11, 10), "alice", "correspond"}),
	}
}

func summaryOf(t *testing.T, a Actuals, queue string) (last24h, last7d Summary) {
	t.Helper()
	for _, q := range a.Queues {
		if q.Queue == queue {
			return q.Last24h, q.Last7d
		}
	}
	t.Fatalf("no queue %s in %+v", queue, a.Queues)
	return
}

func sameJSON(t *testing.T, got, want any) bool {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	return string(g) == string(w)
}

func TestReaderAgainstRT(t *testing.T) {
	s := rttest.Start(t)
	ids := rtWeek(t, s)
	now := ny(t, 3, 13, 12, 0)
	calls := &counter{}
	r := &Reader{BaseURL: s.URL, Token: s.Token, HTTP: &http.Client{Transport: calls},
		Queues: []string{"Support", "Billing"}, Now: func() time.Time { return now }}
	opt := func() Options {
		return Options{Calendar: weekdays(t), Targets: map[string]time.Duration{"Support": time.Hour, "Billing": 4 * time.Hour}, Now: now}
	}
	ctx := context.Background()

	// First sync: one search page and one history per ticket of the two
	// queues (r6 is in General and never read).
	st, res, err := r.Sync(ctx, State{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first sync: %d requests, %+v", calls.n.Load(), res)
	if n := calls.n.Load(); n != 6 || res.Calls != 6 || res.Read != 5 || !res.Complete {
		t.Errorf("first sync: %d requests, result %+v; want 6 (1 search + 5 histories), 5 read, complete", n, res)
	}
	if _, ok := st.Tickets[ids["r6"]]; ok {
		t.Errorf("ticket of queue General was read: %+v", st.Tickets)
	}
	a := Compute(st.TicketList(), opt())
	s24, s7 := summaryOf(t, a, "Support")
	want24 := Summary{Volume: 2, Missed: 1, Pending: 1, ServiceLevel: ratio(0)}
	want7 := Summary{Volume: 4, Met: 1, Missed: 2, Pending: 1, ServiceLevel: ratio(1.0 / 3), Answered: 2,
		MedianFirstResponse: 50 * time.Minute, P90FirstResponse: 90 * time.Minute}
	if !sameJSON(t, s24, want24) || !sameJSON(t, s7, want7) {
		t.Errorf("Support: last24h %+v last7d %+v\nwant %+v and %+v", s24, s7, want24, want7)
	}
	_, b7 := summaryOf(t, a, "Billing")
	if wantB := (Summary{Volume: 1, Met: 1, ServiceLevel: ratio(1), Answered: 1, MedianFirstResponse: 2 * time.Hour, P90FirstResponse: 2 * time.Hour}); !sameJSON(t, b7, wantB) {
		t.Errorf("Billing last7d %+v, want %+v", b7, wantB)
	}
	// alice answered r1 (50m), r2 (90m), r4 (2h): median rank 2; the
	// customer's own messages are no answers.
	if want := []MemberActual{{Name: "alice", Resolved: 1, Answered: 3, MedianFirstResponse: 90 * time.Minute}}; !sameJSON(t, a.Members, want) {
		t.Errorf("members %+v, want %+v", a.Members, want)
	}

	// The state goes through JSON (as it would through a status or a
	// ConfigMap) before the next sync.
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var restored State
	if err := json.Unmarshal(data, &restored); err != nil {
		t.Fatal(err)
	}

	// Nothing changed: one search, no history.
	now = now.Add(10 * time.Minute)
	calls.n.Store(0)
	st2, res, err := r.Sync(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sync without changes: %d requests, %+v", calls.n.Load(), res)
	// The search starts at the sync point (16:00Z) less the overlap and 14
	// hours of time-zone slack: r3 and r5 (updated 15:00Z and 15:30Z) come
	// back and are skipped, their LastUpdated unchanged; r1, r2 and r4,
	// older, do not come back at all.
	if n := calls.n.Load(); n != 1 || res.Read != 0 || res.Searched != 2 || !res.Complete {
		t.Errorf("sync without changes: %d requests, result %+v; want 1 search returning r3 and r5 and nothing read", n, res)
	}
	if !sameJSON(t, st2.Tickets, st.Tickets) {
		t.Errorf("sync without changes changed the tickets")
	}

	// alice answers r5 at 12:20 EDT: the next sync reads that ticket only.
	s.Perl(seedPrelude + fmt.Sprintf(`
my $t = RT::Ticket->new(as('alice')); $t->Load(%d);
my ($ok, $m, $obj) = $t->Correspond(Content => 'reply'); die $m unless $ok;
stamp($obj, 'Created', '%s'); stamp($t, 'LastUpdated', '%s');`, ids["r5"], rtTime(ny(t, 3, 13, 12, 20)), rtTime(ny(t, 3, 13, 12, 20))))
	now = ny(t, 3, 13, 12, 30)
	calls.n.Store(0)
	calls.paths = nil
	st3, res, err := r.Sync(ctx, st2)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sync after one change: %d requests %v, %+v", calls.n.Load(), calls.paths, res)
	if n := calls.n.Load(); n != 2 || res.Read != 1 || calls.paths[1] != fmt.Sprintf("/REST/2.0/ticket/%d/history", ids["r5"]) {
		t.Errorf("sync after one change: %d requests %v, result %+v; want the search and r5's history", n, calls.paths, res)
	}
	// r5: 11:30 to 12:20 is 50m, Met: Support's week is now 2 of 4.
	_, s7 = summaryOf(t, Compute(st3.TicketList(), opt()), "Support")
	if s7.Met != 2 || s7.Missed != 2 || s7.Pending != 0 || s7.ServiceLevel == nil || *s7.ServiceLevel != 0.5 {
		t.Errorf("Support last7d after r5's answer: %+v, want 2 met, 2 missed, 0.5", s7)
	}

	// A bound of 3 calls: each sync reads what fits and records where it
	// stopped; the next goes on from there, reading no ticket twice, and
	// the end state is the one an unbounded sync reached.
	r.MaxCalls = 3
	var bounded State
	read := 0
	for i := 0; ; i++ {
		if i == 5 {
			t.Fatalf("bounded syncs did not complete: %+v", bounded)
		}
		calls.n.Store(0)
		bounded, res, err = r.Sync(ctx, bounded)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("bounded sync %d: %d requests, %+v", i, calls.n.Load(), res)
		if n := calls.n.Load(); n > 3 || int(n) != res.Calls {
			t.Errorf("bounded sync %d made %d requests (result %+v), bound 3", i, n, res)
		}
		read += res.Read
		if res.Complete {
			break
		}
		if bounded.Pass == nil || bounded.Pass.AfterID == 0 {
			t.Errorf("an incomplete sync did not record its place: %+v", bounded.Pass)
		}
	}
	if read != 5 || !sameJSON(t, bounded.Tickets, st3.Tickets) {
		t.Errorf("bounded syncs read %d tickets (want 5, each once) and hold %+v, want %+v", read, bounded.Tickets, st3.Tickets)
	}

	// Pages of 2 tickets: the search goes on after the last id read.
	r.MaxCalls, r.PerPage = 0, 2
	calls.n.Store(0)
	paged, res, err := r.Sync(ctx, State{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("paged sync: %d requests, %+v", calls.n.Load(), res)
	if n := calls.n.Load(); n != 8 || !res.Complete || !sameJSON(t, paged.Tickets, st3.Tickets) {
		t.Errorf("paged sync: %d requests, result %+v; want 3 searches + 5 histories and the same tickets", n, res)
	}

	// RT down: an error, and the state given back is the one passed in.
	s.Stop()
	before, _ := json.Marshal(st3)
	now = now.Add(time.Hour)
	got, _, err := r.Sync(ctx, st3)
	if err == nil {
		t.Fatal("sync with RT stopped gave no error")
	}
	t.Logf("RT stopped: %v", err)
	after, _ := json.Marshal(got)
	unchanged, _ := json.Marshal(st3)
	if string(after) != string(before) || string(unchanged) != string(before) {
		t.Errorf("sync with RT down changed the state:\n%s\nwant\n%s", after, before)
	}
}

// setTimeWorked records minutes of work on ticket id as alice (RT adds a
// transaction and moves LastUpdated, which is then stamped at the seeded
// instant).
func setTimeWorked(t *testing.T, s *rttest.Server, id, minutes int, at time.Time) {
	t.Helper()
	s.Perl(seedPrelude + fmt.Sprintf(`
my $t = RT::Ticket->new(as('alice')); $t->Load(%d);
my ($ok, $m) = $t->SetTimeWorked(%d); die "time worked: $m" unless $ok;
stamp($t, 'LastUpdated', '%s');`, id, minutes, rtTime(at)))
}

// TestReaderTimeWorkedAgainstRT: RT's TimeWorked (minutes) comes through
// REST2 into Ticket.TimeWorked, zero for a ticket nobody recorded time on,
// and a change made after the ticket is resolved and answered (whose
// history is not read again) still reaches the state.
func TestReaderTimeWorkedAgainstRT(t *testing.T) {
	s := rttest.Start(t)
	worked := seedTicket(t, s, "Support", ny(t, 3, 12, 9, 0), seedStep{ny(t, 3, 12, 9, 10), "alice", "correspond"}, seedStep{ny(t, 3, 12, 9, 30), "alice", "resolve"})
	setTimeWorked(t, s, worked, 25, ny(t, 3, 12, 9, 30))
	none := seedTicket(t, s, "Support", ny(t, 3, 12, 10, 0))
	now := ny(t, 3, 13, 12, 0)
	r := &Reader{BaseURL: s.URL, Token: s.Token, Queues: []string{"Support"}, Now: func() time.Time { return now }}
	st, _, err := r.Sync(context.Background(), State{})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Tickets[worked].TimeWorked; got != 25*time.Minute {
		t.Errorf("ticket with 25 minutes worked: TimeWorked %s", got)
	}
	if got := st.Tickets[none].TimeWorked; got != 0 {
		t.Errorf("ticket without time worked: TimeWorked %s, want 0", got)
	}
	setTimeWorked(t, s, worked, 40, ny(t, 3, 13, 12, 5))
	now = ny(t, 3, 13, 12, 10)
	st, res, err := r.Sync(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Tickets[worked].TimeWorked; got != 40*time.Minute || res.Read != 0 {
		t.Errorf("after 40 minutes recorded: TimeWorked %s, %d histories read; want 40m without reading the history again", got, res.Read)
	}
}
