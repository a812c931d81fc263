"""Small problems shared by the batch-size tests (built once per session: a few ms each)."""
from __future__ import annotations

import numpy as np
import pytest

from robustcore.batchsize import ridge_problem


@pytest.fixture(scope="session")
def tiny_ridge():
    """n = 7, d = 3 ridge with uneven row norms: small enough to enumerate every batch."""
    return ridge_problem(n=7, d=3, lam=0.05, noise=0.5, rows="uneven", seed=3)


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(12345)
