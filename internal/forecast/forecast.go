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

// Package forecast proposes a queue's demand (spec.queues[].demand) from
// its ticket history. It is pure: arrivals and tickets in, rates and
// demand intervals out.
//
// Method. The week is 7 weekdays × 48 wall-clock half-hours of the team's
// time zone. For each such slot the arrival rate (contacts per hour) is an
// exponentially weighted average of that slot's rate in each of the last
// Weeks weeks before End: the most recent week has weight 1, the one before
// 1-Alpha, then (1-Alpha)², and so on, normalised by the weights of the
// weeks that have data for the slot. A week's slot has no data, and so
// neither counts as zero nor takes weight, when its day is a holiday
// (closed or open: either way the day is unusual), when it is before
// Options.Start (history not read), or when the slot did not exist that day
// (the half-hours the clocks skip on a spring-forward day). A slot's rate
// in one week is its arrivals divided by the real time the slot lasted that
// day: half an hour, except the repeated hour of a fall-back day, whose
// arrivals (both passes) fall in its wall-clock half-hours, which lasted
// an hour each, so its rate is counted over the hour and not doubled.
//
// Defaults: Weeks 8 and Alpha 0.3. Eight weeks give every slot several
// observations even with holidays removed; with Alpha 0.3 the most recent
// week weighs 1, four weeks back 0.34 and eight weeks back 0.08, so the
// weights' half-life is about two weeks: a lasting change in demand shows
// in the forecast within two or three weeks, while one odd week moves it by
// less than a fifth (1/Σweights ≈ 0.3).
//
// Rates.Intervals turns the 7×48 rates into the API's demand.intervals
// (see its doc), and Backtest measures the method's error (WAPE) on the
// weeks before End, each forecast from the weeks before it only.
package forecast

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/supportstack/operator/internal/localday"
)

// Slots is the number of half-hours in a day.
const Slots = 48

// DefaultWeeks is the history taken when Options.Weeks is zero.
const DefaultWeeks = 8

// DefaultAlpha is the smoothing weight when Options.Alpha is zero.
const DefaultAlpha = 0.3

// Options say which history Weekly takes and how it weighs it.
type Options struct {
	// Location is the team's time zone; nil means UTC.
	Location *time.Location
	// Holidays are local dates (2006-01-02), closed or open: their
	// arrivals are left out of the history.
	Holidays map[string]bool
	// End is the end of the history, exclusive, taken at local midnight:
	// the history is the Weeks whole local weeks of days before End's
	// date (arrivals on End's own date are not taken, unless End is that
	// midnight).
	End time.Time
	// Start is the first instant with data (the tickets were read from
	// it): days before its local date are not data. Zero means every day
	// of the Weeks weeks is.
	Start time.Time
	// Weeks is how many weeks before End are taken; zero means
	// DefaultWeeks.
	Weeks int
	// Alpha is the smoothing weight, in (0, 1): week k back (k = 1 the
	// most recent) weighs (1-Alpha)^(k-1). Zero means DefaultAlpha.
	Alpha float64
}

// Rates is a forecast week: contacts per hour in each wall-clock
// half-hour of each weekday.
type Rates struct {
	// PerHour is indexed by time.Weekday (Sunday 0) and half-hour of the
	// local day (0 is 00:00-00:30).
	PerHour [7][Slots]float64
	// Weeks is how many of the weeks taken had at least one day of data
	// (not a holiday, not before Start).
	Weeks int
}

func (o Options) normalized() (Options, error) {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Weeks == 0 {
		o.Weeks = DefaultWeeks
	}
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if o.Weeks < 1 {
		return o, fmt.Errorf("forecast: weeks %d: must be at least 1", o.Weeks)
	}
	if o.Alpha <= 0 || o.Alpha >= 1 {
		return o, fmt.Errorf("forecast: alpha %g: must be between 0 and 1", o.Alpha)
	}
	if o.End.IsZero() {
		return o, errors.New("forecast: no end of history")
	}
	return o, nil
}

// day is one local date of the history.
type day struct {
	weekday time.Weekday
	week    int // 1 = the week just before End
	// hours is the real time each wall-clock half-hour lasted that day.
	hours  [Slots]float64
	counts [Slots]float64
}

// slotOf is t's local date and wall-clock half-hour.
func slotOf(t time.Time, loc *time.Location) (string, int) {
	l := t.In(loc)
	return l.Format(time.DateOnly), l.Hour()*2 + l.Minute()/30
}

// history lays out the days of opt's window that hold data, each with the
// real length of its half-hours, and counts arrivals into them.
func history(arrivals []time.Time, opt Options) map[string]*day {
	loc := opt.Location
	end := localday.Of(opt.End, loc)
	ey, em, ed := end.Date()
	start := localday.Start(ey, em, ed-7*opt.Weeks, loc)
	days := map[string]*day{}
	for i := 0; i < 7*opt.Weeks; i++ {
		d0 := localday.Start(ey, em, ed-7*opt.Weeks+i, loc)
		key := d0.Format(time.DateOnly)
		if opt.Holidays[key] || (!opt.Start.IsZero() && d0.Before(localday.Of(opt.Start, loc))) {
			continue
		}
		d := &day{weekday: d0.Weekday(), week: opt.Weeks - i/7}
		next := localday.Start(ey, em, ed-7*opt.Weeks+i+1, loc)
		// Real half-hours from midnight to midnight, each in the
		// wall-clock half-hour it starts in: a skipped half-hour gets
		// none, a repeated one two.
		for t := d0; t.Before(next); t = t.Add(30 * time.Minute) {
			_, s := slotOf(t, loc)
			d.hours[s] += 0.5
		}
		days[key] = d
	}
	for _, a := range arrivals {
		if a.Before(start) || !a.Before(end) {
			continue
		}
		key, s := slotOf(a, loc)
		if d, ok := days[key]; ok {
			d.counts[s]++
		}
	}
	return days
}

// Weekly forecasts a week's arrival rates from the arrivals (any order;
// those outside the history are ignored) by the package's method.
func Weekly(arrivals []time.Time, opt Options) (Rates, error) {
	opt, err := opt.normalized()
	if err != nil {
		return Rates{}, err
	}
	days := history(arrivals, opt)
	var sum, weight [7][Slots]float64
	weeks := map[int]bool{}
	for _, d := range days {
		weeks[d.week] = true
		w := math.Pow(1-opt.Alpha, float64(d.week-1))
		for s := range Slots {
			if d.hours[s] == 0 {
				continue
			}
			sum[d.weekday][s] += w * d.counts[s] / d.hours[s]
			weight[d.weekday][s] += w
		}
	}
	r := Rates{Weeks: len(weeks)}
	for wd := range 7 {
		for s := range Slots {
			if weight[wd][s] > 0 {
				r.PerHour[wd][s] = sum[wd][s] / weight[wd][s]
			}
		}
	}
	return r, nil
}

// Backtest measures the method on the last `weeks` weeks before opt.End:
// each is forecast by Weekly from the arrivals before its first day only
// (opt with End moved there), the forecast compressed by Intervals as
// it would be pasted (at most MaxIntervals items), and compared with what arrived, half-hour by
// half-hour, on the week's days that are data (holidays and days before
// Start left out, as Weekly leaves them out). A half-hour's forecast is
// its interval's contacts per hour times the real time it lasted. The
// result is the weighted absolute percentage error over all those
// half-hours: Σ|actual - forecast| / Σ actual.
func Backtest(arrivals []time.Time, opt Options, weeks int) (float64, error) {
	opt, err := opt.normalized()
	if err != nil {
		return 0, err
	}
	if weeks < 1 {
		return 0, fmt.Errorf("forecast: backtest of %d weeks", weeks)
	}
	loc := opt.Location
	end := localday.Of(opt.End, loc)
	ey, em, ed := end.Date()
	var absErr, actual float64
	for i := weeks; i >= 1; i-- {
		weekStart := localday.Start(ey, em, ed-7*i, loc)
		past := make([]time.Time, 0, len(arrivals))
		for _, a := range arrivals {
			if a.Before(weekStart) {
				past = append(past, a)
			}
		}
		o := opt
		o.End = weekStart
		rates, err := Weekly(past, o)
		if err != nil {
			return 0, err
		}
		f := expand(rates.Intervals(MaxIntervals))
		// The target week, laid out as Weekly lays out its history.
		t := opt
		t.End, t.Weeks = localday.Start(ey, em, ed-7*(i-1), loc), 1
		days := history(arrivals, t)
		for _, d := range days {
			for s := range Slots {
				fc := f[d.weekday][s] * d.hours[s]
				absErr += math.Abs(d.counts[s] - fc)
				actual += d.counts[s]
			}
		}
	}
	if actual == 0 {
		return 0, errors.New("forecast: no arrivals in the backtest weeks")
	}
	return absErr / actual, nil
}
