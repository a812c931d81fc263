"""Full-page screenshots of every page, default state and typical other states, for visual QA.

    python -m tests.browser.screenshots [--out test-artifacts/screenshots] [--only certificates ...]

Streamlit scrolls inside its main container, so a browser "full page" shot shows only the viewport: this script
grows the viewport to the content's height before each shot. The PNGs are for people to look at (not committed).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.browser.harness import chromium, error_texts, streamlit_server, wait_until_done  # noqa: E402

WIDTH = 1500
# (name, URL path, optional action): the default state of every page, then the other sections / views a user
# opens, then one everyday input.
SHOTS = [
    ("home", "", None),
    ("tropical", "tropical", None),
    ("tropical-7regions", "tropical?preset=3%20units%3A%207%20regions", None),
    ("tropical-train", "tropical?src=Train%20on%20a%20toy%20set", None),
    ("tropical-pruning", "tropical?section=Pruning", None),
    ("tropical-lottery", "tropical?section=Lottery%20tickets", None),
    ("tropical-attack", "tropical?section=Attack", None),
    ("gabor", "gabor", None),
    ("gabor-photo", "gabor?photo=1", ("radio", 0)),
    ("certificates", "certificates", None),
    ("certificates-landscape", "certificates?view=landscape", None),
    ("certificates-table", "certificates?view=table", None),
    ("certificates-dataset", "certificates?view=dataset", None),
    ("certificates-image7", "certificates?image=7", None),
    ("certificates-abstain", "certificates?sigma=1.00&n=100&image=7", None),
    ("certificates-table-clustr", "certificates?view=table&clustr=true", None),
    ("clustering", "clustering", None),
    ("clustering-input", "clustering", ("radio", 0)),
    ("clustering-paper", "clustering", ("paper", 0)),
    ("batch_size", "batch_size", None),
    ("batch_size-input", "batch_size", ("radio", -1)),
    ("batch_size-paper", "batch_size", ("paper", 0)),
    ("batch_size-steps", "batch_size?steps=1", None),
]


def full_shot(page, path: Path) -> None:
    h = page.evaluate("""() => {
        const els = [document.querySelector('[data-testid="stMain"]'),
                     document.querySelector('[data-testid="stAppScrollToBottomContainer"]'),
                     document.querySelector('[data-testid="stMainBlockContainer"]')].filter(Boolean);
        return Math.max(1100, ...els.map(e => e.scrollHeight + 120));
    }""")
    page.set_viewport_size({"width": WIDTH, "height": min(int(h), 16000)})
    page.wait_for_timeout(1500)  # plotly redraws on resize
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": 1100})


def act(page, action) -> None:
    kind, which = action
    if kind == "paper":
        page.get_by_test_id("stSidebar").get_by_text("Paper style").click()
    elif kind == "radio":
        radios = page.locator('[data-testid="stMain"] [data-testid="stRadio"]')
        r = radios.nth(which if which >= 0 else radios.count() + which)
        labels = r.locator('[data-testid="stRadioOption"], label[data-baseweb="radio"]')
        checked = [i for i in range(labels.count()) if labels.nth(i).locator("input").is_checked()]
        labels.nth(((checked[0] + 1) if checked else 1) % labels.count()).click()
    wait_until_done(page, timeout_ms=420_000)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "screenshots")
    ap.add_argument("--only", nargs="+", help="shot names or prefixes")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with streamlit_server(args.out.parent / "screenshots-server.log") as url, chromium() as browser:
        ctx = browser.new_context(viewport={"width": WIDTH, "height": 1100})
        page = ctx.new_page()
        page.goto(url, wait_until="domcontentloaded")  # home first: the server picks its navigation on the first run
        wait_until_done(page, timeout_ms=420_000)
        for name, path, action in SHOTS:
            if args.only and not any(name.startswith(o) for o in args.only):
                continue
            t0 = time.perf_counter()
            try:
                page.goto(f"{url}/{path}", wait_until="domcontentloaded")
                wait_until_done(page, timeout_ms=420_000, settle_ms=1500)
                if action:
                    act(page, action)
                    page.wait_for_timeout(1000)
                full_shot(page, args.out / f"{name}.png")
                errs = error_texts(page)
                print(f"{name:<26} {time.perf_counter() - t0:6.1f} s  {'errors: ' + repr(errs) if errs else 'ok'}",
                      flush=True)
            except Exception as exc:  # noqa: BLE001 - one broken shot must not stop the others
                print(f"{name:<26} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}", flush=True)
        ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
