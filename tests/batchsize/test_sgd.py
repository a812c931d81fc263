"""Fixed-tau and adaptive SGD: Theorem 3.1, the certified bracket, the adaptive tau_k -> tau*."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats
from scipy.optimize import brentq

from robustcore.batchsize import (
    adaptive_sgd,
    compare_methods,
    expected_smoothness,
    gradient_noise,
    logistic_problem,
    optimal_batch_size,
    ridge_problem,
    sgd,
    step_size,
    tau_bracket,
)
from robustcore.batchsize.sgd import BOUND_LABEL, FAIR_LABEL, PLUGIN_LABEL, _draw_block


def _rel_eps_for(p, tau_target):
    r0 = float(p.x_star @ p.x_star)
    f = lambda le: optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h_star, 10**le, r0_sq=r0)
    return 10 ** brentq(lambda le: f(le) - tau_target + 0.5, -10, 0)


@pytest.fixture(scope="module")
def well():
    """Reference §6.18 recipe: well conditioned (L_max^2/(mu L) ~ 100 << n), tau* = 100."""
    p = ridge_problem(n=5000, d=10, lam=1e-3, noise=0.3, rows="unit", seed=0)
    return p, _rel_eps_for(p, 100)


@pytest.mark.parametrize("tau", [1, 5, 30])
def test_theorem_31_monte_carlo(tau):
    # E||x^k - x*||^2 <= (1 - gamma mu)^k r0 + 2 gamma sigma^2/mu for every k; the mean over R
    # runs is compared with a 5-standard-error allowance (per-k failure prob. < 1e-6 by CLT).
    p = ridge_problem(n=30, d=3, lam=0.05, noise=0.5, rows="uneven", seed=6)
    rel = 0.05
    R, epochs = 300, 3
    runs = np.array([sgd(p, tau, rel, epochs=epochs, seed=s, snapshots=1).dist2
                     for s in range(R)])
    r0 = runs[0, 0]
    eps = rel * r0
    g = float(step_size(tau, p.n, p.L, p.L_max, p.mu, p.h_star, eps))
    sig = float(gradient_noise(tau, p.n, p.h_star))
    k = np.arange(runs.shape[1])
    bound = (1 - g * p.mu) ** k * r0 + 2 * g * sig / p.mu
    mean, se = runs.mean(axis=0), runs.std(axis=0, ddof=1) / math.sqrt(R)
    assert np.all(mean - 5 * se <= bound * (1 + 1e-9))
    # the bound is nearly tight early on (reference §1.2: max ratio 0.73-0.96), so the test
    # above has teeth: a wrong step size or noise formula would cross it
    assert np.max(mean / bound) > 0.5


def test_nice_blocks_are_uniform_subsets():
    rng = np.random.default_rng(0)
    n, tau = 12, 3
    I = _draw_block(rng, n, tau, 30000, "nice")
    assert np.all(np.sort(I, axis=1)[:, 1:] != np.sort(I, axis=1)[:, :-1])
    # every one of the C(12, 3) = 220 subsets equally likely: chi-square, alpha = 1e-4
    keys = {s: j for j, s in enumerate(itertools.combinations(range(n), tau))}
    counts = np.bincount([keys[tuple(sorted(r))] for r in I], minlength=len(keys))
    assert scipy.stats.chisquare(counts).pvalue > 1e-4


def test_independent_sampling_sizes():
    p = ridge_problem(n=400, d=3, seed=1)
    tr = sgd(p, 40, 0.05, sampling="independent", epochs=20, snapshots=1)
    m = tr.batch
    # realised sizes are Binomial(n, tau/n): mean tau; 5-sigma allowance
    assert abs(m.mean() - 40) < 5 * math.sqrt(40 * 0.9 / m.size)
    assert tr.passes_to_target() == tr.passes_to_target()  # reached (not nan)


def test_certified_bracket_and_h_bound():
    rng = np.random.default_rng(2)
    for p in (ridge_problem(n=300, d=6, rows="uneven", seed=2),
              logistic_problem(n=300, d=6, lam=0.01, seed=2)):
        eps = 1e-3 * float(p.x_star @ p.x_star + 1.0)
        ts = optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h_star, eps)
        for scale in (1e-3, 1e-1, 1.0, 10.0):
            for _ in range(20):
                x = p.x_star + scale * rng.standard_normal(p.d)
                gap = p.f(x) - p.f_star
                lhs = abs(math.sqrt(p.h(x)) - math.sqrt(p.h_star))
                mid = math.sqrt(2 * p.L_max * gap)
                assert lhs <= mid * (1 + 1e-9) + 1e-12
                assert mid <= p.L_max * np.linalg.norm(x - p.x_star) * (1 + 1e-9)
                lo, hi, h_lo, h_hi = tau_bracket(p, x, eps)
                assert h_lo <= p.h_star * (1 + 1e-12) and p.h_star <= h_hi * (1 + 1e-12)
                assert lo <= ts <= hi


def test_plug_in_converges_along_a_sequence():
    p = ridge_problem(n=500, d=20, lam=1e-2, rows="uneven", seed=0)
    eps = 1e-3
    ts = optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h_star, eps)
    v = np.random.default_rng(3).standard_normal(p.d)
    got = [optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h(p.x_star + t * v), eps)
           for t in (1e-6, 1e-8, 1e-10)]
    assert got == [ts, ts, ts]
    # ... and from x0 = 0 the plain plug-in is near full batch (reference §2.3.3)
    assert p.h(np.zeros(p.d)) > 10 * p.h_star
    assert optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h(np.zeros(p.d)), eps) > 0.9 * p.n > ts


def test_batch_h_estimate_is_unbiased():
    p = ridge_problem(n=9, d=3, rows="uneven", seed=4)
    x = np.random.default_rng(5).standard_normal(p.d)
    for tau in (1, 3, 5):
        est = [p.grad_sq_norms(x, np.array(S)).mean()
               for S in itertools.combinations(range(p.n), tau)]
        assert np.mean(est) == pytest.approx(p.h(x), rel=1e-12)


@pytest.mark.parametrize("schedule", ["bound", "plain"])
def test_adaptive_tau_converges_to_tau_star(well, schedule):
    p, rel = well
    ts = optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h_star, rel, r0_sq=float(p.x_star @ p.x_star))
    assert 95 <= ts <= 105
    meds = []
    for seed in range(3):
        tr = adaptive_sgd(p, rel, estimator="batch", schedule=schedule, epochs=30, seed=seed,
                          snapshots=2)
        assert tr.tau_star == ts
        meds.append(np.median(tr.tau[-len(tr.tau) // 5:]))
        # every step is safe: gamma_k <= 1/(2 L(tau_k)), chosen before the batch was drawn
        assert np.all(tr.gamma <= 1 / (2 * expected_smoothness(tr.tau, p.n, p.L, p.L_max)) + 1e-15)
        assert math.isfinite(tr.passes_to_target())
        assert tr.rel_error[-1] <= 2 * rel
    assert abs(np.median(meds) - ts) <= 0.1 * ts


def test_bound_schedule_starts_small_and_beats_plain(well):
    p, rel = well
    cost = {}
    for schedule in ("bound", "plain"):
        c = []
        for seed in range(3):
            tr = adaptive_sgd(p, rel, estimator="exact", schedule=schedule, epochs=10,
                              seed=seed, stop_at_target=True, snapshots=1)
            c.append(tr.passes_to_target())
            if schedule == "plain":  # h(x^0) >> h(x*): starts far above tau*
                assert tr.tau[0] > 3 * tr.tau_star
            else:
                assert tr.tau[0] < tr.tau_star
            # the exact estimator is charged n gradients per evaluation (and once at x^0), and
            # evaluates whenever the batches since the last evaluation add up to n
            extra = np.diff(tr.grads) - tr.batch
            assert tr.grads[0] == p.n and set(np.unique(extra)) <= {0.0, float(p.n)}
            evals = np.flatnonzero(extra)
            since = np.diff(np.concatenate([[0], np.cumsum(tr.batch)[evals]]))
            assert np.all(since >= p.n) and np.all(since < p.n + tr.batch[evals])
        cost[schedule] = np.median(c)
    assert cost["bound"] < cost["plain"]


def test_fixed_tau_costs_near_tau_star():
    # empirical observation (reference §6.22), asserted loosely: tau* is much cheaper than n
    p = ridge_problem(n=2000, d=10, lam=1e-3, noise=0.3, rows="unit", seed=1)
    rel = _rel_eps_for(p, 100)
    out = compare_methods(p, rel, epochs=30, seed=0, stop_at_target=True, snapshots=2,
                          adaptive={"estimator": "batch"})
    costs = {k: v.passes_to_target() for k, v in out.items()}
    ts = out[BOUND_LABEL].tau_star
    assert list(out) == ["tau = 1", f"tau* = {ts}", "tau = n", FAIR_LABEL, PLUGIN_LABEL,
                         BOUND_LABEL]
    assert out[PLUGIN_LABEL].info["schedule"] == "plain"
    assert out[BOUND_LABEL].info["schedule"] == "bound"
    assert np.all(out[FAIR_LABEL].tau == ts) and out[FAIR_LABEL].info["schedule"] == "bound"
    star = costs[f"tau* = {ts}"]
    assert star * 2 < costs["tau = n"]
    assert all(math.isfinite(c) for c in costs.values())


def test_distributed_run():
    p = ridge_problem(n=400, d=4, seed=3)
    tr = sgd(p, 8, 0.05, sampling="distributed", nodes=4, epochs=5, snapshots=3)
    assert np.all(tr.batch == 8) and math.isfinite(tr.passes_to_target())
    tr = adaptive_sgd(p, 0.05, sampling="distributed", nodes=4, epochs=5, snapshots=3)
    assert np.all(tr.tau % 4 == 0)


def test_bad_input():
    p = ridge_problem(n=50, d=3, seed=0)
    with pytest.raises(ValueError, match="tau"):
        sgd(p, 0)
    with pytest.raises(ValueError, match="tau"):
        sgd(p, 51)
    with pytest.raises(ValueError, match="eps"):
        sgd(p, 5, rel_eps=-1.0)
    with pytest.raises(ValueError, match="estimator"):
        adaptive_sgd(p, estimator="magic")
    with pytest.raises(ValueError, match="x0"):
        sgd(p, 5, x0=np.ones(4))
    with pytest.raises(ValueError, match="multiple"):
        sgd(p, 5, sampling="distributed", nodes=2)


def test_oracle_fixed_tau_baseline_step_sizes():
    # with tau fixed and the true h*, the schedule's step lies between gamma(tau) and 1/(2L(tau))
    p = ridge_problem(n=1000, d=10, lam=1e-3, rows="unit", seed=2)
    rel = 1e-2
    r0 = float(p.x_star @ p.x_star)
    for t in (1, 20, 300):
        tr = adaptive_sgd(p, rel, estimator="oracle", fixed_tau=t, epochs=2, snapshots=1)
        g = float(step_size(t, p.n, p.L, p.L_max, p.mu, p.h_star, rel, r0_sq=r0))
        top = 1 / (2 * float(expected_smoothness(t, p.n, p.L, p.L_max)))
        assert np.all(tr.tau == t) and tr.grads[0] == 0
        assert np.all(tr.gamma >= g * (1 - 1e-12)) and np.all(tr.gamma <= top * (1 + 1e-12))
        # the bound schedule's eps_k never goes below eps and is non-increasing
        assert np.all(tr.eps_k >= tr.eps) and np.all(np.diff(tr.eps_k) <= 1e-15 * tr.eps_k[0])


def test_bound_schedule_with_true_h_is_a_valid_bound():
    # With the true h*, tau_k and gamma_k are deterministic, so rbar_k (= eps_k while above eps)
    # bounds E||x^k - x*||^2 by Theorem 3.1's one-step inequality; Monte Carlo over 150 runs
    # with a 5-standard-error allowance.
    p = ridge_problem(n=30, d=3, lam=0.05, noise=0.5, rows="uneven", seed=6)
    rel, R = 1e-3, 150
    runs = [adaptive_sgd(p, rel, estimator="oracle", schedule="bound", epochs=2, seed=s,
                         snapshots=1) for s in range(R)]
    K = min(len(r.tau) for r in runs)
    assert all(np.array_equal(r.tau[:K], runs[0].tau[:K]) for r in runs)
    D = np.array([r.dist2[:K] for r in runs])
    rbar = runs[0].eps_k[:K]
    above = rbar > runs[0].eps
    assert above.sum() > 10
    mean, se = D.mean(0), D.std(0, ddof=1) / math.sqrt(R)
    assert np.all((mean - 5 * se)[above] <= rbar[above] * (1 + 1e-9))
    # not vacuous: after the first step the bound is within a factor ~1.1 of the mean somewhere
    assert np.max((mean / rbar)[1:][above[1:]]) > 0.5


@pytest.mark.parametrize("sampling,nodes", [("nice", 1), ("independent", 1), ("replacement", 1),
                                            ("distributed", 4)])
def test_adaptive_with_true_h_and_fixed_tau_takes_sgd_step(sampling, nodes):
    # issue 13: the distributed adaptive step was `nodes` times too small. With the true h and
    # tau fixed, the plug-in rule's step must be Theorem 3.1's gamma(tau), i.e. sgd()'s step.
    p = ridge_problem(n=400, d=5, lam=1e-2, rows="uneven", seed=4)
    for rel in (1e-1, 1e-3):  # one where the smoothness branch binds, one where the noise does
        for t in (8, 40):
            a = adaptive_sgd(p, rel, sampling=sampling, nodes=nodes, estimator="oracle",
                             schedule="plain", fixed_tau=t, epochs=1, snapshots=1)
            f = sgd(p, t, rel, sampling=sampling, nodes=nodes, epochs=1, snapshots=1)
            assert a.gamma.size and f.gamma.size
            assert np.allclose(a.gamma, f.gamma[0], rtol=1e-12)


@pytest.mark.parametrize("sampling,nodes", [("nice", 1), ("independent", 1), ("replacement", 1),
                                            ("distributed", 5)])
def test_runs_stop_within_their_budget(sampling, nodes):
    # issue 13: fixed runs used 5.24 passes of a 5-pass budget. No run may compute more than
    # epochs * n gradients (probes and exact h evaluations included), and it stops only when
    # the next batch would not fit.
    p = ridge_problem(n=300, d=4, seed=2)
    for epochs in (0.5, 2.0, 5.0):
        budget = epochs * p.n
        for t in (5, 35, 120):
            tr = sgd(p, t, 1e-3, sampling=sampling, nodes=nodes, epochs=epochs, snapshots=2)
            assert tr.grads[-1] <= budget
            if sampling != "independent":
                assert tr.grads[-1] + t > budget  # used the whole budget it could
        for sch in ("plain", "bound"):
            for est in ("batch", "exact"):
                if est == "exact" and epochs < 1:  # h(x^0) alone costs a pass: refused
                    with pytest.raises(ValueError, match="epochs"):
                        adaptive_sgd(p, 1e-3, sampling=sampling, nodes=nodes, estimator=est,
                                     epochs=epochs)
                    continue
                tr = adaptive_sgd(p, 1e-3, sampling=sampling, nodes=nodes, schedule=sch,
                                  estimator=est, epochs=epochs, snapshots=2)
                assert tr.grads[-1] <= budget
                assert np.all(np.diff(tr.grads) >= 0)


def test_sgd_argument_checks_name_the_argument():
    p = ridge_problem(n=50, d=3, seed=0)
    for kw, word in ((dict(tau=7.5), "tau"), (dict(tau=True), "tau"), (dict(tau=5, seed=-1), "seed"),
                     (dict(tau=5, epochs=float("nan")), "epochs"),
                     (dict(tau=5, epochs=10**9), "epochs"), (dict(tau=5, rel_eps=2.0), "rel_eps"),
                     (dict(tau=5, snapshots=0), "snapshots"), (dict(tau=5, sampling="x"), "sampling"),
                     (dict(tau=5, x0=np.array(["a", "b", "c"])), "x0")):
        with pytest.raises((ValueError, TypeError), match=word):
            sgd(p, **kw)
    with pytest.raises(ValueError, match="beta"):
        adaptive_sgd(p, beta=1.0)
    with pytest.raises(TypeError, match="problem"):
        sgd("not a problem", 3)
