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
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const tier1 = `
metadata: {name: windows-tier1, namespace: helpdesk}
spec:
  timeZone: America/New_York
  shifts:
  - {name: early, days: [Mon, Tue, Wed, Thu, Fri], start: "07:00", end: "15:30"}
  - {name: night, days: [Fri], start: "22:00", end: "06:00"}
  holidays: [{date: "2026-12-25"}, {date: "2026-01-01"}]
  members:
  - {name: alice, email: alice@example.com, role: Lead, skills: [windows, mobile], shifts: [early]}
  - {name: bob, skills: [windows], shifts: [night]}
  queues:
  - name: windows-phone
    channel: Phone
    skills: [windows]
    serviceLevel: {percent: 80, answerWithin: 20s}
    escalation: {after: 30m, toTeam: windows-tier2, toQueue: escalations}
  - name: mobile-mail
    channel: Email
    skills: [windows, mobile]
    responseTargets: {firstResponse: 4h, resolution: 48h}
    escalation: {after: 2h, toQueue: windows-phone}
`

func TestBuildRoutingTable(t *testing.T) {
	team := loadTeam(t, tier1)
	tier2 := loadTeam(t, `
metadata: {name: windows-tier2, namespace: helpdesk}
spec:
  timeZone: UTC
  queues: [{name: escalations, channel: Email, skills: [windows], responseTargets: {firstResponse: 1h}}]
`)
	cases := []struct {
		name    string
		teams   map[string]*opsv1alpha1.SupportTeam
		wantErr string
	}{
		{"target team and queue exist", map[string]*opsv1alpha1.SupportTeam{"windows-tier2": tier2}, ""},
		{"target team missing", nil, "queue windows-phone escalates to team windows-tier2, which does not exist in namespace helpdesk"},
		{"target queue missing", map[string]*opsv1alpha1.SupportTeam{"windows-tier2": loadTeam(t, `
metadata: {name: windows-tier2, namespace: helpdesk}
spec: {timeZone: UTC}`)}, "queue windows-phone escalates to queue escalations of team windows-tier2, which has no such queue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table, err := Build(team, func(name string) (*opsv1alpha1.SupportTeam, bool, error) {
				other, ok := tc.teams[name]
				return other, ok, nil
			})
			if tc.wantErr != "" {
				var escalation *EscalationError
				if !errors.As(err, &escalation) || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			phone, mail := table.Queues[0], table.Queues[1]
			if strings.Join(phone.Members, ",") != "alice,bob" || strings.Join(mail.Members, ",") != "alice" {
				t.Errorf("members %v / %v", phone.Members, mail.Members)
			}
			if *phone.Escalation != (EscalationRoute{After: "30m0s", Team: "windows-tier2", Queue: "escalations"}) ||
				*mail.Escalation != (EscalationRoute{After: "2h0m0s", Team: "windows-tier1", Queue: "windows-phone"}) {
				t.Errorf("escalations %+v / %+v", phone.Escalation, mail.Escalation)
			}
			if phone.ServiceLevel != "80% within 20s" || mail.FirstResponse != "4h0m0s" || mail.Resolution != "48h0m0s" {
				t.Errorf("targets %q %q %q", phone.ServiceLevel, mail.FirstResponse, mail.Resolution)
			}
		})
	}
}

func TestBusinessHours(t *testing.T) {
	spans := businessHours(loadTeam(t, tier1))
	want := map[int][2]int{
		1: {7 * 60, 15*60 + 30}, // Monday
		5: {7 * 60, 24 * 60},    // Friday: early shift, then night from 22:00
		6: {0, 6 * 60},          // Saturday: the Friday night shift's morning
		2: {7 * 60, 15*60 + 30},
	}
	for d, w := range want {
		t.Run(time.Weekday(d).String(), func(t *testing.T) {
			if spans[d] != w {
				t.Errorf("day %d: %v, want %v", d, spans[d], w)
			}
		})
	}
	if _, ok := spans[0]; ok {
		t.Errorf("Sunday has business hours %v, want none", spans[0])
	}
	if got := businessHours(loadTeam(t, "metadata: {name: x}\nspec: {timeZone: UTC}")); len(got) != 7 || got[3] != [2]int{0, 1440} {
		t.Errorf("team without shifts: %v, want around the clock", got)
	}
}

// TestRenderRTOpenHoliday: RT's business hours pause the response clocks
// on closed holidays only; an open holiday is a working day, so RT does not
// list it.
func TestRenderRTOpenHoliday(t *testing.T) {
	team := loadTeam(t, `metadata: {name: x}
spec:
  timeZone: UTC
  holidays:
  - {date: "2026-11-26", name: Thanksgiving}
  - {date: "2026-11-27", name: Black Friday, open: true}`)
	cfg := RenderRT(team).SiteConfig
	if !strings.Contains(cfg, "holidays => ['2026-11-26'],") {
		t.Errorf("the closed holiday is not RT's holiday:\n%s", cfg)
	}
	if strings.Contains(cfg, "2026-11-27") {
		t.Errorf("the open holiday stops RT's clocks:\n%s", cfg)
	}
	team.Spec.Holidays = team.Spec.Holidays[1:]
	if cfg := RenderRT(team).SiteConfig; strings.Contains(cfg, "holidays =>") {
		t.Errorf("only an open holiday, yet RT gets a holidays list:\n%s", cfg)
	}
}

// TestRenderRTGolden compares the rendered RT configuration with the
// reviewed files in testdata/ (go test ./internal/queues -run Golden -update).
func TestRenderRTGolden(t *testing.T) {
	cfg := RenderRT(loadTeam(t, tier1))
	for name, got := range map[string]string{"rt-siteconfig.pm": cfg.SiteConfig, "rt-initialdata.pl": cfg.InitialData} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(want) != got {
				t.Errorf("%s differs from the golden file:\n%s", name, got)
			}
		})
	}
	if again := RenderRT(loadTeam(t, tier1)); again.SHA256 != cfg.SHA256 || len(cfg.SHA256) != 64 {
		t.Errorf("content hash not stable: %s vs %s", cfg.SHA256, again.SHA256)
	}
}
