"""The real dashboard in headless Chromium: start the server, launch the browser, wait for a page to settle.

Shared by the browser tests (``tests/browser/``) and the page-speed benchmark (``benchmarks/pages.py``).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

_DONE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.getAttribute('data-test-script-state') === 'notRunning'
           && !document.querySelector('[data-testid="stSkeleton"]')
           && !document.querySelector('[data-stale="true"]');
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(log_path: Path, env: dict | None = None, start_timeout_s: float = 120) -> Iterator[str]:
    """``streamlit run app.py`` on a free local port; yields its URL, stops it on exit."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless",
             "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + start_timeout_s
            while time.time() < deadline:
                try:
                    if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.3)
            else:
                raise RuntimeError(f"streamlit did not start within {start_timeout_s:.0f} s (see {log_path})")
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never Playwright's own browser download)."""
    if CHROMIUM is None:
        raise RuntimeError("Debian's chromium is not installed (make test installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def wait_until_done(page, timeout_ms: int = 240_000, settle_ms: int = 500) -> None:
    """Wait until the page's script has run to the end and nothing on it is stale."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    page.wait_for_function(_DONE_JS, timeout=timeout_ms)
    if settle_ms:
        page.wait_for_timeout(settle_ms)


def wait_after_input(page, timeout_ms: int = 120_000, start_window_ms: int = 1500) -> float:
    """Seconds from now until the rerun an input triggered has finished and the page is idle again.

    Waits (at most ``start_window_ms``) for the script to start running, then for it to finish with no stale
    element left; a rerun too fast to be seen running counts from the same start.
    """
    t0 = time.perf_counter()
    with contextlib.suppress(Exception):
        page.wait_for_function("""() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'running';
        }""", timeout=start_window_ms, polling=10)
    page.wait_for_function(_DONE_JS, timeout=timeout_ms, polling=20)
    return time.perf_counter() - t0


def error_texts(page) -> list[str]:
    boxes = page.query_selector_all('[data-testid="stException"], [data-testid="stAlertContentError"]')
    return [b.inner_text()[:300] for b in boxes]
