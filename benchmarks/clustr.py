"""Speed of the ClusTR certificates on a whole test set (digits: 450 images; mnist-5k: 1,000).

Prints, best of 5 (wall clock):
- the closed-form certificate (embedding + nearest-centre radius + Lipschitz bound) for all 450
  test images (target < 1 s);
- the exact multi-centre radius (active-set QP) for all 450;
- the radius computation alone (features given).

Run: ``.venv/bin/python benchmarks/clustr.py [--threads N] [--data digits|mnist-5k]``. The default ClusTR
model is trained on first use (seconds to a minute) and cached; that time is not part of the figures.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from _timing import wall_times


def best_of(fn, repeats: int = 5) -> float:
    return min(wall_times(fn, repeats))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", choices=("digits", "mnist-5k"), default="digits")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from robustcore.clustr import exact_center_radius, nearest_center_radius
    from robustcore.clustr.training import default_clustr_model
    from robustcore.data import load_dataset

    model = default_clustr_model(dataset=args.data)
    X, y = load_dataset(args.data, "test")
    model.certify(X)  # warm-up
    t_closed = best_of(lambda: model.certify(X))
    t_exact = best_of(lambda: model.certify(X, exact=True))
    feats = model.embed_all(X).double().numpy()
    C, lab = model.centers.double().numpy(), model.center_labels.numpy()
    t_radius = best_of(lambda: nearest_center_radius(feats, C, lab))
    t_qp = best_of(lambda: exact_center_radius(feats, C, lab))
    cert = model.certify(X, exact=True)
    correct = cert["label"] == y.numpy()
    print(f"threads: {args.threads}; {args.data} test set: {X.shape[0]} images; model: {model.num_classes} classes x "
          f"K={model.k_per_class} centres, D={model.feature_dim}")
    print(f"certify (embed + closed form + Lipschitz bound), all {X.shape[0]}: {t_closed * 1e3:.1f} ms (target < 1000 ms)")
    print(f"certify with exact QP radius, all {X.shape[0]}:                 {t_exact * 1e3:.1f} ms")
    print(f"closed-form radius only (features given):             {t_radius * 1e3:.2f} ms")
    print(f"exact QP radius only (features given):                {t_qp * 1e3:.2f} ms")
    print(f"clean accuracy {correct.mean():.4f}; Lipschitz upper bound {cert['lipschitz_bound']:.3f}; "
          f"median input radius (correct images) {np.median(cert['input_radius'][correct]):.4f}; "
          f"exact/closed-form radius ratio (median) {np.median(cert['feature_radius'] / np.maximum(cert['closed_form_radius'], 1e-12)):.3f}")


if __name__ == "__main__":
    main()
