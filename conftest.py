"""Root conftest: puts the repository root on sys.path (pages import ``ui``) and gives the
whole test session one model cache, so a model trained by one test is reused by the others."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# Tests share one cache below the repository (fresh on a clean clone, reused locally).
os.environ.setdefault("ROBUSTCORE_CACHE", str(ROOT / ".robustcore-cache" / "test"))
os.environ.setdefault("ROBUSTCORE_STORE", str(ROOT / ".robustcore-cache" / "test" / "results-test.sqlite"))

try:  # two xdist workers on two cores: one thread each avoids oversubscription
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass
