"""ClusTR training (magnet loss; free adversarial training; QTRADES) and its comparison models.

Model kinds (one embedding architecture for all, an MLP by default):

* "clustr"         - magnet loss, no adversary (the paper's "adversary-free" ClusTR);
* "clustr-free"    - magnet loss with free adversarial training (Shafahi et al. 2019): each
                     mini-batch replayed `replays` times, delta carried across mini-batches, as in the
                     official code's ``--minibatch-replays``;
* "clustr-qtrades" - the official README's main recipe: start from the cross-entropy weights of the
                     same embedding ("ce" below, trained first and cached), then magnet loss +
                     `consistency_lambda` (8) x the QTRADES consistency term;
* "ce"             - the embedding plus a linear head, cross-entropy (same optimiser and schedule);
* "pgd-at"         - the same, PGD adversarial training (Madry et al.);
* "clustr-fgsm"    - ours, kept for comparison: magnet loss on FGSM-with-random-start examples.

Two recipes (``RECIPES``): "official" - the official code's hyper-parameters (alpha 12.5, batches
of m = 12 clusters x d = 20, Adam 1e-4, 90 epochs with steps at 30 and 60, K = 2, L = 20 at
evaluation, eps 8/255, QTRADES lambda 8 for 25 epochs) - and "ours" - a faster schedule for the
pages (alpha 1, 8 x 16, Adam 3e-3, 40 epochs). ``recipe_deviations(config)`` lists every setting in
which a config differs from the official recipe, with the reason.

Mini-batches follow the official batch builder: a seed cluster drawn in proportion to its mean
example loss (losses remembered per example), its m - 1 nearest clusters of other classes, up to d
examples from each without replacement; batch centres are batch means; the centres are re-fitted
by k-means on the whole training set once per epoch (ours: warm-started from the previous
centres, one run; official: fresh k-means++).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checks import MAX_RESTARTS, MAX_STEPS, check_choice, check_float, check_int, check_model, check_tensor
from .adversarial import ATTACKS, attack_accuracy, free_replays, qtrades_consistency
from .lipschitz import lipschitz_upper_bound
from .magnet import MagnetLoss
from .model import ClusterClassifier, make_embedding

__all__ = [
    "MODEL_KINDS",
    "CLUSTR_KINDS",
    "RECIPES",
    "DATASETS",
    "DEFAULT_CONFIG",
    "PAGE_CONFIG",
    "model_config",
    "recipe_deviations",
    "config_summary",
    "build_model",
    "train_model",
    "load_or_train",
    "default_clustr_model",
    "page_model",
    "page_model_is_cached",
    "model_cache_path",
    "margin_loss",
    "pgd_accuracy",
    "linear_head_radius",
    "certify_dataset",
    "compare_models",
    "evaluate_both_attacks",
]

ProgressFn = Callable[[float, str], None]

MODEL_KINDS = ("clustr", "clustr-free", "clustr-qtrades", "ce", "pgd-at", "clustr-fgsm")
CLUSTR_KINDS = ("clustr", "clustr-free", "clustr-qtrades", "clustr-fgsm")

_SHAPES = {"digits": (1, 8, 8), "mnist-5k": (1, 28, 28), "mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
DATASETS = tuple(_SHAPES)
# embedding MLP per data set (hidden widths, feature dimension) unless overridden
_ARCH = {"digits": ([64, 64], 16), "mnist-5k": ([256, 128], 32), "mnist": ([256, 128], 32),
         "cifar10": ([512, 256], 64)}
MAX_EPOCHS = 1000

DEFAULT_CONFIG: dict[str, Any] = {
    "recipe": "ours",
    "dataset": "digits",
    "data_root": "",
    "limit": 0,  # folder data sets: use only the first `limit` training images (0 = all)
    "feature_dim": 16,
    "hidden": [64, 64],
    "k_per_class": 2,
    "epochs": 40,
    "lr": 3e-3,
    "milestones": [],  # epochs at which the learning rate is multiplied by lr_gamma
    "lr_gamma": 0.1,
    "alpha": 1.0,
    "m_clusters": 8,
    "d_per_cluster": 16,
    "L": 20,  # nearest clusters in the soft scores (QTRADES and the official evaluation)
    "train_eps": 0.1,  # l-inf, pixels in [0, 1]; for the adversarial kinds
    "replays": 4,  # free AT minibatch replays m
    "consistency_lambda": 8.0,  # QTRADES
    "qtrades_step": 10 / 255,  # QTRADES attack step (official alpha=10/255)
    "pgd_train_steps": 7,
    "batch_size": 64,  # for the cross-entropy models
    "schedule_scale": 1.0,  # multiplies the recipe's epochs and milestones (a shortened schedule, stated)
    "seed": 0,
}

# The official code's settings (utils/train_settings.py, README). Per-kind changes in _OFFICIAL_KIND.
_OFFICIAL: dict[str, Any] = {
    "recipe": "official", "k_per_class": 2, "epochs": 90, "lr": 1e-4, "milestones": [30, 60], "lr_gamma": 0.1,
    "alpha": 12.5, "m_clusters": 12, "d_per_cluster": 20, "L": 20, "train_eps": 8 / 255, "replays": 8,
    "consistency_lambda": 8.0, "qtrades_step": 10 / 255, "batch_size": 240,
}
_OFFICIAL_KIND: dict[str, dict[str, Any]] = {
    # README: "--epochs 25 --consistency-lambda 8" from the cross-entropy weights (milestones 30/60 never reached)
    "clustr-qtrades": {"epochs": 25},
    # the official code leaves m and the epochs to the command line; we use Shafahi et al.'s m = 8 and divide the
    # 90-epoch schedule by m, so free AT costs as many gradient steps as natural training
    "clustr-free": {"epochs": 12, "milestones": [4, 8]},
}
_OURS_KIND: dict[str, dict[str, Any]] = {"clustr-qtrades": {"epochs": 15}, "clustr-free": {"epochs": 10, "milestones": []}}
RECIPES: dict[str, dict[str, Any]] = {"official": _OFFICIAL, "ours": {k: DEFAULT_CONFIG[k] for k in _OFFICIAL}}
RECIPES["ours"]["recipe"] = "ours"

# The page's model: a 2-D embedding so that centres, Voronoi cells and certified circles are
# drawn exactly, without a projection (recipe "ours": it trains in seconds).
PAGE_CONFIG: dict[str, Any] = {**DEFAULT_CONFIG, "feature_dim": 2, "epochs": 60}

_INT_KEYS = {"limit": (0, 10_000_000), "feature_dim": (1, 4096), "k_per_class": (1, 10), "epochs": (0, MAX_EPOCHS),
             "m_clusters": (2, 1000), "d_per_cluster": (2, 10_000), "L": (1, 4096), "replays": (1, 100),
             "pgd_train_steps": (1, 1000), "batch_size": (1, 100_000), "seed": (0, 2**31 - 1)}
_FLOAT_KEYS = {"lr": (0.0, 10.0), "lr_gamma": (0.0, 1.0), "alpha": (0.0, 1000.0), "train_eps": (0.0, 1.0),
               "consistency_lambda": (0.0, 1000.0), "qtrades_step": (0.0, 1.0), "schedule_scale": (0.0, 1.0)}


def _check_config_values(cfg: dict[str, Any]) -> None:
    for k, (lo, hi) in _INT_KEYS.items():
        cfg[k] = check_int(k, cfg[k], lo, hi)
    for k, (lo, hi) in _FLOAT_KEYS.items():
        cfg[k] = check_float(k, cfg[k], lo, hi)
    if cfg["lr"] <= 0:
        raise ValueError(f"lr must be > 0; got {cfg['lr']}.")
    if cfg["schedule_scale"] <= 0:
        raise ValueError(f"schedule_scale must be > 0; got {cfg['schedule_scale']}.")
    if isinstance(cfg["hidden"], (str, bytes)) or not isinstance(cfg["hidden"], (list, tuple)) or len(cfg["hidden"]) > 8:
        raise ValueError("hidden must be a list of at most 8 layer widths.")
    cfg["hidden"] = [check_int(f"hidden[{i}]", h, 1, 8192) for i, h in enumerate(cfg["hidden"])]
    if isinstance(cfg["milestones"], (str, bytes)) or not isinstance(cfg["milestones"], (list, tuple)):
        raise ValueError("milestones must be a list of epochs.")
    cfg["milestones"] = sorted(check_int("milestones", m, 1, MAX_EPOCHS) for m in cfg["milestones"])
    if not isinstance(cfg["data_root"], str):
        raise TypeError("data_root must be a string (a folder).")
    check_choice("dataset", cfg["dataset"], DATASETS)
    check_choice("recipe", cfg["recipe"], tuple(RECIPES))


def model_config(kind: str = "clustr", recipe: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A full, validated config for model `kind` under `recipe` ("official" or "ours") with overrides.

    Parameters
    ----------
    kind : one of MODEL_KINDS.
    recipe : "official" (the official code's hyper-parameters) or "ours" (default; fast).
    **overrides : any key of DEFAULT_CONFIG (a shortened schedule, a data set, a seed ...); each
        override of a recipe value is listed by ``recipe_deviations``.

    Raises ValueError / TypeError with one sentence for an unknown kind, recipe, key or a value out
    of range, before anything is built.
    """
    check_choice("kind", kind, MODEL_KINDS)
    if recipe is None:
        recipe = overrides.pop("recipe", "ours")
    else:
        overrides.pop("recipe", None)
    check_choice("recipe", recipe, tuple(RECIPES))
    unknown = set(overrides) - set(DEFAULT_CONFIG)
    if unknown:
        raise ValueError(f"Unknown config keys: {', '.join(sorted(unknown))}.")
    dataset = overrides.get("dataset", DEFAULT_CONFIG["dataset"])
    check_choice("dataset", dataset, DATASETS)
    hidden, dim = _ARCH[dataset]
    base = {**DEFAULT_CONFIG, "hidden": list(hidden), "feature_dim": dim}
    if recipe == "official":
        base.update(_OFFICIAL)
        base.update(_OFFICIAL_KIND.get(kind, {}))
    else:
        base.update(_OURS_KIND.get(kind, {}))
    if kind in ("ce", "pgd-at") and recipe == "official":
        # the official code loads pretrained cross-entropy weights without their recipe: we train the linear-head
        # model with Adam 1e-3 (1e-4 leaves an MLP under-trained on a shortened schedule) on ClusTR's schedule
        # and batch size
        base["batch_size"] = base["m_clusters"] * base["d_per_cluster"]
        base["lr"] = 1e-3
    cfg = {**base, **overrides, "kind": kind, "recipe": recipe}
    _check_config_values(cfg)
    scale = cfg["schedule_scale"]
    if scale != 1.0:
        if "epochs" not in overrides:
            cfg["epochs"] = max(1, int(round(base["epochs"] * scale)))
        if "milestones" not in overrides:
            cfg["milestones"] = sorted({max(1, int(round(m_ * scale))) for m_ in base["milestones"]})
    if cfg["dataset"] in ("mnist", "cifar10") and not cfg["data_root"]:
        raise ValueError(f"The {cfg['dataset']} data set needs a data folder (data_root); nothing is downloaded.")
    cfg["input_shape"] = list(_SHAPES[cfg["dataset"]])
    cfg["num_classes"] = 10
    if cfg["L"] > cfg["num_classes"] * cfg["k_per_class"]:
        cfg["L"] = cfg["num_classes"] * cfg["k_per_class"]
    if cfg["m_clusters"] > cfg["num_classes"] * cfg["k_per_class"]:
        raise ValueError(f"m_clusters ({cfg['m_clusters']}) must be at most the number of clusters "
                         f"({cfg['num_classes'] * cfg['k_per_class']}).")
    if cfg["m_clusters"] > (cfg["num_classes"] - 1) * cfg["k_per_class"] + 1:
        raise ValueError("m_clusters - 1 impostor clusters must exist in the other classes.")
    return cfg


_WHY = {
    "schedule_scale": "epochs and milestones scaled down (compute budget)",
    "epochs": "shorter schedule (compute budget)", "milestones": "schedule scaled with the epochs",
    "lr": "larger step for the shorter schedule", "alpha": "smaller margin (ours)",
    "m_clusters": "smaller magnet batches (ours)", "d_per_cluster": "smaller magnet batches (ours)",
    "train_eps": "training radius matched to the data set", "replays": "fewer free-AT replays (ours)",
    "batch_size": "cross-entropy batch size (ours)", "k_per_class": "clusters per class",
}
_RELEVANT = {
    "clustr": ("schedule_scale", "k_per_class", "epochs", "lr", "milestones", "lr_gamma", "alpha", "m_clusters", "d_per_cluster", "L"),
    "ce": ("schedule_scale", "epochs", "lr", "milestones", "lr_gamma", "batch_size"),
}
_RELEVANT["clustr-free"] = _RELEVANT["clustr"] + ("train_eps", "replays")
_RELEVANT["clustr-qtrades"] = _RELEVANT["clustr"] + ("train_eps", "consistency_lambda", "qtrades_step")
_RELEVANT["clustr-fgsm"] = _RELEVANT["clustr"] + ("train_eps",)
_RELEVANT["pgd-at"] = _RELEVANT["ce"] + ("train_eps", "pgd_train_steps")


def recipe_deviations(config: dict[str, Any]) -> list[str]:
    """Every setting of `config` that differs from the official recipe for its kind, as one line each
    ("alpha 1 (official 12.5): smaller margin (ours)"). Empty when the config is the official recipe."""
    if not isinstance(config, dict) or "kind" not in config:
        raise TypeError("config must be a dict made by model_config.")
    kind = check_choice("kind", config["kind"], MODEL_KINDS)
    official = model_config(kind, "official", dataset=config.get("dataset", "digits"),
                            data_root=config.get("data_root", "") or ("x" if config.get("dataset") in ("mnist", "cifar10") else ""))
    out = []
    for k in _RELEVANT[kind]:
        mine, ref = config.get(k), official.get(k)
        if isinstance(mine, float) or isinstance(ref, float):
            same = mine is not None and ref is not None and math.isclose(float(mine), float(ref), rel_tol=1e-9)
        else:
            same = mine == ref
        if not same:
            out.append(f"{k} {_fmt(mine)} (official {_fmt(ref)}): {_WHY.get(k, 'ours')}")
    if kind == "clustr-fgsm":
        out.append("FGSM with random start (ours) instead of free adversarial training")
    if kind in ("ce", "pgd-at"):
        out.append("the official code ships pretrained cross-entropy weights without their recipe; its 'official' "
                   "baseline here is Adam 1e-3 on ClusTR's schedule and batch size (ours)")
    if kind == "clustr-qtrades":
        out.append("starts from our cross-entropy weights of the same embedding (official: their pretrained ResNet-18)")
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        k = v * 255
        if 0 < v < 1 and abs(k - round(k)) < 1e-9 and round(k) <= 32 and len(f"{v:g}") > 5:
            return f"{int(round(k))}/255"
        return f"{v:g}"
    if isinstance(v, list):
        return "[" + ", ".join(map(_fmt, v)) + "]" if v else "none"
    return str(v)


def config_summary(config: dict[str, Any]) -> str:
    """One line describing a run's configuration (kind, recipe, data, architecture, optimiser, loss)."""
    if not isinstance(config, dict) or "kind" not in config:
        raise TypeError("config must be a dict made by model_config.")
    c = config
    arch = f"MLP {'-'.join(map(str, [int(np.prod(c['input_shape'])), *c['hidden'], c['feature_dim']]))}"
    opt = f"Adam {_fmt(c['lr'])} x {c['epochs']} ep" + (f", x{_fmt(c['lr_gamma'])} at {_fmt(c['milestones'])}"
                                                        if c["milestones"] else "")
    if c["kind"] in CLUSTR_KINDS:
        loss = (f"magnet alpha {_fmt(c['alpha'])}, K {c['k_per_class']}, batches {c['m_clusters']}x"
                f"{c['d_per_cluster']}")
    else:
        loss = f"cross-entropy, batch {c['batch_size']}"
    extra = {"clustr-free": f"; free AT eps {_fmt(c['train_eps'])}, m {c['replays']}",
             "clustr-qtrades": f"; QTRADES from CE weights, lambda {_fmt(c['consistency_lambda'])}, eps "
                               f"{_fmt(c['train_eps'])}, step {_fmt(c['qtrades_step'])}",
             "clustr-fgsm": f"; FGSM-RS eps {_fmt(c['train_eps'])}",
             "pgd-at": f"; PGD-AT eps {_fmt(c['train_eps'])}, {c['pgd_train_steps']} steps"}.get(c["kind"], "")
    return f"{c['kind']} [{c['recipe']}] on {c['dataset']} (seed {c['seed']}): {arch}; {opt}; {loss}{extra}"


def _data(config: dict[str, Any], split: str) -> tuple[torch.Tensor, torch.Tensor]:
    name = config.get("dataset", "digits")
    if name in ("digits", "mnist-5k"):
        try:
            from robustcore.data import load_dataset
        except ImportError:
            load_dataset = None
        limit = int(config.get("limit") or 0)
        if load_dataset is not None:
            X, y = load_dataset(name, split)
        elif name == "digits":
            from robustcore.data import load_digits

            X, y = load_digits(split)
        else:
            raise ValueError("the mnist-5k data set is not available in this installation (robustcore.data.load_dataset).")
        if split == "train" and 0 < limit < X.shape[0]:
            # every k-th image: the bundled splits are sorted by class, so a prefix would drop classes
            idx = torch.arange(limit) * X.shape[0] // limit
            X, y = X[idx], y[idx]
        return X, y
    from robustcore.data import dataset_to_tensors, load_vision_dataset

    ds = load_vision_dataset(name, config["data_root"], train=(split == "train"))
    limit = int(config.get("limit") or 0) or None
    return dataset_to_tensors(ds, limit if split == "train" else (None if limit is None else max(limit // 5, 500)))


def _check_config(config: Any) -> dict[str, Any]:
    """Re-validate a config made by ``model_config`` (a stored or hand-edited one): same keys, same ranges."""
    if not isinstance(config, dict) or "kind" not in config:
        raise TypeError("config must be a dict made by model_config.")
    derived = ("kind", "recipe", "input_shape", "num_classes")
    model_config(config["kind"], config.get("recipe", "ours"), **{k: v for k, v in config.items() if k not in derived})
    return config


def build_model(config: dict[str, Any]) -> nn.Module:
    """Untrained model for `config` (a ClusterClassifier, or embedding + linear head for "ce"/"pgd-at")."""
    _check_config(config)
    torch.manual_seed(int(config.get("seed", 0)))
    shape = tuple(config.get("input_shape", (1, 8, 8)))
    n_classes = int(config.get("num_classes", 10))
    emb = make_embedding(shape, int(config["feature_dim"]), tuple(config["hidden"]))
    if config["kind"] in CLUSTR_KINDS:
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


def _scheduler(opt: torch.optim.Optimizer, config: dict[str, Any]):
    if not config.get("milestones"):
        return None
    return torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(config["milestones"]),
                                                gamma=float(config["lr_gamma"]))


def _init_from_ce(model: ClusterClassifier, config: dict[str, Any], progress: ProgressFn | None,
                  device: str) -> None:
    """Copy the embedding of the cached cross-entropy model with the same data, architecture and seed."""
    keep = {k: config[k] for k in ("dataset", "data_root", "limit", "feature_dim", "hidden", "seed", "schedule_scale")}
    ce_cfg = model_config("ce", config["recipe"], **keep)

    def sub(frac: float, msg: str) -> None:
        if progress is not None:
            progress(0.4 * frac, "cross-entropy start: " + msg)

    ce, _ = load_or_train(ce_cfg, sub, device=device)
    model.embedding.load_state_dict(ce[0].state_dict())


def _train_clustr(model: ClusterClassifier, X: torch.Tensor, y: torch.Tensor, config: dict[str, Any],
                  progress: ProgressFn | None) -> dict[str, float]:
    seed = int(config["seed"])
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    kind = config["kind"]
    loss_fn = MagnetLoss(float(config["alpha"]))
    opt = torch.optim.Adam(model.embedding.parameters(), lr=float(config["lr"]))
    sched = _scheduler(opt, config)
    m, d = int(config["m_clusters"]), int(config["d_per_cluster"])
    K, C = model.k_per_class, model.num_classes
    M = K * C
    eps = float(config["train_eps"])
    L = int(config["L"])
    lam = float(config["consistency_lambda"])
    assign = model.refresh_centers(X, y, seed=seed)
    members = [np.nonzero(assign == k)[0] for k in range(M)]
    example_loss = np.zeros(X.shape[0])
    has_loss = np.zeros(X.shape[0], dtype=bool)
    cluster_loss = np.zeros(M)
    labels_of = model.center_labels.cpu().numpy()
    n_batches = max(1, math.ceil(X.shape[0] / (m * d)))
    epochs = int(config["epochs"])
    prefix = 0.4 if kind == "clustr-qtrades" else 0.0
    delta = None
    last = float("nan")
    for epoch in range(epochs):
        model.train()
        centers = model.centers.detach().cpu().numpy()
        cdist = np.linalg.norm(centers[:, None] - centers[None], axis=2)
        running = []
        for _ in range(n_batches):
            tot = cluster_loss.sum()
            p = cluster_loss / tot if tot > 0 else None
            seed_c = int(rng.choice(M, p=p))
            others = np.nonzero(labels_of != labels_of[seed_c])[0]
            imp = others[np.argsort(cdist[seed_c, others], kind="stable")[: m - 1]]
            idx, cl = [], []
            for k in (seed_c, *imp.tolist()):
                pool = members[k]
                if pool.size == 0:
                    continue
                take = rng.choice(pool, size=min(d, pool.size), replace=False)
                idx.append(take)
                cl.append(np.full(take.size, k))
            idx_np, cl_np = np.concatenate(idx), np.concatenate(cl)
            idx_t = torch.as_tensor(idx_np, device=X.device)
            cl_t = torch.as_tensor(cl_np, device=X.device)
            xb, yb = X[idx_t], y[idx_t]
            if kind == "clustr-free":
                if delta is not None and delta.shape != xb.shape:  # a smaller last cluster: keep what fits
                    keep = torch.zeros_like(xb)
                    r = min(delta.shape[0], xb.shape[0])
                    keep[:r] = delta[:r]
                    delta = keep
                delta, per = free_replays(model, opt, loss_fn, xb, yb, cl_t, delta, eps, int(config["replays"]))
                loss_value = float(per.mean())
            else:
                if kind == "clustr-fgsm":
                    xb = _fgsm_rs(lambda z: loss_fn(model.embed(z), yb, cl_t), xb, eps, gen)
                per = loss_fn(model.embed(xb), yb, cl_t, reduction="none")
                loss = per.mean()
                if kind == "clustr-qtrades" and lam > 0:
                    loss = loss + lam * qtrades_consistency(model, xb, eps, float(config["qtrades_step"]), L, gen)
                opt.zero_grad()
                loss.backward()
                opt.step()
                loss_value = float(loss.detach())
            running.append(loss_value)
            # per-example losses drive the seed-cluster sampling (the official batch builder)
            example_loss[idx_np] = per.detach().cpu().numpy()
            has_loss[idx_np] = True
            for k in np.unique(cl_np):
                mk = members[k]
                seen = has_loss[mk]
                cluster_loss[k] = example_loss[mk][seen].mean() if seen.any() else 0.0
        last = float(np.mean(running))
        if not math.isfinite(last):
            raise ValueError(f"training diverged (loss {last}) in epoch {epoch + 1}; lower the learning rate.")
        assign = model.refresh_centers(X, y, seed=seed, warm_start=epoch < epochs - 1)
        members = [np.nonzero(assign == k)[0] for k in range(M)]
        for k in range(M):
            seen = has_loss[members[k]]
            cluster_loss[k] = example_loss[members[k]][seen].mean() if seen.any() else 0.0
        if sched is not None:
            sched.step()
        if progress is not None:
            progress(prefix + (1 - prefix) * (epoch + 1) / max(epochs, 1),
                     f"{kind}: epoch {epoch + 1}/{epochs}, loss {last:.3f}")
    if epochs == 0:
        model.refresh_centers(X, y, seed=seed)
    model.eval()
    return {"train_loss": last}


def _train_ce(model: nn.Module, X: torch.Tensor, y: torch.Tensor, config: dict[str, Any],
              progress: ProgressFn | None) -> dict[str, float]:
    from robustcore.attacks import pgd_attack

    seed = int(config["seed"])
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=float(config["lr"]))
    sched = _scheduler(opt, config)
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
        if not math.isfinite(last):
            raise ValueError(f"training diverged (loss {last}) in epoch {epoch + 1}; lower the learning rate.")
        if sched is not None:
            sched.step()
        if progress is not None:
            progress((epoch + 1) / max(epochs, 1), f"{config['kind']}: epoch {epoch + 1}/{epochs}, loss {last:.3f}")
    model.eval()
    return {"train_loss": last}


def _check_device(device: Any) -> str:
    from robustcore.devices import resolve_device

    return resolve_device(device)


def train_model(model: nn.Module, config: dict[str, Any], progress: ProgressFn | None = None,
                device: str = "cpu") -> dict[str, float]:
    """Train `model` (from `build_model(config)`) in place on the config's training split.

    Training runs on `device` ("cpu", "cuda", ...); the model is returned on the CPU. "clustr-qtrades"
    first loads (or trains and caches) the cross-entropy model of the same embedding and copies it.
    Returns metrics: train_loss, clean test accuracy `test_acc` (nearest-centre rule for ClusTR),
    `test_acc_soft` (soft rule, L nearest clusters) for ClusTR, and `seconds`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module; got {type(model).__name__}.")
    _check_config(config)
    device = _check_device(device)
    t0 = time.perf_counter()
    X, y = _data(config, "train")
    if isinstance(model, ClusterClassifier) and config["kind"] == "clustr-qtrades":
        _init_from_ce(model, config, progress, device)
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
            metrics["test_acc_soft"] = float((model.predict(Xt, rule="soft", L=int(config["L"])) == yt).float().mean())
    metrics["seconds"] = time.perf_counter() - t0
    return metrics


def load_or_train(config: dict[str, Any], progress: ProgressFn | None = None, retrain: bool = False,
                  device: str = "cpu") -> tuple[nn.Module, dict]:
    """The trained model for `config` from the on-disk cache (`robustcore.nets.cached_model`);
    trained on `device` when missing (the device is not part of the cache key). Returned on the CPU."""
    from robustcore.nets import cached_model

    _check_config(config)
    device = _check_device(device)

    def train(model: nn.Module, cfg: dict[str, Any], prog: ProgressFn | None) -> dict[str, float]:
        return train_model(model, cfg, prog, device=device)

    return cached_model(f"clustr-{config['kind']}", config, build_model, train, progress=progress, retrain=retrain)


def default_clustr_model(progress: ProgressFn | None = None, dataset: str = "digits") -> ClusterClassifier:
    """The default ClusTR model (recipe "ours", K = 2) for "digits" or "mnist-5k", trained on first use
    and cached."""
    check_choice("dataset", dataset, ("digits", "mnist-5k"))
    model, _ = load_or_train(model_config("clustr", dataset=dataset), progress)
    return model


def model_cache_path(config: dict[str, Any]) -> Path:
    """Where `load_or_train` keeps the trained model for `config` (the file may not exist yet)."""
    from robustcore.nets.cache import cached_model_path

    _check_config(config)
    return cached_model_path(f"clustr-{config['kind']}", config)


def _page_config(dataset: str) -> dict[str, Any]:
    check_choice("dataset", dataset, ("digits", "mnist-5k"))
    return model_config("clustr", feature_dim=2, epochs=PAGE_CONFIG["epochs"], dataset=dataset)


def page_model(progress: ProgressFn | None = None, dataset: str = "digits") -> ClusterClassifier:
    """The page's ClusTR model with a 2-D embedding ("digits" or "mnist-5k"; trained on first use, cached)."""
    model, _ = load_or_train(_page_config(dataset), progress)
    return model


def page_model_is_cached(dataset: str = "digits") -> bool:
    """Whether `page_model(dataset=dataset)` loads from the disk cache instead of training."""
    return model_cache_path(_page_config(dataset)).exists()


def linear_head_radius(model: nn.Sequential, X: torch.Tensor) -> dict[str, np.ndarray | float]:
    """Certificate of an embedding + linear-head model (for the comparison table).

    In feature space the decision argmax_c (w_c . r + b_c) is unchanged for ||Delta|| <
    min_{j != c} ((w_c - w_j) . r + b_c - b_j) / ||w_c - w_j|| (exact: distance to the nearest
    facet of a convex polyhedron); divided by the embedding's Lipschitz upper bound it is a
    sound input radius. Returns label, feature_radius, input_radius, lipschitz_bound.
    """
    if not isinstance(model, nn.Sequential) or len(model) != 2 or not isinstance(model[1], nn.Linear):
        raise TypeError("model must be nn.Sequential(embedding, nn.Linear) (a linear-head model).")
    X = check_tensor("X", X, ndim_min=2)
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
    """Accuracy under PGD on the model's logits (nearest-centre logits for ClusTR): an example counts
    as robust only if no restart (cross-entropy and margin losses alternately) finds an adversarial
    example. An upper bound on true robust accuracy, not a certificate.

    `device` (default: the model's) runs the attack there; the model is moved back afterwards."""
    from robustcore.attacks import pgd_attack

    check_model("model", model, nn.Module)
    X = check_tensor("X", X, ndim_min=2)
    if X.shape[0] == 0:
        raise ValueError("X must hold at least one input.")
    from ._checks import check_labels

    y = check_labels("y", y, X.shape[0])
    eps = check_float("eps", eps, 0.0, 1e6)
    check_choice("norm", norm, ("linf", "l2"))
    steps = check_int("steps", steps, 1, MAX_STEPS)
    restarts = check_int("restarts", restarts, 1, MAX_RESTARTS)
    seed = check_int("seed", seed, 0, 2**63 - 1)
    if step_size is not None:
        step_size = check_float("step_size", step_size, 0.0, 1e6, lo_open=True)
    if device is not None:
        device = _check_device(device)
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


def evaluate_both_attacks(model: nn.Module, X: torch.Tensor, y: torch.Tensor, eps_list: Sequence[float],
                          steps: int = 20, restarts: int = 10, L: int = 20, seed: int = 0,
                          attacks: Sequence[str] = ("official", "ours"), device: str = "cpu") -> dict[str, float]:
    """Clean accuracy under each decision rule and l-inf PGD accuracy under each attack at each eps.

    Returns a dict with "clean (soft)" (the official rule: soft top-L scores), "clean (nearest)" (the
    certified nearest-centre rule) and "<attack>@<eps>" for every attack in `attacks` (see
    ``robustcore.clustr.adversarial``). For linear-head models both clean entries are the argmax.
    """
    device = _check_device(device)
    if isinstance(eps_list, (str, bytes)) or not isinstance(eps_list, (list, tuple)):
        raise TypeError("eps_list must be a list of radii.")
    eps_list = [check_float("eps", e, 0.0, 1.0) for e in eps_list]
    for a in attacks:
        check_choice("attack", a, ATTACKS)
    model.to(device)
    Xd, yd = X.to(device), y.to(device)
    try:
        with torch.no_grad():
            if isinstance(model, ClusterClassifier):
                soft = float((model.soft_scores(Xd, L).argmax(1) == yd).float().mean())
                near = float((model(Xd).argmax(1) == yd).float().mean())
            else:
                soft = near = float((model(Xd).argmax(1) == yd).float().mean())
        out = {"clean (soft)": soft, "clean (nearest)": near}
        for e in eps_list:
            for a in attacks:
                out[f"{a}@{e:.4g}"] = attack_accuracy(model, Xd, yd, e, a, steps, restarts, L=L, seed=seed)
    finally:
        model.to("cpu")
    return out


def compare_models(
    eps_list: Sequence[float] = (2 / 255, 8 / 255, 16 / 255, 0.1),
    l2_eps_list: Sequence[float] = (),
    kinds: Sequence[str] = ("clustr", "clustr-free", "clustr-qtrades", "ce"),
    overrides: dict[str, Any] | None = None,
    steps: int = 20,
    restarts: int = 10,
    store: Any = None,
    progress: ProgressFn | None = None,
    device: str = "cpu",
    recipe: str = "official",
) -> list[dict[str, Any]]:
    """Train (or load) each model kind, then measure clean accuracy, l-inf PGD accuracy under BOTH the
    official attack (CE on soft exp-scores, step 2/255) and ours (margin on the nearest-centre logits)
    at each eps, optional l2 PGD ("pgd_l2@eps", ours), and the certified radii.

    Every metric is written to the results store as one run of kind "clustr-compare" per model
    (config = the model's full config + attack settings). Training and attacks run on `device`;
    certificates on the CPU. Returns one row (dict) per model, with its "config" summary line and
    its "deviations" from the official recipe.
    """
    from robustcore.store import ResultsStore

    overrides = dict(overrides or {})
    if isinstance(kinds, str) or not kinds:
        raise ValueError("kinds must be a non-empty list of model kinds.")
    for k in kinds:
        check_choice("kind", k, MODEL_KINDS)
    for e in [*eps_list, *l2_eps_list]:
        check_float("attack radius", e, 0.0, 1e3)
    steps = check_int("steps", steps, 1, MAX_STEPS)
    restarts = check_int("restarts", restarts, 1, MAX_RESTARTS)
    device = _check_device(device)
    cfgs = [model_config(kind, recipe, **overrides) for kind in kinds]  # all validated before any training
    store = store if store is not None else ResultsStore()
    rows = []
    for i, (kind, cfg) in enumerate(zip(kinds, cfgs)):

        def sub(frac: float, msg: str, i=i) -> None:
            if progress is not None:
                progress((i + 0.8 * frac) / len(kinds), msg)

        model, info = load_or_train(cfg, sub, device=device)
        Xt, yt = _data(cfg, "test")
        if progress is not None:
            progress((i + 0.8) / len(kinds), f"{kind}: attacking with PGD (official and ours)")
        row: dict[str, Any] = {"model": kind}
        row.update(evaluate_both_attacks(model, Xt, yt, [e for e in eps_list if e <= 1.0], steps, restarts,
                                         L=int(cfg["L"]), seed=int(cfg["seed"]), device=device))
        for e in l2_eps_list:
            row[f"pgd_l2@{e:g}"] = pgd_accuracy(model, Xt, yt, float(e), "l2", steps, restarts, cfg["seed"],
                                                device=device)
        cert = certify_dataset(model, Xt)
        correct = cert["label"] == yt.numpy()
        row["mean_feature_radius"] = float(np.mean(cert["feature_radius"] * correct))
        row["mean_input_radius"] = float(np.mean(cert["input_radius"] * correct))
        row["lipschitz_bound"] = float(cert["lipschitz_bound"])
        run = store.start_run("clustr-compare", {**cfg, "steps": steps, "restarts": restarts})
        for name, value in row.items():
            if name != "model":
                store.add_metric(run, name, float(value), extra={"model": kind, "config": config_summary(cfg)})
        store.finish_run(run)
        row["config"] = config_summary(cfg)
        row["deviations"] = recipe_deviations(cfg)
        rows.append(row)
    if progress is not None:
        progress(1.0, "done")
    return rows
