"""The app's command line, in subprocesses: screenshots (offscreen, and with OpenGL under Xvfb), exit codes."""
import os
import subprocess
import sys

import numpy as np
import pytest

from landscape_app.core.presets import list_presets

SAFETY = 300   # seconds: only so a hung child cannot hang the suite; nothing here measures time


def _run(args, env=None):
    env = dict(os.environ if env is None else env)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return subprocess.run([sys.executable, "-m", "landscape_app", *args], capture_output=True, text=True,
                          env=env, timeout=SAFETY)


def _image(path):
    from PySide6.QtGui import QImage
    img = QImage(str(path))
    assert not img.isNull(), f"{path} is not an image"
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).astype(int).copy()


def _has_colour(arr, hex_colour, tol=40):
    c = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(arr - c).sum(axis=2) < tol).sum())


def _one_line_error(result):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("landscape-app: error:") and "Traceback" not in result.stderr
    return lines[0]


def test_screenshot_offscreen(tmp_path):
    out = tmp_path / "window.png"
    r = _run(["--preset", "adam-vs-sgd", "--play", "--screenshot", str(out), "--quit-after", "2"])
    assert r.returncode == 0, r.stderr
    arr = _image(out)
    assert arr.shape[1] >= 1000 and arr.shape[0] >= 600
    from landscape_app.gui.views.base import RUN_COLORS
    for colour in RUN_COLORS[:4]:           # every run's colour is drawn (paths, legend, list)
        assert _has_colour(arr, colour) > 20, colour


def test_screenshot_with_opengl_under_xvfb(tmp_path, gl_env):
    out = tmp_path / "gl.png"
    r = _run(["--preset", "course-linear-regression", "--screenshot", str(out), "--quit-after", "2"], env=gl_env)
    assert r.returncode == 0, r.stderr
    arr = _image(out)
    h, w, _ = arr.shape
    # The 3-D view sits right of the contour in the upper half: a rendered, coloured surface, not a placeholder.
    region = arr[int(0.2 * h):int(0.55 * h), int(0.7 * w):int(0.95 * w)]
    colourful = (region.max(axis=2) - region.min(axis=2)) > 60
    assert colourful.mean() > 0.05, "the 3-D region looks empty"


def test_the_plane_model_plays_in_opengl_without_drawing_errors(tmp_path, gl_env):
    """pyqtgraph prints (does not raise) when a GL item fails to paint: the run must print nothing of the kind.

    (The 3-D data view's fitted plane was once painted before it had a mesh.)
    """
    import landscape_app as la
    session = tmp_path / "plane.toml"
    la.save(la.Experiment(data=la.make_dataset("plane"), model="plane", lr=0.05, epochs=20), session)
    out = tmp_path / "plane.png"
    r = _run([str(session), "--play", "--screenshot", str(out), "--quit-after", "2"], env=gl_env)
    assert r.returncode == 0, r.stderr
    assert "Error while drawing" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert out.is_file()


def test_bad_session_file_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[experiment]\noptimizer = \"sgdd\"\n")
    line = _one_line_error(_run([str(bad)]))
    assert "bad.toml" in line and "sgdd" in line
    missing = _one_line_error(_run([str(tmp_path / "nope.toml")]))
    assert "no such file" in missing


def test_unknown_preset_lists_the_presets():
    line = _one_line_error(_run(["--preset", "nonsense"]))
    assert "nonsense" in line and all(p.name in line for p in list_presets())
    assert "did you mean" not in line            # nothing is close to it


@pytest.mark.parametrize("command", [[], ["export", "-o", "x.png"]])
def test_a_mistyped_preset_suggests_the_close_one(command, tmp_path):
    """The README promises one line naming the unknown preset and the known ones; a typo gets its match."""
    result = _run([*command, "--preset", "mlp-moon"])
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    line = result.stderr.strip()
    assert line.startswith(("landscape-app: error:", "landscape-app export: error:")) and "Traceback" not in line
    assert "no preset named 'mlp-moon' (did you mean 'mlp-moons'?); the presets are: " in line
    assert all(p.name in line for p in list_presets()) and result.stdout == ""


@pytest.mark.parametrize("args", [["a.toml", "--preset", "adam-vs-sgd"], ["--screenshot", "x.gif"],
                                  ["--quit-after", "-1"], ["--no-such-flag"]])
def test_bad_command_lines(args, tmp_path):
    _one_line_error(_run(args))


def test_list_presets():
    r = _run(["--list-presets"])
    assert r.returncode == 0
    for p in list_presets():
        assert p.name in r.stdout and p.title in r.stdout
