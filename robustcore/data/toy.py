"""Seeded 2-D toy sets for the geometry pages."""
from __future__ import annotations

import numpy as np

TOY_DATASETS = ("moons", "circles", "xor", "spirals", "blobs")


def toy_dataset(
    name: str, n: int = 400, noise: float = 0.1, seed: int = 0, n_classes: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded 2-D classification toy set.

    Parameters
    ----------
    name : one of ``TOY_DATASETS``
        "moons" and "circles" (scikit-learn's generators, 2 classes), "xor" (uniform square,
        label = sign(x1 x2)), "spirals" (``n_classes`` interleaved arms), "blobs" (``n_classes``
        Gaussian blobs with centres on a circle of radius 2).
    n : int
        Number of points (>= n_classes).
    noise : float
        Gaussian noise standard deviation (>= 0), in the data's units.
    seed : int
        Seed of the generator; the same seed gives the same points.
    n_classes : int
        Number of classes for "spirals" and "blobs" (2..10); the others are binary.

    Returns
    -------
    X : ndarray, float64, shape (n, 2)
    y : ndarray, int64, shape (n,)
    """
    if name not in TOY_DATASETS:
        raise ValueError(f"Unknown toy dataset {name!r}; choose one of {', '.join(TOY_DATASETS)}.")
    n = int(n)
    if n < 2 or n > 1_000_000:
        raise ValueError(f"n must be between 2 and 1,000,000, not {n}.")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, not {noise}.")
    if name in ("spirals", "blobs"):
        if not 2 <= int(n_classes) <= 10:
            raise ValueError(f"n_classes must be between 2 and 10, not {n_classes}.")
    rng = np.random.default_rng(seed)
    if name == "moons":
        from sklearn.datasets import make_moons

        X, y = make_moons(n_samples=n, noise=noise, random_state=int(seed) % (2**32))
    elif name == "circles":
        from sklearn.datasets import make_circles

        X, y = make_circles(n_samples=n, noise=noise, factor=0.5, random_state=int(seed) % (2**32))
    elif name == "xor":
        X = rng.uniform(-1.0, 1.0, size=(n, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
        X = X + noise * rng.standard_normal((n, 2))
    elif name == "spirals":
        k = int(n_classes)
        y = np.arange(n) % k
        t = rng.uniform(0.0, 1.0, size=n)
        r = 0.2 + 1.8 * t
        angle = 3.0 * np.pi * t + 2.0 * np.pi * y / k
        X = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
        X = X + noise * rng.standard_normal((n, 2))
    else:  # blobs
        k = int(n_classes)
        y = np.arange(n) % k
        centres = 2.0 * np.stack([np.cos(2 * np.pi * np.arange(k) / k), np.sin(2 * np.pi * np.arange(k) / k)], 1)
        X = centres[y] + noise * rng.standard_normal((n, 2))
        perm = rng.permutation(n)
        X, y = X[perm], y[perm]
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
