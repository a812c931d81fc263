"""Independent noise streams per purpose, so no certificate reuses noise that a selection step has seen.

A page or a job has one user-facing seed. Every purpose that draws Gaussian noise (the sigma landscape,
the sigma optimiser, the fixed-sigma certificate, the data-dependent certificate, the gallery of noisy
samples, the memory, the Lipschitz-sigma certificate ...) gets its own seed derived from it with
``numpy.random.SeedSequence``: the streams are statistically independent, and each is reproducible from
``(seed, purpose)``, which is what a certificate records.

Which library routine draws from which purpose (each records the purpose and the stream's seed):

- ``sigma_landscape(seed=s)``: "landscape";
- ``optimize_sigma(seed=s)``: input ``j`` draws from ``stream_seed(image_seed(s, j), "optimise")`` (or
  ``stream_seed(seeds[j], "optimise")``), so every input has its own stream;
- ``certify_data_dependent(seed=s)``: ascent as above, CERTIFY at sigma_x from "certify-dd";
- ``certify_best(landscape)``: "certify-best"; ``certify_lipschitz_sigma(seed=s)``: "lipschitz";
- ``Smooth.certify(seed=s, purpose=p)``: ``stream_seed(s, p)``; without ``purpose`` the seed is used as is
  (bit-identical to Cohen's code), which no library selection step ever uses;
- ``run_dd_certification``: per test image ``i``, ``image_seed(run_seed, i)`` -> "optimise" / "certify-dd".

Why it matters: if sigma is chosen by looking at the landscape and the certificate at that sigma is then
computed from the *same* noise, the selection and the estimate are dependent and the Clopper-Pearson
bound no longer holds at level alpha (measured 0.58 % failures at alpha = 0.1 % before this module).
"""
from __future__ import annotations

import zlib

import numpy as np

__all__ = ["PURPOSES", "stream_seed", "stream_seeds"]

# The purposes used by the library and the pages; any other string is accepted too (it gets its own stream).
PURPOSES = ("selection", "certify", "certify-fixed", "certify-dd", "certify-best", "landscape", "optimise",
            "gallery", "memory", "lipschitz", "clustr", "import")


def stream_seed(seed: int, purpose: str) -> int:
    """A 63-bit seed for ``purpose``, independent of every other purpose's stream from the same ``seed``.

    Parameters
    ----------
    seed : int
        The user-facing seed (>= 0).
    purpose : str
        What the noise is for (see ``PURPOSES``); different strings give independent streams.

    Returns
    -------
    int
        ``SeedSequence([seed, crc32(purpose)])``'s first 63 bits: the same inputs always give the same seed.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    if not isinstance(purpose, str) or not purpose:
        raise ValueError(f"purpose must be a non-empty string, got {purpose!r}.")
    state = np.random.SeedSequence([int(seed), zlib.crc32(purpose.encode())]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def stream_seeds(seed: int, purposes: tuple[str, ...] | list[str] = PURPOSES) -> dict[str, int]:
    """``{purpose: stream_seed(seed, purpose)}`` for several purposes at once (to record beside a result)."""
    return {p: stream_seed(seed, p) for p in purposes}
