"""Speed of the data-dependent-sigma tools on the digits CNN (Gaussian-augmentation model, sigma 0.25).

Prints:
- the sigma landscape of one digits image: 40 sigmas x 2,000 samples (target < 2 s);
- optimize_sigma for a batch of 100 digits images (target < 10 s) at the settings the page and the
  dataset runs use (steps x n_samples below);
- the IDRS (Lipschitz-sigma) radius for one certificate, and the memory over the 450 test images.

Run: ``.venv/bin/python benchmarks/ddrs.py [--threads N]``. Each figure is the best of a few runs,
as wall-clock seconds and as the process's CPU seconds. On a shared, overloaded machine the wall
clock mostly measures waiting; with ``--threads 1`` (the default) the CPU seconds are close to the
wall-clock time the same work takes on an idle core.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def best_of(fn, repeats: int = 3) -> tuple[float, float]:
    """(best wall-clock seconds, best CPU seconds of this process) over ``repeats`` runs."""
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from robustcore.data import load_digits
    from robustcore.smoothing.ddsigma import optimize_sigma
    from robustcore.smoothing.landscape import sigma_landscape
    from robustcore.smoothing.lipschitz_sigma import lipschitz_sigma_radius
    from robustcore.smoothing.memory import memory_certify
    from robustcore.smoothing.training import smoothing_model

    model, _ = smoothing_model("cohen", 0.25)
    model.eval()
    X, y = load_digits("test")
    print(f"device={args.device} torch threads={torch.get_num_threads()} model=digits-cnn (cohen, sigma 0.25)")

    sigmas = np.linspace(0.05, 1.0, 40)
    w, c = best_of(lambda: sigma_landscape(model, X[0], sigmas, n=2000, alpha=0.001, device=args.device))
    print(f"landscape, 1 image, 40 sigmas x 2,000 samples: wall {w:.3f} s, CPU {c:.3f} s  (target < 2 s; "
          f"{80_000 / c:,.0f} forward/CPU-s)")

    for steps, n_samples, precision in [(100, 32, "float32"), (100, 32, "bfloat16"), (50, 32, "float32")]:
        w, c = best_of(lambda: optimize_sigma(model, X[:100], sigma0=0.25, steps=steps, lr=0.01,
                                              n_samples=n_samples, device=args.device, precision=precision),
                       repeats=2)
        print(f"optimize_sigma, 100 images, {steps} steps x {n_samples} samples, {precision}: wall {w:.3f} s, "
              f"CPU {c:.3f} s  (target < 10 s; {100 * steps * n_samples / c:,.0f} forward+backward/CPU-s)")

    # per_input=True: one forward pass per image (what a resumable dataset run uses; bit-exact per image)
    w, c = best_of(lambda: optimize_sigma(model, X[:100], sigma0=0.25, steps=50, lr=0.01, n_samples=32,
                                          device=args.device, per_input=True), repeats=2)
    print(f"optimize_sigma per_input, 100 images, 50 steps x 32 samples: wall {w:.3f} s, CPU {c:.3f} s")

    w, c = best_of(lambda: lipschitz_sigma_radius(0.25, 0.999, 64, 0.1))
    print(f"IDRS radius (r=0.1, p_A=0.999, N=64): wall {w * 1e3:.1f} ms, CPU {c * 1e3:.1f} ms")

    rng = np.random.default_rng(0)
    w, c = best_of(lambda: memory_certify(X.numpy(), rng.integers(0, 10, len(X)), rng.random(len(X)) * 0.5))
    print(f"memory over {len(X)} test images (64-d): wall {w * 1e3:.1f} ms, CPU {c * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
