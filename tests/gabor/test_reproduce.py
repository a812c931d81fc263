"""The reproduction's quick run: a real mean/std table over the seeds, consistent with its records."""
import numpy as np
import pytest

from robustcore.gabor.reproduce import METHODS, reproduce


@pytest.mark.slow
def test_quick_reproduction_table_is_the_mean_and_std_of_its_records():
    res = reproduce(seeds=(0, 1, 2), quick=True)
    rec, tab = res.records, res.table
    assert set(rec["method"]) == set(METHODS) and set(rec["seed"]) == {0, 1, 2}
    assert rec["accuracy"].between(0, 1).all()
    for _, row in tab.iterrows():
        sel = rec[(rec["method"] == row["method"]) & (rec["setting"] == row["setting"])]["accuracy"]
        assert row["seeds"] == 3
        assert row["accuracy mean"] == pytest.approx(np.mean(sel))
        assert row["accuracy std"] == pytest.approx(np.std(sel, ddof=1))
    # PGD never beats clean accuracy (an image counts only if it is correct clean and under attack)
    for (seed, method), d in rec.groupby(["seed", "method"]):
        clean = d.loc[d.setting == "clean", "accuracy"].item()
        assert (d["accuracy"] <= clean + 1e-12).all()
    # the standard LeNet has no Gabor layer; the Gabor ones report their layer
    assert rec.loc[rec.method == "standard LeNet", "mixing_norm"].isna().all()
    assert (rec.loc[rec.method == "Gabor LeNet", "mixing_norm"] > 0).all()
    assert "Deviations" in res.protocol and "QUICK" in res.protocol and res.command.endswith("--quick")


def test_bad_seeds_are_refused():
    with pytest.raises(ValueError):
        reproduce(seeds=(0, 0), quick=True)
    with pytest.raises(ValueError):
        reproduce(seeds=(-1,), quick=True)
    with pytest.raises(ValueError):
        reproduce(seeds=(0,), device="nonsense", quick=True)
