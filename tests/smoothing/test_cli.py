"""``robustcore certify`` / ``robustcore report`` end to end on the digits Cohen model."""
from __future__ import annotations


import pandas as pd
import pytest

from robustcore.cli import main
from robustcore.smoothing.metrics import average_certified_radius, certified_accuracy
from robustcore.smoothing.runner import RUN_KIND
from robustcore.store import ResultsStore

ARGS = ["certify", "--dataset", "digits", "--model", "cohen", "--sigma", "0.25", "--n0", "20", "--n", "400",
        "--alpha", "0.001", "--batch-size", "200", "--skip", "50", "--seed", "3"]


def test_certify_resume_and_report(tmp_path, capsys):
    store_path = tmp_path / "store.sqlite"
    assert main(ARGS + ["--max-images", "4", "--store", str(store_path)]) == 0
    out = capsys.readouterr()
    assert "4/4 images" in out.out and "not complete" in out.out
    assert "certify" in out.err  # the progress bar goes to stderr

    assert main(ARGS + ["--store", str(store_path)]) == 0  # same configuration: resumes
    out = capsys.readouterr().out
    assert "9/9 images" in out and "5 new" in out

    store = ResultsStore(store_path)
    runs = store.runs(RUN_KIND)
    assert len(runs) == 1 and runs.iloc[0]["status"] == "done"
    run_id = int(runs.iloc[0]["id"])
    results = store.results(run_id)
    assert sorted(results["index"]) == list(range(0, 450, 50))

    csv_path = tmp_path / "table.csv"
    assert main(["report", str(run_id), "--store", str(store_path), "--csv", str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert "ACR" in out
    table = pd.read_csv(csv_path)
    assert table["radius"].tolist()[:3] == [0.0, 0.25, 0.5]
    assert table["certified_accuracy"].tolist() == pytest.approx(list(certified_accuracy(results, table["radius"])))
    assert table["acr"].iloc[0] == pytest.approx(average_certified_radius(results))
    assert f"{average_certified_radius(results):.4f}" in out
    # 'latest' names the same run
    assert main(["report", "latest", "--store", str(store_path)]) == 0
    assert f"run {run_id} " in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra,match",
    [
        (["--n", "10", "--n0", "100"], "at least n0"),
        (["--alpha", "0"], "alpha"),
        (["--sigma", "-1"], "sigma"),
        (["--max-images", "0"], "max-images"),
    ],
)
def test_bad_arguments_give_one_line_errors(extra, match, tmp_path, capsys):
    store_path = tmp_path / "s.sqlite"
    assert main(ARGS + extra + ["--store", str(store_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and pytest.importorskip("re").search(match, err)
    assert not store_path.exists()  # nothing was opened or written


def test_report_of_unknown_run(tmp_path, capsys):
    store_path = tmp_path / "s.sqlite"
    assert main(["report", "42", "--store", str(store_path)]) == 2
    assert "no run 42" in capsys.readouterr().err
