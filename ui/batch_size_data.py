"""Batch-size page: choosing the problem, LIBSVM files included (upload, or a server folder by name).

A URL may name a problem and, for a server folder, a *file name within that folder* taken from
a list; it can never name a path on the server (issue 12).
"""
from __future__ import annotations

import hashlib

import streamlit as st

from robustcore.batchsize import (
    LIBSVM_DIR_ENV,
    MAX_LIBSVM_BYTES,
    MNIST_TASKS,
    SKLEARN_SETS,
    libsvm_folder,
    libsvm_problem,
    libsvm_problem_from_bytes,
    list_libsvm_files,
    logistic_problem,
    mnist_problem,
    resolve_libsvm_name,
    ridge_problem,
    sklearn_problem,
)
from ui.common import url_state

LIBSVM = "LIBSVM file"
PROBLEMS = (["synthetic ridge", "synthetic logistic"] + [f"scikit-learn: {k}" for k in SKLEARN_SETS]
            + [f"mnist-5k: {k}" for k in MNIST_TASKS] + [LIBSVM])
SOURCES = ["upload", "server folder"]


def init_state(key: str, name: str, default, cast=None, choices=None, **domain) -> None:
    """Seed a widget's session value from the URL once (the widget then owns it, so buttons can
    change it without a 'default value and session state' conflict)."""
    if key not in st.session_state:
        st.session_state[key] = url_state(name, default, cast, choices, **domain)
    elif choices is not None and st.session_state[key] not in choices:
        st.session_state[key] = default


@st.cache_resource(max_entries=16, show_spinner="Building the problem and its exact optimum...")
def build_problem(prob: str, n: int, d: int, lam: float, rows: str, seed: int, source: tuple,
                  _data: bytes | None = None):
    """The finite-sum problem for the page's choice (cached; ``source`` keys LIBSVM files)."""
    if prob == "synthetic ridge":
        return ridge_problem(n=n, d=d, lam=lam, noise=0.3, rows=rows, seed=seed)
    if prob == "synthetic logistic":
        return logistic_problem(n=n, d=d, lam=lam, rows=rows, seed=seed)
    if prob.startswith("mnist-5k: "):
        return mnist_problem(prob.split(": ", 1)[1], lam=lam)
    if prob == LIBSVM:
        kind, ident = source[0], source[1]
        if kind == "upload":
            return libsvm_problem_from_bytes(_data, name=source[2], lam=lam)
        return libsvm_problem(resolve_libsvm_name(ident), "logistic", lam=lam)
    return sklearn_problem(prob.split(": ", 1)[1], lam=lam)


def libsvm_source(container) -> tuple[tuple | None, bytes | None]:
    """Draw the LIBSVM controls; return ``(source key, bytes)`` or ``(None, None)`` when no file
    is chosen yet. Only a file *name* from the configured folder's list ever enters the URL."""
    folder = libsvm_folder()
    files = list_libsvm_files() if folder is not None else []
    sources = SOURCES if files else SOURCES[:1]
    init_state("bs_src", "src", "upload", str, sources)
    src = container.radio("LIBSVM source", sources, horizontal=True, key="bs_src",
                          help=f"Upload a file (at most {MAX_LIBSVM_BYTES // 2**20} MB), or pick one from "
                               f"the folder the server's administrator named in {LIBSVM_DIR_ENV}.")
    if src == "server folder":
        init_state("bs_file", "file", files[0], str, files)
        name = container.selectbox("File in the server's LIBSVM folder", files, key="bs_file")
        return ("folder", name), None
    if folder is None:
        container.caption(f"No server folder is configured ({LIBSVM_DIR_ENV} is unset), so files come "
                          "by upload only.")
    up = container.file_uploader(f"LIBSVM file (at most {MAX_LIBSVM_BYTES // 2**20} MB; labels with two "
                                 "values, for logistic regression)", key="bs_upload")
    if up is None:
        return None, None
    if up.size > MAX_LIBSVM_BYTES:
        raise ValueError(f"The file has {up.size:,} bytes, more than the limit of {MAX_LIBSVM_BYTES:,}.")
    data = up.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    label = "".join(ch for ch in str(up.name)[:60] if ch.isprintable()) or "uploaded file"
    return ("upload", digest, label), data
