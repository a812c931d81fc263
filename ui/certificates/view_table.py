"""View "Every certificate": each certificate of this image with its noise stream and a plain verdict,
and certificates of other models in their own table."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.certificates import compute, verdicts
from ui.certificates.config import ALPHA, R_LIP_CHOICES
from ui.certificates.context import PageContext
from ui.certificates.view_votes import fresh_noise_button
from ui.common import guard

_COLUMNS = {"radius": st.column_config.NumberColumn(format="%.4f"),
            "p_lower": st.column_config.NumberColumn(format="%.4f"),
            "sigma": st.column_config.NumberColumn(format="%.3f"),
            "verdict": st.column_config.TextColumn(width="large", help="Also written out below the table."),
            "class": st.column_config.NumberColumn(help="Empty when the row abstains.")}


_ORDER = ["certificate", "status", "class", "radius", "sigma", "p_lower", "noise stream", "verdict"]


def _table(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows)[_ORDER]
    table["class"] = table["class"].astype("Int64")
    return table


def _verdicts(rows: list[dict]) -> None:
    """Each row's verdict as a sentence to read (the table's last column is too narrow for them)."""
    icons = {"guarantee": ":material/verified:", "not a guarantee": ":material/warning:",
             "abstains": ":material/block:"}
    st.markdown("\n".join(f"- {icons.get(r['status'], '')} **{r['certificate']}**: {r['verdict']}" for r in rows))


def render(ctx: PageContext, steps: int, lr: float) -> None:
    """Fixed sigma, data-dependent sigma, memory and Lipschitz sigma, each from its own noise stream."""
    st.subheader("Every certificate for this image")
    c1, c2 = st.columns([2, 1])
    r_lip = c1.select_slider("Lipschitz constant r of ln sigma (Lipschitz-sigma row)", R_LIP_CHOICES, key="cert_r_lip")
    fresh_noise_button(c2)
    s = ctx.streams
    rows: list[dict] = []
    mem = None
    with guard("building the certificate table"):
        cert = compute.cohen_certificate(ctx.model_key, ctx.model, ctx.x, ctx.sigma, ctx.n, ctx.seed,
                                         ctx.fixed_purpose, ctx.num_classes)
        rows.append(verdicts.fixed_row(cert, ctx.sigma, ctx.n, ALPHA, cert.seed, ctx.fixed_purpose))
        dd = compute.dd_sigma(ctx.model_key, ctx.model, ctx.x, ctx.sigma0, steps, lr, ctx.seed)
        dc = compute.cohen_certificate(ctx.model_key, ctx.model, ctx.x, dd.sigma, ctx.n, ctx.seed, "certify-dd",
                                       ctx.num_classes)
        rows.append(verdicts.dd_row(dc, dd.sigma, ctx.sigma0, ALPHA, dc.seed))
        # the memory stores a certificate of g_{sigma_x} from its own stream (never the row above's noise)
        mc = compute.cohen_certificate(ctx.model_key, ctx.model, ctx.x, dd.sigma, ctx.n, ctx.seed, "memory",
                                       ctx.num_classes)
        memory_name = (f"page/{ctx.dataset}/" + "/".join(map(str, ctx.model_key[1:]))
                       + f"/s0={ctx.sigma0:.2f}/steps={steps}/lr={lr}/n={ctx.n}")
        with guard("using the memory in the results store"):
            mem, m_label, m_radius, action = compute.memory_decision(memory_name, ctx.key, ctx.x, mc.label, mc.radius,
                                                                     dd.sigma, mc.seed)
            rows.append(verdicts.memory_row(m_label, m_radius, dd.sigma, mc.p_lower, action, len(mem), ALPHA,
                                            mc.seed, int(mc.label)))
        lc = compute.lipschitz_certificate(ctx.model_key, ctx.model, ctx.x, ctx.dataset, ctx.root, ctx.sigma,
                                           float(r_lip), ctx.n, ctx.seed, ctx.num_classes)
        rows.append(verdicts.lipschitz_row(lc, float(r_lip), ALPHA, getattr(lc, "stream_seed", None) or s["lipschitz"]))
    if rows:
        st.dataframe(_table(rows), hide_index=True, width="stretch", column_config=_COLUMNS)
        _verdicts(rows)
        st.caption("Radii are l2 distances in [0, 1] pixel units. Each row draws its own noise stream "
                   "(purpose and seed shown), derived from the sidebar's seed: no certificate reuses noise that "
                   "the landscape, the optimiser, the gallery or another row has seen.")
    if mem is not None and c2.button("Reset this memory"):
        with guard("resetting the memory"), compute.store_errors():
            mem.clear()
        st.rerun()
    render_other_models(ctx)
    with st.expander("Why is a data-dependent sigma not certified by Cohen's theorem?"):
        st.markdown(
            "Cohen's theorem is about **one** smoothed classifier $g_\\sigma$. The data-dependent classifier "
            "$G(x') = g_{\\sigma(x')}(x')$ uses a different $\\sigma$ at every point of the ball, so the ball "
            "certified for $g_{\\sigma_x}$ says nothing about $G$. A 1-D example: $f$ = A on $|z|<1$, B outside. "
            "At $x=0$ with $\\sigma=0.5$, $p_A = 2\\Phi(2)-1 = 0.954$ and $R = 0.845$; if $\\sigma(x') = 2$ "
            "for $x'\\neq 0$, then at $x' = 0.1$ (inside the ball) $p_A = \\Phi(0.45)-\\Phi(-0.55) = 0.382$ "
            "and $G(0.1) = B$. Three ways to a sound certificate: (a) certify the fixed-sigma classifier "
            "$g_{\\sigma_x}$ and say so (the data-dependent row, hence *not a guarantee* for $G$); (b) a "
            "**memory** that fixes $G$'s answers inside every ball it has issued, shrinking or resolving "
            "conflicts so that balls of different classes stay disjoint; (c) a $\\sigma(\\cdot)$ "
            "whose logarithm is $r$-Lipschitz, with the worst case over all admissible $\\sigma$ in the "
            "ball (Súkeník et al. 2022):")
        st.latex(r"\xi(d,\sigma_1)=F_{\chi'^2_N(\lambda_1)}\Big(\tfrac{\sigma_0^2}{\sigma_1^2}\,"
                 r"F^{-1}_{\chi'^2_N(\lambda_0)}(p_B)\Big),\quad "
                 r"\lambda_k=\frac{\sigma_k^2 d^2}{(\sigma_0^2-\sigma_1^2)^2},\quad "
                 r"R=\max\{d:\ \xi(d',\sigma_1)<\tfrac12\ \forall d'\le d,\ "
                 r"\sigma_1\in[\sigma_0e^{-rd'},\sigma_0e^{rd'}]\}")


def render_other_models(ctx: PageContext) -> None:
    """Certificates of other models than f (ClusTR), in their own table."""
    st.markdown("**Certificates of other models** (not of f or its smoothed classifier)")
    if ctx.dataset != "digits":
        st.caption("ClusTR: the default ClusTR model is trained on 8x8 digits; choose the digits dataset to see it.")
        return
    if not st.checkbox("ClusTR (trains a small model on first use)", key="cert_clustr"):
        return
    with guard("computing the ClusTR certificate"):
        res = compute.clustr_certificate(ctx.x)
        row = verdicts.clustr_row(res)
        st.dataframe(_table([row]), hide_index=True, width="stretch", column_config=_COLUMNS)
        _verdicts([row])
