"""Sections 1-4 of the Gabor page: one filter, the bank, the bound curves and the regulariser, a real image.

Every control's state lives in the URL with the widget's own domain (``url_state``), every figure goes
through ``show_figure``; the regulariser and image sections are fragments, so their controls rerun only
their own section.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import streamlit as st

from robustcore import gabor as G
from robustcore.gabor import image as gimage
from robustcore.gabor import sweep as gsweep
from robustcore.viz import gabor as V
from ui.common import guard, set_url_state, show_figure, url_state

K_CHOICES = [3, 5, 7, 9, 11, 15, 21, 31]
N_CHOICES = [8, 16, 32, 64, 128]
LR_CHOICES = [0.01, 0.02, 0.05, 0.1, 0.2]
SOURCES = {"china.jpg": "scikit-learn sample: china.jpg", "flower.jpg": "scikit-learn sample: flower.jpg",
           "upload": "upload your own"}


@dataclass(frozen=True)
class Family:
    """The filter family set by the sliders of section 1 (paper convention)."""

    sigma: float
    gamma: float
    lambd: float
    psi: float
    theta: float  # radians
    alpha: float
    k: int
    n: int


def _slider(label: str, name: str, lo: float, hi: float, default: float, step: float, key: str, **kw) -> float:
    value = url_state(name, default, float, min_value=lo, max_value=hi, step=step)
    return st.slider(label, lo, hi, float(value), step, key=key, **kw)


@st.cache_data(show_spinner=False, max_entries=256)
def _zero_pad_norm(kernel_bytes: bytes, k: int, n: int) -> float:
    kern = np.frombuffer(kernel_bytes, dtype=np.float64).reshape(k, k)
    return G.zero_pad_spectral_norm(kern, n, iters=300, tol=1e-7)


@st.cache_data(show_spinner=False, max_entries=256)
def _filter_figure(kern_bytes: bytes, k: int, n: int):
    kern = np.frombuffer(kern_bytes, dtype=np.float64).reshape(k, k)
    return V.kernel_and_spectrum(kern, n_fft=n)


def one_filter() -> Family:
    """Section 1: the sliders, the kernel with its spectrum, and bound against exact constant."""
    st.header("1. One filter: bound against exact constant")
    c_ctl, c_fig = st.columns([1, 2.2])
    with c_ctl:
        sigma = _slider("σ (inverse width)", "sigma", 0.05, 8.0, 1.5, 0.05, "g_sigma",
                        help="Larger σ = narrower Gaussian envelope (the paper's convention). Only σ² enters the "
                             "kernel, so −σ is the same filter.")
        gamma = _slider("γ (aspect ratio)", "gamma", 0.05, 4.0, 1.0, 0.05, "g_gamma")
        lambd = _slider("λ (angular frequency, rad per grid unit)", "lambd", 0.0, 20.0, 6.0, 0.1, "g_lambd")
        psi = _slider("ψ (phase, rad)", "psi", -3.1, 3.1, 0.0, 0.05, "g_psi")
        theta_deg = _slider("θ (orientation, degrees)", "theta", 0.0, 360.0, 0.0, 1.0, "g_theta",
                            help="Learnt layers fix θ at 2πr/R; here you may move it freely.")
        alpha = _slider("α (scale)", "alpha", 0.1, 3.0, 1.0, 0.05, "g_alpha")
        ksize = st.select_slider("kernel size k", K_CHOICES, url_state("k", 7, int, choices=K_CHOICES), key="g_k")
        n_in = st.select_slider("input side n (circular padding)", N_CHOICES, url_state("n", 32, int, choices=N_CHOICES),
                                key="g_n")
    set_url_state(sigma=sigma, gamma=gamma, lambd=lambd, psi=psi, theta=theta_deg, alpha=alpha, k=ksize, n=n_in)
    fam = Family(sigma, gamma, lambd, psi, math.radians(theta_deg), alpha, int(ksize), int(n_in))
    with c_fig, guard("computing the filter and its constants"):
        kern = gsweep.single_kernel(fam.k, sigma, gamma, lambd, psi, fam.theta, alpha)
        bound = float(G.closed_form_bound(sigma, gamma, alpha, fam.theta, fam.k))
        exact = float(G.per_filter_spectral_norms(kern[None], fam.n)[0])
        l1 = float(np.abs(kern).sum())
        show_figure(_filter_figure(kern.tobytes(), fam.k, fam.n), key="g_kernel_fig")
        m0, m1, m2, m3, m4 = st.columns(5)
        zp = _zero_pad_norm(kern.tobytes(), fam.k, fam.n) if fam.n <= 64 else None
        m0.metric("zero-pad ‖A‖₂", "n ≤ 64 only" if zp is None else f"{zp:.4g}",
                  help="Zero-padded 'same' convolution on n×n, by power iteration (300 steps at most): a lower "
                       "estimate that converges to the norm, never above the circular value on n+k−1.")
        m1.metric("exact ‖K‖₂", f"{exact:.4g}", help="Circular padding on n×n: max over the DFT frequencies.")
        m2.metric("Σ|g|", f"{l1:.4g}", help="ℓ1 norm of the kernel: step 1 of the proof.")
        m3.metric("bound", f"{bound:.4g}", help="The paper's closed-form bound (formula below).")
        m4.metric("bound/exact", f"{bound / exact:.3g}" if exact > 0 else "∞")
        gc = G.grid_constants(fam.k, [fam.theta])
        st.latex(G.bound_latex())
        st.caption(
            f"Here |X'| = {int(gc['NX'][0])}, m* = {gc['m'][0]:.4g}, |Y'| = {int(gc['NY'][0])}, "
            f"n* = {gc['n'][0]:.4g} (distinct rotated grid coordinates and the smallest non-zero ones). "
            "The exact constant is max over the n×n DFT frequencies of |K̂(u, v)| (the red cross). "
            "The bound does not depend on λ or ψ; at orientations off the axes the rotated grid has many "
            "distinct coordinates (|X'| up to k²) and a small m*, so the bound grows loose."
        )
        if fam.k > 1:
            cv = G.paper_to_opencv(sigma, gamma, lambd, psi, fam.theta, fam.k)
            # "+ 0.0" turns -0.0 into 0.0, so the caption never reads "theta = -0"
            st.caption(
                f"The same kernel in OpenCV's convention (`cv2.getGaborKernel`, pixel units, kernel rotated 180°): "
                f"`sigma` = {cv['sigma']:.3g} px, `theta` = {cv['theta'] + 0.0:.3g} rad, `lambd` = {cv['lambd']:.3g} "
                f"px, `gamma` = {cv['gamma']:.3g}, `psi` = {cv['psi']:.3g}."
            )
    with st.expander("Why the bound holds (and what 'recalled' means here)"):
        st.markdown(
            "The formula is the paper's as quoted in a published reading note; the exact definitions of |X'|, m*, "
            "n* in the paper's theorem were not available to us, so we use the reading that we can **prove**:\n"
            "1. a single-channel convolution has spectral norm max_ω |K̂(ω)| ≤ Σ|g| (triangle inequality; zero "
            "padding and striding never raise it);\n"
            "2. |cos| ≤ 1 leaves the envelope $|\\alpha|\\, e^{-\\sigma^2 x'^2} e^{-\\sigma^2\\gamma^2 y'^2}$;\n"
            "3. grid points map one-to-one to pairs (x', y'), so the sum over the grid is at most "
            "$\\big(\\sum_{x' \\in X'} e^{-\\sigma^2 x'^2}\\big)\\big(\\sum_{y' \\in Y'} e^{-\\sigma^2\\gamma^2 y'^2}\\big)$ "
            "with X', Y' the sets of **distinct** rotated coordinates;\n"
            "4. in each sum the term at 0 is 1 and each other term is at most $e^{-\\sigma^2 m^{*2}}$ "
            "(resp. $e^{-\\sigma^2\\gamma^2 n^{*2}}$).\n\n"
            "The chain exact ≤ Σ|g| ≤ bound is what the three numbers above show; it is tested on thousands of "
            "random parameter draws. σ and γ enter only squared, so a learnt σ < 0 is the same filter as |σ|. "
            "For the whole layer (bank, ReLU, 1×1 mixing W):"
        )
        st.latex(G.layer_bound_latex())
    return fam


@st.cache_data(show_spinner=False, max_entries=64)
def _bank(fam: Family, R: int) -> tuple[np.ndarray, list[str]]:
    thetas = G.orientations_for(R)
    bank = np.stack([gsweep.single_kernel(fam.k, fam.sigma, fam.gamma, fam.lambd, fam.psi, t, fam.alpha)
                     for t in thetas])
    return bank, [f"θ={math.degrees(t):.0f}°" for t in thetas]


@st.cache_data(show_spinner=False, max_entries=64)
def _bank_figures(fam: Family, R: int):
    bank, labels = _bank(fam, R)
    thetas = G.orientations_for(R)
    fb = G.closed_form_bound(np.full(R, fam.sigma), fam.gamma, fam.alpha, thetas, fam.k)
    fe = G.per_filter_spectral_norms(bank, fam.n)
    gallery = V.bank_gallery(bank, labels, n_fft=fam.n, cols=min(R, 8))
    bars = V.bound_vs_exact_bars(fb, fe, labels, l1=np.abs(bank).sum((1, 2)))
    return gallery, bars, G.bank_spectral_norm(bank, fam.n), float(np.sqrt(np.sum(fb**2)))


def the_bank(fam: Family) -> tuple[np.ndarray, list[str], int]:
    """Section 2: every orientation of this family, per-kernel bounds beside exact norms."""
    st.header("2. The bank: every orientation of this family")
    R = st.slider("orientations R (θ_r = 2πr/R)", 1, 16, url_state("R", 8, int, min_value=1, max_value=16, step=1),
                  key="g_R")
    set_url_state(R=R)
    bank, labels = _bank(fam, R)
    with guard("building the bank"):
        gallery, bars, be, bb = _bank_figures(fam, R)
        show_figure(gallery, key="g_gallery")
        show_figure(bars, key="g_bars")
        st.markdown(
            "Whole bank on one channel (one input, R outputs): exact norm "
            rf"$\max_\omega \sqrt{{\sum_f |\hat K_f(\omega)|^2}}$ = **{be:.4g}**, "
            rf"closed-form $\sqrt{{\sum_f L_f^2}}$ = **{bb:.4g}** (ratio {bb / be:.3g}). "
            "With the ReLU and a 1×1 mixing W the layer bound multiplies this by ‖W‖₂."
        )
    return bank, labels, R


@st.cache_data(show_spinner=False, max_entries=64)
def _sweep_panel(param: str, lo: float, hi: float, fam: Family, label: str, current: float) -> dict:
    b = {"sigma": fam.sigma, "gamma": fam.gamma, "lambd": fam.lambd, "psi": fam.psi, "theta": fam.theta,
         "alpha": fam.alpha}
    r = gsweep.bound_sweep(param, np.linspace(lo, hi, 120), b, fam.k, fam.n)
    return dict(values=r["values"], bound=r["bound"], exact=r["exact"], xlabel=label, l1=r["l1"], current=current)


def the_curves(fam: Family) -> None:
    """Section 3: bound and exact constant against sigma and gamma (one figure, two panels)."""
    st.header("3. Bound and exact constant against σ and γ")
    st.caption("Other parameters as set above; the dashed line marks the current value. "
               "The exact constant is on the n×n grid chosen above.")
    with guard("sweeping σ and γ"):
        panels = [_sweep_panel("sigma", 0.05, 8.0, fam, "σ (inverse width)", fam.sigma),
                  _sweep_panel("gamma", 0.05, 4.0, fam, "γ (aspect ratio)", fam.gamma)]
        show_figure(V.bound_curves(panels), key="g_curves")


@st.cache_data(show_spinner=False, max_entries=64)
def _path(fam: Family, R: int, kind: str, steps: int, lr: float) -> dict:
    import torch

    layer = G.GaborConv2d(1, 8, fam.k, families=1, orientations=R, seed=0)
    with torch.no_grad():
        for name, v in (("sigma", fam.sigma), ("gamma", fam.gamma), ("lambd", fam.lambd), ("psi", fam.psi)):
            getattr(layer, name).fill_(v)
        layer.alpha.fill_(fam.alpha)
    return G.regularizer_path(layer, kind, steps=steps, lr=lr, input_hw=fam.n)


@st.fragment
def regulariser_at_work(fam: Family, R: int) -> None:
    """The regulariser descended alone (a fragment: its controls rerun only this section)."""
    st.subheader("The regulariser at work")
    st.markdown(
        "Descend the regulariser **alone** (no data term) from this family, as a layer of R kernels with a "
        "random 1×1 mixing to 8 maps. The paper's term −Σσ² narrows every envelope; the bound term shrinks the "
        "closed-form layer bound directly, through σ, γ, the scales α and the mixing W (alone it would shrink "
        "the layer to nothing: in training the cross-entropy holds it back)."
    )
    kinds = list(G.REGULARIZERS)
    r1, r2, r3 = st.columns(3)
    rk = r1.selectbox("regulariser", kinds, index=kinds.index(url_state("path_kind", "paper", str, choices=kinds)),
                      key="g_path_kind", format_func={"paper": "paper: −Σσ²", "bound": "closed-form layer bound"}.get)
    rsteps = r2.slider("Adam steps", 10, 200, url_state("path_steps", 60, int, min_value=10, max_value=200, step=10),
                       10, key="g_path_steps")
    rlr = r3.select_slider("learning rate", LR_CHOICES, url_state("path_lr", 0.05, float, choices=LR_CHOICES),
                           key="g_path_lr")
    set_url_state(path_kind=rk, path_steps=rsteps, path_lr=rlr)
    with guard("descending the regulariser"):
        path = _path(fam, R, rk, int(rsteps), float(rlr))
        show_figure(V.regularizer_path_figure(path), key="g_path")
        st.caption(f"|σ|: {abs(path['sigma'][0][0]):.3g} → {abs(path['sigma'][-1][0]):.3g}; closed-form layer bound "
                   f"{path['layer_bound'][0]:.4g} → {path['layer_bound'][-1]:.4g}; ‖W‖₂·exact bank norm "
                   f"{path['layer_exact_product'][0]:.4g} → {path['layer_exact_product'][-1]:.4g}. "
                   "Solid lines: the layer; dashed with markers: the bank alone, in the same colour. Each layer "
                   "value is ‖W‖₂ times the bank's by construction, so where the regulariser leaves W alone (the "
                   "paper's term) the pairs run parallel, a constant ‖W‖₂ apart on the log axis.")


@st.cache_data(show_spinner=False)
def _sample(name: str) -> np.ndarray:
    return gimage.sample_image(name, max_side=192)


@st.cache_data(show_spinner=False, max_entries=32)
def _image_figure(img: np.ndarray, bank: np.ndarray, labels: tuple[str, ...]):
    resp = gimage.apply_bank(img, bank[:8], remove_mean=True)
    return V.image_responses(img, resp, list(labels[:8]), cols=4)


@st.fragment
def on_a_real_image(bank: np.ndarray, labels: list[str]) -> None:
    """Section 4: the bank's responses to a photograph, on request (a fragment: its controls rerun only this).

    Off by default, like the tropical page's 3-D view: the photograph's figure is the page's costliest chart
    to draw, and the page must render in under 2 s (issue 15). A link with ``?photo=1`` (or an ``img``) opens it.
    """
    st.header("4. The bank on a real image")
    shown = st.toggle("Filter a photograph with this bank (scikit-learn's sample images or your own)",
                      value=url_state("photo", 0, int, (0, 1)) == 1 or "img" in st.query_params, key="g_photo",
                      help="Each oriented kernel lights up the edges across its own direction.")
    if not shown:
        set_url_state(photo=None, img=None)
        return
    src = st.radio("image", list(SOURCES), format_func=SOURCES.get, horizontal=True,
                   index=list(SOURCES).index(url_state("img", "china.jpg", str, choices=list(SOURCES))), key="g_img")
    set_url_state(photo=1, img=src)
    img = None
    with guard("reading the image"):
        if src == "upload":
            up = st.file_uploader("an image file (PNG, JPEG, ...)", type=None, key="g_upload")
            if up is None:
                st.info("Choose a file to see the bank's responses to it.")
            else:
                img = gimage.image_from_bytes(up.getvalue(), max_side=192)
        else:
            img = _sample(src)
    if img is not None:
        with guard("filtering the image"):
            show_figure(_image_figure(img, bank, tuple(labels)), key="g_image", csv=False)
            st.caption("Gray image (downsampled to at most 192 pixels a side) and the response of each kernel "
                       "(cross-correlation, zero padding) to the image minus its mean gray level, so that a kernel's "
                       "DC gain does not swamp the picture; each response is shown relative to its own peak"
                       + (f", drawn as means over {f}×{f} pixel blocks (a tile is about 130 pixels wide on screen)"
                          if (f := V.block_factor(img.shape)) > 1 else "")
                       + ". A wider k shows the oriented structure better on a real image.")
