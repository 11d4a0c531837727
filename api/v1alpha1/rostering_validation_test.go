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

package v1alpha1_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestRosteringValidation applies the sample SupportTeam with rostering
// limits and member contracts, good and bad: the API server takes the
// good ones and refuses each bad one with a message saying what to fix.
// The rest rule is roster.Rules' own: latestStart + maxShift +
// minRestBetweenShifts + 1h <= 48h + earliestStart, with the defaults for
// what is absent.
func TestRosteringValidation(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	samples := readSamples(t)
	r := func(fields map[string]any) func(map[string]any) { return set("spec.rostering", fields) }
	for i, tc := range []struct {
		name    string
		mutate  func(map[string]any)
		message string // empty: accepted
	}{
		{"every field", r(map[string]any{"minShift": "6h", "maxShift": "8h30m", "earliestStart": "06:00", "latestStart": "14:00",
			"minRestBetweenShifts": "12h", "maxConsecutiveDays": int64(5), "propose": true}), ""},
		{"propose alone", r(map[string]any{"propose": true}), ""},
		{"contract and availability", set("spec.members.0", map[string]any{"name": "alice", "hoursPerWeek": int64(30),
			"availability": []any{map[string]any{"days": []any{"Mon", "Tue"}, "from": "08:00", "to": "24:00"}}}), ""},
		// Defaults 23:30 + 10h + 11h + 1h = 45h30m <= 48h; 16h shifts
		// with 11h rest from 23:30 would not be.
		{"rest rule at the defaults", r(map[string]any{"maxShift": "12h"}), ""},
		{"rest rule broken", r(map[string]any{"maxShift": "16h"}), "must be at most 48h after earliestStart"},
		{"rest rule broken by a long rest", r(map[string]any{"minRestBetweenShifts": "15h", "earliestStart": "00:00"}), "shorten minRestBetweenShifts or maxShift"},
		{"min above max", r(map[string]any{"minShift": "9h", "maxShift": "8h"}), "rostering.minShift must not be longer than rostering.maxShift"},
		{"min above the default max", r(map[string]any{"minShift": "11h"}), "defaults 4h and 10h"},
		{"shift not on the half hour", r(map[string]any{"maxShift": "8h15m"}), "must be a multiple of 30 minutes from 30m to 16h"},
		{"shift of zero", r(map[string]any{"minShift": "0s"}), "must be a multiple of 30 minutes"},
		{"shift in words", r(map[string]any{"minShift": "four hours"}), "must be a duration such as 4h"},
		{"start off the half hour", r(map[string]any{"earliestStart": "06:15"}), "earliestStart must end in :00 or :30"},
		{"latest start at 24:00", r(map[string]any{"latestStart": "24:00"}), "write 23:30 for the last half hour"},
		{"earliest after latest", r(map[string]any{"earliestStart": "12:00", "latestStart": "08:00"}), "earliestStart must not be after rostering.latestStart"},
		{"rest in seconds", r(map[string]any{"minRestBetweenShifts": "11h30s"}), "must be whole minutes"},
		{"eight days in a row", r(map[string]any{"maxConsecutiveDays": int64(8)}), "should be less than or equal to 7"},
		{"contract over 80", set("spec.members.0.hoursPerWeek", int64(90)), "should be less than or equal to 80"},
		{"availability across midnight", set("spec.members.0.availability", []any{map[string]any{"days": []any{"Fri"}, "from": "22:00", "to": "06:00"}}), "split a window that crosses midnight in two"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := samples["SupportTeam"].DeepCopy()
			u.SetNamespace(ns)
			u.SetName(fmt.Sprintf("rostering-%d", i))
			tc.mutate(u.Object)
			err := env.Client.Create(ctx, u, client.DryRunAll)
			switch {
			case tc.message == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.message != "" && (err == nil || !strings.Contains(err.Error(), tc.message)):
				t.Fatalf("got %v, want a refusal containing %q", err, tc.message)
			}
		})
	}
}
