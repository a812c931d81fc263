"""The Geometry section of the tropical page: input space and dual space, linked, for one class pair.

Symbols on this page: A, c₁, B, c₂ are the weights; 𝒟 = {f_i = f_j} is the decision boundary; Z₁, Z₂ the two
zonotopes with generator matrices G₁, G₂; F_l, N_l the two tropical polynomials of hidden unit l.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from robustcore.tropical import (
    ShallowReluNet,
    argmax_boundary_dual,
    coordinate_frame,
    pair_geometry,
    pca_frame,
    projected_zonotope,
    slice_net,
    tropical_decomposition,
)
from robustcore.viz.tropical import subscript
from ui.common import guard, selected_point, set_url_state, show_figure, url_state
from ui.tropical_network import Chosen, auto_box

__all__ = ["render_geometry"]


@st.cache_data(max_entries=64, show_spinner=False)
def _geometry(A: np.ndarray, c1: np.ndarray, B: np.ndarray, c2: np.ndarray, box: tuple, i: int, j: int):
    return pair_geometry(ShallowReluNet(A, c1, B, c2), box, i, j)


@st.cache_data(max_entries=16, show_spinner=False)
def _argmax_boundary(A, c1, B, c2, box):
    return argmax_boundary_dual(ShallowReluNet(A, c1, B, c2), box)


@st.cache_data(max_entries=32, show_spinner=False)
def _input_fig(A, c1, B, c2, box, i, j, X, y, hl_region, show_regions, show_neurons, show_T, show_argmax):
    from robustcore.viz.tropical import _segments_xy, input_space_figure

    net = ShallowReluNet(A, c1, B, c2)
    geo = _geometry(A, c1, B, c2, box, i, j)
    fig = input_space_figure(geo, net, X, y, highlight_region=hl_region, show_regions=show_regions,
                             show_neurons=show_neurons, show_T=show_T)
    if show_argmax:
        xs, ys = _segments_xy(_argmax_boundary(A, c1, B, c2, box))
        fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color="black", width=3, dash="dot"),
                        name="k-class argmax boundary")
    return fig


@st.cache_data(max_entries=32, show_spinner=False)
def _dual_fig(A, c1, B, c2, box, i, j, hl_vertex, show_sub, hl_region):
    from robustcore.viz.tropical import dual_space_figure

    geo = _geometry(A, c1, B, c2, box, i, j)
    return dual_space_figure(geo, highlight_vertex=hl_vertex, show_subdivision=show_sub, highlight_region=hl_region)


def _counts_panel(geo) -> None:
    c = geo.counts
    r1 = st.columns(3)
    r1[0].metric("hidden units p", c["hidden units p"])
    r1[1].metric("vertices of Z₁ / Z₂", f'{c["vertices of Z_G1"]} / {c["vertices of Z_G2"]}',
                 help="2 × the number of distinct generator directions (parallel generators merged).")
    r1[2].metric("hull vertices", c["vertices of the hull"], help="Vertices of conv(Z₁ ∪ Z₂).")
    r2 = st.columns(3)
    r2[0].metric("linear regions of f", c["linear regions of f in the box"],
                 help="Cells of the neuron-line arrangement inside the view box.")
    r2[1].metric("bound 1 + p + C(p,2)", c["bound 1 + p + C(p,2)"],
                 help="The most regions p lines can cut the plane into.")
    r2[2].metric("regions of R / cells of δ(R)", f'{c["linear regions of R (upper vertices)"]} / {c["cells of delta(R)"]}',
                 help="Upper vertices of conv(P₁ ∪ P₂) = linear regions of R; cells = upper faces.")


def _zero_warnings(net: ShallowReluNet, i: int, j: int) -> None:
    if not np.any(net.A):
        st.warning("A is the zero matrix: every neuron is constant (no neuron lines), so f is constant and both "
                   "zonotopes are single points. There is no boundary to draw unless two logits tie.")
    if not np.any(net.B):
        st.warning("B is the zero matrix: the logits are the constants c₂, the zonotopes are single points and there "
                   "is no decision boundary.")
    elif np.allclose(net.B[i], net.B[j], rtol=1e-12, atol=1e-12 * float(np.abs(net.B).max())):
        st.warning(f"Rows B[{i}] and B[{j}] are equal: f_{i} − f_{j} = c₂_{i} − c₂_{j} is constant, Z₁ = Z₂, and "
                   "the pair has no boundary (or ties everywhere).")


def _pair(net: ShallowReluNet) -> tuple[int, int, bool]:
    if net.k <= 2:
        return 0, 1, False
    cc = st.columns(3)
    classes = list(range(net.k))
    i = cc[0].selectbox("class i", classes, index=url_state("pi", 0, int, classes), key="trop_pair_i")
    others = [c for c in classes if c != i]
    j_url = url_state("pj", others[0], int, classes)
    j = cc[1].selectbox("class j", others, index=others.index(j_url) if j_url in others else 0, key="trop_pair_j")
    set_url_state(pi=i, pj=j)
    show_argmax = cc[2].checkbox("show the k-class argmax boundary", value=True, key="trop_argmax",
                                 help="From one zonotope per class on a common denominator, "
                                      "P_i = H_i ⊙ ∏_{l≠i} Q_l (argmax_i f_i = argmax_i P_i).")
    return int(i), int(j), show_argmax


def render_geometry(chosen: Chosen) -> None:
    """Input space and dual space of the chosen net (2-D), or projections and a slice (d > 2)."""
    with st.expander("The theorem, and what this page adds", expanded=False):
        st.markdown("**Theorem 2 of the paper** (bias-free net f(x) = B max(Ax, 0); wording recalled, content "
                    "checked numerically by this project's tests):")
        st.latex(r"\mathcal{D} \subseteq \mathcal{T}(R(x)),\qquad \delta(R(x)) = \mathrm{ConvexHull}(Z_1, Z_2)")
        st.markdown("**With biases** (a derived extension, not the paper's statement): c₁ and c₂ lift the zonotopes "
                    "to P₁, P₂ ⊂ ℝ³ and the dual subdivision becomes the projection of the upper faces of their hull. "
                    "The decision boundary 𝒟 is exactly the union of the pieces of 𝒯(R) dual to *bridging* edges (a "
                    "vertex of P₁ joined to one of P₂); the rest of 𝒯(R) lies on neuron lines.")
        st.latex(r"\delta(R) = \pi\big(\mathrm{UF}(\mathrm{conv}(P_1 \cup P_2))\big),\quad "
                 r"\mathcal{T}(R) = \mathcal{D} \cup \{A_l x + c_{1,l} = 0 : w_{1,l} > 0,\ f_i > f_j\} "
                 r"\cup \{A_l x + c_{1,l} = 0 : w_{2,l} > 0,\ f_j > f_i\}")
    net = chosen.net
    X, y = chosen.X, chosen.y
    i, j, show_argmax = _pair(net)
    _zero_warnings(net, i, j)
    if net.d != 2:
        slice_and_projection_view(net, i, j, X, y, show_argmax)
        return

    box = auto_box(X, net)
    with st.expander("View box and layers", expanded=False):
        zoom = st.slider("zoom out", 0.5, 4.0, 1.0, 0.25, key="trop_zoom")
        cx, cy = (box[0] + box[1]) / 2, (box[2] + box[3]) / 2
        hw, hh = (box[1] - box[0]) / 2 * zoom, (box[3] - box[2]) / 2 * zoom
        box = (cx - hw, cx + hw, cy - hh, cy + hh)
        l1, l2, l3, l4 = st.columns(4)
        dense = net.p > 64  # tens of thousands of pieces: off by default, so the figures stay quick to send
        show_regions = l1.checkbox("linear regions", True, key="trop_show_regions")
        show_neurons = l2.checkbox("neuron lines", True, key="trop_show_neurons")
        show_T = l3.checkbox("𝒯(R)", not dense, key=f"trop_show_T_{dense}")
        show_sub = l4.checkbox("δ(R) edges", not dense, key=f"trop_show_sub_{dense}")
    if net.p > 64:
        st.caption(f"p = {net.p}: 𝒯(R) and the δ(R) edges have tens of thousands of pieces and are off by default "
                   "(turn them on under 'View box and layers'); the counts below are exact either way.")

    geo = None
    with guard("computing the tropical geometry"):
        geo = _geometry(net.A, net.c1, net.B, net.c2, box, i, j)
    if geo is None:
        return
    _counts_panel(geo)

    # linked selection: a region (left) <-> its dual vertex (right)
    sel = st.session_state.get("_trop_sel", {})
    fp = hash((net.A.tobytes(), net.c1.tobytes(), net.B.tobytes(), net.c2.tobytes(), box, i, j))
    if sel.get("fp", fp) != fp:  # the net or the view changed: a stale selection means nothing
        sel = {}
        st.session_state["_trop_sel"] = sel
    hl_region = sel.get("region")
    hl_vertex = sel.get("vertex")
    if hl_region is not None and hl_region < len(geo.regions):
        hl_vertex = int(geo.region_dual[hl_region])
    elif hl_vertex is not None:
        hl_region = np.flatnonzero(geo.region_dual == hl_vertex).tolist() or None

    left, right = st.columns(2)
    with left:
        st.markdown(f"**Input space.** Linear regions (cells of the neuron lines $A_l x + c_{{1,l}} = 0$), "
                    f"**𝒯(R)** (black) and the decision boundary **𝒟** = $\\lbrace f_{i} = f_{j} \\rbrace$ (green).")
        st.latex(rf"\mathcal{{D}} = \{{x : f_{i}(x) = f_{j}(x)\}} \subseteq \mathcal{{T}}(R),\quad "
                 rf"R = H_{i}\odot Q_{j} \oplus H_{j}\odot Q_{i}")
        hl_key = None if hl_region is None else tuple(np.atleast_1d(hl_region).tolist())
        fig_in = _input_fig(net.A, net.c1, net.B, net.c2, box, i, j, X, y, hl_key, show_regions, show_neurons,
                            show_T, show_argmax)
        ev_in = show_figure(fig_in, key="trop_fig_input", on_select="rerun", selection_mode="points")
    with right:
        st.markdown("**Dual space.** Z₁ (red), Z₂ (blue), their hull, the dual subdivision δ(R) and the "
                    "bridging edges (green, dual to 𝒟; each is orthogonal to its piece of 𝒟).")
        st.latex(r"\delta(R) = \pi\big(\mathrm{UF}(\mathrm{conv}(P_1 \cup P_2))\big),\quad "
                 r"Z_1 = s + \textstyle\sum_l [0,1]\, G_1(l,:)")
        fig_du = _dual_fig(net.A, net.c1, net.B, net.c2, box, i, j, hl_vertex, show_sub, sel.get("region"))
        ev_du = show_figure(fig_du, key="trop_fig_dual", on_select="rerun", selection_mode="points")
    new_r, new_v = selected_point(ev_in), selected_point(ev_du)
    if new_r is not None and new_r != sel.get("region"):
        st.session_state["_trop_sel"] = {"region": new_r, "fp": fp}
        st.rerun()
    if new_v is not None and new_v != sel.get("vertex") and new_r is None:
        st.session_state["_trop_sel"] = {"vertex": new_v, "fp": fp}
        st.rerun()
    if hl_region is not None or hl_vertex is not None:
        if st.button("clear selection", key="trop_clear"):
            st.session_state["_trop_sel"] = {}
            st.rerun()

    agree = geo.B_gap < 1e-7 * (box[1] - box[0])
    st.caption(f"𝒟 computed two independent ways — from the bridging edges of δ(R), and by solving f{subscript(i)} = f{subscript(j)} "
               f"inside each activation cell — {'agree' if agree else 'DIFFER'}: largest gap {geo.B_gap:.1e}"
               + (" (tie regions present: their interior is part of 𝒟 and is shaded)." if geo.ties else ".")
               + ("" if agree else " Every tolerance is relative to the net's own scale, so this is not a units "
                  "problem: the net is near-degenerate (two logits differ at round-off level on whole cells, or "
                  "neuron lines nearly coincide), and the two constructions round differently there."))
    if geo.sub.kind == "flat":
        st.caption("All lifted points are coplanar (e.g. no biases): δ(R) is the single polygon conv(Z₁ ∪ Z₂) and "
                   "𝒯(R) is a fan of rays from one point, as in Theorem 2.")
    elif geo.sub.kind in ("segment", "point"):
        st.caption(f"The Newton polytope is a {geo.sub.kind} (all generators parallel or zero): R depends on one "
                   "direction only and 𝒯(R) is a set of parallel lines.")

    # a toggle, not an expander: a closed expander still sends its figure and the browser still builds the
    # WebGL scene on every rerun; the 3-D view costs nothing until it is asked for (and stays in the URL)
    show3d = st.toggle("3-D lifted view: P₁, P₂ ⊂ ℝ³ and the upper hull whose projection is δ(R)",
                       value=url_state("lifted", 0, int, (0, 1)) == 1, key="trop_show_lifted3d")
    set_url_state(lifted=1 if show3d else None)
    if show3d:
        from robustcore.viz.tropical import lifted_figure

        st.latex(r"P_1 = (s, c_{2,i}) + \textstyle\sum_l [0,1]\, w_{1,l}\,(A_l, c_{1,l}),\quad "
                 r"H_i + Q_j = \max_{(e, h) \in P_1} \langle e, x\rangle + h")
        if net.p > 64:
            st.caption(f"p = {net.p}: the 3-D view draws every lifted vertex and may take a few seconds.")
        show_figure(lifted_figure(geo), key="trop_fig_lifted")
        st.caption("The general (biased) form is derived from the paper's bias-free Theorem 2 (a derived extension, "
                   "checked numerically by this project's tests).")

    with st.expander("The tropical polynomials Hᵢ, Qᵢ", expanded=False):
        st.latex(r"f_i = H_i - Q_i,\quad H_i = c_{2,i} + \textstyle\sum_l [B^+_{il} F_l + B^-_{il} N_l],\quad "
                 r"Q_i = \textstyle\sum_l [B^-_{il} F_l + B^+_{il} N_l]")
        st.latex(r"F_l = \max(A^+_l x + c_{1,l},\ A^-_l x),\qquad N_l = A^-_l x\quad"
                 r"(\mathrm{ReLU}(A_l x + c_{1,l}) = F_l - N_l)")
        if net.p <= 6:
            H, Q = tropical_decomposition(net)[i]
            for nm, P in ((f"H_{i}", H), (f"Q_{i}", Q)):
                E, cf = P.expand()
                st.markdown(f"**{nm}**: {len(cf)} monomials (exponent, coefficient)")
                st.dataframe(pd.DataFrame({"e1": E[:, 0], "e2": E[:, 1], "coefficient": cf}), height=180)
        else:
            st.write(f"With p = {net.p} the explicit polynomials have up to 2^{net.p} monomials; the page uses the "
                     "closed forms (sums of ReLUs) instead.")


def slice_and_projection_view(net: ShallowReluNet, i: int, j: int, X=None, y=None, show_argmax: bool = False) -> None:
    """d > 2: projected zonotopes on a chosen plane and the exact picture on a 2-D slice."""
    from robustcore.viz.tropical import _segments_xy, dual_space_figure, input_space_figure, projection_figure

    if net.d < 2:
        st.info("With d = 1 there is no plane to draw: the boundary is a set of points on the line.")
        return
    has_data = X is not None and len(X) >= 3 and X.shape[1] == net.d
    st.warning(f"The exact 2-D picture needs d = 2; this net has d = {net.d}. Below: Z₁ and Z₂ projected on a "
               "plane, and the exact regions, 𝒯(R) and 𝒟 on the 2-D slice x = x₀ + U t through x₀ along that plane.")
    frames = (["PCA of the data"] if has_data else []) + ["two input axes"]
    a0, a1, a2 = st.columns(3)
    frame = a0.radio("plane", frames, key="trop_frame", horizontal=True)
    with guard("projecting the zonotopes"):
        if frame == "PCA of the data":
            U, x0 = pca_frame(X, 2)
            desc = "top two principal directions of the data, through its mean"
        else:
            ax0 = a1.number_input("first axis", 0, net.d - 1, 0, key="trop_ax0")
            ax1 = a2.number_input("second axis", 0, net.d - 1, min(1, net.d - 1), key="trop_ax1")
            U = coordinate_frame(net.d, (int(ax0), int(ax1)))
            x0 = X.mean(axis=0) if has_data else np.zeros(net.d)
            desc = f"input axes ({ax0}, {ax1}), through {'the data mean' if has_data else 'the origin'}"
        G1, G2 = net.zonotope_generators(i, j)
        s = net.common_shift([i, j])
        Z1, Z2 = projected_zonotope(G1, U, s), projected_zonotope(G2, U, s)
        st.latex(r"\Pi Z = \Pi s + \textstyle\sum_l [0,1]\, U^\top G(l,:)")
        show_figure(projection_figure(Z1, Z2, title=f"Z₁, Z₂ projected on the {desc}"), key="trop_fig_projection")
        st.caption("A linear image of a zonotope is the zonotope of the mapped generators, so this projection is "
                   f"exact ({len(Z1)} and {len(Z2)} vertices).")
        sn = slice_net(net, x0, U)
        T2 = (X - x0) @ U if has_data else None
        box = auto_box(T2, sn)
        geo = _geometry(sn.A, sn.c1, sn.B, sn.c2, box, i, j)
        _counts_panel(geo)
        fig = input_space_figure(geo, sn, T2, y, title=f"Slice x = x₀ + U t ({desc}): exact regions, 𝒯(R), 𝒟")
        if show_argmax:
            xs, ys = _segments_xy(_argmax_boundary(sn.A, sn.c1, sn.B, sn.c2, box))
            fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color="black", width=3, dash="dot"),
                            name="k-class argmax boundary (on the slice)")
        fig.update_layout(height=640)
        show_figure(fig, key="trop_fig_slice")
        dfig = dual_space_figure(geo, title="Dual space of the slice net")
        dfig.update_layout(height=640)
        show_figure(dfig, key="trop_fig_slice_dual")
        if has_data:
            st.caption("Data points are the features projected on the plane; they lie near, not on, the slice, so a "
                       "point may sit on the 'wrong' side of the slice's boundary.")
