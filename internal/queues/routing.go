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

// Package queues turns a SupportTeam's queues into the routing table a help
// desk consumes, and materializes it through a provider: a ConfigMap (the
// default) or a real help desk (Request Tracker). It must not import
// package controller or a Kubernetes client: the reconciler hands it what it
// read.
package queues

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// Table is the routing table of one team.
type Table struct {
	Team        string  `json:"team"`
	DisplayName string  `json:"displayName,omitempty"`
	Tier        int32   `json:"tier"`
	TimeZone    string  `json:"timeZone"`
	Queues      []Route `json:"queues"`
}

// Route is one queue of the routing table.
type Route struct {
	Name    string   `json:"name"`
	Channel string   `json:"channel"`
	Skills  []string `json:"skills"`
	// Members are the team members who have every skill of the queue, by name.
	Members []string `json:"members"`
	// ServiceLevel is "80% within 20s" for live channels.
	ServiceLevel string `json:"serviceLevel,omitempty"`
	// FirstResponse and Resolution are backlog-channel targets.
	FirstResponse string `json:"firstResponse,omitempty"`
	Resolution    string `json:"resolution,omitempty"`
	// Escalation is resolved to the target team's queue.
	Escalation *EscalationRoute `json:"escalation,omitempty"`
}

// EscalationRoute says where a queue's unresolved contacts go.
type EscalationRoute struct {
	After string `json:"after"`
	Team  string `json:"team"`
	Queue string `json:"queue"`
}

// TeamLookup finds another team of the same namespace; ok is false when it
// does not exist.
type TeamLookup func(name string) (team *opsv1alpha1.SupportTeam, ok bool, err error)

// EscalationError is a user's mistake: an escalation names a team or queue
// that does not exist.
type EscalationError struct{ Problems []string }

func (e *EscalationError) Error() string { return strings.Join(e.Problems, "; ") }

// Build returns the routing table of team, with each escalation resolved to
// an existing queue of the target team. Escalations to missing teams or
// queues are returned together as an *EscalationError.
func Build(team *opsv1alpha1.SupportTeam, lookup TeamLookup) (Table, error) {
	spec := team.Spec
	table := Table{Team: team.Name, DisplayName: spec.DisplayName, Tier: spec.Tier, TimeZone: string(spec.TimeZone)}
	var problems []string
	for _, q := range spec.Queues {
		r := Route{Name: q.Name, Channel: string(q.Channel), Skills: sorted(q.Skills), Members: []string{}}
		for _, m := range spec.Members {
			if hasAll(m.Skills, q.Skills) {
				r.Members = append(r.Members, m.Name)
			}
		}
		sort.Strings(r.Members)
		if sl := q.ServiceLevel; sl != nil {
			r.ServiceLevel = fmt.Sprintf("%d%% within %s", sl.Percent, sl.AnswerWithin.Duration)
		}
		if rt := q.ResponseTargets; rt != nil {
			r.FirstResponse = rt.FirstResponse.Duration.String()
			if rt.Resolution != nil {
				r.Resolution = rt.Resolution.Duration.String()
			}
		}
		if e := q.Escalation; e != nil {
			target := e.ToTeam
			if target == "" {
				target = team.Name
			}
			var targetQueues []opsv1alpha1.Queue
			if target == team.Name {
				targetQueues = spec.Queues
			} else {
				other, ok, err := lookup(target)
				if err != nil {
					return Table{}, fmt.Errorf("looking up escalation team %s: %w", target, err)
				}
				if !ok {
					problems = append(problems, fmt.Sprintf("queue %s escalates to team %s, which does not exist in namespace %s", q.Name, target, team.Namespace))
					continue
				}
				targetQueues = other.Spec.Queues
			}
			if !hasQueue(targetQueues, e.ToQueue) {
				problems = append(problems, fmt.Sprintf("queue %s escalates to queue %s of team %s, which has no such queue", q.Name, e.ToQueue, target))
				continue
			}
			r.Escalation = &EscalationRoute{After: e.After.Duration.String(), Team: target, Queue: e.ToQueue}
		}
		table.Queues = append(table.Queues, r)
	}
	if len(problems) > 0 {
		return Table{}, &EscalationError{Problems: problems}
	}
	return table, nil
}

// JSON renders the table as indented JSON with a trailing newline.
func (t Table) JSON() string {
	b, _ := json.MarshalIndent(t, "", "  ")
	return string(b) + "\n"
}

func hasAll(have, need []string) bool {
	set := map[string]bool{}
	for _, s := range have {
		set[s] = true
	}
	for _, s := range need {
		if !set[s] {
			return false
		}
	}
	return true
}

func hasQueue(queues []opsv1alpha1.Queue, name string) bool {
	for _, q := range queues {
		if q.Name == name {
			return true
		}
	}
	return false
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
