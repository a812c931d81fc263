"""Every subcommand refuses bad arguments with one sentence and exit status 2, before any heavy work.

The bad values are generated from the parsers themselves, so a new option is fuzzed as soon as it exists:
every int option gets a negative number and a word, every float option NaN, +-inf and -1e30, every
choice option an unknown choice, and every path-like positional a missing file, a folder and /dev/zero.
Each invocation runs in-process under an alarm: a command that starts working instead of refusing fails
the test rather than hanging it.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import signal
import subprocess
import sys
import time

import pytest

from robustcore.cli import COMMANDS, build_parser, main

FOUNDATION = ("info", "train", "data", "reproduce")
# options whose values are not user data, or which have no invalid numeric value to try
SKIP_DESTS = {"help", "func"}
REFUSE_WITHIN_S = 20


class _TooSlow(BaseException):
    """Raised by the alarm: the command did not refuse quickly (it must not start the job)."""


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _bad_invocations() -> list[tuple[str, list[str]]]:
    cases: list[tuple[str, list[str]]] = []
    for name, p in _subparsers().items():
        if name == "info":
            continue
        required: list[str] = []
        for a in p._actions:
            if not a.option_strings and a.dest not in SKIP_DESTS and a.nargs not in ("*", "?"):
                # a valid value for each required positional, so the option under test is what gets refused
                required.append(str(a.choices[0]) if a.choices else "missing-file.tsv")
        for a in p._actions:
            if not a.option_strings or a.dest in SKIP_DESTS or isinstance(a, (argparse._StoreTrueAction,
                                                                             argparse._StoreFalseAction,
                                                                             argparse._HelpAction)):
                continue
            flag = a.option_strings[-1]
            values: list[str] = []
            if a.choices:
                values.append("no-such-choice")
            elif a.type is int:
                values += ["-5", "abc"]
            elif a.type is float:
                values += ["nan", "inf", "-1e30"]
            elif a.dest in ("device",):
                values += ["nonsense", "cuda:99"]
            for v in values:
                cases.append((name, [name, *required, flag, v]))
        if name == "import-log":
            for path in ("/nonexistent/log.tsv", "/", "/dev/zero"):
                cases.append((name, [name, path, "--format", "cohen", "--sigma", "0.25"]))
    return cases


CASES = _bad_invocations()


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ROBUSTCORE_STORE", str(tmp_path / "store.sqlite"))


def _run(argv: list[str]) -> tuple[int, str, str, float]:
    def on_alarm(signum, frame):
        raise _TooSlow()

    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(REFUSE_WITHIN_S)
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's own refusal
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return int(code), out.getvalue(), err.getvalue(), time.perf_counter() - t0


def test_the_generated_cases_cover_every_subcommand():
    names = {n for n, _ in CASES}
    assert set(COMMANDS) - {"report"} <= names | {"import-log"}
    assert len(CASES) >= 30


@pytest.mark.parametrize("argv", [c[1] for c in CASES], ids=[" ".join(c[1]) for c in CASES])
def test_bad_argument_is_one_sentence_and_status_2(argv):
    try:
        code, out, err, _ = _run(argv)
    except _TooSlow:
        pytest.fail(f"`robustcore {' '.join(argv)}` started working instead of refusing its arguments")
    assert code == 2, (code, out[-500:], err[-500:])
    assert "Traceback" not in out + err
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("error:") or "error:" in ln]
    assert lines, err


def test_help_imports_no_heavy_library():
    code = ("import sys, contextlib, io\nfrom robustcore.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n    main(['--help'])\n"
            "heavy = [m for m in ('torch', 'scipy', 'sympy', 'pandas') if m in sys.modules]\nprint(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("argv", [
    ["report", "latest", "--csv", "/nonexistent/dir/x.csv"],
    ["report", "99999"],
    ["certify", "--store", "/proc/nope/x.sqlite", "--max-images", "1"],
    ["reproduce", "tropical", "--seeds", "1", "1", "2"],
    ["reproduce", "tropical", "--csv", "/nonexistent/dir/x.csv"],
])
def test_expected_failures_are_one_sentence(argv):
    code, out, err, _ = _run(argv)
    assert code == 2, (out[-300:], err[-300:])
    assert "Traceback" not in out + err and "error:" in err


def test_corrupt_store_is_one_sentence(tmp_path, monkeypatch):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)
    monkeypatch.setenv("ROBUSTCORE_STORE", str(bad))
    for argv in (["report", "latest"], ["certify", "--max-images", "1", "--n", "10", "--n0", "10"]):
        code, out, err, _ = _run(argv)
        assert code == 2 and "Traceback" not in out + err and "error:" in err, (argv, err)
