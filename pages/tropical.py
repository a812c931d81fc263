"""Tropical geometry of (Affine, ReLU, Affine) decision boundaries (Alfarra et al., TPAMI 2022).

Thin page: widgets -> robustcore.tropical -> robustcore.viz.tropical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from robustcore.tropical import (
    ShallowReluNet,
    argmax_boundary_dual,
    coordinate_frame,
    pair_geometry,
    pca_frame,
    projected_zonotope,
    slice_net,
    tropical_decomposition,
)
from robustcore.viz.tropical import (
    dual_space_figure,
    input_space_figure,
    lifted_figure,
    projection_figure,
    training_figure,
)
from ui.common import guard, page_header, set_url_state, sidebar_settings, url_state
from ui.tropical_apps import render_attack, render_lottery, render_pruning

try:  # wide layout when the page runs on its own (app.py sets it for the whole app)
    st.set_page_config(page_title="Tropical geometry", layout="wide")
except Exception:  # noqa: BLE001 - already configured by app.py
    pass
settings = sidebar_settings()

page_header(
    "Tropical geometry of decision boundaries",
    "A one-hidden-layer ReLU net f(x) = B max(Ax + c₁, 0) + c₂ is a difference of two tropical (max-plus) "
    "polynomials per class. For a class pair (i, j) its decision boundary **B** = {f_i = f_j} lies in the tropical "
    "hypersurface **T(R)** of R = H_i⊙Q_j ⊕ H_j⊙Q_i, whose dual subdivision δ(R) is built on the convex hull of two "
    "zonotopes Z_G1, Z_G2 (Alfarra, Bibi, Hammoud, Gaafar, Ghanem, *On the Decision Boundaries of Neural Networks: "
    "A Tropical Geometry Perspective*, TPAMI 2022). Left: input space. Right: dual (exponent) space. "
    "Weights may be any real numbers: the integer-weight assumption of Zhang et al. is not needed for the geometry.",
    r"f(x) = B\,\max(Ax + c_1, 0) + c_2",
)
st.latex(r"G_1 = \mathrm{Diag}[\mathrm{ReLU}(B_i) + \mathrm{ReLU}(-B_j)]\,A,\qquad "
         r"G_2 = \mathrm{Diag}[\mathrm{ReLU}(B_j) + \mathrm{ReLU}(-B_i)]\,A")

# --------------------------------------------------------------------------- presets
PRESETS = {
    "2 units, bias-free (Theorem 2)": dict(
        A=[[1.0, 0.3], [-0.4, 1.0]], c1=[0.0, 0.0], B=[[1.0, -1.0], [-0.5, 1.2]], c2=[0.0, 0.0],
        text="Two hidden units and no biases. Every lifted point has height 0, so δ(R) is the whole polygon "
             "conv(Z_G1 ∪ Z_G2) with no interior edge and T(R) is a fan of rays from the origin, one per hull edge "
             "and orthogonal to it (Theorem 2). Here each unit feeds one zonotope only, and where both units are off "
             "(the cone Ax ≤ 0) f₁ = f₂ = 0: a full-dimensional tie region (shaded), because the common point s of "
             "Z_G1 and Z_G2 is a vertex of their hull. The next preset avoids it."),
    "3 units, bias-free: B = bridging rays": dict(
        A=[[1.0, 0.2], [-0.6, 0.9], [-0.4, -1.0]], c1=[0.0, 0.0, 0.0], B=[[1.0, -0.8, 0.4], [-0.6, 1.0, 0.9]],
        c2=[0.0, 0.0],
        text="Three units whose weight rows positively span the plane, so only x = 0 has all units off and there is "
             "no tie region. B is exactly the rays along the outward normals of the two **bridging** edges of "
             "conv(Z_G1 ∪ Z_G2), those joining a vertex of Z_G1 to one of Z_G2; the other hull edges give the rest of "
             "T(R)."),
    "2 units with biases": dict(
        A=[[1.0, 0.3], [-0.4, 1.0]], c1=[0.5, -0.3], B=[[1.0, -1.0], [-0.5, 1.2]], c2=[0.2, -0.1],
        text="The same weights with biases. c₁ tilts each lifted generator (height w_j c₁_j) and c₂ lifts each "
             "zonotope: the projected zonotopes do not move, but δ(R) now has interior edges and T(R) has bounded "
             "segments. Each piece of T(R) is orthogonal to its dual edge."),
    "3 units: 7 regions": dict(
        A=[[1.0, 0.2], [-0.3, 1.0], [0.8, -0.9]], c1=[0.3, -0.2, 0.4], B=[[1.2, -0.7, 0.5], [-0.6, 1.0, -0.8]],
        c2=[0.0, 0.1],
        text="Three neuron lines in general position cut the plane into 1 + p + C(p, 2) = 7 linear regions. Hover "
             "or select a region: its dual vertex lights up on the right (and the reverse)."),
    "16 units (random)": dict(
        random=16,
        text="Sixteen random hidden units. The zonotopes have 2 × (number of distinct directions) vertices; the "
             "linear regions stay below 1 + 16 + 120 = 137. T(R) (black) is much larger than B (green): a neuron "
             "whose two output weights share a sign puts its whole line into T(R)."),
    "3 classes, 6 units": dict(
        random=6, k=3,
        text="Three classes. Pick a class pair (i, j) to see that pair's zonotopes and its set {f_i = f_j}; the "
             "k-class argmax boundary comes from the common-denominator construction (reference §1.4)."),
}


def _preset_weights(name: str, seed: int) -> tuple:
    spec = PRESETS[name]
    if "random" in spec:
        rng = np.random.default_rng(seed)
        p, k = spec["random"], spec.get("k", 2)
        return rng.normal(size=(p, 2)), rng.normal(size=p) * 0.7, rng.normal(size=(k, p)), rng.normal(size=k) * 0.3
    return tuple(np.array(spec[key], dtype=float) for key in ("A", "c1", "B", "c2"))


def _weights_frame(A, c1, B, c2) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = {f"A[:, {t}]": A[:, t] for t in range(A.shape[1])}
    cols["c1"] = c1
    for r in range(B.shape[0]):
        cols[f"B[{r}, :]"] = B[r]
    return pd.DataFrame(cols), pd.DataFrame({"c2": c2}, index=[f"class {r}" for r in range(len(c2))])


def _frame_to_weights(df: pd.DataFrame, dc2: pd.DataFrame) -> tuple:
    acols = [c for c in df.columns if c.startswith("A[")]
    bcols = [c for c in df.columns if c.startswith("B[")]
    arr = df.apply(pd.to_numeric, errors="coerce")
    A = arr[acols].to_numpy(dtype=float)
    c1 = arr["c1"].to_numpy(dtype=float)
    B = arr[bcols].to_numpy(dtype=float).T
    c2 = pd.to_numeric(dc2["c2"], errors="coerce").to_numpy(dtype=float)
    return A, c1, B, c2


# ------------------------------------------------------------------ cached compute
@st.cache_data(max_entries=64, show_spinner=False)
def _geometry(A: np.ndarray, c1: np.ndarray, B: np.ndarray, c2: np.ndarray, box: tuple, i: int, j: int):
    return pair_geometry(ShallowReluNet(A, c1, B, c2), box, i, j)


@st.cache_data(max_entries=16, show_spinner=False)
def _argmax_boundary(A, c1, B, c2, box):
    return argmax_boundary_dual(ShallowReluNet(A, c1, B, c2), box)


def _train(dataset: str, n_classes: int, hidden: int, epochs: int, seed: int, progress) -> dict:
    import torch

    from robustcore.data import toy_dataset
    from robustcore.nets import ToyReluNet, train_classifier

    X, y = toy_dataset(dataset, n=300, noise=0.15, seed=seed, n_classes=n_classes)
    k = int(y.max()) + 1
    torch.manual_seed(seed)
    model = ToyReluNet(d=2, hidden=hidden, num_classes=max(k, 2))
    snapshots = [ShallowReluNet.from_torch(model)]
    every = max(1, epochs // 40)
    hist = train_classifier(model, X, y, epochs=epochs, lr=2e-2, batch_size=64, seed=seed, progress=progress,
                            snapshot_every=every)
    epochs_kept = [0]
    for row in hist:
        if "state" in row:
            model.load_state_dict(row["state"])
            snapshots.append(ShallowReluNet.from_torch(model))
            epochs_kept.append(int(row.get("epoch", len(epochs_kept))))
    hist_light = [{k_: v for k_, v in r.items() if k_ != "state"} for r in hist]
    return dict(X=X, y=y, snapshots=[(s.A, s.c1, s.B, s.c2) for s in snapshots], epochs=epochs_kept, history=hist_light)


@st.cache_resource
def _training_store() -> dict:
    """Trained snapshots shared by all sessions of this server (a few small nets: tiny memory)."""
    return {}


def _trained(dataset: str, n_classes: int, hidden: int, epochs: int, seed: int) -> dict:
    """Train once per configuration (kept for the session) with a progress bar."""
    store = _training_store()
    key = (dataset, n_classes, hidden, epochs, seed)
    if key not in store:
        bar = st.progress(0.0, text="Training…")
        store[key] = _train(dataset, n_classes, hidden, epochs, seed,
                            lambda f, m="": bar.progress(min(max(float(f), 0.0), 1.0), text=m or "Training…"))
        bar.empty()
    return store[key]


def _digits_head() -> tuple:
    """Features (n, 64) of the digits test set, labels, and the head's weights (cached model)."""
    store = _training_store()
    if "digits-head" not in store:
        import torch

        from robustcore.data import load_digits
        from robustcore.nets import default_model

        bar = st.progress(0.0, text="Loading the digits MLP (trained once, then cached on disk)…")
        model, _ = default_model("digits-mlp", progress=lambda f, m="": bar.progress(min(max(float(f), 0.0), 1.0),
                                                                                      text=m or "Training…"))
        bar.empty()
        Xd, yd = load_digits("test")
        with torch.no_grad():
            F = model.features(Xd.float()).double().numpy()
        head = ShallowReluNet.from_torch(model.head)
        store["digits-head"] = (F, yd.numpy(), (head.A, head.c1, head.B, head.c2))
    return store["digits-head"]


def _auto_box(X, net: ShallowReluNet) -> tuple:
    if X is not None and len(X):
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.25 * (hi - lo).max() + 0.1
        return (float(lo[0] - pad), float(hi[0] + pad), float(lo[1] - pad), float(hi[1] + pad))
    return (-3.0, 3.0, -3.0, 3.0)


def _counts_panel(geo) -> None:
    c = geo.counts
    r1 = st.columns(3)
    r1[0].metric("hidden units p", c["hidden units p"])
    r1[1].metric("vertices of Z_G1 / Z_G2", f'{c["vertices of Z_G1"]} / {c["vertices of Z_G2"]}',
                 help="2 × the number of distinct generator directions (parallel generators merged).")
    r1[2].metric("hull vertices", c["vertices of the hull"], help="Vertices of conv(Z_G1 ∪ Z_G2).")
    r2 = st.columns(3)
    r2[0].metric("linear regions of f", c["linear regions of f in the box"],
                 help="Cells of the neuron-line arrangement inside the view box.")
    r2[1].metric("bound 1 + p + C(p,2)", c["bound 1 + p + C(p,2)"],
                 help="The most regions p lines can cut the plane into.")
    r2[2].metric("regions of R / cells of δ(R)", f'{c["linear regions of R (upper vertices)"]} / {c["cells of delta(R)"]}',
                 help="Upper vertices of conv(P₁ ∪ P₂) = linear regions of R; cells = upper faces.")


def _selection(event) -> int | None:
    """Index carried in customdata[0] of the first selected point (None when nothing is selected).

    Streamlit hands customdata back as a list, a scalar, or a dict {"0": ..., "1": ...}.
    """
    try:
        pts = event.selection.points if event is not None else []
    except AttributeError:
        pts = (event or {}).get("selection", {}).get("points", [])
    for pnt in pts or []:
        cd = pnt.get("customdata")
        if isinstance(cd, dict):
            cd = cd.get("0", cd.get(0))
        elif isinstance(cd, (list, tuple)):
            cd = cd[0] if cd else None
        try:
            if cd is not None:
                return int(cd)
        except (TypeError, ValueError):
            continue
    return None


def _zero_warnings(net: ShallowReluNet, i: int, j: int) -> None:
    if not np.any(net.A):
        st.warning("A is the zero matrix: every neuron is constant (no neuron lines), so f is affine in x — in fact "
                   "constant — and both zonotopes are single points. There is no boundary to draw unless two logits tie.")
    if not np.any(net.B):
        st.warning("B is the zero matrix: the logits are the constants c₂, the zonotopes are single points and there "
                   "is no decision boundary.")
    elif np.allclose(net.B[i], net.B[j]):
        st.warning(f"Rows B[{i}] and B[{j}] are equal: f_{i} − f_{j} = c₂_{i} − c₂_{j} is constant, Z_G1 = Z_G2, and "
                   "the pair has no boundary (or ties everywhere).")


def geometry_tab() -> tuple:
    """Draw the Geometry tab; return (net, X, y) for the other tabs (net may be None on bad input)."""
    with st.expander("The theorem, and what this page adds", expanded=False):
        st.markdown("**Theorem 2** (bias-free net f(x) = B max(Ax, 0); wording recalled from the paper, content "
                    "checked numerically by the tests of this project):")
        st.latex(r"\mathcal{B} \subseteq \mathcal{T}(R(x)),\qquad \delta(R(x)) = \mathrm{ConvexHull}(Z_{G_1}, Z_{G_2})")
        st.markdown("**With biases** (a derived extension, not the paper's statement): c₁ and c₂ lift the zonotopes "
                    "to P₁, P₂ ⊂ ℝ³ and the dual subdivision becomes the projection of the upper faces of their hull. "
                    "The decision boundary is exactly the union of the pieces of T(R) dual to *bridging* edges (a vertex "
                    "of P₁ joined to one of P₂); the rest of T(R) lies on neuron lines.")
        st.latex(r"\delta(R) = \pi\big(\mathrm{UF}(\mathrm{conv}(P_1 \cup P_2))\big),\quad "
                 r"\mathcal{T}(R) = \mathcal{B} \cup \{A_l x + c_{1,l} = 0 : w_{1,l} > 0,\ f_i > f_j\} "
                 r"\cup \{A_l x + c_{1,l} = 0 : w_{2,l} > 0,\ f_j > f_i\}")
    sources = ["Preset", "Edit weights", "Train on a toy set", "Digits MLP head (d = 64)"]
    src = st.radio("Network", sources, index=sources.index(url_state("src", "Preset", str, sources)), horizontal=True,
                   key="trop_src", help="Start from a preset, edit A, c₁, B, c₂ yourself, or train on a 2-D toy set.")
    X = y = None
    weights = None
    seed = int(settings.seed)
    url: dict = {"src": src}
    if src == "Preset":
        names = list(PRESETS)
        name = st.selectbox("Preset", names, index=names.index(url_state("preset", names[0], str, names)),
                            key="trop_preset")
        url["preset"] = name
        st.info(PRESETS[name]["text"])
        weights = _preset_weights(name, seed)
    elif src == "Edit weights":
        c0, c1_, c2_ = st.columns(3)
        d_in = c0.number_input("input dimension d", 1, 8, url_state("d", 2, int), key="trop_d",
                               help="d = 2 shows the exact 2-D picture; d > 2 shows projections and a 2-D slice.")
        start = c1_.selectbox("start from", list(PRESETS)[:4] + ["random"], key="trop_edit_start")
        p_rand = c2_.number_input("hidden units (random start)", 0, 64, 4, key="trop_edit_p",
                                  help="p = 0 is allowed here so you can see the message it gives.")
        url["d"] = int(d_in)
        if start == "random" or d_in != 2:
            rng = np.random.default_rng(seed)
            p_ = int(p_rand)
            base = (rng.normal(size=(p_, int(d_in))), rng.normal(size=p_) * 0.5, rng.normal(size=(2, p_)),
                    rng.normal(size=2) * 0.3)
        else:
            base = _preset_weights(start, seed)
        df, dc2 = _weights_frame(*base)
        st.caption("Edit any cell (rows = hidden units). Add or delete rows to change p. Empty cells count as NaN.")
        ec1, ec2 = st.columns([4, 1])
        edited = ec1.data_editor(df, num_rows="dynamic", key=f"trop_editor_{start}_{d_in}_{p_rand}_{seed}",
                                 width="stretch")
        edited_c2 = ec2.data_editor(dc2, key=f"trop_editor_c2_{start}_{d_in}_{p_rand}_{seed}")
        weights = _frame_to_weights(edited, edited_c2)
        if len(edited) > 0 and d_in == 2:
            with st.expander("Sliders for one hidden unit", expanded=False):
                u = st.number_input("unit j", 0, len(edited) - 1, 0, key="trop_slider_unit")
                A_, c1v, B_, c2v = (np.array(w, dtype=float) for w in weights)
                if np.all(np.isfinite(A_[u])) and np.isfinite(c1v[u]):
                    tag = f"{u}_{hash((tuple(A_[u]), float(c1v[u])))}"
                    s1, s2, s3 = st.columns(3)
                    A_[u, 0] = s1.slider("A[j, 0]", -3.0, 3.0, float(np.clip(A_[u, 0], -3, 3)), 0.05, key=f"trop_sa0_{tag}")
                    A_[u, 1] = s2.slider("A[j, 1]", -3.0, 3.0, float(np.clip(A_[u, 1], -3, 3)), 0.05, key=f"trop_sa1_{tag}")
                    c1v[u] = s3.slider("c1[j]", -3.0, 3.0, float(np.clip(c1v[u], -3, 3)), 0.05, key=f"trop_sc1_{tag}")
                    weights = (A_, c1v, B_, c2v)
    elif src == "Digits MLP head (d = 64)":
        st.info("The paper applies its result to the last (Affine, ReLU, Affine) block of a deep net, with the "
                "penultimate features as x. Here: the bundled digits MLP, whose head maps the 64 features of its "
                "first ReLU to 10 classes through 32 hidden units. With d = 64 the page shows the zonotopes "
                "projected on the features' top two principal directions, and the exact geometry on the 2-D "
                "slice through the mean feature vector along those directions.")
        with guard("loading the digits MLP"):
            X, y, weights = _digits_head()
    else:
        from robustcore.data import TOY_DATASETS

        c0, c1_, c2_, c3_ = st.columns(4)
        ds = c0.selectbox("toy set", list(TOY_DATASETS),
                          index=list(TOY_DATASETS).index(url_state("data", "moons", str, list(TOY_DATASETS))),
                          key="trop_data")
        ncls = c1_.number_input("classes", 2, 5, 3, key="trop_ncls", disabled=ds not in ("blobs", "spirals"))
        hidden = c2_.select_slider("hidden units", [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64],
                                   value=url_state("hidden", 16, int, [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]),
                                   key="trop_hidden")
        epochs = c3_.select_slider("epochs", [10, 25, 50, 100, 200], value=url_state("epochs", 50, int, [10, 25, 50, 100, 200]),
                                   key="trop_epochs")
        url.update(data=ds, hidden=hidden, epochs=epochs)
        with guard("training the net"):
            tr = _trained(ds, int(ncls) if ds in ("blobs", "spirals") else 2, int(hidden), int(epochs), seed)
            X, y = tr["X"], tr["y"]
            n_snap = len(tr["snapshots"])
            e_idx = st.slider("epoch (stored snapshots)", 0, n_snap - 1, n_snap - 1, key=f"trop_epoch_{len(tr['epochs'])}",
                              format="%d", help="Replay the geometry during training.")
            st.caption(f"Showing the weights after epoch {tr['epochs'][e_idx]} of {epochs}.")
            weights = tr["snapshots"][e_idx]
            st.plotly_chart(training_figure(tr["history"], tr["epochs"][e_idx]), width="stretch")
    set_url_state(**url)

    net = None
    with guard("building the network"):
        net = ShallowReluNet(*weights)
    if net is None:
        return None, X, y

    # ----------------------------------------------------------- class pair
    i, j = 0, 1
    if net.k > 2:
        cc = st.columns(3)
        i = cc[0].selectbox("class i", list(range(net.k)), index=min(url_state("pi", 0, int), net.k - 1),
                            key="trop_pair_i")
        others = [c for c in range(net.k) if c != i]
        j_url = url_state("pj", others[0], int)
        j = cc[1].selectbox("class j", others, index=others.index(j_url) if j_url in others else 0, key="trop_pair_j")
        set_url_state(pi=i, pj=j)
        show_argmax = cc[2].checkbox("show the k-class argmax boundary", value=True, key="trop_argmax",
                                     help="From the common-denominator zonotopes P_i = H_i ⊙ ∏_{l≠i} Q_l (§1.4).")
    else:
        show_argmax = False
    _zero_warnings(net, i, j)

    if net.d != 2:
        slice_and_projection_view(net, i, j, X, y, show_argmax)
        return net, X, y

    box = _auto_box(X, net)
    with st.expander("View box and layers", expanded=False):
        zoom = st.slider("zoom out", 0.5, 4.0, 1.0, 0.25, key="trop_zoom")
        cx, cy = (box[0] + box[1]) / 2, (box[2] + box[3]) / 2
        hw, hh = (box[1] - box[0]) / 2 * zoom, (box[3] - box[2]) / 2 * zoom
        box = (cx - hw, cx + hw, cy - hh, cy + hh)
        l1, l2, l3, l4 = st.columns(4)
        show_regions = l1.checkbox("linear regions", True, key="trop_show_regions")
        show_neurons = l2.checkbox("neuron lines", True, key="trop_show_neurons")
        show_T = l3.checkbox("T(R)", True, key="trop_show_T")
        show_sub = l4.checkbox("δ(R) edges", True, key="trop_show_sub")

    geo = None
    with guard("computing the tropical geometry"):
        geo = _geometry(net.A, net.c1, net.B, net.c2, box, i, j)
    if geo is None:
        return net, X, y
    _counts_panel(geo)

    # linked selection: a region (left) <-> its dual vertex (right)
    sel = st.session_state.get("_trop_sel", {})
    fp = hash((net.A.tobytes(), net.c1.tobytes(), net.B.tobytes(), net.c2.tobytes(), box, i, j))
    if sel.get("fp", fp) != fp:  # the net or the view changed: a stale selection means nothing
        sel = {}
        st.session_state["_trop_sel"] = sel
    hl_region = sel.get("region")
    hl_vertex = sel.get("vertex")
    if hl_region is not None and hl_region < len(geo.regions):
        hl_vertex = int(geo.region_dual[hl_region])
    elif hl_vertex is not None:
        hl_region = np.flatnonzero(geo.region_dual == hl_vertex).tolist() or None

    left, right = st.columns(2)
    with left:
        st.markdown(f"**Input space.** Linear regions (cells of the neuron lines A_j x + c₁_j = 0), "
                    f"**T(R)** (black) and **B** = {{f_{i} = f_{j}}} (green).")
        st.latex(rf"\mathcal{{B}} = \{{x : f_{i}(x) = f_{j}(x)\}} \subseteq \mathcal{{T}}(R)")
        st.latex(rf"R = H_{i}\odot Q_{j} \oplus H_{j}\odot Q_{i}")
        fig_in = input_space_figure(geo, net, X, y, highlight_region=hl_region, show_regions=show_regions,
                                    show_neurons=show_neurons, show_T=show_T)
        if show_argmax:
            from robustcore.viz.tropical import _segments_xy

            S = _argmax_boundary(net.A, net.c1, net.B, net.c2, box)
            xs, ys = _segments_xy(S)
            fig_in.add_scatter(x=xs, y=ys, mode="lines", line=dict(color="black", width=3, dash="dot"),
                               name="k-class argmax boundary")
        ev_in = st.plotly_chart(fig_in, width="stretch", on_select="rerun", selection_mode="points",
                                key="trop_fig_input")
    with right:
        st.markdown("**Dual space.** Z_G1 (red), Z_G2 (blue), their hull, the dual subdivision δ(R) and the "
                    "bridging edges (green, dual to B; each is orthogonal to its piece of B).")
        st.latex(r"\delta(R) = \pi\big(\mathrm{UF}(\mathrm{conv}(P_1 \cup P_2))\big)")
        st.latex(r"Z_{G_1} = s + \textstyle\sum_l [0,1]\, G_1(l,:)")
        fig_du = dual_space_figure(geo, highlight_vertex=hl_vertex, show_subdivision=show_sub,
                                   highlight_region=sel.get("region"))
        ev_du = st.plotly_chart(fig_du, width="stretch", on_select="rerun", selection_mode="points",
                                key="trop_fig_dual")
    new_r, new_v = _selection(ev_in), _selection(ev_du)
    if new_r is not None and new_r != sel.get("region"):
        st.session_state["_trop_sel"] = {"region": new_r, "fp": fp}
        st.rerun()
    if new_v is not None and new_v != sel.get("vertex") and new_r is None:
        st.session_state["_trop_sel"] = {"vertex": new_v, "fp": fp}
        st.rerun()
    if hl_region is not None or hl_vertex is not None:
        if st.button("clear selection", key="trop_clear"):
            st.session_state["_trop_sel"] = {}
            st.rerun()

    agree = "agree" if geo.B_gap < 1e-7 * (box[1] - box[0]) else "DIFFER"
    st.caption(f"B computed two independent ways — from the bridging edges of δ(R), and by solving f_{i} = f_{j} inside "
               f"each activation cell — {agree}: largest gap {geo.B_gap:.1e}"
               + (" (tie regions present: their interior is part of B and is shaded)." if geo.ties else ".")
               + ("" if agree == "agree" else " The net is near-degenerate (e.g. biases ~1e-9 of the weights, so "
                  "|f_i − f_j| is at round-off level on whole cones): the two constructions see different round-off."))
    if geo.sub.kind == "flat":
        st.caption("All lifted points are coplanar (e.g. no biases): δ(R) is the single polygon conv(Z_G1 ∪ Z_G2) and "
                   "T(R) is a fan of rays from one point, as in Theorem 2.")

    with st.expander("3-D lifted view: P₁, P₂ ⊂ ℝ³ and the upper hull", expanded=False):
        st.latex(r"P_1 = (s, c_{2,i}) + \textstyle\sum_l [0,1]\, w_{1,l}\,(A_l, c_{1,l})")
        st.latex(r"H_i + Q_j = h_{P_1}(x, 1) = \max_{(e, h) \in P_1} \langle e, x\rangle + h")
        st.plotly_chart(lifted_figure(geo), width="stretch")
        st.caption("The general (biased) form is derived from the paper's bias-free Theorem 2 (a derived extension, "
                   "checked numerically; see the reference notes §1.3).")

    with st.expander("The tropical polynomials H_i, Q_i", expanded=False):
        st.latex(r"f_i = H_i - Q_i,\quad H_i = c_{2,i} + \textstyle\sum_l [B^+_{il} F_l + B^-_{il} G_l],\quad "
                 r"Q_i = \textstyle\sum_l [B^-_{il} F_l + B^+_{il} G_l]")
        st.latex(r"F_l = \max(A^+_l x + c_{1,l},\ A^-_l x),\qquad G_l = A^-_l x")
        dec = tropical_decomposition(net)
        if net.p <= 6:
            H, Q = dec[i]
            for nm, P in ((f"H_{i}", H), (f"Q_{i}", Q)):
                E, cf = P.expand()
                st.markdown(f"**{nm}**: {len(cf)} monomials (exponent, coefficient)")
                st.dataframe(pd.DataFrame({"e1": E[:, 0], "e2": E[:, 1], "coefficient": cf}), height=180)
        else:
            st.write(f"With p = {net.p} the explicit polynomials have up to 2^{net.p} monomials; the page uses the "
                     "closed forms (sums of ReLUs) instead.")
    return net, X, y


def slice_and_projection_view(net: ShallowReluNet, i: int, j: int, X=None, y=None, show_argmax: bool = False) -> None:
    """d > 2: projected zonotopes on a chosen plane and the exact picture on a 2-D slice."""
    if net.d < 2:
        st.error("With d = 1 there is no plane to draw: the boundary is a set of points on the line.")
        return
    has_data = X is not None and len(X) >= 3 and X.shape[1] == net.d
    st.warning(f"The exact 2-D picture needs d = 2; this net has d = {net.d}. Below: Z_G1 and Z_G2 projected on a "
               "plane, and the exact regions, T(R) and B on the 2-D slice x = x₀ + U t through x₀ along that plane.")
    frames = (["PCA of the data"] if has_data else []) + ["two input axes"]
    a0, a1, a2 = st.columns(3)
    frame = a0.radio("plane", frames, key="trop_frame", horizontal=True)
    with guard("projecting the zonotopes"):
        if frame == "PCA of the data":
            U, x0 = pca_frame(X, 2)
            desc = "top two principal directions of the data, through its mean"
        else:
            ax0 = a1.number_input("first axis", 0, net.d - 1, 0, key="trop_ax0")
            ax1 = a2.number_input("second axis", 0, net.d - 1, 1, key="trop_ax1")
            U = coordinate_frame(net.d, (int(ax0), int(ax1)))
            x0 = X.mean(axis=0) if has_data else np.zeros(net.d)
            desc = f"input axes ({ax0}, {ax1}), through {'the data mean' if has_data else 'the origin'}"
        G1, G2 = net.zonotope_generators(i, j)
        s = net.common_shift([i, j])
        Z1, Z2 = projected_zonotope(G1, U, s), projected_zonotope(G2, U, s)
        st.latex(r"\Pi Z_{G} = \Pi s + \textstyle\sum_l [0,1]\, U^\top G(l,:)")
        st.plotly_chart(projection_figure(Z1, Z2, title=f"Z_G1, Z_G2 projected on the {desc}"), width="stretch")
        st.caption("A linear image of a zonotope is the zonotope of the mapped generators, so this projection is "
                   f"exact ({len(Z1)} and {len(Z2)} vertices).")
        sn = slice_net(net, x0, U)
        T2 = (X - x0) @ U if has_data else None
        box = _auto_box(T2, sn)
        geo = _geometry(sn.A, sn.c1, sn.B, sn.c2, box, i, j)
        _counts_panel(geo)
        fig = input_space_figure(geo, sn, T2, y, title=f"Slice x = x₀ + U t ({desc}): exact regions, T(R), B")
        if show_argmax:
            from robustcore.viz.tropical import _segments_xy

            xs, ys = _segments_xy(_argmax_boundary(sn.A, sn.c1, sn.B, sn.c2, box))
            fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color="black", width=3, dash="dot"),
                            name="k-class argmax boundary (on the slice)")
        c_l, c_r = st.columns(2)
        c_l.plotly_chart(fig, width="stretch")
        c_r.plotly_chart(dual_space_figure(geo, title="Dual space of the slice net"), width="stretch")
        if has_data:
            st.caption("Data points are the features projected on the plane; they lie near, not on, the slice, so a "
                       "point may sit on the 'wrong' side of the slice's boundary.")


# --------------------------------------------------------------------------- tabs
tab_geo, tab_prune, tab_lottery, tab_attack = st.tabs(["Geometry", "Pruning", "Lottery tickets", "Attack"])
with tab_geo:
    net_, X_, y_ = geometry_tab()


def _net_is_2d() -> bool:
    """Pruning and the attack draw 2-D input space: say so instead when the net does not fit."""
    if net_ is None:
        st.info("Fix the network in the Geometry tab first.")
        return False
    if net_.d != 2:
        st.info(f"These views work on 2-D toy nets; set d = 2 in the Geometry tab (this net has d = {net_.d}).")
        return False
    return True


with tab_prune:
    if _net_is_2d():
        with guard("showing tropical pruning"):
            render_pruning(net_, X_, y_, int(settings.seed))
with tab_lottery:
    with guard("showing lottery tickets"):
        render_lottery(st.session_state.get("trop_data", "moons"), X_, y_, int(settings.seed))
with tab_attack:
    if _net_is_2d():
        with guard("showing the tropical attack"):
            render_attack(net_, X_, y_, int(settings.seed))
