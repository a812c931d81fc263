"""Tropical applications: pruning table (tropical vs magnitude at 50/75/90 %), attack vs PGD, and timings.

Run: .venv/bin/python benchmarks/tropical_apps.py
Prints, for the 2-D toy net (default "toy-moons" model, held-out moons data) and the digits MLP's last
Affine-ReLU-Affine block (test features), the accuracy of each pruning method at 50 %, 75 % and 90 %
pruning and which keeps accuracy better; the tropical attack against PGD on toy points; and the
compute time of each page section's default preset (the target is < 5 s each on a CPU).
"""

from __future__ import annotations

import time

import numpy as np
import torch

torch.set_num_threads(1)

from robustcore.data import load_digits, toy_dataset  # noqa: E402
from robustcore.nets import default_model  # noqa: E402
from robustcore.tropical.attack import pgd_min_radius, tropical_attack  # noqa: E402
from robustcore.tropical.lottery import lottery_experiment  # noqa: E402
from robustcore.tropical.net import ShallowReluNet  # noqa: E402
from robustcore.tropical.pruning import pruning_curves  # noqa: E402

PAGE_RATIOS = (0.0, 0.25, 0.5, 0.6, 0.75, 0.85, 0.9)  # the pruning section's preset
METHODS = ("tropical", "magnitude", "magnitude-neuron", "tropical-shrunk")


def toy_setup():
    model, info = default_model("toy-moons")
    cfg = info["config"]
    X, y = toy_dataset(cfg["data"], n=cfg.get("n", 400), noise=cfg.get("noise", 0.1), seed=cfg["seed"] + 10_000)
    return ShallowReluNet.from_torch(model), X, y


def digits_setup():
    model, _ = default_model("digits-mlp")
    Xte, yte = load_digits("test")
    with torch.no_grad():
        F = model.features(Xte).double().numpy()
    return ShallowReluNet.from_torch(model.head), F, yte.numpy()


def pruning_table(name: str, net: ShallowReluNet, X, y) -> None:
    c = pruning_curves(net, X, y, (0.5, 0.75, 0.9), methods=METHODS)
    print(f"\n## Pruning: {name} (d={net.d}, p={net.p}, k={net.k}; accuracy on {len(y)} held-out points; "
          f"unpruned {float((net.predict(X) == y).mean()):.4f})")
    print("ratio | " + " | ".join(f"acc {m}" for m in METHODS) + " | keeps accuracy better (tropical vs class-blind magnitude)")
    for i, r in enumerate((0.5, 0.75, 0.9)):
        accs = [float(c[m]["accuracy"][i]) for m in METHODS]
        t, mg = accs[0], accs[1]
        verdict = "tie" if abs(t - mg) < 1e-12 else ("tropical" if t > mg else "magnitude")
        print(f"{r:.2f}  | " + " | ".join(f"{a:.4f}" for a in accs) + f" | {verdict}")
    print("ratio | hausdorff_rel tropical | hausdorff_rel magnitude | area_ratio tropical | area_ratio magnitude")
    for i, r in enumerate((0.5, 0.75, 0.9)):
        print(f"{r:.2f}  | {c['tropical']['hausdorff_rel'][i]:.4f} | {c['magnitude']['hausdorff_rel'][i]:.4f} | "
              f"{c['tropical']['area_ratio'][i]:.4f} | {c['magnitude']['area_ratio'][i]:.4f}")


def attack_table(net: ShallowReluNet, X, n_points: int = 20) -> None:
    box = (float(X.min()) - 0.5, float(X.max()) + 0.5)
    L = net.logits(X)
    gap = np.abs(L[:, 0] - L[:, 1]) if net.k == 2 else np.ptp(np.sort(L, 1)[:, -2:], axis=1)
    idx = np.argsort(gap)[: 4 * n_points : 4]  # points near the boundary, spread out
    rows = []
    for i in idx:
        x0 = X[i]
        r = tropical_attack(net, x0, eps1=1.0, eps2=1.0, box=box, iters=200)
        pi = pgd_min_radius(net, x0, 1.0, norm="linf", box=box)
        p2 = pgd_min_radius(net, x0, np.sqrt(2.0), norm="l2", box=box)
        rows.append((r.success, r.norm_l2, r.norm_linf, pi["success"], pi["norm_l2"], pi["norm_linf"], p2["success"], p2["norm_l2"]))
    a = np.array(rows, dtype=float)
    print(f"\n## Attack on the toy net: {len(idx)} points near the boundary, eps1 = eps2 = 1, box {box[0]:.2f}..{box[1]:.2f}")
    print(f"success rate: tropical {a[:, 0].mean():.2f} | PGD-linf {a[:, 3].mean():.2f} | PGD-l2 {a[:, 6].mean():.2f}")
    both = (a[:, 0] == 1) & (a[:, 3] == 1) & (a[:, 6] == 1)
    if both.any():
        print(f"on the {int(both.sum())} points all three flip (medians): ||eta||_2 tropical {np.median(a[both, 1]):.4f} | "
              f"PGD-linf {np.median(a[both, 4]):.4f} | PGD-l2 {np.median(a[both, 7]):.4f};  ||eta||_inf tropical "
              f"{np.median(a[both, 2]):.4f} | PGD-linf {np.median(a[both, 5]):.4f}")
        print(f"tropical ||eta||_2 <= PGD-l2 ||eta||_2 on {int((a[both, 1] <= a[both, 7] + 1e-12).sum())}/{int(both.sum())} points")


def lottery_table(seeds: range = range(5)) -> None:
    print("\n## Lottery tickets (p=16, 300 epochs full-batch Adam, 300 train / 300 test points, noise 0.15), "
          f"mean over seeds {seeds.start}..{seeds.stop - 1}")
    print("dataset | ratio | test acc dense | ticket | random | d_H(dense, ticket) | d_H(dense, random) | ticket closer (seeds)")
    for ds in ("moons", "circles", "xor"):
        res: dict[float, list] = {}
        for sd in seeds:
            X, y = toy_dataset(ds, n=300, noise=0.15, seed=sd)
            Xt, yt = toy_dataset(ds, n=300, noise=0.15, seed=1000 + sd)
            e = lottery_experiment(X, y, ratios=(0.5, 0.8), hidden=16, epochs=300, seed=sd, X_test=Xt, y_test=yt)
            for r in e.runs:
                res.setdefault(r.ratio, []).append((e.test_acc_dense, r.test_acc_ticket, r.test_acc_random,
                                                     r.dist_ticket, r.dist_random))
        for ratio, rows in res.items():
            a = np.array(rows)
            closer = int((a[:, 3] < a[:, 4] - 1e-12).sum())
            print(f"{ds} | {ratio:.1f} | {a[:, 0].mean():.3f} | {a[:, 1].mean():.3f} | {a[:, 2].mean():.3f} | "
                  f"{a[:, 3].mean():.3f} | {a[:, 4].mean():.3f} | {closer}/{len(a)}")


def digits_attack_table(n_images: int = 10) -> None:
    from robustcore.tropical.attack import split_first_layer

    model, _ = default_model("digits-mlp")
    X, _ = load_digits("test")
    A, head = split_first_layer(model)
    rows, ts = [], []
    for i in range(n_images):
        x0 = X[i].reshape(-1).double().numpy()
        t0 = time.perf_counter()
        r = tropical_attack(None, x0, head=head, A=A, eps1=0.3, eps2=0.05, box=(0.0, 1.0), iters=150)
        ts.append(time.perf_counter() - t0)
        p = pgd_min_radius(model, x0, 0.3, norm="linf", box=(0.0, 1.0))
        rows.append((r.success, r.norm_l2, r.norm_linf, p["success"], p["norm_l2"], p["norm_linf"]))
    a = np.array(rows, dtype=float)
    both = (a[:, 0] == 1) & (a[:, 3] == 1)
    print(f"\n## Attack on digits MLP (first layer coupled), first {n_images} test images, eps1 = 0.3 px, eps2 = 0.05")
    print(f"success rate: tropical {a[:, 0].mean():.2f} | PGD-linf {a[:, 3].mean():.2f}; tropical time per image "
          f"median {np.median(ts):.2f} s")
    if both.any():
        print(f"on the {int(both.sum())} images both flip (medians): ||eta||_2 tropical {np.median(a[both, 1]):.4f} | "
              f"PGD-linf {np.median(a[both, 4]):.4f};  ||eta||_inf tropical {np.median(a[both, 2]):.4f} | "
              f"PGD-linf {np.median(a[both, 5]):.4f}")


def timings(net: ShallowReluNet, X, y) -> None:
    print("\n## Section timings (default presets, compute only, warm process; 2 shared CPU cores: noisy)")
    box = (float(X.min()) - 0.5, float(X.max()) + 0.5)
    L = net.logits(X)
    x0 = X[int(np.argsort(np.abs(L[:, 0] - L[:, 1]))[len(X) // 10])]
    Xl, yl = toy_dataset("moons", n=300, noise=0.15, seed=0)
    jobs = {
        "pruning (2-D toy net, 7 ratios, tropical + magnitude)": lambda: pruning_curves(net, X, y, PAGE_RATIOS),
        "lottery (p=16, 300 epochs, ratios 0.5 and 0.8, 5 trainings)": lambda: lottery_experiment(
            Xl, yl, ratios=(0.5, 0.8), hidden=16, epochs=300, seed=0),
        "attack (ADMM 200 iterations + PGD-linf and PGD-l2 bisection)": lambda: (
            tropical_attack(net, x0, eps1=1.0, eps2=1.0, box=box, iters=200),
            pgd_min_radius(net, x0, 1.0, "linf", box), pgd_min_radius(net, x0, np.sqrt(2), "l2", box)),
    }
    for name, job in jobs.items():
        job()  # warm-up (imports, torch's first call)
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            job()
            ts.append(time.perf_counter() - t0)
        print(f"{name}: median {np.median(ts):.3f} s (min {min(ts):.3f}, max {max(ts):.3f}) | target < 5 s")
    Fn, F, yd = digits_setup()
    t0 = time.perf_counter()
    pruning_curves(Fn, F, yd, PAGE_RATIOS)
    print(f"pruning (digits MLP block, 7 ratios): {time.perf_counter() - t0:.3f} s (optional view, not the default)")


def main() -> None:
    net, X, y = toy_setup()
    pruning_table("2-D toy net (toy-moons default model)", net, X, y)
    pruning_table("digits MLP, last Affine-ReLU-Affine block", *digits_setup())
    lottery_table()
    attack_table(net, X)
    digits_attack_table()
    timings(net, X, y)


if __name__ == "__main__":
    main()
