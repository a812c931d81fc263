"""View "Noise and votes": the gallery, noisy copies, the vote histogram and the fixed-sigma certificate."""
from __future__ import annotations

import numpy as np
import streamlit as st

from robustcore.viz.smoothing import image_grid, vote_histogram
from ui.certificates import compute
from ui.certificates.verdicts import short_seed
from ui.certificates.config import ALPHA, GALLERY, N0
from ui.certificates.context import PageContext
from ui.common import guard, show_figure


def render_gallery(ctx: PageContext) -> None:
    """Twelve test images around the chosen one, with true class, clean prediction and stored radius."""
    page0 = (ctx.image_index // GALLERY) * GALLERY
    stop = min(page0 + GALLERY, len(ctx.X))
    with guard("drawing the gallery"):
        preds = compute.gallery_predictions(ctx.model_key, ctx.model, ctx.X, page0, stop)
        radii, run_label = {}, ""
        with guard("reading stored radii from the results store"):
            radii, run_label = compute.stored_radii(ctx.model_key, ctx.dataset, round(ctx.sigma, 4),
                                                    compute.store_version())
        titles = [f"#{i}{' *' if i == ctx.image_index else ''}<br>y={ctx.y[i]} f={p}"
                  + (f"<br>R={radii[i]:.2f}" if i in radii else "") for i, p in zip(range(page0, stop), preds)]
        st.caption(f"Gallery (test images {page0}-{stop - 1}; * = chosen): true class y, clean prediction f"
                   + (f", stored radius R from {run_label}" if run_label else
                      " (no stored certification run for this model and σ yet: the Dataset view or "
                      "`robustcore certify` makes one)"))
        show_figure(image_grid(np.asarray(ctx.X[page0:stop]), titles, ncols=6, size=90), key="cert_gallery",
                    csv=False, width="content")


def fresh_noise_button(box) -> None:
    """Move the fixed-sigma certificate to a new noise stream (after choosing sigma by watching its radius)."""
    if box.button("Fresh noise", key="cert_fresh_noise",
                  help="Choosing sigma by watching this certificate's radius is a selection on its noise, which "
                       "makes the guarantee optimistic. Press after choosing sigma: the certificate is drawn again "
                       "from a stream the choice never saw."):
        st.session_state["cert_draw"] = int(st.session_state.get("cert_draw", 0)) + 1
        st.rerun()


def render(ctx: PageContext) -> None:
    """Noisy samples (stream "gallery") and CERTIFY's votes (stream "certify-fixed")."""
    st.subheader("Noise and votes")
    st.latex(r"x+\varepsilon_i,\ \varepsilon_i\sim\mathcal N(0,\sigma^2 I);\qquad n_c=\#\{i: f(x+\varepsilon_i)=c\}")
    with guard("certifying the image"):
        s = ctx.streams
        noisy, npred = compute.noisy_samples(ctx.model_key, ctx.model, ctx.x, ctx.sigma, s["gallery"])
        cert = compute.cohen_certificate(ctx.model_key, ctx.model, ctx.x, ctx.sigma, ctx.n, ctx.seed,
                                         ctx.fixed_purpose, ctx.num_classes)
        a, b = st.columns([3, 2])
        show_figure(image_grid(np.concatenate([ctx.x[None], noisy]), ["input"] + [f"f = {p}" for p in npred],
                               ncols=6, size=72), key="cert_noisy", container=a, csv=False,
                    width="content")
        a.caption(f"Noisy copies from the stream gallery (seed {short_seed(s['gallery'])}); they never enter a "
                  "certificate.", help=f"Full seed of the gallery stream: {s['gallery']}")
        show_figure(vote_histogram(cert.counts, cert.candidate, ctx.label,
                                   f"Votes of n = {ctx.n:,} fresh samples, σ = {ctx.sigma:.2f}"),
                    key="cert_votes", container=b)
        b.caption(f"Stream {cert.purpose} (seed {short_seed(cert.seed)}), drawn for this certificate only. CERTIFY "
                  f"picks its candidate class on {N0} selection samples first, then counts these n votes for it.",
                  help=f"Full seed of the {cert.purpose} stream: {cert.seed}")
        fresh_noise_button(b)
        if cert.label < 0:
            st.warning(f"CERTIFY abstains: $\\underline{{p_A}}$ = {cert.p_lower:.4f} < 1/2 for class "
                       f"{cert.candidate}. Not a guarantee: more samples or another σ may certify.")
        else:
            st.success(f"Cohen certificate: class **{cert.label}** on the ℓ2 ball of radius **{cert.radius:.4f}**, "
                       f"$\\underline{{p_A}}$ = {cert.p_lower:.4f} ({int(cert.counts[cert.label]):,} of {ctx.n:,} "
                       f"votes). A guarantee for $g_\\sigma$ with probability ≥ 1 − α = {100 * (1 - ALPHA):g} %.")
