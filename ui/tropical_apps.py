"""Streamlit sections of the tropical page: pruning, lottery tickets, tropical attack.

Called by ``app_pages/tropical.py`` inside its tabs. Thin: widgets -> robustcore.tropical -> robustcore.viz.
Heavy work is cached on the weights and settings; every section opens on a default preset that
computes in well under 5 s on a CPU.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from robustcore.tropical.net import ShallowReluNet
from ui.common import LazyProgress, guard, set_url_state, show_figure, url_state

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
def _pruning_curves_cached(arrs: tuple, X: np.ndarray, y: np.ndarray, ratios: tuple, methods: tuple, refit: bool,
                           bias_refit: bool = False, X_refit: np.ndarray | None = None):
    from robustcore.tropical.pruning import pruning_curves

    bar = LazyProgress("Pruning at every ratio...")
    out = pruning_curves(_net_from(arrs), X, y, ratios, methods=methods, refit=refit, progress=bar,
                         bias_refit=bias_refit, X_refit=X_refit)
    bar.done()
    return out


@st.cache_data(show_spinner=False, max_entries=64)
def _prune_all(arrs: tuple, ratio: float, refit: bool, bias_refit: bool, X_refit: np.ndarray | None):
    from robustcore.tropical.pruning import magnitude_prune, refit_output_bias, tropical_prune

    net = _net_from(arrs)
    out = {"tropical": tropical_prune(net, ratio, refit=refit), "magnitude-neuron": magnitude_prune(net, ratio, "neuron"),
           "magnitude": magnitude_prune(net, ratio, "blind")}
    nets = {m: (refit_output_bias(net, r.net, X_refit) if bias_refit else r.net) for m, r in out.items()}
    return out, nets


def verdict(accs: dict[str, float], n: int) -> str:
    """Which method keeps accuracy best at one ratio; a tie when the best two differ by at most 1/n."""
    ranked = sorted(accs.items(), key=lambda kv: -kv[1])
    if len(ranked) < 2 or n <= 0:
        return ranked[0][0] if ranked else ""
    tied = [m for m, a in ranked if ranked[0][1] - a <= 1.0 / n + 1e-12]
    if len(tied) > 1:
        return "tie: " + ", ".join(tied) + f" (within 1/n = {1.0 / n:.4f})"
    return ranked[0][0]


def render_pruning(net: ShallowReluNet | None, X: np.ndarray | None, y: np.ndarray | None, seed: int,
                   settings=None) -> None:
    """Tropical pruning against whole-unit and per-weight magnitude pruning, on the page's net or an MLP head."""
    from robustcore.tropical.pruning import METHOD_REMOVES

    st.markdown(
        "**Tropical pruning** removes whole hidden units whose generators matter little to the decision "
        "polytope. It minimises over $(\\tilde A, \\tilde B)$, summed over ordered class pairs $(i, j)$:"
    )
    st.latex(
        r"\min_{\tilde A,\tilde B}\ \sum_{i\neq j} \tfrac12\|\tilde G_{ij}-G_{ij}\|_F^2+\lambda\|\tilde G_{ij}\|_{2,1},"
        r"\quad G_{ij}=\mathrm{Diag}[\mathrm{ReLU}(B_i)+\mathrm{ReLU}(-B_j)]\,A"
    )
    st.caption(
        "For k = 2 the two ordered pairs give the paper's G₁ and G₂. ‖X‖₂,₁ sums row norms, so whole generators "
        "(hidden units) drop. The paper's solver is only recalled ('alternating / proximal'); we use block-coordinate "
        "descent that provably never increases the objective. λ is bisected so that exactly round(ratio·p) units drop. "
        "Ratio = fraction of the entries of A and B set to zero."
    )
    st.markdown("**What each method removes:**\n" + "\n".join(
        f"- *{m}*: {METHOD_REMOVES[m]}" for m in ("tropical", "magnitude-neuron", "magnitude")))
    sources = ["page net", "MLP head (last Affine-ReLU-Affine block)"]
    c1, c2, c3 = st.columns([1.2, 1, 1])
    src_url = url_state("prune_src", "page", str, ["page", "head"])
    source = c1.radio("Network", sources, key="trop_prune_source", index=0 if src_url == "page" else 1)
    set_url_state(prune_src="page" if source == sources[0] else "head")
    refit = c2.checkbox("Tropical survivors keep their original weights", value=True, key="trop_prune_refit",
                        help="Off: the shrunk group-lasso solution itself (c₁ rescaled with its row).")
    bias_refit = c3.checkbox("Bias refit (every method)", value=url_state("prune_bias", False, bool),
                             key="trop_prune_bias",
                             help="Add each removed unit's mean activation times its B column to c₂ (for per-weight "
                                  "pruning the same mean-logit correction), averaged over the training inputs.")
    set_url_state(prune_bias=bool(bias_refit))
    methods = ("tropical", "magnitude-neuron", "magnitude")

    plane = None
    X_refit = None
    if source == sources[0]:
        if net is None:
            st.info("Fix the network above first.")
            return
        arrs = (net.A, net.c1, net.B, net.c2)
        if X is None or y is None or len(X) == 0 or X.shape[1] != net.d:
            if net.d != 2:
                st.info("This net has no data to measure accuracy on; choose the MLP head here.")
                return
            Xe, ye = _synthetic_labels(net, seed)
            st.info("No data set on this net: accuracy is measured as agreement with the unpruned net on 600 "
                    "uniform points in [-2, 2]^2.")
        else:
            Xe, ye = np.asarray(X, dtype=np.float64), np.asarray(y)
        X_refit = Xe
        if net.d != 2:
            from robustcore.tropical._apps_geometry import pca_plane

            plane = pca_plane(Xe, net.d)
    else:
        from ui.tropical_network import HEAD_MODELS, head_dataset

        ds, why = head_dataset(settings)
        if why:
            st.caption(why)
        arrs = None
        with guard("loading the MLP"):
            arrs, Xe, ye, X_refit = _head_block(ds)
        if arrs is None:
            return
        from robustcore.tropical._apps_geometry import pca_plane

        plane = pca_plane(Xe, arrs[0].shape[1])
        st.caption(f"MLP on {HEAD_MODELS[ds][1]}: 64 features (the first hidden layer's output) -> 32 units -> 10 "
                   "classes; accuracy on the test images, bias refit averaged over the training features. The "
                   "Hausdorff distance is estimated in 64-D from support functions in 4096 seeded directions (a lower "
                   "bound); areas are those of the exact projections on the features' PCA plane.")
    work_net = _net_from(arrs)
    curves = _pruning_curves_cached(arrs, Xe, ye, _RATIOS, methods, refit, bool(bias_refit), X_refit)
    from robustcore.viz.tropical_apps import (
        boundaries_figure,
        objective_figure,
        polytopes_figure,
        pruning_curves_figure,
    )

    show_figure(pruning_curves_figure(curves, title="Pruning curves"), key="trop_prune_curves")
    n = len(ye)
    rows = []
    for r in (0.5, 0.75, 0.9):
        i = _RATIOS.index(r)
        row = {"ratio": r}
        accs = {m: float(curves[m]["accuracy"][i]) for m in methods}
        for m in methods:
            row[f"acc {m}"] = accs[m]
        row["keeps accuracy best"] = verdict(accs, n)
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(f"Accuracies within 1/n = 1/{n} of each other (one point of {n}) are shown as a tie. One net, one "
               "data set: see the table below for mean and spread over seeds on mnist-5k.")
    _show_saved_table()

    default_ratio = url_state("prune_ratio", 0.5, float, choices=list(_RATIOS))
    ratio = st.select_slider("Inspect pruning ratio", options=list(_RATIOS), value=default_ratio, key="trop_prune_ratio")
    set_url_state(prune_ratio=ratio)
    res, nets = _prune_all(arrs, float(ratio), refit, bool(bias_refit), X_refit)
    trop = res["tropical"]
    shown = {"original": work_net, "tropical": nets["tropical"], "magnitude-neuron": nets["magnitude-neuron"],
             "magnitude": nets["magnitude"]}
    a, b = st.columns(2)
    show_figure(polytopes_figure(shown, plane=plane, title="Decision polytopes conv(Z₁ ∪ … ∪ Z_k) (shift dropped)"),
                key="trop_prune_poly", container=a)
    if work_net.d == 2:
        show_figure(boundaries_figure(shown, _box_of(Xe), Xe, ye, title="Decision boundaries (exact)"),
                    key="trop_prune_bnd", container=b)
    else:
        show_figure(objective_figure(trop.history, title=f"Objective at λ = {trop.lam:.3g}"), key="trop_prune_obj",
                    container=b)
    with st.expander("Solver trace: the objective after every half-step (it never increases)"):
        show_figure(objective_figure(trop.history, title=f"F(Ã, B̃) at λ = {trop.lam:.3g}"), key="trop_prune_trace")
    st.caption(f"Tropical: {int(trop.kept.sum())}/{work_net.p} units kept at λ = {trop.lam:.3g}"
               + (f" ({trop.forced} more zeroed by the exact-ratio rule)" if trop.forced else "")
               + f"; whole-unit magnitude: {int(res['magnitude-neuron'].kept.sum())}/{work_net.p}; per-weight "
               f"magnitude: {int(res['magnitude'].kept.sum())}/{work_net.p} units still have a nonzero generator.")


def _show_saved_table() -> None:
    from robustcore.reproduce import load_result

    saved = load_result("tropical")
    with st.expander("Saved comparison on mnist-5k: mean ± std over 3 seeds", expanded=False):
        if saved is None:
            st.info("Not run yet: `robustcore reproduce tropical` (about 10 minutes on 2 CPU cores) writes the table.")
            return
        _, md = saved
        st.markdown(md)


@st.cache_resource(show_spinner=False)
def _head_block(dataset: str):
    """The MLP's last Affine-ReLU-Affine block, its test features and labels, and its training features."""
    import torch

    from ui.tropical_network import head_data

    F, yte, w, name = head_data(dataset)
    model = _head_model(name)
    if dataset == "digits":
        from robustcore.data import load_digits

        Xtr, _ = load_digits("train")
    else:
        from robustcore.data import load_dataset

        Xtr, _ = load_dataset(dataset, "train")
    with torch.no_grad():
        Ftr = model.features(Xtr.float()).double().numpy()
    return w, F, yte, Ftr


@st.cache_resource(show_spinner=False)
def _head_model(name: str):
    from robustcore.nets import default_model

    bar = LazyProgress(f"Training the {name} model (first use only)...")
    model, _ = default_model(name, progress=bar)
    bar.done()
    return model.eval()


# ----------------------------------------------------------------------------- lottery
@st.cache_data(show_spinner=False, max_entries=16)
def _lottery_cached(X: np.ndarray, y: np.ndarray, ratios: tuple, hidden: int, epochs: int, seed: int,
                    Xt: np.ndarray | None, yt: np.ndarray | None):
    from robustcore.tropical.lottery import lottery_experiment

    bar = LazyProgress("Training dense, ticket and random nets...")
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
        "Compare their decision polytopes $\\mathrm{conv}(Z_1\\cup Z_2)$ with the dense net's, by the "
        "Hausdorff distance after normalisation:"
    )
    st.latex(r"d_H\big(\hat P_{\mathrm{dense}},\hat P\big),\qquad \hat P=\frac{P-\bar v}{\max_{v}\|v-\bar v\|}"
             r"\quad(\bar v:\ \text{vertex centroid})")
    st.caption("Translating or scaling the whole polytope does not move the decision boundary, so "
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
    hidden = c1.slider("Hidden units p", 4, 64, url_state("lottery_p", 16, int, min_value=4, max_value=64, step=4),
                       step=4, key="trop_lottery_hidden")
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

    show_figure(lottery_figure(exp, ratios.index(show), _box_of(X), X, y), key="trop_lottery_fig")

    def dist(r, which: str):
        collapsed = exp.collapsed_dense or getattr(r, f"collapsed_{which}")
        return "not informative (collapsed polytope)" if collapsed else f"{getattr(r, f'dist_{which}'):.3f}"

    st.dataframe(pd.DataFrame([{
        "ratio": r.ratio, "train acc dense": exp.acc_dense, "train acc ticket": r.acc_ticket,
        "train acc random": r.acc_random, "d_H(dense, ticket)": dist(r, "ticket"), "d_H(dense, random)": dist(r, "random"),
    } for r in exp.runs]), hide_index=True, width="stretch")
    if exp.collapsed_dense or any(not r.informative for r in exp.runs):
        st.warning("A decision polytope collapsed to a segment (or a point): all its generators are parallel, e.g. "
                   "a surviving unit set whose weight rows share one direction. Normalised, every segment looks the "
                   "same up to its direction, so the Hausdorff distance there says nothing about shape; compare the "
                   "boundaries instead.")


# ----------------------------------------------------------------------------- attack
@st.cache_data(show_spinner=False, max_entries=32)
def _default_point(arrs: tuple, Xs: np.ndarray, box: tuple[float, float]) -> int:
    from robustcore.tropical.attack import default_attack_point

    return default_attack_point(_net_from(arrs), Xs, eps1=1.0, eps2=1.0, box=box)


@st.cache_data(show_spinner=False, max_entries=32)
def _attack_cached(arrs: tuple, x0: np.ndarray, eps1: float, eps2: float, lam: float, iters: int,
                   box: tuple[float, float]):
    from robustcore.tropical.attack import pgd_min_radius, tropical_attack

    net = _net_from(arrs)
    res = tropical_attack(net, x0, eps1=eps1, eps2=eps2, lam=lam, box=box, iters=iters)
    pgd_inf = pgd_min_radius(net, x0, eps1, norm="linf", box=box)
    pgd_l2 = pgd_min_radius(net, x0, eps1 * np.sqrt(net.d), norm="l2", box=box)
    return res, pgd_inf, pgd_l2


def _cell(value, applies: bool = True) -> str:
    """One number of the attack table: 4 significant digits, or a dash with the reason."""
    if not applies:
        return "— (inputs only)"
    if value is None:
        return "— (no verified success)"
    v = float(value)
    return f"{v:.4g}" if np.isfinite(v) else "— (not finite)"


def attack_table(res, pgd_runs: list) -> pd.DataFrame:
    """The attack comparison as text cells: never a bare None or NaN (a dash says why the cell is empty).

    ``res`` is a ``TropicalAttackResult``; ``pgd_runs`` holds (label, dict with success, norm_l2, norm_linf).
    """
    ok = bool(res.success)
    rows = [{"method": "tropical (ADMM)", "verified success": "yes" if ok else "no",
             "‖η‖₂": _cell(res.norm_l2 if ok else None), "‖η‖∞": _cell(res.norm_linf if ok else None),
             "max |Ã − A|": _cell(res.weight_change if ok else None)}]
    for label, run in pgd_runs:
        got = bool(run["success"])
        rows.append({"method": label, "verified success": "yes" if got else "no",
                     "‖η‖₂": _cell(run["norm_l2"] if got else None), "‖η‖∞": _cell(run["norm_linf"] if got else None),
                     "max |Ã − A|": _cell(None, applies=False)})
    return pd.DataFrame(rows)


def render_attack(net: ShallowReluNet | None, X: np.ndarray | None, y: np.ndarray | None, seed: int,
                  settings=None) -> None:
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
    target = st.radio("Attack", ["page net (2-D)", "an image (MLP, through its first layer)"], horizontal=True,
                      key="trop_attack_source",
                      index=0 if url_state("attack_src", "page", str, ["page", "image"]) == "page" else 1)
    set_url_state(attack_src="page" if target.startswith("page") else "image")
    if not target.startswith("page"):
        _render_digits_attack(settings)
        return
    if net is None:
        st.info("Fix the network above first.")
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
    c1, c2, c3, c4 = st.columns(4)
    eps1 = c2.slider("ε₁ (ℓ∞ bound on η)", 0.05, 2.0, 1.0, 0.05, key="trop_attack_eps1")
    eps2 = c3.slider("ε₂ (max |Ã − A|)", 0.05, 3.0, 1.0, 0.05, key="trop_attack_eps2")
    fp = hash((_net_key(net), Xs.tobytes(), box))
    default_idx = _default_point((net.A, net.c1, net.B, net.c2), Xs, box)
    if st.session_state.get("_trop_attack_fp") != fp:
        # a new network or data: the old point means nothing here; start from one where the attack works
        st.session_state["_trop_attack_fp"] = fp
        start_idx = default_idx if st.session_state.get("_trop_attack_seen") else url_state(
            "attack_idx", default_idx, int, min_value=0, max_value=len(Xs) - 1)
        st.session_state["_trop_attack_seen"] = True
        st.session_state[f"trop_attack_idx_{fp}"] = int(start_idx)
    idx = c1.number_input("Point index", 0, len(Xs) - 1, key=f"trop_attack_idx_{fp}",
                          help="Default: a point near the boundary on which the tropical attack is verified to work "
                               "(reset whenever the network changes).")
    set_url_state(attack_idx=int(idx))
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
    show_figure(attack_input_figure(net, res.net_tilde if res.success else None, x0,
                                    res.x_adv if res.success else None, box4, Xs if X is not None else None, y,
                                    x_pgd=pgd_inf["x_adv"] if pgd_inf["success"] else None,
                                    title="Input space: boundary before (solid) and with Ã (dashed)"),
                key="trop_attack_input", container=a)
    polys = {"original": net}
    if res.success and res.net_tilde is not None:
        polys["attacked"] = res.net_tilde
    show_figure(polytopes_figure(polys, title="Decision polytope conv(Z₁ ∪ … ∪ Z_k): before and after (Ã)"),
                key="trop_attack_dual", container=b)
    st.dataframe(attack_table(res, [("PGD ℓ∞, smallest ε found", pgd_inf), ("PGD ℓ2, smallest ε found", pgd_l2)]),
                 hide_index=True, width="stretch")
    st.caption("PGD: robustcore.attacks.pgd_attack (30 steps, 10 bisection steps) with bisection on ε; neither attack proves a minimum.")


@st.cache_data(show_spinner=False, max_entries=32)
def _digits_attack_cached(dataset: str, index: int, eps1: float, eps2: float, lam: float):
    import torch

    from robustcore.tropical.attack import pgd_min_radius, split_first_layer, tropical_attack
    from ui.tropical_network import HEAD_MODELS

    model = _head_model(HEAD_MODELS[dataset][0])
    if dataset == "digits":
        from robustcore.data import load_digits

        X, y = load_digits("test")
    else:
        from robustcore.data import load_dataset

        X, y = load_dataset(dataset, "test")
    shape = tuple(X.shape[1:])
    x0 = X[index].reshape(-1).double().numpy()
    A, head = split_first_layer(model)
    res = tropical_attack(None, x0, head=head, A=A, eps1=eps1, eps2=eps2, lam=lam, box=(0.0, 1.0), iters=150)
    pgd = pgd_min_radius(model, x0, eps1, norm="linf", box=(0.0, 1.0))

    def cls(x):
        with torch.no_grad():  # the float32 model as the pages use it: an independent check
            return int(model(torch.as_tensor(x, dtype=torch.float32).view(1, *shape)).argmax())

    labels = {"x0": cls(x0), "tropical": cls(res.x_adv) if res.success else None,
              "pgd": cls(pgd["x_adv"]) if pgd["success"] else None}
    return res, pgd, labels, int(y[index]), int(shape[-1])


def _render_digits_attack(settings=None) -> None:
    from ui.tropical_network import HEAD_MODELS, head_dataset

    ds, why = head_dataset(settings)
    if why:
        st.caption(why)
    side = 8 if ds == "digits" else 28
    n_test = 450 if ds == "digits" else 1000
    st.caption(f"MLP on {HEAD_MODELS[ds][1]} ({side * side} pixels -> 64 -> 32 -> 10): A is its first layer, g the "
               "rest. Pixels in [0, 1]. The whole net is not Affine-ReLU-Affine, so no dual polytope is drawn here; the "
               "coupling A(x0 + η) = Ãx0 is the same. The class shown above each image is the float32 model's own "
               "prediction.")
    c1, c2, c3 = st.columns(3)
    index = c1.number_input("Test image", 0, n_test - 1,
                            url_state("attack_img", 0, int, min_value=0, max_value=n_test - 1, step=1),
                            key=f"trop_attack_img_{ds}")
    set_url_state(attack_img=int(index))
    eps1 = c2.slider("ε₁ (ℓ∞ bound on η, pixels)", 0.02, 0.5, 0.3, 0.02, key="trop_attack_deps1")
    eps2 = c3.slider("ε₂ (max |Ã − A|)", 0.01, 0.2, 0.05, 0.01, key="trop_attack_deps2")
    with st.spinner("Running the ADMM attack and PGD on the image..."):
        res, pgd, labels, truth, side = _digits_attack_cached(ds, int(index), float(eps1), float(eps2), 1.0)
    if res.success:
        st.success(f"Verified: {res.message} (true label {truth})")
    else:
        st.warning(f"No verified success: {res.message} (true label {truth})")
    from robustcore.viz.tropical_apps import digits_attack_figure

    show_figure(digits_attack_figure(res.x0, res.x_adv if res.success else None,
                                     pgd["x_adv"] if pgd["success"] else None, labels, side=side),
                key="trop_attack_digits")
    st.dataframe(attack_table(res, [("PGD ℓ∞, smallest ε found", pgd)]), hide_index=True, width="stretch")
