"""Figure styling and export shared by every page: the "paper style" switch and a figure's data as a table.

Pure functions over plotly figures, so they are tested without a browser.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# Okabe-Ito: distinguishable in print, in greyscale order and for the common colour-vision deficiencies.
PRINT_COLORS = ["#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]

# Trace attributes that hold per-point data worth exporting, in the order they become CSV columns.
_DATA_KEYS = ("x", "y", "z", "r", "theta", "text", "customdata")


@functools.lru_cache(maxsize=1)
def _paper_template() -> go.layout.Template:
    """plotly's ``simple_white`` with visible shape defaults (built once: ``update_layout`` copies it).

    ``simple_white`` gives shapes a line width of 0 and a 30 % opacity, so a reference line drawn without an
    explicit width (``add_vline(x=tau_star)``) vanishes in print and a band turns into a grey box; here a shape
    without its own style keeps a 2 px dark line at full opacity and a light fill.
    """
    import plotly.io as pio

    t = go.layout.Template(pio.templates["simple_white"])
    t.layout.shapedefaults = dict(line=dict(width=2, color="#333333"), fillcolor="rgba(0, 0, 0, 0.12)", opacity=1)
    return t


def apply_paper_style(fig: go.Figure, font_size: int = 16) -> go.Figure:
    """Return a copy of ``fig`` restyled for print: white background, larger fonts, print colours.

    Parameters
    ----------
    fig : plotly Figure
        Any figure built by ``robustcore.viz``; it is not modified.
    font_size : int
        Base font size in points for titles, ticks and legends.

    Returns
    -------
    plotly Figure
        A copy with the ``simple_white`` template (with visible shape defaults), the Okabe-Ito colourway
        applied to every trace that has no explicit colour, and axis lines and ticks in black.
    """
    out = go.Figure(fig)
    out.update_layout(template=_paper_template(), font=dict(size=font_size, color="black"),
                      paper_bgcolor="white", plot_bgcolor="white", colorway=PRINT_COLORS)
    out.update_xaxes(showline=True, linecolor="black", ticks="outside", tickcolor="black", mirror=False)
    out.update_yaxes(showline=True, linecolor="black", ticks="outside", tickcolor="black", mirror=False)
    return out


def _as_list(v: Any) -> list | None:
    if v is None:
        return None
    arr = np.asarray(v, dtype=object)
    if arr.ndim == 0:
        return None
    return list(arr.reshape(-1)) if arr.ndim <= 1 else [list(row) for row in arr]


def figure_data_frame(fig: go.Figure) -> pd.DataFrame:
    """The data behind a figure as one long table: a row per plotted point, a column per coordinate.

    Parameters
    ----------
    fig : plotly Figure

    Returns
    -------
    DataFrame
        Columns ``trace`` (the trace's name or its index), ``kind`` (the plotly trace type), ``point`` (index
        within the trace) and whichever of x, y, z, r, theta, text, customdata the traces carry. Heatmaps and
        images export one row per cell (``row``, ``col``, ``z``). Gaps (``None`` points between segments) stay
        as empty cells, so the file reproduces the figure exactly.
    """
    frames = []
    for t_idx, tr in enumerate(fig.data):
        name = getattr(tr, "name", None) or f"trace {t_idx}"
        kind = tr.type
        z = getattr(tr, "z", None)
        if kind in ("heatmap", "contour", "image", "surface") and z is not None:
            zz = np.asarray(z, dtype=float)
            if zz.ndim == 3:  # colour image: keep the channel mean, the CSV is for numbers not pixels
                zz = zz.mean(axis=2)
            rows, cols = np.indices(zz.shape)
            frames.append(pd.DataFrame({"trace": name, "kind": kind, "point": np.arange(zz.size),
                                        "row": rows.ravel(), "col": cols.ravel(), "z": zz.ravel()}))
            continue
        cols: dict[str, list] = {}
        for key in _DATA_KEYS:
            vals = _as_list(getattr(tr, key, None)) if hasattr(tr, key) else None
            if vals is not None and len(vals) and not isinstance(vals[0], list):
                cols[key] = vals
        if not cols:
            continue
        n = max(len(v) for v in cols.values())
        data = {"trace": [name] * n, "kind": [kind] * n, "point": list(range(n))}
        for key, vals in cols.items():
            data[key] = list(vals) + [None] * (n - len(vals))
        frames.append(pd.DataFrame(data))
    if not frames:
        return pd.DataFrame(columns=["trace", "kind", "point"])
    return pd.concat(frames, ignore_index=True)


def decade_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten covering ``[lo, hi]`` (both > 0): the only ticks a log axis should carry."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0 or hi <= 0:
        raise ValueError("decade_ticks needs finite positive limits.")
    lo, hi = min(lo, hi), max(lo, hi)
    return [10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
