"""The ``robustcore`` command line: long batch jobs with progress bars.

Subcommands of the foundation: ``info``, ``train``, ``data``. Each research line adds its own by
providing ``robustcore.<line>.cli.register(subparsers)``; every subcommand sets ``func(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import platform
import sys
from collections.abc import Sequence

LINES = ("tropical", "gabor", "smoothing", "clustr", "batchsize")


def _cmd_info(args: argparse.Namespace) -> int:
    import numpy
    import scipy
    import torch

    import robustcore
    from robustcore.nets import cache_dir
    from robustcore.store import default_store_path

    rows = [
        ("robustcore", robustcore.__version__),
        ("python", platform.python_version()),
        ("torch", torch.__version__),
        ("numpy", numpy.__version__),
        ("scipy", scipy.__version__),
        ("device", "cuda (" + torch.cuda.get_device_name(0) + ")" if torch.cuda.is_available() else "cpu"),
        ("cpu threads", str(torch.get_num_threads())),
        ("cache", str(cache_dir())),
        ("store", str(default_store_path())),
    ]
    for name in ("streamlit", "plotly", "sympy", "sklearn", "torchvision"):
        try:
            rows.append((name, importlib.import_module(name).__version__))
        except ImportError:
            rows.append((name, "not installed"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from robustcore.nets import DEFAULT_MODELS, default_model

    names = args.models or list(DEFAULT_MODELS)
    for name in names:
        if name not in DEFAULT_MODELS:
            print(f"error: unknown model {name!r}; choose from {', '.join(DEFAULT_MODELS)}", file=sys.stderr)
            return 2
    for name in names:
        with tqdm(total=100, desc=name, unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}") as bar:

            def progress(frac: float, msg: str, bar=bar) -> None:
                bar.n = int(100 * frac)
                bar.set_postfix_str(msg)
                bar.refresh()

            _, info = default_model(name, progress=progress, retrain=args.retrain)
            bar.n = 100
            bar.refresh()
        how = "loaded from cache" if info["cached"] else "trained"
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in info["metrics"].items())
        print(f"{name}: {how} in {info['seconds']:.2f} s ({metrics}) -> {info['path']}")
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from robustcore.data import DatasetNotFoundError, load_vision_dataset

    try:
        for train in (True, False):
            ds = load_vision_dataset(args.name, args.root, train=train, download=args.download)
            print(f"{args.name} {'train' if train else 'test'}: {len(ds)} images in {args.root}")
    except DatasetNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with the subcommands of every research line that provides them."""
    parser = argparse.ArgumentParser(
        prog="robustcore", description="robustcore: the geometry of robust neural networks (batch jobs)."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="versions, device, cache and store locations")
    p.set_defaults(func=_cmd_info)
    p = sub.add_parser("train", help="train and cache the default models")
    p.add_argument("models", nargs="*", help="model names (default: all): digits-mlp, digits-cnn, toy-moons")
    p.add_argument("--retrain", action="store_true", help="train again even if a cached model exists")
    p.set_defaults(func=_cmd_train)
    p = sub.add_parser("data", help="check (or, with --download, fetch) MNIST / CIFAR-10 in a folder")
    p.add_argument("name", choices=["mnist", "cifar10"])
    p.add_argument("--root", required=True, help="folder in torchvision's layout")
    p.add_argument("--download", action="store_true", help="fetch the files if missing (needs network)")
    p.set_defaults(func=_cmd_data)
    for line in LINES:
        try:
            mod = importlib.import_module(f"robustcore.{line}.cli")
        except ModuleNotFoundError as exc:
            if exc.name != f"robustcore.{line}.cli":
                raise
            continue
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``robustcore`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:  # bad input: one clear sentence, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: every result written so far is kept in the store", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
