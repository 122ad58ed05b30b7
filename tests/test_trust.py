"""A file never runs the code it names until its caller trusts it: session TOML, surface files (NPZ, HDF5, CSV) and
runs files carrying a session, in the API and on the command line. Refused before any of the code runs and before
anything is written; ``trust=True`` / ``--trust`` runs it."""
import ast
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import landscape_app as la
from landscape_app import commands
from landscape_app.core import codefiles, presets
from landscape_app.core.errors import ConfigError, LandscapeError, UntrustedCodeError
from landscape_app.core.trajectory import Trajectory, load_json
from landscape_app.export import data as export_data

from trust_files import session_naming, write_model, write_runs_files, write_session, write_surface_files

SAFETY = 300     # seconds: only so a hung child cannot hang the suite


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "ran.txt"


@pytest.fixture
def outside(tmp_path, marker):
    """A session in lessons/ naming ../elsewhere/lesson.py; the marker cleared after writing it."""
    model = write_model(tmp_path / "elsewhere", marker)
    (tmp_path / "lessons").mkdir()
    path = write_session(tmp_path / "lessons" / "s.toml", model)
    marker.unlink()
    return path


def _one_line(exc) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


def test_the_error_is_exported_and_one_of_the_family():
    assert la.UntrustedCodeError is UntrustedCodeError is la.core.UntrustedCodeError
    assert issubclass(UntrustedCodeError, LandscapeError) and not issubclass(UntrustedCodeError, ConfigError)
    assert "UntrustedCodeError" in la.__all__


def test_a_session_naming_code_is_refused_and_runs_nothing(outside, marker, tmp_path):
    assert Path(outside).read_text().count('model = "../elsewhere/lesson.py:make"') == 1
    for load in (la.load_session, la.load_experiment):
        with pytest.raises(UntrustedCodeError) as info:
            load(outside)
        assert not marker.exists()
    text = _one_line(info.value)
    model = tmp_path / "elsewhere" / "lesson.py"
    assert str(outside) in text and str(model) in text and "outside the folder of s.toml" in text
    assert "trust=True" in text and "--trust" in text
    (code,) = info.value.files
    assert info.value.source == outside
    assert code.path == model and code.role == "model" and code.outside and code.written == "../elsewhere/lesson.py"
    assert code.sha256() == hashlib.sha256(model.read_bytes()).hexdigest()


def test_trust_runs_it(outside, marker):
    session = la.load_session(outside, trust=True)
    assert marker.read_text() == "ran" and session.experiment.is_module and session.title == "Lesson"
    marker.unlink()
    assert la.load_experiment(outside, trust=True).param_count == 2 * 3 + 3 + 3 + 1 and marker.exists()


def test_a_file_beside_the_session_is_inside_an_absolute_path_or_a_link_out_is_not(tmp_path, marker):
    beside = write_model(tmp_path, marker)
    assert not codefiles.code_file("lesson.py:make", tmp_path).outside
    assert not codefiles.code_file("sub/../lesson.py:make", tmp_path).outside
    assert codefiles.code_file(f"{beside}:make", tmp_path / "sub").outside
    assert codefiles.code_file("../lesson.py:make", tmp_path / "sub").outside
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "link.py").symlink_to(beside)
    assert codefiles.code_file("link.py:make", tmp_path / "sub").outside
    # Beside its session, it is still refused: the message only does not call it outside.
    path = write_session(tmp_path / "s.toml", beside)
    marker.unlink()
    with pytest.raises(UntrustedCodeError) as info:
        la.load_session(path)
    assert "outside" not in str(info.value) and f"the model file {beside}" in str(info.value)
    assert not marker.exists()


def test_an_absolute_path_in_the_session_is_refused_as_outside(tmp_path, marker):
    model = write_model(tmp_path / "x", marker)
    (tmp_path / "y").mkdir()
    path = tmp_path / "y" / "s.toml"
    path.write_text(f'[experiment]\nmodel = "{model}:make"\n[experiment.data]\nname = "moons"\n')
    with pytest.raises(UntrustedCodeError, match="outside the folder of s.toml"):
        la.load_session(path)
    # An absolute path into the session's own folder does not leave it.
    inside = tmp_path / "x" / "s.toml"
    inside.write_text(path.read_text())
    with pytest.raises(UntrustedCodeError) as info:
        la.load_session(inside)
    assert "outside" not in str(info.value)
    assert not marker.exists()


def test_a_missing_code_file_is_said_to_be_missing(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[experiment]\nmodel = "gone.py:make"\n[experiment.data]\nname = "moons"\n')
    with pytest.raises(ConfigError, match="gone.py: no such file"):
        la.load_session(path)


def test_code_given_directly_needs_no_trust(tmp_path, marker):
    model = write_model(tmp_path, marker)
    assert la.Experiment(data=la.make_dataset("moons", n_samples=20), model=f"{model}:make").is_module
    assert marker.exists()


@pytest.mark.parametrize("suffix", [".npz", ".h5", ".csv"])
def test_a_surface_file_carrying_such_a_session_is_refused(tmp_path, marker, suffix):
    model = write_model(tmp_path / "elsewhere", marker)
    (tmp_path / "files").mkdir()
    path = write_surface_files(tmp_path / "files", model, (suffix,))[suffix]
    marker.unlink()
    with pytest.raises(UntrustedCodeError) as info:
        export_data.load_surface(path)
    text = _one_line(info.value)
    assert str(path) in text and str(model) in text and f"outside the folder of {path.name}" in text
    assert not marker.exists()
    # la.load_surface reads the surface alone: the session is not built, nothing runs.
    if suffix != ".csv":
        assert la.load_surface(path).loss.shape == (3, 4)
        assert not marker.exists()
    session, surface = export_data.load_surface(path, trust=True)
    assert marker.exists() and session.experiment.is_module and surface.loss.shape == (3, 4)


def test_a_runs_file_and_a_trajectory_carrying_such_a_session_are_refused(tmp_path, marker):
    model = write_model(tmp_path, marker)
    files = write_runs_files(tmp_path, model)
    exp = session_naming(model).experiment
    la.run(exp).to_json(tmp_path / "path.json", exp)
    marker.unlink()
    for path in files.values():
        with pytest.raises(UntrustedCodeError, match=str(path.name)):
            export_data.load_runs(path)
    with pytest.raises(UntrustedCodeError):
        load_json(tmp_path / "path.json")
    # The path alone: its experiment is not built.
    assert len(Trajectory.from_json(tmp_path / "path.json")) >= 2
    assert not marker.exists()
    session, (path,) = export_data.load_runs(files[".json"], trust=True)
    assert marker.exists() and len(path) >= 2
    marker.unlink()
    assert load_json(tmp_path / "path.json", trust=True)[1].is_module and marker.exists()


def test_export_animation_refuses_before_anything_is_written(outside, marker, tmp_path):
    from landscape_app.export import export_animation
    out = tmp_path / "final.png"
    with pytest.raises(UntrustedCodeError):
        export_animation(str(outside), out)
    assert not marker.exists() and not out.exists()


def test_presets_are_trusted(tmp_path, marker, monkeypatch):
    folder = tmp_path / "presets"
    model = write_model(folder, marker)
    write_session(folder / "lesson.toml", model)
    marker.unlink()
    monkeypatch.setattr(presets, "presets_dir", lambda: folder)
    assert presets.load_preset("lesson").experiment.is_module
    assert marker.exists()


def test_the_built_in_presets_name_no_code():
    # Trusted without asking: they must stay plain settings (a file among them would run on every machine).
    for preset in presets.list_presets():
        assert ".py" not in preset.path.read_text(), preset.name


# -- the command line --------------------------------------------------------------------------------------------

def _err_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize("command, output", [("surface", "s.npz"), ("run", "p.csv"), ("export", "final.png")])
def test_the_commands_refuse_without_trust(outside, marker, tmp_path, capsys, command, output):
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code = commands.main([command, str(outside), "-o", str(tmp_path / output)])
    assert code == 2
    err = _err_line(capsys)
    assert err.startswith(f"landscape-app {command}: error: {outside} names code")
    assert "--trust" in err and "lesson.py" in err
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == before       # nothing written


def test_the_commands_run_it_with_trust(outside, marker, tmp_path, capsys):
    out = tmp_path / "p.json"
    assert commands.main(["run", str(outside), "--trust", "-q", "-o", str(out)]) == 0, capsys.readouterr().err
    assert marker.exists() and json.loads(out.read_text())["session"]["title"] == "Lesson"
    marker.unlink()
    out = tmp_path / "s.npz"
    assert commands.main(["surface", str(outside), "--trust", "--plane", "random", "--resolution", "3", "-q",
                          "-o", str(out)]) == 0, capsys.readouterr().err
    assert marker.exists() and out.exists()


def test_a_model_file_given_on_the_command_line_needs_no_trust(tmp_path, marker, capsys):
    model = write_model(tmp_path, marker)
    out = tmp_path / "p.csv"
    assert commands.main(["run", "--model", f"{model}:make", "--data", "moons", "--data-option", "n_samples=20",
                          "--epochs", "1", "-q", "-o", str(out)]) == 0, capsys.readouterr().err
    assert marker.exists() and out.exists()


@pytest.mark.parametrize("suffix", [".toml", ".npz"])
def test_the_app_refuses_a_file_from_its_command_line_without_trust(tmp_path, marker, suffix):
    model = write_model(tmp_path / "elsewhere", marker)
    (tmp_path / "files").mkdir()
    if suffix == ".toml":
        path = write_session(tmp_path / "files" / "s.toml", model)
    else:
        path = write_surface_files(tmp_path / "files", model, (suffix,))[suffix]
    marker.unlink()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # A timed run never asks (it must end by itself): the file is refused as on the other commands.
    done = subprocess.run([sys.executable, "-m", "landscape_app", str(path), "--quit-after", "0"],
                          capture_output=True, text=True, env=env, timeout=SAFETY)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"landscape-app: error: {path} names code"), done.stderr
    assert "--trust" in lines[0] and not marker.exists()


# -- no pickles ----------------------------------------------------------------------------------------------------

def torch_loads_without_weights_only(source: str, filename: str = "<source>") -> list[str]:
    """``file line N`` of every ``torch.load(...)`` call in ``source`` that does not pass ``weights_only=True``
    (``torch.load`` unpickles: a file could run any code), and of every ``from torch import load``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.ImportFrom) and node.module == "torch" and any(a.name == "load" for a in node.names):
            found.append(f"{filename} line {node.lineno}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"):
            safe = any(k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                       for k in node.keywords)
            if not safe:
                found.append(f"{filename} line {node.lineno}")
    return found


def test_the_checker_finds_an_unsafe_torch_load():
    assert torch_loads_without_weights_only("import torch\nx = torch.load('f.pt')\n") == ["<source> line 2"]
    assert torch_loads_without_weights_only("import torch\nx = torch.load(f, weights_only=False)\n")
    assert torch_loads_without_weights_only("from torch import load\n")
    assert not torch_loads_without_weights_only("import torch\nx = torch.load(f, weights_only=True)\n")


def test_every_torch_load_of_the_package_is_weights_only():
    package = Path(la.__file__).parent
    files = sorted(package.rglob("*.py"))
    assert len(files) > 50
    found = [hit for path in files for hit in torch_loads_without_weights_only(path.read_text(encoding="utf-8"),
                                                                                str(path))]
    assert not found, f"torch.load without weights_only=True: {found}"
