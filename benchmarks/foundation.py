"""Foundation figures: dataset load times, each default model's clean test accuracy and training
time (wall and CPU seconds), model cache cold/warm, checkpoint loading per format, and the
dashboard's cold and warm start (server up, home page rendered in headless Chromium).

Run: .venv/bin/python benchmarks/foundation.py [--no-browser] [--threads N]
On a machine shared with other jobs the wall times grow; the CPU seconds (process time, all
threads) say what the work costs.
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


def data_figures() -> None:
    from robustcore.data import DATASETS, load_dataset

    for name in ("digits", "mnist-5k"):
        t0 = time.perf_counter()
        X, _ = load_dataset(name, "train")
        t1 = time.perf_counter()
        load_dataset(name, "test")
        t2 = time.perf_counter()
        print(f"data {name:9s} {tuple(X.shape)} train + {DATASETS[name].test_size} test: first load {t1 - t0:5.2f} s, "
              f"then {1e3 * (t2 - t1):6.1f} ms")


def model_figures(cache: Path) -> None:
    os.environ["ROBUSTCORE_CACHE"] = str(cache)
    from robustcore.data import load_dataset
    from robustcore.nets import DEFAULT_MODELS, default_model, evaluate_accuracy

    for name in DEFAULT_MODELS:
        cpu0 = time.process_time()
        _, cold = default_model(name)
        cpu = time.process_time() - cpu0
        model, warm = default_model(name)
        line = (f"{name:15s} trained in {cold['seconds']:6.2f} s wall / {cpu:6.2f} s CPU, loaded from cache in "
                f"{warm['seconds'] * 1e3:6.1f} ms")
        data = DEFAULT_MODELS[name]["data"]
        if data in ("digits", "mnist-5k"):
            X, y = load_dataset(data, "test")
            line += f", clean test accuracy {evaluate_accuracy(model, X, y):.4f} ({len(y)} {data} test images)"
        else:
            line += f", held-out accuracy {warm['metrics']['test_acc']:.4f}"
        print(line, flush=True)


def checkpoint_figures() -> None:
    import io

    import torch

    from robustcore.nets import build_cohen, load_model_file

    for arch in ("cifar_resnet20", "cifar_resnet110", "resnet50"):
        buf = io.BytesIO()
        torch.save({"arch": arch, "state_dict": build_cohen(arch).state_dict()}, buf)
        t0 = time.perf_counter()
        _, info = load_model_file(buf.getvalue())
        print(f"load_model_file Cohen {arch:15s} ({buf.tell() / 1e6:6.1f} MB, {info['parameters']:,} parameters): "
              f"{time.perf_counter() - t0:5.2f} s")


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
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    args = ap.parse_args()
    import torch

    if args.threads is not None:
        if args.threads < 1:
            raise SystemExit("error: --threads must be at least 1.")
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"cuda={torch.cuda.is_available()}")
    data_figures()
    with tempfile.TemporaryDirectory() as tmp:
        model_figures(Path(tmp) / "models-cache")
    checkpoint_figures()
    if not args.no_browser:
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "cache"
            dashboard_start(cache, "cold (empty cache)")
            dashboard_start(cache, "warm (cache filled)")


if __name__ == "__main__":
    main()
