"""AppTest script time of the certificates page for each everyday interaction, with a new value each time.

    python benchmarks/certificates_page.py [--repeats 3]

Warm means the base classifier is loaded and the test set read (the first render pays for those); every
interaction below sets a value the page has not computed yet, so the time includes the certificate it
needs. This is the script time only: ``benchmarks/pages.py`` measures the wait in a browser, which adds
sending and drawing the figures. Target (issue 15): < 1 s per everyday interaction (sigma, sample size,
image) in the default view. Uses a throw-away results store.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="new values per interaction (>= 1)")
    args = parser.parse_args()
    if not 1 <= args.repeats <= 8:
        raise SystemExit("error: --repeats must be in [1, 8].")
    os.environ.setdefault("ROBUSTCORE_STORE", str(Path(tempfile.mkdtemp()) / "results.sqlite"))
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "certificates.py"), default_timeout=600)
    t = time.perf_counter()
    at.run()
    print(f"first render (loads the model)   {time.perf_counter() - t:6.2f} s")
    t = time.perf_counter()
    at.run()
    print(f"warm rerun, nothing changed       {time.perf_counter() - t:6.2f} s")

    def widget(kind: str, key: str):
        return next(w for w in getattr(at, kind) if w.key == key)

    plan = [
        ("sigma (slider, n = 1,000)", "slider", "cert_sigma", [0.3, 0.35, 0.4, 0.45, 0.2, 0.15, 0.5, 0.55]),
        ("image (number input)", "number_input", "cert_image", [5, 17, 40, 77, 120, 200, 301, 449]),
        ("samples n (100 / 500)", "select_slider", "cert_n", [500, 100] * 4),
    ]
    for label, kind, key, values in plan:
        times = []
        for v in values[: args.repeats]:
            t = time.perf_counter()
            widget(kind, key).set_value(v).run()
            times.append(time.perf_counter() - t)
            assert not at.exception, [e.value for e in at.exception]
        print(f"{label:33s} median {statistics.median(times):5.2f} s, max {max(times):5.2f} s")
    for view in ("landscape", "table", "dataset", "votes"):
        t = time.perf_counter()
        widget("radio", "cert_view").set_value(view).run()
        print(f"switch to view {view:18s} {time.perf_counter() - t:6.2f} s (first time for this image)")


if __name__ == "__main__":
    main()
