"""The mnist-5k reproduction (quick mode): mean and spread over seeds agree with the records, attacks never raise
accuracy above the clean accuracy of the rule they judge, and the protocol names every deviation."""
from __future__ import annotations

import numpy as np
import pytest

from robustcore.reproduce import format_table


@pytest.mark.slow
def test_quick_reproduction_table_matches_its_records(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_CACHE", str(tmp_path / "cache"))
    from robustcore.clustr.reproduce import METHODS, reproduce

    res = reproduce(seeds=(0, 1), quick=True)
    rec, table = res.records, res.table
    assert set(rec["method"]) == {m for m, _ in METHODS} and set(rec["seed"]) == {0, 1}
    eps_cols = [c for c in rec.columns if c.startswith("eps ")]
    assert eps_cols and "clean" in rec.columns
    for c in ["clean", *eps_cols]:
        assert rec[c].between(0, 1).all()
    for c in eps_cols:  # an attack only removes correctly classified images
        assert (rec[c] <= rec["clean"] + 1e-12).all()
    # ClusTR rows carry all three attacks, cross-entropy two (its rules coincide)
    counts = rec.groupby("method")["attack"].nunique()
    assert counts["cross-entropy"] == 2 and counts["ClusTR"] == 3
    for _, row in table.iterrows():
        sub = rec[(rec["method"] == row["method"]) & (rec["attack"] == row["attack"])]
        assert row["seeds"] == len(sub) == 2
        for c in ["clean", *eps_cols]:
            assert row[f"{c} mean"] == pytest.approx(sub[c].mean())
            assert row[f"{c} std"] == pytest.approx(np.std(sub[c], ddof=1), abs=1e-12)
    assert "±" in format_table(table)
    for words in ("alpha 12.5", "Deviations", "QUICK", "official", "margin"):
        assert words in res.protocol
    assert res.command == "robustcore reproduce clustr --quick --seeds 0 1"
    with pytest.raises(ValueError, match="seeds"):
        reproduce(seeds=(0, 0), quick=True)
    with pytest.raises(ValueError, match="device"):
        reproduce(device="nonsense", quick=True)
