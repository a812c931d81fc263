"""The ``robustcore`` command line: long batch jobs with progress bars.

Subcommands of the foundation: ``info``, ``train``, ``data``, ``reproduce``. Each research line adds its own
by providing ``robustcore.<line>.cli.register(subparsers)``; every subcommand sets ``func(args) -> int``.

The parser is lazy: a line's module is imported only when one of its subcommands runs (``robustcore --help``
imports neither torch nor scipy). Every expected failure (``ValueError``, ``OSError``, ``sqlite3.Error``, an
unusable ``--device``) becomes one sentence on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import platform
import sys
from collections.abc import Sequence

LINES = ("tropical", "gabor", "smoothing", "clustr", "batchsize")

# subcommand -> (module whose ``register(subparsers)`` defines it, one-line help for ``robustcore --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "certify": ("robustcore.smoothing.cli", "certify a test set with randomized smoothing (Cohen et al.), resumable"),
    "report": ("robustcore.smoothing.cli", "certified accuracy and ACR of a certification run"),
    "import-log": ("robustcore.smoothing.cli", "store a published certification log (Cohen's TSV) as a run"),
    "gabor-train": ("robustcore.gabor.cli", "train standard / Gabor / Gabor+regulariser models, PGD accuracy"),
    "clustr-train": ("robustcore.clustr.cli", "train ClusTR and baselines, attack them, certified radii"),
}


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

    if args.list:
        for name in DEFAULT_MODELS:
            print(name)
        return 0
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


def build_parser(command: str | None = None, *, lazy: bool = False) -> argparse.ArgumentParser:
    """The parser of every subcommand.

    ``build_parser()`` imports every line's module and returns the complete parser. With ``lazy=True`` only
    the module of ``command`` is imported (none when ``command`` is None or a foundation command); the other
    line commands are listed by name and help only, which keeps ``robustcore --help`` free of torch.
    """
    parser = argparse.ArgumentParser(
        prog="robustcore", description="robustcore: the geometry of robust neural networks (batch jobs)."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="versions, device, cache and store locations")
    p.set_defaults(func=_cmd_info)
    p = sub.add_parser("train", help="train and cache the default models")
    p.add_argument("models", nargs="*", help="model names (default: all; `robustcore train --list` names them)")
    p.add_argument("--list", action="store_true", help="list the default models and exit")
    p.add_argument("--retrain", action="store_true", help="train again even if a cached model exists")
    p.set_defaults(func=_cmd_train)
    p = sub.add_parser("data", help="check (or, with --download, fetch) MNIST / CIFAR-10 in a folder")
    p.add_argument("name", choices=["mnist", "cifar10"])
    p.add_argument("--root", required=True, help="folder in torchvision's layout")
    p.add_argument("--download", action="store_true", help="fetch the files if missing (needs network)")
    p.set_defaults(func=_cmd_data)
    p = sub.add_parser("reproduce", help="a paper's headline comparison over several seeds (mean and spread)",
                       description="Run one research line's headline comparison under the paper's protocol "
                                   "(deviations are printed with the table), over several seeds, print mean and "
                                   "spread, and save the table beside the package for the line's page.")
    p.add_argument("line", choices=LINES, help="research line")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2; at least 3 "
                   "for a spread worth reading)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--quick", action="store_true", help="a seconds-long smoke run (tiny budget, not for reading)")
    p.add_argument("--csv", help="also write the summary table to this CSV file")
    p.add_argument("--no-save", action="store_true", help="do not overwrite the saved table the page shows")
    p.set_defaults(func=_cmd_reproduce)
    modules = list(dict.fromkeys(m for m, _ in COMMANDS.values()))
    if lazy:
        modules = [COMMANDS[command][0]] if command in COMMANDS else []
    for mod_name in modules:
        importlib.import_module(mod_name).register(sub)
    for name, (_, help_) in COMMANDS.items():  # the commands whose module was not imported: listed, lazily
        if name not in sub.choices:
            sub.add_parser(name, help=help_, add_help=False).set_defaults(func=None, _lazy=name)
    return parser


def _cmd_reproduce(args: argparse.Namespace) -> int:
    import importlib.util
    import time

    from robustcore.reproduce import LINES as REPRO, format_table, save_result

    if len(set(args.seeds)) != len(args.seeds) or any(s < 0 for s in args.seeds):
        raise ValueError("--seeds must be distinct non-negative integers.")
    if len(args.seeds) > 20:
        raise ValueError("--seeds takes at most 20 seeds.")
    if args.csv:
        check_output_file(args.csv, "--csv")
    mod_name = REPRO[args.line]
    if importlib.util.find_spec(mod_name) is None:
        raise ValueError(f"the {args.line} line has no reproduction yet ({mod_name} is missing).")
    from tqdm import tqdm

    mod = importlib.import_module(mod_name)
    t0 = time.perf_counter()
    with tqdm(total=100, desc=f"reproduce {args.line}", unit="%",
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} {postfix}") as bar:

        def progress(frac: float, msg: str = "") -> None:
            bar.n = int(100 * min(max(float(frac), 0.0), 1.0))
            bar.set_postfix_str(msg[:60])
            bar.refresh()

        result = mod.reproduce(seeds=tuple(args.seeds), device=args.device, quick=args.quick, progress=progress)
    print(format_table(result.table))
    print(f"\n{len(args.seeds)} seeds, {time.perf_counter() - t0:.0f} s. {result.protocol.strip()}")
    if args.csv:
        result.table.to_csv(args.csv, index=False)
        print(f"table written to {args.csv}")
    if not args.no_save and not args.quick:
        print(f"saved for the page and the README: {save_result(result)}")
    return 0


def check_output_file(path: str, what: str) -> None:
    """Refuse an output file whose folder is missing or not writable (or that is a folder), before any work.

    Shared by every subcommand that writes a file (``--csv``); stdlib only, so line CLIs can import it.
    """
    import os

    if not path or not str(path).strip():
        raise ValueError(f"{what} needs a file name.")
    folder = os.path.dirname(os.path.abspath(os.path.expanduser(path)))
    if not os.path.isdir(folder):
        raise ValueError(f"{what}: the folder {folder!r} does not exist.")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{what}: the folder {folder!r} is not writable.")
    if os.path.isdir(path):
        raise ValueError(f"{what}: {path!r} is a folder, not a file.")


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first word that is not an option), if any."""
    for tok in argv:
        if not tok.startswith("-"):
            return tok
        if tok in ("-h", "--help"):
            return None
    return None


def _one_sentence(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return msg if len(msg) <= 400 else msg[:397] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``robustcore`` console script.

    Returns the exit status: 0 on success, 2 for bad input or an expected failure (one sentence on stderr),
    130 when interrupted (every result written so far is kept).
    """
    import sqlite3

    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_of(argv)
    try:
        parser = build_parser(command, lazy=True)
        args = parser.parse_args(argv)
    except ImportError as exc:  # a missing optional dependency of one subcommand
        print(f"error: {_one_sentence(exc)}", file=sys.stderr)
        return 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        if isinstance(getattr(args, "device", None), str):
            from robustcore.devices import resolve_device

            args.device = resolve_device(args.device)
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted: every result written so far is kept in the store", file=sys.stderr)
        return 130
    except (ValueError, TypeError) as exc:  # bad input: the message is a sentence written for the user
        print(f"error: {_one_sentence(exc)}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:
        print(f"error: the results store cannot be used ({_one_sentence(exc)}); point ROBUSTCORE_STORE or "
              "--store at another file.", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"error: {exc.strerror or _one_sentence(exc)}{where}.", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: not enough memory for this job; use smaller sizes.", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        text = str(exc)
        if any(w in text.lower() for w in ("cuda", "device", "out of memory", "mps")):
            print(f"error: {_one_sentence(exc)}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
