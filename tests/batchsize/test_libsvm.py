"""LIBSVM files: only by upload or by name inside the configured folder; bounded, non-blocking reads."""
from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file

from robustcore.batchsize import (
    LIBSVM_DIR_ENV,
    libsvm_folder,
    libsvm_problem,
    libsvm_problem_from_bytes,
    list_libsvm_files,
    read_libsvm_bytes,
    resolve_libsvm_name,
)


def _toy(path, n=30, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(rng.random(n) < 0.5, 2, 7)
    dump_svmlight_file(X, y, str(path))
    return X, y


@pytest.fixture
def folder(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    X, y = _toy(lib / "good.svm")
    outside = tmp_path / "secret.svm"
    _toy(outside, seed=1)
    os.symlink(outside, lib / "escape.svm")  # leads outside: refused
    os.symlink(lib / "good.svm", lib / "alias.svm")  # stays inside: allowed
    os.symlink("/etc/passwd", lib / "passwd")
    os.mkfifo(lib / "pipe.svm")
    (lib / "sub").mkdir()
    (lib / ".hidden.svm").write_text("1 1:1\n")
    return lib, X, y


def _within(seconds, fn, *args):
    """Run fn in a thread; fail if it has not returned (it must never block)."""
    out = {}

    def target():
        try:
            out["value"] = fn(*args)
        except Exception as exc:  # noqa: BLE001
            out["error"] = exc

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(seconds)
    assert not th.is_alive(), f"{fn.__name__}{args} blocked for more than {seconds} s"
    return out


def test_listing_keeps_only_regular_files_inside(folder):
    lib, X, y = folder
    assert list_libsvm_files(lib) == ["alias.svm", "good.svm"]
    p = libsvm_problem(resolve_libsvm_name("good.svm", lib), lam=0.1)
    assert p.n == 30 and p.d == 4 and set(np.unique(p.b)) == {-1.0, 1.0}
    assert np.allclose(p.A, X / np.linalg.norm(X, axis=1, keepdims=True), atol=1e-6)
    # labels: the larger value (7) becomes +1
    assert np.array_equal(p.b, np.where(y == 7, 1.0, -1.0))


@pytest.mark.parametrize("name", ["../secret.svm", "/etc/passwd", "sub/x.svm", "..", ".", "",
                                  "a\x00b", "escape.svm", "passwd", "pipe.svm", "sub", "missing.svm",
                                  "x" * 300, "..\\secret.svm"])
def test_names_outside_or_not_regular_are_refused(folder, name):
    lib, _, _ = folder
    out = _within(5, resolve_libsvm_name, name, lib)
    assert isinstance(out.get("error"), ValueError), out
    assert "\n" not in str(out["error"])


def test_non_string_name_is_a_type_error(folder):
    with pytest.raises(TypeError, match="name"):
        resolve_libsvm_name(3, folder[0])


def test_environment_variable_names_the_folder(folder, monkeypatch):
    lib, _, _ = folder
    monkeypatch.delenv(LIBSVM_DIR_ENV, raising=False)
    assert libsvm_folder() is None and list_libsvm_files() == []
    with pytest.raises(ValueError, match=LIBSVM_DIR_ENV):
        resolve_libsvm_name("good.svm")
    monkeypatch.setenv(LIBSVM_DIR_ENV, str(lib))
    assert libsvm_folder() == lib.resolve()
    assert list_libsvm_files() == ["alias.svm", "good.svm"]
    assert resolve_libsvm_name("alias.svm") == (lib / "good.svm").resolve()


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/dev/urandom", "/etc", "/proc/self/mem"])
def test_devices_and_folders_never_block(path):
    if not os.path.exists(path):
        pytest.skip(f"{path} missing here")
    out = _within(5, read_libsvm_bytes, path)
    assert isinstance(out.get("error"), ValueError), out
    out = _within(5, libsvm_problem, path)
    assert isinstance(out.get("error"), ValueError), out


def test_fifo_never_blocks(folder):
    lib, _, _ = folder
    t = time.perf_counter()
    with pytest.raises(ValueError, match="regular"):
        read_libsvm_bytes(lib / "pipe.svm")
    assert time.perf_counter() - t < 2


def test_size_cap(tmp_path):
    p = tmp_path / "big.svm"
    p.write_text("1 1:1\n" * 1000)
    assert len(read_libsvm_bytes(p, max_bytes=6000)) == 6000
    with pytest.raises(ValueError, match="limit"):
        read_libsvm_bytes(p, max_bytes=5999)
    with pytest.raises(ValueError, match="limit"):
        libsvm_problem_from_bytes(b"1 1:1\n" * 100, max_bytes=50)
    with pytest.raises(ValueError, match="max_bytes"):
        read_libsvm_bytes(p, max_bytes=0)


@pytest.mark.parametrize("data,word", [
    (b"this is not libsvm\n", "not a LIBSVM file"),
    (b"", "empty"),
    (b"1 1:1\n", "at least 2 rows"),
    (b"1 1:1\n2 1:2\n3 1:3\n", "two label values"),
    (b"1 1:1\n-1 1999999:1\n", "too large"),
    (b"1 1:nan\n-1 1:1\n", "NaN"),
])
def test_bad_uploads_get_one_sentence(data, word):
    with pytest.raises(ValueError, match=word) as exc:
        libsvm_problem_from_bytes(data, name="upload.svm")
    assert "\n" not in str(exc.value)


def test_upload_roundtrip_matches_file(tmp_path):
    X, y = _toy(tmp_path / "t.svm", n=40, d=3, seed=5)
    a = libsvm_problem(tmp_path / "t.svm", lam=0.05)
    b = libsvm_problem_from_bytes((tmp_path / "t.svm").read_bytes(), lam=0.05)
    assert np.array_equal(a.A, b.A) and np.array_equal(a.b, b.b)
    assert a.x_star == pytest.approx(b.x_star)
