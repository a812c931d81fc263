"""Speed of the Gabor page's live computation, the Gabor LeNet's training step, and page reruns.

Prints the median time (ms) of ``filter_lipschitz_bounds`` + ``lipschitz_upper_bound`` +
``per_filter_spectral_norms`` + ``bank_spectral_norm`` for a 64-filter 7x7 bank (8 families x 8
orientations) on a 32x32 input (target < 50 ms), and the bank generation time; one training step
(forward + backward, batch 128) of the standard and the Gabor LeNet on 28x28 MNIST; and, with
``--page``, the AppTest time of warm reruns of the Gabor page after everyday interactions (target
< 1 s; the browser adds drawing time, measured by ``benchmarks/pages.py``).

    .venv/bin/python benchmarks/gabor.py [--page]
"""
from __future__ import annotations

import statistics
import sys
import time

import torch
from _timing import wall_times

from robustcore.gabor import (
    GaborConv2d,
    bank_spectral_norm,
    filter_lipschitz_bounds,
    lipschitz_upper_bound,
    per_filter_spectral_norms,
)


def _time(fn, repeats: int = 50) -> float:
    fn()  # warm-up (caches the grid constants, as a live page would after the first move)
    return statistics.median(wall_times(fn, repeats)) * 1e3


def main() -> None:
    torch.set_num_threads(1)
    layer = GaborConv2d(1, 16, 7, families=8, orientations=8, seed=0)
    assert layer.num_kernels == 64

    def bound_and_exact():
        bank = layer.kernels().detach().double().numpy()
        lf = filter_lipschitz_bounds(layer)
        lb = lipschitz_upper_bound(layer)
        ex = per_filter_spectral_norms(bank, 32)
        be = bank_spectral_norm(bank, 32)
        return lf, lb, ex, be

    from robustcore.gabor.bound import _grid_constants_cached

    _grid_constants_cached.cache_clear()  # a first slider move on a new (k, orientations): counts computed
    t0 = time.perf_counter()
    bound_and_exact()
    t_cold = (time.perf_counter() - t0) * 1e3
    t_all = _time(bound_and_exact)
    t_bound = _time(lambda: (filter_lipschitz_bounds(layer), lipschitz_upper_bound(layer)))
    bank = layer.kernels().detach().double().numpy()
    t_exact = _time(lambda: (per_filter_spectral_norms(bank, 32), bank_spectral_norm(bank, 32)))
    print("Gabor bank: 64 filters (8 families x 8 orientations), 7x7, input 32x32, 1 thread")
    print(f"bound + exact constant (incl. bank generation): {t_all:.2f} ms  (target < 50 ms)")
    print(f"  first call, grid constants not yet cached:    {t_cold:.2f} ms")
    print(f"  closed-form bound (per filter + layer):       {t_bound:.2f} ms")
    print(f"  exact FFT norms (per filter + bank):          {t_exact:.2f} ms")
    lenet_step()
    if "--page" in sys.argv:
        page_reruns()


def lenet_step() -> None:
    """Forward + backward of one batch of 128 MNIST-sized images, standard vs Gabor LeNet (1 thread)."""
    from robustcore.gabor.lenet import gabor_lenet, standard_lenet

    x, y = torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))
    for name, model in (("standard LeNet", standard_lenet()), ("Gabor LeNet (P=2, R=8)", gabor_lenet())):
        def step(model=model):
            torch.nn.functional.cross_entropy(model(x), y).backward()
        print(f"training step, batch 128, {name:24s} {_time(step, 20):.1f} ms")


def page_reruns() -> None:
    """AppTest time of warm reruns after everyday interactions on the Gabor page (median of 5)."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))  # the page imports ui.*, as it does under `streamlit run app.py`
    at = AppTest.from_file(str(root / "app_pages" / "gabor.py"), default_timeout=120).run()
    if at.exception:
        raise SystemExit(f"the page failed: {at.exception[0].value}")
    moves = [("sigma slider", lambda a, v: a.slider(key="g_sigma").set_value(v), [2.0, 2.5, 3.0, 3.5, 4.0]),
             ("orientations R", lambda a, v: a.slider(key="g_R").set_value(v), [4, 6, 8, 10, 12]),
             ("regulariser steps", lambda a, v: a.slider(key="g_path_steps").set_value(v), [20, 30, 40, 50, 60]),
             ("image", lambda a, v: a.radio(key="g_img").set_value(v), ["flower.jpg", "china.jpg"] * 2 + ["flower.jpg"])]
    for name, act, values in moves:
        for v in values:  # warm every value first: the page caches per input
            act(at, v).run()
        times = []
        for v in values:
            t0 = time.perf_counter()
            act(at, v).run()
            times.append(time.perf_counter() - t0)
        print(f"page rerun after '{name}': median {statistics.median(times) * 1e3:.0f} ms (AppTest, warm)")


if __name__ == "__main__":
    main()
