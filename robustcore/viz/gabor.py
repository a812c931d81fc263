"""Plotly figures of the Gabor page (pure functions: arrays in, figures out)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import decade_ticks

__all__ = [
    "frequency_response",
    "bank_gallery",
    "kernel_and_spectrum",
    "bound_vs_exact_bars",
    "bound_curve",
    "image_responses",
    "robustness_curves",
    "regularizer_path_figure",
    "reproduction_figure",
]

_KERNEL_SCALE = "RdBu_r"
_SPECTRUM_SCALE = "Viridis"
VARIANT_COLORS = {"standard": "#636EFA", "gabor": "#EF553B", "gabor-reg": "#00CC96"}


def frequency_response(kernel: np.ndarray, n_fft: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """|DFT| of a (k, k) kernel on an n_fft x n_fft grid, zero frequency centred.

    Returns (magnitude (n_fft, n_fft), frequencies (n_fft,) in cycles per pixel).
    """
    k = np.asarray(kernel, dtype=np.float64).squeeze()
    n = max(int(n_fft), *k.shape)
    mag = np.abs(np.fft.fftshift(np.fft.fft2(k, s=(n, n))))
    return mag, np.fft.fftshift(np.fft.fftfreq(n))


def _zsym(a: np.ndarray) -> float:
    m = float(np.abs(a).max())
    return m if m > 0 else 1.0


def _mosaic(tiles: Sequence[np.ndarray], cols: int, gap: int = 1,
            label_band: int = 0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Tile equally sized 2-D arrays into one array with NaN gaps; returns it and each tile's label point.

    With ``label_band`` > 0 every tile row is preceded by that many empty (NaN) rows, and a tile's
    label point is the centre of the band above it, so labels sit between rows instead of on tiles
    (and the first row's labels stay inside the plot, clear of the panel title).
    """
    h, w = tiles[0].shape
    rows = int(np.ceil(len(tiles) / cols))
    row_h = h + gap + label_band
    out = np.full((rows * row_h - gap, cols * (w + gap) - gap), np.nan)
    centres = []
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        top = r * row_h + label_band
        out[top: top + h, c * (w + gap): c * (w + gap) + w] = t
        centres.append((c * (w + gap) + (w - 1) / 2, top - (label_band + 1) / 2 if label_band else top - 0.5))
    return out, centres


def _label_band(tile_h: int) -> int:
    """Rows of the band that holds a tile's label: about a third of a tile, at least 2."""
    return max(2, int(np.ceil(tile_h / 3)))


def _log_axis(fig: go.Figure, values, axis: str = "yaxis") -> None:
    """A log axis with decade ticks only (1, 10, 100 ...), ranging over whole decades around ``values``."""
    v = np.asarray([x for x in np.ravel(np.asarray(values, dtype=float)) if np.isfinite(x) and x > 0])
    if v.size == 0:
        return
    ticks = decade_ticks(float(v.min()), float(v.max()))
    if len(ticks) < 2:
        ticks = [ticks[0], ticks[0] * 10]
    text = [f"{t:g}" if 1e-3 <= t <= 1e4 else f"1e{int(round(np.log10(t)))}" for t in ticks]
    fig.layout[axis].update(type="log", tickvals=ticks, ticktext=text,
                            range=[np.log10(ticks[0]), np.log10(ticks[-1])])


def bank_gallery(bank: np.ndarray, titles: Sequence[str] | None = None, n_fft: int = 32, cols: int = 8) -> go.Figure:
    """Gallery of a bank: the kernels (top panel) and their frequency responses |K^| (bottom panel).

    bank: (F, 1, k, k) or (F, k, k). Kernels share one symmetric colour scale, spectra one scale
    (zero frequency at each tile's centre). Each panel is a single heatmap mosaic, so it draws fast.
    """
    b = np.asarray(bank, dtype=np.float64)
    b = b[:, 0] if b.ndim == 4 else b
    F_ = b.shape[0]
    cols = max(1, min(cols, F_))
    titles = list(titles) if titles is not None else [f"#{i}" for i in range(F_)]
    k = b.shape[-1]
    kz, kc = _mosaic(list(b), cols, label_band=_label_band(k))
    specs = [frequency_response(t, n_fft)[0] for t in b]
    ns = specs[0].shape[0]
    sz, _ = _mosaic(specs, cols, gap=max(1, ns // 16))
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.1,
                        subplot_titles=(f"spatial kernels g ({k}x{k}), labelled",
                                        f"their frequency responses |K^(omega)|, same order ({ns}x{ns}, centred)"))
    zk = _zsym(b)
    fig.add_trace(go.Heatmap(z=kz, zmin=-zk, zmax=zk, colorscale=_KERNEL_SCALE,
                             colorbar=dict(title="g", len=0.42, y=0.79, thickness=12),
                             hoverongaps=False, hovertemplate="g=%{z:.3f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=sz, zmin=0, colorscale=_SPECTRUM_SCALE,
                             colorbar=dict(title="|K^|", len=0.42, y=0.21, thickness=12),
                             hoverongaps=False, hovertemplate="|K^|=%{z:.3f}<extra></extra>"), 2, 1)
    # One layout update for all labels: add_annotation per label is slow in plotly. Labels sit in the
    # empty band above each tile row (see _mosaic), so they never cover a tile or the panel title.
    fig.update_layout(annotations=list(fig.layout.annotations) + [
        dict(x=x, y=y, text=t, showarrow=False, font=dict(size=10), xref="x", yref="y")
        for (x, y), t in zip(kc, titles)])
    for ax in ("yaxis", "yaxis2"):
        fig.layout[ax].update(autorange="reversed", scaleanchor=ax.replace("yaxis", "x"), showticklabels=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showgrid=False, zeroline=False)
    # Height from the two mosaics' aspect ratios at a typical page width (~640 px of plot).
    aspect = kz.shape[0] / kz.shape[1] + sz.shape[0] / sz.shape[1]
    fig.update_layout(height=int(min(1100, max(320, 150 + 640 * aspect))), margin=dict(l=10, r=10, t=50, b=10),
                      plot_bgcolor="white")
    return fig


def kernel_and_spectrum(kernel: np.ndarray, n_fft: int = 32, title: str = "") -> go.Figure:
    """One kernel beside |K^(omega)| on an n_fft grid (axes in cycles per pixel); its max is the exact norm."""
    k = np.asarray(kernel, dtype=np.float64).squeeze()
    if k.ndim != 2:
        raise ValueError(f"expected one (k, k) kernel, got shape {np.shape(kernel)}.")
    mag, f = frequency_response(k, n_fft)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14,
                        subplot_titles=("kernel g (rows: y down)", f"|K^(u, v)| on {len(f)}x{len(f)}, max = exact norm"))
    zk = _zsym(k)
    # No colour bar for the kernel (hover shows values): two bars crowd the spectrum's axis.
    fig.add_trace(go.Heatmap(z=k, zmin=-zk, zmax=zk, colorscale=_KERNEL_SCALE, showscale=False,
                             hovertemplate="g=%{z:.3f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=mag, x=f, y=f, colorscale=_SPECTRUM_SCALE, colorbar=dict(title="|K^|")), 1, 2)
    i, j = np.unravel_index(np.argmax(mag), mag.shape)
    fig.add_trace(go.Scatter(x=[f[j]], y=[f[i]], mode="markers", marker=dict(symbol="x", size=12, color="red"),
                             name="max |K^|", showlegend=False), 1, 2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_xaxes(title="u (cycles / pixel)", tickvals=[-0.5, -0.25, 0, 0.25, 0.5], row=1, col=2)
    # v grows downwards like the kernel's rows, so a stripe's normal and its spectral peak point the same way.
    fig.update_yaxes(title="v (cycles / pixel, down)", autorange="reversed", tickvals=[-0.5, -0.25, 0, 0.25, 0.5],
                     row=1, col=2)
    fig.update_xaxes(showticklabels=False, row=1, col=1)
    fig.update_yaxes(showticklabels=False, row=1, col=1)
    fig.update_layout(height=380, title=title or None, margin=dict(l=10, r=10, t=60 if title else 40, b=10))
    return fig


def bound_vs_exact_bars(bound: np.ndarray, exact: np.ndarray, labels: Sequence[str] | None = None,
                        l1: np.ndarray | None = None) -> go.Figure:
    """Per-kernel closed-form bound beside the exact spectral norm (and the l1 norm), log scale."""
    x = list(labels) if labels is not None else [f"#{i}" for i in range(len(bound))]
    fig = go.Figure()
    fig.add_bar(x=x, y=exact, name="exact ||K||_2 (FFT)")
    if l1 is not None:
        fig.add_bar(x=x, y=l1, name="sum |g| (l1)")
    fig.add_bar(x=x, y=bound, name="closed-form bound")
    fig.update_layout(barmode="group", yaxis_title="Lipschitz constant (l2, log)", height=380,
                      xaxis=dict(type="category", tickangle=0 if len(x) <= 16 else -45),
                      margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
    _log_axis(fig, np.concatenate([np.ravel(bound), np.ravel(exact)] + ([np.ravel(l1)] if l1 is not None else [])))
    return fig


def bound_curve(values: np.ndarray, bound: np.ndarray, exact: np.ndarray, xlabel: str,
                l1: np.ndarray | None = None, current: float | None = None) -> go.Figure:
    """Closed-form bound and exact constant (and l1) of one kernel against a parameter, log y."""
    fig = go.Figure()
    fig.add_scatter(x=values, y=bound, name="closed-form bound", mode="lines")
    if l1 is not None:
        fig.add_scatter(x=values, y=l1, name="sum |g| (l1)", mode="lines", line=dict(dash="dot"))
    fig.add_scatter(x=values, y=exact, name="exact (FFT)", mode="lines")
    if current is not None:
        fig.add_vline(x=current, line_dash="dash", line_color="gray")
    # Legend below the axes: above them it hides the bound's line in a narrow column.
    fig.update_layout(xaxis_title=xlabel, yaxis_title="Lipschitz constant (log)", height=400,
                      margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0))
    _log_axis(fig, np.concatenate([np.ravel(bound), np.ravel(exact)] + ([np.ravel(l1)] if l1 is not None else [])))
    return fig


def image_responses(image: np.ndarray, responses: np.ndarray, titles: Sequence[str] | None = None,
                    cols: int = 4) -> go.Figure:
    """The gray input image beside a mosaic of the bank's responses (F, H, W).

    Each response is divided by its own max |value| (so every orientation is visible; colour is the
    response relative to its peak).
    """
    r = np.asarray(responses, dtype=np.float64)
    img = np.asarray(image, dtype=np.float64)
    scaled = [t / _zsym(t) for t in r]
    band = max(6, r.shape[1] // 8)
    mz, mc = _mosaic(scaled, cols, gap=2, label_band=band)
    titles = list(titles) if titles is not None else [f"#{i}" for i in range(r.shape[0])]
    fig = make_subplots(rows=1, cols=2, column_widths=[1, cols], horizontal_spacing=0.02,
                        subplot_titles=("input (gray)", "responses / their max |value|"))
    fig.add_trace(go.Heatmap(z=img, colorscale="gray", showscale=False, hovertemplate="%{z:.2f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=mz, zmin=-1, zmax=1, colorscale=_KERNEL_SCALE, hoverongaps=False,
                             colorbar=dict(title="rel."), hovertemplate="%{z:.2f}<extra></extra>"), 1, 2)
    fig.update_layout(annotations=list(fig.layout.annotations) + [
        dict(x=x, y=y, text=t, showarrow=False, font=dict(size=10), xref="x2", yref="y2")
        for (x, y), t in zip(mc, titles)])
    fig.layout.yaxis.update(autorange="reversed", scaleanchor="x")
    fig.layout.yaxis2.update(autorange="reversed", scaleanchor="x2")
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    # Height from the mosaic's aspect ratio at a typical page width (~520 px for the mosaic panel).
    fig.update_layout(height=int(min(1000, 90 + 520 * cols / (cols + 1) * mz.shape[0] / mz.shape[1])),
                      margin=dict(l=10, r=10, t=50, b=10), plot_bgcolor="white")
    return fig


def robustness_curves(long: pd.DataFrame) -> go.Figure:
    """PGD accuracy against eps for each variant, l-inf and l2 side by side (eps = 0: clean accuracy)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("PGD l-inf", "PGD l2"))
    for variant, df in long.groupby("variant", sort=False):
        clean = float(df.loc[df["norm"] == "clean", "accuracy"].iloc[0])
        for c, norm in enumerate(("linf", "l2"), start=1):
            d = df[df["norm"] == norm].sort_values("eps")
            fig.add_scatter(x=[0.0] + list(d["eps"]), y=[clean] + list(d["accuracy"]), mode="lines+markers",
                            name=variant, legendgroup=variant, showlegend=c == 1,
                            line=dict(color=VARIANT_COLORS.get(variant)), row=1, col=c)
            fig.update_xaxes(title=f"eps ({'l-inf' if norm == 'linf' else 'l2'})", row=1, col=c)
    fig.update_yaxes(title="accuracy under PGD", range=[0, 1.02], tickvals=[0, 0.25, 0.5, 0.75, 1], row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], tickvals=[0, 0.25, 0.5, 0.75, 1], row=1, col=2)
    fig.update_layout(height=400, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
    return fig


def regularizer_path_figure(path: dict) -> go.Figure:
    """Bound and exact constant of the bank (and of the layer) along descent on the regulariser, log y."""
    fig = go.Figure()
    x = path["step"]
    fig.add_scatter(x=x, y=path["layer_bound"], name="layer: closed-form bound", mode="lines")
    fig.add_scatter(x=x, y=path["layer_exact_product"], name="layer: ||W|| x exact bank norm", mode="lines")
    fig.add_scatter(x=x, y=path["bank_bound"], name="bank: sqrt(sum L_f^2)", mode="lines", line=dict(dash="dot"))
    fig.add_scatter(x=x, y=path["bank_exact"], name="bank: exact norm", mode="lines", line=dict(dash="dot"))
    fig.update_layout(xaxis_title="Adam step on the regulariser alone", yaxis_title="Lipschitz constant (log)",
                      height=420, margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0))
    _log_axis(fig, np.concatenate([np.ravel(path[k]) for k in ("layer_bound", "layer_exact_product", "bank_bound",
                                                                "bank_exact")]))
    return fig


def reproduction_figure(table: pd.DataFrame) -> go.Figure:
    """Mean accuracy (error bars: one sample std over seeds) per method and setting, from the saved
    reproduction table (columns method, setting, ``accuracy mean``, ``accuracy std``)."""
    fig = go.Figure()
    colors = {"standard LeNet": VARIANT_COLORS["standard"], "Gabor LeNet": VARIANT_COLORS["gabor"],
              "Gabor LeNet + reg.": VARIANT_COLORS["gabor-reg"]}
    for method, d in table.groupby("method", sort=False):
        fig.add_bar(x=list(d["setting"]), y=list(d["accuracy mean"]), name=str(method),
                    error_y=dict(type="data", array=list(d["accuracy std"].fillna(0.0))),
                    marker_color=colors.get(method),
                    # the value on every bar: a bar at 0 has no height, its label says it is there
                    text=[f"{v:.2f}" for v in d["accuracy mean"]], textposition="outside", cliponaxis=False)
    fig.update_layout(barmode="group", xaxis=dict(type="category", title="setting"),
                      yaxis=dict(title="accuracy (mean ± std over seeds)", range=[0, 1.12],
                                 tickvals=[0, 0.25, 0.5, 0.75, 1]),
                      height=400, margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0))
    return fig
