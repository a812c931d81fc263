"""The paper's experiment at small scale: standard vs Gabor vs Gabor + regulariser, under PGD.

Three variants of one network differ only in the first layer, which has the same output channels and
kernel size in all three (a same-size baseline, as in the official code):

* ``"standard"``: a standard convolution;
* ``"gabor"``: :class:`GaborConv2d` (learnable Gabor bank, ReLU, 1 x 1 mixing);
* ``"gabor-reg"``: the same, trained with a Lipschitz regulariser (the paper's
  ``-beta * sigma^2`` term, summed or averaged over families, or the closed-form bound itself).

Networks: the paper's LeNet on ``"mnist-5k"`` (28 x 28, :mod:`.lenet`), the small digits CNN on
``"digits"`` (8 x 8), a small CNN on ``"cifar10"`` (a folder). Training follows a recipe of
:mod:`.recipes` (``"official"``: the official code's SGD recipe; ``"ours"``: Adam); the attack is
PGD of a strength from :data:`.recipes.ATTACKS` with random restarts (an image is robust only when
every restart fails). Each model is trained once and cached (``robustcore.nets.cached_model``);
the metrics are stored as one run of kind ``"gabor-robustness"`` per variant in
``robustcore.store.ResultsStore``. PGD accuracy is an *upper* bound on the true robust accuracy
(an attack, not a certificate).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import torch
from torch import nn

from .layer import GaborConv2d
from .recipes import ATTACKS, RECIPES
from .regularizer import REGULARIZERS, make_regularizer
from .validate import check_choice, check_int, check_real

__all__ = [
    "VARIANTS",
    "DATASETS",
    "DEFAULT_EPS",
    "DEFAULT_EPOCHS",
    "TEST_SIZES",
    "RUN_KIND",
    "CifarCNN",
    "variant_config",
    "build_variant",
    "fit",
    "train_variant",
    "trained_variant",
    "first_layer",
    "pgd_accuracy",
    "robustness_metrics",
    "layer_summary",
    "run_comparison",
    "stored_comparison",
    "first_layer_lipschitz",
    "comparison_table",
    "regularizer_effect_table",
    "check_run_arguments",
]

ProgressFn = Callable[[float, str], None]
VARIANTS = ("standard", "gabor", "gabor-reg")
DATASETS = ("mnist-5k", "digits", "cifar10")
RUN_KIND = "gabor-robustness"
#: PGD radii on pixel values in [0, 1]: the official MNIST l-inf radii for mnist-5k; l-inf scaled to 8x8
#: digits; the paper's CIFAR radii; l2 radii of a similar strength.
DEFAULT_EPS = {
    "mnist-5k": {"linf": [0.1, 0.2, 0.3], "l2": [1.0, 2.0]},
    "digits": {"linf": [0.05, 0.1, 0.2], "l2": [0.25, 0.5, 1.0]},
    "cifar10": {"linf": [1 / 255, 2 / 255, 8 / 255], "l2": [0.1, 0.25, 0.5]},
}
#: test images per data set (a bigger n_eval is refused before any work)
TEST_SIZES = {"mnist-5k": 1000, "digits": 450, "cifar10": 10000}
_FIRST_CHANNELS = {"digits": 16, "cifar10": 16}
#: default epochs per data set on the CPU budget (the official code trains for up to 300)
DEFAULT_EPOCHS = {"mnist-5k": 5, "digits": 30, "cifar10": 10}


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
    data: str = "mnist-5k",
    root: str | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    kernel_size: int = 5,
    families: int = 2,
    orientations: int = 8,
    reg_kind: str = "paper",
    beta: float | None = None,
    recipe: str = "official",
) -> dict[str, Any]:
    """The full JSON config of one variant (everything that determines the trained model).

    ``lr``, ``batch_size`` and ``beta`` default to the recipe's values (:data:`.recipes.RECIPES`),
    ``epochs`` to ``DEFAULT_EPOCHS[data]`` (a CPU budget; the official code trains far longer). Raises ``ValueError`` / ``TypeError`` (one sentence) for an unknown
    variant, data set, recipe or regulariser, or a setting out of range: epochs 1..1000, lr in
    (0, 1), batch 1..4096, beta in [0, 1000], seed >= 0, kernel size 1..15 (odd for the LeNet).
    """
    check_choice("variant", variant, VARIANTS)
    check_choice("data", data, DATASETS)
    check_choice("recipe", recipe, tuple(RECIPES))
    check_choice("reg_kind", reg_kind, REGULARIZERS)
    rec = RECIPES[recipe]
    epochs = check_int("epochs", DEFAULT_EPOCHS[data] if epochs is None else epochs, 1, 1000)
    lr = check_real("lr", rec.lr if lr is None else lr, 0.0, 1.0, lo_open=True, hi_open=True)
    batch_size = check_int("batch_size", rec.batch_size if batch_size is None else batch_size, 1, 4096)
    beta = check_real("beta", rec.beta if beta is None else beta, 0.0, 1e3)
    seed = check_int("seed", seed, 0, 2**31 - 1)
    kernel_size = check_int("kernel_size", kernel_size, 1, 15)
    families = check_int("families", families, 1, 16)
    orientations = check_int("orientations", orientations, 1, 32)
    if data == "mnist-5k" and kernel_size != 5:
        raise ValueError("the paper's LeNet has a 5 x 5 first layer: kernel_size must be 5 for mnist-5k.")
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (so 'same' padding exists), got {kernel_size}.")
    if data == "cifar10" and not root:
        raise ValueError("CIFAR-10 needs the folder that holds it (root=...).")
    cfg: dict[str, Any] = {"variant": variant, "data": data, "recipe": recipe, "epochs": epochs, "lr": lr,
                           "batch_size": batch_size, "seed": seed, "optimizer": rec.optimizer,
                           "momentum": rec.momentum, "weight_decay": rec.weight_decay, "kernel_size": kernel_size,
                           "baseline": "same-size"}
    if data == "cifar10":
        cfg.update(root=str(root), limit=None if limit is None else check_int("limit", limit, 1, 50_000))
    if variant != "standard":
        cfg.update(families=families, orientations=orientations, alpha_init=rec.alpha_init, mix_bias=rec.mix_bias)
    if variant == "gabor-reg":
        cfg.update(reg_kind=reg_kind, beta=beta, reg_reduction=rec.reg_reduction)
    return cfg


def build_variant(config: dict[str, Any]) -> nn.Module:
    """Untrained network of a variant config (seeded by ``config["seed"]``)."""
    from robustcore.nets import DigitsCNN

    from .lenet import LENET_FIRST_CHANNELS, LENET_FIRST_PADDING, LeNet

    torch.manual_seed(int(config["seed"]))
    data = config["data"]
    in_ch = 3 if data == "cifar10" else 1
    k = int(config.get("kernel_size", 5))
    channels = LENET_FIRST_CHANNELS if data == "mnist-5k" else _FIRST_CHANNELS[data]
    pad = LENET_FIRST_PADDING if data == "mnist-5k" else k // 2
    if config["variant"] == "standard":
        first = nn.Conv2d(in_ch, channels, k, padding=pad)  # same size as the Gabor layer
    else:
        first = GaborConv2d(in_ch, channels, k, orientations=config["orientations"], families=config["families"],
                            padding=pad, bias=bool(config.get("mix_bias", True)),
                            alpha_init=config.get("alpha_init", "ones"), seed=config["seed"])
    if data == "mnist-5k":
        return LeNet(1, 10, first)
    if data == "cifar10":
        return CifarCNN(first_layer=first, first_channels=channels)
    return DigitsCNN(first_layer=first, first_channels=channels)


def first_layer(model: nn.Module) -> nn.Module | None:
    """The layer a variant swaps (``model.conv1`` of the LeNet, ``model.first`` of the small CNNs)."""
    for name in ("first", "conv1"):
        layer = getattr(model, name, None)
        if isinstance(layer, nn.Module):
            return layer
    return None


def _data(config: dict[str, Any], split: str) -> tuple[torch.Tensor, torch.Tensor]:
    if config["data"] == "digits":
        from robustcore.data import load_digits

        return load_digits(split)
    if config["data"] == "mnist-5k":
        from robustcore.data import load_dataset

        return load_dataset("mnist-5k", split)
    from robustcore.data import dataset_to_tensors, load_vision_dataset

    ds = load_vision_dataset("cifar10", config["root"], train=(split == "train"))
    lim = config.get("limit")
    return dataset_to_tensors(ds, limit=None if lim is None else (lim if split == "train" else max(lim // 5, 1)))


def fit(model: nn.Module, X: torch.Tensor, y: torch.Tensor, config: dict[str, Any],
        progress: ProgressFn | None = None, device: str = "cpu") -> list[dict[str, float]]:
    """Train ``model`` in place as ``config`` says (optimiser, lr, momentum, weight decay, batch, epochs,
    regulariser); returns one history row per epoch (epoch, loss, reg, train_acc).

    SGD with momentum and weight decay on every parameter for the official recipe (as
    ``torch.optim.SGD(model.parameters(), ...)`` in the official ``main.py``), Adam for ours.
    """
    gen = torch.Generator().manual_seed(int(config["seed"]))
    model.to(device)
    X, y = X.to(device), y.to(device)
    if config.get("optimizer", "adam") == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=config.get("momentum", 0.0),
                              weight_decay=config.get("weight_decay", 0.0))
    else:
        opt = torch.optim.Adam(model.parameters(), lr=config["lr"], weight_decay=config.get("weight_decay", 0.0))
    reg = (make_regularizer(config["reg_kind"], config["beta"], config.get("reg_reduction", "sum"))
           if config["variant"] == "gabor-reg" else None)
    n, bs, epochs = X.shape[0], int(config["batch_size"]), int(config["epochs"])
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen).to(device)
        tot = tot_reg = 0.0
        correct = 0
        for start in range(0, n, bs):
            idx = perm[start:start + bs]
            logits = model(X[idx])
            loss = nn.functional.cross_entropy(logits, y[idx])
            r = reg(model) if reg is not None else None
            full = loss + r if r is not None else loss
            opt.zero_grad(set_to_none=True)
            full.backward()
            opt.step()
            tot += float(loss.detach()) * len(idx)
            tot_reg += float(r.detach()) * len(idx) if r is not None else 0.0
            correct += int((logits.argmax(1) == y[idx]).sum())
        row = {"epoch": epoch, "loss": tot / n, "reg": tot_reg / n, "train_acc": correct / n}
        if not math.isfinite(row["loss"]):
            raise ValueError(f"training diverged at epoch {epoch} (loss {row['loss']}); lower the learning rate "
                             "or the regulariser weight.")
        history.append(row)
        if progress is not None:
            progress(epoch / epochs, f"epoch {epoch}/{epochs}: loss {row['loss']:.3f}")
    model.eval()
    return history


def train_variant(model: nn.Module, config: dict[str, Any], progress: ProgressFn | None = None,
                  device: str = "cpu") -> dict[str, float]:
    """Train in place as ``config`` says on ``device``; returns train/test accuracy and training time (s).

    The model is moved back to the CPU afterwards (checkpoints and pages work there).
    """
    from robustcore.nets import evaluate_accuracy

    Xtr, ytr = _data(config, "train")
    Xte, yte = _data(config, "test")
    t0 = time.perf_counter()
    hist = fit(model, Xtr, ytr, config, progress, device=device)
    secs = time.perf_counter() - t0
    out = {"train_acc": evaluate_accuracy(model, Xtr, ytr, device=device),
           "test_acc": evaluate_accuracy(model, Xte, yte, device=device), "train_seconds": secs,
           "final_loss": hist[-1]["loss"]}
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


def pgd_accuracy(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    norm: str = "linf",
    steps: int = 10,
    restarts: int = 1,
    step_size: float | None = None,
    seed: int = 0,
    batch_size: int = 500,
) -> float:
    """Accuracy under PGD with random restarts: an image counts only if it is classified correctly
    clean and under every restart (the official protocol's rule). ``eps = 0``: clean accuracy.

    Restarts attack only the images still standing, so a strong attack costs little on a weak model.
    Returns a fraction in [0, 1], an upper bound on the true robust accuracy.
    """
    from robustcore.attacks import pgd_attack

    gen = torch.Generator().manual_seed(int(seed))
    model.eval()
    robust = 0
    for i in range(0, X.shape[0], batch_size):
        xb, yb = X[i:i + batch_size], y[i:i + batch_size]
        with torch.no_grad():
            alive = model(xb).argmax(1) == yb
        if eps > 0:
            for _ in range(int(restarts)):
                idx = alive.nonzero().flatten()
                if idx.numel() == 0:
                    break
                xa = pgd_attack(model, xb[idx], yb[idx], float(eps), norm, int(steps), step_size=step_size,
                                generator=gen)
                with torch.no_grad():
                    alive[idx] = model(xa).argmax(1) == yb[idx]
        robust += int(alive.sum())
    return robust / max(1, X.shape[0])


def robustness_metrics(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    eps: dict[str, Sequence[float]],
    steps: int = 10,
    seed: int = 0,
    restarts: int = 1,
    step_size: float | None = None,
    progress: ProgressFn | None = None,
) -> list[dict[str, Any]]:
    """Clean accuracy and PGD accuracy at each (norm, eps): rows ``{norm, eps, accuracy}``.

    eps = 0 rows are the clean accuracy (norm "clean"). ``step_size`` applies to l-inf only (the
    official attack's fixed 8/255); l2 always uses 2.5 eps / steps.
    """
    rows = [{"norm": "clean", "eps": 0.0, "accuracy": pgd_accuracy(model, X, y, 0.0)}]
    todo = [(n, float(e)) for n in ("linf", "l2") for e in eps[n]]
    for j, (norm, e) in enumerate(todo):
        if progress:
            progress(j / len(todo), f"PGD {norm} eps {e:g}")
        acc = pgd_accuracy(model, X, y, e, norm, steps, restarts, step_size if norm == "linf" else None, seed)
        rows.append({"norm": norm, "eps": e, "accuracy": acc})
    return rows


def layer_summary(model: nn.Module, input_side: int) -> dict[str, float]:
    """What the regulariser acts on, for a Gabor first layer (NaN for a standard one).

    Returns mean |sigma| (only sigma^2 enters the kernel), mean sigma^2, mean |alpha|, ||W||_2 of the
    1 x 1 mixing, the closed-form bank bound sqrt(sum_f L_f^2), the closed-form layer bound and the
    exact-spectral product ||W||_2 ||bank||_2 (circular padding on ``input_side + k - 1``).
    """
    from .bound import lipschitz_report

    layer = first_layer(model)
    keys = ("mean_abs_sigma", "mean_sigma2", "mean_abs_alpha", "mixing_norm", "bank_bound", "layer_bound",
            "layer_exact_product")
    if not isinstance(layer, GaborConv2d):
        return {k: float("nan") for k in keys}
    p = layer.parameters_numpy()
    rep = lipschitz_report(layer, input_side + layer.kernel_size - 1)
    return {"mean_abs_sigma": float(abs(p["sigma"]).mean()), "mean_sigma2": float((p["sigma"] ** 2).mean()),
            "mean_abs_alpha": float(abs(p["alpha"]).mean()), "mixing_norm": rep["mixing_norm"],
            "bank_bound": rep["bank_bound"], "layer_bound": rep["layer_bound"],
            "layer_exact_product": rep["layer_exact_product"]}


def first_layer_lipschitz(model: nn.Module, input_side: int) -> tuple[float, float]:
    """(closed-form bound, spectral upper bound) on the l2 Lipschitz constant of the swapped first layer.

    The second value is exact-spectral: ``||W||_2 * ||bank||_2`` for a Gabor layer, ``||conv||_2``
    for a standard convolution, each computed for circular padding on ``n + k - 1`` pixels, which
    bounds the zero-padded convolution on n x n (it is a compression of that operator).
    The closed form is NaN for a standard layer (the paper's bound is Gabor-specific).
    """
    from .bound import lipschitz_report
    from .spectral import conv_spectral_norm

    first = first_layer(model)
    if isinstance(first, GaborConv2d):
        rep = lipschitz_report(first, input_side + first.kernel_size - 1)
        return rep["layer_bound"], rep["layer_exact_product"]
    if isinstance(first, nn.Conv2d):
        k = first.kernel_size[0]
        return float("nan"), conv_spectral_norm(first.weight, input_side + k - 1)
    return float("nan"), float("nan")


def check_run_arguments(data: str = "mnist-5k", eps: dict | None = None, pgd_steps: int | None = None,
                        restarts: int | None = None, n_eval: int | None = None, attack: str = "quick",
                        device: str = "cpu") -> dict[str, Any]:
    """Validate the attack settings of a comparison before any model loads; returns them resolved.

    ``attack`` names a strength of :data:`.recipes.ATTACKS`; ``pgd_steps`` (1..1000) and ``restarts``
    (1..100) override it. ``eps``: ``{"linf": [...], "l2": [...]}``, 1 to 10 finite radii each, l-inf in
    (0, 1], l2 in (0, 100]. ``n_eval``: 1 to the test-set size. ``device`` must be usable here.
    Raises ``ValueError`` / ``TypeError`` with one sentence.
    """
    check_choice("data", data, DATASETS)
    check_choice("attack", attack, tuple(ATTACKS))
    spec = ATTACKS[attack]
    steps = spec.steps if pgd_steps is None else check_int("pgd_steps", pgd_steps, 1, 1000)
    rst = spec.restarts if restarts is None else check_int("restarts", restarts, 1, 100)
    if n_eval is not None:
        n_eval = check_int("n_eval", n_eval, 1, TEST_SIZES[data])
    eps = eps or DEFAULT_EPS[data]
    if not isinstance(eps, dict) or set(eps) - {"linf", "l2"}:
        raise ValueError("eps must be a dict with keys 'linf' and 'l2'.")
    out = {}
    for norm, hi in (("linf", 1.0), ("l2", 100.0)):
        vals = list(eps.get(norm, DEFAULT_EPS[data][norm]))
        if not 1 <= len(vals) <= 10:
            raise ValueError(f"give 1 to 10 {norm} radii, got {len(vals)}.")
        out[norm] = [check_real(f"the {norm} radius", v, 0.0, hi, lo_open=True) for v in vals]
    from robustcore.devices import resolve_device

    return {"eps": out, "pgd_steps": steps, "restarts": rst, "n_eval": n_eval, "attack": attack,
            "step_size": spec.step_size if (pgd_steps is None and restarts is None) else None,
            "device": resolve_device(device)}


def _run_config(variant: str, args: dict, config_kw) -> tuple[dict, dict]:
    cfg = variant_config(variant, **config_kw)
    # "metrics_version" keeps runs stored before a metric column existed from being read back.
    run = {**cfg, "eps": args["eps"], "pgd_steps": args["pgd_steps"], "restarts": args["restarts"],
           "step_size": args["step_size"], "n_eval": args["n_eval"], "metrics_version": 4}
    return cfg, run


_COLUMNS = ["variant", "norm", "eps", "accuracy", "test_acc", "layer_bound", "layer_lip", "mean_abs_sigma",
            "mean_sigma2", "mean_abs_alpha", "mixing_norm", "bank_bound", "run_id"]


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
    pgd_steps: int | None = None,
    n_eval: int | None = None,
    attack: str = "quick",
    restarts: int | None = None,
    **config_kw: Any,
) -> pd.DataFrame | None:
    """The table :func:`run_comparison` would return, if every variant is already in the store; else None.

    Never trains or attacks (cheap enough for a page to call on every rerun).
    """
    from robustcore.store import ResultsStore

    args = check_run_arguments(config_kw.get("data", "mnist-5k"), eps, pgd_steps, restarts, n_eval, attack)
    store = store if store is not None else ResultsStore()
    frames = []
    for variant in variants:
        _, run_cfg = _run_config(variant, args, config_kw)
        run_id = store.find_run(RUN_KIND, run_cfg)
        df = None if run_id is None else _read_back(store, run_id, run_cfg["eps"])
        if df is None:
            return None
        frames.append(df.assign(run_id=run_id))
    out = pd.concat(frames, ignore_index=True)
    return out.reindex(columns=_COLUMNS)


def run_comparison(
    variants: Sequence[str] = VARIANTS,
    store=None,
    progress: ProgressFn | None = None,
    eps: dict[str, Sequence[float]] | None = None,
    pgd_steps: int | None = None,
    n_eval: int | None = None,
    device: str = "cpu",
    attack: str = "quick",
    restarts: int | None = None,
    **config_kw: Any,
) -> pd.DataFrame:
    """Train (or load) each variant, attack it, and store the metrics; returns the long table.

    Parameters
    ----------
    variants : which of ``VARIANTS``.
    store : a ``ResultsStore`` (default: the project's store).
    progress : ``progress(fraction, message)``.
    eps : ``{"linf": [...], "l2": [...]}``; defaults to ``DEFAULT_EPS[data]``.
    pgd_steps, restarts : override the attack strength's iterations and random restarts.
    n_eval : evaluate on the first n test images (all by default).
    device : torch device for training and PGD (not part of the stored config).
    attack : a strength of :data:`.recipes.ATTACKS` ("quick", "strong", "official").
    config_kw : forwarded to :func:`variant_config` (data, recipe, epochs, seed, beta, ...).

    Every argument is checked before any model is built or trained.

    Returns
    -------
    DataFrame with columns variant, norm, eps, accuracy, test_acc, layer_bound (closed-form bound
    of the Gabor layer, NaN for the standard one), layer_lip (spectral upper bound on the first
    layer's Lipschitz constant, see :func:`first_layer_lipschitz`), the regulariser's targets of
    :func:`layer_summary` (mean |sigma|, mean sigma^2, mean |alpha|, ||W||_2, bank bound), run_id.
    A variant whose run already holds its metrics (same config and attack) is read back, not recomputed.
    """
    from robustcore.store import ResultsStore

    args = check_run_arguments(config_kw.get("data", "mnist-5k"), eps, pgd_steps, restarts, n_eval, attack, device)
    for v in variants:
        check_choice("variant", v, VARIANTS)
    device = args["device"]
    cfgs = [_run_config(v, args, config_kw) for v in variants]  # every config checked before any work
    store = store if store is not None else ResultsStore()
    frames = []
    for i, (variant, (cfg, run_cfg)) in enumerate(zip(variants, cfgs)):
        lo, hi = i / len(variants), (i + 1) / len(variants)
        sub = (lambda f, m, lo=lo, hi=hi: progress(lo + (hi - lo) * 0.6 * f, m)) if progress else None
        att = (lambda f, m, lo=lo, hi=hi: progress(lo + (hi - lo) * (0.6 + 0.4 * f), m)) if progress else None
        run_id = store.start_run(RUN_KIND, run_cfg, resume=True)
        df = _read_back(store, run_id, args["eps"])
        if df is not None:
            if progress:
                progress(hi, f"{variant}: read back from the results store")
        else:
            if progress:
                progress(lo, f"training {variant}")
            model, info = trained_variant(variant, progress=sub, device=device, **config_kw)
            Xte, yte = _data(cfg, "test")
            if args["n_eval"] is not None:
                Xte, yte = Xte[:args["n_eval"]], yte[:args["n_eval"]]
            rows = robustness_metrics(model.to(device), Xte.to(device), yte.to(device), args["eps"],
                                      steps=args["pgd_steps"], seed=cfg["seed"], restarts=args["restarts"],
                                      step_size=args["step_size"], progress=att)
            model.to("cpu")
            side = int(Xte.shape[-1])
            bound, lip = first_layer_lipschitz(model, side)
            summ = layer_summary(model, side)
            for r in rows:
                r.update(variant=variant, test_acc=info["metrics"].get("test_acc"), layer_bound=bound,
                         layer_lip=lip, **{k: summ[k] for k in ("mean_abs_sigma", "mean_sigma2", "mean_abs_alpha",
                                                                 "mixing_norm", "bank_bound")})
                store.add_metric(run_id, "pgd_accuracy", r["accuracy"],
                                 extra={k: r[k] for k in _COLUMNS if k not in ("accuracy", "run_id")})
            store.finish_run(run_id)
            df = pd.DataFrame(rows)
        df["run_id"] = run_id
        frames.append(df)
    if progress:
        progress(1.0, "done")
    out = pd.concat(frames, ignore_index=True)
    return out.reindex(columns=_COLUMNS)


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


def regularizer_effect_table(long: pd.DataFrame) -> pd.DataFrame:
    """The regulariser's effect on the Gabor layer: one row per Gabor variant with mean |sigma|,
    mean sigma^2, mean |alpha|, ||W||_2 of the mixing, the closed-form bank and layer bounds, and the
    exact-spectral layer constant (what -beta sigma^2 pushes, and what moves with it)."""
    g = long[long["variant"] != "standard"].groupby("variant", sort=False).first()
    cols = {"mean_abs_sigma": "mean |σ|", "mean_sigma2": "mean σ²", "mean_abs_alpha": "mean |α|",
            "mixing_norm": "‖W‖₂ (1×1 mixing)", "bank_bound": "bank bound √Σ L_f²",
            "layer_bound": "layer bound", "layer_lip": "‖W‖₂·‖bank‖₂ (exact)"}
    return g[[c for c in cols if c in g.columns]].rename(columns=cols).reset_index()
