"""Finite-sum problems for the batch-size line: ridge and l2-regularised logistic regression.

Both are generalised linear models ``f_i(x) = phi_i(a_i^T x) + (lam/2)||x||^2`` so that a
per-example gradient is ``phi_i'(a_i^T x) a_i + lam x``; the SGD loops use this structure to get
batch gradients and per-example squared gradient norms without forming a (tau, d) matrix.

Constants follow Gower et al. 2019 as implemented in StochOpt.jl (reference ``batchsize.md``
§1.1): ridge ``L_i = ||a_i||^2 + lam``, ``L = lam_max(A^T A)/n + lam``,
``mu = lam_min(A^T A)/n + lam``; logistic ``L_i = ||a_i||^2/4 + lam``,
``L = lam_max(A^T A)/(4n) + lam``, ``mu = lam``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "FiniteSumProblem",
    "ridge_problem",
    "logistic_problem",
    "sklearn_problem",
    "libsvm_problem",
    "SKLEARN_SETS",
]

KINDS = ("ridge", "logistic")
# Dense copies above this many entries would not fit the dashboard's memory comfortably.
_MAX_ENTRIES = 50_000_000


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # Numerically stable logistic function (no overflow for large |z|).
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


@dataclass
class FiniteSumProblem:
    """``f(x) = (1/n) sum_i f_i(x)`` for ridge or l2-logistic regression.

    Parameters
    ----------
    A : (n, d) float64 data matrix, rows ``a_i``.
    b : (n,) targets: real values for ridge, labels in {-1, +1} for logistic.
    lam : l2 regularisation ``lam > 0`` (makes f strongly convex).
    kind : "ridge" or "logistic".
    name : label for plots.

    The exact minimiser ``x_star`` is computed on construction: closed form for ridge (normal
    equations via a Cholesky solve), Newton's method to ``||grad f|| < 1e-13`` for logistic.
    """

    A: np.ndarray
    b: np.ndarray
    lam: float
    kind: str = "ridge"
    name: str = ""
    x_star: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        A = np.asarray(self.A, dtype=np.float64)
        b = np.asarray(self.b, dtype=np.float64).ravel()
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}.")
        if A.ndim != 2 or A.shape[0] < 2 or A.shape[1] < 1:
            raise ValueError(f"A must be a 2-D array with at least 2 rows, got shape {A.shape}.")
        if b.shape[0] != A.shape[0]:
            raise ValueError(f"b has {b.shape[0]} entries but A has {A.shape[0]} rows.")
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
            raise ValueError("The data contain NaN or infinite values.")
        if not (np.isfinite(self.lam) and self.lam > 0):
            raise ValueError(f"lam must be a positive finite number, got {self.lam}.")
        if self.kind == "logistic" and not np.all(np.isin(b, (-1.0, 1.0))):
            raise ValueError("Logistic regression needs labels in {-1, +1}.")
        self.A, self.b, self.lam = A, b, float(self.lam)
        self.row_sq = np.einsum("ij,ij->i", A, A)
        eig = np.linalg.eigvalsh(A.T @ A / self.n)
        scale = 1.0 if self.kind == "ridge" else 0.25  # logistic: phi'' <= 1/4
        self.L = float(scale * eig[-1] + self.lam)
        self.L_i = scale * self.row_sq + self.lam
        self.L_max = float(self.L_i.max())
        self.L_bar = float(self.L_i.mean())
        self.mu = float(eig[0] + self.lam) if self.kind == "ridge" else self.lam
        self.x_star = self._solve()
        self.f_star = float(self.f(self.x_star))
        self.h_star = float(self.h(self.x_star))

    # ---- sizes -----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of examples (rows of A)."""
        return int(self.A.shape[0])

    @property
    def d(self) -> int:
        """Number of features (columns of A)."""
        return int(self.A.shape[1])

    # ---- per-example derivative of the loss phi_i at z = a_i^T x ---------------------------
    def dloss(self, z: np.ndarray, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """``phi_i'(z_i)`` for the examples ``idx``; z has the same length as ``b[idx]``."""
        if self.kind == "ridge":
            return z - self.b[idx]
        y = self.b[idx]
        return -y * _sigmoid(-y * z)

    def f(self, x: np.ndarray) -> float:
        """Objective value ``f(x)`` (scalar)."""
        z = self.A @ x
        if self.kind == "ridge":
            loss = 0.5 * np.mean((z - self.b) ** 2)
        else:
            loss = np.mean(np.logaddexp(0.0, -self.b * z))
        return float(loss + 0.5 * self.lam * (x @ x))

    def grad(self, x: np.ndarray) -> np.ndarray:
        """Full gradient ``grad f(x)``, shape (d,)."""
        s = self.dloss(self.A @ x)
        return self.A.T @ s / self.n + self.lam * x

    def per_example_grads(self, x: np.ndarray, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Per-example gradients ``grad f_i(x)`` for ``idx``, shape (len(idx), d)."""
        Ai = self.A[idx]
        s = self.dloss(Ai @ x, idx)
        return Ai * s[:, None] + self.lam * x[None, :]

    def grad_sq_norms(self, x: np.ndarray, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """``||grad f_i(x)||^2`` for ``idx`` without forming the gradients.

        Uses ``||s a + lam x||^2 = s^2 ||a||^2 + 2 lam s a^T x + lam^2 ||x||^2``.
        """
        z = self.A[idx] @ x
        s = self.dloss(z, idx)
        lx = self.lam * x
        return s * s * self.row_sq[idx] + 2.0 * self.lam * s * z + lx @ lx

    def h(self, x: np.ndarray) -> float:
        """``h(x) = (1/n) sum_i ||grad f_i(x)||^2``; ``h(x*)`` is the gradient noise h-bar."""
        return float(np.mean(self.grad_sq_norms(x)))

    def f_and_h(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``f(x)`` and ``h(x)`` for every row of X (m, d) with one matrix product; each (m,)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        Z = X @ self.A.T  # (m, n)
        if self.kind == "ridge":
            S = Z - self.b
            loss = 0.5 * np.mean(S * S, axis=1)
        else:
            S = -self.b * _sigmoid(-self.b * Z)
            loss = np.mean(np.logaddexp(0.0, -self.b * Z), axis=1)
        xx = np.einsum("ij,ij->i", X, X)
        f = loss + 0.5 * self.lam * xx
        sq = S * S * self.row_sq + 2.0 * self.lam * S * Z + (self.lam**2 * xx)[:, None]
        return f, sq.mean(axis=1)

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """Hessian of f at x, shape (d, d)."""
        if self.kind == "ridge":
            w = np.ones(self.n)
        else:
            p = _sigmoid(self.b * (self.A @ x))
            w = p * (1.0 - p)
        return (self.A.T * w) @ self.A / self.n + self.lam * np.eye(self.d)

    def _solve(self) -> np.ndarray:
        d = self.d
        if self.kind == "ridge":
            H = self.A.T @ self.A / self.n + self.lam * np.eye(d)
            rhs = self.A.T @ self.b / self.n
            c = np.linalg.cholesky(H)
            return np.linalg.solve(c.T, np.linalg.solve(c, rhs))
        # Newton's method with a backtracking line search; converges quadratically, so a
        # handful of steps reach float64 precision (reference §1.1: 4-7 steps in practice).
        x = np.zeros(d)
        for _ in range(100):
            g = self.grad(x)
            if np.linalg.norm(g) < 1e-13:
                break
            step = np.linalg.solve(self.hessian(x), g)
            t, fx = 1.0, self.f(x)
            while self.f(x - t * step) > fx - 0.25 * t * (g @ step) and t > 1e-10:
                t *= 0.5
            x = x - t * step
        return x

    # ---- helpers for the samplings -----------------------------------------------------------
    def shard_stats(self, nodes: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-shard gradient variance at x* and per-shard L_max for ``nodes`` equal blocks.

        Shards are contiguous blocks of the data order. Returns ``(s2, lmax)``, each (nodes,),
        with ``s2_j = (1/n_j) sum_{i in P_j} ||grad f_i(x*) - mean_{P_j} grad f_i(x*)||^2``.
        """
        if int(nodes) != nodes or nodes < 1 or self.n % nodes:
            raise ValueError(f"nodes must be a positive divisor of n = {self.n}, got {nodes}.")
        cache = self.__dict__.setdefault("_shards", {})
        if nodes not in cache:
            G = self.per_example_grads(self.x_star).reshape(nodes, self.n // nodes, self.d)
            s2 = np.mean(np.sum((G - G.mean(axis=1, keepdims=True)) ** 2, axis=2), axis=1)
            cache[nodes] = (s2, self.L_i.reshape(nodes, -1).max(axis=1))
        return cache[nodes]

    def summary(self) -> dict[str, float]:
        """Constants as a flat dict (for tables)."""
        return {"n": self.n, "d": self.d, "lam": self.lam, "L": self.L, "L_max": self.L_max,
                "L_bar": self.L_bar, "mu": self.mu, "h_star": self.h_star, "f_star": self.f_star}


def _synthetic_A(rng: np.random.Generator, n: int, d: int, cond: float, rows: str) -> np.ndarray:
    if n < 2 or d < 1:
        raise ValueError(f"Need n >= 2 and d >= 1, got n={n}, d={d}.")
    if not (np.isfinite(cond) and cond >= 1):
        raise ValueError(f"cond must be a finite number >= 1, got {cond}.")
    # Column scales spread geometrically so that the covariance has condition number ~cond.
    scales = cond ** (-0.5 * np.arange(d) / max(d - 1, 1))
    A = rng.standard_normal((n, d)) * scales
    if rows == "unit":
        A /= np.linalg.norm(A, axis=1, keepdims=True)
    elif rows == "uneven":
        A *= rng.uniform(0.3, 2.0, size=(n, 1))
    elif rows != "gaussian":
        raise ValueError(f"rows must be 'unit', 'uneven' or 'gaussian', got {rows!r}.")
    return A


def ridge_problem(n: int = 1000, d: int = 20, lam: float = 1e-2, noise: float = 0.3,
                  cond: float = 1.0, rows: str = "uneven", seed: int = 0) -> FiniteSumProblem:
    """Seeded synthetic ridge regression (reference §3.3).

    ``A_ij ~ N(0, s_j^2)`` with column scales ``s_j`` spread over ``[cond^{-1/2}, 1]``; rows then
    normalised (``rows="unit"``), scaled by ``U(0.3, 2)`` (``"uneven"``: uneven ``L_i``) or kept
    (``"gaussian"``); ``b = A x_true + noise * N(0, 1)`` with ``x_true ~ N(0, I)``.
    """
    rng = np.random.default_rng(seed)
    A = _synthetic_A(rng, n, d, cond, rows)
    x_true = rng.standard_normal(d)
    b = A @ x_true + noise * rng.standard_normal(n)
    return FiniteSumProblem(A, b, lam, "ridge", f"synthetic ridge (n={n}, d={d})")


def logistic_problem(n: int = 1000, d: int = 20, lam: float = 1e-2, cond: float = 1.0,
                     rows: str = "unit", flip: float = 0.1, seed: int = 0) -> FiniteSumProblem:
    """Seeded synthetic l2-logistic regression: labels ``sign(a_i^T w)`` flipped with prob. ``flip``."""
    rng = np.random.default_rng(seed)
    A = _synthetic_A(rng, n, d, cond, rows)
    w = rng.standard_normal(d)
    y = np.where(A @ w >= 0, 1.0, -1.0)
    y[rng.random(n) < flip] *= -1.0
    return FiniteSumProblem(A, y, lam, "logistic", f"synthetic logistic (n={n}, d={d})")


def _normalise_rows(X: np.ndarray) -> np.ndarray:
    # Standardise columns, then scale rows to unit norm (reference §3.3's breast_cancer recipe).
    X = X - X.mean(axis=0)
    sd = X.std(axis=0)
    X = X / np.where(sd > 0, sd, 1.0)
    nrm = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(nrm > 0, nrm, 1.0)


SKLEARN_SETS = {
    # name: (loader name, problem kind, how labels are made binary)
    "breast_cancer": ("load_breast_cancer", "logistic"),
    "diabetes": ("load_diabetes", "ridge"),
    "digits": ("load_digits", "logistic"),  # even vs odd digit
    "wine": ("load_wine", "logistic"),  # class 0 vs the rest
}


def sklearn_problem(name: str = "breast_cancer", lam: float = 0.1) -> FiniteSumProblem:
    """A scikit-learn bundled data set (no network) as a finite-sum problem.

    Columns are standardised and rows scaled to unit norm. ``breast_cancer``, ``digits`` (even vs
    odd) and ``wine`` (class 0 vs rest) give logistic problems; ``diabetes`` gives ridge with a
    standardised target.
    """
    import sklearn.datasets as skd

    if name not in SKLEARN_SETS:
        raise ValueError(f"Unknown data set {name!r}; choose one of {sorted(SKLEARN_SETS)}.")
    loader, kind = SKLEARN_SETS[name]
    X, y = getattr(skd, loader)(return_X_y=True)
    X = _normalise_rows(np.asarray(X, dtype=np.float64))
    if kind == "ridge":
        y = (y - y.mean()) / y.std()
    elif name == "digits":
        y = np.where(y % 2 == 0, 1.0, -1.0)
    else:
        y = np.where(y == y.max() if name == "breast_cancer" else y == 0, 1.0, -1.0)
    return FiniteSumProblem(X, y, lam, kind, name)


def libsvm_problem(path: str | Path, kind: str = "logistic", lam: float | None = None,
                   normalise: bool = True) -> FiniteSumProblem:
    """A LIBSVM-format file read with ``sklearn.datasets.load_svmlight_file``.

    For logistic the labels must take exactly two values (mapped to -1/+1, the larger to +1).
    ``lam`` defaults to ``1/n``. With ``normalise`` rows are scaled to unit norm (columns are not
    centred, which would destroy sparsity patterns the file may rely on).
    """
    from sklearn.datasets import load_svmlight_file

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"No LIBSVM file at {p}.")
    try:
        X, y = load_svmlight_file(str(p))
    except Exception as exc:  # the loader raises several types for malformed files
        raise ValueError(f"Could not read {p.name} as a LIBSVM file: {exc}") from exc
    if X.shape[0] * X.shape[1] > _MAX_ENTRIES:
        raise ValueError(f"{p.name} is too large to densify ({X.shape[0]} x {X.shape[1]}).")
    A = X.toarray().astype(np.float64)
    if normalise:
        nrm = np.linalg.norm(A, axis=1, keepdims=True)
        A = A / np.where(nrm > 0, nrm, 1.0)
    if kind == "logistic":
        vals = np.unique(y)
        if vals.size != 2:
            raise ValueError(f"Logistic regression needs two label values; {p.name} has {vals.size}.")
        y = np.where(y == vals[1], 1.0, -1.0)
    lam = 1.0 / A.shape[0] if lam is None else lam
    return FiniteSumProblem(A, y, lam, kind, p.stem)
