"""Data-dependent smoothing on digits: training with a per-example sigma, dataset certification with
a per-image sigma, and the comparison with fixed-sigma models (Alfarra et al. 2022, §4).

Training (DDRS ``train_rs.py`` / ``train_macer.py`` / ``train_smooth_adv.py``): every training
example ``i`` keeps its own ``sigma_i`` (initialised to ``sigma0``). In each epoch, before a
mini-batch is used, its ``sigma_i`` are refreshed by ``iter_sig`` steps of the DDRS ascent
(:func:`optimize_sigma`, warm-started from the stored values), then the model takes one step of
its base method with noise ``N(0, sigma_i^2 I)`` per example:

- ``"cohen"``: cross-entropy of ``f(x + sigma_i eps)``;
- ``"smoothadv"``: SmoothAdv's l2 PGD on the soft smoothed classifier at ``sigma_i``, then
  cross-entropy on ``x_adv + sigma_i eps`` (same draws);
- ``"macer"``: ``-log psi_y + lbd * sigma_i/2 * relu(gamma - (Phi^-1(psi_(1)) - Phi^-1(psi_(2))))`` on
  correctly classified points with the gap within gamma (MACER with a per-example sigma).

To stay within a few minutes on a 2-core CPU, the model is warm-started from the cached fixed-sigma
model of the same method (as the DDRS ImageNet scripts fine-tune pretrained models) and trained for
a few epochs; the result is cached with :func:`robustcore.nets.cached_model`. The hyper-parameters
(epochs, ``iter_sig``, ``lr_sigma``, ``m_sigma``) are ours, sized for digits on a CPU; the paper's
own values could not be checked (reference §2.3 lists the repositories' defaults).

Certification (``run_dd_certification``): sigma per test image by the ascent (seeded), then
Cohen's CERTIFY at that sigma with independent fresh samples, written to the results store as run
kind ``DD_KIND``. Those radii certify ``g_{sigma_x}`` at each ``x``, **not** the data-dependent
classifier; ``memory_postprocess_run`` turns them into sound certificates of the memory classifier
(run kind ``MEMORY_KIND``).
"""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from .ddsigma import optimize_sigma

__all__ = [
    "DD_KIND",
    "MEMORY_KIND",
    "dd_model_config",
    "dd_smoothing_model",
    "dd_macer_loss",
    "run_dd_certification",
    "run_dd_comparison",
    "dataset_curves",
    "compare_fixed_and_dd",
]

DD_KIND = "smoothing.certify-dd"
MEMORY_KIND = "smoothing.certify-memory"
ProgressFn = Callable[[float, str], None]

_DD_DEFAULTS = {
    "epochs": 6, "lr": 1e-3, "batch_size": 64, "iter_sig": 1, "lr_sigma": 0.01, "m_sigma": 8,
    "sigma_min": 0.02, "sigma_max": 1.0, "seed": 0,
}
_METHOD_DEFAULTS = {
    "cohen": {"m": 1},
    "smoothadv": {"m": 2, "eps": 0.5, "steps": 2},
    "macer": {"m": 8, "lbd": 4.0, "gamma": 8.0, "beta": 16.0},
}


def dd_model_config(method: str, sigma0: float, **overrides) -> dict:
    """Config (the cache key) of a data-dependent-sigma model warm-started from the fixed-sigma one."""
    if not isinstance(method, str) or method not in _METHOD_DEFAULTS:
        raise ValueError(f"method must be one of {', '.join(_METHOD_DEFAULTS)}, got {method!r}.")
    if isinstance(sigma0, (bool, complex)) or not isinstance(sigma0, (int, float, np.number)):
        raise TypeError(f"sigma0 must be a real number, got {sigma0!r}.")
    sigma0 = float(sigma0)
    if not (math.isfinite(sigma0) and sigma0 > 0):
        raise ValueError(f"sigma0 must be positive, got {sigma0!r}.")
    cfg = {"method": method, "sigma0": sigma0, "data": "digits", "arch": "digits-cnn",
           **_DD_DEFAULTS, **_METHOD_DEFAULTS[method], **overrides}
    for k in ("epochs", "iter_sig", "m", "m_sigma", "batch_size"):
        if int(cfg[k]) != cfg[k] or cfg[k] < (0 if k in ("iter_sig", "epochs") else 1):
            raise ValueError(f"{k} must be a {'non-negative' if k in ('iter_sig', 'epochs') else 'positive'} integer.")
    return cfg


def dd_macer_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: torch.Tensor, sigma: torch.Tensor,
                  lbd: float, gamma: float, beta: float) -> torch.Tensor:
    """MACER loss with a per-example sigma (DDRS ``train_macer.py``).

    ``(1/b) sum_j [-log psi_y(x_j) + lbd * sigma_j / 2 * relu(gamma - gap_j) * 1[correct_j, |gap_j| <= gamma]]``
    with ``psi`` the mean soft-max over ``x_j + sigma_j eps_ij`` and ``gap`` from the soft-max at
    inverse temperature ``beta``.

    Parameters
    ----------
    model : nn.Module
    x : Tensor (b, ...); y : Tensor (b,)
    eps : Tensor (m, b, ...) standard normal draws
    sigma : Tensor (b,) per-example noise levels
    lbd, gamma, beta : float

    Returns
    -------
    Tensor, scalar loss.
    """
    from .training import check_training_batch

    check_training_batch(model, x, y, eps)
    if not isinstance(sigma, torch.Tensor) or sigma.shape != (x.shape[0],) or not torch.isfinite(sigma).all() \
            or bool((sigma <= 0).any()):
        raise ValueError(f"sigma must be a tensor of {x.shape[0]} positive finite noise levels.")
    m, b = eps.shape[0], eps.shape[1]
    noise = eps * sigma.view((1, b) + (1,) * (x.dim() - 1))
    logits = model((x.unsqueeze(0) + noise).flatten(0, 1)).view(m, b, -1)
    psi = F.softmax(logits, dim=2).mean(0)
    cls = F.nll_loss(torch.log(psi + 1e-10), y, reduction="sum")
    top, idx = F.softmax(beta * logits, dim=2).mean(0).topk(2, dim=1)
    with torch.no_grad():
        gap0 = torch.special.ndtri(top[:, 0]) - torch.special.ndtri(top[:, 1])
        keep = (idx[:, 0] == y) & torch.isfinite(gap0) & (gap0.abs() <= gamma)
    sel = top[keep]  # select before Phi^-1: saturated rows would send 0 * inf = NaN gradients
    gap = torch.special.ndtri(sel[:, 0]) - torch.special.ndtri(sel[:, 1])
    rob = (F.relu(gamma - gap) * sigma[keep] / 2).sum()
    return (cls + lbd * rob) / b


def _build(config: dict) -> nn.Module:
    from .training import smoothing_model

    base, _ = smoothing_model(config["method"], config["sigma0"])
    return copy.deepcopy(base)  # warm start: a copy, so the cached fixed-sigma model is left alone


def _train(model: nn.Module, config: dict, progress: ProgressFn | None = None) -> dict:
    from robustcore.data import load_digits
    from robustcore.nets import evaluate_accuracy

    from .training import noisy_accuracy, smoothadv_attack

    method = config["method"]
    Xtr, ytr = load_digits("train")
    Xte, yte = load_digits("test")
    gen = torch.Generator().manual_seed(int(config["seed"]))
    opt = torch.optim.Adam(model.parameters(), lr=config["lr"])
    sig = torch.full((Xtr.shape[0],), float(config["sigma0"]))
    bs, m, epochs = int(config["batch_size"]), int(config["m"]), int(config["epochs"])
    n = Xtr.shape[0]
    history = []
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for bi, start in enumerate(range(0, n, bs)):
            idx = perm[start:start + bs]
            xb, yb = Xtr[idx], ytr[idx]
            if config["iter_sig"] > 0:  # refresh this batch's sigma_i (warm start), model frozen
                path = optimize_sigma(model, xb, sigma0=sig[idx].numpy(), steps=int(config["iter_sig"]),
                                      lr=float(config["lr_sigma"]), n_samples=int(config["m_sigma"]),
                                      sigma_min=float(config["sigma_min"]), sigma_max=float(config["sigma_max"]),
                                      seed=int(config["seed"]) * 100_003 + epoch * 1_009 + bi)
                sig[idx] = torch.as_tensor(path.sigma, dtype=torch.float32)
            s = sig[idx]
            eps = torch.randn((m, *xb.shape), generator=gen)
            model.train()
            if method == "macer":
                loss = dd_macer_loss(model, xb, yb, eps, s, config["lbd"], config["gamma"], config["beta"])
            else:
                noise = eps * s.view(1, -1, *([1] * (xb.dim() - 1)))
                if method == "smoothadv":
                    model.eval()
                    xb = smoothadv_attack(model, xb, yb, noise, float(config["eps"]), int(config["steps"]))
                    model.train()
                logits = model((xb.unsqueeze(0) + noise).flatten(0, 1))
                loss = F.cross_entropy(logits, yb.repeat(m))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        history.append({"epoch": epoch, "loss": total / n, "sigma_mean": float(sig.mean()),
                        "sigma_min": float(sig.min()), "sigma_max": float(sig.max())})
        if progress is not None:
            progress(epoch / epochs, f"DD-{method} epoch {epoch}/{epochs}: loss {total / n:.3f}, "
                                     f"mean sigma {float(sig.mean()):.3f}")
    model.eval()
    q = np.quantile(sig.numpy(), [0.05, 0.5, 0.95])
    return {"train_acc": evaluate_accuracy(model, Xtr, ytr), "test_acc": evaluate_accuracy(model, Xte, yte),
            "test_noisy_acc": noisy_accuracy(model, Xte, yte, float(config["sigma0"]), seed=1),
            "train_sigma_q05": float(q[0]), "train_sigma_median": float(q[1]), "train_sigma_q95": float(q[2]),
            "history": history}


def dd_smoothing_model(method: str, sigma0: float = 0.25, progress: ProgressFn | None = None,
                       retrain: bool = False, **overrides) -> tuple[nn.Module, dict]:
    """A digits CNN trained with a per-example data-dependent sigma (cached on disk).

    Parameters
    ----------
    method : {"cohen", "smoothadv", "macer"}
    sigma0 : float
        Initial per-example sigma (and the sigma of the fixed-sigma model it starts from).
    progress : callable(fraction, message), optional
    retrain : bool
    **overrides
        Config entries (``epochs``, ``iter_sig``, ``lr_sigma``, ...).

    Returns
    -------
    (model in eval mode, info) with the per-example sigma quantiles in ``info["metrics"]``.
    """
    from robustcore.nets import cached_model

    config = dd_model_config(method, sigma0, **overrides)
    model, info = cached_model(f"digits-cnn-dd-{method}", config, _build, _train, progress=progress, retrain=retrain)
    return model.eval(), info


def _check_dd_settings(sigma0, steps, lr, n_samples, n0, n, alpha, batch_size, skip, seed, sigma_min=0.02,
                       sigma_max=2.0) -> None:
    """All settings of a data-dependent run checked before any model, data or store is touched."""
    from .certify import MAX_SAMPLES, _check_alpha, _check_positive_int
    from .ddsigma import MAX_N_SAMPLES, MAX_STEPS, _float_arg, _int_arg

    s0 = _float_arg("sigma0", sigma0)
    _int_arg("steps", steps, 0, MAX_STEPS)
    _float_arg("lr", lr)
    _int_arg("n_samples", n_samples, 1, MAX_N_SAMPLES)
    n0 = _check_positive_int("n0", n0, MAX_SAMPLES)
    n = _check_positive_int("n", n, MAX_SAMPLES)
    if n < n0:
        raise ValueError(f"n must be at least n0, got n={n}, n0={n0}.")
    _check_alpha(alpha)
    _check_positive_int("batch_size", batch_size)
    _check_positive_int("skip", skip)
    _int_arg("seed", seed, 0, 2**62)
    lo, hi = _float_arg("sigma_min", sigma_min), _float_arg("sigma_max", sigma_max)
    if not lo < hi:
        raise ValueError(f"Need sigma_min < sigma_max, got {sigma_min!r}, {sigma_max!r}.")
    del s0


def run_dd_certification(model: nn.Module, model_tag: dict, sigma0: float, n0: int = 100, n: int = 1000,
                         alpha: float = 0.001, skip: int = 1, max_images: int | None = None, steps: int = 100,
                         lr: float = 0.01, n_samples: int = 32, seed: int = 0, store=None,
                         progress: ProgressFn | None = None, batch_size: int = 1000, dataset: str = "digits",
                         sigma_min: float = 0.02, sigma_max: float = 2.0) -> int:
    """Certify test images with a data-dependent sigma; store rows as run kind ``DD_KIND``.

    Each test image ``i`` is handled on its own, so a resumed run gives exactly the rows of an
    uninterrupted one (issue 13): sigma_x comes from :func:`optimize_sigma` with the image's own
    noise stream ``stream_seed(image_seed(seed, i), "optimise")`` and its own forward passes
    (``per_input=True``), then ``Smooth(model, K, sigma_x).certify`` draws from the independent stream
    ``stream_seed(image_seed(seed, i), "certify-dd")``. Both seeds are recorded in the row's ``extra``.
    Resumes a stored run of the same config.

    Parameters
    ----------
    model : nn.Module
    model_tag : dict
        Identifies the model in the run config (e.g. method, training sigma, DD training or not).
    sigma0, steps, lr, n_samples, sigma_min, sigma_max : ascent settings.
    n0, n, alpha, batch_size : CERTIFY settings.
    skip, max_images : which test images (``runner.select_indices``).
    seed : int
    store : ResultsStore or None
    progress : callable(fraction, message) or None
    dataset : str
        A ``robustcore.data.load_dataset`` name ("digits", "mnist-5k", ...); its test split.

    Returns
    -------
    int, the run id.
    """
    from robustcore.data import load_dataset
    from robustcore.store import ResultsStore

    from .certify import ABSTAIN, Smooth
    from .runner import image_seed, select_indices
    from .streams import stream_seed

    if not isinstance(model_tag, dict):
        raise TypeError(f"model_tag must be a dict, got {type(model_tag).__name__}.")
    _check_dd_settings(sigma0, steps, lr, n_samples, n0, n, alpha, batch_size, skip, seed, sigma_min, sigma_max)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}.")
    store = store or ResultsStore()
    X, y = load_dataset(dataset, "test")
    num_classes = int(y.max()) + 1
    idx = select_indices(X.shape[0], skip, max_images)
    # "streams": 2 marks per-image streams; runs of the earlier batched scheme are not resumed with it
    config = {"dataset": dataset, **model_tag, "sigma0": float(sigma0), "steps": int(steps), "lr": float(lr),
              "n_samples": int(n_samples), "n0": int(n0), "n": int(n), "alpha": float(alpha), "skip": int(skip),
              "seed": int(seed), "batch_size": int(batch_size), "streams": 2}
    if (sigma_min, sigma_max) != (0.02, 2.0):
        config["sigma_bounds"] = [float(sigma_min), float(sigma_max)]
    run = store.start_run(DD_KIND, config)
    done = store.done_indices(run)
    todo = [i for i in idx if i not in done]
    for j, i in enumerate(todo):
        t0 = time.perf_counter()
        base = image_seed(seed, i)
        path = optimize_sigma(model, X[i:i + 1], sigma0=sigma0, steps=steps, lr=lr, n_samples=n_samples,
                              seeds=[base], per_input=True, sigma_min=sigma_min, sigma_max=sigma_max)
        s = float(path.sigma[0])
        cert = Smooth(model, num_classes, s).certify(X[i], n0=n0, n=n, alpha=alpha, batch_size=batch_size,
                                                     seed=base, purpose="certify-dd")
        store.add_results(run, [{
            "index": i, "label": int(y[i]), "prediction": int(cert.label), "radius": float(cert.radius),
            "sigma": s, "correct": bool(cert.label != ABSTAIN and cert.label == int(y[i])),
            "time_s": time.perf_counter() - t0,
            "extra": {"p_lower": cert.p_lower, "counts": [int(c) for c in cert.counts], "seed": cert.seed,
                      "purpose": cert.purpose, "image_seed": base,
                      "optimise_seed": stream_seed(base, "optimise"), "sigma0": float(sigma0),
                      "note": "certificate of g at the fixed sigma_x only"},
        }])
        if progress is not None:
            progress((j + 1) / len(todo), f"data-dependent sigma: image {j + 1}/{len(todo)}")
    store.finish_run(run, "done")
    return run


def run_dd_comparison(method: str, train_sigma: float, sigma: float, n: int = 1000, max_images: int = 30,
                      dd_trained: bool = False, store=None, progress: ProgressFn | None = None,
                      seed: int = 0) -> dict:
    """Certify the same spread-out test images three ways and store the runs.

    1. fixed sigma (``runner.run_certification``, run kind ``runner.RUN_KIND``);
    2. data-dependent sigma, fresh-sample Cohen certificates of ``g_{sigma_x}`` (``DD_KIND``; not a
       guarantee for the data-dependent classifier);
    3. the memory classifier over (2) in index order (``MEMORY_KIND``; sound).

    With ``dd_trained`` the model of (2) and (3) is :func:`dd_smoothing_model` (sigma0 = train_sigma).

    Returns
    -------
    dict with the three run ids ("fixed", "dd", "memory").
    """
    from robustcore.data import load_digits
    from robustcore.store import ResultsStore

    from .memory import memory_postprocess_run
    from .runner import CertifyJob, run_certification
    from .training import smoothing_model, smoothing_model_config

    from .runner import select_indices

    _check_dd_settings(sigma, 1, 0.01, 1, 100, n, 0.001, 1000, 1, seed)
    select_indices(450, 1, max_images)  # refuses a bad max_images with one sentence
    smoothing_model_config(method, train_sigma)  # refuses a bad method / sigma before training
    if not isinstance(dd_trained, bool):
        raise TypeError(f"dd_trained must be True or False, got {dd_trained!r}.")
    store = store or ResultsStore()
    skip = max(1, 450 // int(max_images))
    say = progress or (lambda f, m: None)
    base, base_info = smoothing_model(method, train_sigma)
    job = CertifyJob(model=method, sigma=float(sigma), n0=100, n=int(n), alpha=0.001, skip=skip, seed=seed,
                     train_sigma=float(train_sigma))
    fixed = run_certification(job, store=store, max_images=max_images, model=base, model_info=base_info,
                              progress=lambda d, t, c: say(0.3 * d / max(t, 1), f"fixed sigma: image {d}/{t}"))
    if dd_trained:
        model, _ = dd_smoothing_model(method, train_sigma, progress=lambda f, m: say(0.3 + 0.2 * f, m))
    else:
        model = base
    tag = {"model": method, "train_sigma": float(train_sigma), "dd_trained": bool(dd_trained)}
    dd = run_dd_certification(model, tag, sigma0=float(sigma), n=int(n), skip=skip, max_images=max_images,
                              seed=seed, store=store, progress=lambda f, m: say(0.5 + 0.45 * f, m))
    X, y = load_digits("test")
    mem = memory_postprocess_run(store, dd, X.numpy(), y.numpy())
    say(1.0, "done")
    return {"fixed": fixed.run_id, "dd": dd, "memory": mem}


def dataset_curves(radii, store=None) -> tuple[dict, list, pd.DataFrame]:
    """Certified-accuracy curves of every stored fixed-sigma, data-dependent and memory run.

    Returns
    -------
    curves : dict name -> (radii, accuracy)
    dashed : names of curves that are not guarantees (data-dependent without memory)
    summary : DataFrame with one row per run (images, accuracy at 0/0.25/0.5/0.75/1.0, ACR, status)
    """
    from robustcore.store import ResultsStore

    from .metrics import average_certified_radius, certified_accuracy
    from .runner import RUN_KIND

    try:
        radii = np.asarray(radii, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError("radii must be a list of non-negative numbers.") from None
    if radii.size < 1 or radii.size > 10_000 or not np.all(np.isfinite(radii)) or np.any(radii < 0):
        raise ValueError("radii must hold 1 to 10,000 non-negative finite numbers.")
    store = store or ResultsStore()
    curves, dashed, rows = {}, [], []
    runs = store.runs()
    for _, run in runs[runs["kind"].isin([RUN_KIND, DD_KIND, MEMORY_KIND])].iterrows():
        if run["n_results"] == 0:
            continue
        cfg = run["config"]
        df = store.results(int(run["id"]))
        if run["kind"] == RUN_KIND:
            name = f"fixed sigma={cfg.get('sigma')} [{cfg.get('model')}@{cfg.get('train_sigma')}] n={cfg.get('n')}"
            status = "sound"
        elif run["kind"] == DD_KIND:
            dd = " DD-trained" if cfg.get("dd_trained") else ""
            name = f"data-dependent sigma0={cfg.get('sigma0')} [{cfg.get('model')}@{cfg.get('train_sigma')}{dd}] n={cfg.get('n')}"
            status = "NOT a guarantee (certifies g at sigma_x only)"
        else:
            src = cfg.get("source", {})
            dd = " DD-trained" if src.get("dd_trained") else ""
            name = (f"data-dependent + memory sigma0={src.get('sigma0')} [{src.get('model')}@{src.get('train_sigma')}"
                    f"{dd}] n={src.get('n')}")
            status = "sound via memory"
        name = f"#{run['id']} {name} ({len(df)} img)"
        curves[name] = (radii, certified_accuracy(df, radii))
        if run["kind"] == DD_KIND:
            dashed.append(name)
        acc = certified_accuracy(df, [0.0, 0.25, 0.5, 0.75, 1.0])
        rows.append({"run": int(run["id"]), "curve": name, "images": len(df), "acc@0": acc[0], "acc@0.25": acc[1],
                     "acc@0.5": acc[2], "acc@0.75": acc[3], "acc@1.0": acc[4],
                     "ACR": average_certified_radius(df), "status": status})
    return curves, dashed, pd.DataFrame(rows)


def compare_fixed_and_dd(methods=("cohen", "smoothadv", "macer"), sigma0: float = 0.25, n: int = 1000,
                         max_images: int = 150, store=None, progress: ProgressFn | None = None) -> pd.DataFrame:
    """Fixed-sigma models vs data-dependent-sigma training + certification, certified accuracy at r = 0..1.

    For each method: (a) the fixed-sigma model certified at sigma0; (b) the same model with a
    data-dependent test sigma (memory classifier: sound); (c) the DD-trained model with a
    data-dependent test sigma (memory classifier: sound). Also lists (b), (c) without memory.

    Returns
    -------
    DataFrame: method, variant, sound, images, acc@0 ... acc@1.0, ACR, mean sigma.
    """
    from robustcore.store import ResultsStore

    from .metrics import average_certified_radius, certified_accuracy

    from .runner import select_indices

    if isinstance(methods, str) or not all(isinstance(m, str) and m in _METHOD_DEFAULTS for m in methods):
        raise ValueError(f"methods must be a list drawn from {', '.join(_METHOD_DEFAULTS)}, got {methods!r}.")
    _check_dd_settings(sigma0, 1, 0.01, 1, 100, n, 0.001, 1000, 1, 0)
    select_indices(450, 1, max_images)
    store = store or ResultsStore()
    rows = []
    radii = [0.0, 0.25, 0.5, 0.75, 1.0]
    for k, method in enumerate(methods):
        for dd_trained in (False, True):
            say = (None if progress is None else
                   (lambda f, m, k=k, t=dd_trained: progress((2 * k + t + f) / (2 * len(methods)), f"{method}: {m}")))
            ids = run_dd_comparison(method, sigma0, sigma0, n=n, max_images=max_images, dd_trained=dd_trained,
                                    store=store, progress=say)
            variants = [("data-dependent + memory", ids["memory"], True), ("data-dependent (g at sigma_x)", ids["dd"], False)]
            if not dd_trained:
                variants.insert(0, ("fixed sigma", ids["fixed"], True))
            for variant, run, sound in variants:
                df = store.results(run)
                acc = certified_accuracy(df, radii)
                rows.append({"method": method, "training": "data-dependent" if dd_trained else "fixed sigma",
                             "certification": variant, "sound": sound, "images": len(df),
                             **{f"acc@{r}": a for r, a in zip(radii, acc)},
                             "ACR": average_certified_radius(df), "mean sigma": float(df["sigma"].mean())})
    return pd.DataFrame(rows)
