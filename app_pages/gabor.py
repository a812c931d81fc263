"""Gabor filters: the learnable bank, its frequency responses, and its Lipschitz constant
(closed-form bound of Pérez et al., ECCV 2020, beside the exact value), the regulariser at work."""
from __future__ import annotations

import streamlit as st

from ui import gabor_live, gabor_models
from ui.common import page_header, sidebar_settings

settings = sidebar_settings()

page_header(
    "Gabor filters and their Lipschitz constant",
    "A **Gabor layer** (Pérez et al., *Gabor Layers Enhance Network Robustness*, ECCV 2020) replaces a "
    "network's first convolution by a bank of Gabor kernels whose parameters are learnt: per family the "
    "inverse width **σ**, the aspect ratio **γ**, the angular frequency **λ** and the phase **ψ**; the "
    "orientation **θ** is fixed at R angles 2πr/R, and each kernel has a scale **α**. Move the sliders: the "
    "kernel, its frequency response and its Lipschitz constant (how much the filter can stretch an input "
    "in the ℓ2 norm) follow at once, with the paper's closed-form **bound** beside the **exact** value.",
    # two lines, so the equation is not clipped on a narrow page
    r"\begin{aligned} G_\theta(x', y') &= \alpha\, e^{-\sigma^2 (x'^2 + \gamma^2 y'^2)} \cos(\lambda x' + \psi), \\ "
    r"x' &= x\cos\theta - y\sin\theta,\; y' = x\sin\theta + y\cos\theta,\; (x, y) \in \mathrm{linspace}(-1, 1, k)^2 "
    r"\end{aligned}",
)


@st.fragment
def _live_sections() -> None:
    """Sections 1-4 depend on the kernel sliders; as one fragment, a slider reruns them and not the
    trained-model and reproduction sections below, which do not depend on it."""
    fam = gabor_live.one_filter()
    bank, labels, R = gabor_live.the_bank(fam)
    gabor_live.the_curves(fam)
    gabor_live.regulariser_at_work(fam, R)
    gabor_live.on_a_real_image(bank, labels)


_live_sections()
gabor_models.trained_models(settings)
gabor_models.reproduction()
