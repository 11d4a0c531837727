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

package lp

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSmallProgrammes(t *testing.T) {
	cases := []struct {
		name string
		b    []float64
		cols []Column
		want float64
	}{{
		// max 3x + 2y, x + y <= 4, x + 3y <= 6, x <= 3: x = 3, y = 1.
		name: "textbook",
		b:    []float64{4, 6, 3},
		cols: []Column{{Cost: -3, Rows: []int{0, 1, 2}, Vals: []float64{1, 1, 1}}, {Cost: -2, Rows: []int{0, 1}, Vals: []float64{1, 3}}},
		want: -11,
	}, {
		name: "nothing pays",
		b:    []float64{1, 1},
		cols: []Column{{Cost: 1, Rows: []int{0}, Vals: []float64{1}}},
		want: 0,
	}, {
		// Degenerate: b has zeros, several columns tie.
		name: "degenerate",
		b:    []float64{0, 0, 1},
		cols: []Column{
			{Cost: -1, Rows: []int{0, 2}, Vals: []float64{1, 1}},
			{Cost: -1, Rows: []int{1, 2}, Vals: []float64{1, 1}},
			{Cost: -1, Rows: []int{2}, Vals: []float64{1}},
			{Cost: 0, Rows: []int{0, 1}, Vals: []float64{-1, -1}},
		},
		want: -1,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.b, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.cols {
				if _, err := p.Add(c); err != nil {
					t.Fatal(err)
				}
			}
			if st := p.Solve(1000); st != Optimal {
				t.Fatalf("status %v", st)
			}
			if v := p.Value(); math.Abs(v-tc.want) > 1e-9 {
				t.Fatalf("value %v, want %v", v, tc.want)
			}
			checkOptimal(t, p)
		})
	}
}

func TestUnbounded(t *testing.T) {
	p, _ := New([]float64{1}, 0)
	// x1 - x2 = 1 (with the slack): x2 grows without end at cost -1.
	p.Add(Column{Cost: -1, Rows: []int{0}, Vals: []float64{-1}})
	if st := p.Solve(100); st != Unbounded {
		t.Fatalf("status %v, want unbounded", st)
	}
}

func TestPivotRefusesInfeasibleBasis(t *testing.T) {
	p, _ := New([]float64{1, 1}, 0)
	j, _ := p.Add(Column{Cost: 0, Rows: []int{0, 1}, Vals: []float64{1, 2}})
	if err := p.Pivot(j, 0); err == nil {
		t.Fatal("pivoting into row 0 leaves row 1 at -1 and was accepted")
	}
	if err := p.Pivot(j, 1); err != nil {
		t.Fatal(err)
	}
}

// TestMatchesVertexEnumeration: random programmes (rows with unit
// slacks, so the origin is feasible) against the best basic feasible
// solution found by trying every basis, and the optimum's duals against
// the optimality conditions.
func TestMatchesVertexEnumeration(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	unbounded := 0
	defer func() {
		if unbounded == 0 || unbounded > 200 {
			t.Errorf("%d of 400 programmes unbounded: the mix tests too little of one side", unbounded)
		}
	}()
	for n := range 400 {
		m := 2 + rng.IntN(3)
		k := 2 + rng.IntN(4)
		b := make([]float64, m)
		for r := range b {
			b[r] = float64(rng.IntN(5))
		}
		p, _ := New(b, 0)
		for range k {
			var c Column
			c.Cost = float64(rng.IntN(11) - 7)
			for r := range m {
				if v := rng.IntN(5) - 1; v != 0 {
					c.Rows, c.Vals = append(c.Rows, r), append(c.Vals, float64(v))
				}
			}
			p.Add(c)
		}
		want := enumerate(p)
		st := p.Solve(1000)
		if st == Unbounded {
			// A ray: with every variable capped (one more row, sum x +
			// slack = 1000), the optimum must fall below every vertex
			// of the uncapped programme.
			unbounded++
			if capped := cappedOptimum(t, p); capped > want-1 {
				t.Fatalf("case %d: reported unbounded, but capped at 1000 the optimum is %v against the best vertex %v", n, capped, want)
			}
			continue
		}
		if st != Optimal {
			t.Fatalf("case %d: status %v", n, st)
		}
		if v := p.Value(); math.Abs(v-want) > 1e-6 {
			t.Fatalf("case %d: value %v, the best vertex %v", n, v, want)
		}
		checkOptimal(t, p)
	}
}

// checkOptimal: the primal is feasible and no column prices out.
func checkOptimal(t *testing.T, p *Problem) {
	t.Helper()
	x := p.X()
	lhs := make([]float64, p.m)
	for j, c := range p.cols {
		if x[j] < -1e-9 {
			t.Fatalf("x[%d] = %v", j, x[j])
		}
		for k, r := range c.Rows {
			lhs[r] += c.Vals[k] * x[j]
		}
	}
	for r := range lhs {
		if math.Abs(lhs[r]-p.b[r]) > 1e-6 {
			t.Fatalf("row %d: %v, want %v", r, lhs[r], p.b[r])
		}
	}
	y := p.Duals()
	for j, c := range p.cols {
		d := c.Cost
		for k, r := range c.Rows {
			d -= y[r] * c.Vals[k]
		}
		if d < -1e-6 {
			t.Fatalf("column %d prices out at %v at the optimum", j, d)
		}
	}
}

// cappedOptimum solves p's rows plus one that caps the sum of its
// variables at 1000.
func cappedOptimum(t *testing.T, p *Problem) float64 {
	t.Helper()
	b := append(append([]float64(nil), p.b...), 1000)
	q, _ := New(b, 0)
	for _, c := range p.cols[p.m:] {
		c.Rows = append(append([]int(nil), c.Rows...), p.m)
		c.Vals = append(append([]float64(nil), c.Vals...), 1)
		q.Add(c)
	}
	if st := q.Solve(1000); st != Optimal {
		t.Fatalf("capped programme: status %v", st)
	}
	return q.Value()
}

// enumerate returns the least objective over every basic feasible
// solution (the slacks form one).
func enumerate(p *Problem) float64 {
	m, n := p.m, len(p.cols)
	best := math.Inf(1)
	idx := make([]int, m)
	var rec func(k, from int)
	rec = func(k, from int) {
		if k == m {
			x, ok := solveBasis(p, idx)
			if !ok {
				return
			}
			v := 0.0
			for r, j := range idx {
				if x[r] < -1e-9 {
					return
				}
				v += p.cols[j].Cost * x[r]
			}
			best = math.Min(best, v)
			return
		}
		for j := from; j < n; j++ {
			idx[k] = j
			rec(k+1, j+1)
		}
	}
	rec(0, 0)
	return best
}

// solveBasis solves B x = b by Gaussian elimination with partial
// pivoting; false if B is singular.
func solveBasis(p *Problem, idx []int) ([]float64, bool) {
	m := p.m
	a := make([][]float64, m)
	for r := range a {
		a[r] = make([]float64, m+1)
		a[r][m] = p.b[r]
	}
	for c, j := range idx {
		for k, r := range p.cols[j].Rows {
			a[r][c] = p.cols[j].Vals[k]
		}
	}
	for c := range m {
		piv := c
		for r := c + 1; r < m; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[piv][c]) {
				piv = r
			}
		}
		if math.Abs(a[piv][c]) < 1e-9 {
			return nil, false
		}
		a[c], a[piv] = a[piv], a[c]
		for r := range m {
			if r == c {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k <= m; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	x := make([]float64, m)
	for r := range m {
		x[r] = a[r][m] / a[r][r]
	}
	return x, true
}
