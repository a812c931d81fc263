"""The certification fast path: exact padding, the auto rule, eager fallback, compiled vs eager votes."""
from __future__ import annotations

import warnings

import pytest
import torch

from robustcore.nets import DigitsCNN, DigitsMLP
from robustcore.smoothing import Smooth, fastpath
from robustcore.smoothing.fastpath import COMPILE_MIN_SAMPLES, FixedBatchModel, fast_model, wants_channels_last


@pytest.fixture(scope="module")
def cnn():
    torch.manual_seed(0)
    return DigitsCNN().eval()


def test_fixed_batch_padding_gives_each_row_its_own_output(cnn):
    """A stand-in 'compiled' function that only accepts batch 8: every batch size maps row by row like eager."""
    shapes = []

    def only_eight(x):
        assert x.shape[0] == 8
        shapes.append(x.shape[0])
        return cnn(x)

    wrapped = FixedBatchModel(cnn, only_eight, batch_size=8, channels_last=False)
    gen = torch.Generator().manual_seed(1)
    with torch.inference_mode():
        for b in (1, 7, 8, 9, 19):
            x = torch.rand(b, 1, 8, 8, generator=gen)
            want = torch.cat([cnn(x[i : i + 1]) for i in range(b)])
            got = wrapped(x)
            assert got.shape == (b, 10)
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    assert shapes and set(shapes) == {8}


def test_auto_rule_and_channels_last_leave_the_callers_model(cnn):
    x = torch.rand(1, 8, 8)
    small, path = fast_model(cnn, x, batch_size=100, total_samples=COMPILE_MIN_SAMPLES - 1)
    assert not path.compiled and path.channels_last and path.label == "channels_last"
    assert "too few" in path.reason
    assert cnn.first.weight.is_contiguous()  # the caller's copy is untouched
    batch = torch.rand(50, 1, 8, 8)
    with torch.inference_mode():
        torch.testing.assert_close(small(batch), cnn(batch), rtol=1e-4, atol=1e-5)
        assert torch.equal(small(batch).argmax(1), cnn(batch).argmax(1))
    _, path = fast_model(DigitsMLP(), torch.rand(1, 8, 8), 100, 10, compile=False)
    assert not path.channels_last and path.label == "eager"  # no convolution: nothing to gain
    with warnings.catch_warnings():  # TorchScript is deprecated in torch, but users still bring such files
        warnings.simplefilter("ignore", FutureWarning)
        scripted = torch.jit.trace(DigitsCNN().eval(), torch.rand(2, 1, 8, 8))
    assert not wants_channels_last(scripted)  # TorchScript: run as given


def test_compile_failure_falls_back_to_eager_with_one_notice(cnn, monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("no C compiler found\nsecond line")

    monkeypatch.setattr(torch, "compile", broken)
    notes = []
    model, path = fast_model(cnn, torch.rand(1, 8, 8), 100, COMPILE_MIN_SAMPLES, notice=notes.append)
    assert not path.compiled and "failed" in path.reason
    assert len(notes) == 1 and "no C compiler found" in notes[0] and "\n" not in notes[0] and "eager" in notes[0]
    cert = Smooth(model, 10, 0.25).certify(torch.rand(1, 8, 8), 10, 100, 0.001, 50, seed=0)
    assert cert.n == 100


@pytest.mark.parametrize("bad", [dict(batch_size=0), dict(total_samples=-1), dict(compile="yes")])
def test_bad_arguments(cnn, bad):
    kw = dict(batch_size=10, total_samples=10, compile="auto") | bad
    with pytest.raises(ValueError):
        fast_model(cnn, torch.rand(1, 8, 8), **kw)


@pytest.mark.slow
def test_compiled_and_eager_agree_on_the_digits_default_model():
    """torch.compile is a different float function: check its predicted classes on a noisy batch."""
    from robustcore.data import load_digits
    from robustcore.nets import default_model

    model, _ = default_model("digits-cnn")
    X, _ = load_digits("test")
    notes = []
    fast, path = fast_model(model, X[0], batch_size=256, total_samples=10**9, compile=True, notice=notes.append)
    if not path.compiled:
        pytest.skip(f"torch.compile is not usable on this machine: {notes}")
    gen = torch.Generator().manual_seed(0)
    batch = (X[:256] + 0.25 * torch.randn(X[:256].shape, generator=gen))
    with torch.inference_mode():
        eager = model(batch)
        compiled = fast(batch)
    assert torch.equal(compiled.argmax(1), eager.argmax(1))
    torch.testing.assert_close(compiled, eager, rtol=1e-3, atol=1e-4)
    assert path.label == "channels_last+compiled" and path.compile_seconds > 0
    assert fastpath.FastPath(True, True, "").label == path.label
