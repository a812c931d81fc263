"""What a user waits for on each page: browser render and per-interaction waits, beside AppTest's rerun time.

Starts the real server (``streamlit run app.py``) and drives it with Debian's headless Chromium. For every page
it prints the cold render time and the median of ``--renders`` warm reloads, then acts on the first widgets of
the page's main area, each from the page's default state (a warm reload): a slider or select slider one step
right (left at its maximum) by focusing its thumb and pressing the arrow key, the next option of a select box or
radio, a number input one step up, a checkbox or toggle flipped. Per interaction it prints the browser wait from the input until the page
is idle again (the app's ``data-test-script-state`` back at ``notRunning`` with nothing stale), next to the
time AppTest needs for the same rerun (script time only: the difference is building, sending and drawing
figures; n/a where AppTest cannot replay the input). A widget that cannot be driven is skipped with the reason.

    python benchmarks/pages.py [--pages tropical certificates ...] [--widgets 5] [--renders 3] [--no-apptest]
                               [--torch-threads N]

Targets (issue 15): every page renders in < 2 s warm; median wait after an everyday interaction < 1 s and none
> 2 s, warm. The numbers depend on the machine (and on its load: the script prints ``uptime``'s load average);
the README names the one they were printed on.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.harness import (  # noqa: E402
    chromium, error_texts, streamlit_server, wait_after_input, wait_until_done)

PAGES = {"home": "", "tropical": "tropical", "gabor": "gabor", "certificates": "certificates",
         "clustering": "clustering", "batch_size": "batch_size"}
KINDS = {"stSlider": "slider", "stSelectbox": "selectbox", "stNumberInput": "number_input",
         "stCheckbox": "checkbox", "stRadio": "radio"}
INPUT_TIMEOUT_MS = 180_000


def _widget_selector() -> str:
    return ", ".join(f'[data-testid="stMain"] [data-testid="{t}"]' for t in KINDS)


def _main_widgets(page, limit: int) -> list[tuple[int, str, str]]:
    """(position, kind, label) of the first visible widgets in the main area, in page order."""
    out = []
    locs = page.locator(_widget_selector())
    for i in range(locs.count()):
        loc = locs.nth(i)
        if not loc.is_visible():
            continue
        kind = KINDS[loc.get_attribute("data-testid")]
        label_loc = loc.locator('[data-testid="stWidgetLabel"]')
        label = label_loc.first.inner_text().strip() if label_loc.count() else loc.inner_text().strip()
        out.append((i, kind, label.splitlines()[0] if label else ""))
        if len(out) >= limit:
            break
    return out


def _find(page, kind: str, label: str, position: int):
    """The widget again after reruns (elements above it may have appeared or gone), by its label."""
    locs = page.locator(_widget_selector())
    for i in range(locs.count()):
        loc = locs.nth(i)
        if KINDS.get(loc.get_attribute("data-testid")) != kind:
            continue
        lab = loc.locator('[data-testid="stWidgetLabel"]')
        text = lab.first.inner_text().strip() if lab.count() else loc.inner_text().strip()
        if label and text.splitlines() and text.splitlines()[0] == label:
            return loc
    return None  # the previous input removed it (e.g. a radio that switches what the page shows)


def _act(page, kind: str, loc) -> str | None:
    """Perform one everyday input on a widget; the reason when it offers nothing to change."""
    if kind == "slider":
        # Streamlit >= 1.5x (react-aria) keeps the thumb's value in a visually hidden <input type="range">;
        # older versions drew a [role="slider"] thumb with aria values.
        thumb = loc.locator('input[type="range"], [role="slider"]').first
        if thumb.count() == 0:
            return "no slider thumb"
        if thumb.is_disabled() or thumb.get_attribute("aria-disabled") == "true":
            return "disabled"
        now = thumb.get_attribute("value") or thumb.get_attribute("aria-valuenow")
        hi = thumb.get_attribute("max") or thumb.get_attribute("aria-valuemax")
        key = "ArrowLeft" if now is not None and hi is not None and float(now) >= float(hi) else "ArrowRight"
        thumb.focus()
        # Streamlit commits a slider's value a moment (debounced) after the key: wait_after_input waits
        # for the rerun to start, so that delay is part of what the user waits.
        thumb.press(key)
    elif kind == "selectbox":
        box = loc.locator('[role="combobox"]').first
        if box.is_disabled():
            return "disabled"
        box.click()
        opts = page.locator('[role="option"]')
        try:
            opts.first.wait_for(timeout=5_000)
        except Exception:  # noqa: BLE001
            page.keyboard.press("Escape")
            return "its option list did not open"
        if opts.count() < 2:
            page.keyboard.press("Escape")
            return "only one option"
        # the next option after the selected one (first when the last is selected)
        sel = [i for i in range(opts.count()) if opts.nth(i).get_attribute("aria-selected") == "true"]
        nxt = (sel[0] + 1) % opts.count() if sel else 1
        opts.nth(nxt).click()
    elif kind == "number_input":
        up = loc.locator('[data-testid="stNumberInputStepUp"]')
        down = loc.locator('[data-testid="stNumberInputStepDown"]')
        if up.count() and not up.first.is_disabled():
            up.first.click()
        elif down.count() and not down.first.is_disabled():
            down.first.click()
        else:
            return "no step buttons enabled"
    elif kind == "checkbox":
        box = loc.locator('input[type="checkbox"]').first
        if box.count() and box.is_disabled():
            return "disabled"
        loc.locator("label").first.click()
    elif kind == "radio":
        labels = loc.locator('[data-testid="stRadioOption"], label[data-baseweb="radio"]')
        if labels.count() < 2:
            return "only one option"
        if labels.first.locator("input").is_disabled():
            return "disabled"
        checked = [i for i in range(labels.count()) if labels.nth(i).locator("input").is_checked()]
        nxt = (checked[0] + 1) % labels.count() if checked else 1
        labels.nth(nxt).click()
    return None


def _apptest_rerun(page_file: Path, kind: str, label: str) -> float | None:
    """Seconds of AppTest's rerun after the same input, or None when the widget cannot be matched."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(page_file), default_timeout=600)
    at.run()
    pools = {"slider": list(at.slider) + list(at.select_slider), "selectbox": list(at.selectbox),
             "number_input": list(at.number_input), "checkbox": list(at.checkbox) + list(at.toggle),
             "radio": list(at.radio)}
    # The browser shows a label's rendered text (σ), AppTest its source ($\\sigma$): match on the plain words.
    words = re.findall(r"[A-Za-z]{3,}", label)
    hits = [w for w in pools[kind] if (all(x in (w.label or "") for x in words) if words
                                       else (w.label or "").strip().startswith(label[:20]))]
    if not hits:
        return None
    w = hits[0]
    try:
        if kind == "slider" and hasattr(w, "options"):
            opts = list(w.options)
            i = opts.index(str(w.value)) if str(w.value) in opts else 0
            j = i + 1 if i + 1 < len(opts) else i - 1
            w.set_value(opts[j] if isinstance(w.value, str) else type(w.value)(opts[j]))
        elif kind == "slider":
            v = w.value if not isinstance(w.value, tuple) else w.value[0]
            w.set_value(v + w.step if v + w.step <= w.max else v - w.step)
        elif kind == "selectbox":
            w.select_index(((w.index or 0) + 1) % len(w.options))
        elif kind == "radio":
            # AppTest lists a radio's options formatted; set_value needs the raw value, known only without
            # a format_func (then the two agree)
            opts = list(w.options)
            if str(w.value) not in opts:
                return None
            w.set_value(opts[(opts.index(str(w.value)) + 1) % len(opts)])
        elif kind == "number_input":
            step = w.step or 1
            w.set_value(w.value + step if w.max is None or w.value + step <= w.max else w.value - step)
        elif kind == "checkbox":
            w.set_value(not w.value)
    except Exception:  # noqa: BLE001 - a widget AppTest cannot drive is reported as unmatched
        return None
    t0 = time.perf_counter()
    try:
        at.run()
    except Exception:  # noqa: BLE001 - AppTest could not replay this input (e.g. a value it could not map)
        return None
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", nargs="+", choices=list(PAGES), default=list(PAGES))
    ap.add_argument("--widgets", type=int, default=5, help="widgets per page to act on (default 5)")
    ap.add_argument("--renders", type=int, default=3,
                    help="warm reloads per page; the warm render is their median (default 3: one reload right "
                         "after the cold one can still share the machine with work the cold one started)")
    ap.add_argument("--no-apptest", action="store_true", help="skip the AppTest column")
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="torch threads of the server (ROBUSTCORE_TORCH_THREADS; default: the app's, half the cores)")
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)",
          flush=True)
    rows = []
    all_waits = []
    log = ROOT / "test-artifacts" / "benchmark-server.log"
    env = {} if args.torch_threads is None else {"ROBUSTCORE_TORCH_THREADS": str(args.torch_threads)}
    print(f"server torch threads: {env.get('ROBUSTCORE_TORCH_THREADS', 'app default (half the cores)')}", flush=True)
    with streamlit_server(log, env=env) as url, chromium() as browser:
        ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
        page = ctx.new_page()
        # Home first: the server picks its page navigation on the first script run.
        page.goto(url, wait_until="domcontentloaded")
        wait_until_done(page, settle_ms=0)
        for name in args.pages:
            path = PAGES[name]
            t0 = time.perf_counter()
            page.goto(f"{url}/{path}", wait_until="domcontentloaded")
            wait_until_done(page, settle_ms=0)
            cold = time.perf_counter() - t0
            warms = []
            for _ in range(args.renders):
                t0 = time.perf_counter()
                page.goto(f"{url}/{path}", wait_until="domcontentloaded")
                wait_until_done(page, settle_ms=0)
                warms.append(time.perf_counter() - t0)
            warm = statistics.median(warms)
            print(f"\n== {name}: render cold {cold:.2f} s, warm {warm:.2f} s (median of "
                  f"{' '.join(f'{w:.2f}' for w in warms)})", flush=True)
            rows.append((name, "render (warm)", warm, None))
            errs = error_texts(page)
            if errs:
                print(f"  the page shows {len(errs)} error box(es): {errs[0][:120]!r}", flush=True)
            if name == "home":
                continue
            for position, kind, label in _main_widgets(page, args.widgets):
                try:
                    # every input starts from the page's default state (a warm reload), so one input
                    # cannot hide the next widget
                    page.goto(f"{url}/{path}", wait_until="domcontentloaded")
                    wait_until_done(page, settle_ms=300)
                    loc = _find(page, kind, label, position)
                    why = "gone after the previous input" if loc is None else _act(page, kind, loc)
                    if why:
                        print(f"  {kind:<12} {label[:40]:<40} skipped: {why}", flush=True)
                        continue
                    wait = wait_after_input(page, timeout_ms=INPUT_TIMEOUT_MS)
                except Exception as exc:  # noqa: BLE001 - report and go on with the next widget
                    msg = str(exc).strip().splitlines()[0][:80] if str(exc).strip() else ""
                    print(f"  {kind:<12} {label[:40]:<40} skipped: could not be driven ({type(exc).__name__}: {msg})",
                          flush=True)
                    page.keyboard.press("Escape")
                    continue
                apptest = None if args.no_apptest else _apptest_rerun(ROOT / "app_pages" / f"{name}.py", kind, label)
                all_waits.append(wait)
                rows.append((name, f"{kind}: {label[:40]}", wait, apptest))
                at_s = "   n/a" if apptest is None else f"{apptest:6.2f}"
                print(f"  {kind:<12} {label[:40]:<40} browser {wait:5.2f} s   AppTest {at_s} s", flush=True)
        ctx.close()
    if all_waits:
        print(f"\nall interactions: median wait {statistics.median(all_waits):.2f} s, max {max(all_waits):.2f} s "
              f"over {len(all_waits)} inputs; slowest warm render "
              f"{max(r[2] for r in rows if r[1] == 'render (warm)'):.2f} s")
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
