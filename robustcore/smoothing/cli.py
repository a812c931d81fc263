"""``robustcore certify`` and ``robustcore report``: certify a test set, then summarise a run."""
from __future__ import annotations

import argparse
import sys

__all__ = ["register", "cmd_certify", "cmd_report"]


def register(subparsers) -> None:
    """Add the ``certify`` and ``report`` subcommands to the top-level parser."""
    from .training import SMOOTHING_METHODS

    p = subparsers.add_parser(
        "certify",
        help="certify a test set with randomized smoothing (Cohen et al.), resumable",
        description=(
            "Certify every --skip-th test image with Cohen et al.'s CERTIFY, writing each result to the "
            "results store as it finishes. Running the same configuration again resumes where it stopped."
        ),
    )
    p.add_argument("--dataset", default="digits", choices=["digits"], help="test set (default: digits)")
    p.add_argument("--model", default="cohen", choices=list(SMOOTHING_METHODS), help="base classifier training")
    p.add_argument("--sigma", type=float, default=0.25, help="noise level, [0, 1]-pixel units (default 0.25)")
    p.add_argument("--train-sigma", type=float, default=None, help="noise level the model is trained at (default: --sigma)")
    p.add_argument("--n0", type=int, default=100, help="selection samples (default 100)")
    p.add_argument("--n", type=int, default=100_000, help="estimation samples (default 100000)")
    p.add_argument("--alpha", type=float, default=0.001, help="failure probability (default 0.001)")
    p.add_argument("--batch-size", type=int, default=1000, help="samples per forward pass (default 1000)")
    p.add_argument("--method", default="cohen", choices=["cohen", "pb"], help="p_B = 1 - p_A (cohen) or bounded separately (pb)")
    p.add_argument("--skip", type=int, default=1, help="certify every k-th image (default 1)")
    p.add_argument("--max-images", type=int, default=None, help="stop after this many images")
    p.add_argument("--backend", default="local", choices=["local", "ray"], help="where to run (default local)")
    p.add_argument("--ray-address", default=None, help="address of an existing Ray cluster whose workers can import robustcore (default: start a local one)")
    p.add_argument("--workers", type=int, default=2, help="workers of a local Ray instance (default 2)")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads of the local backend (default: torch's choice; Ray workers use 1 each)")
    p.add_argument("--channels-last", action="store_true", help="channels-last convolutions (faster on CPU)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (slow start, faster after)")
    p.add_argument("--store", default=None, help="results store file (default $ROBUSTCORE_STORE)")
    p.add_argument("--seed", type=int, default=0, help="run seed; image i uses a seed derived from it and i")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_certify)

    p = subparsers.add_parser("report", help="certified accuracy and ACR of a certification run")
    p.add_argument("run", help="run id (see the last line of `robustcore certify`), or 'latest'")
    p.add_argument("--store", default=None, help="results store file (default $ROBUSTCORE_STORE)")
    p.add_argument("--step", type=float, default=0.25, help="radius step of the table (default 0.25)")
    p.add_argument("--csv", default=None, help="also write the table to this CSV file")
    p.set_defaults(func=cmd_report)


def cmd_certify(args: argparse.Namespace) -> int:
    """Run ``robustcore certify``; returns the exit code."""
    from tqdm import tqdm

    from robustcore.store import ResultsStore

    from .runner import CertifyJob, load_job_model, run_certification

    job = CertifyJob(
        dataset=args.dataset,
        model=args.model,
        sigma=args.sigma,
        n0=args.n0,
        n=args.n,
        alpha=args.alpha,
        batch_size=args.batch_size,
        skip=args.skip,
        seed=args.seed,
        method=args.method,
        train_sigma=args.train_sigma,
        device=args.device,
        channels_last=args.channels_last,
        compile=args.compile,
    )
    job.validate()  # bad settings stop here, before a model is trained or a store is opened
    if args.max_images is not None and args.max_images < 1:
        raise ValueError(f"--max-images must be a positive integer, got {args.max_images}.")
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be a positive integer, got {args.threads}.")
        import torch

        torch.set_num_threads(args.threads)
    store = ResultsStore(args.store)
    show = not args.no_progress
    with tqdm(total=100, desc=f"model {job.model}", unit="%", disable=not show, file=sys.stderr, leave=False) as bar:

        def train_progress(frac: float, msg: str) -> None:
            bar.n = int(100 * frac)
            bar.set_postfix_str(msg)
            bar.refresh()

        model, info = load_job_model(job, progress=train_progress)
    bar_box: dict = {}

    def progress(done: int, total: int, certified: int) -> None:
        if not show:
            return
        if "bar" not in bar_box:
            bar_box["bar"] = tqdm(total=total, initial=done, desc="certify", unit="img", file=sys.stderr)
        b = bar_box["bar"]
        b.n = done
        b.set_postfix_str(f"certified {certified}/{done}")
        b.refresh()

    try:
        summary = run_certification(
            job,
            store=store,
            backend=args.backend,
            max_images=args.max_images,
            ray_address=args.ray_address,
            num_workers=args.workers,
            progress=progress,
            model=model,
            model_info=info,
        )
    finally:
        if "bar" in bar_box:
            bar_box["bar"].close()
    rate = summary.new / summary.seconds * 60 if summary.seconds > 0 and summary.new else float("nan")
    print(
        f"run {summary.run_id}: {summary.done}/{summary.total} images, {summary.certified} certified, "
        f"{summary.correct} certified correctly; {summary.new} new in {summary.seconds:.1f} s "
        f"({rate:.1f} images/min, {summary.backend})" + ("" if summary.complete else "; run not complete yet")
    )
    print(f"store: {store.path}  (robustcore report {summary.run_id} --store {store.path})")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Run ``robustcore report``; returns the exit code."""
    import numpy as np

    from robustcore.store import ResultsStore

    from .metrics import certified_accuracy_table, high_probability_certified_accuracy
    from .runner import RUN_KIND

    store = ResultsStore(args.store)
    if args.run == "latest":
        runs = store.runs(RUN_KIND)
        if runs.empty:
            raise ValueError(f"There are no certification runs in {str(store.path)!r}.")
        run_id = int(runs.iloc[0]["id"])
    else:
        try:
            run_id = int(args.run)
        except ValueError:
            raise ValueError(f"RUN must be a run id or 'latest', got {args.run!r}.") from None
    run = store.run(run_id)
    if run["kind"] != RUN_KIND:
        raise ValueError(f"Run {run_id} is a {run['kind']!r} run, not a certification run.")
    results = store.results(run_id)
    if results.empty:
        raise ValueError(f"Run {run_id} has no results yet.")
    table = certified_accuracy_table(results, step=args.step)
    cfg = run["config"]
    # Cohen's high-probability bound, clipped at 0 (a negative lower bound on a fraction says nothing)
    lower = high_probability_certified_accuracy(results, table["radius"].to_numpy(), alpha=float(cfg["alpha"]), rho=0.001)
    table["certified_accuracy_lower"] = np.maximum(lower, 0.0)
    print(
        f"run {run_id} ({run['status']}): model {cfg.get('model')} sigma {cfg.get('sigma')} "
        f"n0 {cfg.get('n0')} n {cfg.get('n')} alpha {cfg.get('alpha')}; {len(results)} images"
    )
    print(f"{'radius':>8}  {'cert. acc.':>10}  {'images':>6}  {'lower bound (rho=0.001)':>24}")
    for row in table.itertuples():
        print(f"{row.radius:8.2f}  {row.certified_accuracy:10.4f}  {row.certified:6d}  {row.certified_accuracy_lower:24.4f}")
    print(f"ACR {table.attrs['acr']:.4f}  (average certified radius, abstentions and errors count 0)")
    if args.csv:
        out = table.copy()
        out["acr"] = table.attrs["acr"]
        out.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    return 0
