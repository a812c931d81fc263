"""Fuzzing the checkpoint readers: any bytes, any config, any payload -> a model or CheckpointError."""
import io

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from robustcore.nets import CheckpointError, ToyReluNet, load_model_file, read_checkpoint, save_checkpoint
from robustcore.nets.checkpoint import FORMAT

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _outcome(blob: bytes, **kw):
    try:
        model, info = load_model_file(blob, **kw)
    except CheckpointError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and len(msg) < 600  # one sentence, not a traceback
        return None
    assert isinstance(model, nn.Module) and isinstance(info, dict) and info["format"]
    return model


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(blob):
    _outcome(blob)
    try:
        read_checkpoint(blob)
    except CheckpointError:
        pass


_VALID = _bytes({"format": FORMAT, "format_version": 1,
                 "config": {"config": {"arch": "toy-relu", "arch_kwargs": {"d": 2, "hidden": 3, "num_classes": 2}}},
                 "state_dict": ToyReluNet(2, 3, 2).state_dict()})


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_corrupted_real_checkpoint(edits):
    blob = bytearray(_VALID)
    for pos, val in edits:
        blob[pos] = val
    _outcome(bytes(blob))


def test_every_byte_of_the_zip_directory_damaged_reads_as_a_clear_error_or_a_model():
    """Deterministic companion of the fuzz above, over the part of the archive a reader parses first (the zip's
    central directory and end record): once it found ``zipfile``'s NotImplementedError ("zip file version 6.4")
    escaping the TorchScript probe as a traceback."""
    start = _VALID.find(b"PK\x01\x02")
    assert 0 < start < len(_VALID)
    for pos in range(start, len(_VALID)):
        for val in (0, 64, 255):
            blob = bytearray(_VALID)
            blob[pos] = val
            _outcome(bytes(blob))


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
_KWARG_NAMES = ["hidden", "num_classes", "in_features", "first_channels", "in_channels", "input_size", "d", "mean", "std"]


@FUZZ
@given(
    arch=st.sampled_from(["mlp", "digits-mlp", "cnn", "digits-cnn", "toy-relu", "lenet", "cifar_resnet20"])
    | _values,
    kwargs=st.dictionaries(st.sampled_from(_KWARG_NAMES) | st.text(max_size=5), _values | st.integers(-3, 40), max_size=4)
    | _values,
)
def test_arbitrary_configs(arch, kwargs):
    blob = _bytes({"format": FORMAT, "format_version": 1, "config": {"config": {"arch": arch, "arch_kwargs": kwargs}},
                   "state_dict": {"w": torch.zeros(2)}})
    assert _outcome(blob) is None  # no architecture has a single weight named "w"


_tensors = st.sampled_from([torch.float32, torch.float64, torch.int64, torch.uint8, torch.bool, torch.float16]).flatmap(
    lambda dt: st.lists(st.integers(0, 3), min_size=0, max_size=3).map(lambda shape: torch.zeros(shape, dtype=dt))
)


@FUZZ
@given(st.dictionaries(st.sampled_from(["state_dict", "arch", "model", "format", "config", "0.weight", "2.weight",
                                        "0.bias", "2.bias", "fc.weight", "conv1.weight"]),
                       _tensors | _values | st.dictionaries(st.text(max_size=12), _tensors, max_size=4), max_size=5))
def test_arbitrary_payloads(payload):
    _outcome(_bytes(payload))


@pytest.mark.parametrize("kwargs", [{"hidden": [200000, 200000]}, {"hidden": [20000, 20000]},
                                    {"first_channels": 10**9}, {"hidden": "64"}, {"hidden": [64, None]}])
def test_issue_configs_refused_before_any_layer_is_built(kwargs, monkeypatch, tmp_path):
    arch = "digits-cnn" if "first_channels" in kwargs else "digits-mlp"
    p = save_checkpoint(tmp_path / "c.pt", ToyReluNet(), {"config": {"arch": arch, "arch_kwargs": kwargs}})
    assert p.stat().st_size < 4000

    def boom(*a, **k):
        raise AssertionError("a layer was built for a config that should have been refused")

    monkeypatch.setattr(nn.Linear, "__init__", boom)
    monkeypatch.setattr(nn.Conv2d, "__init__", boom)
    with pytest.raises(CheckpointError, match="parameters|between|list|integer"):
        load_model_file(p)


def test_config_of_the_wrong_type(tmp_path):
    for cfg in ([1, 2], "mlp", 3):
        blob = _bytes({"format": FORMAT, "format_version": 1, "config": cfg, "state_dict": ToyReluNet().state_dict()})
        with pytest.raises(CheckpointError):
            load_model_file(blob)
    blob = _bytes({"format": FORMAT, "format_version": "1", "config": {}, "state_dict": {}})
    with pytest.raises(CheckpointError, match="format_version"):
        load_model_file(blob)


def test_legacy_file_claiming_a_huge_storage_is_refused():
    # The pre-1.6 format states each storage's size in the pickle; a 300-byte file claiming 2^31 floats
    # (8 GB) must be refused, not read.
    import struct

    buf = io.BytesIO()
    torch.save({"w": torch.zeros(3)}, buf, _use_new_zipfile_serialization=False)
    raw = buf.getvalue()
    j = raw.find(b"K\x03", raw.find(b"cpu"))
    bad = raw[:j] + b"J" + struct.pack("<i", 2**31 - 1) + raw[j + 2:]
    with pytest.raises(CheckpointError, match="not a readable"):
        load_model_file(bad)
