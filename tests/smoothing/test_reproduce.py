"""robustcore.smoothing.reproduce (issue 13): the quick run's table is the mean/std over seeds of its records."""
import numpy as np
import pytest

from robustcore.smoothing.reproduce import RADII, reproduce


@pytest.mark.slow  # trains 3 tiny models and certifies 8 images x 4 rows per seed (~10 s idle, more when loaded)
def test_quick_reproduce_table_matches_records_over_three_seeds():
    res = reproduce(seeds=(0, 1, 2), quick=True)
    rec, table = res.records, res.table
    assert len(rec) == 3 * 4 and set(rec["seed"]) == {0, 1, 2}
    assert set(zip(table["method"], table["memory"])) == {("fixed sigma", "off"), ("fixed sigma", "on"),
                                                          ("data-dependent sigma", "off"),
                                                          ("data-dependent sigma", "on")}
    assert (table["seeds"] == 3).all()
    for _, row in table.iterrows():
        sub = rec[(rec["method"] == row["method"]) & (rec["memory"] == row["memory"])]
        for m in [f"acc@{r}" for r in RADII] + ["ACR"]:
            assert row[f"{m} mean"] == pytest.approx(sub[m].mean())
            assert row[f"{m} std"] == pytest.approx(sub[m].std(ddof=1))
    # certified accuracy never increases with the radius; the fixed rows use sigma = 0.25 exactly
    accs = rec[[f"acc@{r}" for r in RADII]].to_numpy()
    assert np.all(np.diff(accs, axis=1) <= 1e-12)
    assert np.allclose(rec.loc[rec["method"] == "fixed sigma", "mean sigma"], 0.25)
    # only the data-dependent certificates without memory are labelled as not sound
    unsound = table[~table["sound"].str.startswith("yes")]
    assert list(zip(unsound["method"], unsound["memory"])) == [("data-dependent sigma", "off")]
    assert "N = 200" in res.protocol and res.command == "robustcore reproduce smoothing --quick"


def test_reproduce_refuses_bad_arguments():
    for bad in ({"seeds": ()}, {"seeds": (1, 1)}, {"seeds": (-1,)}, {"device": "nonsense"}):
        with pytest.raises(ValueError):
            reproduce(quick=True, **bad)
