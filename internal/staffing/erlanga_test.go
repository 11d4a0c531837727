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

package staffing

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// ctmcOracle solves the M/M/n+M queue without the product form or the
// series erlanga.go sums: the generator of the birth-death chain truncated
// at n+m contacts is written out in full, the global balance equations
// πQ = 0 (one replaced by Σπ = 1) are solved by Gaussian elimination with
// partial pivoting, and then
//   - P(wait) = Σ_{k≥n} π_k (arrivals see time averages),
//   - P(abandon) = γ·E[queue]/λ (abandonment flow over arrival flow),
//   - the service level integrates, by RK4 over [0, t], the backward
//     equations of a tagged contact's position i in the queue:
//     f_i' = (nμ+iγ)(f_{i−1} − f_i) − γf_i, f_{−1} ≡ 1, f_i(0) = 0,
//     where f_i(s) = P(answered within s | i contacts ahead),
//   - the ASA of answered contacts comes from a first-step analysis of the
//     same position chain.
type ctmcOracle struct {
	pWait, pAb, sl, asa float64
}

func solveCTMC(n int, lambda, mu, gamma, t float64, m int) ctmcOracle {
	size := n + m + 1
	death := func(k int) float64 {
		if k <= n {
			return float64(k) * mu
		}
		return float64(n)*mu + float64(k-n)*gamma
	}
	// Rows are the balance equations Σ_k π_k Q[k][j] = 0, i.e. the columns
	// of Q; the last one is replaced by normalisation.
	mat := make([][]float64, size)
	for j := range mat {
		mat[j] = make([]float64, size+1)
	}
	for k := 0; k < size; k++ {
		out := 0.0
		if k+1 < size {
			mat[k+1][k] += lambda
			out += lambda
		}
		if k > 0 {
			mat[k-1][k] += death(k)
			out += death(k)
		}
		mat[k][k] -= out
	}
	for k := 0; k <= size; k++ {
		mat[size-1][k] = 1
	}
	pi := gaussSolve(mat)
	var o ctmcOracle
	queue := 0.0
	for k := n; k < size; k++ {
		o.pWait += pi[k]
		queue += float64(k-n) * pi[k]
	}
	o.pAb = gamma * queue / lambda
	// Service level: answered without waiting, plus the waiting ones that
	// are answered within t.
	f := positionCDF(n, mu, gamma, t, m)
	o.sl = 1 - o.pWait
	for j := 0; j < m; j++ {
		o.sl += pi[n+j] * f[j]
	}
	// First-step analysis: s_i = P(answered | i ahead), e_i = E[V; answered].
	s, e := 1.0, 0.0
	served := 1 - o.pWait
	for j := 0; j < m; j++ {
		up, r := float64(n)*mu+float64(j)*gamma, float64(n)*mu+float64(j+1)*gamma
		e = s*up/r/r + up/r*e // holding time 1/r on the answered path, then the next stage
		s = s * up / r
		o.asa += pi[n+j] * e
		served += pi[n+j] * s
	}
	o.asa /= served
	return o
}

// positionCDF integrates the backward equations for positions 0..m−1 to t.
func positionCDF(n int, mu, gamma, t float64, m int) []float64 {
	f := make([]float64, m)
	if t == 0 {
		return f
	}
	maxRate := float64(n)*mu + float64(m+1)*gamma
	steps := int(math.Ceil(t * maxRate / 0.25))
	dt := t / float64(steps)
	deriv := func(x, out []float64) {
		for i := range x {
			prev := 1.0
			if i > 0 {
				prev = x[i-1]
			}
			out[i] = (float64(n)*mu+float64(i)*gamma)*(prev-x[i]) - gamma*x[i]
		}
	}
	k1, k2, k3, k4, tmp := make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m)
	for range steps {
		deriv(f, k1)
		for i := range f {
			tmp[i] = f[i] + dt/2*k1[i]
		}
		deriv(tmp, k2)
		for i := range f {
			tmp[i] = f[i] + dt/2*k2[i]
		}
		deriv(tmp, k3)
		for i := range f {
			tmp[i] = f[i] + dt*k3[i]
		}
		deriv(tmp, k4)
		for i := range f {
			f[i] += dt / 6 * (k1[i] + 2*k2[i] + 2*k3[i] + k4[i])
		}
	}
	return f
}

// gaussSolve solves the augmented system in place.
func gaussSolve(a [][]float64) []float64 {
	size := len(a)
	for c := 0; c < size; c++ {
		p := c
		for r := c + 1; r < size; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		for r := c + 1; r < size; r++ {
			if f := a[r][c] / a[c][c]; f != 0 {
				for k := c; k <= size; k++ {
					a[r][k] -= f * a[c][k]
				}
			}
		}
	}
	x := make([]float64, size)
	for r := size - 1; r >= 0; r-- {
		s := a[r][size]
		for k := r + 1; k < size; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x
}

// TestErlangAAgainstCTMC compares ErlangA with the truncated chain over a
// seeded random grid of demand, handle time, patience, agents (below and
// above the traffic) and thresholds.
func TestErlangAAgainstCTMC(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 5))
	for i := range 40 {
		perHour := 10 + rng.Float64()*590
		handle := time.Duration(60+rng.IntN(540)) * time.Second
		patience := time.Duration(20+rng.IntN(880)) * time.Second
		within := time.Duration(rng.IntN(121)) * time.Second
		a := Traffic(perHour, handle)
		n := max(1, int(a*(0.6+0.6*rng.Float64())))
		lambda, mu, gamma := perHour/3600, 1/handle.Seconds(), 1/patience.Seconds()
		beta := lambda / gamma
		// The queue beyond n is Poisson-like around max(0, β − nμ/γ); 12
		// standard deviations past it leave nothing measurable.
		m := int(math.Max(0, beta-float64(n)*mu/gamma)+12*math.Sqrt(beta)) + 40
		name := fmt.Sprintf("%d: λ=%.1f/h h=%v θ=%v n=%d t=%v", i, perHour, handle, patience, n, within)
		t.Run(name, func(t *testing.T) {
			got, err := ErlangA(n, perHour, handle, patience, within)
			if err != nil {
				t.Fatal(err)
			}
			want := solveCTMC(n, lambda, mu, gamma, within.Seconds(), m)
			near := func(what string, got, want, tol float64) {
				if math.Abs(got-want) > tol {
					t.Errorf("%s = %.10f, CTMC %.10f (|Δ| > %g)", what, got, want, tol)
				}
			}
			near("P(wait)", got.WaitProbability, want.pWait, 1e-9)
			near("P(abandon)", got.AbandonProbability, want.pAb, 1e-9)
			near("service level", got.ServiceLevel, want.sl, 1e-7)
			near("ASA seconds", got.AverageSpeedOfAnswer.Seconds(), want.asa, 1e-6*math.Max(1, want.asa))
		})
	}
}

// TestErlangALimits: long patience is Erlang C, no patience is Erlang B.
func TestErlangALimits(t *testing.T) {
	for _, tc := range []struct {
		perHour float64
		handle  time.Duration
		n       int
		within  time.Duration
	}{
		{200, 180 * time.Second, 14, 20 * time.Second},
		{1000, 120 * time.Second, 38, 20 * time.Second},
		{3000, 240 * time.Second, 209, 20 * time.Second},
		{30, 600 * time.Second, 7, time.Minute},
	} {
		a := Traffic(tc.perHour, tc.handle)
		t.Run(fmt.Sprintf("%.0f/h %v n=%d", tc.perHour, tc.handle, tc.n), func(t *testing.T) {
			// Patience a million handle times: abandonment is ~1e-6 of the
			// waits, so every measure is Erlang C's to ~1e-5.
			long, err := ErlangA(tc.n, tc.perHour, tc.handle, tc.handle*1_000_000, tc.within)
			if err != nil {
				t.Fatal(err)
			}
			c := ErlangC(tc.n, a)
			if d := math.Abs(long.WaitProbability - c); d > 1e-5 {
				t.Errorf("long patience P(wait) %.8f, Erlang C %.8f", long.WaitProbability, c)
			}
			if sl := ServiceLevel(tc.n, a, tc.handle, tc.within); math.Abs(long.ServiceLevel-sl) > 1e-5 {
				t.Errorf("long patience service level %.8f, Erlang C %.8f", long.ServiceLevel, sl)
			}
			asa := c * tc.handle.Seconds() / (float64(tc.n) - a)
			if math.Abs(long.AverageSpeedOfAnswer.Seconds()-asa) > 1e-3*asa {
				t.Errorf("long patience ASA %v, Erlang C %.4f s", long.AverageSpeedOfAnswer, asa)
			}
			if long.AbandonProbability > 1e-5 {
				t.Errorf("long patience abandons %.3g", long.AbandonProbability)
			}
			// Patience of a microsecond: whoever finds every agent busy is
			// lost (Erlang B), so nobody is answered after waiting.
			short, err := ErlangA(tc.n, tc.perHour, tc.handle, time.Microsecond, tc.within)
			if err != nil {
				t.Fatal(err)
			}
			b := erlangB(tc.n, a)
			if math.Abs(short.AbandonProbability-b) > 1e-6 || math.Abs(short.ServiceLevel-(1-b)) > 1e-6 {
				t.Errorf("no patience: P(abandon) %.8f, SL %.8f; Erlang B %.8f", short.AbandonProbability, short.ServiceLevel, b)
			}
		})
	}
}

func erlangB(n int, a float64) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// TestErlangAProperties: more agents answer more within t, lose fewer and
// make fewer wait; more patience loses fewer.
func TestErlangAProperties(t *testing.T) {
	for _, perHour := range []float64{30, 200, 1000, 3000} {
		for _, patience := range []time.Duration{5 * time.Second, time.Minute, 5 * time.Minute, time.Hour} {
			handle, within := 240*time.Second, 20*time.Second
			a := Traffic(perHour, handle)
			prev := ErlangAMeasures{AbandonProbability: 1, WaitProbability: 1}
			for n := 1; n <= int(2*a)+10; n++ {
				m, err := ErlangA(n, perHour, handle, patience, within)
				if err != nil {
					t.Fatal(err)
				}
				if m.ServiceLevel < prev.ServiceLevel-1e-12 || m.AbandonProbability > prev.AbandonProbability+1e-12 || m.WaitProbability > prev.WaitProbability+1e-12 {
					t.Fatalf("%.0f/h, θ=%v: n=%d gives %+v after n−1's %+v", perHour, patience, n, m, prev)
				}
				if m.ServiceLevel > 1-m.AbandonProbability+1e-12 {
					t.Fatalf("%.0f/h, θ=%v, n=%d: answers %.6f within t but only %.6f are answered at all", perHour, patience, n, m.ServiceLevel, 1-m.AbandonProbability)
				}
				prev = m
			}
		}
	}
	for _, n := range []int{8, 12, 20} {
		prevAb := 1.0
		for p := 1; p <= 3600; p *= 2 {
			m, _ := ErlangA(n, 200, 180*time.Second, time.Duration(p)*time.Second, 20*time.Second)
			if m.AbandonProbability > prevAb+1e-12 {
				t.Fatalf("n=%d: patience %ds abandons %.6f, more than shorter patience's %.6f", n, p, m.AbandonProbability, prevAb)
			}
			prevAb = m.AbandonProbability
		}
	}
}

// TestLiveWithPatienceMatchesLive: no abandonment is Erlang C, agent for
// agent, and a very patient queue needs Erlang C's agents too.
func TestLiveWithPatienceMatchesLive(t *testing.T) {
	handle := 200 * time.Second
	for calls := 7.0; calls <= 3000; calls += 61 {
		target := LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second}
		c, err := Live(calls, handle, target)
		if err != nil {
			t.Fatal(err)
		}
		same, err := LiveWithPatience(calls, handle, 0, target)
		if err != nil || same != c {
			t.Fatalf("%v/h: no patience given %+v, %v; Live %+v", calls, same, err, c)
		}
		long, err := LiveWithPatience(calls, handle, 1000*time.Hour, target)
		if err != nil {
			t.Fatal(err)
		}
		if long.Agents != c.Agents {
			t.Errorf("%v/h: patience of 1000 h needs %d agents, Erlang C %d", calls, long.Agents, c.Agents)
		}
	}
}

// TestLiveWithPatience: the answer meets the target, one agent fewer does
// not, and the occupancy cap applies to the traffic agents carry.
func TestLiveWithPatience(t *testing.T) {
	cases := []struct {
		name     string
		perHour  float64
		handle   time.Duration
		patience time.Duration
		target   LiveTarget
	}{
		{"worked example, 2 min patience", 200, 180 * time.Second, 2 * time.Minute, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second}},
		{"chat, 5 min patience", 30, 600 * time.Second, 5 * time.Minute, LiveTarget{Percent: 70, AnswerWithin: time.Minute}},
		{"200 Erlangs, 3 min patience", 3000, 240 * time.Second, 3 * time.Minute, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second}},
		{"short patience, long threshold", 200, 180 * time.Second, 10 * time.Second, LiveTarget{Percent: 80, AnswerWithin: 2 * time.Minute}},
		{"capped", 1000, 120 * time.Second, time.Minute, LiveTarget{Percent: 50, AnswerWithin: 20 * time.Second, MaxOccupancy: 80}},
		{"capped, heavy abandonment", 3000, 240 * time.Second, 30 * time.Second, LiveTarget{Percent: 40, AnswerWithin: 20 * time.Second, MaxOccupancy: 98}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LiveWithPatience(tc.perHour, tc.handle, tc.patience, tc.target)
			if err != nil {
				t.Fatal(err)
			}
			m, _ := ErlangA(got.Agents, tc.perHour, tc.handle, tc.patience, tc.target.AnswerWithin)
			if got.ServiceLevel != m.ServiceLevel || got.AbandonRate != m.AbandonProbability || got.Occupancy != m.Occupancy {
				t.Errorf("result %+v disagrees with ErlangA %+v", got, m)
			}
			if got.ServiceLevel < tc.target.Percent/100 {
				t.Errorf("%d agents answer %.4f, below %v %%", got.Agents, got.ServiceLevel, tc.target.Percent)
			}
			fewer, _ := ErlangA(got.Agents-1, tc.perHour, tc.handle, tc.patience, tc.target.AnswerWithin)
			capOK := tc.target.MaxOccupancy == 0 || fewer.Occupancy <= tc.target.MaxOccupancy/100
			if fewer.ServiceLevel >= tc.target.Percent/100 && capOK {
				t.Errorf("%d agents would do: SL %.4f, occupancy %.4f", got.Agents-1, fewer.ServiceLevel, fewer.Occupancy)
			}
			if tc.target.MaxOccupancy > 0 && got.Occupancy > tc.target.MaxOccupancy/100 {
				t.Errorf("occupancy %.4f above the cap", got.Occupancy)
			}
			t.Logf("%d agents: SL %.4f, P(abandon) %.4f, ASA %v, occupancy %.3f", got.Agents, got.ServiceLevel, got.AbandonRate, got.AverageSpeedOfAnswer, got.Occupancy)
		})
	}
}

// BenchmarkLiveWithPatience finds the agents for 200 Erlangs (3000 calls/h
// of 240 s) with 3 minutes' patience.
func BenchmarkLiveWithPatience(b *testing.B) {
	want, err := LiveWithPatience(3000, 240*time.Second, 3*time.Minute, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r, _ := LiveWithPatience(3000, 240*time.Second, 3*time.Minute, LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second}); r.Agents != want.Agents {
			b.Fatal(r.Agents)
		}
	}
}

// TestErlangAVersusErlangC holds what abandonment provably changes. Faster
// departures from the queue make the number in the system stochastically
// smaller (π_{k+1}/π_k is never larger than Erlang C's), so fewer contacts
// wait and, for a target of answering without waiting (t = 0), Erlang A
// never needs more agents than Erlang C. For t > 0 that is not a theorem
// under "answered within t over all contacts": a contact that hangs up
// before t is a miss Erlang C would have counted as a hit, so short patience
// with a long threshold needs more agents (the last case).
func TestErlangAVersusErlangC(t *testing.T) {
	for _, perHour := range []float64{30, 200, 1000, 3000} {
		for _, patience := range []time.Duration{time.Second, 30 * time.Second, 5 * time.Minute, time.Hour} {
			handle := 180 * time.Second
			a := Traffic(perHour, handle)
			for n := int(a) + 1; n <= int(1.5*a)+10; n++ {
				m, err := ErlangA(n, perHour, handle, patience, 0)
				if err != nil {
					t.Fatal(err)
				}
				if c := ErlangC(n, a); m.WaitProbability > c+1e-12 {
					t.Fatalf("%.0f/h θ=%v n=%d: P(wait) %.8f above Erlang C %.8f", perHour, patience, n, m.WaitProbability, c)
				}
			}
			for _, pct := range []float64{50, 80, 95} {
				target := LiveTarget{Percent: pct}
				c, _ := Live(perHour, handle, target)
				got, err := LiveWithPatience(perHour, handle, patience, target)
				if err != nil {
					t.Fatal(err)
				}
				if got.Agents > c.Agents {
					t.Errorf("%.0f/h θ=%v, %v %% without waiting: Erlang A needs %d agents, Erlang C %d", perHour, patience, pct, got.Agents, c.Agents)
				}
			}
		}
	}
	// 30 calls an hour of 60 s (A = 0.5), 95 % within 5 min, patience 5 min:
	// one agent answers 95.9 % within 5 min if nobody hangs up (Erlang C),
	// but with patience of 5 min some of the callers who wait give up first.
	target := LiveTarget{Percent: 95, AnswerWithin: 5 * time.Minute}
	c, _ := Live(30, time.Minute, target)
	got, err := LiveWithPatience(30, time.Minute, 5*time.Minute, target)
	if err != nil {
		t.Fatal(err)
	}
	if c.Agents != 1 || got.Agents != 2 {
		t.Errorf("Erlang C %d agents (want 1), Erlang A %d (want 2): abandoners before t must count as misses", c.Agents, got.Agents)
	}
	one, _ := ErlangA(1, 30, time.Minute, 5*time.Minute, 5*time.Minute)
	t.Logf("1 agent: Erlang A answers %.4f within 5 min, %.4f abandon", one.ServiceLevel, one.AbandonProbability)
}

// TestErlangAPatienceEqualsHandle: when patience and handle time have the
// same mean, every contact in the system leaves at rate μ whether queued or
// served, so the number in the system is that of M/M/∞: Poisson(A). Then
// P(wait) = P(N ≥ n) and P(abandon) = E[(N − n)⁺]/A, from the Poisson
// probabilities alone.
func TestErlangAPatienceEqualsHandle(t *testing.T) {
	for _, tc := range []struct {
		perHour float64
		n       int
	}{{20, 1}, {20, 3}, {200, 8}, {200, 14}, {1200, 55}} {
		handle := 3 * time.Minute
		a := Traffic(tc.perHour, handle)
		p, below, queued := math.Exp(-a), 0.0, 0.0
		for k := 0; k < 2000; k++ {
			if k < tc.n {
				below += p
			} else {
				queued += float64(k-tc.n) * p
			}
			p *= a / float64(k+1)
		}
		m, err := ErlangA(tc.n, tc.perHour, handle, handle, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(m.WaitProbability-(1-below)) > 1e-12 || math.Abs(m.AbandonProbability-queued/a) > 1e-12 {
			t.Errorf("A=%v n=%d: P(wait) %.12f P(abandon) %.12f; Poisson %.12f %.12f", a, tc.n, m.WaitProbability, m.AbandonProbability, 1-below, queued/a)
		}
	}
}

// TestTailSumsRescale checks the series where its terms overflow float64
// (e^1000 and beyond, so the running rescale is used) against the same sums
// formed term by term from log-gamma with log-sum-exp.
func TestTailSumsRescale(t *testing.T) {
	for _, tc := range []struct{ alpha, y float64 }{
		{0.3, 0.01}, {5, 3}, {750, 3000}, {40, 2000}, {12000, 10000}, {2.5, 900}, {1e5, 1.2e5},
	} {
		got, err := tailSums(tc.alpha, tc.y)
		if err != nil {
			t.Fatal(err)
		}
		lg1, _ := math.Lgamma(tc.alpha + 1)
		logTerm := func(j int) float64 {
			lg, _ := math.Lgamma(tc.alpha + float64(j) + 2)
			return float64(j)*math.Log(tc.y) - (lg - lg1)
		}
		peak := max(0, int(tc.y-tc.alpha))
		top := logTerm(peak)
		var sT, sU, sV, h float64
		for j := 0; j < peak+int(60*math.Sqrt(tc.y+1))+200; j++ {
			h += 1 / (tc.alpha + float64(j) + 1)
			w := math.Exp(logTerm(j) - top)
			sT += w
			sU += float64(j+1) * w
			sV += h * w
		}
		wantLnT := top + math.Log(sT)
		if math.Abs(got.lnT-wantLnT) > 1e-9*math.Max(1, math.Abs(wantLnT)) || math.Abs(got.u-sU/sT) > 1e-9*(sU/sT) || math.Abs(got.v-sV/sT) > 1e-9*(sV/sT) {
			t.Errorf("α=%v y=%v: got lnT %.12g u %.12g v %.12g; log-gamma %.12g %.12g %.12g", tc.alpha, tc.y, got.lnT, got.u, got.v, wantLnT, sU/sT, sV/sT)
		}
	}
}

// TestErlangAStable: hundreds of Erlangs, patience from a second to ten
// hours, agents from one to maxAgents: every measure finite and in range.
func TestErlangAStable(t *testing.T) {
	for _, perHour := range []float64{1500, 4500, 7500} { // 100, 300, 500 Erlangs of 240 s
		a := Traffic(perHour, 240*time.Second)
		for _, patience := range []time.Duration{time.Second, 30 * time.Second, 10 * time.Minute, 10 * time.Hour} {
			for _, n := range []int{1, int(a / 2), int(a), int(a + 3*math.Sqrt(a)), int(2 * a), maxAgents} {
				m, err := ErlangA(n, perHour, 240*time.Second, patience, 20*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				for what, v := range map[string]float64{"P(wait)": m.WaitProbability, "P(abandon)": m.AbandonProbability, "SL": m.ServiceLevel, "occupancy": m.Occupancy} {
					if math.IsNaN(v) || v < 0 || v > 1 {
						t.Errorf("A=%v θ=%v n=%d: %s = %v", a, patience, n, what, v)
					}
				}
				if m.AverageSpeedOfAnswer < 0 || m.ServiceLevel > 1-m.AbandonProbability+1e-12 {
					t.Errorf("A=%v θ=%v n=%d: %+v", a, patience, n, m)
				}
			}
		}
	}
}

// TestErlangAWorkedExample is the README's example: the Erlang C worked
// example (200 calls/h of 180 s, 80 % within 20 s: 14 agents) with callers
// who hang up after 2 minutes on average needs 12 agents. The service levels
// either side of the answer come from the CTMC oracle, not from ErlangA.
func TestErlangAWorkedExample(t *testing.T) {
	target := LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second}
	got, err := LiveWithPatience(200, 180*time.Second, 2*time.Minute, target)
	if err != nil {
		t.Fatal(err)
	}
	lambda, mu, gamma := 200.0/3600, 1/180.0, 1/120.0
	at12 := solveCTMC(12, lambda, mu, gamma, 20, 150)
	at11 := solveCTMC(11, lambda, mu, gamma, 20, 150)
	if got.Agents != 12 || at12.sl < 0.8 || at11.sl >= 0.8 {
		t.Fatalf("agents %d; CTMC service level with 11: %.4f, with 12: %.4f (want 12 agents, 11 < 0.8 ≤ 12)", got.Agents, at11.sl, at12.sl)
	}
	if math.Abs(got.AbandonRate-at12.pAb) > 1e-9 || math.Abs(got.ServiceLevel-at12.sl) > 1e-7 {
		t.Errorf("result %+v, CTMC %+v", got, at12)
	}
	t.Logf("12 agents: %.1f %% within 20 s, %.1f %% abandon, ASA %.1f s; 11 agents: %.1f %%", 100*at12.sl, 100*at12.pAb, at12.asa, 100*at11.sl)
}

// TestLiveWithPatienceRejects: the inputs Live rejects, plus negative
// patience and a negative threshold; no demand needs nobody.
func TestLiveWithPatienceRejects(t *testing.T) {
	ok := LiveTarget{Percent: 80, AnswerWithin: 20 * time.Second}
	for name, call := range map[string]func() (Result, error){
		"negative demand":   func() (Result, error) { return LiveWithPatience(-1, time.Minute, time.Minute, ok) },
		"negative patience": func() (Result, error) { return LiveWithPatience(10, time.Minute, -time.Minute, ok) },
		"0 % target": func() (Result, error) {
			return LiveWithPatience(10, time.Minute, time.Minute, LiveTarget{AnswerWithin: time.Second})
		},
		"negative threshold": func() (Result, error) {
			return LiveWithPatience(10, time.Minute, time.Minute, LiveTarget{Percent: 80, AnswerWithin: -time.Second})
		},
	} {
		if _, err := call(); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if r, err := LiveWithPatience(0, time.Minute, time.Minute, ok); err != nil || r.Agents != 0 {
		t.Errorf("no demand: %+v, %v; want 0 agents", r, err)
	}
	if _, err := ErlangA(0, 10, time.Minute, time.Minute, time.Second); err == nil {
		t.Error("ErlangA with 0 agents accepted")
	}
}
