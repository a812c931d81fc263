"""Certify a whole test set: local or Ray backend, results written to the store as they come.

Each image ``i`` is certified with its own seed derived from the run seed and ``i``
(:func:`image_seed`), so a result does not depend on which worker or in which order the image
was processed: the local and the Ray backend give identical certificates for the same run
(same device, batch size and torch build). Every finished image is written to the
:class:`robustcore.store.ResultsStore` at once, in its own transaction, so a run that is killed
keeps every result it wrote, and starting the same configuration again only certifies the
images that are missing.
"""
from __future__ import annotations

import collections
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from .certify import ABSTAIN, Smooth

__all__ = [
    "RUN_KIND",
    "CertifyJob",
    "RunSummary",
    "image_seed",
    "select_indices",
    "certify_image",
    "load_job_model",
    "load_job_data",
    "run_certification",
]

#: The ``kind`` of certification runs in the results store.
RUN_KIND = "smoothing.certify"

DATASETS = ("digits",)
#: Number of classes of each dataset (the model must output this many logits).
DATASET_CLASSES = {"digits": 10}
BACKENDS = ("local", "ray")

ProgressFn = Callable[[int, int, int], None]


@dataclass(frozen=True)
class CertifyJob:
    """What a certification run computes (everything that changes a per-image result).

    Attributes
    ----------
    dataset : str
        "digits" (the embedded 450-image test split).
    model : str
        "plain", "cohen", "smoothadv" or "macer" (see :mod:`robustcore.smoothing.training`).
    sigma : float
        Certification noise level.
    n0, n : int
        Selection and estimation samples.
    alpha : float
        Failure probability per image.
    batch_size : int
        Forward batch size (part of the noise stream, hence of the result).
    skip : int
        Certify every ``skip``-th test image.
    seed : int
        Run seed; image i uses ``image_seed(seed, i)``.
    method : str
        "cohen" or "pb" (see :meth:`Smooth.certify`).
    train_sigma : float or None
        Noise level the model was trained at (default: ``sigma``).
    device : str
        Torch device.
    channels_last, compile : bool
        Faster forward passes (see :class:`Smooth`); part of the configuration because they can
        change a vote in the last bits of floating point.
    """

    dataset: str = "digits"
    model: str = "cohen"
    sigma: float = 0.25
    n0: int = 100
    n: int = 100_000
    alpha: float = 0.001
    batch_size: int = 1000
    skip: int = 1
    seed: int = 0
    method: str = "cohen"
    train_sigma: float | None = None
    device: str = "cpu"
    channels_last: bool = False
    compile: bool = False

    def validate(self) -> None:
        """Raise ``ValueError`` with one sentence for any absurd setting (before any work)."""
        from .training import SMOOTHING_METHODS

        if self.dataset not in DATASETS:
            raise ValueError(f"Unknown dataset {self.dataset!r}; choose one of {', '.join(DATASETS)}.")
        if self.model not in SMOOTHING_METHODS:
            raise ValueError(f"Unknown model {self.model!r}; choose one of {', '.join(SMOOTHING_METHODS)}.")
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be a positive number, got {self.sigma!r}.")
        if self.train_sigma is not None and not (math.isfinite(self.train_sigma) and self.train_sigma > 0):
            raise ValueError(f"train_sigma must be a positive number, got {self.train_sigma!r}.")
        for name in ("n0", "n", "batch_size", "skip"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}.")
        if self.n < self.n0:
            raise ValueError(f"n must be at least n0, got n={self.n}, n0={self.n0}.")
        if not (0 < self.alpha < 1):
            raise ValueError(f"alpha must lie strictly between 0 and 1, got {self.alpha!r}.")
        if self.method not in ("cohen", "pb"):
            raise ValueError(f"method must be 'cohen' or 'pb', got {self.method!r}.")
        if not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}.")
        if torch.device(self.device).type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for but no CUDA device is available.")

    @property
    def model_sigma(self) -> float:
        return float(self.sigma if self.train_sigma is None else self.train_sigma)


@dataclass
class RunSummary:
    """Outcome of :func:`run_certification`."""

    run_id: int
    total: int
    done: int
    new: int
    certified: int
    correct: int
    seconds: float
    backend: str
    complete: bool
    redone: list[int] = field(default_factory=list)


def image_seed(run_seed: int, index: int) -> int:
    """Seed of image ``index`` in a run seeded ``run_seed`` (63-bit, independent streams per image).

    Derived with numpy's ``SeedSequence([run_seed, index])``, so it does not depend on the
    order or the worker in which images are processed.
    """
    state = np.random.SeedSequence([int(run_seed), int(index)]).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def select_indices(num_images: int, skip: int = 1, max_images: int | None = None) -> list[int]:
    """Indices 0, skip, 2 skip, ... of a test set, at most ``max_images`` of them (Cohen's ``--skip``)."""
    if max_images is not None and (isinstance(max_images, bool) or max_images < 1):
        raise ValueError(f"max_images must be a positive integer, got {max_images!r}.")
    idx = list(range(0, int(num_images), int(skip)))
    return idx if max_images is None else idx[: int(max_images)]


def certify_image(smooth: Smooth, x: torch.Tensor, label: int, index: int, job: CertifyJob) -> dict:
    """Certify one image and return its row for the results store.

    Returns
    -------
    dict with index, label (true class), prediction (certified class or -1), radius, sigma,
    correct, time_s and ``extra`` (p_lower, candidate, counts0, counts, n0, n, alpha, seed,
    batch_size, method, p_upper_b): everything needed to audit the certificate.
    """
    cert = smooth.certify(
        x, job.n0, job.n, job.alpha, batch_size=job.batch_size, seed=image_seed(job.seed, index), method=job.method
    )
    return {
        "index": int(index),
        "label": int(label),
        "prediction": int(cert.label),
        "radius": float(cert.radius),
        "sigma": float(cert.sigma),
        "correct": bool(cert.label != ABSTAIN and cert.label == int(label)),
        "time_s": float(cert.time_s),
        "extra": {
            "p_lower": cert.p_lower,
            "candidate": cert.candidate,
            "counts0": [int(c) for c in cert.counts0],
            "counts": [int(c) for c in cert.counts],
            "n0": cert.n0,
            "n": cert.n,
            "alpha": cert.alpha,
            "seed": cert.seed,
            "batch_size": cert.batch_size,
            "method": cert.method,
            "p_upper_b": cert.p_upper_b,
            "device": cert.device,
        },
    }


def load_job_model(job: CertifyJob, progress: Callable[[float, str], None] | None = None) -> tuple[nn.Module, dict]:
    """The job's base classifier (trained and cached on first use)."""
    from .training import smoothing_model

    return smoothing_model(job.model, job.model_sigma, progress=progress)


def load_job_data(job: CertifyJob) -> tuple[torch.Tensor, torch.Tensor]:
    """The job's test set ``(X (N, 1, 8, 8) in [0, 1], y (N,))``."""
    from robustcore.data import load_digits

    return load_digits("test")


def store_config(job: CertifyJob, model_info: dict | None) -> dict:
    """The configuration a run is keyed on in the store (the job plus the model's identity).

    ``max_images`` and the backend are left out on purpose: they do not change a per-image
    result, so a run can be extended or resumed on another backend.
    """
    from robustcore.nets import config_hash

    cfg = asdict(job)
    cfg["train_sigma"] = job.model_sigma
    cfg["device"] = torch.device(job.device).type  # CPU and CUDA generators give different noise
    if model_info is not None and "config" in model_info:
        cfg["model_hash"] = config_hash(model_info["config"])
    return cfg


def run_certification(
    job: CertifyJob,
    store=None,
    backend: str = "local",
    max_images: int | None = None,
    ray_address: str | None = None,
    num_workers: int = 2,
    progress: ProgressFn | None = None,
    model: nn.Module | None = None,
    model_info: dict | None = None,
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
    _crash_once: tuple[int, str] | None = None,
) -> RunSummary:
    """Certify the selected test images of ``job``, resuming a stored run of the same configuration.

    Parameters
    ----------
    job : CertifyJob
    store : ResultsStore, optional
        Defaults to ``ResultsStore()`` (``$ROBUSTCORE_STORE``).
    backend : {"local", "ray"}
        "ray" spreads images over a Ray cluster: ``ray_address`` or a local instance with
        ``num_workers`` workers; the model is shipped once per worker (``ray.put``); results come
        back to this process and are written here; images of a worker that dies are redone.
    max_images : int, optional
        Certify at most this many of the selected images (first ones).
    progress : callable(done, total, certified), optional
        Called after each image (counts include images done in earlier sessions).
    model, model_info, data : optional
        Use this model / test set instead of loading the job's (for tests and the dashboard).
    _crash_once : (index, marker_path), optional
        Test hook: the Ray worker given ``index`` exits abruptly once (while the marker file does
        not exist), to exercise recovery.

    Returns
    -------
    RunSummary
    """
    job.validate()
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}.")
    if isinstance(num_workers, bool) or num_workers < 1:
        raise ValueError(f"num_workers must be a positive integer, got {num_workers!r}.")
    if model is None:
        model, model_info = load_job_model(job)
    X, y = load_job_data(job) if data is None else data
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"The test set has {X.shape[0]} images but {y.shape[0]} labels.")
    selected = select_indices(X.shape[0], job.skip, max_images)
    if store is None:
        from robustcore.store import ResultsStore

        store = ResultsStore()
    # check the model against the data before anything is written or sampled
    Smooth(model, _num_classes(job, y), job.sigma, device=job.device)._prepare_input(X[selected[0]] if selected else X[0])

    run_id = store.start_run(RUN_KIND, store_config(job, model_info), resume=True)
    previous = store.results(run_id)
    done_set = {int(i) for i in previous["index"]}
    mine = previous[previous["index"].isin(selected)]  # earlier results inside this selection
    certified = int((mine["prediction"] != ABSTAIN).sum())
    correct = int(mine["correct"].fillna(False).astype(bool).sum())
    todo = [i for i in selected if i not in done_set]
    done = len(selected) - len(todo)
    total = len(selected)
    t0 = time.perf_counter()
    counter = {"done": done, "certified": certified, "correct": correct, "new": 0}

    def on_row(row: dict) -> None:
        store.add_results(run_id, [row])
        counter["done"] += 1
        counter["new"] += 1
        counter["certified"] += int(row["prediction"] != ABSTAIN)
        counter["correct"] += int(bool(row["correct"]))
        if progress is not None:
            progress(counter["done"], total, counter["certified"])

    if progress is not None:
        progress(done, total, certified)
    redone: list[int] = []
    try:
        if todo and backend == "local":
            smooth = _smooth_for(job, model, _num_classes(job, y))
            for i in todo:
                on_row(certify_image(smooth, X[i], int(y[i]), i, job))
        elif todo:
            redone = _run_ray(model, X, y, todo, job, on_row, ray_address, num_workers, _crash_once)
    except BaseException:
        # every finished image is already stored; mark the run so the dashboard can say so
        store.finish_run(run_id, "interrupted")
        raise
    full = select_indices(X.shape[0], job.skip, None)
    complete = set(full) <= (done_set | set(todo))
    store.finish_run(run_id, "done" if complete else "partial")
    return RunSummary(
        run_id=run_id,
        total=total,
        done=counter["done"],
        new=counter["new"],
        certified=counter["certified"],
        correct=counter["correct"],
        seconds=time.perf_counter() - t0,
        backend=backend,
        complete=complete,
        redone=redone,
    )


def _smooth_for(job: CertifyJob, model: nn.Module, num_classes: int) -> Smooth:
    return Smooth(model, num_classes, job.sigma, device=job.device, channels_last=job.channels_last, compile=job.compile)


def _num_classes(job: CertifyJob, y: torch.Tensor) -> int:
    k = DATASET_CLASSES[job.dataset]
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= k):
        raise ValueError(f"The labels must lie in 0..{k - 1} for the {job.dataset} dataset.")
    return k


# --------------------------------------------------------------------------- Ray backend
class _Worker:
    """A Ray actor: holds the model (deserialised once) and the test set, certifies by index."""

    def __init__(self, model: nn.Module, X: torch.Tensor, y: torch.Tensor, job: dict, num_classes: int, crash_once):
        torch.set_num_threads(1)  # one core per actor; also keeps results identical to a 1-thread local run
        self.job = CertifyJob(**job)
        self.X, self.y = X, y
        self.smooth = _smooth_for(self.job, model, num_classes)
        self.crash_once = crash_once

    def certify(self, index: int) -> dict:
        if self.crash_once is not None and index == self.crash_once[0] and not os.path.exists(self.crash_once[1]):
            open(self.crash_once[1], "w").close()
            os._exit(1)  # simulate a worker killed mid-job
        return certify_image(self.smooth, self.X[index], int(self.y[index]), index, self.job)


def _run_ray(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    todo: Sequence[int],
    job: CertifyJob,
    on_row: Callable[[dict], None],
    ray_address: str | None,
    num_workers: int,
    crash_once,
    max_failures: int = 8,
) -> list[int]:
    try:
        import ray
        from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError, WorkerCrashedError
    except ImportError as exc:  # pragma: no cover - ray is a declared optional dependency
        raise ValueError("The Ray backend needs the 'ray' package: pip install 'robustcore[ray]'.") from exc

    started = False
    if not ray.is_initialized():
        if ray_address:
            ray.init(address=ray_address, log_to_driver=False)
        else:
            ray.init(
                num_cpus=num_workers,
                include_dashboard=False,
                log_to_driver=False,
                object_store_memory=100 * 1024**2,
            )
        started = True
    lost = (ActorDiedError, ActorUnavailableError, RayActorError, WorkerCrashedError)
    redone: list[int] = []
    actors: list = []
    try:
        gpus = 1.0 / num_workers if torch.device(job.device).type == "cuda" else 0
        remote_cls = ray.remote(num_cpus=1, num_gpus=gpus, max_restarts=0)(_Worker)
        model_ref = ray.put(model.cpu().eval() if torch.device(job.device).type == "cpu" else model)
        x_ref, y_ref = ray.put(X.cpu()), ray.put(y.cpu())
        k = _num_classes(job, y)
        job_dict = asdict(job)

        def make():
            return remote_cls.remote(model_ref, x_ref, y_ref, job_dict, k, crash_once)

        actors = [make() for _ in range(num_workers)]
        generation = [0] * num_workers
        queue = collections.deque(todo)
        pending: dict = {}
        failures = 0

        def submit(a: int) -> None:
            if queue:
                idx = queue.popleft()
                pending[actors[a].certify.remote(idx)] = (a, generation[a], idx)

        for a in range(num_workers):
            submit(a)
            submit(a)  # two in flight per worker hides the round trip
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            fut = ready[0]
            a, gen, idx = pending.pop(fut)
            try:
                row = ray.get(fut)
            except lost:
                failures += 1
                if failures > max_failures:
                    raise RuntimeError(f"Ray workers died {failures} times; giving up (finished results are stored).")
                queue.appendleft(idx)  # nothing of this image was written: certify it again
                redone.append(idx)
                if gen == generation[a]:  # replace the dead actor once, not once per lost call
                    ray.kill(actors[a], no_restart=True)
                    actors[a] = make()
                    generation[a] += 1
                submit(a)
                continue
            on_row(row)
            submit(a)
    finally:
        for actor in actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # already gone
                pass
        if started:
            ray.shutdown()
    return redone
