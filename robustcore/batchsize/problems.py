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
import numpy as np

from ._checks import check_choice, check_int, check_real

__all__ = [
    "FiniteSumProblem",
    "ridge_problem",
    "logistic_problem",
    "sklearn_problem",
    "mnist_problem",
    "SKLEARN_SETS",
    "MNIST_TASKS",
    "MAX_N",
    "MAX_D",
    "MAX_ENTRIES",
]

KINDS = ("ridge", "logistic")
#: Size caps of a problem (checked before any allocation): at most MAX_N examples, MAX_D
#: features and MAX_ENTRIES dense entries (160 MB of float64). The d x d Hessian and its
#: eigenvalues cost O(n d^2 + d^3): about a second at the caps' corner n d = 2e7, d = 2000.
MAX_N = 1_000_000
MAX_D = 2_000
MAX_ENTRIES = 20_000_000


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # Numerically stable logistic function (no overflow for large |z|): 1/(1 + exp(-z)) where
    # z >= 0 and exp(z)/(1 + exp(z)) elsewhere, elementwise (the SGD loops call this on every
    # batch, so the cheapest form of these exact operations is picked below).
    if z.ndim and z.flags.c_contiguous:
        # Contiguous like the masked copies of the general case below, so elementwise the same
        # operands and the same values.
        if z.size == 1:  # a batch of one: test the sign without a mask
            allpos = z[0] >= 0  # (NaN: False, as z >= 0 gives)
            nonepos = not allpos
        else:
            pos = z >= 0
            npos = np.count_nonzero(pos)
            allpos, nonepos = npos == pos.size, npos == 0
        if allpos:
            return 1.0 / (1.0 + np.exp(-z))
        if nonepos:
            ez = np.exp(z)
            return ez / (1.0 + ez)
        # Both signs: one exp of -z where z >= 0 and of z elsewhere (NaN included, as below;
        # at most 1, so neither formula overflows); both formulas on every element, then select.
        e = np.exp(np.where(pos, -z, z))
        d = 1.0 + e
        return np.where(pos, 1.0 / d, e / d)
    # 0-d or strided input: the same elementwise operations on a contiguous copy
    return _sigmoid(np.ascontiguousarray(np.atleast_1d(z))).reshape(np.shape(z))


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
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}.")
        for nm, v in (("A", self.A), ("b", self.b)):
            if not hasattr(v, "__len__") and not isinstance(v, np.ndarray):
                raise TypeError(f"{nm} must be an array, got {type(v).__name__}.")
        A, b = np.asarray(self.A), np.asarray(self.b)
        if A.dtype == object or b.dtype == object or np.iscomplexobj(A) or np.iscomplexobj(b) \
                or A.dtype.kind in "USV" or b.dtype.kind in "USV":
            raise TypeError("A and b must hold real numbers.")
        if A.ndim != 2 or A.shape[0] < 2 or A.shape[1] < 1:
            raise ValueError(f"A must be a 2-D array with at least 2 rows, got shape {A.shape}.")
        if A.shape[0] > MAX_N or A.shape[1] > MAX_D or A.size > MAX_ENTRIES:
            raise ValueError(f"A of shape {A.shape} exceeds the size caps (n <= {MAX_N:,}, "
                             f"d <= {MAX_D:,}, n d <= {MAX_ENTRIES:,}).")
        A = A.astype(np.float64)
        b = b.astype(np.float64).ravel()
        if b.shape[0] != A.shape[0]:
            raise ValueError(f"b has {b.shape[0]} entries but A has {A.shape[0]} rows.")
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
            raise ValueError("The data contain NaN or infinite values.")
        self.lam = check_real("lam", self.lam, 0.0, 1e6, lo_open=True)
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

    # ---- argument checks of the public methods (cheap: a shape and a finiteness test) --------
    def check_point(self, x, name: str = "x") -> np.ndarray:
        """``x`` as a float64 vector of length d; TypeError / ValueError (one sentence naming ``name``) otherwise."""
        a = np.asarray(x)
        if a.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be an array of real numbers.")
        if a.shape != (self.d,):
            raise ValueError(f"{name} must be a vector of length d = {self.d}, got shape {a.shape}.")
        a = a.astype(np.float64, copy=False)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite (no NaN or inf).")
        return a

    _x = check_point

    def _idx(self, idx):
        if isinstance(idx, slice):
            return idx
        a = np.asarray(idx)
        if a.dtype.kind not in "iu" or a.ndim != 1:
            raise TypeError("idx must be a slice or a 1-D array of integer indices.")
        if a.size > 10 * self.n:
            raise ValueError(f"idx holds {a.size} indices, more than 10 n = {10 * self.n}.")
        if a.size and (a.min() < 0 or a.max() >= self.n):
            raise ValueError(f"idx must lie in [0, n = {self.n}).")
        return a

    # ---- per-example derivative of the loss phi_i at z = a_i^T x ---------------------------
    def dloss(self, z: np.ndarray, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """``phi_i'(z_i)`` for the examples ``idx``; z has the same length as ``b[idx]``."""
        if self.kind == "ridge":
            return z - self.b[idx]
        ny = -self.b[idx]  # -y once: the same values as negating twice
        return ny * _sigmoid(ny * z)

    def f(self, x: np.ndarray) -> float:
        """Objective value ``f(x)`` (scalar)."""
        x = self._x(x)
        z = self.A @ x
        if self.kind == "ridge":
            loss = 0.5 * np.mean((z - self.b) ** 2)
        else:
            loss = np.mean(np.logaddexp(0.0, -self.b * z))
        return float(loss + 0.5 * self.lam * (x @ x))

    def grad(self, x: np.ndarray) -> np.ndarray:
        """Full gradient ``grad f(x)``, shape (d,)."""
        x = self._x(x)
        s = self.dloss(self.A @ x)
        return self.A.T @ s / self.n + self.lam * x

    def per_example_grads(self, x: np.ndarray, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Per-example gradients ``grad f_i(x)`` for ``idx``, shape (len(idx), d)."""
        x, idx = self._x(x), self._idx(idx)
        Ai = self.A[idx]
        s = self.dloss(Ai @ x, idx)
        return Ai * s[:, None] + self.lam * x[None, :]

    def grad_sq_norms(self, x: np.ndarray, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """``||grad f_i(x)||^2`` for ``idx`` without forming the gradients.

        Uses ``||s a + lam x||^2 = s^2 ||a||^2 + 2 lam s a^T x + lam^2 ||x||^2``.
        """
        x, idx = self._x(x), self._idx(idx)
        z = self.A[idx] @ x
        s = self.dloss(z, idx)
        lx = self.lam * x
        return s * s * self.row_sq[idx] + 2.0 * self.lam * s * z + lx @ lx

    def h(self, x: np.ndarray) -> float:
        """``h(x) = (1/n) sum_i ||grad f_i(x)||^2``; ``h(x*)`` is the gradient noise h-bar."""
        return float(np.mean(self.grad_sq_norms(x)))

    def f_and_h(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``f(x)`` and ``h(x)`` for every row of X (m, d) with one matrix product; each (m,)."""
        X = np.atleast_2d(np.asarray(X))
        if X.dtype.kind not in "iuf":
            raise TypeError("X must be an array of real numbers.")
        X = X.astype(np.float64, copy=False)
        if X.ndim != 2 or X.shape[1] != self.d or not np.all(np.isfinite(X)):
            raise ValueError(f"X must be a finite (m, d = {self.d}) array.")
        if X.shape[0] * self.n > MAX_ENTRIES:
            raise ValueError(f"X has {X.shape[0]} rows; m n must stay below {MAX_ENTRIES:,}.")
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
        x = self._x(x)
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


def _check_synthetic(n, d, lam, cond, rows, seed) -> tuple[int, int]:
    n = check_int("n", n, 2, MAX_N)
    d = check_int("d", d, 1, MAX_D)
    if n * d > MAX_ENTRIES:
        raise ValueError(f"n d = {n * d:,} exceeds the cap of {MAX_ENTRIES:,} entries.")
    check_real("lam", lam, 0.0, 1e6, lo_open=True)
    check_real("cond", cond, 1.0, 1e12)
    check_choice("rows", rows, ("unit", "uneven", "gaussian"))
    check_int("seed", seed, 0, 2**63 - 1)
    return n, d


def _synthetic_A(rng: np.random.Generator, n: int, d: int, cond: float, rows: str) -> np.ndarray:
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
    n, d = _check_synthetic(n, d, lam, cond, rows, seed)
    check_real("noise", noise, 0.0, 1e6)
    rng = np.random.default_rng(seed)
    A = _synthetic_A(rng, n, d, cond, rows)
    x_true = rng.standard_normal(d)
    b = A @ x_true + noise * rng.standard_normal(n)
    return FiniteSumProblem(A, b, lam, "ridge", f"synthetic ridge (n={n}, d={d})")


def logistic_problem(n: int = 1000, d: int = 20, lam: float = 1e-2, cond: float = 1.0,
                     rows: str = "unit", flip: float = 0.1, seed: int = 0) -> FiniteSumProblem:
    """Seeded synthetic l2-logistic regression: labels ``sign(a_i^T w)`` flipped with prob. ``flip``."""
    n, d = _check_synthetic(n, d, lam, cond, rows, seed)
    check_real("flip", flip, 0.0, 0.5)
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

    if not isinstance(name, str) or name not in SKLEARN_SETS:
        raise ValueError(f"Unknown data set {name!r}; choose one of {sorted(SKLEARN_SETS)}.")
    check_real("lam", lam, 0.0, 1e6, lo_open=True)
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


#: Binary tasks on mnist-5k: name -> (rule for the +1 class, description for the page).
MNIST_TASKS = {
    "even vs odd": "label +1 for digits 0, 2, 4, 6, 8 and -1 for 1, 3, 5, 7, 9 (all 4,000 images)",
    "0 vs rest": "label +1 for digit 0 and -1 for every other digit (all 4,000 images)",
    "3 vs 5": "only the images of 3s and 5s (800); +1 for 3, -1 for 5",
}


def mnist_problem(task: str = "even vs odd", lam: float = 1e-2, split: str = "train",
                  root=None) -> FiniteSumProblem:
    """l2-logistic regression on mnist-5k: 28 x 28 real MNIST digits, flattened to 784 pixels.

    Uses ``robustcore.data.load_dataset("mnist-5k", split)`` (4,000 train / 1,000 test images,
    bundled, no network). Pixels are standardised per column (constant pixels are left at 0) and
    each row scaled to unit norm, the recipe of :func:`sklearn_problem`, so ``L_i = 1/4 + lam``.
    Rows are put in a fixed random order (seed 0): the bundled split is sorted by class, and the
    distributed sampling's contiguous shards would otherwise each hold one digit.

    Parameters
    ----------
    task : one of ``MNIST_TASKS`` ("even vs odd", "0 vs rest", "3 vs 5").
    lam : l2 regularisation (mu = lam).
    split : "train" (4,000 images) or "test" (1,000).
    """
    check_choice("task", task, tuple(MNIST_TASKS))
    check_choice("split", split, ("train", "test"))
    lam = check_real("lam", lam, 0.0, 1e6, lo_open=True)
    from robustcore.data import load_dataset

    X, y = load_dataset("mnist-5k", split, root=root)
    X = X.reshape(X.shape[0], -1).numpy().astype(np.float64)
    y = y.numpy()
    if task == "3 vs 5":
        keep = (y == 3) | (y == 5)
        X, y = X[keep], np.where(y[keep] == 3, 1.0, -1.0)
    elif task == "0 vs rest":
        y = np.where(y == 0, 1.0, -1.0)
    else:
        y = np.where(y % 2 == 0, 1.0, -1.0)
    order = np.random.default_rng(0).permutation(X.shape[0])
    X = _normalise_rows(X[order])
    return FiniteSumProblem(X, y[order], lam, "logistic", f"mnist-5k {task} ({split})")
