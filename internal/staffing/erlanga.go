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

// # Live channels with abandonment: Erlang A
//
// Erlang A is Palm's M/M/n+M queue: Poisson arrivals at rate λ, exponential
// handle times of mean h (μ = 1/h), n agents, and customers who give up after
// an exponential patience of mean θ (γ = 1/θ) if not answered by then. The
// number of contacts in the system is a birth-death process with birth rate λ
// and death rate kμ (k ≤ n) or nμ + (k−n)γ (k > n); abandonment makes every
// state stable, so n may be below the traffic A = λh.
//
// With α = nμ/γ and β = λ/γ, π_{n+j}/π_n = β^j / ((α+1)···(α+j)) and
// π_k/π_n = n!/k! · A^(k−n) below n, whose sum is 1/B − 1 with B Erlang B
// (same recurrence as Erlang C). A contact that finds j others queued is
// answered if it outlasts j+1 stages of rates nμ + (i+1)γ (i = j..0), which
// happens with probability α/(α+j+1); the time to answer, e^(−γV), is
// Beta(α+1, j+1) distributed (a product of Beta(α+i+1, 1) stages). Summing
// over j with the stationary weights gives (Mandelbaum & Zeltyn's
// incomplete-gamma formulas, written as the series they expand into):
//
//	T(y)  = Σ_{j≥0} y^j / ((α+1)···(α+j+1))        (= e^y y^(−α−1) γ(α+1, y))
//	U     = Σ_{j≥0} (j+1) · y^j / ((α+1)···(α+j+1)) at y = β
//	q     = π_n·T(β) = 1 / ((1/B − 1)/T(β) + α + U/T(β))
//	P(wait)       = q·(α + U/T(β))
//	P(abandon)    = q·U/T(β)
//	P(answered within t, among all arrivals)
//	              = 1 − P(wait) + α·q·(1 − e^(−(α+1)γt + β(1−e^(−γt))) · T(βe^(−γt))/T(β))
//	ASA (answered contacts) = α·q·Σ_j term_j·H_j / (γ·(1 − P(abandon))),
//	              H_j = Σ_{i=1}^{j+1} 1/(α+i) (the mean of the stages, in units of 1/γ)
//
// The series have positive terms (no cancellation), are summed with a
// running rescale so e^β never overflows, and stop once past their peak
// (j > y − α) and below 1e−17 of the sum: the terms then fall at least
// geometrically. As θ → ∞ they tend to Erlang C; as θ → 0 to Erlang B (a
// contact that finds all agents busy is lost).
//
// The service level is "answered within t" over all arrivals: a contact that
// abandons counts as a miss whenever it abandons, as it would in the help
// desk's own reports (answered within t / offered). It is the Erlang C
// service level when nobody abandons, and it stays reachable (it tends to 1
// as n grows), but it means short patience with a long threshold can need
// MORE agents than Erlang C: those who hang up before t are lost, where
// Erlang C would have kept them waiting and answered them.

import (
	"fmt"
	"math"
	"time"
)

// maxSeriesTerms bounds the tail sums; an Erlang A evaluation that needs more
// (patience millions of handle times) is reported rather than looped over.
const maxSeriesTerms = 10_000_000

// ErlangAMeasures is the steady state of an Erlang A (M/M/n+M) queue.
type ErlangAMeasures struct {
	// WaitProbability is the fraction of contacts that find every agent busy.
	WaitProbability float64
	// AbandonProbability is the fraction of contacts that hang up before an
	// agent answers.
	AbandonProbability float64
	// ServiceLevel is the fraction of all contacts answered within the
	// threshold; contacts that abandon are never answered.
	ServiceLevel float64
	// AverageSpeedOfAnswer is the mean wait of the contacts that are answered
	// (zero waits included).
	AverageSpeedOfAnswer time.Duration
	// Occupancy is carried traffic / agents: A·(1 − AbandonProbability)/n.
	Occupancy float64
}

// ErlangA returns the measures of n agents for contactsPerHour contacts of
// mean handle time handle, customers of mean patience patience and an answer
// threshold answerWithin. A patience of zero means customers never abandon
// (Erlang C; then n must exceed the traffic for the queue to be stable).
func ErlangA(n int, contactsPerHour float64, handle, patience, answerWithin time.Duration) (ErlangAMeasures, error) {
	if n < 1 || contactsPerHour < 0 || handle <= 0 || patience < 0 || answerWithin < 0 {
		return ErlangAMeasures{}, fmt.Errorf("erlang A needs n ≥ 1, demand ≥ 0, handle > 0, patience ≥ 0, answerWithin ≥ 0")
	}
	a := Traffic(contactsPerHour, handle)
	q := newQueueA(contactsPerHour, handle, patience, answerWithin)
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return q.measures(n, b)
}

// queueA holds the rates of one Erlang A evaluation, all per second.
type queueA struct {
	lambda, mu, gamma, t float64
}

func newQueueA(contactsPerHour float64, handle, patience, answerWithin time.Duration) queueA {
	q := queueA{lambda: contactsPerHour / 3600, mu: 1 / handle.Seconds(), t: answerWithin.Seconds()}
	if patience > 0 {
		q.gamma = 1 / patience.Seconds()
	}
	return q
}

// measures evaluates n agents given b = Erlang B(n, A).
func (q queueA) measures(n int, b float64) (ErlangAMeasures, error) {
	a := q.lambda / q.mu
	if q.lambda == 0 {
		return ErlangAMeasures{ServiceLevel: 1}, nil
	}
	if q.gamma == 0 {
		return q.erlangC(n, a, b), nil
	}
	if b == 0 {
		// Erlang B underflowed: n is so far above A that nobody waits.
		return ErlangAMeasures{ServiceLevel: 1, Occupancy: a / float64(n)}, nil
	}
	alpha, beta := float64(n)*q.mu/q.gamma, q.lambda/q.gamma
	tb, err := tailSums(alpha, beta)
	if err != nil {
		return ErlangAMeasures{}, err
	}
	// ln((1/B − 1)/T(β)) without forming 1/B, which overflows far above A.
	lnR := math.Log1p(-b) - math.Log(b)
	qn := 1 / (math.Exp(lnR-tb.lnT) + alpha + tb.u)
	pWait := qn * (alpha + tb.u)
	pAb := qn * tb.u
	// Answered after waiting, within t: the part of T(β) beyond the
	// threshold is e^(−(α+1)γt + β(1−e^(−γt)))·T(βe^(−γt)).
	answeredLate := 0.0
	if q.t > 0 {
		x := -q.gamma * q.t
		tx, err := tailSums(alpha, beta*math.Exp(x))
		if err != nil {
			return ErlangAMeasures{}, err
		}
		answeredLate = math.Exp((alpha+1)*x - beta*math.Expm1(x) + tx.lnT - tb.lnT)
	} else {
		answeredLate = 1
	}
	sl := 1 - pWait + alpha*qn*(1-answeredLate)
	asa := 0.0
	if pAb < 1 {
		asa = alpha * qn * tb.v / q.gamma / (1 - pAb)
	}
	// Rounding can leave a measure an ulp outside [0, 1] (e.g. carried
	// traffic a hair above n when nearly everyone waits); clamp it back.
	return ErlangAMeasures{
		WaitProbability:      clamp01(pWait),
		AbandonProbability:   clamp01(pAb),
		ServiceLevel:         clamp01(sl),
		AverageSpeedOfAnswer: time.Duration(asa * float64(time.Second)),
		Occupancy:            clamp01(a * (1 - pAb) / float64(n)),
	}, nil
}

// erlangC is the limit of infinite patience.
func (q queueA) erlangC(n int, a, b float64) ErlangAMeasures {
	fn := float64(n)
	if fn <= a {
		return ErlangAMeasures{WaitProbability: 1, Occupancy: 1}
	}
	c := fn * b / (fn - a*(1-b))
	return ErlangAMeasures{
		WaitProbability:      c,
		ServiceLevel:         1 - c*math.Exp(-(fn-a)*q.t*q.mu),
		AverageSpeedOfAnswer: time.Duration(c / (q.mu * (fn - a)) * float64(time.Second)),
		Occupancy:            a / fn,
	}
}

func clamp01(x float64) float64 {
	return math.Min(1, math.Max(0, x))
}

// tail holds T(y) as its logarithm and U, V relative to T.
type tail struct {
	lnT, u, v float64
}

// tailSums sums term_j = y^j/((α+1)···(α+j+1)) for j ≥ 0: T = Σ term_j,
// U = Σ (j+1)·term_j, V = Σ term_j·H_j with H_j = Σ_{i=1}^{j+1} 1/(α+i).
// Terms rise while j < y − α, so the sum is rescaled whenever it grows past
// 1e200 and T is returned as a logarithm.
func tailSums(alpha, y float64) (tail, error) {
	const big, lnBig = 1e200, 200 * math.Ln10
	term := 1 / (alpha + 1)
	h := term
	t, u, v := term, term, term*h
	scale := 0.0
	for j := 1; ; j++ {
		if j > maxSeriesTerms {
			return tail{}, fmt.Errorf("erlang A series did not converge in %d terms (α=%.3g, y=%.3g): patience too long for the traffic", maxSeriesTerms, alpha, y)
		}
		d := alpha + float64(j) + 1
		term *= y / d
		h += 1 / d
		t += term
		u += float64(j+1) * term
		v += term * h
		if float64(j) > y-alpha && term*float64(j+1) < 1e-17*t {
			break
		}
		if t > big {
			term, t, u, v = term/big, t/big, u/big, v/big
			scale += lnBig
		}
	}
	return tail{lnT: math.Log(t) + scale, u: u / t, v: v / t}, nil
}

// LiveWithPatience is Live for customers who abandon after a mean patience
// (Erlang A): the smallest number of agents whose fraction of all contacts
// answered within target.AnswerWithin reaches target.Percent, raised until
// the carried occupancy A·(1 − P(abandon))/n respects target.MaxOccupancy.
// A patience of zero means nobody abandons and returns Live's answer.
func LiveWithPatience(contactsPerHour float64, handle, patience time.Duration, target LiveTarget) (Result, error) {
	if patience == 0 {
		return Live(contactsPerHour, handle, target)
	}
	if contactsPerHour < 0 || handle < 0 {
		return Result{}, fmt.Errorf("demand must not be negative")
	}
	if patience < 0 {
		return Result{}, fmt.Errorf("patience %v must not be negative", patience)
	}
	if target.Percent <= 0 || target.Percent > 100 {
		return Result{}, fmt.Errorf("service level percent %v is outside (0, 100]", target.Percent)
	}
	if target.AnswerWithin < 0 {
		return Result{}, fmt.Errorf("answer threshold %v must not be negative", target.AnswerWithin)
	}
	a := Traffic(contactsPerHour, handle)
	if a == 0 {
		return Result{ServiceLevel: 1}, nil
	}
	goal := target.Percent / 100
	q := newQueueA(contactsPerHour, handle, patience, target.AnswerWithin)
	// Answered contacts are at most what n agents can carry, n/A of the
	// offered, so no n below goal·A can meet the goal: start the search
	// there, carrying Erlang B up to it. The service level rises with n
	// (TestErlangAProperties), so the first n that meets the goal is the
	// smallest.
	start := max(1, int(math.Floor(goal*a)))
	b := 1.0
	for k := 1; k < start; k++ {
		b = a * b / (float64(k) + a*b)
	}
	var m ErlangAMeasures
	n := start - 1
	for {
		n++
		if n > maxAgents {
			return Result{}, fmt.Errorf("traffic of %.0f Erlangs needs more than %d agents", a, maxAgents)
		}
		b = a * b / (float64(n) + a*b)
		var err error
		if m, err = q.measures(n, b); err != nil {
			return Result{}, err
		}
		if m.ServiceLevel < goal-1e-12 {
			continue
		}
		if target.MaxOccupancy > 0 && m.Occupancy > target.MaxOccupancy/100+1e-12 {
			continue
		}
		break
	}
	return Result{
		Agents:               n,
		TrafficErlangs:       a,
		ServiceLevel:         m.ServiceLevel,
		WaitProbability:      m.WaitProbability,
		AverageSpeedOfAnswer: m.AverageSpeedOfAnswer,
		Occupancy:            m.Occupancy,
		AbandonRate:          m.AbandonProbability,
	}, nil
}
