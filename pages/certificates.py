"""Certificates: one image at a time -- noise, votes, the Cohen certificate, the sigma landscape,
the data-dependent sigma, and which certificates are sound; dataset curves from the results store."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st
import torch

from ui.common import (
    StreamlitProgress,
    guard,
    page_header,
    selected_model,
    set_url_state,
    sidebar_settings,
    url_state,
)

N_CHOICES = [100, 500, 1000, 10_000, 100_000]
TRAIN_SIGMAS = [0.12, 0.25, 0.5]
METHODS = {"cohen": "Gaussian augmentation (Cohen)", "smoothadv": "SmoothAdv", "macer": "MACER",
           "plain": "Undefended (no noise)"}
ALPHA = 0.001
N0 = 100
LANDSCAPE_SIGMAS = np.round(np.linspace(0.025, 1.0, 40), 4)

settings = sidebar_settings()
page_header(
    "Certificates",
    "Randomized smoothing replaces a classifier $f$ by the **smoothed classifier** $g$: the class that $f$ "
    "predicts most often on Gaussian-noisy copies of the image. Cohen et al. (2019) certify that $g$ keeps its "
    "answer on an $\\ell_2$ ball of radius $R$ around the image, with probability at least $1-\\alpha$ over the "
    "noise. Pick an image, watch the noise and the votes, then see how the radius depends on $\\sigma$, what a "
    "**data-dependent** $\\sigma$ (Alfarra et al. 2022) buys, and which of the resulting numbers are guarantees.",
    r"g(x)=\arg\max_c \Pr_{\varepsilon\sim\mathcal N(0,\sigma^2 I)}\big[f(x+\varepsilon)=c\big],\qquad "
    r"R=\sigma\,\Phi^{-1}\big(\underline{p_A}\big),\quad \underline{p_A}=\mathrm{BetaInv}(\alpha;\,n_A,\,n-n_A+1)",
)

# ------------------------------------------------------------------ state (kept in the URL)
dataset = url_state("dataset", "digits", str, choices=["digits"])
if settings.dataset != "digits":
    st.info("This page inspects the embedded digits test set (450 images); for MNIST / CIFAR-10 certify with "
            "`robustcore certify` and compare the stored runs in the dataset view below.")
img_index = url_state("image", 0, int)
img_index = int(min(max(img_index, 0), 449))
sigma = url_state("sigma", 0.25, float)
sigma = float(min(max(sigma, 0.02), 1.0))
n = url_state("n", 1000, int, choices=N_CHOICES)
method = url_state("model", "cohen", str, choices=list(METHODS))


# ------------------------------------------------------------------ cached heavy work
@st.cache_resource(show_spinner=False)
def load_model(method: str, train_sigma: float, arch: str):
    """The base classifier (trained and cached on disk on first use)."""
    from robustcore.nets import default_model
    from robustcore.smoothing.training import smoothing_model

    bar = StreamlitProgress(f"Loading the {METHODS[method]} model (trained once, then cached)...")
    try:
        if arch == "digits-mlp" and method in ("cohen", "plain"):
            model, info = default_model("digits-mlp", progress=bar,
                                        noise_sigma=0.0 if method == "plain" else train_sigma)
        else:
            model, info = smoothing_model(method, train_sigma, progress=bar)
    finally:
        bar.done()
    return model.eval(), info


def _check_digits_model(model):
    """An uploaded model must map (n, 1, 8, 8) digits in [0, 1] to 10 logits."""
    import torch

    try:
        with torch.no_grad():
            out = model(torch.zeros(2, 1, 8, 8))
    except Exception as exc:  # noqa: BLE001 - any failure means the architecture does not fit
        raise ValueError(f"the uploaded model cannot classify 8x8 digits ({type(exc).__name__}: {exc}).") from None
    if tuple(out.shape) != (2, 10):
        raise ValueError(f"the uploaded model returns shape {tuple(out.shape[1:])} per image, not 10 digit logits.")
    return model.eval()


@st.cache_data(show_spinner=False)
def load_test_set():
    from robustcore.data import load_digits

    X, y = load_digits("test")
    return X.numpy(), y.numpy()


@st.cache_data(show_spinner=False)
def clean_predictions(model_key: tuple, _model) -> np.ndarray:
    X, _ = load_test_set()
    with torch.inference_mode():
        return _model(torch.from_numpy(X)).argmax(1).numpy()


@st.cache_data(show_spinner=False)
def stored_radii(model_key: tuple, sigma: float) -> tuple[dict, str]:
    """Radii of the largest stored fixed-sigma run for this model and sigma (index -> radius)."""
    from robustcore.smoothing.runner import RUN_KIND
    from robustcore.store import ResultsStore

    method, train_sigma, arch = model_key
    if arch.startswith("upload:"):
        return {}, ""  # stored runs belong to the built-in models
    runs = ResultsStore().runs(RUN_KIND)
    best, label = None, ""
    for _, run in runs.iterrows():
        cfg = run["config"]
        if (cfg.get("model") == method and abs(float(cfg.get("sigma", -1)) - sigma) < 1e-9
                and abs(float(cfg.get("train_sigma", -1)) - train_sigma) < 1e-9 and run["n_results"] > 0):
            if best is None or run["n_results"] > best["n_results"]:
                best, label = run, f"run {run['id']} (n={cfg.get('n')}, {run['n_results']} images)"
    if best is None:
        return {}, ""
    df = ResultsStore().results(int(best["id"]))
    return dict(zip(df["index"].astype(int), df["radius"].astype(float))), label


@st.cache_data(show_spinner=False)
def noisy_samples(model_key: tuple, _model, x: np.ndarray, sigma: float, seed: int, k: int = 12):
    g = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(x)
    noisy = xt + sigma * torch.randn((k, *xt.shape), generator=g)
    with torch.inference_mode():
        preds = _model(noisy).argmax(1).numpy()
    return noisy.numpy(), preds


@st.cache_data(show_spinner=False)
def cohen_certificate(model_key: tuple, _model, x: np.ndarray, sigma: float, n: int, seed: int):
    from robustcore.smoothing.certify import Smooth

    bar = StreamlitProgress(f"CERTIFY at sigma = {sigma:.3f} with n = {n:,} samples")
    try:
        cert = Smooth(_model, 10, sigma).certify(torch.from_numpy(x), n0=N0, n=n, alpha=ALPHA, seed=seed,
                                                 batch_size=2000, progress=lambda f: bar(f, "sampling"))
    finally:
        bar.done()
    return cert


@st.cache_data(show_spinner=False)
def landscape(model_key: tuple, _model, x: np.ndarray, n_land: int, seed: int):
    from robustcore.smoothing.landscape import sigma_landscape

    bar = StreamlitProgress("Sigma landscape (common random numbers)")
    try:
        return sigma_landscape(_model, torch.from_numpy(x), LANDSCAPE_SIGMAS, n=n_land, alpha=ALPHA, seed=seed,
                               progress=bar)
    finally:
        bar.done()


@st.cache_data(show_spinner=False)
def data_dependent(model_key: tuple, _model, x: np.ndarray, sigma0: float, steps: int, lr: float, n: int, seed: int):
    from robustcore.smoothing.ddsigma import certify_data_dependent

    bar = StreamlitProgress("Optimising sigma (DDRS), then certifying it with fresh samples")
    try:
        return certify_data_dependent(_model, torch.from_numpy(x), 10, sigma0=sigma0, steps=steps, lr=lr,
                                      n_samples=32, n0=N0, n=n, alpha=ALPHA, seed=seed, batch_size=2000,
                                      progress=bar)
    finally:
        bar.done()


@st.cache_resource(show_spinner=False)
def knn_sigma(sigma_base: float, r: float):
    from robustcore.data import load_digits
    from robustcore.smoothing.lipschitz_sigma import KnnSigma

    Xtr, _ = load_digits("train")
    return KnnSigma(Xtr.numpy(), sigma_base=sigma_base, r=r, k=10)


@st.cache_data(show_spinner=False)
def lipschitz_certificate(model_key: tuple, _model, x: np.ndarray, sigma_base: float, r: float, n: int, seed: int):
    from robustcore.smoothing.lipschitz_sigma import certify_lipschitz_sigma

    return certify_lipschitz_sigma(_model, torch.from_numpy(x), knn_sigma(sigma_base, r), r=r, num_classes=10,
                                   n0=N0, n=n, alpha=ALPHA, seed=seed, batch_size=2000)


def memory_decision(memory_name: str, key: str, x: np.ndarray, label: int, radius: float, sigma_x: float):
    """The memory classifier's answer: the stored entry for this query, else process and store it.

    One memory per data-dependent classifier (model, sigma_0, ascent settings, n): a different
    setting is a different classifier, with its own memory in the results store.
    """
    from robustcore.smoothing.memory import CertificationMemory
    from robustcore.store import ResultsStore

    mem = CertificationMemory(x.size, store=ResultsStore(), name=memory_name)
    if key in mem.keys:
        j = mem.keys.index(key)
        return mem, int(mem.labels[j]), float(mem.radii[j]), "answered from memory (seen before)"
    dec = mem.insert(x, label, radius, key=key, sigma=sigma_x)
    return mem, dec.label, dec.radius, dec.action


@st.cache_data(show_spinner=False)
def clustr_certificate(x: np.ndarray):
    try:
        from robustcore.clustr import certify_image
    except (ImportError, AttributeError):
        try:
            from robustcore.clustr.image import certify_image
        except (ImportError, AttributeError):
            return None
    return certify_image(torch.from_numpy(x))


# ------------------------------------------------------------------ controls
from robustcore.viz.smoothing import (  # noqa: E402
    certified_accuracy_figure,
    digit_from_png,
    image_grid,
    landscape_figure,
    sigma_path_figure,
    vote_histogram,
)

c1, c2, c3, c4 = st.columns(4)
method = c1.selectbox("Base classifier", list(METHODS), index=list(METHODS).index(method), format_func=METHODS.get,
                      help="How the base classifier f was trained (Gaussian augmentation, SmoothAdv or MACER).")
train_sigma = c2.selectbox("Training sigma", TRAIN_SIGMAS, index=1, help="Noise level the model was trained at.")
sigma = c3.slider("Certification sigma", 0.02, 1.0, sigma, 0.01, help="sigma of the fixed-sigma certificate.")
n = c4.select_slider("Samples n", N_CHOICES, value=n,
                     help="Monte Carlo samples for CERTIFY (Cohen uses 100,000; small n is quick but caps the radius).")
uploaded = settings.model == "upload"
if uploaded:
    import hashlib

    # The uploaded checkpoint is the base classifier; the digest keys every cached computation.
    arch = "upload:" + hashlib.sha256(settings.model_bytes or b"").hexdigest()[:16]
else:
    arch = settings.model if method in ("cohen", "plain") else "digits-cnn"
model_key = (method, float(train_sigma), arch)
seed = int(settings.seed)

tab_image, tab_dataset = st.tabs(["One image", "Dataset"])

with tab_image:
    x = None
    label = None
    key = None
    source = st.radio("Image", ["Test set", "Upload a PNG"], horizontal=True)
    model = None
    with guard("loading the model"):
        if uploaded:
            loaded, info = selected_model(settings)
            model = _check_digits_model(loaded)
            st.caption("Base classifier: the checkpoint uploaded in the sidebar (the base-classifier choice above "
                       "applies to the built-in models).")
        else:
            model, info = load_model(method, float(train_sigma), arch)
    if model is not None and source == "Test set":
        X, y = load_test_set()
        img_index = int(st.number_input("Test image index", 0, len(X) - 1, img_index, 1))
        preds = clean_predictions(model_key, model)
        radii, run_label = stored_radii(model_key, round(sigma, 4))
        page0 = (img_index // 12) * 12
        ids = list(range(page0, min(page0 + 12, len(X))))
        titles = [f"#{i} y={y[i]} f={preds[i]}" + (f" R={radii[i]:.2f}" if i in radii else "") for i in ids]
        st.caption("Gallery: true class y, clean prediction f" + (f", stored radius R from {run_label}"
                   if run_label else " (no stored certification run for this model and sigma yet: "
                   "`robustcore certify` or the dataset tab makes one)"))
        st.plotly_chart(image_grid(X[ids], titles, ncols=6, size=95), width="stretch")
        x, label, key = X[img_index], int(y[img_index]), f"test:{img_index}"
    elif model is not None:
        up = st.file_uploader("A PNG of one handwritten digit (resized to 8x8 grey)", type=["png"])
        inv = st.radio("Invert colours", ["auto", "yes", "no"], horizontal=True,
                       help="The digits set has bright strokes on black; 'auto' inverts light backgrounds.")
        if up is None:
            st.info("Upload a PNG to certify it, or switch back to the test set.")
        else:
            with guard("reading the uploaded image"):
                data = up.getvalue()
                x = digit_from_png(data, inv)
                key = "upload:" + hashlib.sha256(data).hexdigest()[:16]
    set_url_state(dataset=dataset, image=img_index, sigma=f"{sigma:.2f}", n=n, model=method)

    if x is not None:
        st.subheader("Noise and votes")
        st.latex(r"x+\varepsilon_i,\ \varepsilon_i\sim\mathcal N(0,\sigma^2 I);\qquad n_c=\#\{i: f(x+\varepsilon_i)=c\}")
        with guard("certifying the image"):
            noisy, npred = noisy_samples(model_key, model, x, sigma, seed)
            cert = cohen_certificate(model_key, model, x, sigma, n, seed)
            a, b = st.columns([3, 2])
            a.plotly_chart(image_grid(np.concatenate([x[None], noisy[:11]]),
                                      ["input"] + [f"f = {p}" for p in npred[:11]], ncols=6, size=95),
                           width="stretch")
            b.plotly_chart(vote_histogram(cert.counts, cert.candidate, label,
                                          f"Votes of n = {n:,} fresh samples at sigma = {sigma:.2f}"),
                           width="stretch")
            if cert.label < 0:
                st.warning(f"CERTIFY abstains: p_lower = {cert.p_lower:.4f} < 1/2 for class {cert.candidate}.")
            else:
                st.success(f"Cohen certificate: class **{cert.label}** on the l2 ball of radius "
                           f"**{cert.radius:.4f}**, p_lower = {cert.p_lower:.4f} "
                           f"({cert.counts[cert.label]:,} of {n:,} votes; alpha = {ALPHA}).")

        st.subheader("Sigma landscape and the data-dependent sigma")
        st.markdown(
            "Each point is the Cohen radius of a **different** smoothed classifier $g_\\sigma$ (exploratory: one "
            "shared noise draw for all sigmas, class picked from the same samples, so no point is a certificate). "
            "DDRS picks $\\sigma_x$ by gradient ascent on the surrogate radius of the averaged soft-max "
            "$\\psi(\\sigma)=\\frac1m\\sum_i \\mathrm{softmax}(f(x+\\sigma\\varepsilon_i))$:")
        st.latex(r"\tilde R(\sigma)=\tfrac{\sigma}{2}\big(\Phi^{-1}(\psi_{(1)})-\Phi^{-1}(\psi_{(2)})\big),\qquad "
                 r"\sigma\leftarrow\sigma+\eta\,\partial\tilde R/\partial\sigma")
        l1, l2, l3 = st.columns(3)
        n_land = l1.select_slider("Landscape samples per sigma", [200, 500, 1000, 2000], value=500)
        steps = l2.select_slider("Ascent steps", [25, 50, 100, 200], value=100)
        lr = l3.select_slider("Ascent step size", [0.001, 0.003, 0.01, 0.03], value=0.01)
        with guard("computing the sigma landscape"):
            land = landscape(model_key, model, x, n_land, seed)
            dd = data_dependent(model_key, model, x, sigma, steps, lr, n, seed)
            st.plotly_chart(landscape_figure(land.sigmas, land.radius, land.surrogate, land.cap, land.p_hat,
                                             land.p_lower, land.p_upper, sigma_opt=dd.sigma,
                                             path_sigma=dd.path.sigma_history[:-1],
                                             path_surrogate=dd.path.surrogate_history, current_sigma=sigma),
                            width="stretch")
            st.plotly_chart(sigma_path_figure(dd.path.sigma_history[:, 0], dd.path.surrogate_history[:, 0]),
                            width="stretch")
            st.caption(f"Optimised sigma_x = {dd.sigma:.3f} from sigma_0 = {sigma:.2f} ({steps} steps of "
                       f"32 samples). Landscape: {land.n:,} samples per sigma, {land.time_s:.2f} s.")

        st.subheader("Every certificate for this image")
        r_lip = st.select_slider("Lipschitz constant r of ln sigma (for the Lipschitz-sigma certificate)",
                                 [0.01, 0.05, 0.1, 0.2, 0.5], value=0.1)
        use_clustr = st.checkbox("Include the ClusTR certificate (trains a small model on first use)", value=False)
        rows = []
        mem = None
        with guard("building the certificate table"):
            rows.append({"certificate": f"Fixed sigma = {sigma:.2f} (Cohen)", "class": cert.label,
                         "radius": cert.radius, "sigma": sigma, "p_lower": cert.p_lower,
                         "status": "sound", "why": f"Cohen et al. Thm 1 for g_sigma; fails with prob <= {ALPHA}."})
            dc = dd.certificate
            rows.append({"certificate": "Data-dependent sigma_x, re-certified with fresh samples",
                         "class": dc.label, "radius": dc.radius, "sigma": dd.sigma, "p_lower": dc.p_lower,
                         "status": "NOT a guarantee",
                         "why": "Certifies only g at the fixed sigma_x; the data-dependent classifier uses a "
                                "different sigma at each point of the ball (Súkeník et al. 2022)."})
            memory_name = "page/" + "/".join(map(str, model_key)) + f"/s0={sigma:.2f}/steps={steps}/lr={lr}/n={n}"
            mem, m_label, m_radius, action = memory_decision(memory_name, key, x, dc.label, dc.radius, dd.sigma)
            rows.append({"certificate": "Data-dependent + memory", "class": m_label, "radius": m_radius,
                         "sigma": dd.sigma, "p_lower": dc.p_lower,
                         "status": "sound via memory" if m_label >= 0 else "abstains",
                         "why": f"Memory classifier ({len(mem)} stored balls, {action}): balls of different classes "
                                "are disjoint; order-dependent; fails with prob <= alpha per stored ball."})
            lc = lipschitz_certificate(model_key, model, x, sigma, float(r_lip), n, seed)
            rows.append({"certificate": f"Lipschitz sigma (kNN, r = {r_lip})", "class": lc.label, "radius": lc.radius,
                         "sigma": lc.sigma, "p_lower": lc.p_lower, "status": "sound via the Lipschitz bound",
                         "why": f"sigma(x) = {sigma:.2f} exp(r (kNN distance - m)) has r-Lipschitz log; worst case over "
                                f"sigma in [s e^(-rR), s e^(rR)] (non-central chi-square, N = 64); Cohen radius at the "
                                f"same sigma would be {lc.cohen_radius:.3f}. Formula re-derived, not checked "
                                "against the paper's theorem text."})
            clustr = None
            if use_clustr:
                with guard("computing the ClusTR certificate"):
                    clustr = clustr_certificate(x)
            if clustr is None:
                rows.append({"certificate": "ClusTR (nearest centre)", "class": None, "radius": None, "sigma": None,
                             "p_lower": None, "status": "not available" if use_clustr else "not computed",
                             "why": "robustcore.clustr.certify_image is missing" if use_clustr
                             else "Tick the box above to compute it."})
            else:
                rows.append({"certificate": "ClusTR (nearest centre)", "class": clustr["label"],
                             "radius": clustr["input_radius"], "sigma": None, "p_lower": None,
                             "status": "sound" if clustr.get("sound") else "NOT a guarantee",
                             "why": clustr.get("note", "")})
        table = pd.DataFrame(rows)
        table["class"] = table["class"].astype("Int64")  # -1 = abstain; empty when not computed
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"radius": st.column_config.NumberColumn(format="%.4f"),
                                    "p_lower": st.column_config.NumberColumn(format="%.4f"),
                                    "sigma": st.column_config.NumberColumn(format="%.3f")})
        st.caption("Radii are l2 distances in [0, 1] pixel units (64 pixels). 'Sound' certificates hold with "
                   "probability >= 1 - alpha over the sampling (ClusTR: deterministically).")
        if mem is not None and st.button("Reset the memory of the data-dependent classifier"):
            mem.clear()
            st.rerun()
        with st.expander("Why is a data-dependent sigma not certified by Cohen's theorem?"):
            st.markdown(
                "Cohen's theorem is about **one** smoothed classifier $g_\\sigma$. The data-dependent classifier "
                "$G(x') = g_{\\sigma(x')}(x')$ uses a different $\\sigma$ at every point of the ball, so the ball "
                "certified for $g_{\\sigma_x}$ says nothing about $G$. A 1-D example: $f$ = A on $|z|<1$, B outside. "
                "At $x=0$ with $\\sigma=0.5$, $p_A = 2\\Phi(2)-1 = 0.954$ and $R = 0.845$; if $\\sigma(x') = 2$ "
                "for $x'\\neq 0$, then at $x' = 0.1$ (inside the ball) $p_A = \\Phi(0.45)-\\Phi(-0.55) = 0.382$ "
                "and $G(0.1) = B$. Three ways to a sound certificate: (a) certify the fixed-sigma classifier "
                "$g_{\\sigma_x}$ and say so (row 2 is exactly that, hence *not a guarantee* for $G$); (b) a "
                "**memory** that fixes $G$'s answers inside every ball it has issued, shrinking or resolving "
                "conflicts so that balls of different classes stay disjoint (row 3); (c) a $\\sigma(\\cdot)$ "
                "whose logarithm is $r$-Lipschitz, with the worst case over all admissible $\\sigma$ in the "
                "ball (Súkeník et al. 2022; row 4):")
            st.latex(r"\xi(d,\sigma_1)=F_{\chi'^2_N(\lambda_1)}\Big(\tfrac{\sigma_0^2}{\sigma_1^2}\,"
                     r"F^{-1}_{\chi'^2_N(\lambda_0)}(p_B)\Big),\quad "
                     r"\lambda_k=\frac{\sigma_k^2 d^2}{(\sigma_0^2-\sigma_1^2)^2},\quad "
                     r"R=\max\{d:\ \xi(d',\sigma_1)<\tfrac12\ \forall d'\le d,\ "
                     r"\sigma_1\in[\sigma_0e^{-rd'},\sigma_0e^{rd'}]\}")

with tab_dataset:
    st.markdown("Certified accuracy $\\frac1m\\#\\{i: g(x_i)=y_i,\\ R_i\\ge r\\}$ of every stored run on the "
                "digits test set, as in the papers' figures. Dashed curves are **not** guarantees.")
    with guard("reading the results store"):
        from robustcore.smoothing.dd_training import dataset_curves, run_dd_comparison

        curves, dashed, summary = dataset_curves(np.linspace(0, 1.5, 151))
        if curves:
            st.plotly_chart(certified_accuracy_figure(curves, dashed), width="stretch")
            st.dataframe(summary, hide_index=True, width="stretch")
        else:
            st.info("No stored certification runs yet. Certify a few test images below (or run "
                    "`robustcore certify --dataset digits ...` for the full set).")
        d1, d2 = st.columns(2)
        k_img = d1.select_slider("Test images", [30, 90, 150, 450], value=30)
        n_ds = d2.select_slider("Samples n per image", [500, 1000, 10_000], value=500)
        if st.button(f"Certify {k_img} test images: fixed sigma = {sigma:.2f} and data-dependent"):
            bar = StreamlitProgress("Certifying")
            run_dd_comparison(method, float(train_sigma), sigma, n=n_ds, max_images=k_img, progress=bar)
            bar.done()
            st.cache_data.clear()
            st.rerun()
