"""A write that fails (the file-size limit, as a full disk does; a folder in the file's place; a folder that
refuses it) is one ``WriteError`` naming the target and the reason, exit 2 on the command line; the target is left as
it was and no temporary file remains.

The file-size limit is set in a child process (``RLIMIT_FSIZE``, with SIGXFSZ ignored so that a write past it
raises EFBIG instead of killing the process), since it would hold for the whole test run."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

import landscape_app as la
from landscape_app.core.errors import WriteError

LIMIT = 800           # bytes: every file below is larger; the existing targets are smaller
OLD = "the old contents\n"

CHILD = textwrap.dedent("""
    import json, resource, signal, sys, traceback
    from pathlib import Path
    import numpy as np

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    folder = Path(sys.argv[1])
    import landscape_app as la
    from landscape_app.core.session import Session
    from landscape_app.export.data import save_runs, save_surface
    from landscape_app.export.gif import GifWriter
    from landscape_app.export.writers import FFmpegWriter, PngFolderWriter, write_png

    exp = la.Experiment(epochs=3)
    session = Session((exp,))
    paths = (la.run(exp),)
    surface = la.compute_surface(exp)
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)

    def frames(writer):
        with writer:
            for k in range(40):
                writer.write(np.roll(picture, k, axis=1))

    cases = {
        "runs.csv": lambda p: save_runs(p, session, paths),
        "runs.json": lambda p: save_runs(p, session, paths),
        "surface.npz": lambda p: save_surface(p, session, surface),
        "surface.csv": lambda p: save_surface(p, session, surface),
        "surface.h5": lambda p: save_surface(p, session, surface),
        "session.toml": lambda p: la.save(session, p),
        "still.png": lambda p: write_png(p, picture),
        "movie.gif": lambda p: frames(GifWriter(p, (96, 64), 10)),
        "movie.mp4": lambda p: frames(FFmpegWriter(p, (96, 64), 10)),
        "frames": lambda p: frames(PngFolderWriter(p, (96, 64))),
    }
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    out = {}
    for name, write in cases.items():
        try:
            write(folder / name)
            out[name] = ["written", ""]
        except la.LandscapeError as exc:
            out[name] = [type(exc).__name__, str(exc)]
        except BaseException as exc:
            out[name] = ["raw " + type(exc).__name__, traceback.format_exc()]
    print(json.dumps(out))
""")


def test_the_file_size_limit_is_one_line_and_leaves_the_target(tmp_path):
    names = ["runs.csv", "runs.json", "surface.npz", "surface.csv", "surface.h5", "session.toml", "still.png",
             "movie.gif", "movie.mp4"]
    for name in names:
        (tmp_path / name).write_text(OLD)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    done = subprocess.run([sys.executable, str(script), str(tmp_path), str(LIMIT)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for name, (kind, message) in results.items():
        assert kind in ("WriteError", "ExportError"), (name, kind, message)
        assert "\n" not in message and name in message, (name, message)
        if kind == "WriteError":
            assert "File too large" in message and "ulimit -f" in message, message
        else:       # ffmpeg, a process of its own, says why in its words
            assert name == "movie.mp4" and "ffmpeg could not write" in message, message
    for name in names:
        assert (tmp_path / name).read_text() == OLD, name
    assert not (tmp_path / "frames").exists()
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert left == [], left


def test_the_command_line_says_it_in_one_line(tmp_path):
    out = tmp_path / "out.h5"
    out.write_text(OLD)
    script = tmp_path / "cli.py"
    script.write_text(textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, {LIMIT}))
        from landscape_app.cli import main
        sys.exit(main())
    """))
    for target in (out, tmp_path / "out.csv"):
        done = subprocess.run([sys.executable, str(script), "surface", "--model", "linear", "--data", "linear", "-o",
                               str(target), "-q"], capture_output=True, text=True, timeout=600)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == (f"landscape-app surface: error: cannot write {target}: File too large (the "
                                       "file-size limit (ulimit -f) or the file system's largest file)")
    assert out.read_text() == OLD
    assert not (tmp_path / "out.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.fixture
def session():
    return la.Session((la.Experiment(epochs=2),))


def test_a_folder_in_the_files_place(tmp_path, session):
    from landscape_app.export.data import save_surface
    surface = la.compute_surface(session.experiment)
    writers = (("s.toml", lambda p: la.save(session, p)), ("s.npz", lambda p: save_surface(p, session, surface)),
               ("s.h5", lambda p: la.save_surface(p, surface)))
    for name, write in writers:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "kept").write_text(OLD)
        with pytest.raises(WriteError) as err:
            write(folder)
        assert str(err.value) == f"cannot write {folder}: it is a folder"
        assert isinstance(err.value, OSError) and err.value.path == folder
        assert (folder / "kept").read_text() == OLD
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_path_through_a_file(tmp_path, session):
    # Honest as root too: no one can make a file inside a file.
    blocker = tmp_path / "notes.txt"
    blocker.write_text(OLD)
    with pytest.raises(WriteError, match=r"cannot write .*notes.txt/s.toml: Not a directory \(a part of the path is "
                                         r"a file, not a folder\)"):
        la.save(session, blocker / "s.toml")
    assert blocker.read_text() == OLD


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes in a read-only folder")
def test_a_read_only_folder(tmp_path, session):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(WriteError, match="cannot write .*s.toml: Permission denied"):
            la.save(session, folder / "s.toml")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_a_write_error_is_an_os_error(tmp_path):
    # Code that catches OSError where it saves (the app's Save) keeps working, and finds the reason where it looks.
    err = WriteError(tmp_path / "x.toml", "File too large", 27)
    assert err.strerror == "File too large" and err.errno == 27 and err.filename == str(tmp_path / "x.toml")
    assert isinstance(err, la.ExportError) and isinstance(err, la.LandscapeError)


def test_any_other_refusal_of_the_machine_is_one_line_too(tmp_path, monkeypatch, capsys):
    # An OSError no writer named (here: the disk fails under the runs' writer) is still one line, exit 2.
    import errno

    from landscape_app import commands
    from landscape_app.export import data

    def failing(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")
    monkeypatch.setattr(data, "save_runs", failing)
    code = commands.main(["run", "--model", "linear", "--data", "linear", "--epochs", "2", "-o",
                          str(tmp_path / "p.csv"), "-q"])
    assert code == 2
    assert capsys.readouterr().err.strip() == "landscape-app run: error: Input/output error"
