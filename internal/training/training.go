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

// Package training tells a manager who to train in what. From a team's
// coverage (package coverage, the roster as it is) it finds the
// understaffed queue-intervals, says why each one is short, and ranks the
// (member, skill) pairs by how much of the shortfall training them would
// close. It has no Kubernetes client.
//
// Rules:
//
//   - The shortfall is counted in staff-half-hours: the sum over
//     understaffed queue-intervals of required minus scheduled staff, with
//     coverage's exact allocation.
//   - A gap's cause is "skills" when nobody on shift in that interval has
//     all of the queue's skills, and "people" when someone does but too
//     few people are on shift for every queue they could serve.
//   - A training pair adds one skill to one member, who keeps their shifts.
//     Its figure is the shortfall it removes: every interval in which the
//     member is on shift and some queue is short is allocated again with
//     the skill added, and the per-queue differences are summed (one
//     person adds at most one staff per interval, so that count bounds the
//     figure and pairs that cannot beat the ones found are not computed).
//     Pairs are the members on shift in some short interval and the skills
//     of any queue they lack, and only those that make the member serve a
//     queue they did not; a queue needing two skills nobody on shift has
//     shows no pair. Skills of queues that are never short count too: a
//     member trained for a full queue can free a colleague who also serves
//     a short one. The allocation may also move people
//     between queues, so a pair can lengthen another queue's gaps: its
//     per-queue effects say so, and its figure is the net total.
//   - Pairs are ranked by the staff-half-hours they close (most first),
//     then by member name and skill; pairs closing nothing are left out.
package training

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/supportstack/operator/internal/coverage"
)

// Cause is why a queue-interval is understaffed.
type Cause string

const (
	// CauseSkills means nobody on shift has all of the queue's skills.
	CauseSkills Cause = "skills"
	// CausePeople means someone on shift has the skills, but too few
	// people are on shift for the queues they serve.
	CausePeople Cause = "people"
)

// Gap is one understaffed queue-interval.
type Gap struct {
	// Queue is an index into Team.Queues, Interval into Result.Intervals.
	Queue, Interval int
	// Short is required minus scheduled staff.
	Short int
	Cause Cause
}

// QueueGaps sums up one queue's gaps over the horizon.
type QueueGaps struct {
	Name string
	// ShortHalfHours is the staff-half-hours short (the sum of the gaps).
	ShortHalfHours int
	// Intervals is the number of understaffed intervals, SkillsIntervals
	// of them caused by skills (the rest by people); SkillsHalfHours is the
	// staff-half-hours short in those.
	Intervals, SkillsIntervals, SkillsHalfHours int
}

// Effect is what a training pair does to one queue's shortfall.
type Effect struct {
	Queue string
	// Before and After are the queue's staff-half-hours short without and
	// with the training.
	Before, After int
}

// Need is a (member, skill) pair worth training.
type Need struct {
	Member, Skill string
	// Closes is the staff-half-hours short the training removes, net of
	// every queue.
	Closes int
	// Effects lists, in queue order, the queues whose shortfall changes.
	Effects []Effect
}

// String reads like "train dave in mobile: closes 14 of 22 short
// half-hours in windows-phone".
func (n Need) String() string {
	return fmt.Sprintf("train %s in %s: %s", n.Member, n.Skill, n.closing())
}

// closing is "closes 14 of 22 short half-hours in windows-phone and 2 of 5
// in mail; 1 more short in linux".
func (n Need) closing() string {
	var closed, opened []string
	for _, e := range n.Effects {
		if e.After < e.Before {
			unit := ""
			if len(closed) == 0 {
				unit = " short half-hours"
			}
			closed = append(closed, fmt.Sprintf("%d of %d%s in %s", e.Before-e.After, e.Before, unit, e.Queue))
		} else {
			opened = append(opened, fmt.Sprintf("%d more short in %s", e.After-e.Before, e.Queue))
		}
	}
	s := "closes " + joinAnd(closed)
	if len(opened) > 0 {
		s += " (" + joinAnd(opened) + ")"
	}
	return s
}

func joinAnd(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// Report is the training view of a team's coverage.
type Report struct {
	// ShortHalfHours is the staff-half-hours short over every queue.
	ShortHalfHours int
	// Queues has one entry per queue, in queue order.
	Queues []QueueGaps
	// Needs are the best training pairs, best first.
	Needs []Need
}

// Analyze summarises the gaps of r (coverage of team) and ranks the top
// training pairs (every pair that closes something when top <= 0).
func Analyze(team coverage.Team, r coverage.Result, top int) Report {
	rep := Report{Queues: make([]QueueGaps, len(team.Queues))}
	for qi, q := range team.Queues {
		rep.Queues[qi].Name = q.Name
	}
	for _, g := range Gaps(team, r) {
		s := &rep.Queues[g.Queue]
		s.ShortHalfHours += g.Short
		s.Intervals++
		if g.Cause == CauseSkills {
			s.SkillsIntervals++
			s.SkillsHalfHours += g.Short
		}
		rep.ShortHalfHours += g.Short
	}
	rep.Needs = Rank(team, r, Options{Top: top})
	return rep
}

// Gaps lists the understaffed queue-intervals of r, by interval then queue,
// each with its cause.
func Gaps(team coverage.Team, r coverage.Result) []Gap {
	eligible := servedBy(team)
	var gaps []Gap
	for i, iv := range r.Intervals {
		for qi := range iv.RequiredStaff {
			short := iv.RequiredStaff[qi] - iv.Scheduled[qi]
			if short <= 0 {
				continue
			}
			gaps = append(gaps, Gap{Queue: qi, Interval: i, Short: short, Cause: cause(eligible, iv.Members, qi)})
		}
	}
	return gaps
}

func cause(eligible [][]int, onShift []int, qi int) Cause {
	for _, m := range onShift {
		if slices.Contains(eligible[m], qi) {
			return CausePeople
		}
	}
	return CauseSkills
}

func servedBy(team coverage.Team) [][]int {
	eligible := make([][]int, len(team.Members))
	for m, member := range team.Members {
		eligible[m] = coverage.ServedQueues(member.Skills, team.Queues)
	}
	return eligible
}

// Options narrows Rank.
type Options struct {
	// Top is how many pairs to return; all that close something when <= 0.
	Top int
	// Skills, when not empty, are the only skills considered; otherwise
	// every skill of a queue.
	Skills []string
}

// situation is the short intervals with the same people on shift and the
// same requirement: one allocation answers for all of them.
type situation struct {
	members, required []int
	short             []int // per queue
	count             int
}

// candidate is a training pair to evaluate.
type candidate struct {
	member   int
	skill    string
	eligible []int // the queues the member serves once trained
	bound    int   // short intervals the member works: at most this is closed
}

// Rank returns the training pairs that close the most of r's shortfall.
func Rank(team coverage.Team, r coverage.Result, opts Options) []Need {
	sits, shortBefore := situations(r, len(team.Queues))
	eligible := servedBy(team)
	cands := candidates(team, eligible, sits, opts.Skills)
	sort.SliceStable(cands, func(a, b int) bool {
		ca, cb := cands[a], cands[b]
		if ca.bound != cb.bound {
			return ca.bound > cb.bound
		}
		if team.Members[ca.member].Name != team.Members[cb.member].Name {
			return team.Members[ca.member].Name < team.Members[cb.member].Name
		}
		return ca.skill < cb.skill
	})

	// One Allocator over a copy of the served queues in which the
	// candidate's row is swapped in and out.
	trained := slices.Clone(eligible)
	alloc := coverage.NewAllocator(trained, len(team.Queues))
	scheduled := make([]int, len(team.Queues))
	shortAfter := make([]int, len(team.Queues))
	var best []Need
	for _, c := range cands {
		if opts.Top > 0 && len(best) == opts.Top && c.bound < best[len(best)-1].Closes {
			break // sorted by bound: no later pair can enter the list
		}
		copy(shortAfter, shortBefore)
		trained[c.member] = c.eligible
		for _, s := range sits {
			if !slices.Contains(s.members, c.member) {
				continue
			}
			alloc.Allocate(s.members, s.required, scheduled)
			for q := range scheduled {
				shortAfter[q] += s.count * (max(0, s.required[q]-scheduled[q]) - s.short[q])
			}
		}
		trained[c.member] = eligible[c.member]
		need := Need{Member: team.Members[c.member].Name, Skill: c.skill}
		for q := range shortAfter {
			need.Closes += shortBefore[q] - shortAfter[q]
			if shortAfter[q] != shortBefore[q] {
				need.Effects = append(need.Effects, Effect{Queue: team.Queues[q].Name, Before: shortBefore[q], After: shortAfter[q]})
			}
		}
		if need.Closes > 0 {
			best = insert(best, need, opts.Top)
		}
	}
	return best
}

// insert puts n into best (closes most first, then member, then skill),
// keeping at most top.
func insert(best []Need, n Need, top int) []Need {
	i := sort.Search(len(best), func(i int) bool {
		b := best[i]
		if b.Closes != n.Closes {
			return b.Closes < n.Closes
		}
		if b.Member != n.Member {
			return b.Member > n.Member
		}
		return b.Skill > n.Skill
	})
	best = slices.Insert(best, i, n)
	if top > 0 && len(best) > top {
		best = best[:top]
	}
	return best
}

// situations groups r's short intervals by their people on shift and
// requirement (the allocation depends on nothing else: a weekday that
// repeats is computed once) and returns each queue's staff-half-hours
// short.
func situations(r coverage.Result, queues int) ([]situation, []int) {
	var sits []situation
	index := map[string]int{}
	total := make([]int, queues)
	var key []byte
	for _, iv := range r.Intervals {
		gap := false
		for q := range total {
			short := max(0, iv.RequiredStaff[q]-iv.Scheduled[q])
			total[q] += short
			gap = gap || short > 0
		}
		if !gap {
			continue
		}
		key = key[:0]
		for _, m := range iv.Members {
			key = strconv.AppendInt(append(key, ' '), int64(m), 10)
		}
		key = append(key, '/')
		for _, req := range iv.RequiredStaff {
			key = strconv.AppendInt(append(key, ' '), int64(req), 10)
		}
		if i, ok := index[string(key)]; ok {
			sits[i].count++
			continue
		}
		short := make([]int, queues)
		for q := range short {
			short[q] = max(0, iv.RequiredStaff[q]-iv.Scheduled[q])
		}
		index[string(key)] = len(sits)
		sits = append(sits, situation{members: iv.Members, required: iv.RequiredStaff, short: short, count: 1})
	}
	return sits, total
}

// candidates lists the pairs worth computing: members on shift in a short
// interval, skills of queues (or only these) they lack, that make them
// serve a queue they did not.
func candidates(team coverage.Team, eligible [][]int, sits []situation, only []string) []candidate {
	bound := make([]int, len(team.Members))
	for _, s := range sits {
		for _, m := range s.members {
			bound[m] += s.count
		}
	}
	skills := map[string]bool{}
	for _, sk := range only {
		skills[sk] = true
	}
	if len(only) == 0 {
		for _, q := range team.Queues {
			for _, sk := range q.Skills {
				skills[sk] = true
			}
		}
	}
	names := make([]string, 0, len(skills))
	for sk := range skills {
		names = append(names, sk)
	}
	sort.Strings(names)
	var cands []candidate
	for m, member := range team.Members {
		if bound[m] == 0 {
			continue
		}
		for _, sk := range names {
			if slices.Contains(member.Skills, sk) {
				continue
			}
			served := coverage.ServedQueues(append(slices.Clone(member.Skills), sk), team.Queues)
			if len(served) == len(eligible[m]) {
				continue // the skill alone opens no queue to them
			}
			cands = append(cands, candidate{member: m, skill: sk, eligible: served, bound: bound[m]})
		}
	}
	return cands
}

// SkillsNote explains an understaffed team whose gap is one of skills:
// among the queues whose worst interval has nobody on shift with their
// skills, the one with the largest shortfall there (the earliest queue on
// ties), when it is, and the training pair in that queue's skills that
// closes the most. It returns "" when every queue's worst gap is one of
// people.
func SkillsNote(team coverage.Team, r coverage.Result) string {
	eligible := servedBy(team)
	pick, at := -1, -1
	for qi, q := range r.Queues {
		g := q.WorstGap
		if g == nil || (pick >= 0 && g.Required-g.Scheduled <= r.Queues[pick].WorstGap.Required-r.Queues[pick].WorstGap.Scheduled) {
			continue
		}
		i := intervalAt(r, g.Start)
		if i >= 0 && cause(eligible, r.Intervals[i].Members, qi) == CauseSkills {
			pick, at = qi, i
		}
	}
	if pick < 0 {
		return ""
	}
	q := team.Queues[pick]
	note := fmt.Sprintf("nobody on shift has the skills of %s (%s) at %s", q.Name, strings.Join(q.Skills, ", "),
		r.Intervals[at].Start.Format("Mon 2006-01-02 15:04 MST"))
	needs := Rank(team, r, Options{Top: 1, Skills: q.Skills})
	if len(needs) == 0 {
		return note + "; no one member trained in one of its skills would close any gap"
	}
	n := needs[0]
	return fmt.Sprintf("%s; training %s in %s %s", note, n.Member, n.Skill, n.closing())
}

func intervalAt(r coverage.Result, t time.Time) int {
	for i, iv := range r.Intervals {
		if iv.Start.Equal(t) {
			return i
		}
	}
	return -1
}
