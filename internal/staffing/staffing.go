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

// Package staffing turns a queue's demand and service target into the number
// of agents and staff it needs. It imports only the standard library.
//
// # Live channels (Phone, Chat): Erlang C
//
// With λ contacts per hour and average handle time h, the offered traffic is
// A = λ·h (in Erlangs; λ in contacts per second when h is in seconds). With N
// agents (N > A), the probability that a contact waits is Erlang C:
//
//	C(N, A) = N·B(N, A) / (N − A·(1 − B(N, A)))
//
// where B is Erlang B, computed by the recurrence B(0) = 1,
// B(n) = A·B(n−1) / (n + A·B(n−1)). The recurrence never forms A^N or N!, so
// it stays exact for hundreds of Erlangs where the textbook formula
// overflows. The service level for an answer-time threshold t and the average
// speed of answer are
//
//	SL(N)  = 1 − C(N, A)·e^(−(N − A)·t/h)
//	ASA(N) = C(N, A)·h / (N − A)
//
// and the required agents are the smallest N > A with SL(N) ≥ target. An
// optional occupancy cap raises N until A/N ≤ cap.
//
// Worked example (the standard one of the call-centre literature): 100 calls
// in 30 minutes (λ = 200/h) of 180 s: A = 200·180/3600 = 10 Erlangs. For 80 %
// answered within 20 s: N = 13 gives SL ≈ 77.9 %, N = 14 gives SL ≈ 88.5 %, so
// 14 agents. With a 70 % occupancy cap: 10/14 = 71.4 % > 70 %, so
// N = ceil(10/0.7) = 15 agents.
//
// # Live channels with abandonment: Erlang A
//
// When customers hang up after a mean patience θ, LiveWithPatience uses
// Palm's M/M/n+M queue (Erlang A; erlanga.go has the formulas). Its service
// level is the fraction of ALL contacts answered within t: a contact that
// abandons is a miss. Worked example: the one above with θ = 2 min needs 12
// agents (82.6 % within 20 s, 6.2 % abandon) instead of 14; 11 give 74.2 %.
// A patience of zero means nobody abandons: Live's answer.
//
// # Backlog channels (Email, Portal): workload
//
// Work that arrives in an interval is done in that interval:
// agents = ceil(λ·h / 1 h), which clears the backlog within one 30-minute
// interval and so within any firstResponse target of 30 minutes or more.
// E.g. 4 e-mails an hour of 15 minutes each: ceil(4·900/3600) = 1 agent.
//
// # Shrinkage
//
// Agents are people answering contacts; staff are people on the roster.
// With shrinkage s (breaks, training, meetings, absence; 0 ≤ s < 1):
// staff = ceil(agents / (1 − s)). 14 agents at 30 % shrinkage: 14/0.7 = 20
// staff; 15 agents: 15/0.7 = 21.4, so 22 staff.
package staffing

import (
	"fmt"
	"math"
	"time"
)

// maxAgents bounds the search for agents; demand that needs more is
// reported as an error rather than looped over.
const maxAgents = 100000

// LiveTarget is a live-channel service target.
type LiveTarget struct {
	// Percent of contacts to answer within AnswerWithin, in (0, 100].
	Percent float64
	// AnswerWithin is the answer-time threshold.
	AnswerWithin time.Duration
	// MaxOccupancy caps traffic/agents, in (0, 100]; 0 means no cap.
	MaxOccupancy float64
}

// Result is the staffing answer for one interval.
type Result struct {
	// Agents needed answering contacts.
	Agents int
	// TrafficErlangs is the offered traffic A.
	TrafficErlangs float64
	// ServiceLevel achieved with Agents, in [0, 1] (live channels only).
	ServiceLevel float64
	// WaitProbability is Erlang C with Agents (live channels only).
	WaitProbability float64
	// AverageSpeedOfAnswer with Agents (live channels only).
	AverageSpeedOfAnswer time.Duration
	// Occupancy is traffic / agents, in [0, 1]; with abandonment (Erlang A)
	// the traffic agents actually carry, A·(1 − AbandonRate).
	Occupancy float64
	// AbandonRate is the fraction of contacts that hang up before an answer
	// (Erlang A, LiveWithPatience); 0 for Erlang C, which assumes nobody does.
	AbandonRate float64
}

// Traffic returns the offered traffic in Erlangs for contacts per hour and
// an average handle time.
func Traffic(contactsPerHour float64, handle time.Duration) float64 {
	return contactsPerHour * handle.Seconds() / 3600
}

// ErlangC returns the probability that a contact waits with n agents and
// traffic a (Erlangs). It is 1 when n <= a: the queue grows without bound.
func ErlangC(n int, a float64) float64 {
	if a <= 0 {
		return 0
	}
	if float64(n) <= a {
		return 1
	}
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return float64(n) * b / (float64(n) - a*(1-b))
}

// ServiceLevel returns the fraction of contacts answered within t with n
// agents, traffic a and handle time h.
func ServiceLevel(n int, a float64, h, t time.Duration) float64 {
	if a <= 0 {
		return 1
	}
	if float64(n) <= a {
		return 0
	}
	return 1 - ErlangC(n, a)*math.Exp(-(float64(n)-a)*t.Seconds()/h.Seconds())
}

// Live returns the smallest number of agents that meets the target for a
// live channel (Erlang C), raised to respect the occupancy cap.
func Live(contactsPerHour float64, handle time.Duration, target LiveTarget) (Result, error) {
	if contactsPerHour < 0 || handle < 0 {
		return Result{}, fmt.Errorf("demand must not be negative")
	}
	if target.Percent <= 0 || target.Percent > 100 {
		return Result{}, fmt.Errorf("service level percent %v is outside (0, 100]", target.Percent)
	}
	a := Traffic(contactsPerHour, handle)
	if a == 0 {
		return Result{ServiceLevel: 1}, nil
	}
	goal := target.Percent / 100
	// Walk n upwards carrying Erlang B along (one step of the recurrence per
	// n), so the search costs O(N) rather than O(N²). The service level rises
	// with n, so the first n > a that meets the goal is the smallest.
	n, b := 0, 1.0
	for {
		n++
		if n > maxAgents {
			return Result{}, fmt.Errorf("traffic of %.0f Erlangs needs more than %d agents", a, maxAgents)
		}
		b = a * b / (float64(n) + a*b)
		if float64(n) <= a {
			continue
		}
		c := float64(n) * b / (float64(n) - a*(1-b))
		if 1-c*math.Exp(-(float64(n)-a)*target.AnswerWithin.Seconds()/handle.Seconds()) >= goal-1e-12 {
			break
		}
	}
	if target.MaxOccupancy > 0 {
		if byCap := int(math.Ceil(a/(target.MaxOccupancy/100) - 1e-9)); byCap > n {
			n = byCap
		}
	}
	c := ErlangC(n, a)
	return Result{
		Agents:               n,
		TrafficErlangs:       a,
		ServiceLevel:         ServiceLevel(n, a, handle, target.AnswerWithin),
		WaitProbability:      c,
		AverageSpeedOfAnswer: time.Duration(c * handle.Seconds() / (float64(n) - a) * float64(time.Second)),
		Occupancy:            a / float64(n),
	}, nil
}

// Workload returns the agents a backlog channel needs so that the work
// arriving in an interval is done within it: ceil(contacts/h × handle / 1 h).
func Workload(contactsPerHour float64, handle time.Duration) Result {
	a := Traffic(contactsPerHour, handle)
	if a <= 0 {
		return Result{}
	}
	n := int(math.Ceil(a - 1e-9))
	return Result{Agents: n, TrafficErlangs: a, Occupancy: a / float64(n)}
}

// Staff converts agents into rostered staff for a shrinkage percentage in
// [0, 100): ceil(agents / (1 − shrinkage/100)).
func Staff(agents int, shrinkagePercent float64) int {
	if agents <= 0 {
		return 0
	}
	if shrinkagePercent <= 0 {
		return agents
	}
	return int(math.Ceil(float64(agents)/(1-shrinkagePercent/100) - 1e-9))
}
