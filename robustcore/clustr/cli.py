"""``robustcore clustr-train``: train ClusTR (plain, + free AT, + QTRADES) and cross-entropy baselines, attack
them with the official PGD and ours, and store the results.

Only the standard library is imported here at module level and in ``register`` (``robustcore --help`` must
stay fast); every argument is checked by ``validate_args`` before any model or data set loads, and a bad
one raises ValueError with one sentence (the top-level handler prints it and exits with status 2).
"""
from __future__ import annotations

import argparse
import math

__all__ = ["register", "validate_args", "KINDS", "RECIPES", "DATASETS"]

# literal copies of robustcore.clustr.training's names (importing it would import torch); a test keeps them equal
KINDS = ("clustr", "clustr-free", "clustr-qtrades", "ce", "pgd-at", "clustr-fgsm")
RECIPES = ("official", "ours")
DATASETS = ("digits", "mnist-5k", "mnist", "cifar10")
DEFAULT_KINDS = ("clustr", "clustr-free", "clustr-qtrades", "ce")
OFFICIAL_EPS = (2 / 255, 8 / 255, 16 / 255, 0.1)

# caps (documented in --help)
MAX_EPOCHS = 1000
MAX_STEPS = 10_000
MAX_RESTARTS = 100
MAX_LIMIT = 10_000_000


def _int_in(name: str, v: object, lo: int, hi: int) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ValueError(f"--{name} must be an integer in [{lo}, {hi}]; got {v}.")


def _float_in(name: str, v: object, lo: float, hi: float, lo_open: bool = False) -> None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and lo <= v <= hi
    if not ok or (lo_open and v == lo):
        side = "(" if lo_open else "["
        raise ValueError(f"--{name} must be a finite number in {side}{lo:g}, {hi:g}]; got {v}.")


def validate_args(args: argparse.Namespace) -> None:
    """Check every ``clustr-train`` argument (types, finiteness, ranges, caps, data folder) without
    importing torch; raises ValueError with one sentence naming the argument."""
    for k in args.models or ():
        if k not in KINDS:
            raise ValueError(f"--models: unknown model {k!r}; choose from {', '.join(KINDS)}.")
    if args.recipe not in RECIPES:
        raise ValueError(f"--recipe must be one of {', '.join(RECIPES)}; got {args.recipe!r}.")
    if args.data not in DATASETS:
        raise ValueError(f"--data must be one of {', '.join(DATASETS)}; got {args.data!r}.")
    if args.data in ("mnist", "cifar10") and not args.root:
        raise ValueError(f"--data {args.data} needs --root, the folder holding it (nothing is downloaded).")
    _int_in("limit", args.limit, 0, MAX_LIMIT)
    if args.epochs is not None:
        _int_in("epochs", args.epochs, 1, MAX_EPOCHS)
    _float_in("schedule-scale", args.schedule_scale, 0.0, 1.0, lo_open=True)
    _int_in("seed", args.seed, 0, 2**31 - 1)
    if args.k is not None:
        _int_in("k", args.k, 1, 10)
    if args.dim is not None:
        _int_in("dim", args.dim, 1, 4096)
    if args.alpha is not None:
        _float_in("alpha", args.alpha, 0.0, 1000.0)
    if args.train_eps is not None:
        _float_in("train-eps", args.train_eps, 0.0, 1.0)
    if args.replays is not None:
        _int_in("replays", args.replays, 1, 100)
    if not args.eps_linf:
        raise ValueError("--eps-linf needs at least one radius.")
    for e in args.eps_linf:
        _float_in("eps-linf", e, 0.0, 1.0)
    for e in args.eps_l2 or ():
        _float_in("eps-l2", e, 0.0, 1000.0)
    _int_in("steps", args.steps, 1, MAX_STEPS)
    _int_in("restarts", args.restarts, 1, MAX_RESTARTS)
    if not isinstance(args.device, str) or not args.device.strip() or len(args.device) > 32:
        raise ValueError(f"--device must be a device name such as 'cpu' or 'cuda'; got {args.device!r}.")


def _cmd_clustr_train(args: argparse.Namespace) -> int:
    validate_args(args)  # before any heavy import
    from tqdm import tqdm

    from .training import _check_device, compare_models

    device = _check_device(args.device)  # an unavailable device is one sentence, before any training
    overrides = {"seed": args.seed, "dataset": args.data, "data_root": args.root or "", "limit": args.limit,
                 "schedule_scale": args.schedule_scale}
    for key, val in (("epochs", args.epochs), ("k_per_class", args.k), ("feature_dim", args.dim),
                     ("alpha", args.alpha), ("train_eps", args.train_eps), ("replays", args.replays)):
        if val is not None:
            overrides[key] = val
    with tqdm(total=100, desc="clustr", unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}") as bar:

        def progress(frac: float, msg: str) -> None:
            bar.n = int(100 * min(max(frac, 0.0), 1.0))
            bar.set_postfix_str(msg)
            bar.refresh()

        rows = compare_models(eps_list=args.eps_linf, l2_eps_list=args.eps_l2 or (),
                              kinds=args.models or DEFAULT_KINDS, overrides=overrides, steps=args.steps,
                              restarts=args.restarts, progress=progress, device=device, recipe=args.recipe)
    import pandas as pd

    print("Configurations:")
    for r in rows:
        print(f"  {r['config']}")
        for d in r["deviations"]:
            print(f"      deviation: {d}")
    table = pd.DataFrame([{k: v for k, v in r.items() if k not in ("config", "deviations")} for r in rows])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print("official@eps: the official evaluation (cross-entropy on the soft top-L exp-scores, step 2/255, soft "
          "rule); ours@eps: margin loss on the nearest-centre logits (the certified rule). A large gap between "
          "them means the official loss's gradient is masked, not that the model is robust. PGD accuracy is an "
          "attack result (an upper bound on robust accuracy), not a certificate; radii are sound l2 certificates "
          "(0 for misclassified images). Stored as runs of kind 'clustr-compare' in the results store.")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``clustr-train`` subcommand."""
    p = subparsers.add_parser(
        "clustr-train",
        help="train ClusTR (+ free AT / QTRADES) and cross-entropy models, attack them with the official PGD and ours",
        description="Train (or load from the cache) the models of the ClusTR comparison and report clean accuracy, "
        "l-inf PGD accuracy under the official attack (cross-entropy on the soft top-L exp-scores, 20 steps x 10 "
        "restarts, step 2/255) and under ours (margin loss on the nearest-centre logits), and the certified radii; "
        "store them in the results store. --recipe official (default) uses the official code's hyper-parameters "
        "(magnet alpha 12.5, batches 12 clusters x 20, Adam 1e-4 for 90 epochs with steps at 30 and 60, K = 2, "
        "L = 20, eps 8/255, free AT with m = 8 replays over 90/8 epochs, QTRADES lambda 8 for 25 epochs from "
        "cross-entropy weights); --recipe ours is the pages' fast schedule (alpha 1, 8 x 16, Adam 3e-3, 40 epochs, "
        "no steps). Every deviation from the official recipe is printed beside each run. The official code trains "
        "a ResNet-18 on CIFAR; this command trains an MLP embedding. Caps: --epochs <= 1000, --steps <= 10000, "
        "--restarts <= 100.",
    )
    p.add_argument("--models", nargs="+", metavar="KIND",
                   help=f"which models (default: {' '.join(DEFAULT_KINDS)}; also: pgd-at, clustr-fgsm)")
    p.add_argument("--recipe", default="official", help="official (default) or ours")
    p.add_argument("--data", default="digits", help="digits (default), mnist-5k, or mnist / cifar10 with --root")
    p.add_argument("--root", help="data folder (needed for mnist / cifar10; nothing is downloaded)")
    p.add_argument("--limit", type=int, default=0, help="use only this many training images (folder data sets)")
    p.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs (a stated deviation)")
    p.add_argument("--schedule-scale", type=float, default=1.0,
                   help="multiply the recipe's epochs and milestones by this factor in (0, 1] (a stated deviation)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, default=None, help="cluster centres per class (recipe: 2)")
    p.add_argument("--dim", type=int, default=None, help="embedding dimension")
    p.add_argument("--alpha", type=float, default=None, help="magnet-loss margin (official 12.5)")
    p.add_argument("--train-eps", type=float, default=None, help="l-inf training radius (official 8/255)")
    p.add_argument("--replays", type=int, default=None, help="free-AT minibatch replays m (official recipe: 8)")
    p.add_argument("--eps-linf", type=float, nargs="+", default=list(OFFICIAL_EPS),
                   help="l-inf PGD radii (default: the official 2/255 8/255 16/255 0.1)")
    p.add_argument("--eps-l2", type=float, nargs="*", default=[], help="l2 PGD radii (ours; default none)")
    p.add_argument("--steps", type=int, default=20, help="PGD steps (official 20)")
    p.add_argument("--restarts", type=int, default=10, help="PGD restarts (official 10)")
    p.add_argument("--device", default="cpu", help="torch device for training and attacks (cpu, cuda, ...)")
    p.set_defaults(func=_cmd_clustr_train)
