"""Batch-size figures: what a reader sees is the data, on the axes, in the page's notation, and it survives
the paper style (issue 15's visual QA)."""
from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

from robustcore.batchsize import (
    BOUND_LABEL,
    FAIR_LABEL,
    PLUGIN_LABEL,
    compare_methods,
    complexity_curves,
    estimators_along,
    optimal_batch_size,
    ridge_problem,
)
from robustcore.viz import batchsize as vb
from robustcore.viz.style import apply_paper_style


@pytest.fixture(scope="module")
def page_like():
    """The page's default kind of problem, small: n = 300 ridge, runs of all six methods."""
    p = ridge_problem(n=300, d=10, lam=1e-3, noise=0.3, rows="unit", seed=0)
    rel = 1e-2
    r0 = float(p.x_star @ p.x_star)
    ts = optimal_batch_size(p.n, p.L, p.L_max, p.mu, p.h_star, rel * r0)
    runs = compare_methods(p, rel, epochs=5, seed=0, stop_at_target=True, snapshots=40)
    return p, rel, r0, ts, runs


def _figures(page_like):
    p, rel, r0, ts, runs = page_like
    taus = np.unique(np.concatenate([np.geomspace(1, p.n, 200).round(), [ts]]))
    cur = complexity_curves(taus, p.n, p.L, p.L_max, p.mu, p.h_star, rel, r0)
    est = estimators_along(p, runs[BOUND_LABEL].snap_x, theta=0.5, seed=0)
    return {"cost": vb.complexity_figure(cur, ts, p.n),
            "error": vb.suboptimality_figure(runs, rel),
            "tau": vb.tau_trajectory_figure(runs[BOUND_LABEL], ts, p.n, "iterations",
                                            others={PLUGIN_LABEL: runs[PLUGIN_LABEL]}),
            "step": vb.step_size_figure(runs),
            "rules": vb.estimators_figure(runs[BOUND_LABEL], est, ts, p.n, 0.5)}


def _texts(fig) -> list[str]:
    out = [tr.name or "" for tr in fig.data]
    out += [a.text or "" for a in fig.layout.annotations]
    for ax in list(fig.select_xaxes()) + list(fig.select_yaxes()):
        out.append(ax.title.text or "")
    return out


def test_figure_text_uses_the_pages_notation(page_like):
    # the prose writes tau*, eps, sigma^2, tau_k as τ*, ε, σ², τₖ: the figures must too
    ascii_notation = re.compile(r"\btau|\beps\b|epsilon|sigma|gamma_|_k\b|\^2|B_simple")
    for name, fig in _figures(page_like).items():
        bad = [t for t in _texts(fig) if ascii_notation.search(t)]
        assert not bad, (name, bad)
    assert vb.display_label("tau* = 37") == "τ* = 37" and vb.display_label(FAIR_LABEL) == "fixed τ*, bound schedule"


def test_every_line_survives_the_paper_style(page_like):
    # the print template's shape defaults have line width 0: the tau* line vanished (issue 15)
    for name, fig in _figures(page_like).items():
        paper = apply_paper_style(fig)
        for shape in paper.layout.shapes:
            assert shape.line.width is not None and shape.line.width > 0, name
            assert shape.line.color is not None, name
        for tr in paper.data:
            if "lines" in (tr.mode or "lines") and tr.fill is None and tr.showlegend is not False:
                assert tr.line.width is not None and tr.line.width > 0, (name, tr.name)
                assert tr.line.color is not None, (name, tr.name)
    # tau* is a line on both panels of the cost figure, at tau*
    cost = _figures(page_like)["cost"]
    ts = page_like[3]
    assert [s.x0 for s in cost.layout.shapes] == [ts, ts]


def test_branches_stop_at_the_axis_floor_and_are_otherwise_exact(page_like):
    p, rel, r0, ts, runs = page_like
    taus = np.unique(np.geomspace(1, p.n, 200).round())
    cur = complexity_curves(taus, p.n, p.L, p.L_max, p.mu, p.h_star, rel, r0)
    assert cur["T_noise"][-1] == 0.0  # sigma^2(n) = 0: the branch would dive off a log axis
    fig = vb.complexity_figure(cur, ts, p.n)
    floor = 10 ** math.ceil(fig.layout.yaxis.range[0])  # the lowest labelled decade
    for tr in fig.data:
        if tr.name and "branch" in tr.name:
            key = "T_noise" if "noise" in tr.name else "T_smooth"
            y = np.array(tr.y, dtype=float)
            want = cur[key] / p.n
            shown = np.isfinite(y)
            np.testing.assert_allclose(y[shown], want[shown], rtol=1e-12)
            assert np.all(want[shown] >= floor * (1 - 1e-12))
            assert np.all(~(want[~shown] >= floor))  # cut exactly where it leaves the axis
    noise = next(tr for tr in fig.data if tr.name and "noise" in tr.name)
    assert not np.isfinite(np.array(noise.y, dtype=float)[-1])


def _fake_run(tau_lo, tau_hi, n):
    k = len(tau_lo)
    return SimpleNamespace(label=BOUND_LABEL, tau=np.ones(10), passes=np.linspace(0, 1, 11),
                           snap_iter=np.linspace(0, 10, k).astype(int), tau_lo=np.array(tau_lo, float),
                           tau_hi=np.array(tau_hi, float), n=n)


def test_bracket_band_starts_where_it_says_something():
    n = 1000
    # [1, n] and [1, 947] say (almost) nothing; [69, 619] spans a third of the log axis
    run = _fake_run([1, 1, 69, 108], [1000, 947, 619, 506], n)
    fig = vb.tau_trajectory_figure(run, 260, n, "iterations")
    band = [tr for tr in fig.data if tr.fill == "tonexty" or tr.showlegend is False]
    assert len(band) == 2
    hi, lo = band
    assert list(hi.x) == list(run.snap_iter[2:]) and list(hi.y) == [619, 506]
    assert list(lo.y) == [69, 108]
    assert f"from iteration {run.snap_iter[2]}" in lo.name
    # never informative: no band at all, the curves stay readable
    fig = vb.tau_trajectory_figure(_fake_run([1, 1], [1000, 1000], n), 260, n, "iterations")
    assert not any(tr.fill for tr in fig.data)


def test_fair_baseline_is_drawn_over_tau_star_and_says_when_it_is_the_same_rule(page_like):
    runs = page_like[4]
    star = next(k for k in runs if k.startswith("tau* ="))
    fig = vb.suboptimality_figure(runs, page_like[1])
    by = {tr.name.split(" (")[0]: tr for tr in fig.data}
    fair_tr, star_tr = by[vb.display_label(FAIR_LABEL)], by[vb.display_label(star)]
    names = [tr.name for tr in fig.data]
    assert names.index(fair_tr.name) > names.index(star_tr.name)  # drawn on top
    assert fair_tr.line.dash == "dash" and "markers" in fair_tr.mode and star_tr.mode == "lines"
    assert star_tr.line.width > fair_tr.line.width
    same = vb.same_rule(runs[FAIR_LABEL], runs[star])
    gaps = np.abs(runs[FAIR_LABEL].gamma / runs[star].gamma[0] - 1)
    assert same == bool(np.all(gaps <= 1e-9))
    assert ("same τ and step" in fair_tr.name) == same
    # a run with another batch size is never "the same rule"
    assert not vb.same_rule(runs[FAIR_LABEL], runs["tau = 1"])


def test_constant_steps_are_drawn_exactly_by_their_ends(page_like):
    runs = page_like[4]
    fig = vb.step_size_figure(runs)
    for tr in fig.data:
        label = next(k for k in runs if tr.name.startswith(vb.display_label(k)))
        run = runs[label]
        x_all, g_all = run.passes[:-1], run.gamma
        # the drawn polyline, read back at every iterate, is the step size of that iterate
        x, y = np.array(tr.x, float), np.array(tr.y, float)
        if len(x) < len(x_all):
            i = np.searchsorted(x, x_all, side="right") - 1
            np.testing.assert_allclose(y[np.clip(i, 0, len(y) - 1)], g_all, rtol=1e-12)
    tau1 = next(tr for tr in fig.data if tr.name == "τ = 1")
    assert len(tau1.x) == 2 and runs["tau = 1"].gamma.size > 100


def test_long_runs_are_thinned_to_what_the_eye_can_see():
    p = ridge_problem(n=2000, d=5, lam=1e-2, noise=0.3, rows="unit", seed=1)
    runs = compare_methods(p, 1e-3, epochs=3, seed=0, methods=("tau = 1",))
    tr = runs["tau = 1"]
    assert tr.dist2.size > 5000
    fig = vb.suboptimality_figure(runs, 1e-3)
    line, target = fig.data
    assert target.name == "target ε = 0.001" and fig.layout.shapes[0].y0 == 1e-3
    assert len(line.x) <= 400
    # both ends kept: the curve starts at 1 and ends at the run's last error
    assert line.y[0] == pytest.approx(1.0) and line.y[-1] == pytest.approx(tr.rel_error[-1])


def _fake_fixed(label, tau, gammas, k=6):
    g = np.asarray(gammas, float)
    d = np.geomspace(1.0, 1e-3, k + 1)
    return SimpleNamespace(label=label, tau=np.full(k, float(tau)), gamma=g, dist2=d, rel_error=d,
                           passes=np.arange(k + 1) * tau / 100.0)


def test_same_rule_is_named_only_when_batch_and_steps_agree():
    star = _fake_fixed("tau* = 50", 50, [0.3] * 6)
    twin = _fake_fixed(FAIR_LABEL, 50, [0.3] * 6)
    near = _fake_fixed(FAIR_LABEL, 50, [0.301] + [0.3] * 5)
    other_tau = _fake_fixed(FAIR_LABEL, 40, [0.3] * 6)
    assert vb.same_rule(twin, star) and not vb.same_rule(near, star) and not vb.same_rule(other_tau, star)
    for fair, named in ((twin, True), (near, False)):
        fig = vb.suboptimality_figure({"tau* = 50": star, FAIR_LABEL: fair}, 1e-2)
        fair_tr = next(tr for tr in fig.data if tr.name.startswith("fixed τ*"))
        assert ("same τ and step as τ*" in fair_tr.name) == named
        assert fair_tr.line.dash == "dash" and "markers" in fair_tr.mode  # visible over τ* either way
