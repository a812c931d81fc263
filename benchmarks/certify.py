"""Speed of randomized-smoothing certification on the digits CNN.

0. (``--cli-vs-cohen``, the headline) end to end on the CLI path: ``robustcore certify`` (default fast
   path: channels-last, and torch.compile when the job is large enough) against Cohen et al.'s
   sampling loop written here from the paper's pseudocode (per batch: ``x.repeat``, ``randn_like``
   noise, one forward pass, ``argmax``, ``bincount``; Clopper-Pearson bound; one TSV line per
   image), on the same model, images, n0, n, alpha and batch size. Both sides include loading the
   model and the data and writing results (ours to the SQLite store, Cohen's to a TSV file); ours
   also includes compilation. Target: >= 2x. Also prints the eager-only (``--no-compile``) figure
   and the break-even of compilation that ``fastpath.COMPILE_MIN_SAMPLES`` rests on.
1. samples/s of ``Smooth.certify`` and of the bare eager forward pass (``torch.no_grad``, same
   batch size, pre-made inputs, nothing else) and the fraction of certify's time spent in that
   forward pass (target >= 90 %);
2. forward-pass variants against the bare eager loop: ``torch.inference_mode``, batch size,
   channels-last, ``torch.compile``, bfloat16 (reported, not used: see the note it prints);
3. images per minute of the local and the Ray backend (2 workers) on a few test images.

Usage: ``python benchmarks/certify.py --cli-vs-cohen [--images 30] [--n 100000] [--threads 1]`` or
``python benchmarks/certify.py [--threads 1] [--n 100000] [--quick] [--no-ray]``.
Timings on a shared machine are noisy: the script reports the best of ``--repeats`` runs.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

from _timing import wall_times

from robustcore.data import load_digits
from robustcore.nets import default_model
from robustcore.smoothing import Smooth


def best_time(fn, repeats: int) -> float:
    return min(wall_times(fn, repeats))


def forward_loop(model, total: int, batch: int, mode: str = "no_grad", dtype=torch.float32, channels_last=False):
    """Forward passes over ``total`` pre-made inputs in batches (the model's cost and nothing else)."""
    xb = torch.rand(batch, 1, 8, 8, dtype=dtype)
    if channels_last:
        xb = xb.contiguous(memory_format=torch.channels_last)
    last = total % batch
    xl = xb[:last] if last else None
    ctx = torch.inference_mode if mode == "inference_mode" else torch.no_grad

    def run():
        with ctx():
            for _ in range(total // batch):
                model(xb)
            if xl is not None:
                model(xl)

    return run


def cohen_sample_counts(model, x, num: int, batch: int, sigma: float, num_classes: int) -> torch.Tensor:
    """Cohen et al.'s sampling loop, from the paper's pseudocode: noise per batch, argmax, bincount."""
    counts = torch.zeros(num_classes, dtype=torch.int64)
    remaining = num
    with torch.no_grad():
        while remaining > 0:
            b = min(batch, remaining)
            xs = x.repeat((b, 1, 1, 1))
            noise = torch.randn_like(xs) * sigma
            preds = model(xs + noise).argmax(1)
            counts += torch.bincount(preds, minlength=num_classes)
            remaining -= b
    return counts


def cohen_certify_run(X, y, indices, n0: int, n: int, alpha: float, batch: int, sigma: float, out_path: str) -> int:
    """CERTIFY (Cohen et al. 2019, Algorithm 'certify') over ``indices``, one TSV line per image like their script.

    Loads the same cached model as ``robustcore certify --model cohen --sigma sigma``.
    Returns the number of images certified (not abstained).
    """
    from scipy.stats import beta, norm

    from robustcore.smoothing.training import smoothing_model

    model, _ = smoothing_model("cohen", sigma)
    model.eval()
    certified = 0
    with open(out_path, "w") as f:
        print("idx\tlabel\tpredict\tradius\tcorrect\ttime", file=f, flush=True)
        for i in indices:
            t0 = time.perf_counter()
            x = X[i]
            c_a = int(cohen_sample_counts(model, x, n0, batch, sigma, 10).argmax())
            n_a = int(cohen_sample_counts(model, x, n, batch, sigma, 10)[c_a])
            p_a = beta.ppf(alpha, n_a, n - n_a + 1) if n_a > 0 else 0.0  # one-sided Clopper-Pearson
            pred, radius = (-1, 0.0) if p_a < 0.5 else (c_a, sigma * norm.ppf(p_a))
            certified += pred != -1
            print(f"{i}\t{int(y[i])}\t{pred}\t{radius:.3}\t{int(pred == int(y[i]))}\t"
                  f"{time.perf_counter() - t0:.3f}", file=f, flush=True)
    return certified


def cli_vs_cohen(args) -> None:
    """Section 0: ``robustcore certify`` end to end vs Cohen's loop, side by side (interleaved best-of)."""
    import contextlib
    import io

    from robustcore.cli import main as cli_main
    from robustcore.data import load_digits
    from robustcore.smoothing import fastpath
    from robustcore.smoothing.training import smoothing_model

    torch.set_num_threads(args.threads)
    smoothing_model("cohen", 0.25)  # train/cache the model once, outside every timing
    X, y = load_digits("test")
    skip = max(1, len(X) // args.images)
    indices = list(range(0, len(X), skip))[: args.images]
    total = len(indices) * (args.n0 + args.n)
    print(f"# CLI end to end vs Cohen et al.'s loop: digits Cohen CNN (sigma 0.25), {len(indices)} images, "
          f"n0={args.n0}, n={args.n}, batch {args.batch}, {args.threads} thread(s), {total:,} samples; "
          f"best of {args.repeats}, interleaved")
    print(f"# torch {torch.__version__}; load average {os.getloadavg()[0]:.1f} (shared machine: noisy); "
          f"fast path compiles from {fastpath.COMPILE_MIN_SAMPLES:,} samples")
    common = ["certify", "--model", "cohen", "--sigma", "0.25", "--n0", str(args.n0), "--n", str(args.n),
              "--batch-size", str(args.batch), "--skip", str(skip), "--max-images", str(len(indices)),
              "--threads", str(args.threads), "--no-progress"]

    def ours(extra):
        def run():
            with tempfile.TemporaryDirectory() as d:
                torch._dynamo.reset()  # compile again every time: its cost is part of the figure
                err = io.StringIO()
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                    code = cli_main(common + extra + ["--store", os.path.join(d, "s.sqlite")])
                if code != 0:
                    raise SystemExit(f"robustcore certify failed: {err.getvalue().strip()}")
                notes.extend(ln for ln in err.getvalue().splitlines() if ln.startswith("note:"))
        return run

    def cohen():
        with tempfile.TemporaryDirectory() as d:
            cohen_certify_run(X, y, indices, args.n0, args.n, 1e-3, args.batch, 0.25, os.path.join(d, "log.tsv"))

    notes: list[str] = []
    items = {"Cohen et al.'s loop": cohen, "robustcore certify (default)": ours([]),
             "robustcore certify --no-compile": ours(["--no-compile"])}
    times: dict[str, list[float]] = {k: [] for k in items}
    for _ in range(args.repeats):
        for name, fn in items.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in times.items()}
    base = best["Cohen et al.'s loop"]
    for name, t in best.items():
        print(f"{name:34s}: {t:8.1f} s  {len(indices) / t * 60:8.1f} images/min  {total / t:12,.0f} samples/s  "
              f"x{base / t:.2f} vs Cohen")
    for note in sorted(set(notes)):
        print(note)
    # the break-even behind COMPILE_MIN_SAMPLES: compile time / per-sample saving (eager vs compiled, both channels-last)
    model = smoothing_model("cohen", 0.25)[0]
    torch._dynamo.reset()
    t0 = time.perf_counter()
    comp, path = fastpath.fast_model(model, X[0], args.batch, 10**12, compile=True)
    t_compile = time.perf_counter() - t0
    eager, _ = fastpath.fast_model(model, X[0], args.batch, 0, compile=False)
    if path.compiled:
        t_e = best_time(forward_loop(eager, 20 * args.batch, args.batch, "inference_mode"), args.repeats)
        t_c = best_time(forward_loop(comp, 20 * args.batch, args.batch, "inference_mode"), args.repeats)
        saving = (t_e - t_c) / (20 * args.batch)
        even = t_compile / saving if saving > 0 else float("inf")
        print(f"compile {t_compile:.1f} s; forward channels-last eager {20 * args.batch / t_e:,.0f} samples/s, "
              f"compiled {20 * args.batch / t_c:,.0f} samples/s; compilation pays from {even:,.0f} samples")
    else:
        print(f"torch.compile unavailable here ({path.reason}): the CLI runs eager")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--n0", type=int, default=100)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="n = 20,000 and fewer variants")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--ray-images", type=int, default=8)
    ap.add_argument("--ray-n", type=int, default=10_000)
    ap.add_argument("--cli-vs-cohen", action="store_true", help="only section 0: the CLI against Cohen's loop")
    ap.add_argument("--images", type=int, default=30, help="images of section 0 (default 30)")
    args = ap.parse_args()
    if args.cli_vs_cohen:
        cli_vs_cohen(args)
        return
    if args.quick:
        args.n, args.repeats, args.ray_images = 20_000, 2, 4
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    model, _ = default_model("digits-cnn")
    model.eval()
    X, y = load_digits("test")
    x = X[0]
    total = args.n0 + args.n
    b = args.batch
    print(f"# digits CNN, CPU, {args.threads} thread(s), n0={args.n0}, n={args.n}, batch {b}, best of {args.repeats}")
    print(f"# torch {torch.__version__}; machine load average {os.getloadavg()[0]:.1f} (shared machine: noisy)")

    # Every timed item processes the same `total` samples. All items are timed round-robin, repeat
    # after repeat, and each reports its best time: on a shared machine the load changes by the
    # minute, and interleaving makes the ratios comparable even when the absolute figures are not.
    class Timed(torch.nn.Module):
        """Adds up the wall time spent inside the wrapped model's forward (CPU: synchronous)."""

        def __init__(self, inner):
            super().__init__()
            self.inner, self.seconds = inner, 0.0

        def forward(self, z):
            t0 = time.perf_counter()
            out = self.inner(z)
            self.seconds += time.perf_counter() - t0
            return out

    def fresh():
        return default_model("digits-cnn")[0].eval()

    timed = Timed(model)
    inside: list[float] = []

    def certify_timed():
        timed.seconds = 0.0
        t0 = time.perf_counter()
        Smooth(timed, 10, 0.25).certify(x, args.n0, args.n, 1e-3, b, seed=0)
        inside.append(timed.seconds / (time.perf_counter() - t0))

    items: dict[str, object] = {
        "bare eager forward (no_grad)": forward_loop(model, total, b),
        "certify (eager, default)": certify_timed,
        f"forward inference_mode, batch {b}": forward_loop(model, total, b, "inference_mode"),
        f"forward channels_last, batch {b}": forward_loop(
            fresh().to(memory_format=torch.channels_last), total, b, "inference_mode", channels_last=True),
        f"forward bfloat16, batch {b}": forward_loop(fresh().to(torch.bfloat16), total, b, "inference_mode",
                                                     dtype=torch.bfloat16),
    }
    for bb in ([250, 4000] if not args.quick else [4000]):
        items[f"forward inference_mode, batch {bb}"] = forward_loop(model, total, bb, "inference_mode")
    sm_cl = Smooth(fresh(), 10, 0.25, channels_last=True)
    items["certify Smooth(channels_last=True)"] = lambda: sm_cl.certify(x, args.n0, args.n, 1e-3, b, seed=0)
    if not args.no_compile:
        try:
            t0 = time.perf_counter()
            comp = torch.compile(fresh(), dynamic=False)
            with torch.inference_mode():
                comp(torch.rand(b, 1, 8, 8))
                if total % b:
                    comp(torch.rand(total % b, 1, 8, 8))
            print(f"torch.compile warm-up: {time.perf_counter() - t0:.1f} s (paid once per process and shape)")
            items[f"forward torch.compile, batch {b}"] = forward_loop(comp, total, b, "inference_mode")
            sm_c = Smooth(fresh(), 10, 0.25, compile=True)
            sm_c.certify(x, 10, 1000, 1e-3, b, seed=0)
            items["certify Smooth(compile=True)"] = lambda: sm_c.certify(x, args.n0, args.n, 1e-3, b, seed=0)
            sm_cc = Smooth(fresh(), 10, 0.25, channels_last=True, compile=True)
            sm_cc.certify(x, 10, 1000, 1e-3, b, seed=0)
            items["certify Smooth(channels_last, compile)"] = (
                lambda: sm_cc.certify(x, args.n0, args.n, 1e-3, b, seed=0))
        except Exception as exc:  # no compiler toolchain on this machine
            print(f"torch.compile unavailable: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    for fn in items.values():  # warm-up
        fn()
    inside.clear()
    times: dict[str, list[float]] = {name: [] for name in items}
    for _ in range(args.repeats):
        for name, fn in items.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    best = {name: min(ts) for name, ts in times.items()}
    t_fwd, t_cert = best["bare eager forward (no_grad)"], best["certify (eager, default)"]
    print(f"certify                     : {total / t_cert:12,.0f} samples/s  ({t_cert:.3f} s per image)")
    print(f"bare eager forward (no_grad): {total / t_fwd:12,.0f} samples/s  ({t_fwd:.3f} s)")
    print(f"ratio certify / bare forward samples/s: {t_fwd / t_cert:.1%}  (target >= 90%)")
    print(f"time inside the model's forward during certify (measured in the same call): "
          f"{max(inside):.1%} (median {sorted(inside)[len(inside) // 2]:.1%})")
    print("# speed-ups against the bare eager forward loop (same samples; interleaved best-of)")
    for name, t in best.items():
        if name.startswith("bare"):
            continue
        print(f"{name:40s}: {total / t:12,.0f} samples/s  x{t_fwd / t:.2f}")
    bf = fresh().to(torch.bfloat16)
    # bfloat16 changes the base classifier: say how much, and why it is not the default
    with torch.inference_mode():
        gen = torch.Generator().manual_seed(1)
        noisy = (x + 0.25 * torch.randn((20_000, 1, 8, 8), generator=gen))
        agree = (model(noisy).argmax(1) == bf(noisy.to(torch.bfloat16)).argmax(1)).float().mean()
        full = bf(noisy[:1000].to(torch.bfloat16)).argmax(1)
        part = torch.cat([bf(noisy[i:i + 250].to(torch.bfloat16)).argmax(1) for i in range(0, 1000, 250)])
    print(f"bfloat16 agrees with float32 on {agree:.2%} of noisy samples; batch-size independent: {bool((full == part).all())}")
    print("note: a bfloat16 base classifier is a different but legitimate f; the certificate stays sound only if "
          "f(x) does not depend on the batch it is evaluated in, so Smooth keeps float32 by default.")

    # 3. images per minute, local vs Ray with 2 workers
    if args.no_ray:
        return
    from robustcore.smoothing.runner import CertifyJob, run_certification
    from robustcore.store import ResultsStore

    job = CertifyJob(model="plain", n0=args.n0, n=args.ray_n, batch_size=b, skip=1, seed=0)
    with tempfile.TemporaryDirectory() as d:
        for backend in ("local", "ray"):
            store = ResultsStore(os.path.join(d, f"{backend}.sqlite"))
            stamps: list[float] = []
            t0 = time.perf_counter()
            s = run_certification(job, store, backend=backend, max_images=args.ray_images, num_workers=2,
                                  model=model, model_info=None, data=(X, y),
                                  progress=lambda done, tot, c: stamps.append(time.perf_counter()))
            wall = time.perf_counter() - t0
            # stamps[0] is the call before any image; steady state = from the first result to the last
            steady = (len(stamps) - 2) / (stamps[-1] - stamps[1]) * 60 if len(stamps) > 2 else float("nan")
            print(f"{backend:5s} backend: {s.new} images at n={args.ray_n}: {60 * s.new / wall:.1f} images/min "
                  f"including start-up ({wall:.1f} s), {steady:.1f} images/min steady state")


if __name__ == "__main__":
    main()
