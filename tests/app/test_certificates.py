"""Page tests of the certificates page: every view, every interaction, bad URLs, datasets, the store.

The page writes its memory to the results store, so every test here uses its own store file.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from robustcore.smoothing.streams import stream_seed
from ui.certificates.verdicts import short_seed

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "certificates.py")
NAMES = ["dataset", "view", "model", "train_sigma", "sigma", "n", "src", "steps", "lr", "r_lip", "clustr", "k_img",
         "image", "draw"]
GARBAGE = {"nan": "nan", "inf": "inf", "huge": "1e308", "negative": "-1", "unknown": "no-such-option",
           "long": "x" * 10_000}


@pytest.fixture(scope="module", autouse=True)
def trained_model():
    # Train (or load) the page's default model outside the page's timeout.
    from robustcore.smoothing.training import smoothing_model

    smoothing_model("cohen", 0.25)


@pytest.fixture(autouse=True)
def own_store(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_STORE", str(tmp_path / "results.sqlite"))
    return tmp_path / "results.sqlite"


def _page(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=240)
    for k, v in params.items():
        at.query_params[k] = str(v)
    return at.run()


def _clean(at: AppTest, what: str = "") -> None:
    assert not at.exception, (what, [e.value for e in at.exception][:2])
    assert not at.error, (what, [e.value for e in at.error][:2])


def _widget(at: AppTest, kind: str, key: str):
    return next(w for w in getattr(at, kind) if w.key == key)


def _param(at: AppTest, name: str) -> str:
    v = at.query_params[name]
    return v[0] if isinstance(v, list) else v


def _values(v) -> list:
    """A plotly JSON array: a list, or plotly 6's typed array {"dtype", "bdata"[, "shape"]}."""
    if isinstance(v, dict) and "bdata" in v:
        arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if "shape" in v:
            arr = arr.reshape([int(d) for d in str(v["shape"]).split(",")])
        return arr.tolist()
    return list(v)


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _table(at: AppTest):
    for df in at.dataframe:
        v = df.value
        if "certificate" in v.columns and "verdict" in v.columns and not v["certificate"].str.startswith("ClusTR").any():
            return v
    raise AssertionError("no certificate table on the page")


def _status(word: str) -> str:
    """The status in a table cell such as "✓ guarantee" (a symbol, then the word)."""
    return word.split(" ", 1)[1]


def _sentences(at: AppTest) -> dict[str, str]:
    """certificate name -> its verdict sentence, from the lists in the "Why each verdict" expanders."""
    out = {}
    for exp in at.expander:
        if exp.label != "Why each verdict":
            continue
        for md in exp.markdown:
            for line in md.value.splitlines():
                name, sentence = line.split("**", 2)[1:]
                out[name] = sentence.removeprefix(": ")
    return out


def _vote_figure(at: AppTest) -> dict:
    return next(f for f in _figures(at) if "Votes" in str(f["layout"].get("title", {}).get("text", "")))


def test_votes_view_interactions_follow_the_controls_and_the_url():
    at = _page(image=3, n=500)
    _clean(at, "first render")
    assert _widget(at, "number_input", "cert_image").value == 3  # page state read from the URL
    votes = _vote_figure(at)
    assert votes["layout"]["xaxis"]["type"] == "category"
    bars = {x: y for tr in votes["data"] for x, y in zip(_values(tr["x"]), _values(tr["y"]))}
    assert sum(bars.values()) == 500 and all(str(c) in bars for c in range(10))
    assert any(f"certify-fixed (seed {short_seed(stream_seed(0, 'certify-fixed'))})" in c.value for c in at.caption)
    assert any("Cohen certificate" in s.value for s in at.success) or any("abstains" in w.value for w in at.warning)

    # after choosing sigma by watching the radius, fresh noise: a new stream, recorded in the URL
    next(b for b in at.button if b.label == "Fresh noise").click().run()
    _clean(at, "fresh noise")
    assert _param(at, "draw") == "1"
    fresh = short_seed(stream_seed(0, "certify-fixed-1"))
    assert any(f"certify-fixed-1 (seed {fresh})" in c.value for c in at.caption)

    _widget(at, "slider", "cert_sigma").set_value(0.5).run()
    _clean(at, "sigma")
    assert _param(at, "sigma") == "0.50" and "σ = 0.50" in _vote_figure(at)["layout"]["title"]["text"]
    _widget(at, "select_slider", "cert_n").set_value(100).run()
    _clean(at, "n")
    assert _param(at, "n") == "100" and "n = 100 " in _vote_figure(at)["layout"]["title"]["text"]
    _widget(at, "number_input", "cert_image").set_value(17).run()
    _clean(at, "image")
    assert _param(at, "image") == "17"
    gallery = next(f for f in _figures(at) if any("#17 *" in a.get("text", "") for a in f["layout"]["annotations"]))
    assert len(gallery["layout"]["annotations"]) == 12  # images 12-23


@pytest.mark.slow
def test_table_gives_every_row_its_own_stream_and_a_plain_verdict():
    seed = 0
    at = _page(view="table", image=5, n=100, steps=25, clustr="true")
    _clean(at, "table")
    table = _table(at)
    assert list(table["certificate"].str.split(" ").str[0]) == ["Fixed", "Data-dependent", "Data-dependent", "Lipschitz"]
    streams = {p: stream_seed(seed, p) for p in ("certify-fixed", "certify-dd", "memory", "lipschitz")}
    assert list(table["noise stream"]) == list(streams)
    # the seed is shown short (its last six digits); the full one is in the CSV (tests/app/test_certificates_verdicts)
    assert list(table["seed"]) == ["…" + str(s)[-6:] for s in streams.values()]
    assert len(set(streams.values())) == 4 and stream_seed(seed, "landscape") not in streams.values()
    sentences = _sentences(at)
    assert set(sentences) == set(table["certificate"]) | {"ClusTR (nearest centre)"}
    for _, row in table.iterrows():
        status = _status(row["verdict"])
        assert status in ("guarantee", "not a guarantee", "abstains")
        sentence = sentences[row["certificate"]]  # said once, under the table, never as a cut-off column
        if status == "guarantee":
            assert sentence.startswith("A guarantee") and not pd.isna(row["class"]) and row["radius"] > 0
        else:
            assert sentence.startswith("Not a guarantee")
        if status == "abstains":  # an abstaining row is never called sound
            assert pd.isna(row["class"]) and row["radius"] == 0
    assert _status(table.iloc[1]["verdict"]) != "guarantee"  # data-dependent alone is never a guarantee for G
    assert not any(len(str(v)) > 40 for v in table.to_numpy().ravel())  # no cell a reader has to scroll
    # ClusTR sits in its own table
    other = [df.value for df in at.dataframe if df.value["certificate"].str.startswith("ClusTR").any()]
    assert len(other) == 1 and other[0].iloc[0]["noise stream"] == "none (deterministic)"

    # the memory keeps its answer for a query it has seen (same image again)
    _widget(at, "select_slider", "cert_r_lip").set_value(0.2).run()
    _clean(at, "r_lip")
    memory = _table(at).iloc[2]
    assert "seen before" in _sentences(at)[memory["certificate"]] or _status(memory["verdict"]) == "abstains"


def test_landscape_view_draws_the_landscape_and_both_sigmas():
    at = _page(view="landscape", image=2, n=100, steps=25, sigma=0.3)
    _clean(at, "landscape")
    figs = _figures(at)
    names = [tr.get("name", "") for f in figs for tr in f["data"]]
    assert "current σ = 0.30" in names and any(n.startswith("optimised σ_x = ") for n in names)
    assert any(f"seed {short_seed(stream_seed(0, 'landscape'))}" in c.value for c in at.caption)


@pytest.mark.parametrize("kind", list(GARBAGE))
def test_bad_urls_render_without_errors(kind):
    at = _page(**{name: GARBAGE[kind] for name in NAMES})
    _clean(at, kind)
    assert _widget(at, "slider", "cert_sigma").value == pytest.approx(0.25)
    assert _widget(at, "number_input", "cert_image").value == 0
    assert _widget(at, "radio", "cert_view").value == "votes"


@pytest.mark.parametrize("params", [
    {"sigma": "nan"},  # raised KeyError before issue 12
    {"image": "450"}, {"image": "449"}, {"sigma": "0.987654", "n": "123"},
    # the other parameters as in the view tests above, so their computations come from the cache
    {"view": "landscape", "steps": "25", "lr": "nan", "image": "2", "n": "100", "sigma": "0.3"},
    {"view": "table", "lr": "inf", "r_lip": "-1", "steps": "25", "n": "100", "image": "5", "clustr": "maybe"},
    {"view": "dataset", "k_img": "1e308"},
])
def test_single_bad_values_fall_back_to_the_widget_domain(params):
    at = _page(**params)
    _clean(at, str(params))
    index = [w.value for w in at.number_input if w.key == "cert_image"]
    assert not index or 0 <= index[0] <= 449
    assert _widget(at, "slider", "cert_sigma").value in [round(0.02 + 0.01 * k, 2) for k in range(99)]
    if params.get("image") == "449":
        assert index == [449]


def _add_run(store_path, dataset: str, sigma: float, radii: list[float], **extra) -> int:
    from robustcore.smoothing.runner import RUN_KIND
    from robustcore.store import ResultsStore

    store = ResultsStore(store_path)
    run = store.start_run(RUN_KIND, {"dataset": dataset, "model": "cohen", "sigma": sigma, "train_sigma": sigma,
                                     "n": 1000, **extra})
    store.add_results(run, [{"index": i, "label": 1, "prediction": 1, "radius": r, "sigma": sigma,
                             "correct": r > 0, "time_s": 0.0} for i, r in enumerate(radii)])
    store.finish_run(run)
    return run


def test_dataset_view_shows_our_runs_and_imported_logs_and_never_clears_caches(own_store, monkeypatch):
    import streamlit as st

    cleared = []
    monkeypatch.setattr(st.cache_data, "clear", lambda *a, **k: cleared.append("data"))
    monkeypatch.setattr(st.cache_resource, "clear", lambda *a, **k: cleared.append("resource"))
    from robustcore.smoothing.importlog import import_cohen_log
    from robustcore.store import ResultsStore

    ours = _add_run(own_store, "digits", 0.25, [0.1, 0.5, 0.0])
    log = own_store.parent / "sigma_0.50.tsv"  # a published log in Cohen's format (no images needed)
    log.write_text("idx\tlabel\tpredict\tradius\tcorrect\ttime\n0\t3\t3\t0.3\t1\t0:00:01.5\n"
                   "20\t8\t-1\t0.0\t0\t0:00:01.2\n40\t1\t1\t0.8\t1\t0:00:01.1\n")
    imported = import_cohen_log(log, 0.5, name="cohen-cifar-0.50", store=ResultsStore(own_store))
    _add_run(own_store, "mnist-5k", 0.25, [0.2])  # another dataset: not shown for digits

    def fake_certify(method, train_sigma, sigma, n=1000, max_images=30, progress=None, **kw):
        _add_run(own_store, "digits", sigma, [0.7] * 4, n_marker=n)  # what run_dd_comparison stores, in small

    import robustcore.smoothing.dd_training as dd_training

    monkeypatch.setattr(dd_training, "run_dd_comparison", fake_certify)
    at = _page(view="dataset", n=500)
    _clean(at, "dataset")
    summary = next(df.value for df in at.dataframe if "curve" in df.value.columns)
    assert set(summary["run"]) == {ours, imported}
    row = summary.set_index("run").loc[imported]
    assert row["source"] == "imported" and "imported: cohen-cifar-0.50" in row["curve"]
    assert summary.set_index("run").loc[ours, "acc@0.25"] == pytest.approx(1 / 3)  # radii 0.1, 0.5, 0.0
    assert row["acc@0.25"] == pytest.approx(2 / 3) and row["acc@0.5"] == pytest.approx(1 / 3)  # from the file
    next(b for b in at.button if b.label.startswith("Certify 30 test images")).click().run()
    _clean(at, "certify button")
    summary = next(df.value for df in at.dataframe if "curve" in df.value.columns)
    assert len(summary) == 3  # the new run appears (the cache is keyed by the store's stamp) ...
    assert cleared == []  # ... and no cache of this or any other page was cleared


def test_reproduce_table_or_a_note(monkeypatch):
    import pandas as pd

    import robustcore.reproduce as reproduce

    monkeypatch.setattr(reproduce, "load_result", lambda line, folder=None: None)
    at = _page(view="dataset")
    _clean(at, "no reproduce table")
    assert any("has not been run yet" in i.value and "robustcore reproduce smoothing" in i.value for i in at.info)
    table = pd.DataFrame({"method": ["fixed", "data-dependent"], "acc@0.25 mean": [0.8, 0.82]})
    monkeypatch.setattr(reproduce, "load_result", lambda line, folder=None: (table, "| table |\n\nPrinted by ..."))
    at = _page(view="dataset")
    _clean(at, "reproduce table")
    assert any(list(df.value.columns) == list(table.columns) for df in at.dataframe)
    assert any("robustcore reproduce smoothing" in c.value for c in at.caption)
    # mean and std side by side become one "mean ± std" column, as the saved table has them
    table = pd.DataFrame({"method": ["fixed sigma", "data-dependent sigma"], "sound": ["yes", "no (g at sigma_x only)"],
                          "acc@0.25 mean": [0.84333, 0.8367], "acc@0.25 std": [0.011547, 0.0],
                          "ACR mean": [0.58, 0.70], "seeds": [3, 3]})
    at = _page(view="dataset")
    _clean(at, "reproduce table with spreads")
    shown = next(df.value for df in at.dataframe if "method" in df.value.columns)
    assert list(shown.columns) == ["method", "sound", "acc@0.25", "ACR mean", "seeds"]
    assert list(shown["acc@0.25"]) == ["0.843 ± 0.012", "0.837 ± 0.000"] and list(shown["seeds"]) == [3, 3]
    assert list(shown["method"]) == ["fixed σ", "data-dependent σ"] and shown["sound"][1] == "no (g at σ_x only)"
    assert any("mean ± standard deviation" in c.value for c in at.caption)


def test_page_certificates_equal_the_library_at_any_forward_batch():
    """The page runs CERTIFY on small images with a smaller forward batch (faster on a CPU); the votes, and so
    every certificate, are those of the library's default batch of 2000 (the noise stream is the same)."""
    import torch

    from robustcore.smoothing.certify import Smooth
    from robustcore.smoothing.training import smoothing_model
    from ui.certificates import compute
    from ui.certificates.config import BATCH

    model = smoothing_model("cohen", 0.25)
    model = model[0] if isinstance(model, tuple) else model
    x = np.random.default_rng(0).random((1, 8, 8)).astype(np.float32)
    assert compute.batch_size(x, model) < BATCH and compute.batch_size(np.zeros((3, 32, 32)), model) == BATCH
    # off the CPU (an accelerator; "meta" stands in for one here) the page keeps the library's batch
    assert compute.batch_size(x, torch.nn.Linear(2, 2, device="meta")) == BATCH
    for n in (1000, 4321):  # 4321: a last batch shorter than the others
        page = compute.cohen_certificate(("t", n), model, x, 0.5, n, 3, "certify-fixed", 10)
        ref = Smooth(model, 10, 0.5).certify(torch.from_numpy(x), n0=100, n=n, alpha=0.001, seed=3,
                                             purpose="certify-fixed", batch_size=BATCH)
        assert np.array_equal(page.counts, ref.counts) and (page.label, page.radius) == (ref.label, ref.radius)


def test_a_damaged_store_is_one_sentence(own_store):
    own_store.write_bytes(b"this is not a sqlite file" * 100)
    for view in ("dataset", "votes"):
        at = _page(view=view, n=100)
        assert not at.exception
        assert len(at.error) == 1 and "Traceback" not in at.error[0].value and at.error[0].value.count("\n") == 0
    # the stored radii are missing, the rest of the view is there
    assert any("#0 *" in a.get("text", "") for f in _figures(at) for a in f["layout"].get("annotations", []))
    assert _vote_figure(at)["layout"]["xaxis"]["type"] == "category"


def test_folder_datasets_say_what_they_need():
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.run()
    _widget(at, "selectbox", "rc_dataset").set_value("cifar10").run()
    _clean(at, "cifar10")
    assert any("upload a checkpoint" in i.value for i in at.info)
    _widget(at, "selectbox", "rc_dataset").set_value("mnist").run()
    _clean(at, "mnist without its folder")
    assert any("needs its folder" in i.value for i in at.info)
    _widget(at, "selectbox", "rc_dataset").set_value("digits").run()
    if _widget(at, "selectbox", "rc_model").value == "upload":  # CIFAR-10 offered only an upload
        assert any("choose its file under Model" in i.value for i in at.info)
        _widget(at, "selectbox", "rc_model").set_value("digits-cnn").run()
    _clean(at, "back to digits")
    assert _vote_figure(at)["layout"]["xaxis"]["type"] == "category"


def test_bundled_mnist_is_inspected_like_digits(monkeypatch):
    import torch

    import ui.common
    from ui.certificates import compute

    if "mnist-5k" not in ui.common.DATASETS:  # the sidebar offers it once the lead adds it
        monkeypatch.setitem(ui.common.DATASETS, "mnist-5k", "MNIST (bundled)")
    built = []
    real = compute.builtin_model

    def small_model(dataset, method, train_sigma, arch):
        if dataset != "mnist-5k":
            return real(dataset, method, train_sigma, arch)
        # a fixed linear classifier of 28x28 images stands in for the default model (trained by its own tests)
        built.append((dataset, method, arch))
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)).eval(), {}

    monkeypatch.setattr(compute, "builtin_model", small_model)
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params["n"] = "100"
    at.run()
    _widget(at, "selectbox", "rc_dataset").set_value("mnist-5k").run()
    _clean(at, "mnist-5k")
    assert built[-1] == ("mnist-5k", "cohen", "mnist-5k-cnn")
    _widget(at, "number_input", "cert_image").set_value(999).run()  # 1,000 test images
    _clean(at, "mnist-5k image 999")
    gallery = next(f for f in _figures(at) if any("#999 *" in a.get("text", "") for a in f["layout"]["annotations"]))
    assert gallery["layout"]["meta"]["tile"] == [28, 28]
    votes = _vote_figure(at)
    assert votes["layout"]["xaxis"]["type"] == "category"
    assert sum(y for tr in votes["data"] for y in _values(tr["y"])) == 100
    assert any("bundled-MNIST models" in c.value for c in at.caption)  # what the base classifier is


def test_colour_images_go_through_every_view(monkeypatch):
    """A 32x32 colour dataset (CIFAR-10's shape) through votes, landscape and table, with a stand-in model
    and data (the real folder and checkpoint are exercised by the browser tests)."""
    import torch

    import ui.common
    from ui.certificates import compute, config

    rng = np.random.default_rng(0)
    X = rng.random((30, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 30)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 10)).eval()
    real_choice, real_test_set, real_model = config.base_choice, compute.test_set, compute.builtin_model
    colour = config.BaseChoice(("cohen",), "stand-in", "")
    monkeypatch.setattr(config, "base_choice", lambda d, m: colour if d == "cifar10" else real_choice(d, m))
    monkeypatch.setattr(compute, "test_set", lambda d, r: (X, y) if d == "cifar10" else real_test_set(d, r))
    monkeypatch.setattr(compute, "builtin_model",
                        lambda d, *a: (net, {}) if d == "cifar10" else real_model(d, *a))
    monkeypatch.setattr(compute, "knn_reference", lambda d, r: (X.reshape(30, -1), 20.0))
    monkeypatch.setattr(ui.common, "models_for", lambda d: ["digits-cnn", "upload"])
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params.update({"n": "100", "steps": "25", "image": "29"})
    at.run()
    _widget(at, "selectbox", "rc_dataset").set_value("cifar10").run()
    _clean(at, "cifar10 votes")
    assert _widget(at, "number_input", "cert_image").value == 29
    grids = [f for f in _figures(at) if f["layout"].get("meta", {}).get("tile") == [32, 32]]
    assert len(grids) == 2 and all(f["data"][0]["type"] == "image" for f in grids)  # gallery and noise, in colour
    _widget(at, "radio", "cert_view").set_value("landscape").run()
    _clean(at, "cifar10 landscape")
    _widget(at, "radio", "cert_view").set_value("table").run()
    _clean(at, "cifar10 table")
    statuses = {_status(v) for v in _table(at)["verdict"]}
    assert len(_table(at)) == 4 and statuses <= {"guarantee", "not a guarantee", "abstains"}


def test_progress_bar_appears_only_for_long_work_and_redraws_sparingly(monkeypatch):
    """Fast work draws no bar at all (no message to the browser); long work gets one, redrawn at most every
    ``every`` seconds, and removed at the end (the certificates, batch-size and tropical pages use it)."""
    from ui import common as compute

    drawn = []

    class Bar:
        def __init__(self, label):
            drawn.append(("new", label))

        def __call__(self, fraction, message=""):
            drawn.append(("draw", fraction))

        def done(self):
            drawn.append(("done",))

    clock = {"t": 0.0}
    monkeypatch.setattr(compute, "StreamlitProgress", Bar)
    monkeypatch.setattr(compute, "time", type("Clock", (), {"perf_counter": staticmethod(lambda: clock["t"])}))
    fast = compute.LazyProgress("fast", delay=0.3, every=0.1)
    for i in range(20):  # 20 updates within 0.2 s
        clock["t"] = i * 0.01
        fast(i / 20)
    fast.done()
    assert drawn == []
    clock["t"] = 0.0
    slow = compute.LazyProgress("slow", delay=0.3, every=0.1)
    for i in range(101):  # 101 updates over 1 s: drawn from 0.3 s on, about every 0.1 s
        clock["t"] = i * 0.01
        slow(i / 100)
    slow.done()
    assert drawn[0] == ("new", "slow") and drawn[-1] == ("done",)
    draws = [d[1] for d in drawn if d[0] == "draw"]
    assert draws[0] == pytest.approx(0.3) and 6 <= len(draws) <= 8 and draws == sorted(draws)
