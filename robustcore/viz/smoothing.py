"""Plotly figures of the certificates page (pure functions: arrays in, figures out)."""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "digit_from_png",
    "image_grid",
    "vote_histogram",
    "landscape_figure",
    "sigma_path_figure",
    "certified_accuracy_figure",
]

_GREY = "gray_r"  # dark digit strokes on white, like the paper figures
_C_RADIUS, _C_SURR, _C_CAP, _C_OPT, _C_CUR = "#636EFA", "#EF553B", "#7F7F7F", "#00CC96", "#AB63FA"


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, ncols: int = 6,
               size: int = 110, zmax: float = 1.0) -> go.Figure:
    """A grid of small grey images (e.g. noisy copies or a gallery of test digits).

    Parameters
    ----------
    images : array (k, H, W) or (k, 1, H, W)
        Pixel values (clipped to [0, zmax] for display only).
    titles : list of str, optional
        One caption per image.
    ncols : int
        Images per row.
    size : int
        Pixel size of one tile.
    zmax : float
        Top of the colour scale.
    """
    imgs = np.asarray(images, dtype=np.float64)
    if imgs.ndim == 4:
        imgs = imgs[:, 0]
    if imgs.ndim != 3:
        raise ValueError(f"images must have shape (k, H, W), got {imgs.shape}.")
    k = imgs.shape[0]
    ncols = max(1, min(ncols, k))
    nrows = int(np.ceil(k / ncols))
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=list(titles) if titles is not None else None,
                        horizontal_spacing=0.02, vertical_spacing=0.12 / max(nrows, 1))
    for i in range(k):
        fig.add_trace(go.Heatmap(z=np.clip(imgs[i], 0, zmax)[::-1], colorscale=_GREY, zmin=0, zmax=zmax,
                                 showscale=False, hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"),
                      row=i // ncols + 1, col=i % ncols + 1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor=None)
    fig.update_layout(height=size * nrows + 40, width=None, margin=dict(l=5, r=5, t=30, b=5))
    fig.update_annotations(font_size=11)
    return fig


def vote_histogram(counts: np.ndarray, candidate: int | None = None, true_label: int | None = None,
                   title: str = "Votes of the noisy samples") -> go.Figure:
    """Bar chart of class votes ``counts[c] = #{i: f(x + eps_i) = c}``.

    Parameters
    ----------
    counts : array (K,)
    candidate : int, optional
        Highlighted class (the one CERTIFY bounds).
    true_label : int, optional
        Marked in the axis labels.
    """
    counts = np.asarray(counts)
    K = counts.shape[0]
    colors = [_C_OPT if c == candidate else "#B0B0B0" for c in range(K)]
    names = [f"{c}{' (true)' if c == true_label else ''}" for c in range(K)]
    fig = go.Figure(go.Bar(x=names, y=counts, marker_color=colors, text=counts, textposition="outside",
                           hovertemplate="class %{x}: %{y} votes<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="class", yaxis_title="votes", height=300,
                      margin=dict(l=40, r=10, t=40, b=40))
    return fig


def landscape_figure(sigmas: np.ndarray, radius: np.ndarray, surrogate: np.ndarray, cap: np.ndarray,
                     p_hat: np.ndarray, p_lower: np.ndarray, p_upper: np.ndarray,
                     sigma_opt: float | None = None, path_sigma: np.ndarray | None = None,
                     path_surrogate: np.ndarray | None = None, current_sigma: float | None = None) -> go.Figure:
    """The sigma landscape: Cohen radius, DDRS surrogate and cap (top); p_hat with its band (bottom).

    Parameters
    ----------
    sigmas, radius, surrogate, cap, p_hat, p_lower, p_upper : arrays (S,)
        From ``SigmaLandscape``.
    sigma_opt : float, optional
        Optimised sigma (vertical line).
    path_sigma, path_surrogate : arrays (T,), optional
        The ascent path (sigma_t, R~_t), drawn as markers coloured by step.
    current_sigma : float, optional
        The sigma of the page's fixed-sigma certificate (vertical line).
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.06)
    fig.add_trace(go.Scatter(x=sigmas, y=radius, name="radius sigma Phi^-1(p_lower)", mode="lines+markers",
                             line=dict(color=_C_RADIUS),
                             hovertemplate="sigma %{x:.3f}: radius %{y:.3f}<br>exploratory: the radius of a "
                                           "different g_sigma, not a certificate<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=sigmas, y=surrogate, name="surrogate R~ (DDRS)", mode="lines",
                             line=dict(color=_C_SURR, dash="dot")), row=1, col=1)
    fig.add_trace(go.Scatter(x=sigmas, y=cap, name="cap sigma Phi^-1(alpha^(1/n))", mode="lines",
                             line=dict(color=_C_CAP, dash="dash", width=1)), row=1, col=1)
    if path_sigma is not None and path_surrogate is not None and len(path_sigma):
        steps = np.arange(len(path_sigma))
        fig.add_trace(go.Scatter(x=path_sigma, y=path_surrogate, name="ascent path (sigma_t, R~_t)",
                                 mode="markers+lines", line=dict(color=_C_OPT, width=1),
                                 marker=dict(size=5, color=steps, colorscale="Greens", showscale=False),
                                 hovertemplate="step %{text}: sigma %{x:.3f}, R~ %{y:.3f}<extra></extra>",
                                 text=steps), row=1, col=1)
    ymax = float(np.nanmax(np.concatenate([np.atleast_1d(radius), np.atleast_1d(surrogate)]))) if len(sigmas) else 1
    ymax = max(ymax, 1e-3) * 1.15
    for val, color, label in [(sigma_opt, _C_OPT, "optimised sigma"), (current_sigma, _C_CUR, "current sigma")]:
        if val is not None and np.isfinite(val):
            for row in (1, 2):
                fig.add_vline(x=float(val), line=dict(color=color, dash="dash"), row=row, col=1)
            fig.add_annotation(x=float(val), y=ymax, text=label, showarrow=False, yshift=8,
                               font=dict(color=color), row=1, col=1)
    fig.add_trace(go.Scatter(x=np.concatenate([sigmas, sigmas[::-1]]), y=np.concatenate([p_upper, p_lower[::-1]]),
                             fill="toself", fillcolor="rgba(99,110,250,0.2)", line=dict(width=0),
                             name="Clopper-Pearson band", hoverinfo="skip"), row=2, col=1)
    fig.add_trace(go.Scatter(x=sigmas, y=p_hat, name="p_hat (top class)", mode="lines",
                             line=dict(color=_C_RADIUS)), row=2, col=1)
    fig.add_hline(y=0.5, line=dict(color=_C_CAP, dash="dot", width=1), row=2, col=1)
    fig.update_yaxes(title_text="l2 radius", range=[0, ymax], row=1, col=1)
    fig.update_yaxes(title_text="P(top class)", range=[0, 1.02], row=2, col=1)
    fig.update_xaxes(title_text="sigma", row=2, col=1)
    fig.update_layout(height=520, margin=dict(l=50, r=10, t=30, b=40), legend=dict(orientation="h", y=-0.15))
    return fig


def sigma_path_figure(sigma_history: np.ndarray, surrogate_history: np.ndarray) -> go.Figure:
    """sigma_t and the surrogate R~_t against the ascent step t (one input)."""
    sh = np.asarray(sigma_history).reshape(-1)
    rh = np.asarray(surrogate_history).reshape(-1)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=np.arange(len(sh)), y=sh, name="sigma_t", line=dict(color=_C_OPT)),
                  secondary_y=False)
    fig.add_trace(go.Scatter(x=np.arange(len(rh)), y=rh, name="R~_t", line=dict(color=_C_SURR, dash="dot")),
                  secondary_y=True)
    fig.update_xaxes(title_text="ascent step t")
    fig.update_yaxes(title_text="sigma", secondary_y=False)
    fig.update_yaxes(title_text="surrogate radius", secondary_y=True)
    fig.update_layout(height=280, margin=dict(l=50, r=50, t=20, b=40), legend=dict(orientation="h", y=1.15))
    return fig


def certified_accuracy_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
                              dashed: Sequence[str] = ()) -> go.Figure:
    """Certified accuracy against radius, one step curve per run (as in the papers' figures).

    Parameters
    ----------
    curves : mapping name -> (radii (R,), accuracy (R,))
    dashed : names drawn dashed (e.g. curves that are not guarantees)
    """
    fig = go.Figure()
    for name, (r, acc) in curves.items():
        fig.add_trace(go.Scatter(x=np.asarray(r), y=np.asarray(acc), name=name, mode="lines", line_shape="hv",
                                 line=dict(dash="dash" if name in dashed else "solid")))
    fig.update_layout(xaxis_title="l2 radius r", yaxis_title="certified accuracy at r", yaxis_range=[0, 1.02],
                      height=380, margin=dict(l=50, r=10, t=20, b=40))
    return fig


def digit_from_png(data: bytes, invert: str = "auto") -> np.ndarray:
    """An uploaded PNG as a (1, 8, 8) float32 image in [0, 1], bright strokes on dark (like the digits set).

    The image is converted to grey, box-filtered down to 8x8, inverted when it is a dark digit on
    light paper (``invert="auto"``: mean above 1/2), and stretched to [0, 1].

    Parameters
    ----------
    data : bytes
        The file's content.
    invert : {"auto", "yes", "no"}

    Returns
    -------
    ndarray (1, 8, 8) float32

    Raises
    ------
    ValueError
        Not a PNG, smaller than 8x8, very elongated, or blank, with one sentence saying which.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError("The file is not a readable PNG image.") from exc
    if img.format not in ("PNG", None):
        raise ValueError(f"Please upload a PNG image (this file is {img.format}).")
    if min(img.size) < 8:
        raise ValueError(f"The image is {img.size[0]}x{img.size[1]} pixels; it needs at least 8x8.")
    if max(img.size) > 4 * min(img.size):
        raise ValueError("The image is very elongated; crop it to roughly square around the digit.")
    arr = np.asarray(img.convert("L").resize((8, 8), Image.Resampling.BOX), dtype=np.float32) / 255.0
    if invert == "yes" or (invert == "auto" and arr.mean() > 0.5):  # dark digit on light paper
        arr = 1.0 - arr
    lo, hi = float(arr.min()), float(arr.max())
    if hi - lo < 1e-3:
        raise ValueError("The image is blank (a single grey level) after resizing to 8x8.")
    return ((arr - lo) / (hi - lo)).reshape(1, 8, 8).astype(np.float32)
