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
	// Complete is true when the pass finished and SyncedUntil moved;
	// false when the call bound stopped it (State.Pass holds the place).
	Complete bool
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
	// HTTP is the client; nil means a default one.
	HTTP *http.Client
	// Queues are the RT queue names to read.
	Queues []string
	// MaxCalls bounds the REST2 requests of one Sync (at least 2: a search
	// and a history page). Zero means 50.
	MaxCalls int
	// PerPage is the page size of the ticket search. Zero means 100.
	// Histories are read 100 transactions a page.
	PerPage int
	// Window is the look-back: tickets created before Now-Window are
	// neither read nor kept. Zero means DefaultWindow.
	Window time.Duration
	// Overlap is subtracted from the sync point to cover clocks that
	// disagree and tickets committed while the last pass ran. Zero means 5
	// minutes.
	Overlap time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

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
	if perPage == 0 {
		perPage = 100
	}
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
	res      SyncResult
}

// Sync reads the tickets of r.Queues updated since st's sync point (less
// Overlap), at most MaxCalls requests, and returns the new state. A ticket
// is read again only when its LastUpdated changed, and then its whole
// history is folded again (FoldTicket), so reading a ticket twice changes
// nothing. When the bound is hit the new state holds the pass's place in
// Pass and the next Sync continues from there. On any error (RT down, an
// answer it cannot decode) Sync returns st itself and the error: the state
// is never half-updated by a failed sync.
func (r *Reader) Sync(ctx context.Context, st State) (State, SyncResult, error) {
	maxCalls, perPage, window, overlap, now := r.defaults()
	if len(r.Queues) == 0 {
		return st, SyncResult{}, errors.New("actuals: no queues to read")
	}
	client, err := r.client()
	if err != nil {
		return st, SyncResult{}, err
	}
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
	s.res.Calls = s.calls
	return next, s.res, nil
}

// query is the TicketSQL of a pass's next page.
func (r *Reader) query(p *Pass, windowStart time.Time) string {
	qs := make([]string, 0, len(r.Queues))
	for _, q := range r.Queues {
		qs = append(qs, "Queue = "+sqlString(q))
	}
	return fmt.Sprintf("(%s) AND LastUpdated > '%s' AND Created > '%s' AND id > %d",
		strings.Join(qs, " OR "), p.Since.Add(-tzSlack).UTC().Format(rtDate),
		windowStart.Add(-tzSlack).UTC().Format(rtDate), p.AfterID)
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
}

type rtPage[T any] struct {
	Items    []T    `json:"items"`
	NextPage string `json:"next_page"`
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

// pass pages through the search from p.AfterID until a short page, reading
// each new or changed ticket's history; p.AfterID moves only past tickets
// fully read.
func (s *sync) pass(ctx context.Context, st *State, windowStart time.Time) error {
	for {
		v := url.Values{}
		v.Set("query", s.r.query(st.Pass, windowStart))
		v.Set("orderby", "id")
		v.Set("order", "ASC")
		v.Set("page", "1")
		v.Set("per_page", strconv.Itoa(s.perPage))
		v.Set("fields", "Queue,Created,LastUpdated,Requestor")
		v.Set("fields[Queue]", "Name")
		v.Set("fields[Requestor]", "Name")
		var page rtPage[rtTicket]
		if err := s.get(ctx, "/tickets?"+v.Encode(), &page); err != nil {
			return err
		}
		s.res.Searched += len(page.Items)
		for _, item := range page.Items {
			if err := s.ticket(ctx, st, item); err != nil {
				return err
			}
		}
		if len(page.Items) < s.perPage {
			return nil
		}
	}
}

func (s *sync) ticket(ctx context.Context, st *State, item rtTicket) error {
	id, err := strconv.Atoi(item.ID.String())
	if err != nil {
		return fmt.Errorf("actuals: ticket id %q: %w", item.ID, err)
	}
	created, err := parseRTTime(item.Created)
	if err != nil {
		return fmt.Errorf("actuals: ticket %d: %w", id, err)
	}
	updated, err := parseRTTime(item.LastUpdated)
	if err != nil {
		return fmt.Errorf("actuals: ticket %d: %w", id, err)
	}
	if old, ok := st.Tickets[id]; ok && old.LastUpdated.Equal(updated) {
		st.Pass.AfterID = id
		return nil
	}
	history, err := s.history(ctx, id)
	if err != nil {
		return err
	}
	requestors := make([]string, 0, len(item.Requestor))
	for _, r := range item.Requestor {
		requestors = append(requestors, r.name())
	}
	st.Tickets[id] = FoldTicket(Ticket{ID: id, Queue: item.Queue.name(), Created: created, LastUpdated: updated}, requestors, history)
	st.Pass.AfterID = id
	s.res.Read++
	return nil
}

// history reads all of a ticket's transactions, a page at a time.
func (s *sync) history(ctx context.Context, id int) ([]Transaction, error) {
	var list []Transaction
	for page := 1; ; page++ {
		v := url.Values{}
		v.Set("page", strconv.Itoa(page))
		v.Set("per_page", "100")
		v.Set("fields", "Type,Creator,Created,Field,NewValue")
		v.Set("fields[Creator]", "Name")
		var p rtPage[rtTransaction]
		if err := s.get(ctx, fmt.Sprintf("/ticket/%d/history?%s", id, v.Encode()), &p); err != nil {
			return nil, err
		}
		for _, tx := range p.Items {
			switch tx.Type {
			case "Create", "Correspond", "Status":
			default:
				continue
			}
			at, err := parseRTTime(tx.Created)
			if err != nil {
				return nil, fmt.Errorf("actuals: ticket %d transaction %s: %w", id, tx.ID, err)
			}
			txID, _ := strconv.Atoi(tx.ID.String())
			list = append(list, Transaction{ID: txID, Type: tx.Type, Creator: tx.Creator.name(), Created: at, Field: tx.Field, NewValue: tx.NewValue})
		}
		if p.NextPage == "" || len(p.Items) == 0 {
			return list, nil
		}
	}
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

// client is r.HTTP (with a 30-second timeout when r.HTTP is nil) with the
// redirect policy of queues.TokenClient: the token goes to BaseURL's origin
// only.
func (r *Reader) client() (*http.Client, error) {
	base := r.HTTP
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	return queues.TokenClient(r.BaseURL, base)
}
