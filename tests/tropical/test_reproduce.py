"""robustcore.tropical.reproduce (quick mode): the table is mean / std over the seeds of the records."""

from __future__ import annotations

import numpy as np
import pytest

from robustcore.tropical.reproduce import reproduce


@pytest.mark.slow
def test_quick_reproduce_table_matches_records():
    r = reproduce(seeds=(0, 1), quick=True)
    rec, tab = r.records, r.table
    assert set(rec["method"]) == {"tropical", "magnitude-neuron", "magnitude"}
    assert set(rec["ratio"]) == {0.5, 0.75, 0.9} and set(rec["bias_refit"]) == {False, True}
    assert (tab["seeds"] == 2).all() and len(tab) == 3 * 3 * 2
    for _, row in tab.iterrows():
        sel = rec[(rec["ratio"] == row["ratio"]) & (rec["method"] == row["method"]) & (rec["bias_refit"] == row["bias_refit"])]
        assert np.isclose(row["accuracy mean"], sel["accuracy"].mean())
        assert np.isclose(row["accuracy std"], sel["accuracy"].std(ddof=1))
    # tropical and whole-unit pruning remove the same number of units; per-weight pruning keeps more units alive
    t = rec[rec["method"] == "tropical"].set_index(["seed", "ratio", "bias_refit"])["units_kept"]
    n = rec[rec["method"] == "magnitude-neuron"].set_index(["seed", "ratio", "bias_refit"])["units_kept"]
    assert (t == n).all()
    assert rec["dense_accuracy"].min() > 0.5  # the quick MLP learnt something (chance is 0.1)
    assert r.command.startswith("robustcore reproduce tropical")
