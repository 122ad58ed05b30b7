"""The course-style helper: recording, the exact surface at any grid size, PNG output, the live window."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

import landscape_app as la
from landscape_app.core.helper import LossSurface

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


# -- drawing -----------------------------------------------------------------------------------------------
PATH_COLOR = np.array([0xE6, 0x9F, 0x00])   # the first run colour


def _path_pixels(png):
    from PySide6.QtGui import QImage
    image = QImage(str(png)).convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    rgb = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, : 3 * w]
    rgb = rgb.reshape(h, w, 3).astype(int)
    return (h, w), np.abs(rgb - PATH_COLOR).sum(axis=-1) < 40


def test_png_shows_the_path_where_it_went(qapp, tmp_path):
    left, right, empty = (LossSurface(20, 20, X, Y, n_samples=50) for _ in range(3))
    for k in range(30):   # along the bottom, in the left or in the right half of the plot
        left.set_para_loss(-18 + 0.4 * k, -15.0, 1.0)
        right.set_para_loss(6 + 0.4 * k, -15.0, 1.0)
    for helper, name in ((left, "left"), (right, "right"), (empty, "empty")):
        helper.plot_ps(tmp_path / f"{name}.png", size=(640, 480))
        helper.final_plot(tmp_path / f"{name}-final.png", size=(640, 480))
    (h, w), mask_left = _path_pixels(tmp_path / "left.png")
    _, mask_right = _path_pixels(tmp_path / "right-final.png")
    _, mask_empty = _path_pixels(tmp_path / "empty.png")
    assert (h, w) == (480, 640)
    bottom = slice(h // 2, h)         # below the legend, which also shows the colour
    half = w // 2
    assert mask_empty[bottom].sum() == 0
    assert mask_left[bottom, :half].sum() > 100 and mask_left[bottom, half:].sum() == 0
    assert mask_right[bottom, half:].sum() > 100 and mask_right[bottom, :half].sum() == 0
    assert not any(w.isVisible() for w in qapp.topLevelWidgets())      # files only: no window was shown


def test_image_errors(qapp, tmp_path):
    helper = LossSurface(20, 20, X, Y)
    with pytest.raises(la.ExportError, match="suffixes .png"):
        helper.plot_ps(tmp_path / "plot.txt")
    with pytest.raises(la.ExportError, match="does not exist"):
        helper.final_plot(tmp_path / "missing" / "plot.png")


@pytest.mark.qt_log_ignore("propagateSizeHints")   # the offscreen platform says so when a window is shown
def test_live_window_updates_without_blocking_and_final_plot_waits_for_close(qtbot):
    from PySide6.QtCore import QTimer
    from landscape_app.gui.helper_window import HelperWindow
    helper = LossSurface(20, 20, X, Y, n_samples=40)
    helper.set_para_loss(-15.0, -10.0, 100.0)
    helper.plot_ps()                                  # returns at once, the window is up
    window = helper._window
    assert isinstance(window, HelperWindow) and window.isVisible()
    assert window.contour.paths[0].n_drawn == 1
    assert window.views == (window.contour, window.surface3d, window.data, window.loss)
    assert window.surface3d.gl is None           # offscreen: the 3-D view shows its placeholder note
    helper.set_para_loss(-5.0, -3.0, 50.0)
    helper.plot_ps()
    assert helper._window is window                   # updated in place, not a new window each call
    items = window.contour.paths[0]
    assert items.n_drawn == 2
    assert list(items.current.data()[0]) == [-5.0] and list(items.current.data()[1]) == [-3.0]
    # final_plot blocks in an event loop until the window is closed (here by a timer, as a user would).
    QTimer.singleShot(0, window.close)
    helper.final_plot()
    assert not window.isVisible()
    window.deleteLater()


def test_png_without_any_display(tmp_path):
    """A script on a machine without a display still gets its image file (no QApplication beforehand)."""
    script = (
        "import torch, landscape_app as la\n"
        "x = torch.linspace(-2, 2, 20).view(-1, 1)\n"
        "h = la.LossSurface(5, 5, x, 3 * x + 1, n_samples=64)\n"
        "h.set_para_loss(-4.0, -4.0, 1.0); h.set_para_loss(0.0, 0.0, 1.0)\n"
        f"h.final_plot({str(tmp_path / 'out.png')!r})\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    (h, w), mask = _path_pixels(tmp_path / "out.png")
    assert (h, w) == (600, 800) and mask[h // 2:].sum() > 100


LIVE_3D = r"""
import sys
import torch
import numpy as np
import landscape_app as la
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
x = torch.linspace(-3, 3, 40).view(-1, 1)
h = la.LossSurface(15, 15, x, x - 1, n_samples=60)
for k in range(20):
    h.set_para_loss(-12 + 0.6 * k, -10 + 0.45 * k, 1.0)
h.plot_ps()
window = h._window
assert window.surface3d.gl is not None, "no OpenGL in the 3-D view"
shots = {}
def shoot():
    shots["3d"] = window.surface3d.render_image(500, 420).convertToFormat(QImage.Format.Format_RGB888)
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


def test_live_window_draws_the_path_in_3d_under_xvfb(gl_env):
    out = subprocess.run([sys.executable, "-c", LIVE_3D], env=gl_env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    orange, colourful, w, h = map(int, out.stdout.split()[-4:])
    assert (w, h) == (500, 420)
    assert colourful > 20000          # the coloured surface fills much of the view
    assert orange > 100               # the path on it (below the legend's swatch)
