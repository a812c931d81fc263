"""Published certification logs (Cohen et al.'s TSV) stored as certification runs.

Cohen, Rosenfeld & Kolter's ``certify.py`` writes one line per test image::

    idx	label	predict	radius	correct	time
    0	3	3	0.571	1	0:00:02.123456
    20	8	-1	0.0	0	0:00:02.098765

(``predict`` -1 = abstain, ``radius`` 0 then; ``correct`` = ``predict == label``; ``time`` a
``datetime.timedelta`` string). SmoothAdv, MACER and data-dependent smoothing (DDRS) publish the
same format. :func:`import_cohen_log` stores such a file as a run of kind
:data:`robustcore.smoothing.RUN_KIND`, with ``config["source"] == "imported"``, so ``robustcore
report``, its ``--csv`` and the certificates page show it beside runs certified here. No images
are needed. Certified accuracy at radius r is ``mean(correct & radius >= r)`` over all rows and
ACR ``mean(radius * correct)``, exactly as computed from the file (Cohen's ``analyze.py``).

What an imported run is not: we did not sample it, so its soundness is the publisher's (their
alpha, their n); the report's high-probability bound is shown only when ``alpha`` is given.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["COHEN_COLUMNS", "MAX_LOG_BYTES", "MAX_LOG_ROWS", "read_cohen_log", "import_cohen_log"]

#: Required columns of Cohen's log (``time`` is optional; further columns are ignored).
COHEN_COLUMNS = ("idx", "label", "predict", "radius", "correct")
#: Largest log file accepted (checked before reading): ImageNet's 50,000 rows take ~2 MB.
MAX_LOG_BYTES = 200 * 1024 * 1024
#: Largest number of rows accepted.
MAX_LOG_ROWS = 2_000_000

_INT = re.compile(r"^[+-]?\d+$")
_TIME = re.compile(r"^(?:(\d+) days?, )?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def _parse_time(text: str) -> float | None:
    """Seconds from ``timedelta`` text ("0:00:01.5", "1 day, 0:00:01") or a plain number; None otherwise."""
    m = _TIME.match(text)
    if m:
        days, h, mi, sec = m.groups()
        return (int(days or 0) * 24 + int(h)) * 3600 + int(mi) * 60 + float(sec)
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) and v >= 0 else None


def _read_bytes(source: str | os.PathLike | bytes) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), "the uploaded log"
    else:
        if not isinstance(source, (str, os.PathLike)) or not str(source).strip():
            raise ValueError(f"path must be a file path or the file's bytes, got {type(source).__name__}.")
        path = Path(source)
        name = repr(str(path))
        if not path.is_file():
            raise ValueError(f"There is no log file at {name}.")
        size = path.stat().st_size
        if size > MAX_LOG_BYTES:
            raise ValueError(f"The log {name} has {size:,} bytes, over the cap of {MAX_LOG_BYTES:,}.")
        with open(path, "rb") as f:
            data = f.read(MAX_LOG_BYTES + 1)
    if len(data) > MAX_LOG_BYTES:
        raise ValueError(f"The log {name} has over {MAX_LOG_BYTES:,} bytes, the cap.")
    return data, name


def read_cohen_log(source: str | os.PathLike | bytes) -> pd.DataFrame:
    """Read and check a certification log in Cohen et al.'s TSV format.

    Parameters
    ----------
    source : path or bytes
        The file (tab-separated; whitespace-separated is accepted too), with a header line naming
        at least ``idx label predict radius correct`` (``time`` optional).

    Returns
    -------
    DataFrame with columns ``idx`` (int64), ``label`` (int64), ``predict`` (int64, -1 =
    abstain), ``radius`` (float64, >= 0, finite), ``correct`` (bool) and ``time_s`` (float64,
    NaN where the file has no readable time), one row per line, in file order; plus ``sigma``
    (float64, > 0) when the file has a per-input ``sigma`` column (data-dependent smoothing).

    Raises
    ------
    ValueError
        One sentence naming the line and the column: empty file, binary content, missing
        columns, a wrong number of fields, non-numeric or non-finite values, negative radius,
        ``correct`` not 0/1 or inconsistent with ``predict == label``, an abstention with a
        positive radius, repeated ``idx``, over :data:`MAX_LOG_ROWS` rows or
        :data:`MAX_LOG_BYTES` bytes.
    """
    data, name = _read_bytes(source)
    if b"\x00" in data:
        raise ValueError(f"{name} is not a text file (it contains NUL bytes).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{name} is not UTF-8 text; expected Cohen's TSV log.") from None
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if ln.strip()]
    if not lines:
        raise ValueError(f"{name} is empty; expected a header line 'idx label predict radius correct time'.")
    if len(lines) - 1 > MAX_LOG_ROWS:
        raise ValueError(f"{name} has {len(lines) - 1:,} rows, over the cap of {MAX_LOG_ROWS:,}.")
    head_no, head = lines[0]
    tab = "\t" in head

    def split(line: str) -> list[str]:
        return [f.strip() for f in line.split("\t")] if tab else line.split()

    header = split(head)
    missing = [c for c in COHEN_COLUMNS if c not in header]
    if missing:
        raise ValueError(
            f"{name} is not a Cohen log: its header lacks {', '.join(missing)} "
            f"(expected 'idx label predict radius correct time', got {head[:80]!r})."
        )
    if len(set(header)) != len(header):
        raise ValueError(f"{name} has a repeated column name in its header.")
    col = {c: header.index(c) for c in header}
    rows = lines[1:]
    if not rows:
        raise ValueError(f"{name} has a header but no rows.")
    m = len(rows)
    idx = np.empty(m, dtype=np.int64)
    label = np.empty(m, dtype=np.int64)
    pred = np.empty(m, dtype=np.int64)
    radius = np.empty(m, dtype=np.float64)
    correct = np.empty(m, dtype=bool)
    time_s = np.full(m, np.nan)
    sigma_col = np.full(m, np.nan)
    big = 2**62

    def as_int(text: str, what: str, line_no: int) -> int:
        if not _INT.match(text) or abs(int(text)) > big:
            raise ValueError(f"Line {line_no} of {name}: {what} {text[:40]!r} is not an integer.")
        return int(text)

    for j, (line_no, line) in enumerate(rows):
        fields = split(line)
        if len(fields) != len(header):
            raise ValueError(f"Line {line_no} of {name} has {len(fields)} fields, the header {len(header)}.")
        i = as_int(fields[col["idx"]], "idx", line_no)
        lab = as_int(fields[col["label"]], "label", line_no)
        p = as_int(fields[col["predict"]], "predict", line_no)
        if i < 0 or lab < 0 or p < -1:
            raise ValueError(f"Line {line_no} of {name}: idx and label must be >= 0 and predict >= -1.")
        try:
            r = float(fields[col["radius"]])
        except ValueError:
            raise ValueError(f"Line {line_no} of {name}: radius {fields[col['radius']][:40]!r} is not a number.") from None
        if not math.isfinite(r) or r < 0:
            raise ValueError(f"Line {line_no} of {name}: radius must be a finite number >= 0, got {r!r}.")
        c_text = fields[col["correct"]]
        c = {"0": False, "1": True, "False": False, "True": True}.get(c_text)
        if c is None:
            raise ValueError(f"Line {line_no} of {name}: correct must be 0 or 1, got {c_text[:40]!r}.")
        if p == -1 and (c or r > 0):
            raise ValueError(f"Line {line_no} of {name}: an abstention (predict -1) must have radius 0 and correct 0.")
        if c != (p == lab):
            raise ValueError(f"Line {line_no} of {name}: correct is {int(c)} but predict {p} and label {lab} "
                             f"{'differ' if c else 'agree'}.")
        idx[j], label[j], pred[j], radius[j], correct[j] = i, lab, p, r, c
        if "sigma" in col:  # data-dependent smoothing logs carry each input's own sigma
            try:
                sg = float(fields[col["sigma"]])
            except ValueError:
                sg = float("nan")
            if not (math.isfinite(sg) and sg > 0):
                raise ValueError(f"Line {line_no} of {name}: sigma must be a positive finite number, "
                                 f"got {fields[col['sigma']][:40]!r}.")
            sigma_col[j] = sg
        if "time" in col:
            t = _parse_time(fields[col["time"]])
            if t is not None:
                time_s[j] = t
    uniq, counts = np.unique(idx, return_counts=True)
    if len(uniq) != m:
        raise ValueError(f"{name} lists idx {int(uniq[counts > 1][0])} more than once.")
    out = pd.DataFrame(
        {"idx": idx, "label": label, "predict": pred, "radius": radius, "correct": correct, "time_s": time_s}
    )
    if "sigma" in col:
        out["sigma"] = sigma_col
    return out


def import_cohen_log(
    path: str | os.PathLike | bytes,
    sigma: float,
    name: str | None = None,
    store=None,
    alpha: float | None = None,
    dataset: str | None = None,
) -> int:
    """Store a Cohen-format certification log as a certification run; returns its run id.

    Parameters
    ----------
    path : path or bytes
        The log file (or an upload's bytes); see :func:`read_cohen_log`.
    sigma : float
        Noise level the log was certified at (> 0, finite); recorded with every row, unless the
        file has a per-input ``sigma`` column (data-dependent smoothing), whose values are kept
        instead (``config["per_input_sigma"]``; ``sigma`` is then the nominal sigma0).
    name : str, optional
        Display name (default: the file name; "uploaded log" for bytes).
    store : ResultsStore, optional
        Defaults to ``ResultsStore()``.
    alpha : float, optional
        The publisher's failure probability when known (Cohen's default is 0.001); None keeps it
        unknown, and reports then show no high-probability bound.
    dataset : str, optional
        The test set the log certified (e.g. "cifar10", "imagenet"; at most 40 characters), so
        the certificates page shows it with that dataset; None: shown with every dataset.

    Returns
    -------
    int
        The run id. The run has kind :data:`robustcore.smoothing.RUN_KIND`, status "done" and
        config {source: "imported", format: "cohen", name, model (= name), file, sha256, sigma,
        alpha, n_images, and dataset when given}. Importing the same bytes with the same name, sigma and alpha again
        returns the same run without writing anything.
    """
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)):
        raise ValueError(f"sigma must be a number, got {sigma!r}.")
    if not (math.isfinite(float(sigma)) and sigma > 0):
        raise ValueError(f"sigma must be a positive finite number, got {sigma!r}.")
    if alpha is not None and (
        isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) or not 0 < alpha < 1
    ):
        raise ValueError(f"alpha must lie strictly between 0 and 1 (or be None), got {alpha!r}.")
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 200):
        raise ValueError("name must be a string of 1 to 200 characters.")
    if dataset is not None and (not isinstance(dataset, str) or not dataset.strip() or len(dataset) > 40):
        raise ValueError("dataset must be a name of 1 to 40 characters (or None).")
    data, _ = _read_bytes(path)
    table = read_cohen_log(data if isinstance(path, (bytes, bytearray)) else path)
    file_name = "uploaded log" if isinstance(path, (bytes, bytearray)) else os.path.basename(str(path))
    from .runner import RUN_KIND

    if store is None:
        from robustcore.store import ResultsStore

        store = ResultsStore()
    label = (name or file_name).strip()
    config = {
        "source": "imported",
        "format": "cohen",
        "name": label,
        "model": label,
        "file": file_name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "sigma": float(sigma),
        "alpha": None if alpha is None else float(alpha),
        "n_images": int(len(table)),
    }
    if dataset is not None:
        config["dataset"] = dataset.strip()
    if "sigma" in table:
        config["per_input_sigma"] = True  # each row keeps the file's own sigma; ``sigma`` is the nominal one
    existing = store.find_run(RUN_KIND, config)
    if existing is not None and int(store.run(existing)["n_results"]) == len(table):
        return existing
    run_id = store.start_run(RUN_KIND, config, resume=True)
    rows = [
        {
            "index": int(r.idx),
            "label": int(r.label),
            "prediction": int(r.predict),
            "radius": float(r.radius),
            "sigma": float(getattr(r, "sigma", sigma)),
            "correct": bool(r.correct),
            "time_s": None if math.isnan(r.time_s) else float(r.time_s),
            "extra": {"source": "imported"},
        }
        for r in table.itertuples(index=False)
    ]
    try:
        store.add_results(run_id, rows)  # one transaction: all rows or none
    except BaseException:
        store.delete_run(run_id)
        raise
    store.finish_run(run_id, "done")
    return run_id

