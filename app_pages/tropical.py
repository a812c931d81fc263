"""Tropical geometry of (Affine, ReLU, Affine) decision boundaries (Alfarra et al., TPAMI 2022).

Thin page: a network chooser (ui.tropical_network), then ONE section at a time (chosen by a control kept
in the URL), so a rerun computes only what is visible: Geometry (ui.tropical_geometry), Pruning, Lottery
tickets and Attack (ui.tropical_apps).
"""

from __future__ import annotations

import streamlit as st

from ui.common import guard, page_header, set_url_state, sidebar_settings, url_state
from ui.tropical_geometry import render_geometry
from ui.tropical_network import choose_network
from ui.tropical_primer import render_primer

try:  # wide layout when the page runs on its own (app.py sets it for the whole app)
    st.set_page_config(page_title="Tropical geometry", layout="wide")
except Exception:  # noqa: BLE001 - already configured by app.py
    pass
settings = sidebar_settings()

page_header(
    "Tropical geometry of decision boundaries",
    "A one-hidden-layer ReLU net f(x) = B max(Ax + c₁, 0) + c₂ (weights A, c₁, B, c₂) is, class by class, a "
    "difference of two tropical (max-plus) polynomials. For a class pair (i, j) its decision boundary "
    "**𝒟** = {f_i = f_j} lies in the tropical hypersurface **𝒯(R)** of R = H_i⊙Q_j ⊕ H_j⊙Q_i, whose dual "
    "subdivision δ(R) is built on the convex hull of two zonotopes Z₁, Z₂ with generator matrices G₁, G₂ "
    "(Alfarra, Bibi, Hammoud, Gaafar, Ghanem, *On the Decision Boundaries of Neural Networks: A Tropical Geometry "
    "Perspective*, TPAMI 2022). Weights may be any real numbers: the integer-weight assumption of Zhang et al. is "
    "not needed for the geometry.",
    r"f(x) = B\,\max(Ax + c_1, 0) + c_2",
)
st.latex(r"G_1 = \mathrm{Diag}[\mathrm{ReLU}(B_i) + \mathrm{ReLU}(-B_j)]\,A,\quad "
         r"G_2 = \mathrm{Diag}[\mathrm{ReLU}(B_j) + \mathrm{ReLU}(-B_i)]\,A")
with st.expander("New to tropical geometry? A six-line primer with a worked example", expanded=False):
    render_primer()

chosen = choose_network(settings)
net = None
if chosen.weights is not None:
    with guard("building the network"):
        net = chosen.net

SECTIONS = ["Geometry", "Pruning", "Lottery tickets", "Attack"]
section = st.radio("Section", SECTIONS, index=SECTIONS.index(url_state("section", "Geometry", str, SECTIONS)),
                   horizontal=True, key="trop_section",
                   help="Only the chosen section is computed, so every change reruns just what you see.")
set_url_state(section=section)


def _needs_2d() -> bool:
    """Pruning of the page net and the attack picture draw 2-D input space: say so when the net does not fit."""
    if net is None:
        st.info("Fix the network above first.")
        return False
    if net.d != 2:
        st.info(f"These views work on 2-D nets; this net has d = {net.d}. Choose a preset, a toy set or d = 2 "
                "(the MLP's head is offered in the pruning and attack sections' own 'Network' control).")
        return False
    return True


if section == "Geometry":
    if net is None:
        st.info("Fix the network above first.")
    else:
        with guard("drawing the geometry"):
            render_geometry(chosen)
else:
    from ui.tropical_apps import render_attack, render_lottery, render_pruning

    if section == "Pruning":
        with guard("showing tropical pruning"):
            render_pruning(net, chosen.X, chosen.y, int(settings.seed), settings=settings)
    elif section == "Lottery tickets":
        with guard("showing lottery tickets"):
            render_lottery(st.session_state.get("trop_data", "moons"), chosen.X, chosen.y, int(settings.seed))
    else:
        with guard("showing the tropical attack"):
            render_attack(net, chosen.X, chosen.y, int(settings.seed), settings=settings)
