"""Section 5 of the Gabor page: trained networks under PGD (official recipe beside ours), the regulariser's
effect on sigma, alpha and the mixing, the learnt banks, and the saved multi-seed reproduction."""
from __future__ import annotations

import numpy as np
import streamlit as st

from robustcore import gabor as G
from robustcore.gabor import training as gtrain
from robustcore.gabor.recipes import ATTACKS, DEVIATIONS_TEXT, RECIPES, attack_deviations, recipe_deviations
from robustcore.viz import gabor as V
from ui.common import StreamlitProgress, guard, set_url_state, show_figure, url_state

DATA_LABELS = {"mnist-5k": "mnist-5k: the paper's LeNet on 5,000 real MNIST digits (28×28)",
               "digits": "digits: a small CNN on 8×8 digits (fast)",
               "cifar10": "CIFAR-10: a small CNN (the folder named in the sidebar)"}
RECIPE_LABELS = {"official": "official (SGD 0.9, lr 1e-2, wd 5e-4, α ~ N(0,1), no mixing bias, −λ·mean σ²)",
                 "ours": "ours (Adam 3e-3, α = 1, mixing bias, −β·Σσ²)"}
ATTACK_LABELS = {k: f"{k}: {v.description}" for k, v in ATTACKS.items()}
#: test images attacked on the page (the CLI and the reproduction take more)
PAGE_N_EVAL = {"mnist-5k": 500, "digits": None, "cifar10": 1000}


def _choose_data(settings) -> str | None:
    """The data set: the sidebar's when it names mnist-5k or CIFAR-10; else mnist-5k (the paper's scale)."""
    side = settings.dataset
    default = side if side in ("mnist-5k", "cifar10") else "mnist-5k"
    if side == "digits":
        st.caption("The paper's experiment is on MNIST, so this section opens on the bundled mnist-5k; the "
                   "sidebar's 8×8 digits are one click away below (a fast, small CNN).")
    elif side not in gtrain.DATASETS:
        st.caption(f"The sidebar's {side!r} is not served here (the full MNIST folder would train for many minutes "
                   "on a CPU); the bundled mnist-5k, 5,000 of the same digits, is used instead.")
    options = list(gtrain.DATASETS)
    data = st.radio("data and network", options, format_func=DATA_LABELS.get, key="g_data", horizontal=False,
                    index=options.index(url_state("data", default, str, choices=options)))
    if data == "cifar10" and not settings.data_root:
        st.info("CIFAR-10 needs its folder: choose CIFAR-10 in the sidebar and name the folder there.")
        return None
    return data


@st.cache_resource(show_spinner=False, max_entries=8)
def _trained_first_layer(variant: str, config: tuple):
    model, _ = gtrain.trained_variant(variant, **dict(config))
    return gtrain.first_layer(model)


@st.cache_data(show_spinner=False, max_entries=16)
def _compare(config: tuple, attack: str, n_eval: int | None, device: str, _progress=None):
    return gtrain.run_comparison(progress=_progress, device=device, attack=attack, n_eval=n_eval, **dict(config))


@st.fragment
def trained_models(settings) -> None:
    """Section 5 (a fragment: its controls and the training button rerun only this section)."""
    st.header("5. Does it make networks robust? Standard vs Gabor vs Gabor + regulariser")
    st.markdown(
        "The same network with a **standard** first convolution, a **Gabor** layer of the **same size** (same "
        "kernel size and output channels: 2 families × 8 orientations, ReLU, 1×1 mixing) and a Gabor layer "
        "trained with the **regulariser** (the paper's −λ·σ² term, or the closed-form layer bound). On mnist-5k "
        "the network is the paper's LeNet. Accuracy under PGD is an attack result: an *upper* bound on the true "
        "robust accuracy, not a certificate."
    )
    data = _choose_data(settings)
    if data is None:
        return
    rec_names, att_names, reg_names = list(RECIPES), list(ATTACKS), list(G.REGULARIZERS)
    c1, c2 = st.columns(2)
    recipe = c1.selectbox("training recipe", rec_names, format_func=RECIPE_LABELS.get, key="g_recipe",
                          index=rec_names.index(url_state("recipe", "official", str, choices=rec_names)))
    attack = c2.selectbox("attack", att_names, format_func=ATTACK_LABELS.get, key="g_attack",
                          index=att_names.index(url_state("attack", "quick", str, choices=att_names)),
                          help="'strong' and 'official' cost 15x and 200x the quick attack's time.")
    t1, t2, t3 = st.columns(3)
    epochs = t1.number_input("epochs", 1, 200, url_state("ep", gtrain.DEFAULT_EPOCHS[data], int, min_value=1,
                                                         max_value=200, step=1), 1, key="g_epochs")
    reg_kind = t2.selectbox("regulariser", reg_names, key="g_reg",
                            index=reg_names.index(url_state("reg", "paper", str, choices=reg_names)),
                            format_func={"paper": "paper: −λ·σ² (mean or sum, per recipe)",
                                         "bound": "closed-form layer bound"}.get)
    beta = t3.number_input("λ / β (weight)", 0.0, 100.0,
                           url_state("beta", RECIPES[recipe].beta, float, min_value=0.0, max_value=100.0),
                           format="%.4f", key="g_beta")
    set_url_state(data=data, recipe=recipe, attack=attack, ep=int(epochs), beta=beta, reg=reg_kind)
    with st.expander("Deviations from the paper's protocol (this configuration)"):
        st.markdown("\n".join(f"- {d}" for d in recipe_deviations(recipe) + attack_deviations(attack)))
        st.caption(DEVIATIONS_TEXT)
    cfg = dict(epochs=int(epochs), reg_kind=reg_kind, beta=float(beta), seed=int(settings.seed), data=data,
               recipe=recipe)
    if data == "cifar10":
        cfg.update(root=settings.data_root, limit=5000)
    n_eval = PAGE_N_EVAL[data]
    with guard("training and attacking the three models"):
        long = gtrain.stored_comparison(attack=attack, n_eval=n_eval, **cfg)
        notice = st.empty()
        if long is None:
            # The notice lives in a placeholder that training empties, so it never outlives the results.
            notice.info("These models are not trained yet for these settings (a few minutes on a CPU for mnist-5k, "
                        "about a minute for digits; cached on disk and in the results store afterwards).")
            if st.button("Train and attack the three models", key="g_train"):
                notice.empty()
                bar = StreamlitProgress("training...")
                long = _compare(tuple(sorted(cfg.items())), attack, n_eval, settings.device, bar)
                bar.done()
    if long is not None:
        _show_results(long, cfg, data, attack, n_eval)


def _show_results(long, cfg: dict, data: str, attack: str, n_eval: int | None) -> None:
    spec = ATTACKS[attack]
    with guard("showing the comparison"):
        table = gtrain.comparison_table(long)
        st.dataframe(table, hide_index=True, width="stretch", key="g_table")
        show_figure(V.robustness_curves(long), key="g_robust", data=long)
        st.caption(f"Clean test accuracy and accuracy under PGD ({spec.steps} steps × {spec.restarts} restart(s)) "
                   f"on {'the first ' + str(n_eval) if n_eval else 'all'} test images, l-inf on pixel values in "
                   "[0, 1] and l2; 'first-layer Lipschitz <= (spectral)' is ‖W‖₂·‖bank‖₂ (Gabor) or ‖conv‖₂ "
                   "(standard), exact spectral norms that bound the zero-padded first layer; 'closed-form bound' is "
                   "the paper's bound for the Gabor layer. Stored as runs of kind 'gabor-robustness'; the command "
                   f"line does the same: `robustcore gabor-train --data {data} --recipe {cfg['recipe']} --attack "
                   f"{attack}`.")
        st.subheader("The regulariser's effect on σ, α and the mixing")
        eff = gtrain.regularizer_effect_table(long)
        st.dataframe(eff, hide_index=True, width="stretch", key="g_effect")
        st.caption("The paper's term rewards large σ² (narrow envelopes), which lowers every per-filter bound; "
                   "nothing in it constrains the scales α or the 1×1 mixing W, which can grow and give back what "
                   "σ took: compare mean |α| and ‖W‖₂ between the two rows. The layer bound and the exact "
                   "‖W‖₂·‖bank‖₂ show the net effect. σ is shown as |σ|: only σ² enters the kernel.")
    st.subheader("The learnt banks")
    side = {"mnist-5k": 28, "cifar10": 32, "digits": 8}[data]
    for v in ("gabor", "gabor-reg"):
        with guard(f"loading the trained {v} layer"):
            layer = _trained_first_layer(v, tuple(sorted(cfg.items())))
            rep = G.lipschitz_report(layer, side + layer.kernel_size - 1)
            p = layer.parameters_numpy()
            st.markdown(f"**{v}**: learnt |σ| = {np.round(np.abs(p['sigma']), 2).tolist()} (raw σ "
                        f"{np.round(p['sigma'], 2).tolist()}; the sign does not matter), "
                        f"γ = {np.round(p['gamma'], 2).tolist()}, λ = {np.round(p['lambd'], 2).tolist()}")
            show_figure(V.bank_gallery(layer.kernels().detach().numpy(), n_fft=16, cols=8), key=f"g_learnt_{v}")
            show_figure(V.bound_vs_exact_bars(rep["filter_bound"], rep["filter_exact"]), key=f"g_learnt_bars_{v}")
            st.caption(f"Layer: closed-form bound {rep['layer_bound']:.4g}; ‖W‖₂·‖bank‖₂ = "
                       f"{rep['layer_exact_product']:.4g}; linear part W∘bank (no ReLU) {rep['linear_exact']:.4g}.")


@st.cache_data(show_spinner=False)
def _saved():
    from robustcore.reproduce import load_result

    return load_result("gabor")


def reproduction() -> None:
    """The saved multi-seed reproduction on mnist-5k (written by ``robustcore reproduce gabor``)."""
    st.header("6. The headline comparison over seeds (saved)")
    saved = _saved()
    if saved is None:
        st.info("No saved reproduction yet: run `robustcore reproduce gabor` (a few minutes on 2 idle CPU cores) "
                "and reload this page.")
        return
    table, md = saved
    with guard("showing the saved reproduction"):
        from robustcore.reproduce import format_table

        st.markdown(format_table(table))
        show_figure(V.reproduction_figure(table), key="g_repro", data=table)
        st.caption("Gabor LeNet against the same-size standard LeNet on mnist-5k under the official recipe, mean "
                   "± one sample standard deviation over the seeds (the regularised Gabor LeNet is compared in "
                   "section 5). Rerun with `robustcore reproduce gabor` (add `--device cuda` on a GPU).")
        with st.expander("Protocol, deviations and the Gabor layers after training"):
            st.markdown(md)
