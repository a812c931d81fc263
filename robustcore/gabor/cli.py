"""``robustcore gabor-train``: train the three variants of the Gabor experiment and attack them."""
from __future__ import annotations

import argparse
import sys

from .regularizer import REGULARIZERS
from .training import VARIANTS, comparison_table, run_comparison

__all__ = ["register"]


def _cmd_gabor_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    eps = None
    if args.eps_linf or args.eps_l2:
        from .training import DEFAULT_EPS

        d = DEFAULT_EPS[args.data]
        eps = {"linf": args.eps_linf or d["linf"], "l2": args.eps_l2 or d["l2"]}
    with tqdm(total=100, desc="gabor", unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}") as bar:

        def progress(frac: float, msg: str) -> None:
            bar.n = int(100 * min(max(frac, 0.0), 1.0))
            bar.set_postfix_str(msg)
            bar.refresh()

        try:
            long = run_comparison(
                variants=args.variants or VARIANTS, progress=progress, eps=eps, pgd_steps=args.pgd_steps,
                n_eval=args.n_eval, device=args.device, data=args.data, root=args.root, limit=args.limit, epochs=args.epochs,
                seed=args.seed, reg_kind=args.reg, beta=args.beta,
            )
        except ValueError as exc:  # bad settings or a missing data folder: one clear line
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(comparison_table(long).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"stored as run(s) {sorted(set(long['run_id']))} of kind 'gabor-robustness' in the results store")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``gabor-train`` subcommand."""
    p = subparsers.add_parser(
        "gabor-train",
        help="train standard / Gabor / Gabor+regulariser CNNs and measure PGD accuracy",
        description="Train (or load from the cache) the small CNN with a standard first layer, a Gabor "
        "layer, and a Gabor layer with the Lipschitz regulariser; report clean and PGD (l-inf, l2) "
        "accuracy and store them in the results store. PGD accuracy is an attack result, not a certificate.",
    )
    p.add_argument("--variants", nargs="+", choices=VARIANTS, help="which models (default: all three)")
    p.add_argument("--data", choices=("digits", "cifar10"), default="digits")
    p.add_argument("--root", help="folder holding CIFAR-10 (needed with --data cifar10)")
    p.add_argument("--limit", type=int, help="use only this many CIFAR-10 training images")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reg", choices=REGULARIZERS, default="paper", help="regulariser of gabor-reg")
    p.add_argument("--beta", type=float, default=5e-2, help="weight of the regulariser")
    p.add_argument("--eps-linf", type=float, nargs="+", help="l-inf PGD radii")
    p.add_argument("--eps-l2", type=float, nargs="+", help="l2 PGD radii")
    p.add_argument("--pgd-steps", type=int, default=10)
    p.add_argument("--n-eval", type=int, help="attack only the first N test images")
    p.add_argument("--device", default="cpu", help="torch device for training and PGD, e.g. cuda")
    p.set_defaults(func=_cmd_gabor_train)
