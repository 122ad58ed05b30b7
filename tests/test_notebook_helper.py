"""The course helper in a real Jupyter kernel with no display, as hosted course notebooks run: the cells run, the
kernel lives, and ``go=True``, ``plot_ps`` and ``final_plot`` put their figures inline as PNG images."""
import base64
import json
import os
import sys

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

KERNEL = "landscape-app-test"

# The course's logistic-regression lab (MSE from a bad start), the helper swapped for la.LossSurface.
CELLS = [
    """\
import torch
from torch import nn
from torch.utils.data import Dataset, DataLoader
import landscape_app as la
plot_error_surfaces = la.LossSurface

class Data(Dataset):
    def __init__(self):
        self.x = torch.arange(-1, 1, 0.1).view(-1, 1)
        self.y = torch.zeros(self.x.shape[0], 1)
        self.y[self.x[:, 0] > 0.2] = 1
        self.len = self.x.shape[0]
    def __getitem__(self, index):
        return self.x[index], self.y[index]
    def __len__(self):
        return self.len

class logistic_regression(nn.Module):
    def __init__(self, n_inputs):
        super(logistic_regression, self).__init__()
        self.linear = nn.Linear(n_inputs, 1)
    def forward(self, x):
        return torch.sigmoid(self.linear(x))

data_set = Data()
model = logistic_regression(1)
model.state_dict()['linear.weight'].data[0] = torch.tensor([5])
model.state_dict()['linear.bias'].data[0] = torch.tensor([-10])
criterion = nn.MSELoss()
trainloader = DataLoader(dataset=data_set, batch_size=3)
optimizer = torch.optim.SGD(model.parameters(), lr=2)""",
    "get_surface = plot_error_surfaces(15, 13, data_set[:][0], data_set[:][1], 30)",
    """\
def train_model(epochs):
    for epoch in range(epochs):
        for x, y in trainloader:
            yhat = model(x)
            loss = criterion(yhat, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            get_surface.set_para_loss(model, loss.tolist())
        if epoch % 20 == 0:
            get_surface.plot_ps()
train_model(41)""",
    "get_surface.final_plot()",
    "print(get_surface.experiment.model, get_surface.experiment.criterion, get_surface.n)",
]
GO, PLOT_PS, FINAL, CHECK = 1, 2, 3, 4


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A kernelspec running this interpreter, and an environment with no display for the kernel."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "landscape-app test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), os.environ.get("PYTHONPATH", "")] if p))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _run(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=300,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return nb


def _images(cell, tmp_path, name):
    """The cell's inline PNGs, decoded (and saved beside the test's files, to look at)."""
    from PySide6.QtGui import QImage
    out = []
    for k, output in enumerate(o for o in cell.outputs if "image/png" in o.get("data", {})):
        png = base64.b64decode(output["data"]["image/png"])
        (tmp_path / f"{name}-{k}.png").write_bytes(png)
        image = QImage.fromData(png, "PNG")
        assert not image.isNull()
        out.append(image)
    return out


def _text(cell, stream):
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == stream)


def _colourful(image) -> float:
    """The share of clearly coloured pixels (the colour map, the paths) in the image."""
    image = image.convertToFormat(image.Format.Format_RGB888)
    rgb = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    rgb = rgb[:, : 3 * image.width()].reshape(image.height(), image.width(), 3).astype(int)
    return float((rgb.std(axis=-1) > 30).mean())


def test_the_lab_runs_in_a_kernel_without_a_display_and_shows_its_figures_inline(kernel_env):
    if not any(os.access(os.path.join(d, "Xvfb"), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep)):
        pytest.skip("the 3-D figure needs Xvfb (make test installs it)")
    nb = _run(kernel_env)
    for cell in nb.cells:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.outputs
    assert _text(nb.cells[CHECK], "stdout").split() == ["logistic", "mse", "287"]   # the lab's own loss
    go = _images(nb.cells[GO], kernel_env, "go")
    plots = _images(nb.cells[PLOT_PS], kernel_env, "plot_ps")
    final = _images(nb.cells[FINAL], kernel_env, "final")
    assert [(i.width(), i.height()) for i in go] == [(1000, 440)]
    assert [(i.width(), i.height()) for i in plots] == [(1000, 440)] * 3        # epochs 0, 20 and 40
    assert [(i.width(), i.height()) for i in final] == [(1000, 820)]
    # The 3-D surface is drawn (not a placeholder): its panel, the top left quarter, is full of colour.
    top_left = final[0].copy(0, 0, 500, 410)
    assert _colourful(top_left) > 0.1
    assert "no OpenGL" not in _text(nb.cells[FINAL], "stderr")


def test_without_xvfb_the_figures_fall_back_to_2d_with_a_note(kernel_env, monkeypatch):
    bare = kernel_env / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))          # no Xvfb to find, and a display that does not answer:
    monkeypatch.setenv("DISPLAY", ":987")          # the kernel must not die all the same
    nb = _run(kernel_env)
    for cell in nb.cells:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.outputs
    go = _images(nb.cells[GO], kernel_env, "go-2d")
    final = _images(nb.cells[FINAL], kernel_env, "final-2d")
    plots = _images(nb.cells[PLOT_PS], kernel_env, "plot_ps-2d")
    assert len(go) == 1 and len(plots) == 3
    assert [(i.width(), i.height()) for i in final] == [(1300, 440)]     # contour, data, loss in a row
    notes = _text(nb.cells[GO], "stderr") + _text(nb.cells[FINAL], "stderr")
    assert notes.count("no OpenGL here") == 1 and len(notes.strip().splitlines()) == 1
