"""Clustering certificates (ClusTR, Alfarra et al., BMVC 2021): a nearest-centre classifier over a
learned 2-D embedding of the digits, its certified feature radius, the sound input-space radius, and
a PGD attack that tests it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from robustcore.clustr import exact_center_radius, l2_pgd_path, lipschitz_lower_bound, nearest_center_certificate
from robustcore.clustr.training import MODEL_KINDS, compare_models, page_model
from robustcore.data import load_digits
from robustcore.viz import clustr as V
from ui.common import StreamlitProgress, guard, page_header, set_url_state, sidebar_settings, url_state

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
    "projection. Pick an image, then attack it.",
    r"R_f(r) = \min_{j:\,\mathrm{class}(j)\neq c}\ \frac{\|r-\mu_j\|^2-\|r-\mu_i\|^2}{2\,\|\mu_j-\mu_i\|},"
    r"\qquad R_{\mathrm{in}}(x) = \frac{R_f(\phi(x))}{L},\quad L = \prod_l \|W_l\|_2",
)
if settings.dataset != "digits":
    st.info("This page uses the bundled digits data set; the sidebar's data set applies to other pages "
            "(`robustcore clustr-train --data mnist --root ...` trains on MNIST / CIFAR-10 from a folder).")

with st.expander("The quantities on this page, and which one is tight", expanded=False):
    st.markdown(
        "- **Decision rule**: c(x) = class of argmin_m ‖φ(x) − μ_m‖; μ_i is the nearest centre.\n"
        "- **Closed-form radius R_f** (the paper's certificate, equation above): the distance from r to the "
        "nearest bisector between μ_i and a centre μ_j of another class. With **one centre per class it is "
        "exact** (the class region is a convex Voronoi cell). With K > 1 centres per class (here K = 2) it is a "
        "sound **lower bound**: to flip, r must cross at least the bisector between μ_i and the winning centre.\n"
        "- **Exact radius**: the distance to the nearest region where some other-class centre beats every "
        "own-class centre, a small quadratic programme per rival (solved exactly by active-set enumeration):")
    st.latex(r"R^{\star}(r) = \min_{j:\,\mathrm{class}(j)\neq c}\ \min_{y}\ \|y-r\| \ \ \text{s.t.}\ "
             r"\|y-\mu_j\| \le \|y-\mu_o\|\ \ \forall o:\ \mathrm{class}(o)=c")
    st.markdown(
        "- **Input radius** R_in = R*/L with L the product of the exact spectral norms of the embedding's "
        "linear layers (ReLU is 1-Lipschitz). It is a deterministic guarantee for the nearest-centre rule "
        "(not for the soft magnet rule), but L is an upper bound and usually loose: the page shows it beside "
        "a certified *lower* bound of the true constant (the largest Jacobian norm over the test images).\n"
        "- **Magnet loss** (training), with cluster means μ and s² the mean squared distance to them:")
    st.latex(r"L_n = \Big[\frac{\|r_n-\mu(r_n)\|^2}{2s^2} + \alpha + "
             r"\log \sum_{m:\,\mathrm{class}(m)\neq C(r_n)} e^{-\|r_n-\mu_m\|^2/(2s^2)}\Big]_+")
    st.caption("Reference details marked 'recalled' (the paper's exact training schedule and which certificate it "
               "calls tight) were not checked against the paper's text; the mathematics on this page is "
               "verified by the tests (brute-force search, an independent QP solver, attacks).")


@st.cache_resource(show_spinner=False)
def _model():
    # no progress bar in here: a cached function must not draw into blocks created outside it
    return page_model()


@st.cache_data(show_spinner=False)
def _test_set() -> dict:
    model = _model()
    X, y = load_digits("test")
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


@st.cache_data(show_spinner=False, max_entries=128)
def _attack(idx: int, eps: float, steps: int, loss: str, random_start: bool, seed: int) -> dict:
    model = _model()
    d = _test_set()
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
def _smallest_flip(idx: int, r_in: float, steps: int) -> float | None:
    """Smallest l2 budget (bisection over eps, PGD margin attack) that flips the decision: an
    upper bound on the true input radius, to compare with the certified lower bound."""
    hi = max(r_in, 1e-4)
    for _ in range(12):
        if _attack(idx, hi, steps, "margin", False, 0)["flipped"]:
            break
        hi *= 2
    else:
        return None
    lo = 0.0
    for _ in range(14):
        mid = (lo + hi) / 2
        if _attack(idx, mid, steps, "margin", False, 0)["flipped"]:
            hi = mid
        else:
            lo = mid
    return hi


data = None
with guard("loading the page's 2-D ClusTR model"):
    if not st.session_state.get("cl_model_ready"):
        # trains (with a progress bar) on the very first use, then loads from the disk cache
        bar = StreamlitProgress("Training the 2-D ClusTR model on digits (first use only: about 10 s on an idle CPU core)")
        page_model(bar)
        bar.done()
        st.session_state["cl_model_ready"] = True
    data = _test_set()

if data is not None:
    n = len(data["y"])
    st.header("1. The embedding, its cells, and one image's certificate")
    c_ctl, c_fig = st.columns([1, 2.4])
    with c_ctl:
        idx = st.number_input("Test image", 0, n - 1, url_state("img", 0, int) if 0 <= url_state("img", 0, int) < n else 0,
                              1, key="cl_img", help="Index into the 450 digits test images; hover a point to see its index.")
        mult = st.select_slider("Attack budget ε / certified input radius",
                                [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0],
                                url_state("mult", 1.0, float, choices=[0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0]),
                                key="cl_mult",
                                help="1.0 attacks exactly at the certified radius: the path must stay inside the circle.")
        steps = st.slider("PGD steps", 5, 100, url_state("steps", 30, int), 5, key="cl_steps")
        loss = st.radio("Attack loss", ["margin", "ce"], index=0 if url_state("loss", "margin", str) == "margin" else 1,
                        key="cl_loss", horizontal=True, help="margin: max_{j≠c} z_j − z_c; ce: cross-entropy.")
        rstart = st.checkbox("Random start", url_state("rs", False, bool), key="cl_rs")
        cells = st.checkbox("Shade the class regions", url_state("cells", True, bool), key="cl_cells")
    set_url_state(img=int(idx), mult=mult, steps=steps, loss=loss, rs=int(rstart), cells=int(cells))

    i = int(idx)
    R_closed, R_exact = float(data["closed"][i]), float(data["exact"][i])
    L = float(data["L"])
    R_in = R_exact / L
    with guard("attacking the image"):
        att = _attack(i, mult * R_in, int(steps), loss, bool(rstart), 0)
        with c_fig:
            st.plotly_chart(
                V.embedding_figure(data["features"], data["y"], data["centers"], data["center_labels"], data["pred"],
                                   selected=i, radius=R_closed, exact_radius=R_exact, path=att["features"],
                                   path_flipped=att["flipped"], rival_point=data["points"][i], show_cells=cells,
                                   nearest_centers=tuple(int(v) for v in data["near"][i])),
                use_container_width=True, key="cl_embedding")
        with c_ctl:
            st.plotly_chart(V.digit_figure(data["X"][i, 0], f"image {i} (true {data['y'][i]}) | after the attack",
                                           adversarial=att["final"][0]), use_container_width=True, key="cl_digit")
        m = st.columns(6)
        m[0].metric("true / predicted", f"{data['y'][i]} / {data['pred'][i]}")
        m[1].metric("closed-form R_f", f"{R_closed:.4g}")
        m[2].metric("exact radius R*", f"{R_exact:.4g}")
        m[3].metric("Lipschitz bound L", f"{L:.4g}")
        m[4].metric("input radius R*/L (ℓ2)", f"{R_in:.4g}")
        m[5].metric("attack: max feature shift", f"{att['max_shift']:.4g}")
        if data["pred"][i] != data["y"][i]:
            st.warning("This image is misclassified: the certificate guarantees the (wrong) predicted class.")
        eps = mult * R_in
        if att["flipped"]:
            msg = (f"PGD with ℓ2 budget ε = {eps:.4g} ({mult:g} × R_in) **changed the decision** to "
                   f"{att['final_pred']} (its path leaves the certified circle: max feature shift "
                   f"{att['max_shift']:.4g} > R* = {R_exact:.4g}).")
            if mult <= 1.0:  # never expected: the certificate says this is impossible
                st.error("Certificate violated: " + msg)
            else:
                st.info(msg + " Expected: the budget exceeds the certified radius.")
        else:
            shift, bound = att["max_shift"], L * att["max_dx"]
            txt = (f"PGD with ℓ2 budget ε = {eps:.4g} ({mult:g} × R_in) did not change the decision. Max feature "
                   f"shift along the path {shift:.4g} " + ("≤" if shift <= bound * (1 + 1e-6) + 1e-9 else ">")
                   + f" L·‖δ‖ = {bound:.4g}")
            if mult <= 1.0:
                txt += (" ≤ R*: the path stays inside the certified circle, as guaranteed." if shift <= R_exact * (1 + 1e-6)
                        else f" but exceeds R* = {R_exact:.4g}.")
            st.success(txt)
        if st.button("Find the smallest budget PGD needs to flip this image", key="cl_flip"):
            flip = _smallest_flip(i, R_in, int(steps))
            if flip is None:
                st.info("PGD found no flip up to 4096 × the certified radius.")
            else:
                st.info(f"PGD (margin loss, {steps} steps) flips the decision at ε ≈ {flip:.4g} = "
                        f"{flip / R_in:.3g} × the certified radius: the true radius lies in [{R_in:.4g}, {flip:.4g}].")

    st.header("2. How loose is the input certificate?")
    c1, c2 = st.columns([1.2, 1])
    with c1:
        short = [f"{n_.split(' ')[-1].strip('()')} {k}" for k, n_ in enumerate(data["layers"])]
        st.plotly_chart(V.lipschitz_figure(short, data["norms"], data["L_lower"]), use_container_width=True,
                        key="cl_lip")
    with c2:
        st.dataframe(pd.DataFrame({"layer": data["layers"], "‖·‖₂": data["norms"], "how": data["methods"]}),
                     hide_index=True, use_container_width=True)
        st.markdown(
            f"Upper bound L = **{L:.4g}**; certified lower bound (max Jacobian norm over the test images) "
            f"**{data['L_lower']:.4g}**: the product bound is at most **{L / data['L_lower']:.3g}×** the true "
            "constant. A tighter L would enlarge every input radius by the same factor.")
    correct = data["pred"] == data["y"]
    st.plotly_chart(V.radius_histogram({"exact R*/L": np.where(correct, data["exact"] / L, 0.0),
                                        "closed-form R_f/L": np.where(correct, data["closed"] / L, 0.0)}),
                    use_container_width=True, key="cl_hist")
    st.caption(f"Clean accuracy of the 2-D page model: {correct.mean():.3f}; misclassified images count with radius 0. "
               f"Median exact / closed-form radius ratio: {np.median(data['exact'] / np.maximum(data['closed'], 1e-12)):.3f}.")

st.header("3. ClusTR against cross-entropy and adversarial training")
st.markdown(
    "Four models with the same 16-D MLP embedding: **clustr** (magnet loss, no adversary), **clustr-fgsm** "
    "(magnet loss on FGSM-with-random-start examples, ε = 0.1), **ce** (linear head, cross-entropy) and "
    "**pgd-at** (linear head, PGD adversarial training, ε = 0.1). PGD accuracy (20 steps, 3 restarts with "
    "cross-entropy and margin losses) is an attack result, an upper bound on robust accuracy; the radii are "
    "sound ℓ2 certificates (mean over the test set, 0 when misclassified; for the linear-head models the "
    "exact distance to the nearest facet of the class's polyhedron in feature space, divided by the same L).")


def _comparison_table() -> pd.DataFrame | None:
    from robustcore.store import ResultsStore

    df = ResultsStore().metrics(kind="clustr-compare")
    if df.empty:
        return None
    df = df.assign(model=[e.get("model") for e in df["extra"]])
    latest = df.groupby("model")["run_id"].max()
    df = df[df["run_id"] == df["model"].map(latest)]
    table = df.pivot_table(index="model", columns="name", values="value", aggfunc="last")
    order = [k for k in MODEL_KINDS if k in table.index]
    by_eps = lambda prefix: sorted((c for c in table.columns if c.startswith(prefix)),  # noqa: E731
                                   key=lambda c: float(c.split("@")[1]))
    first = [c for c in ["clean_acc"] if c in table.columns] + by_eps("pgd_linf@") + by_eps("pgd_l2@")
    cols = first + [c for c in table.columns if c not in first]
    return table.loc[order, cols].reset_index()


with guard("reading the comparison from the results store"):
    table = _comparison_table()
    if table is None:
        st.info("No comparison in the results store yet. Run `robustcore clustr-train` (a few minutes on a CPU), "
                "or train and attack here.")
    else:
        st.dataframe(table, hide_index=True, use_container_width=True)
    if st.button("Train and attack the four models now (several minutes the first time)", key="cl_compare"):
        bar = StreamlitProgress("training...")
        compare_models(progress=bar)
        bar.done()
        st.rerun()
