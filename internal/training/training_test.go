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

package training

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/coverage"
)

func teamFrom(t *testing.T, spec string) coverage.Team {
	t.Helper()
	var s opsv1alpha1.SupportTeamSpec
	if err := yaml.UnmarshalStrict([]byte(spec), &s); err != nil {
		t.Fatal(err)
	}
	team, err := coverage.FromSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	return team
}

// monday is the start of the week every test team is computed from.
var monday = time.Date(2026, time.November, 23, 0, 0, 0, 0, time.UTC)

func compute(t *testing.T, team coverage.Team) coverage.Result {
	t.Helper()
	r, err := coverage.Compute(team, monday)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// handTeam's figures, worked out by hand (Monday, 1-hour contacts, so a
// rate of n per hour needs n staff; queues in the order windows, mobile,
// linux):
//
//	09-11  ann ben zoe lin  windows 2/2, mobile 1/0 (skills), linux 2/1 (people)
//	11-13  ann ben          windows 2/2, mobile 1/0 (skills)
//	13-17  ann ben dave     windows 2/3 (dave spare), mobile 1/0 (skills)
//	17-19  dave             mobile 1/0 (skills)
//
// mobile is short 20 half-hours, linux 4: 24 in all. Trained in mobile,
// dave closes 8 (13-17) + 4 (17-19) = 12; ann or ben close 8 (13-17, where
// dave takes their windows place; before 13:00 windows, earlier in the
// spec, keeps them); zoe closes 4 in mobile or 4 in linux (09-11).
// Trained in linux, ann or ben would leave windows short: they close
// nothing. yan has no skills and works only Tuesday, when nothing is short.
const handTeam = `
timeZone: UTC
shrinkage: 0
shifts:
- {name: day, days: [Mon], start: "09:00", end: "17:00"}
- {name: late, days: [Mon], start: "13:00", end: "19:00"}
- {name: morning, days: [Mon], start: "09:00", end: "11:00"}
- {name: tuesday, days: [Tue], start: "09:00", end: "17:00"}
members:
- {name: zoe, skills: [], shifts: [morning]}
- {name: dave, skills: [windows], shifts: [late]}
- {name: ben, skills: [windows], shifts: [day]}
- {name: ann, skills: [windows], shifts: [day]}
- {name: lin, skills: [linux], shifts: [morning]}
- {name: yan, skills: [], shifts: [tuesday]}
queues:
- name: windows
  channel: Email
  skills: [windows]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "17:00", contactsPerHour: 2}]}
  responseTargets: {firstResponse: 4h}
- name: mobile
  channel: Email
  skills: [mobile]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "19:00", contactsPerHour: 1}]}
  responseTargets: {firstResponse: 4h}
- name: linux
  channel: Email
  skills: [linux]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "11:00", contactsPerHour: 2}]}
  responseTargets: {firstResponse: 4h}
`

func TestAnalyzeHandTeam(t *testing.T) {
	team := teamFrom(t, handTeam)
	rep := Analyze(team, compute(t, team), 0)
	if rep.ShortHalfHours != 24 {
		t.Errorf("%d staff-half-hours short, want 24", rep.ShortHalfHours)
	}
	wantQueues := []QueueGaps{
		{Name: "windows"},
		{Name: "mobile", ShortHalfHours: 20, Intervals: 20, SkillsIntervals: 20, SkillsHalfHours: 20},
		{Name: "linux", ShortHalfHours: 4, Intervals: 4}, // lin is there: people, not skills
	}
	if !slices.Equal(rep.Queues, wantQueues) {
		t.Errorf("queues %+v, want %+v", rep.Queues, wantQueues)
	}
	got := make([]string, 0, len(rep.Needs))
	for _, n := range rep.Needs {
		got = append(got, n.String())
	}
	want := []string{
		"train dave in mobile: closes 12 of 20 short half-hours in mobile",
		"train ann in mobile: closes 8 of 20 short half-hours in mobile",
		"train ben in mobile: closes 8 of 20 short half-hours in mobile",
		"train zoe in linux: closes 4 of 4 short half-hours in linux",
		"train zoe in mobile: closes 4 of 20 short half-hours in mobile",
	}
	if !slices.Equal(got, want) {
		t.Errorf("needs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	top := Analyze(team, compute(t, team), 2).Needs
	if len(top) != 2 || top[0].Member != "dave" || top[1].Member != "ann" {
		t.Errorf("top 2 %v, want dave then ann", top)
	}
}

func TestGapsCause(t *testing.T) {
	team := teamFrom(t, handTeam)
	r := compute(t, team)
	for _, g := range Gaps(team, r) {
		want := CauseSkills
		if team.Queues[g.Queue].Name == "linux" {
			want = CausePeople
		}
		if g.Cause != want || g.Short != 1 {
			t.Errorf("%s at %s: short %d cause %s, want 1 and %s", team.Queues[g.Queue].Name,
				r.Intervals[g.Interval].Start.Format("15:04"), g.Short, g.Cause, want)
		}
	}
}

// A queue needing two skills that nobody on shift has: one skill trained
// opens it to nobody, so no pair is offered and the note says so.
func TestQueueNobodyCanServe(t *testing.T) {
	team := teamFrom(t, `
timeZone: UTC
shrinkage: 0
shifts: [{name: day, days: [Mon], start: "09:00", end: "10:00"}]
members:
- {name: ann, skills: [windows], shifts: [day]}
- {name: bob, skills: [], shifts: [day]}
queues:
- name: windows
  channel: Email
  skills: [windows]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "10:00", contactsPerHour: 1}]}
  responseTargets: {firstResponse: 4h}
- name: sap-phone
  channel: Email
  skills: [sap, phone]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "10:00", contactsPerHour: 1}]}
  responseTargets: {firstResponse: 4h}
`)
	r := compute(t, team)
	rep := Analyze(team, r, 0)
	if rep.ShortHalfHours != 2 || rep.Queues[1].SkillsIntervals != 2 {
		t.Errorf("report %+v, want 2 short half-hours in sap-phone, both for skills", rep)
	}
	if len(rep.Needs) != 0 {
		t.Errorf("needs %v, want none (no single skill opens sap-phone to anyone)", rep.Needs)
	}
	want := "nobody on shift has the skills of sap-phone (sap, phone) at Mon 2026-11-23 09:00 UTC; no one member trained in one of its skills would close any gap"
	if got := SkillsNote(team, r); got != want {
		t.Errorf("note %q\nwant %q", got, want)
	}
	// Once bob knows sap, training him in phone opens the queue.
	team.Members[1].Skills = []string{"sap"}
	if needs := Rank(team, compute(t, team), Options{}); len(needs) != 1 || needs[0].String() != "train bob in phone: closes 2 of 2 short half-hours in sap-phone" {
		t.Errorf("needs %v, want bob in phone closing 2", needs)
	}
}

func TestSkillsNote(t *testing.T) {
	team := teamFrom(t, handTeam)
	r := compute(t, team)
	want := "nobody on shift has the skills of mobile (mobile) at Mon 2026-11-23 09:00 UTC; training dave in mobile closes 12 of 20 short half-hours in mobile"
	if got := SkillsNote(team, r); got != want {
		t.Errorf("note %q\nwant %q", got, want)
	}
	// With a mobile member on shift the worst gaps are of people: no note.
	team.Members = append(team.Members, coverage.Member{Name: "mo", Skills: []string{"mobile", "linux"}, Shifts: []string{"day", "late"}})
	r = compute(t, team)
	if got := SkillsNote(team, r); got != "" || r.Understaffed() == 0 {
		t.Errorf("note %q with %d understaffed, want none: every worst gap has someone with the skills", got, r.Understaffed())
	}
}

// A pair that moves people can lengthen another queue's gaps; the effect
// is shown and only the net closes counts.
func TestNeedStringShowsQueuesMadeWorse(t *testing.T) {
	n := Need{Member: "ann", Skill: "mobile", Closes: 8, Effects: []Effect{
		{Queue: "mobile", Before: 20, After: 4}, {Queue: "windows", Before: 0, After: 8},
	}}
	if got, want := n.String(), "train ann in mobile: closes 16 of 20 short half-hours in mobile (8 more short in windows)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	n.Effects = []Effect{{Queue: "mobile", Before: 20, After: 12}, {Queue: "linux", Before: 4, After: 2}, {Queue: "sap", Before: 3, After: 2}}
	if got, want := n.String(), "train ann in mobile: closes 8 of 20 short half-hours in mobile, 2 of 4 in linux and 1 of 3 in sap"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestRankMatchesRecompute checks Rank on random small teams against an
// oracle that adds each (member, skill) pair to the team and recomputes
// the whole week's coverage: the same figures, the same order, and the
// top N the first N of the full list.
func TestRankMatchesRecompute(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 4))
	skills := []string{"a", "b", "c", "d"}
	for n := 0; n < 150; n++ {
		team := randomTeam(r, skills)
		res, err := coverage.Compute(team, monday)
		if err != nil {
			t.Fatal(err)
		}
		want := oracleNeeds(t, team, res, skills)
		got := Rank(team, res, Options{})
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("team %d %+v:\nrank   %v\noracle %v", n, team, got, want)
		}
		if len(want) > 2 {
			if top := Rank(team, res, Options{Top: 2}); fmt.Sprint(top) != fmt.Sprint(want[:2]) {
				t.Fatalf("team %d: top 2 %v, want %v", n, top, want[:2])
			}
		}
	}
}

func randomTeam(r *rand.Rand, skills []string) coverage.Team {
	loc := time.UTC
	mon := [7]bool{time.Monday: true}
	team := coverage.Team{Location: loc, Shifts: []coverage.Shift{
		{Name: "early", Days: mon, Start: 8 * 60, End: 12 * 60},
		{Name: "mid", Days: mon, Start: 10 * 60, End: 14 * 60},
		{Name: "late", Days: mon, Start: 12 * 60, End: 16 * 60},
	}}
	for q := 0; q < 2+r.IntN(3); q++ {
		queue := coverage.Queue{Name: fmt.Sprintf("q%d", q), Handle: time.Hour}
		for _, s := range skills {
			if r.IntN(3) == 0 {
				queue.Skills = append(queue.Skills, s)
			}
		}
		if len(queue.Skills) == 0 {
			queue.Skills = []string{skills[r.IntN(len(skills))]}
		}
		for h := 8; h < 16; h += 2 {
			queue.Windows = append(queue.Windows, coverage.Window{Days: mon, From: h * 60, To: h*60 + 120, ContactsPerHour: float64(r.IntN(3))})
		}
		team.Queues = append(team.Queues, queue)
	}
	for m := 0; m < 3+r.IntN(5); m++ {
		member := coverage.Member{Name: fmt.Sprintf("m%d", m), Shifts: []string{team.Shifts[r.IntN(3)].Name}}
		for _, s := range skills {
			if r.IntN(3) == 0 {
				member.Skills = append(member.Skills, s)
			}
		}
		team.Members = append(team.Members, member)
	}
	r.Shuffle(len(team.Members), func(i, j int) { team.Members[i], team.Members[j] = team.Members[j], team.Members[i] })
	return team
}

// oracleNeeds recomputes the team with every pair trained, sharing none of
// Rank's shortcuts (situations, bounds, candidate pruning).
func oracleNeeds(t *testing.T, team coverage.Team, base coverage.Result, skills []string) []Need {
	t.Helper()
	before := perQueueShort(base, len(team.Queues))
	var needs []Need
	for m, member := range team.Members {
		for _, s := range skills {
			if slices.Contains(member.Skills, s) {
				continue
			}
			trained := team
			trained.Members = slices.Clone(team.Members)
			trained.Members[m].Skills = append(slices.Clone(member.Skills), s)
			res, err := coverage.Compute(trained, monday)
			if err != nil {
				t.Fatal(err)
			}
			after := perQueueShort(res, len(team.Queues))
			n := Need{Member: member.Name, Skill: s}
			for q := range after {
				n.Closes += before[q] - after[q]
				if after[q] != before[q] {
					n.Effects = append(n.Effects, Effect{Queue: team.Queues[q].Name, Before: before[q], After: after[q]})
				}
			}
			if n.Closes > 0 {
				needs = append(needs, n)
			}
		}
	}
	sort.Slice(needs, func(a, b int) bool {
		if needs[a].Closes != needs[b].Closes {
			return needs[a].Closes > needs[b].Closes
		}
		if needs[a].Member != needs[b].Member {
			return needs[a].Member < needs[b].Member
		}
		return needs[a].Skill < needs[b].Skill
	})
	return needs
}

func perQueueShort(r coverage.Result, queues int) []int {
	short := make([]int, queues)
	for _, iv := range r.Intervals {
		for q := range short {
			short[q] += max(0, iv.RequiredStaff[q]-iv.Scheduled[q])
		}
	}
	return short
}

// Training someone for a queue that is never short can still close a gap:
// ned, trained in windows, takes pat's place there and pat moves to mobile.
func TestTrainingForAFullQueueFreesAColleague(t *testing.T) {
	team := teamFrom(t, `
timeZone: UTC
shrinkage: 0
shifts: [{name: day, days: [Mon], start: "09:00", end: "10:00"}]
members:
- {name: pat, skills: [windows, mobile], shifts: [day]}
- {name: ned, skills: [], shifts: [day]}
queues:
- name: windows
  channel: Email
  skills: [windows]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "10:00", contactsPerHour: 1}]}
  responseTargets: {firstResponse: 4h}
- name: mobile
  channel: Email
  skills: [mobile]
  demand: {averageHandleTime: 1h, intervals: [{days: [Mon], from: "09:00", to: "10:00", contactsPerHour: 1}]}
  responseTargets: {firstResponse: 4h}
`)
	rep := Analyze(team, compute(t, team), 0)
	if rep.Queues[0].ShortHalfHours != 0 || rep.Queues[1].ShortHalfHours != 2 || rep.Queues[1].SkillsIntervals != 0 {
		t.Fatalf("queues %+v, want mobile short 2 half-hours for people (pat could), windows full", rep.Queues)
	}
	got := make([]string, 0, len(rep.Needs))
	for _, n := range rep.Needs {
		got = append(got, n.String())
	}
	want := []string{
		"train ned in mobile: closes 2 of 2 short half-hours in mobile",
		"train ned in windows: closes 2 of 2 short half-hours in mobile",
	}
	if !slices.Equal(got, want) {
		t.Errorf("needs %q, want %q", got, want)
	}
}
