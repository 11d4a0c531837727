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
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/supportstack/operator/internal/queues"
)

// State is what Reader knows of RT's tickets: serializable (JSON) so it
// survives restarts, and updated incrementally by Reader.Sync.
type State struct {
	// SyncedUntil is the sync point: every ticket updated before it (less
	// Reader.Overlap) has been read. Zero before the first complete pass.
	SyncedUntil time.Time `json:"syncedUntil,omitempty"`
	// Pass is the pass in progress when the last Sync ran out of calls; the
	// next Sync continues it instead of starting over.
	Pass *Pass `json:"pass,omitempty"`
	// Tickets holds the tickets of the look-back window by id.
	Tickets map[int]Ticket `json:"tickets,omitempty"`
}

// Pass is how far an unfinished pass got.
type Pass struct {
	// Since is the pass's lower bound on LastUpdated.
	Since time.Time `json:"since"`
	// Started becomes SyncedUntil when the pass completes.
	Started time.Time `json:"started"`
	// AfterID is the last ticket id the pass has fully read: the search
	// goes on with id > AfterID, ordered by id, so tickets changing while
	// the pass runs cannot shift pages and make it skip one.
	AfterID int `json:"afterID"`
	// History is the place in the history of the ticket after AfterID
	// when the last Sync stopped inside it: the next Sync reads on from
	// there, so a history longer than one Sync's calls still gets read.
	History *HistoryPlace `json:"history,omitempty"`
}

// HistoryPlace is how far a ticket's history has been read.
type HistoryPlace struct {
	// ID is the ticket.
	ID int `json:"id"`
	// Page is the next page of 100 transactions to read.
	Page int `json:"page"`
	// Kept is what the fold needs of the pages read (keep): the Create
	// transaction, each user's first Correspond and the first resolution.
	Kept []Transaction `json:"kept,omitempty"`
}

// TicketList returns the tickets of s ordered by id, for Compute.
func (s State) TicketList() []Ticket {
	list := make([]Ticket, 0, len(s.Tickets))
	for _, t := range s.Tickets {
		list = append(list, t)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list
}

func (s State) clone() State {
	c := s
	if s.Pass != nil {
		p := *s.Pass
		if p.History != nil {
			h := *p.History
			h.Kept = append([]Transaction(nil), h.Kept...)
			p.History = &h
		}
		c.Pass = &p
	}
	c.Tickets = make(map[int]Ticket, len(s.Tickets))
	for id, t := range s.Tickets {
		// Tickets are replaced whole, never changed in place, so sharing
		// their slices with s is safe.
		c.Tickets[id] = t
	}
	return c
}

// SyncResult reports one Sync.
type SyncResult struct {
	// Calls is the REST2 requests made.
	Calls int
	// Searched is the tickets the searches returned; Read is those whose
	// history was read (new, or changed since they were last read).
	Searched, Read int
	// Skipped is the tickets the searches returned that were created at
	// or before the window's start, or at or after CreatedBefore: their
	// histories are not read (the query's time-zone slack returns them).
	Skipped int
	// Dropped is the tickets dropped because the state held more than
	// MaxTickets, the oldest by creation first.
	Dropped int
	// Complete is true when the pass finished and SyncedUntil moved;
	// false when the call bound or the deadline stopped it (State.Pass
	// holds the place).
	Complete bool
	// TimedOut is true when the deadline (Reader.Timeout) stopped the
	// pass after some progress; without progress Sync returns an error.
	TimedOut bool
}

// Reader reads the tickets of some queues from Request Tracker's REST2 API,
// read-only, with the token the operator already uses for RT (sent only in
// the Authorization header, only to BaseURL's origin, https or loopback
// http: queues.CheckURL).
type Reader struct {
	// BaseURL is RT's web root; REST2 is under /REST/2.0.
	BaseURL string
	// Token is an RT auth token.
	Token string
	// HTTP is the client; nil means one with queues.DefaultTimeout (30
	// seconds) a request.
	HTTP *http.Client
	// Queues are the RT queue names to read.
	Queues []string
	// MaxCalls bounds the REST2 requests of one Sync (at least 2: a search
	// and a history page). Zero means 50.
	MaxCalls int
	// PerPage is the page size of the ticket search, 1 to 100 (REST2 caps
	// per_page at 100; a larger value is taken as 100). Zero means 100.
	// Histories are read 100 transactions a page.
	PerPage int
	// Timeout bounds one Sync overall (a sooner deadline of the caller's
	// context wins). Zero means DefaultSyncTimeout.
	Timeout time.Duration
	// MaxTickets bounds the tickets a State keeps; beyond it the oldest by
	// creation are dropped (SyncResult.Dropped). Zero means
	// DefaultMaxTickets.
	MaxTickets int
	// Responders are the users whose replies count as a first response:
	// the same set as Options.Responders (nil counts every reply). A
	// history is read only until its first resolution and a reply by one
	// of them are known.
	Responders map[string]bool
	// Window is the look-back: tickets created before Now-Window are
	// neither read nor kept. Zero means DefaultWindow.
	Window time.Duration
	// CreatedBefore, when not zero, is the end of the tickets' creation
	// times, exclusive: tickets created at or after it are neither kept
	// nor their histories read (a report of a past period needs none of
	// the tickets since). The query asks for tickets created before it
	// plus the time-zone slack (tzSlack), and the tickets it returns are
	// then filtered exactly. Zero (the operator) means no bound.
	CreatedBefore time.Time
	// Overlap is subtracted from the sync point to cover clocks that
	// disagree and tickets committed while the last pass ran. Zero means 5
	// minutes.
	Overlap time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultSyncTimeout is how long one Sync may take when Reader.Timeout is
// zero.
const DefaultSyncTimeout = 60 * time.Second

// DefaultMaxTickets is how many tickets a State keeps when
// Reader.MaxTickets is zero: 28 days of a help desk taking 700 tickets a
// day, each kept as a few events (creation, each user's first reply, the
// first resolution), a few megabytes.
const DefaultMaxTickets = 20000

// maxPerPage is REST2's cap on per_page (RT::REST2::Resource::Collection).
const maxPerPage = 100

// tzSlack widens the dates of the TicketSQL query. RT reads a date in a
// query in the token owner's time zone (RT::Date, Format unknown), which
// the operator cannot see through REST2; no zone is more than 14 hours off
// UTC, so a bound moved 14 hours earlier is early enough in every zone.
// Tickets the wider bound returns again cost no call: their LastUpdated is
// the one already read.
const tzSlack = 14 * time.Hour

// rtDate is how the query writes a date.
const rtDate = "2006-01-02 15:04:05"

func (r *Reader) defaults() (maxCalls, perPage int, window, overlap time.Duration, now time.Time) {
	maxCalls, perPage, window, overlap = r.MaxCalls, r.PerPage, r.Window, r.Overlap
	if maxCalls == 0 {
		maxCalls = 50
	}
	maxCalls = max(maxCalls, 2)
	if perPage <= 0 {
		perPage = maxPerPage
	}
	perPage = min(perPage, maxPerPage)
	if window == 0 {
		window = DefaultWindow
	}
	if overlap == 0 {
		overlap = 5 * time.Minute
	}
	now = time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	return maxCalls, perPage, window, overlap, now.UTC()
}

// errBound stops a sync that has used its calls.
var errBound = errors.New("call bound reached")

// sync is one Sync's working set.
type sync struct {
	r        *Reader
	client   *http.Client
	calls    int
	maxCalls int
	perPage  int
	// progress is true once a ticket or a history page has been taken
	// into the state: a deadline after it keeps the state, like the bound.
	progress bool
	res      SyncResult
}

// Sync reads the tickets of r.Queues updated since st's sync point (less
// Overlap), at most MaxCalls requests within Timeout, and returns the new
// state. A ticket is read again only when its LastUpdated changed and its
// first resolution or first counted reply is still unknown (those never
// change once made); its history is read from the start, and only until
// both are known (FoldTicket), so reading a ticket twice changes nothing.
// When the bound or the deadline stops it the new state holds the pass's
// place in Pass (down to the history page) and the next Sync continues
// from there. On any other error (RT down, an answer it cannot decode, ids
// that do not increase) Sync returns st itself and the error: the state is
// never half-updated by a failed sync.
func (r *Reader) Sync(ctx context.Context, st State) (State, SyncResult, error) {
	maxCalls, perPage, window, overlap, now := r.defaults()
	if len(r.Queues) == 0 {
		return st, SyncResult{}, errors.New("actuals: no queues to read")
	}
	client, err := r.client()
	if err != nil {
		return st, SyncResult{}, err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultSyncTimeout
	}
	// WithTimeout keeps the parent's deadline when it is sooner.
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	next := st.clone()
	if next.Pass == nil {
		since := now.Add(-window)
		if !next.SyncedUntil.IsZero() {
			since = next.SyncedUntil.Add(-overlap)
		}
		next.Pass = &Pass{Since: since, Started: now}
	}
	s := &sync{r: r, client: client, maxCalls: maxCalls, perPage: perPage}
	windowStart := now.Add(-window)
	err = s.pass(ctx, &next, windowStart)
	switch {
	case errors.Is(err, errBound):
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && s.progress:
		// Out of time after some progress: keep it, as for the bound, so
		// a slow RT still gets read a part per Sync.
		s.res.TimedOut = true
	case err != nil:
		return st, s.res, err
	default:
		next.SyncedUntil = next.Pass.Started
		next.Pass = nil
		s.res.Complete = true
	}
	for id, t := range next.Tickets {
		if !t.Created.After(windowStart) {
			delete(next.Tickets, id)
		}
	}
	s.res.Dropped = dropOldest(next.Tickets, r.maxTickets())
	s.res.Calls = s.calls
	return next, s.res, nil
}

func (r *Reader) maxTickets() int {
	if r.MaxTickets > 0 {
		return r.MaxTickets
	}
	return DefaultMaxTickets
}

// dropOldest removes the tickets beyond limit, the oldest by creation (then
// lowest id) first, and returns how many it removed.
func dropOldest(tickets map[int]Ticket, limit int) int {
	extra := len(tickets) - limit
	if extra <= 0 {
		return 0
	}
	list := make([]Ticket, 0, len(tickets))
	for _, t := range tickets {
		list = append(list, t)
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].Created.Equal(list[j].Created) {
			return list[i].Created.Before(list[j].Created)
		}
		return list[i].ID < list[j].ID
	})
	for _, t := range list[:extra] {
		delete(tickets, t.ID)
	}
	return extra
}

// query is the TicketSQL of a pass's next page.
func (r *Reader) query(p *Pass, windowStart time.Time) string {
	qs := make([]string, 0, len(r.Queues))
	for _, q := range r.Queues {
		qs = append(qs, "Queue = "+sqlString(q))
	}
	before := ""
	if !r.CreatedBefore.IsZero() {
		before = fmt.Sprintf(" AND Created < '%s'", r.CreatedBefore.Add(tzSlack).UTC().Format(rtDate))
	}
	return fmt.Sprintf("(%s) AND LastUpdated > '%s' AND Created > '%s'%s AND id > %d",
		strings.Join(qs, " OR "), p.Since.Add(-tzSlack).UTC().Format(rtDate),
		windowStart.Add(-tzSlack).UTC().Format(rtDate), before, p.AfterID)
}

// sqlString quotes s for TicketSQL.
func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

type rtRef struct {
	ID   json.RawMessage `json:"id"`
	Name string          `json:"Name"`
}

type rtTicket struct {
	ID          json.Number `json:"id"`
	Queue       rtRef       `json:"Queue"`
	Created     string      `json:"Created"`
	LastUpdated string      `json:"LastUpdated"`
	Requestor   []rtRef     `json:"Requestor"`
	// TimeWorked is minutes; REST2 writes it as a string or a number,
	// empty when never set.
	TimeWorked json.RawMessage `json:"TimeWorked"`
}

// timeWorked is the ticket's TimeWorked (minutes) as a duration; zero when
// RT gives none.
func (t rtTicket) timeWorked() (time.Duration, error) {
	s := strings.Trim(strings.TrimSpace(string(t.TimeWorked)), `"`)
	if s == "" || s == "null" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("TimeWorked %s is not a number of minutes", t.TimeWorked)
	}
	return time.Duration(n) * time.Minute, nil
}

type rtPage[T any] struct {
	Items    []T    `json:"items"`
	NextPage string `json:"next_page"`
	// Total is null when the token's user cannot see every record (RT
	// then filters each page by permission, so pages come back short).
	Total *int `json:"total"`
}

// more tells whether a collection goes on after p: RT gives next_page
// while pages remain; when it cannot count (Total null) a page with items
// may be followed by more, and only an empty page ends it. The length of
// a page is no sign: RT caps per_page and drops records the user may not
// see.
func (p rtPage[T]) more() bool {
	return p.NextPage != "" || (p.Total == nil && len(p.Items) > 0)
}

type rtTransaction struct {
	ID json.Number `json:"id"`
	// Kind takes REST2's "type" ("transaction"): encoding/json matches keys
	// without regard to case when no field has the exact name, so without
	// it "type" would land in Type, and which of the two wins depends on
	// the order of Perl's hash keys.
	Kind     string `json:"type"`
	Type     string `json:"Type"`
	Creator  rtRef  `json:"Creator"`
	Created  string `json:"Created"`
	Field    string `json:"Field"`
	NewValue string `json:"NewValue"`
}

// pass pages through the search from p.AfterID while RT says more
// follow, reading each new or changed ticket's history; p.AfterID moves
// only past tickets fully read.
func (s *sync) pass(ctx context.Context, st *State, windowStart time.Time) error {
	pageNo := 1
	for {
		v := url.Values{}
		v.Set("query", s.r.query(st.Pass, windowStart))
		v.Set("orderby", "id")
		v.Set("order", "ASC")
		v.Set("page", strconv.Itoa(pageNo))
		v.Set("per_page", strconv.Itoa(s.perPage))
		v.Set("fields", "Queue,Created,LastUpdated,Requestor,TimeWorked")
		v.Set("fields[Queue]", "Name")
		v.Set("fields[Requestor]", "Name")
		var page rtPage[rtTicket]
		if err := s.get(ctx, "/tickets?"+v.Encode(), &page); err != nil {
			return err
		}
		s.res.Searched += len(page.Items)
		before := st.Pass.AfterID
		for _, item := range page.Items {
			if err := s.ticket(ctx, st, item, windowStart); err != nil {
				return err
			}
		}
		if !page.more() {
			return nil
		}
		// The next search starts after the last id read; a page of
		// nothing the user may see moves no id, so the next page is asked.
		pageNo++
		if st.Pass.AfterID != before {
			pageNo = 1
		}
	}
}

func (s *sync) ticket(ctx context.Context, st *State, item rtTicket, windowStart time.Time) error {
	id, err := strconv.Atoi(item.ID.String())
	if err != nil {
		return fmt.Errorf("actuals: ticket id %q: %w", item.ID, err)
	}
	// The search asks for id > AfterID ordered by id: anything else (the
	// same page again, ids going back) would make every Sync spend its
	// calls without ever finishing.
	if id <= st.Pass.AfterID {
		return fmt.Errorf("actuals: RT's search for tickets with id > %d ordered by id returned ticket %d: ids must increase, the sync cannot go on", st.Pass.AfterID, id)
	}
	created, err := parseRTTime(item.Created)
	if err != nil {
		return fmt.Errorf("actuals: ticket %d: %w", id, err)
	}
	updated, err := parseRTTime(item.LastUpdated)
	if err != nil {
		return fmt.Errorf("actuals: ticket %d: %w", id, err)
	}
	worked, err := item.timeWorked()
	if err != nil {
		return fmt.Errorf("actuals: ticket %d: %w", id, err)
	}
	old, known := st.Tickets[id]
	switch {
	case !created.After(windowStart), !s.r.CreatedBefore.IsZero() && !created.Before(s.r.CreatedBefore):
		// Returned by the query's time-zone slack, outside the window.
		delete(st.Tickets, id)
		s.res.Skipped++
	case known && old.LastUpdated.Equal(updated):
	case known && old.Resolved != nil && s.answered(old):
		// What the figures take of its history is known and cannot
		// change: only the queue (it may have moved), the time and the
		// time worked.
		old.Queue, old.LastUpdated, old.TimeWorked = item.Queue.name(), updated, worked
		st.Tickets[id] = old
	default:
		requestors := make([]string, 0, len(item.Requestor))
		for _, r := range item.Requestor {
			requestors = append(requestors, r.name())
		}
		kept, err := s.history(ctx, st.Pass, id, requestors)
		if err != nil {
			return err
		}
		st.Tickets[id] = FoldTicket(Ticket{ID: id, Queue: item.Queue.name(), Created: created, LastUpdated: updated, TimeWorked: worked}, requestors, kept)
		s.res.Read++
	}
	st.Pass.AfterID = id
	st.Pass.History = nil
	s.progress = true
	return nil
}

// counts tells whether a reply by user counts as a first response.
func (s *sync) counts(user string) bool {
	return s.r.Responders == nil || s.r.Responders[user]
}

// answered tells whether t has a reply that counts.
func (s *sync) answered(t Ticket) bool {
	for _, e := range t.Replies {
		if s.counts(e.User) {
			return true
		}
	}
	return false
}

// history reads ticket id's transactions a page at a time, oldest first
// (RT numbers them as it records them), keeping only what FoldTicket
// needs, and stops once that is all known: the first resolution and a
// reply that counts. It starts where p.History left off when that is this
// ticket, and records its place there after each page, so a Sync stopped
// by the bound leaves the next one the page to go on from.
func (s *sync) history(ctx context.Context, p *Pass, id int, requestors []string) ([]Transaction, error) {
	if p.History == nil || p.History.ID != id {
		p.History = &HistoryPlace{ID: id, Page: 1}
	}
	place := p.History
	for {
		v := url.Values{}
		v.Set("page", strconv.Itoa(place.Page))
		v.Set("per_page", strconv.Itoa(maxPerPage))
		v.Set("fields", "Type,Creator,Created,Field,NewValue")
		v.Set("fields[Creator]", "Name")
		var page rtPage[rtTransaction]
		if err := s.get(ctx, fmt.Sprintf("/ticket/%d/history?%s", id, v.Encode()), &page); err != nil {
			return nil, err
		}
		for _, tx := range page.Items {
			if err := keep(place, id, tx); err != nil {
				return nil, err
			}
		}
		place.Page++
		s.progress = true
		if !page.more() || s.known(place.Kept, requestors) {
			return place.Kept, nil
		}
	}
}

// keep adds tx to place.Kept when the fold may need it: the Create
// transaction, a user's first Correspond, the first change of Status to
// resolved (first by time, then id, as FoldTicket orders them). The rest
// is dropped, so a long history costs no memory.
func keep(place *HistoryPlace, id int, tx rtTransaction) error {
	var match func(Transaction) bool
	switch {
	case tx.Type == "Create":
		match = func(k Transaction) bool { return k.Type == "Create" }
	case tx.Type == "Correspond":
		match = func(k Transaction) bool { return k.Type == "Correspond" && k.Creator == tx.Creator.name() }
	case tx.Type == "Status" && tx.NewValue == "resolved":
		match = func(k Transaction) bool { return k.Type == "Status" }
	default:
		return nil
	}
	at, err := parseRTTime(tx.Created)
	if err != nil {
		return fmt.Errorf("actuals: ticket %d transaction %s: %w", id, tx.ID, err)
	}
	txID, _ := strconv.Atoi(tx.ID.String())
	t := Transaction{ID: txID, Type: tx.Type, Creator: tx.Creator.name(), Created: at, Field: tx.Field, NewValue: tx.NewValue}
	for i, k := range place.Kept {
		if match(k) {
			if t.Created.Before(k.Created) || (t.Created.Equal(k.Created) && t.ID < k.ID) {
				place.Kept[i] = t
			}
			return nil
		}
	}
	place.Kept = append(place.Kept, t)
	return nil
}

// known tells whether kept holds all FoldTicket can take from the rest of
// the history: a resolution and a reply that counts. Requestors are as
// FoldTicket takes them (none: the creator of the Create transaction).
func (s *sync) known(kept []Transaction, requestors []string) bool {
	req := map[string]bool{}
	for _, r := range requestors {
		req[r] = true
	}
	resolved, replied := false, false
	for _, k := range kept {
		if k.Type == "Create" && len(requestors) == 0 {
			req[k.Creator] = true
		}
	}
	for _, k := range kept {
		switch k.Type {
		case "Status":
			resolved = true
		case "Correspond":
			replied = replied || (!req[k.Creator] && k.Creator != SystemUser && s.counts(k.Creator))
		}
	}
	return resolved && replied
}

// name is a user's or queue's name: the Name field asked for with
// fields[...]=Name, else the id REST2 gives.
func (r rtRef) name() string {
	if r.Name != "" {
		return r.Name
	}
	var s string
	if json.Unmarshal(r.ID, &s) == nil {
		return s
	}
	return strings.Trim(string(r.ID), `"`)
}

func parseRTTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// get sends one GET, counted against the bound.
func (s *sync) get(ctx context.Context, path string, out any) error {
	if s.calls >= s.maxCalls {
		return errBound
	}
	// Errors name the resource, not the query string, to stay readable.
	name, _, _ := strings.Cut(path, "?")
	s.calls++
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(s.r.BaseURL, "/")+"/REST/2.0"+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+s.r.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		// The URL holds no secret; the token is only in the header.
		return fmt.Errorf("request tracker: GET %s: %w", name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("request tracker: GET %s: %w", name, err)
	}
	if resp.StatusCode != http.StatusOK {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &m)
		return &queues.APIError{Method: http.MethodGet, Path: name, Status: resp.StatusCode, Message: m.Message}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("request tracker: GET %s: decoding answer: %w", name, err)
	}
	return nil
}

// client is r.HTTP (nil: queues.TokenClient's default, 30 seconds a
// request) with TokenClient's redirect policy: the token goes to BaseURL's
// origin only.
func (r *Reader) client() (*http.Client, error) {
	return queues.TokenClient(r.BaseURL, r.HTTP)
}
