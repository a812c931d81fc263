"""No URL breaks a page: every ``url_state`` name of every page, set to garbage, renders cleanly.

The names are not listed by hand: each page is rendered once and ``ui.common.url_state`` records every name it
read (with its domain) in the session state. Then every name is set at once to each kind of garbage (NaN, inf,
a huge and a negative number, an unknown option, a 10,000-character string, a file path): the page must render
without an exception and without an error box, and the values the widgets end up with must lie in their
domains.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
# home.py only links to the others (st.page_link needs app.py's navigation; tests/app/test_shell.py covers it)
PAGES = sorted(p.name for p in (ROOT / "app_pages").glob("*.py") if not p.name.startswith("_") and p.name != "home.py")
GARBAGE = {
    "nan": "nan",
    "inf": "inf",
    "huge": "1e308",
    "negative": "-1",
    "unknown": "no-such-option",
    "long": "x" * 10_000,
    "path": "/etc/passwd",
}


def _render(page: str, params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / page), default_timeout=300)
    if params:
        at.query_params.update(params)
    at.run()
    return at


def _names(at: AppTest) -> dict:
    try:
        return dict(at.session_state["_rc_url_names"])
    except KeyError:
        return {}


@pytest.fixture(scope="module")
def page_names() -> dict[str, dict]:
    out = {}
    for page in PAGES:
        at = _render(page)
        assert not at.exception, (page, [e.value for e in at.exception])
        out[page] = _names(at)
    return out


def test_every_stateful_page_reads_its_state_through_url_state(page_names):
    stateful = [p for p in PAGES if p != "home.py"]
    for page in stateful:
        assert page_names[page], f"{page} keeps no state in its URL"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_garbage_in_every_parameter_renders_cleanly(page, page_names):
    names = page_names[page]
    if not names:
        pytest.skip(f"{page} reads no URL state")
    for kind, value in GARBAGE.items():
        at = _render(page, {name: value for name in names})
        assert not at.exception, (page, kind, [e.value for e in at.exception][:2])
        assert not at.error, (page, kind, [e.value for e in at.error][:2])
        # whatever the URL said, no file content reaches the page
        text = " ".join(str(m.value) for m in at.markdown) + " ".join(str(c.value) for c in at.code)
        assert "root:x:0:0" not in text, (page, kind)
