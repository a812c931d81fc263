"""AppTest of the clustering-certificates page: renders, its figures exist, widgets drive it, and the
attack at the certified radius never flips the decision on the page."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "clustering.py")


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.slow
def test_clustering_page_renders_attacks_and_keeps_url_state():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["img"] = "7"
    at.run()
    assert not at.exception and not at.error
    assert at.number_input(key="cl_img").value == 7
    assert len(at.get("plotly_chart")) >= 4  # embedding, digit, Lipschitz bars, radius histogram
    assert len(at.latex) >= 1
    m = _metrics(at)
    for label in ("closed-form R_f", "exact radius R*", "Lipschitz bound L", "input radius R*/L (ℓ2)"):
        assert label in m
    assert float(m["exact radius R*"]) >= float(m["closed-form R_f"]) * (1 - 1e-3)
    # at the certified radius the attack never flips, for several images
    for img in (0, 123, 449):
        at.number_input(key="cl_img").set_value(img).run()
        assert not at.exception and not at.error
        assert any("did not change the decision" in s.value for s in at.success)
    # a budget far beyond the certificate: the page still renders (flip or not, no error)
    at.select_slider(key="cl_mult").set_value(50.0).run()
    assert not at.exception and not at.error
    assert at.query_params["mult"] in (["50.0"], "50.0")
    at.button(key="cl_flip").click().run()
    assert not at.exception and not at.error
    assert any("ε ≈" in i.value or "no flip" in i.value for i in at.info)
