"""Plotly figures of the certificates page (pure functions: arrays in, figures out).

Categorical axes (the vote histogram's classes) are declared ``type="category"`` with plain class names;
special classes are marked by colour and legend, never by text in the label (plotly guesses an axis type
from the labels and can drop bars whose label does not parse).
"""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "digit_from_png",
    "image_from_png",
    "VOTE_ROLES",
    "image_grid",
    "vote_histogram",
    "landscape_figure",
    "sigma_path_figure",
    "certified_accuracy_figure",
]

_GREY = "gray_r"  # dark digit strokes on white, like the paper figures
_C_RADIUS, _C_SURR, _C_CAP, _C_OPT, _C_CUR = "#636EFA", "#EF553B", "#7F7F7F", "#00CC96", "#AB63FA"


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, ncols: int = 6,
               size: int = 110, zmax: float = 1.0, title_lines: int | None = None) -> go.Figure:
    """A grid of small images (noisy copies, a gallery of test images), grey or colour, as ONE mosaic trace.

    The tiles are laid into one array with gaps (a single heatmap, or a single RGB image for colour),
    which builds, sends and draws several times faster than one subplot per tile. Titles never overlap:
    each row of tiles has a band above it tall enough for its title lines (``<br>`` separates lines),
    and the figure has a fixed pixel size (tiles of ``size`` px), so the bands keep their height.

    Parameters
    ----------
    images : array (k, H, W), (k, 1, H, W) or (k, 3, H, W)
        Pixel values in [0, zmax] (clipped for display only); 3 channels are drawn as RGB.
    titles : list of str, optional
        One caption per image (keep each line under ~14 characters for the default tile size).
    ncols : int
        Images per row.
    size : int
        Pixel size of one tile (its height; width in proportion).
    zmax : float
        Top of the colour scale.
    title_lines : int, optional
        Lines per title (default: the most ``<br>``-separated lines of any title).

    Returns
    -------
    plotly Figure with ``layout.meta = {"tile": [H, W], "band": rows of the title band, "gap": gap columns}``.
    """
    imgs = np.asarray(images, dtype=np.float64)
    if imgs.ndim == 3:
        imgs = imgs[:, None]
    if imgs.ndim != 4 or imgs.shape[0] == 0 or imgs.shape[1] not in (1, 3) or min(imgs.shape[2:]) < 1:
        raise ValueError(f"images must have shape (k, H, W) or (k, 1 or 3, H, W) with k >= 1, got {np.shape(images)}.")
    k, C, H, W = imgs.shape
    if titles is not None and len(titles) != k:
        raise ValueError(f"titles must have one entry per image ({k}), got {len(titles)}.")
    if not (isinstance(size, (int, np.integer)) and 8 <= size <= 1000):
        raise ValueError(f"size must be an integer number of pixels in [8, 1000], got {size!r}.")
    ncols = max(1, min(int(ncols), k))
    nrows = int(np.ceil(k / ncols))
    lines = title_lines if title_lines is not None else (
        max((str(t).count("<br>") + 1 for t in titles), default=0) if titles is not None else 0)
    unit = size / H  # pixels per image pixel
    band = int(np.ceil((14 * lines + 4) / unit)) if lines else 0  # title band above each row, image pixels
    gap = max(1, int(np.ceil(8 / unit)))  # gap between columns, image pixels
    Ht, Wt = nrows * (H + band) + (nrows - 1) * (0 if band else gap), ncols * W + (ncols - 1) * gap
    step_y = H + (band if band else gap)
    origins = [((i // ncols) * step_y + band, (i % ncols) * (W + gap)) for i in range(k)]
    vals = np.clip(imgs, 0, zmax)
    if C == 3:
        mosaic = np.full((Ht, Wt, 3), 255, dtype=np.uint8)  # white gaps
        for (y0, x0), img in zip(origins, vals):
            mosaic[y0:y0 + H, x0:x0 + W] = (np.transpose(img, (1, 2, 0)) / zmax * 255).round().astype(np.uint8)
        trace = go.Image(z=mosaic, hoverinfo="skip")
    else:
        mosaic = np.full((Ht, Wt), np.nan)
        for (y0, x0), img in zip(origins, vals):
            mosaic[y0:y0 + H, x0:x0 + W] = img[0]
        trace = go.Heatmap(z=mosaic, colorscale=_GREY, zmin=0, zmax=zmax, showscale=False, hoverongaps=False,
                           hovertemplate="%{z:.2f}<extra></extra>")
    fig = go.Figure(trace)
    for i, (y0, x0) in enumerate(origins):
        if titles is not None:
            fig.add_annotation(x=x0 + (W - 1) / 2, y=y0 - 0.5, text=str(titles[i]), showarrow=False,
                               xanchor="center", yanchor="bottom", font=dict(size=11))
    fig.update_xaxes(visible=False, range=[-0.5, Wt - 0.5], constrain="domain")
    fig.update_yaxes(visible=False, range=[Ht - 0.5, -0.5], scaleanchor="x", scaleratio=1, constrain="domain")
    margin = dict(l=2, r=2, t=2, b=2)
    fig.update_layout(width=int(round(Wt * unit)) + 4, height=int(round(Ht * unit)) + 4, margin=margin,
                      meta={"tile": [H, W], "band": band, "gap": gap, "unit_px": unit},
                      plot_bgcolor="rgba(0,0,0,0)")
    return fig


# Roles of the bars of the vote histogram: (legend name, colour). Colour marks the special classes, so the
# axis labels stay plain class names (a label such as "1 (true)" once made plotly drop the winning bar).
# CERTIFY picks its candidate class on n0 separate selection samples, so with few samples the candidate
# need not be the tallest bar of these votes: the legend says "candidate", never "top class".
VOTE_ROLES = {
    "both": ("candidate = true class", _C_OPT),
    "predicted": ("candidate (picked on the n₀ selection samples)", _C_SURR),
    "true": ("true class", _C_RADIUS),
    "other": ("other classes", "#B0B0B0"),
}


def vote_histogram(counts: np.ndarray, candidate: int | None = None, true_label: int | None = None,
                   title: str = "Votes of the noisy samples", class_names: Sequence[str] | None = None) -> go.Figure:
    """Bar chart of class votes ``counts[c] = #{i: f(x + eps_i) = c}`` on a categorical class axis.

    CERTIFY's candidate class (the one it bounds, picked on separate selection samples, so not always the
    tallest bar) and the true class are marked by colour and named in the legend; every class is a category
    of its own, so every class with votes has a visible bar.

    Parameters
    ----------
    counts : array (K,)
        Non-negative vote counts.
    candidate : int, optional
        CERTIFY's candidate class (the top class of its n0 selection samples).
    true_label : int, optional
        The true class of the image (None when unknown, e.g. an uploaded image).
    title : str
    class_names : list of K str, optional
        Axis labels (default "0" ... "K-1").
    """
    counts = np.asarray(counts).reshape(-1)
    if counts.size == 0 or not np.all(np.isfinite(counts)) or (counts < 0).any():
        raise ValueError("counts must be a non-empty vector of non-negative vote counts.")
    K = counts.shape[0]
    names = [str(c) for c in class_names] if class_names is not None else [str(c) for c in range(K)]
    if len(names) != K or len(set(names)) != K:
        raise ValueError(f"class_names must hold {K} distinct names.")

    def role(c: int) -> str:
        if c == candidate and c == true_label:
            return "both"
        if c == candidate:
            return "predicted"
        return "true" if c == true_label else "other"

    fig = go.Figure()
    for key, (legend, color) in VOTE_ROLES.items():
        idx = [c for c in range(K) if role(c) == key]
        if not idx:
            continue
        fig.add_trace(go.Bar(x=[names[c] for c in idx], y=counts[idx], name=legend, marker_color=color,
                             text=[f"{int(v):,}" for v in counts[idx]], textposition="outside", cliponaxis=False,
                             hovertemplate="class %{x}: %{y:,} votes<extra>" + legend + "</extra>"))
    top = float(counts.max()) if counts.max() > 0 else 1.0
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=names, title_text="class")
    fig.update_yaxes(title_text="votes", range=[0, top * 1.18], rangemode="tozero")
    # the legend goes below the axis title: 60 px under the plot area (plot height = 340 - 40 - 110)
    fig.update_layout(title=dict(text=title, font_size=13), barmode="overlay", height=340, bargap=0.25,
                      margin=dict(l=50, r=10, t=40, b=110),
                      legend=dict(orientation="h", yanchor="top", y=-60 / 190, x=0))
    return fig


def _nice_step(span: float) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about five ticks over ``span``."""
    if not (np.isfinite(span) and span > 0):
        return 1.0
    raw = span / 5
    mag = 10.0 ** np.floor(np.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return float(m * mag)
    return float(10 * mag)


def _path_marks(n_points: int, most: int = 21) -> np.ndarray:
    """Indices of at most ``most`` evenly spread points of a path of ``n_points``, first and last included."""
    if n_points <= most:
        return np.arange(n_points)
    return np.unique(np.round(np.linspace(0, n_points - 1, most)).astype(int))


def landscape_figure(sigmas: np.ndarray, radius: np.ndarray, surrogate: np.ndarray, cap: np.ndarray,
                     p_hat: np.ndarray, p_lower: np.ndarray, p_upper: np.ndarray,
                     sigma_opt: float | None = None, path_sigma: np.ndarray | None = None,
                     current_sigma: float | None = None) -> go.Figure:
    """The σ landscape: Cohen radius, DDRS surrogate and cap (top); p̂_A with its band (middle); the DDRS
    ascent σ_t against its step t (bottom strip, step 0 at the top), all on one shared σ axis.

    The ascent has its own strip so that it never covers the landscape curves: read downwards it goes from
    the start σ_0 (circle) to the end σ_x (star) through at most 21 evenly spread steps (every step is in
    ``sigma_path_figure``). The current
    and optimised σ are vertical lines named in the legend (not text on the plot, which overlapped when the
    two are close).

    Parameters
    ----------
    sigmas, radius, surrogate, cap, p_hat, p_lower, p_upper : arrays (S,)
        From ``SigmaLandscape``.
    sigma_opt : float, optional
        Optimised σ_x (vertical line).
    path_sigma : array (T + 1,), optional
        The ascent σ_0, σ_1, ..., σ_T (``SigmaPath.sigma_history``); the bottom strip is drawn only with it.
    current_sigma : float, optional
        The σ of the page's fixed-σ certificate (vertical line).
    """
    sigmas = np.asarray(sigmas, dtype=np.float64)
    ps = np.asarray(path_sigma, dtype=np.float64).reshape(-1) if path_sigma is not None else np.zeros(0)
    has_path = ps.size > 0
    rows = 3 if has_path else 2
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        row_heights=[0.52, 0.26, 0.22] if has_path else [0.65, 0.35])
    fig.add_trace(go.Scatter(x=sigmas, y=radius, name="radius σ·Φ⁻¹(p̲_A)", mode="lines+markers",
                             line=dict(color=_C_RADIUS), marker=dict(size=5),
                             hovertemplate="σ %{x:.3f}: radius %{y:.3f}<br>exploratory: the radius of a "
                                           "different g_σ, not a certificate<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=sigmas, y=surrogate, name="surrogate R̃(σ) (DDRS)", mode="lines",
                             line=dict(color=_C_SURR, dash="dot"),
                             hovertemplate="σ %{x:.3f}: R̃ %{y:.3f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=sigmas, y=cap, name="cap σ·Φ⁻¹(ⁿ√α)", mode="lines",
                             line=dict(color=_C_CAP, dash="dash", width=1),
                             hovertemplate="σ %{x:.3f}: largest radius n samples can certify %{y:.3f}"
                                           "<extra></extra>"), row=1, col=1)
    finite = np.concatenate([np.atleast_1d(np.asarray(radius, float)), np.atleast_1d(np.asarray(surrogate, float))])
    finite = finite[np.isfinite(finite)]
    ymax = max(float(finite.max()) if finite.size else 1.0, 1e-3) * 1.12
    T = max(ps.size - 1, 1)
    tops = {1: ymax, 2: 1.02, 3: T}
    for val, color, label in [(current_sigma, _C_CUR, "current σ"), (sigma_opt, _C_OPT, "optimised σ_x")]:
        if val is not None and np.isfinite(val):
            v = float(val)
            for row in range(1, rows + 1):
                fig.add_trace(go.Scatter(x=[v, v], y=[0, tops[row]], mode="lines", name=f"{label} = {v:.2f}",
                                         legendgroup=label, showlegend=row == 1,
                                         line=dict(color=color, dash="dash", width=1.5),
                                         hovertemplate=f"{label} = {v:.3f}<extra></extra>"), row=row, col=1)
    fig.add_trace(go.Scatter(x=np.concatenate([sigmas, sigmas[::-1]]),
                             y=np.concatenate([np.asarray(p_upper), np.asarray(p_lower)[::-1]]),
                             fill="toself", fillcolor="rgba(99,110,250,0.2)", line=dict(width=0),
                             name="Clopper–Pearson band", hoverinfo="skip"), row=2, col=1)
    fig.add_trace(go.Scatter(x=sigmas, y=p_hat, name="p̂_A (top class)", mode="lines",
                             line=dict(color=_C_RADIUS),
                             hovertemplate="σ %{x:.3f}: p̂_A %{y:.3f}<extra></extra>"), row=2, col=1)
    fig.add_hline(y=0.5, line=dict(color=_C_CAP, dash="dot", width=1), row=2, col=1)
    if has_path:
        marks = _path_marks(ps.size)
        # a few evenly spread steps (every step of a noisy ascent tangles into a scribble); each step is in
        # the figure of sigma_t against t, which has the room for them
        every = "" if marks.size == ps.size else f", {marks.size} of {ps.size} steps"
        fig.add_trace(go.Scatter(x=ps[marks], y=marks, mode="lines+markers", name=f"ascent σ_t (step t ↓{every})",
                                 line=dict(color=_C_OPT, width=1.2), marker=dict(size=5, color=_C_OPT),
                                 hovertemplate="step %{y}: σ %{x:.3f}<extra></extra>"), row=3, col=1)
        for idx, symbol, label in [(0, "circle", "start σ_0"), (ps.size - 1, "star", "end σ_x")]:
            fig.add_trace(go.Scatter(x=[ps[idx]], y=[idx], mode="markers", name=f"{label} = {ps[idx]:.2f}",
                                     marker=dict(symbol=symbol, size=11, color=_C_OPT if idx else "white",
                                                 line=dict(color=_C_OPT, width=2)),
                                     hovertemplate=f"{label}: step {idx}, σ %{{x:.3f}}<extra></extra>"),
                          row=3, col=1)
        fig.update_yaxes(title_text="step", range=[T * 1.08, -T * 0.08], tickvals=[0, T], row=3, col=1)
    fig.update_yaxes(title_text="ℓ2 radius", range=[0, ymax], dtick=_nice_step(ymax), row=1, col=1)
    fig.update_yaxes(title_text="P(top class)", range=[0, 1.02], tickvals=[0, 0.5, 1], row=2, col=1)
    span = float(sigmas.max() - min(sigmas.min(), 0.0)) if sigmas.size else 1.0
    for row in range(1, rows + 1):
        fig.update_xaxes(dtick=_nice_step(span), tick0=0, row=row, col=1)
    fig.update_xaxes(title_text="σ", row=rows, col=1)
    height, top, bottom = (620 if has_path else 540), 20, 40
    # the legend's top 75 px under the plot area: clear of the σ tick labels and axis title, also in the
    # paper style's larger fonts
    fig.update_layout(height=height, margin=dict(l=60, r=10, t=top, b=bottom),
                      legend=dict(orientation="h", yanchor="top", y=-75 / (height - top - bottom), x=0))
    return fig


def _running_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each step (fewer at the start), ignoring non-finite ones."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, v, 0.0))])
    ccnt = np.concatenate([[0], np.cumsum(ok)])
    hi = np.arange(1, v.size + 1)
    lo = np.maximum(hi - window, 0)
    cnt = ccnt[hi] - ccnt[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, (csum[hi] - csum[lo]) / np.maximum(cnt, 1), np.nan)


def sigma_path_figure(sigma_history: np.ndarray, surrogate_history: np.ndarray) -> go.Figure:
    """σ_t (left axis) and the surrogate R̃_t (right axis) against the ascent step t.

    Each R̃_t is a noisy estimate from the few samples of its step, so it is drawn as faint dots with its
    running mean over a tenth of the steps as the line to read; σ_t is a line with its start σ_0 and end
    σ_x marked.

    Parameters
    ----------
    sigma_history : array (T + 1,)
        σ_0, ..., σ_T.
    surrogate_history : array (T,) or (T + 1,)
        R̃ at each step's σ.
    """
    sh = np.asarray(sigma_history, dtype=np.float64).reshape(-1)
    rh = np.asarray(surrogate_history, dtype=np.float64).reshape(-1)
    window = max(1, int(round(max(len(rh), 1) / 10)))
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=np.arange(len(rh)), y=rh, name="R̃_t (one step's estimate)", mode="markers",
                             marker=dict(color=_C_SURR, size=4, opacity=0.35),
                             hovertemplate="step %{x}: R̃ %{y:.3f}<extra></extra>"), secondary_y=True)
    fig.add_trace(go.Scatter(x=np.arange(len(rh)), y=_running_mean(rh, window), mode="lines",
                             name=f"R̃_t, mean of the last {window} steps", line=dict(color=_C_SURR, width=2),
                             hovertemplate="step %{x}: running mean R̃ %{y:.3f}<extra></extra>"), secondary_y=True)
    fig.add_trace(go.Scatter(x=np.arange(len(sh)), y=sh, name="σ_t", mode="lines", line=dict(color=_C_OPT, width=2),
                             hovertemplate="step %{x}: σ %{y:.3f}<extra></extra>"), secondary_y=False)
    if len(sh):
        for idx, symbol, label in [(0, "circle", "start σ_0"), (len(sh) - 1, "star", "end σ_x")]:
            fig.add_trace(go.Scatter(x=[idx], y=[sh[idx]], mode="markers", name=f"{label} = {sh[idx]:.3f}",
                                     marker=dict(symbol=symbol, size=11, color=_C_OPT if idx else "white",
                                                 line=dict(color=_C_OPT, width=2)),
                                     hovertemplate=f"{label}: step {idx}, σ %{{y:.3f}}<extra></extra>"),
                          secondary_y=False)
    fig.update_xaxes(title_text="ascent step t")
    fig.update_yaxes(title_text="σ", secondary_y=False)
    # own round ticks on the right axis (plotly would otherwise align them to the left grid: 0.0527, 0.087 ...)
    fig.update_yaxes(title_text="surrogate radius R̃", secondary_y=True, tickmode="auto", nticks=5, showgrid=False)
    fig.update_layout(height=320, margin=dict(l=60, r=60, t=20, b=40),
                      legend=dict(orientation="h", yanchor="top", y=-0.25, x=0))
    return fig


def certified_accuracy_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
                              dashed: Sequence[str] = (), dotted: Sequence[str] = ()) -> go.Figure:
    """Certified accuracy against radius, one step curve per run (as in the papers' figures).

    Parameters
    ----------
    curves : mapping name -> (radii (R,), accuracy (R,))
    dashed : names drawn dashed (curves that are not guarantees)
    dotted : names drawn dotted (e.g. runs imported from published logs)
    """
    fig = go.Figure()
    for name, (r, acc) in curves.items():
        dash = "dash" if name in dashed else ("dot" if name in dotted else "solid")
        fig.add_trace(go.Scatter(x=np.asarray(r), y=np.asarray(acc), name=name, mode="lines", line_shape="hv",
                                 line=dict(dash=dash)))
    n = max(len(curves), 1)
    # the radius axis ends a little after the largest radius any curve still certifies (a grid that runs on
    # at accuracy 0 would squeeze the curves into the left of the plot)
    reach = [float(np.max(np.asarray(r, float)[np.asarray(acc, float) > 0])) for r, acc in curves.values()
             if np.any(np.asarray(acc, float) > 0)]
    if reach and max(reach) > 0:
        fig.update_xaxes(range=[0, 1.1 * max(reach)])
    fig.update_layout(xaxis_title="ℓ2 radius r", yaxis_title="certified accuracy at r", yaxis_range=[0, 1.02],
                      height=380 + 22 * n, margin=dict(l=60, r=10, t=20, b=40),
                      legend=dict(orientation="h", yanchor="top", y=-0.15 * 380 / (380 + 22 * n), x=0))
    fig.update_yaxes(tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    return fig


def image_from_png(data: bytes, shape: tuple[int, int, int] = (1, 8, 8), invert: str = "auto",
                   stretch: bool = True) -> np.ndarray:
    """An uploaded PNG as a (C, H, W) float32 image in [0, 1], resized to the dataset's ``shape``.

    Grey datasets (C = 1) get bright strokes on dark, like digits and MNIST: the image is inverted
    when it is a dark drawing on light paper (``invert="auto"``: mean above 1/2) and, with
    ``stretch``, its contrast is stretched to [0, 1]. Colour datasets (C = 3) keep the photo's colours.

    Parameters
    ----------
    data : bytes
        The file's content.
    shape : (C, H, W)
        Target shape, C in {1, 3}.
    invert : {"auto", "yes", "no"}
        Grey images only.
    stretch : bool
        Grey images only: stretch the grey levels to [0, 1].

    Returns
    -------
    ndarray (C, H, W) float32

    Raises
    ------
    ValueError
        Not a PNG, smaller than the target, very elongated, or blank, with one sentence saying which.
    """
    from PIL import Image, UnidentifiedImageError

    C, H, W = (int(v) for v in shape)
    if C not in (1, 3) or H < 1 or W < 1:
        raise ValueError(f"shape must be (1 or 3, H, W), got {shape!r}.")
    if invert not in ("auto", "yes", "no"):
        raise ValueError(f"invert must be 'auto', 'yes' or 'no', got {invert!r}.")
    if len(data) > 20_000_000:
        raise ValueError("The file is larger than 20 MB; upload a small PNG of one image.")
    try:
        img = Image.open(io.BytesIO(data))
        if img.size[0] * img.size[1] > 40_000_000:
            raise ValueError("The image has more than 40 million pixels; upload a small PNG of one image.")
        img.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError("The file is not a readable PNG image.") from exc
    if img.format not in ("PNG", None):
        raise ValueError(f"Please upload a PNG image (this file is {img.format}).")
    if min(img.size) < min(H, W):
        raise ValueError(f"The image is {img.size[0]}x{img.size[1]} pixels; it needs at least {W}x{H}.")
    if max(img.size) > 4 * min(img.size):
        raise ValueError("The image is very elongated; crop it to roughly square around the object.")
    if C == 3:
        arr = np.asarray(img.convert("RGB").resize((W, H), Image.Resampling.BOX), dtype=np.float32) / 255.0
        if float(arr.max() - arr.min()) < 1e-3:
            raise ValueError(f"The image is blank (a single colour) after resizing to {W}x{H}.")
        return np.ascontiguousarray(arr.transpose(2, 0, 1)).astype(np.float32)
    arr = np.asarray(img.convert("L").resize((W, H), Image.Resampling.BOX), dtype=np.float32) / 255.0
    if invert == "yes" or (invert == "auto" and arr.mean() > 0.5):  # dark drawing on light paper
        arr = 1.0 - arr
    lo, hi = float(arr.min()), float(arr.max())
    if hi - lo < 1e-3:
        raise ValueError(f"The image is blank (a single grey level) after resizing to {W}x{H}.")
    if stretch:
        arr = (arr - lo) / (hi - lo)
    return arr.reshape(1, H, W).astype(np.float32)


def digit_from_png(data: bytes, invert: str = "auto") -> np.ndarray:
    """An uploaded PNG as a (1, 8, 8) float32 digit in [0, 1] (``image_from_png`` with shape (1, 8, 8))."""
    return image_from_png(data, (1, 8, 8), invert)
