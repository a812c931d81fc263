"""View "Sigma landscape and DDRS": the exploratory radius-vs-sigma curve and the DDRS ascent."""
from __future__ import annotations

import streamlit as st

from robustcore.viz.smoothing import landscape_figure, sigma_path_figure
from ui.certificates import compute
from ui.certificates.config import DD_SAMPLES, LANDSCAPE_N, LR_CHOICES, STEPS_CHOICES
from ui.certificates.context import PageContext
from ui.common import guard, show_figure


def ascent_controls(prefix: str = "") -> tuple[int, float]:
    """The DDRS ascent settings (steps, step size), kept in the URL by the page."""
    c1, c2 = st.columns(2)
    steps = c1.select_slider("Ascent steps", STEPS_CHOICES, key="cert_steps",
                             help="Gradient-ascent steps of the DDRS sigma optimiser.")
    lr = c2.select_slider("Ascent step size", LR_CHOICES, key="cert_lr", help="Step size eta of the ascent on sigma.")
    return int(steps), float(lr)


def render(ctx: PageContext, steps: int, lr: float) -> None:
    """The landscape (stream "landscape") and the ascent path (stream "optimise")."""
    st.subheader("Sigma landscape and the data-dependent sigma")
    st.markdown(
        "Each point is the Cohen radius of a **different** smoothed classifier $g_\\sigma$ (exploratory: one "
        f"shared noise draw of {LANDSCAPE_N} samples for all sigmas, class picked from the same samples, so no point "
        "is a certificate; the certificates of the other views use noise this curve never saw). DDRS picks "
        "$\\sigma_x$ by gradient ascent on the surrogate radius of the averaged soft-max "
        "$\\psi(\\sigma)=\\frac1m\\sum_i \\mathrm{softmax}(f(x+\\sigma\\varepsilon_i))$, starting from "
        "$\\sigma_0$ = the training sigma:")
    st.latex(r"\tilde R(\sigma)=\tfrac{\sigma}{2}\big(\Phi^{-1}(\psi_{(1)})-\Phi^{-1}(\psi_{(2)})\big),\qquad "
             r"\sigma\leftarrow\sigma+\eta\,\partial\tilde R/\partial\sigma")
    with guard("computing the sigma landscape"):
        s = ctx.streams
        land = compute.landscape(ctx.model_key, ctx.model, ctx.x, ctx.seed)
        dd = compute.dd_sigma(ctx.model_key, ctx.model, ctx.x, ctx.sigma0, steps, lr, ctx.seed)
        show_figure(landscape_figure(land.sigmas, land.radius, land.surrogate, land.cap, land.p_hat, land.p_lower,
                                     land.p_upper, sigma_opt=dd.sigma, path_sigma=dd.sigma_history[:-1],
                                     path_surrogate=dd.surrogate_history, current_sigma=ctx.sigma),
                    key="cert_landscape")
        show_figure(sigma_path_figure(dd.sigma_history, dd.surrogate_history), key="cert_sigma_path")
        st.caption(f"Optimised sigma_x = {dd.sigma:.3f} from sigma_0 = {ctx.sigma0:.2f}, the training sigma ({steps} steps of {DD_SAMPLES} "
                   f"samples, stream optimise derived from seed {ctx.seed}). Landscape: {land.n:,} samples per sigma, "
                   f"stream {getattr(land, 'purpose', 'landscape')} (seed {getattr(land, 'stream_seed', None) or s['landscape']}), "
                   f"{land.time_s:.2f} s.")
