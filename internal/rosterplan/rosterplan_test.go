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

package rosterplan

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/coverage"
	"github.com/supportstack/operator/internal/roster"
)

// shiftName is the CRD's pattern for a shift name.
var shiftName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// monday is a time on Monday 23 November 2026 in New York (no clock change
// that week).
var monday = time.Date(2026, time.November, 23, 15, 0, 0, 0, time.UTC)

func teamFrom(t *testing.T, manifest string) *opsv1alpha1.SupportTeam {
	t.Helper()
	team := &opsv1alpha1.SupportTeam{}
	if err := yaml.UnmarshalStrict([]byte(manifest), team); err != nil {
		t.Fatal(err)
	}
	return team
}

// handTeam has a day shift, an overnight shift, a weekend shift whose
// name looks generated but whose hours are not, and a member (lee) who
// serves no queue.
const handTeam = `apiVersion: ops.supportstack.io/v1alpha1
kind: SupportTeam
metadata: {name: hand, namespace: helpdesk}
spec:
  timeZone: America/New_York
  shrinkage: 0
  shifts:
  - {name: day, days: [Mon, Tue, Wed, Thu, Fri], start: "08:00", end: "16:00"}
  - {name: night, days: [Sun, Mon], start: "22:00", end: "06:00"}
  - {name: sat-sun-0900-1700, days: [Sat, Sun], start: "10:00", end: "14:00"}
  members:
  - {name: ann, skills: [windows], shifts: [day]}
  - {name: bo, skills: [windows], shifts: [day, night], hoursPerWeek: 30, availability: [{days: [Mon, Sun], from: "00:00", to: "24:00"}]}
  - {name: lee, skills: [lead], shifts: [sat-sun-0900-1700]}
  queues:
  - name: phones
    channel: Email
    skills: [windows]
    demand: {averageHandleTime: 1h, intervals: [{days: [Mon, Tue, Wed, Thu, Fri], from: "09:00", to: "17:00", contactsPerHour: 2}]}
    responseTargets: {firstResponse: 4h}
`

func TestShapeNames(t *testing.T) {
	days := func(ws ...time.Weekday) [7]bool {
		var d [7]bool
		for _, w := range ws {
			d[w] = true
		}
		return d
	}
	for _, tc := range []struct {
		sh   shape
		want string
	}{
		{shape{days(1, 2, 3, 4, 5), 8 * 60, 16 * 60}, "mon-fri-0800-1600"},
		// Two days are listed, not a range.
		{shape{days(6, 0), 9 * 60, 17 * 60}, "sat-sun-0900-1700"},
		{shape{days(1, 3, 5), 7*60 + 30, 15*60 + 30}, "mon-wed-fri-0730-1530"},
		// Monday first: Friday to Sunday is a run, Sunday to Tuesday is not.
		{shape{days(5, 6, 0), 22 * 60, 6 * 60}, "fri-sun-2200-0600"},
		{shape{days(0, 1, 2), 0, 8 * 60}, "mon-tue-sun-0000-0800"},
		{shape{days(0, 1, 2, 3, 4, 5, 6), 16 * 60, 0}, "mon-sun-1600-0000"},
		{shape{days(3), 12 * 60, 18 * 60}, "wed-1200-1800"},
	} {
		if got := tc.sh.Name(); got != tc.want {
			t.Errorf("%+v named %s, want %s", tc.sh, got, tc.want)
		}
		// The name is a valid shift name (the CRD's pattern).
		if !shiftName.MatchString(tc.sh.Name()) {
			t.Errorf("%s is not a DNS label", tc.sh.Name())
		}
	}
}

func TestBuild(t *testing.T) {
	team := teamFrom(t, handTeam)
	in, err := Build(team, monday, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := in.Problem
	if !p.Start.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, p.Location)) || p.Weeks != 2 {
		t.Errorf("horizon %s x %d weeks, want Monday 00:00 New York x 2", p.Start, p.Weeks)
	}
	ann, bo, lee := p.Members[0], p.Members[1], p.Members[2]
	if ann.HoursPerWeek != 40 || bo.HoursPerWeek != 30 {
		t.Errorf("contracts %v %v, want the default 40 and bo's 30", ann.HoursPerWeek, bo.HoursPerWeek)
	}
	if len(ann.Availability) != 0 || !reflect.DeepEqual(bo.Availability, []roster.Window{{Day: time.Monday, From: 0, To: 1440}, {Day: time.Sunday, From: 0, To: 1440}}) {
		t.Errorf("availability %v / %v", ann.Availability, bo.Availability)
	}
	day, night := roster.Shift{Start: 480, Length: 480}, roster.Shift{Start: 22 * 60, Length: 480}
	// bo works day and night on Monday: the pattern keeps one (equal
	// lengths: the first listed).
	if want := (roster.Pattern{night, day, day, day, day, day, {}}); bo.Current != want {
		t.Errorf("bo's current pattern %v, want %v", bo.Current, want)
	}
	if lee.Current[time.Saturday] != (roster.Shift{Start: 600, Length: 240}) || in.Serving[2] || !in.Serving[0] {
		t.Errorf("lee %+v serving %v", lee, in.Serving)
	}
	// The demand is coverage's: 2 staff 09:00-17:00 on weekdays.
	if len(p.Required) != 1 || len(p.Required[0]) != 2*336 || len(in.Now) != 2*336 {
		t.Fatalf("required %d x %d", len(p.Required), len(p.Required[0]))
	}
	for i, iv := range in.Now {
		if p.Required[0][i] != iv.RequiredStaff[0] {
			t.Fatalf("half-hour %d: required %d, coverage %d", i, p.Required[0][i], iv.RequiredStaff[0])
		}
	}
	if p.Required[0][18] != 2 || p.Required[0][17] != 0 || p.Required[0][48*5+20] != 0 {
		t.Errorf("Monday 09:00 needs %d, 08:30 %d, Saturday 10:00 %d; want 2, 0, 0", p.Required[0][18], p.Required[0][17], p.Required[0][48*5+20])
	}
	if _, err := Build(team, monday, 5); err == nil {
		t.Error("5 weeks accepted")
	}
}

func TestRules(t *testing.T) {
	d := func(s string) *metav1.Duration {
		v, _ := time.ParseDuration(s)
		return &metav1.Duration{Duration: v}
	}
	for _, tc := range []struct {
		name string
		in   *opsv1alpha1.Rostering
		want roster.Rules
		err  string
	}{
		{"absent: every default", nil, roster.Rules{}, ""},
		{"starts only", &opsv1alpha1.Rostering{EarliestStart: "06:00"}, roster.Rules{EarliestStart: 360, LatestStart: 1410}, ""},
		{"all set", &opsv1alpha1.Rostering{MinShift: d("6h"), MaxShift: d("8h30m"), EarliestStart: "07:00", LatestStart: "12:30",
			MinRestBetweenShifts: d("12h"), MaxConsecutiveDays: 5},
			roster.Rules{MinShift: 360, MaxShift: 510, EarliestStart: 420, LatestStart: 750, MinRest: 720, MaxConsecutiveDays: 5}, ""},
		{"midnight only", &opsv1alpha1.Rostering{LatestStart: "00:00"}, roster.Rules{}, "both 00:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Rules(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("Rules = %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Rules = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// The current roster converted to patterns and back is the same team:
// existing shifts keep their names, and coverage reads the same week.
func TestRoundTripKeepsTheTeam(t *testing.T) {
	team := teamFrom(t, handTeam)
	// bo's Monday has two shifts, which a pattern cannot hold: drop the
	// night on Monday so the team is one a pattern expresses.
	team.Spec.Shifts[1].Days = []opsv1alpha1.Weekday{"Sun"}
	in, err := Build(team, monday, 1)
	if err != nil {
		t.Fatal(err)
	}
	current := make(roster.Roster, len(in.Problem.Members))
	for m, mem := range in.Problem.Members {
		current[m] = mem.Current
	}
	proposed, err := in.Proposed(current)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(proposed.Spec, team.Spec) {
		t.Errorf("round trip changed the spec:\n%+v\nwant\n%+v", proposed.Spec, team.Spec)
	}
}

// A random roster written as shifts reads back as the same patterns
// (Current is the independent reader), with names no two shapes share.
func TestRandomRostersReadBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	team := teamFrom(t, handTeam)
	for range 8 {
		team.Spec.Members = append(team.Spec.Members, opsv1alpha1.Member{Name: fmt.Sprintf("m%d", len(team.Spec.Members)), Skills: []string{"windows"}})
	}
	in, err := Build(team, monday, 1)
	if err != nil {
		t.Fatal(err)
	}
	starts := []int{0, 8 * 60, 16 * 60, 22 * 60}
	checked, split := 0, 0
	for trial := range 300 {
		r := make(roster.Roster, len(team.Spec.Members))
		for m := range r {
			start := starts[rng.IntN(len(starts))]
			first := rng.IntN(3) // five days from Monday, Tuesday or Wednesday
			for w := range 7 {
				switch {
				case trial%2 == 0 && (w-1-first+7)%7 < 5:
					// Blocks of five days: few sets of days per hours.
					r[m][w] = roster.Shift{Start: start, Length: 480}
				case trial%2 == 1 && rng.IntN(3) > 0:
					r[m][w] = roster.Shift{Start: starts[rng.IntN(len(starts))], Length: 480}
				}
			}
		}
		proposed, err := in.Proposed(r)
		var tooMany *TooManyShiftsError
		if errors.As(err, &tooMany) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, s := range proposed.Spec.Shifts {
			if len(s.Days) == 1 {
				split++
				break
			}
		}
		model, err := coverage.FromSpec(proposed.Spec)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[shape]string{}
		for _, s := range proposed.Spec.Shifts {
			sh, _ := shapeOf(s)
			if other, dup := seen[sh]; dup {
				t.Fatalf("trial %d: shifts %s and %s are the same", trial, other, s.Name)
			}
			seen[sh] = s.Name
		}
		for m, mem := range proposed.Spec.Members {
			want := r[m]
			if !in.Serving[m] {
				want = in.Problem.Members[m].Current
			}
			if got := Current(mem.Shifts, model.Shifts); got != want {
				t.Fatalf("trial %d: %s reads back %v, want %v", trial, mem.Name, got, want)
			}
		}
	}
	// The trials must reach both ways of writing shifts.
	if checked < 250 || split == 0 || split == checked {
		t.Errorf("%d of 300 rosters fit a SupportTeam, %d with one-day shifts", checked, split)
	}
}

// A generated name that an existing shift of other hours holds (lee's
// sat-sun-0900-1700 runs 10:00-14:00) gets a suffix; lee keeps his shift.
func TestNameTakenByAnotherShift(t *testing.T) {
	team := teamFrom(t, handTeam)
	in, err := Build(team, monday, 1)
	if err != nil {
		t.Fatal(err)
	}
	weekend := roster.Shift{Start: 540, Length: 480}
	r := roster.Roster{{6: weekend, 0: weekend}, {}, {}}
	shifts, members, err := in.Apply(r)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(shifts))
	for _, s := range shifts {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"sat-sun-0900-1700", "sat-sun-0900-1700-2"}) || shifts[1].Start != "09:00" || shifts[0].Start != "10:00" {
		t.Errorf("shifts %+v", shifts)
	}
	if !reflect.DeepEqual(members, [][]string{{"sat-sun-0900-1700-2"}, nil, {"sat-sun-0900-1700"}}) {
		t.Errorf("members' shifts %v", members)
	}
}

// 33 members on 33 different single-day shifts do not fit a SupportTeam.
func TestTooManyShifts(t *testing.T) {
	team := teamFrom(t, handTeam)
	team.Spec.Members = nil
	r := roster.Roster{}
	for i := range 33 {
		team.Spec.Members = append(team.Spec.Members, opsv1alpha1.Member{Name: fmt.Sprintf("m%d", i), Skills: []string{"windows"}})
		var p roster.Pattern
		p[i%7] = roster.Shift{Start: (i / 7) * 60, Length: 480}
		r = append(r, p)
	}
	team.Spec.Shifts = nil
	in, err := Build(team, monday, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = in.Apply(r)
	var tooMany *TooManyShiftsError
	if !errors.As(err, &tooMany) || tooMany.Needed != 33 || !strings.Contains(err.Error(), "at most 32") || !strings.Contains(err.Error(), "narrow spec.rostering") {
		t.Errorf("Apply = %v, want 33 shifts refused with what to do", err)
	}
	// 32 fit.
	team.Spec.Members, r = team.Spec.Members[:32], r[:32]
	if in, err = Build(team, monday, 1); err != nil {
		t.Fatal(err)
	}
	if shifts, _, err := in.Apply(r); err != nil || len(shifts) != 32 {
		t.Errorf("32 shifts: %d, %v", len(shifts), err)
	}
}

// Members on the same hours on many different sets of days share
// one-day shifts when that takes fewer shifts; on a tie the sets of days
// stay (fewer shifts per member, names a manager reads at a glance).
func TestSplitHoursWhenFewer(t *testing.T) {
	team := teamFrom(t, handTeam)
	team.Spec.Shifts, team.Spec.Members = nil, nil
	day := roster.Shift{Start: 480, Length: 480}
	sets := [][]time.Weekday{{1, 2}, {2, 3}, {1, 3}, {1, 2, 3}}
	r := make(roster.Roster, 0, len(sets))
	for i, set := range sets {
		team.Spec.Members = append(team.Spec.Members, opsv1alpha1.Member{Name: fmt.Sprintf("m%d", i), Skills: []string{"windows"}})
		var p roster.Pattern
		for _, w := range set {
			p[w] = day
		}
		r = append(r, p)
	}
	names := func(shifts []opsv1alpha1.Shift) []string {
		out := make([]string, 0, len(shifts))
		for _, s := range shifts {
			out = append(out, s.Name)
		}
		return out
	}
	for _, tc := range []struct {
		members int
		shifts  []string
		first   []string // m0's shifts
	}{
		// Three sets over three days: a tie, the sets stay.
		{3, []string{"mon-tue-0800-1600", "mon-wed-0800-1600", "tue-wed-0800-1600"}, []string{"mon-tue-0800-1600"}},
		// Four sets over three days: three one-day shifts.
		{4, []string{"mon-0800-1600", "tue-0800-1600", "wed-0800-1600"}, []string{"mon-0800-1600", "tue-0800-1600"}},
	} {
		tm := team.DeepCopy()
		tm.Spec.Members = tm.Spec.Members[:tc.members]
		in, err := Build(tm, monday, 1)
		if err != nil {
			t.Fatal(err)
		}
		shifts, members, err := in.Apply(r[:tc.members])
		if err != nil {
			t.Fatal(err)
		}
		if got := names(shifts); !slices.Equal(got, tc.shifts) || !slices.Equal(members[0], tc.first) {
			t.Errorf("%d members: shifts %v, m0 works %v; want %v and %v", tc.members, got, members[0], tc.shifts, tc.first)
		}
	}
}
