"""ClusTR training (magnet loss, optional fast adversarial training) and its comparison models.

Four models share one embedding architecture (an MLP on digits):

* "clustr"      - magnet loss, no adversary (the paper's "adversary-free" ClusTR);
* "clustr-fgsm" - magnet loss on FGSM-with-random-start examples (Wong et al. 2020, "fast AT").
                  The issue asks for this add-on; the official code implements "free" AT
                  (Shafahi et al. 2019) instead - both are single-step adversaries;
* "ce"          - the embedding plus a linear head, cross-entropy;
* "pgd-at"      - the same, PGD adversarial training (Madry et al.) with `robustcore.attacks`.

Mini-batches follow the magnet-loss recipe (reference section 3): a seed cluster drawn in
proportion to its running mean loss, plus its m - 1 nearest clusters of other classes (impostors),
d examples from each; batch centres are the batch means; centres are re-fitted with k-means++ on
the whole training set every `refresh_every` epochs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .certificate import nearest_center_certificate
from .lipschitz import lipschitz_upper_bound
from .magnet import MagnetLoss
from .model import ClusterClassifier, make_embedding

__all__ = [
    "MODEL_KINDS",
    "DEFAULT_CONFIG",
    "PAGE_CONFIG",
    "model_config",
    "build_model",
    "train_model",
    "load_or_train",
    "default_clustr_model",
    "page_model",
    "margin_loss",
    "pgd_accuracy",
    "linear_head_radius",
    "certify_dataset",
    "compare_models",
]

ProgressFn = Callable[[float, str], None]

MODEL_KINDS = ("clustr", "clustr-fgsm", "ce", "pgd-at")

_SHAPES = {"digits": (1, 8, 8), "mnist": (1, 28, 28), "cifar10": (3, 32, 32)}

DEFAULT_CONFIG: dict[str, Any] = {
    "dataset": "digits",
    "data_root": "",
    "limit": 0,  # vision data sets: use only the first `limit` training images (0 = all)
    "feature_dim": 16,
    "hidden": [64, 64],
    "k_per_class": 2,
    "epochs": 40,
    "lr": 3e-3,
    "alpha": 1.0,
    "m_clusters": 8,
    "d_per_cluster": 16,
    "refresh_every": 1,
    "train_eps": 0.1,  # l-inf, pixels in [0, 1]; for clustr-fgsm and pgd-at
    "pgd_train_steps": 7,
    "batch_size": 64,  # for the cross-entropy models
    "seed": 0,
}

# The page's model: a 2-D embedding so that centres, Voronoi cells and certified circles are
# drawn exactly, without a projection.
PAGE_CONFIG: dict[str, Any] = {**DEFAULT_CONFIG, "feature_dim": 2, "epochs": 60}


def model_config(kind: str = "clustr", **overrides: Any) -> dict[str, Any]:
    """A full config for model `kind` ("clustr", "clustr-fgsm", "ce", "pgd-at") with overrides."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"kind must be one of {', '.join(MODEL_KINDS)}; got {kind!r}.")
    unknown = set(overrides) - set(DEFAULT_CONFIG)
    if unknown:
        raise ValueError(f"Unknown config keys: {', '.join(sorted(unknown))}.")
    cfg = {**DEFAULT_CONFIG, **overrides, "kind": kind}
    if cfg["dataset"] not in _SHAPES:
        raise ValueError(f"dataset must be one of {', '.join(_SHAPES)}; got {cfg['dataset']!r}.")
    if cfg["dataset"] != "digits" and not cfg["data_root"]:
        raise ValueError(f"The {cfg['dataset']} data set needs a data folder (data_root); nothing is downloaded.")
    cfg["input_shape"] = list(_SHAPES[cfg["dataset"]])
    cfg["num_classes"] = 10
    if cfg["epochs"] < 0 or cfg["feature_dim"] < 1 or cfg["k_per_class"] < 1:
        raise ValueError("epochs must be >= 0 and feature_dim, k_per_class >= 1.")
    return cfg


def _data(config: dict[str, Any], split: str) -> tuple[torch.Tensor, torch.Tensor]:
    if config.get("dataset", "digits") == "digits":
        from robustcore.data import load_digits

        return load_digits(split)
    from robustcore.data import dataset_to_tensors, load_vision_dataset

    ds = load_vision_dataset(config["dataset"], config["data_root"], train=(split == "train"))
    limit = int(config.get("limit") or 0) or None
    return dataset_to_tensors(ds, limit if split == "train" else (None if limit is None else max(limit // 5, 500)))


def build_model(config: dict[str, Any]) -> nn.Module:
    """Untrained model for `config` (a ClusterClassifier, or embedding + linear head for "ce"/"pgd-at")."""
    torch.manual_seed(int(config.get("seed", 0)))
    shape = tuple(config.get("input_shape", (1, 8, 8)))
    n_classes = int(config.get("num_classes", 10))
    emb = make_embedding(shape, int(config["feature_dim"]), tuple(config["hidden"]))
    if config["kind"] in ("clustr", "clustr-fgsm"):
        return ClusterClassifier(emb, n_classes, int(config["k_per_class"]), int(config["feature_dim"]), shape)
    return nn.Sequential(emb, nn.Linear(int(config["feature_dim"]), n_classes))


def margin_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Carlini-Wagner margin max_{j != y} z_j - z_y, summed (PGD maximises it)."""
    true = logits.gather(1, y[:, None]).squeeze(1)
    other = logits.masked_fill(nn.functional.one_hot(y, logits.shape[1]).bool(), -torch.inf)
    return (other.max(dim=1).values - true).sum()


def _fgsm_rs(loss_of: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, eps: float, gen: torch.Generator) -> torch.Tensor:
    """FGSM with random start (Wong et al.): uniform start in the eps-ball, one 1.25 eps sign step."""
    delta = ((torch.rand(x.shape, generator=gen) * 2 - 1) * eps).to(x.device)
    delta = ((x + delta).clamp(0, 1) - x).requires_grad_(True)
    (g,) = torch.autograd.grad(loss_of(x + delta), delta)
    delta = (delta + 1.25 * eps * g.sign()).clamp(-eps, eps)
    return (x + delta).clamp(0, 1).detach()


def _train_clustr(model: ClusterClassifier, X: torch.Tensor, y: torch.Tensor, config: dict[str, Any],
                  progress: ProgressFn | None) -> dict[str, float]:
    seed = int(config["seed"])
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    loss_fn = MagnetLoss(float(config["alpha"]))
    opt = torch.optim.Adam(model.embedding.parameters(), lr=float(config["lr"]))
    m, d = int(config["m_clusters"]), int(config["d_per_cluster"])
    K, C = model.k_per_class, model.num_classes
    M = K * C
    m = min(m, M)
    assign = model.refresh_centers(X, y, seed=seed)
    members = [np.nonzero(assign == k)[0] for k in range(M)]
    cluster_loss = np.ones(M)
    labels_of = model.center_labels.cpu().numpy()
    n_batches = max(1, math.ceil(X.shape[0] / (m * d)))
    epochs = int(config["epochs"])
    adv = config["kind"] == "clustr-fgsm"
    eps = float(config["train_eps"])
    last = float("nan")
    for epoch in range(epochs):
        model.train()
        centers = model.centers.detach().cpu().numpy()
        cdist = np.linalg.norm(centers[:, None] - centers[None], axis=2)
        running = []
        for _ in range(n_batches):
            p = cluster_loss / cluster_loss.sum() if cluster_loss.sum() > 0 else None
            seed_c = int(rng.choice(M, p=p))
            others = np.nonzero(labels_of != labels_of[seed_c])[0]
            imp = others[np.argsort(cdist[seed_c, others])[: m - 1]]
            chosen = [seed_c, *imp.tolist()]
            idx, cl = [], []
            for k in chosen:
                pool = members[k]
                if pool.size == 0:
                    continue
                take = rng.choice(pool, size=d, replace=pool.size < d)
                idx.append(take)
                cl.append(np.full(d, k))
            idx_t = torch.as_tensor(np.concatenate(idx), device=X.device)
            cl_t = torch.as_tensor(np.concatenate(cl), device=X.device)
            xb, yb = X[idx_t], y[idx_t]
            if adv:
                xb = _fgsm_rs(lambda z: loss_fn(model.embed(z), yb, cl_t), xb, eps, gen)
            per = loss_fn(model.embed(xb), yb, cl_t, reduction="none")
            loss = per.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            running.append(float(loss.detach()))
            # running mean loss per cluster drives the seed-cluster sampling (magnet practice)
            per_np = per.detach().cpu().numpy()
            cl_np = cl_t.cpu().numpy()
            for k in np.unique(cl_np):
                cluster_loss[k] = 0.5 * cluster_loss[k] + 0.5 * per_np[cl_np == k].mean()
            cluster_loss = np.maximum(cluster_loss, 1e-6)
        last = float(np.mean(running))
        if (epoch + 1) % int(config["refresh_every"]) == 0 or epoch == epochs - 1:
            assign = model.refresh_centers(X, y, seed=seed, warm_start=epoch < epochs - 1)
            members = [np.nonzero(assign == k)[0] for k in range(M)]
        if progress is not None:
            progress((epoch + 1) / max(epochs, 1), f"{config['kind']}: epoch {epoch + 1}/{epochs}, magnet loss {last:.3f}")
    model.eval()
    return {"train_loss": last}


def _train_ce(model: nn.Module, X: torch.Tensor, y: torch.Tensor, config: dict[str, Any],
              progress: ProgressFn | None) -> dict[str, float]:
    from robustcore.attacks import pgd_attack

    seed = int(config["seed"])
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=float(config["lr"]))
    bs = int(config["batch_size"])
    epochs = int(config["epochs"])
    eps = float(config["train_eps"])
    last = float("nan")
    for epoch in range(epochs):
        perm = torch.randperm(X.shape[0], generator=gen).to(X.device)
        running = []
        for s in range(0, X.shape[0], bs):
            xb, yb = X[perm[s : s + bs]], y[perm[s : s + bs]]
            if config["kind"] == "pgd-at":
                xb = pgd_attack(model, xb, yb, eps, "linf", steps=int(config["pgd_train_steps"]), generator=gen)
            model.train()
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running.append(float(loss.detach()))
        last = float(np.mean(running))
        if progress is not None:
            progress((epoch + 1) / max(epochs, 1), f"{config['kind']}: epoch {epoch + 1}/{epochs}, loss {last:.3f}")
    model.eval()
    return {"train_loss": last}


def train_model(model: nn.Module, config: dict[str, Any], progress: ProgressFn | None = None,
                device: str = "cpu") -> dict[str, float]:
    """Train `model` (from `build_model(config)`) in place on the config's training split.

    Training runs on `device` ("cpu", "cuda", ...); the model is returned on the CPU.
    Returns metrics: train_loss, clean test accuracy `test_acc`, and `seconds`.
    """
    t0 = time.perf_counter()
    X, y = _data(config, "train")
    model.to(device)
    X, y = X.to(device), y.to(device)
    try:
        if isinstance(model, ClusterClassifier):
            metrics = _train_clustr(model, X, y, config, progress)
        else:
            metrics = _train_ce(model, X, y, config, progress)
    finally:
        model.to("cpu")
    Xt, yt = _data(config, "test")
    with torch.no_grad():
        metrics["test_acc"] = float((model(Xt).argmax(1) == yt).float().mean())
        if isinstance(model, ClusterClassifier):
            metrics["test_acc_soft"] = float((model.predict(Xt, rule="soft") == yt).float().mean())
    metrics["seconds"] = time.perf_counter() - t0
    return metrics


def load_or_train(config: dict[str, Any], progress: ProgressFn | None = None, retrain: bool = False,
                  device: str = "cpu") -> tuple[nn.Module, dict]:
    """The trained model for `config` from the on-disk cache (`robustcore.nets.cached_model`);
    trained on `device` when missing (the device is not part of the cache key). Returned on the CPU."""
    from robustcore.nets import cached_model

    def train(model: nn.Module, cfg: dict[str, Any], prog: ProgressFn | None) -> dict[str, float]:
        return train_model(model, cfg, prog, device=device)

    return cached_model(f"clustr-{config['kind']}", config, build_model, train, progress=progress, retrain=retrain)


def default_clustr_model(progress: ProgressFn | None = None) -> ClusterClassifier:
    """The default digits ClusTR model (16-D embedding, K = 2), trained on first use and cached."""
    model, _ = load_or_train(model_config("clustr"), progress)
    return model


def page_model(progress: ProgressFn | None = None) -> ClusterClassifier:
    """The page's digits ClusTR model with a 2-D embedding (trained on first use, cached)."""
    model, _ = load_or_train(model_config("clustr", feature_dim=2, epochs=PAGE_CONFIG["epochs"]), progress)
    return model


def linear_head_radius(model: nn.Sequential, X: torch.Tensor) -> dict[str, np.ndarray | float]:
    """Certificate of an embedding + linear-head model (for the comparison table).

    In feature space the decision argmax_c (w_c . r + b_c) is unchanged for ||Delta|| <
    min_{j != c} ((w_c - w_j) . r + b_c - b_j) / ||w_c - w_j|| (exact: distance to the nearest
    facet of a convex polyhedron); divided by the embedding's Lipschitz upper bound it is a
    sound input radius. Returns label, feature_radius, input_radius, lipschitz_bound.
    """
    emb, head = model[0], model[1]
    with torch.no_grad():
        r = emb(X).double()
        W, b = head.weight.double(), head.bias.double()
        logits = r @ W.T + b
        c = logits.argmax(1)
        diff_w = W[c][:, None, :] - W[None, :, :]  # (n, C, D)
        gap = logits.gather(1, c[:, None]) - logits  # (n, C)
        nrm = diff_w.norm(dim=2)
        ratio = torch.where(nrm > 0, gap / nrm.clamp_min(1e-300), torch.full_like(gap, torch.inf))
        ratio[torch.arange(len(c)), c] = torch.inf
        radius = ratio.min(1).values.clamp_min(0).numpy()
    lip = lipschitz_upper_bound(emb, tuple(X.shape[1:])).bound
    return {"label": c.numpy(), "feature_radius": radius, "input_radius": radius / lip, "lipschitz_bound": lip}


def certify_dataset(model: nn.Module, X: torch.Tensor) -> dict[str, Any]:
    """Feature and input-space certificates for every row of X (ClusTR or linear-head model)."""
    if isinstance(model, ClusterClassifier):
        return model.certify(X)
    return linear_head_radius(model, X)


def pgd_accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor, eps: float, norm: str = "linf",
                 steps: int = 20, restarts: int = 3, seed: int = 0, step_size: float | None = None,
                 device: str | None = None) -> float:
    """Accuracy under PGD: an example counts as robust only if no restart (cross-entropy and
    margin losses alternately) finds an adversarial example. An upper bound on true robust accuracy.

    `device` (default: the model's) runs the attack there; the model is moved back afterwards."""
    from robustcore.attacks import pgd_attack

    if eps < 0:
        raise ValueError(f"eps must be non-negative; got {eps}.")
    if device is not None:
        home = next(model.parameters()).device
        model.to(device)
        try:
            return pgd_accuracy(model, X.to(device), y.to(device), eps, norm, steps, restarts, seed, step_size)
        finally:
            model.to(home)

    if eps == 0:
        with torch.no_grad():
            return float((model(X).argmax(1) == y).float().mean())
    gen = torch.Generator().manual_seed(seed)
    ok = torch.ones(X.shape[0], dtype=torch.bool, device=X.device)
    with torch.no_grad():
        ok &= model(X).argmax(1) == y
    for k in range(restarts):
        loss = None if k % 2 == 0 else margin_loss
        xa = pgd_attack(model, X, y, eps, norm, steps, step_size=step_size, loss_fn=loss, generator=gen)
        with torch.no_grad():
            ok &= model(xa).argmax(1) == y
    return float(ok.float().mean())


def compare_models(
    eps_list: Sequence[float] = (0.05, 0.1, 0.2),
    l2_eps_list: Sequence[float] = (0.5, 1.0),
    kinds: Sequence[str] = MODEL_KINDS,
    overrides: dict[str, Any] | None = None,
    steps: int = 20,
    restarts: int = 3,
    store: Any = None,
    progress: ProgressFn | None = None,
    device: str = "cpu",
) -> list[dict[str, Any]]:
    """Train (or load) each model kind, then measure clean and PGD accuracy and certified radii.

    PGD accuracies (l-inf at `eps_list`, l2 at `l2_eps_list`, `restarts` restarts of `steps`
    steps) and certificate statistics are written to the results store as metrics of one run of
    kind "clustr-compare" per model ("pgd_linf@0.1", "pgd_l2@1", "clean_acc", "mean_feature_radius",
    "mean_input_radius", "lipschitz_bound", ...). Training and attacks run on `device`;
    certificates on the CPU. Returns one row (dict) per model.
    """
    from robustcore.store import ResultsStore

    overrides = dict(overrides or {})
    if any(e < 0 for e in [*eps_list, *l2_eps_list]):
        raise ValueError("Attack radii must be non-negative.")
    store = store if store is not None else ResultsStore()
    rows = []
    for i, kind in enumerate(kinds):
        cfg = model_config(kind, **overrides)

        def sub(frac: float, msg: str, i=i) -> None:
            if progress is not None:
                progress((i + 0.8 * frac) / len(kinds), msg)

        model, info = load_or_train(cfg, sub, device=device)
        Xt, yt = _data(cfg, "test")
        if progress is not None:
            progress((i + 0.8) / len(kinds), f"{kind}: attacking with PGD")
        row: dict[str, Any] = {"model": kind, "clean_acc": pgd_accuracy(model, Xt, yt, 0.0)}
        for e in eps_list:
            row[f"pgd_linf@{e:g}"] = pgd_accuracy(model, Xt, yt, float(e), "linf", steps, restarts, cfg["seed"],
                                                  device=device)
        for e in l2_eps_list:
            row[f"pgd_l2@{e:g}"] = pgd_accuracy(model, Xt, yt, float(e), "l2", steps, restarts, cfg["seed"],
                                                device=device)
        cert = certify_dataset(model, Xt)
        correct = cert["label"] == yt.numpy()
        row["mean_feature_radius"] = float(np.mean(cert["feature_radius"] * correct))
        row["mean_input_radius"] = float(np.mean(cert["input_radius"] * correct))
        row["median_input_radius"] = float(np.median(cert["input_radius"] * correct))
        row["lipschitz_bound"] = float(cert["lipschitz_bound"])
        run = store.start_run("clustr-compare", {**cfg, "steps": steps, "restarts": restarts})
        for name, value in row.items():
            if name != "model":
                store.add_metric(run, name, float(value), extra={"model": kind})
        store.finish_run(run)
        rows.append(row)
    if progress is not None:
        progress(1.0, "done")
    return rows
