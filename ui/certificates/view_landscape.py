"""View "Sigma landscape and DDRS": the exploratory radius-vs-sigma curve and the DDRS ascent."""
from __future__ import annotations

import streamlit as st

from robustcore.viz.smoothing import landscape_figure, sigma_path_figure
from ui.certificates import compute
from ui.certificates.config import DD_SAMPLES, LANDSCAPE_N, LR_CHOICES, STEPS_CHOICES
from ui.certificates.context import PageContext
from ui.certificates.verdicts import short_seed
from ui.common import guard, show_figure


def ascent_controls(prefix: str = "") -> tuple[int, float]:
    """The DDRS ascent settings (steps, step size), kept in the URL by the page."""
    c1, c2 = st.columns(2)
    steps = c1.select_slider("Ascent steps", STEPS_CHOICES, key="cert_steps",
                             help="Gradient-ascent steps of the DDRS σ optimiser.")
    lr = c2.select_slider("Ascent step size", LR_CHOICES, key="cert_lr", help="Step size η of the ascent on σ.")
    return int(steps), float(lr)


def render(ctx: PageContext, steps: int, lr: float) -> None:
    """The landscape (stream "landscape") and the ascent path (stream "optimise")."""
    st.subheader("σ landscape and the data-dependent σ")
    st.markdown(
        "Each point is the Cohen radius of a **different** smoothed classifier $g_\\sigma$ (exploratory: one "
        f"shared noise draw of {LANDSCAPE_N} samples for all $\\sigma$, class picked from the same samples, so no "
        "point is a certificate; the certificates of the other views use noise this curve never saw). DDRS picks "
        "$\\sigma_x$ by gradient ascent on the surrogate radius of the averaged soft-max "
        "$\\psi(\\sigma)=\\frac1m\\sum_i \\mathrm{softmax}(f(x+\\sigma\\varepsilon_i))$, starting from "
        "$\\sigma_0$ = the training $\\sigma$. The strip under the landscape follows the ascent from $\\sigma_0$ "
        "(circle, step 0 at the top) down to $\\sigma_x$ (star); the figure below it shows each step:")
    st.latex(r"\tilde R(\sigma)=\tfrac{\sigma}{2}\big(\Phi^{-1}(\psi_{(1)})-\Phi^{-1}(\psi_{(2)})\big),\qquad "
             r"\sigma\leftarrow\sigma+\eta\,\partial\tilde R/\partial\sigma")
    with guard("computing the sigma landscape"):
        s = ctx.streams
        land = compute.landscape(ctx.model_key, ctx.model, ctx.x, ctx.seed)
        dd = compute.dd_sigma(ctx.model_key, ctx.model, ctx.x, ctx.sigma0, steps, lr, ctx.seed)
        show_figure(landscape_figure(land.sigmas, land.radius, land.surrogate, land.cap, land.p_hat, land.p_lower,
                                     land.p_upper, sigma_opt=dd.sigma, path_sigma=dd.sigma_history,
                                     current_sigma=ctx.sigma),
                    key="cert_landscape")
        show_figure(sigma_path_figure(dd.sigma_history, dd.surrogate_history), key="cert_sigma_path")
        land_seed = getattr(land, "stream_seed", None) or s["landscape"]
        st.caption(f"Optimised σ_x = {dd.sigma:.3f} from σ_0 = {ctx.sigma0:.2f}, the training σ ({steps} steps of "
                   f"{DD_SAMPLES} samples, stream optimise derived from seed {ctx.seed}). Landscape: {land.n:,} "
                   f"samples per σ, stream {getattr(land, 'purpose', 'landscape')} (seed {short_seed(land_seed)}), "
                   f"{land.time_s:.2f} s.", help=f"Full seed of the landscape stream: {land_seed}")
