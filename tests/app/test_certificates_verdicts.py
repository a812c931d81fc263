"""Verdicts of the certificate table (ui.certificates.verdicts): a row is called a guarantee only when it is
one, an abstaining row never is, and every row names its noise stream."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from robustcore.smoothing.bounds import clopper_pearson_lower
from robustcore.smoothing.certify import Smooth
from ui.certificates import verdicts


@pytest.fixture(scope="module")
def linear_certs():
    import torch

    # f(x) = argmax(-s, s) with s = x_0 - x_1 on 4 pixels: p_A = Phi(|s| / (sigma sqrt 2)) in closed form
    model = torch.nn.Linear(4, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-1.0, 1.0, 0, 0], [1.0, -1.0, 0, 0]]))
    smooth = Smooth(model, 2, 0.25)
    far = torch.tensor([0.9, 0.1, 0.0, 0.0])  # p_A = Phi(0.8 / 0.354) = 0.988
    boundary = torch.tensor([0.5, 0.5, 0.0, 0.0])  # p_A = 1/2: CERTIFY must abstain (fixed seed)
    return (smooth.certify(far, n0=100, n=1000, alpha=0.001, seed=0, purpose="certify-fixed"),
            smooth.certify(boundary, n0=100, n=1000, alpha=0.001, seed=0, purpose="certify-fixed"))


def test_fixed_row_is_a_guarantee_only_when_certify_answers(linear_certs):
    far, mid = linear_certs
    assert far.label == 1 and mid.label < 0  # the far point certifies; the point on the boundary abstains
    row = verdicts.fixed_row(far, 0.25, 1000, 0.001, far.seed)
    assert row["status"] == "guarantee" and row["verdict"].startswith("A guarantee for g_σ")
    assert "99.9 %" in row["verdict"] and row["noise stream"] == "certify-fixed" and row["seed"] == far.seed
    # the radius shown is sigma * Phi^-1(p_lower) with p_lower the Clopper-Pearson bound of the votes
    from scipy.stats import norm

    p = clopper_pearson_lower(int(far.counts[1]), 1000, 0.001)
    assert row["radius"] == pytest.approx(0.25 * norm.ppf(p), rel=1e-9)
    row = verdicts.fixed_row(mid, 0.25, 1000, 0.001, mid.seed)
    assert row["status"] == "abstains" and row["class"] is None and row["radius"] == 0
    assert row["verdict"].startswith("Not a guarantee, because CERTIFY abstained")


@dataclass
class _Cert:
    label: int
    radius: float
    p_lower: float


@dataclass
class _Lip:
    label: int
    radius: float
    cohen_radius: float
    sigma: float
    p_lower: float
    status: str | None = None
    cohen_label: int | None = None


def test_data_dependent_row_is_never_a_guarantee():
    row = verdicts.dd_row(_Cert(3, 0.4, 0.97), 0.31, 0.25, 0.001, 7)
    assert row["status"] == "not a guarantee" and "only for g at the fixed σ_x = 0.310" in row["verdict"]
    assert verdicts.dd_row(_Cert(-1, 0.0, 0.4), 0.31, 0.25, 0.001, 7)["status"] == "abstains"


def test_memory_and_lipschitz_rows_that_abstain_are_not_sound():
    assert verdicts.memory_row(-1, 0.0, 0.3, 0.4, "abstained", 5, 0.001, 1)["status"] == "abstains"
    row = verdicts.memory_row(-1, 0.0, 0.3, 0.4, "abstained", 5, 0.001, 1, cert_label=-1)
    assert row["status"] == "abstains" and "certificate it would store abstained" in row["verdict"]
    row = verdicts.memory_row(-1, 0.0, 0.3, 0.9, "abstained", 5, 0.001, 1, cert_label=3)
    assert "inside a stored ball of another class" in row["verdict"]
    row = verdicts.memory_row(2, 0.3, 0.3, 0.9, "shrunk", 5, 0.001, 1)
    assert row["status"] == "guarantee" and "M = 5" in row["verdict"]
    ok = verdicts.lipschitz_row(_Lip(4, 0.2, 0.5, 0.25, 0.99, "certified", 4), 0.1, 0.001, 9)
    assert ok["status"] == "guarantee" and (ok["noise stream"], ok["seed"]) == ("lipschitz", 9)
    # the library's radius-0 case: CERTIFY answered but the worst case fails -> the row abstains
    for lc in (_Lip(-1, 0.0, 0.5, 0.25, 0.99, "abstain", 4), _Lip(4, 0.0, 0.5, 0.25, 0.99)):
        row = verdicts.lipschitz_row(lc, 0.1, 0.001, 9)
        assert row["status"] == "abstains" and row["class"] is None and "worst case" in row["verdict"]
    row = verdicts.lipschitz_row(_Lip(-1, 0.0, 0.0, 0.25, 0.3, "abstain", -1), 0.1, 0.001, 9)
    assert row["status"] == "abstains" and "CERTIFY abstained" in row["verdict"]


def test_clustr_row_is_deterministic():
    row = verdicts.clustr_row({"label": 3, "input_radius": 0.05, "sound": True, "note": "n"})
    assert row["status"] == "guarantee" and row["noise stream"] == "none (deterministic)" and row["seed"] is None
    assert verdicts.clustr_row({"label": 3, "input_radius": 0.05, "sound": False, "note": "x"})["status"] != "guarantee"


def test_short_seed_keeps_the_last_six_digits():
    assert verdicts.short_seed(9169569808264330027) == "…330027"
    assert verdicts.short_seed(330027) == "330027" and verdicts.short_seed(7) == "7"
    assert verdicts.short_seed(None) == "—"


def test_table_shows_short_words_and_the_csv_keeps_full_seeds_and_sentences(linear_certs):
    """The table has one short verdict per row; the CSV keeps what the table shortens, exactly: 19-digit
    seeds (above 2**53, which a float column would round) and the full sentences."""
    import io

    import pandas as pd

    from ui.certificates import view_table

    far, mid = linear_certs
    big = 2**63 - 25  # the largest kind of stream seed; float64 cannot hold it
    rows = [verdicts.fixed_row(far, 0.25, 1000, 0.001, big),
            verdicts.clustr_row({"label": 3, "input_radius": 0.05, "sound": True, "note": "n"}),  # seed None
            verdicts.fixed_row(mid, 0.25, 1000, 0.001, mid.seed)]
    shown = view_table._table(rows)
    assert list(shown["verdict"].str.split(" ", n=1).str[1]) == ["guarantee", "guarantee", "abstains"]
    assert list(shown["seed"]) == ["…" + str(big)[-6:], "—", verdicts.short_seed(mid.seed)]
    assert "status" not in shown.columns and shown["verdict"].str.len().max() < 20
    csv = pd.read_csv(io.BytesIO(view_table.table_csv(rows)), dtype={"seed": str})
    assert list(csv["seed"].fillna("")) == [str(big), "", str(mid.seed)]
    assert list(csv["verdict"]) == [r["verdict"] for r in rows] and list(csv["status"]) == [r["status"] for r in rows]
    assert csv["class"].isna().tolist() == [False, False, True]
