"""Speed of the Gabor page's live computation: closed-form bound + exact constant of a bank.

Prints the median time (ms) of ``filter_lipschitz_bounds`` + ``lipschitz_upper_bound`` +
``per_filter_spectral_norms`` + ``bank_spectral_norm`` for a 64-filter 7x7 bank (8 families x 8
orientations) on a 32x32 input (target < 50 ms), and the bank generation time.

    .venv/bin/python benchmarks/gabor.py
"""
from __future__ import annotations

import statistics
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


if __name__ == "__main__":
    main()
