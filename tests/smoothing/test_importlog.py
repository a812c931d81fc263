"""Published Cohen-format logs as runs: metrics equal an independent pandas computation on the file."""
from __future__ import annotations

import datetime
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from robustcore.cli import main
from robustcore.smoothing import importlog
from robustcore.smoothing.importlog import import_cohen_log, read_cohen_log
from robustcore.smoothing.metrics import average_certified_radius, certified_accuracy_table
from robustcore.smoothing.runner import RUN_KIND, run_state
from robustcore.store import ResultsStore

ROOT = Path(__file__).resolve().parents[2]


def write_log(path: Path, m: int, seed: int) -> Path:
    """A log as Cohen's certify.py writes it: abstentions, wrong classes, and radii exactly on table radii."""
    rng = np.random.default_rng(seed)
    lines = ["idx\tlabel\tpredict\tradius\tcorrect\ttime"]
    for j in range(m):
        label = int(rng.integers(10))
        u = rng.random()
        if u < 0.2:
            pred, radius = -1, 0.0
        else:
            pred = label if u < 0.8 else (label + 1) % 10
            # a third of the radii sit exactly on a multiple of 0.25 (ties at the table's radii)
            radius = float(rng.integers(0, 5)) * 0.25 if rng.random() < 0.33 else float(rng.random() * 1.2)
        correct = int(pred == label)
        t = datetime.timedelta(seconds=float(rng.random() * 3))
        lines.append(f"{j * 20}\t{label}\t{pred}\t{radius:.3}\t{correct}\t{t}")
    path.write_text("\n".join(lines) + "\n")
    return path


def pandas_reference(path: Path, radii) -> tuple[list[float], float]:
    """Certified accuracy and ACR straight from the file (Cohen's analyze.py logic), independently of robustcore."""
    df = pd.read_csv(path, sep="\t")
    acc = [float(((df["correct"] == 1) & (df["radius"] >= r)).mean()) for r in radii]
    acr = float((df["radius"] * df["correct"]).mean())
    return acc, acr


@pytest.mark.parametrize("seed,m", [(0, 1), (1, 37), (2, 500)])
def test_imported_metrics_equal_the_file(tmp_path, seed, m):
    path = write_log(tmp_path / f"sigma_0.50_{seed}.tsv", m, seed)
    store = ResultsStore(tmp_path / "s.sqlite")
    run_id = import_cohen_log(path, 0.5, store=store)
    results = store.results(run_id)
    assert len(results) == m
    table = certified_accuracy_table(results, step=0.25)
    ref_acc, ref_acr = pandas_reference(path, table["radius"])
    assert table["certified_accuracy"].tolist() == ref_acc  # exact: ties at the radius count as certified
    assert average_certified_radius(results) == pytest.approx(ref_acr, rel=1e-12, abs=1e-15)
    run = store.run(run_id)
    cfg = run["config"]
    assert cfg["source"] == "imported" and cfg["sigma"] == 0.5 and cfg["file"] == path.name
    assert cfg["name"] == path.name and run["kind"] == RUN_KIND and run["status"] == "done"
    assert run_state(store, run_id)["status"] == "imported"
    assert (results["sigma"] == 0.5).all()
    # importing the same file again returns the same run and writes nothing
    assert import_cohen_log(path, 0.5, store=store) == run_id
    assert len(store.results(run_id)) == m and len(store.runs()) == 1


def test_cli_import_then_report_csv_equals_the_file(tmp_path, capsys):
    path = write_log(tmp_path / "macer.tsv", 200, 7)
    store_path = str(tmp_path / "s.sqlite")
    assert main(["import-log", str(path), "--format", "cohen", "--sigma", "0.25", "--name", "MACER sigma 0.25",
                 "--store", store_path]) == 0
    out = capsys.readouterr().out
    assert "imported 200 images" in out
    csv = tmp_path / "t.csv"
    assert main(["report", "latest", "--store", store_path, "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "MACER sigma 0.25" in out and "alpha unknown" in out
    table = pd.read_csv(csv)
    ref_acc, ref_acr = pandas_reference(path, table["radius"])
    assert table["certified_accuracy"].tolist() == pytest.approx(ref_acc, abs=0)
    assert table["acr"].iloc[0] == pytest.approx(ref_acr, rel=1e-12)
    assert table["certified_accuracy_lower"].isna().all()  # no alpha given: no bound claimed


def test_whitespace_separated_and_timedelta_days(tmp_path):
    p = tmp_path / "ws.txt"
    p.write_text("idx label predict radius correct time\n0 1 1 0.5 1 1 day, 0:00:01.5\n"
                 .replace("1 day, 0:00:01.5", "0:00:01.5"))
    df = read_cohen_log(p)
    assert df["time_s"].tolist() == [1.5] and df["radius"].tolist() == [0.5]
    assert importlog._parse_time("1 day, 0:00:01.5") == 86401.5


def test_per_input_sigma_column_is_kept(tmp_path):
    p = tmp_path / "ddrs.tsv"
    p.write_text("idx\tlabel\tpredict\tradius\tcorrect\tsigma\ttime\n"
                 "0\t1\t1\t0.5\t1\t0.31\t0:00:01\n5\t2\t-1\t0.0\t0\t0.12\t0:00:01\n")
    store = ResultsStore(tmp_path / "s.sqlite")
    rid = import_cohen_log(p, 0.25, store=store)
    assert store.results(rid)["sigma"].tolist() == [0.31, 0.12]
    assert store.run(rid)["config"]["per_input_sigma"] is True
    p.write_text(p.read_text().replace("0.12", "-0.12"))
    with pytest.raises(ValueError, match="sigma must be"):
        read_cohen_log(p)


BAD = {
    "missing column": ("idx\tlabel\tradius\tcorrect\ttime\n0\t1\t0.5\t1\t0:00:01\n", "lacks predict"),
    "non-numeric": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t1\t1\tabc\t1\t0:00:01\n", "not a number"),
    "NaN radius": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t1\t1\tnan\t1\t0:00:01\n", "finite"),
    "inf radius": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t1\t1\tinf\t1\t0:00:01\n", "finite"),
    "negative radius": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t1\t1\t-0.5\t1\t0:00:01\n", "finite"),
    "empty": ("", "empty"),
    "header only": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n", "no rows"),
    "short row": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t1\t1\n", "fields"),
    "float idx": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0.5\t1\t1\t0.5\t1\t0:00:01\n", "idx"),
    "correct 2": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t1\t1\t0.5\t2\t0:00:01\n", "0 or 1"),
    "inconsistent": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t1\t2\t0.5\t1\t0:00:01\n", "differ"),
    "abstain radius": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t1\t-1\t0.5\t0\t0:00:01\n", "abstention"),
    "duplicate idx": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t1\t1\t0.5\t1\t0:00:01\n"
                      "0\t1\t1\t0.5\t1\t0:00:01\n", "more than once"),
    "binary junk": (bytes(range(256)) * 4, "not a text file"),
    "latin-1": ("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t1\t1\t0.5\t1\t\xe9\n".encode("latin-1"), "UTF-8"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_malformed_logs_are_one_sentence(tmp_path, name):
    content, match = BAD[name]
    p = tmp_path / "bad.tsv"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    store = ResultsStore(tmp_path / "s.sqlite")
    with pytest.raises(ValueError, match=match) as err:
        import_cohen_log(p, 0.25, store=store)
    assert "\n" not in str(err.value)
    assert store.runs().empty  # nothing half-imported


def test_huge_files_are_refused_before_reading(tmp_path, monkeypatch):
    p = write_log(tmp_path / "big.tsv", 100, 0)
    monkeypatch.setattr(importlog, "MAX_LOG_BYTES", 1000)
    with pytest.raises(ValueError, match="cap"):
        read_cohen_log(p)
    monkeypatch.setattr(importlog, "MAX_LOG_BYTES", 10**9)
    monkeypatch.setattr(importlog, "MAX_LOG_ROWS", 50)
    with pytest.raises(ValueError, match="rows, over the cap"):
        read_cohen_log(p)


@pytest.mark.parametrize(
    "kw,match",
    [({"sigma": 0.0}, "sigma"), ({"sigma": float("nan")}, "sigma"), ({"sigma": "0.5"}, "sigma"),
     ({"sigma": 0.5, "alpha": 1.0}, "alpha"), ({"sigma": 0.5, "name": ""}, "name")],
)
def test_bad_import_arguments(tmp_path, kw, match):
    p = write_log(tmp_path / "ok.tsv", 3, 0)
    with pytest.raises(ValueError, match=match):
        import_cohen_log(p, store=ResultsStore(tmp_path / "s.sqlite"), **kw)


def test_upload_bytes_import(tmp_path):
    p = write_log(tmp_path / "up.tsv", 20, 3)
    store = ResultsStore(tmp_path / "s.sqlite")
    rid = import_cohen_log(p.read_bytes(), 0.5, name="SmoothAdv", store=store, alpha=0.001, dataset="cifar10")
    cfg = store.run(rid)["config"]
    assert cfg["name"] == "SmoothAdv" and cfg["alpha"] == 0.001 and cfg["file"] == "uploaded log"
    assert cfg["dataset"] == "cifar10"
    assert len(store.results(rid)) == 20


def test_cli_malformed_log_exit_2_one_line(tmp_path, capsys):
    p = tmp_path / "junk.tsv"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert main(["import-log", str(p), "--sigma", "0.5", "--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1 and re.search("not a text file", err)
    assert not (tmp_path / "s.sqlite").exists()
    for argv in (["import-log", str(p), "--sigma", "-1"], ["import-log", str(tmp_path / "none.tsv"), "--sigma", "1"]):
        assert main(argv + ["--store", str(tmp_path / "s.sqlite")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_import_log_subprocess_no_traceback(tmp_path):
    p = tmp_path / "bad.tsv"
    p.write_text("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t1\t1\tnan\t1\t0:00:01\n")
    out = subprocess.run([sys.executable, "-m", "robustcore.cli", "import-log", str(p), "--sigma", "0.5",
                          "--store", str(tmp_path / "s.sqlite")], capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "ROBUSTCORE_CACHE": str(tmp_path)})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "radius" in out.stderr
