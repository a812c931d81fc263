"""Per-image ClusTR certificate, in the form the certificates page tabulates."""

from __future__ import annotations

from typing import Any

import torch

from ._checks import MAX_INPUT_SIZE, check_tensor
from .certificate import exact_center_radius, nearest_center_certificate
from .model import ClusterClassifier

__all__ = ["certify_image"]


def certify_image(x: torch.Tensor, model: ClusterClassifier | None = None) -> dict[str, Any]:
    """Sound l2 certificate of the nearest-centre decision of a ClusTR model at one image.

    Parameters
    ----------
    x : (1, 8, 8) or (1, 1, 8, 8) digit, or (1, 28, 28) / (1, 1, 28, 28) MNIST image, pixels in [0, 1]
        (any (C, H, W) or (1, C, H, W) matching `model.input_shape` when a model is given).
    model : a trained ClusterClassifier; None uses the default cached ClusTR model for the image's
        size (digits for 8x8, mnist-5k for 28x28; trained on first use, seconds to a minute).

    Returns
    -------
    dict with
      label : int, the nearest-centre class;
      feature_radius : float, EXACT feature-space radius (distance to the nearest other-class
        Voronoi region, a QP; with K centres per class it is >= the paper's closed form);
      closed_form_radius : float, the paper's bisector formula (a lower bound);
      input_radius : float, feature_radius / lipschitz_bound: no ||delta||_2 < input_radius
        changes the label (a deterministic guarantee, no failure probability);
      lipschitz_bound : float, product of exact per-layer spectral norms of the embedding;
      sound : bool, True (the certificate is a guarantee for the nearest-centre rule);
      note : str, what the guarantee covers.

    The guarantee holds in exact arithmetic; the float32 rounding of the network's forward pass
    (relative error ~1e-7) is not accounted for, which matters only for images within that
    distance of the boundary.
    """
    x = check_tensor("x", x, ndim_min=2, max_elements=MAX_INPUT_SIZE)
    if model is None:
        from .training import default_clustr_model

        shape = tuple(x.shape[-3:]) if x.ndim >= 3 else ()
        if shape not in ((1, 8, 8), (1, 28, 28)):
            raise ValueError(f"without a model, x must be an 8x8 digit or a 28x28 MNIST image (shape (1, 8, 8) or "
                             f"(1, 28, 28)); got {tuple(x.shape)}.")
        model = default_clustr_model(dataset="digits" if shape == (1, 8, 8) else "mnist-5k")
    if not isinstance(model, ClusterClassifier):
        raise TypeError("certify_image needs a ClusterClassifier (a ClusTR model).")
    shape = tuple(model.input_shape)
    if tuple(x.shape) == shape:
        x = x.unsqueeze(0)
    if tuple(x.shape) != (1, *shape):
        raise ValueError(f"x must have shape {shape} or (1, {', '.join(map(str, shape))}); got {tuple(x.shape)}.")
    x = x.to(model.centers.device, dtype=next(model.embedding.parameters()).dtype)
    feats = model.embed_all(x).double().cpu().numpy()
    centers = model.centers.double().cpu().numpy()
    labels = model.center_labels.cpu().numpy()
    cert = nearest_center_certificate(feats, centers, labels)
    exact = float(exact_center_radius(feats, centers, labels)[0])
    lip = model.lipschitz_bound()
    return {
        "label": int(cert.label[0]),
        "feature_radius": exact,
        "closed_form_radius": float(cert.radius[0]),
        "input_radius": exact / lip.bound,
        "lipschitz_bound": float(lip.bound),
        "sound": True,
        "note": (
            "Deterministic l2 guarantee for the nearest-centre rule: exact feature radius (QP over "
            f"{model.k_per_class} centres per class) divided by the product of exact per-layer "
            "spectral norms of the embedding (an upper bound of its Lipschitz constant, usually loose). "
            "It does not cover the soft (magnet) decision rule."
        ),
    }
