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

package roster

import (
	"fmt"
	"slices"
	"time"
)

// Rule names a hard rule a Violation breaks.
type Rule string

// The hard rules (see the package doc).
const (
	RuleProblem      Rule = "Problem"
	RuleSkills       Rule = "Skills"
	RuleShift        Rule = "Shift"
	RuleAvailability Rule = "Availability"
	RuleRest         Rule = "Rest"
	RuleConsecutive  Rule = "ConsecutiveDays"
)

// Violation is one breach of a hard rule.
type Violation struct {
	Rule    Rule
	Member  string
	Message string
}

func (v Violation) String() string { return fmt.Sprintf("%s: %s: %s", v.Rule, v.Member, v.Message) }

// Check returns every hard rule the roster breaks; none means it is
// feasible. It reads the rules afresh (rest with time.Date on every date
// pair) rather than the solver's precomputed tables, so it checks them.
func Check(p Problem, r Roster) []Violation {
	md, err := compile(p)
	if err != nil {
		return []Violation{{Rule: RuleProblem, Message: err.Error()}}
	}
	if len(r) != len(p.Members) {
		return []Violation{{Rule: RuleProblem, Message: fmt.Sprintf("roster has %d patterns for %d members", len(r), len(p.Members))}}
	}
	return md.check(r)
}

func (md *model) check(r Roster) []Violation {
	p := md.p
	cands := md.rules.Candidates()
	var out []Violation
	for m, pat := range r {
		name := p.Members[m].Name
		bad := func(rule Rule, format string, args ...any) {
			out = append(out, Violation{Rule: rule, Member: name, Message: fmt.Sprintf(format, args...)})
		}
		for w, s := range pat {
			if s.Off() {
				continue
			}
			day := time.Weekday(w)
			if !md.serving[m] {
				bad(RuleSkills, "rostered on %s (%s) but serves no queue", day, s)
			}
			if !slices.Contains(cands, s) {
				bad(RuleShift, "%s on %s is not an allowed start and length", s, day)
			}
			if !available(p.Members[m].Availability, day, s) {
				bad(RuleAvailability, "%s on %s is outside the availability windows", s, day)
			}
		}
		for d := -1; d < md.days; d++ {
			w := md.dayWeekday[d+1]
			a, b := pat[w], pat[(w+1)%7]
			if a.Off() || b.Off() {
				continue
			}
			rest := md.at(d+1, b.Start).Sub(md.at(d, a.Start+a.Length))
			if rest < time.Duration(md.rules.MinRest)*time.Minute {
				bad(RuleRest, "%s %s then %s %s leaves %s on %s", w, a, (w+1)%7, b, rest, md.dayDate[d+1])
				break
			}
		}
		if run := longestRun(pat); run > md.rules.MaxConsecutiveDays {
			bad(RuleConsecutive, "%d consecutive working days (at most %d, the week wrap included)", run, md.rules.MaxConsecutiveDays)
		}
	}
	return out
}

// longestRun is the longest cyclic run of working weekdays (7 when every
// day is worked).
func longestRun(p Pattern) int {
	best, run := 0, 0
	for i := range 14 {
		if p[i%7].Off() {
			run = 0
			continue
		}
		run++
		best = max(best, run)
	}
	return min(best, 7)
}
