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

package agent

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supportstack/operator/internal/agentapi"
)

// A requestTracker check uses the Request Tracker that runs beside the
// agent in the verify pod on the restored database (its sandbox role: REST2
// reads as RT's system user, on loopback). The agent compares what RT
// shows with the backup's manifest, and reads back through RT a sample of
// the attachments RT keeps as files; it reads the database itself (as the
// read-only checker) only for what RT never shows: the deleted tickets, and
// which attachments are files and their SHA-256 keys.

// RTStartWait is how long a requestTracker check waits for RT to answer:
// RT compiles its code and connects to the database when it starts (some
// seconds; more on a busy node).
var RTStartWait = 4 * time.Minute

// rtEveryTicket lists every ticket RT has but the deleted ones, which no
// TicketSQL query returns: naming EffectiveId and Type turns off RT's
// default limits to unmerged tickets of type ticket (not reminders).
const rtEveryTicket = "EffectiveId > 0 AND (Type = 'ticket' OR Type != 'ticket')"

// rtClient reads RT's REST2 API.
type rtClient struct {
	base string
	http *http.Client
}

// rtRequestError is a REST2 request that failed: what it asked for, in
// the words of agentapi.RTRequestFailed, and the status (0: no answer).
type rtRequestError struct {
	what string
	code int
}

func (e *rtRequestError) Error() string { return agentapi.RTRequestFailed(e.what, e.code) }

// get reads path (under /REST/2.0) as JSON into out.
func (c *rtClient) get(ctx context.Context, what, path string, query url.Values, out any) error {
	u := c.base + "/REST/2.0" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &rtRequestError{what, 0}
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return &rtRequestError{what, resp.StatusCode}
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return &rtRequestError{what, resp.StatusCode}
	}
	return nil
}

// rtCollection is the part of a REST2 collection the check reads.
type rtCollection struct {
	Total *int64 `json:"total"`
	Items []struct {
		ID json.Number `json:"id"`
	} `json:"items"`
}

// total is the collection's total; RT leaves it out when the user cannot
// see every row, which RT's system user always can.
func (c rtCollection) total(what string) (int64, error) {
	if c.Total == nil {
		return 0, &rtRequestError{what, http.StatusOK}
	}
	return *c.Total, nil
}

// waitForRT asks RT its version until it answers or wait passes.
func (c *rtClient) waitForRT(ctx context.Context, wait time.Duration) (string, bool) {
	deadline := time.Now().Add(wait)
	for {
		var v struct {
			Version string `json:"Version"`
		}
		err := c.get(ctx, "the version", "/rt", nil, &v)
		if err == nil && v.Version != "" {
			return v.Version, true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", false
		}
		select {
		case <-ctx.Done():
			return "", false
		case <-time.After(time.Second):
		}
	}
}

// manifestRows is a table's row count in a database manifest.
func manifestRows(m agentapi.DatabaseManifest, table string) (int64, bool) {
	for _, t := range m.Tables {
		if t.Table == table {
			return t.Rows, true
		}
	}
	return 0, false
}

// verifyRequestTracker runs a requestTracker check. An error means the
// check could not be run (the repository or the sandbox database is
// unreachable); RT not answering, or answering wrong, fails the check.
func (a *Runner) verifyRequestTracker(ctx context.Context, c agentapi.VerifyCheck) (agentapi.CheckResult, error) {
	spec := c.RequestTracker
	if spec.From == nil {
		return agentapi.CheckResult{}, &DrillError{"the requestTracker check names no manifest in the repository (from)"}
	}
	m, err := a.manifest(ctx, *spec.From)
	if err != nil {
		return agentapi.CheckResult{}, err
	}
	if m.Database == nil {
		return agentapi.CheckResult{}, &DrillError{fmt.Sprintf("snapshot %s has no database manifest", spec.From.Snapshot)}
	}
	var f agentapi.RTFindings
	var hasQueues, hasTickets bool
	f.ManifestQueues, hasQueues = manifestRows(*m.Database, "public.queues")
	f.ManifestTickets, hasTickets = manifestRows(*m.Database, "public.tickets")
	if !hasQueues || !hasTickets {
		return agentapi.RTFailed(agentapi.RTNotRTManifest), nil
	}
	f.Backup = agentapi.RTBackupPointOf(*m.Database)
	rt := &rtClient{base: spec.URL, http: &http.Client{Timeout: time.Minute}}
	version, ok := rt.waitForRT(ctx, RTStartWait)
	if !ok {
		return agentapi.RTFailed(agentapi.RTNotAnswering(RTStartWait)), nil
	}
	f.Version = version
	var keys []rtStoredAttachment
	if err := a.readOnly(ctx, c, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM tickets WHERE status = 'deleted'").Scan(&f.Deleted); err != nil {
			return fmt.Errorf("counting the deleted tickets: %s", reduceSQLError(err))
		}
		if spec.SampleAttachments <= 0 {
			return nil
		}
		rows, err := tx.Query(ctx, "SELECT id, content FROM attachments WHERE contentencoding = 'external' ORDER BY id DESC LIMIT $1", spec.SampleAttachments)
		if err != nil {
			return fmt.Errorf("listing the attachments stored as files: %s", reduceSQLError(err))
		}
		keys, err = pgx.CollectRows(rows, pgx.RowToStructByPos[rtStoredAttachment])
		if err != nil {
			return fmt.Errorf("listing the attachments stored as files: %s", reduceSQLError(err))
		}
		return nil
	}); err != nil {
		return agentapi.CheckResult{}, err
	}
	if err := rt.read(ctx, &f); err != nil {
		var failed *rtRequestError
		if errors.As(err, &failed) {
			return agentapi.RTFailed(failed.Error()), nil
		}
		return agentapi.CheckResult{}, err
	}
	for _, k := range keys {
		f.Sampled++
		if spec.AttachmentsPath != "" && !rtFileExists(spec.AttachmentsPath, k.Key) {
			f.Missing++
			continue
		}
		var att struct {
			Content string `json:"Content"`
		}
		if err := rt.get(ctx, fmt.Sprintf("attachment #%d", k.ID), fmt.Sprintf("/attachment/%d", k.ID), nil, &att); err != nil {
			return agentapi.RTFailed(err.Error()), nil
		}
		content, err := base64.StdEncoding.DecodeString(att.Content)
		sum := sha256.Sum256(content)
		if err == nil && hex.EncodeToString(sum[:]) == k.Key {
			f.Matched++
		}
	}
	return agentapi.RTResult(f), nil
}

// rtStoredAttachment is an attachment RT keeps as a file: its id and the
// SHA-256 of its content, which is also the file's key.
type rtStoredAttachment struct {
	ID  int64
	Key string
}

// rtFileExists says whether RT's Disk storage has key's file under root:
// it fans the key out as abc/def/<the rest>.
func rtFileExists(root, key string) bool {
	if len(key) < 7 {
		return false
	}
	st, err := os.Stat(filepath.Join(root, key[:3], key[3:6], key[6:]))
	return err == nil && st.Mode().IsRegular()
}

// read fills the findings RT's REST2 API gives: its queues, its tickets
// and the one it lists first by last update, with its history.
func (c *rtClient) read(ctx context.Context, f *agentapi.RTFindings) error {
	var queues rtCollection
	if err := c.get(ctx, "the queues", "/queues/all", url.Values{"find_disabled_rows": {"1"}, "per_page": {"1"}}, &queues); err != nil {
		return err
	}
	var err error
	if f.Queues, err = queues.total("the queues"); err != nil {
		return err
	}
	var tickets rtCollection
	if err := c.get(ctx, "the tickets", "/tickets", url.Values{"query": {rtEveryTicket}, "orderby": {"LastUpdated"}, "order": {"DESC"}, "per_page": {"1"}}, &tickets); err != nil {
		return err
	}
	if f.Tickets, err = tickets.total("the tickets"); err != nil {
		return err
	}
	if len(tickets.Items) == 0 {
		return nil
	}
	if f.Latest, err = tickets.Items[0].ID.Int64(); err != nil {
		return &rtRequestError{"the tickets", http.StatusOK}
	}
	ticket := fmt.Sprintf("ticket #%d", f.Latest)
	var record struct {
		LastUpdated string `json:"LastUpdated"`
	}
	if err := c.get(ctx, ticket, fmt.Sprintf("/ticket/%d", f.Latest), nil, &record); err != nil {
		return err
	}
	if f.Updated, err = time.Parse(time.RFC3339, record.LastUpdated); err != nil {
		return &rtRequestError{ticket, http.StatusOK}
	}
	var history rtCollection
	if err := c.get(ctx, ticket+"'s history", fmt.Sprintf("/ticket/%d/history", f.Latest), url.Values{"per_page": {"1"}}, &history); err != nil {
		return err
	}
	f.History, err = history.total(ticket + "'s history")
	return err
}
