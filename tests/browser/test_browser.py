"""Browser tests: the real server (`streamlit run app.py`) in Debian's headless Chromium.

One server and one browser serve every test (module fixtures). The tests check what only a real
browser shows: every page renders with no exception or error box (screenshots land under
test-artifacts/screenshots/), the sidebar keeps its settings across navigation, uploads (a robustcore
checkpoint, a Cohen et al. file, a foreign file) get one clear sentence, the "Paper style" switch
turns a drawn figure white, figures offer their CSV, and garbage URLs are never an error.

Assertions check the meaning of a message (which file, which verdict), not its exact wording.
"""
from __future__ import annotations

import io
import re

import pytest

from tests.browser.harness import CHROMIUM, ROOT, chromium, error_texts, streamlit_server, wait_until_done

ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
PAGES = {"home": "", "tropical": "tropical", "gabor": "gabor", "certificates": "certificates",
         "clustering": "clustering", "batch_size": "batch_size"}
PAGE_TIMEOUT_MS = 420_000  # a cold cache trains default models first (minutes on a loaded machine)
# URLs a user could paste or mistype: NaN / inf / negative numbers, a path, an index far out of range.
GARBAGE_URLS = ["certificates?sigma=nan&n=-1&image=-3&view=%3Cscript%3E",
                "gabor?lambd=inf&k=4&sigma=-1e309",
                "batch_size?path=/etc/passwd&n=1e99&eps=nan",
                "tropical?attack_idx=99999&section=nonsense&units=-5",
                "clustering?k=nan&eps=1e400&point=999999"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it with apt-get)")
    with chromium() as b:
        yield b


FIRST_VISIT: dict[str, str] = {}


@pytest.fixture(scope="module")
def server(browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server(ARTIFACTS.parent / "streamlit-server.log") as url:
        # The first visit of a fresh server is a shared deep link: it must be served by app.py (its navigation
        # and sidebar), not by Streamlit's page-folder discovery (which a folder named pages/ would trigger).
        ctx = browser.new_context()
        first = ctx.new_page()
        _open(first, url + "/certificates")
        nav = first.get_by_test_id("stSidebarNav")
        FIRST_VISIT["nav"] = nav.inner_text() if nav.count() else ""
        ctx.close()
        yield url


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    p = ctx.new_page()
    yield p
    ctx.close()


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    wait_until_done(page, timeout_ms=PAGE_TIMEOUT_MS)


def _exception(page) -> str | None:
    exc = page.query_selector('[data-testid="stException"]')
    return None if exc is None else exc.inner_text()[:500]


def _assert_one_sentence(text: str) -> None:
    """A message for a user: no traceback, no code location, short; at most a sentence or two."""
    assert "Traceback" not in text and not re.search(r'File ".*", line \d+', text), text
    assert len(text) < 700, text


def _choose(page, sidebar, label: str, option: str) -> None:
    sidebar.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option).click()
    wait_until_done(page, timeout_ms=PAGE_TIMEOUT_MS)


_MESSAGE_JS = """() => {
    const m = document.querySelector('[data-testid="stSidebar"] [data-testid="stAlertContentError"], '
                                     + '[data-testid="stSidebar"] [data-testid="stAlertContentSuccess"]');
    return m ? m.innerText : null;
}"""


def _upload(page, sidebar, path) -> None:
    """Upload ``path`` in the sidebar and wait for the message about it (a new one, not the previous file's)."""
    previous = page.evaluate(_MESSAGE_JS)
    sidebar.locator('input[type="file"]').set_input_files(str(path))
    page.wait_for_function(f"prev => {{ const t = ({_MESSAGE_JS})(); return t !== null && t !== prev; }}",
                           arg=previous, timeout=PAGE_TIMEOUT_MS, polling=100)
    wait_until_done(page, timeout_ms=PAGE_TIMEOUT_MS)


def _sidebar_message(sidebar) -> tuple[str, str]:
    """("success" | "error", text) of the sidebar's upload message."""
    ok = sidebar.get_by_test_id("stAlertContentSuccess")
    bad = sidebar.get_by_test_id("stAlertContentError")
    if bad.count():
        return "error", bad.first.inner_text()
    return "success", ok.first.inner_text()


def _cohen_file(tmp_path):
    """A Cohen et al. checkpoint with random weights, in their layout: DataParallel keys, optimizer, epoch."""
    import torch
    from torch import nn

    from robustcore.nets import CifarResNet, NormalizeLayer
    from robustcore.nets.cohen import CIFAR10_MEAN, CIFAR10_STD

    class _DataParallelLike(nn.Module):  # DataParallel's state dict: every key under "module."
        def __init__(self, net):
            super().__init__()
            self.module = net

    torch.manual_seed(0)
    net = CifarResNet(20, 10)
    seq = nn.Sequential(NormalizeLayer(CIFAR10_MEAN, CIFAR10_STD), _DataParallelLike(net))
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    path = tmp_path / "checkpoint.pth.tar"
    buf = io.BytesIO()
    torch.save({"epoch": 90, "arch": "cifar_resnet20", "state_dict": seq.state_dict(),
                "optimizer": opt.state_dict()}, buf)
    path.write_bytes(buf.getvalue())
    return path


# ----------------------------------------------------------------------------------------------- pages


def test_every_page_renders_without_errors(server, browser):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = ctx.new_page()
    failures = {}
    for name, path in PAGES.items():
        _open(page, f"{server}/{path}")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        errs = error_texts(page)
        if errs:
            failures[name] = errs
        assert page.query_selector('[data-testid="stSidebarNav"]') is not None, name
    ctx.close()
    assert not failures, failures


def test_navigation_keeps_the_sidebar_settings(server, page):
    _open(page, server)
    seed = page.get_by_label("Seed")
    seed.fill("5")
    seed.press("Enter")
    wait_until_done(page, timeout_ms=PAGE_TIMEOUT_MS)
    # Click through the sidebar's navigation (not the URL) to another page and back.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Batch size").click()
    wait_until_done(page, timeout_ms=PAGE_TIMEOUT_MS)
    assert "batch_size" in page.url
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Home").click()
    wait_until_done(page, timeout_ms=PAGE_TIMEOUT_MS)
    assert page.get_by_label("Seed").input_value() == "5"
    assert not error_texts(page)


@pytest.mark.parametrize("path", GARBAGE_URLS)
def test_a_garbage_url_is_never_an_error(server, page, path):
    _open(page, f"{server}/{path}")
    assert _exception(page) is None, _exception(page)
    assert not error_texts(page), error_texts(page)
    assert page.query_selector('[data-testid="stSidebarNav"]') is not None


# --------------------------------------------------------------------------------------------- uploads


def test_a_foreign_upload_gets_one_clear_sentence(server, page, tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"PK\x03\x04 definitely not a checkpoint")
    _open(page, server)
    sidebar = page.get_by_test_id("stSidebar")
    _choose(page, sidebar, "Model", "Upload a checkpoint...")
    _upload(page, sidebar, bad)
    kind, text = _sidebar_message(sidebar)
    assert kind == "error", text
    # the sentence says the file is no checkpoint robustcore can read, and what it would read
    assert re.search(r"not a (readable )?.*checkpoint|cannot be read|not .*readable", text, re.I), text
    _assert_one_sentence(text)
    assert _exception(page) is None, _exception(page)


def test_a_cohen_checkpoint_is_accepted_and_refused_where_it_does_not_fit(server, page, tmp_path):
    path = _cohen_file(tmp_path)
    _open(page, server)
    sidebar = page.get_by_test_id("stSidebar")
    _choose(page, sidebar, "Dataset", "CIFAR-10 (local folder)")
    _choose(page, sidebar, "Model", "Upload a checkpoint...")
    _upload(page, sidebar, path)
    kind, text = _sidebar_message(sidebar)
    assert kind == "success", text
    assert "cifar_resnet20" in text and re.search(r"cohen", text, re.I), text
    assert re.search(r"CIFAR-?10", text, re.I), text  # the normalisation in front, named
    _assert_one_sentence(text)
    assert _exception(page) is None, _exception(page)
    # The same file with the 8x8 grey digits: refused, saying why (channels or size).
    _choose(page, sidebar, "Dataset", "Digits (8x8, bundled with scikit-learn)")
    if not sidebar.locator('input[type="file"]').count():  # the model choice fell back: choose upload again
        _choose(page, sidebar, "Model", "Upload a checkpoint...")
        _upload(page, sidebar, path)
    kind, text = _sidebar_message(sidebar)
    assert kind == "error", text
    assert re.search(r"channel|3x32|32x32|size", text, re.I) and "digits" in text.lower(), text
    _assert_one_sentence(text)
    assert _exception(page) is None, _exception(page)


def test_an_uploaded_checkpoint_is_the_certificates_base_classifier(server, page):
    from robustcore.nets import default_model

    _, digits = default_model("digits-mlp")
    _, toy = default_model("toy-moons")
    _open(page, server + "/certificates")
    sidebar = page.get_by_test_id("stSidebar")
    _choose(page, sidebar, "Model", "Upload a checkpoint...")
    _upload(page, sidebar, digits["path"])
    kind, text = _sidebar_message(sidebar)
    assert kind == "success", text
    main = page.get_by_test_id("stMain")
    # the page names the upload as its base classifier and certifies with it
    main.get_by_text(re.compile(r"checkpoint uploaded|uploaded checkpoint|your checkpoint", re.I)).first.wait_for(
        timeout=PAGE_TIMEOUT_MS)
    wait_until_done(page, timeout_ms=PAGE_TIMEOUT_MS)
    assert not error_texts(page), error_texts(page)
    assert main.locator('[data-testid="stPlotlyChart"]').count() >= 1
    # A checkpoint of another architecture (the 2-D toy net) is refused with one sentence that says why.
    _upload(page, sidebar, toy["path"])
    kind, text = _sidebar_message(sidebar)
    assert kind == "error", text
    assert re.search(r"input|channel|size|64", text, re.I) and "digits" in text.lower(), text
    _assert_one_sentence(text)
    for err in error_texts(page):
        _assert_one_sentence(err)
    assert _exception(page) is None, _exception(page)


# --------------------------------------------------------------------------------------------- figures


_FIGURES_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')].map(p => {
    const svg = p.querySelector('svg.main-svg');
    const fl = p._fullLayout || {};
    return {svg: svg ? getComputedStyle(svg).backgroundColor : null, paper: fl.paper_bgcolor, plot: fl.plot_bgcolor,
            font: fl.font ? fl.font.size : null, color: fl.font ? fl.font.color : null};
})"""
_WHITE = ("rgb(255, 255, 255)", "#ffffff", "white")


def test_paper_style_turns_figures_white_and_figures_offer_csv(server, page):
    _open(page, server + "/batch_size")
    main = page.get_by_test_id("stMain")
    charts = main.locator('[data-testid="stPlotlyChart"]')
    charts.first.wait_for(timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(".js-plotly-plot svg.main-svg", timeout=60_000)
    before = page.evaluate(_FIGURES_JS)
    assert before, "no plotly figure drawn"
    # Every figure offers the numbers behind it as CSV.
    csv = main.locator('[data-testid="stDownloadButton"]').filter(has_text="CSV")
    assert csv.count() >= charts.count() >= 1, (csv.count(), charts.count())
    page.get_by_test_id("stSidebar").get_by_text("Paper style").click()
    wait_until_done(page, timeout_ms=PAGE_TIMEOUT_MS)
    # (The app's light theme already draws on white; the switch makes the figure's own layout white, so an
    # SVG download or a dark-theme reader gets white too, and enlarges the fonts for print.)
    page.wait_for_function("""n => {
        const p = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')];
        return p.length === n && p.every(e => e._fullLayout && e._fullLayout.font.size > 12);
    }""", arg=len(before), timeout=60_000)
    after = page.evaluate(_FIGURES_JS)
    assert len(after) == len(before), (before, after)
    for b, a in zip(before, after):
        assert a["svg"] in _WHITE and str(a["paper"]).lower() in _WHITE and str(a["plot"]).lower() in _WHITE, a
        assert a["font"] > b["font"] and str(a["color"]).lower() in ("black", "#000000", "rgb(0, 0, 0)"), (b, a)
    assert not error_texts(page)
    # and back: the switch is a switch
    page.get_by_test_id("stSidebar").get_by_text("Paper style").click()
    wait_until_done(page, timeout_ms=PAGE_TIMEOUT_MS)
    page.wait_for_function("""n => {
        const p = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')];
        return p.length === n && p.every(e => e._fullLayout && e._fullLayout.font.size <= 12);
    }""", arg=len(before), timeout=60_000)


def test_a_deep_link_on_a_fresh_server_is_served_by_the_app(server):
    nav = FIRST_VISIT["nav"]
    for title in ("Home", "Tropical geometry", "Certificates", "Batch size"):
        assert title in nav, nav
    assert "app" not in nav.lower().split(), nav
