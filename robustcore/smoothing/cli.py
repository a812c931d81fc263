"""``robustcore certify``, ``robustcore report`` and ``robustcore import-log``.

Certify a test set (resumable), summarise a run, and store a published certification log as a run.

This module imports only the standard library at module level and in :func:`register`, so that
``robustcore --help`` stays fast; torch, numpy and the rest of robustcore load inside the command
functions. Every argument is checked here, before any model or dataset loads: a bad value raises
``ValueError`` with one sentence (the top-level handler prints ``error: ...`` and exits 2).
"""
from __future__ import annotations

import argparse
import math
import os
import signal
import sys

__all__ = [
    "register",
    "cmd_certify",
    "cmd_report",
    "cmd_import_log",
    "SMOOTHING_METHODS",
    "DATASET_CHOICES",
    "MAX_N",
]

#: The built-in base classifiers (a literal copy of ``robustcore.smoothing.SMOOTHING_METHODS``, so that
#: building the parser imports no torch; a test keeps the two equal).
SMOOTHING_METHODS = ("plain", "cohen", "smoothadv", "macer")
#: Test sets ``certify`` accepts (literal copy of ``robustcore.smoothing.runner.DATASETS``).
DATASET_CHOICES = ("digits", "mnist-5k", "mnist", "cifar10")
#: Cap on ``--n`` (literal copy of ``robustcore.smoothing.runner.MAX_N``).
MAX_N = 100_000_000
#: Cap on ``--batch-size`` (literal copy of ``robustcore.smoothing.runner.MAX_BATCH_SIZE``).
MAX_BATCH_SIZE = 1_000_000
#: Cap on ``--max-images`` (literal copy of ``robustcore.smoothing.runner.MAX_IMAGES``).
MAX_IMAGES = 10_000_000


def register(subparsers) -> None:
    """Add the ``certify``, ``report`` and ``import-log`` subcommands to the top-level parser."""
    p = subparsers.add_parser(
        "certify",
        help="certify a test set with randomized smoothing (Cohen et al.), resumable",
        description=(
            "Certify every --skip-th test image with Cohen et al.'s CERTIFY, writing each result to the "
            "results store as it finishes. Running the same configuration again resumes where it stopped. "
            "By default the fastest exact forward path is used: channels-last for convolutional models and "
            "torch.compile when the job is large enough for compilation to pay (eager with a notice when "
            "compilation fails). A compiled model is a different floating-point function from the eager one: "
            "the certificate is for the model as run (each stored row records the path); --no-compile "
            "certifies the eager model."
        ),
    )
    p.add_argument("--dataset", default="digits", choices=DATASET_CHOICES,
                   help="test set (default digits; mnist-5k is bundled; mnist and cifar10 need --root)")
    p.add_argument("--root", default=None, help="folder holding mnist / cifar10 in torchvision's layout")
    p.add_argument("--model", default=None, choices=SMOOTHING_METHODS,
                   help="built-in digits base classifier (default cohen); not with --checkpoint")
    p.add_argument("--checkpoint", default=None, metavar="PATH",
                   help="certify your own model: a robustcore checkpoint, Cohen et al.'s {'arch', 'state_dict'} "
                        "file or a plain state dict (all loaded weights-only), or TorchScript (runs the file's "
                        "code: trusted files only); it must map the dataset's images (values in [0, 1]) to 10 "
                        "logits")
    p.add_argument("--sigma", default="0.25", help="noise level, [0, 1]-pixel units, > 0 (default 0.25)")
    p.add_argument("--train-sigma", default=None, help="noise level the built-in model is trained at (default: --sigma)")
    p.add_argument("--n0", default="100", help="selection samples (default 100)")
    p.add_argument("--n", default="100000", help=f"estimation samples, at most {MAX_N:,} (default 100000)")
    p.add_argument("--alpha", default="0.001", help="failure probability in (0, 1) (default 0.001)")
    p.add_argument("--batch-size", default="1000", help="samples per forward pass (default 1000)")
    p.add_argument("--method", default="cohen", choices=["cohen", "pb"],
                   help="p_B = 1 - p_A (cohen) or bounded separately (pb)")
    p.add_argument("--skip", default="1", help="certify every k-th image (default 1)")
    p.add_argument("--max-images", default=None, help="certify at most this many of the selected images")
    p.add_argument("--backend", default="local", choices=["local", "ray"], help="where to run (default local)")
    p.add_argument("--ray-address", default=None,
                   help="address of an existing Ray cluster whose workers can import robustcore (default: start one)")
    p.add_argument("--workers", default="2", help="workers of a local Ray instance (default 2)")
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--threads", default=None,
                   help="torch CPU threads of the local backend (default: torch's choice; Ray workers use 1 each)")
    p.add_argument("--compile", dest="compile", action="store_const", const="compile", default="auto",
                   help="always torch.compile the model (default: only when the job is large enough to pay)")
    p.add_argument("--no-compile", dest="compile", action="store_const", const="eager",
                   help="never compile: certify the eager model")
    p.add_argument("--channels-last", action="store_true",
                   help="(kept for old scripts) channels-last is now the default for convolutional models")
    p.add_argument("--store", default=None, help="results store file (default $ROBUSTCORE_STORE)")
    p.add_argument("--seed", default="0", help="run seed; image i uses a seed derived from it and i")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_certify)

    p = subparsers.add_parser("report", help="certified accuracy and ACR of a certification run")
    p.add_argument("run", help="run id (see the last line of `robustcore certify`), or 'latest'")
    p.add_argument("--store", default=None, help="results store file (default $ROBUSTCORE_STORE)")
    p.add_argument("--step", default="0.25", help="radius step of the table, > 0 (default 0.25)")
    p.add_argument("--csv", default=None, help="also write the table to this CSV file")
    p.set_defaults(func=cmd_report)

    p = subparsers.add_parser(
        "import-log",
        help="store a published certification log (Cohen's TSV) as a run",
        description=(
            "Store a certification log in Cohen et al.'s TSV format (columns idx, label, predict, radius, "
            "correct, time; predict -1 = abstain; also written by SmoothAdv, MACER and data-dependent "
            "smoothing) as a certification run, so that `robustcore report` and the certificates page show it "
            "beside your own runs. No images are needed. Importing the same file again returns the same run."
        ),
    )
    p.add_argument("path", help="the log file")
    p.add_argument("--format", default="cohen", choices=["cohen"], help="log format (default cohen)")
    p.add_argument("--sigma", required=True, help="noise level the log was certified at (> 0)")
    p.add_argument("--name", default=None, help="a name for the run (default: the file name)")
    p.add_argument("--alpha", default=None,
                   help="the log's failure probability, if known (enables the report's high-probability bound)")
    p.add_argument("--dataset", default=None,
                   help="the test set the log certified (e.g. cifar10, imagenet); the certificates page shows the "
                        "run with that dataset (default: with every dataset)")
    p.add_argument("--store", default=None, help="results store file (default $ROBUSTCORE_STORE)")
    p.set_defaults(func=cmd_import_log)


# --------------------------------------------------------------------------- argument checks (stdlib only)
def _int(name: str, text, lo: int, hi: int | None = None) -> int:
    """Parse an integer option; one sentence naming the option when it is not an integer in [lo, hi]."""
    try:
        value = int(str(text).strip().replace("_", ""), 10)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {text!r}.") from None
    if value < lo or (hi is not None and value > hi):
        rng = f"from {lo:,} to {hi:,}" if hi is not None else f"at least {lo:,}"
        raise ValueError(f"{name} must be an integer {rng}, got {value:,}.")
    return value


def _float(name: str, text, *, positive: bool = False, open01: bool = False) -> float:
    """Parse a finite float option (> 0, or in (0, 1)); one sentence naming the option otherwise."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}.") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {text!r}.")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}.")
    if open01 and not 0 < value < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}.")
    return value


def _open_store(path):
    """The results store, or ``ValueError`` with one sentence when the file cannot be used."""
    from robustcore.store import ResultsStore

    if path is not None and not str(path).strip():
        raise ValueError("--store needs a file name.")
    try:
        return ResultsStore(path)
    except OSError as exc:
        where = path if path is not None else "the default location"
        raise ValueError(f"cannot use the results store {str(where)!r}: {exc.strerror or exc}.") from None


def certify_options(args: argparse.Namespace) -> dict:
    """Parse and check every ``certify`` option (stdlib only, no model, no store): returns plain values.

    Raises ``ValueError`` with one sentence naming the first bad option.
    """
    if args.checkpoint is not None and args.model is not None:
        raise ValueError("pass either --model (a built-in digits model) or --checkpoint PATH, not both.")
    if args.checkpoint is not None:
        if not str(args.checkpoint).strip():
            raise ValueError("--checkpoint needs a file path.")
        if not os.path.isfile(args.checkpoint):
            raise ValueError(f"--checkpoint: there is no file at {args.checkpoint!r}.")
    elif args.dataset != "digits":
        raise ValueError(f"the built-in models are trained on digits; certify {args.dataset} with --checkpoint PATH.")
    if args.dataset in ("mnist", "cifar10") and args.root is not None and not os.path.isdir(args.root):
        raise ValueError(f"--root: the folder {args.root!r} does not exist.")
    opts = {
        "sigma": _float("--sigma", args.sigma, positive=True),
        "train_sigma": None if args.train_sigma is None else _float("--train-sigma", args.train_sigma, positive=True),
        "n0": _int("--n0", args.n0, 1, MAX_N),
        "n": _int("--n", args.n, 1, MAX_N),
        "alpha": _float("--alpha", args.alpha, open01=True),
        "batch_size": _int("--batch-size", args.batch_size, 1, MAX_BATCH_SIZE),
        "skip": _int("--skip", args.skip, 1, MAX_IMAGES),
        "seed": _int("--seed", args.seed, 0, 2**63 - 1),
        "max_images": None if args.max_images is None else _int("--max-images", args.max_images, 1, MAX_IMAGES),
        "workers": _int("--workers", args.workers, 1, 1024),
        "threads": None if args.threads is None else _int("--threads", args.threads, 1, 4096),
    }
    if opts["n"] < opts["n0"]:
        raise ValueError(f"--n must be at least --n0, got n={opts['n']:,}, n0={opts['n0']:,}.")
    if args.train_sigma is not None and args.checkpoint is not None:
        raise ValueError("--train-sigma applies to the built-in models only, not to --checkpoint.")
    if args.ray_address is not None and args.backend != "ray":
        raise ValueError("--ray-address needs --backend ray.")
    if args.backend == "ray" and args.compile == "compile":
        raise ValueError("--compile applies to the local backend only.")
    if not isinstance(args.device, str) or not args.device.strip() or len(args.device) > 32:
        raise ValueError(f"--device must be a name such as 'cpu' or 'cuda', got {args.device!r}.")
    return opts


# --------------------------------------------------------------------------- certify
def cmd_certify(args: argparse.Namespace) -> int:
    """Run ``robustcore certify``; returns the exit code."""
    opts = certify_options(args)  # stdlib checks first: nothing heavy is imported for a typo
    from tqdm import tqdm

    from .runner import RUN_KIND, CertifyJob, load_job_model, run_certification, run_state, store_config

    job = CertifyJob(
        dataset=args.dataset,
        model=args.model or ("checkpoint" if args.checkpoint else "cohen"),
        sigma=opts["sigma"],
        n0=opts["n0"],
        n=opts["n"],
        alpha=opts["alpha"],
        batch_size=opts["batch_size"],
        skip=opts["skip"],
        seed=opts["seed"],
        method=args.method,
        train_sigma=opts["train_sigma"],
        device=args.device.strip(),
        checkpoint=args.checkpoint,
        root=args.root,
    )
    job.validate()  # the device exists, the caps hold: still before a model is trained or a store is opened
    if opts["threads"] is not None:
        import torch

        torch.set_num_threads(opts["threads"])
    store = _open_store(args.store)
    show = not args.no_progress
    bars: dict = {}

    def train_progress(frac: float, msg: str) -> None:
        if not show:
            return
        if "model" not in bars:  # only when a model is really trained (a cached one prints nothing)
            bars["model"] = tqdm(total=100, desc=f"training model {job.model}", unit="%", file=sys.stderr, leave=False)
        bars["model"].n = int(100 * frac)
        bars["model"].set_postfix_str(msg)
        bars["model"].refresh()

    def progress(done: int, total: int, certified: int) -> None:
        if not show:
            return
        if "certify" not in bars:
            if done >= total:
                return  # nothing to do: no bar at all
            bars["certify"] = tqdm(total=total, initial=done, desc="certify", unit="img", file=sys.stderr,
                                   postfix=f"certified {certified}/{done}")
            return
        b = bars["certify"]
        b.update(done - b.n)  # one redraw per image (tqdm throttles), never a second line
        b.set_postfix_str(f"certified {certified}/{done}", refresh=False)

    def notice(msg: str) -> None:
        print(f"note: {msg}", file=sys.stderr)

    # a SIGTERM (kill, a job scheduler) is handled like Ctrl-C: the runner marks the run interrupted
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    info = None
    try:
        from .runner import load_job_data

        data = load_job_data(job)
        try:
            model, info = load_job_model(job, progress=train_progress)
        finally:
            if "model" in bars:
                bars.pop("model").close()
        norm = (info or {}).get("normalization")
        if (info or {}).get("normalization_assumed") and isinstance(norm, dict):
            notice(f"{os.path.basename(str(args.checkpoint))} does not say how it normalises its input; assumed "
                   f"{norm.get('name', 'the usual')} normalisation inside the model (noise is "
                   "added to [0, 1] pixels before it).")
        summary = run_certification(
            job,
            store=store,
            backend=args.backend,
            max_images=opts["max_images"],
            ray_address=args.ray_address,
            num_workers=opts["workers"],
            progress=progress,
            model=model,
            model_info=info,
            data=data,
            fast=args.compile if args.backend == "local" else None,
            notice=notice,
        )
    except KeyboardInterrupt:
        if "certify" in bars:
            bars.pop("certify").close()
        run_id = None if info is None else store.find_run(RUN_KIND, store_config(job, info))
        if run_id is not None:
            print(f"run {run_id} {run_state(store, run_id)['text']}.", file=sys.stderr)
        raise
    finally:
        if "certify" in bars:
            bars.pop("certify").close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    line = (f"run {summary.run_id}: {summary.done}/{summary.total} requested images done, "
            f"{summary.certified} certified, {summary.correct} certified correctly")
    if summary.new:
        rate = summary.new / summary.seconds * 60 if summary.seconds > 0 else float("inf")
        line += f"; {summary.new} new in {summary.seconds:.1f} s ({rate:.1f} images/min, {summary.backend})"
    else:
        line += "; nothing new to certify (every requested image was already in the store)"
    print(line)
    print(f"store: {store.path}  (robustcore report {summary.run_id} --store {store.path})")
    return 0


def _raise_interrupt(signum, frame):  # pragma: no cover - exercised through a subprocess
    raise KeyboardInterrupt


# --------------------------------------------------------------------------- report
def cmd_report(args: argparse.Namespace) -> int:
    """Run ``robustcore report``; returns the exit code."""
    step = _float("--step", args.step, positive=True)
    if step < 1e-4:
        raise ValueError(f"--step must be at least 0.0001, got {step!r}.")
    run_arg = str(args.run).strip()
    if run_arg != "latest":
        run_id = _int("RUN (a run id or 'latest')", run_arg, 1, 2**62)
    if args.csv:
        from robustcore.cli import check_output_file  # stdlib only; imported here to keep this module standalone

        check_output_file(args.csv, "--csv")
    import numpy as np

    from .metrics import certified_accuracy_table, high_probability_certified_accuracy
    from .runner import RUN_KIND, run_state

    store = _open_store(args.store)
    if run_arg == "latest":
        runs = store.runs(RUN_KIND)
        if runs.empty:
            raise ValueError(f"There are no certification runs in {str(store.path)!r}.")
        run_id = int(runs.iloc[0]["id"])
    run = store.run(run_id)
    if run["kind"] != RUN_KIND:
        raise ValueError(f"Run {run_id} is a {run['kind']!r} run, not a certification run.")
    results = store.results(run_id)
    if results.empty:
        raise ValueError(f"Run {run_id} has no results yet.")
    max_radius = float(results["radius"].max())
    if max_radius / step > 10_000:
        raise ValueError(f"--step {step} would make a table of over 10,000 rows (largest radius {max_radius:.3g}).")
    table = certified_accuracy_table(results, step=step)
    cfg = run["config"]
    alpha = cfg.get("alpha")
    if alpha is not None:
        # Cohen's high-probability bound, clipped at 0 (a negative lower bound on a fraction says nothing)
        lower = high_probability_certified_accuracy(results, table["radius"].to_numpy(), alpha=float(alpha), rho=0.001)
        table["certified_accuracy_lower"] = np.maximum(lower, 0.0)
    else:
        table["certified_accuracy_lower"] = np.nan
    state = run_state(store, run_id)
    if cfg.get("source") == "imported":
        head = (f"run {run_id} ({state['text']}): {cfg.get('name')} sigma {cfg.get('sigma')}"
                + (f" alpha {alpha}" if alpha is not None else " (alpha unknown)"))
    else:
        model = cfg.get("model") if cfg.get("model") != "checkpoint" else f"checkpoint {cfg.get('checkpoint')}"
        head = (f"run {run_id} ({state['text']}): dataset {cfg.get('dataset', 'digits')} model {model} "
                f"sigma {cfg.get('sigma')} n0 {cfg.get('n0')} n {cfg.get('n')} alpha {alpha}")
    print(head + f"; {len(results)} images")
    print(f"{'radius':>8}  {'cert. acc.':>10}  {'images':>6}  {'lower bound (rho=0.001)':>24}")
    for row in table.itertuples():
        low = "n/a" if not np.isfinite(row.certified_accuracy_lower) else f"{row.certified_accuracy_lower:.4f}"
        print(f"{row.radius:8.2f}  {row.certified_accuracy:10.4f}  {row.certified:6d}  {low:>24}")
    print(f"ACR {table.attrs['acr']:.4f}  (average certified radius, abstentions and errors count 0)")
    if args.csv:
        out = table.copy()
        out["acr"] = table.attrs["acr"]
        try:
            out.to_csv(args.csv, index=False)
        except OSError as exc:
            raise ValueError(f"--csv: cannot write {args.csv!r} ({exc.strerror or exc}).") from None
        print(f"wrote {args.csv}")
    return 0


# --------------------------------------------------------------------------- import-log
def cmd_import_log(args: argparse.Namespace) -> int:
    """Run ``robustcore import-log``; returns the exit code."""
    sigma = _float("--sigma", args.sigma, positive=True)
    alpha = None if args.alpha is None else _float("--alpha", args.alpha, open01=True)
    if args.name is not None and (not str(args.name).strip() or len(args.name) > 200):
        raise ValueError("--name must be 1 to 200 characters.")
    if args.dataset is not None and (not args.dataset.strip() or len(args.dataset) > 40):
        raise ValueError("--dataset must be a name of 1 to 40 characters.")
    if not os.path.isfile(args.path):
        raise ValueError(f"there is no log file at {args.path!r}.")
    from .importlog import import_cohen_log, read_cohen_log

    read_cohen_log(args.path)  # a malformed file is refused before the store is opened
    store = _open_store(args.store)
    run_id = import_cohen_log(args.path, sigma, name=args.name, store=store, alpha=alpha, dataset=args.dataset)
    n = int(store.run(run_id)["n_results"])
    print(f"run {run_id}: imported {n} images from {os.path.basename(args.path)} (sigma {sigma})")
    print(f"store: {store.path}  (robustcore report {run_id} --store {store.path})")
    return 0
