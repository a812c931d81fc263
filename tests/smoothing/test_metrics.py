"""Certified accuracy and ACR against brute-force loops."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from robustcore.smoothing.metrics import (
    average_certified_radius,
    certified_accuracy,
    certified_accuracy_table,
    default_radii,
    high_probability_certified_accuracy,
)


def _table(seed: int, m: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    abstain = rng.random(m) < 0.1
    correct = (rng.random(m) < 0.8) & ~abstain
    radius = np.where(abstain, 0.0, rng.exponential(0.4, m))
    return pd.DataFrame({"radius": radius, "correct": correct})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_certified_accuracy_and_acr_match_loops(seed):
    df = _table(seed)
    radii = [0.0, 0.1, 0.25, 0.5, 1.0, 2.0]
    acc = certified_accuracy(df, radii)
    for r, a in zip(radii, acc):
        brute = sum(1 for rad, c in zip(df.radius, df.correct) if c and rad >= r) / len(df)
        assert a == pytest.approx(brute, abs=1e-15)
    assert np.all(np.diff(acc) <= 0)
    assert average_certified_radius(df) == pytest.approx(
        sum(rad for rad, c in zip(df.radius, df.correct) if c) / len(df), rel=1e-12
    )


def test_table_default_radii_and_acr():
    df = pd.DataFrame({"radius": [0.0, 0.3, 0.6, 0.9], "correct": [False, True, True, False]})
    assert default_radii(df).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    table = certified_accuracy_table(df)
    assert table["radius"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert table["certified_accuracy"].tolist() == [0.5, 0.5, 0.25, 0.0, 0.0]
    assert table["certified"].tolist() == [2, 2, 1, 0, 0]
    assert table.attrs["acr"] == pytest.approx((0.3 + 0.6) / 4)
    # nullable booleans from the store (None for missing) count as not correct
    df2 = pd.DataFrame({"radius": [0.5, 0.5], "correct": pd.array([True, None], dtype="boolean")})
    assert certified_accuracy(df2, 0.5).tolist() == [0.5]


def test_high_probability_accuracy_formula():
    df = _table(3, m=500)
    alpha, rho = 1e-3, 1e-3
    hp = high_probability_certified_accuracy(df, [0.0, 0.5], alpha, rho)
    acc = certified_accuracy(df, [0.0, 0.5])
    m, log = 500, math.log(1 / rho)
    assert np.allclose(hp, acc - alpha - math.sqrt(alpha * (1 - alpha) * log / m) - log / (3 * m))
    assert np.all(hp < acc)


@pytest.mark.parametrize(
    "bad",
    [
        pd.DataFrame({"radius": [0.1, float("nan")], "correct": [True, True]}),
        pd.DataFrame({"radius": [-0.1], "correct": [True]}),
        pd.DataFrame({"radius": [0.1]}),
        pd.DataFrame({"radius": [], "correct": []}),
        [0.1, 0.2],
    ],
)
def test_bad_tables_raise(bad):
    with pytest.raises(ValueError):
        certified_accuracy(bad, [0.0])
