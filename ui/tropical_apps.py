"""Streamlit sections of the tropical page: pruning, lottery tickets, tropical attack.

Called by ``pages/tropical.py`` inside its tabs. Thin: widgets -> robustcore.tropical -> robustcore.viz.
Heavy work is cached on the weights and settings; every section opens on a default preset that
computes in well under 5 s on a CPU.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from robustcore.tropical.net import ShallowReluNet
from ui.common import StreamlitProgress, guard, set_url_state, url_state

__all__ = ["render_pruning", "render_lottery", "render_attack"]

_RATIOS = (0.0, 0.25, 0.5, 0.6, 0.75, 0.85, 0.9)


def _box_of(X: np.ndarray | None, pad: float = 0.5) -> tuple[float, float, float, float]:
    if X is None or len(X) == 0:
        return (-2.0, 2.0, -2.0, 2.0)
    lo, hi = X.min(axis=0), X.max(axis=0)
    return (float(lo[0] - pad), float(hi[0] + pad), float(lo[1] - pad), float(hi[1] + pad))


def _net_key(net: ShallowReluNet) -> tuple:
    return (net.A.tobytes(), net.c1.tobytes(), net.B.tobytes(), net.c2.tobytes(), net.A.shape, net.B.shape)


def _net_from(arrs: tuple) -> ShallowReluNet:
    A, c1, B, c2 = arrs
    return ShallowReluNet(A, c1, B, c2)


def _synthetic_labels(net: ShallowReluNet, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Without data: uniform points in [-2, 2]^2 labelled by the net itself (accuracy = agreement)."""
    X = np.random.default_rng(seed).uniform(-2.0, 2.0, size=(600, net.d))
    return X, net.predict(X)


# ----------------------------------------------------------------------------- pruning
@st.cache_data(show_spinner=False, max_entries=32)
def _pruning_curves_cached(arrs: tuple, X: np.ndarray, y: np.ndarray, ratios: tuple, methods: tuple, refit: bool):
    from robustcore.tropical.pruning import pruning_curves

    bar = StreamlitProgress("Pruning at every ratio...")
    out = pruning_curves(_net_from(arrs), X, y, ratios, methods=methods, refit=refit, progress=bar)
    bar.done()
    return out


@st.cache_data(show_spinner=False, max_entries=64)
def _prune_pair(arrs: tuple, ratio: float, refit: bool):
    from robustcore.tropical.pruning import magnitude_prune, tropical_prune

    net = _net_from(arrs)
    trop = tropical_prune(net, ratio, refit=refit)
    mag = magnitude_prune(net, ratio, "blind")
    return trop, mag


@st.cache_resource(show_spinner=False)
def _digits_model():
    """The default digits MLP (trained and cached on disk on first use)."""
    from robustcore.nets import default_model

    bar = StreamlitProgress("Training the digits MLP (first use only)...")
    model, _ = default_model("digits-mlp", progress=bar)
    bar.done()
    return model.eval()


@st.cache_resource(show_spinner=False)
def _digits_block():
    """The digits MLP's last Affine-ReLU-Affine block and its test features (trained on first use)."""
    import torch

    from robustcore.data import load_digits

    model = _digits_model()
    Xte, yte = load_digits("test")
    with torch.no_grad():
        F = model.features(Xte).double().numpy()
    net = ShallowReluNet.from_torch(model.head)
    return (net.A, net.c1, net.B, net.c2), F, yte.numpy()


def render_pruning(net: ShallowReluNet, X: np.ndarray | None, y: np.ndarray | None, seed: int) -> None:
    """Tropical pruning against class-blind magnitude pruning, on the page's net or the digits MLP block."""
    st.markdown(
        "**Tropical pruning** removes whole hidden units whose generators matter little to the decision "
        "polytope. It minimises over $(\\tilde A, \\tilde B)$, summed over ordered class pairs $(i, j)$:"
    )
    st.latex(
        r"\min_{\tilde A,\tilde B}\ \sum_{i\neq j} \tfrac12\|\tilde G_{ij}-G_{ij}\|_F^2+\lambda\|\tilde G_{ij}\|_{2,1},"
        r"\quad G_{ij}=\mathrm{Diag}[\mathrm{ReLU}(B_i)+\mathrm{ReLU}(-B_j)]\,A"
    )
    st.caption(
        "For k = 2 the two ordered pairs give the paper's G1 and G2. ||X||_{2,1} sums row norms, so whole generators "
        "(hidden units) drop. The paper's solver is only recalled ('alternating / proximal'); we use block-coordinate "
        "descent that provably never increases the objective: an exact group soft-threshold step in Ã and projected "
        "gradient steps in B̃ (B̃ keeps B's signs). λ is set by bisection so that exactly round(ratio·p) units drop; by "
        "default the survivors keep their original weights (debiased group lasso). The baseline zeroes the smallest "
        "|weights| of A and B pooled (class-blind magnitude pruning). Ratio = fraction of the entries of A and B set to zero."
    )
    c1, c2, c3 = st.columns([1.2, 1, 1])
    source = c1.radio("Network", ["page net (2-D)", "digits MLP: last Affine-ReLU-Affine block"], key="trop_prune_source",
                      index=0 if url_state("prune_src", "page") == "page" else 1, horizontal=False)
    set_url_state(prune_src="page" if source.startswith("page") else "digits")
    refit = c2.checkbox("Survivors keep original weights", value=True, key="trop_prune_refit",
                        help="Off: use the shrunk group-lasso solution itself (c1 rescaled with its row).")
    extra = c3.checkbox("Also show whole-unit magnitude pruning", value=False, key="trop_prune_neuron",
                        help="Removes the units with the smallest |A_r|·|B_:r|: the same unit count as tropical pruning.")
    methods = ("tropical", "magnitude") + (("magnitude-neuron",) if extra else ())

    if source.startswith("page"):
        arrs = (net.A, net.c1, net.B, net.c2)
        if X is None or y is None or len(X) == 0 or X.shape[1] != net.d:
            Xe, ye = _synthetic_labels(net, seed)
            st.info("No data set on the Geometry tab: accuracy is measured as agreement with the unpruned net on 600 "
                    "uniform points in [-2, 2]^2.")
        else:
            Xe, ye = np.asarray(X, dtype=np.float64), np.asarray(y)
        plane = None
    else:
        arrs = None
        with guard("loading the digits MLP"):
            arrs, Xe, ye = _digits_block()
        if arrs is None:
            return
        from robustcore.tropical._apps_geometry import pca_plane

        plane = pca_plane(Xe, arrs[0].shape[1])
        st.caption("Digits: 64 features (the first hidden layer's output on the 450 test images) -> 32 units -> 10 "
                   "classes. The Hausdorff distance is estimated in 64-D from support functions in 4096 seeded "
                   "directions (a lower bound); areas are those of the exact projections on the features' PCA plane.")
    work_net = _net_from(arrs)
    curves = _pruning_curves_cached(arrs, Xe, ye, _RATIOS, methods, refit)
    from robustcore.viz.tropical_apps import (
        boundaries_figure,
        objective_figure,
        polytopes_figure,
        pruning_curves_figure,
    )

    st.plotly_chart(pruning_curves_figure(curves, title="Pruning curves"), width="stretch", key="trop_prune_curves")
    rows = []
    for r in (0.5, 0.75, 0.9):
        i = _RATIOS.index(r)
        row = {"ratio": r}
        for m in methods:
            row[f"acc {m}"] = float(curves[m]["accuracy"][i])
        best = max(methods, key=lambda m: curves[m]["accuracy"][_RATIOS.index(r)])
        row["keeps accuracy better"] = best
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    default_ratio = url_state("prune_ratio", 0.5, float, choices=list(_RATIOS))
    ratio = st.select_slider("Inspect pruning ratio", options=list(_RATIOS), value=default_ratio, key="trop_prune_ratio")
    set_url_state(prune_ratio=ratio)
    trop, mag = _prune_pair(arrs, float(ratio), refit)
    a, b = st.columns(2)
    a.plotly_chart(polytopes_figure({"original": work_net, "tropical": trop.net, "magnitude": mag.net}, plane=plane,
                                    title="Decision polytopes conv(Z_1 ∪ … ∪ Z_k) (shift dropped)"),
                   width="stretch", key="trop_prune_poly")
    if work_net.d == 2:
        b.plotly_chart(boundaries_figure({"original": work_net, "tropical": trop.net, "magnitude": mag.net},
                                         _box_of(Xe), Xe, ye, title="Decision boundaries (exact)"),
                       width="stretch", key="trop_prune_bnd")
    else:
        b.plotly_chart(objective_figure(trop.history, title=f"Objective at λ = {trop.lam:.3g}"), width="stretch",
                       key="trop_prune_obj")
    with st.expander("Solver trace: the objective after every half-step (it never increases)"):
        st.plotly_chart(objective_figure(trop.history, title=f"F(Ã, B̃) at λ = {trop.lam:.3g}"), width="stretch",
                        key="trop_prune_trace")
    st.caption(f"Tropical: {int(trop.kept.sum())}/{work_net.p} units kept at λ = {trop.lam:.3g}"
               + (f" ({trop.forced} more zeroed by the exact-ratio rule)" if trop.forced else "")
               + f"; magnitude: {int(mag.kept.sum())}/{work_net.p} units still have a nonzero generator.")


# ----------------------------------------------------------------------------- lottery
@st.cache_data(show_spinner=False, max_entries=16)
def _lottery_cached(X: np.ndarray, y: np.ndarray, ratios: tuple, hidden: int, epochs: int, seed: int,
                    Xt: np.ndarray | None, yt: np.ndarray | None):
    from robustcore.tropical.lottery import lottery_experiment

    bar = StreamlitProgress("Training dense, ticket and random nets...")
    exp = lottery_experiment(X, y, ratios=ratios, hidden=hidden, epochs=epochs, seed=seed, X_test=Xt, y_test=yt,
                             progress=bar)
    bar.done()
    return exp


def render_lottery(dataset: str, X: np.ndarray | None, y: np.ndarray | None, seed: int) -> None:
    """Lottery tickets: dense vs ticket (original init) vs random re-init, polytopes and boundaries."""
    from robustcore.data import TOY_DATASETS, toy_dataset

    st.markdown(
        "**Lottery tickets.** Train a net from $\\theta_0$, prune each weight matrix by magnitude (mask $m$), then "
        "retrain $m\\odot\\theta_0$ (the *ticket*) and $m\\odot\\theta_0'$ (a fresh random draw) with the mask fixed. "
        "Compare their decision polytopes $\\mathrm{conv}(Z_{G_1}\\cup Z_{G_2})$ with the dense net's, by the "
        "Hausdorff distance after normalisation:"
    )
    st.latex(r"d_H\big(\hat P_{\mathrm{dense}},\hat P\big),\qquad \hat P=\frac{P-\bar v}{\max_{v}\|v-\bar v\|}"
             r"\quad(\bar v:\ \text{vertex centroid})")
    st.caption("Translating or scaling the whole polytope does not move the decision boundary (reference I4, I12), so "
               "the normalised distance (between 0 and 2) measures shape and orientation only. The paper's comparison is "
               "qualitative (recalled, no numbers); what you see here is measured. Full-batch Adam, seeded: the same "
               "settings give the same nets.")
    if X is None or y is None or np.asarray(X).ndim != 2 or np.asarray(X).shape[1] != 2:
        names = list(TOY_DATASETS)
        ds = dataset if dataset in names else "moons"
        X, y = toy_dataset(ds, n=300, noise=0.15, seed=seed)
        st.caption(f"Data: the {ds} toy set (300 points, seed {seed}).")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    c1, c2, c3 = st.columns(3)
    hidden = c1.slider("Hidden units p", 4, 64, url_state("lottery_p", 16, int, choices=list(range(4, 65, 4))), step=4, key="trop_lottery_hidden")
    epochs = c2.slider("Epochs (each training)", 50, 1000, 300, step=50, key="trop_lottery_epochs")
    ratios = c3.multiselect("Pruning ratios", [0.3, 0.5, 0.7, 0.8, 0.9], default=[0.5, 0.8], key="trop_lottery_ratios")
    set_url_state(lottery_p=hidden)
    if not ratios:
        st.info("Pick at least one pruning ratio.")
        return
    ratios = tuple(sorted(float(r) for r in ratios))
    exp = _lottery_cached(X, y, ratios, int(hidden), int(epochs), int(seed), None, None)
    show = st.select_slider("Show ratio", options=list(ratios), value=ratios[0], key="trop_lottery_show")
    from robustcore.viz.tropical_apps import lottery_figure

    st.plotly_chart(lottery_figure(exp, ratios.index(show), _box_of(X), X, y), width="stretch", key="trop_lottery_fig")
    st.dataframe(pd.DataFrame([{
        "ratio": r.ratio, "train acc dense": exp.acc_dense, "train acc ticket": r.acc_ticket,
        "train acc random": r.acc_random, "d_H(dense, ticket)": r.dist_ticket, "d_H(dense, random)": r.dist_random,
    } for r in exp.runs]), hide_index=True, width="stretch")


# ----------------------------------------------------------------------------- attack
@st.cache_data(show_spinner=False, max_entries=32)
def _attack_cached(arrs: tuple, x0: np.ndarray, eps1: float, eps2: float, lam: float, iters: int,
                   box: tuple[float, float]):
    from robustcore.tropical.attack import pgd_min_radius, tropical_attack

    net = _net_from(arrs)
    res = tropical_attack(net, x0, eps1=eps1, eps2=eps2, lam=lam, box=box, iters=iters)
    pgd_inf = pgd_min_radius(net, x0, eps1, norm="linf", box=box)
    pgd_l2 = pgd_min_radius(net, x0, eps1 * np.sqrt(net.d), norm="l2", box=box)
    return res, pgd_inf, pgd_l2


def render_attack(net: ShallowReluNet, X: np.ndarray | None, y: np.ndarray | None, seed: int) -> None:
    """The tropical attack at one point: ADMM over (eta, A~), verified, against PGD."""
    st.markdown(
        "**Tropical attack.** Move the decision boundary across $x_0$ by perturbing the first-layer weights "
        "$A\\to\\tilde A$, and realise the same move as an input perturbation $\\eta$ through the coupling "
        "$A(x_0+\\eta)=\\tilde A x_0$:"
    )
    st.latex(r"\min_{\eta,\tilde A}\ \tfrac12\|\eta\|_2^2+\tfrac{\lambda}{2}\|\tilde A-A\|_F^2\ \ \text{s.t.}\ "
             r"m(x_0+\eta)\ge\kappa,\ x_0+\eta\in[\ell,u]^d,\ \|\eta\|_\infty\le\epsilon_1,\ "
             r"\|\tilde A-A\|_{\max}\le\epsilon_2,\ A(x_0+\eta)=\tilde A x_0")
    st.caption("m is the margin of the best other class over the predicted one (κ = 1e-3). The paper's loss constraints "
               "and ADMM details are recalled, not checked; our reading: scaled ADMM on the split Aη − (Ã − A)x0 = 0 with "
               "an exact Ã-step, projected gradient η-steps and a hinge weight that doubles while the margin is unmet. "
               "A success is reported only after evaluating the network at x0 + η and the Ã-net at x0, and checking "
               "every constraint. The input box is the data's bounding box padded by 0.5 (scalar bounds).")
    target = st.radio("Attack", ["page net (2-D)", "digits image (MLP, through its first layer)"], horizontal=True,
                      key="trop_attack_source", index=0 if url_state("attack_src", "page") == "page" else 1)
    set_url_state(attack_src="page" if target.startswith("page") else "digits")
    if not target.startswith("page"):
        _render_digits_attack()
        return
    if net.d != 2:
        st.info("The attack picture needs a 2-D input net; this net has d = %d." % net.d)
        return
    if X is None or y is None or len(X) == 0:
        Xs = np.random.default_rng(seed).uniform(-2, 2, size=(200, 2))
    else:
        Xs = np.asarray(X, dtype=np.float64)
    box4 = _box_of(Xs)
    box = (min(box4[0], box4[2]), max(box4[1], box4[3]))
    L = net.logits(Xs)
    srt = np.sort(L, axis=1)
    closeness = srt[:, -1] - srt[:, -2]
    # ties (e.g. the cone where every unit of a bias-free net is off, f = c2) have no gradient to follow
    live = np.flatnonzero(closeness > 1e-9 * (1.0 + np.abs(L).max()))
    if len(live):
        default_idx = int(live[np.argsort(closeness[live])[len(live) // 10]])
    else:
        default_idx = 0
    c1, c2, c3, c4 = st.columns(4)
    idx = c1.number_input("Point index", 0, len(Xs) - 1, url_state("attack_idx", default_idx, int), key="trop_attack_idx",
                          help="Default: a point near (not on) the boundary, the 10th percentile of the logit gap (ties excluded).")
    set_url_state(attack_idx=int(idx))
    eps1 = c2.slider("ε1 (l∞ on η)", 0.05, 2.0, 1.0, 0.05, key="trop_attack_eps1")
    eps2 = c3.slider("ε2 (max |Ã − A|)", 0.05, 3.0, 1.0, 0.05, key="trop_attack_eps2")
    lam = c4.select_slider("λ", options=[0.1, 0.3, 1.0, 3.0, 10.0], value=1.0, key="trop_attack_lam")
    x0 = Xs[int(idx)]
    with st.spinner("Running the ADMM attack and PGD..."):
        res, pgd_inf, pgd_l2 = _attack_cached((net.A, net.c1, net.B, net.c2), x0, float(eps1), float(eps2), float(lam),
                                              200, box)
    if res.success:
        st.success(f"Verified: {res.message}")
    else:
        st.warning(f"No verified success: {res.message}")
    from robustcore.viz.tropical_apps import attack_input_figure, polytopes_figure

    a, b = st.columns(2)
    a.plotly_chart(attack_input_figure(net, res.net_tilde if res.success else None, x0,
                                       res.x_adv if res.success else None, box4, Xs if X is not None else None, y,
                                       x_pgd=pgd_inf["x_adv"] if pgd_inf["success"] else None,
                                       title="Input space: boundary before (solid) and with Ã (dashed)"),
                   width="stretch", key="trop_attack_input")
    polys = {"original": net}
    if res.success and res.net_tilde is not None:
        polys["attacked"] = res.net_tilde
    b.plotly_chart(polytopes_figure(polys, title="Decision polytope conv(Z_1 ∪ … ∪ Z_k): before and after (Ã)"), width="stretch",
                   key="trop_attack_dual")
    st.dataframe(pd.DataFrame([
        {"method": "tropical (ADMM)", "success (verified)": res.success, "||η||_2": res.norm_l2 if res.success else None,
         "||η||_∞": res.norm_linf if res.success else None, "max |Ã − A|": res.weight_change if res.success else None},
        {"method": "PGD l∞, smallest ε found", "success (verified)": bool(pgd_inf["success"]),
         "||η||_2": pgd_inf["norm_l2"], "||η||_∞": pgd_inf["norm_linf"], "max |Ã − A|": None},
        {"method": "PGD l2, smallest ε found", "success (verified)": bool(pgd_l2["success"]),
         "||η||_2": pgd_l2["norm_l2"], "||η||_∞": pgd_l2["norm_linf"], "max |Ã − A|": None},
    ]), hide_index=True, width="stretch")
    st.caption("PGD: robustcore.attacks.pgd_attack (30 steps, 10 bisection steps) with bisection on ε; neither attack proves a minimum.")


@st.cache_data(show_spinner=False, max_entries=32)
def _digits_attack_cached(index: int, eps1: float, eps2: float, lam: float):
    import torch

    from robustcore.data import load_digits
    from robustcore.tropical.attack import pgd_min_radius, split_first_layer, tropical_attack

    model = _digits_model()
    X, y = load_digits("test")
    x0 = X[index].reshape(-1).double().numpy()
    A, head = split_first_layer(model)
    res = tropical_attack(None, x0, head=head, A=A, eps1=eps1, eps2=eps2, lam=lam, box=(0.0, 1.0), iters=150)
    pgd = pgd_min_radius(model, x0, eps1, norm="linf", box=(0.0, 1.0))

    def cls(x):
        with torch.no_grad():  # the float32 model as the pages use it: an independent check
            return int(model(torch.as_tensor(x, dtype=torch.float32).view(1, 1, 8, 8)).argmax())

    labels = {"x0": cls(x0), "tropical": cls(res.x_adv) if res.success else None,
              "pgd": cls(pgd["x_adv"]) if pgd["success"] else None}
    return res, pgd, labels, int(y[index])


def _render_digits_attack() -> None:
    st.caption("Digits MLP (64 pixels -> 64 -> 32 -> 10): A is its first layer, g the rest. Pixels in [0, 1]. The "
               "whole net is not Affine-ReLU-Affine, so no dual polytope is drawn here; the coupling A(x0 + η) = Ãx0 "
               "is the same. The class shown under each image is the float32 model's own prediction.")
    c1, c2, c3 = st.columns(3)
    index = c1.number_input("Test image", 0, 449, url_state("attack_img", 0, int), key="trop_attack_img")
    set_url_state(attack_img=int(index))
    eps1 = c2.slider("ε1 (l∞ on η, pixels)", 0.02, 0.5, 0.3, 0.02, key="trop_attack_deps1")
    eps2 = c3.slider("ε2 (max |Ã − A|)", 0.01, 0.2, 0.05, 0.01, key="trop_attack_deps2")
    model_ok = None
    with guard("loading the digits MLP"):
        model_ok = _digits_model()
    if model_ok is None:
        return
    with st.spinner("Running the ADMM attack and PGD on the digit..."):
        res, pgd, labels, truth = _digits_attack_cached(int(index), float(eps1), float(eps2), 1.0)
    if res.success:
        st.success(f"Verified: {res.message} (true label {truth})")
    else:
        st.warning(f"No verified success: {res.message} (true label {truth})")
    from robustcore.viz.tropical_apps import digits_attack_figure

    st.plotly_chart(digits_attack_figure(res.x0, res.x_adv if res.success else None,
                                         pgd["x_adv"] if pgd["success"] else None, labels),
                    width="stretch", key="trop_attack_digits")
    st.dataframe(pd.DataFrame([
        {"method": "tropical (ADMM)", "success (verified)": res.success, "||η||_2": res.norm_l2 if res.success else None,
         "||η||_∞": res.norm_linf if res.success else None, "max |Ã − A|": res.weight_change if res.success else None},
        {"method": "PGD l∞, smallest ε found", "success (verified)": bool(pgd["success"]),
         "||η||_2": pgd["norm_l2"], "||η||_∞": pgd["norm_linf"], "max |Ã − A|": None},
    ]), hide_index=True, width="stretch")
