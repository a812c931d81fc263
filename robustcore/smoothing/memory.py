"""Memory-based certification of a data-dependent smoothed classifier (Alfarra et al. 2022, §3.5).

The data-dependent classifier ``G(x) = g_{sigma_x}(x)`` changes sigma inside the ball that
Cohen's theorem certifies for ``g_{sigma_x}``, so that ball is not a certificate of ``G``. The
memory-enhanced classifier fixes its answers inside every ball it has already issued:

A memory ``M = [(x_j, c_j, R_j)]`` is processed in order. For a new input with Cohen certificate
``(c_i, R_i)`` of ``g_{sigma_i}`` (fresh samples), let ``d_j = ||x_i - x_j||_2``. Stored ball ``j``
*conflicts* when ``c_j != c_i`` and ``d_j < R_i + R_j``. With ``m = min_{conflicts} (d_j - R_j)``
attained at ``j*``:

- ``m < 0`` (``x_i`` lies inside a conflicting ball): rule ``"ddrs"`` answers ``c_{j*}`` with radius
  ``R_{j*} - d_{j*}`` (the largest ball around ``x_i`` inside ball ``j*``), as in the official
  ``post_processing_memory_based.py``; rule ``"abstain"`` (RANCER) abstains and stores nothing;
- ``m >= 0``: the class stays ``c_i`` and the radius shrinks to ``m`` (touches no conflicting ball).

The result is appended to the memory (abstentions are not stored).

Guarantees, exactly (each holds provided every underlying Cohen certificate holds, which has
probability ``>= 1 - M alpha`` for all ``M`` of them by the union bound):

- **Both rules** keep the invariant (tested, also with two processes writing one store): stored
  balls of different classes are disjoint, ``||x_i - x_j|| >= R_i + R_j`` whenever ``c_i != c_j``;
  a ball is never enlarged, only shrunk, and a stored ball is never replaced or removed (except by
  :meth:`CertificationMemory.clear`, which starts a new memory).
- **rule="ddrs"** (Alfarra et al.): every later query ``x'`` that lies strictly inside a stored
  ball ``j`` is answered ``c_j`` (the classes of the balls that contain ``x'`` all agree, by the
  invariant). So each stored ball ``(x_j, c_j, R_j)`` is a certificate of the memory classifier:
  it answers ``c_j`` everywhere in the open ball.
- **rule="abstain"** (RANCER): a query inside a stored ball of *another* class abstains. So inside
  a stored ball ``j`` the memory classifier answers ``c_j`` **or abstains**; it never answers a
  different class there. Each stored ball certifies "no class other than ``c_j``", not "always
  ``c_j``".

In both cases the statements are about the memory classifier as a *sequential* procedure: the
answer to a query depends on the queries processed before it (order dependence, shown on the page).

Caveats shown on the page: answers depend on the order of the queries, and the memory grows by one
entry per certified query (``O(M d)`` storage, ``O(M d)`` work per query).

Persistence and concurrency: the memory lives in the results store (run kind
``"smoothing.memory"``, one result row per entry with the point in ``extra["x"]``). Every insert
runs in ONE SQLite write transaction (``BEGIN IMMEDIATE``): it reads the entries other sessions
stored since, decides against all of them, and appends its entry with a plain ``INSERT`` at the
next index, so two browser sessions or processes cannot both store intersecting balls of different
classes, and no stored ball is ever overwritten. The memory's name carries the seed of the
certificates it holds (``name/seed=<seed>``): memories built from different noise are kept apart.
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["MemoryDecision", "CertificationMemory", "memory_certify", "memory_postprocess_run", "RULES"]

RULES = ("ddrs", "abstain")
ABSTAIN = -1


def _check_label(label) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
        if isinstance(label, (float, np.floating)) and float(label).is_integer():
            label = int(label)
        else:
            raise TypeError(f"label must be a class index (int) or -1 for abstain, got {label!r}.")
    if label < ABSTAIN:
        raise ValueError(f"label must be a class index >= 0 or -1 for abstain, got {label!r}.")
    return int(label)


def _check_radius(radius) -> float:
    if isinstance(radius, (bool, complex, np.complexfloating)) or not isinstance(radius, (int, float, np.number)):
        raise TypeError(f"radius must be a non-negative number, got {radius!r}.")
    r = float(radius)
    if not (np.isfinite(r) and r >= 0):
        raise ValueError(f"radius must be a non-negative number, got {radius!r}.")
    return r


@dataclass(frozen=True)
class MemoryDecision:
    """What the memory did with one input.

    Attributes
    ----------
    label, radius : int, float
        The memory classifier's answer and certified radius (``ABSTAIN``/0.0 when it abstains).
    original_label, original_radius : int, float
        The fixed-sigma Cohen certificate that came in.
    action : str
        "stored" (no conflict), "shrunk", "adopted" (took the class of a conflicting ball),
        "abstained" (input abstained, or the "abstain" rule fired).
    conflict_index : int or None
        Memory entry that decided a shrink/adopt (the closest-to-inside conflicting ball).
    n_conflicts : int
        Number of conflicting stored balls.
    """

    label: int
    radius: float
    original_label: int
    original_radius: float
    action: str
    conflict_index: int | None = None
    n_conflicts: int = 0


class CertificationMemory:
    """A growing memory of certified balls, optionally written through to a ``ResultsStore``.

    Parameters
    ----------
    dim : int
        Dimension of the (flattened) inputs.
    rule : {"ddrs", "abstain"}
        What to do when a new input lies inside a conflicting ball (see module docstring).
    store : robustcore.store.ResultsStore or None
        If given, entries are loaded from and appended to the run ``(kind="smoothing.memory",
        config={"name": name, "dim": dim, "rule": rule})``.
    name : str
        Name of the persisted memory (e.g. "digits-cnn/ddrs").
    seed : int or None
        Seed of the certificates the memory holds; appended to the name as ``/seed=<seed>`` (so
        memories of different noise streams are different memories).
    """

    KIND = "smoothing.memory"
    #: Largest input dimension accepted (a stored point is kept in memory and in the store).
    MAX_DIM = 10**7

    def __init__(self, dim: int, rule: str = "ddrs", store=None, name: str = "default", seed: int | None = None):
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"dim must be a positive integer, got {dim!r}.")
        if not (1 <= dim <= self.MAX_DIM):
            raise ValueError(f"dim must be an integer in [1, {self.MAX_DIM:,}], got {dim!r}.")
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {rule!r}.")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}.")
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
                raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}.")
            name = f"{name}/seed={int(seed)}"
        if store is not None and not hasattr(store, "start_run"):
            raise TypeError(f"store must be a robustcore ResultsStore or None, got {type(store).__name__}.")
        self.seed = None if seed is None else int(seed)
        self.dim, self.rule = int(dim), rule
        self._x = np.empty((16, self.dim))
        self._c = np.empty(16, dtype=np.int64)
        self._r = np.empty(16)
        self._m = 0
        self.keys: list = []
        self.store, self.name, self.run_id = store, name, None
        if store is not None:
            self.run_id = store.start_run(self.KIND, self.config())
            self._load()

    def config(self) -> dict:
        """The store configuration identifying this memory."""
        return {"name": self.name, "dim": self.dim, "rule": self.rule}

    # ---------------------------------------------------------------- state
    def __len__(self) -> int:
        return self._m

    @property
    def points(self) -> np.ndarray:
        """(M, dim) stored centres."""
        return self._x[: self._m]

    @property
    def labels(self) -> np.ndarray:
        """(M,) stored classes."""
        return self._c[: self._m]

    @property
    def radii(self) -> np.ndarray:
        """(M,) stored radii."""
        return self._r[: self._m]

    def _append(self, x: np.ndarray, c: int, r: float, key) -> None:
        if self._m == len(self._r):
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._c = np.concatenate([self._c, np.empty_like(self._c)])
            self._r = np.concatenate([self._r, np.empty_like(self._r)])
        self._x[self._m], self._c[self._m], self._r[self._m] = x, c, r
        self._m += 1
        self.keys.append(key)

    def _flat(self, x) -> np.ndarray:
        raw = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x)
        if raw.dtype.kind not in "biuf":
            raise TypeError(f"x must hold real numbers, got dtype {raw.dtype}.")
        arr = raw.astype(np.float64).reshape(-1)
        if arr.size != self.dim:
            raise ValueError(f"The input has {arr.size} values but this memory holds points of dimension {self.dim}.")
        if not np.all(np.isfinite(arr)):
            raise ValueError("The input contains NaN or infinite values.")
        return arr

    # ---------------------------------------------------------------- operations
    def decide(self, x, label: int, radius: float) -> MemoryDecision:
        """The memory classifier's answer for ``x`` given its Cohen certificate, without storing it."""
        xf = self._flat(x)
        label, radius = _check_label(label), _check_radius(radius)
        if self._m == 0:
            if label == ABSTAIN:
                return MemoryDecision(ABSTAIN, 0.0, label, radius, "abstained")
            return MemoryDecision(label, radius, label, radius, "stored")
        d = np.sqrt(((self.points - xf) ** 2).sum(axis=1))
        r_own = 0.0 if label == ABSTAIN else radius
        conflict = (self.labels != label) & (d < r_own + self.radii)
        n_conf = int(conflict.sum())
        if n_conf == 0:
            if label == ABSTAIN:
                return MemoryDecision(ABSTAIN, 0.0, label, radius, "abstained")
            return MemoryDecision(label, radius, label, radius, "stored")
        gaps = np.where(conflict, d - self.radii, np.inf)
        j = int(np.argmin(gaps))
        m = float(gaps[j])
        if m < 0:  # inside conflicting ball j
            if self.rule == "abstain":
                return MemoryDecision(ABSTAIN, 0.0, label, radius, "abstained", j, n_conf)
            return MemoryDecision(int(self.labels[j]), -m, label, radius, "adopted", j, n_conf)
        if label == ABSTAIN:  # cannot happen: an abstention conflicts only from inside a ball
            return MemoryDecision(ABSTAIN, 0.0, label, radius, "abstained", j, n_conf)
        return MemoryDecision(label, min(radius, m), label, radius, "shrunk", j, n_conf)

    def insert(self, x, label: int, radius: float, key=None, sigma: float | None = None) -> MemoryDecision:
        """Process one certified input in order: decide (shrink / adopt / abstain) and store the result.

        Parameters
        ----------
        x : array or Tensor
            The input (any shape with ``dim`` values), pixel space.
        label : int
            Class of its Cohen certificate, or ``ABSTAIN`` (-1).
        radius : float
            Its Cohen radius (>= 0).
        key : any JSON-able, optional
            Identifier kept with the entry (e.g. the test index).
        sigma : float, optional
            The sigma that certificate used (stored for the audit trail).

        Returns
        -------
        MemoryDecision
        """
        if self.store is None:
            dec = self.decide(x, label, radius)
            if dec.label != ABSTAIN:
                self._append(self._flat(x), dec.label, dec.radius, key)
            return dec
        xf = self._flat(x)
        _check_label(label), _check_radius(radius)
        if sigma is not None and not np.isfinite(float(sigma)):
            raise ValueError(f"sigma must be a finite number or None, got {sigma!r}.")
        con = self._connect()
        try:
            # One write transaction: read what other sessions stored, decide against all of it,
            # append with a plain INSERT (a clash on the index fails instead of replacing a ball).
            con.execute("BEGIN IMMEDIATE")
            try:
                if con.execute("SELECT 1 FROM runs WHERE id=?", (int(self.run_id),)).fetchone() is None:
                    raise ValueError(f"The memory {self.name!r} was cleared by another session; open it again.")
                self._sync(con)
                dec = self.decide(xf, label, radius)
                if dec.label != ABSTAIN:
                    now = time.time()
                    extra = {"x": xf.tolist(), "original_radius": dec.original_radius, "action": dec.action,
                             "key": key}
                    con.execute(
                        "INSERT INTO results(run_id, idx, label, prediction, radius, sigma, correct, time_s, extra, "
                        "created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (int(self.run_id), self._m, int(dec.label), int(dec.original_label), float(dec.radius),
                         None if sigma is None else float(sigma), None, None, json.dumps(extra, default=str), now))
                    con.execute("UPDATE runs SET updated=? WHERE id=?", (now, int(self.run_id)))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()
        if dec.label != ABSTAIN:
            self._append(xf, dec.label, dec.radius, key)
        return dec

    # ---------------------------------------------------------------- store plumbing
    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.store.path, timeout=60.0, isolation_level=None)
        con.execute("PRAGMA busy_timeout=60000")
        return con

    def _sync(self, con: sqlite3.Connection) -> None:
        """Append the entries stored (by any session) beyond the ones held here, in index order."""
        rows = con.execute("SELECT idx, label, radius, extra FROM results WHERE run_id=? AND idx>=? ORDER BY idx",
                           (int(self.run_id), self._m)).fetchall()
        for idx, lab, rad, extra in rows:
            if int(idx) != self._m:
                raise ValueError(f"The stored memory {self.name!r} has a gap at entry {self._m}; it is not "
                                 "a memory written by this class.")
            ex = json.loads(extra or "{}")
            self._append(np.asarray(ex["x"], dtype=np.float64), int(lab), float(rad), ex.get("key"))

    def refresh(self) -> int:
        """Load the entries other sessions stored since this memory was opened; returns how many."""
        if self.store is None:
            return 0
        before = self._m
        con = self._connect()
        try:
            self._sync(con)
        finally:
            con.close()
        return self._m - before

    def query(self, x) -> tuple[int, float] | None:
        """``(class, radius)`` of the stored ball containing ``x`` most deeply, or None.

        Inside a stored ball the memory classifier answers that ball's class (rule "ddrs") or that
        class or abstain (rule "abstain"); the radius returned is ``R_j - ||x - x_j||`` (a ball
        around x inside ball j). Entries stored by other sessions are loaded first.
        """
        self.refresh()
        if self._m == 0:
            return None
        xf = self._flat(x)
        depth = self.radii - np.sqrt(((self.points - xf) ** 2).sum(axis=1))
        j = int(np.argmax(depth))
        return (int(self.labels[j]), float(depth[j])) if depth[j] > 0 else None

    def min_separation(self) -> float:
        """``min_{c_i != c_j} ||x_i - x_j|| - R_i - R_j`` over stored pairs (+inf if none): >= 0 by invariant."""
        if self._m < 2:
            return float("inf")
        P = self.points
        sq = (P**2).sum(1)
        D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * P @ P.T, 0.0))
        diff = self.labels[:, None] != self.labels[None, :]
        if not diff.any():
            return float("inf")
        return float((D - self.radii[:, None] - self.radii[None, :])[diff].min())

    def _load(self) -> None:
        self.refresh()

    def clear(self) -> None:
        """Forget every entry (and delete the persisted run, starting a fresh one)."""
        self._m = 0
        self.keys = []
        if self.store is not None:
            self.store.delete_run(self.run_id)
            self.run_id = self.store.start_run(self.KIND, self.config())


def memory_certify(points, labels, radii, rule: str = "ddrs", order=None, memory: CertificationMemory | None = None,
                   keys=None) -> tuple[np.ndarray, np.ndarray, list[MemoryDecision]]:
    """Run the memory over a batch of certificates in ``order`` (default: given order).

    Parameters
    ----------
    points : array (M, ...)
        Inputs.
    labels, radii : arrays (M,)
        Their fixed-sigma Cohen certificates (label -1 = abstain).
    rule : {"ddrs", "abstain"}
    order : array of int (M,) or None
        Processing order (a permutation of range(M)).
    memory : CertificationMemory or None
        Existing memory to continue (e.g. a persisted one); a fresh one by default.
    keys : list or None
        Identifiers stored with the entries (default: the row numbers).

    Returns
    -------
    labels, radii : ndarrays (M,)
        The memory classifier's answers, in the row order of ``points`` (not the processing order).
    decisions : list of MemoryDecision, in row order.
    """
    P = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    labels = np.asarray(labels, dtype=np.int64)
    radii = np.asarray(radii, dtype=np.float64)
    if not (len(labels) == len(radii) == len(P)):
        raise ValueError("points, labels and radii must have the same length.")
    order = np.arange(len(P)) if order is None else np.asarray(order)
    if sorted(order.tolist()) != list(range(len(P))):
        raise ValueError("order must be a permutation of the row indices.")
    mem = memory if memory is not None else CertificationMemory(P.shape[1], rule=rule)
    out_l = np.empty(len(P), dtype=np.int64)
    out_r = np.empty(len(P))
    decisions: list = [None] * len(P)
    for i in order:
        dec = mem.insert(P[i], int(labels[i]), float(radii[i]), key=int(i) if keys is None else keys[i])
        out_l[i], out_r[i], decisions[i] = dec.label, dec.radius, dec
    return out_l, out_r, decisions


def memory_postprocess_run(store, run_id: int, X, y=None, rule: str = "ddrs", name: str | None = None) -> int:
    """Turn a stored data-dependent certification run into a memory-classifier run (sound by construction).

    Reads the per-image results of ``run_id`` (``prediction``, ``radius``, ``sigma``), processes them
    in index order through a fresh memory, and writes run kind ``"smoothing.certify-memory"`` with config
    ``{"source_run": run_id, "rule": rule, ...source config}``, whose radii are certificates of the
    memory classifier. Returns the new run id (an existing finished one is reused).

    Parameters
    ----------
    store : ResultsStore
    run_id : int
        A run whose rows hold the fixed-sigma certificates at each image's own sigma.
    X : array (N, ...)
        The dataset the indices refer to.
    y : array (N,) or None
        True labels (for ``correct``); taken from the rows' ``label`` when None.
    rule : {"ddrs", "abstain"}
    name : str or None
        Name for the persisted memory; defaults to ``f"run{run_id}/{rule}"``.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}.")
    if store is None or not hasattr(store, "results"):
        raise TypeError("store must be a robustcore ResultsStore.")
    if isinstance(run_id, bool) or not isinstance(run_id, (int, np.integer)):
        raise TypeError(f"run_id must be an integer, got {run_id!r}.")
    src = store.run(run_id)
    df = store.results(run_id).sort_values("index")
    # n_rows in the key: a source run extended with more images gets a fresh memory run.
    config = {"source_run": int(run_id), "rule": rule, "source": src["config"], "n_rows": int(len(df))}
    existing = store.find_run("smoothing.certify-memory", config)
    if existing is not None and store.run(existing)["status"] == "done":
        return existing
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    mem = CertificationMemory(X.shape[1], rule=rule, store=store, name=name or f"run{run_id}/{rule}")
    mem.clear()
    new = store.start_run("smoothing.certify-memory", config)
    rows = []
    for _, row in df.iterrows():
        i = int(row["index"])
        pred = ABSTAIN if row["prediction"] is None or np.isnan(row["prediction"]) else int(row["prediction"])
        sig = row["sigma"]
        sig = None if sig is None or not np.isfinite(float(sig)) else float(sig)
        rad = row["radius"]
        rad = 0.0 if rad is None or not np.isfinite(float(rad)) else float(rad)
        dec = mem.insert(X[i], pred, rad, key=i, sigma=sig)
        label = int(row["label"]) if y is None else int(np.asarray(y)[i])
        rows.append({"index": i, "label": label, "prediction": dec.label, "radius": dec.radius,
                     "sigma": row["sigma"], "correct": dec.label == label,
                     "extra": {"action": dec.action, "original_radius": dec.original_radius,
                               "original_prediction": dec.original_label}})
    store.add_results(new, rows)
    store.add_metric(new, "min_separation", mem.min_separation())
    store.finish_run(new)
    return new
