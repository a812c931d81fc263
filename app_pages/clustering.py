"""Clustering certificates (ClusTR, Alfarra et al., BMVC 2021): a nearest-centre classifier over a
learned 2-D embedding of mnist-5k (or the 8x8 digits), its certified feature radius, the sound input-space
radius, a PGD attack that tests it, and the saved comparison with cross-entropy under two attacks."""
from __future__ import annotations

import logging
import threading

import numpy as np
import pandas as pd
import streamlit as st
import torch

from robustcore.clustr import exact_center_radius, l2_pgd_path, lipschitz_lower_bound, nearest_center_certificate
from robustcore.clustr.training import _data, model_config, page_model, page_model_is_cached
from robustcore.viz import clustr as V
from ui.clustering_compare import reproduction_section, store_section
from ui.common import (StreamlitProgress, guard, page_header, selected_point, set_url_state, show_figure,
                       sidebar_settings, url_state)

settings = sidebar_settings()

page_header(
    "Clustering certificates",
    "A **nearest-centre classifier** embeds an image x as r = φ(x) and answers the class of the nearest "
    "cluster centre μ (k-means centres of each class's training embeddings, K per class; ClusTR trains φ "
    "with the **magnet loss** so that clusters are tight and far apart). Its decision regions are unions of "
    "**Voronoi cells**, so the smallest change of r that flips the answer is a distance to a cell boundary: "
    "the **certified feature radius**. Dividing it by an upper bound **L** on φ's Lipschitz constant gives a "
    "**sound input radius**: no ℓ2 perturbation of the image smaller than it changes the answer. Below, the "
    "embedding is 2-D (trained for this page), so the cells and the certificate circle are exact, not a "
    "projection. Click a point (or type its index), then attack it.",
    r"R_f(r) = \min_{j:\,\mathrm{class}(j)\neq c}\ \frac{\|r-\mu_j\|^2-\|r-\mu_i\|^2}{2\,\|\mu_j-\mu_i\|},"
    r"\qquad R_{\mathrm{in}}(x) = \frac{R_f(\phi(x))}{L},\quad L = \prod_l \|W_l\|_2",
)
SERVED = ("mnist-5k", "digits")
# notation in messages (Streamlit renders $...$ as LaTeX), named once so every f-string writes it alike
RIN, RSTAR = r"$R_{\mathrm{in}}$", r"$R^*$"
DATA_LABELS = {"mnist-5k": "mnist-5k (real 28×28 MNIST, 1,000 test images)", "digits": "digits (8×8, 450 test images)"}
side = settings.dataset if settings.dataset in SERVED else None
if "cl_data" not in st.session_state:
    st.session_state["cl_data"] = url_state("data", side or "mnist-5k", str, choices=list(SERVED))
elif side is not None and st.session_state.get("_cl_side") not in (None, side):
    st.session_state["cl_data"] = side  # the sidebar's data set changed: follow it
st.session_state["_cl_side"] = side
data_name = st.radio("Data set", SERVED, key="cl_data", horizontal=True, format_func=DATA_LABELS.get,
                     help="The page's 2-D model is trained on this data set on first use and cached.")
if side is None:
    st.caption(f"The sidebar's {settings.dataset} is a folder data set: this page's 2-D model needs a bundled one "
               f"(`robustcore clustr-train --data {settings.dataset} --root FOLDER` trains and attacks on it).")
set_url_state(data=data_name)

with st.expander("The quantities on this page, and which one is tight", expanded=False):
    st.markdown(
        r"- **Decision rule**: $c(x) = \mathrm{class}\big(\arg\min_m \|\phi(x) - \mu_m\|\big)$; $\mu_i$ is the nearest "
        "centre.\n"
        "- **Closed-form radius $R_f$** (the paper's certificate, equation above): the distance from r to the "
        "nearest bisector between $\\mu_i$ and a centre $\\mu_j$ of another class. With **one centre per class it is "
        "exact** (the class region is a convex Voronoi cell). With K > 1 centres per class (here K = 2) it is a "
        "sound **lower bound**: to flip, r must cross at least the bisector between $\\mu_i$ and the winning centre.\n"
        "- **Exact radius**: the distance to the nearest region where some other-class centre beats every "
        "own-class centre, a small quadratic programme per rival (solved exactly by active-set enumeration):")
    st.latex(r"R^{*}(r) = \min_{j:\,\mathrm{class}(j)\neq c}\ \min_{y}\ \|y-r\| \ \ \text{s.t.}\ "
             r"\|y-\mu_j\| \le \|y-\mu_o\|\ \ \forall o:\ \mathrm{class}(o)=c")
    st.markdown(
        "- **Input radius** $R_{\\mathrm{in}} = R^*/L$ with $L$ the product of the exact spectral norms of the embedding's "
        "linear layers (ReLU is 1-Lipschitz). It is a deterministic guarantee for the nearest-centre rule "
        "(not for the soft magnet rule), but L is an upper bound and usually loose: the page shows it beside "
        "a certified *lower* bound of the true constant (the largest Jacobian norm over the test images).\n"
        "- **Magnet loss** (training), with cluster means μ and s² the mean squared distance to them:")
    st.latex(r"L_n = \Big[\frac{\|r_n-\mu(r_n)\|^2}{2s^2} + \alpha + "
             r"\log \sum_{m:\,\mathrm{class}(m)\neq C(r_n)} e^{-\|r_n-\mu_m\|^2/(2s^2)}\Big]_+")
    st.caption("Reference details marked 'recalled' (the paper's exact training schedule and which certificate it "
               "calls tight) were not checked against the paper's text; the mathematics on this page is "
               "verified by the tests (brute-force search, an independent QP solver, attacks).")




def config_line(dataset: str) -> str:
    """The page model's configuration, one line (recipe "ours", 2-D embedding)."""
    from robustcore.clustr.training import PAGE_CONFIG, config_summary

    return config_summary(model_config("clustr", feature_dim=2, epochs=PAGE_CONFIG["epochs"], dataset=dataset))


@st.cache_resource(show_spinner=False)
def _model(dataset: str):
    # no progress bar in here: a cached function must not draw into blocks created outside it
    return page_model(dataset=dataset)


@st.cache_data(show_spinner=False)
def _test_set(dataset: str) -> dict:
    model = _model(dataset)
    X, y = _data(model_config("clustr", dataset=dataset), "test")
    feats = model.embed_all(X).double().numpy()
    C, lab = model.centers.double().numpy(), model.center_labels.numpy()
    cert = nearest_center_certificate(feats, C, lab)
    near = np.stack([cert.nearest, cert.rival], axis=1)
    exact, points = exact_center_radius(feats, C, lab, return_points=True)
    lip = model.lipschitz_bound()
    lower = lipschitz_lower_bound(model.embedding, X)
    return {"X": X.numpy(), "y": y.numpy(), "features": feats, "centers": C, "center_labels": lab,
            "pred": cert.label, "closed": cert.radius, "near": near, "exact": exact, "points": points, "L": lip.bound,
            "L_lower": lower, "layers": lip.layers, "norms": lip.norms, "methods": lip.methods}


@st.cache_data(show_spinner=False, max_entries=256)
def _attack(dataset: str, idx: int, eps: float, steps: int, loss: str, random_start: bool, seed: int) -> dict:
    model = _model(dataset)
    d = _test_set(dataset)
    x = torch.as_tensor(d["X"][idx : idx + 1])
    c = torch.as_tensor(d["pred"][idx : idx + 1])
    gen = torch.Generator().manual_seed(seed)
    path = l2_pgd_path(model, x, c, eps, steps=steps, random_start=random_start, loss=loss, generator=gen)
    feats = model.embed_all(path[:, 0]).double().numpy()
    preds = model.predict(path[:, 0]).numpy()
    return {"features": feats, "final": path[-1, 0].numpy(), "flipped": bool((preds != int(c)).any()),
            "final_pred": int(preds[-1]),
            "max_shift": float(np.linalg.norm(feats - feats[0], axis=1).max()),
            "max_dx": float((path[:, 0] - x).flatten(1).norm(dim=1).max())}


@st.cache_data(show_spinner=False, max_entries=128)
def _smallest_flip(dataset: str, idx: int, r_in: float, steps: int) -> float | None:
    """Smallest l2 budget (bisection over eps, PGD margin attack) that flips the decision: an
    upper bound on the true input radius, to compare with the certified lower bound."""
    hi = max(r_in, 1e-4)
    for _ in range(12):
        if _attack(dataset, idx, hi, steps, "margin", False, 0)["flipped"]:
            break
        hi *= 2
    else:
        return None
    lo = 0.0
    for _ in range(14):
        mid = (lo + hi) / 2
        if _attack(dataset, idx, mid, steps, "margin", False, 0)["flipped"]:
            hi = mid
        else:
            lo = mid
    return hi


MULTS = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0]


def _init_widget(key: str, name: str, default, **domain) -> None:
    """Seed a widget's state from the URL once (the widget then owns it; no value= beside the key)."""
    if key not in st.session_state:
        st.session_state[key] = url_state(name, default, **domain)


@st.fragment
def embedding_section(dataset: str, data: dict) -> None:
    """Section 1: the embedding, one image's certificate and the attack (reruns alone on its inputs)."""
    n = len(data["y"])
    _init_widget("cl_img", "img", 0, min_value=0, max_value=n - 1, step=1)
    _init_widget("cl_mult", "mult", 1.0, choices=MULTS)
    _init_widget("cl_steps", "steps", 30, min_value=5, max_value=100, step=5)
    _init_widget("cl_loss", "loss", "margin", choices=["margin", "ce"])
    _init_widget("cl_rs", "rs", False)
    _init_widget("cl_cells", "cells", True)
    pending = st.session_state.pop("_cl_pending_img", None)
    if pending is not None:
        st.session_state["cl_img"] = pending
    if not 0 <= int(st.session_state["cl_img"]) < n:  # another data set's index
        st.session_state["cl_img"] = 0
    c_ctl, c_fig = st.columns([1, 2.4])
    with c_ctl:
        idx = st.number_input("Test image", 0, n - 1, step=1, key="cl_img",
                              help=f"Index into the {n} test images; click a point of the embedding to select it.")
        mult = st.select_slider("Attack budget ε / certified input radius", MULTS, key="cl_mult",
                                help="1.0 attacks exactly at the certified radius: the path must stay inside the circle.")
        steps = st.slider("PGD steps", 5, 100, step=5, key="cl_steps")
        loss = st.radio("Attack loss", ["margin", "ce"], key="cl_loss", horizontal=True,
                        help="margin: max_{j≠c} z_j − z_c; ce: cross-entropy.")
        rstart = st.checkbox("Random start", key="cl_rs")
        cells = st.checkbox("Shade the class regions", key="cl_cells")
    set_url_state(img=int(idx), mult=mult, steps=int(steps), loss=loss, rs=int(rstart), cells=int(cells))

    i = int(idx)
    R_closed, R_exact = float(data["closed"][i]), float(data["exact"][i])
    L = float(data["L"])
    R_in = R_exact / L
    with guard("attacking the image"):
        att = _attack(dataset, i, mult * R_in, int(steps), loss, bool(rstart), 0)
        fig = V.embedding_figure(data["features"], data["y"], data["centers"], data["center_labels"], data["pred"],
                                 selected=i, radius=R_closed, exact_radius=R_exact, path=att["features"],
                                 path_flipped=att["flipped"], rival_point=data["points"][i], show_cells=cells,
                                 nearest_centers=tuple(int(v) for v in data["near"][i]))
        event = show_figure(fig, key="cl_embedding", container=c_fig, filename=f"clustr-embedding-{dataset}",
                            on_select="rerun", selection_mode="points",
                            data=pd.DataFrame({"image": np.arange(n), "feature 1": data["features"][:, 0],
                                               "feature 2": data["features"][:, 1], "true": data["y"],
                                               "predicted": data["pred"], "exact radius": data["exact"],
                                               "closed-form radius": data["closed"]}))
        picked = selected_point(event)
        if picked is not None and picked != st.session_state.get("_cl_last_pick") and 0 <= picked < n:
            st.session_state["_cl_last_pick"] = picked
            if picked != i:
                st.session_state["_cl_pending_img"] = picked
                st.rerun(scope="fragment")
        show_figure(V.digit_figure(data["X"][i, 0], f"image {i} (true {data['y'][i]}): clean | attacked",
                                   adversarial=att["final"][0]), key="cl_digit", container=c_ctl, csv=False)
        m = st.columns(3) + st.columns(3)
        m[0].metric("true / predicted", f"{data['y'][i]} / {data['pred'][i]}")
        m[1].metric("closed-form $R_f$", f"{R_closed:.4g}")
        m[2].metric("exact radius $R^*$", f"{R_exact:.4g}")
        m[3].metric("Lipschitz bound $L$", f"{L:.4g}")
        m[4].metric("input radius $R^*/L$ (ℓ2)", f"{R_in:.4g}")
        m[5].metric("attack: max feature shift", f"{att['max_shift']:.4g}")
        if data["pred"][i] != data["y"][i]:
            st.warning("This image is misclassified: the certificate guarantees the (wrong) predicted class.")
        eps = mult * R_in
        if att["flipped"]:
            msg = (f"PGD with ℓ2 budget ε = {eps:.4g} ({mult:g} × {RIN}) **changed the decision** to "
                   f"{att['final_pred']} (its path leaves the certified circle: max feature shift "
                   f"{att['max_shift']:.4g} > {RSTAR} = {R_exact:.4g}).")
            if mult <= 1.0:  # never expected: the certificate says this is impossible
                st.error("Certificate violated: " + msg)
            else:
                st.info(msg + " Expected: the budget exceeds the certified radius.")
        else:
            shift, bound = att["max_shift"], L * att["max_dx"]
            txt = (f"PGD with ℓ2 budget ε = {eps:.4g} ({mult:g} × {RIN}) did not change the decision. Max feature "
                   f"shift along the path {shift:.4g} " + ("≤" if shift <= bound * (1 + 1e-6) + 1e-9 else ">")
                   + f" $L\\,\\|\\delta\\|$ = {bound:.4g}")
            if mult <= 1.0:
                txt += (f" ≤ {RSTAR}: the path stays inside the certified circle, as guaranteed." if shift <= R_exact * (1 + 1e-6)
                        else f" but exceeds {RSTAR} = {R_exact:.4g}.")
            st.success(txt)
        if st.button("Find the smallest budget PGD needs to flip this image", key="cl_flip"):
            flip = _smallest_flip(dataset, i, R_in, int(steps))
            if flip is None:
                st.info("PGD found no flip up to 4096 × the certified radius.")
            else:
                st.info(f"PGD (margin loss, {steps} steps) flips the decision at ε ≈ {flip:.4g} = "
                        f"{flip / R_in:.3g} × the certified radius: the true radius lies in [{R_in:.4g}, {flip:.4g}].")


_THREAD_PREFIX = "clustr-page-model-"


class _QuietBackgroundThreads(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" warning for this page's background threads only: they fill
    caches on purpose, outside any script run (nothing they do touches a page)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.threadName.startswith(_THREAD_PREFIX)


@st.cache_resource(show_spinner=False)
def _background_jobs() -> dict:
    """Page models being trained in a background thread, shared by every session of this server."""
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_QuietBackgroundThreads())
    return {"lock": threading.Lock()}


def _prepare_in_background(dataset: str) -> None:
    """Once per server process, in a daemon thread: train ``dataset``'s page model unless it is on disk, then
    fill ``_test_set``'s cache for it.

    The first switch of the data set radio then finds everything ready instead of training while the user
    waits (about 15 s for mnist-5k on one core, first use only: the model stays on disk) and computing the
    test set's certificates (about 0.4 s after every server start).
    """
    jobs = _background_jobs()
    with jobs["lock"]:
        if dataset in jobs:
            return
        job: dict = {"fraction": 0.0, "message": "starting", "training": False, "error": None}

        def run() -> None:
            try:
                if not page_model_is_cached(dataset):
                    job["training"] = True
                    page_model(lambda f, m="": job.update(fraction=float(f), message=m), dataset=dataset)
                    job["training"] = False
                _test_set(dataset)
            except Exception as exc:  # noqa: BLE001 - the foreground does the same work again and shows the error
                job["error"] = str(exc)

        job["thread"] = threading.Thread(target=run, name=f"{_THREAD_PREFIX}{dataset}", daemon=True)
        jobs[dataset] = job
        job["thread"].start()


def _load_model(dataset: str) -> None:
    """Make sure ``dataset``'s page model is on disk, with a progress bar while it trains (first use only)."""
    job = _background_jobs().get(dataset)
    if job is not None and job["thread"].is_alive():
        if job["training"]:
            bar = StreamlitProgress(f"Training the 2-D ClusTR model on {dataset} (started in the background when "
                                    "the page opened; first use only)")
            while job["training"] and job["thread"].is_alive():
                bar(job["fraction"], f"{dataset}: {job['message']} (first use only)")
                job["thread"].join(0.25)
            bar.done()
        job["thread"].join()  # the test set's certificates: well under a second
    if page_model_is_cached(dataset):
        return
    bar = StreamlitProgress(f"Training the 2-D ClusTR model on {dataset} (first use only: seconds to a minute)")
    page_model(bar, dataset=dataset)
    bar.done()


data = None
with guard("loading the page's 2-D ClusTR model"):
    ready = st.session_state.setdefault("cl_model_ready", set())
    if data_name not in ready:
        _load_model(data_name)
        ready.add(data_name)
    data = _test_set(data_name)

if data is not None:
    st.header("1. The embedding, its cells, and one image's certificate")
    embedding_section(data_name, data)

    st.header("2. How loose is the input certificate?")
    L = float(data["L"])
    c1, c2 = st.columns([1.2, 1])
    short = [f"{n_.split(' ')[-1].strip('()')} {k}" for k, n_ in enumerate(data["layers"])]
    show_figure(V.lipschitz_figure(short, data["norms"], data["L_lower"]), key="cl_lip", container=c1,
                filename=f"clustr-lipschitz-{data_name}")
    with c2:
        st.dataframe(pd.DataFrame({"layer": data["layers"], "‖·‖₂": data["norms"], "how": data["methods"]}),
                     hide_index=True, width="stretch")
        st.markdown(
            f"Upper bound L = **{L:.4g}**; certified lower bound (max Jacobian norm over the test images) "
            f"**{data['L_lower']:.4g}**: the product bound is at most **{L / data['L_lower']:.3g}×** the true "
            "constant. A tighter L would enlarge every input radius by the same factor.")
    correct = data["pred"] == data["y"]
    n_wrong = int((~correct).sum())
    show_figure(V.radius_histogram({"exact R*/L (this page's certificate)": data["exact"][correct] / L,
                                    "closed-form R<sub>f</sub>/L (the paper's bound, ≤ R*/L)":
                                        data["closed"][correct] / L},
                                   title=f"Certified input radius (ℓ2) of the {int(correct.sum())} correctly "
                                         "classified test images"),
                key="cl_hist", filename=f"clustr-radii-{data_name}",
                data=pd.DataFrame({"image": np.arange(len(correct)), "true": data["y"], "predicted": data["pred"],
                                   "exact R*/L": data["exact"] / L, "closed-form R_f/L": data["closed"] / L}))
    st.caption(f"Clean accuracy of the 2-D page model on {data_name}: {correct.mean():.3f}; the {n_wrong} "
               f"misclassified images are left out of the histogram (their certificate guards the wrong class; the "
               f"CSV lists every image). Median exact / closed-form radius ratio: "
               f"{np.median(data['exact'] / np.maximum(data['closed'], 1e-12)):.3f}: where the two coincide the "
               f"blue outline runs along the top of the orange bars. Page model: {config_line(data_name)}.")
    with st.expander("The page model's recipe: how it differs from the official ClusTR recipe, and why"):
        from robustcore.clustr.training import PAGE_CONFIG, recipe_deviations

        cfg = model_config("clustr", feature_dim=2, epochs=PAGE_CONFIG["epochs"], dataset=data_name)
        st.markdown("A 2-D embedding (so the cells and circles are exact, not a projection) trained in seconds on "
                    "first use; section 3 compares models trained with the official recipe.\n\n"
                    + "\n".join(f"- {d}" for d in recipe_deviations(cfg) + ["feature_dim 2 (official: the network's "
                                                                            "512-D penultimate layer): drawable"]))

st.header("3. ClusTR against cross-entropy, under the official attack and ours")
st.markdown(
    "The paper trains the embedding with the magnet loss (**ClusTR**), adds free adversarial training (**+ free AT**, "
    "minibatch replays) or fine-tunes from cross-entropy weights with a consistency term (**+ QTRADES**, the official "
    "README's main recipe), and evaluates with PGD on **cross-entropy over the soft top-L exp-scores** (the official "
    "attack). Those scores underflow to zero away from every centre, so that loss can have no gradient: we also "
    "attack the **margin on the nearest-centre logits** (ours, the rule the certificate covers) and the margin on the "
    "soft log-scores (the official rule without the saturation). A large gap between them is gradient masking.")
with guard("showing the saved reproduction"):
    reproduction_section()
store_section(data_name)

# the other data set is prepared now, while the user reads this one, so that switching to it is quick
for _other in SERVED:
    if _other != data_name:
        _prepare_in_background(_other)
