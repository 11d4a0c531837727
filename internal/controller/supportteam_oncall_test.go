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

package controller

import (
	"fmt"
	"testing"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/coverage"
)

// TestOnCallFor: each step of the escalation rule, with a case a rule in
// another order, or one that ignores skills or shifts, would get wrong.
func TestOnCallFor(t *testing.T) {
	// Members in spec order, not name order, so "first by name" is tested.
	members := []opsv1alpha1.Member{
		{Name: "zoe", Role: opsv1alpha1.RoleLead, Skills: []string{"windows", "email"}},
		{Name: "adam", Role: opsv1alpha1.RoleLead, Skills: []string{"windows"}},
		{Name: "mia", Role: opsv1alpha1.RoleManager, Email: "mia@example.com"},
		{Name: "bea", Role: opsv1alpha1.RoleManager},
		{Name: "sam", Role: opsv1alpha1.RoleSpecialist, Skills: []string{"windows", "email"}},
	}
	const zoe, adam, mia, bea, sam = 0, 1, 2, 3, 4
	email := coverage.Queue{Name: "email", Skills: []string{"windows", "email"}}
	cases := []struct {
		name    string
		members []opsv1alpha1.Member
		onShift []int
		want    string
	}{
		{"a lead on shift with the skills beats one earlier by name without them", members, []int{adam, zoe, sam}, "zoe Lead on"},
		{"a lead on shift without the skills beats a manager on shift", members, []int{adam, mia, sam}, "adam Lead on"},
		{"a lead off shift is never named: the manager on shift is", members, []int{mia, sam}, "mia Manager on"},
		{"a manager on shift beats one earlier by name off shift", members, []int{mia}, "mia Manager on"},
		{"nobody on shift: the first manager by name", members, nil, "bea Manager off"},
		{"a specialist is never the contact", []opsv1alpha1.Member{members[sam]}, []int{0}, "none"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := "none"
			if c := onCallFor(opsv1alpha1.SupportTeamSpec{Members: tc.members}, email, tc.onShift); c != nil {
				state := "off"
				if c.OnShift {
					state = "on"
				}
				got = fmt.Sprintf("%s %s %s", c.Name, c.Role, state)
				if c.Name == "mia" && c.Email != "mia@example.com" {
					t.Errorf("contact %+v lost the member's e-mail", c)
				}
			}
			if got != tc.want {
				t.Errorf("onCall %q, want %q", got, tc.want)
			}
		})
	}
	if got := onShiftNames(opsv1alpha1.SupportTeamSpec{Members: members}, []int{adam, sam}); fmt.Sprint(got) != "[adam sam]" {
		t.Errorf("onShiftNames %v", got)
	}
}
