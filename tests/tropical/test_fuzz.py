"""Fuzz every public function of robustcore.tropical: any input gives a result or a ValueError/TypeError.

Each call draws, per argument, either a valid value or an odd one (None, a string, NaN, inf, a huge or
negative number, a complex number, an empty array, an array with NaN, a wrong shape, a huge size) and
checks that nothing else escapes (no IndexError, AttributeError, ZeroDivisionError, MemoryError, ...).
The size caps make bad calls refuse before heavy work, so the whole file runs in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import robustcore.tropical as T
from robustcore.tropical import ShallowReluNet

NET = ShallowReluNet([[1.0, 0.3], [-0.4, 1.0], [0.2, -0.9]], [0.2, -0.1, 0.3], [[1.0, -1.0, 0.5], [-0.5, 1.2, -0.3]],
                     [0.0, 0.1])
NET3 = ShallowReluNet(np.ones((2, 3)), np.zeros(2), np.eye(2), np.zeros(2))
BOX = (-2.0, 2.0, -2.0, 2.0)
X = np.random.default_rng(0).uniform(-1, 1, (12, 2))
Y = NET.predict(X)

ODD = [None, "abc", float("nan"), float("inf"), -1, 0, 10**12, -(10**9), 1.5, 1 + 2j, True, [], [[1, 2], [3]],
       np.array([np.nan, 1.0]), np.zeros((0, 2)), np.zeros((3, 5)), np.ones((2,)), {"a": 1}, NET, NET3,
       np.full((4, 3), 1e300), np.ones((2, 2)) * 1j]

# function -> list of valid arguments (positional); each may be replaced by an odd value
CALLS = {
    "ShallowReluNet": (ShallowReluNet, [NET.A, NET.c1, NET.B, NET.c2]),
    "logits": (lambda Xa: NET.logits(Xa), [X]),
    "predict": (lambda Xa: NET.predict(Xa), [X]),
    "zonotope_generators": (lambda i, j: NET.zonotope_generators(i, j), [0, 1]),
    "common_shift": (lambda c: NET.common_shift(c), [[0, 1]]),
    "tropical_polynomials": (lambda m: NET.tropical_polynomials(m), [12]),
    "zonotope_vertices": (T.zonotope_vertices, [np.ones((3, 2)), None]),
    "zonogon_directions": (T.zonogon_directions, [np.ones((3, 2))]),
    "zonotope_area": (T.zonotope_area, [np.eye(2)]),
    "zonotope_perimeter": (T.zonotope_perimeter, [np.eye(2)]),
    "zonotope_volume": (T.zonotope_volume, [np.eye(3)]),
    "support_function": (T.support_function, [np.eye(2), np.ones((3, 2)), None]),
    "subset_sums": (T.subset_sums, [np.eye(2), None, 10]),
    "zonotope_pair_hull": (T.zonotope_pair_hull, [np.eye(2), -np.eye(2), None]),
    "lifted_zonotopes": (T.lifted_zonotopes, [NET, 0, 1, "pair"]),
    "dual_subdivision": (T.dual_subdivision, [NET, 0, 1, "pair"]),
    "subdivision_from_lifted": (T.subdivision_from_lifted, [T.lifted_zonotopes(NET)]),
    "linear_regions_2d": (T.linear_regions_2d, [NET, BOX]),
    "region_bound": (T.region_bound, [5, 2]),
    "decision_boundary_cells": (T.decision_boundary_cells, [NET, BOX, 0, 1]),
    "decision_boundary_dual": (T.decision_boundary_dual, [NET, BOX, 0, 1]),
    "argmax_boundary_cells": (T.argmax_boundary_cells, [NET, BOX]),
    "argmax_boundary_dual": (T.argmax_boundary_dual, [NET, BOX]),
    "tie_regions": (T.tie_regions, [NET, BOX, 0, 1]),
    "segment_set_distance": (T.segment_set_distance, [np.zeros((1, 2, 2)), np.ones((1, 2, 2)), 5]),
    "segments_length": (T.segments_length, [np.zeros((1, 2, 2))]),
    "pair_geometry": (T.pair_geometry, [NET, BOX, 0, 1]),
    "region_dual_points": (T.region_dual_points, [NET, np.ones((2, 3), bool), 0, 1]),
    "pca_frame": (T.pca_frame, [X, 2]),
    "coordinate_frame": (T.coordinate_frame, [3, (0, 2)]),
    "project_generators": (T.project_generators, [np.ones((2, 3)), np.eye(3)[:, :2]]),
    "projected_zonotope": (T.projected_zonotope, [np.ones((2, 3)), np.eye(3)[:, :2], None]),
    "slice_net": (T.slice_net, [NET3, np.zeros(3), np.eye(3)[:, :2]]),
    "tropical_decomposition": (T.tropical_decomposition, [NET, 6]),
    "pair_polynomials": (T.pair_polynomials, [NET, 0, 1]),
    "common_denominator_weights": (T.common_denominator_weights, [NET]),
    "common_denominator_polynomials": (T.common_denominator_polynomials, [NET]),
    "TropicalPolynomial": (T.TropicalPolynomial, [0.0, np.zeros(2), np.ones((1, 2)), [0.0], np.zeros((1, 2)), [1.0]]),
    "magnitude_prune": (T.magnitude_prune, [NET, 0.5, "blind"]),
    "whole_unit_prune": (T.magnitude_prune, [NET, 0.5, "neuron"]),
    "tropical_prune": (lambda n, r, it: T.tropical_prune(n, r, iters=it, bisect_steps=3), [NET, 0.5, 5]),
    "tropical_prune_lambda": (lambda n, lam, it: T.tropical_prune_lambda(n, lam, iters=it), [NET, 0.1, 5]),
    "tropical_objective": (T.tropical_objective, [NET, NET.A, NET.B, 0.1]),
    "pruning_metrics": (T.pruning_metrics, [NET, NET, X, Y]),
    "refit_output_bias": (T.refit_output_bias, [NET, NET, X]),
    "normalised_hausdorff": (T.normalised_hausdorff, [NET, NET]),
    "tropical_attack": (lambda n, x0, e1, e2: T.tropical_attack(n, x0, eps1=e1, eps2=e2, box=None, iters=3, inner=2),
                        [NET, np.array([0.1, 0.2]), 0.5, 0.5]),
    "pgd_min_radius": (lambda n, x0, e: T.pgd_min_radius(n, x0, e, box=None, steps=2, bisect_steps=1),
                       [NET, np.array([0.1, 0.2]), 0.5]),
    "lottery_experiment": (lambda Xa, ya, h, ep: T.lottery_experiment(Xa, ya, ratios=(0.5,), hidden=h, epochs=ep),
                           [X, Y, 4, 3]),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_valid_arguments_work(name: str) -> None:
    fn, args = CALLS[name]
    fn(*args)  # the valid baseline must not raise


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.sampled_from(sorted(CALLS)), st.data())
def test_any_input_gives_a_result_or_a_clear_error(name: str, data) -> None:
    fn, args = CALLS[name]
    args = list(args)
    for pos in range(len(args)):
        if data.draw(st.booleans(), label=f"replace arg {pos}"):
            args[pos] = data.draw(st.sampled_from(ODD), label=f"arg {pos}")
    try:
        fn(*args)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        assert msg and "\n" not in msg.strip(), f"{name}: the message must be one sentence, got {msg!r}"


def test_huge_inputs_are_refused_before_heavy_work() -> None:
    """The review's cases: 10**6 generators in 3-D, NaN input to logits; both refuse at once."""
    with pytest.raises(ValueError, match="limit"):
        T.zonotope_vertices(np.ones((10**6, 3)))
    with pytest.raises(ValueError, match="distinct"):
        T.zonotope_vertices(np.random.default_rng(0).normal(size=(5000, 3)))
    with pytest.raises(ValueError, match="NaN"):
        NET.logits([[np.nan, 0.0]])
    with pytest.raises(ValueError, match="limit"):
        ShallowReluNet(np.zeros((200_001, 2)), np.zeros(200_001), np.zeros((2, 200_001)), np.zeros(2))
    with pytest.raises(TypeError, match="complex"):
        NET.logits([[1 + 1j, 0.0]])
    # the 2-D fast path takes a million generators (O(m log m)) and gives 2 x (distinct directions) vertices
    G = np.random.default_rng(1).normal(size=(10**6, 2))
    assert len(T.zonotope_vertices(G)) == 2 * T.zonogon_directions(G)
