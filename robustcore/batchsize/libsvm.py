"""LIBSVM files for the batch-size line, read safely: by upload, or by name from a named folder.

A page state shared by URL must never name a file on the server. So a LIBSVM file reaches the
dashboard in one of two ways only:

- **upload**: the bytes come from the person's browser (``libsvm_problem_from_bytes``);
- **server folder**: the person running the server names a folder in the environment variable
  ``ROBUSTCORE_LIBSVM_DIR``; a file is chosen by its *name within that folder*
  (``list_libsvm_files`` / ``resolve_libsvm_name``). Names with a path separator, ``..``, an
  absolute path, a NUL byte, a symlink that leads outside the folder, or anything that is not a
  regular file (devices such as ``/dev/zero``, FIFOs, sockets, folders) are refused.

Reading is bounded: at most ``MAX_LIBSVM_BYTES`` bytes are read, the file is opened
non-blocking (a FIFO swapped in after the check cannot make the read wait), and the opened
descriptor is checked again to be a regular file before a byte is read.
"""
from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import numpy as np

from .problems import MAX_D, MAX_ENTRIES, FiniteSumProblem

__all__ = [
    "LIBSVM_DIR_ENV",
    "MAX_LIBSVM_BYTES",
    "libsvm_folder",
    "list_libsvm_files",
    "resolve_libsvm_name",
    "read_libsvm_bytes",
    "libsvm_problem_from_bytes",
    "libsvm_problem",
]

LIBSVM_DIR_ENV = "ROBUSTCORE_LIBSVM_DIR"
#: Largest LIBSVM file read (bytes): 20 MB, a few hundred thousand sparse rows.
MAX_LIBSVM_BYTES = 20 * 1024 * 1024
_MAX_NAME = 255  # longest file name on common file systems
_MAX_LISTED = 500  # a folder listing longer than this is cut (a selectbox would be unusable)


def libsvm_folder() -> Path | None:
    """The folder named by ``$ROBUSTCORE_LIBSVM_DIR`` (resolved), or None when unset or not a folder."""
    raw = os.environ.get(LIBSVM_DIR_ENV, "").strip()
    if not raw:
        return None
    p = Path(raw).expanduser()
    try:
        p = p.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return p if p.is_dir() else None


def _folder(folder: str | Path | None) -> Path:
    if folder is None:
        f = libsvm_folder()
        if f is None:
            raise ValueError(f"No LIBSVM folder is configured: the server's administrator can set "
                             f"{LIBSVM_DIR_ENV} to a folder of LIBSVM files.")
        return f
    try:
        f = Path(folder).expanduser().resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise ValueError(f"The LIBSVM folder {folder} does not exist.") from exc
    if not f.is_dir():
        raise ValueError(f"The LIBSVM folder {folder} is not a folder.")
    return f


def resolve_libsvm_name(name: str, folder: str | Path | None = None) -> Path:
    """The regular file called ``name`` inside ``folder`` (default ``$ROBUSTCORE_LIBSVM_DIR``).

    Parameters
    ----------
    name : a bare file name (no folder part), at most 255 characters.
    folder : the allowed folder; None reads the environment variable.

    Returns
    -------
    The resolved path, guaranteed (at the time of the call) to be a regular file inside the
    folder. Raises ``ValueError`` with one sentence for anything else: absolute paths, ``..``,
    path separators, symlinks leading outside, devices, FIFOs, sockets, folders, missing files.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a file name (str), got {type(name).__name__}.")
    base = _folder(folder)
    if not name or len(name) > _MAX_NAME:
        raise ValueError("name must be a file name of 1 to 255 characters.")
    if ("\x00" in name or "/" in name or "\\" in name or name in (".", "..")
            or os.path.isabs(name) or Path(name).name != name):
        raise ValueError("name must be a bare file name within the LIBSVM folder "
                         "(no folder part, no '..', not an absolute path).")
    try:
        real = (base / name).resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise ValueError(f"There is no file called {name!r} in the LIBSVM folder.") from exc
    if real.parent != base and base not in real.parents:
        raise ValueError(f"{name!r} leads outside the LIBSVM folder (a symlink); it is refused.")
    try:
        mode = os.stat(real).st_mode
    except OSError as exc:
        raise ValueError(f"{name!r} cannot be read.") from exc
    if not stat.S_ISREG(mode):
        raise ValueError(f"{name!r} is not a regular file (a device, FIFO, socket or folder); "
                         "it is refused.")
    return real


def list_libsvm_files(folder: str | Path | None = None) -> list[str]:
    """Names of the readable regular files in the LIBSVM folder (sorted, at most 500).

    Hidden files, sub-folders, devices, FIFOs and symlinks leading outside the folder are left
    out. Returns ``[]`` when no folder is configured (``folder`` None and the variable unset).
    """
    if folder is None and libsvm_folder() is None:
        return []
    base = _folder(folder)
    out = []
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return []
    for nm in names:
        if nm.startswith("."):
            continue
        try:
            resolve_libsvm_name(nm, base)
        except ValueError:
            continue
        out.append(nm)
        if len(out) >= _MAX_LISTED:
            break
    return out


def read_libsvm_bytes(path: str | Path, max_bytes: int = MAX_LIBSVM_BYTES) -> bytes:
    """Read at most ``max_bytes`` bytes of a regular file; never blocks on a FIFO or a device.

    Raises ``ValueError`` when the path is not a regular file or holds more than ``max_bytes``.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) or max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}.")
    p = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO with no writer would otherwise wait for ever.
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ValueError(f"No readable LIBSVM file at {p.name!r}.") from exc
    try:
        st_ = os.fstat(fd)
        if not stat.S_ISREG(st_.st_mode):
            raise ValueError(f"{p.name!r} is not a regular file; it is refused.")
        if st_.st_size > max_bytes:
            raise ValueError(f"{p.name!r} has {st_.st_size:,} bytes, more than the limit of "
                             f"{max_bytes:,}.")
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            try:
                data = fh.read(max_bytes + 1)
            except OSError as exc:  # e.g. /proc files that stat as regular but refuse reads
                raise ValueError(f"{p.name!r} could not be read ({exc.strerror}).") from exc
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:
        raise ValueError(f"{p.name!r} holds more than the limit of {max_bytes:,} bytes.")
    return data


def libsvm_problem_from_bytes(data: bytes, name: str = "LIBSVM file", kind: str = "logistic",
                              lam: float | None = None, normalise: bool = True,
                              max_bytes: int = MAX_LIBSVM_BYTES) -> FiniteSumProblem:
    """A finite-sum problem from the bytes of a LIBSVM-format file (an upload, or a file read).

    Parameters
    ----------
    data : the file's bytes (at most ``max_bytes``).
    name : label for plots and messages.
    kind : "logistic" (labels must take exactly two values: the larger becomes +1) or "ridge".
    lam : l2 regularisation; default ``1/n``.
    normalise : scale rows to unit norm (columns are not centred: that would destroy sparsity).

    Caps: ``n * d <= MAX_ENTRIES`` dense entries and ``d <= MAX_D`` features, checked on the
    sparse matrix before it is densified. Raises ``ValueError`` with one sentence for a file that
    does not parse or does not fit.
    """
    from sklearn.datasets import load_svmlight_file

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}.")
    if kind not in ("logistic", "ridge"):
        raise ValueError(f"kind must be 'logistic' or 'ridge', got {kind!r}.")
    data = bytes(data)
    if len(data) > max_bytes:
        raise ValueError(f"The file has {len(data):,} bytes, more than the limit of {max_bytes:,}.")
    if not data.strip():
        raise ValueError(f"{name} is empty.")
    try:
        X, y = load_svmlight_file(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - the loader raises several types for malformed files
        raise ValueError(f"{name} is not a LIBSVM file (expected lines 'label index:value ...').") \
            from exc
    n, d = X.shape
    if n < 2 or d < 1:
        raise ValueError(f"{name} needs at least 2 rows and 1 feature, got {n} x {d}.")
    if d > MAX_D or n * d > MAX_ENTRIES:
        raise ValueError(f"{name} is too large for the dashboard ({n:,} x {d:,}; at most "
                         f"{MAX_D:,} features and {MAX_ENTRIES:,} entries).")
    A = X.toarray().astype(np.float64)
    y = np.asarray(y, dtype=np.float64)
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(y))):
        raise ValueError(f"{name} contains NaN or infinite values.")
    if normalise:
        nrm = np.linalg.norm(A, axis=1, keepdims=True)
        A = A / np.where(nrm > 0, nrm, 1.0)
    if kind == "logistic":
        vals = np.unique(y)
        if vals.size != 2:
            raise ValueError(f"Logistic regression needs two label values; {name} has {vals.size}.")
        y = np.where(y == vals[1], 1.0, -1.0)
    lam = 1.0 / n if lam is None else lam
    return FiniteSumProblem(A, y, lam, kind, name)


def libsvm_problem(path: str | Path, kind: str = "logistic", lam: float | None = None,
                   normalise: bool = True, max_bytes: int = MAX_LIBSVM_BYTES) -> FiniteSumProblem:
    """A LIBSVM-format file on disk as a finite-sum problem (library use; pages pass names).

    The file must be a regular file of at most ``max_bytes`` bytes (devices, FIFOs and folders
    are refused, and the read is bounded). See :func:`libsvm_problem_from_bytes`.
    """
    p = Path(path)
    data = read_libsvm_bytes(p, max_bytes)
    return libsvm_problem_from_bytes(data, p.stem, kind, lam, normalise, max_bytes)
