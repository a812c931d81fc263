"""Gabor filters: the learnable bank, its frequency responses, and its Lipschitz constant
(closed-form bound of Pérez et al., ECCV 2020, beside the exact value), the regulariser at work."""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from robustcore import gabor as G
from robustcore.gabor import image as gimage
from robustcore.gabor import sweep as gsweep
from robustcore.gabor import training as gtrain
from robustcore.viz import gabor as V
from ui.common import StreamlitProgress, guard, page_header, set_url_state, sidebar_settings, url_state

settings = sidebar_settings()

page_header(
    "Gabor filters and their Lipschitz constant",
    "A **Gabor layer** (Pérez et al., *Gabor Layers Enhance Network Robustness*, ECCV 2020) replaces a "
    "network's first convolution by a bank of Gabor kernels whose parameters are learnt: per family the "
    "inverse width **σ**, the aspect ratio **γ**, the angular frequency **λ** and the phase **ψ**; the "
    "orientation **θ** is fixed at R angles 2πr/R, and each kernel has a scale **α**. Move the sliders: the "
    "kernel, its frequency response and its Lipschitz constant (how much the filter can stretch an input "
    "in the l2 norm) follow at once, with the paper's closed-form **bound** beside the **exact** value.",
    r"G_\theta(x', y') = \alpha\, e^{-\sigma^2 (x'^2 + \gamma^2 y'^2)} \cos(\lambda x' + \psi),\quad "
    r"x' = x\cos\theta - y\sin\theta,\; y' = x\sin\theta + y\cos\theta,\; (x, y) \in \mathrm{linspace}(-1, 1, k)^2",
)

# ------------------------------------------------------------------ one filter
st.header("1. One filter: bound against exact constant")
c_ctl, c_fig = st.columns([1, 2.2])
with c_ctl:
    sigma = st.slider("σ (inverse width)", 0.05, 8.0, url_state("sigma", 1.5, float), 0.05, key="g_sigma",
                      help="Larger σ = narrower Gaussian envelope (the paper's convention).")
    gamma = st.slider("γ (aspect ratio)", 0.05, 4.0, url_state("gamma", 1.0, float), 0.05, key="g_gamma")
    lambd = st.slider("λ (angular frequency, rad per grid unit)", 0.0, 20.0, url_state("lambd", 6.0, float), 0.1,
                      key="g_lambd")
    psi = st.slider("ψ (phase, rad)", -math.pi, math.pi, url_state("psi", 0.0, float), 0.05, key="g_psi")
    theta_deg = st.slider("θ (orientation, degrees)", 0.0, 360.0, url_state("theta", 0.0, float), 1.0, key="g_theta",
                          help="Learnt layers fix θ at 2πr/R; here you may move it freely.")
    alpha = st.slider("α (scale)", 0.1, 3.0, url_state("alpha", 1.0, float), 0.05, key="g_alpha")
    ksize = st.select_slider("kernel size k", [3, 5, 7, 9, 11, 15, 21, 31], url_state("k", 7, int), key="g_k")
    n_in = st.select_slider("input side n (circular padding)", [8, 16, 32, 64, 128], url_state("n", 32, int),
                            key="g_n")
set_url_state(sigma=sigma, gamma=gamma, lambd=lambd, psi=psi, theta=theta_deg, alpha=alpha, k=ksize, n=n_in)
theta = math.radians(theta_deg)



@st.cache_data(show_spinner=False, max_entries=256)
def _zero_pad_norm(kernel_bytes: bytes, k: int, n: int) -> float:
    kern = np.frombuffer(kernel_bytes, dtype=np.float64).reshape(k, k)
    return G.zero_pad_spectral_norm(kern, n, iters=300, tol=1e-7)


with c_fig:
    with guard("computing the filter and its constants"):
        kern = gsweep.single_kernel(ksize, sigma, gamma, lambd, psi, theta, alpha)
        bound = float(G.closed_form_bound(sigma, gamma, alpha, theta, ksize))
        exact = float(G.per_filter_spectral_norms(kern[None], n_in)[0])
        l1 = float(np.abs(kern).sum())
        st.plotly_chart(V.kernel_and_spectrum(kern, n_fft=n_in), width="stretch", key="g_kernel_fig")
        m0, m1, m2, m3, m4 = st.columns(5)
        zp = _zero_pad_norm(kern.tobytes(), ksize, n_in) if n_in <= 64 else None
        m0.metric("zero-pad ‖A‖₂", "n ≤ 64 only" if zp is None else f"{zp:.4g}",
                  help="Zero-padded 'same' convolution on n×n, by power iteration (300 steps at most): a lower "
                       "estimate that converges to the norm, never above the circular value on n+k−1.")
        m1.metric("exact ‖K‖₂", f"{exact:.4g}", help="Circular padding on n×n: max over the DFT frequencies.")
        m2.metric("Σ|g|", f"{l1:.4g}", help="ℓ1 norm of the kernel: step 1 of the proof.")
        m3.metric("bound", f"{bound:.4g}", help="The paper's closed-form bound (formula below).")
        m4.metric("bound/exact", f"{bound / exact:.3g}" if exact > 0 else "∞")
        gc = G.grid_constants(ksize, [theta])
        st.latex(G.bound_latex())
        st.caption(
            f"Here |X'| = {int(gc['NX'][0])}, m* = {gc['m'][0]:.4g}, |Y'| = {int(gc['NY'][0])}, "
            f"n* = {gc['n'][0]:.4g} (distinct rotated grid coordinates and the smallest non-zero ones). "
            "The exact constant is max over the n×n DFT frequencies of |K^(u, v)| (the red cross). "
            "The bound does not depend on λ or ψ; at orientations off the axes the rotated grid has many "
            "distinct coordinates (|X'| up to k²) and a small m*, so the bound grows loose."
        )
        if ksize > 1:
            cv = G.paper_to_opencv(sigma, gamma, lambd, psi, theta, ksize)
            st.caption(
                f"The same kernel in OpenCV's convention (`cv2.getGaborKernel`, pixel units, kernel rotated 180°): "
                f"sigma = {cv['sigma']:.3g} px, theta = {cv['theta']:.3g} rad, lambd = {cv['lambd']:.3g} px, "
                f"gamma = {cv['gamma']:.3g}, psi = {cv['psi']:.3g}."
            )

with st.expander("Why the bound holds (and what 'recalled' means here)"):
    st.markdown(
        "The formula is the paper's as quoted in a published reading note; the exact definitions of |X'|, m*, "
        "n* in the paper's theorem were not available to us, so we use the reading that we can **prove**:\n"
        "1. a single-channel convolution has spectral norm max_ω |K^(ω)| ≤ Σ|g| (triangle inequality; zero "
        "padding and striding never raise it);\n"
        "2. |cos| ≤ 1 leaves the envelope |α| e^{-σ²x'²} e^{-σ²γ²y'²};\n"
        "3. grid points map one-to-one to pairs (x', y'), so Σ over the grid ≤ (Σ_{x'∈X'} e^{-σ²x'²})"
        "(Σ_{y'∈Y'} e^{-σ²γ²y'²}) with X', Y' the sets of **distinct** rotated coordinates;\n"
        "4. in each sum the term at 0 is 1 and each other term is at most e^{-σ²m*²} (resp. n*).\n\n"
        "The chain exact ≤ Σ|g| ≤ bound is what the three numbers above show; it is tested on thousands of "
        "random parameter draws. For the whole layer (bank, ReLU, 1×1 mixing W):"
    )
    st.latex(G.layer_bound_latex())

# ------------------------------------------------------------------ the bank
st.header("2. The bank: every orientation of this family")
R = st.slider("orientations R (θ_r = 2πr/R)", 1, 16, url_state("R", 8, int), key="g_R")
set_url_state(R=R)
with guard("building the bank"):
    thetas = G.orientations_for(R)
    bank = np.stack([gsweep.single_kernel(ksize, sigma, gamma, lambd, psi, t, alpha) for t in thetas])
    labels = [f"θ={math.degrees(t):.0f}°" for t in thetas]
    st.plotly_chart(V.bank_gallery(bank, labels, n_fft=n_in, cols=min(R, 8)), width="stretch",
                    key="g_gallery")
    fb = G.closed_form_bound(np.full(R, sigma), gamma, alpha, thetas, ksize)
    fe = G.per_filter_spectral_norms(bank, n_in)
    st.plotly_chart(V.bound_vs_exact_bars(fb, fe, labels, l1=np.abs(bank).sum((1, 2))), width="stretch",
                    key="g_bars")
    be = G.bank_spectral_norm(bank, n_in)
    bb = float(np.sqrt(np.sum(fb**2)))
    st.markdown(
        f"Whole bank on one channel (one input, R outputs): exact norm max_ω √(Σ_f |K^_f(ω)|²) = **{be:.4g}**, "
        f"closed-form √(Σ_f L_f²) = **{bb:.4g}** (ratio {bb / be:.3g}). With the ReLU and a 1×1 mixing W the "
        "layer bound multiplies this by ‖W‖₂."
    )

# ------------------------------------------------------------------ curves
st.header("3. Bound and exact constant against σ and γ")
st.caption("Other parameters as set above; the dashed line marks the current value. "
           "The exact constant is on the n×n grid chosen above.")


@st.cache_data(show_spinner=False, max_entries=64)
def _sweep(param: str, lo: float, hi: float, base: tuple, k: int, n: int) -> dict:
    b = dict(zip(("sigma", "gamma", "lambd", "psi", "theta", "alpha"), base))
    return gsweep.bound_sweep(param, np.linspace(lo, hi, 120), b, k, n)


with guard("sweeping σ and γ"):
    base = (sigma, gamma, lambd, psi, theta, alpha)
    cs, cg = st.columns(2)
    r = _sweep("sigma", 0.05, 8.0, base, ksize, n_in)
    cs.plotly_chart(V.bound_curve(r["values"], r["bound"], r["exact"], "σ (inverse width)", l1=r["l1"],
                                  current=sigma), width="stretch", key="g_curve_sigma")
    r = _sweep("gamma", 0.05, 4.0, base, ksize, n_in)
    cg.plotly_chart(V.bound_curve(r["values"], r["bound"], r["exact"], "γ (aspect ratio)", l1=r["l1"],
                                  current=gamma), width="stretch", key="g_curve_gamma")

# ------------------------------------------------------------------ regulariser
st.subheader("The regulariser at work")
st.markdown(
    "Descend the regulariser **alone** (no data term) from this family, as a layer of R kernels with a "
    "random 1×1 mixing to 8 maps. The paper's term −Σσ² narrows every envelope; the bound term shrinks the "
    "closed-form layer bound directly, through σ, γ, the scales α and the mixing W (alone it would shrink "
    "the layer to nothing: in training the cross-entropy holds it back)."
)
r1, r2, r3 = st.columns(3)
rk = r1.selectbox("regulariser", list(G.REGULARIZERS), key="g_path_kind",
                  format_func={"paper": "paper: −Σσ²", "bound": "closed-form layer bound"}.get)
rsteps = r2.slider("Adam steps", 10, 200, 60, 10, key="g_path_steps")
rlr = r3.select_slider("learning rate", [0.01, 0.02, 0.05, 0.1, 0.2], 0.05, key="g_path_lr")


@st.cache_data(show_spinner=False, max_entries=64)
def _path(params: tuple, k: int, R: int, kind: str, steps: int, lr: float, n: int) -> dict:
    import torch

    sg, gm, lm, ps, al = params
    layer = G.GaborConv2d(1, 8, k, families=1, orientations=R, seed=0)
    with torch.no_grad():
        for name, v in (("sigma", sg), ("gamma", gm), ("lambd", lm), ("psi", ps)):
            getattr(layer, name).fill_(v)
        layer.alpha.fill_(al)
    return G.regularizer_path(layer, kind, steps=steps, lr=lr, input_hw=n)


with guard("descending the regulariser"):
    path = _path((sigma, gamma, lambd, psi, alpha), ksize, R, rk, rsteps, rlr, n_in)
    st.plotly_chart(V.regularizer_path_figure(path), width="stretch", key="g_path")
    st.caption(f"σ: {path['sigma'][0][0]:.3g} → {path['sigma'][-1][0]:.3g}; closed-form layer bound "
               f"{path['layer_bound'][0]:.4g} → {path['layer_bound'][-1]:.4g}; ‖W‖·exact bank norm "
               f"{path['layer_exact_product'][0]:.4g} → {path['layer_exact_product'][-1]:.4g}.")

# ------------------------------------------------------------------ real image
st.header("4. The bank on a real image")
SOURCES = {"china.jpg": "scikit-learn sample: china.jpg", "flower.jpg": "scikit-learn sample: flower.jpg",
           "upload": "upload your own"}
src = st.radio("image", list(SOURCES), format_func=SOURCES.get, horizontal=True,
               index=list(SOURCES).index(url_state("img", "china.jpg", str, choices=list(SOURCES))), key="g_img")
set_url_state(img=src)


@st.cache_data(show_spinner=False)
def _sample(name: str) -> np.ndarray:
    return gimage.sample_image(name, max_side=192)


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
        resp = gimage.apply_bank(img, bank[:8], remove_mean=True)
        st.plotly_chart(V.image_responses(img, resp, labels[:8], cols=3), width="stretch", key="g_image")
        st.caption("Gray image (downsampled to at most 192 pixels a side) and the response of each kernel "
                   "(cross-correlation, zero padding) to the image minus its mean gray level, so that a kernel's DC "
                   "gain does not swamp the picture; each response is shown relative to its own peak. A wider k "
                   "shows the oriented structure better on a real image.")

# ------------------------------------------------------------------ trained models
st.header("5. Does it make networks robust? Three small CNNs")
st.markdown(
    "The same small CNN with a **standard** 3×3 first layer, a **Gabor** layer (2 families × 8 orientations, "
    "k = 5, ReLU, 1×1 mixing to 16 maps) and a Gabor layer trained with the **regulariser**: the paper's "
    "L = L_ce − β Σ_i σ_i² (which rewards narrower envelopes and so a smaller bound), or the closed-form layer "
    "bound itself. Accuracy under PGD is an attack result: an *upper* bound on the true robust accuracy, "
    "not a certificate."
)
data = "cifar10" if settings.dataset == "cifar10" else "digits"
if settings.dataset == "mnist":
    st.info("The comparison runs on digits (8×8) or CIFAR-10; MNIST is not wired here, so digits are used.")
t1, t2, t3 = st.columns(3)
epochs = t1.number_input("epochs", 1, 200, url_state("ep", 30, int), key="g_epochs")
reg_kind = t2.selectbox("regulariser", list(G.REGULARIZERS), key="g_reg",
                        index=list(G.REGULARIZERS).index(url_state("reg", "paper", str, choices=list(G.REGULARIZERS))),
                        format_func={"paper": "paper: −β Σσ²", "bound": "closed-form layer bound"}.get)
beta = t3.number_input("β (weight)", 0.0, 100.0, url_state("beta", 0.05, float), format="%.4f", key="g_beta")
set_url_state(ep=int(epochs), beta=beta, reg=reg_kind)
cfg = dict(epochs=int(epochs), reg_kind=reg_kind, beta=float(beta), seed=int(settings.seed), data=data)
if data == "cifar10":
    cfg.update(root=settings.data_root, limit=5000)


@st.cache_resource(show_spinner=False, max_entries=8)
def _trained_first_layer(variant: str, config: tuple):
    model, _ = gtrain.trained_variant(variant, **dict(config))
    return model.first


@st.cache_data(show_spinner=False, max_entries=16)
def _compare(config: tuple, device: str, _progress=None):
    return gtrain.run_comparison(progress=_progress, device=device, **dict(config))


with guard("training and attacking the three models"):
    long = gtrain.stored_comparison(**cfg)
    if long is None:
        st.info("These models are not trained yet for these settings (about a minute on a laptop CPU for digits; "
                "cached on disk and in the results store afterwards).")
        if st.button("Train and attack the three models", key="g_train"):
            bar = StreamlitProgress("training...")
            long = _compare(tuple(sorted(cfg.items())), settings.device, bar)
            bar.done()
    if long is not None:
        table = gtrain.comparison_table(long)
        st.dataframe(table, hide_index=True, width="stretch", key="g_table")
        st.plotly_chart(V.robustness_curves(long), width="stretch", key="g_robust")
        st.caption("Columns: clean test accuracy and accuracy under 10-step PGD at each radius (l-inf on pixel "
                   "values in [0, 1], and l2); 'first-layer Lipschitz <= (spectral)' is ‖W‖₂·‖bank‖₂ (Gabor) or "
                   "‖conv‖₂ (standard), exact spectral norms that bound the zero-padded first layer; 'closed-form "
                   "bound' is the paper's bound for the Gabor layer. Stored as runs of kind 'gabor-robustness'; "
                   "the command line does the same: `robustcore gabor-train`.")

        st.subheader("The learnt banks")
        side = 32 if data == "cifar10" else 8
        for v in ("gabor", "gabor-reg"):
            with guard(f"loading the trained {v} layer"):
                layer = _trained_first_layer(v, tuple(sorted(cfg.items())))
                rep = G.lipschitz_report(layer, side + layer.kernel_size - 1)
                p = layer.parameters_numpy()
                st.markdown(f"**{v}**: learnt σ = {np.round(p['sigma'], 2).tolist()}, "
                            f"γ = {np.round(p['gamma'], 2).tolist()}, λ = {np.round(p['lambd'], 2).tolist()}")
                st.plotly_chart(V.bank_gallery(layer.kernels().detach().numpy(), n_fft=16, cols=8),
                                width="stretch", key=f"g_learnt_{v}")
                st.plotly_chart(V.bound_vs_exact_bars(rep["filter_bound"], rep["filter_exact"]),
                                width="stretch", key=f"g_learnt_bars_{v}")
                st.caption(f"Layer: closed-form bound {rep['layer_bound']:.4g}; ‖W‖₂·‖bank‖₂ = "
                           f"{rep['layer_exact_product']:.4g}; linear part W∘bank (no ReLU) {rep['linear_exact']:.4g}.")
