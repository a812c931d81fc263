"""Views of nets with d > 2 inputs: projected zonotopes and exact 2-D slices.

A linear image of a zonotope is the zonotope of the mapped generators, so projecting the
generators G (p, d) onto a plane U (d, 2) (or a 3-D frame) gives the exact projection of Z_G.
A 2-D slice x = x0 + U t of the input space turns the net into the 2-D net with A' = A U and
c1' = A x0 + c1; its regions, T(R) and decision boundary are then exact within the slice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .net import ShallowReluNet
from .zonotope import zonotope_vertices

__all__ = ["pca_frame", "coordinate_frame", "project_generators", "projected_zonotope", "slice_net"]


def _check_frame(U: Any, d: int) -> np.ndarray:
    from ._checks import as_array

    U = as_array("U (frame)", U)
    if U.ndim != 2 or U.shape[0] != d or U.shape[1] not in (2, 3):
        raise ValueError(f"The frame must have shape ({d}, 2) or ({d}, 3); got {U.shape}.")
    if np.linalg.matrix_rank(U) < U.shape[1]:
        raise ValueError("The frame's directions must be linearly independent.")
    return U


def pca_frame(X: Any, dim: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal frame of the top ``dim`` principal directions of data X (n, d).

    Returns (U (d, dim), mean (d,)). Use ``mean`` as the slice point x0.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"PCA needs a data matrix (n, d) with n >= 2; got shape {X.shape}.")
    if dim not in (2, 3) or X.shape[1] < dim:
        raise ValueError(f"PCA frame dimension must be 2 or 3 and at most d = {X.shape[1]}; got {dim}.")
    if not np.all(np.isfinite(X)):
        raise ValueError("The data contain NaN or infinite entries.")
    mu = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mu, full_matrices=False)
    return vt[:dim].T.copy(), mu


def coordinate_frame(d: int, axes: Any) -> np.ndarray:
    """Frame (d, len(axes)) of chosen input coordinates, e.g. axes=(0, 3)."""
    from ._checks import MAX_INPUT_DIM, as_int

    d = as_int("d", d, 1, MAX_INPUT_DIM)
    if isinstance(axes, (str, bytes)) or not hasattr(axes, "__len__") or len(axes) > 3:
        raise ValueError("axes must be 2 or 3 input axes, e.g. (0, 3).")
    axes = [as_int("axis", a, 0, d - 1) for a in axes]
    if len(axes) not in (2, 3) or len(set(axes)) != len(axes) or not all(0 <= a < d for a in axes):
        raise ValueError(f"Choose 2 or 3 distinct input axes in 0..{d - 1}; got {axes}.")
    U = np.zeros((d, len(axes)))
    U[axes, np.arange(len(axes))] = 1.0
    return U


def project_generators(G: Any, U: Any) -> np.ndarray:
    """Generators of the projected zonotope: G U (p, 2 or 3), where U (d, 2 or 3) is the frame.

    The projection is in the frame's coordinates (for an orthonormal U, an orthogonal projection).
    """
    from ._checks import as_array

    G = as_array("G (generators)", G, 2)
    U = _check_frame(U, G.shape[1])
    return G @ U


def projected_zonotope(G: Any, U: Any, shift: Any = None) -> np.ndarray:
    """Vertices of the projection of shift + sum [0,1] G_j onto the frame U (exact)."""
    from ._checks import as_array

    G = as_array("G (generators)", G, 2)
    Gp = project_generators(G, U)
    if shift is not None:
        shift = as_array("shift", shift, 1)
        if shift.shape != (G.shape[1],):
            raise ValueError(f"shift must have {G.shape[1]} entries; got shape {shift.shape}.")
    s = None if shift is None else shift @ np.asarray(U, dtype=np.float64)
    return zonotope_vertices(Gp, s)


def slice_net(net: ShallowReluNet, x0: Any, U: Any) -> ShallowReluNet:
    """The 2-D net t -> f(x0 + U t) on the slice through x0 spanned by U (d, 2).

    A' = A U, c1' = A x0 + c1, B and c2 unchanged; exact on the slice.
    """
    from ._checks import as_array, check_net

    check_net(net, "slice_net")
    x0 = as_array("x0 (slice point)", x0).reshape(-1)
    if x0.shape != (net.d,):
        raise ValueError(f"The slice point must have {net.d} coordinates; got {x0.shape}.")
    U = _check_frame(U, net.d)
    if U.shape[1] != 2:
        raise ValueError("A slice needs a 2-D frame (d, 2).")
    return ShallowReluNet(net.A @ U, net.A @ x0 + net.c1, net.B, net.c2)
