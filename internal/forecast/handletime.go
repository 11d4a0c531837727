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

package forecast

import (
	"time"

	"github.com/supportstack/operator/internal/actuals"
)

// DefaultHandleTimeMin is how many resolved tickets with time worked
// HandleTime needs by default. Handle times spread about as widely as
// their mean (a standard deviation near the mean is common for help-desk
// work), so the mean of 30 is within about ±35% of the true one 95% of
// the time (1.96/√30 ≈ 0.36); fewer would let a few long tickets set the
// queue's staffing.
const DefaultHandleTimeMin = 30

// HandleTime proposes an average handle time: the mean TimeWorked of the
// resolved tickets that have one (time recorded in RT), when there are at
// least min of them; otherwise false, and the team's value should stay.
// n is how many such tickets there are, either way. Unresolved tickets are
// left out: their work is not done, so their time worked so far would
// pull the mean down.
func HandleTime(tickets []actuals.Ticket, min int) (aht time.Duration, n int, ok bool) {
	var sum time.Duration
	for _, t := range tickets {
		if t.Resolved != nil && t.TimeWorked > 0 {
			sum += t.TimeWorked
			n++
		}
	}
	if n == 0 || n < min {
		return 0, n, false
	}
	// Rounded to the second: the spec writes durations like 4m30s.
	return (sum / time.Duration(n)).Round(time.Second), n, true
}
