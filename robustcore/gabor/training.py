"""The paper's experiment at small scale: standard vs Gabor vs Gabor + regulariser, under PGD.

Three variants of one small CNN (``robustcore.nets.DigitsCNN`` on 8x8 digits, or a small CIFAR-10
CNN when a data folder is given) differ only in the first layer:

* ``"standard"``: a 3x3 convolution;
* ``"gabor"``: :class:`GaborConv2d` (learnable Gabor bank, ReLU, 1 x 1 mixing);
* ``"gabor-reg"``: the same, trained with a Lipschitz regulariser (the paper's
  ``-beta sum sigma^2`` by default, or the closed-form bound itself).

Each is trained once and cached (``robustcore.nets.cached_model``); clean accuracy and accuracy
under PGD (l-inf and l2, several radii, ``robustcore.attacks``) are stored as metrics of one run
of kind ``"gabor-robustness"`` in ``robustcore.store.ResultsStore``. PGD accuracy is an *upper*
bound on the true robust accuracy (an attack, not a certificate).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import torch
from torch import nn

from .layer import GaborConv2d
from .regularizer import REGULARIZERS, make_regularizer

__all__ = [
    "VARIANTS",
    "DEFAULT_EPS",
    "RUN_KIND",
    "CifarCNN",
    "variant_config",
    "build_variant",
    "train_variant",
    "trained_variant",
    "robustness_metrics",
    "run_comparison",
    "stored_comparison",
    "first_layer_lipschitz",
    "comparison_table",
]

ProgressFn = Callable[[float, str], None]
VARIANTS = ("standard", "gabor", "gabor-reg")
RUN_KIND = "gabor-robustness"
#: PGD radii: l-inf scaled to 8x8 digits in [0, 1] (the paper's 2/255, 8/255 are for CIFAR), and l2.
DEFAULT_EPS = {
    "digits": {"linf": [0.05, 0.1, 0.2], "l2": [0.25, 0.5, 1.0]},
    "cifar10": {"linf": [1 / 255, 2 / 255, 8 / 255], "l2": [0.1, 0.25, 0.5]},
}


class CifarCNN(nn.Module):
    """A small CNN for (n, 3, 32, 32) images: first layer (16 maps) -> ReLU -> conv 32 -> pool ->
    conv 64 -> pool -> Linear(64*8*8, 128) -> ReLU -> Linear(128, 10)."""

    def __init__(self, num_classes: int = 10, first_layer: nn.Module | None = None, first_channels: int = 16):
        super().__init__()
        self.first = first_layer if first_layer is not None else nn.Conv2d(3, first_channels, 3, padding=1)
        self.rest = nn.Sequential(
            nn.ReLU(), nn.Conv2d(first_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(64 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rest(self.first(x))


def variant_config(
    variant: str,
    data: str = "digits",
    root: str | None = None,
    limit: int | None = None,
    epochs: int = 30,
    lr: float = 3e-3,
    batch_size: int = 64,
    seed: int = 0,
    kernel_size: int = 5,
    families: int = 2,
    orientations: int = 8,
    reg_kind: str = "paper",
    beta: float = 5e-2,
) -> dict[str, Any]:
    """The full JSON config of one variant (everything that determines the trained model).

    Raises ``ValueError`` for an unknown variant, data set or regulariser, or absurd settings.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}.")
    if data not in DEFAULT_EPS:
        raise ValueError(f"unknown data set {data!r}; choose 'digits' or 'cifar10'.")
    if data == "cifar10" and not root:
        raise ValueError("CIFAR-10 needs the folder that holds it (root=...).")
    if not (1 <= int(epochs) <= 1000) or not (0 < lr < 1) or not (1 <= batch_size <= 4096):
        raise ValueError("epochs must be in 1..1000, lr in (0, 1) and batch_size in 1..4096.")
    if reg_kind not in REGULARIZERS or not (0 <= beta < 1e3):
        raise ValueError(f"reg_kind must be one of {REGULARIZERS} and beta in [0, 1000).")
    cfg: dict[str, Any] = {"variant": variant, "data": data, "epochs": int(epochs), "lr": float(lr),
                           "batch_size": int(batch_size), "seed": int(seed)}
    if data == "cifar10":
        cfg.update(root=str(root), limit=None if limit is None else int(limit))
    if variant != "standard":
        cfg.update(kernel_size=int(kernel_size), families=int(families), orientations=int(orientations))
    if variant == "gabor-reg":
        cfg.update(reg_kind=reg_kind, beta=float(beta))
    return cfg


def build_variant(config: dict[str, Any]) -> nn.Module:
    """Untrained network of a variant config (seeded by ``config["seed"]``)."""
    from robustcore.nets import DigitsCNN

    torch.manual_seed(int(config["seed"]))
    in_ch = 3 if config["data"] == "cifar10" else 1
    first = None
    if config["variant"] != "standard":
        first = GaborConv2d(in_ch, 16, config["kernel_size"], orientations=config["orientations"],
                            families=config["families"], seed=config["seed"])
    if config["data"] == "cifar10":
        return CifarCNN(first_layer=first)
    return DigitsCNN(first_layer=first)


def _data(config: dict[str, Any], split: str) -> tuple[torch.Tensor, torch.Tensor]:
    if config["data"] == "digits":
        from robustcore.data import load_digits

        return load_digits(split)
    from robustcore.data import dataset_to_tensors, load_vision_dataset

    ds = load_vision_dataset("cifar10", config["root"], train=(split == "train"))
    lim = config.get("limit")
    return dataset_to_tensors(ds, limit=None if lim is None else (lim if split == "train" else max(lim // 5, 1)))


def train_variant(model: nn.Module, config: dict[str, Any], progress: ProgressFn | None = None,
                  device: str = "cpu") -> dict[str, float]:
    """Train in place as ``config`` says on ``device``; returns train/test accuracy and training time (s).

    The model is moved back to the CPU afterwards (checkpoints and pages work there).
    """
    from robustcore.nets import evaluate_accuracy, train_classifier

    Xtr, ytr = _data(config, "train")
    Xte, yte = _data(config, "test")
    reg = make_regularizer(config["reg_kind"], config["beta"]) if config["variant"] == "gabor-reg" else None
    t0 = time.perf_counter()
    train_classifier(model, Xtr, ytr, epochs=config["epochs"], lr=config["lr"], batch_size=config["batch_size"],
                     seed=config["seed"], regularizer=reg, progress=progress, device=device)
    secs = time.perf_counter() - t0
    out = {"train_acc": evaluate_accuracy(model, Xtr, ytr, device=device),
           "test_acc": evaluate_accuracy(model, Xte, yte, device=device), "train_seconds": secs}
    model.to("cpu")
    return out


def trained_variant(
    variant: str, progress: ProgressFn | None = None, retrain: bool = False, device: str = "cpu", **config_kw: Any
) -> tuple[nn.Module, dict[str, Any]]:
    """The trained (cached) model of a variant: ``(model in eval mode on the CPU, info)`` as ``cached_model``.

    ``device`` chooses where a missing model is trained; it is not part of the cache key.
    """
    from robustcore.nets import cached_model

    cfg = variant_config(variant, **config_kw)

    def train(model: nn.Module, config: dict, prog: ProgressFn | None) -> dict:
        return train_variant(model, config, prog, device=device)

    return cached_model(f"gabor-{variant}", cfg, build_variant, train, progress=progress, retrain=retrain)


def robustness_metrics(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    eps: dict[str, Sequence[float]],
    steps: int = 10,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Clean accuracy and PGD accuracy at each (norm, eps): rows ``{norm, eps, accuracy}``.

    eps = 0 rows are the clean accuracy (norm "clean").
    """
    from robustcore.attacks import robust_accuracy

    model.eval()
    rows = [{"norm": "clean", "eps": 0.0,
             "accuracy": robust_accuracy(model, X, y, [0.0], norm="linf", steps=steps, seed=seed)[0.0]}]
    for norm in ("linf", "l2"):
        accs = robust_accuracy(model, X, y, list(eps[norm]), norm=norm, steps=steps, seed=seed)
        rows += [{"norm": norm, "eps": float(e), "accuracy": float(a)} for e, a in accs.items()]
    return rows


def first_layer_lipschitz(model: nn.Module, input_side: int) -> tuple[float, float]:
    """(closed-form bound, spectral upper bound) on the l2 Lipschitz constant of ``model.first``.

    The second value is exact-spectral: ``||W||_2 * ||bank||_2`` for a Gabor layer, ``||conv||_2``
    for a standard convolution, each computed for circular padding on ``n + k - 1`` pixels, which
    bounds the zero-padded 'same' convolution on n x n (it is a compression of that operator).
    The closed form is NaN for a standard layer (the paper's bound is Gabor-specific).
    """
    from .bound import lipschitz_report
    from .spectral import conv_spectral_norm

    first = getattr(model, "first", None)
    if isinstance(first, GaborConv2d):
        rep = lipschitz_report(first, input_side + first.kernel_size - 1)
        return rep["layer_bound"], rep["layer_exact_product"]
    if isinstance(first, nn.Conv2d):
        k = first.kernel_size[0]
        return float("nan"), conv_spectral_norm(first.weight, input_side + k - 1)
    return float("nan"), float("nan")


def _run_config(variant: str, eps, pgd_steps: int, n_eval, config_kw) -> tuple[dict, dict]:
    data = config_kw.get("data", "digits")
    eps = eps or DEFAULT_EPS[data]
    eps = {k: [float(v) for v in eps[k]] for k in ("linf", "l2")}
    if any(e <= 0 for k in eps for e in eps[k]):
        raise ValueError("PGD radii must be positive.")
    cfg = variant_config(variant, **config_kw)
    # "metrics_version" keeps runs stored before a metric column existed from being read back.
    return cfg, {**cfg, "eps": eps, "pgd_steps": int(pgd_steps), "n_eval": n_eval, "metrics_version": 3}


def _read_back(store, run_id: int, eps: dict) -> pd.DataFrame | None:
    have = store.metrics(run_id=run_id)
    if not len(have):
        return None
    rows = [{**e, "accuracy": v} for n, e, v in zip(have["name"], have["extra"], have["value"])
            if n == "pgd_accuracy" and "norm" in e]
    if len(rows) < 1 + len(eps["linf"]) + len(eps["l2"]):
        return None
    return pd.DataFrame(rows)


def stored_comparison(
    variants: Sequence[str] = VARIANTS,
    store=None,
    eps: dict[str, Sequence[float]] | None = None,
    pgd_steps: int = 10,
    n_eval: int | None = None,
    **config_kw: Any,
) -> pd.DataFrame | None:
    """The table :func:`run_comparison` would return, if every variant is already in the store; else None.

    Never trains or attacks (cheap enough for a page to call on every rerun).
    """
    from robustcore.store import ResultsStore

    store = store if store is not None else ResultsStore()
    frames = []
    for variant in variants:
        _, run_cfg = _run_config(variant, eps, pgd_steps, n_eval, config_kw)
        run_id = store.find_run(RUN_KIND, run_cfg)
        df = None if run_id is None else _read_back(store, run_id, run_cfg["eps"])
        if df is None:
            return None
        frames.append(df.assign(run_id=run_id))
    out = pd.concat(frames, ignore_index=True)
    return out[["variant", "norm", "eps", "accuracy", "test_acc", "layer_bound", "layer_lip", "run_id"]]


def run_comparison(
    variants: Sequence[str] = VARIANTS,
    store=None,
    progress: ProgressFn | None = None,
    eps: dict[str, Sequence[float]] | None = None,
    pgd_steps: int = 10,
    n_eval: int | None = None,
    device: str = "cpu",
    **config_kw: Any,
) -> pd.DataFrame:
    """Train (or load) each variant, attack it, and store the metrics; returns the long table.

    Parameters
    ----------
    variants : which of ``VARIANTS``.
    store : a ``ResultsStore`` (default: the project's store).
    progress : ``progress(fraction, message)``.
    eps : ``{"linf": [...], "l2": [...]}``; defaults to ``DEFAULT_EPS[data]``.
    pgd_steps : PGD iterations.
    n_eval : evaluate on the first n test images (all by default).
    device : torch device for training and PGD (not part of the stored config).
    config_kw : forwarded to :func:`variant_config` (epochs, seed, beta, ...).

    Returns
    -------
    DataFrame with columns variant, norm, eps, accuracy, test_acc, layer_bound (closed-form bound
    of the Gabor layer, NaN for the standard one), layer_lip (spectral upper bound on the first
    layer's Lipschitz constant, see :func:`first_layer_lipschitz`), run_id. A variant whose run already holds its
    metrics (same config, eps, steps, n_eval) is read back, not recomputed.
    """
    from robustcore.store import ResultsStore

    store = store if store is not None else ResultsStore()
    frames = []
    for i, variant in enumerate(variants):
        lo, hi = i / len(variants), (i + 1) / len(variants)
        sub = (lambda f, m, lo=lo, hi=hi: progress(lo + (hi - lo) * 0.8 * f, m)) if progress else None
        cfg, run_cfg = _run_config(variant, eps, pgd_steps, n_eval, config_kw)
        eps = run_cfg["eps"]
        run_id = store.start_run(RUN_KIND, run_cfg, resume=True)
        df = _read_back(store, run_id, eps)
        if df is not None:
            if progress:
                progress(hi, f"{variant}: read back from the results store")
        else:
            if progress:
                progress(lo, f"training {variant}")
            model, info = trained_variant(variant, progress=sub, device=device, **config_kw)
            Xte, yte = _data(cfg, "test")
            if n_eval is not None:
                Xte, yte = Xte[:n_eval], yte[:n_eval]
            if progress:
                progress(lo + (hi - lo) * 0.85, f"attacking {variant} with PGD")
            rows = robustness_metrics(model.to(device), Xte.to(device), yte.to(device), eps, steps=pgd_steps,
                                      seed=cfg["seed"])
            model.to("cpu")
            bound, lip = first_layer_lipschitz(model, int(Xte.shape[-1]))
            for r in rows:
                r.update(variant=variant, test_acc=info["metrics"].get("test_acc"), layer_bound=bound,
                         layer_lip=lip)
                store.add_metric(run_id, "pgd_accuracy", r["accuracy"],
                                 extra={k: r[k] for k in ("variant", "norm", "eps", "test_acc", "layer_bound",
                                                          "layer_lip")})
            store.finish_run(run_id)
            df = pd.DataFrame(rows)
        df["run_id"] = run_id
        frames.append(df)
    if progress:
        progress(1.0, "done")
    out = pd.concat(frames, ignore_index=True)
    return out[["variant", "norm", "eps", "accuracy", "test_acc", "layer_bound", "layer_lip", "run_id"]]


def comparison_table(long: pd.DataFrame) -> pd.DataFrame:
    """Wide table: one row per variant, columns clean and ``linf@eps`` / ``l2@eps`` accuracies,
    the spectral upper bound on the first layer's Lipschitz constant and the closed-form bound."""
    lab = long.apply(lambda r: "clean" if r["norm"] == "clean" else f"{r['norm']}@{r['eps']:g}", axis=1)
    wide = long.assign(column=lab).pivot_table(index="variant", columns="column", values="accuracy", sort=False)
    cols = ["clean"] + [c for c in wide.columns if c != "clean"]
    wide = wide[cols]
    g = long.groupby("variant", sort=False)
    wide["first-layer Lipschitz <= (spectral)"] = g["layer_lip"].first()
    wide["closed-form bound"] = g["layer_bound"].first()
    return wide.reset_index()
