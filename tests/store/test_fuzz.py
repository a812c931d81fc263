"""Any rows given to the store are stored faithfully or refused with one sentence; nothing half-written."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robustcore.store import ResultsStore

values = st.one_of(st.none(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                   st.text(max_size=4), st.booleans())
rows = st.lists(st.fixed_dictionaries({"index": values}, optional={"label": values, "prediction": values,
                                                                   "radius": values, "sigma": values,
                                                                   "time_s": values, "correct": values}),
                min_size=1, max_size=5)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return ResultsStore(tmp_path_factory.mktemp("store") / "s.sqlite")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=rows)
def test_rows_are_stored_faithfully_or_refused_whole(store, batch):
    run = store.start_run("fuzz", {"n": len(store.runs())}, resume=False)
    try:
        store.add_results(run, batch)
    except ValueError as exc:
        assert "\n" not in str(exc)
        assert store.results(run).empty  # one transaction: nothing of a refused batch is kept
        return
    got = store.results(run).set_index("index")
    last = {int(r["index"]): r for r in batch}  # a later row with the same index replaces the earlier one
    assert set(got.index) == set(last)
    for idx, r in last.items():
        for key in ("radius", "sigma", "time_s"):
            v = r.get(key)
            if v is None:
                assert got.loc[idx, key] is None or math.isnan(got.loc[idx, key])
            else:
                assert math.isfinite(float(v)) and float(v) >= 0
                assert got.loc[idx, key] == pytest.approx(float(v))
        for key in ("label", "prediction"):
            if r.get(key) is not None:
                assert int(got.loc[idx, key]) == int(float(r[key]))
