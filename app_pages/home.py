"""Home: what each page teaches, in one sentence each, with a link."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.common import guard, page_header, sidebar_settings

sidebar_settings()

page_header(
    "robustcore",
    "An interactive lab for the geometry of robust neural networks. Move a weight, a noise level or a "
    "filter parameter and watch decision boundaries, certificates and bounds move with it. Every page "
    "opens on a small example that explains itself and names the equation it shows; the sidebar's "
    "dataset, model, device and seed are shared by all pages.",
)



@st.cache_data(show_spinner=False, max_entries=8)
def _thumbnail(line: str):
    from robustcore.viz.home import thumbnail

    return thumbnail(line)


LINES = [
    ("app_pages/tropical.py", "Tropical geometry", ":material/change_history:",
     "The decision boundary of a one-hidden-layer ReLU network lies on a tropical hypersurface whose dual "
     "is built from two zonotopes made of the weights; see both sides at once, prune by them and attack with them.",
     r"f(x) = B\max(Ax + c_1, 0) + c_2"),
    ("app_pages/gabor.py", "Gabor filters", ":material/waves:",
     "Learnable Gabor filter banks as first layers, with a closed-form Lipschitz upper bound beside the exact "
     "constant, and a regulariser that lowers the bound.",
     r"g(x,y) = e^{-\frac{x'^2+\gamma^2 y'^2}{2\sigma^2}}\cos\left(2\pi\frac{x'}{\lambda}+\psi\right)"),
    ("app_pages/certificates.py", "Certificates", ":material/casino:",
     "Randomized smoothing one image at a time: noisy votes, the Cohen certificate, the sigma that maximises "
     "the certified radius, and which data-dependent certificates are still sound guarantees.",
     r"R = \sigma\,\Phi^{-1}(\underline{p_A})"),
    ("app_pages/clustering.py", "Clustering certificates", ":material/hub:",
     "Nearest-centre classifiers (ClusTR) have a tight certificate in feature space: see the centres, the "
     "Voronoi cells, the certified ball of an image and an attack that tries to leave it.",
     r"R(z) = \min_{j:\,y_j \ne y_1} \frac{\|z-c_j\|^2 - \|z-c_1\|^2}{2\|c_j - c_1\|}"),
    ("app_pages/batch_size.py", "Batch size", ":material/stacks:",
     "The optimal mini-batch size of SGD from the theory of expected smoothness, and SGD that learns it on the "
     "fly, as batch-size trajectories against fixed choices.",
     r"\tau^* = \arg\min_\tau\ \tau \cdot \max\left\{\frac{2\mathcal{L}(\tau)}{\mu},\ \frac{4\sigma^2(\tau)}{\varepsilon\mu^2}\right\}"),
]

CAPTIONS = {
    "tropical": "The zonotopes Z_G1 (blue) and Z_G2 (orange) of a random 5-unit net and their convex hull.",
    "gabor": "A Gabor kernel at 30°: a Gaussian envelope times a cosine wave.",
    "certificates": "Cohen's certified radius grows with the lower bound of p_A, faster for larger σ.",
    "clustering": "Three class centres and the certified ball of a point: no point inside it changes class.",
    "batch_size": "SGD's total work against the batch size τ on a toy problem, minimised at τ*.",
}

cols = st.columns(2)
for i, (path, title, icon, sentence, eq) in enumerate(LINES):
    key = Path(path).stem
    with cols[i % 2].container(border=True):
        st.subheader(f"{icon} {title}")
        st.markdown(sentence)
        with guard(f"drawing the {title.lower()} picture"):
            st.plotly_chart(_thumbnail(key), key=f"home_{key}", width="stretch",
                            config={"displayModeBar": False, "staticPlot": True})
            st.caption(CAPTIONS[key])
        st.latex(eq)
        st.page_link(path, label=f"Open {title}", icon=":material/arrow_forward:")

st.caption(
    "Data never leaves this machine: digits ship with scikit-learn, toy sets are generated, MNIST and "
    "CIFAR-10 load from a folder you name in the sidebar. Models are trained on first use and cached "
    "(set ROBUSTCORE_CACHE to move the cache)."
)
