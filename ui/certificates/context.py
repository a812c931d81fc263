"""What every view of the certificates page shares: the chosen image, the base classifier and the streams."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PageContext:
    """The page's state after the shared controls ran.

    Attributes
    ----------
    dataset, root : the sidebar's dataset and its folder.
    method, train_sigma, arch : the built-in base classifier (arch "upload:<sha>" for an upload).
    model : the base classifier (None when it could not be loaded).
    sigma, n : the certification sigma and the samples of every certificate.
    seed : the sidebar's seed; ``streams`` the per-purpose seeds derived from it.
    x, label, key : the image (C, H, W) float32, its true class (None when unknown) and its memory key.
    X, y : the test set (None for an uploaded image without a test set).
    image_index : the test image's index.
    """

    dataset: str
    root: str
    method: str
    train_sigma: float
    arch: str
    sigma: float
    n: int
    seed: int
    streams: dict = field(default_factory=dict)
    model: object = None
    num_classes: int = 10
    shape: tuple = (1, 8, 8)
    x: np.ndarray | None = None
    label: int | None = None
    key: str | None = None
    X: np.ndarray | None = None
    y: np.ndarray | None = None
    image_index: int = 0
    draw: int = 0

    @property
    def fixed_purpose(self) -> str:
        """Noise stream of the fixed-sigma certificate: a fresh one after each "Fresh noise" press, so a
        sigma chosen by watching this certificate's radius is certified on noise the choice never saw."""
        return "certify-fixed" if self.draw == 0 else f"certify-fixed-{self.draw}"

    @property
    def sigma0(self) -> float:
        """Where the DDRS ascent starts: the training sigma (so moving the certification sigma reruns no ascent)."""
        return float(self.train_sigma)

    @property
    def model_key(self) -> tuple:
        """Keys every cached computation on the base classifier."""
        return (self.dataset, self.method, float(self.train_sigma), self.arch)
