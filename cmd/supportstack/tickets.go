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
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
	"github.com/supportstack/operator/internal/controller"
	"github.com/supportstack/operator/internal/queues"
)

// ticketFlags are the flags of a command that reads a team's tickets of a
// period: the team from -f FILE or the cluster (kubectl's flags and a
// name), the tickets from the team's Request Tracker, or from a file.
type ticketFlags struct {
	// file is -f: the SupportTeam from a YAML file instead of the cluster.
	file *string
	// tickets is --tickets: a JSON array of actuals.Ticket read instead of
	// RT (offline use, tests, a saved read).
	tickets *string
	// rtURL is --rt-url: RT's base URL instead of the spec's.
	rtURL *string
	// rtTokenFile is --rt-token-file: the RT token from this file instead
	// of the Secret the spec names.
	rtTokenFile *string
	kube        *genericclioptions.ConfigFlags
	// http is the client for RT; nil means queues.TokenClient's default.
	// Tests set it.
	http *http.Client
}

// addTicketFlags adds -f, --tickets, --rt-url, --rt-token-file and
// kubectl's flags to fs.
func addTicketFlags(fs *flag.FlagSet) *ticketFlags {
	return &ticketFlags{
		file:        fs.String("f", "", "read the SupportTeam from this YAML file instead of the cluster"),
		tickets:     fs.String("tickets", "", "read the tickets from this JSON file (an array of tickets as internal/actuals writes them) instead of Request Tracker"),
		rtURL:       fs.String("rt-url", "", "Request Tracker's base URL, instead of the team's spec.queueBackend.requestTracker.url"),
		rtTokenFile: fs.String("rt-token-file", "", "read the RT token from this file instead of the Secret the team's spec names (with -f, the token comes only from this file)"),
		kube:        kubeFlags(fs),
	}
}

// teamTickets is a team and its tickets created in [From, To).
type teamTickets struct {
	Team *opsv1alpha1.SupportTeam
	// Queues are the RT queue names of the team: from the cluster, the
	// queues the operator found or made in RT (status.queues[] with an
	// externalID), as it reads them for actuals; from a file, the spec's.
	Queues []string
	// Tickets are those of Queues created in [From, To), ordered by id.
	Tickets  []actuals.Ticket
	From, To time.Time
	// Source says where the tickets came from: the file, or RT's URL.
	Source string
}

// ticketReadTimeout bounds the whole read from RT: a command run by hand
// may take longer than the operator's 60 seconds a sync, not for ever.
const ticketReadTimeout = 10 * time.Minute

// load reads the team (names: the one name given when not -f) and its
// tickets created in [from, to). now is the reader's clock: tickets are
// read as RT holds them at now (replies and resolutions up to now).
func (f *ticketFlags) load(ctx context.Context, names []string, from, to, now time.Time) (*teamTickets, error) {
	if !from.Before(to) {
		return nil, fmt.Errorf("the period %s to %s is empty", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	team, err := loadTeam(*f.file, f.kube, names)
	if err != nil {
		return nil, err
	}
	out := &teamTickets{Team: team, From: from, To: to}
	fromCluster := *f.file == ""
	out.Queues = teamRTQueues(team, fromCluster)
	if len(out.Queues) == 0 {
		return nil, fmt.Errorf("SupportTeam %s has no queue in Request Tracker yet (status.queues[].externalID; see its QueuesSynced condition)", team.Name)
	}
	var all []actuals.Ticket
	if *f.tickets != "" {
		data, err := os.ReadFile(*f.tickets)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &all); err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of tickets: %w", *f.tickets, err)
		}
		out.Source = *f.tickets
	} else {
		if all, out.Source, err = f.readRT(ctx, team, out.Queues, from, to, now); err != nil {
			return nil, err
		}
	}
	for _, t := range all {
		if !t.Created.Before(from) && t.Created.Before(to) && slices.Contains(out.Queues, t.Queue) {
			out.Tickets = append(out.Tickets, t)
		}
	}
	sort.Slice(out.Tickets, func(i, j int) bool { return out.Tickets[i].ID < out.Tickets[j].ID })
	return out, nil
}

// teamRTQueues are the RT queue names of team, sorted: as the operator
// reads them (with an externalID in status) for a team from the cluster,
// the spec's for one from a file (which has no status to trust).
func teamRTQueues(team *opsv1alpha1.SupportTeam, fromCluster bool) []string {
	var names []string
	if fromCluster {
		names = team.QueuesInBackend()
	} else {
		for _, q := range team.Spec.Queues {
			names = append(names, q.Name)
		}
	}
	sort.Strings(names)
	return names
}

// readRT reads the tickets of names created in [from, to) with
// actuals.Reader, with the responders the operator uses (the members'
// e-mail addresses), until a pass completes. Tickets created at or after
// to are not read, nor their histories: a past period's report needs
// none of the tickets since.
func (f *ticketFlags) readRT(ctx context.Context, team *opsv1alpha1.SupportTeam, names []string, from, to, now time.Time) ([]actuals.Ticket, string, error) {
	base := *f.rtURL
	if base == "" {
		if team.Spec.QueueBackend == nil || team.Spec.QueueBackend.RequestTracker == nil {
			return nil, "", fmt.Errorf("SupportTeam %s has no queueBackend.requestTracker: give --rt-url and --rt-token-file, or --tickets FILE", team.Name)
		}
		base = team.Spec.QueueBackend.RequestTracker.URL
	}
	if err := queues.CheckURL(base); err != nil {
		return nil, "", err
	}
	token, err := f.token(ctx, team)
	if err != nil {
		return nil, "", err
	}
	opt, err := controller.ActualsOptions(team, now)
	if err != nil {
		return nil, "", err
	}
	r := &actuals.Reader{
		BaseURL: base, Token: token, HTTP: f.http, Queues: names, Responders: opt.Responders,
		// One second more than the period's start: the reader keeps
		// tickets created after its window's start, the period takes
		// from itself.
		Window:        now.Sub(from) + time.Second,
		CreatedBefore: to,
		MaxCalls:      1_000_000,
		MaxTickets:    1_000_000,
		Timeout:       ticketReadTimeout,
		Now:           func() time.Time { return now },
	}
	var st actuals.State
	for {
		next, res, err := r.Sync(ctx, st)
		if err != nil {
			return nil, "", fmt.Errorf("reading tickets from Request Tracker %s: %w", base, err)
		}
		st = next
		if res.Complete {
			return st.TicketList(), base, nil
		}
		if res.TimedOut {
			return nil, "", fmt.Errorf("reading tickets from Request Tracker %s: not through after %s (%d tickets read)", base, ticketReadTimeout, len(st.Tickets))
		}
	}
}

// token is the RT token: --rt-token-file, else, for a team read from the
// cluster, the Secret the team's spec names, read by the operator's own
// code (controller.QueueToken: only when the Secret is marked as holding a
// queue token, since the spec says where the token is sent) with the user's
// own credentials, so the user's RBAC decides. A team from -f never takes the cluster's token: the
// file names the URL the token goes to, and a file someone hands over
// could name theirs.
func (f *ticketFlags) token(ctx context.Context, team *opsv1alpha1.SupportTeam) (string, error) {
	if *f.rtTokenFile == "" && *f.file != "" {
		return "", fmt.Errorf("-f %s: the RT token is not read from the cluster for a team from a file (the file says where the token is sent, and a file from someone else could send it to them): "+
			"give --rt-token-file with the token, --tickets with the tickets, or the team's name (-n NAMESPACE NAME) to read it and its token from the cluster", *f.file)
	}
	if *f.rtTokenFile != "" {
		data, err := os.ReadFile(*f.rtTokenFile)
		if err != nil {
			return "", err
		}
		token := strings.TrimSpace(string(data))
		if token == "" {
			return "", fmt.Errorf("%s is empty: it should hold the RT token", *f.rtTokenFile)
		}
		return token, nil
	}
	c, err := newClient(f.kube)
	if err != nil {
		return "", err
	}
	token, err := controller.QueueToken(ctx, c, team)
	if err != nil {
		return "", fmt.Errorf("reading the RT token from team %s/%s's Secret (or give --rt-token-file): %w", team.Namespace, team.Name, err)
	}
	return token, nil
}
