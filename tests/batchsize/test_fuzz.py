"""Fuzz every public function of robustcore.batchsize: any input gives a result or a one-sentence
ValueError/TypeError, quickly (issue 12). Valid inputs must give finite, in-range results."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import robustcore.batchsize as bs

# numbers a user, a URL or an attacker might pass
WEIRD = st.sampled_from([float("nan"), float("inf"), -float("inf"), -1, 0, 0.0, 7.5, 1e308, -1e308,
                         10**12, 2**70, True, None, "3", b"3", [1, 2], 1j, np.float64("nan"),
                         np.int64(5)])
SMALL_INT = st.integers(-3, 60)
POS = st.floats(1e-6, 1e3, allow_nan=False)
NUM = st.one_of(WEIRD, SMALL_INT, POS, st.floats(allow_nan=True, allow_infinity=True))
SAMPLING = st.one_of(st.sampled_from(list(bs.SAMPLINGS)), st.just("nope"), WEIRD)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _call(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        assert msg and "\n" not in msg, (fn.__name__, msg)
        assert "Traceback" not in msg
        return None


def _finite(v):
    a = np.asarray(v, dtype=float)
    assert np.all(np.isfinite(a)) or np.all(a[~np.isfinite(a)] == np.inf)


@pytest.fixture(scope="module")
def prob():
    return bs.ridge_problem(n=24, d=3, lam=0.05, seed=1)


@FUZZ
@given(tau=NUM, n=NUM, L=NUM, L_max=NUM, mu=NUM, h=NUM, eps=NUM, r0=NUM, sampling=SAMPLING,
       nodes=st.one_of(SMALL_INT, WEIRD))
def test_formulas(tau, n, L, L_max, mu, h, eps, r0, sampling, nodes):
    for fn, args in ((bs.expected_smoothness, (tau, n, L, L_max, sampling, nodes)),
                     (bs.gradient_noise, (tau, n, h, sampling, nodes)),
                     (bs.step_size, (tau, n, L, L_max, mu, h, eps, sampling, nodes)),
                     (bs.iteration_complexity, (tau, n, L, L_max, mu, h, eps, r0, sampling, nodes)),
                     (bs.total_complexity, (tau, n, L, L_max, mu, h, eps, r0, sampling, nodes)),
                     (bs.complexity_curves, (tau, n, L, L_max, mu, h, eps, r0, sampling, nodes))):
        out = _call(fn, *args)
        if out is not None and not isinstance(out, dict):
            _finite(out)
    for fn in (bs.optimal_batch_size, bs.batch_size_crossing):
        out = _call(fn, n, L, L_max, mu, h, eps, sampling, nodes)
        if fn is bs.optimal_batch_size and out is not None:
            assert isinstance(out, int) and 1 <= out <= n
    _call(bs.absolute_eps, eps, r0)
    rule = _call(bs.TauStarRule, n, L, L_max, mu, sampling, nodes)
    if rule is not None:
        t = _call(rule, h, eps)
        if t is not None:
            assert 1 <= t <= n


@FUZZ
@given(n=NUM, L=POS, ratio=st.floats(1.0, 100.0), mu_frac=st.floats(1e-4, 1.0),
       h=st.floats(0.0, 1e3), eps=st.floats(1e-9, 10.0), sampling=st.sampled_from(["nice", "independent",
                                                                                    "replacement"]))
def test_valid_formulas_agree_with_the_rule(n, L, ratio, mu_frac, h, eps, sampling):
    # a valid setting: tau* from the closed form equals the fast rule's, and lies in [1, n]
    if not (isinstance(n, int) and not isinstance(n, bool) and 2 <= n <= 10**6):
        return
    L_max = min(L * ratio, n * L)
    ts = bs.optimal_batch_size(n, L, L_max, L * mu_frac, h, eps, sampling)
    assert 1 <= ts <= n
    assert bs.TauStarRule(n, L, L_max, L * mu_frac, sampling)(h, eps) == ts


@FUZZ
@given(n=st.one_of(WEIRD, st.integers(-2, 40)), d=st.one_of(WEIRD, st.integers(-2, 6)), lam=NUM,
       cond=NUM, rows=st.one_of(st.sampled_from(["unit", "uneven", "gaussian", "x"]), WEIRD),
       seed=st.one_of(WEIRD, st.integers(-2, 5)))
def test_problem_builders(n, d, lam, cond, rows, seed):
    for fn in (bs.ridge_problem, bs.logistic_problem):
        p = _call(fn, n=n, d=d, lam=lam, cond=cond, rows=rows, seed=seed)
        if p is not None:
            assert np.all(np.isfinite(p.x_star)) and p.L <= p.L_max <= p.n * p.L * (1 + 1e-9)
    _call(bs.sklearn_problem, rows if isinstance(rows, str) else None, lam=lam)  # never a data set name
    _call(bs.sklearn_problem, "wine", lam=lam if not isinstance(lam, (int, float)) or lam <= 0 else -1.0)
    _call(bs.mnist_problem, "no such task", lam=lam)
    _call(bs.mnist_problem, "3 vs 5", lam=-1.0 if not isinstance(lam, float) else -abs(lam) - 1)


def test_size_caps_refuse_before_allocating():
    with pytest.raises(ValueError, match="n"):
        bs.ridge_problem(n=10**12)
    with pytest.raises(ValueError, match="d"):
        bs.logistic_problem(n=100, d=10**7)
    with pytest.raises(ValueError, match="entries"):
        bs.ridge_problem(n=bs.MAX_N, d=bs.MAX_D)
    with pytest.raises(ValueError, match="n"):
        bs.gradient_noise(1, 7.5, 1.0)
    with pytest.raises(ValueError, match="L_max"):
        bs.expected_smoothness(1, 10, 1.0, 11.0)  # L_max > n L
    with pytest.raises(ValueError, match="h"):
        bs.TauStarRule(10, 1.0, 2.0, 0.5)(float("nan"), 1.0)
    with pytest.raises(ValueError, match="eps"):
        bs.TauStarRule(10, 1.0, 2.0, 0.5)(1.0, 0.0)
    with pytest.raises(ValueError, match="tau"):
        bs.expected_smoothness(np.ones(bs._checks.MAX_TAUS + 1), 10, 1.0, 2.0)


@FUZZ
@given(tau=st.one_of(SMALL_INT, WEIRD), rel=NUM, epochs=st.one_of(st.sampled_from([0.5, 1, 2]), WEIRD),
       seed=st.one_of(st.integers(-1, 3), WEIRD), sampling=SAMPLING, nodes=st.one_of(st.sampled_from(
           [1, 2, 3, 4, 5]), WEIRD), snapshots=st.one_of(st.integers(-1, 5), WEIRD),
       estimator=st.sampled_from(["batch", "exact", "oracle", "x"]),
       schedule=st.sampled_from(["plain", "bound", "x"]), beta=NUM)
def test_runs(prob, tau, rel, epochs, seed, sampling, nodes, snapshots, estimator, schedule, beta):
    tr = _call(bs.sgd, prob, tau, rel, sampling, nodes, epochs, seed, snapshots=snapshots)
    if tr is not None:
        assert tr.grads[-1] <= epochs * prob.n and np.all(np.isfinite(tr.dist2))
    tr = _call(bs.adaptive_sgd, prob, rel, sampling, nodes, estimator, schedule,
               beta if beta is not None else 0.5, None, 1, epochs, seed, snapshots=snapshots,
               fixed_tau=None if not isinstance(tau, int) or isinstance(tau, bool) else tau)
    if tr is not None:
        assert tr.grads[-1] <= epochs * prob.n
        Lt = bs.expected_smoothness(tr.tau, prob.n, prob.L, prob.L_max if sampling != "distributed"
                                    else prob.shard_stats(nodes)[1], sampling, nodes)
        assert np.all(tr.gamma <= 1 / (2 * Lt) * (1 + 1e-12))
    _call(bs.tau_bracket, prob, np.zeros(prob.d) if isinstance(tau, int) else tau, rel, sampling, nodes)
    _call(bs.tau_star_of, prob, rel, sampling, nodes)


@FUZZ
@given(theta=NUM, b=st.one_of(SMALL_INT, WEIRD), B=st.one_of(SMALL_INT, WEIRD), seed=st.one_of(SMALL_INT, WEIRD),
       x=st.one_of(WEIRD, st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=4)))
def test_estimators(prob, theta, b, B, seed, x):
    out = _call(bs.noise_scale, prob, x)
    if out is not None:
        assert out >= 0
    out = _call(bs.norm_test_batch_size, prob, x, theta)
    if out is not None:
        assert 0 <= out <= prob.n
    _call(bs.two_batch_noise_scale, prob, x, b, B, np.random.default_rng(0))
    _call(bs.two_batch_noise_scale, prob, x, 1, 4, "not a generator")
    _call(bs.estimators_along, prob, x, theta, b, B, seed)


@FUZZ
@given(seeds=st.one_of(WEIRD, st.lists(st.integers(-1, 4), min_size=0, max_size=4)), rel=NUM,
       taus=st.one_of(WEIRD, st.lists(st.integers(-1, 30), min_size=0, max_size=3)),
       schedule=st.sampled_from(["constant", "bound", "x"]), points=st.one_of(SMALL_INT, WEIRD))
def test_experiments(prob, seeds, rel, taus, schedule, points):
    out = _call(bs.compare_over_seeds, prob, rel, seeds, epochs=1, methods=("tau = 1", "bound"),
                snapshots=1)
    if out is not None:
        rec, _ = out
        s = bs.summarise_comparison(rec)
        assert set(s["seeds"]) == {len(seeds)}
    sw = _call(bs.cost_sweep, prob, rel, taus, seeds, schedule, epochs=1)
    if sw is not None:
        bs.sweep_summary(sw)
    _call(bs.default_tau_grid, prob.n, 5, points)
    _call(bs.summarise_comparison, "not a frame")
    _call(bs.sweep_summary, None)


@FUZZ
@given(data=st.one_of(st.binary(max_size=200), WEIRD), lam=NUM,
       kind=st.sampled_from(["logistic", "ridge", "x"]))
def test_libsvm_bytes(data, lam, kind):
    p = _call(bs.libsvm_problem_from_bytes, data, "fuzz", kind, lam if not isinstance(lam, bool) else None)
    if p is not None:
        assert math.isfinite(p.f_star)
