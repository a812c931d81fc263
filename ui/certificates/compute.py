"""Cached computations of the certificates page, each keyed by everything it depends on.

Every noisy computation draws from its own stream, ``stream_seed(seed, purpose)``: the fixed-sigma
certificate's noise is never seen by the landscape (which a user reads to pick sigma), the optimiser,
the gallery or another row. Store reads are keyed by the store file's modification stamp, so a new
run shows up without clearing any cache (this page never clears another page's caches).
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from ui.certificates.config import (
    ALPHA,
    BATCH,
    DD_SAMPLES,
    KNN_MAX_REFERENCE,
    LANDSCAPE_N,
    LANDSCAPE_SIGMAS,
    METHODS,
    N0,
    PURPOSES,
    SMALL_IMAGE_BATCH,
    SMALL_IMAGE_PIXELS,
)
from ui.common import LazyProgress


def streams(seed: int) -> dict[str, int]:
    """``{purpose: stream_seed(seed, purpose)}`` for every noisy purpose of the page."""
    from robustcore.smoothing.streams import stream_seed

    return {p: stream_seed(int(seed), p) for p in PURPOSES}


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """Turn the results store's raw sqlite errors into one sentence (a ValueError that ``guard`` shows)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise ValueError(f"the results store cannot be read or written ({exc}); move the file aside or point "
                         "ROBUSTCORE_STORE at a fresh one.") from None


def store_version() -> tuple:
    """A cheap stamp of the results store (path, size and mtime of the file and its WAL): a cache key."""
    from robustcore.store import default_store_path

    path = str(default_store_path())
    stamp: list = [path]
    for p in (path, path + "-wal"):
        try:
            s = os.stat(p)
            stamp.append((s.st_size, s.st_mtime_ns))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


# ------------------------------------------------------------------ data and models
@st.cache_resource(show_spinner=False, max_entries=4)
def test_set(dataset: str, root: str) -> tuple[np.ndarray, np.ndarray]:
    """The test split as read-only numpy arrays (X (N, C, H, W) float32 in [0, 1], y (N,) int64)."""
    from robustcore.data import load_dataset

    X, y = load_dataset(dataset, "test", root=root or None)
    X, y = X.numpy(), y.numpy()
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


@st.cache_resource(show_spinner=False, max_entries=8)
def builtin_model(dataset: str, method: str, train_sigma: float, arch: str):
    """A built-in base classifier (trained and cached on disk on first use), in eval mode."""
    from robustcore.nets import default_model
    from robustcore.smoothing.training import smoothing_model

    bar = LazyProgress(f"Loading the {METHODS[method]} model (trained once, then cached)...")
    try:
        if method in ("cohen", "plain") and (dataset != "digits" or arch == "digits-mlp"):
            model, info = default_model(arch, progress=bar, noise_sigma=0.0 if method == "plain" else train_sigma)
        else:
            model, info = smoothing_model(method, train_sigma, progress=bar)
    finally:
        bar.done()
    return model.eval(), info


def check_base_model(model, shape: tuple[int, int, int], num_classes: int, what: str):
    """A base classifier must map (n, *shape) images in [0, 1] to ``num_classes`` logits; one sentence if not."""
    noun = "colour images" if shape[0] == 3 else "digits"
    try:
        with torch.no_grad():
            out = model(torch.zeros(2, *shape))
    except Exception as exc:  # noqa: BLE001 - any failure means the architecture does not fit
        raise ValueError(f"{what} cannot classify {shape[1]}x{shape[2]} {noun} ({shape[0]} channel"
                         f"{'s' if shape[0] > 1 else ''}; {type(exc).__name__}).") from None
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, num_classes):
        got = tuple(out.shape[1:]) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"{what} returns {got} per image, not {num_classes} class logits.")
    return model.eval()


@st.cache_data(show_spinner=False, max_entries=64)
def gallery_predictions(model_key: tuple, _model, _X: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Clean predictions of test images ``start:stop`` only (what the gallery shows)."""
    with torch.inference_mode():
        return _model(torch.from_numpy(np.array(_X[start:stop]))).argmax(1).numpy()


@st.cache_data(show_spinner=False, max_entries=32)
def stored_radii(model_key: tuple, dataset: str, sigma: float, version: tuple) -> tuple[dict, str]:
    """Radii of the largest stored fixed-sigma run for this model, dataset and sigma (index -> radius)."""
    from robustcore.smoothing.runner import RUN_KIND
    from robustcore.store import ResultsStore

    _, method, train_sigma, arch = model_key
    if str(arch).startswith("upload:"):
        return {}, ""  # stored runs name built-in models; an uploaded file is matched by nothing here
    with store_errors():
        store = ResultsStore()
        runs = store.runs(RUN_KIND)
        best, label = None, ""
        for _, run in runs.iterrows():
            cfg = run["config"]
            if (cfg.get("dataset", "digits") == dataset and cfg.get("model") == method
                    and cfg.get("source") != "imported" and abs(float(cfg.get("sigma", -1)) - sigma) < 1e-9
                    and abs(float(cfg.get("train_sigma", cfg.get("sigma", -1)) or -1) - train_sigma) < 1e-9
                    and run["n_results"] > 0):
                if best is None or run["n_results"] > best["n_results"]:
                    best, label = run, f"run {run['id']} (n={cfg.get('n')}, {run['n_results']} images)"
        if best is None:
            return {}, ""
        df = store.results(int(best["id"]))
    return dict(zip(df["index"].astype(int), df["radius"].astype(float))), label


# ------------------------------------------------------------------ certificates (one stream each)
def batch_size(x: np.ndarray, model=None) -> int:
    """Forward batch of CERTIFY for the image ``x`` under ``model`` (see ``config.SMALL_IMAGE_BATCH``): the
    small batch only on a CPU, where it is faster and gives the same votes; an accelerator keeps BATCH."""
    params = getattr(model, "parameters", None)
    first = next(iter(params()), None) if callable(params) else None
    on_cpu = first is None or first.device.type == "cpu"
    return SMALL_IMAGE_BATCH if on_cpu and np.size(x) <= SMALL_IMAGE_PIXELS else BATCH


@st.cache_data(show_spinner=False, max_entries=64)
def noisy_samples(model_key: tuple, _model, x: np.ndarray, sigma: float, seed: int, k: int = 11):
    """``k`` noisy copies of x and their predictions, from the "gallery" stream (``seed`` is that stream)."""
    g = torch.Generator().manual_seed(int(seed))
    xt = torch.from_numpy(x)
    noisy = xt + sigma * torch.randn((k, *xt.shape), generator=g)
    with torch.inference_mode():
        preds = _model(noisy).argmax(1).numpy()
    return noisy.numpy(), preds


@st.cache_data(show_spinner=False, max_entries=64)
def cohen_certificate(model_key: tuple, _model, x: np.ndarray, sigma: float, n: int, seed: int, purpose: str,
                      num_classes: int):
    """Cohen's CERTIFY of ``g_sigma`` at x with n samples from the stream ``stream_seed(seed, purpose)``.

    The certificate records ``purpose``, ``base_seed`` (= ``seed``) and ``seed`` (the stream's seed).
    """
    from robustcore.smoothing.certify import Smooth

    bar = LazyProgress(f"CERTIFY at σ = {sigma:.2f} with n = {n:,} samples")
    try:
        return Smooth(_model, num_classes, sigma).certify(torch.from_numpy(x), n0=N0, n=n, alpha=ALPHA, seed=seed,
                                                          purpose=purpose, batch_size=batch_size(x, _model),
                                                          progress=lambda f: bar(f, "sampling"))
    finally:
        bar.done()


@st.cache_data(show_spinner=False, max_entries=32)
def landscape(model_key: tuple, _model, x: np.ndarray, seed: int):
    """The exploratory sigma landscape (common random numbers from the stream ``stream_seed(seed, "landscape")``)."""
    from robustcore.smoothing.landscape import sigma_landscape

    bar = LazyProgress("σ landscape (common random numbers)")
    try:
        return sigma_landscape(_model, torch.from_numpy(x), LANDSCAPE_SIGMAS, n=LANDSCAPE_N, alpha=ALPHA, seed=seed,
                               progress=bar)
    finally:
        bar.done()


@dataclass
class DDPath:
    """The DDRS sigma of one image and its ascent path (sigma_t, surrogate R~_t)."""

    sigma: float
    sigma_history: np.ndarray
    surrogate_history: np.ndarray
    seed: int


@st.cache_data(show_spinner=False, max_entries=32)
def dd_sigma(model_key: tuple, _model, x: np.ndarray, sigma0: float, steps: int, lr: float, seed: int) -> DDPath:
    """DDRS ascent from sigma0 on the "optimise" stream derived from ``seed``; no certificate (``cohen_certificate``
    at sigma_x with purpose "certify-dd" gives the fresh-sample one)."""
    from robustcore.smoothing.ddsigma import optimize_sigma

    bar = LazyProgress("Optimising σ (DDRS)")
    try:
        path = optimize_sigma(_model, torch.from_numpy(x).unsqueeze(0), sigma0=sigma0, steps=steps, lr=lr,
                              n_samples=DD_SAMPLES, seed=seed, sigma_min=0.02, sigma_max=2.0, progress=bar)
    finally:
        bar.done()
    return DDPath(float(np.asarray(path.sigma).reshape(-1)[0]), np.asarray(path.sigma_history)[:, 0],
                  np.asarray(path.surrogate_history)[:, 0], int(seed))


@st.cache_resource(show_spinner=False, max_entries=4)
def knn_reference(dataset: str, root: str) -> tuple[np.ndarray, float]:
    """Reference points of the kNN sigma (the first KNN_MAX_REFERENCE training images, flattened) and the
    median leave-one-out kNN distance m over them (the centre of ln sigma; independent of sigma and r)."""
    from robustcore.data import load_dataset
    from robustcore.smoothing.lipschitz_sigma import KnnSigma

    Xtr, _ = load_dataset(dataset, "train", root=root or None)
    ref = Xtr[:KNN_MAX_REFERENCE].numpy().reshape(min(len(Xtr), KNN_MAX_REFERENCE), -1)
    return ref, KnnSigma(ref, sigma_base=1.0, r=0.0, k=10).m


def knn_sigma(dataset: str, root: str, sigma_base: float, r: float):
    """The kNN sigma function with r-Lipschitz log, ``sigma_base * exp(r (kNN distance - m))``."""
    from robustcore.smoothing.lipschitz_sigma import KnnSigma

    ref, m = knn_reference(dataset, root)
    return KnnSigma(ref, sigma_base=sigma_base, r=r, k=10, m=m)


@st.cache_data(show_spinner=False, max_entries=32)
def lipschitz_certificate(model_key: tuple, _model, x: np.ndarray, dataset: str, root: str, sigma_base: float,
                          r: float, n: int, seed: int, num_classes: int):
    """The Lipschitz-sigma certificate of the input-dependent classifier (stream ``stream_seed(seed, "lipschitz")``)."""
    import dataclasses

    from robustcore.smoothing.lipschitz_sigma import LipschitzSigmaCertificate, certify_lipschitz_sigma
    from robustcore.smoothing.streams import stream_seed

    # the library derives the "lipschitz" stream itself when its result records it; else derive it here
    derives = "stream_seed" in {f.name for f in dataclasses.fields(LipschitzSigmaCertificate)}
    return certify_lipschitz_sigma(_model, torch.from_numpy(x), knn_sigma(dataset, root, sigma_base, r), r=r,
                                   num_classes=num_classes, n0=N0, n=n, alpha=ALPHA,
                                   batch_size=batch_size(x, _model),
                                   seed=seed if derives else stream_seed(seed, "lipschitz"))


def memory_decision(memory_name: str, key: str, x: np.ndarray, label: int, radius: float, sigma_x: float,
                    seed: int):
    """The memory classifier's answer: the stored entry for this query, else process and store it.

    One memory per data-dependent classifier (dataset, model, sigma_0, ascent settings, n) and per seed of
    the certificates it holds (``seed``, appended to the name by the library): a different setting is a
    different classifier with its own memory in the results store. Not cached:
    the memory is state shared by every session.
    """
    from robustcore.smoothing.memory import CertificationMemory
    from robustcore.store import ResultsStore

    with store_errors():
        mem = CertificationMemory(x.size, store=ResultsStore(), name=memory_name, seed=int(seed))
        if key in mem.keys:
            j = mem.keys.index(key)
            return mem, int(mem.labels[j]), float(mem.radii[j]), "answered from memory (seen before)"
        dec = mem.insert(x, label, radius, key=key, sigma=sigma_x)
    return mem, dec.label, dec.radius, dec.action


@st.cache_data(show_spinner=False, max_entries=32)
def clustr_certificate(x: np.ndarray):
    """The ClusTR certificate of the default digits ClusTR model at x (a different model from f)."""
    from robustcore.clustr import certify_image

    return certify_image(torch.from_numpy(x))
