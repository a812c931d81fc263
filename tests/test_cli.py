import subprocess
import sys

from robustcore.cli import build_parser, main


def test_info_prints_versions_and_locations(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for key in ("robustcore", "torch", "cache", "store", "device"):
        assert key in out


def test_unknown_model_is_a_clear_error(capsys):
    assert main(["train", "resnet-152"]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_data_on_a_missing_folder(tmp_path, capsys):
    assert main(["data", "mnist", "--root", str(tmp_path / "none")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_train_caches_the_toy_model(capsys):
    assert main(["train", "toy-moons"]) == 0
    assert main(["train", "toy-moons"]) == 0
    assert "loaded from cache" in capsys.readouterr().out


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "robustcore.cli", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "info" in out.stdout and "train" in out.stdout


def test_every_registered_subcommand_has_a_function():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert callable(p.get_default("func")), name
