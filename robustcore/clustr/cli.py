"""``robustcore clustr-train``: train ClusTR, ClusTR + fast AT, cross-entropy and PGD-AT models,
attack them with PGD and store the results."""
from __future__ import annotations

import argparse
import sys

from .training import MODEL_KINDS, compare_models

__all__ = ["register"]


def _cmd_clustr_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    overrides = {"epochs": args.epochs, "seed": args.seed, "k_per_class": args.k, "feature_dim": args.dim,
                 "alpha": args.alpha, "train_eps": args.train_eps, "dataset": args.data,
                 "data_root": args.root or "", "limit": args.limit}
    with tqdm(total=100, desc="clustr", unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}") as bar:

        def progress(frac: float, msg: str) -> None:
            bar.n = int(100 * min(max(frac, 0.0), 1.0))
            bar.set_postfix_str(msg)
            bar.refresh()

        try:
            rows = compare_models(eps_list=args.eps_linf, l2_eps_list=args.eps_l2, kinds=args.models or MODEL_KINDS,
                                  overrides=overrides, steps=args.steps, restarts=args.restarts, progress=progress,
                                  device=args.device)
        except ValueError as exc:  # bad settings or a missing data folder: one clear line
            print(f"error: {exc}", file=sys.stderr)
            return 2
    import pandas as pd

    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print("PGD accuracy is an attack result (an upper bound on robust accuracy), not a certificate; "
          "radii are sound l2 certificates (0 for misclassified images). Stored as runs of kind "
          "'clustr-compare' in the results store.")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``clustr-train`` subcommand."""
    p = subparsers.add_parser(
        "clustr-train",
        help="train ClusTR / ClusTR+FGSM / cross-entropy / PGD-AT models and measure PGD accuracy",
        description="Train (or load from the cache) the four models of the ClusTR comparison on digits "
        "(or MNIST / CIFAR-10 from a folder), report clean and PGD accuracy (l-inf and l2) and the "
        "certified radii, and store them in the results store.",
    )
    p.add_argument("--models", nargs="+", choices=MODEL_KINDS, help="which models (default: all four)")
    p.add_argument("--data", choices=("digits", "mnist", "cifar10"), default="digits")
    p.add_argument("--root", help="data folder (needed for mnist / cifar10; nothing is downloaded)")
    p.add_argument("--limit", type=int, default=0, help="use only this many training images (vision data)")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, default=2, help="cluster centres per class")
    p.add_argument("--dim", type=int, default=16, help="embedding dimension")
    p.add_argument("--alpha", type=float, default=1.0, help="magnet-loss margin")
    p.add_argument("--train-eps", type=float, default=0.1, help="l-inf radius for FGSM / PGD training")
    p.add_argument("--eps-linf", type=float, nargs="+", default=[0.05, 0.1, 0.2], help="l-inf PGD radii")
    p.add_argument("--eps-l2", type=float, nargs="+", default=[0.5, 1.0], help="l2 PGD radii")
    p.add_argument("--steps", type=int, default=20, help="PGD steps")
    p.add_argument("--restarts", type=int, default=3, help="PGD restarts (CE and margin losses)")
    p.add_argument("--device", default="cpu", help="torch device for training and attacks (cpu, cuda, ...)")
    p.set_defaults(func=_cmd_clustr_train)
