"""Shared plumbing for ``robustcore reproduce LINE``: each paper's headline comparison, over several seeds.

Each research line provides ``robustcore.<line>.reproduce.reproduce(*, seeds, device, quick, progress)`` that
returns a :class:`ReproduceResult`. This module turns per-seed records into a mean / spread table, prints it,
and saves it beside the package (``robustcore/results/<line>.csv`` and ``.md``) so the page of that line and
the README show exactly what the command printed.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["LINES", "ReproduceResult", "summarise", "results_dir", "save_result", "load_result", "format_table"]

# line name on the command line -> the module holding its ``reproduce`` function
LINES = {"tropical": "robustcore.tropical.reproduce", "gabor": "robustcore.gabor.reproduce",
         "smoothing": "robustcore.smoothing.reproduce", "clustr": "robustcore.clustr.reproduce",
         "batchsize": "robustcore.batchsize.reproduce"}


@dataclass
class ReproduceResult:
    """One line's headline comparison.

    Attributes
    ----------
    line : str
        Key of ``LINES``.
    records : DataFrame
        One row per (seed, method, setting) with the raw metrics.
    table : DataFrame
        ``summarise(records, ...)``: mean, std and count over seeds per (method, setting).
    protocol : str
        Markdown: the paper's protocol, ours, and every deviation between them.
    command : str
        The command line that printed this result.
    seconds : float
        Wall time of the whole run.
    meta : dict
        Anything else worth recording (device, dataset, torch version ...).
    """

    line: str
    records: pd.DataFrame
    table: pd.DataFrame
    protocol: str
    command: str
    seconds: float
    meta: dict = field(default_factory=dict)


def summarise(records: pd.DataFrame, by: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """Mean, sample standard deviation and number of seeds of each metric per group.

    Parameters
    ----------
    records : DataFrame
        Raw rows, one per seed and group, holding the ``by`` columns and the ``metrics`` columns.
    by : list of str
        Grouping columns (method, setting ...), kept in their order of first appearance.
    metrics : list of str
        Numeric columns to summarise.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``<metric> mean``, ``<metric> std`` per metric, and ``seeds``.
    """
    if records.empty:
        raise ValueError("no records to summarise.")
    g = records.groupby(list(by), sort=False)
    out = g[list(metrics)].agg(["mean", "std"])
    out.columns = [f"{m} {stat}" for m, stat in out.columns]
    out["seeds"] = g.size()
    return out.reset_index()


def format_table(table: pd.DataFrame, digits: int = 3) -> str:
    """A markdown table with ``mean ± std`` cells (what the CLI prints and the README shows)."""
    cols = list(table.columns)
    metrics = [c[:-5] for c in cols if c.endswith(" mean")]
    keys = [c for c in cols if not (c.endswith(" mean") or c.endswith(" std")) and c != "seeds"]
    head = keys + metrics + (["seeds"] if "seeds" in cols else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, row in table.iterrows():
        cells = [str(row[k]) for k in keys]
        for m in metrics:
            mu, sd = row[f"{m} mean"], row.get(f"{m} std", float("nan"))
            cells.append(f"{mu:.{digits}f}" + ("" if sd is None or (isinstance(sd, float) and math.isnan(sd))
                                                else f" ± {sd:.{digits}f}"))
        if "seeds" in cols:
            cells.append(str(int(row["seeds"])))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def results_dir() -> Path:
    """Folder of the saved tables that ship with the package (``robustcore/results``)."""
    return Path(__file__).resolve().parent / "results"


def save_result(result: ReproduceResult, folder: Path | None = None) -> Path:
    """Write ``<line>.csv`` (the summary), ``<line>-records.csv`` and ``<line>.md`` (table + protocol)."""
    folder = Path(folder) if folder is not None else results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(folder / f"{result.line}.csv", index=False)
    result.records.to_csv(folder / f"{result.line}-records.csv", index=False)
    meta = ", ".join(f"{k} {v}" for k, v in result.meta.items())
    md = (f"{format_table(result.table)}\n\nPrinted by `{result.command}` in {result.seconds / 60:.1f} min"
          f"{' (' + meta + ')' if meta else ''}.\n\n{result.protocol.strip()}\n")
    (folder / f"{result.line}.md").write_text(md)
    return folder / f"{result.line}.md"


def load_result(line: str, folder: Path | None = None) -> tuple[pd.DataFrame, str] | None:
    """The saved ``(table, markdown)`` of a line, or None when it has not been run and saved yet."""
    folder = Path(folder) if folder is not None else results_dir()
    csv, md = folder / f"{line}.csv", folder / f"{line}.md"
    if not (csv.exists() and md.exists()):
        return None
    return pd.read_csv(csv), md.read_text()


ProgressFn = Callable[[float, str], None]
