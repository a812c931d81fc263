"""Mini-batch SGD with the theory's step size, and the adaptive method that learns tau*.

Fixed tau: ``x^{k+1} = x^k - gamma(tau) (1/tau) sum_{i in S_k} grad f_i(x^k)`` with Theorem 3.1's
``gamma(tau) = min{1/(2L(tau)), eps mu/(4 sigma^2(tau))}`` computed from the true h(x*).

Adaptive (reference ``batchsize.md`` §2.2, *our reconstruction*: the paper's algorithm box was
not available): before each batch, plug an estimate h_hat of h(x*) into the closed-form tau*
and step size, computed from the past only (so ``gamma_k <= 1/(2 L(tau_k))`` always holds and
the one-step bound of §2.3 applies). Estimators of h:

- ``"exact"``: ``h(x^k) = (1/n) sum_i ||grad f_i(x^k)||^2`` every ``period`` iterations (default:
  once per n batch gradients); each evaluation is charged n gradients.
- ``"batch"``: exponential moving average of ``(1/|S|) sum_{i in S} ||grad f_i(x^k)||^2`` from the
  batch just drawn (free: the gradients are computed anyway); the decay is per example,
  ``beta^{|S_k|}``, so the memory in examples does not depend on tau.

Schedules for the accuracy plugged into tau*:

- ``"plain"``: the final target eps from the first iteration. Since h(x^0) can exceed h(x*) by
  orders of magnitude, this starts near full batch (reference §2.3.3).
- ``"bound"`` (our fix): target ``eps_k = max(eps, rbar_k)`` where ``rbar_k`` follows Theorem 3.1's
  one-step recursion ``rbar_{k+1} = (1 - gamma_k mu) rbar_k + 2 gamma_k^2 sigma^2(tau_k; h_hat)``
  from ``rbar_0 = ||x^0 - x*||^2`` (the quantity the relative target already assumes known, or
  its certified upper bound ``||grad f(x^0)||^2/mu^2``, charged n gradients). With eps_k >= eps
  the batch is the one that is optimal for the accuracy the bound says we are at, so tau_k
  grows from small to tau*(eps) as the bound reaches eps. While rbar_k >= eps the recursion
  shrinks it by at least a factor (1 - gamma_k mu/2) per step. With the true h(x*) (estimator
  "oracle") tau_k and gamma_k are deterministic and rbar_k is a genuine upper bound on
  E||x^k - x*||^2 (tested by Monte Carlo); with an *estimated* h it is a heuristic target, not a
  guarantee (h_hat may undershoot h(x*), and it depends on the sample path).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_choice, check_int, check_real
from .complexity import TauStarRule, absolute_eps, optimal_batch_size, step_size
from .problems import FiniteSumProblem
from .smoothness import SAMPLINGS, _noise_raw, _smooth_raw

__all__ = ["Trajectory", "sgd", "adaptive_sgd", "compare_methods", "tau_bracket",
           "tau_star_of", "METHODS", "MAX_GRADIENTS", "PLUGIN_LABEL", "BOUND_LABEL", "FAIR_LABEL", "RULE_NAMES"]

#: Largest gradient budget of one run, ``epochs * n`` (at tau = 1 that many Python iterations:
#: about a minute).
MAX_GRADIENTS = 20_000_000
#: Names of the two adaptive rules and of the fair baseline, used everywhere (page, tables).
PLUGIN_LABEL = "adaptive: plug-in, as in the paper"
BOUND_LABEL = "adaptive: bound schedule, ours"
FAIR_LABEL = "fixed tau*, bound schedule"
RULE_NAMES = {"plain": PLUGIN_LABEL, "bound": BOUND_LABEL}


@dataclass
class Trajectory:
    """One SGD run. Per-iteration arrays have length K (iterations); ``dist2`` and ``grads``
    have length K + 1 (index 0 is x^0). Snapshot arrays have length S.

    Attributes
    ----------
    label : name for plots.
    tau : (K,) batch-size parameter used at iteration k (mean size for independent sampling).
    batch : (K,) realised number of examples drawn.
    gamma : (K,) step size.
    h_hat : (K,) estimate of h(x*) used to choose tau_k (the true h(x*) for fixed runs).
    eps_k : (K,) accuracy plugged into tau* at iteration k (eps for fixed runs).
    dist2 : (K+1,) ``||x^k - x*||^2``.
    grads : (K+1,) cumulative gradients computed (incl. probes and exact h evaluations).
    snap_iter : (S,) iterations at which snapshots were taken; ``snap_x`` (S, d) the iterates.
    snap_fgap : (S,) ``f(x) - f*``; ``snap_h`` (S,) exact ``h(x)``.
    tau_lo, tau_hi : (S,) certified bracket on tau*(h(x*), eps) from the snapshot (§2.3).
    eps, r0_sq, n, tau_star : absolute target, ``||x^0 - x*||^2``, n and the true tau*.
    """

    label: str
    tau: np.ndarray
    batch: np.ndarray
    gamma: np.ndarray
    h_hat: np.ndarray
    eps_k: np.ndarray
    dist2: np.ndarray
    grads: np.ndarray
    snap_iter: np.ndarray
    snap_x: np.ndarray
    snap_fgap: np.ndarray
    snap_h: np.ndarray
    tau_lo: np.ndarray
    tau_hi: np.ndarray
    eps: float
    r0_sq: float
    n: int
    tau_star: int
    info: dict = field(default_factory=dict)

    @property
    def passes(self) -> np.ndarray:
        """(K+1,) data passes (epochs) = cumulative gradients / n."""
        return self.grads / self.n

    @property
    def rel_error(self) -> np.ndarray:
        """(K+1,) ``||x^k - x*||^2 / ||x^0 - x*||^2``."""
        return self.dist2 / self.r0_sq

    def passes_to_target(self, eps: float | None = None) -> float:
        """Data passes spent when ``||x^k - x*||^2 <= eps`` first holds (nan if never)."""
        e = self.eps if eps is None else eps
        hit = np.flatnonzero(self.dist2 <= e)
        return float(self.passes[hit[0]]) if hit.size else math.nan


def tau_bracket(problem: FiniteSumProblem, x: np.ndarray, eps: float, sampling: str = "nice",
                nodes: int = 1) -> tuple[int, int, float, float]:
    """Certified bracket on tau* from an arbitrary point x (reference §2.3.2).

    ``|sqrt(h(x)) - sqrt(h(x*))| <= sqrt(2 L_max (f(x) - f*))``, so h(x*) lies in
    ``[(sqrt h(x) - r)_+^2, (sqrt h(x) + r)^2]`` and, tau* being monotone in h, tau* lies in
    ``[tau*(h_lo), tau*(h_hi)]``. Needs f*, which the dashboard has; a user would not.
    Returns ``(tau_lo, tau_hi, h_lo, h_hi)``; ``eps`` is absolute.
    """
    if not isinstance(problem, FiniteSumProblem):
        raise TypeError(f"problem must be a FiniteSumProblem, got {type(problem).__name__}.")
    x = problem.check_point(x)
    eps = check_real("eps", eps, 0.0, lo_open=True)
    check_choice("sampling", sampling, SAMPLINGS)
    nodes = check_int("nodes", nodes, 1, problem.n)
    hx, fgap = problem.h(x), problem.f(x) - problem.f_star
    if not (math.isfinite(hx) and math.isfinite(fgap)):
        raise ValueError("x is too far from the optimum: h(x) or f(x) overflows.")
    return _bracket(problem, hx, fgap, eps, sampling, nodes)


def _bracket_rule(problem: FiniteSumProblem, sampling: str, nodes: int) -> TauStarRule:
    """The problem's tau* rule for this sampling (L_max per shard for "distributed"), the one
    both the bracket and the adaptive runs use; built once per (sampling, nodes) and kept on the
    problem, like ``shard_stats`` (its constants never change after construction)."""
    cache = problem.__dict__.setdefault("_tau_rules", {})
    key = (sampling, nodes)
    if key not in cache:
        if sampling == "distributed":
            # h(x) brackets h(x*); each shard's within-variance s_j^2 is at most its own second
            # moment, whose mean is h, so using h for every shard keeps tau_hi an upper end; the
            # lower end uses s_j^2 >= 0 only through h_lo (a heuristic lower end for this
            # sampling).
            lmax = problem.shard_stats(nodes)[1]
        else:
            lmax = problem.L_max
        cache[key] = TauStarRule(problem.n, problem.L, lmax, problem.mu, sampling, nodes)
    return cache[key]


def _bracket(problem, hx, fgap, eps, sampling, nodes, rule: TauStarRule | None = None):
    # ``rule`` (from _bracket_rule) lets _finish build the rule once for all its snapshots
    r = math.sqrt(max(2.0 * problem.L_max * fgap, 0.0))
    h_lo, h_hi = max(math.sqrt(hx) - r, 0.0) ** 2, (math.sqrt(hx) + r) ** 2
    if rule is None:
        rule = _bracket_rule(problem, sampling, nodes)
    return rule(h_lo, eps), rule(h_hi, eps), h_lo, h_hi


#: Largest fixed batch drawn in blocks by _Sampler (the vectorised Floyd step costs O(tau^2)
#: per draw; above this a per-iteration ``rng.choice`` is cheaper).
_BLOCK_MAX_TAU = 48
#: Index sets drawn per block (B * tau indices; fewer when the run's budget allows fewer).
_BLOCK_INDICES = 4096


def _nice_block(rng: np.random.Generator, n: int, tau: int, B: int) -> np.ndarray:
    """``np.stack([rng.choice(n, tau, replace=False) for _ in range(B)])``, drawn with one call.

    Reproduces numpy's Floyd branch of ``Generator.choice`` (used when ``n <= 10000`` or
    ``tau <= n // 50``): per draw, tau bounded integers ``U[0, j]`` for ``j = n - tau .. n - 1``
    (a value already taken is replaced by j), then a Fisher-Yates shuffle with ``U[0, i]`` for
    ``i = tau - 1 .. 1``. ``Generator.integers`` with an array of upper bounds makes the same
    bounded draws in the same order, so the generator's stream, and every set, is unchanged;
    :func:`_block_ok` checks this against ``rng.choice`` before it is relied on.
    """
    w = 2 * tau - 1
    highs = np.empty(w, dtype=np.int64)
    highs[:tau] = np.arange(n - tau, n)
    highs[tau:] = np.arange(tau - 1, 0, -1)
    V = rng.integers(0, np.tile(highs, B), endpoint=True).reshape(B, w)
    F = V[:, :tau].copy()
    W = V[:, tau:]
    for c in range(1, tau):  # Floyd: a repeat of an earlier pick becomes j = n - tau + c
        dup = (F[:, :c] == F[:, c:c + 1]).any(axis=1)
        if dup.any():
            F[dup, c] = n - tau + c
    rows = np.arange(B)
    for t, i in enumerate(range(tau - 1, 0, -1)):  # the shuffle, one swap per position
        jj = W[:, t]
        tmp = F[rows, jj]
        F[rows, jj] = F[:, i]
        F[:, i] = tmp
    return F


@functools.lru_cache(maxsize=1)
def _block_ok() -> bool:
    """Whether :func:`_nice_block` matches this numpy's ``Generator.choice`` (checked once per
    process on a few cases, so a numpy that changes its algorithm falls back to ``rng.choice``)."""
    ok = True
    for n, tau, seed in ((7, 3, 1), (1000, 1, 2), (1000, 17, 3), (4000, 48, 4), (2**33 + 1, 5, 5)):
        g1, g2 = np.random.default_rng(seed), np.random.default_rng(seed)
        ref = np.stack([g1.choice(n, tau, replace=False) for _ in range(9)])
        ok = ok and np.array_equal(ref, _nice_block(g2, n, tau, 9)) and g1.integers(2**62) == g2.integers(2**62)
    return bool(ok)


def _choice(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    """``rng.choice(n, m, replace=False)``: for m = 0 (no draw) and m = 1 (one bounded draw on
    [0, n - 1], as ``rng.integers(n)``) the same result and generator state without choice's
    argument handling (about 5 us a call)."""
    if m == 0:
        return np.empty(0, dtype=np.int64)
    if m == 1:
        return np.array([rng.integers(n)])
    return rng.choice(n, m, replace=False)


class _Sampler:
    """Draws index sets for the samplings of ``smoothness.SAMPLINGS``.

    ``draw(tau)`` (also ``sampler(tau)``) returns the indices of one batch, or None for all n
    examples. The draw function is chosen once here rather than by name on every call. With
    ``fixed_tau`` (every call asks for that tau) the tau-nice and with-replacement sets are
    drawn in blocks of iterations; the generator is consumed in the same order as by one draw
    per call, so the sets are identical (at most ``max_draws`` sets are drawn ahead; the extra
    draws of the last block are never used, and the generator is private to the run).
    """

    def __init__(self, n: int, sampling: str, nodes: int, rng: np.random.Generator,
                 fixed_tau: int | None = None, max_draws: int | None = None):
        if sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}.")
        if sampling == "distributed" and (nodes < 1 or n % nodes):
            raise ValueError(f"nodes must be a positive divisor of n = {n}, got {nodes}.")
        self.n, self.sampling, self.nodes, self.rng = n, sampling, nodes, rng
        self.draw = {"nice": self._nice, "replacement": self._replacement,
                     "independent": self._independent, "distributed": self._distributed}[sampling]
        self._block, self._pos = np.empty((0, 0), dtype=np.int64), 0
        self._fixed, self._max = fixed_tau, max(int(max_draws or 1), 1)
        if fixed_tau is not None and 1 <= fixed_tau <= _BLOCK_MAX_TAU and (
                sampling == "replacement"
                or (sampling == "nice" and fixed_tau < n
                    and (n <= 10_000 or fixed_tau <= n // 50) and _block_ok())):
            self.draw = self._next_in_block

    def __call__(self, tau: int) -> np.ndarray | None:
        return self.draw(tau)

    def _nice(self, tau: int) -> np.ndarray | None:
        n = self.n
        if tau == n:
            return None  # "every example": the full gradient without copying A
        return _choice(self.rng, n, tau)

    def _replacement(self, tau: int) -> np.ndarray:
        return self.rng.integers(self.n, size=tau)

    def _independent(self, tau: int) -> np.ndarray | None:
        n, rng = self.n, self.rng
        # Given its size the set of an independent uniform sampling is a uniform subset,
        # so draw |S| ~ Binomial(n, tau/n) and then the subset (O(|S|), not O(n)).
        m = rng.binomial(n, tau / n)
        return None if m == n else _choice(rng, n, m)

    def _distributed(self, tau: int) -> np.ndarray | None:
        n, rng = self.n, self.rng
        # each node draws a (tau/m)-nice batch from its contiguous shard.
        m = self.nodes
        nj, tj = n // m, max(tau // m, 1)
        if tj == nj:
            return None
        return (np.stack([rng.choice(nj, tj, replace=False) for _ in range(m)])
                + (np.arange(m) * nj)[:, None]).ravel()

    def _next_in_block(self, tau: int) -> np.ndarray:
        if tau != self._fixed:
            raise ValueError(f"this sampler draws batches of {self._fixed}, not {tau}.")
        if self._pos == self._block.shape[0]:
            B = min(max(_BLOCK_INDICES // tau, 1), self._max)
            self._max = max(self._max - B, 1)
            if self.sampling == "replacement":
                self._block = self.rng.integers(self.n, size=(B, tau))
            else:
                self._block = _nice_block(self.rng, self.n, tau, B)
            self._pos = 0
        S = self._block[self._pos]
        self._pos += 1
        return S


def _check_run(problem, epochs, sampling, nodes, seed=0, snapshots=40, stop_at_target=False,
               label=None) -> tuple[float, int, int, int]:
    """Check the arguments every run shares; return ``(epochs, nodes, seed, snapshots)``."""
    if not isinstance(problem, FiniteSumProblem):
        raise TypeError(f"problem must be a FiniteSumProblem, got {type(problem).__name__}.")
    epochs = check_real("epochs", epochs, 0.0, 10_000.0, lo_open=True)
    if epochs * problem.n > MAX_GRADIENTS:
        raise ValueError(f"epochs * n = {epochs * problem.n:,.0f} gradients exceeds the cap of "
                         f"{MAX_GRADIENTS:,} per run; use fewer epochs.")
    check_choice("sampling", sampling, SAMPLINGS)
    nodes = check_int("nodes", nodes, 1, problem.n)
    if sampling == "distributed" and problem.n % nodes:
        raise ValueError(f"nodes must be a positive divisor of n = {problem.n}, got {nodes}.")
    seed = check_int("seed", seed, 0, 2**63 - 1)
    snapshots = check_int("snapshots", snapshots, 1, 10_000)
    if not isinstance(stop_at_target, (bool, np.bool_)):
        raise TypeError("stop_at_target must be a bool.")
    if label is not None and not isinstance(label, str):
        raise TypeError("label must be a string or None.")
    return epochs, nodes, seed, snapshots


def _check_rel_eps(rel_eps) -> float:
    return check_real("rel_eps", rel_eps, 0.0, 1.0, lo_open=True)


def _run(problem: FiniteSumProblem, choose, eps: float, label: str, sampling: str, nodes: int,
         epochs: float, seed: int, x0: np.ndarray | None, stop_at_target: bool,
         snapshots: int, estimator: str | None = None, beta: float = 0.99,
         period: int | None = None, h0: float | None = None, grads0: int = 0, tau_star: int = 0,
         r0_sq: float | None = None, info: dict | None = None,
         fixed_tau: int | None = None) -> Trajectory:
    """Shared SGD loop. ``choose(k, h_hat) -> (tau, gamma, eps_k)`` is called before the batch
    is drawn, so tau_k and gamma_k use past information only; the h estimate is updated after
    the step from the batch just used ("batch") or from all n examples ("exact").

    ``fixed_tau``: choose always returns this tau, so the sampler may draw the index sets in
    blocks (the same sets). Every floating-point operation is that of the plain loop, in the
    same order: the speed-ups only remove Python overhead, so the trajectories are bit-identical.
    """
    A, lam, n = problem.A, problem.lam, problem.n
    rng = np.random.default_rng(seed)
    x = np.zeros(problem.d) if x0 is None else problem.check_point(x0, "x0").copy()
    xs = problem.x_star
    e = x - xs
    r0 = float(e @ e) if r0_sq is None else r0_sq
    budget = math.floor(epochs * n + 1e-9)
    draw = _Sampler(n, sampling, nodes, rng, fixed_tau,
                    None if fixed_tau is None else (budget - grads0) // fixed_tau + 1).draw
    snap_every = budget / max(snapshots, 1)
    taus, batch, gammas, hh, epsk, dist2, grads = [], [], [], [], [], [float(e @ e)], [grads0]
    snap_iter, snap_x = [0], [x.copy()]
    next_snap = snap_every
    h_hat = problem.h(x) if h0 is None else h0
    g_count = grads0
    since_exact = 0
    k = 0
    row_sq = problem.row_sq
    dloss = problem.dloss
    AT = A.T
    est_batch, est_exact = estimator == "batch", estimator == "exact"
    capped = sampling != "independent"
    # bound methods looked up once (the loop runs up to MAX_GRADIENTS times)
    ap_tau, ap_batch, ap_gamma, ap_hh, ap_eps = (taus.append, batch.append, gammas.append,
                                                 hh.append, epsk.append)
    ap_d2, ap_grads = dist2.append, grads.append
    isfinite = math.isfinite
    while g_count < budget:
        tau, gamma, eps_k = choose(k, h_hat)
        if capped and g_count + tau > budget:
            break  # the next batch would overshoot the budget: stop within it
        S = draw(tau)
        if S is None:
            z = A @ x
            s = dloss(z)
            g = AT @ s
            if tau != 1:  # x / 1 == x exactly: skip the no-op division
                g = g / tau
            g = g + (n / tau) * lam * x
            m = n
            idx = slice(None)
        else:
            m = S.size
            if g_count + m > budget:
                break  # independent sampling: the realised size is random; never overshoot
            AS = A.take(S, 0)  # = A[S], the same rows copied; a quarter of its call cost
            z = AS @ x
            s = dloss(z, S)
            g = AS.T @ s
            if tau != 1:
                g = g / tau
            g = g + (m / tau) * lam * x
            idx = S
        if est_batch and m > 0:
            # per-example ||grad f_i(x^k)||^2 from the batch, before the step
            sq = s * s * row_sq[idx] + 2.0 * lam * s * z + lam * lam * (x @ x)
            w = beta ** m
            h_new = w * h_hat + (1.0 - w) * float(np.mean(sq))
        else:
            h_new = h_hat
        g *= gamma  # g is a fresh array: in place, the same products as gamma * g
        x -= g
        g_count += m
        if est_exact:
            since_exact += m
            # every `period` iterations, or (period None) once the batches since the last
            # evaluation add up to n gradients: at most 50% overhead whatever tau is
            due = (since_exact >= n) if period is None else ((k + 1) % period == 0)
            if due and g_count + n <= budget:
                h_new = problem.h(x)
                g_count += n
                since_exact = 0
        ap_tau(tau); ap_batch(m); ap_gamma(gamma); ap_hh(h_hat); ap_eps(eps_k)
        np.subtract(x, xs, out=e)
        d2 = float(e @ e)
        ap_d2(d2)
        ap_grads(g_count)
        h_hat = h_new
        k += 1
        if not isfinite(d2):
            raise RuntimeError(f"SGD diverged at iteration {k} (step size {gamma:.3g}).")
        if g_count >= next_snap:
            snap_iter.append(k); snap_x.append(x.copy())
            while next_snap <= g_count:
                next_snap += snap_every
        if stop_at_target and d2 <= eps:
            break
    return _finish(problem, label, taus, batch, gammas, hh, epsk, dist2, grads, snap_iter,
                   snap_x, x, k, eps, r0, tau_star, sampling, nodes, info)


def _finish(problem, label, taus, batch, gammas, hh, epsk, dist2, grads, snap_iter, snap_x, x, k,
            eps, r0, tau_star, sampling, nodes, info) -> Trajectory:
    n = problem.n
    if snap_iter[-1] != k:
        snap_iter.append(k); snap_x.append(x.copy())
    SX = np.array(snap_x)
    # in chunks, so that the (rows, n) products stay small whatever the snapshot count
    rows = max(1, 2_000_000 // problem.n)
    parts = [problem.f_and_h(SX[i:i + rows]) for i in range(0, SX.shape[0], rows)]
    fx = np.concatenate([q[0] for q in parts])
    hx = np.concatenate([q[1] for q in parts])
    fg = np.maximum(fx - problem.f_star, 0.0)
    rule = _bracket_rule(problem, sampling, nodes)
    br = [_bracket(problem, h, g, eps, sampling, nodes, rule) for h, g in zip(hx, fg)]
    return Trajectory(
        label=label, tau=np.array(taus, dtype=float), batch=np.array(batch, dtype=float),
        gamma=np.array(gammas), h_hat=np.array(hh), eps_k=np.array(epsk),
        dist2=np.array(dist2), grads=np.array(grads, dtype=float),
        snap_iter=np.array(snap_iter), snap_x=SX, snap_fgap=fg, snap_h=hx,
        tau_lo=np.array([b[0] for b in br], dtype=float),
        tau_hi=np.array([b[1] for b in br], dtype=float),
        eps=eps, r0_sq=r0, n=n, tau_star=tau_star, info=info or {})


def _draw_block(rng: np.random.Generator, n: int, tau: int, B: int, sampling: str) -> np.ndarray:
    """(B, tau) index sets for B iterations of tau-nice or with-replacement sampling."""
    if sampling == "replacement":
        return rng.integers(n, size=(B, tau))
    if tau * tau <= n:
        # i.i.d. uniform tuples conditioned on having distinct entries are uniform subsets, so
        # redrawing the rows with a repeat gives exact tau-nice sampling (few repeats: tau^2 <= n).
        idx = rng.integers(n, size=(B, tau))
        if tau > 1:
            while True:
                srt = np.sort(idx, axis=1)
                bad = np.flatnonzero(np.any(srt[:, 1:] == srt[:, :-1], axis=1))
                if bad.size == 0:
                    break
                idx[bad] = rng.integers(n, size=(bad.size, tau))
        return idx
    return np.stack([rng.choice(n, tau, replace=False) for _ in range(B)])


def _run_fixed(problem: FiniteSumProblem, tau: int, gamma: float, eps: float, label: str,
               sampling: str, epochs: float, seed: int, x0: np.ndarray | None,
               stop_at_target: bool, snapshots: int, tau_star: int, info: dict) -> Trajectory:
    """Lean loop for fixed tau with tau-nice or with-replacement sampling (indices drawn in
    blocks, no per-iteration bookkeeping beyond ||x - x*||^2)."""
    A, b, lam, n, kind = problem.A, problem.b, problem.lam, problem.n, problem.kind
    rng = np.random.default_rng(seed)
    x = np.zeros(problem.d) if x0 is None else problem.check_point(x0, "x0").copy()
    xs = problem.x_star
    e = x - xs
    r0 = float(e @ e)
    # whole batches within the budget: never more than epochs * n gradients
    K = math.floor(epochs * n + 1e-9) // tau
    dist2 = np.empty(K + 1)
    dist2[0] = r0
    snap_every = max(K // max(snapshots, 1), 1)
    snap_iter, snap_x = [0], [x.copy()]
    full = sampling == "nice" and tau == n
    shrink = 1.0 - gamma * lam  # the regulariser part of the step, applied exactly
    gt = gamma / tau
    B = 4096
    k = 0
    while k < K:
        nb = min(B, K - k)
        I = None if full else _draw_block(rng, n, tau, nb, sampling)
        for j in range(nb):
            if full:
                z = A @ x
                s = problem.dloss(z)
                x *= shrink
                x -= gt * (A.T @ s)
            elif tau == 1:
                i = I[j, 0]
                a = A[i]
                zi = a @ x
                if kind == "ridge":
                    si = zi - b[i]
                else:
                    yi = b[i]
                    si = -yi / (1.0 + math.exp(yi * zi)) if yi * zi > -700 else -yi
                x *= shrink
                x -= (gt * si) * a
            else:
                S = I[j]
                AS = A.take(S, 0)  # = A[S] (the same copied rows), with less call overhead
                s = problem.dloss(AS @ x, S)
                x *= shrink
                x -= gt * (AS.T @ s)
            e = x - xs
            d2 = e @ e
            k += 1
            dist2[k] = d2
            if k % snap_every == 0:
                snap_iter.append(k); snap_x.append(x.copy())
            if stop_at_target and d2 <= eps:
                break
        if not np.isfinite(dist2[k]):
            raise RuntimeError(f"SGD diverged (step size {gamma:.3g}).")
        if stop_at_target and dist2[k] <= eps:
            break
    dist2 = dist2[: k + 1]
    grads = np.arange(k + 1, dtype=float) * tau
    return _finish(problem, label, np.full(k, float(tau)), np.full(k, float(tau)),
                   np.full(k, gamma), np.full(k, problem.h_star), np.full(k, eps), dist2, grads,
                   snap_iter, snap_x, x, k, eps, r0, tau_star, sampling, 1, info)


def _r0_sq(problem: FiniteSumProblem, x0: np.ndarray | None) -> float:
    x = np.zeros(problem.d) if x0 is None else problem.check_point(x0, "x0")
    r = float(np.sum((x - problem.x_star) ** 2))
    if not (math.isfinite(r) and r > 0):
        raise ValueError("x0 is already the optimum (or too far away); choose another start.")
    return r


def _sampling_constants(problem: FiniteSumProblem, sampling: str, nodes: int):
    """(h argument, L_max argument) of the formulas for this sampling."""
    if sampling == "distributed":
        return problem.shard_stats(nodes)
    return problem.h_star, problem.L_max


def sgd(problem: FiniteSumProblem, tau: int, rel_eps: float = 1e-2, sampling: str = "nice",
        nodes: int = 1, epochs: float = 10.0, seed: int = 0, x0: np.ndarray | None = None,
        stop_at_target: bool = False, snapshots: int = 40, label: str | None = None) -> Trajectory:
    """SGD with a fixed batch size tau and Theorem 3.1's constant step size ``gamma(tau)``.

    Parameters
    ----------
    problem : the finite sum.
    tau : batch size in [1, n] (mean size for independent sampling; a multiple of ``nodes`` for
        the distributed sampling).
    rel_eps : target ``E||x - x*||^2 <= rel_eps ||x0 - x*||^2``, in (0, 1]; sets the step size.
    sampling, nodes : see ``smoothness``.
    epochs : gradient budget in data passes, in (0, 10000] with ``epochs * n <= MAX_GRADIENTS``.
        The run stops before a batch would overshoot it (whole batches only).
    stop_at_target : stop at the first iterate with ``||x - x*||^2 <= eps``.
    seed : non-negative integer seeding the sampling.
    snapshots : number of stored iterates, in [1, 10000] (for f - f*, exact h, the tau bracket).
    """
    epochs, nodes, seed, snapshots = _check_run(problem, epochs, sampling, nodes, seed, snapshots,
                                                stop_at_target, label)
    rel_eps = _check_rel_eps(rel_eps)
    n = problem.n
    tau = check_int("tau", tau, 1, n)
    if sampling == "distributed" and tau % nodes:
        raise ValueError(f"tau must be a multiple of nodes = {nodes} for the distributed sampling.")
    r0 = _r0_sq(problem, x0)
    eps = absolute_eps(rel_eps, r0)
    h_arg, lmax = _sampling_constants(problem, sampling, nodes)
    gamma = float(step_size(tau, n, problem.L, lmax, problem.mu, h_arg, eps, sampling, nodes))
    ts = optimal_batch_size(n, problem.L, lmax, problem.mu, h_arg, eps, sampling, nodes)

    info = {"kind": "fixed", "tau": tau, "schedule": "constant"}
    if sampling in ("nice", "replacement"):
        return _run_fixed(problem, tau, gamma, eps, label or f"tau = {tau}", sampling, epochs,
                          seed, x0, stop_at_target, snapshots, ts, info)

    def choose(k, h_hat):
        return tau, gamma, eps

    return _run(problem, choose, eps, label or f"tau = {tau}", sampling, nodes, epochs, seed, x0,
                stop_at_target, snapshots, h0=problem.h_star, tau_star=ts, info=info,
                fixed_tau=tau)


def adaptive_sgd(problem: FiniteSumProblem, rel_eps: float = 1e-2, sampling: str = "nice",
                 nodes: int = 1, estimator: str = "batch", schedule: str = "bound",
                 beta: float = 0.9 ** 0.1, period: int | None = None, tau0: int = 1,
                 epochs: float = 10.0, seed: int = 0, x0: np.ndarray | None = None,
                 r0_known: bool = True, stop_at_target: bool = False,
                 snapshots: int = 40, label: str | None = None,
                 fixed_tau: int | None = None) -> Trajectory:
    """Adaptive mini-batch SGD: plug an estimate of h(x*) into tau* before each batch.

    Our reconstruction of Alfarra et al. 2020 (reference §2.2), see the module docstring. The
    two rules are named everywhere as in ``RULE_NAMES``: ``schedule="plain"`` is the
    **plug-in, as in the paper** (the final eps plugged into tau* and the step size from the
    start) and ``schedule="bound"`` the **bound schedule, ours**.

    Parameters
    ----------
    rel_eps : target as a fraction of ``||x0 - x*||^2``, in (0, 1].
    estimator : "batch" (free running EMA of the batch's squared gradient norms), "oracle"
        (the true h(x*): a baseline, not a method) or "exact"
        (h(x^k) every ``period`` iterations, n gradients each; ``period=None``: whenever the
        batches since the last evaluation add up to n gradients, so at most 50% overhead).
    schedule : "plain" (plug-in, as in the paper) or "bound" (ours: target
        ``max(eps, rbar_k)``, rbar_k the Theorem-3.1 recursion).
    beta : per-example decay of the batch EMA in (0, 1) (weight ``beta^{|S_k|}`` on the old
        value); the default ``0.9^{1/10}`` is the reference's ``0.9^{tau/10}``.
    tau0 : size of the probe batch at x^0 that initialises h_hat (charged); "exact" uses h(x^0).
    r0_known : the "bound" schedule starts from ``||x^0 - x*||^2`` (known, as the relative target
        assumes); if False it uses the certified ``||grad f(x^0)||^2/mu^2`` and charges n.
    fixed_tau : keep tau fixed and adapt only the step size through the schedule (the fair
        baseline that separates the effect of the step-size schedule from that of the batch size).
    Other parameters as in :func:`sgd` (the same budget rule: never more than ``epochs * n``
    gradients, probes and exact evaluations included).

    For the distributed sampling the formulas take the mean within-shard variance at x*; the
    "batch" and "exact" estimators estimate the second moment h(x), which at x* is at least that
    variance, so the plug-in errs towards larger batches and smaller steps (never an unsafe step).

    Returns
    -------
    Trajectory with tau_k, gamma_k, h_hat_k, eps_k per iteration. Every gamma_k satisfies
    ``gamma_k <= 1/(2 L(tau_k))``.
    """
    epochs, nodes, seed, snapshots = _check_run(problem, epochs, sampling, nodes, seed, snapshots,
                                                stop_at_target, label)
    rel_eps = _check_rel_eps(rel_eps)
    check_choice("estimator", estimator, ("batch", "exact", "oracle"))
    check_choice("schedule", schedule, ("plain", "bound"))
    beta = check_real("beta", beta, 0.0, 1.0, lo_open=True, hi_open=True)
    if period is not None:
        period = check_int("period", period, 1, 10**9)
    n, L, mu = problem.n, problem.L, problem.mu
    tau0 = check_int("tau0", tau0, 1, n)
    if fixed_tau is not None:
        fixed_tau = check_int("fixed_tau", fixed_tau, 1, n)
        if sampling == "distributed" and fixed_tau % nodes:
            raise ValueError(f"fixed_tau must be a multiple of nodes = {nodes}.")
    if not isinstance(r0_known, (bool, np.bool_)):
        raise TypeError("r0_known must be a bool.")
    r0 = _r0_sq(problem, x0)
    eps = absolute_eps(rel_eps, r0)
    h_arg, lmax = _sampling_constants(problem, sampling, nodes)
    ts = optimal_batch_size(n, L, lmax, mu, h_arg, eps, sampling, nodes)
    rule = _bracket_rule(problem, sampling, nodes)  # = TauStarRule(n, L, lmax, mu, ...)
    x_init = np.zeros(problem.d) if x0 is None else np.asarray(x0, dtype=np.float64)
    grads0 = 0
    if estimator == "oracle":
        # for the distributed sampling the formulas take the mean within-shard variance
        h0 = float(np.mean(h_arg)) if sampling == "distributed" else problem.h_star
    elif estimator == "exact":
        h0, grads0 = problem.h(x_init), n
    else:
        probe = np.random.default_rng([seed, 1]).choice(n, tau0, replace=False)
        h0, grads0 = float(np.mean(problem.grad_sq_norms(x_init, probe))), tau0
    if r0_known:
        rbar0 = r0
    else:
        rbar0 = float(np.sum(problem.grad(x_init) ** 2)) / mu**2  # ||x - x*|| <= ||grad f||/mu
        grads0 += n
    if grads0 > math.floor(epochs * n + 1e-9):
        raise ValueError(f"epochs = {epochs:g} leaves no budget after the {grads0} gradients of "
                         "the initial estimate (the exact estimator and r0_known=False each cost "
                         "one pass); raise epochs.")
    lm = float(np.max(lmax))
    bound = schedule == "bound"
    rbar = rbar0
    # For a fixed tau, L(tau) is a constant, and sigma^2(tau; h_hat) changes only with h_hat
    # (never, for the oracle); both are computed by the same expressions as below, once.
    L_fixed = None if fixed_tau is None else float(
        _smooth_raw(float(fixed_tau), n, L, lm, sampling, nodes))
    last_h, last_sig = None, 0.0

    def choose(k, h_hat):
        nonlocal rbar, last_h, last_sig
        eps_k = max(eps, rbar) if bound else eps
        if L_fixed is None:
            tau = rule(h_hat, eps_k)
            Lt = float(_smooth_raw(float(tau), n, L, lm, sampling, nodes))
            # sigma^2(tau_k; h_hat): the same formula as gradient_noise (no factor of nodes)
            sig = float(_noise_raw(float(tau), n, h_hat, sampling, nodes))
        else:
            tau, Lt = fixed_tau, L_fixed
            if h_hat != last_h:
                last_h, last_sig = h_hat, float(_noise_raw(float(tau), n, h_hat, sampling, nodes))
            sig = last_sig
        gamma = 1.0 / (2.0 * Lt) if sig <= 0 else min(1.0 / (2.0 * Lt), eps_k * mu / (4.0 * sig))
        if bound:
            rbar = (1.0 - gamma * mu) * rbar + 2.0 * gamma * gamma * sig
        return tau, gamma, eps_k

    lab = label or RULE_NAMES[schedule]
    return _run(problem, choose, eps, lab, sampling, nodes, epochs, seed, x0, stop_at_target,
                snapshots, estimator=estimator, beta=beta, period=period, h0=h0,
                grads0=grads0, tau_star=ts, r0_sq=None,
                info={"kind": "adaptive", "estimator": estimator, "schedule": schedule,
                      "beta": beta, "period": period, "tau0": tau0, "fixed_tau": fixed_tau},
                fixed_tau=fixed_tau)


def tau_star_of(problem: FiniteSumProblem, rel_eps: float, sampling: str = "nice",
                nodes: int = 1) -> int:
    """tau* of Gower et al. for ``problem`` at the relative target ``rel_eps`` (x^0 = 0)."""
    rel_eps = _check_rel_eps(rel_eps)
    if not isinstance(problem, FiniteSumProblem):
        raise TypeError(f"problem must be a FiniteSumProblem, got {type(problem).__name__}.")
    eps = absolute_eps(rel_eps, _r0_sq(problem, None))
    h_arg, lmax = _sampling_constants(problem, sampling, nodes)
    return optimal_batch_size(problem.n, problem.L, lmax, problem.mu, h_arg, eps, sampling, nodes)


METHODS = ("tau = 1", "tau*", "tau = n", "fair", "plain", "bound")


def compare_methods(problem: FiniteSumProblem, rel_eps: float = 1e-2, sampling: str = "nice",
                    nodes: int = 1, epochs: float = 10.0, seed: int = 0,
                    stop_at_target: bool = False, snapshots: int = 40,
                    adaptive: dict | None = None, progress=None,
                    methods=METHODS) -> dict[str, Trajectory]:
    """The paper-style comparison, each method under its own named rule.

    Methods (keys of ``methods``): fixed ``"tau = 1"``, ``"tau*"`` and ``"tau = n"`` with
    Theorem 3.1's constant step gamma(tau); ``"fair"``: fixed tau* with the bound step schedule
    and the true h* (``FAIR_LABEL``, the fair baseline for the bound rule: the same step
    schedule, only tau differs); ``"plain"`` and ``"bound"``: the two adaptive rules
    (``PLUGIN_LABEL``, ``BOUND_LABEL``), with the keyword arguments ``adaptive`` (estimator ...).

    Returns a dict label -> Trajectory, in the order of ``methods`` (labels "tau = 1" (or
    "tau = nodes"), "tau* = 37", "tau = n", ``FAIR_LABEL``, ``PLUGIN_LABEL``, ``BOUND_LABEL``).
    ``progress(fraction, message)`` is called between runs.
    """
    _check_run(problem, epochs, sampling, nodes, seed, snapshots, stop_at_target)
    methods = tuple(methods)
    for m in methods:
        check_choice("methods", m, METHODS)
    adaptive = dict(adaptive or {})
    adaptive.pop("schedule", None)
    n = problem.n
    lo = nodes if sampling == "distributed" else 1
    ts = tau_star_of(problem, rel_eps, sampling, nodes)
    common = dict(sampling=sampling, nodes=nodes, epochs=epochs, seed=seed,
                  stop_at_target=stop_at_target, snapshots=snapshots)
    out: dict[str, Trajectory] = {}
    for i, m in enumerate(methods):
        if progress:
            progress(i / len(methods), f"run {i + 1} of {len(methods)}")
        if m in ("tau = 1", "tau*", "tau = n"):
            t = {"tau = 1": lo, "tau*": ts, "tau = n": n}[m]
            lab = {"tau = 1": "tau = 1" if lo == 1 else f"tau = {lo}", "tau*": f"tau* = {ts}",
                   "tau = n": "tau = n"}[m]
            out[lab] = sgd(problem, t, rel_eps, label=lab, **common)
        elif m == "fair":
            out[FAIR_LABEL] = adaptive_sgd(problem, rel_eps, estimator="oracle", schedule="bound",
                                           fixed_tau=ts, label=FAIR_LABEL, **common)
        else:
            out[RULE_NAMES[m]] = adaptive_sgd(problem, rel_eps, schedule=m,
                                              label=RULE_NAMES[m], **common, **adaptive)
    if progress:
        progress(1.0, "done")
    return out
