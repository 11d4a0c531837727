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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RequestTracker materializes queues in Request Tracker 5 through its REST2
// API (Authorization: token <string>). It creates the queues it does not
// find and changes, re-enables or disables only queues whose Description
// starts with the team's OwnerMarker: a queue of the same name that another
// team owns, or that was made outside SupportStack, is left exactly as it
// is and reported in RTResult.NotOwned (queue names come from a spec a team
// lead edits, the token is the platform's). It adopts users and groups that
// already exist by name, never deletes anything (a queue removed from the
// spec is disabled, its tickets stay), and makes no write when RT already
// matches.
type RequestTracker struct {
	// BaseURL is RT's web root, e.g. https://rt.example.com; REST2 is under /REST/2.0.
	BaseURL string
	// Token is an RT auth token. It is sent only in the Authorization header.
	Token string
	// User, when set, makes the client sign in as that RT user with HTTP
	// basic authentication, Token being the user's password.
	User string
	// InCluster says BaseURL is a HelpDesk's web Service, which the
	// operator names itself (resources.HelpDeskWebURL): plain http inside
	// the cluster, reached past the help desk's NetworkPolicies. Any other
	// BaseURL must pass CheckURL.
	InCluster bool
	HTTP      *http.Client
}

// RTQueue is one queue as RT should have it.
type RTQueue struct {
	Name        string
	Description string
	// SLA enables RT's service agreements on the queue (REST creates queues
	// with SLADisabled: 1).
	SLA bool
}

// RTPerson is a team member as an RT user.
type RTPerson struct {
	Email    string
	RealName string
}

// RTDesired is the state of one team in RT.
type RTDesired struct {
	// Owner marks the queues of this team ("<namespace>/<team>") in their
	// description, so queues removed from the spec can be found and disabled.
	Owner   string
	Group   string
	Members []RTPerson
	Queues  []RTQueue
}

// RTResult reports a sync.
type RTResult struct {
	// QueueIDs maps queue names to RT queue ids.
	QueueIDs map[string]string
	// Writes counts the POST, PUT and DELETE requests made.
	Writes int
	// Disabled lists queues disabled because they left the spec.
	Disabled []string
	// NotOwned lists the wanted queues whose name RT already gives to a
	// queue that is not this team's; they are not in QueueIDs and nothing
	// was written to them.
	NotOwned []NotOwnedQueue
}

// NotOwnedQueue is an existing RT queue a team's spec names but does not own.
type NotOwnedQueue struct {
	Name string
	ID   string
	// OtherTeam is true when its Description carries another team's
	// OwnerMarker, false when it was made outside SupportStack.
	OtherTeam bool
}

// Message says what is wrong with the queue and how to fix it, for the
// team whose owner ("<namespace>/<team>") is given.
func (q NotOwnedQueue) Message(owner string) string {
	whose := "was not created by SupportStack"
	if q.OtherTeam {
		whose = "belongs to another SupportStack team"
	}
	return fmt.Sprintf("Request Tracker queue %s (id %s) already exists and %s: the operator neither changes, re-enables nor disables it. "+
		"Rename the queue in spec.queues, or have an RT admin release it to this team by starting its Description with %q",
		q.Name, q.ID, whose, OwnerMarker(owner))
}

// ownerMarkerPrefix starts every team's OwnerMarker.
const ownerMarkerPrefix = "SupportStack "

// OwnerMarker is the description prefix of the queues a team owns. The
// operator writes it on the queues it creates; an RT admin gives a queue
// made by hand to a team by starting its Description with it.
func OwnerMarker(owner string) string { return ownerMarkerPrefix + owner + ":" }

type rtObject struct {
	ID          json.Number `json:"id"`
	Name        string      `json:"Name"`
	Description string      `json:"Description"`
	Disabled    json.Number `json:"Disabled"`
	SLADisabled json.Number `json:"SLADisabled"`
	Privileged  json.Number `json:"Privileged"`
}

type rtList struct {
	Items []struct {
		ID   json.Number `json:"id"`
		Type string      `json:"type"`
	} `json:"items"`
}

// APIError is a non-success answer from RT.
type APIError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("request tracker: %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// do sends one REST2 request; out, when not nil, receives the JSON answer.
// It returns found=false for 404. Everything but GET counts as a write.
func (c *RequestTracker) do(ctx context.Context, res *RTResult, method, path string, body, out any) (bool, error) {
	if method != http.MethodGet {
		res.Writes++
	}
	return c.send(ctx, method, path, body, out)
}

// search runs a REST2 JSON search (a POST that changes nothing) on a
// collection (queues, groups) for objects whose field matches value.
func (c *RequestTracker) search(ctx context.Context, collection, field, operator, value string) (rtList, error) {
	var list rtList
	_, err := c.send(ctx, http.MethodPost, "/"+collection+"?per_page=100",
		[]map[string]string{{"field": field, "operator": operator, "value": value}}, &list)
	return list, err
}

func (c *RequestTracker) send(ctx context.Context, method, path string, body, out any) (bool, error) {
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return false, err
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+"/REST/2.0"+path, reader)
	if err != nil {
		return false, err
	}
	if c.User != "" {
		req.SetBasicAuth(c.User, c.Token)
	} else {
		req.Header.Set("Authorization", "token "+c.Token)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client, err := c.client()
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL holds no secret; the token is only in the header.
		return false, fmt.Errorf("request tracker: %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusNotFound && method == http.MethodGet {
		return false, nil
	}
	if resp.StatusCode >= 300 {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &m)
		return false, &APIError{Method: method, Path: path, Status: resp.StatusCode, Message: m.Message}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return false, fmt.Errorf("request tracker: %s %s: decoding answer: %w", method, path, err)
		}
	}
	return true, nil
}

// CheckURL says whether a Request Tracker base URL may receive the token:
// https, or http only to a loopback host (localhost, 127.0.0.0/8, ::1),
// where nothing crosses a network. The CRD refuses other URLs; this check
// also covers a team stored before it did.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("queueBackend.requestTracker.url %q is not an http(s) URL: write one such as https://rt.example.com", raw)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("queueBackend.requestTracker.url %q is plain http to a host that is not loopback: "+
			"the RT token would travel in the clear; use https (http is accepted only for localhost, 127.0.0.0/8 and [::1])", raw)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// origin is a URL's scheme, host and port, the port made explicit, so
// https://rt.example.com and https://RT.example.com:443 are the same origin.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// maxRedirects is how many redirects within RT's origin are followed, as
// net/http does by default.
const maxRedirects = 10

// client is c.HTTP (or the default client) with TokenClient's redirect
// policy.
func (c *RequestTracker) client() (*http.Client, error) {
	if c.InCluster {
		return sameOriginClient(c.BaseURL, c.HTTP), nil
	}
	return TokenClient(c.BaseURL, c.HTTP)
}

// DefaultTimeout bounds each request of TokenClient's client when no base
// client is given.
const DefaultTimeout = 30 * time.Second

// TokenClient is base (or a client with DefaultTimeout) for calls that
// carry RT's token to baseURL, with a redirect policy that keeps the token
// at baseURL's origin: net/http forwards the Authorization header to the same
// host over http and to subdomains, so a redirect that leaves the origin or
// downgrades to http is refused, not followed. baseURL must pass CheckURL.
func TokenClient(baseURL string, base *http.Client) (*http.Client, error) {
	if err := CheckURL(baseURL); err != nil {
		return nil, err
	}
	return sameOriginClient(baseURL, base), nil
}

// sameOriginClient is TokenClient without CheckURL.
func sameOriginClient(baseURL string, base *http.Client) *http.Client {
	u, _ := url.Parse(baseURL)
	want := origin(u)
	// Without a base, a request that never ends must not hold the
	// reconcile: 30 seconds each.
	client := http.Client{Timeout: DefaultTimeout}
	if base != nil {
		client = *base
	}
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if got := origin(req.URL); got != want {
			return fmt.Errorf("redirect to %s refused: the token is sent only to %s", got, want)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &client
}

func boolNumber(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Sync makes RT match desired.
func (c *RequestTracker) Sync(ctx context.Context, desired RTDesired) (RTResult, error) {
	res := RTResult{QueueIDs: map[string]string{}}
	marker := OwnerMarker(desired.Owner)
	want := map[string]bool{}
	for _, q := range desired.Queues {
		want[q.Name] = true
		id, err := c.syncQueue(ctx, &res, q, marker)
		if err != nil {
			return res, err
		}
		if id != "" {
			res.QueueIDs[q.Name] = id
		}
	}
	if err := c.disableRemoved(ctx, &res, marker, want); err != nil {
		return res, err
	}
	var principals []int
	for _, p := range desired.Members {
		id, err := c.syncUser(ctx, &res, p)
		if err != nil {
			return res, err
		}
		principals = append(principals, id)
	}
	if err := c.syncGroup(ctx, &res, desired.Group, marker, principals); err != nil {
		return res, err
	}
	return res, nil
}

// syncQueue creates q, or brings it in line when its Description carries
// marker; it returns "" and records q in res.NotOwned, writing nothing,
// when a queue of that name exists without marker.
func (c *RequestTracker) syncQueue(ctx context.Context, res *RTResult, q RTQueue, marker string) (string, error) {
	description := marker + " " + q.Description
	var existing rtObject
	found, err := c.do(ctx, res, http.MethodGet, "/queue/"+url.PathEscape(q.Name), nil, &existing)
	if err != nil {
		return "", err
	}
	slaDisabled := boolNumber(!q.SLA)
	if !found {
		var created rtObject
		if _, err := c.do(ctx, res, http.MethodPost, "/queue", map[string]any{
			"Name": q.Name, "Description": description, "SLADisabled": slaDisabled,
		}, &created); err != nil {
			return "", err
		}
		return created.ID.String(), nil
	}
	if !strings.HasPrefix(existing.Description, marker) {
		res.NotOwned = append(res.NotOwned, NotOwnedQueue{Name: q.Name, ID: existing.ID.String(),
			OtherTeam: strings.HasPrefix(existing.Description, ownerMarkerPrefix)})
		return "", nil
	}
	changes := map[string]any{}
	if existing.Description != description {
		changes["Description"] = description
	}
	if existing.SLADisabled.String() != strconv.Itoa(slaDisabled) {
		changes["SLADisabled"] = slaDisabled
	}
	if existing.Disabled.String() != "0" {
		changes["Disabled"] = 0
	}
	if len(changes) > 0 {
		if _, err := c.do(ctx, res, http.MethodPut, "/queue/"+existing.ID.String(), changes, nil); err != nil {
			return "", err
		}
	}
	return existing.ID.String(), nil
}

// disableRemoved disables the enabled queues marked as this team's that
// are no longer wanted. RT's DELETE on a queue disables it; tickets stay.
func (c *RequestTracker) disableRemoved(ctx context.Context, res *RTResult, marker string, want map[string]bool) error {
	list, err := c.search(ctx, "queues", "Description", "LIKE", marker)
	if err != nil {
		return err
	}
	for _, item := range list.Items {
		var q rtObject
		if _, err := c.do(ctx, res, http.MethodGet, "/queue/"+item.ID.String(), nil, &q); err != nil {
			return err
		}
		if want[q.Name] || !strings.HasPrefix(q.Description, marker) || q.Disabled.String() != "0" {
			continue
		}
		if _, err := c.do(ctx, res, http.MethodDelete, "/queue/"+item.ID.String(), nil, nil); err != nil {
			return err
		}
		res.Disabled = append(res.Disabled, q.Name)
	}
	sort.Strings(res.Disabled)
	return nil
}

func (c *RequestTracker) syncUser(ctx context.Context, res *RTResult, p RTPerson) (int, error) {
	var u rtObject
	found, err := c.do(ctx, res, http.MethodGet, "/user/"+url.PathEscape(p.Email), nil, &u)
	if err != nil {
		return 0, err
	}
	if !found {
		_, cerr := c.do(ctx, res, http.MethodPost, "/user", map[string]any{
			"Name": p.Email, "EmailAddress": p.Email, "RealName": p.RealName, "Privileged": 1,
		}, nil)
		// A create that failed may have lost a race: the operator syncs
		// teams in parallel, and two teams can add the same person at
		// once. The user exists then; only if it does not is the error
		// the answer.
		found, err = c.do(ctx, res, http.MethodGet, "/user/"+url.PathEscape(p.Email), nil, &u)
		switch {
		case err != nil:
			return 0, err
		case !found && cerr != nil:
			return 0, cerr
		case !found:
			return 0, fmt.Errorf("request tracker: user %s was created but cannot be read", p.Email)
		}
	}
	if u.Privileged.String() != "1" {
		// Only privileged users can own tickets.
		if _, err := c.do(ctx, res, http.MethodPut, "/user/"+u.ID.String(), map[string]any{"Privileged": 1}, nil); err != nil {
			return 0, err
		}
	}
	id, err := strconv.Atoi(u.ID.String())
	if err != nil {
		return 0, fmt.Errorf("request tracker: user %s has id %q", p.Email, u.ID)
	}
	return id, nil
}

func (c *RequestTracker) syncGroup(ctx context.Context, res *RTResult, name, marker string, principals []int) error {
	found, err := c.search(ctx, "groups", "Name", "=", name)
	if err != nil {
		return err
	}
	var groupID string
	if len(found.Items) > 0 {
		groupID = found.Items[0].ID.String()
	} else {
		var created rtObject
		if _, err := c.do(ctx, res, http.MethodPost, "/group", map[string]any{"Name": name, "Description": marker + " team members"}, &created); err != nil {
			return err
		}
		groupID = created.ID.String()
	}
	var members rtList
	if _, err := c.do(ctx, res, http.MethodGet, "/group/"+groupID+"/members?per_page=100", nil, &members); err != nil {
		return err
	}
	have := map[int]bool{}
	for _, m := range members.Items {
		if id, err := strconv.Atoi(m.ID.String()); err == nil {
			have[id] = true
		}
	}
	wantSet := map[int]bool{}
	var add []int
	for _, p := range principals {
		wantSet[p] = true
		if !have[p] {
			add = append(add, p)
		}
	}
	if len(add) > 0 {
		if _, err := c.do(ctx, res, http.MethodPut, "/group/"+groupID+"/members", add, nil); err != nil {
			return err
		}
	}
	for id := range have {
		if !wantSet[id] {
			if _, err := c.do(ctx, res, http.MethodDelete, fmt.Sprintf("/group/%s/member/%d", groupID, id), nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}
