"""Torch intra-op threads for the dashboard's server: the certificates page's heavy calls at 1 vs 2 threads.

    python benchmarks/threads.py [--threads 1 2] [--busy 0 1] [--repeats 3]

For each thread count and each level of background load, a fresh subprocess sets ``torch.set_num_threads`` and
times what the certificates page runs on the digits CNN (``smoothing_model("cohen", 0.25)``, trained once and
cached): the sigma landscape (20 sigmas, n = 500, common random numbers) and CERTIFY with n = 10^4 and 10^5 at
the page's CPU batch. ``--busy K`` starts K processes that spin a core each while the timing runs, standing in
for "other work on the machine" (on the 2-core build machine: the browser drawing figures, another job).
Each figure is the median of ``--repeats`` calls, in seconds; the load average is printed beside it.
This is what ``ui.common.configure_torch_threads`` (half the cores by default) rests on.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(threads: int, repeats: int, queue) -> None:
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    from robustcore.smoothing.certify import Smooth
    from robustcore.smoothing.landscape import sigma_landscape
    from robustcore.smoothing.training import smoothing_model
    from ui.certificates.config import ALPHA, LANDSCAPE_N, LANDSCAPE_SIGMAS, N0, SMALL_IMAGE_BATCH

    model, _ = smoothing_model("cohen", 0.25)
    model.eval()
    x = torch.from_numpy(np.random.default_rng(0).random((1, 8, 8), dtype=np.float32))
    jobs = {
        "sigma landscape": lambda: sigma_landscape(model, x, LANDSCAPE_SIGMAS, n=LANDSCAPE_N, alpha=ALPHA, seed=1),
        "CERTIFY n=10^4": lambda: Smooth(model, 10, 0.25).certify(x, n0=N0, n=10_000, alpha=ALPHA, seed=2,
                                                                 batch_size=SMALL_IMAGE_BATCH),
        "CERTIFY n=10^5": lambda: Smooth(model, 10, 0.25).certify(x, n0=N0, n=100_000, alpha=ALPHA, seed=3,
                                                                 batch_size=SMALL_IMAGE_BATCH),
    }
    out = {}
    for name, job in jobs.items():
        job()  # warm-up: first-call allocations and kernel selection
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            job()
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times)
    queue.put(out)


def _spin() -> None:
    while True:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--busy", type=int, nargs="+", default=[0, 1], help="background spinning processes")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    ctx = mp.get_context("spawn")  # a fresh interpreter per measurement: torch's thread pool is set once
    print(f"{os.cpu_count()} cores; median of {args.repeats} calls, seconds\n")
    rows = []
    for busy in args.busy:
        spinners = [ctx.Process(target=_spin, daemon=True) for _ in range(busy)]
        for s in spinners:
            s.start()
        try:
            for threads in args.threads:
                q = ctx.Queue()
                p = ctx.Process(target=_child, args=(threads, args.repeats, q))
                p.start()
                res = q.get()
                p.join()
                load = os.getloadavg()[0]
                rows.append((busy, threads, res, load))
                cells = "  ".join(f"{k} {v:6.2f}" for k, v in res.items())
                print(f"busy {busy}  threads {threads}  {cells}  (load {load:.1f})", flush=True)
        finally:
            for s in spinners:
                s.terminate()
                s.join()
    print()
    for busy in args.busy:
        base = next((r for r in rows if r[0] == busy and r[1] == args.threads[0]), None)
        for r in rows:
            if r[0] == busy and base is not None and r is not base:
                ratios = "  ".join(f"{k} x{r[2][k] / base[2][k]:.2f}" for k in base[2])
                print(f"busy {busy}: {r[1]} threads / {base[1]} thread(s): {ratios}")


if __name__ == "__main__":
    main()
