"""Tropical pruning: group sparsity, monotone objective, I13 vertex counts, exact metrics."""

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.spatial import ConvexHull

from robustcore.tropical._apps_geometry import (
    decision_polygon,
    hausdorff_polygons,
    hausdorff_support,
    polygon_area,
)
from robustcore.tropical.net import ShallowReluNet
from robustcore.tropical.pruning import (
    magnitude_prune,
    pruning_curves,
    pruning_metrics,
    tropical_objective,
    tropical_prune,
    tropical_prune_lambda,
)
from robustcore.tropical.zonotope import zonotope_vertices


def random_net(seed: int, p: int = 8, d: int = 2, k: int = 2) -> ShallowReluNet:
    rng = np.random.default_rng(seed)
    return ShallowReluNet(
        rng.standard_normal((p, d)), rng.standard_normal(p), rng.standard_normal((k, p)), rng.standard_normal(k)
    )


def hull_vertex_count_bruteforce(G: np.ndarray) -> int:
    """Vertices of sum_j [0,1] g_j from Qhull over all 2^m subset sums (independent reference)."""
    G = G[np.linalg.norm(G, axis=1) > 0]
    if len(G) == 0:
        return 1
    pts = np.array([G[list(S)].sum(0) if S else np.zeros(2) for r in range(len(G) + 1)
                    for S in itertools.combinations(range(len(G)), r)])
    if np.linalg.matrix_rank(pts - pts[0], tol=1e-9) < 2:
        return 2
    return len(ConvexHull(pts).vertices)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [2, 4])
def test_objective_decreases_monotonically_and_matches_direct_formula(seed, k):
    net = random_net(seed, p=10, d=3, k=k)
    res = tropical_prune_lambda(net, lam=0.4, iters=60, refit=False)
    h = np.asarray(res.history)
    assert len(h) >= 3
    assert np.all(np.diff(h) <= 1e-9 * max(1.0, abs(h[0])))
    assert h[-1] < h[0]
    # the solver's scalar bookkeeping equals the objective computed from the materialised G~
    A_t, B_t = res.solution
    assert h[-1] == pytest.approx(tropical_objective(net, A_t, B_t, 0.4), rel=1e-9, abs=1e-9)
    # at lam = 0 the start (A, B) is optimal: objective 0
    assert tropical_objective(net, net.A, net.B, 0.0) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_a_step_solution_is_optimal_in_a_tilde(seed):
    """With B~ fixed at the solver's output, no A~ found by scipy does better (exact prox step)."""
    net = random_net(seed, p=5, d=2, k=2)
    res = tropical_prune_lambda(net, lam=0.3, iters=40, refit=False)
    A_t, B_t = res.solution
    f = lambda a: tropical_objective(net, a.reshape(A_t.shape), B_t, 0.3)  # noqa: E731
    best = min(
        minimize(f, x0.ravel(), method="Powell", options={"xtol": 1e-10, "ftol": 1e-12, "maxiter": 20000}).fun
        for x0 in (A_t, net.A, np.zeros_like(A_t))
    )
    assert f(A_t.ravel()) <= best + 1e-7


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("ratio", [0.25, 0.5, 0.75])
def test_tropical_pruning_zeroes_whole_generators_and_drops_vertices(seed, ratio):
    net = random_net(seed, p=8)
    res = tropical_prune(net, ratio)
    target = int(round(ratio * net.p))
    assert int((~res.kept).sum()) == target
    G1, G2 = net.zonotope_generators()
    H1, H2 = res.net.zonotope_generators()
    for G, H in ((G1, H1), (G2, H2)):
        # whole rows vanish: each generator is either removed or kept exactly (refit)
        assert np.all(H[~res.kept] == 0)
        np.testing.assert_allclose(H[res.kept], G[res.kept])
        # I13: the 2-D vertex count matches Qhull over subset sums and drops by 2 per lost direction
        nv_before, nv_after = len(zonotope_vertices(G)), len(zonotope_vertices(H))
        assert nv_after == hull_vertex_count_bruteforce(H)
        assert nv_before == hull_vertex_count_bruteforce(G)
        lost = int((np.linalg.norm(G[~res.kept], axis=1) > 0).sum())  # random: all directions distinct
        assert nv_before - nv_after == 2 * lost or (nv_after <= 2 and nv_before - nv_after <= 2 * lost)
    # the whole unit is gone from the network, not just from the zonotopes
    assert np.all(res.net.A[~res.kept] == 0) and np.all(res.net.B[:, ~res.kept] == 0)
    assert np.all(res.net.c1[~res.kept] == 0)


def test_i13_parallel_generator_keeps_vertex_count():
    """Removing a unit parallel to a kept one leaves the zonogon vertex count unchanged (I13)."""
    A = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    B = np.array([[1.0, 0.5, 2.0, 1.5], [-1.0, -0.2, 0.5, -1.0]])
    net = ShallowReluNet(A, np.zeros(4), B, np.zeros(2))
    G1, _ = net.zonotope_generators()
    base = len(zonotope_vertices(G1))
    pruned = ShallowReluNet(A * [[1], [0], [1], [1]], np.zeros(4), B * [1, 0, 1, 1], np.zeros(2))
    assert len(zonotope_vertices(pruned.zonotope_generators()[0])) == base
    pruned = ShallowReluNet(A * [[1], [1], [0], [1]], np.zeros(4), B * [1, 1, 0, 1], np.zeros(2))
    assert len(zonotope_vertices(pruned.zonotope_generators()[0])) == base - 2


def test_larger_lambda_prunes_more_units():
    net = random_net(3, p=12, d=4, k=3)
    counts = [int((~tropical_prune_lambda(net, lam).kept).sum()) for lam in (0.0, 0.5, 2.0, 50.0)]
    assert counts[0] == 0 and counts[-1] == net.p
    assert counts[1] <= counts[3] and counts[2] <= counts[3]


@pytest.mark.parametrize("scope", ["blind", "uniform"])
def test_magnitude_pruning_zeroes_the_smallest_weights(scope):
    net = random_net(1, p=16)
    res = magnitude_prune(net, 0.5, scope)
    if scope == "blind":
        w0 = np.abs(np.concatenate([net.A.ravel(), net.B.ravel()]))
        w1 = np.concatenate([res.net.A.ravel(), res.net.B.ravel()])
        assert int((w1 == 0).sum()) == int(round(0.5 * w0.size))
        assert w0[w1 != 0].min() >= w0[w1 == 0].max()
    else:
        assert int((res.net.A == 0).sum()) == net.A.size // 2
        assert int((res.net.B == 0).sum()) == net.B.size // 2
    np.testing.assert_array_equal(res.net.c1, net.c1)
    assert res.ratio == pytest.approx(0.5, abs=1e-12)


def test_hausdorff_polygons_against_dense_sampling():
    rng = np.random.default_rng(0)
    for _ in range(5):
        V = decision_polygon(random_net(int(rng.integers(1000)), p=5))
        W = decision_polygon(random_net(int(rng.integers(1000)), p=4))

        def boundary(P):  # dense points on the boundary and the inside (convex combos of vertices)
            t = np.linspace(0, 1, 120)[:, None]
            edges = [P[i] * (1 - t) + P[(i + 1) % len(P)] * t for i in range(len(P))]
            return np.vstack(edges)

        from robustcore.tropical._apps_geometry import point_polygon_distance

        bV, bW = boundary(V), boundary(W)
        # brute force directed distances using dense boundary samples (and 0 inside, by containment test)
        dVW = np.where(point_polygon_distance(bV, W) == 0, 0, np.min(np.linalg.norm(bV[:, None] - bW[None], axis=-1), axis=1))
        dWV = np.where(point_polygon_distance(bW, V) == 0, 0, np.min(np.linalg.norm(bW[:, None] - bV[None], axis=-1), axis=1))
        brute = max(dVW.max(), dWV.max())
        exact = hausdorff_polygons(V, W)
        scale = np.abs(np.vstack([V, W])).max()
        assert exact == pytest.approx(brute, abs=2e-2 * scale)


def test_support_estimate_is_a_lower_bound_of_the_exact_2d_hausdorff():
    for seed in range(5):
        a, b = random_net(seed, p=6), random_net(seed + 100, p=6)
        exact = hausdorff_polygons(decision_polygon(a), decision_polygon(b))
        est = hausdorff_support(a, b, n_dirs=20000, seed=seed)
        assert est <= exact + 1e-9
        assert est >= exact * (1 - 1e-3)


def test_metrics_of_unpruned_net_and_area_ratio():
    net = random_net(5, p=6)
    X = np.random.default_rng(0).standard_normal((200, 2))
    y = net.predict(X)
    m = pruning_metrics(net, net, X, y)
    assert m["accuracy"] == 1.0 and m["hausdorff"] == 0.0 and m["area_ratio"] == pytest.approx(1.0)
    # refit pruning keeps a subset of the generators (each segment [0, g_j] contains 0), so the
    # pruned polytope lies inside the original one: area ratio <= 1 and vertices inside
    from robustcore.tropical._apps_geometry import point_polygon_distance

    for ratio in (0.3, 0.6):
        res = tropical_prune(net, ratio)
        V0, V1 = decision_polygon(net), decision_polygon(res.net)
        assert np.all(point_polygon_distance(V1, V0) <= 1e-9)
        assert 0 <= pruning_metrics(net, res.net, X, y)["area_ratio"] <= 1 + 1e-12
    res = tropical_prune(net, 0.99)  # every unit removed: the polytope is a point
    assert polygon_area(decision_polygon(res.net)) == 0.0


def test_curves_multiclass_high_dimensional_shapes():
    net = random_net(2, p=12, d=6, k=3)
    X = np.random.default_rng(1).standard_normal((100, 6))
    y = net.predict(X)
    c = pruning_curves(net, X, y, [0.0, 0.5], methods=("tropical", "magnitude", "magnitude-neuron"), iters=40)
    for m in ("tropical", "magnitude", "magnitude-neuron"):
        assert c[m]["accuracy"][0] == 1.0
        assert c[m]["ratio"][1] >= 0.5 - 1e-9
        assert 0.0 <= c[m]["area_ratio"][1] <= 1.0 + 1e-9
    assert c["tropical"]["units_kept"][1] == 6


@pytest.mark.parametrize("bad", [-0.1, 1.0, float("nan")])
def test_bad_ratio_raises(bad):
    with pytest.raises(ValueError):
        tropical_prune(random_net(0), bad)
    with pytest.raises(ValueError):
        magnitude_prune(random_net(0), bad)


def test_bad_lambda_raises():
    with pytest.raises(ValueError):
        tropical_prune_lambda(random_net(0), float("nan"))
    with pytest.raises(ValueError):
        tropical_prune_lambda(random_net(0, k=3), 0.1, lam2=0.2)


def test_high_dimensional_hausdorff_estimate_matches_flat_embedding():
    """A 2-D net embedded in 3-D (zero third input column): the 3-D support estimate is a lower
    bound of the exact 2-D Hausdorff distance and close to it."""
    for seed in range(3):
        a, b = random_net(seed, p=6), random_net(seed + 50, p=6)
        exact = hausdorff_polygons(decision_polygon(a), decision_polygon(b))

        def lift(n):
            return ShallowReluNet(np.hstack([n.A, np.zeros((n.p, 1))]), n.c1, n.B, n.c2)

        X3 = np.random.default_rng(seed).standard_normal((50, 3))
        m = pruning_metrics(lift(a), lift(b), X3, lift(a).predict(X3))
        assert m["hausdorff_exact"] == 0.0
        assert m["hausdorff"] <= exact + 1e-9
        assert m["hausdorff"] >= 0.9 * exact


def test_bad_net_and_data_raise():
    net = random_net(0)
    with pytest.raises(ValueError):
        tropical_prune("not a net", 0.5)
    with pytest.raises(ValueError):
        magnitude_prune(None, 0.5)
    X = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(ValueError):
        pruning_curves(net, X, np.zeros(19, dtype=int), [0.5])
    X[0, 0] = np.nan
    with pytest.raises(ValueError):
        pruning_curves(net, X, np.zeros(20, dtype=int), [0.5])
    with pytest.raises(ValueError):
        pruning_curves(net, None, None, [0.5], methods=("nope",))


def test_exact_ratio_with_dead_units_and_ties():
    """Units that are dead from the start (zero rows) and identical units (which die at the same lam)."""
    A = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [2.0, 1.0]])
    B = np.array([[1.0, 1.0, 1.0, 2.0, 1.0, 3.0], [-1.0, -1.0, -1.0, 0.5, 1.0, -2.0]])
    net = ShallowReluNet(A, np.zeros(6), B, np.zeros(2))
    for ratio, target in ((0.2, 1), (0.34, 2), (0.5, 3), (0.85, 5)):
        res = tropical_prune(net, ratio)
        assert int((~res.kept).sum()) == max(target, 1)
        assert not res.kept[4] or target == 0  # the dead unit (A_4 = 0) is the first to go


def test_bias_refit_adds_removed_units_mean_activation_times_B_column():
    """Whole-unit removal: c2' - c2 = sum over removed units r of mean_x ReLU(A_r x + c1_r) * B[:, r] (closed form)."""
    from robustcore.tropical import refit_output_bias

    net = random_net(3, p=8, k=3)
    X = np.random.default_rng(1).standard_normal((200, 2))
    res = magnitude_prune(net, 0.5, "neuron")
    removed = np.flatnonzero(~res.kept)
    fixed = refit_output_bias(net, res.net, X)
    H = np.maximum(X @ net.A.T + net.c1, 0.0)
    expected = net.c2 + H[:, removed].mean(axis=0) @ net.B[:, removed].T
    np.testing.assert_allclose(fixed.c2, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(fixed.A, res.net.A)  # only c2 moves
    # the mean logit over X is restored exactly, for per-weight pruning too
    for pr in (res, magnitude_prune(net, 0.6, "blind"), tropical_prune(net, 0.5, iters=40)):
        f = refit_output_bias(net, pr.net, X)
        np.testing.assert_allclose(f.logits(X).mean(axis=0), net.logits(X).mean(axis=0), atol=1e-10)


def test_pruning_curves_with_bias_refit_and_whole_unit_baseline():
    net = random_net(4, p=8)
    X = np.random.default_rng(2).standard_normal((80, 2))
    y = net.predict(X)
    c = pruning_curves(net, X, y, [0.0, 0.5], methods=("tropical", "magnitude-neuron", "magnitude"), iters=30,
                       bias_refit=True)
    assert c["magnitude-neuron"]["units_kept"][1] == c["tropical"]["units_kept"][1] == 4  # the same unit count
    assert c["tropical"]["accuracy"][0] == 1.0  # ratio 0 with the refit is the original net


def test_a_tie_is_a_tie():
    from ui.tropical_apps import verdict

    assert verdict({"tropical": 0.6317, "magnitude": 0.6317}, 1000).startswith("tie")
    assert verdict({"tropical": 0.632, "magnitude": 0.631}, 1000).startswith("tie")  # one test point apart
    assert verdict({"tropical": 0.64, "magnitude": 0.63}, 1000) == "tropical"
