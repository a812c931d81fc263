"""Magnet loss (Rippel, Paluri, Dollar, Bourdev, ICLR 2016), the training loss of ClusTR.

For a mini-batch of N features r_n, each assigned to a cluster m(n) of class C(n), with cluster
means mu_m computed on the batch (as in the paper and its public implementations):

    s^2 = 1 / (N - 1) * sum_n ||r_n - mu_{m(n)}||^2
    L_n = max(0, ||r_n - mu_{m(n)}||^2 / (2 s^2) + alpha
                 + log sum_{m : class(m) != C(n)} exp(-||r_n - mu_m||^2 / (2 s^2)))

which is the reference's -log(exp(-d/(2 s^2) - alpha) / sum exp(-d_m/(2 s^2))) written with a
log-sum-exp for numerical stability; the loss is the mean of L_n. Fixed centres (e.g. the
model's k-means centres) can be passed instead of batch means.
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import MAX_CENTERS, MAX_DIM, MAX_ROWS, check_float

__all__ = ["MagnetLoss", "magnet_loss"]


def magnet_loss(
    features: torch.Tensor,
    labels: torch.Tensor,
    clusters: torch.Tensor,
    alpha: float = 1.0,
    centers: torch.Tensor | None = None,
    center_labels: torch.Tensor | None = None,
    min_variance: float = 1e-12,
    reduction: str = "mean",
) -> torch.Tensor:
    """Magnet loss of a batch (functional form of `MagnetLoss`).

    Parameters
    ----------
    features : (N, D) embeddings r_n.
    labels : (N,) int class of each example.
    clusters : (N,) int cluster id of each example. Without `centers`, ids are arbitrary
        integers and each cluster's centre is the batch mean of its examples; with `centers`,
        ids index rows of `centers`.
    alpha : margin (the reference suggests 1.0; the official ClusTR code uses 12.5).
    centers : optional (M, D) fixed centres; center_labels (M,) their classes (required then).
    min_variance : floor on s^2 so that a batch sitting exactly on its centres does not divide by 0.
    reduction : "mean" (default), "sum" or "none" (per-example losses (N,)).

    Returns
    -------
    Scalar loss (or (N,) per-example losses), differentiable in `features` (and `centers`).
    """
    if not isinstance(features, torch.Tensor) or not features.is_floating_point():
        raise TypeError("features must be a floating-point torch tensor (N, D).")
    if features.ndim != 2:
        raise ValueError(f"features must be (N, D); got shape {tuple(features.shape)}.")
    N = features.shape[0]
    for name, t in (("labels", labels), ("clusters", clusters)):
        if not isinstance(t, torch.Tensor) or t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
            raise TypeError(f"{name} must be an integer torch tensor (N,).")
    if labels.shape != (N,) or clusters.shape != (N,):
        raise ValueError("labels and clusters must be 1-D with one entry per feature row.")
    if N < 2:
        raise ValueError("The magnet loss needs at least two examples (s^2 divides by N - 1).")
    if N > MAX_ROWS or features.shape[1] > MAX_DIM or features.shape[1] < 1:
        raise ValueError(f"features must have 2..{MAX_ROWS} rows and 1..{MAX_DIM} columns; got {tuple(features.shape)}.")
    alpha = check_float("alpha", alpha, lo=0.0)
    min_variance = check_float("min_variance", min_variance, lo=0.0, lo_open=True)
    if not torch.isfinite(features).all():
        raise ValueError("features contain NaN or infinite values.")
    if not isinstance(reduction, str) or reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none'; got {reduction!r}.")
    if centers is not None:
        if not isinstance(centers, torch.Tensor) or not centers.is_floating_point():
            raise TypeError("centers must be a floating-point torch tensor (M, D).")
        if centers.ndim != 2 or centers.shape[1] != features.shape[1] or not 1 <= centers.shape[0] <= MAX_CENTERS:
            raise ValueError(f"centers must be (M, {features.shape[1]}) with 1 <= M <= {MAX_CENTERS}; "
                             f"got {tuple(centers.shape)}.")
        if not torch.isfinite(centers).all():
            raise ValueError("centers contain NaN or infinite values.")
        if center_labels is not None and (not isinstance(center_labels, torch.Tensor) or center_labels.is_floating_point()
                                          or center_labels.shape != (centers.shape[0],)):
            raise ValueError(f"center_labels must be an integer tensor of shape ({centers.shape[0]},).")
    if centers is None:
        ids, assign = torch.unique(clusters, return_inverse=True)
        M = ids.numel()
        onehot = torch.zeros(M, N, dtype=features.dtype, device=features.device)
        onehot[assign, torch.arange(N, device=features.device)] = 1.0
        mu = onehot @ features / onehot.sum(dim=1, keepdim=True)
        mu_labels = torch.zeros(M, dtype=labels.dtype, device=labels.device)
        mu_labels[assign] = labels
        # every cluster must hold one class only
        if not torch.equal(mu_labels[assign], labels):
            raise ValueError("Each cluster must contain examples of a single class.")
    else:
        if center_labels is None:
            raise ValueError("center_labels is required when centers are given.")
        mu, mu_labels, assign = centers, center_labels, clusters.long()
        if assign.min() < 0 or assign.max() >= mu.shape[0]:
            raise ValueError("clusters must index rows of centers.")
        if not torch.equal(mu_labels[assign], labels):
            raise ValueError("Each example's cluster must have the example's class.")
    d2 = torch.cdist(features, mu).pow(2)  # (N, M)
    # direct differences for the own-cluster term (cdist is inexact near 0)
    own = (features - mu[assign]).pow(2).sum(dim=1)  # (N,)
    var = (own.sum() / (N - 1)).clamp_min(min_variance)
    other = mu_labels[None, :] != labels[:, None]  # (N, M)
    logits = torch.where(other, -d2 / (2 * var), torch.full_like(d2, -torch.inf))
    lse = torch.logsumexp(logits, dim=1)  # -inf when no other-class cluster is in the batch
    per = torch.relu(own / (2 * var) + alpha + lse)
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.mean()


class MagnetLoss(nn.Module):
    """Magnet loss module; see `magnet_loss` for the equation and arguments.

    Parameters
    ----------
    alpha : margin alpha >= 0 between a cluster and the clusters of other classes.
    """

    def __init__(self, alpha: float = 1.0, min_variance: float = 1e-12) -> None:
        super().__init__()
        self.alpha = check_float("alpha", alpha, lo=0.0)
        self.min_variance = check_float("min_variance", min_variance, lo=0.0, lo_open=True)

    def forward(
        self,
        features: torch.Tensor,
        labels: torch.Tensor,
        clusters: torch.Tensor,
        centers: torch.Tensor | None = None,
        center_labels: torch.Tensor | None = None,
        reduction: str = "mean",
    ) -> torch.Tensor:
        return magnet_loss(
            features, labels, clusters, self.alpha, centers, center_labels, self.min_variance, reduction
        )
