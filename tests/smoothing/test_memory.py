"""Memory-based certification (reference §2.6, §7.11): the disjointness invariant, rules, persistence."""
from __future__ import annotations

import itertools
import multiprocessing as mp

import numpy as np
import pytest

from robustcore.smoothing.memory import CertificationMemory, memory_certify, memory_postprocess_run
from robustcore.store import ResultsStore


def _brute_force_separation(mem: CertificationMemory) -> float:
    # Independent O(M^2) loop over pairs (no vectorised algebra shared with the module).
    best = np.inf
    for i, j in itertools.combinations(range(len(mem)), 2):
        if mem.labels[i] != mem.labels[j]:
            d = float(np.linalg.norm(mem.points[i] - mem.points[j]))
            best = min(best, d - mem.radii[i] - mem.radii[j])
    return best


@pytest.mark.parametrize("rule", ["ddrs", "abstain"])
@pytest.mark.parametrize("dim", [2, 6])
def test_balls_of_different_classes_are_disjoint_after_random_orders(rule, dim):
    rng = np.random.default_rng(dim)
    M = 60
    P = rng.random((M, dim))
    labels = rng.integers(0, 3, M)
    labels[rng.random(M) < 0.1] = -1  # some abstentions
    radii = np.where(labels >= 0, rng.random(M) * 0.6, 0.0)  # large: many conflicts
    assert _raw_conflicts(P, labels, radii) > 20  # the raw certificates do conflict
    actions = set()
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(M)
        out_l, out_r, decs = memory_certify(P, labels, radii, rule=rule, order=order)
        mem = CertificationMemory(dim, rule=rule)
        for i in order:
            mem.insert(P[i], labels[i], radii[i])
        assert _brute_force_separation(mem) >= -1e-9
        assert mem.min_separation() == pytest.approx(_brute_force_separation(mem), abs=1e-9)
        assert np.all(out_r <= np.where(out_l == labels, radii, np.inf) + 1e-12)  # never grows a ball
        # Memory grows by exactly one entry per answered (non-abstained) query.
        assert len(mem) == int(np.sum(out_l >= 0))
        # Answers inside a stored ball are that ball's class.
        for i in range(M):
            q = mem.query(P[i])
            if q is not None and out_l[i] >= 0:
                assert q[0] == out_l[i]
        actions |= {d.action for d in decs}
    expected = {"stored", "shrunk", "abstained"} | ({"adopted"} if rule == "ddrs" else set())
    assert expected <= actions


def _raw_conflicts(P, labels, radii):
    n = 0
    for i, j in itertools.combinations(range(len(P)), 2):
        if labels[i] >= 0 and labels[j] >= 0 and labels[i] != labels[j]:
            n += np.linalg.norm(P[i] - P[j]) < radii[i] + radii[j]
    return n


def test_rules_on_a_hand_example():
    mem = CertificationMemory(1, rule="ddrs")
    assert mem.insert([0.0], 0, 1.0).action == "stored"
    inside = mem.insert([0.25], 1, 0.5)  # inside ball 0: takes its class, radius 1 - 0.25
    assert (inside.label, inside.radius, inside.action) == (0, 0.75, "adopted")
    shrunk = mem.insert([1.5], 2, 1.0)  # overlaps ball 0 (1.0 + 1.0 > 1.5): shrinks to 1.5 - 1.0
    assert (shrunk.label, shrunk.radius, shrunk.action) == (2, 0.5, "shrunk")
    same = mem.insert([0.5], 0, 2.0)  # overlaps ball of class 2 (d=1 < 2 + 0.5): shrink to 1 - 0.5
    assert (same.label, same.radius) == (0, 0.5)
    abst = mem.insert([3.0], -1, 0.0)
    assert abst.action == "abstained" and len(mem) == 4

    rancer = CertificationMemory(1, rule="abstain")
    rancer.insert([0.0], 0, 1.0)
    d = rancer.insert([0.25], 1, 0.5)
    assert (d.label, d.radius, d.action) == (-1, 0.0, "abstained") and len(rancer) == 1


def test_results_depend_on_order():
    P = np.array([[0.0], [0.8]])
    labels, radii = np.array([0, 1]), np.array([1.0, 1.0])
    a = memory_certify(P, labels, radii, order=[0, 1])
    b = memory_certify(P, labels, radii, order=[1, 0])
    assert a[0].tolist() == [0, 0] and b[0].tolist() == [1, 1]


def test_persistence_in_results_store(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    rng = np.random.default_rng(0)
    P, labels, radii = rng.random((30, 4)), rng.integers(0, 3, 30), rng.random(30) * 0.5
    mem = CertificationMemory(4, store=store, name="t")
    for i in range(15):
        mem.insert(P[i], labels[i], radii[i], key=i)
    again = CertificationMemory(4, store=store, name="t")  # a new session reads the memory back
    assert np.array_equal(again.points, mem.points) and np.array_equal(again.labels, mem.labels)
    assert np.allclose(again.radii, mem.radii) and again.keys == list(range(15))
    # Continuing the persisted memory gives the same answers as one uninterrupted memory.
    for i in range(15, 30):
        again.insert(P[i], labels[i], radii[i], key=i)
    ref_l, ref_r, _ = memory_certify(P, labels, radii)
    assert np.array_equal(again.labels, ref_l[ref_l >= 0]) and np.allclose(again.radii, ref_r[ref_l >= 0])


def test_postprocess_run(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    rng = np.random.default_rng(1)
    X, y = rng.random((20, 3)), rng.integers(0, 2, 20)
    run = store.start_run("certify", {"model": "m", "sigma": "dd"})
    store.add_results(run, [{"index": i, "label": int(y[i]), "prediction": int(rng.integers(0, 2)),
                             "radius": float(rng.random() * 0.7), "sigma": 0.3} for i in range(20)])
    new = memory_postprocess_run(store, run, X, y)
    df = store.results(new)
    assert len(df) == 20
    mem = CertificationMemory(3, store=store, name=f"run{run}/ddrs")
    assert len(mem) == int((df["prediction"] >= 0).sum()) and _brute_force_separation(mem) >= -1e-9
    assert memory_postprocess_run(store, run, X, y) == new  # finished runs are reused


def test_bad_input():
    with pytest.raises(ValueError, match="rule"):
        CertificationMemory(2, rule="vote")
    mem = CertificationMemory(2)
    with pytest.raises(ValueError, match="dimension"):
        mem.insert([0.0, 1.0, 2.0], 0, 1.0)
    with pytest.raises(ValueError, match="radius"):
        mem.insert([0.0, 1.0], 0, -1.0)


def test_abstain_rule_guarantee_is_class_or_abstain_inside_a_ball():
    """Under rule="abstain" a later query inside a stored ball of another class is NOT answered with
    that ball's class (it abstains); under "ddrs" it is. Neither rule ever answers a third class there."""
    for rule, expected in (("ddrs", 0), ("abstain", -1)):
        mem = CertificationMemory(1, rule=rule)
        mem.insert([0.0], 0, 1.0)
        assert mem.insert([0.5], 1, 0.2).label == expected
        assert mem.insert([0.5], 0, 0.2).label == 0


def _race_worker(path: str, seed: int, barrier, out) -> None:
    from robustcore.smoothing.memory import CertificationMemory
    from robustcore.store import ResultsStore

    rng = np.random.default_rng(seed)
    mem = CertificationMemory(2, store=ResultsStore(path), name="race", seed=7)
    barrier.wait()
    import time

    stored = 0
    for _ in range(60):
        time.sleep(0.005)  # a session does other work between inserts (sampling): lets the two interleave
        # large balls in a small square: nearly every insert conflicts with the other process's balls
        dec = mem.insert(rng.random(2), int(rng.integers(0, 3)), float(rng.random() * 0.4), key=seed)
        stored += dec.label != -1
    out.put((seed, stored))


@pytest.mark.slow  # two spawned interpreters import torch (~10-20 s on a loaded 2-core machine)
def test_two_processes_racing_on_one_store_keep_the_invariant_and_lose_no_ball(tmp_path):
    path = str(tmp_path / "race.sqlite")
    ResultsStore(path)
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_race_worker, args=(path, s, barrier, out)) for s in (1, 2)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    mem = CertificationMemory(2, store=ResultsStore(path), name="race", seed=7)
    assert mem.name == "race/seed=7"
    assert len(mem) == results[1] + results[2]  # every stored ball is still there
    assert set(mem.keys) == {1, 2}  # both processes did store balls
    switches = sum(a != b for a, b in zip(mem.keys, mem.keys[1:]))
    assert switches >= 2  # and their inserts really interleaved (a race, not one after the other)
    assert _brute_force_separation(mem) >= -1e-12  # no two balls of different classes intersect
    # a memory of another seed is another memory
    assert len(CertificationMemory(2, store=ResultsStore(path), name="race", seed=8)) == 0


def test_bad_input_types():
    mem = CertificationMemory(2)
    with pytest.raises(TypeError):
        mem.insert(np.array([1 + 1j, 0]), 0, 1.0)
    with pytest.raises(TypeError):
        mem.insert([0.0, 1.0], "a", 1.0)
    with pytest.raises(ValueError, match="radius"):
        mem.insert([0.0, 1.0], 0, float("nan"))
    with pytest.raises(ValueError, match="NaN"):
        mem.insert([0.0, float("nan")], 0, 1.0)
    with pytest.raises((TypeError, ValueError)):
        CertificationMemory(0)
