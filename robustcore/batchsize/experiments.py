"""Measured comparisons over several seeds: the method comparison and the cost-vs-tau sweep.

A single SGD run is one random sample; a referee wants the spread. Everything here repeats a
run over seeds (the sampling seed; the problem is fixed) and returns one row per seed, so a
table can show mean and spread, and a figure the median with its quartiles.

"Passes to eps" is the number of data passes (gradients / n, probes and exact h evaluations
included) until ``||x - x*||^2 <= eps`` first holds; NaN when the budget ran out first.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ._checks import check_choice, check_int
from .problems import FiniteSumProblem
from .sgd import METHODS, Trajectory, _check_rel_eps, _check_run, adaptive_sgd, compare_methods, \
    sgd, tau_star_of

__all__ = ["compare_over_seeds", "summarise_comparison", "default_tau_grid", "cost_sweep",
           "sweep_summary", "MAX_SEEDS"]

#: Most seeds one call repeats (each seed is a full set of runs).
MAX_SEEDS = 20


def _check_seeds(seeds) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise TypeError("seeds must be a sequence of non-negative integers.")
    out = [check_int("seeds", s, 0, 2**63 - 1) for s in seeds]
    if not 1 <= len(out) <= MAX_SEEDS:
        raise ValueError(f"seeds must hold 1 to {MAX_SEEDS} seeds, got {len(out)}.")
    if len(set(out)) != len(out):
        raise ValueError("seeds must be distinct.")
    return out


def compare_over_seeds(problem: FiniteSumProblem, rel_eps: float = 1e-2, seeds=(0, 1, 2),
                       sampling: str = "nice", nodes: int = 1, epochs: float = 10.0,
                       adaptive: dict | None = None, methods=METHODS, snapshots: int = 40,
                       progress: Callable[[float, str], None] | None = None
                       ) -> tuple[pd.DataFrame, dict[str, Trajectory]]:
    """:func:`compare_methods` for each seed, stopping each run at eps.

    Returns
    -------
    records : one row per (method, seed): ``method``, ``seed``, ``passes to eps`` (NaN if not
        reached), ``reached`` (1.0 / 0.0), ``iterations``, ``final relative error``.
    runs : the trajectories of the first seed (with ``snapshots`` stored iterates; the other
        seeds keep one), for the figures.
    """
    seeds = _check_seeds(seeds)
    _check_run(problem, epochs, sampling, nodes, seeds[0], snapshots)
    rows, first = [], {}
    for j, s in enumerate(seeds):
        def prog(f, msg, j=j):
            if progress:
                progress((j + f) / len(seeds), f"seed {s}: {msg}")
        runs = compare_methods(problem, rel_eps, sampling, nodes, epochs, s, stop_at_target=True,
                               snapshots=snapshots if j == 0 else 1, adaptive=adaptive,
                               progress=prog, methods=methods)
        if j == 0:
            first = runs
        for lab, tr in runs.items():
            p2e = tr.passes_to_target()
            rows.append({"method": lab, "seed": s, "passes to eps": p2e,
                         "reached": float(math.isfinite(p2e)), "iterations": int(tr.tau.size),
                         "final relative error": float(tr.rel_error[-1])})
    return pd.DataFrame(rows), first


def summarise_comparison(records: pd.DataFrame) -> pd.DataFrame:
    """Per method: mean and sample std of the passes to eps over the seeds that reached it,
    how many seeds reached it, and the number of seeds."""
    if not isinstance(records, pd.DataFrame) or records.empty:
        raise ValueError("records must be a non-empty DataFrame from compare_over_seeds.")
    g = records.groupby("method", sort=False)
    out = pd.DataFrame({
        "passes to eps mean": g["passes to eps"].mean(),
        "passes to eps std": g["passes to eps"].std(),
        "reached": g["reached"].sum().astype(int),
        "seeds": g.size(),
    })
    return out.reset_index()


def default_tau_grid(n: int, tau_star: int, points: int = 9, step: int = 1) -> np.ndarray:
    """About ``points`` batch sizes spread geometrically over [step, n], plus tau* (multiples of
    ``step``, the node count of the distributed sampling)."""
    n = check_int("n", n, 1, 10**12)
    step = check_int("step", step, 1, n)
    points = check_int("points", points, 2, 200)
    tau_star = check_int("tau_star", tau_star, 1, n)
    g = np.geomspace(step, n, points)
    g = np.round(g / step) * step
    g = np.concatenate([g, [tau_star]])
    g = np.clip(g, step, n - n % step if n % step else n)
    return np.unique(g.astype(int))


def cost_sweep(problem: FiniteSumProblem, rel_eps: float = 1e-2, taus=None, seeds=(0, 1, 2),
               schedule: str = "constant", sampling: str = "nice", nodes: int = 1,
               epochs: float = 20.0, progress: Callable[[float, str], None] | None = None
               ) -> pd.DataFrame:
    """Measured cost against tau: passes to reach eps for fixed tau over a grid and seeds.

    Parameters
    ----------
    taus : batch sizes (default :func:`default_tau_grid` around tau*); at most 200.
    schedule : "constant" (Theorem 3.1's constant step gamma(tau), the run the bound T(tau)
        describes) or "bound" (the bound step schedule of the fair baseline, true h*).
    epochs : budget per run; runs stop at eps.

    Returns
    -------
    One row per (tau, seed): ``tau``, ``seed``, ``passes to eps`` (NaN if not reached).
    """
    rel_eps = _check_rel_eps(rel_eps)
    seeds = _check_seeds(seeds)
    _check_run(problem, epochs, sampling, nodes, seeds[0], 1)
    check_choice("schedule", schedule, ("constant", "bound"))
    ts = tau_star_of(problem, rel_eps, sampling, nodes)
    step = nodes if sampling == "distributed" else 1
    if taus is None:
        taus = default_tau_grid(problem.n, ts, 9, step)
    taus = [check_int("taus", t, step, problem.n) for t in np.asarray(taus).ravel()[:201]]
    if not 1 <= len(taus) <= 200:
        raise ValueError("taus must hold 1 to 200 batch sizes.")
    rows = []
    total = len(taus) * len(seeds)
    for i, t in enumerate(taus):
        for j, s in enumerate(seeds):
            if progress:
                progress((i * len(seeds) + j) / total, f"tau = {t}, seed {s}")
            if schedule == "constant":
                tr = sgd(problem, t, rel_eps, sampling, nodes, epochs, s, stop_at_target=True,
                         snapshots=1)
            else:
                tr = adaptive_sgd(problem, rel_eps, sampling, nodes, estimator="oracle",
                                  schedule="bound", fixed_tau=t, epochs=epochs, seed=s,
                                  stop_at_target=True, snapshots=1)
            rows.append({"tau": t, "seed": s, "passes to eps": tr.passes_to_target()})
    if progress:
        progress(1.0, "done")
    return pd.DataFrame(rows)


def sweep_summary(sweep: pd.DataFrame) -> pd.DataFrame:
    """Per tau: median and quartiles of the passes to eps over seeds (a seed that did not reach
    eps counts as +inf, so a median is NaN when half or more did not), and the count reached."""
    if not isinstance(sweep, pd.DataFrame) or sweep.empty:
        raise ValueError("sweep must be a non-empty DataFrame from cost_sweep.")
    rows = []
    for t, g in sweep.groupby("tau", sort=True):
        v = np.where(np.isfinite(g["passes to eps"]), g["passes to eps"], np.inf)
        with np.errstate(invalid="ignore"):  # inf propagates: not reached
            q = np.quantile(v, [0.25, 0.5, 0.75])
        q = np.where(np.isfinite(q), q, np.nan)
        rows.append({"tau": int(t), "median": q[1], "q25": q[0], "q75": q[2],
                     "reached": int(np.isfinite(v).sum()), "seeds": int(v.size)})
    return pd.DataFrame(rows)
