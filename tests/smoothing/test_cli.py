"""``robustcore certify`` / ``report`` end to end: results, bookkeeping, and one sentence for every bad input."""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from robustcore.cli import main
from robustcore.nets import DigitsCNN, save_checkpoint
from robustcore.smoothing import Smooth
from robustcore.smoothing.metrics import average_certified_radius, certified_accuracy
from robustcore.smoothing.runner import RUN_KIND, image_seed, run_state
from robustcore.store import ResultsStore

ROOT = Path(__file__).resolve().parents[2]
CFG = {"arch": "digits-cnn", "arch_kwargs": {"num_classes": 10, "first_channels": 16}}
FAST = ["--sigma", "0.25", "--n0", "10", "--n", "200", "--alpha", "0.001", "--batch-size", "100", "--seed", "3",
        "--no-progress"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """An untrained, seeded digits CNN saved as a robustcore checkpoint (no training time in tests)."""
    torch.manual_seed(0)
    model = DigitsCNN().eval()
    path = tmp_path_factory.mktemp("ck") / "cnn.pt"
    save_checkpoint(path, model, CFG)
    return path, model


def _env(tmp_path) -> dict:
    return {**os.environ, "ROBUSTCORE_CACHE": str(tmp_path / "cache"), "ROBUSTCORE_STORE": str(tmp_path / "s.sqlite"),
            "PYTHONPATH": str(ROOT)}


# --------------------------------------------------------------------------- parser is stdlib-only
def test_cli_module_and_register_import_only_the_standard_library():
    """Load cli.py on its own (no package __init__) and build its parser: no torch, numpy or pandas."""
    code = (
        "import argparse, importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('smcli', {str(ROOT / 'robustcore/smoothing/cli.py')!r})\n"
        "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "p = argparse.ArgumentParser(); mod.register(p.add_subparsers())\n"
        "print(sorted(m for m in ('torch', 'numpy', 'pandas', 'scipy', 'robustcore') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["certify", "report", "import-log"])
def test_real_command_help_imports_no_heavy_package(command):
    """``robustcore <command> --help`` run as the console script does (``robustcore.cli`` as ``__main__``) loads
    the smoothing package and its cli but none of torch, numpy, scipy or pandas (read from ``sys.modules`` at
    exit: ``-X importtime`` misses modules loaded through ``importlib.import_module``)."""
    code = (
        "import atexit, runpy, sys\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'torch', 'numpy', 'scipy', 'pandas'} or m.startswith('robustcore.smoothing')), file=sys.stderr))\n"
        f"sys.argv = ['robustcore', {command!r}, '--help']\n"
        "runpy.run_module('robustcore.cli', run_name='__main__')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "usage:" in out.stdout and command in out.stdout
    # the check is not vacuous: the command's own module was really imported
    assert out.stderr.strip().splitlines()[-1] == "['robustcore.smoothing', 'robustcore.smoothing.cli']"


def test_lazy_package_exports_every_public_name_from_its_module():
    """The lazy ``__init__`` keeps every public name: each resolves to the object of the submodule it names,
    appears in ``dir()``, and an unknown name is an AttributeError (so ``from ... import submodule`` still works)."""
    import robustcore.smoothing as pkg

    assert len(pkg.__all__) == len(set(pkg.__all__)) == 48
    for mod, names in pkg._EXPORTS.items():
        module = importlib.import_module(f"robustcore.smoothing.{mod}")
        for name in names:
            assert getattr(pkg, name) is getattr(module, name), name
    assert set(pkg.__all__) <= set(dir(pkg))
    with pytest.raises(AttributeError):
        pkg.no_such_name  # noqa: B018
    from robustcore.smoothing import landscape  # a submodule, not an export

    assert landscape.sigma_landscape is pkg.sigma_landscape


def test_literal_choices_equal_the_package_constants():
    from robustcore.smoothing import SMOOTHING_METHODS
    from robustcore.smoothing import cli, runner

    assert cli.SMOOTHING_METHODS == tuple(SMOOTHING_METHODS)
    assert cli.DATASET_CHOICES == tuple(runner.DATASETS)
    assert (cli.MAX_N, cli.MAX_BATCH_SIZE, cli.MAX_IMAGES) == (runner.MAX_N, runner.MAX_BATCH_SIZE, runner.MAX_IMAGES)


# --------------------------------------------------------------------------- bad input: one sentence, exit 2
SUBPROCESS_BAD = [
    ["certify", "--device", "nonsense", "--max-images", "1"],
    ["certify", "--device", "cuda", "--max-images", "1"] if not torch.cuda.is_available() else
    ["certify", "--device", "cuda:999", "--max-images", "1"],
    ["certify", "--store", "/proc/nope/x.sqlite", "--max-images", "1", "--n", "10", "--n0", "10"],
    ["report", "latest", "--csv", "/nonexistent/dir/x.csv"],
    ["certify", "--n", "1000000000000"],
]


@pytest.mark.slow
def test_bad_invocations_in_a_subprocess(tmp_path):
    """Each bad invocation as a user types it: exit 2, one line on stderr, no traceback (run side by side)."""
    procs = []
    for k, argv in enumerate(SUBPROCESS_BAD):
        cwd = tmp_path / str(k)
        cwd.mkdir()
        procs.append((argv, cwd, subprocess.Popen([sys.executable, "-m", "robustcore.cli", *argv], cwd=cwd,
                                                  env=_env(cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                  text=True)))
    for argv, cwd, proc in procs:
        out, err = proc.communicate(timeout=180)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert proc.returncode == 2, (argv, err)
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, (argv, err)
        assert out == ""
        assert not (cwd / "s.sqlite").exists() or argv[0] == "report"  # refused before the store opened


IN_PROCESS_BAD = [
    (["--n", "10", "--n0", "100"], "at least --n0"),
    (["--n", "1e12"], "--n must be an integer"),
    (["--n", "100000001"], "at most|from 1 to 100,000,000"),
    (["--n0", "0"], "--n0"),
    (["--alpha", "0"], "alpha"),
    (["--alpha", "nan"], "alpha"),
    (["--sigma", "-1"], "sigma"),
    (["--sigma", "inf"], "sigma"),
    (["--sigma", "abc"], "sigma"),
    (["--train-sigma", "0"], "train-sigma"),
    (["--batch-size", "0"], "batch-size"),
    (["--batch-size", "10000000"], "batch-size"),
    (["--max-images", "0"], "max-images"),
    (["--max-images", "-5"], "max-images"),
    (["--skip", "0"], "skip"),
    (["--seed", "-1"], "seed"),
    (["--threads", "0"], "threads"),
    (["--workers", "0"], "workers"),
    (["--dataset", "mnist-5k"], "--checkpoint"),
    (["--checkpoint", "/nonexistent/model.pt"], "no file"),
    (["--device", ""], "device"),
]


@pytest.mark.parametrize("extra,match", IN_PROCESS_BAD, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_arguments_give_one_sentence_before_anything_loads(extra, match, tmp_path, capsys, monkeypatch):
    import robustcore.smoothing.runner as runner

    def no_model(*a, **k):  # any model load would be a failure of "validate first"
        raise AssertionError("a model was loaded before the arguments were checked")

    monkeypatch.setattr(runner, "load_job_model", no_model)
    store_path = tmp_path / "s.sqlite"
    assert main(["certify", *FAST, *extra, "--store", str(store_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1 and re.search(match, err), err
    assert not store_path.exists()  # nothing was opened or written


@pytest.mark.parametrize(
    "argv,match",
    [(["report", "abc"], "RUN"), (["report", "-1"], "RUN"), (["report", "42"], "no run 42"),
     (["report", "latest", "--step", "0"], "step"), (["report", "latest", "--step", "nan"], "step"),
     (["report", "latest"], "no certification runs")],
)
def test_bad_report_arguments(argv, match, tmp_path, capsys):
    assert main([*argv, "--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1 and re.search(match, err), err


def test_checkpoint_that_does_not_fit_the_dataset_is_one_sentence(tmp_path, capsys):
    mlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3))  # 3 logits, not 10
    path = tmp_path / "mlp.pt"
    save_checkpoint(path, mlp, {})
    # a plain state dict with no architecture: the loader says why in one sentence
    torch.save(mlp.state_dict(), tmp_path / "sd.pt")
    for ck in (path, tmp_path / "sd.pt"):
        assert main(["certify", *FAST, "--checkpoint", str(ck), "--store", str(tmp_path / "s.sqlite")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and len(err.strip().splitlines()) == 1, err
    assert not ResultsStore(tmp_path / "t.sqlite").runs().shape[0]


# --------------------------------------------------------------------------- your own model
def test_certify_own_checkpoint_matches_the_library_and_reports(checkpoint, tmp_path, capsys):
    path, model = checkpoint
    store_path = tmp_path / "store.sqlite"
    argv = ["certify", *FAST, "--checkpoint", str(path), "--skip", "90", "--store", str(store_path)]
    assert main(argv + ["--max-images", "2"]) == 0
    out = capsys.readouterr().out
    assert "2/2 requested images done" in out and "nan" not in out
    assert main(argv) == 0  # the same file and settings: resumes the run, 3 new images
    out = capsys.readouterr().out
    assert "5/5 requested images done" in out and "3 new" in out
    store = ResultsStore(store_path)
    runs = store.runs(RUN_KIND)
    assert len(runs) == 1 and runs.iloc[0]["status"] == "done"
    cfg = runs.iloc[0]["config"]
    assert cfg["model"] == "checkpoint" and cfg["checkpoint"] == "cnn.pt" and cfg["model_hash"].startswith("sha256:")
    results = store.results(int(runs.iloc[0]["id"]))
    assert sorted(results["index"]) == [0, 90, 180, 270, 360]
    # independent reference: Smooth.certify on the same model, image and per-image seed
    from robustcore.data import load_digits

    X, y = load_digits("test")
    for row in results.itertuples():
        cert = Smooth(model, 10, 0.25).certify(X[row.index], 10, 200, 0.001, 100, seed=image_seed(3, row.index))
        assert row.prediction == cert.label and row.radius == pytest.approx(cert.radius, abs=1e-12)
        assert row.extra["counts"] == cert.counts.tolist()
        assert row.extra["forward"] in ("eager", "channels_last")

    csv_path = tmp_path / "table.csv"
    assert main(["report", "latest", "--store", str(store_path), "--csv", str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert "done: 5 of 5 requested images" in out and "checkpoint cnn.pt" in out
    table = pd.read_csv(csv_path)
    assert table["certified_accuracy"].tolist() == pytest.approx(list(certified_accuracy(results, table["radius"])))
    assert table["acr"].iloc[0] == pytest.approx(average_certified_radius(results))


# --------------------------------------------------------------------------- bookkeeping
def test_nothing_new_says_so_without_nan(checkpoint, tmp_path, capsys):
    path, _ = checkpoint
    argv = ["certify", *FAST, "--checkpoint", str(path), "--skip", "200", "--max-images", "1",
            "--store", str(tmp_path / "s.sqlite")]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "nothing new to certify" in out and "nan" not in out and "0 new in" not in out


def test_progress_bar_is_one_line(checkpoint, tmp_path, capsys):
    path, _ = checkpoint
    argv = ["certify", *[a for a in FAST if a != "--no-progress"], "--checkpoint", str(path), "--skip", "150",
            "--store", str(tmp_path / "s.sqlite")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    # tqdm redraws in place with carriage returns: one bar, one terminating newline, no model bar (nothing trained)
    assert err.count("\n") == 1 and "certify" in err and "model" not in err, repr(err)
    assert main(argv) == 0
    assert capsys.readouterr().err == ""  # nothing to do: no bar at all


@pytest.mark.slow
def test_sigterm_marks_the_run_interrupted_with_counts(checkpoint, tmp_path):
    path, _ = checkpoint
    env = _env(tmp_path)
    store_path = tmp_path / "s.sqlite"
    argv = [sys.executable, "-m", "robustcore.cli", "certify", "--checkpoint", str(path), "--n0", "10", "--n", "3000",
            "--batch-size", "1000", "--max-images", "400", "--store", str(store_path), "--no-progress",
            "--no-compile", "--threads", "1"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            time.sleep(0.5)
            if store_path.exists():
                runs = ResultsStore(store_path).runs(RUN_KIND)
                if len(runs) and runs.iloc[0]["n_results"] >= 2:
                    break
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    store = ResultsStore(store_path)
    run = store.runs(RUN_KIND).iloc[0]
    assert run["status"] == "interrupted"
    state = run_state(store, int(run["id"]))
    assert state["requested"] == 400 and state["done"] == run["n_results"] < 400
    assert f"interrupted: {run['n_results']} of 400 requested images done" in state["text"]


def test_run_killed_without_warning_reads_as_interrupted(tmp_path):
    store = ResultsStore(tmp_path / "s.sqlite")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    import socket

    for pid, expect in ((dead_pid, "interrupted"), (os.getpid(), "running")):
        rid = store.start_run(RUN_KIND, {"pid": pid})
        store.add_result(rid, index=0, label=1, prediction=1, radius=0.3, correct=True)
        store.add_metric(rid, "session", 0, extra={"requested": 30, "done": 0, "status": "running", "pid": pid,
                                                   "host": socket.gethostname()})
        state = run_state(store, rid)
        assert state["status"] == expect
        if expect == "interrupted":
            assert "1 images stored, 30 requested" in state["text"]


def test_cli_register_builds_a_parser_with_import_log():
    from robustcore.smoothing import cli

    p = argparse.ArgumentParser()
    cli.register(p.add_subparsers(dest="command"))
    args = p.parse_args(["import-log", "x.tsv", "--sigma", "0.5"])
    assert args.func is cli.cmd_import_log and args.format == "cohen"
    args = p.parse_args(["certify", "--no-compile"])
    assert args.compile == "eager"
    assert importlib.util.find_spec("robustcore.smoothing.importlog") is not None


def test_plain_state_dict_on_mnist_5k_and_the_wrong_dataset(tmp_path, capsys):
    """A plain state dict of a 28x28 CNN certifies mnist-5k; on 8x8 digits it is one sentence, nothing stored."""
    torch.manual_seed(1)
    model = DigitsCNN(input_size=28).eval()
    path = tmp_path / "mnist_cnn_state.pt"
    torch.save(model.state_dict(), path)
    store_path = tmp_path / "s.sqlite"
    base = ["certify", *FAST, "--checkpoint", str(path), "--max-images", "2", "--skip", "300", "--store", str(store_path)]
    assert main(base[:1] + ["--dataset", "digits"] + base[1:]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "28x28" in err and len(err.strip().splitlines()) == 1
    assert main(base[:1] + ["--dataset", "mnist-5k"] + base[1:]) == 0
    assert "2/2 requested images done" in capsys.readouterr().out
    store = ResultsStore(store_path)
    run = store.runs(RUN_KIND).iloc[0]
    assert run["config"]["dataset"] == "mnist-5k" and run["config"]["checkpoint_format"] == "state_dict"
    from robustcore.data import load_dataset

    X, _ = load_dataset("mnist-5k", "test")
    row = store.results(int(run["id"])).iloc[1]
    cert = Smooth(model, 10, 0.25).certify(X[300], 10, 200, 0.001, 100, seed=image_seed(3, 300))
    assert row["index"] == 300 and row["extra"]["counts"] == cert.counts.tolist()
