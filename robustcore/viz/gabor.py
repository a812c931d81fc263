"""Plotly figures of the Gabor page (pure functions: arrays in, figures out)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "frequency_response",
    "bank_gallery",
    "kernel_and_spectrum",
    "bound_vs_exact_bars",
    "bound_curve",
    "image_responses",
    "robustness_curves",
    "regularizer_path_figure",
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


def _mosaic(tiles: Sequence[np.ndarray], cols: int, gap: int = 1) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Tile equally sized 2-D arrays into one array with NaN gaps; returns it and each tile's centre."""
    h, w = tiles[0].shape
    rows = int(np.ceil(len(tiles) / cols))
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    centres = []
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = t
        centres.append((c * (w + gap) + (w - 1) / 2, r * (h + gap) - 0.5))
    return out, centres


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
    kz, kc = _mosaic(list(b), cols)
    specs = [frequency_response(t, n_fft)[0] for t in b]
    sz, sc = _mosaic(specs, cols, gap=max(1, specs[0].shape[0] // 16))
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.08,
                        subplot_titles=(f"spatial kernels g ({k}x{k})",
                                        f"frequency responses |K^(omega)| ({specs[0].shape[0]}x{specs[0].shape[0]}, centred)"))
    zk = _zsym(b)
    fig.add_trace(go.Heatmap(z=kz, zmin=-zk, zmax=zk, colorscale=_KERNEL_SCALE, colorbar=dict(title="g", len=0.45, y=0.78),
                             hoverongaps=False, hovertemplate="g=%{z:.3f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=sz, zmin=0, colorscale=_SPECTRUM_SCALE, colorbar=dict(title="|K^|", len=0.45, y=0.22),
                             hoverongaps=False, hovertemplate="|K^|=%{z:.3f}<extra></extra>"), 2, 1)
    # One layout update for all labels: add_annotation per label is slow in plotly.
    fig.update_layout(annotations=list(fig.layout.annotations) + [
        dict(x=x, y=y, text=t, showarrow=False, yshift=6, font=dict(size=10), xref="x", yref="y")
        for (x, y), t in zip(kc, titles)])
    for ax in ("yaxis", "yaxis2"):
        fig.layout[ax].update(autorange="reversed", scaleanchor=ax.replace("yaxis", "x"), showticklabels=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showgrid=False, zeroline=False)
    rows = int(np.ceil(F_ / cols))
    # Two panels of `rows` tile rows each, tiles about 620 / cols pixels wide on a typical page.
    fig.update_layout(height=int(min(1000, 130 + 2 * rows * 620 / cols)), margin=dict(l=10, r=10, t=40, b=10),
                      plot_bgcolor="white")
    return fig


def kernel_and_spectrum(kernel: np.ndarray, n_fft: int = 32, title: str = "") -> go.Figure:
    """One kernel beside |K^(omega)| on an n_fft grid (axes in cycles per pixel); its max is the exact norm."""
    k = np.asarray(kernel, dtype=np.float64).squeeze()
    if k.ndim != 2:
        raise ValueError(f"expected one (k, k) kernel, got shape {np.shape(kernel)}.")
    mag, f = frequency_response(k, n_fft)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("kernel g[a, b] (rows: y down)", f"|K^(u, v)| on {len(f)}x{len(f)} (max = exact norm)"))
    zk = _zsym(k)
    # No colour bar for the kernel (hover shows values): two bars crowd the spectrum's axis.
    fig.add_trace(go.Heatmap(z=k, zmin=-zk, zmax=zk, colorscale=_KERNEL_SCALE, showscale=False,
                             hovertemplate="g=%{z:.3f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=mag, x=f, y=f, colorscale=_SPECTRUM_SCALE, colorbar=dict(title="|K^|")), 1, 2)
    i, j = np.unravel_index(np.argmax(mag), mag.shape)
    fig.add_trace(go.Scatter(x=[f[j]], y=[f[i]], mode="markers", marker=dict(symbol="x", size=12, color="red"),
                             name="max |K^|", showlegend=False), 1, 2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_xaxes(title="u (cycles / pixel)", row=1, col=2)
    # v grows downwards like the kernel's rows, so a stripe's normal and its spectral peak point the same way.
    fig.update_yaxes(title="v (cycles / pixel, down)", autorange="reversed", row=1, col=2)
    fig.update_layout(height=360, title=title, margin=dict(l=10, r=10, t=60, b=10))
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
    fig.update_layout(barmode="group", yaxis_type="log", yaxis_title="Lipschitz constant (l2)", height=360,
                      margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=-0.2, x=0))
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
    fig.update_layout(xaxis_title=xlabel, yaxis_title="Lipschitz constant", yaxis_type="log", height=380,
                      margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=-0.25, x=0))
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
    mz, mc = _mosaic(scaled, cols, gap=2)
    titles = list(titles) if titles is not None else [f"#{i}" for i in range(r.shape[0])]
    fig = make_subplots(rows=1, cols=2, column_widths=[1, cols], horizontal_spacing=0.02,
                        subplot_titles=("input (gray)", "responses / their max |value|"))
    fig.add_trace(go.Heatmap(z=img, colorscale="gray", showscale=False, hovertemplate="%{z:.2f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=mz, zmin=-1, zmax=1, colorscale=_KERNEL_SCALE, hoverongaps=False,
                             colorbar=dict(title="rel."), hovertemplate="%{z:.2f}<extra></extra>"), 1, 2)
    fig.update_layout(annotations=list(fig.layout.annotations) + [
        dict(x=x, y=y, text=t, showarrow=False, yshift=6, font=dict(size=10), xref="x2", yref="y2")
        for (x, y), t in zip(mc, titles)])
    fig.layout.yaxis.update(autorange="reversed", scaleanchor="x")
    fig.layout.yaxis2.update(autorange="reversed", scaleanchor="x2")
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    # Height from the mosaic's aspect ratio at a typical page width (~520 px for the mosaic panel).
    fig.update_layout(height=int(min(1000, 70 + 520 * cols / (cols + 1) * mz.shape[0] / mz.shape[1])),
                      margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="white")
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
    fig.update_yaxes(title="accuracy under PGD", range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def regularizer_path_figure(path: dict) -> go.Figure:
    """Bound and exact constant of the bank (and of the layer) along descent on the regulariser, log y."""
    fig = go.Figure()
    x = path["step"]
    fig.add_scatter(x=x, y=path["layer_bound"], name="layer: closed-form bound", mode="lines")
    fig.add_scatter(x=x, y=path["layer_exact_product"], name="layer: ||W|| x exact bank norm", mode="lines")
    fig.add_scatter(x=x, y=path["bank_bound"], name="bank: sqrt(sum L_f^2)", mode="lines", line=dict(dash="dot"))
    fig.add_scatter(x=x, y=path["bank_exact"], name="bank: exact norm", mode="lines", line=dict(dash="dot"))
    fig.update_layout(xaxis_title="Adam step on the regulariser alone", yaxis_title="Lipschitz constant",
                      yaxis_type="log", height=380, margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", y=-0.25, x=0))
    return fig
