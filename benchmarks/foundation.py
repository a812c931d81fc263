"""Foundation figures: digits CNN accuracy and training time, model cache cold/warm, and the
dashboard's cold and warm start (server up, home page rendered in headless Chromium).

Run: .venv/bin/python benchmarks/foundation.py [--no-browser]
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def model_figures(cache: Path) -> None:
    os.environ["ROBUSTCORE_CACHE"] = str(cache)
    from robustcore.data import load_digits
    from robustcore.nets import default_model, evaluate_accuracy

    X, y = load_digits("test")
    for name in ("digits-cnn", "digits-mlp", "toy-moons"):
        _, cold = default_model(name)
        model, warm = default_model(name)
        line = f"{name:11s} trained in {cold['seconds']:6.2f} s, loaded from cache in {warm['seconds'] * 1e3:6.1f} ms"
        if name.startswith("digits"):
            line += f", clean test accuracy {evaluate_accuracy(model, X, y):.4f} (450 test images)"
        else:
            line += f", held-out accuracy {warm['metrics']['test_acc']:.4f}"
        print(line)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dashboard_start(cache: Path, label: str) -> None:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "ROBUSTCORE_CACHE": str(cache)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.05)
        t_health = time.perf_counter() - t0
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium, headless=True,
                                  args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = b.new_page()
            times = {}
            for name, path in (("home", ""), ("certificates", "certificates")):
                t1 = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/{path}")
                page.wait_for_function(
                    """() => { const a = document.querySelector('[data-testid="stApp"]');
                               return a && a.getAttribute('data-test-script-state') === 'notRunning'; }""",
                    timeout=600_000,
                )
                times[name] = time.perf_counter() - t1
            b.close()
        print(f"dashboard {label}: server healthy after {t_health:.2f} s; home page rendered in {times['home']:.2f} s; "
              f"certificates page (needs trained models) rendered in {times['certificates']:.2f} s")
    finally:
        proc.terminate()
        proc.wait(20)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, cuda={torch.cuda.is_available()}")
    with tempfile.TemporaryDirectory() as tmp:
        model_figures(Path(tmp) / "models-cache")
    if not args.no_browser:
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "cache"
            dashboard_start(cache, "cold (empty cache)")
            dashboard_start(cache, "warm (cache filled)")


if __name__ == "__main__":
    main()
