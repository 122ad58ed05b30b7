"""No command writes over one of its own inputs: ``-o`` (and ``--store``) is never the data, the session file, the
store, or a file the session reads, under any name (a symbolic or a hard link included). Refused before any work,
exit 2, one line naming both; the input is left as it was."""
import os

import pytest

import landscape_app as la
from landscape_app import commands
from landscape_app.core.inputs import check_not_input, same_file, session_inputs
from landscape_app.core.session import Session

DATA = "x,y\n0,1\n1,3\n2,5\n3,7\n"


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(DATA)
    return path


@pytest.fixture
def session_file(tmp_path, data):
    path = tmp_path / "session.toml"
    path.write_text('[experiment]\nmodel = "linear"\nepochs = 2\n[experiment.data]\nkind = "csv"\n'
                    'path = "data.csv"\n')
    return path


def refused(capsys, argv, *names):
    assert commands.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "is the same file as" in err, err
    for name in names:
        assert name in err, err
    return err


@pytest.mark.parametrize("command, suffix", [("run", ".csv"), ("surface", ".csv")])
def test_o_is_never_the_data(tmp_path, data, capsys, command, suffix):
    refused(capsys, [command, "--model", "linear", "--data", str(data), "-o", str(data), "-q"], "--data",
            "data.csv")
    assert data.read_text() == DATA
    # Under another name: a symbolic link, a hard link, a path through ".."
    link, hard = tmp_path / "link.csv", tmp_path / "hard.csv"
    link.symlink_to(data)
    os.link(data, hard)
    for other in (link, hard, tmp_path / "sub" / ".." / "data.csv"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        refused(capsys, [command, "--model", "linear", "--data", str(data), "-o", str(other), "-q"], "--data")
    refused(capsys, [command, "--model", "linear", "--data", str(link), "-o", str(hard), "-q"], "--data")
    assert data.read_text() == DATA
    # Another file is written as ever.
    out = tmp_path / f"out{suffix}"
    assert commands.main([command, "--model", "linear", "--data", str(data), "-o", str(out), "-q"]) == 0
    assert out.exists() and data.read_text() == DATA


def test_o_is_never_the_data_a_session_reads(tmp_path, session_file, data, capsys):
    for command in ("run", "surface"):
        refused(capsys, [command, str(session_file), "-o", str(data), "-q"], "the session's data", "data.csv")
    refused(capsys, ["export", str(session_file), "-o", str(data), "-q"], "the session's data")
    assert data.read_text() == DATA


def test_store_and_output_are_two_files(tmp_path, capsys):
    store = tmp_path / "same.h5"
    refused(capsys, ["surface", "--model", "linear", "--data", "linear", "--store", str(store), "-o", str(store),
                     "-q"], "--store", "same.h5")
    assert not store.exists()


def test_store_is_never_an_input(tmp_path, data, capsys):
    link = tmp_path / "data.h5"
    link.symlink_to(data)
    refused(capsys, ["surface", "--model", "linear", "--data", str(data), "--store", str(link), "-o",
                     str(tmp_path / "s.npz"), "-q"], "--store", "--data")
    assert data.read_text() == DATA


def test_the_model_file_is_an_input(tmp_path):
    model = tmp_path / "net.py"
    model.write_text("import torch\n\ndef make():\n    return torch.nn.Sequential(torch.nn.Linear(2, 1))\n")
    exp = la.Experiment(data=la.make_dataset("plane"), model=f"{model}:make", criterion="mse")
    inputs = session_inputs(Session((exp,)))
    assert inputs == (("the session's model file", model.resolve()),)
    with pytest.raises(la.ExportError, match="is the same file as the session's model file"):
        check_not_input(tmp_path / "." / "net.py", inputs)


def test_same_file():
    assert same_file("a/../b.csv", "b.csv")
    assert not same_file("a.csv", "b.csv")


def test_export_steps_refuse_the_data_of_their_scene(tmp_path, data):
    # The API the export dialog and scripts use: the same rule, whoever calls.
    from landscape_app.export.job import export_steps
    from landscape_app.export.plan import make_plan
    from landscape_app.export.scene import ExportScene
    exp = la.Experiment(data=la.dataset_from_csv(data), epochs=2)
    scene = ExportScene(Session((exp,)), (), None)
    with pytest.raises(la.ExportError, match="same file as the session's data"):
        next(export_steps(scene, make_plan(str(data))))
    assert data.read_text() == DATA


# -- the app -----------------------------------------------------------------------------------------------------

@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, data):
    from app_window import close_window, open_window
    session = Session((la.Experiment(data=la.dataset_from_csv(data), epochs=2),))
    w = open_window(qtbot, tmp_path, monkeypatch, session)
    yield w
    close_window(w)


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_the_app_never_saves_or_exports_over_its_data(qtbot, tmp_path, window, data):
    from landscape_app.gui.export_dialog import ExportDialog
    # Save As with the data's name (the file dialog's "replace it?" answered yes): a dialog says no.
    assert not window.save_to(str(data))
    assert window.message_box is not None and window.message_box.isVisible()
    assert "is the same file as the session's data" in window.message_box.text()
    assert data.read_text() == DATA
    window.message_box.close()
    window.message_box = None
    assert window.save_to(str(tmp_path / "session.toml"))
    dialog = ExportDialog(window.session, parent=window)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(data))           # the surface's data, as CSV, in place of the data
    assert not dialog.export_button.isEnabled()
    assert "is the same file as the session's data" in dialog.message.text()
    dialog.path.setText(str(tmp_path / "surface.csv"))
    assert dialog.export_button.isEnabled()
    dialog.done(0)
    assert data.read_text() == DATA
