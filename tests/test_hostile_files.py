"""Every file the project reads is read defensively: each hostile file of ``hostile_files`` (links to other files,
size bombs, link loops, bad values, missing keys, damage) gives the project's own error naming the file and what
is wrong, through every way in: ``la.load_surface``, ``landscape_app.export.load_surface``/``load_runs``,
``la.load_session``, a surface store, the command lines (exit 2, one line, nothing written) and the app's
*File > Open* (a dialog). Honest files load exactly as before."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
import zlib

import h5py
import numpy as np
import pytest

import hostile_files as hf
import landscape_app as la
from landscape_app import commands
from landscape_app.core.errors import ConfigError, DataError
from landscape_app.export import load_runs
from landscape_app.export import load_surface as load_with_session

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The honest files and every hostile one, by name."""
    folder = tmp_path_factory.mktemp("hostile")
    honest = hf.honest_files(folder / "honest")
    paths = {h.name: h.write(folder, honest) for h in hf.SURFACES + hf.SESSIONS + hf.RUNS}
    return honest, paths


def refused(call, path, why, types=(DataError,)) -> str:
    """``call(path)`` raises one of ``types``: one line naming the file first, saying ``why``."""
    with pytest.raises(types) as info:
        call(path)
    message = str(info.value)
    assert message.startswith((f"{path}: ", f"{path}, line ")), message
    assert re.search(why, message), message
    assert "\n" not in message
    return message


def ids(cases):
    return [h.name for h in cases]


@pytest.mark.parametrize("hostile", hf.SURFACES, ids=ids(hf.SURFACES))
def test_la_load_surface_refuses_each_by_name(made, hostile):
    honest, paths = made
    if hostile.session_only:      # the surface alone is sound: read as the honest file's
        assert np.array_equal(la.load_surface(paths[hostile.name]).loss, la.load_surface(honest[hostile.suffix]).loss)
    else:
        refused(la.load_surface, paths[hostile.name], hostile.why)


@pytest.mark.parametrize("hostile", hf.SURFACES, ids=ids(hf.SURFACES))
def test_export_load_surface_refuses_each_by_name(made, hostile):
    refused(load_with_session, made[1][hostile.name], hostile.why)


@pytest.mark.parametrize("hostile", hf.SESSIONS, ids=ids(hf.SESSIONS))
def test_load_session_refuses_each_by_name(made, hostile):
    refused(la.load_session, made[1][hostile.name], hostile.why, (ConfigError, DataError))


@pytest.mark.parametrize("hostile", hf.RUNS, ids=ids(hf.RUNS))
def test_load_runs_refuses_each_by_name(made, hostile):
    refused(load_runs, made[1][hostile.name], hostile.why)


def test_honest_files_load_as_before(made):
    honest, _ = made
    session = hf.honest_session()
    surface = la.compute_surface(session.experiment)
    for suffix in (".h5", ".npz", ".csv"):      # la.load_surface reads our CSV too, no longer "not HDF5"
        for read in (la.load_surface(honest[suffix]), load_with_session(honest[suffix])[1]):
            assert np.array_equal(read.loss, surface.loss) and np.array_equal(read.w, surface.w)
            assert read.axes == surface.axes and read.plane.kind == "axes"
        assert load_with_session(honest[suffix])[0] == session
    assert la.load_session(honest[".toml"]) == session
    for suffix in (".json", ".runs.csv"):
        back_session, (path,) = load_runs(honest[suffix])
        assert len(path) == 3 and path.param_names == ("w", "b")


def test_a_file_of_another_kind_is_named_as_such(made, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("a shopping list")
    refused(la.load_surface, notes, r"not a surface file; surfaces are read from HDF5 \(.h5, .hdf5\), NPZ \(.npz\) "
                                    r"and CSV \(.csv\) files")
    renamed = tmp_path / "surface.dat"      # an HDF5 file by another name is still read
    shutil.copy(made[0][".h5"], renamed)
    assert np.array_equal(la.load_surface(renamed).loss, la.load_surface(made[0][".h5"]).loss)


def test_their_layout_reads_either_declared_shape(tmp_path):
    """loss-landscape declares (nx, ny) and fills the flat order of (ny, nx): both shapes read the same."""
    x, y = np.linspace(-1, 1, 5), np.linspace(0, 1, 3)
    values = np.arange(15.0).reshape(3, 5)
    for shape in ((3, 5), (5, 3)):
        path = tmp_path / f"their{shape[0]}.h5"
        hf.theirs(x, y, values.reshape(shape))(path, None)
        assert np.array_equal(la.load_surface(path).loss, values)


def test_the_zip_bomb_is_a_true_one(made):
    """A valid zip member that inflates to 7 GiB from a file of a few MB (the test of the reader, not a stub)."""
    path = made[1]["npz-zip-bomb"]
    assert path.stat().st_size < 10 << 20
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("loss.npy")
        assert info.file_size > hf.BOMB_BYTES and info.compress_size < 10 << 20
        with z.open(info) as member:
            head = member.read(1 << 20)
    assert head.startswith(b"\x93NUMPY") and not any(head[128:])
    small = made[0][".npz"].with_name("small_bomb.npz")
    hf.zip_bomb(small, made[0][".npz"], 8 << 20)     # the same making, small enough to inflate: CRC and all true
    with np.load(small) as z:
        assert z["loss"].shape == (1 << 20,) and not z["loss"].any()


@pytest.mark.parametrize("name", ["npz-zip-bomb", "npz-declared-huge", "h5-loss-bomb", "h5-loss-shape-bomb",
                                  "h5-coordinate-bomb", "h5-plane-bomb", "csv-declared-huge", "csv-oversized"])
def test_size_bombs_are_refused_before_anything_is_read(made, name):
    tracemalloc.start()         # numpy's arrays count too
    try:
        with pytest.raises(DataError, match="at most|has shape"):
            la.load_surface(made[1][name])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{peak / 2**20:.0f} MiB held to refuse {name}"


def test_links_never_show_the_other_file(made, tmp_path):
    """The secret another file holds (42) is never read into a surface, whatever reads it (h5py alone shows it)."""
    for name in ("h5-external-link", "h5-virtual", "h5-outside-storage"):
        with h5py.File(made[1][name], "r") as f:
            assert f["train_loss"][0, 0] == 42.0
        for read in (la.load_surface, load_with_session):
            with pytest.raises(DataError, match="external link|virtual dataset|outside file") as info:
                read(made[1][name])
            # The message names files by their paths, whose temporary folder may hold "42" (pytest-142): not the value.
            assert "42" not in str(info.value).replace(str(made[1][name].parent), "")


# -- stores --------------------------------------------------------------------------------------------------------

def store_experiment():
    return la.Experiment(data=la.make_dataset("linear", n_samples=20, seed=1), grid=la.Grid(resolution=(5, 4)))


def hostile_stores(folder, honest):
    """(name, store, what the refusal says): crafted from an honest store with one block left to compute."""
    def variant(name, edit):
        path = folder / f"{name}.h5"
        shutil.copy(honest, path)
        with h5py.File(path, "r+") as f:
            edit(f, folder)
        return path

    def replaced(name, make):
        return hf.replace(name, make)

    out = [
        ("truncated", None, r"not a readable surface store: it is damaged \(truncated file"),
        ("text", None, r"not a readable surface store \(no HDF5 signature"),
        ("external-link", replaced("train_loss", hf.external_link), r"train_loss is an external link"),
        ("virtual", replaced("train_loss", hf.virtual), r"train_loss is a virtual dataset"),
        ("outside-storage", replaced("train_loss", hf.outside_storage), r"train_loss keeps its values in an outside"),
        ("soft-link", replaced("landscape_app/blocks_done", hf.soft_loop), r"blocks_done is a soft link"),
        ("values-shape", replaced("train_loss", lambda f, n, d: f.create_dataset(n, data=np.zeros((5, 4)))),
         r"train_loss is float64 of shape \(5, 4\), not the grid's float values of shape \(4, 5\); the store is "
         r"damaged"),
        ("values-text", replaced("train_loss", lambda f, n, d: f.create_dataset(n, data=np.full((4, 5), b"x"))),
         r"train_loss is \|S1 of shape \(4, 5\)"),
        ("blocks-text", replaced("landscape_app/blocks_done", lambda f, n, d: f.create_dataset(
            n, data=np.array([b"a", b"b", b"c", b"d"]))), r"blocks_done holds text"),
        ("experiment-toml", hf.set_attr("landscape_app", "experiment", "[experiment"),
         r"landscape_app/@experiment is not valid TOML .*; the store is damaged"),
        ("plane-bomb", replaced("landscape_app/plane/d1", hf.declared((1 << 31,))), r"at most 1.0 GiB is read"),
    ]
    for name, edit, why in out:
        if name == "truncated":
            path = folder / "truncated.h5"
            hf.truncated(path, honest)
        elif name == "text":
            path = folder / "text.h5"
            path.write_text("not a store")
        else:
            path = variant(name, edit)
        yield name, path, why


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stores")
    honest = folder / "honest.h5"
    exp = store_experiment()
    la.compute_surface(exp, store=honest, block_rows=1)
    with h5py.File(honest, "r+") as f:           # one block left: a run would write into the store
        f["landscape_app/blocks_done"][3] = False
    return honest, list(hostile_stores(folder, honest))


def test_hostile_stores_are_refused_and_left_as_they_were(stores):
    exp = store_experiment()
    _, cases = stores
    for name, path, why in cases:
        before = path.read_bytes()
        secret = path.parent / "secret.h5"
        secret_before = secret.read_bytes() if secret.exists() else None
        refused(lambda p: la.compute_surface(exp, store=p, block_rows=1), path, why)
        assert path.read_bytes() == before, name
        if secret_before is not None:
            assert secret.read_bytes() == secret_before, name


def test_a_store_another_run_writes_is_in_use_and_the_same_command_resumes_after(stores, tmp_path):
    honest, _ = stores
    store = tmp_path / "busy.h5"
    shutil.copy(honest, store)
    holder = subprocess.Popen([sys.executable, "-c", f"import h5py, sys; f = h5py.File({str(store)!r}, 'r+'); "
                               f"print('open', flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        exp = store_experiment()
        refused(lambda p: la.compute_surface(exp, store=p, block_rows=1), store,
                r"in use by another program \(HDF5 locks a file while it is written")
        refused(la.load_surface, store, r"in use by another program")
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
        holder.stdout.close()
    assert np.array_equal(la.compute_surface(exp, store=store, block_rows=1).loss, la.compute_surface(exp).loss)


def test_the_surface_command_refuses_a_hostile_store_in_one_line_writing_nothing(stores, tmp_path, capsys):
    _, cases = stores
    session = tmp_path / "s.toml"
    la.save(la.Session((store_experiment(),)), session)
    out = tmp_path / "out.npz"
    for name, path, why in cases:
        code = commands.main(["surface", str(session), "-o", str(out), "--store", str(path), "--block-rows", "1"])
        lines = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(lines) == 1, (name, lines)
        assert lines[0].startswith(f"landscape-app surface: error: {path}: ") and re.search(why, lines[0]), lines
        assert not out.exists()


# -- the command lines ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["surface", "run", "export"])
def test_the_commands_refuse_a_hostile_session_in_one_line_writing_nothing(made, tmp_path, capsys, command):
    out = tmp_path / ("out.gif" if command == "export" else "out.csv")
    for hostile in hf.SESSIONS:
        path = made[1][hostile.name]
        code = commands.main([command, str(path), "-o", str(out)])
        lines = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(lines) == 1, (hostile.name, lines)
        assert f": error: {path}" in lines[0] and re.search(hostile.why, lines[0]), lines
        assert not out.exists()


CLI_LOOP = """
import contextlib, io, json, sys
from landscape_app.cli import main
shot, out = sys.argv[1], []
for path in sys.argv[2:]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = main([path, "--screenshot", shot, "--quit-after", "1"])
        except BaseException as exc:
            code = f"raised {type(exc).__name__}: {exc}"
    out.append({"path": path, "code": code, "err": err.getvalue()})
print(json.dumps(out))
"""


def test_the_apps_command_line_refuses_each_file_in_one_line(made, tmp_path):
    """``landscape-app FILE``: exit 2 and one line naming the file, before any window (no screenshot is written).
    One process reads them all (the command's own ``main``, as ``landscape-app`` calls it)."""
    cases = hf.SURFACES + hf.SESSIONS
    shot = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LANDSCAPE_APP_TRAINING="thread")
    r = subprocess.run([sys.executable, "-c", CLI_LOOP, str(shot), *(str(made[1][h.name]) for h in cases)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    for hostile, result in zip(cases, json.loads(r.stdout)):
        lines = result["err"].strip().splitlines()
        assert result["code"] == 2 and len(lines) == 1, (hostile.name, result)
        assert lines[0].startswith(f"landscape-app: error: {result['path']}"), lines
        assert re.search(hostile.why, lines[0]), (hostile.name, lines[0])
    assert not shot.exists()


def test_the_real_command_refuses_a_size_bomb(made, tmp_path):
    shot = tmp_path / "shot.png"
    path = made[1]["h5-loss-bomb"]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-m", "landscape_app", str(path), "--screenshot", str(shot), "--quit-after",
                        "1"], capture_output=True, text=True, env=env, timeout=300)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert lines[0] == (f"landscape-app: error: {path}: a grid of 100,000 x 100,000 = 10,000,000,000 points; at "
                        f"most 67,108,864 are read")
    assert not shot.exists()


# -- the app -------------------------------------------------------------------------------------------------------

def test_file_open_shows_a_dialog_naming_each_file(window, made):
    before = window.session
    for hostile in hf.SURFACES + hf.SESSIONS:
        path = made[1][hostile.name]
        assert not window.open_path(str(path)), hostile.name
        box = window.message_box
        surface = hostile in hf.SURFACES
        assert box is not None and box.windowTitle() == ("Cannot open the surface" if surface else
                                                         "Cannot open the session"), hostile.name
        assert box.text().startswith(str(path)) and re.search(hostile.why, box.text()), box.text()
        box.close()
        window.message_box = None
        assert window.session is before and window.controller.static is None


def test_file_open_of_honest_files_still_opens_them(window, made):
    honest, _ = made
    for suffix in (".h5", ".npz", ".csv"):
        assert window.open_path(str(honest[suffix])), suffix
        assert np.array_equal(window.views.contour.surface.loss, la.load_surface(honest[suffix]).loss)


def test_a_machine_failure_under_a_reader_is_still_a_dialog(window, made, monkeypatch):
    from landscape_app.gui import main_window

    def out_of_memory(path, trust=False):
        raise MemoryError
    monkeypatch.setattr(main_window, "read_surface_scene", out_of_memory)
    path = made[0][".h5"]
    assert not window.open_path(str(path))
    assert window.message_box.text() == f"{path}: not enough memory to read it"
    window.message_box.close()
    window.message_box = None


def test_zlib_and_zip_errors_of_a_damaged_member_name_the_file(made, tmp_path):
    """A member whose deflate stream is garbage (its sizes honest): zip's and zlib's errors, named."""
    path = tmp_path / "garbage.npz"
    data = hf.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (4, 5)}, bytes(160))
    hf.write_zip(path, [("loss.npy", zlib.crc32(data), len(data), [(b"\xff" * 40, 1)])])
    refused(la.load_surface, path, r"not a readable NPZ file")


def test_a_model_file_that_is_a_device_has_no_sha256_and_is_never_read(tmp_path):
    """A session may name a "model file" that is a link to /dev/zero: the trust dialog's SHA-256 must not read
    it for ever (nor run out of memory); it has none, so it is never remembered as trusted."""
    from landscape_app.core.codefiles import code_file
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "real.py").write_text("def make():\n    pass\n")
    assert code_file("zero.py:make", tmp_path).sha256() is None
    real = hashlib.sha256((tmp_path / "real.py").read_bytes()).hexdigest()
    assert code_file("real.py:make", tmp_path).sha256() == real
