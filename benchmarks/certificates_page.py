"""AppTest script time of the certificates page for each everyday interaction, with a new value each time.

    python benchmarks/certificates_page.py [--repeats 4] [--baseline COMMIT] [--browser]

Warm means the base classifier is loaded and the test set read (the first render pays for those); every
interaction sets a value the page has not computed yet, so the time includes the certificate it needs.
With ``--baseline COMMIT`` the page file of that commit (e.g. 01c0ba6, before issue 15) runs beside the
current one, interleaved, so both see the same machine load. This is the script time only:
``benchmarks/pages.py`` measures the wait in a browser, which adds sending and drawing the figures.
Target (issue 15): < 1 s per everyday interaction (sigma, sample size, image) in the default view.
Uses a throw-away results store.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VALUES = {"sigma": [0.3, 0.35, 0.4, 0.45, 0.2, 0.15, 0.5, 0.55], "n": [500, 100, 500, 1000, 500, 100, 500, 1000],
          "image": [5, 17, 40, 77, 120, 200, 301, 449]}


def _act(at, what: str, value) -> None:
    if what == "sigma":
        w = next(w for w in at.slider if w.label == "Certification sigma")
    elif what == "n":
        w = next(w for w in at.select_slider if w.label == "Samples n")
    else:
        w = next(w for w in at.number_input if "image index" in w.label.lower())
    w.set_value(value)


def browser_waits(repeats: int) -> None:
    """Median and max browser wait after sigma (slider one step right), n (select slider) and image (+1)."""
    from tests.browser.harness import chromium, streamlit_server, wait_after_input, wait_until_done

    log = ROOT / "test-artifacts" / "benchmark-certificates-server.log"
    log.parent.mkdir(exist_ok=True)
    with streamlit_server(log) as url, chromium() as browser:
        page = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
        for _ in range(2):  # cold, then warm
            t = time.perf_counter()
            page.goto(f"{url}/certificates", wait_until="domcontentloaded")
            wait_until_done(page, settle_ms=0)
        print(f"browser: warm render {time.perf_counter() - t:5.2f} s")
        sliders = page.locator('[data-testid="stMain"] [data-testid="stSlider"]')
        waits: dict[str, list[float]] = {"sigma": [], "n": [], "image": []}
        for k in range(repeats):
            for name, idx in (("sigma", 0), ("n", 1)):
                thumb = sliders.nth(idx).locator('input[type="range"], [role="slider"]').first
                thumb.focus()
                thumb.press("ArrowRight" if name == "sigma" or k % 2 == 0 else "ArrowLeft")
                waits[name].append(wait_after_input(page))
            page.locator('[data-testid="stMain"] [data-testid="stNumberInputStepUp"]').first.click()
            waits["image"].append(wait_after_input(page))
        for name, w in waits.items():
            print(f"browser: {name:6s} median {statistics.median(w):5.2f} s, max {max(w):5.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=4, help="new values per interaction, in [1, 8]")
    parser.add_argument("--baseline", default=None, help="a commit whose certificates page runs beside")
    parser.add_argument("--browser", action="store_true", help="also measure the waits in headless Chromium")
    args = parser.parse_args()
    if not 1 <= args.repeats <= 8:
        raise SystemExit("error: --repeats must be in [1, 8].")
    os.environ.setdefault("ROBUSTCORE_STORE", str(Path(tempfile.mkdtemp()) / "results.sqlite"))
    from streamlit.testing.v1 import AppTest

    pages = {"current": ROOT / "app_pages" / "certificates.py"}
    if args.baseline:
        text = None
        for where in ("app_pages/certificates.py", "pages/certificates.py"):  # the folder was renamed
            got = subprocess.run(["git", "show", f"{args.baseline}:{where}"], cwd=ROOT, capture_output=True, text=True)
            if got.returncode == 0:
                text = got.stdout
                break
        if text is None:
            raise SystemExit(f"error: no certificates page at commit {args.baseline!r}.")
        old = Path(tempfile.mkdtemp()) / "certificates_baseline.py"
        old.write_text(text)
        pages = {args.baseline: old, **pages}
    apps = {}
    for name, path in pages.items():
        at = AppTest.from_file(str(path), default_timeout=600)
        t = time.perf_counter()
        at.run()
        first = time.perf_counter() - t
        t = time.perf_counter()
        at.run()
        print(f"{name:>10s}: first render {first:6.2f} s (loads the model), warm rerun {time.perf_counter() - t:5.2f} s")
        apps[name] = at
    times = {name: {what: [] for what in VALUES} for name in apps}
    for what, values in VALUES.items():
        for v in values[: args.repeats]:
            for name, at in apps.items():
                _act(at, what, v)
                t = time.perf_counter()
                at.run()
                times[name][what].append(time.perf_counter() - t)
                if at.exception:
                    raise SystemExit(f"{name}: {at.exception[0].value}")
    for what in VALUES:
        cells = [f"{name}: median {statistics.median(times[name][what]):5.2f} s, max {max(times[name][what]):5.2f} s"
                 for name in apps]
        print(f"{what:6s} " + " | ".join(cells))
    if args.browser:
        browser_waits(args.repeats)


if __name__ == "__main__":
    main()
