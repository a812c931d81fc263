"""The headline comparison: a table of mean and spread over seeds, consistent with its records."""
from __future__ import annotations

import numpy as np
import pytest

from robustcore.batchsize import BOUND_LABEL, FAIR_LABEL, PLUGIN_LABEL
from robustcore.batchsize.reproduce import reproduce, settings


def test_bad_arguments_are_refused_before_work():
    with pytest.raises(ValueError, match="seeds"):
        reproduce(seeds=(0, 1))
    with pytest.raises(ValueError, match="seeds"):
        reproduce(seeds=(0, 0, 1))
    with pytest.raises(TypeError, match="seeds"):
        reproduce(seeds="012")
    with pytest.raises(ValueError, match="seeds"):
        reproduce(seeds=(0, 1, -2))
    with pytest.raises(ValueError, match="device"):
        reproduce(device="nonsense")


@pytest.mark.slow
def test_quick_reproduction_table_matches_records():
    res = reproduce(quick=True, seeds=(0, 1, 2))
    rec, tab = res.records, res.table
    assert res.line == "batchsize" and res.command == "robustcore reproduce batchsize --quick"
    names = [c["name"] for c in settings(True)]
    assert list(tab["setting"].unique()) == names and any("mnist-5k" in n for n in names)
    methods = ["fixed tau = 1", "fixed tau = tau*", "fixed tau = n", "best fixed tau on the grid",
               "best fixed tau on the grid, bound schedule", FAIR_LABEL, PLUGIN_LABEL, BOUND_LABEL]
    for name, budget in ((c["name"], c["epochs"]) for c in settings(True)):
        sub = tab[tab["setting"] == name]
        assert sorted(sub["method"]) == sorted(methods)
        assert set(sub["seeds"]) == {3}
        r = rec[rec["setting"] == name]
        # the table is the mean / sample std of the records (over seeds that reached eps)
        for m in methods:
            v = r.loc[r["method"] == m, "passes to eps"].to_numpy()
            row = sub[sub["method"] == m].iloc[0]
            fin = v[np.isfinite(v)]
            if fin.size:
                assert row["passes to eps mean"] == pytest.approx(fin.mean())
                assert row["reached mean"] == pytest.approx(fin.size / v.size)
            if fin.size >= 2:
                assert row["passes to eps std"] == pytest.approx(fin.std(ddof=1))
            assert np.all(fin <= budget + 1e-9)  # never over the budget
        # full-batch gradient descent is deterministic: no spread over seeds
        n_row = sub[sub["method"] == "fixed tau = n"].iloc[0]
        assert n_row["passes to eps std"] == pytest.approx(0.0)
        # the best grid tau is, by construction, no worse in median than tau* (which is on the grid)
        med = lambda m: np.median(np.where(np.isfinite(v := r.loc[r["method"] == m, "passes to eps"]
                                                       .to_numpy()), v, np.inf))  # noqa: E731
        assert med("best fixed tau on the grid") <= med("fixed tau = tau*")
