"""ClusTR's headline comparison on mnist-5k: ClusTR, ClusTR + free AT and ClusTR + QTRADES against
cross-entropy, each under the official evaluation attack and under ours, over several seeds.

``reproduce()`` trains (or loads from the model cache) every model with the official recipe
(``robustcore.clustr.training.RECIPES["official"]``) on a shortened schedule, attacks the test images
with l-inf PGD three ways (``robustcore.clustr.adversarial``) and returns a
``robustcore.reproduce.ReproduceResult`` whose table gives mean and standard deviation over the seeds.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

__all__ = ["reproduce", "METHODS", "FULL", "QUICK"]

METHODS = (("cross-entropy", "ce"), ("ClusTR", "clustr"), ("ClusTR + free AT", "clustr-free"),
           ("ClusTR + QTRADES", "clustr-qtrades"))
ATTACK_NAMES = {"official": "official: CE on soft exp-scores (soft rule)",
                "soft-margin": "margin on soft log-scores (soft rule)",
                "ours": "ours: margin on nearest-centre logits (nearest rule)"}

# the full run (12.0 min measured on the shared, loaded 2-core machine with one torch thread) and the quick one
# (tests only)
FULL: dict[str, Any] = {"schedule_scale": 1 / 3, "limit": 0, "n_test": 300, "eps": (8 / 255, 0.1),
                        "steps": 20, "restarts": 10}
QUICK: dict[str, Any] = {"schedule_scale": 0.02, "limit": 400, "n_test": 40, "eps": (0.1,), "steps": 3,
                         "restarts": 1}


def _eps_name(e: float) -> str:
    k = e * 255
    return f"{int(round(k))}/255" if abs(k - round(k)) < 1e-9 else f"{e:g}"


def _protocol(p: dict[str, Any], seeds: Sequence[int], device: str, quick: bool) -> str:
    from .training import config_summary, model_config, recipe_deviations

    lines = [
        "**Paper / official code** (Alfarra et al., BMVC 2021; github.com/clustr-official-account/"
        "Rethinking-Clustering-for-Robustness): ResNet-18 on CIFAR-10/100 and SVHN; magnet loss with alpha 12.5, "
        "K = 2 clusters per class, batches of 12 clusters x 20 images, Adam 1e-4 for 90 epochs (x0.1 at 30 and 60); "
        "ClusTR + QTRADES (the README's main recipe) starts from cross-entropy weights and trains 25 epochs with "
        "consistency weight 8 (one signed step, 10/255, eps 8/255); free adversarial training (minibatch replays) "
        "is an option of the same code. Evaluation: l-inf PGD, 20 steps x 10 restarts, step 2/255, cross-entropy "
        "on the soft top-L exp-scores (L = 20), eps 2/255, 8/255, 16/255 and 0.1.",
        "",
        f"**Ours** (`robustcore.clustr.reproduce`): mnist-5k (4,000 train / 1,000 test real 28x28 MNIST digits), "
        f"an MLP embedding, the official hyper-parameters above, seeds {', '.join(map(str, seeds))}, device {device}. "
        "Each model, as trained:",
    ]
    for _, kind in METHODS:
        cfg = model_config(kind, "official", dataset="mnist-5k", schedule_scale=p["schedule_scale"], limit=p["limit"])
        lines.append(f"- {config_summary(cfg)}")
    lines += ["", "**Deviations from the official protocol**, and why:",
              "- MLP 784-256-128-32 embedding on mnist-5k instead of ResNet-18 on CIFAR (CPU budget; the page's data).",
              f"- Schedules scaled by {p['schedule_scale']:g} (epochs and milestones): the full official schedule "
              "for 4 models x 3 seeds does not fit the 15-minute CPU budget.",
              "- Free AT: the official code leaves m and the epochs to its command line; we use m = 8 (Shafahi et "
              "al.) over 90/8 epochs, so it costs as many gradient steps as natural training.",
              "- QTRADES starts from our cross-entropy model of the same embedding (the official one loads their "
              "pretrained ResNet-18), trained with Adam 1e-3 (the official code ships those weights without their "
              "recipe; 1e-4 leaves an MLP under-trained on a short schedule) on ClusTR's schedule and batch size.",
              "- k-means refresh once per epoch warm-started from the previous centres (official: fresh k-means++).",
              f"- Evaluation on {p['n_test']} of the 1,000 test images (every k-th, so every class is in), eps "
              f"{', '.join(_eps_name(e) for e in p['eps'])} (2/255 and 16/255 left out for the CPU budget; 8/255 is "
              "the official training radius and 0.1 the official largest; the run time above was measured on a shared, "
              "heavily loaded 2-core machine with one torch thread), and an example counts as robust only if none "
              "of the restarts fools it (the official code keeps the restart with the largest loss; ours is at "
              "least as strong).",
              "- Two attacks besides the official one: **ours**, the margin loss on the nearest-centre logits "
              "(the rule our certificate covers, step 2.5 eps / steps), and the margin loss on the soft "
              "log-scores (the official decision rule without the saturating exp-scores). Where the official "
              "attack leaves a model far more accurate than these, its gradient is masked: the official "
              "number overstates robustness.",
              f"- Training eps 8/255 as in the official code (MNIST papers usually train at 0.3).",
              ]
    if quick:
        lines.append(f"- QUICK run (tests only): {p['limit']} training images, schedule x{p['schedule_scale']:g}, "
                     f"{p['n_test']} test images, {p['steps']} steps x {p['restarts']} restart(s): not a result.")
    devs = recipe_deviations(model_config("clustr", "official", dataset="mnist-5k", schedule_scale=p["schedule_scale"]))
    if devs:
        lines.append("- ClusTR config vs the official recipe: " + "; ".join(devs) + ".")
    lines.append("")
    lines.append("Clean accuracy is by the rule each attack judges (soft rule for the official attack and the "
                 "soft margin, nearest-centre rule for ours); a cross-entropy model has one rule. PGD accuracy "
                 "is an upper bound on robust accuracy, never a certificate.")
    return "\n".join(lines)


def reproduce(*, seeds: Sequence[int] = (0, 1, 2), device: str = "cpu", quick: bool = False,
              progress: Callable[[float, str], None] | None = None):
    """ClusTR (+ free AT, + QTRADES) vs cross-entropy on mnist-5k under the official attack and ours.

    Parameters
    ----------
    seeds : training / attack seeds (>= 1; >= 3 for a reported result).
    device : torch device for training and attacks ("cpu", "cuda", ...).
    quick : a tiny run (400 training images, 1-2 epochs, 40 test images) for tests, < 30 s on one core.
    progress : optional ``progress(fraction, message)``.

    Returns
    -------
    robustcore.reproduce.ReproduceResult with records (one row per seed x method x attack: clean accuracy
    and PGD accuracy at each eps), table (mean / std / seeds per method x attack) and the protocol.
    """
    import torch

    from robustcore.reproduce import ReproduceResult, summarise

    from ._checks import check_int
    from .training import _check_device, _data, evaluate_both_attacks, load_or_train, model_config

    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (list, tuple)) or not 1 <= len(seeds) <= 20:
        raise ValueError("seeds must be a list of 1 to 20 integers.")
    seeds = [check_int("seed", s, 0, 2**31 - 1) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds must be distinct.")
    device = _check_device(device)
    if not isinstance(quick, bool):
        raise TypeError("quick must be a bool.")
    p = QUICK if quick else FULL
    t0 = time.perf_counter()
    cfgs = {(s, kind): model_config(kind, "official", dataset="mnist-5k", schedule_scale=p["schedule_scale"],
                                    limit=p["limit"], seed=s) for s in seeds for _, kind in METHODS}
    Xt, yt = _data(cfgs[(seeds[0], "ce")], "test")
    # the test split is sorted by class: evenly spaced images keep every class
    idx = torch.arange(min(p["n_test"], Xt.shape[0])) * Xt.shape[0] // min(p["n_test"], Xt.shape[0])
    Xt, yt = Xt[idx], yt[idx]
    rows = []
    total = len(cfgs)
    for j, ((s, kind), cfg) in enumerate(cfgs.items()):
        method = dict((k, m) for m, k in METHODS)[kind]

        def sub(frac: float, msg: str, j=j) -> None:
            if progress is not None:
                progress((j + 0.6 * frac) / total, f"seed {cfg['seed']}, {msg}")

        model, info = load_or_train(cfg, sub, device=device)
        if progress is not None:
            progress((j + 0.6) / total, f"seed {s}, {method}: attacking")
        attacks = ("official", "ours") if kind == "ce" else ("official", "soft-margin", "ours")
        res = evaluate_both_attacks(model, Xt, yt, list(p["eps"]), p["steps"], p["restarts"], L=int(cfg["L"]),
                                    seed=s, attacks=attacks, device=device)
        for a in attacks:
            clean = res["clean (nearest)"] if a == "ours" else res["clean (soft)"]
            row = {"seed": s, "method": method, "attack": ATTACK_NAMES[a] if kind != "ce" else
                   {"official": "official: CE on logits", "ours": "ours: margin on logits"}[a], "clean": clean}
            for e in p["eps"]:
                row[f"eps {_eps_name(e)}"] = res[f"{a}@{e:.4g}"]
            row["train seconds"] = float(info.get("metrics", {}).get("seconds", float("nan")))
            rows.append(row)
    records = pd.DataFrame(rows)
    metrics = ["clean", *[f"eps {_eps_name(e)}" for e in p["eps"]]]
    table = summarise(records, by=["method", "attack"], metrics=metrics)
    cmd = "robustcore reproduce clustr" + (" --quick" if quick else "") + (
        "" if list(seeds) == [0, 1, 2] else " --seeds " + " ".join(map(str, seeds))) + (
        "" if device == "cpu" else f" --device {device}")
    if progress is not None:
        progress(1.0, "done")
    return ReproduceResult(line="clustr", records=records, table=table, protocol=_protocol(p, seeds, device, quick),
                           command=cmd, seconds=time.perf_counter() - t0,
                           meta={"device": device, "dataset": "mnist-5k", "quick": quick})
