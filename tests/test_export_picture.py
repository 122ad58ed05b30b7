"""landscape_app.export.save_picture, public since the first release: a view as it is on screen, as PNG or SVG."""
import numpy as np
import pytest
from PIL import Image

import landscape_app as la
from landscape_app.core.session import Session
from landscape_app.export.scene import prepare_scene

ORANGE = np.array([0xE6, 0x9F, 0x00])


@pytest.fixture(scope="module")
def scene():
    exp = la.Experiment(data=la.make_dataset("linear", n_samples=30, noise=0.2, seed=1), lr=0.05, epochs=12,
                        batch_size=10, start=(-12.0, 8.0))
    return prepare_scene(Session((exp,), title="Picture test"))


def _count(image: np.ndarray, color, tol: int = 30) -> int:
    return int((np.abs(image.reshape(-1, 3).astype(int) - color).max(axis=1) <= tol).sum())


def test_pictures_of_a_view_as_png_and_svg(qtbot, tmp_path, scene):
    from landscape_app.export import save_picture
    from landscape_app.gui.views import ContourView, RunStyle
    view = ContourView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.set_runs([RunStyle(0, "SGD", "#E69F00")])
    view.set_scene(scene.experiment, scene.surface)
    view.show_paths({0: scene.trajectories[0]})
    save_picture(view, tmp_path / "view.png")
    png = np.asarray(Image.open(tmp_path / "view.png").convert("RGB"))
    assert png.shape == (300, 400, 3) and _count(png, ORANGE) > 50
    save_picture(view, tmp_path / "view.svg")
    text = (tmp_path / "view.svg").read_text()
    assert text.count("<svg") == 1 and "clipPath" in text and "#e69f00" in text.lower()
    with pytest.raises(la.ExportError, match=".png or .svg"):
        save_picture(view, tmp_path / "view.jpg")
    with pytest.raises(la.ExportError, match="does not exist"):
        save_picture(view, tmp_path / "no-such-folder" / "view.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["view.png", "view.svg"]
