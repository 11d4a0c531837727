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
	"sort"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/coverage"
)

// onShiftNames are the names of the members on shift now, in name order.
// coverage.FromSpec keeps spec.members' order, so the result's indices are
// indices into spec.members.
func onShiftNames(spec opsv1alpha1.SupportTeamSpec, onShift []int) []string {
	if len(onShift) == 0 {
		return nil
	}
	names := make([]string, 0, len(onShift))
	for _, mi := range onShift {
		names = append(names, spec.Members[mi].Name)
	}
	return names
}

// onCallFor is the escalation contact of queue q now: a Lead on shift
// with the queue's skills, else any Lead on shift, else a Manager on shift,
// else any Manager; the first by name at each step. A Lead off shift is not
// named: a team lead is the contact while working, a manager always. nil when
// the team has no Lead on shift and no Manager.
func onCallFor(spec opsv1alpha1.SupportTeamSpec, q coverage.Queue, onShift []int) *opsv1alpha1.OnCallContact {
	working := make(map[int]bool, len(onShift))
	for _, mi := range onShift {
		working[mi] = true
	}
	order := make([]int, len(spec.Members))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return spec.Members[order[a]].Name < spec.Members[order[b]].Name })
	steps := []func(m opsv1alpha1.Member, on bool) bool{
		func(m opsv1alpha1.Member, on bool) bool {
			return m.Role == opsv1alpha1.RoleLead && on && len(coverage.ServedQueues(m.Skills, []coverage.Queue{q})) == 1
		},
		func(m opsv1alpha1.Member, on bool) bool { return m.Role == opsv1alpha1.RoleLead && on },
		func(m opsv1alpha1.Member, on bool) bool { return m.Role == opsv1alpha1.RoleManager && on },
		func(m opsv1alpha1.Member, _ bool) bool { return m.Role == opsv1alpha1.RoleManager },
	}
	for _, match := range steps {
		for _, mi := range order {
			if m := spec.Members[mi]; match(m, working[mi]) {
				return &opsv1alpha1.OnCallContact{Name: m.Name, Email: m.Email, Role: m.Role, OnShift: working[mi]}
			}
		}
	}
	return nil
}
