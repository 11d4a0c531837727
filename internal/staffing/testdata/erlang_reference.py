#!/usr/bin/env python3
"""Independent reference for the Erlang C test vectors in staffing_test.go.

Evaluates the textbook formula directly, with exact rational arithmetic for
A^N/N! and the sum (no recurrence, no floating-point overflow), and prints
the smallest N meeting each target. Run: python3 erlang_reference.py
"""
from fractions import Fraction
from math import exp, factorial, ceil

def erlang_c(n, a):
    top = a**n / factorial(n) * Fraction(n, 1) / (n - a)
    bottom = sum(a**k / factorial(k) for k in range(n)) + top
    return top / bottom

def agents(calls_per_hour, aht_s, pct, within_s):
    a = Fraction(calls_per_hour) * aht_s / 3600
    n = int(a) + 1
    while True:
        sl = 1 - float(erlang_c(n, a)) * exp(-float(n - a) * within_s / aht_s)
        if sl >= pct / 100:
            return n, sl, float(a)
        n += 1

VECTORS = [
    (200, 180, 80, 20),
    (1000, 120, 80, 20),
    (250, 330, 80, 30),
    (60, 240, 90, 15),
    (500, 300, 80, 20),
    (1200, 180, 95, 10),
    (30, 600, 70, 60),
    (3000, 240, 80, 20),
]
for v in VECTORS:
    n, sl, a = agents(*v)
    print(f"{v}: A={a:.4f} agents={n} SL={sl:.4f}")
