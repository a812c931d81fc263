import os
import pickle
import subprocess
import sys
import textwrap

import pytest
import torch

from robustcore.nets import (
    CheckpointError,
    ToyReluNet,
    cached_model,
    load_checkpoint,
    load_model_file,
    save_checkpoint,
)


def _build(config):
    return ToyReluNet(**config["arch_kwargs"])


CONFIG = {"arch_kwargs": {"d": 2, "hidden": 3, "num_classes": 2}}


def test_round_trip(tmp_path):
    m = ToyReluNet(2, 3, 2)
    path = save_checkpoint(tmp_path / "m.pt", m, CONFIG)
    m2, cfg = load_checkpoint(path, _build)
    assert cfg == CONFIG
    x = torch.rand(7, 2)
    torch.testing.assert_close(m(x), m2(x))
    m3, _ = load_checkpoint(path.read_bytes(), _build)  # an upload's bytes
    torch.testing.assert_close(m(x), m3(x))


def test_corrupt_file(tmp_path):
    p = tmp_path / "bad.pt"
    p.write_bytes(b"this is not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable weights-only"):
        load_checkpoint(p, _build)


def test_foreign_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    p = tmp_path / "evil.pt"
    torch.save({"format": "robustcore-checkpoint", "payload": Evil()}, p)
    with pytest.raises(CheckpointError):
        load_checkpoint(p, _build)
    assert not marker.exists()


def test_plain_pickle_of_other_objects(tmp_path):
    p = tmp_path / "list.pt"
    torch.save([1, 2, 3], p)
    with pytest.raises(CheckpointError, match="not a robustcore checkpoint"):
        load_checkpoint(p, _build)


def test_nan_weights(tmp_path):
    m = ToyReluNet(2, 3, 2)
    with torch.no_grad():
        m[0].weight[0, 0] = float("nan")
    p = save_checkpoint(tmp_path / "nan.pt", m, CONFIG)
    with pytest.raises(CheckpointError, match="NaN"):
        load_checkpoint(p, _build)


def test_architecture_mismatch(tmp_path):
    p = save_checkpoint(tmp_path / "m.pt", ToyReluNet(2, 5, 2), CONFIG)
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(p, _build)


def test_newer_format(tmp_path):
    p = tmp_path / "new.pt"
    torch.save({"format": "robustcore-checkpoint", "format_version": 99, "config": {}, "state_dict": {}}, p)
    with pytest.raises(CheckpointError, match="newer"):
        load_checkpoint(p, _build)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint"):
        load_checkpoint(tmp_path / "none.pt", _build)


def test_bare_state_dict_is_accepted(tmp_path):
    m = ToyReluNet(2, 3, 2)
    torch.save(m.state_dict(), tmp_path / "sd.pt")
    m2, cfg = load_checkpoint(tmp_path / "sd.pt", lambda c: ToyReluNet(2, 3, 2))
    assert cfg == {}
    torch.testing.assert_close(m[0].weight, m2[0].weight)


def _train_counting(model, config, progress):
    with open(config["log"], "a") as fh:
        fh.write("trained\n")
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.5)
    return {"acc": 1.0}


def test_cached_model_trains_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_CACHE", str(tmp_path))
    cfg = {**CONFIG, "log": str(tmp_path / "log")}
    m1, i1 = cached_model("toy", cfg, _build, _train_counting)
    m2, i2 = cached_model("toy", cfg, _build, _train_counting)
    assert (i1["cached"], i2["cached"]) == (False, True)
    assert i2["metrics"] == {"acc": 1.0}
    assert (tmp_path / "log").read_text().count("trained") == 1
    torch.testing.assert_close(m2[0].weight, torch.full((3, 2), 0.5))


def test_corrupt_cache_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_CACHE", str(tmp_path))
    cfg = {**CONFIG, "log": str(tmp_path / "log")}
    _, info = cached_model("toy", cfg, _build, _train_counting)
    with open(info["path"], "wb") as fh:
        fh.write(b"garbage")
    _, info2 = cached_model("toy", cfg, _build, _train_counting)
    assert info2["cached"] is False
    assert (tmp_path / "log").read_text().count("trained") == 2


def test_two_processes_train_once(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, time, torch
        sys.path.insert(0, {os.getcwd()!r})
        from robustcore.nets import cached_model, ToyReluNet
        def build(c): return ToyReluNet(2, 3, 2)
        def train(m, c, p):
            time.sleep(1.0)
            open(c["log"], "a").write("trained\\n")
            return {{}}
        cached_model("race", {{"log": {str(tmp_path / 'log')!r}}}, build, train)
        """
    )
    env = {**os.environ, "ROBUSTCORE_CACHE": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert (tmp_path / "log").read_text().count("trained") == 1


def test_load_model_file_rebuilds_cached_models(tmp_path, monkeypatch):
    from robustcore.nets import default_model, load_model_file

    model, info = default_model("toy-moons")
    m2, info2 = load_model_file(info["path"])
    x = torch.rand(5, 2)
    torch.testing.assert_close(model(x), m2(x))
    assert info2["config"]["arch"] == "toy-relu"
    with open(info["path"], "rb") as fh:
        m3, _ = load_model_file(fh.read())
    torch.testing.assert_close(model(x), m3(x))


def test_load_model_file_without_architecture(tmp_path):
    from robustcore.nets import load_model_file

    save_checkpoint(tmp_path / "noarch.pt", ToyReluNet(), {"seed": 0})
    with pytest.raises(CheckpointError, match="no architecture"):
        load_model_file(tmp_path / "noarch.pt")
    torch.save({"encoder.weight": torch.zeros(3, 3)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="match none of the architectures"):
        load_model_file(tmp_path / "foreign.pt")


def test_bare_state_dict_of_our_toy_net_is_recognised(tmp_path):
    from robustcore.nets import load_model_file

    torch.manual_seed(0)
    net = ToyReluNet(3, 5, 4)
    torch.save(net.state_dict(), tmp_path / "sd.pt")
    model, info = load_model_file(tmp_path / "sd.pt")
    assert (info["format"], info["arch"], info["num_classes"], info["input_shape"]) == ("state_dict", "toy-relu", 4, (3,))
    x = torch.rand(6, 3)
    torch.testing.assert_close(model(x), net(x))


def test_unreadable_files_are_said_in_plain_words():
    import pickle

    class Runs:  # a pickle that would call a function when loaded
        def __reduce__(self):
            return (print, ("loaded",))

    for data, reason in ((b"PK\x03\x04 not a checkpoint", "not a torch file"), (b"", "not a torch file"),
                         (b"hello" * 50, "not a torch file"), (pickle.dumps(Runs()), "Python objects")):
        with pytest.raises(CheckpointError) as info:
            load_model_file(data)
        msg = str(info.value)
        assert reason in msg and "miniz" not in msg and "PytorchStreamReader" not in msg and "\n" not in msg
