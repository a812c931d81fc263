"""The fastest exact forward path for certification: channels-last and ``torch.compile`` when they pay.

:func:`fast_model` wraps a base classifier *before* :class:`~robustcore.smoothing.Smooth` is
built, so ``certify.py`` is unchanged:

- **channels-last** for models with 2-D convolutions (a copy of the model is converted; the
  caller's model is left as it was). Measured about 1.6-2x on the digits CNN on the CPU.
- **torch.compile** (``dynamic=False``) when the job is large enough for compilation to pay:
  compiling costs seconds (0.4-10 s warm, 30-66 s on a cold inductor cache, on a 2-core CPU; once
  per process) and saves a fraction of
  every forward pass, so it is used when the samples still to draw reach
  :data:`COMPILE_MIN_SAMPLES` (``auto``). The compiled function sees a single batch shape:
  smaller batches (the last one, the n0 selection batch) are padded with copies of their first
  row whose outputs are discarded, so it is compiled once and never recompiles. A failed
  compilation (no C compiler, an unsupported model) falls back to eager with a one-line notice.

Soundness: a compiled or channels-last model is a *different floating-point function* from the
eager one (kernels fuse and reorder sums, so a logit can differ in its last bits and, very
rarely, a vote can flip). The certificate is exact for the base classifier **as it was run**,
and each stored row records that path (``extra["forward"]``, e.g. "channels_last+compiled").
``--no-compile`` certifies the eager model.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["COMPILE_MIN_SAMPLES", "FastPath", "FixedBatchModel", "fast_model", "wants_channels_last"]

#: ``compile="auto"`` compiles when at least this many samples (images x (n0 + n)) remain.
#: Break-even from ``benchmarks/certify.py --cli-vs-cohen`` on the shared 2-core CPU (digits CNN, batch
#: 1000, 1 thread): compiling costs 0.4-10 s with a warm inductor cache and 30-66 s cold, and saves
#: ~15-25 us per sample over channels-last eager, so it pays from 0.02-0.4 million samples warm and
#: ~2-4 million cold; 2 million (20 images at Cohen's n = 100,000) keeps a first, cold run from losing
#: much. At that size the default path measured x1.99-x2.92 Cohen et al.'s loop end to end.
COMPILE_MIN_SAMPLES = 2_000_000


@dataclass(frozen=True)
class FastPath:
    """How :func:`fast_model` runs the base classifier.

    Attributes
    ----------
    channels_last : bool
        The model's 4-D weights and inputs are in channels-last memory format.
    compiled : bool
        The forward pass goes through ``torch.compile`` at one batch shape.
    reason : str
        One phrase saying why (e.g. "2,000,000 samples to draw: compilation pays").
    compile_seconds : float
        Time spent compiling (0 when not compiled).
    """

    channels_last: bool
    compiled: bool
    reason: str
    compile_seconds: float = 0.0

    @property
    def label(self) -> str:
        """"eager", "channels_last", "compiled" or "channels_last+compiled" (stored with each row)."""
        parts = (["channels_last"] if self.channels_last else []) + (["compiled"] if self.compiled else [])
        return "+".join(parts) or "eager"


class FixedBatchModel(nn.Module):
    """Run ``model`` (optionally through ``compiled``) on inputs in a fixed memory format and batch shape.

    Parameters
    ----------
    model : nn.Module
        The (possibly channels-last) model; its parameters are this module's parameters.
    compiled : callable or None
        ``torch.compile(model)``; when given every call is split into chunks of ``batch_size`` and
        a short chunk is padded with copies of its first row (outputs of padding are discarded).
    batch_size : int
        The single batch shape of the compiled function.
    channels_last : bool
        Convert 4-D inputs to channels-last before the forward pass.
    """

    def __init__(self, model: nn.Module, compiled: Callable | None, batch_size: int, channels_last: bool) -> None:
        super().__init__()
        self.model = model
        object.__setattr__(self, "_compiled", compiled)  # not a submodule: parameters are listed once
        self.batch_size = int(batch_size)
        self.channels_last = bool(channels_last)

    def __deepcopy__(self, memo):
        # this wrapper already holds a private copy of the model, and a compiled function cannot be
        # deep-copied: a caller that copies its base classifier (e.g. to leave it untouched) shares it
        return self

    def _fmt(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last and x.ndim == 4 else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._compiled is None:
            return self.model(self._fmt(x))
        outs = []
        big = self.batch_size
        for start in range(0, x.shape[0], big):
            chunk = x[start : start + big]
            m = chunk.shape[0]
            if m < big:  # one shape for the compiled graph; padded rows are discarded below
                chunk = torch.cat([chunk, chunk[:1].expand(big - m, *chunk.shape[1:])])
            outs.append(self._compiled(self._fmt(chunk))[:m])
        return outs[0] if len(outs) == 1 else torch.cat(outs)


def wants_channels_last(model) -> bool:
    """True for an ``nn.Module`` (not TorchScript) with at least one 2-D convolution."""
    if not isinstance(model, nn.Module) or isinstance(model, torch.jit.ScriptModule):
        return False
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def fast_model(
    model,
    example: torch.Tensor,
    batch_size: int,
    total_samples: int,
    device: str | torch.device = "cpu",
    compile: bool | str = "auto",
    channels_last: bool | str = "auto",
    notice: Callable[[str], None] | None = None,
) -> tuple[nn.Module, FastPath]:
    """Wrap ``model`` for the fastest exact forward path of a certification job.

    Parameters
    ----------
    model : nn.Module or callable
        The base classifier (left unchanged: a copy is converted). TorchScript modules and plain
        callables are run as given.
    example : Tensor, shape (C, H, W) or any single-input shape
        One input image (values in [0, 1]); used to compile and check the compiled model.
    batch_size : int
        Forward batch size of the job (use ``min(batch_size, n)``: the compiled shape).
    total_samples : int
        Samples still to draw in this job, ``images * (n0 + n)``; decides ``compile="auto"``.
    device : str or torch.device
    compile : {"auto", True, False}
        "auto": compile when ``total_samples >= COMPILE_MIN_SAMPLES``.
    channels_last : {"auto", True, False}
        "auto": channels-last when the model has a 2-D convolution and the input is an image.
    notice : callable(str), optional
        Receives a one-line notice when compilation fails and eager is used instead.

    Returns
    -------
    (module, FastPath)
        A module mapping a batch to logits exactly like ``model`` up to floating-point
        reordering, and how it runs. The certificate is for this module as run.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if isinstance(total_samples, bool) or not isinstance(total_samples, int) or total_samples < 0:
        raise ValueError(f"total_samples must be a non-negative integer, got {total_samples!r}.")
    if compile not in ("auto", True, False) or channels_last not in ("auto", True, False):
        raise ValueError("compile and channels_last must each be 'auto', True or False.")
    device = torch.device(device)
    if not isinstance(model, nn.Module) or isinstance(model, torch.jit.ScriptModule):
        return model, FastPath(False, False, "TorchScript or plain callable: run as given")
    use_cl = wants_channels_last(model) and example.ndim == 3 if channels_last == "auto" else bool(channels_last)
    inner = copy.deepcopy(model).to(device).eval()
    if use_cl:
        inner = inner.to(memory_format=torch.channels_last)
    if compile == "auto":
        use_compile = total_samples >= COMPILE_MIN_SAMPLES
        why = (f"{total_samples:,} samples to draw: compilation pays" if use_compile
               else f"{total_samples:,} samples to draw: too few for compilation to pay "
                    f"(compiles from {COMPILE_MIN_SAMPLES:,})")
    else:
        use_compile = bool(compile)
        why = "compilation asked for" if use_compile else "compilation turned off"
    if not use_compile:
        return FixedBatchModel(inner, None, batch_size, use_cl), FastPath(use_cl, False, why)
    t0 = time.perf_counter()
    try:
        compiled = torch.compile(inner, dynamic=False)
        wrapped = FixedBatchModel(inner, compiled, batch_size, use_cl)
        probe = example.detach().to(device=device, dtype=torch.float32).unsqueeze(0)
        with torch.inference_mode():  # the mode certification runs in: no recompilation later
            got = wrapped(probe)
            want = FixedBatchModel(inner, None, batch_size, use_cl)(probe)
        if got.shape != want.shape:
            raise RuntimeError(f"compiled output shape {tuple(got.shape)} differs from eager {tuple(want.shape)}")
    except Exception as exc:  # noqa: BLE001 - no compiler, unsupported op, ...: eager is always correct
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        if notice is not None:
            notice(f"torch.compile failed ({type(exc).__name__}: {first}); certifying with the eager model.")
        return FixedBatchModel(inner, None, batch_size, use_cl), FastPath(
            use_cl, False, f"compilation failed ({type(exc).__name__})"
        )
    return wrapped, FastPath(use_cl, True, why, time.perf_counter() - t0)
