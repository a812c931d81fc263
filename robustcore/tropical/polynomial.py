"""Tropical (max-plus) polynomials and the decomposition f_i = H_i - Q_i of a ShallowReluNet.

A tropical polynomial is f(x) = max_m (c_m + <a_m, x>) (reference §1.1). The polynomials of a
ReLU net are tropical *products* of binomials, so we store them factored,

    f(x) = c0 + <e0, x> + sum_t max(<a_t, x> + alpha_t, <b_t, x> + beta_t),

which evaluates in O(q d) for any number q of factors (the closed forms of §1.2), and expand
to explicit monomials (up to 2^q of them; equal exponents merged by the tropical sum, i.e. the
largest coefficient is kept) only on request, for small q. Real (non-integer) exponents are
allowed ("tropical signomials"): nothing in the geometry needs integrality.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "TropicalPolynomial",
    "tropical_decomposition",
    "pair_polynomials",
    "common_denominator_weights",
    "common_denominator_polynomials",
    "EXPLICIT_MAX_FACTORS",
]

#: Largest number of binomial factors we expand explicitly (2^q monomials).
EXPLICIT_MAX_FACTORS = 16


class TropicalPolynomial:
    """A max-plus polynomial stored as a tropical product of binomials.

    Parameters
    ----------
    const : float, the constant c0.
    linear : (d,) array, the exponent e0 of the monomial factor.
    hi_exp, hi_coef : (q, d) and (q,), first monomial <a_t, x> + alpha_t of each binomial.
    lo_exp, lo_coef : (q, d) and (q,), second monomial <b_t, x> + beta_t of each binomial.

    Attributes ``exponents`` (m, d) and ``coefficients`` (m,) give the explicit monomials
    (computed lazily; ValueError above ``EXPLICIT_MAX_FACTORS`` factors).
    """

    def __init__(
        self,
        const: float,
        linear: np.ndarray,
        hi_exp: np.ndarray,
        hi_coef: np.ndarray,
        lo_exp: np.ndarray,
        lo_coef: np.ndarray,
    ) -> None:
        from ._checks import as_array, as_float

        self.const = as_float("const", const)
        self.linear = as_array("linear", linear).reshape(-1)
        d = self.linear.size
        if d == 0:
            raise ValueError("linear must have at least one entry (the number of variables d >= 1).")
        arrs = {}
        for name, val in (("hi_exp", hi_exp), ("lo_exp", lo_exp), ("hi_coef", hi_coef), ("lo_coef", lo_coef)):
            arrs[name] = as_array(name, val)
        for name in ("hi_exp", "lo_exp"):
            if arrs[name].size % d:
                raise ValueError(f"{name} must have {d} columns (one per variable); got shape {arrs[name].shape}.")
        self.hi_exp = arrs["hi_exp"].reshape(-1, d)
        self.lo_exp = arrs["lo_exp"].reshape(-1, d)
        self.hi_coef = arrs["hi_coef"].reshape(-1)
        self.lo_coef = arrs["lo_coef"].reshape(-1)
        q = self.hi_exp.shape[0]
        if not (self.lo_exp.shape[0] == q == self.hi_coef.size == self.lo_coef.size):
            raise ValueError("All binomial factor arrays must have the same number of rows.")
        self._expanded: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def d(self) -> int:
        """Number of variables."""
        return self.linear.size

    @property
    def n_factors(self) -> int:
        """Number of binomial factors q (up to 2^q monomials)."""
        return self.hi_exp.shape[0]

    def __call__(self, X: Any) -> np.ndarray:
        """Evaluate max_m (c_m + <a_m, x>) at the rows of X (n, d) -> (n,), via the factored form."""
        from ._checks import as_array

        X = np.atleast_2d(as_array("X", X, (1, 2)))
        if X.shape[1] != self.d:
            raise ValueError(f"X must have {self.d} columns; got shape {X.shape}.")
        hi = X @ self.hi_exp.T + self.hi_coef
        lo = X @ self.lo_exp.T + self.lo_coef
        return self.const + X @ self.linear + np.maximum(hi, lo).sum(axis=1)

    def __mul__(self, other: "TropicalPolynomial") -> "TropicalPolynomial":
        """Tropical product f (.) g = f + g (concatenate the factors)."""
        if not isinstance(other, TropicalPolynomial):
            return NotImplemented
        if other.d != self.d:
            raise ValueError("Tropical product needs polynomials in the same number of variables.")
        return TropicalPolynomial(
            self.const + other.const,
            self.linear + other.linear,
            np.vstack([self.hi_exp, other.hi_exp]),
            np.concatenate([self.hi_coef, other.hi_coef]),
            np.vstack([self.lo_exp, other.lo_exp]),
            np.concatenate([self.lo_coef, other.lo_coef]),
        )

    def expand(self) -> tuple[np.ndarray, np.ndarray]:
        """Explicit monomials: (exponents (m, d), coefficients (m,)), equal exponents merged.

        Raises ValueError when the polynomial has more than ``EXPLICIT_MAX_FACTORS`` factors.
        """
        if self._expanded is None:
            q = self.n_factors
            if q > EXPLICIT_MAX_FACTORS:
                raise ValueError(
                    f"Explicit expansion needs at most {EXPLICIT_MAX_FACTORS} factors (2^q monomials); got q = {q}."
                )
            bits = ((np.arange(2**q)[:, None] >> np.arange(q)[None, :]) & 1).astype(bool)
            exps = self.linear + np.where(bits[:, :, None], self.hi_exp[None], self.lo_exp[None]).sum(axis=1)
            coefs = self.const + np.where(bits, self.hi_coef[None], self.lo_coef[None]).sum(axis=1)
            self._expanded = _merge_monomials(exps, coefs)
        return self._expanded

    @property
    def exponents(self) -> np.ndarray:
        """Exponent vectors of the explicit monomials (m, d)."""
        return self.expand()[0]

    @property
    def coefficients(self) -> np.ndarray:
        """Coefficients of the explicit monomials (m,)."""
        return self.expand()[1]

    def evaluate_explicit(self, X: Any) -> np.ndarray:
        """max_m (c_m + <a_m, x>) from the explicit monomials (n, d) -> (n,) (a cross-check)."""
        from ._checks import as_array

        E, c = self.expand()
        X = np.atleast_2d(as_array("X", X, (1, 2)))
        if X.shape[1] != self.d:
            raise ValueError(f"X must have {self.d} columns; got shape {X.shape}.")
        return (X @ E.T + c).max(axis=1)

    def __repr__(self) -> str:
        return f"TropicalPolynomial(d={self.d}, factors={self.n_factors})"


def _merge_monomials(exps: np.ndarray, coefs: np.ndarray, tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Tropical sum of monomials with equal exponents: keep the largest coefficient."""
    scale = max(1.0, float(np.abs(exps).max(initial=0.0)))
    keys = np.round(exps / (scale * tol)).astype(np.int64) if exps.size else exps.astype(np.int64)
    _, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    n = inv.max() + 1 if inv.size else 0
    best = np.full(n, -np.inf)
    np.maximum.at(best, inv, coefs)
    first = np.zeros(n, dtype=int)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    return exps[first], best


def _hq(net: Any, weights_pos: np.ndarray, weights_neg: np.ndarray, const: float) -> TropicalPolynomial:
    """sum_j [u_j F_j + v_j G_j] + const with F_j = max(A+_j x + c1_j, A-_j x), G_j = A-_j x."""
    Ap, Am = np.maximum(net.A, 0.0), np.maximum(-net.A, 0.0)
    keep = weights_pos > 0
    u = weights_pos[keep]
    linear = weights_neg @ Am
    return TropicalPolynomial(
        const,
        linear,
        u[:, None] * Ap[keep],
        u * net.c1[keep],
        u[:, None] * Am[keep],
        np.zeros(int(keep.sum())),
    )


def tropical_decomposition(net: Any, explicit_max_p: int | None = None) -> list[tuple[TropicalPolynomial, TropicalPolynomial]]:
    """Zhang's decomposition f_i = H_i - Q_i for every class i (reference §1.2).

    H_i = c2_i + sum_j [B+_ij F_j + B-_ij G_j] and Q_i = sum_j [B-_ij F_j + B+_ij G_j], with
    F_j = max(A+_j x + c1_j, A-_j x), G_j = A-_j x; A+ = max(A, 0), A- = max(-A, 0).

    Returns a list of k pairs (H_i, Q_i) of TropicalPolynomials (factored; ``.exponents`` expands
    them when the number of factors allows). ``explicit_max_p`` is accepted for API symmetry and,
    when given, pre-expands polynomials with at most that many factors.
    """
    from ._checks import as_int, check_net

    check_net(net, "tropical_decomposition")
    if explicit_max_p is not None:
        explicit_max_p = as_int("explicit_max_p", explicit_max_p, 0, EXPLICIT_MAX_FACTORS)
    Bp, Bm = np.maximum(net.B, 0.0), np.maximum(-net.B, 0.0)
    out = []
    for i in range(net.k):
        H = _hq(net, Bp[i], Bm[i], float(net.c2[i]))
        Q = _hq(net, Bm[i], Bp[i], 0.0)
        if explicit_max_p is not None:
            for P in (H, Q):
                if P.n_factors <= min(explicit_max_p, EXPLICIT_MAX_FACTORS):
                    P.expand()
        out.append((H, Q))
    return out


def pair_polynomials(net: Any, i: int = 0, j: int = 1) -> tuple[TropicalPolynomial, TropicalPolynomial]:
    """(H_i (.) Q_j, H_j (.) Q_i): the two tropical terms of R = H_i Q_j (+) H_j Q_i (§1.2).

    Their Newton polytopes are Z_G1 and Z_G2 (shifted by s); f_i - f_j is their difference.
    """
    from ._checks import check_net

    check_net(net, "pair_polynomials")
    i, j = net._check_pair(i, j)
    dec = tropical_decomposition(net)
    (Hi, Qi), (Hj, Qj) = dec[i], dec[j]
    return Hi * Qj, Hj * Qi


def common_denominator_weights(net: Any) -> tuple[np.ndarray, np.ndarray]:
    """Weights W (k, p) and shift s (d,) of the k-class common-denominator construction (§1.4).

    P_i = H_i (.) prod_{l != i} Q_l has the closed form
    P_i(x) = <s, x> + c2_i + sum_j W_ij ReLU(A_j x + c1_j), with
    W_ij = ReLU(B_ij) + sum_{l != i} ReLU(-B_lj) and s = sum_l |B_l| A^-; P_i - f_i = sum_l Q_l
    is the same for every i, so argmax_i f_i = argmax_i P_i. Zonotope i has generators W_i A.
    """
    from ._checks import check_net

    check_net(net, "common_denominator_weights")
    Bp, Bm = np.maximum(net.B, 0.0), np.maximum(-net.B, 0.0)
    W = Bp + (Bm.sum(axis=0)[None, :] - Bm)
    s = np.abs(net.B).sum(axis=0) @ np.maximum(-net.A, 0.0)
    return W, s


def common_denominator_polynomials(net: Any) -> list[TropicalPolynomial]:
    """The k tropical polynomials P_i = H_i (.) prod_{l != i} Q_l (factored), see §1.4 (k <= 100)."""
    from ._checks import check_net

    check_net(net, "common_denominator_polynomials")
    if net.k > 100:
        raise ValueError(f"common_denominator_polynomials is limited to 100 classes (k^2 factors); got {net.k}.")
    dec = tropical_decomposition(net)
    out = []
    for i in range(net.k):
        P = dec[i][0]
        for l in range(net.k):
            if l != i:
                P = P * dec[l][1]
        out.append(P)
    return out
