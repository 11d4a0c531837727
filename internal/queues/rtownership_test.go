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
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/queues/rttest"
)

// TestQueueOfAnotherTeamNeverTaken: in a real RT, team finance/payroll owns
// queue "payroll", an RT admin made "facilities" by hand and disabled
// "archive". The lead of helpdesk/desk names all three in her team's spec
// (with the platform's token, as the operator would send it): none is
// changed, re-enabled or disabled, each is reported, the team's own queue is
// still created, and the rendered rights and service levels name none of
// them. Dropping them from the spec disables nothing.
func TestQueueOfAnotherTeamNeverTaken(t *testing.T) {
	ctx := context.Background()
	s := rttest.Start(t)
	rt := &RequestTracker{BaseURL: s.URL, Token: s.Token, HTTP: &http.Client{Timeout: 30 * time.Second}}

	finance := loadTeam(t, strings.NewReplacer("name: desk,", "name: payroll,", "namespace: helpdesk", "namespace: finance",
		"desk-mail", "payroll", "desk-phone", "payroll-phone").Replace(deskTeam))
	if _, err := rt.Sync(ctx, RTDesiredFor(finance)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []map[string]any{
		{"Name": "facilities", "Description": "made by hand"},
		{"Name": "archive", "Description": "old tickets", "Disabled": 1},
	} {
		if code, out := s.Call(http.MethodPost, "/queue", q); code != http.StatusCreated {
			t.Fatalf("creating %v: %d %v", q["Name"], code, out)
		}
	}
	theirs := []string{"archive", "facilities", "payroll"}
	snapshot := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, name := range theirs {
			code, q := s.Call(http.MethodGet, "/queue/"+name, nil)
			if code != http.StatusOK {
				t.Fatalf("queue %s: %d", name, code)
			}
			out[name] = q
		}
		return out
	}
	before := snapshot()
	if before["archive"]["Disabled"] != "1" || before["payroll"]["Disabled"] != "0" ||
		!strings.HasPrefix(before["payroll"]["Description"].(string), OwnerMarker("finance/payroll")) {
		t.Fatalf("setup: %v", before)
	}

	lead := loadTeam(t, deskTeam)
	lead.Spec.Queues = append(lead.Spec.Queues[:1], lead.Spec.Queues[0], lead.Spec.Queues[0], lead.Spec.Queues[0])
	for i, name := range theirs {
		lead.Spec.Queues[i+1].Name = name
	}
	res, err := rt.Sync(ctx, RTDesiredFor(lead))
	if err != nil {
		t.Fatal(err)
	}
	reported := make([]string, 0, len(res.NotOwned))
	for _, q := range res.NotOwned {
		reported = append(reported, q.Name)
		if q.OtherTeam != (q.Name == "payroll") {
			t.Errorf("%s: OtherTeam = %v", q.Name, q.OtherTeam)
		}
	}
	sort.Strings(reported)
	if !reflect.DeepEqual(reported, theirs) {
		t.Errorf("reported not owned %v, want %v", reported, theirs)
	}
	if len(res.QueueIDs) != 1 || res.QueueIDs["desk-mail"] == "" {
		t.Errorf("queue ids %v, want only the team's own desk-mail", res.QueueIDs)
	}
	if after := snapshot(); !reflect.DeepEqual(after, before) {
		t.Errorf("queues the team does not own changed:\nbefore %v\nafter  %v", before, after)
	}
	want := `Request Tracker queue payroll (id ` + fmt.Sprint(before["payroll"]["id"]) + `) already exists and belongs to another SupportStack team: ` +
		`the operator neither changes, re-enables nor disables it. Rename the queue in spec.queues, or have an RT admin release it ` +
		`to this team by starting its Description with "SupportStack helpdesk/desk:"`
	for _, q := range res.NotOwned {
		if q.Name == "payroll" && q.Message("helpdesk/desk") != want {
			t.Errorf("message %q\nwant    %q", q.Message("helpdesk/desk"), want)
		}
		if q.Name == "facilities" && !strings.Contains(q.Message("helpdesk/desk"), "facilities (id "+fmt.Sprint(before["facilities"]["id"])+") already exists and was not created by SupportStack") {
			t.Errorf("facilities message %q", q.Message("helpdesk/desk"))
		}
	}
	cfg := RenderRTOwned(lead, res.QueueIDs)
	for _, name := range theirs {
		if strings.Contains(cfg.InitialData, "'"+name+"'") || strings.Contains(cfg.SiteConfig, "'"+name+"'") {
			t.Errorf("the rendered rights or service levels name %s:\n%s\n%s", name, cfg.InitialData, cfg.SiteConfig)
		}
	}
	if !strings.Contains(cfg.InitialData, "Queue => 'desk-mail'") {
		t.Errorf("the team's own queue has no rights:\n%s", cfg.InitialData)
	}

	// The lead drops them again: nothing is disabled, nothing changes.
	lead.Spec.Queues = lead.Spec.Queues[:1]
	res, err = rt.Sync(ctx, RTDesiredFor(lead))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Disabled) != 0 || len(res.NotOwned) != 0 || res.Writes != 0 {
		t.Errorf("after dropping them: disabled %v, not owned %v, %d writes; want none", res.Disabled, res.NotOwned, res.Writes)
	}
	if after := snapshot(); !reflect.DeepEqual(after, before) {
		t.Errorf("queues the team does not own changed after it dropped them:\nbefore %v\nafter  %v", before, after)
	}
	// The other team still syncs its queue with no write: nothing moved.
	if again, err := rt.Sync(ctx, RTDesiredFor(finance)); err != nil || again.Writes != 0 || len(again.NotOwned) != 0 {
		t.Errorf("finance's next sync: %d writes, not owned %v, %v; want 0, none", again.Writes, again.NotOwned, err)
	}
}
