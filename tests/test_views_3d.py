"""The OpenGL views, rendered in a subprocess on pytest-xvfb's display (OpenGL needs a real X server)."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtGui import QImage

from landscape_app.gui import style
from landscape_app.gui.views import RUN_COLORS, SurfaceView, gl_available, surface3d

SCRIPT = r"""
import json, sys
import numpy as np
import landscape_app.gui.views as views            # before the QApplication: GL context sharing
from PySide6.QtWidgets import QApplication
app = QApplication([])
from landscape_app.core.data import make_dataset
from landscape_app.core.experiment import Experiment
from landscape_app.core.surface import compute_surface
from landscape_app.core.training import run
from landscape_app.gui.views import DataView, RunStyle, RUN_COLORS, SurfaceView, gl_available

out = sys.argv[1]
report = {"gl": gl_available(), "platform": app.platformName()}
exp = Experiment(epochs=12)
paths = {0: run(exp), 1: run(Experiment(epochs=12, optimizer="adam", lr=1.0))}
runs = [RunStyle(0, "SGD", RUN_COLORS[0]), RunStyle(1, "Adam", RUN_COLORS[1])]

view = SurfaceView()
view.set_scene(exp, compute_surface(exp))
view.set_runs(runs)
view.show_paths(paths)
view.render_image(640, 480).save(out + "/surface.png")            # never shown: as the exporter renders
report["current"] = {k: view.project(*t.params[-1], t.loss[-1]) for k, t in paths.items()}
report["start"] = view.project(*paths[0].params[0], paths[0].loss[0])
report["legend_rect"] = list(view.legend.geometry().getRect())
report["gl_rect"] = list(view.gl.geometry().getRect())
import dataclasses
titled = SurfaceView()                 # a random plane's long direction names, as a network's surface has
surface = compute_surface(exp)
named = ("random 1 (filter-normalised)", "random 2 (filter-normalised)")
titled.set_scene(exp, dataclasses.replace(surface, axes=named))
titled.render_image(640, 480)
top_left = titled.gl.pos()
report["title_boxes"] = {text: [b.x() + top_left.x(), b.y() + top_left.y(), b.width(), b.height()]
                         for text, b in titled.labels.boxes}
report["view_size"] = [titled.width(), titled.height()]
report["surface_nodes"] = [titled.project(float(x), float(y), float(surface.loss[i, j]))
                           for i, y in enumerate(surface.b) for j, x in enumerate(surface.w)]
titled.close()
view.show_paths(paths, upto=1)
view.render_image().save(out + "/surface_upto1.png")
view.set_camera(120.0, 60.0, 25.0)
report["camera"] = list(view.camera())
view.render_image().save(out + "/surface_orbit.png")
div = run(exp.replace(lr=1.5, epochs=30))                        # diverges, leaving the box at once
lone = SurfaceView()
lone.set_scene(exp, compute_surface(exp))
lone.set_runs(runs[:1])
lone.show_paths({0: div})
report["diverged"] = {"outcome": div.outcome, "vertices": len(lone.paths.pos),
                      "current": np.asarray(lone.currents.pos).tolist()}
lone.close()
view.show()                                                      # hidden first, then shown: still draws
app.processEvents()
view.render_image().save(out + "/surface_shown.png")
view.close()

plane = Experiment(data=make_dataset("plane"), model="plane", epochs=2, batch_size=10)
data = DataView()
data.set_runs(runs[:1])
data.set_scene(plane, None)
data.show_paths({0: run(plane)}, upto=3)
report["data_mode"] = data.mode
data.render_image(640, 480).save(out + "/data_plane.png")

from PySide6.QtCore import QPoint
from landscape_app.gui.main_window import MainWindow
window = MainWindow()
window.resize(1280, 800)
window.show()
for _ in range(20):
    app.processEvents()
window.screenshot()             # settles the layout (pyqtgraph sizes its axes when it first paints them)
app.processEvents()
gl_view = window.views.surface3d
corner = gl_view.mapTo(window, QPoint(0, 0))
report["view_rect"] = [corner.x(), corner.y(), gl_view.width(), gl_view.height()]
report["window_gl_legend"] = gl_view.legend.isVisible()
gl_view.grab_image().save(out + "/window_3d.png")
window.screenshot().save(out + "/window.png")
window.grab().save(out + "/window_grab.png")
# On the screen: the window's 3-D view is an OpenGL window of its own; what the X server shows there is its picture.
from PySide6.QtOpenGL import QOpenGLWindow
report["window_gl_is_window"] = isinstance(gl_view.gl, QOpenGLWindow)
inner = gl_view.gl_widget
corner = inner.mapToGlobal(QPoint(0, 0))
app.primaryScreen().grabWindow(0, corner.x(), corner.y(), inner.width(), inner.height()).save(out + "/screen_3d.png")
gl_view.gl.grabFramebuffer().save(out + "/framebuffer_3d.png")
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
before = gl_view.camera()
QTest.mousePress(gl_view.gl, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(100, 100))
for i in range(1, 6):
    QTest.mouseMove(gl_view.gl, QPoint(100 + 20 * i, 100))
    app.processEvents()
QTest.mouseRelease(gl_view.gl, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(200, 100))
report["window_orbit"] = [list(before), list(gl_view.camera())]
window.close()
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, xvfb):
    import os
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", DISPLAY=f":{xvfb.display}")
    out = tmp_path_factory.mktemp("gl")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(out)], env=env, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return out, json.loads(proc.stdout.strip().splitlines()[-1])


def load(path) -> np.ndarray:
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : 3 * img.width()].reshape(img.height(), img.width(), 3).astype(int).copy()


def near(arr, color, tol=45) -> np.ndarray:
    c = style.qcolor(color)
    return np.abs(arr - np.array([c.red(), c.green(), c.blue()])).sum(axis=2) < tol


def around(mask, xy, r=6) -> bool:
    x, y = int(round(xy[0])), int(round(xy[1]))
    return bool(mask[max(0, y - r): y + r + 1, max(0, x - r): x + r + 1].any())


def test_gl_is_available_under_xvfb_and_the_surface_is_drawn(rendered):
    out, report = rendered
    assert report["gl"] is True and report["platform"] == "xcb"
    arr = load(out / "surface.png")
    assert arr.shape == (480, 640, 3)
    # The colour map's ends are present: viridis' dark purple valley floor and its yellow walls.
    lut = (style.lookup_table()[:, :3] * 255).astype(int)
    assert near(arr, "#%02x%02x%02x" % tuple(lut[200]), 60).sum() > 500
    bg = style.qcolor(style.BACKGROUND)
    assert (np.abs(arr - [bg.red(), bg.green(), bg.blue()]).sum(axis=2) < 10).mean() > 0.2


def test_current_points_in_each_runs_colour_where_the_path_ends(rendered):
    out, report = rendered
    arr = load(out / "surface.png")
    for run_id, xy in report["current"].items():
        color = RUN_COLORS[int(run_id)]
        assert around(near(arr, color), xy), f"run {run_id} current point not at {xy}"
    # Upto 1: only the start point is drawn; the final points are gone (they are far from the start).
    first = load(out / "surface_upto1.png")
    for run_id, xy in report["current"].items():
        if np.hypot(xy[0] - report["start"][0], xy[1] - report["start"][1]) > 30:
            assert not around(near(first, RUN_COLORS[int(run_id)]), xy, r=3)


def test_camera_orbit_and_showing_after_hidden_rendering(rendered):
    out, report = rendered
    assert report["camera"] == [120.0, 60.0, 25.0]
    gl_top = report["gl_rect"][1]          # the legend's row above the GL picture does not move with the camera
    a, b = load(out / "surface.png")[gl_top:], load(out / "surface_orbit.png")[gl_top:]
    assert np.abs(a - b).sum(axis=2).astype(bool).mean() > 0.1
    shown = load(out / "surface_shown.png")
    assert (shown.std(axis=(0, 1)) > 10).all()          # not a blank or broken frame


def test_plane_model_data_view_in_3d(rendered):
    out, report = rendered
    assert report["data_mode"] == "3d"
    arr = load(out / "data_plane.png")
    assert near(arr, RUN_COLORS[0], 80).sum() > 200     # the translucent plane and the ringed batch


def test_no_opengl_offscreen_gives_a_placeholder(qtbot):
    assert gl_available() is False                       # the test process runs offscreen
    view = SurfaceView()
    qtbot.addWidget(view)
    assert view.gl is None and "OpenGL" in view.placeholder.text()
    view.set_runs([])
    view.show_paths({})
    view.set_lecture_mode(True)
    assert not view.render_image(200, 100).isNull()


def test_the_windows_3d_view_is_an_opengl_window_of_its_own_and_shows_on_screen(rendered):
    """A QOpenGLWidget would make Qt compose the whole window through OpenGL on every repaint (see
    views.gl.make_gl_view): the window's 3-D view is a QOpenGLWindow, drawn on screen, and orbits by mouse."""
    out, report = rendered
    assert report["window_gl_is_window"]
    screen, frame = load(out / "screen_3d.png"), load(out / "framebuffer_3d.png")
    assert screen.shape == frame.shape
    on_screen = screen.sum(axis=2) > 0          # the X server's screen may end before the window does: black
    assert on_screen.mean() > 0.3
    background = near(frame, style.BACKGROUND)
    assert 0.2 < background[on_screen].mean() < 0.95             # the surface is there, on the dark background
    assert np.abs(screen - frame)[on_screen].mean() < 4         # the screen shows the view's own picture
    (azimuth0, elevation0, _), (azimuth1, elevation1, _) = report["window_orbit"]
    assert azimuth1 != azimuth0


def test_window_screenshot_includes_what_the_3d_view_paints_over_opengl(rendered):
    """``QWidget.grab`` of the window misses the 3-D view's axis labels (painted over GL); ``screenshot`` lays
    the view's own picture over its place."""
    out, report = rendered
    x, y, w, h = report["view_rect"]
    shot, grab, own = load(out / "window.png"), load(out / "window_grab.png"), load(out / "window_3d.png")
    assert own.shape == (h, w, 3)
    assert np.array_equal(shot[y: y + h, x: x + w], own)
    assert not np.array_equal(grab[y: y + h, x: x + w], own)       # what the plain grab leaves out
    assert np.array_equal(shot[:, : x - 1], grab[:, : x - 1])       # the rest of the window is the grab


def test_a_path_that_leaves_the_box_is_drawn_to_its_edge(rendered):
    """A diverging run left the box on its first step and the 3-D view drew nothing of it."""
    d = rendered[1]["diverged"]
    assert d["outcome"] == "diverged" and d["vertices"] >= 2
    (x, y, _), = d["current"]
    assert max(abs(x), abs(y)) == pytest.approx(surface3d.SIZE / 2)      # on the edge of the drawn box


def test_the_3d_legend_sits_above_the_surface_not_over_it(rendered):
    """The legend has its own row above the GL picture (over it, it covered the surface), and the image of the
    view holds both; inside the window the one legend above all views names the runs instead."""
    out, report = rendered
    lx, ly, lw, lh = report["legend_rect"]
    gx, gy, gw, gh = report["gl_rect"]
    assert lh > 0 and ly + lh <= gy and gy + gh == 480
    arr = load(out / "surface.png")
    legend_rows = arr[ly: ly + lh]
    assert near(legend_rows, RUN_COLORS[0]).any() and near(legend_rows, RUN_COLORS[1]).any()
    assert not report["window_gl_legend"]



def test_axis_titles_lie_off_the_surface_and_inside_the_view(rendered):
    """Centred at the axes' far ends, long titles lay across the surface and past the view's bottom edge."""
    _, report = rendered
    boxes = report["title_boxes"]
    assert {"random 1", "random 2"} <= set(boxes)          # the normalisation is left to the plane's line
    assert "random 1 (filter-normalised)" not in boxes
    width, height = report["view_size"]
    nodes = np.array(report["surface_nodes"])
    for text in ("random 1", "random 2", "loss"):
        x, y, w, h = boxes[text]
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height, (text, boxes[text])
        inside = (nodes[:, 0] > x) & (nodes[:, 0] < x + w) & (nodes[:, 1] > y) & (nodes[:, 1] < y + h)
        assert not inside.any(), (text, boxes[text], nodes[inside][:3])
