"""Image helpers, parameter sweeps and the gabor-train subcommand."""
import argparse
import io
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from scipy.signal import correlate2d

from robustcore.gabor import closed_form_bound, per_filter_spectral_norms
from robustcore.gabor.cli import register
from robustcore.gabor.image import apply_bank, image_from_bytes, sample_image, to_gray
from robustcore.gabor.sweep import bound_sweep, single_kernel


def test_sample_image_and_upload_roundtrip():
    img = sample_image("china.jpg", max_side=64)
    assert img.ndim == 2 and max(img.shape) <= 64 and 0 <= img.min() and img.max() <= 1
    buf = io.BytesIO()
    Image.fromarray((np.arange(48 * 32).reshape(32, 48) % 256).astype(np.uint8)).save(buf, format="PNG")
    up = image_from_bytes(buf.getvalue(), max_side=64)
    np.testing.assert_allclose(up, (np.arange(48 * 32).reshape(32, 48) % 256) / 255.0)
    with pytest.raises(ValueError, match="could not be read as an image"):
        image_from_bytes(b"definitely not an image")
    with pytest.raises(ValueError):
        image_from_bytes(b"")
    with pytest.raises(ValueError):
        sample_image("nope.jpg")


def test_to_gray_block_average():
    a = np.arange(16.0).reshape(4, 4) / 15
    np.testing.assert_allclose(to_gray(a, max_side=2), [[a[:2, :2].mean(), a[:2, 2:].mean()],
                                                        [a[2:, :2].mean(), a[2:, 2:].mean()]])


def test_apply_bank_is_zero_padded_correlation():
    rng = np.random.default_rng(0)
    img, bank = rng.random((9, 11)), rng.normal(size=(3, 1, 5, 5))
    out = apply_bank(img, bank)
    for f in range(3):
        np.testing.assert_allclose(out[f], correlate2d(img, bank[f, 0], mode="same"), atol=1e-12)


def test_sweep_agrees_with_pointwise_evaluation():
    base = dict(sigma=1.2, gamma=0.7, lambd=5.0, psi=0.4, theta=0.6, alpha=1.3)
    vals = np.array([0.3, 1.0, 2.5])
    r = bound_sweep("gamma", vals, base, 7, 16)
    for i, g in enumerate(vals):
        k = single_kernel(7, base["sigma"], g, base["lambd"], base["psi"], base["theta"], base["alpha"])
        assert r["exact"][i] == pytest.approx(per_filter_spectral_norms(k[None], 16)[0])
        assert r["bound"][i] == pytest.approx(float(closed_form_bound(base["sigma"], g, base["alpha"], base["theta"], 7)))
        assert r["l1"][i] == pytest.approx(np.abs(k).sum())
    assert np.all(r["exact"] <= r["l1"] + 1e-12) and np.all(r["l1"] <= r["bound"] + 1e-12)
    with pytest.raises(ValueError):
        bound_sweep("k", vals, base, 7, 16)


def test_cli_registers_gabor_train():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd")
    register(sub)
    args = parser.parse_args(["gabor-train", "--epochs", "2", "--variants", "gabor", "--eps-linf", "0.1"])
    assert args.epochs == 2 and args.variants == ["gabor"] and callable(args.func)
    assert args.data == "mnist-5k" and args.recipe == "official" and args.attack == "quick"
    bad = parser.parse_args(["gabor-train", "--data", "cifar10"])  # no folder: one sentence, before any work
    with pytest.raises(ValueError, match="--root"):
        bad.func(bad)


def test_cli_choices_match_the_package():
    # cli.py imports only the standard library, so it repeats these names: keep them in step.
    from robustcore.gabor import cli, recipes, regularizer, training

    assert cli.VARIANTS == training.VARIANTS and cli.DATASETS == training.DATASETS
    assert set(cli.RECIPES) == set(recipes.RECIPES) and set(cli.ATTACKS) == set(recipes.ATTACKS)
    assert cli.REGULARIZERS == regularizer.REGULARIZERS


def _run_cli(*argv: str) -> subprocess.CompletedProcess:
    code = "import sys; from robustcore.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})


BAD = [["--pgd-steps", "-3"], ["--n-eval", "0"], ["--device", "cuda"], ["--device", "nonsense"],
       ["--eps-linf", "nan"], ["--beta", "inf"], ["--restarts", "0"], ["--n-eval", "5000"], ["--epochs", "0"]]


@pytest.mark.slow
def test_bad_cli_arguments_are_one_sentence_and_exit_2():
    # One subprocess runs the real entry point on every bad command line (a process per case costs
    # a torch import each); each call's stderr is captured on its own.
    code = (
        "import contextlib, io, json, sys\n"
        "from robustcore.cli import main\n"
        "out = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    err, std = io.StringIO(), io.StringIO()\n"
        "    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):\n"
        "        rc = main(['gabor-train', *argv])\n"
        "    out.append([rc, err.getvalue(), std.getvalue()])\n"
        "print(json.dumps(out))\n"
    )
    import json

    proc = subprocess.run([sys.executable, "-c", code, json.dumps(BAD)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    for argv, (rc, err, std) in zip(BAD, json.loads(proc.stdout.strip().splitlines()[-1])):
        assert rc == 2, (argv, err)
        assert "Traceback" not in err + std
        assert err.strip().startswith("error:") and len(err.strip().splitlines()) == 1, (argv, err)
        assert "epoch" not in err.replace("--epochs", "")  # refused before any training


def test_device_cuda_without_cuda_in_a_fresh_process():
    out = _run_cli("gabor-train", "--device", "cuda")
    assert out.returncode == 2 and "Traceback" not in out.stderr and "CUDA" in out.stderr


def test_cli_module_imports_only_the_standard_library():
    code = ("import sys, argparse; import robustcore.gabor.cli as c; p = argparse.ArgumentParser(); "
            "c.register(p.add_subparsers()); "
            "print(sorted(m for m in ('torch', 'numpy', 'scipy', 'sympy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_help_lists_recipes_attacks_and_deviations():
    out = _run_cli("gabor-train", "--help")
    assert out.returncode == 0
    for word in ("official", "ours", "strong", "deviations", "same-size", "momentum 0.9", "200 steps"):
        assert word in out.stdout
