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
    "bound_curves",
    "image_responses",
    "block_factor",
    "robustness_curves",
    "regularizer_path_figure",
    "reproduction_figure",
]

_KERNEL_SCALE = "RdBu_r"
_SPECTRUM_SCALE = "Viridis"
# one colour per quantity in every Lipschitz chart (Okabe-Ito: vermillion, blue, bluish green)
_C_BOUND, _C_EXACT, _C_L1 = "#D55E00", "#0072B2", "#009E73"
VARIANT_COLORS = {"standard": "#636EFA", "gabor": "#EF553B", "gabor-reg": "#00CC96"}


def frequency_response(kernel: np.ndarray, n_fft: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """|DFT| of a (k, k) kernel on an n_fft x n_fft grid, zero frequency centred.

    Returns (magnitude (n_fft, n_fft), frequencies (n_fft,) in cycles per pixel).
    """
    k = np.asarray(kernel, dtype=np.float64).squeeze()
    n = max(int(n_fft), *k.shape)
    mag = np.abs(np.fft.fftshift(np.fft.fft2(k, s=(n, n))))
    return mag, np.fft.fftshift(np.fft.fftfreq(n))


def _f32(a: np.ndarray) -> np.ndarray:
    """float32 copy for a heatmap's z: plotly ships arrays as binary, so this halves the bytes sent
    (the colour scale cannot show more than float32 resolves)."""
    return np.asarray(a, dtype=np.float32)


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """Mean over f x f blocks of the last two axes (edges that do not fill a block are dropped)."""
    if f <= 1:
        return a
    h, w = a.shape[-2] // f * f, a.shape[-1] // f * f
    a = a[..., :h, :w]
    return a.reshape(*a.shape[:-2], h // f, f, w // f, f).mean(axis=(-3, -1))


def block_factor(shape: Sequence[int], max_side: int = 96) -> int:
    """The smallest integer f such that f x f block means bring the longer side of ``shape`` to
    ``max_side`` or below (1: shown as is); :func:`image_responses` draws its tiles this way."""
    return max(1, int(np.ceil(max(int(x) for x in shape) / max(1, int(max_side)))))


def _title_font(fig: go.Figure, size: int = 14) -> None:
    """Subplot titles at a readable size (make_subplots' default reads small above a grid of tiles)."""
    fig.update_annotations(font_size=size)


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
                        subplot_titles=(f"spatial kernels g ({k}×{k}), labelled by orientation θ",
                                        f"their frequency responses |K̂(ω)|, same order ({ns}×{ns}, ω = 0 centred)"))
    _title_font(fig)
    zk = _zsym(b)
    fig.add_trace(go.Heatmap(z=_f32(kz), zmin=-zk, zmax=zk, colorscale=_KERNEL_SCALE,
                             colorbar=dict(title="g", len=0.42, y=0.79, thickness=12),
                             hoverongaps=False, hovertemplate="g=%{z:.3f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=_f32(sz), zmin=0, colorscale=_SPECTRUM_SCALE,
                             colorbar=dict(title="|K̂|", len=0.42, y=0.21, thickness=12),
                             hoverongaps=False, hovertemplate="|K̂|=%{z:.3f}<extra></extra>"), 2, 1)
    # One layout update for all labels: add_annotation per label is slow in plotly. Labels sit in the
    # empty band above each tile row (see _mosaic), so they never cover a tile or the panel title.
    fig.update_layout(annotations=list(fig.layout.annotations) + [
        dict(x=x, y=y, text=t, showarrow=False, font=dict(size=11), xref="x", yref="y")
        for (x, y), t in zip(kc, titles)])
    for ax in ("yaxis", "yaxis2"):
        fig.layout[ax].update(autorange="reversed", scaleanchor=ax.replace("yaxis", "x"))
    # Tiles have no shared coordinate (each is its own kernel), so the axes are hidden whole: ticks would
    # be mosaic pixel indices, and hidden tick labels still reserve an empty row.
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    # Height from the two mosaics' aspect ratios at a typical page width (~640 px of plot).
    aspect = kz.shape[0] / kz.shape[1] + sz.shape[0] / sz.shape[1]
    fig.update_layout(height=int(min(1100, max(320, 150 + 640 * aspect))), margin=dict(l=10, r=10, t=50, b=10),
                      plot_bgcolor="white")
    return fig


def kernel_and_spectrum(kernel: np.ndarray, n_fft: int = 32, title: str = "") -> go.Figure:
    """One kernel on its grid linspace(-1, 1, k)² beside |K̂(u, v)| on an n_fft grid (cycles per pixel), each
    with its colour bar; the spectrum's max (red cross) is the exact norm."""
    k = np.asarray(kernel, dtype=np.float64).squeeze()
    if k.ndim != 2:
        raise ValueError(f"expected one (k, k) kernel, got shape {np.shape(kernel)}.")
    mag, f = frequency_response(k, n_fft)
    # wide gap: the kernel's colour bar sits in it, clear of the spectrum's v-axis title
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.3,
                        subplot_titles=("kernel g(x, y)", f"|K̂(u, v)| on {len(f)}×{len(f)}, max = exact ‖K‖₂"))
    _title_font(fig)
    zk = _zsym(k)
    kk = k.shape[0]
    # the page's grid: (x, y) in linspace(-1, 1, k)², so ticks read in the equation's units
    g = np.linspace(-1.0, 1.0, kk) if kk > 1 else np.zeros(1)
    dom = fig.layout.xaxis.domain
    fig.add_trace(go.Heatmap(z=_f32(k), x=g, y=g, zmin=-zk, zmax=zk, colorscale=_KERNEL_SCALE,
                             colorbar=dict(title="g", x=dom[1] + 0.015, xanchor="left", thickness=12, len=0.9),
                             hovertemplate="x=%{x:.2f}, y=%{y:.2f}<br>g=%{z:.3f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=_f32(mag), x=f, y=f, colorscale=_SPECTRUM_SCALE,
                             colorbar=dict(title="|K̂|", thickness=12, len=0.9),
                             hovertemplate="u=%{x:.3f}, v=%{y:.3f}<br>|K̂|=%{z:.3f}<extra></extra>"), 1, 2)
    i, j = np.unravel_index(np.argmax(mag), mag.shape)
    fig.add_trace(go.Scatter(x=[f[j]], y=[f[i]], mode="markers", marker=dict(symbol="x", size=12, color="red"),
                             name="max |K̂|", showlegend=False), 1, 2)
    ticks = [-1, -0.5, 0, 0.5, 1] if kk > 1 else [0]
    fig.update_xaxes(title="x (grid units)", tickvals=ticks, row=1, col=1)
    fig.update_yaxes(title="y (grid units, down)", tickvals=ticks, autorange="reversed", scaleanchor="x",
                     row=1, col=1)
    fig.update_xaxes(title="u (cycles / pixel)", tickvals=[-0.5, -0.25, 0, 0.25, 0.5], row=1, col=2)
    # v grows downwards like the kernel's rows, so a stripe's normal and its spectral peak point the same way.
    fig.update_yaxes(title="v (cycles / pixel, down)", autorange="reversed", tickvals=[-0.5, -0.25, 0, 0.25, 0.5],
                     row=1, col=2)
    fig.update_layout(height=380, title=title or None, margin=dict(l=10, r=10, t=60 if title else 40, b=10))
    return fig


def bound_vs_exact_bars(bound: np.ndarray, exact: np.ndarray, labels: Sequence[str] | None = None,
                        l1: np.ndarray | None = None) -> go.Figure:
    """Per-kernel closed-form bound beside the exact spectral norm (and the l1 norm), log scale."""
    x = list(labels) if labels is not None else [f"#{i}" for i in range(len(bound))]
    fig = go.Figure()
    fig.add_bar(x=x, y=exact, name="exact ‖K‖₂ (FFT)", marker_color=_C_EXACT)
    if l1 is not None:
        fig.add_bar(x=x, y=l1, name="Σ|g| (ℓ1 norm)", marker_color=_C_L1)
    fig.add_bar(x=x, y=bound, name="closed-form bound", marker_color=_C_BOUND)
    fig.update_layout(barmode="group", yaxis_title="Lipschitz constant (ℓ2, log)", height=380,
                      xaxis=dict(type="category", tickangle=0 if len(x) <= 16 else -45),
                      margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
    _log_axis(fig, np.concatenate([np.ravel(bound), np.ravel(exact)] + ([np.ravel(l1)] if l1 is not None else [])))
    return fig


def bound_curve(values: np.ndarray, bound: np.ndarray, exact: np.ndarray, xlabel: str,
                l1: np.ndarray | None = None, current: float | None = None) -> go.Figure:
    """Closed-form bound and exact constant (and l1) of one kernel against a parameter, log y."""
    fig = go.Figure()
    fig.add_scatter(x=values, y=bound, name="closed-form bound", mode="lines", line=dict(color=_C_BOUND))
    if l1 is not None:
        fig.add_scatter(x=values, y=l1, name="Σ|g| (ℓ1)", mode="lines", line=dict(dash="dot", color=_C_L1))
    fig.add_scatter(x=values, y=exact, name="exact ‖K‖₂ (FFT)", mode="lines", line=dict(color=_C_EXACT))
    if current is not None:
        fig.add_vline(x=current, line_dash="dash", line_color="gray")
    # Legend below the axes: above them it hides the bound's line in a narrow column.
    fig.update_layout(xaxis_title=xlabel, yaxis_title="Lipschitz constant (log)", height=400,
                      margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0))
    _log_axis(fig, np.concatenate([np.ravel(bound), np.ravel(exact)] + ([np.ravel(l1)] if l1 is not None else [])))
    return fig


def bound_curves(panels: Sequence[dict]) -> go.Figure:
    """Several :func:`bound_curve` panels side by side in one figure, with one legend.

    ``panels``: dicts with the keyword arguments of :func:`bound_curve` (``values``, ``bound``, ``exact``,
    ``xlabel``, optionally ``l1`` and ``current``). One figure instead of one per parameter: every chart a page
    mounts costs the browser time, whatever it holds. Each panel keeps its own log axis with decade ticks.
    """
    panels = list(panels)
    if not panels:
        raise ValueError("bound_curves needs at least one panel.")
    fig = make_subplots(rows=1, cols=len(panels), horizontal_spacing=0.08)
    for col, kw in enumerate(panels, start=1):
        one = bound_curve(**kw)
        for tr in one.data:
            tr.update(legendgroup=tr.name, showlegend=col == 1)
            fig.add_trace(tr, row=1, col=col)
        for shape in one.layout.shapes:  # the current value's line, in bound_curve's own style
            fig.add_vline(x=shape.x0, line=shape.line, row=1, col=col)
        sfx = "" if col == 1 else str(col)
        fig.layout[f"xaxis{sfx}"].title = one.layout.xaxis.title
        fig.layout[f"yaxis{sfx}"].update(one.layout.yaxis.to_plotly_json())
        if col > 1:
            fig.layout[f"yaxis{sfx}"].title = None  # the first panel names the quantity for both
    fig.update_layout(height=400, margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0))
    return fig


def image_responses(image: np.ndarray, responses: np.ndarray, titles: Sequence[str] | None = None,
                    cols: int = 4, max_side: int = 96) -> go.Figure:
    """The gray input image beside a mosaic of the bank's responses (F, H, W).

    Each response is divided by its own max |value| (so every orientation is visible; colour is the
    response relative to its peak). Image and responses are shown as means over f x f pixel blocks, f
    the smallest integer that brings the longer side to ``max_side`` or below: a tile is drawn about 130
    px wide, so more pixels would only cost bytes (the figure was 2.3 MB at 192 px).
    """
    r = np.asarray(responses, dtype=np.float64)
    img = np.asarray(image, dtype=np.float64)
    f = block_factor(r.shape[1:], max_side)
    # scale by the full-resolution peak, then average: the colour still says "relative to the peak"
    scaled = [_block_mean(t / _zsym(t), f) for t in r]
    img = _block_mean(img, f)
    r = np.stack(scaled)
    band = max(8, r.shape[1] // 5)  # room for a label above each tile row, clear of both rows
    mz, mc = _mosaic(scaled, cols, gap=2, label_band=band)
    titles = list(titles) if titles is not None else [f"#{i}" for i in range(r.shape[0])]
    fig = make_subplots(rows=1, cols=2, column_widths=[1, cols], horizontal_spacing=0.02,
                        subplot_titles=("input (gray)", "responses, each / its max |value|"))
    _title_font(fig)
    fig.add_trace(go.Heatmap(z=_f32(img), colorscale="gray", showscale=False, hovertemplate="%{z:.2f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=_f32(mz), zmin=-1, zmax=1, colorscale=_KERNEL_SCALE, hoverongaps=False,
                             colorbar=dict(title="response<br>/ max", thickness=12), hovertemplate="%{z:.2f}<extra></extra>"), 1, 2)
    fig.update_layout(annotations=list(fig.layout.annotations) + [
        dict(x=x, y=y, text=t, showarrow=False, font=dict(size=11), xref="x2", yref="y2")
        for (x, y), t in zip(mc, titles)])
    fig.layout.yaxis.update(autorange="reversed", scaleanchor="x")
    fig.layout.yaxis2.update(autorange="reversed", scaleanchor="x2")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    # Height from the mosaic's aspect ratio at a typical page width (~520 px for the mosaic panel).
    fig.update_layout(height=int(min(1000, 90 + 520 * cols / (cols + 1) * mz.shape[0] / mz.shape[1])),
                      margin=dict(l=10, r=10, t=50, b=10), plot_bgcolor="white")
    return fig


def robustness_curves(long: pd.DataFrame) -> go.Figure:
    """PGD accuracy against eps for each variant, l-inf and l2 side by side (eps = 0: clean accuracy)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("PGD ℓ∞", "PGD ℓ2"))
    for variant, df in long.groupby("variant", sort=False):
        clean = float(df.loc[df["norm"] == "clean", "accuracy"].iloc[0])
        for c, norm in enumerate(("linf", "l2"), start=1):
            d = df[df["norm"] == norm].sort_values("eps")
            fig.add_scatter(x=[0.0] + list(d["eps"]), y=[clean] + list(d["accuracy"]), mode="lines+markers",
                            name=variant, legendgroup=variant, showlegend=c == 1,
                            line=dict(color=VARIANT_COLORS.get(variant)), row=1, col=c)
            fig.update_xaxes(title=f"ε ({'ℓ∞' if norm == 'linf' else 'ℓ2'})", row=1, col=c)
    fig.update_yaxes(title="accuracy under PGD", range=[0, 1.02], tickvals=[0, 0.25, 0.5, 0.75, 1], row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], tickvals=[0, 0.25, 0.5, 0.75, 1], row=1, col=2)
    fig.update_layout(height=400, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
    return fig


def regularizer_path_figure(path: dict) -> go.Figure:
    """Bound and exact constant of the bank (and of the layer) along descent on the regulariser, log y.

    Each layer value is ‖W‖₂ times the bank's (by construction), so with a mixing that the regulariser
    does not move the two are parallel, ‖W‖₂ apart, which on a log axis can look like one line: the
    layer is drawn solid, the bank dashed with sparse markers, one colour per quantity, and the legend
    names the factor.
    """
    fig = go.Figure()
    x = np.asarray(path["step"])
    lb, bb = np.asarray(path["layer_bound"], float), np.asarray(path["bank_bound"], float)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = lb / bb
    w = w[np.isfinite(w)]
    wtxt = "" if w.size == 0 else (f" (‖W‖₂ = {w[0]:.3g})" if np.allclose(w, w[0], rtol=1e-3)
                                   else f" (‖W‖₂ {w[0]:.3g} → {w[-1]:.3g})")
    # a dozen markers at most: one per step would hide the dash pattern
    marks = dict(mode="lines+markers", marker=dict(size=7, symbol="circle-open", maxdisplayed=12))
    fig.add_scatter(x=x, y=lb, name="layer: closed-form bound", mode="lines", line=dict(color=_C_BOUND, width=2.5),
                    legendgroup="bound")
    fig.add_scatter(x=x, y=path["layer_exact_product"], name="layer: ‖W‖₂ · exact ‖bank‖₂", mode="lines",
                    line=dict(color=_C_EXACT, width=2.5), legendgroup="exact")
    fig.add_scatter(x=x, y=bb, name=f"bank: √(Σ<sub>f</sub> L<sub>f</sub>²) = layer bound / ‖W‖₂{wtxt}",
                    line=dict(color=_C_BOUND, dash="dash"), legendgroup="bound", **marks)
    fig.add_scatter(x=x, y=path["bank_exact"], name="bank: exact ‖bank‖₂", line=dict(color=_C_EXACT, dash="dash"),
                    legendgroup="exact", **marks)
    fig.update_layout(xaxis_title="Adam step on the regulariser alone", yaxis_title="Lipschitz constant (log)",
                      height=440, margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
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
