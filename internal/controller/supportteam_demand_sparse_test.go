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
	"strings"
	"testing"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
)

// TestForecastDemandTooSparse: a queue of one ticket a day Tuesday to
// Saturday three and four weeks ago, each week at a different hour,
// forecasts in each of those half-hours 2 an hour times its week's share
// of the weights (1, 0.7, 0.49, 0.343): 0.39 and 0.27 an hour, 1.6
// contacts a week ((0.387+0.271)/2 × 5). Rounded to the API's whole
// contacts per hour they all vanish, so the operator keeps
// demand.intervals and says how much the intervals kept. A busy queue's
// intervals keep all (Monday 09:00, 4 an hour) and are used.
func TestForecastDemandTooSparse(t *testing.T) {
	now := est(t, 23, 10, 0)
	team := sampleTeam(t, "ns")
	var sparse, busy []actuals.Ticket
	for w := 1; w <= 4; w++ {
		for d := 1; d <= 5 && w >= 3; d++ {
			sparse = append(sparse, actuals.Ticket{Queue: "q", Created: est(t, 23-7*w+d, 8+w, 0)})
		}
		busy = append(busy, actuals.Ticket{Queue: "q", Created: est(t, 23-7*w, 9, 5)}, actuals.Ticket{Queue: "q", Created: est(t, 23-7*w, 9, 25)})
	}
	st := forecastDemand(team, "q", sparse, now)
	if st.Source != opsv1alpha1.DemandDeclared || !strings.Contains(st.Message, "the forecast's whole contacts per hour keep 0 % of its 1.6 tickets a week: too sparse: using demand.intervals") {
		t.Errorf("sparse: %s %q, want Declared and the share kept", st.Source, st.Message)
	}
	st = forecastDemand(team, "q", busy, now)
	if st.Source != opsv1alpha1.DemandHistory || len(st.Intervals) != 1 || st.Intervals[0].ContactsPerHour != 4 || !strings.Contains(st.Message, "keep 100 %") {
		t.Errorf("busy: %s %+v %q, want History at 4 an hour", st.Source, st.Intervals, st.Message)
	}
}
