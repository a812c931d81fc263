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
    "MAX_N",
    "MAX_IMAGES",
    "DATASETS",
    "CertifyJob",
    "RunSummary",
    "image_seed",
    "select_indices",
    "certify_image",
    "load_job_model",
    "load_job_data",
    "run_certification",
    "run_state",
    "check_device",
    "check_model_fits",
    "file_sha256",
]

#: The ``kind`` of certification runs in the results store.
RUN_KIND = "smoothing.certify"

#: Test sets a run can certify (see :func:`robustcore.data.load_dataset`). The built-in smoothing
#: models are trained on "digits"; the other sets need a ``checkpoint``.
DATASETS = ("digits", "mnist-5k", "mnist", "cifar10")
#: Number of classes of each dataset (the model must output this many logits).
DATASET_CLASSES = {"digits": 10, "mnist-5k": 10, "mnist": 10, "cifar10": 10}
BACKENDS = ("local", "ray")
#: Largest number of estimation samples per image a job accepts (documented cap, checked before any
#: work): 10^8 samples is about two minutes per image for the digits CNN at 10^6 samples/s, and
#: already 1,000 times Cohen et al.'s n = 100,000.
MAX_N = 100_000_000
#: Largest batch size (noise for one batch is allocated at once: 10^6 CIFAR images are 12 GB).
MAX_BATCH_SIZE = 1_000_000
#: Largest ``max_images`` (bigger than any supported test set).
MAX_IMAGES = 10_000_000

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
        Faster forward passes (see :class:`Smooth`). They can change a vote in the last bits of
        floating point, so every stored row records the forward path it was computed with
        (``extra["forward"]``); they are not part of the run's key, so a run can be resumed on
        another path (each certificate is exact for the model as it was run).
    checkpoint : str or None
        A model file (see :func:`robustcore.nets.load_model_file`) to certify instead of a
        built-in smoothing model; the run is keyed on the file's SHA-256, not on its path.
    root : str or None
        Folder of the "mnist" / "cifar10" test sets (torchvision layout); not part of the key.
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
    checkpoint: str | None = None
    root: str | None = None

    def validate(self) -> None:
        """Raise ``ValueError`` with one sentence for any absurd setting (before any work).

        Checks types, finiteness, ranges and the documented caps (``n <= MAX_N``,
        ``batch_size <= MAX_BATCH_SIZE``), that the device exists here, and that a checkpoint
        file exists; nothing is loaded.
        """
        from .training import SMOOTHING_METHODS

        if self.dataset not in DATASETS:
            raise ValueError(f"Unknown dataset {self.dataset!r}; choose one of {', '.join(DATASETS)}.")
        if self.checkpoint is None:
            if self.model not in SMOOTHING_METHODS:
                raise ValueError(f"Unknown model {self.model!r}; choose one of {', '.join(SMOOTHING_METHODS)}.")
            if self.dataset != "digits":
                raise ValueError(
                    f"The built-in smoothing models are trained on digits; certify {self.dataset} with your own "
                    "model (checkpoint / --checkpoint PATH)."
                )
        else:
            if not isinstance(self.checkpoint, (str, os.PathLike)) or not str(self.checkpoint).strip():
                raise ValueError(f"checkpoint must be a file path, got {self.checkpoint!r}.")
            if not os.path.isfile(self.checkpoint):
                raise ValueError(f"There is no model file at {str(self.checkpoint)!r}.")
        for name in ("sigma", "alpha"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise ValueError(f"{name} must be a number, got {v!r}.")
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be a positive finite number, got {self.sigma!r}.")
        if self.train_sigma is not None and not (
            isinstance(self.train_sigma, (int, float, np.integer, np.floating))
            and math.isfinite(self.train_sigma)
            and self.train_sigma > 0
        ):
            raise ValueError(f"train_sigma must be a positive finite number, got {self.train_sigma!r}.")
        for name in ("n0", "n", "batch_size", "skip"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}.")
        if self.n > MAX_N:
            raise ValueError(f"n must be at most {MAX_N:,} samples per image (the documented cap), got {self.n:,}.")
        if self.n < self.n0:
            raise ValueError(f"n must be at least n0, got n={self.n}, n0={self.n0}.")
        if self.batch_size > MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be at most {MAX_BATCH_SIZE:,}, got {self.batch_size:,}.")
        if not (0 < self.alpha < 1):
            raise ValueError(f"alpha must lie strictly between 0 and 1, got {self.alpha!r}.")
        if self.method not in ("cohen", "pb"):
            raise ValueError(f"method must be 'cohen' or 'pb', got {self.method!r}.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be an integer in [0, 2^63), got {self.seed!r}.")
        if self.root is not None and (not isinstance(self.root, (str, os.PathLike)) or not str(self.root).strip()):
            raise ValueError(f"root must be a folder path, got {self.root!r}.")
        check_device(self.device)

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


def check_device(device) -> str:
    """The canonical name of a usable torch device; ``ValueError`` with one sentence otherwise.

    "nonsense", "cuda" on a machine without CUDA, or "cuda:3" on a one-GPU machine are refused
    before any model is loaded.
    """
    from robustcore.devices import resolve_device

    return resolve_device(device)


def image_seed(run_seed: int, index: int) -> int:
    """Seed of image ``index`` in a run seeded ``run_seed`` (63-bit, independent streams per image).

    Derived with numpy's ``SeedSequence([run_seed, index])``, so it does not depend on the
    order or the worker in which images are processed.
    """
    state = np.random.SeedSequence([int(run_seed), int(index)]).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def select_indices(num_images: int, skip: int = 1, max_images: int | None = None) -> list[int]:
    """Indices 0, skip, 2 skip, ... of a test set, at most ``max_images`` of them (Cohen's ``--skip``)."""
    if max_images is not None and (
        isinstance(max_images, bool) or not isinstance(max_images, (int, np.integer)) or not 1 <= max_images <= MAX_IMAGES
    ):
        raise ValueError(f"max_images must be an integer from 1 to {MAX_IMAGES:,}, got {max_images!r}.")
    idx = list(range(0, int(num_images), int(skip)))
    return idx if max_images is None else idx[: int(max_images)]


def certify_image(
    smooth: Smooth, x: torch.Tensor, label: int, index: int, job: CertifyJob, forward: str | None = None
) -> dict:
    """Certify one image and return its row for the results store.

    Returns
    -------
    dict with index, label (true class), prediction (certified class or -1), radius, sigma,
    correct, time_s and ``extra`` (p_lower, candidate, counts0, counts, n0, n, alpha, seed,
    batch_size, method, p_upper_b, device, forward): everything needed to audit the certificate.
    ``forward`` names how the base classifier was run (e.g. "eager", "channels_last+compiled"): the
    certificate is for the model as run that way.
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
            "forward": forward or _forward_label(job),
        },
    }


def _forward_label(job: CertifyJob) -> str:
    parts = (["channels_last"] if job.channels_last else []) + (["compiled"] if job.compile else [])
    return "+".join(parts) or "eager"


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB blocks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_job_model(job: CertifyJob, progress: Callable[[float, str], None] | None = None) -> tuple[nn.Module, dict]:
    """The job's base classifier: the checkpoint file, or a built-in model (trained and cached on first use).

    A checkpoint is read with :func:`robustcore.nets.load_model_file` (weights only); its info
    gains ``checkpoint_sha256`` and ``checkpoint_name`` (what the run is keyed on).
    """
    if job.checkpoint is not None:
        from robustcore.nets import load_model_file

        model, info = load_model_file(str(job.checkpoint), job.dataset)
        info = dict(info or {})
        info["checkpoint_sha256"] = file_sha256(job.checkpoint)
        info["checkpoint_name"] = os.path.basename(str(job.checkpoint))
        if not callable(model):
            raise ValueError(f"{str(job.checkpoint)!r} does not hold a model that can be called on images.")
        return model, info
    from .training import smoothing_model

    return smoothing_model(job.model, job.model_sigma, progress=progress)


def load_job_data(job: CertifyJob) -> tuple[torch.Tensor, torch.Tensor]:
    """The job's test set ``(X (N, C, H, W) float32 in [0, 1], y (N,) int64)``."""
    try:
        from robustcore.data import load_dataset
    except ImportError:  # older foundation: digits only
        from robustcore.data import load_digits

        if job.dataset != "digits":
            raise ValueError(f"This robustcore cannot load the {job.dataset} dataset.") from None
        return load_digits("test")
    return load_dataset(job.dataset, "test", root=job.root)


def check_model_fits(model, X: torch.Tensor, num_classes: int, device: str = "cpu", what: str = "The model") -> None:
    """Check, on two test images, that ``model`` maps images of ``X``'s shape to ``num_classes`` finite logits.

    Raises ``ValueError`` with one sentence (naming the expected shapes) otherwise. Cheap: one
    forward pass of two images, before any sampling or store write.
    """
    shape = tuple(X.shape[1:])
    batch = X[: min(2, len(X))].to(device)
    was_training = getattr(model, "training", None)
    try:
        if isinstance(model, nn.Module):
            model.to(device).eval()  # Smooth moves it to the device as well
        with torch.inference_mode():
            out = model(batch)
    except Exception as exc:  # noqa: BLE001 - the model's own message is appended for the user
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ValueError(f"{what} cannot take images of shape {shape} (this dataset's): {first}") from None
    finally:
        if isinstance(model, nn.Module) and was_training:
            model.train()
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape != (len(batch), num_classes):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"{what} maps images of shape {shape} to output of shape {got}, not to {num_classes} logits per image."
        )
    if not out.is_floating_point() or not torch.isfinite(out).all():
        raise ValueError(f"{what} returns non-finite or non-float logits for images of this dataset.")


def store_config(job: CertifyJob, model_info: dict | None) -> dict:
    """The configuration a run is keyed on in the store (the job plus the model's identity).

    ``max_images`` and the backend are left out on purpose: they do not change a per-image
    result, so a run can be extended or resumed on another backend.
    """
    from robustcore.nets import config_hash

    cfg = asdict(job)
    # how the forward pass runs is recorded per image (extra["forward"]), not in the key, so a run
    # started small (eager) can be extended on the fast path; the folder of a dataset is not its identity
    for key in ("channels_last", "compile", "root", "checkpoint"):
        cfg.pop(key)
    cfg["train_sigma"] = job.model_sigma
    cfg["device"] = torch.device(job.device).type  # CPU and CUDA generators give different noise
    if job.checkpoint is not None:
        cfg["model"] = "checkpoint"
        cfg["train_sigma"] = None  # unknown: the user's model
        info = model_info or {}
        cfg["checkpoint"] = info.get("checkpoint_name") or os.path.basename(str(job.checkpoint))
        cfg["model_hash"] = "sha256:" + (info.get("checkpoint_sha256") or file_sha256(job.checkpoint))
        if info.get("format"):
            cfg["checkpoint_format"] = str(info["format"])
        if info.get("arch"):
            cfg["arch"] = str(info["arch"])
    elif model_info is not None and "config" in model_info:
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
    fast: str | None = None,
    notice: Callable[[str], None] | None = None,
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
        Certify at most this many of the selected images (first ones). The session is complete
        (status "done") when all requested images have a result.
    progress : callable(done, total, certified), optional
        Called after each image (counts include images done in earlier sessions).
    model, model_info, data : optional
        Use this model / test set instead of loading the job's (for tests and the dashboard).
    fast : {None, "auto", "eager", "compile"}
        None: run the model as ``job.channels_last`` / ``job.compile`` say. Otherwise the local
        backend picks the forward path with :func:`robustcore.smoothing.fastpath.fast_model`
        (channels-last for convolutional models; ``torch.compile`` when the samples still to draw
        make compilation pay ("auto"), never ("eager") or always ("compile"); eager with a
        notice when compilation fails). Each row records its path in ``extra["forward"]``.
    notice : callable(str), optional
        Receives one-line notices (e.g. "torch.compile failed ...; running eager").
    _crash_once : (index, marker_path), optional
        Test hook: the Ray worker given ``index`` exits abruptly once (while the marker file does
        not exist), to exercise recovery.

    Returns
    -------
    RunSummary

    Notes
    -----
    Bookkeeping in the store: the run's status is "running" while a session works, "done" when
    every requested image has a result, "interrupted" when the session was stopped (Ctrl-C, a
    SIGTERM turned into ``KeyboardInterrupt`` by the CLI, an error). Each session also appends
    a "session" metric with ``extra`` = {requested, done, new, seconds, status, forward, pid,
    host}, written at its start (status "running") and at its end, so a report can say how many
    images were requested and done, and recognise a session killed without warning (its pid is
    gone).
    """
    job.validate()
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}.")
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or not 1 <= num_workers <= 1024:
        raise ValueError(f"num_workers must be an integer from 1 to 1024, got {num_workers!r}.")
    if fast not in (None, "auto", "eager", "compile"):
        raise ValueError(f"fast must be None, 'auto', 'eager' or 'compile', got {fast!r}.")
    if max_images is not None:
        select_indices(1, 1, max_images)  # validates max_images before anything loads
    X, y = load_job_data(job) if data is None else data
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"The test set has {X.shape[0]} images but {y.shape[0]} labels.")
    if X.shape[0] == 0:
        raise ValueError("The test set is empty.")
    k = _num_classes(job, y)
    if model is None:
        model, model_info = load_job_model(job)
    what = f"The model in {str(job.checkpoint)!r}" if job.checkpoint is not None else "The model"
    # check the model against the data before anything is written or sampled
    check_model_fits(model, X, k, device=job.device, what=what)
    selected = select_indices(X.shape[0], job.skip, max_images)
    if store is None:
        from robustcore.store import ResultsStore

        store = ResultsStore()

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
    session = {"requested": total, "done": done, "new": 0, "seconds": 0.0, "status": "running",
               "forward": None, "pid": os.getpid(), "host": _host()}
    store.add_metric(run_id, "session", 0, extra=dict(session))

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
    status = "interrupted"
    try:
        if todo and backend == "local":
            if fast is None:
                smooth = _smooth_for(job, model, k)
                forward = _forward_label(job)
            else:
                from .fastpath import fast_model

                fm, path = fast_model(
                    model,
                    X[todo[0]],
                    batch_size=min(job.batch_size, job.n),
                    total_samples=len(todo) * (job.n0 + job.n),
                    device=job.device,
                    compile={"auto": "auto", "eager": False, "compile": True}[fast],
                    notice=notice,
                )
                smooth = Smooth(fm, k, job.sigma, device=job.device)
                forward = path.label
            session["forward"] = forward
            for i in todo:
                on_row(certify_image(smooth, X[i], int(y[i]), i, job, forward=forward))
        elif todo:
            session["forward"] = _forward_label(job)
            redone = _run_ray(model, X, y, todo, job, on_row, ray_address, num_workers, _crash_once)
        status = "done"
    finally:
        # every finished image is already stored; say how this session ended (also on Ctrl-C / SIGTERM)
        session.update(done=counter["done"], new=counter["new"], seconds=time.perf_counter() - t0, status=status)
        try:
            store.add_metric(run_id, "session", counter["new"], extra=dict(session))
            store.finish_run(run_id, status)
        except Exception:  # noqa: BLE001 - never hide the original error behind a bookkeeping one
            if status == "done":
                raise
    return RunSummary(
        run_id=run_id,
        total=total,
        done=counter["done"],
        new=counter["new"],
        certified=counter["certified"],
        correct=counter["correct"],
        seconds=session["seconds"],
        backend=backend,
        complete=counter["done"] == total,
        redone=redone,
    )


def _host() -> str:
    import socket

    return socket.gethostname()


def run_state(store, run_id: int) -> dict:
    """How a certification run stands, for reports and the dashboard.

    Returns
    -------
    dict with ``status`` ("done", "interrupted", "running", or "imported"), ``requested`` and
    ``done`` (images of the last session; None when unknown), ``results`` (rows stored) and
    ``text``: one phrase such as "done: 30 of 30 requested images" or "interrupted: 12 of 30
    requested images done; run the same command again to resume". A run whose status says
    "running" but whose session process is gone from this host (killed with SIGKILL, a power
    cut) is reported as interrupted.
    """
    run = store.run(run_id)
    cfg = run["config"] if isinstance(run["config"], dict) else {}
    n_results = int(run.get("n_results", 0))
    if cfg.get("source") == "imported":
        return {"status": "imported", "requested": None, "done": n_results, "results": n_results,
                "text": f"imported from {cfg.get('file', 'a log')}: {n_results} images"}
    metrics = store.metrics(run_id=run_id)
    sessions = metrics[metrics["name"] == "session"] if not metrics.empty else metrics
    last = sessions.iloc[-1]["extra"] if len(sessions) else {}
    status = str(run["status"])
    if status == "running" and last.get("status") == "running":
        if last.get("host") == _host() and not _pid_alive(last.get("pid")):
            status = "interrupted"
    requested, done = last.get("requested"), last.get("done")
    if status == "running" and last.get("status") == "running":
        done = None  # still working: the count grows
    if status == "done":
        text = f"done: {done} of {requested} requested images" if requested is not None else "done"
    elif status == "interrupted":
        if requested is not None:
            # a session killed without warning never wrote its end: count what is stored instead
            if last.get("status") == "interrupted":
                text = f"interrupted: {done} of {requested} requested images done"
            else:
                text = (f"interrupted: the process stopped without closing the run ({n_results} images stored, "
                        f"{requested} requested)")
            text += "; run the same command again to resume"
        else:
            text = "interrupted; run the same command again to resume"
    elif status == "running":
        text = f"running: {requested} images requested" if requested is not None else "running"
    else:  # runs written by an older robustcore ("partial")
        text = status
    return {"status": status, "requested": requested, "done": done, "results": n_results, "text": text}


def _pid_alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


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
