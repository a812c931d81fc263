"""The (Affine, ReLU, Affine) network studied by Alfarra et al. (arXiv:2002.08838).

f(x) = B max(A x + c1, 0) + c2 with A (p, d), c1 (p,), B (k, p), c2 (k,), all float64.

The geometric methods (tropical polynomials, zonotopes, dual subdivision, boundary) live in
their own modules and are attached here as thin methods so that the public API of DESIGN.md
(`net.tropical_polynomials()`, `net.decision_boundary_2d(box)`, ...) holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ShallowReluNet", "relu_part"]


def relu_part(M: np.ndarray) -> np.ndarray:
    """Elementwise positive part max(M, 0) (the paper's ReLU(M))."""
    return np.maximum(M, 0.0)


def _as_float_array(name: str, value: Any, ndim: int) -> np.ndarray:
    from ._checks import as_array

    arr = as_array(name, value, ndim, finite=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries; all weights must be finite.")
    return arr.copy()


class ShallowReluNet:
    """f(x) = B max(A x + c1, 0) + c2, the paper's (Affine, ReLU, Affine) network.

    Parameters
    ----------
    A : (p, d) array, first-layer weights (row j = hidden unit j).
    c1 : (p,) array, first-layer bias.
    B : (k, p) array, output weights, k >= 2 classes.
    c2 : (k,) array, output bias.

    Raises
    ------
    TypeError
        If an argument is not a real numeric array (strings, complex numbers, None).
    ValueError
        If a shape is wrong, p = 0, d = 0, k < 2, any entry is NaN or infinite, or a size cap is
        exceeded: p <= 100,000 hidden units, k <= 10,000 classes, at most 20,000,000 entries per matrix.
    """

    def __init__(self, A: Any, c1: Any, B: Any, c2: Any) -> None:
        A = _as_float_array("A", A, 2)
        c1 = _as_float_array("c1", c1, 1)
        B = _as_float_array("B", B, 2)
        c2 = _as_float_array("c2", c2, 1)
        p, d = A.shape
        if p == 0:
            raise ValueError("The network needs at least one hidden unit (p = 0: A has no rows).")
        if d == 0:
            raise ValueError("The input dimension d must be at least 1 (A has no columns).")
        if c1.shape != (p,):
            raise ValueError(f"c1 must have shape ({p},) to match A with {p} rows; got {c1.shape}.")
        if B.shape[1] != p:
            raise ValueError(f"B must have {p} columns (one per hidden unit of A); got shape {B.shape}.")
        k = B.shape[0]
        from ._checks import MAX_CLASSES, MAX_UNITS

        if p > MAX_UNITS:
            raise ValueError(f"A has {p:,} hidden units; the limit is {MAX_UNITS:,}.")
        if k > MAX_CLASSES:
            raise ValueError(f"B has {k:,} classes (rows); the limit is {MAX_CLASSES:,}.")
        if k < 2:
            raise ValueError(f"B must have at least 2 rows (classes); got {k}.")
        if c2.shape != (k,):
            raise ValueError(f"c2 must have shape ({k},) to match B with {k} rows; got {c2.shape}.")
        for arr in (A, c1, B, c2):
            arr.setflags(write=False)
        self.A, self.c1, self.B, self.c2 = A, c1, B, c2

    # ------------------------------------------------------------------ sizes
    @property
    def p(self) -> int:
        """Number of hidden units."""
        return self.A.shape[0]

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.A.shape[1]

    @property
    def k(self) -> int:
        """Number of classes (outputs)."""
        return self.B.shape[0]

    def __repr__(self) -> str:
        return f"ShallowReluNet(d={self.d}, p={self.p}, k={self.k})"

    # ------------------------------------------------------------- evaluation
    def _check_X(self, X: Any) -> np.ndarray:
        """X as a finite float64 (n, d) array (a single (d,) point is one row); at most
        20,000,000 entries and n * p <= 50,000,000 activations (evaluate in chunks beyond)."""
        from ._checks import as_array

        X = as_array("X", X, (1, 2))
        if X.ndim == 1:
            X = X[None, :]
        if X.shape[1] != self.d:
            raise ValueError(f"X must have shape (n, {self.d}); got {X.shape}.")
        if X.shape[0] * self.p > 50_000_000:
            raise ValueError(f"X has {X.shape[0]:,} rows; n * p must stay below 50,000,000 (evaluate in chunks).")
        return X

    def hidden(self, X: Any) -> np.ndarray:
        """Hidden activations max(A x + c1, 0) for each row of X (n, d) -> (n, p)."""
        X = self._check_X(X)
        return np.maximum(X @ self.A.T + self.c1, 0.0)

    def logits(self, X: Any) -> np.ndarray:
        """Logits f(X) = B max(A x + c1, 0) + c2 for X (n, d) -> (n, k)."""
        return self.hidden(X) @ self.B.T + self.c2

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class argmax_i f_i(x) for X (n, d) -> (n,) int64 (ties -> lowest index)."""
        return np.argmax(self.logits(X), axis=1).astype(np.int64)

    def activation_patterns(self, X: Any) -> np.ndarray:
        """Activation pattern sigma_j(x) = [A_j x + c1_j > 0] for X (n, d) -> (n, p) bool."""
        X = self._check_X(X)
        return (X @ self.A.T + self.c1) > 0.0

    # ---------------------------------------------------------------- torch
    @classmethod
    def from_torch(cls, module: Any) -> "ShallowReluNet":
        """Build from a torch module made of Linear -> ReLU -> Linear.

        Accepts an ``nn.Sequential(Linear, ReLU, Linear)`` (e.g. ``robustcore.nets.ToyReluNet``
        or ``DigitsMLP.head``) or any module whose leaf modules are exactly those three, in that
        order. Weights are copied to float64.
        """
        import torch.nn as nn

        if not isinstance(module, nn.Module):
            raise ValueError(f"from_torch expects a torch nn.Module; got {type(module).__name__}.")
        leaves = [m for m in module.modules() if len(list(m.children())) == 0]
        leaves = [m for m in leaves if not isinstance(m, (nn.Identity, nn.Flatten, nn.Dropout))]
        kinds = [type(m).__name__ for m in leaves]
        if (
            len(leaves) != 3
            or not isinstance(leaves[0], nn.Linear)
            or not isinstance(leaves[1], nn.ReLU)
            or not isinstance(leaves[2], nn.Linear)
        ):
            raise ValueError(f"from_torch expects Linear -> ReLU -> Linear; got {' -> '.join(kinds) or 'no layers'}.")
        lin1, lin2 = leaves[0], leaves[2]

        def _np(t: Any, n: int) -> np.ndarray:
            if t is None:
                return np.zeros(n)
            return t.detach().cpu().double().numpy().copy()

        A = _np(lin1.weight, 0)
        B = _np(lin2.weight, 0)
        return cls(A, _np(lin1.bias, A.shape[0]), B, _np(lin2.bias, B.shape[0]))

    def to_torch(self, dtype: Any = None) -> Any:
        """Return ``nn.Sequential(Linear(d, p), ReLU(), Linear(p, k))`` with these weights.

        ``dtype`` defaults to ``torch.float32`` (the training default); pass ``torch.float64``
        for an exact copy.
        """
        import torch
        import torch.nn as nn

        dtype = torch.float32 if dtype is None else dtype
        model = nn.Sequential(nn.Linear(self.d, self.p), nn.ReLU(), nn.Linear(self.p, self.k)).to(dtype)
        with torch.no_grad():
            model[0].weight.copy_(torch.tensor(np.array(self.A), dtype=dtype))
            model[0].bias.copy_(torch.tensor(np.array(self.c1), dtype=dtype))
            model[2].weight.copy_(torch.tensor(np.array(self.B), dtype=dtype))
            model[2].bias.copy_(torch.tensor(np.array(self.c2), dtype=dtype))
        return model

    # -------------------------------------------------------------- geometry
    def _check_pair(self, i: int, j: int) -> tuple[int, int]:
        from ._checks import check_pair

        return check_pair(self, i, j)

    def pair_weights(self, i: int = 0, j: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Generator weights w1 = ReLU(B_i) + ReLU(-B_j), w2 = ReLU(B_j) + ReLU(-B_i), each (p,).

        Reference eq. (§1.2): H_i + Q_j = <s, x> + c2_i + sum_l w1_l ReLU(A_l x + c1_l).
        """
        i, j = self._check_pair(i, j)
        Bi, Bj = self.B[i], self.B[j]
        return relu_part(Bi) + relu_part(-Bj), relu_part(Bj) + relu_part(-Bi)

    def zonotope_generators(self, i: int = 0, j: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The paper's zonotope generators for the class pair (i, j).

        G1 = Diag[ReLU(B_i) + ReLU(-B_j)] A and G2 = Diag[ReLU(B_j) + ReLU(-B_i)] A, each (p, d);
        row l is the generator of hidden unit l (zero rows are kept so rows match units).
        """
        w1, w2 = self.pair_weights(i, j)
        return w1[:, None] * self.A, w2[:, None] * self.A

    def common_shift(self, classes: Any = None) -> np.ndarray:
        """The shared shift s = sum_l |B_l| A^- (d,) of all the Newton polytopes (§1.2, §1.4).

        ``classes`` restricts the sum to a subset of output rows (default: the pair (0, 1)
        when k = 2, else all rows).
        """
        from ._checks import as_int

        if classes is None:
            rows = list(range(self.k))
        else:
            if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
                from ._checks import ArgumentTypeError

                raise ArgumentTypeError(f"classes must be a list of class indices; got {type(classes).__name__}.")
            rows = [as_int("class index", c, 0, self.k - 1) for c in classes]
        absB = np.abs(self.B[rows]).sum(axis=0)
        return absB @ relu_part(-self.A)

    # Thin wrappers over the geometry modules (imported lazily to avoid import cycles).
    def tropical_polynomials(self, explicit_max_p: int = 12) -> list:
        """List of (H_i, Q_i) TropicalPolynomials with f_i = H_i - Q_i (see polynomial.py)."""
        from ._checks import as_int
        from .polynomial import tropical_decomposition

        return tropical_decomposition(self, explicit_max_p=as_int("explicit_max_p", explicit_max_p, 0, 16))

    def decision_boundary_2d(self, box: Any, i: int = 0, j: int = 1) -> list:
        """Exact decision boundary {x : f_i(x) = f_j(x)} for d = 2, clipped to ``box`` =
        (xmin, xmax, ymin, ymax), as a list of segments ((x0, y0), (x1, y1)).

        For k > 2 this is the pairwise set f_i = f_j over the whole plane (other classes may lead
        there); ``boundary.argmax_boundary_2d`` gives the k-class argmax boundary."""
        from .boundary import decision_boundary_cells

        return decision_boundary_cells(self, box, i, j)

    def tropical_hypersurface_2d(self, box: Any, i: int = 0, j: int = 1) -> list:
        """T(R) for the pair (i, j) clipped to ``box``, as a list of segments (see subdivision.py)."""
        from .subdivision import dual_subdivision

        sub = dual_subdivision(self, i, j)
        return [tuple(map(tuple, s)) for s in sub.hypersurface_segments(box)]

    def dual_subdivision_2d(self, i: int = 0, j: int = 1) -> Any:
        """The dual subdivision delta(R) for the pair (i, j) (a DualSubdivision; ``.cells``)."""
        from .subdivision import dual_subdivision

        return dual_subdivision(self, i, j)
