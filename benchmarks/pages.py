"""What a user waits for on each page: browser render and per-interaction waits, beside AppTest's rerun time.

Starts the real server (``streamlit run app.py``) and drives it with Debian's headless Chromium. For every page
it prints the cold and warm render time, then acts on the first widgets of the page's main area (a slider
one step right, the next option of a select box or radio, a number input one step up, a checkbox toggled)
and prints, per interaction, the browser wait from the input until the page is idle again, next to the time
AppTest needs for the same rerun (script time only: the difference is building, sending and drawing figures).

    python benchmarks/pages.py [--pages tropical certificates ...] [--widgets 5]

Targets (issue 15): every page renders in < 2 s warm; median wait after an everyday interaction < 1 s and none
> 2 s, warm. The numbers depend on the machine; the README names the one they were printed on.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.harness import chromium, streamlit_server, wait_after_input, wait_until_done  # noqa: E402

PAGES = {"home": "", "tropical": "tropical", "gabor": "gabor", "certificates": "certificates",
         "clustering": "clustering", "batch_size": "batch_size"}
KINDS = {"stSlider": "slider", "stSelectbox": "selectbox", "stNumberInput": "number_input",
         "stCheckbox": "checkbox", "stRadio": "radio"}


def _main_widgets(page, limit: int) -> list[tuple[str, str, object]]:
    """(kind, label, locator) of the first widgets in the main area, in page order."""
    sel = ", ".join(f'[data-testid="stMain"] [data-testid="{t}"]' for t in KINDS)
    out = []
    for loc in page.locator(sel).all():
        if not loc.is_visible():
            continue
        testid = loc.get_attribute("data-testid")
        label_loc = loc.locator('[data-testid="stWidgetLabel"]')
        label = label_loc.first.inner_text().strip() if label_loc.count() else loc.inner_text().strip()
        out.append((KINDS[testid], label.splitlines()[0] if label else "", loc))
        if len(out) >= limit:
            break
    return out


def _act(page, kind: str, loc) -> bool:
    """Perform one everyday input on a widget; False when it offers nothing to change."""
    if kind == "slider":
        thumb = loc.locator('[role="slider"]').first
        thumb.focus()
        thumb.press("ArrowRight")
    elif kind == "selectbox":
        loc.locator('[role="combobox"]').first.click()
        opts = page.locator('[role="option"]')
        if opts.count() < 2:
            page.keyboard.press("Escape")
            return False
        opts.nth(1).click()
    elif kind == "number_input":
        up = loc.locator('[data-testid="stNumberInputStepUp"]')
        if up.count() == 0 or up.first.is_disabled():
            return False
        up.first.click()
    elif kind == "checkbox":
        loc.locator("label").first.click()
    elif kind == "radio":
        labels = loc.locator('label[data-baseweb="radio"]')
        if labels.count() < 2:
            return False
        labels.nth(1).click()
    return True


def _apptest_rerun(page_file: Path, kind: str, label: str) -> float | None:
    """Seconds of AppTest's rerun after the same input, or None when the widget cannot be matched."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(page_file), default_timeout=600)
    at.run()
    pools = {"slider": list(at.slider) + list(at.select_slider), "selectbox": list(at.selectbox),
             "number_input": list(at.number_input), "checkbox": list(at.checkbox), "radio": list(at.radio)}
    hits = [w for w in pools[kind] if (w.label or "").strip().startswith(label[:20])]
    if not hits:
        return None
    w = hits[0]
    try:
        if kind == "slider" and hasattr(w, "options"):
            opts = list(w.options)
            i = opts.index(str(w.value)) if str(w.value) in opts else 0
            w.set_value(type(w.value)(opts[min(i + 1, len(opts) - 1)]) if not isinstance(w.value, str) else opts[min(i + 1, len(opts) - 1)])
        elif kind == "slider":
            v = w.value if not isinstance(w.value, tuple) else w.value[0]
            w.set_value(min(v + w.step, w.max))
        elif kind in ("selectbox", "radio"):
            opts = list(w.options)
            w.set_value(opts[1] if len(opts) > 1 else opts[0])
        elif kind == "number_input":
            w.set_value(min(w.value + (w.step or 1), w.max if w.max is not None else w.value + (w.step or 1)))
        elif kind == "checkbox":
            w.set_value(not w.value)
    except Exception:  # noqa: BLE001 - a widget AppTest cannot drive is reported as unmatched
        return None
    t0 = time.perf_counter()
    at.run()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", nargs="+", choices=list(PAGES), default=list(PAGES))
    ap.add_argument("--widgets", type=int, default=5, help="widgets per page to act on (default 5)")
    ap.add_argument("--no-apptest", action="store_true", help="skip the AppTest column")
    args = ap.parse_args()
    rows = []
    all_waits = []
    log = ROOT / "test-artifacts" / "benchmark-server.log"
    with streamlit_server(log) as url, chromium() as browser:
        ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
        page = ctx.new_page()
        for name in args.pages:
            path = PAGES[name]
            t0 = time.perf_counter()
            page.goto(f"{url}/{path}", wait_until="domcontentloaded")
            wait_until_done(page, settle_ms=0)
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            page.goto(f"{url}/{path}", wait_until="domcontentloaded")
            wait_until_done(page, settle_ms=0)
            warm = time.perf_counter() - t0
            print(f"\n== {name}: render cold {cold:.2f} s, warm {warm:.2f} s", flush=True)
            rows.append((name, "render (warm)", warm, None))
            if name == "home":
                continue
            for kind, label, loc in _main_widgets(page, args.widgets):
                try:
                    if not _act(page, kind, loc):
                        continue
                    wait = wait_after_input(page)
                except Exception as exc:  # noqa: BLE001 - report and go on with the next widget
                    print(f"  {kind:<12} {label[:40]:<40} could not be driven ({type(exc).__name__})")
                    continue
                apptest = None if args.no_apptest else _apptest_rerun(ROOT / "pages" / f"{name}.py", kind, label)
                all_waits.append(wait)
                rows.append((name, f"{kind}: {label[:40]}", wait, apptest))
                at_s = "   n/a" if apptest is None else f"{apptest:6.2f}"
                print(f"  {kind:<12} {label[:40]:<40} browser {wait:5.2f} s   AppTest {at_s} s", flush=True)
        ctx.close()
    if all_waits:
        print(f"\nall interactions: median wait {statistics.median(all_waits):.2f} s, max {max(all_waits):.2f} s "
              f"over {len(all_waits)} inputs; slowest warm render "
              f"{max(r[2] for r in rows if r[1] == 'render (warm)'):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
