"""Home: what each page teaches, in one sentence each, with a link."""
from __future__ import annotations

import streamlit as st

from ui.common import page_header, sidebar_settings

sidebar_settings()

page_header(
    "robustcore",
    "An interactive lab for the geometry of robust neural networks. Move a weight, a noise level or a "
    "filter parameter and watch decision boundaries, certificates and bounds move with it. Every page "
    "opens on a small example that explains itself and names the equation it shows; the sidebar's "
    "dataset, model, device and seed are shared by all pages.",
)

LINES = [
    ("pages/tropical.py", "Tropical geometry", ":material/change_history:",
     "The decision boundary of a one-hidden-layer ReLU network lies on a tropical hypersurface whose dual "
     "is built from two zonotopes made of the weights; see both sides at once, prune by them and attack with them.",
     r"f(x) = B\max(Ax + c_1, 0) + c_2"),
    ("pages/gabor.py", "Gabor filters", ":material/waves:",
     "Learnable Gabor filter banks as first layers, with a closed-form Lipschitz upper bound beside the exact "
     "constant, and a regulariser that lowers the bound.",
     r"g(x,y) = e^{-\frac{x'^2+\gamma^2 y'^2}{2\sigma^2}}\cos\left(2\pi\frac{x'}{\lambda}+\psi\right)"),
    ("pages/certificates.py", "Certificates", ":material/casino:",
     "Randomized smoothing one image at a time: noisy votes, the Cohen certificate, the sigma that maximises "
     "the certified radius, and which data-dependent certificates are still sound guarantees.",
     r"R = \sigma\,\Phi^{-1}(\underline{p_A})"),
    ("pages/clustering.py", "Clustering certificates", ":material/hub:",
     "Nearest-centre classifiers (ClusTR) have a tight certificate in feature space: see the centres, the "
     "Voronoi cells, the certified ball of an image and an attack that tries to leave it.",
     r"R(z) = \min_{j:\,y_j \ne y_1} \frac{\|z-c_j\|^2 - \|z-c_1\|^2}{2\|c_j - c_1\|}"),
    ("pages/batch_size.py", "Batch size", ":material/stacks:",
     "The optimal mini-batch size of SGD from the theory of expected smoothness, and SGD that learns it on the "
     "fly, as batch-size trajectories against fixed choices.",
     r"\tau^* = \arg\min_\tau\ \tau \cdot \max\left\{\frac{2\mathcal{L}(\tau)}{\mu},\ \frac{4\sigma^2(\tau)}{\varepsilon\mu^2}\right\}"),
]

cols = st.columns(2)
for i, (path, title, icon, sentence, eq) in enumerate(LINES):
    with cols[i % 2].container(border=True):
        st.subheader(f"{icon} {title}")
        st.markdown(sentence)
        st.latex(eq)
        st.page_link(path, label=f"Open {title}", icon=":material/arrow_forward:")

st.caption(
    "Data never leaves this machine: digits ship with scikit-learn, toy sets are generated, MNIST and "
    "CIFAR-10 load from a folder you name in the sidebar. Models are trained on first use and cached "
    "(set ROBUSTCORE_CACHE to move the cache)."
)
