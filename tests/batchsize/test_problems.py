"""Finite-sum problems: optimum, constants and gradients against independent references."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
import torch
from sklearn.datasets import dump_svmlight_file

from robustcore.batchsize import (
    FiniteSumProblem,
    libsvm_problem,
    logistic_problem,
    ridge_problem,
    sklearn_problem,
)


def _torch_per_example(p, x):
    """Per-example gradients by autograd on the written-out f_i (an independent reference)."""
    A, b = torch.tensor(p.A), torch.tensor(p.b)
    out = []
    for i in range(p.n):
        xt = torch.tensor(x, requires_grad=True)
        z = A[i] @ xt
        li = 0.5 * (z - b[i]) ** 2 if p.kind == "ridge" else torch.nn.functional.softplus(-b[i] * z)
        (li + 0.5 * p.lam * xt @ xt).backward()
        out.append(xt.grad.numpy())
    return np.array(out)


@pytest.mark.parametrize("make", [
    lambda: ridge_problem(n=40, d=5, lam=0.05, cond=30.0, seed=1),
    lambda: logistic_problem(n=40, d=5, lam=0.05, cond=10.0, seed=1),
])
def test_gradients_and_norms(make):
    p = make()
    x = np.random.default_rng(0).standard_normal(p.d)
    G = _torch_per_example(p, x)
    assert np.allclose(p.per_example_grads(x), G, atol=1e-12)
    assert np.allclose(p.grad_sq_norms(x), np.sum(G**2, axis=1), rtol=1e-10)
    assert np.allclose(p.grad(x), G.mean(axis=0), atol=1e-12)
    assert scipy.optimize.check_grad(p.f, p.grad, x) < 1e-5
    f, h = p.f_and_h(np.stack([x, p.x_star]))
    assert f == pytest.approx([p.f(x), p.f_star]) and h == pytest.approx([p.h(x), p.h_star])


def test_ridge_optimum_and_constants():
    p = ridge_problem(n=200, d=8, lam=1e-2, cond=100.0, seed=2)
    # x* solves the normal equations
    assert np.linalg.norm(p.grad(p.x_star)) < 1e-10 * max(1.0, np.linalg.norm(p.A.T @ p.b) / p.n)
    H = p.hessian(p.x_star)
    ev = np.linalg.eigvalsh(H)
    assert p.L == pytest.approx(ev[-1], rel=1e-10) and p.mu == pytest.approx(ev[0], rel=1e-10)
    # L_i is the largest eigenvalue of f_i's Hessian a_i a_i^T + lam I
    i = int(np.argmax(p.L_i))
    assert p.L_max == pytest.approx(np.linalg.eigvalsh(np.outer(p.A[i], p.A[i]))[-1] + p.lam)
    assert p.L <= p.L_bar <= p.L_max <= p.n * p.L
    # sum_i grad f_i(x*) = 0, so h(x*) is the per-example variance at x*
    G = p.per_example_grads(p.x_star)
    assert np.allclose(G.sum(axis=0), 0, atol=1e-10)
    assert p.h_star == pytest.approx(np.mean(np.sum((G - G.mean(0)) ** 2, axis=1)), rel=1e-10)
    # condition number of the recipe is roughly the one asked for
    assert 20 < p.L / p.mu < 150


def test_logistic_optimum_and_constants():
    p = logistic_problem(n=300, d=6, lam=1e-3, seed=3)
    assert np.linalg.norm(p.grad(p.x_star)) < 1e-12
    ref = scipy.optimize.minimize(p.f, np.zeros(p.d), jac=p.grad, method="L-BFGS-B",
                                  options={"gtol": 1e-12, "ftol": 1e-15})
    assert p.f_star <= ref.fun + 1e-12
    # the Hessian never exceeds L (phi'' <= 1/4) and never goes below mu = lam
    for x in np.random.default_rng(1).standard_normal((5, p.d)):
        ev = np.linalg.eigvalsh(p.hessian(x))
        assert ev[-1] <= p.L * (1 + 1e-12) and ev[0] >= p.mu * (1 - 1e-12)


def test_sklearn_sets_load():
    for name, kind in (("diabetes", "ridge"), ("wine", "logistic")):
        p = sklearn_problem(name, lam=0.05)
        assert p.kind == kind and np.linalg.norm(p.grad(p.x_star)) < 1e-10
        assert np.allclose(np.linalg.norm(p.A, axis=1), 1.0)


def test_libsvm_roundtrip(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 4))
    y = np.where(rng.random(30) < 0.5, 2, 7)
    path = tmp_path / "toy.svm"
    dump_svmlight_file(X, y, str(path))
    p = libsvm_problem(path, "logistic", lam=0.1)
    assert p.n == 30 and p.d == 4 and set(np.unique(p.b)) == {-1.0, 1.0}
    assert np.allclose(p.A, X / np.linalg.norm(X, axis=1, keepdims=True), atol=1e-6)
    bad = tmp_path / "bad.svm"
    bad.write_text("this is not libsvm\n")
    with pytest.raises(ValueError, match="LIBSVM"):
        libsvm_problem(bad)
    with pytest.raises(ValueError, match="No readable LIBSVM file"):
        libsvm_problem(tmp_path / "missing.svm")


def test_bad_input():
    A = np.ones((4, 2))
    with pytest.raises(ValueError, match="NaN"):
        FiniteSumProblem(np.where(np.eye(4, 2) > 0, np.nan, 1.0), np.ones(4), 0.1)
    with pytest.raises(ValueError, match="lam"):
        FiniteSumProblem(A, np.ones(4), 0.0)
    with pytest.raises(ValueError, match="rows"):
        FiniteSumProblem(A, np.ones(3), 0.1)
    with pytest.raises(ValueError, match="labels"):
        FiniteSumProblem(A, np.array([0, 1, 2, 1.0]), 0.1, "logistic")
    with pytest.raises(ValueError, match="cond"):
        ridge_problem(cond=0.5)


def test_methods_check_their_point():
    p = ridge_problem(n=20, d=3, seed=0)
    for bad, exc in ((np.ones(4), ValueError), (np.array([1.0, np.nan, 0.0]), ValueError),
                     (np.array(["a", "b", "c"]), TypeError), (np.ones((3, 1)), ValueError)):
        for meth in (p.f, p.grad, p.h, p.hessian, p.per_example_grads, p.grad_sq_norms):
            with pytest.raises(exc, match="x"):
                meth(bad)
    with pytest.raises(ValueError, match="idx"):
        p.per_example_grads(np.zeros(3), np.array([0, 20]))
    with pytest.raises(TypeError, match="idx"):
        p.grad_sq_norms(np.zeros(3), np.array([0.5]))
    with pytest.raises(ValueError, match="X"):
        p.f_and_h(np.zeros((2, 4)))
    # the checks do not change the values: h(x) is the mean of the per-example squared norms
    x = np.array([0.3, -1.0, 2.0])
    G = p.per_example_grads(x)
    assert p.h(x) == pytest.approx(np.mean(np.sum(G**2, axis=1)))
    assert np.allclose(p.grad_sq_norms(x, np.array([1, 4])), np.sum(G[[1, 4]] ** 2, axis=1))
