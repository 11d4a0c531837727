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

package coverage

import (
	"fmt"
	"time"

	"github.com/supportstack/operator/internal/localday"
)

// Span returns the team's half-hours from start, the first instant of a
// local day in the team's time zone (midnight, or 01:00 where the clocks go
// forward at midnight), to the first instant of the local day days later:
// consecutive in absolute time (a day with a clock change has 46 or 50), each with the
// required staff and the exact allocation of the members on shift, by the
// same rules as Compute. A roster proposal reads its demand from it and
// measures a roster with it. A closed holiday removes its shifts and its
// demand and an open one changes nothing, as in Compute.
func Span(team Team, start time.Time, days int) ([]Interval, error) {
	if team.Location == nil {
		return nil, fmt.Errorf("team has no time zone")
	}
	local := start.In(team.Location)
	if !localday.IsStart(local, team.Location) {
		return nil, fmt.Errorf("span start %s is not the start of a local day", local)
	}
	if days < 1 {
		return nil, fmt.Errorf("span of %d days: need at least one", days)
	}
	p, err := newPlan(team)
	if err != nil {
		return nil, err
	}
	end := localday.Start(local.Year(), local.Month(), local.Day()+days, team.Location)
	n := int(end.Sub(local) / IntervalLength)
	out := make([]Interval, 0, n)
	for i := range n {
		t := local.Add(time.Duration(i) * IntervalLength).In(team.Location)
		iv, err := p.interval(t, p.onShift(t, nil))
		if err != nil {
			return nil, err
		}
		out = append(out, iv)
	}
	return out, nil
}
