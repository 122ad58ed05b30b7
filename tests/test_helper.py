"""The course-style helper: its signature, recording, the exact surface at any grid size, the figures (files,
the live window, headless scripts), runs drawn apart, paths beyond the range."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

import landscape_app as la
from landscape_app.course import LossSurface

X = torch.arange(-3, 3, 0.1).view(-1, 1)
Y = 2 * X - 1 + 0.1 * torch.randn(X.size(), generator=torch.Generator().manual_seed(0))


def test_surface_is_the_exact_loss_with_the_right_sign_of_b():
    helper = LossSurface(5, (-4.0, 2.0), X, Y, n_samples=41)
    assert helper.surface.loss.shape == (41, 41) and helper.Z is helper.surface.loss
    assert helper.surface.w[0] == -5 and helper.surface.w[-1] == 5
    assert helper.surface.b[0] == -4 and helper.surface.b[-1] == 2
    x, y = X.double().numpy()[:, 0], Y.double().numpy()[:, 0]
    w, b = helper.w, helper.b                      # the course's meshgrids
    assert w.shape == b.shape == (41, 41)
    expected = ((w[..., None] * x + b[..., None] - y) ** 2).mean(axis=-1)
    np.testing.assert_allclose(helper.Z, expected, rtol=1e-9)
    i, j = np.unravel_index(np.argmin(helper.Z), helper.Z.shape)
    assert helper.surface.w[j] == pytest.approx(2.0, abs=0.25)
    assert helper.surface.b[i] == pytest.approx(-1.0, abs=0.25)   # not +1: no sign error in b


@pytest.mark.parametrize("n", [2, 7, 30, 123])
def test_any_grid_size(n):
    helper = LossSurface(20, 20, X, Y, n_samples=n)
    assert helper.Z.shape == (n, n) and np.all(np.isfinite(helper.Z))
    assert LossSurface(20, 20, X, Y, n_samples=(n, 5)).Z.shape == (5, n)


def test_other_criteria_and_the_logistic_model():
    labels = (X > 0.3).float()
    helper = LossSurface(10, 10, X, labels, n_samples=21, criterion="bce")
    assert helper.experiment.model == "logistic"
    x, y = X.double().numpy()[:, 0], labels.double().numpy()[:, 0]
    p = 1 / (1 + np.exp(-(helper.w[..., None] * x + helper.b[..., None])))
    with np.errstate(divide="ignore"):    # a saturated sigmoid: BCELoss clamps log(0) at -100
        expected = -np.mean(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100), axis=-1)
    np.testing.assert_allclose(helper.Z, expected, rtol=1e-7)
    l1 = LossSurface(3, 3, X, Y, n_samples=5, criterion="l1")
    np.testing.assert_allclose(l1.Z, np.abs(l1.w[..., None] * X.numpy()[:, 0] + l1.b[..., None]
                                            - Y.numpy()[:, 0]).mean(axis=-1), rtol=1e-6)


def test_recording_from_a_model_and_from_numbers():
    helper = LossSurface(20, 20, X, Y)
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(-15.0)
        model.bias.fill_(-10.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    criterion = nn.MSELoss()
    for _ in range(3):
        loss = criterion(model(X), Y)
        step = helper.set_para_loss(model, loss)
        assert step.batch_loss == pytest.approx(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    w = torch.tensor(1.5, requires_grad=True)
    b = torch.tensor([-0.5], requires_grad=True)
    helper.set_para_loss(w, b, torch.tensor(0.25))                # tensors, as in the course
    helper.set_para_loss(w.data.tolist(), b.data.tolist(), 0.5)   # the course's .tolist() form
    helper.set_para_loss(np.float32(3.0), 4, np.array([0.75]))
    assert helper.n == 6
    assert helper.W[0] == -15.0 and helper.B[0] == -10.0 and helper.W[3:] == [1.5, 1.5, 3.0]
    assert helper.B[3:] == [-0.5, -0.5, 4.0] and helper.LOSS[3:] == [0.25, 0.5, 0.75]
    t = helper.trajectory
    assert t.param_names == ("w", "b") and t.iteration.tolist() == list(range(6))
    # The full-data loss of every point is on the drawn surface.
    x, y = X.double().numpy()[:, 0], Y.double().numpy()[:, 0]
    np.testing.assert_allclose(t.loss, [np.mean((pw * x + pb - y) ** 2) for pw, pb in t.params], rtol=1e-12)
    assert t.loss[0] == pytest.approx(helper.LOSS[0], rel=1e-5)    # the full batch: the same loss
    helper.clear()
    assert helper.n == 0 and helper.W == []


class CourseModel(nn.Module):
    """The course's hand-made module with parameters ``w`` and ``b``."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(0.5))
        self.b = nn.Parameter(torch.tensor(-2.0))

    def forward(self, x):
        return self.w * x + self.b


def test_recording_a_hand_made_module():
    helper = LossSurface(20, 20, X, Y)
    helper.set_para_loss(CourseModel(), 1.0)
    assert (helper.W, helper.B) == ([0.5], [-2.0])


@pytest.mark.parametrize("args, kwargs, field, message", [
    ((-1, 20, X, Y), {}, "w_range", "a half-width must be a positive number"),
    ((20, "wide", X, Y), {}, "b_range", "or a pair (low, high)"),
    ((20, (3.0, 1.0), X, Y), {}, "b_range", "is empty"),
    ((20, 20, X, Y), {"n_samples": 1}, "n_samples", "from 2 to"),
    ((20, 20, X, Y), {"n_samples": 10**6}, "n_samples", "from 2 to"),
    ((20, 20, X, Y), {"criterion": "hinge"}, "criterion", "unknown criterion"),
    ((20, 20, X, Y), {"show": "screen"}, "show", "one of auto, inline, window, none"),
    ((20, 20, torch.ones(5, 2), torch.ones(5)), {}, "X", "needs 1 input feature"),
])
def test_bad_arguments_name_themselves(args, kwargs, field, message):
    with pytest.raises(la.ConfigError) as err:
        LossSurface(*args, **kwargs)
    assert err.value.field == field and message in str(err.value)


def test_bad_recordings():
    helper = LossSurface(20, 20, X, Y)
    with pytest.raises(la.ConfigError, match="exactly one weight and one bias, but the module has 3"):
        helper.set_para_loss(nn.Linear(2, 1), 1.0)
    with pytest.raises(la.ConfigError, match="needs a torch module"):
        helper.set_para_loss([1.0, 2.0], 1.0)
    with pytest.raises(la.ConfigError, match="w: must be a single number"):
        helper.set_para_loss([1.0, 2.0], 1.0, 1.0)
    with pytest.raises(TypeError):
        helper.set_para_loss(1.0)
    assert helper.n == 0


def test_the_course_signature_go_and_the_keywords_after_it(capsys):
    # The course's six positional parameters, in its order: go=False and go passed by position both work.
    for helper in (LossSurface(15, 13, X, Y, 30, go=False), LossSurface(15, 13, X, Y, 30, False),
                   LossSurface(15, 13, X, Y, 30)):     # go=True: nothing to show on in a headless test run
        assert helper.Z.shape == (30, 30) and helper.experiment.criterion == "mse"
        assert helper.surface.w[0] == -15 and helper.surface.b[-1] == 13
    with pytest.raises(TypeError):
        LossSurface(15, 13, X, Y, 30, True, "mse")     # ours are keyword-only
    assert capsys.readouterr().err == ""               # go=True in a headless run: nothing, not even a note


def test_a_recorded_point_takes_what_the_labs_pass():
    helper = LossSurface(15, 13, X, Y, go=False)
    w = torch.tensor(-15.0, requires_grad=True)
    b = torch.tensor(-10.0, requires_grad=True)
    loss = torch.mean((w * X + b - Y) ** 2)
    helper.set_para_loss(w, b, loss)                                   # tensors that require grad
    helper.set_para_loss(w.data.tolist(), b.data.tolist(), loss.tolist())
    helper.set_para_loss([[-15.0]], [-10.0], [[loss.item()]])        # [[w]] lists
    helper.set_para_loss(np.float32(-15.0), np.float64(-10.0), np.float32(loss.item()))
    assert helper.W == [-15.0] * 4 and helper.B == [-10.0] * 4
    assert helper.LOSS == pytest.approx([loss.item()] * 4)
    with pytest.raises(la.ConfigError, match="loss: must be a number"):
        helper.set_para_loss(1.0, 2.0, "small")


# -- drawing -----------------------------------------------------------------------------------------------
PATH_COLOR = np.array([0xE6, 0x9F, 0x00])   # the first run colour
SECOND_COLOR = np.array([0x56, 0xB4, 0xE9])


def _rgb(png):
    from PySide6.QtGui import QImage
    image = QImage(str(png)).convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    rgb = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, : 3 * w]
    return rgb.reshape(h, w, 3).astype(int)


def _mask(rgb, color=PATH_COLOR):
    return np.abs(rgb - color).sum(axis=-1) < 40


def _along_the_bottom(helper, left: bool):
    for k in range(30):
        w = (-18 + 0.4 * k) if left else (6 + 0.4 * k)
        helper.set_para_loss(w, -15.0, float(loss_at(helper.experiment, (w, -15.0))))


def loss_at(exp, params):
    from landscape_app.core.surface import loss_at as exact
    return exact(exp, np.asarray(params, dtype=np.float64))


def test_plot_ps_png_has_the_data_space_beside_the_contour_with_the_path(qapp, tmp_path):
    left, right = (LossSurface(20, 20, X, Y, n_samples=50, go=False) for _ in range(2))
    _along_the_bottom(left, True)
    _along_the_bottom(right, False)
    for helper, name in ((left, "left"), (right, "right")):
        helper.plot_ps(tmp_path / f"{name}.png", size=(1000, 440))
    rgb_left, rgb_right = _rgb(tmp_path / "left.png"), _rgb(tmp_path / "right.png")
    assert rgb_left.shape == (440, 1000, 3)
    contour = slice(500, 1000)                           # the right half: the contour
    lower = slice(220, 440)                              # below the legends, which also show the colour
    for rgb, side in ((rgb_left, "left"), (rgb_right, "right")):
        mask = _mask(rgb)[lower, contour]
        on_left, on_right = mask[:, :250].sum(), mask[:, 250:].sum()
        assert (on_left > 100 and on_right == 0) if side == "left" else (on_right > 100 and on_left == 0)
    figure = left._figures["plot_ps"]
    assert figure.panels["data"].title.text() == "Data space · iteration 30"
    assert figure.panels["contour"].title.text() == "Loss contour: MSE of w·x + b · iteration 30"
    # The data space: the points and the fitted line of the last point.
    data = figure.views["data"].plot2d
    assert len(data.points.data()[0]) == len(X)
    xs, ys = data.items[0]["line"].data()
    w, b = left.W[-1], left.B[-1]
    np.testing.assert_allclose(ys, w * xs + b, rtol=1e-9, atol=1e-9)
    assert not any(w.isVisible() for w in qapp.topLevelWidgets())      # files only: no window was shown


def test_final_plot_without_opengl_shows_the_2d_panels_and_says_so_once(qapp, tmp_path, capsys):
    helper = LossSurface(20, 20, X, Y, n_samples=50, go=False)
    _along_the_bottom(helper, True)
    helper.final_plot(tmp_path / "final.png")
    helper.final_plot(tmp_path / "final.jpg")
    assert _rgb(tmp_path / "final.png").shape == (440, 1300, 3)
    assert list(helper._figures["final_plot"].views) == ["contour", "data", "loss"]
    err = capsys.readouterr().err
    assert err.count("no OpenGL") <= 1 and "Traceback" not in err


def test_the_heat_map_is_finer_than_the_course_grid():
    helper = LossSurface(15, 13, X, Y, 30, go=False)
    shown = helper.display_surface()
    assert helper.Z.shape == (30, 30)
    assert shown.loss.shape == (201, 201) and (shown.w[0], shown.w[-1], shown.b[0], shown.b[-1]) == (-15, 15, -13, 13)
    x, y = X.double().numpy()[:, 0], Y.double().numpy()[:, 0]
    i, j = 77, 150
    assert shown.loss[i, j] == pytest.approx(np.mean((shown.w[j] * x + shown.b[i] - y) ** 2), rel=1e-9)
    assert LossSurface(15, 13, X, Y, 400, go=False).display_surface().loss.shape == (400, 400)


def test_a_path_beyond_the_range_widens_the_view_and_far_points_are_marked_at_its_edge(qapp, tmp_path):
    helper = LossSurface(15, 13, X, Y, 30, go=False, model="linear", criterion="mse")   # made-up losses
    for b in (-10.0, -12.0, -14.0, -15.5):          # SGD dips below b = -13 in the labs
        helper.set_para_loss(-5.0, b, 1.0)
    (w0, w1), (b0, b1) = helper.display_box()
    assert (w0, w1) == (-15, 15) and b1 == 13 and -17.0 < b0 < -15.5
    helper.plot_ps(tmp_path / "wide.png")
    figure = helper._figures["plot_ps"]
    contour = figure.views["contour"]
    assert contour.surface.b[0] == b0                   # the heat map covers the path
    assert len(figure.course_frame.getData()[0]) == 5   # the course's range as a dashed frame
    assert len(figure.edge_marks.data) == 0
    helper.set_para_loss(-5.0, -500.0, 1.0)            # a diverging step: far beyond any widening
    helper.plot_ps(tmp_path / "far.png")
    (_, _), (c0, _) = helper.display_box()
    assert c0 == pytest.approx(-13 - 26)              # widened by at most one span of the range
    marks = figure.edge_marks.data
    assert len(marks) == 1 and marks[0]["x"] == -5.0 and marks[0]["y"] == pytest.approx(c0)


def test_separate_runs_are_drawn_apart(qapp, tmp_path):
    helper = LossSurface(15, 13, X, Y, 30, go=False, model="linear", criterion="mse")   # made-up losses
    for k in range(10):                         # a first run from (-15, -10)
        helper.set_para_loss(-15.0 + k, -10.0 + 0.5 * k, 1.0)
    for k in range(6):                          # the loop run again from the same start: a second run
        helper.set_para_loss(-15.0 + 2 * k, -10.0, 1.0)
    model_a, model_b = nn.Linear(1, 1), nn.Linear(1, 1)
    for model in (model_a, model_a, model_b):   # another module object: a third run
        helper.set_para_loss(model, 1.0)
    helper.new_run()                            # or said outright
    helper.set_para_loss(0.0, 0.0, 1.0)
    runs = helper.trajectories
    assert [len(t) for t in runs] == [10, 6, 2, 1, 1] and helper.n == 20
    assert helper.trajectory.params.shape == (20, 2)             # the course's lists keep every point
    helper.plot_ps(tmp_path / "runs.png", size=(1000, 440))
    figure = helper._figures["plot_ps"]
    contour = figure.views["contour"]
    assert [contour.paths[i].n_drawn for i in range(5)] == [10, 6, 2, 1, 1]
    assert contour.legend_names() == ["run 1", "run 2", "run 3", "run 4", "run 5"]
    assert figure.panels["data"].title.text() == "Data space · iteration 20 · run 5"
    rgb = _rgb(tmp_path / "runs.png")
    assert _mask(rgb[200:, 500:], SECOND_COLOR).sum() > 50        # the second run in its own colour
    # Not joined: no segment from the first run's end (-6, -5.5) to the second's start (-15, -10).
    first = contour.paths[0].line
    assert len(first) == 9


def test_a_headless_script_gets_one_line_not_an_abort(tmp_path):
    """plot_ps() and final_plot() with no file and no display: one line on stderr, the script goes on."""
    script = (
        "import torch, landscape_app as la\n"
        "x = torch.linspace(-2, 2, 20).view(-1, 1)\n"
        "h = la.LossSurface(5, 5, x, 3 * x + 1, model='linear', criterion='mse')\n"   # go=True: no screen
        "h.set_para_loss(-4.0, -4.0, 1.0); h.set_para_loss(0.0, 0.0, 1.0)\n"
        f"h.plot_ps({str(tmp_path / 'first.png')!r})\n"    # Qt now runs (on a private Xvfb, if any)...
        "h.plot_ps(); h.plot_ps(); h.final_plot()\n"        # ...which is no screen to show a window on
        f"h.final_plot({str(tmp_path / 'out.png')!r})\n"
        "print('went on')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "went on"
    lines = [line for line in out.stderr.splitlines() if "LossSurface" in line]
    assert lines == ["LossSurface.plot_ps: no display to show the figure on; pass a file name to save it, "
                     "e.g. plot_ps('surface.png')"]
    assert "Traceback" not in out.stderr
    assert _rgb(tmp_path / "out.png").shape[:2] in ((820, 1000), (440, 1300))


def test_image_errors(qapp, tmp_path):
    helper = LossSurface(20, 20, X, Y, go=False)
    with pytest.raises(la.ExportError, match="suffixes .png"):
        helper.plot_ps(tmp_path / "plot.txt")
    with pytest.raises(la.ExportError, match="does not exist"):
        helper.final_plot(tmp_path / "missing" / "plot.png")
    with pytest.raises(la.ExportError, match="from 64 to 8192 pixels"):
        helper.plot_ps(tmp_path / "plot.png", size=(10, 10))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.qt_log_ignore("propagateSizeHints")   # the offscreen platform says so when a window is shown
def test_the_live_window_updates_in_place_and_never_blocks_without_a_screen(qtbot):
    from landscape_app.gui.helper_window import HelperWindow
    helper = LossSurface(20, 20, X, Y, n_samples=40, show="window", model="linear", criterion="mse")
    window = helper._figures["window"]                # go=True: the window opens at once
    qtbot.addWidget(window)
    assert isinstance(window, HelperWindow) and window.isVisible()
    assert window.panels["contour"].title.text() == "Loss contour: MSE of w·x + b · iteration 0"
    helper.set_para_loss(-15.0, -10.0, 100.0)
    helper.plot_ps()                                  # returns at once, the window is updated
    assert helper._figures["window"] is window
    assert window.views["contour"].paths[0].n_drawn == 1
    assert window.views["surface3d"].gl is None       # offscreen: the 3-D panel shows its placeholder note
    helper.set_para_loss(-5.0, -3.0, 50.0)
    helper.plot_ps()
    items = window.views["contour"].paths[0]
    assert items.n_drawn == 2
    assert list(items.current.data()[0]) == [-5.0] and list(items.current.data()[1]) == [-3.0]
    assert window.panels["data"].title.text() == "Data space · iteration 2"
    helper.final_plot()                 # offscreen: nobody could close it, so it does not wait
    assert window.isVisible()
    window.close()


LIVE = r"""
import sys
import torch
import numpy as np
import landscape_app as la
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
x = torch.linspace(-3, 3, 40).view(-1, 1)
h = la.LossSurface(15, 15, x, x - 1, 60)          # go=True on a desktop: the window opens at once
window = h._figures["window"]
assert window.isVisible()
for k in range(20):
    w, b = -12 + 0.6 * k, -10 + 0.45 * k
    h.set_para_loss(w, b, float(torch.mean((w * x + b - (x - 1)) ** 2)))
h.plot_ps()
assert h._figures["window"] is window
surface3d = window.views["surface3d"]
assert surface3d.gl is not None, "no OpenGL in the 3-D view"
shots = {}
def shoot():
    shots["3d"] = surface3d.render_image(500, 420).convertToFormat(QImage.Format.Format_RGB888)
    window.close()
QTimer.singleShot(0, shoot)
h.final_plot()              # returns once the window is closed
img = shots["3d"]
rgb = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, : 3 * img.width()]
rgb = rgb.reshape(img.height(), img.width(), 3).astype(int)
orange = np.abs(rgb - [0xE6, 0x9F, 0x00]).sum(axis=-1) < 60
colourful = rgb.std(axis=-1) > 30
print(int(orange[60:].sum()), int(colourful.sum()), img.width(), img.height())
"""


def test_on_a_desktop_the_window_opens_at_once_and_final_plot_waits_for_close(gl_env):
    out = subprocess.run([sys.executable, "-c", LIVE], env=gl_env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    orange, colourful, w, h = map(int, out.stdout.split()[-4:])
    assert (w, h) == (500, 420)
    assert colourful > 20000          # the coloured surface fills much of the view
    assert orange > 100               # the path on it (below the legend's swatch)


FINAL_3D = r"""
import sys, torch, landscape_app as la
x = torch.linspace(-3, 3, 40).view(-1, 1)
h = la.LossSurface(15, 15, x, x - 1, 30, go=False)
for k in range(20):
    w, b = -12 + 0.6 * k, -10 + 0.45 * k
    h.set_para_loss(w, b, float(torch.mean((w * x + b - (x - 1)) ** 2)))
h.final_plot(sys.argv[1])
print(list(h._figures["final_plot"].views))
"""


def test_final_plot_file_has_the_3d_surface_with_the_path_on_it(tmp_path):
    """No display: the file still gets the 3-D panel, drawn on a private Xvfb (as the exporter does)."""
    import shutil
    if shutil.which("Xvfb") is None:
        pytest.skip("the 3-D view needs Xvfb (make test installs it)")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-c", FINAL_3D, str(tmp_path / "final.png")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "['surface3d', 'contour', 'data', 'loss']"
    rgb = _rgb(tmp_path / "final.png")
    assert rgb.shape == (820, 1000, 3)
    panel = rgb[60:410, :500]                            # the 3-D panel, below its title and legend
    assert (rgb[:410, :500].std(axis=-1) > 30).mean() > 0.1
    assert _mask(panel).sum() > 100                      # the path, lifted onto the surface


NO_XCB = r"""
import sys, torch, landscape_app as la
from landscape_app.gui import helper_window
helper_window._xcb_loads = lambda: False       # as where libxcb-cursor0 is missing: Qt would abort on xcb
x = torch.linspace(-3, 3, 40).view(-1, 1)
h = la.LossSurface(15, 15, x, x - 1, 30, go=False, model="linear", criterion="mse")
h.set_para_loss(-12.0, -10.0, 1.0)
h.final_plot(sys.argv[1])
print(list(h._figures["final_plot"].views))
"""


def test_where_qt_cannot_load_its_xcb_plugin_the_figure_is_2d_not_an_abort(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-c", NO_XCB, str(tmp_path / "final.png")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "['contour', 'data', 'loss']"
    assert "no OpenGL here" in out.stderr
    assert _rgb(tmp_path / "final.png").shape == (440, 1300, 3)
