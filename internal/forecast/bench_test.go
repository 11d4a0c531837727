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
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// benchEnd ends the seeded history: Monday 23 March 2026, New York, so
// the 12 weeks hold the spring-forward Sunday of 8 March.
func benchEnd(loc *time.Location) time.Time { return time.Date(2026, 3, 23, 0, 0, 0, 0, loc) }

// dayFactor is the weekly seasonality: busy Monday, quiet weekend.
var dayFactor = [7]float64{0.2, 1.2, 1.1, 1.0, 1.0, 0.9, 0.3}

// trueRate is the seeded desk's contacts per hour at local wall-clock
// hour h (fractional) of weekday wd: 2 at night, a morning peak near 32
// at 10:30 and an afternoon one near 27 at 14:30.
func trueRate(wd time.Weekday, h float64) float64 {
	morning, afternoon := (h-10.5)/1.5, (h-14.5)/1.8
	return dayFactor[wd] * (2 + 30*math.Exp(-morning*morning) + 25*math.Exp(-afternoon*afternoon))
}

// poisson draws from Poisson(lambda) (Knuth's method: lambda here is at
// most about 20).
func poisson(rng *rand.Rand, lambda float64) int {
	limit, p, n := math.Exp(-lambda), 1.0, 0
	for {
		p *= rng.Float64()
		if p <= limit {
			return n
		}
		n++
	}
}

// seededHistory is 12 weeks of arrivals before benchEnd: in each real
// half-hour a Poisson number at trueRate (of the wall-clock time it
// starts at), spread uniformly over it; fixed seed, so every run is the
// same history.
func seededHistory(loc *time.Location) []time.Time {
	rng := rand.New(rand.NewPCG(15, 4))
	end := benchEnd(loc)
	var out []time.Time
	for t := end.AddDate(0, 0, -84); t.Before(end); t = t.Add(30 * time.Minute) {
		l := t.In(loc)
		lambda := trueRate(l.Weekday(), float64(l.Hour())+float64(l.Minute())/60+0.25) / 2
		for range poisson(rng, lambda) {
			out = append(out, t.Add(time.Duration(rng.Int64N(int64(30*time.Minute)))))
		}
	}
	return out
}

// naiveWAPE is the baseline: each half-hour of the last `weeks` weeks
// forecast as the count of the same local half-hour a week earlier.
func naiveWAPE(arrivals []time.Time, loc *time.Location, weeks int) float64 {
	type key struct {
		date string
		slot int
	}
	counts := map[key]float64{}
	for _, a := range arrivals {
		d, s := slotOf(a, loc)
		counts[key{d, s}]++
	}
	end := benchEnd(loc)
	var absErr, actual float64
	for day := end.AddDate(0, 0, -7*weeks); day.Before(end); day = day.AddDate(0, 0, 1) {
		this, last := day.Format(time.DateOnly), day.AddDate(0, 0, -7).Format(time.DateOnly)
		for s := range Slots {
			a, f := counts[key{this, s}], counts[key{last, s}]
			absErr += math.Abs(a - f)
			actual += a
		}
	}
	return absErr / actual
}

// oracleWAPE is the noise floor: the last `weeks` weeks forecast with the
// true rates (no method does better on average than Poisson noise allows).
func oracleWAPE(arrivals []time.Time, loc *time.Location, weeks int) float64 {
	end := benchEnd(loc)
	start := end.AddDate(0, 0, -7*weeks)
	counts := map[time.Time]float64{}
	for _, a := range arrivals {
		if !a.Before(start) && a.Before(end) {
			counts[a.Truncate(30*time.Minute)]++
		}
	}
	var absErr, actual float64
	for t := start; t.Before(end); t = t.Add(30 * time.Minute) {
		l := t.In(loc)
		f := trueRate(l.Weekday(), float64(l.Hour())+float64(l.Minute())/60+0.25) / 2
		absErr += math.Abs(counts[t] - f)
		actual += counts[t]
	}
	return absErr / actual
}

// BenchmarkForecastBacktest backtests the default method (8 weeks,
// Alpha 0.3, compressed to at most 64 intervals) over the last 4 of 12
// seeded weeks, and reports its WAPE beside the naive baseline's (last
// week's same half-hour) and the noise floor's (the true rates).
func BenchmarkForecastBacktest(b *testing.B) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Fatal(err)
	}
	arrivals := seededHistory(loc)
	opt := Options{Location: loc, End: benchEnd(loc)}
	var wape float64
	for b.Loop() {
		if wape, err = Backtest(arrivals, opt, 4); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(wape, "WAPE")
	b.ReportMetric(naiveWAPE(arrivals, loc, 4), "naive-WAPE")
	b.ReportMetric(oracleWAPE(arrivals, loc, 4), "noise-floor-WAPE")
	b.ReportMetric(float64(len(arrivals)), "arrivals")
}

// TestSeededBacktestBeatsNaive keeps the benchmark's claim true in `go
// test`: on the seeded history the method's WAPE is below the naive
// baseline's and above the noise floor.
func TestSeededBacktestBeatsNaive(t *testing.T) {
	loc := newYork(t)
	arrivals := seededHistory(loc)
	wape, err := Backtest(arrivals, Options{Location: loc, End: benchEnd(loc)}, 4)
	if err != nil {
		t.Fatal(err)
	}
	naive, floor := naiveWAPE(arrivals, loc, 4), oracleWAPE(arrivals, loc, 4)
	t.Logf("WAPE %.3f, naive %.3f, noise floor %.3f, %d arrivals", wape, naive, floor, len(arrivals))
	if !(floor < wape && wape < naive) {
		t.Errorf("WAPE %.3f not between the noise floor %.3f and the naive baseline %.3f", wape, floor, naive)
	}
}
