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

// Package lp solves linear programmes in equality form,
//
//	minimise c·x  subject to  A x = b,  x >= 0,
//
// with a revised primal simplex over a dense basis inverse, for the
// column generation of the roster solver: columns are added between
// solves and each solve starts from the last basis. It suits a few
// hundred rows and a few thousand sparse columns; it is not a general
// solver (no presolve, no scaling, no dual simplex).
package lp

import (
	"errors"
	"fmt"
	"math"
)

// Column is one variable: its cost and its non-zero coefficients.
type Column struct {
	Cost float64
	Rows []int
	Vals []float64
}

// Status is how a Solve ended.
type Status int

const (
	Optimal Status = iota
	Unbounded
	IterationLimit
)

func (s Status) String() string {
	return [...]string{"optimal", "unbounded", "iteration limit"}[s]
}

// tol is the tolerance on reduced costs and pivots: the programmes here
// have coefficients of a few units and costs up to about 10^7.
const (
	costTol  = 1e-7
	pivotTol = 1e-9
)

// Problem is a programme with a current basis. New starts it with one
// column per row, the unit column of that row, which must cost nothing
// or be forbidden to leave its row empty (Forbid): the caller chooses b >=
// 0 and uses these as slacks or as artificials it pivots out (Pivot).
type Problem struct {
	m      int
	b      []float64
	cols   []Column
	banned []bool
	basis  []int     // column basic in each row
	pos    []int     // per column: its row in the basis, or -1
	binv   []float64 // m*m, row-major
	x      []float64 // basic values
	y      []float64
	alpha  []float64
}

// New returns the programme with rows b (each >= 0) and their unit
// columns, costing cost each, as the basis.
func New(b []float64, cost float64) (*Problem, error) {
	m := len(b)
	p := &Problem{m: m, b: append([]float64(nil), b...), binv: make([]float64, m*m), x: make([]float64, m),
		y: make([]float64, m), alpha: make([]float64, m), basis: make([]int, m)}
	for r, v := range b {
		if v < 0 || math.IsNaN(v) {
			return nil, fmt.Errorf("row %d: right-hand side %v is negative", r, v)
		}
		p.cols = append(p.cols, Column{Cost: cost, Rows: []int{r}, Vals: []float64{1}})
		p.banned = append(p.banned, false)
		p.pos = append(p.pos, r)
		p.basis[r] = r
		p.binv[r*m+r] = 1
		p.x[r] = v
	}
	return p, nil
}

// Rows is the number of rows.
func (p *Problem) Rows() int { return p.m }

// Add appends a column and returns its index.
func (p *Problem) Add(c Column) (int, error) {
	if len(c.Rows) != len(c.Vals) {
		return 0, errors.New("column rows and values differ in length")
	}
	for _, r := range c.Rows {
		if r < 0 || r >= p.m {
			return 0, fmt.Errorf("column row %d out of range", r)
		}
	}
	p.cols = append(p.cols, c)
	p.banned = append(p.banned, false)
	p.pos = append(p.pos, -1)
	return len(p.cols) - 1, nil
}

// Forbid keeps column j out of every later basis (an artificial that has
// left it); it must not be basic.
func (p *Problem) Forbid(j int) { p.banned[j] = true }

// direction sets alpha = B^-1 A_j.
func (p *Problem) direction(j int) {
	m := p.m
	for r := range p.alpha {
		p.alpha[r] = 0
	}
	c := &p.cols[j]
	for k, row := range c.Rows {
		v := c.Vals[k]
		for r := range m {
			p.alpha[r] += p.binv[r*m+row] * v
		}
	}
}

// pivot brings column j into the basis in row r (alpha is B^-1 A_j).
func (p *Problem) pivot(j, r int) {
	m := p.m
	a := p.alpha[r]
	theta := p.x[r] / a
	for k := range m {
		if k != r && p.alpha[k] != 0 {
			p.x[k] -= theta * p.alpha[k]
			if p.x[k] < 0 && p.x[k] > -1e-9 {
				p.x[k] = 0
			}
		}
	}
	p.x[r] = theta
	row := p.binv[r*m : (r+1)*m]
	for k := range row {
		row[k] /= a
	}
	for k := range m {
		f := p.alpha[k]
		if k == r || f == 0 {
			continue
		}
		dst := p.binv[k*m : (k+1)*m]
		for c, v := range row {
			if v != 0 {
				dst[c] -= f * v
			}
		}
	}
	p.pos[p.basis[r]] = -1
	p.basis[r], p.pos[j] = j, r
}

// Pivot brings column j into the basis in row r, whatever the ratio test
// says: the caller's way to replace an artificial by a column it knows
// keeps the basis feasible. It fails if the pivot element is zero or the
// basis would become infeasible.
func (p *Problem) Pivot(j, r int) error {
	if p.pos[j] >= 0 {
		return fmt.Errorf("column %d is basic already", j)
	}
	p.direction(j)
	if math.Abs(p.alpha[r]) < pivotTol {
		return fmt.Errorf("column %d has no weight in row %d of the basis", j, r)
	}
	theta := p.x[r] / p.alpha[r]
	for k, a := range p.alpha {
		if k != r && p.x[k]-theta*a < -1e-7 {
			return fmt.Errorf("pivoting column %d into row %d leaves row %d negative", j, r, k)
		}
	}
	if theta < -1e-7 {
		return fmt.Errorf("pivoting column %d into row %d makes it negative", j, r)
	}
	p.pivot(j, r)
	return nil
}

// duals sets y = c_B B^-1.
func (p *Problem) duals() {
	m := p.m
	for k := range p.y {
		p.y[k] = 0
	}
	for r, j := range p.basis {
		cb := p.cols[j].Cost
		if cb == 0 {
			continue
		}
		row := p.binv[r*m : (r+1)*m]
		for k, v := range row {
			p.y[k] += cb * v
		}
	}
}

// reduced is column j's reduced cost at the current duals.
func (p *Problem) reduced(j int) float64 {
	c := &p.cols[j]
	d := c.Cost
	for k, r := range c.Rows {
		d -= p.y[r] * c.Vals[k]
	}
	return d
}

// Solve runs the primal simplex from the current basis for at most
// maxIter pivots: Dantzig's rule (the most negative reduced cost), and
// Bland's (the first) after a run of degenerate pivots, which cannot
// cycle.
func (p *Problem) Solve(maxIter int) Status {
	degenerate := 0
	for range maxIter {
		p.duals()
		enter, best := -1, -costTol
		bland := degenerate > 50
		for j := range p.cols {
			if p.pos[j] >= 0 || p.banned[j] {
				continue
			}
			if d := p.reduced(j); d < best {
				enter, best = j, d
				if bland {
					break
				}
			}
		}
		if enter < 0 {
			return Optimal
		}
		p.direction(enter)
		leave, ratio := -1, math.Inf(1)
		for r, a := range p.alpha {
			if a <= pivotTol {
				continue
			}
			q := p.x[r] / a
			if q < ratio-1e-12 || (q <= ratio+1e-12 && leave >= 0 && p.basis[r] < p.basis[leave]) {
				leave, ratio = r, q
			}
		}
		if leave < 0 {
			return Unbounded
		}
		if ratio < 1e-12 {
			degenerate++
		} else {
			degenerate = 0
		}
		p.pivot(enter, leave)
	}
	return IterationLimit
}

// Value is the objective at the current basis.
func (p *Problem) Value() float64 {
	v := 0.0
	for r, j := range p.basis {
		v += p.cols[j].Cost * p.x[r]
	}
	return v
}

// Duals returns the row prices y of the current basis (c_j - y·A_j >= 0
// for every column at an optimum).
func (p *Problem) Duals() []float64 {
	p.duals()
	return append([]float64(nil), p.y...)
}

// X returns every column's value.
func (p *Problem) X() []float64 {
	out := make([]float64, len(p.cols))
	for r, j := range p.basis {
		out[j] = p.x[r]
	}
	return out
}
