"""Nearest-centre classifiers over a learned embedding (ClusTR, Alfarra et al., BMVC 2021).

An embedding phi maps inputs to features r = phi(x) (D,); each class c owns K centres
mu_{c,1..K} fitted by k-means(++) on the embeddings of that class's training examples and refreshed
during training (magnet-loss practice). Two decision rules:

* nearest centre (certified): c(x) = class(argmin_m ||phi(x) - mu_m||);
* soft (magnet-loss inference): score_c = sum over the L nearest centres m of class c of
  exp(-||r - mu_m||^2 / (2 s^2)), s^2 the mean squared distance of training features to their
  assigned centres. The certificate of `certificate.py` is for the nearest-centre rule only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from .certificate import nearest_center_certificate, exact_center_radius
from ._checks import (
    MAX_CENTERS, MAX_CLASSES, MAX_DIM, MAX_PARAMS, MAX_ROWS, check_choice, check_int, check_labels, check_shape,
    check_tensor,
)
from .lipschitz import LipschitzBound, lipschitz_upper_bound

__all__ = ["ClusterClassifier", "make_embedding"]


def make_embedding(
    input_shape: tuple[int, ...] = (1, 8, 8),
    feature_dim: int = 16,
    hidden: tuple[int, ...] = (64, 64),
    kind: str = "mlp",
) -> nn.Sequential:
    """Embedding network phi as an nn.Sequential (so its Lipschitz bound is computable).

    Parameters
    ----------
    input_shape : (C, H, W) of one input; feature_dim : D; hidden : widths of the hidden layers
    (for kind="cnn": the channels of the 3x3 conv layers, followed by one Linear to D).
    kind : "mlp" (Flatten -> [Linear -> ReLU]* -> Linear) or "cnn" ([Conv3x3 -> ReLU]* ->
    Flatten -> Linear).
    """
    kind = check_choice("kind", kind, ("mlp", "cnn"))
    input_shape = check_shape("input_shape", input_shape)
    feature_dim = check_int("feature_dim", feature_dim, 1, MAX_DIM)
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (tuple, list)):
        raise TypeError(f"hidden must be a tuple of positive integers; got {type(hidden).__name__}.")
    if len(hidden) > 16:
        raise ValueError(f"hidden may list at most 16 layers; got {len(hidden)}.")
    hidden = tuple(check_int(f"hidden[{i}]", h, 1, MAX_DIM) for i, h in enumerate(hidden))
    if kind == "cnn" and len(input_shape) != 3:
        raise ValueError(f"kind='cnn' needs input_shape (C, H, W); got {input_shape}.")
    n_in = int(np.prod(input_shape))
    # parameter count before building anything (a cap, not a surprise allocation)
    if kind == "mlp":
        widths = [n_in, *hidden, feature_dim]
        n_params = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    else:
        chans = [input_shape[0], *hidden]
        n_params = sum(9 * a * b + b for a, b in zip(chans[:-1], chans[1:]))
        n_params += chans[-1] * input_shape[1] * input_shape[2] * feature_dim + feature_dim
    if n_params > MAX_PARAMS:
        raise ValueError(f"this embedding would have {n_params} parameters, above the cap of {MAX_PARAMS}.")
    layers: list[nn.Module] = [nn.Flatten()] if kind == "mlp" else []
    if kind == "mlp":
        prev = n_in
        for h in hidden:
            layers += [nn.Linear(prev, h), nn.ReLU()]
            prev = h
        layers.append(nn.Linear(prev, feature_dim))
    elif kind == "cnn":
        c = input_shape[0]
        for h in hidden:
            layers += [nn.Conv2d(c, h, 3, padding=1), nn.ReLU()]
            c = h
        layers += [nn.Flatten(), nn.Linear(c * input_shape[1] * input_shape[2], feature_dim)]
    else:
        raise ValueError(f"kind must be 'mlp' or 'cnn'; got {kind!r}.")
    return nn.Sequential(*layers)


class ClusterClassifier(nn.Module):
    """Embedding network + K centres per class, nearest-centre and soft decision rules.

    Parameters
    ----------
    embedding : nn.Module mapping (n, *input_shape) -> (n, D) (an nn.Sequential of standard
        layers if the input-space certificate is wanted).
    num_classes : number of classes C; k_per_class : K centres per class.
    feature_dim : D; input_shape : one input's shape, e.g. (1, 8, 8).

    Buffers: `centers` (C*K, D), `center_labels` (C*K,), `variance` s^2 (scalar).
    `forward(x)` returns nearest-centre logits -min_{m in c} ||r - mu_m||^2 / (2 s^2) (n, C), whose
    argmax is the nearest-centre rule (so attacks and accuracy helpers work unchanged).
    """

    def __init__(
        self,
        embedding: nn.Module,
        num_classes: int,
        k_per_class: int = 2,
        feature_dim: int = 16,
        input_shape: tuple[int, ...] = (1, 8, 8),
    ) -> None:
        super().__init__()
        if not isinstance(embedding, nn.Module):
            raise TypeError(f"embedding must be a torch nn.Module; got {type(embedding).__name__}.")
        num_classes = check_int("num_classes", num_classes, 2, MAX_CLASSES)
        k_per_class = check_int("k_per_class", k_per_class, 1, 1000)
        feature_dim = check_int("feature_dim", feature_dim, 1, MAX_DIM)
        input_shape = check_shape("input_shape", input_shape)
        if num_classes * k_per_class > MAX_CENTERS:
            raise ValueError(f"num_classes * k_per_class = {num_classes * k_per_class} centres exceed the cap of "
                             f"{MAX_CENTERS}.")
        self.embedding = embedding
        self.num_classes = int(num_classes)
        self.k_per_class = int(k_per_class)
        self.feature_dim = int(feature_dim)
        self.input_shape = tuple(int(s) for s in input_shape)
        M = self.num_classes * self.k_per_class
        self.register_buffer("centers", torch.zeros(M, self.feature_dim))
        self.register_buffer(
            "center_labels", torch.arange(self.num_classes).repeat_interleave(self.k_per_class)
        )
        self.register_buffer("variance", torch.tensor(1.0))

    # ---- embedding and centres -------------------------------------------------------
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Features r = phi(x), (n, D)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch tensor; got {type(x).__name__}.")
        if x.is_complex() or not (x.is_floating_point() or x.dtype == torch.uint8):
            raise TypeError(f"x must be a real floating-point tensor; got dtype {x.dtype}.")
        if x.ndim == len(self.input_shape):
            x = x.unsqueeze(0)
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"Expected inputs of shape (n, {self.input_shape}); got {tuple(x.shape)}.")
        return self.embedding(x)

    @torch.no_grad()
    def embed_all(self, X: torch.Tensor, batch: int = 1024) -> torch.Tensor:
        """Embeddings of a whole data set in eval mode, (n, D)."""
        batch = check_int("batch", batch, 1, MAX_ROWS)
        X = check_tensor("X", X, ndim_min=1)
        was = self.training
        self.eval()
        out = torch.cat([self.embed(X[s : s + batch]) for s in range(0, X.shape[0], batch)])
        self.train(was)
        return out

    @torch.no_grad()
    def refresh_centers(
        self, X: torch.Tensor, y: torch.Tensor, seed: int = 0, n_init: int = 3, warm_start: bool = False
    ) -> np.ndarray:
        """Refit the K centres of each class by k-means++ on the embeddings of X.

        With `warm_start`, k-means starts from the current centres (one run): the cheap periodic
        refresh used during training, where the embedding moves little between refreshes.

        Also sets s^2 = 1 / (N - 1) sum_n ||r_n - mu(r_n)||^2 (the reference's variance).

        Returns
        -------
        (N,) int global cluster index (0 .. C*K - 1) of each row of X.
        """
        from sklearn.cluster import KMeans

        seed = check_int("seed", seed, 0, 2**32 - 1)
        n_init = check_int("n_init", n_init, 1, 100)
        X = check_tensor("X", X, ndim_min=2)
        y = check_labels("y", y, X.shape[0], self.num_classes)
        feats = self.embed_all(X).double().cpu().numpy()
        yn = y.cpu().numpy()
        K = self.k_per_class
        centers = np.zeros((self.num_classes * K, self.feature_dim))
        assign = np.zeros(len(yn), dtype=np.int64)
        for c in range(self.num_classes):
            idx = np.nonzero(yn == c)[0]
            if idx.size < K:
                raise ValueError(f"Class {c} has {idx.size} training examples, fewer than K = {K}.")
            if warm_start:
                init = self.centers[c * K : (c + 1) * K].double().cpu().numpy()
                km = KMeans(n_clusters=K, init=init, n_init=1, random_state=seed + c).fit(feats[idx])
            else:
                km = KMeans(n_clusters=K, n_init=n_init, random_state=seed + c).fit(feats[idx])
            centers[c * K : (c + 1) * K] = km.cluster_centers_
            assign[idx] = c * K + km.labels_
        self.centers.copy_(torch.as_tensor(centers, dtype=self.centers.dtype))
        var = ((feats - centers[assign]) ** 2).sum() / max(len(yn) - 1, 1)
        self.variance.fill_(max(float(var), 1e-12))
        return assign

    # ---- decision rules ----------------------------------------------------------------
    def center_sq_dists(self, r: torch.Tensor) -> torch.Tensor:
        """||r - mu_m||^2 for every centre, (n, C*K), by direct differences."""
        return (r[:, None, :] - self.centers[None, :, :]).pow(2).sum(dim=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Nearest-centre logits (n, C): -min_{m in class c} ||phi(x) - mu_m||^2 / (2 s^2)."""
        d2 = self.center_sq_dists(self.embed(x)).reshape(-1, self.num_classes, self.k_per_class)
        return -d2.min(dim=2).values / (2 * self.variance)

    def soft_logits(self, x: torch.Tensor, L: int = 20) -> torch.Tensor:
        """Soft (magnet inference) log-scores (n, C): log sum_{m in L nearest, class c} exp(-d_m / (2 s^2)).

        Classes with no centre among the L nearest get -inf. Not covered by the certificate.
        """
        L = check_int("L", L, 1, MAX_CENTERS)
        d2 = self.center_sq_dists(self.embed(x))  # (n, M)
        L = min(L, d2.shape[1])
        kth = d2.topk(L, dim=1, largest=False).values[:, -1:]
        logits = torch.where(d2 <= kth, -d2 / (2 * self.variance), torch.full_like(d2, -torch.inf))
        out = torch.full((d2.shape[0], self.num_classes), -torch.inf, dtype=d2.dtype, device=d2.device)
        for c in range(self.num_classes):
            out[:, c] = torch.logsumexp(logits[:, self.center_labels == c], dim=1)
        return out

    def soft_scores(self, x: torch.Tensor, L: int = 20) -> torch.Tensor:
        """The official code's class scores (n, C): sum over the L nearest centres m of class c of
        exp(-||r - mu_m||^2 / (2 s^2)) (its ``get_softmax_probs(..., return_scores=True)``).

        These raw exp-scores (not their logarithm) are what the official evaluation feeds to
        cross-entropy as logits; they underflow to 0 far from every centre, which flattens the
        attack's gradient (see ``robustcore.clustr.adversarial``). argmax is the soft rule.
        """
        L = check_int("L", L, 1, MAX_CENTERS)
        d2 = self.center_sq_dists(self.embed(x))  # (n, M)
        L = min(L, d2.shape[1])
        scores = torch.exp(-d2 / (2 * self.variance))
        kth = d2.topk(L, dim=1, largest=False).values[:, -1:]
        scores = torch.where(d2 <= kth, scores, torch.zeros_like(scores))
        onehot = nn.functional.one_hot(self.center_labels, self.num_classes).to(scores.dtype)  # (M, C)
        return scores @ onehot

    @torch.no_grad()
    def predict(self, x: torch.Tensor, rule: str = "nearest", L: int = 20) -> torch.Tensor:
        """Predicted classes (n,) under rule "nearest" (certified) or "soft"."""
        check_choice("rule", rule, ("nearest", "soft"))
        if rule == "nearest":
            return self(x).argmax(dim=1)
        if rule == "soft":
            return self.soft_logits(x, L).argmax(dim=1)
        raise ValueError(f"rule must be 'nearest' or 'soft'; got {rule!r}.")

    # ---- certificates ------------------------------------------------------------------
    def lipschitz_bound(self) -> LipschitzBound:
        """Product-of-layer-norms upper bound of the embedding's l2 Lipschitz constant."""
        return lipschitz_upper_bound(self.embedding, self.input_shape)

    @torch.no_grad()
    def certify(self, X: torch.Tensor, exact: bool = False) -> dict[str, Any]:
        """Feature and input-space certificates of the nearest-centre rule for every row of X.

        Returns
        -------
        dict with label (n,), feature_radius (n,) (closed form; exact radius if `exact`),
        closed_form_radius (n,), input_radius (n,) = feature_radius / L_upper, lipschitz_bound
        L_upper, features (n, D). A sound guarantee: no input perturbation with
        ||delta||_2 < input_radius changes the nearest-centre decision.
        """
        if not isinstance(exact, (bool, np.bool_)):
            raise TypeError(f"exact must be a bool; got {type(exact).__name__}.")
        feats = self.embed_all(X).double().cpu().numpy()
        centers = self.centers.double().cpu().numpy()
        labels = self.center_labels.cpu().numpy()
        cert = nearest_center_certificate(feats, centers, labels)
        radius = exact_center_radius(feats, centers, labels) if exact else cert.radius
        lip = self.lipschitz_bound()
        return {
            "label": cert.label,
            "feature_radius": radius,
            "closed_form_radius": cert.radius,
            "input_radius": radius / lip.bound,
            "lipschitz_bound": lip.bound,
            "features": feats,
        }

    def config(self) -> dict[str, Any]:
        """Hyper-parameters needed to rebuild the module (embedding built separately)."""
        return {
            "num_classes": self.num_classes,
            "k_per_class": self.k_per_class,
            "feature_dim": self.feature_dim,
            "input_shape": list(self.input_shape),
        }
