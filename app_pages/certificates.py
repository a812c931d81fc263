"""Certificates: one image at a time -- noise, votes, the Cohen certificate, the sigma landscape, the
data-dependent sigma and which certificates are guarantees; dataset curves from the results store.

The page only wires widgets; the views live in ``ui/certificates/`` (one module each) and compute only
when shown. Every noisy computation draws its own stream ``stream_seed(seed, purpose)``.
"""
from __future__ import annotations

import hashlib

import numpy as np

import streamlit as st

from ui.certificates import compute, config, view_dataset, view_landscape, view_table, view_votes
from ui.certificates.context import PageContext
from ui.common import guard, page_header, selected_model, set_url_state, sidebar_settings, url_state

settings = sidebar_settings()
page_header(
    "Certificates",
    "Randomized smoothing replaces a classifier $f$ by the **smoothed classifier** $g$: the class that $f$ "
    "predicts most often on Gaussian-noisy copies of the image. Cohen et al. (2019) certify that $g$ keeps its "
    "answer on an $\\ell_2$ ball of radius $R$ around the image, with probability at least $1-\\alpha$ over the "
    "noise. Pick an image, watch the noise and the votes, see how the radius depends on $\\sigma$ and what a "
    "**data-dependent** $\\sigma$ (Alfarra et al. 2022) buys, and read which numbers are guarantees.",
    r"\begin{aligned}g(x)&=\arg\max_c \Pr_{\varepsilon\sim\mathcal N(0,\sigma^2 I)}\big[f(x+\varepsilon)=c\big]\\"
    r"R&=\sigma\,\Phi^{-1}\big(\underline{p_A}\big),\quad \underline{p_A}=\mathrm{BetaInv}(\alpha;\,n_A,\,n-n_A+1)"
    r"\end{aligned}",
)


def bind(key: str, name: str, default, cast=None, choices=None, **domain):
    """Seed the widget ``key`` from the URL parameter ``name`` (same domain as the widget) on first use."""
    value = url_state(name, default, cast, choices, **domain)
    if key not in st.session_state:
        st.session_state[key] = value
    return st.session_state[key]


# ------------------------------------------------------------------ shared state (kept in the URL)
dataset = settings.dataset if settings.dataset in config.SHAPES else "digits"
linked = url_state("dataset", dataset, str, choices=list(config.SHAPES))
first_run = "cert_first_run_done" not in st.session_state
st.session_state["cert_first_run_done"] = True
if linked != dataset and first_run:  # only a shared link can disagree with the sidebar on arrival
    st.info(f"This link was made for the {config.DATASET_LABELS[linked]} dataset; choose it under Dataset in the "
            "sidebar to see that image.")
choice = config.base_choice(dataset, settings.model)
uploaded = settings.model == "upload"

bind("cert_view", "view", "votes", str, choices=list(config.VIEWS))
bind("cert_method", "model", "cohen", str, choices=list(config.METHODS))
bind("cert_train_sigma", "train_sigma", 0.25, float, choices=config.TRAIN_SIGMAS)
bind("cert_sigma", "sigma", 0.25, float, min_value=config.SIGMA_MIN, max_value=config.SIGMA_MAX,
     step=config.SIGMA_STEP)
bind("cert_n", "n", 1000, int, choices=config.N_CHOICES)
bind("cert_src", "src", "test", str, choices=list(config.SOURCES))
bind("cert_steps", "steps", 100, int, choices=config.STEPS_CHOICES)
bind("cert_lr", "lr", 0.01, float, choices=config.LR_CHOICES)
bind("cert_r_lip", "r_lip", 0.1, float, choices=config.R_LIP_CHOICES)
bind("cert_clustr", "clustr", False, bool)
bind("cert_k_img", "k_img", 30, int, choices=config.K_IMAGES_CHOICES)
bind("cert_draw", "draw", 0, int, min_value=0, max_value=10**6, step=1)
view = st.session_state["cert_view"]  # the radio that sets it is drawn below the image picker

c1, c2 = st.columns(2)
sigma = float(c1.slider("Certification σ", config.SIGMA_MIN, config.SIGMA_MAX, step=config.SIGMA_STEP,
                        key="cert_sigma", help="σ of the fixed-σ certificate (and of the Lipschitz-σ "
                                               "function at the median kNN distance)."))
n = int(c2.select_slider("Samples n", config.N_CHOICES, key="cert_n",
                         help="Monte Carlo samples of every certificate on the page (Cohen uses 100,000; small n is "
                              "quick but caps the radius at σ·Φ⁻¹(α^(1/n)))."))
methods = list(choice.methods) or ["cohen"]
if st.session_state["cert_method"] not in methods:
    st.session_state["cert_method"] = methods[0]
method = st.session_state["cert_method"]
if uploaded and settings.model_bytes is not None:
    st.caption("Base classifier: the checkpoint uploaded in the sidebar.")
elif choice.methods:
    summary = (f"Base classifier: {config.METHODS[method]}"
               + ("" if method == "plain" else f", trained at σ = {st.session_state['cert_train_sigma']:g}")
               + f" ({choice.arch if method in ('cohen', 'plain') else 'digits-cnn'})")
    with st.expander(summary):
        m1, m2 = st.columns(2)
        method = m1.selectbox("Base classifier", methods, format_func=config.METHODS.get, key="cert_method",
                              help="How the base classifier f was trained (Gaussian augmentation, SmoothAdv, MACER); "
                                   "the sidebar's Model picks the architecture. Trained once, then cached.")
        m2.selectbox("Training σ", config.TRAIN_SIGMAS, key="cert_train_sigma",
                     help="Noise level the built-in model was trained at; also σ_0 of the DDRS ascent.")
        if choice.note:
            st.caption(choice.note)
train_sigma = float(st.session_state["cert_train_sigma"])
seed = int(settings.seed)
if uploaded:
    arch = "upload:" + hashlib.sha256(settings.model_bytes or b"").hexdigest()[:16]
else:  # SmoothAdv and MACER train the digits CNN whatever the sidebar's architecture
    arch = (choice.arch if method in ("cohen", "plain") else "digits-cnn") or "none"
ctx = PageContext(dataset=dataset, root=settings.data_root or "", method=method, train_sigma=float(train_sigma),
                  arch=arch, sigma=sigma, n=n, seed=seed, streams=compute.streams(seed),
                  shape=config.SHAPES[dataset], draw=int(st.session_state["cert_draw"]))

# ------------------------------------------------------------------ the base classifier and the image
image_index = int(url_state("image", 0, int, min_value=0, max_value=10**6, step=1))
X = y = None
source = st.session_state["cert_src"]
if view != "dataset" and source == "test":
    try:  # the data first: a folder dataset without its folder needs no model to say so
        X, y = compute.test_set(dataset, ctx.root)
    except ValueError as exc:
        st.info(f"{config.DATASET_LABELS[dataset]} needs its folder: {exc}")
missing_upload = uploaded and settings.model_bytes is None
if view != "dataset" and not choice.methods and (not uploaded or missing_upload):
    st.info(choice.note)
elif view != "dataset" and missing_upload:
    st.info("The base classifier is your checkpoint: choose its file under Model in the sidebar (Cohen et al.'s "
            "checkpoints, state dicts and TorchScript files load), or pick a built-in model there.")
if view != "dataset" and (source == "upload" or X is not None) and (uploaded or choice.methods) \
        and not missing_upload:
    with guard("loading the base classifier"):
        if uploaded:
            loaded, _ = selected_model(settings)
            ctx.model = compute.check_base_model(loaded, ctx.shape, ctx.num_classes, "the uploaded checkpoint")
        else:
            model, _ = compute.builtin_model(dataset, method, float(train_sigma), arch)
            ctx.model = compute.check_base_model(model, ctx.shape, ctx.num_classes, "the built-in model")
if view != "dataset" and (ctx.model is not None or (source == "test" and X is None)):
    source = st.radio("Image", list(config.SOURCES), format_func=config.SOURCES.get, horizontal=True, key="cert_src")
if view != "dataset" and ctx.model is not None:
    if source == "test" and X is not None:
        image_index = int(url_state("image", 0, int, min_value=0, max_value=len(X) - 1, step=1))
        if "cert_image" not in st.session_state:
            st.session_state["cert_image"] = image_index
        st.session_state["cert_image"] = min(max(int(st.session_state["cert_image"]), 0), len(X) - 1)
        image_index = int(st.number_input(f"Test image index (0-{len(X) - 1})", 0, len(X) - 1, step=1,
                                          key="cert_image"))
        ctx.X, ctx.y, ctx.image_index = X, y, image_index
        ctx.x, ctx.label = np.array(X[image_index]), int(y[image_index])
        ctx.key = f"{dataset}:test:{image_index}"
        if view == "votes":
            view_votes.render_gallery(ctx)
    elif source == "upload":
        from robustcore.viz.smoothing import image_from_png

        C, H, W = ctx.shape
        up = st.file_uploader(f"A PNG of one image (resized to {H}x{W}, {'colour' if C == 3 else 'grey'})",
                              type=["png"])
        inv = "no"
        if C == 1:
            inv = st.radio("Invert colours", ["auto", "yes", "no"], horizontal=True,
                           help="Digits and MNIST have bright strokes on black; 'auto' inverts light backgrounds.")
        if up is None:
            st.info("Upload a PNG to certify it, or switch back to the test set.")
        else:
            with guard("reading the uploaded image"):
                data = up.getvalue()
                ctx.x = image_from_png(data, ctx.shape, inv)
                ctx.key = f"{dataset}:upload:" + hashlib.sha256(data).hexdigest()[:16]

# ------------------------------------------------------------------ the chosen view
view = st.radio("Show", list(config.VIEWS), format_func=config.VIEWS.get, horizontal=True, key="cert_view",
                help="Only the chosen view computes, so every change re-renders quickly.")
if view == "dataset":
    view_dataset.render(dataset, method, float(train_sigma), sigma, n, builtin=not uploaded and bool(choice.methods))
elif ctx.x is not None and ctx.model is not None:
    if view == "votes":
        view_votes.render(ctx)
    elif view == "landscape":
        steps, lr = view_landscape.ascent_controls()
        view_landscape.render(ctx, steps, lr)
    else:
        st.caption("The data-dependent rows use the ascent settings of the landscape view: "
                   f"{st.session_state['cert_steps']} steps of size {st.session_state['cert_lr']}.")
        view_table.render(ctx, int(st.session_state["cert_steps"]), float(st.session_state["cert_lr"]))

set_url_state(dataset=dataset, view=view, model=method, train_sigma=train_sigma, sigma=f"{sigma:.2f}", n=n,
              image=image_index, src=st.session_state["cert_src"], steps=st.session_state["cert_steps"],
              lr=st.session_state["cert_lr"], r_lip=st.session_state["cert_r_lip"],
              clustr=str(bool(st.session_state["cert_clustr"])).lower(), k_img=st.session_state["cert_k_img"],
              draw=st.session_state["cert_draw"] or None)
