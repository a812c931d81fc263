"""A short primer on tropical geometry for the tropical page, with a worked example computed by the library."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

__all__ = ["render_primer", "worked_example"]


def worked_example() -> dict:
    """The primer's example, computed by robustcore.tropical (so the page cannot drift from the code).

    p(x) = max(x1, 0) (.) max(x2 - 1, 0), a tropical product of two binomials (one ReLU each):
    its monomials, its value at a point, and its Newton polygon, the zonotope of the two exponent
    segments [0, e1] and [0, e2].
    """
    from robustcore.tropical import TropicalPolynomial, zonotope_vertices

    P = TropicalPolynomial(0.0, np.zeros(2), hi_exp=[[1.0, 0.0], [0.0, 1.0]], hi_coef=[0.0, -1.0],
                           lo_exp=[[0.0, 0.0], [0.0, 0.0]], lo_coef=[0.0, 0.0])
    E, c = P.expand()
    x = np.array([2.0, 0.5])
    newton = zonotope_vertices(np.array([[1.0, 0.0], [0.0, 1.0]]))
    return {"exponents": E, "coefficients": c, "x": x, "value": float(P(x)[0]),
            "relu_check": float(max(x[0], 0) + max(x[1] - 1, 0)), "newton": newton,
            "max_plus": {"3 ⊕ 5": max(3, 5), "3 ⊙ 5": 3 + 5, "3^{⊙2}": 2 * 3}}


def render_primer() -> None:
    """The primer: max-plus arithmetic, tropical polynomial, hypersurface, Newton polygon, dual subdivision,
    zonotope, each in two lines, then the worked example."""
    ex = worked_example()
    st.markdown(
        "- **Max-plus arithmetic.** Tropical sum a ⊕ b = max(a, b), tropical product a ⊙ b = a + b "
        f"(so 3 ⊕ 5 = {ex['max_plus']['3 ⊕ 5']}, 3 ⊙ 5 = {ex['max_plus']['3 ⊙ 5']}, 3^⊙2 = {ex['max_plus']['3^{⊙2}']}).\n"
        "- **Tropical polynomial.** A max of affine terms p(x) = max_m (c_m + ⟨a_m, x⟩): a convex piecewise-linear "
        "function. Each term is a *monomial* with exponent a_m and coefficient c_m; a ReLU max(t, 0) is a binomial.\n"
        "- **Tropical hypersurface** T(p): the points where the max is reached by two or more monomials, i.e. where "
        "p is not differentiable (the 'creases').\n"
        "- **Newton polygon** Δ(p): the convex hull of the exponents a_m.\n"
        "- **Dual subdivision** δ(p): lift each exponent to height c_m, take the upper faces of the hull and "
        "project them back. Each cell of δ(p) is dual to a vertex of T(p), each edge to a piece of T(p) "
        "perpendicular to it, each vertex to a region where one monomial wins.\n"
        "- **Zonotope**: a sum of segments [0, g_1] + … + [0, g_m]. The Newton polygon of a tropical product of "
        "binomials is a zonotope, which is why a ReLU layer gives zonotopes."
    )
    st.markdown("**Worked example** (computed by `robustcore.tropical`): "
                "p(x) = max(x₁, 0) ⊙ max(x₂ − 1, 0), i.e. ReLU(x₁) + ReLU(x₂ − 1).")
    E, c = ex["exponents"], ex["coefficients"]
    terms = [f"{cf:+g} + {e[0]:g}·x₁ + {e[1]:g}·x₂" for e, cf in zip(E, c)]
    st.dataframe(pd.DataFrame({"exponent a_m": [f"({e[0]:g}, {e[1]:g})" for e in E],
                               "coefficient c_m": c, "monomial": terms}), hide_index=True)
    x = ex["x"]
    st.markdown(
        f"At x = ({x[0]:g}, {x[1]:g}): p(x) = {ex['value']:g} (the largest monomial), equal to "
        f"ReLU({x[0]:g}) + ReLU({x[1]:g} − 1) = {ex['relu_check']:g}. T(p) is the two lines x₁ = 0 and x₂ = 1 "
        "(where a binomial's two terms tie). The Newton polygon is the unit square with vertices "
        + ", ".join(f"({v[0]:g}, {v[1]:g})" for v in ex["newton"])
        + ": the zonotope [0, e₁] + [0, e₂]. The heights (0, 0, −1, −1) lie on one plane, so δ(p) is the whole "
        "square, one cell, dual to the single crossing point of T(p)."
    )
