"""Batch-size line: speed of a full comparison run, and data passes to reach eps per method.

Prints
1. the wall and CPU time of ``compare_methods`` (tau = 1, tau*, n, the fair baseline and both
   adaptive rules) on ridge with n = 10,000, d = 100 (target: < 10 s), for a full 5-pass budget
   and when stopping at eps;
2. for four problems, the median over seeds of the data passes (gradients / n, probes and exact
   h evaluations included) until ``||x - x*||^2 <= eps`` first holds: fixed tau = 1, tau*, n,
   the best fixed tau on a grid, and the adaptive method (plain plug-in and our "bound" schedule,
   each with the batch and the exact estimate of h).

3. (``--page``) the batch-size page's script time in AppTest: cold, then warm reruns after everyday
   interactions (target < 1 s each; the browser adds drawing time, see ``benchmarks/pages.py``).
4. (``--sweep``, also printed first by a full run) the page's cost-over-tau sweep, ``cost_sweep``
   for both step rules (3 seeds, 10 batch sizes, 5 passes) on the page's default problems, and
   the microseconds per iteration of the generic SGD loop (``sgd._run``: fixed tau = 1, bound
   schedule, the sweep's "bound" half) next to the lean fixed-step loop (``_run_fixed``).

Usage: ``python benchmarks/batchsize.py [--seeds 3] [--quick] [--page] [--sweep]``.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

from robustcore.batchsize import (  # noqa: E402
    RULE_NAMES,
    adaptive_sgd,
    compare_methods,
    cost_sweep,
    logistic_problem,
    optimal_batch_size,
    ridge_problem,
    sgd,
    sklearn_problem,
)


def rel_eps_for(p, tau_target):
    r0 = float(p.x_star @ p.x_star)
    f = lambda le: optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h_star, 10**le, r0_sq=r0)  # noqa: E731
    return 10 ** brentq(lambda le: f(le) - tau_target + 0.5, -12, 0.3)


def timing():
    p = ridge_problem(n=10_000, d=100, lam=1e-3, noise=0.3, rows="unit", seed=0)
    rel = 1e-2
    print(f"== full comparison run: ridge n={p.n}, d={p.d}, rel eps={rel:g}, "
          f"tau*={optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h_star, rel, r0_sq=float(p.x_star @ p.x_star))}")
    for label, kw in (("5-pass budget, all six runs to the end", dict(epochs=5)),
                      ("stop each run at eps", dict(epochs=5, stop_at_target=True))):
        w, c = time.perf_counter(), time.process_time()
        out = compare_methods(p, rel, seed=0, **kw)
        w, c = time.perf_counter() - w, time.process_time() - c
        its = ", ".join(f"{k}: {v.tau.size} it" for k, v in out.items())
        print(f"  {label}: wall {w:.2f} s, CPU {c:.2f} s  ({its})")


def passes_table(name, p, rel, seeds, grid_size):
    r0 = float(p.x_star @ p.x_star)
    ts = optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h_star, rel, r0_sq=r0)
    print(f"\n== {name}: n={p.n}, d={p.d}, L_max^2/(mu L)={p.L_max**2 / (p.mu * p.L):.0f}, "
          f"rel eps={rel:.3g}, tau*={ts}, h(x0)/h*={p.h(np.zeros(p.d)) / p.h_star:.0f}")
    budget = 60
    med = lambda v: float(np.median(v))  # noqa: E731

    def fixed(t):
        return med([sgd(p, t, rel, epochs=budget, seed=s, stop_at_target=True,
                        snapshots=1).passes_to_target() for s in range(seeds)])

    grid = sorted(set(np.unique(np.geomspace(1, p.n, grid_size).round().astype(int)).tolist()
                      + [ts, max(ts // 2, 1), min(2 * ts, p.n)]))
    costs = {t: fixed(t) for t in grid}
    best_t = min(costs, key=lambda t: (math.inf if math.isnan(costs[t]) else costs[t]))
    rows = [("fixed tau = 1", costs[1]), (f"fixed tau* = {ts}", costs[ts]),
            (f"fixed tau = n = {p.n}", costs[p.n]),
            (f"best fixed tau on a {len(grid)}-point grid (tau = {best_t})", costs[best_t])]
    # baselines that know h(x*): they separate the step-size schedule from the batch-size rule
    for lab, kw in (("baseline: fixed tau*, bound step schedule, true h*", dict(fixed_tau=ts)),
                    ("baseline: tau*(h*, eps_k), bound schedule, true h*", {})):
        rows.append((lab, med([adaptive_sgd(p, rel, estimator="oracle", schedule="bound",
                                            epochs=budget, seed=s, stop_at_target=True,
                                            snapshots=1, **kw).passes_to_target()
                               for s in range(seeds)])))
    for est in ("batch", "exact"):
        for sch in ("plain", "bound"):
            c, tail = [], []
            for s in range(seeds):
                tr = adaptive_sgd(p, rel, estimator=est, schedule=sch, epochs=budget, seed=s,
                                  stop_at_target=True, snapshots=1)
                c.append(tr.passes_to_target())
                tail.append(tr.tau[0])
            rows.append((f"{RULE_NAMES[sch]}, {est} h (tau_0 = {int(np.median(tail))})", med(c)))
    w = max(len(r[0]) for r in rows)
    print(f"  {'method':<{w}}  passes to eps (median of {seeds} seeds)   x best fixed")
    for lab, v in rows:
        print(f"  {lab:<{w}}  {v:10.4f}                     {v / costs[best_t]:8.2f}")


def _best(fn, repeats):
    """Fastest of ``repeats`` wall times of ``fn()`` (the machine is shared: the minimum is the
    least disturbed run)."""
    out = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t)
    return out


def sweep_timing(repeats: int = 5) -> None:
    """Print the page's cost sweep time (both step rules) and the generic loop's us/iteration."""
    print(f"\n== cost_sweep as the page calls it (3 seeds x 10 tau, 5 passes, rel eps 1e-2; "
          f"best of {repeats}; load average {os.getloadavg()[0]:.2f})")
    for name, p in (("synthetic ridge (page default)",
                     ridge_problem(n=1000, d=20, lam=1e-3, noise=0.3, rows="unit", seed=0)),
                    ("synthetic logistic (the 'Problem' change)",
                     logistic_problem(n=1000, d=20, lam=1e-3, rows="unit", seed=0))):
        t = {sch: _best(lambda sch=sch: cost_sweep(p, 1e-2, None, (0, 1, 2), sch, "nice", 1, 5),
                        repeats) for sch in ("constant", "bound")}
        # generic loop: the sweep's bound runs at tau = 1, to the end of a 5-pass budget
        run = lambda: adaptive_sgd(p, 1e-2, estimator="oracle", schedule="bound",  # noqa: E731
                                   fixed_tau=1, epochs=5, seed=0, snapshots=1)
        k = run().tau.size
        us = _best(run, repeats) / k * 1e6
        fixed = lambda: sgd(p, 1, 1e-2, epochs=5, seed=0, snapshots=1)  # noqa: E731
        us_fixed = _best(fixed, repeats) / fixed().tau.size * 1e6
        print(f"  {name}: cost_sweep constant {t['constant']:.3f} s + bound {t['bound']:.3f} s "
              f"= {t['constant'] + t['bound']:.3f} s; generic loop _run {us:.1f} us/iteration, "
              f"_run_fixed {us_fixed:.1f} us/iteration (tau = 1, {k} iterations)")


def page_timing():
    from streamlit.testing.v1 import AppTest

    page = str(Path(__file__).resolve().parents[1] / "app_pages" / "batch_size.py")
    at = AppTest.from_file(page, default_timeout=300)
    print("\n== batch-size page in AppTest (script time; seconds)")
    t = time.perf_counter()
    at.run()
    print(f"  cold first render (imports, problem, runs, sweeps): {time.perf_counter() - t:.2f}")
    steps = [
        ("rerun, nothing changed", lambda: None),
        ("eps 1e-2 -> 1e-3 (new runs)", lambda: at.select_slider(key="bs_eps").set_value(1e-3)),
        ("eps back to 1e-2 (cached)", lambda: at.select_slider(key="bs_eps").set_value(1e-2)),
        ("tau_k x axis (fragment)", lambda: at.radio(key="bs_axis").set_value("data passes")),
        ("norm-test theta (fragment)", lambda: at.slider(key="bs_theta").set_value(0.3)),
        ("sampling: with replacement (new runs)",
         lambda: at.selectbox(key="bs_samp").set_value("replacement")),
        ("sampling back to tau-nice (cached)", lambda: at.selectbox(key="bs_samp").set_value("nice")),
    ]
    for label, act in steps:
        act()
        t = time.perf_counter()
        at.run()
        print(f"  {label}: {time.perf_counter() - t:.2f}" + ("  ERROR" if at.error or at.exception else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="skip the tables")
    ap.add_argument("--page", action="store_true", help="only the page timings")
    ap.add_argument("--sweep", action="store_true", help="only the cost-sweep timing")
    a = ap.parse_args()
    print(f"(CPU count {os.cpu_count()}; timings on a shared machine are noisy)")
    if a.page:
        page_timing()
        return
    sweep_timing()
    if a.sweep:
        return
    timing()
    if a.quick:
        return
    w = time.perf_counter()
    probs = [
        ("ridge 10k x 100, unit rows (the timing problem)",
         ridge_problem(n=10_000, d=100, lam=1e-3, noise=0.3, rows="unit", seed=0), 1e-2),
        ("ridge, well conditioned (reference §2.4)",
         ridge_problem(n=5000, d=10, lam=1e-3, noise=0.3, rows="unit", seed=0), None),
        ("ridge, ill conditioned, uneven rows (reference §2.4)",
         ridge_problem(n=500, d=20, lam=1e-2, noise=0.3, rows="uneven", seed=0), None),
        ("breast_cancer logistic, lam = 0.1", sklearn_problem("breast_cancer", lam=0.1), None),
    ]
    targets = [None, 100, 50, 340]
    for (name, p, rel), tt in zip(probs, targets):
        if rel is None:
            rel = rel_eps_for(p, tt)
        passes_table(name, p, rel, a.seeds, grid_size=10)
    print(f"\n(tables: {time.perf_counter() - w:.1f} s wall)")


if __name__ == "__main__":
    main()
