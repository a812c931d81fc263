"""Browser test: the real server (`streamlit run app.py`) in Debian's headless Chromium.

Visits every page, waits for its script to finish, checks that no exception or error box shows,
and saves a screenshot of each page under test-artifacts/screenshots/.
"""
from __future__ import annotations

import pytest

from tests.browser.harness import CHROMIUM, ROOT, chromium, streamlit_server, wait_until_done, error_texts

ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
PAGES = {"home": "", "tropical": "tropical", "gabor": "gabor", "certificates": "certificates",
         "clustering": "clustering", "batch_size": "batch_size"}
PAGE_TIMEOUT_MS = 240_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server(ARTIFACTS.parent / "streamlit-server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it with apt-get)")
    with chromium() as b:
        yield b


def _wait_until_done(page) -> None:
    wait_until_done(page, timeout_ms=PAGE_TIMEOUT_MS)


_errors = error_texts


def test_every_page_renders_without_errors(server, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = ctx.new_page()
    failures = {}
    for name, path in PAGES.items():
        page.goto(f"{server}/{path}", wait_until="domcontentloaded")
        _wait_until_done(page)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        errs = _errors(page)
        if errs:
            failures[name] = errs
        assert page.query_selector('[data-testid="stSidebarNav"]') is not None, name
    ctx.close()
    assert not failures, failures


def test_navigation_keeps_the_sidebar_settings(server, browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(server, wait_until="domcontentloaded")
    _wait_until_done(page)
    seed = page.get_by_label("Seed")
    seed.fill("5")
    seed.press("Enter")
    _wait_until_done(page)
    # Click through the sidebar's navigation (not the URL) to another page and back.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Batch size").click()
    _wait_until_done(page)
    assert "batch_size" in page.url
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Home").click()
    _wait_until_done(page)
    assert page.get_by_label("Seed").input_value() == "5"
    assert not _errors(page)
    ctx.close()


def test_a_foreign_upload_gets_one_clear_sentence(server, browser, tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"PK\x03\x04 definitely not a checkpoint")
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(server, wait_until="domcontentloaded")
    _wait_until_done(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("combobox", name="Model").click()
    page.get_by_role("option", name="Upload a checkpoint...").click()
    _wait_until_done(page)
    sidebar.locator('input[type="file"]').set_input_files(str(bad))
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=60_000)
    _wait_until_done(page)
    text = sidebar.get_by_test_id("stAlertContentError").inner_text()
    assert "not a readable weights-only torch checkpoint" in text
    assert page.query_selector('[data-testid="stException"]') is None
    ctx.close()


def test_an_uploaded_checkpoint_is_the_certificates_base_classifier(server, browser):
    from robustcore.nets import default_model

    _, digits = default_model("digits-mlp")
    _, toy = default_model("toy-moons")
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(server + "/certificates", wait_until="domcontentloaded")
    _wait_until_done(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("combobox", name="Model").click()
    page.get_by_role("option", name="Upload a checkpoint...").click()
    _wait_until_done(page)
    sidebar.locator('input[type="file"]').set_input_files(digits["path"])
    page.wait_for_selector("text=Base classifier: the checkpoint uploaded", timeout=PAGE_TIMEOUT_MS)
    _wait_until_done(page)
    assert not _errors(page), _errors(page)
    # A checkpoint of another architecture (2-D toy net) is refused with one sentence.
    sidebar.locator('input[type="file"]').set_input_files(toy["path"])
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=PAGE_TIMEOUT_MS)
    _wait_until_done(page)
    assert any("cannot classify 8x8 digits" in e for e in _errors(page)), _errors(page)
    exc = page.query_selector('[data-testid="stException"]')
    assert exc is None, exc.inner_text()
    ctx.close()
