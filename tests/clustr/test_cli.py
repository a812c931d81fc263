"""``clustr-train``: every meaningless argument is one sentence and exit status 2 before any training; the module
imports only the standard library."""
from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from robustcore.clustr import cli


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    cli.register(sub)
    return parser.parse_args(["clustr-train", *argv])


@pytest.mark.parametrize("argv, match", [
    (["--steps", "-5"], "--steps"),
    (["--steps", "0"], "--steps"),
    (["--restarts", "1000"], "--restarts"),
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "100000"], "--epochs"),
    (["--eps-linf", "nan"], "--eps-linf"),
    (["--eps-linf", "inf"], "--eps-linf"),
    (["--eps-linf", "-0.1"], "--eps-linf"),
    (["--eps-l2", "-1"], "--eps-l2"),
    (["--alpha", "nan"], "--alpha"),
    (["--train-eps", "2"], "--train-eps"),
    (["--schedule-scale", "0"], "--schedule-scale"),
    (["--k", "0"], "--k"),
    (["--dim", "-3"], "--dim"),
    (["--replays", "0"], "--replays"),
    (["--limit", "-1"], "--limit"),
    (["--seed", "-1"], "--seed"),
    (["--models", "svm"], "--models"),
    (["--recipe", "paper"], "--recipe"),
    (["--data", "imagenet"], "--data"),
    (["--data", "mnist"], "--root"),
    (["--device", ""], "--device"),
])
def test_bad_arguments_are_one_sentence_before_training(argv, match, monkeypatch):
    called = []
    monkeypatch.setattr("robustcore.clustr.training.compare_models", lambda *a, **k: called.append(1))
    args = _parse(argv)
    with pytest.raises(ValueError, match=match) as exc:
        args.func(args)
    assert not called
    msg = str(exc.value)
    assert msg.count("\n") == 0 and msg.endswith(".")


@pytest.mark.parametrize("device", ["nonsense", "cuda", "cuda:7", "tpu"])
def test_unavailable_devices_are_one_sentence(device, monkeypatch):
    import torch

    if device.startswith("cuda") and torch.cuda.is_available() and device == "cuda":
        pytest.skip("this machine has CUDA")
    called = []
    monkeypatch.setattr("robustcore.clustr.training.compare_models", lambda *a, **k: called.append(1))
    args = _parse(["--device", device])
    with pytest.raises(ValueError, match="device|cuda|CUDA") as exc:
        args.func(args)
    assert not called and "\n" not in str(exc.value)


@pytest.mark.slow
def test_the_real_command_exits_2_without_a_traceback():
    for argv in (["--device", "cuda", "--steps", "5"],):
        out = subprocess.run([sys.executable, "-m", "robustcore.cli", "clustr-train", *argv],
                             capture_output=True, text=True, timeout=120)
        if argv[-1] == "cuda" and out.returncode == 0:
            continue  # a machine with CUDA
        assert out.returncode == 2, out.stderr
        assert "Traceback" not in out.stderr + out.stdout
        assert out.stderr.strip().count("\n") == 0 and "error" in out.stderr


def test_cli_module_imports_only_the_standard_library():
    code = ("import sys, argparse; import robustcore.clustr.cli as c; p = argparse.ArgumentParser(); "
            "c.register(p.add_subparsers()); heavy = [m for m in ('torch', 'numpy', 'scipy', 'pandas', 'sklearn') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
