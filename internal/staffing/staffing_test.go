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

package staffing

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func TestLiveWorkedExamples(t *testing.T) {
	cases := []struct {
		name            string
		contactsPerHour float64
		handle          time.Duration
		target          LiveTarget
		shrinkage       float64
		wantAgents      int
		wantStaff       int
		source          string
	}{
		{"100 calls per 30 min, 180 s, 80/20", 200, 180 * time.Second, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second}, 30, 14, 20,
			"Call Centre Helper's Erlang C worked example; quoted in the SupportTeam issue"},
		{"same with 70 % occupancy cap", 200, 180 * time.Second, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second, MaxOccupancy: 70}, 30, 15, 22,
			"SupportTeam issue: ceil(10 E / 0.70) = 15 agents, ceil(15 / 0.7) = 22 staff"},
		{"1000 calls per hour, 120 s, 80/20, 85 % cap", 1000, 120 * time.Second, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second, MaxOccupancy: 85}, 30, 40, 58,
			"SupportTeam issue: Erlang C gives 38, the cap ceil(33.3 / 0.85) = 40, ceil(40 / 0.7) = 58 staff"},
		{"250 calls per hour, 330 s, 80/30", 250, 330 * time.Second, LiveTarget{Percent: 80, AnswerWithin: 30 * time.Second}, 0, 28, 28,
			"jonesthenet.com 'Erlang uplift': the average hour of 20,000 calls a week needs 28 advisors"},
		{"1000 calls per hour, 120 s, 80/20 uncapped", 1000, 120 * time.Second, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second}, 0, 38, 38,
			"testdata/erlang_reference.py (exact rational evaluation of the textbook formula)"},
		{"60 calls per hour, 240 s, 90/15", 60, 240 * time.Second, LiveTarget{Percent: 90, AnswerWithin: 15 * time.Second}, 0, 8, 8,
			"testdata/erlang_reference.py"},
		{"500 calls per hour, 300 s, 80/20", 500, 300 * time.Second, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second}, 0, 48, 48,
			"testdata/erlang_reference.py"},
		{"1200 calls per hour, 180 s, 95/10", 1200, 180 * time.Second, LiveTarget{Percent: 95, AnswerWithin: 10 * time.Second}, 0, 72, 72,
			"testdata/erlang_reference.py"},
		{"30 chats per hour, 600 s, 70/60", 30, 600 * time.Second, LiveTarget{Percent: 70, AnswerWithin: time.Minute}, 0, 7, 7,
			"testdata/erlang_reference.py"},
		{"3000 calls per hour, 240 s, 80/20 (200 Erlangs)", 3000, 240 * time.Second, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second}, 0, 209, 209,
			"testdata/erlang_reference.py; 200 Erlangs overflows A^N/N! in float64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Live(tc.contactsPerHour, tc.handle, tc.target)
			if err != nil {
				t.Fatal(err)
			}
			if got.Agents != tc.wantAgents {
				t.Errorf("agents = %d, want %d (%s)", got.Agents, tc.wantAgents, tc.source)
			}
			if staff := Staff(got.Agents, tc.shrinkage); staff != tc.wantStaff {
				t.Errorf("staff at %v %% shrinkage = %d, want %d (%s)", tc.shrinkage, staff, tc.wantStaff, tc.source)
			}
			if got.ServiceLevel < tc.target.Percent/100 {
				t.Errorf("achieved service level %.4f below the target %v %%", got.ServiceLevel, tc.target.Percent)
			}
			if math.IsNaN(got.WaitProbability) || got.WaitProbability < 0 || got.WaitProbability > 1 {
				t.Errorf("wait probability %v outside [0, 1]", got.WaitProbability)
			}
		})
	}
}

// TestLiveFigures checks the secondary figures of the worked example: with 14
// agents and 10 Erlangs, P(wait) = 17.4 % and service level 88.8 %
// (testdata/erlang_reference.py), ASA = P(wait)·h/(N−A) = 0.1741·180/4 = 7.84 s.
func TestLiveFigures(t *testing.T) {
	got, err := Live(200, 180*time.Second, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want, tol float64) {
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.4f, want %.4f ± %v", name, got, want, tol)
		}
	}
	near("traffic", got.TrafficErlangs, 10, 1e-9)
	near("wait probability", got.WaitProbability, 0.1741, 0.0005)
	near("service level", got.ServiceLevel, 0.8884, 0.0005)
	near("ASA seconds", got.AverageSpeedOfAnswer.Seconds(), 7.836, 0.01)
	near("occupancy", got.Occupancy, 10.0/14, 1e-9)
	// One agent fewer misses the target: 14 is the smallest.
	if sl := ServiceLevel(13, 10, 180*time.Second, 20*time.Second); sl >= 0.8 {
		t.Errorf("13 agents give %.4f, expected below 0.80", sl)
	}
}

func TestErlangCEdges(t *testing.T) {
	if c := ErlangC(5, 0); c != 0 {
		t.Errorf("no traffic waits with probability %v, want 0", c)
	}
	if c := ErlangC(10, 10); c != 1 {
		t.Errorf("n == a waits with probability %v, want 1", c)
	}
	if c := ErlangC(1, 0.5); math.Abs(c-0.5) > 1e-12 {
		t.Errorf("M/M/1 at 50 %% waits with probability %v, want 0.5", c)
	}
	// Hundreds of Erlangs: no overflow, no NaN.
	for _, a := range []float64{100, 500, 1000, 5000} {
		t.Run(fmt.Sprintf("%v Erlangs", a), func(t *testing.T) {
			c := ErlangC(int(a)+int(3*math.Sqrt(a)), a)
			if math.IsNaN(c) || math.IsInf(c, 0) || c <= 0 || c >= 1 {
				t.Errorf("ErlangC at %v Erlangs = %v", a, c)
			}
		})
	}
	if _, err := Live(-1, time.Minute, LiveTarget{Percent: 80, AnswerWithin: time.Second}); err == nil {
		t.Error("negative demand accepted")
	}
	if _, err := Live(10, time.Minute, LiveTarget{Percent: 0}); err == nil {
		t.Error("0 % target accepted")
	}
	if r, err := Live(0, time.Minute, LiveTarget{Percent: 80, AnswerWithin: time.Second}); err != nil || r.Agents != 0 {
		t.Errorf("no demand: %+v, %v; want 0 agents", r, err)
	}
}

func TestWorkload(t *testing.T) {
	cases := []struct {
		name            string
		contactsPerHour float64
		handle          time.Duration
		want            int
	}{
		{"no e-mail", 0, 15 * time.Minute, 0},
		{"4 e-mails of 15 min an hour", 4, 15 * time.Minute, 1},
		{"5 e-mails of 15 min an hour", 5, 15 * time.Minute, 2},
		{"exactly 3 agents of work", 12, 15 * time.Minute, 3},
		{"120 portal tickets of 6 min", 120, 6 * time.Minute, 12},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Workload(tc.contactsPerHour, tc.handle).Agents; got != tc.want {
				t.Errorf("agents = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestStaff(t *testing.T) {
	cases := []struct {
		name      string
		agents    int
		shrinkage float64
		want      int
	}{
		{"no agents", 0, 30, 0},
		{"no shrinkage", 14, 0, 14},
		{"14 agents at 30 %", 14, 30, 20},
		{"15 agents at 30 %", 15, 30, 22},
		{"40 agents at 30 %", 40, 30, 58},
		{"half shrinkage", 7, 50, 14},
		{"90 % shrinkage", 1, 90, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Staff(tc.agents, tc.shrinkage); got != tc.want {
				t.Errorf("Staff(%d, %v) = %d, want %d", tc.agents, tc.shrinkage, got, tc.want)
			}
		})
	}
}

// TestMonotonic: more demand never needs fewer agents, and a stricter target
// (higher percent, shorter answer time) never needs fewer agents.
func TestMonotonic(t *testing.T) {
	handle := 200 * time.Second
	prev := 0
	for calls := 0.0; calls <= 3000; calls += 7 {
		r, err := Live(calls, handle, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if r.Agents < prev {
			t.Fatalf("%v calls/h need %d agents, fewer than %d for less demand", calls, r.Agents, prev)
		}
		prev = r.Agents
	}
	for _, calls := range []float64{20, 200, 2000} {
		prev = 0
		for pct := 50.0; pct <= 99; pct++ {
			r, _ := Live(calls, handle, LiveTarget{Percent: pct, AnswerWithin: 20 * time.Second})
			if r.Agents < prev {
				t.Fatalf("%v %% needs %d agents, fewer than %d for a lower target", pct, r.Agents, prev)
			}
			prev = r.Agents
		}
		prev = 0
		for within := 120; within >= 1; within-- {
			r, _ := Live(calls, handle, LiveTarget{Percent: 80, AnswerWithin: time.Duration(within) * time.Second})
			if r.Agents < prev {
				t.Fatalf("answer within %d s needs %d agents, fewer than %d for a longer threshold", within, r.Agents, prev)
			}
			prev = r.Agents
		}
	}
	prev = 0
	for calls := 0.0; calls <= 500; calls++ {
		if got := Workload(calls, 10*time.Minute).Agents; got < prev {
			t.Fatalf("workload not monotonic at %v", calls)
		} else {
			prev = got
		}
	}
}

// BenchmarkLive finds the agents for 200 Erlangs (3000 calls/h of 240 s),
// carrying Erlang B along the search: O(N).
func BenchmarkLive(b *testing.B) {
	for b.Loop() {
		if r, _ := Live(3000, 240*time.Second, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second}); r.Agents != 209 {
			b.Fatal(r.Agents)
		}
	}
}

// BenchmarkLiveBaselineRecompute is the baseline BenchmarkLive compares
// with: the same search recomputing Erlang C from scratch for every
// candidate n, O(N²).
func BenchmarkLiveBaselineRecompute(b *testing.B) {
	for b.Loop() {
		a := Traffic(3000, 240*time.Second)
		n := int(a) + 1
		for ServiceLevel(n, a, 240*time.Second, 20*time.Second) < 0.8 {
			n++
		}
		if n != 209 {
			b.Fatal(n)
		}
	}
}
