"""Shared helpers for the tropical geometry tests: seeded random nets and brute-force references."""

from __future__ import annotations

import numpy as np

from robustcore.tropical import ShallowReluNet


def random_net(rng: np.random.Generator, p: int, k: int = 2, d: int = 2, bias: bool = True) -> ShallowReluNet:
    """Gaussian weights; with ``bias`` False, c1 = 0 and c2 = 0 (the paper's Theorem 2 setting)."""
    A = rng.normal(size=(p, d))
    B = rng.normal(size=(k, p))
    c1 = rng.normal(size=p) if bias else np.zeros(p)
    c2 = rng.normal(size=k) * 0.5 if bias else np.zeros(k)
    return ShallowReluNet(A, c1, B, c2)


def same_point_sets(P: np.ndarray, Q: np.ndarray, tol: float = 1e-8) -> bool:
    """True when the two point sets are equal up to tol (as sets)."""
    P, Q = np.asarray(P, float), np.asarray(Q, float)
    if P.shape != Q.shape:
        return False
    D = np.linalg.norm(P[:, None, :] - Q[None, :, :], axis=2)
    return bool(D.min(axis=1).max() <= tol and D.min(axis=0).max() <= tol)


def bisect_sign_changes(fun, box, rng: np.random.Generator, n_lines: int = 6, n_grid: int = 200, iters: int = 60) -> np.ndarray:
    """Points where a scalar function of x changes sign, found by bisection along random lines in the box.

    ``fun(X)`` -> (n,). Returns (m, 2) points located to about 2^-iters of the grid step.
    """
    xmin, xmax, ymin, ymax = box
    out = []
    for _ in range(n_lines):
        a = np.array([rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)])
        b = np.array([rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)])
        t = np.linspace(0.0, 1.0, n_grid)
        P = a + t[:, None] * (b - a)
        v = fun(P)
        for q in np.flatnonzero(np.sign(v[:-1]) * np.sign(v[1:]) < 0):
            lo, hi = t[q], t[q + 1]
            flo = v[q]
            for _ in range(iters):
                mid = 0.5 * (lo + hi)
                fm = fun((a + mid * (b - a))[None])[0]
                if np.sign(fm) == np.sign(flo):
                    lo, flo = mid, fm
                else:
                    hi = mid
            out.append(a + 0.5 * (lo + hi) * (b - a))
    return np.array(out).reshape(-1, 2)


def maximisers(E: np.ndarray, c: np.ndarray, x: np.ndarray, tol: float) -> np.ndarray:
    """Distinct exponents attaining max_m (c_m + <E_m, x>) within tol."""
    vals = E @ x + c
    top = E[vals >= vals.max() - tol]
    return np.unique(np.round(top, 9), axis=0)
