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

# plain symbols every text font has (colour emoji are missing on many Linux machines and drew as boxes)
_STATUS_WORDS = {verdicts.GUARANTEE: "✓ guarantee", verdicts.NOT_GUARANTEE: "⚠ not a guarantee",
                 verdicts.ABSTAINS: "∅ abstains"}

_COLUMNS = {"certificate": st.column_config.TextColumn("certificate", width=230),
            "verdict": st.column_config.TextColumn(
                "verdict", width=150, help="Guarantee, not a guarantee, or abstains; the sentence saying why is "
                                           "under *Why each verdict* below the table (and in the CSV)."),
            "class": st.column_config.NumberColumn("class", width=60, help="Empty when the row abstains."),
            "radius": st.column_config.NumberColumn("radius", format="%.4f", width=80, help="ℓ2 radius."),
            "sigma": st.column_config.NumberColumn("σ", format="%.3f", width=65),
            "p_lower": st.column_config.NumberColumn(
                "p̲_A", format="%.4f", width=75, help="Clopper-Pearson lower bound on the top class's probability."),
            "noise stream": st.column_config.TextColumn("noise stream", width=120),
            "seed": st.column_config.TextColumn(
                "seed", width=90, help="Last 6 digits of the stream's 64-bit seed; the CSV holds the full seed.")}

_ORDER = ["certificate", "verdict", "class", "radius", "sigma", "p_lower", "noise stream", "seed"]
_CSV_ORDER = ["certificate", "status", "class", "radius", "sigma", "p_lower", "noise stream", "seed", "verdict"]


def _table(rows: list[dict]) -> pd.DataFrame:
    """The table as shown: a short verdict word and a short seed (the sentences and full seeds are in the CSV)."""
    table = pd.DataFrame(rows)
    table["class"] = table["class"].astype("Int64")
    table["verdict"] = table["status"].map(_STATUS_WORDS)
    table["seed"] = [verdicts.short_seed(r["seed"]) for r in rows]  # from the ints: the column may be float
    return table[_ORDER]


def table_csv(rows: list[dict]) -> bytes:
    """Every row with its status, full 64-bit seed and full verdict sentence, as CSV bytes."""
    table = pd.DataFrame(rows)[_CSV_ORDER]
    table["class"] = table["class"].astype("Int64")
    # from the row dicts as Python ints: pandas turns an int column with a None into float64, which would
    # round a 19-digit seed
    table["seed"] = pd.Series([r["seed"] for r in rows], dtype=object)
    return table.to_csv(index=False).encode()


def show_table(rows: list[dict], key: str) -> None:
    """The compact table, a CSV of everything, and the verdict sentences in an expander (said once)."""
    st.dataframe(_table(rows), hide_index=True, width="stretch", column_config=_COLUMNS, placeholder="—")
    c1, c2 = st.columns([1, 5], vertical_alignment="center")
    c1.download_button("CSV", lambda rows=rows: table_csv(rows), file_name=f"{key}.csv", mime="text/csv",
                       key=f"{key}__csv", on_click="ignore", icon=":material/download:",
                       help="Every row with its status, full seed and the sentence saying why.")
    with c2.expander("Why each verdict"):
        icons = {verdicts.GUARANTEE: ":material/verified:", verdicts.NOT_GUARANTEE: ":material/warning:",
                 verdicts.ABSTAINS: ":material/block:"}
        st.markdown("\n".join(f"- {icons.get(r['status'], '')} **{r['certificate']}**: {r['verdict']}"
                               for r in rows))


def render(ctx: PageContext, steps: int, lr: float) -> None:
    """Fixed sigma, data-dependent sigma, memory and Lipschitz sigma, each from its own noise stream."""
    st.subheader("Every certificate for this image")
    c1, c2 = st.columns([2, 1])
    r_lip = c1.select_slider("Lipschitz constant r of ln σ (Lipschitz-σ row)", R_LIP_CHOICES, key="cert_r_lip")
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
        show_table(rows, "cert_table")
        st.caption("Radii are ℓ2 distances in [0, 1] pixel units. Each row draws its own noise stream "
                   "(purpose and seed shown), derived from the sidebar's seed: no certificate reuses noise that "
                   "the landscape, the optimiser, the gallery or another row has seen.")
    if mem is not None and c2.button("Reset this memory"):
        with guard("resetting the memory"), compute.store_errors():
            mem.clear()
        st.rerun()
    render_other_models(ctx)
    with st.expander("Why is a data-dependent σ not certified by Cohen's theorem?"):
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
        show_table([row], "cert_table_clustr")
