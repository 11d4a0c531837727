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
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/queues"
)

// The reader's limits are tested against fakeRT, an httptest server that
// speaks the two REST2 collections the reader calls (/tickets and
// /ticket/N/history) as RT::REST2::Resource::Collection does: per_page
// capped at 100, total and next_page only when the user may see every
// record. Its switches play an RT that is slow, buggy or hostile, which the
// real RT of reader_test.go cannot be made to be.

type fakeTx struct {
	typ, creator, newValue string
	at                     time.Time
}

type fakeTicket struct {
	id               int
	queue, requestor string
	created, updated time.Time
	txns             []fakeTx
}

type fakeRT struct {
	mu      gosync.Mutex
	tickets []fakeTicket // by id
	// hideTotal answers as for a user who may not see every record: total
	// null, no next_page, and each page without the tickets hidden.
	hideTotal bool
	hidden    map[int]bool
	// ignoreAfter answers every search as if it had no "id > N".
	ignoreAfter bool
	// hang holds every request until the client gives up.
	hang bool
	// historyDelay slows every history request.
	historyDelay time.Duration
	searches     int
	histories    int
}

var afterRe = regexp.MustCompile(`id > (\d+)`)

func (f *fakeRT) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.hang {
		<-r.Context().Done()
		return
	}
	q := r.URL.Query()
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 {
		perPage = 20
	}
	perPage = min(perPage, 100)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	var items []any
	total := 0
	switch {
	case r.URL.Path == "/REST/2.0/tickets":
		f.searches++
		after := 0
		if m := afterRe.FindStringSubmatch(q.Get("query")); m != nil && !f.ignoreAfter {
			after, _ = strconv.Atoi(m[1])
		}
		var match []fakeTicket
		for _, t := range f.tickets {
			if t.id > after {
				match = append(match, t)
			}
		}
		total = len(match)
		for _, t := range window(match, page, perPage) {
			if f.hideTotal && f.hidden[t.id] {
				continue
			}
			items = append(items, map[string]any{
				"id": t.id, "Queue": map[string]any{"id": 1, "Name": t.queue},
				"Created": t.created.Format(time.RFC3339), "LastUpdated": t.updated.Format(time.RFC3339),
				"Requestor": []any{map[string]any{"id": t.requestor, "Name": t.requestor}},
			})
		}
	case strings.HasPrefix(r.URL.Path, "/REST/2.0/ticket/") && strings.HasSuffix(r.URL.Path, "/history"):
		f.histories++
		if f.historyDelay > 0 {
			f.mu.Unlock()
			time.Sleep(f.historyDelay)
			f.mu.Lock()
		}
		id, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/REST/2.0/ticket/"), "/history"))
		var txns []fakeTx
		for _, t := range f.tickets {
			if t.id == id {
				txns = t.txns
			}
		}
		total = len(txns)
		first := (page - 1) * perPage
		for i, tx := range window(txns, page, perPage) {
			items = append(items, map[string]any{
				"id": id*100000 + first + i, "type": "transaction", "Type": tx.typ,
				"Creator": map[string]any{"id": tx.creator, "Name": tx.creator},
				"Created": tx.at.Format(time.RFC3339), "Field": "Status", "NewValue": tx.newValue,
			})
		}
	default:
		http.NotFound(w, r)
		return
	}
	out := map[string]any{"count": len(items), "page": page, "per_page": perPage, "items": items, "total": nil}
	if !f.hideTotal {
		out["total"] = total
		if pages := (total + perPage - 1) / perPage; page < pages {
			out["next_page"] = fmt.Sprintf("http://%s%s?page=%d", r.Host, r.URL.Path, page+1)
		}
	}
	if items == nil {
		out["items"] = []any{}
	}
	_ = json.NewEncoder(w).Encode(out)
}

// window is page page of list, perPage a page.
func window[T any](list []T, page, perPage int) []T {
	from := min((page-1)*perPage, len(list))
	return list[from:min(from+perPage, len(list))]
}

// limitsNow is the clock of these tests; their tickets are of the day
// before.
var limitsNow = time.Date(2026, 3, 13, 12, 0, 0, 0, time.UTC)

// plainTicket is ticket id created by the customer at created, answered by
// alice an hour later and resolved by her at two hours, with noise
// transactions (comments) before the answer (noiseBefore) and after the
// resolution (noiseAfter).
func plainTicket(id int, created time.Time, noiseBefore, noiseAfter int) fakeTicket {
	t := fakeTicket{id: id, queue: "Support", requestor: "customer", created: created}
	t.txns = append(t.txns, fakeTx{typ: "Create", creator: "customer", at: created})
	for i := range noiseBefore {
		t.txns = append(t.txns, fakeTx{typ: "Comment", creator: "bob", at: created.Add(time.Duration(i) * time.Second)})
	}
	t.txns = append(t.txns,
		fakeTx{typ: "Correspond", creator: "alice", at: created.Add(time.Hour)},
		fakeTx{typ: "Status", creator: "alice", newValue: "resolved", at: created.Add(2 * time.Hour)})
	for i := range noiseAfter {
		t.txns = append(t.txns, fakeTx{typ: "Comment", creator: "bob", at: created.Add(3*time.Hour + time.Duration(i)*time.Second)})
	}
	t.updated = t.txns[len(t.txns)-1].at
	return t
}

func startFake(t *testing.T, f *fakeRT) *Reader {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &Reader{BaseURL: srv.URL, Token: "t", HTTP: &http.Client{}, Queues: []string{"Support"},
		Now: func() time.Time { return limitsNow }}
}

// syncUntilComplete runs Syncs until one completes, at most n, and returns
// the state, the calls of each Sync and the tickets read in all.
func syncUntilComplete(t *testing.T, r *Reader, st State, n int) (State, []int, int) {
	t.Helper()
	var calls []int
	read := 0
	for range n {
		next, res, err := r.Sync(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		st = next
		calls = append(calls, res.Calls)
		read += res.Read
		if res.Complete {
			return st, calls, read
		}
	}
	t.Fatalf("%d syncs (calls %v) did not complete; pass %+v", n, calls, st.Pass)
	return st, calls, read
}

// A history longer than one Sync's calls (449 transactions, 5 pages, 3
// calls a Sync) is read on from the page the last Sync stopped at, and the
// pass completes; before, each Sync began that history again and the sync
// point never moved.
func TestReaderResumesLongHistory(t *testing.T) {
	created := limitsNow.Add(-24 * time.Hour)
	f := &fakeRT{tickets: []fakeTicket{plainTicket(7, created, 446, 0), plainTicket(9, created, 0, 0)}}
	r := startFake(t, f)
	r.MaxCalls = 3
	st, calls, read := syncUntilComplete(t, r, State{}, 6)
	t.Logf("calls per sync %v", calls)
	// 1: search + pages 1-2; 2: search + pages 3-4; 3: search + page 5 of
	// ticket 7 and ticket 9's single page.
	if want := []int{3, 3, 3}; fmt.Sprint(calls) != fmt.Sprint(want) || read != 2 {
		t.Errorf("calls per sync %v and %d read, want %v and 2", calls, read, want)
	}
	got := st.Tickets[7]
	if len(got.Replies) != 1 || !got.Replies[0].At.Equal(created.Add(time.Hour)) || got.Resolved == nil || !got.Resolved.At.Equal(created.Add(2*time.Hour)) {
		t.Errorf("ticket 7 folded to %+v, want alice's reply at 1h and her resolution at 2h", got)
	}
	if st.SyncedUntil.IsZero() || st.Pass != nil {
		t.Errorf("sync point %v, pass %+v: want the pass done", st.SyncedUntil, st.Pass)
	}
}

// An incomplete Sync records the ticket and page it stopped at, holding
// only what the fold needs of the pages read: the Create transaction and
// each user's first reply, not every transaction.
func TestReaderRecordsHistoryPlace(t *testing.T) {
	created := limitsNow.Add(-24 * time.Hour)
	tk := fakeTicket{id: 3, queue: "Support", requestor: "customer", created: created, updated: created.Add(time.Hour)}
	tk.txns = append(tk.txns, fakeTx{typ: "Create", creator: "customer", at: created})
	for i := range 250 {
		tk.txns = append(tk.txns, fakeTx{typ: "Correspond", creator: "customer", at: created.Add(time.Duration(i) * time.Second)})
	}
	r := startFake(t, &fakeRT{tickets: []fakeTicket{tk}})
	r.MaxCalls = 2
	st, res, err := r.Sync(context.Background(), State{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete || st.Pass == nil || st.Pass.History == nil {
		t.Fatalf("result %+v, pass %+v: want an incomplete pass inside ticket 3's history", res, st.Pass)
	}
	if h := st.Pass.History; h.ID != 3 || h.Page != 2 || len(h.Kept) != 2 {
		t.Errorf("history place %+v, want ticket 3, page 2, 2 transactions kept (Create, the customer's first)", h)
	}
	// Through JSON, as the state is kept, and on to the end.
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var restored State
	if err := json.Unmarshal(data, &restored); err != nil {
		t.Fatal(err)
	}
	st, calls, _ := syncUntilComplete(t, r, restored, 3)
	if fmt.Sprint(calls) != "[2 2]" || len(st.Tickets[3].Replies) != 0 {
		t.Errorf("calls %v, ticket %+v; want 2 syncs of 2 calls and no reply (the customer's own)", calls, st.Tickets[3])
	}
}

// A history is read only until the first resolution and a counted reply are
// known: 1 history call for a 400-transaction ticket answered and resolved
// on its first page (5 before).
func TestReaderStopsHistoryWhenKnown(t *testing.T) {
	created := limitsNow.Add(-24 * time.Hour)
	f := &fakeRT{tickets: []fakeTicket{plainTicket(4, created, 0, 400)}}
	r := startFake(t, f)
	st, res, err := r.Sync(context.Background(), State{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("result %+v", res)
	if res.Calls != 2 || f.histories != 1 || st.Tickets[4].Resolved == nil {
		t.Errorf("%d calls, %d history pages, ticket %+v; want 2 calls, 1 page", res.Calls, f.histories, st.Tickets[4])
	}
	// Answered and resolved, its figures cannot change: moved to Billing
	// and updated, it is not read again, only its queue and time change.
	f.mu.Lock()
	f.tickets[0].queue, f.tickets[0].updated = "Billing", limitsNow.Add(-time.Minute)
	f.mu.Unlock()
	st, res, err = r.Sync(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Tickets[4]; res.Calls != 1 || f.histories != 1 || got.Queue != "Billing" || !got.LastUpdated.Equal(limitsNow.Add(-time.Minute)) || got.Resolved == nil {
		t.Errorf("after a move: %d calls, %d history pages, ticket %+v; want 1 call (the search), in Billing", res.Calls, f.histories, got)
	}

	// With responders set, a reply by someone else does not end the
	// reading: carol (not a responder) answers first, alice on page 2.
	tk := fakeTicket{id: 5, queue: "Support", requestor: "customer", created: created}
	tk.txns = []fakeTx{{typ: "Create", creator: "customer", at: created},
		{typ: "Correspond", creator: "carol", at: created.Add(time.Minute)},
		{typ: "Status", creator: "carol", newValue: "resolved", at: created.Add(2 * time.Minute)}}
	for i := range 100 {
		tk.txns = append(tk.txns, fakeTx{typ: "Comment", creator: "bob", at: created.Add(time.Hour + time.Duration(i)*time.Second)})
	}
	tk.txns = append(tk.txns, fakeTx{typ: "Correspond", creator: "alice", at: created.Add(3 * time.Hour)})
	tk.updated = created.Add(3 * time.Hour)
	f2 := &fakeRT{tickets: []fakeTicket{tk}}
	r2 := startFake(t, f2)
	r2.Responders = map[string]bool{"alice": true}
	st, _, err = r2.Sync(context.Background(), State{})
	if err != nil {
		t.Fatal(err)
	}
	a := Compute(st.TicketList(), Options{Calendar: AlwaysOpen(time.UTC), Now: limitsNow, Responders: r2.Responders})
	if f2.histories != 2 || len(a.Tickets) != 1 || a.Tickets[0].Responder != "alice" || a.Tickets[0].FirstResponse != 3*time.Hour {
		t.Errorf("%d history pages, figures %+v; want 2 pages and alice's reply at 3h", f2.histories, a.Tickets)
	}
}

// The state keeps each user's first reply, not every reply: 151 replies by
// two users make 2 events, and the figures are those of the whole list.
func TestReaderKeepsFirstReplyPerUser(t *testing.T) {
	created := limitsNow.Add(-24 * time.Hour)
	tk := fakeTicket{id: 2, queue: "Support", requestor: "customer", created: created}
	tk.txns = []fakeTx{{typ: "Create", creator: "customer", at: created}}
	for i := range 150 {
		tk.txns = append(tk.txns, fakeTx{typ: "Correspond", creator: "alice", at: created.Add(time.Hour + time.Duration(i)*time.Minute)})
	}
	tk.txns = append(tk.txns, fakeTx{typ: "Correspond", creator: "bob", at: created.Add(5 * time.Hour)})
	tk.updated = created.Add(5 * time.Hour)
	r := startFake(t, &fakeRT{tickets: []fakeTicket{tk}})
	st, _, err := r.Sync(context.Background(), State{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{{At: created.Add(time.Hour), User: "alice"}, {At: created.Add(5 * time.Hour), User: "bob"}}
	if got := st.Tickets[2].Replies; !sameJSON(t, got, want) {
		t.Errorf("%d replies kept (first %+v), want %+v", len(got), got[:min(len(got), 3)], want)
	}
}

// Beyond MaxTickets the oldest tickets by creation are dropped, and the
// result says how many.
func TestReaderCapsTickets(t *testing.T) {
	f := &fakeRT{}
	for i := 1; i <= 5; i++ {
		// Ids do not follow creation: ticket 1 is the newest.
		f.tickets = append(f.tickets, plainTicket(i, limitsNow.Add(-time.Duration(6-i)*time.Hour-time.Duration(i%2)*24*time.Hour), 0, 0))
	}
	r := startFake(t, f)
	r.MaxTickets = 3
	st, res, err := r.Sync(context.Background(), State{})
	if err != nil {
		t.Fatal(err)
	}
	// Created: 1: -29h, 2: -4h, 3: -27h, 4: -2h, 5: -25h; the oldest two
	// (1 and 3) go.
	list := st.TicketList()
	ids := make([]int, 0, len(list))
	for _, tk := range list {
		ids = append(ids, tk.ID)
	}
	if res.Dropped != 2 || fmt.Sprint(ids) != "[2 4 5]" {
		t.Errorf("dropped %d, kept %v; want 2 dropped and [2 4 5] kept", res.Dropped, ids)
	}
}

// A PerPage above REST2's cap of 100 is taken as 100, and the pass goes
// on while RT says there is a next page, not while pages are full: 150
// tickets with PerPage 250 are all read (before, RT's page of 100 was
// shorter than 250 and ended the pass).
func TestReaderPagesPastShortPages(t *testing.T) {
	f := &fakeRT{}
	for i := 1; i <= 150; i++ {
		f.tickets = append(f.tickets, plainTicket(i, limitsNow.Add(-time.Duration(i)*time.Minute), 0, 0))
	}
	r := startFake(t, f)
	r.PerPage, r.MaxCalls = 250, 1000
	st, res, err := r.Sync(context.Background(), State{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Tickets) != 150 || !res.Complete || f.searches != 2 {
		t.Errorf("%d tickets, %d searches, result %+v; want all 150 in 2 searches", len(st.Tickets), f.searches, res)
	}

	// A user who may not see every ticket: RT gives no total and drops the
	// hidden tickets from each page, so pages are short although more
	// follow; only an empty page ends the pass.
	g := &fakeRT{hideTotal: true, hidden: map[int]bool{}}
	for i := 1; i <= 60; i++ {
		g.tickets = append(g.tickets, plainTicket(i, limitsNow.Add(-time.Duration(i)*time.Minute), 0, 0))
		g.hidden[i] = i%10 == 0
	}
	r = startFake(t, g)
	r.PerPage, r.MaxCalls = 20, 1000
	st, res, err = r.Sync(context.Background(), State{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Tickets) != 54 || !res.Complete {
		t.Errorf("%d tickets, result %+v; want the 54 visible", len(st.Tickets), res)
	}
}

// Ids that do not increase (an RT that answers every search with the same
// page, or goes back) fail the sync with what RT sent, and the state is the
// one passed in; before, every Sync spent its calls and none finished.
func TestReaderRefusesIDsThatDoNotIncrease(t *testing.T) {
	f := &fakeRT{ignoreAfter: true}
	for i := 1; i <= 150; i++ {
		f.tickets = append(f.tickets, plainTicket(i, limitsNow.Add(-time.Duration(i)*time.Minute), 0, 0))
	}
	r := startFake(t, f)
	r.MaxCalls = 1000
	st := State{SyncedUntil: limitsNow.Add(-time.Hour), Tickets: map[int]Ticket{}}
	before, _ := json.Marshal(st)
	got, res, err := r.Sync(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "id > 100") || !strings.Contains(err.Error(), "returned ticket 1:") {
		t.Fatalf("err %v (result %+v), want one naming id > 100 and ticket 1", err, res)
	}
	after, _ := json.Marshal(got)
	if string(after) != string(before) {
		t.Errorf("failed sync changed the state:\n%s\nwant\n%s", after, before)
	}
	if res.Calls > 102 {
		t.Errorf("%d calls before failing, want it to stop at the second search (102)", res.Calls)
	}
}

// A ticket the query's 14-hour time-zone slack returns but created before
// the window is skipped before its history is read: 1 call, not 2.
func TestReaderSkipsTicketsBeforeWindow(t *testing.T) {
	f := &fakeRT{tickets: []fakeTicket{plainTicket(1, limitsNow.Add(-DefaultWindow-2*time.Hour), 0, 0)}}
	r := startFake(t, f)
	st, res, err := r.Sync(context.Background(), State{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 1 || f.histories != 0 || res.Skipped != 1 || len(st.Tickets) != 0 {
		t.Errorf("%d calls, %d histories, result %+v, %d tickets; want 1 call, no history, 1 skipped", res.Calls, f.histories, res, len(st.Tickets))
	}
}

// Sync holds its caller at most Timeout: an RT that never answers fails it
// after the timeout with the state untouched, even with a client without
// a timeout of its own.
func TestReaderDeadline(t *testing.T) {
	r := startFake(t, &fakeRT{hang: true})
	r.Timeout = 300 * time.Millisecond
	start := time.Now()
	st := State{SyncedUntil: limitsNow.Add(-time.Hour)}
	got, _, err := r.Sync(context.Background(), st)
	if took := time.Since(start); err == nil || took > 3*time.Second {
		t.Fatalf("sync against a silent RT: err %v after %s; want an error within about 300ms", err, took)
	}
	if !got.SyncedUntil.Equal(st.SyncedUntil) || got.Pass != nil {
		t.Errorf("state changed by a failed sync: %+v", got)
	}
}

// A slow RT: the deadline stops the pass after some tickets, which are kept
// with the pass's place, as when the calls run out, so the next Sync goes
// on rather than doing the same work and running out of time again.
func TestReaderDeadlineKeepsProgress(t *testing.T) {
	f := &fakeRT{historyDelay: 100 * time.Millisecond}
	for i := 1; i <= 20; i++ {
		f.tickets = append(f.tickets, plainTicket(i, limitsNow.Add(-time.Duration(i)*time.Minute), 0, 0))
	}
	r := startFake(t, f)
	r.Timeout, r.MaxCalls = 550*time.Millisecond, 1000
	next, res, err := r.Sync(context.Background(), State{})
	if err != nil || !res.TimedOut || res.Complete || len(next.Tickets) == 0 || len(next.Tickets) >= 20 || next.Pass == nil {
		t.Errorf("slow RT: err %v, result %+v, %d tickets, pass %+v; want a timed-out pass keeping what it read", err, res, len(next.Tickets), next.Pass)
	}
}

// queues.TokenClient without a base client gives each request 30s, so the
// queue sync (which passes none) cannot hang on a silent RT.
func TestTokenClientDefaultTimeout(t *testing.T) {
	c, err := queues.TokenClient("http://127.0.0.1:1", nil)
	if err != nil || c.Timeout != 30*time.Second {
		t.Errorf("TokenClient(nil): %v, timeout %v; want 30s", err, c.Timeout)
	}
}
