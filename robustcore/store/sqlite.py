"""The results store: one SQLite file that the command line writes and the dashboard reads.

Runs (what, when, config) and per-image results (index, label, prediction, radius, sigma, timing,
and a JSON ``extra``), plus named metrics per run. The schema is versioned; every write is one
transaction; SQLite's WAL journal and a busy timeout let several processes write at once without
losing rows.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    config_key TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'running',
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_key ON runs(kind, config_key);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    label INTEGER,
    prediction INTEGER,
    radius REAL,
    sigma REAL,
    correct INTEGER,
    time_s REAL,
    extra TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (run_id, idx)
);
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value REAL,
    extra TEXT,
    created REAL NOT NULL
);
"""


class StoreError(ValueError):
    """The store file cannot be used (newer schema, not a SQLite file, unknown run)."""


def default_store_path() -> Path:
    """``$ROBUSTCORE_STORE``, or ``results.sqlite`` in the model cache folder."""
    env = os.environ.get("ROBUSTCORE_STORE")
    if env:
        return Path(env).expanduser()
    from robustcore.nets.cache import cache_dir

    return cache_dir() / "results.sqlite"


def _config_key(config: dict) -> str:
    return json.dumps(config, sort_keys=True, default=str)


class ResultsStore:
    """A SQLite results store.

    Parameters
    ----------
    path : the file (created if missing); default :func:`default_store_path`.

    Raises
    ------
    StoreError
        When the file is not a SQLite database or was written by a newer schema; the file is left
        untouched.
    """

    def __init__(self, path: str | Path | None = None):
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path, got {type(path).__name__}.")
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        if self.path.exists() and not self.path.is_file():
            raise StoreError(f"{str(self.path)!r} is not a file; point ROBUSTCORE_STORE or --store at a file.")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the results store {str(self.path)!r} "
                             f"({exc.strerror or exc}); point ROBUSTCORE_STORE or --store elsewhere.") from None
        if not os.access(self.path.parent, os.W_OK) or (self.path.exists() and not os.access(self.path, os.W_OK)):
            raise StoreError(f"the results store {str(self.path)!r} is not writable; point ROBUSTCORE_STORE or "
                             "--store at a file you can write.")
        try:
            con = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            try:
                con.execute("PRAGMA busy_timeout=60000")
                has_meta = con.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'"
                ).fetchone()
                row = None
                if has_meta:
                    row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                # a damaged file must say so once, here, instead of returning garbage rows later
                check = con.execute("PRAGMA quick_check(1)").fetchone()
                if check is None or check[0] != "ok":
                    raise sqlite3.DatabaseError(f"integrity check failed: {check[0] if check else 'no answer'}")
                if row is not None and int(row[0]) > SCHEMA_VERSION:
                    raise StoreError(
                        f"The results store {str(self.path)!r} has schema version {row[0]}, newer than this "
                        f"robustcore ({SCHEMA_VERSION}); upgrade robustcore or point ROBUSTCORE_STORE at another file."
                    )
                con.execute("PRAGMA journal_mode=WAL")
                # executescript runs the CREATE ... IF NOT EXISTS statements in one script.
                con.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
                con.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            why = " ".join(str(exc).split())[:200]
            raise StoreError(
                f"{str(self.path)!r} is damaged or not a robustcore results store ({why}); "
                "point ROBUSTCORE_STORE at another file (this one was not changed)."
            ) from None

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            con = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the results store {str(self.path)!r} ({exc}).") from None
        try:
            con.execute("PRAGMA busy_timeout=60000")
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise
            else:
                con.execute("COMMIT")
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            # a damaged file (e.g. corrupt pages) or a lock held past the timeout: one sentence, file untouched
            why = " ".join(str(exc).split())[:200]
            raise StoreError(f"the results store {str(self.path)!r} cannot be read or written ({why}); "
                             "point ROBUSTCORE_STORE or --store at another file.") from None
        finally:
            con.close()

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): read-check-write sequences inside it are atomic.

        Use it for a check and the insert that depends on it (e.g. the certification memory's conflict check),
        so that two processes cannot both pass the check. Commits on exit, rolls back on an exception.
        """
        return self._connect()

    # ---- runs -------------------------------------------------------------------------------
    def find_run(self, kind: str, config: dict) -> int | None:
        """The newest run with this kind and exactly this config, or None."""
        with self._connect() as con:
            row = con.execute(
                "SELECT id FROM runs WHERE kind=? AND config_key=? ORDER BY id DESC LIMIT 1",
                (kind, _config_key(config)),
            ).fetchone()
        return None if row is None else int(row[0])

    def start_run(self, kind: str, config: dict, resume: bool = True) -> int:
        """Create a run, or with ``resume`` return the existing run of the same kind and config."""
        key = _config_key(config)
        now = time.time()
        with self._connect() as con:
            if resume:
                row = con.execute(
                    "SELECT id FROM runs WHERE kind=? AND config_key=? ORDER BY id DESC LIMIT 1", (kind, key)
                ).fetchone()
                if row is not None:
                    con.execute("UPDATE runs SET status='running', updated=? WHERE id=?", (now, row[0]))
                    return int(row[0])
            cur = con.execute(
                "INSERT INTO runs(kind, config, config_key, status, created, updated) VALUES (?,?,?,?,?,?)",
                (kind, json.dumps(config, default=str), key, "running", now, now),
            )
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, status: str = "done") -> None:
        """Mark a run finished (or any other status, e.g. "failed")."""
        with self._connect() as con:
            con.execute("UPDATE runs SET status=?, updated=? WHERE id=?", (status, time.time(), int(run_id)))

    def run(self, run_id: int) -> dict:
        """One run as a dict (id, kind, config, status, created, updated, n_results)."""
        df = self.runs()
        hit = df[df["id"] == int(run_id)]
        if hit.empty:
            raise StoreError(f"There is no run {run_id} in {str(self.path)!r}.")
        return hit.iloc[0].to_dict()

    def runs(self, kind: str | None = None) -> pd.DataFrame:
        """All runs (optionally of one kind), newest first, with their result counts."""
        q = (
            "SELECT r.id, r.kind, r.config, r.status, r.created, r.updated, "
            "(SELECT COUNT(*) FROM results s WHERE s.run_id = r.id) AS n_results FROM runs r"
        )
        args: tuple = ()
        if kind is not None:
            q += " WHERE r.kind=?"
            args = (kind,)
        q += " ORDER BY r.id DESC"
        with self._connect() as con:
            rows = con.execute(q, args).fetchall()
        df = pd.DataFrame(rows, columns=["id", "kind", "config", "status", "created", "updated", "n_results"])
        df["config"] = [json.loads(c) for c in df["config"]]
        return df

    def delete_run(self, run_id: int) -> None:
        """Remove a run with its results and metrics."""
        with self._connect() as con:
            con.execute("DELETE FROM results WHERE run_id=?", (int(run_id),))
            con.execute("DELETE FROM metrics WHERE run_id=?", (int(run_id),))
            con.execute("DELETE FROM runs WHERE id=?", (int(run_id),))

    # ---- per-image results ------------------------------------------------------------------
    def add_results(self, run_id: int, rows: Iterable[dict]) -> int:
        """Insert (or replace, by index) per-image results in one transaction; returns the count.

        Each row has ``index`` and optionally label, prediction, radius, sigma, correct, time_s and
        ``extra`` (a JSON-serialisable dict for everything else).
        """
        now = time.time()
        data = []
        for i, r in enumerate(rows):
            if not isinstance(r, dict) or "index" not in r:
                raise ValueError(f"result row {i} must be a dict with an 'index'.")
            data.append(
                (
                    _as_int(run_id, "run_id"),
                    _as_int(r["index"], f"row {i}: index", minimum=0),
                    _opt_int(r.get("label"), f"row {i}: label"),
                    _opt_int(r.get("prediction"), f"row {i}: prediction"),
                    _opt_float(r.get("radius"), f"row {i}: radius", minimum=0.0),
                    _opt_float(r.get("sigma"), f"row {i}: sigma", minimum=0.0),
                    None if r.get("correct") is None else int(bool(r["correct"])),
                    _opt_float(r.get("time_s"), f"row {i}: time_s", minimum=0.0),
                    json.dumps(r.get("extra") or {}, default=_json_default, allow_nan=True),
                    now,
                )
            )
        with self._connect() as con:
            if con.execute("SELECT 1 FROM runs WHERE id=?", (int(run_id),)).fetchone() is None:
                raise StoreError(f"There is no run {run_id} in {str(self.path)!r}.")
            con.executemany(
                "INSERT OR REPLACE INTO results(run_id, idx, label, prediction, radius, sigma, correct, time_s, "
                "extra, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                data,
            )
            con.execute("UPDATE runs SET updated=? WHERE id=?", (now, int(run_id)))
        return len(data)

    def add_result(self, run_id: int, **row) -> None:
        """Insert one per-image result (see :meth:`add_results`)."""
        self.add_results(run_id, [row])

    def results(self, run_id: int) -> pd.DataFrame:
        """The per-image results of a run, ordered by index; ``extra`` decoded to dicts."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT idx, label, prediction, radius, sigma, correct, time_s, extra FROM results "
                "WHERE run_id=? ORDER BY idx",
                (int(run_id),),
            ).fetchall()
        df = pd.DataFrame(
            rows, columns=["index", "label", "prediction", "radius", "sigma", "correct", "time_s", "extra"]
        )
        df["extra"] = [json.loads(e) if e else {} for e in df["extra"]]
        df["correct"] = df["correct"].astype("boolean")
        return df

    def done_indices(self, run_id: int) -> set[int]:
        """The image indices that already have a result in this run (for resuming)."""
        with self._connect() as con:
            rows = con.execute("SELECT idx FROM results WHERE run_id=?", (int(run_id),)).fetchall()
        return {int(r[0]) for r in rows}

    # ---- metrics ----------------------------------------------------------------------------
    def add_metric(self, run_id: int, name: str, value: float | None, extra: dict | None = None) -> None:
        """Record a named scalar of a run (e.g. "clean_acc", "pgd_linf_acc" with extra {"eps": 0.1})."""
        with self._connect() as con:
            con.execute(
                "INSERT INTO metrics(run_id, name, value, extra, created) VALUES (?,?,?,?,?)",
                (
                    int(run_id),
                    str(name),
                    None if value is None else float(value),
                    json.dumps(extra or {}, default=_json_default),
                    time.time(),
                ),
            )

    def metrics(self, run_id: int | None = None, kind: str | None = None) -> pd.DataFrame:
        """Metrics of one run, or of every run of a kind, or all; with the run's kind and config."""
        q = (
            "SELECT m.run_id, r.kind, r.config, m.name, m.value, m.extra, m.created FROM metrics m "
            "JOIN runs r ON r.id = m.run_id"
        )
        cond, args = [], []
        if run_id is not None:
            cond.append("m.run_id=?")
            args.append(int(run_id))
        if kind is not None:
            cond.append("r.kind=?")
            args.append(kind)
        if cond:
            q += " WHERE " + " AND ".join(cond)
        q += " ORDER BY m.id"
        with self._connect() as con:
            rows = con.execute(q, tuple(args)).fetchall()
        df = pd.DataFrame(rows, columns=["run_id", "kind", "config", "name", "value", "extra", "created"])
        df["config"] = [json.loads(c) for c in df["config"]]
        df["extra"] = [json.loads(e) if e else {} for e in df["extra"]]
        return df


def _as_int(value, what: str, minimum: int | None = None) -> int:
    """An integer field, refused with one sentence when it is not a whole number (or below ``minimum``)."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be an integer, got {value!r}.")
    try:
        f = float(value)
        out = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be an integer, got {value!r}.") from None
    if f != out or abs(out) > 2**62 or (minimum is not None and out < minimum):
        raise ValueError(f"{what} must be an integer{'' if minimum is None else f' >= {minimum}'}, got {value!r}.")
    return out


def _opt_int(value, what: str) -> int | None:
    return None if value is None else _as_int(value, what)


def _opt_float(value, what: str, minimum: float | None = None) -> float | None:
    """A real field (None allowed); NaN, infinities and values below ``minimum`` are refused with one sentence."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {value!r}.")
    try:
        out = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be a number, got {value!r}.") from None
    if out != out or out in (float("inf"), float("-inf")) or (minimum is not None and out < minimum):
        raise ValueError(f"{what} must be a finite number{'' if minimum is None else f' >= {minimum:g}'}, "
                         f"got {value!r}.")
    return out


def _json_default(obj):
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)
