"""The generic SGD loop (``sgd._run``) against a plain reference loop, bit for bit.

``_run`` draws fixed-size batches in blocks, skips no-op divisions and reuses buffers to cut
Python overhead; none of that may change a single bit. The reference below is the loop written
the obvious way: one ``rng.choice`` per iteration, the masked logistic function, fresh arrays.
(``_run_fixed`` is no reference: it updates ``x`` in another order, so it agrees only to
rounding.) Saved results in ``robustcore/results/batchsize.*`` depend on this equality.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from robustcore.batchsize import adaptive_sgd, logistic_problem, ridge_problem, sgd
from robustcore.batchsize.problems import _sigmoid
from robustcore.batchsize.sgd import _nice_block, _run, _Sampler
from robustcore.batchsize.smoothness import _noise_raw, _smooth_raw


def _sigmoid_ref(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _dloss_ref(p, z, S):
    y = p.b[S]
    return z - y if p.kind == "ridge" else -y * _sigmoid_ref(-y * z)


def _reference(p, tau, steps, seed, budget, eps, stop):
    """Plain nice-sampling SGD: ``steps(k) -> gamma_k`` before each batch; returns per-iteration
    gamma and ||x - x*||^2 (index 0: x^0 = 0), stopping as ``_run`` does."""
    rng = np.random.default_rng(seed)
    n, lam, A = p.n, p.lam, p.A
    x = np.zeros(p.d)
    e = x - p.x_star
    d2s, gammas, g_count, k = [float(e @ e)], [], 0, 0
    while g_count + tau <= budget:
        gamma = steps(k)
        if tau == n:
            z = A @ x
            g = (A.T @ _dloss_ref(p, z, slice(None))) / tau + (n / tau) * lam * x
        else:
            S = rng.choice(n, tau, replace=False)
            AS = A[S]
            g = (AS.T @ _dloss_ref(p, AS @ x, S)) / tau + (tau / tau) * lam * x
        x = x - gamma * g
        g_count += tau
        k += 1
        e = x - p.x_star
        d2s.append(float(e @ e))
        gammas.append(gamma)
        if stop and d2s[-1] <= eps:
            break
    return np.array(gammas), np.array(d2s)


@pytest.fixture(scope="module", params=["ridge", "logistic"])
def prob(request):
    if request.param == "ridge":
        return ridge_problem(n=300, d=6, lam=1e-2, noise=0.3, rows="uneven", seed=4)
    return logistic_problem(n=300, d=6, lam=1e-2, rows="unit", seed=4)


@pytest.mark.parametrize("tau", [1, 2, 7, 48, 49, 300])
@pytest.mark.parametrize("fixed", [True, False])
def test_run_constant_step_matches_reference(prob, tau, fixed):
    """A constant schedule through ``_run`` (block draws with ``fixed_tau``, per-call draws
    without) equals the reference loop exactly."""
    p, gamma, eps = prob, 0.37 / prob.L, 1e-300
    tr = _run(p, lambda k, h: (tau, gamma, eps), eps, "t", "nice", 1, 3.0, 11, None, False, 5,
              h0=p.h_star, fixed_tau=tau if fixed else None)
    ref_g, ref_d2 = _reference(p, tau, lambda k: gamma, 11, math.floor(3.0 * p.n + 1e-9), eps,
                               False)
    assert np.array_equal(tr.dist2, ref_d2)
    assert np.array_equal(tr.gamma, ref_g)
    assert np.array_equal(tr.batch, np.full(ref_g.size, float(tau)))


@pytest.mark.parametrize("tau", [1, 3, 20, 120])
@pytest.mark.parametrize("seed", [0, 5])
def test_bound_schedule_fixed_tau_matches_reference(prob, tau, seed):
    """The cost sweep's "bound" runs (oracle h, fixed tau, stop at eps) bit for bit against the
    reference loop with the Theorem 3.1 recursion written out."""
    p, rel = prob, 1e-2
    tr = adaptive_sgd(p, rel, estimator="oracle", schedule="bound", fixed_tau=tau, epochs=4,
                      seed=seed, stop_at_target=True, snapshots=1)
    r0 = float(np.sum((np.zeros(p.d) - p.x_star) ** 2))  # as sgd._r0_sq computes it
    eps = rel * r0
    Lt = float(_smooth_raw(float(tau), p.n, p.L, p.L_max, "nice", 1))
    sig = float(_noise_raw(float(tau), p.n, p.h_star, "nice", 1))
    state = {"rbar": r0}

    def steps(k):
        eps_k = max(eps, state["rbar"])
        gamma = 1.0 / (2.0 * Lt) if sig <= 0 else min(1.0 / (2.0 * Lt), eps_k * p.mu / (4.0 * sig))
        state["rbar"] = (1.0 - gamma * p.mu) * state["rbar"] + 2.0 * gamma * gamma * sig
        return gamma

    ref_g, ref_d2 = _reference(p, tau, steps, seed, 4 * p.n, eps, True)
    assert np.array_equal(tr.gamma, ref_g)
    assert np.array_equal(tr.dist2, ref_d2)


def test_nice_block_is_rng_choice():
    """Blocks of tau-nice sets equal successive ``rng.choice`` calls and leave the generator in
    the same state (n up to 2^33, where numpy switches to 64-bit bounded draws)."""
    rs = np.random.default_rng(2024)
    for _ in range(300):
        n = int(rs.choice([2, 3, 7, 50, 569, 1000, 10_000, 10_001, 2**33 + 3]))
        tau = int(rs.integers(1, min(n, 48) + 1))
        seed, B = int(rs.integers(2**32)), int(rs.integers(1, 30))
        g1, g2 = np.random.default_rng(seed), np.random.default_rng(seed)
        ref = np.stack([g1.choice(n, tau, replace=False) for _ in range(B)])
        assert np.array_equal(_nice_block(g2, n, tau, B), ref), (n, tau, seed, B)
        assert g1.integers(2**62) == g2.integers(2**62)


@pytest.mark.parametrize("sampling,tau", [("nice", 1), ("nice", 4), ("replacement", 3),
                                          ("independent", 1), ("independent", 2)])
def test_sampler_draws_as_the_plain_calls(sampling, tau):
    """The sampler's shortcuts (tau = 1, blocks, |S| <= 1) draw the sets of the plain calls."""
    n, seed = 97, 3
    g = np.random.default_rng(seed)
    ref = []
    for _ in range(200):
        if sampling == "nice":
            ref.append(g.choice(n, tau, replace=False))
        elif sampling == "replacement":
            ref.append(g.integers(n, size=tau))
        else:
            ref.append(g.choice(n, g.binomial(n, tau / n), replace=False))
    for fixed in (None, tau):
        draw = _Sampler(n, sampling, 1, np.random.default_rng(seed), fixed, 200).draw
        got = [draw(tau) for _ in range(200)]
        assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(got, ref))


def test_sigmoid_shortcuts_match_masked_version():
    """Byte for byte (NaN signs included): one sign, both signs, 2-D and strided inputs."""
    rng = np.random.default_rng(0)
    for t in range(3000):
        z = rng.normal(size=int(rng.integers(0, 40))) * 10 ** rng.uniform(-3, 3)
        z = (np.abs(z), -np.abs(z), z)[t % 3]
        if z.size and t % 20 == 0:
            z[0] = (np.inf, -np.inf, np.nan, -np.nan, 0.0, -0.0, 800.0, -800.0)[t // 20 % 8]
        for arg in (z, z[::2], z[: z.size // 2 * 2].reshape(-1, 2)):
            a, b = _sigmoid(arg), _sigmoid_ref(arg)
            assert a.shape == b.shape and a.tobytes() == b.tobytes()


def test_independent_fixed_tau_runs_are_reproducible(prob):
    """sgd with the independent sampling goes through _run: the same seed, the same run."""
    a = sgd(prob, 2, 1e-2, "independent", epochs=1, seed=1, snapshots=3)
    b = sgd(prob, 2, 1e-2, "independent", epochs=1, seed=1, snapshots=3)
    assert np.array_equal(a.dist2, b.dist2) and np.array_equal(a.batch, b.batch)
