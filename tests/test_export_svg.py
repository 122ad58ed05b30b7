"""SVG stills as their users open them: drawn by librsvg (``rsvg-convert``, behind many LaTeX and Inkscape
pipelines), by Chromium headless and by Qt, and compared with the PNG still of the same frame: the same extent,
axes, labels, colour bar and footer, strokes as wide, text where Qt put it, and a small image difference.

Chromium is large and optional (the test skips without it); ``make test`` installs librsvg.
"""
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

import landscape_app as la
from landscape_app.core.session import Session
from landscape_app.export.frames import FrameRenderer
from landscape_app.export.plan import make_plan
from landscape_app.export.scene import prepare_scene
from landscape_app.export.svg_portable import portable_svg

SVG = "{http://www.w3.org/2000/svg}"
BACKGROUND = np.array([0x14, 0x16, 0x1C])
ORANGE = np.array([0xE6, 0x9F, 0x00])
BLUE = np.array([0x56, 0xB4, 0xE9])
RSVG = shutil.which("rsvg-convert")
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                None)
ENGINES = [
    pytest.param("qt", id="qt"),
    pytest.param("rsvg", id="librsvg",
                 marks=pytest.mark.skipif(RSVG is None, reason="rsvg-convert (Debian: librsvg2-bin) not installed")),
    pytest.param("chromium", id="chromium",
                 marks=pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed")),
]


def render_svg(engine: str, path, size, tmp_path) -> np.ndarray:
    """``path`` drawn by ``engine`` at ``size`` (width, height) pixels, as an RGB array."""
    width, height = size
    out = tmp_path / f"{path.stem}-{engine}.png"
    if engine == "qt":
        from PySide6.QtGui import QColor, QImage, QPainter
        from PySide6.QtSvg import QSvgRenderer

        from landscape_app.export.frames import qimage_to_rgb
        image = QImage(width, height, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        QSvgRenderer(str(path)).render(painter)
        painter.end()
        return qimage_to_rgb(image)
    if engine == "rsvg":
        subprocess.run([RSVG, "-w", str(width), "-h", str(height), str(path), "-o", str(out)], check=True,
                       timeout=120)
    else:
        # As root Chromium needs --no-sandbox; a fresh profile keeps runs apart.
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--hide-scrollbars",
                        f"--window-size={width},{height}", f"--screenshot={out}", path.as_uri()],
                       check=True, timeout=120, capture_output=True)
    return np.asarray(Image.open(out).convert("RGB"))


def ink(image: np.ndarray, box) -> np.ndarray:
    """Where, inside ``box`` (x0, y0, x1, y1), something stands out from the background."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    return np.abs(image[y0:y1, x0:x1].astype(int) - BACKGROUND).max(axis=2) > 60


def count(image: np.ndarray, color, tol: int = 30) -> int:
    return int((np.abs(image.reshape(-1, 3).astype(int) - color).max(axis=1) <= tol).sum())


def frame_box(renderer, widget, item=None) -> tuple[float, float, float, float]:
    """Where ``widget`` (or the pyqtgraph ``item`` shown in it) lies in the frame, in frame pixels."""
    from PySide6.QtCore import QPoint
    if item is None:
        top_left, w, h = widget.mapTo(renderer.window, QPoint(0, 0)), widget.width(), widget.height()
    else:
        rect = widget.mapFromScene(item.sceneBoundingRect()).boundingRect()
        top_left, w, h = widget.mapTo(renderer.window, rect.topLeft()), rect.width(), rect.height()
    s = renderer.scale
    return top_left.x() * s, top_left.y() * s, (top_left.x() + w) * s, (top_left.y() + h) * s


@pytest.fixture(scope="module")
def still(qapp, tmp_path_factory):
    """The final frame of a two-run race as PNG pixels and as an SVG file, with where its parts lie."""
    folder = tmp_path_factory.mktemp("svg")
    exp = la.Experiment(data=la.make_dataset("linear", n_samples=30, noise=0.2, seed=1), lr=0.05, epochs=12,
                        batch_size=10, start=(-12.0, 8.0))
    session = Session((exp, exp.replace(optimizer="adam", lr=0.8)), title="SVG test race",
                      description="SGD and Adam from the same start")
    scene = prepare_scene(session)
    plan = make_plan(str(folder / "still.svg"), views="contour,loss", size=(1280, 720))
    with FrameRenderer(scene, plan) as renderer:
        png = renderer.render(scene.n_points).copy()
        renderer.save_svg(plan.output)
        contour, loss = renderer.views["contour"], renderer.views["loss"]
        (_, _), (y_lo, y_hi) = contour.vb.viewRange()
        boxes = {
            "title": frame_box(renderer, renderer.title),
            "footer": frame_box(renderer, renderer.caption),
            "w axis": frame_box(renderer, contour.widget, contour.plot.getAxis("bottom")),
            "b axis": frame_box(renderer, contour.widget, contour.plot.getAxis("left")),
            "colour bar": frame_box(renderer, contour.widget, contour.colorbar),
            "iteration axis": frame_box(renderer, loss.widget, loss.plot.getAxis("bottom")),
            "loss axis": frame_box(renderer, loss.widget, loss.plot.getAxis("left")),
        }
        plot_area = frame_box(renderer, contour.widget, contour.vb)
        # Low in the plot: the part of the heat map that viewers cut off when clip regions were misplaced.
        low_point = renderer.pixel_of("contour", 0.0, y_lo + 0.05 * (y_hi - y_lo))
    return {"png": png, "svg": plan.output, "size": plan.size, "boxes": boxes, "plot_area": plot_area,
            "low_point": low_point}


@pytest.mark.parametrize("engine", ENGINES)
def test_svg_renders_as_the_png_still(engine, still, tmp_path):
    image = render_svg(engine, still["svg"], still["size"], tmp_path)
    png = still["png"]
    assert image.shape == png.shape
    # Anti-aliasing differs between engines; cut or missing parts, wide strokes or another font do not pass.
    assert np.abs(image.astype(int) - png.astype(int)).mean() < 4.0

    # The same extent: the heat map reaches the bottom of its axes.
    x, y = (int(round(v)) for v in still["low_point"])
    assert np.abs(image[y - 2:y + 3, x - 2:x + 3].astype(int) - png[y - 2:y + 3, x - 2:x + 3]).mean() < 20
    assert np.abs(image[y, x].astype(int) - BACKGROUND).max() > 40

    # Axes (tick labels and titles), the whole colour bar, the title and the footer: as much drawn, as wide.
    for name, box in still["boxes"].items():
        drawn, expected = ink(image, box), ink(png, box)
        assert abs(int(drawn.sum()) - int(expected.sum())) <= 0.2 * expected.sum() + 10, name
        columns, expected_columns = np.nonzero(drawn.any(axis=0))[0], np.nonzero(expected.any(axis=0))[0]
        assert abs(columns[0] - expected_columns[0]) <= 2 and abs(columns[-1] - expected_columns[-1]) <= 2, name
        rows, expected_rows = np.nonzero(drawn.any(axis=1))[0], np.nonzero(expected.any(axis=1))[0]
        assert abs(rows[0] - expected_rows[0]) <= 2 and abs(rows[-1] - expected_rows[-1]) <= 2, name

    # Paths as wide as in the PNG (cosmetic pens once came out tens of pixels wide in librsvg).
    for color in (ORANGE, BLUE):
        assert 0.7 * count(png, color) <= count(image, color) <= 1.4 * count(png, color)


def test_svg_markup_is_portable(still):
    text = still["svg"].read_text()
    root = ET.fromstring(text)
    assert (root.get("width"), root.get("height")) == ("1280", "720")
    # Nothing only Qt reads: no non-scaling strokes, no text in a font named "Sans Serif".
    assert "non-scaling-stroke" not in text and "<text" not in text and "Sans Serif" not in text
    # The text is there as glyph outlines, its words kept for search and screen readers.
    labels = [g.get("aria-label") for g in root.iter(f"{SVG}g") if g.get("aria-label")]
    assert "SVG test race" in labels and "iteration" in " ".join(labels)
    assert len(root.findall(f".//{SVG}use")) > 100
    # Clip regions in page coordinates: one of them is the contour plot's area.
    areas = []
    for clip in root.iter(f"{SVG}clipPath"):
        numbers = [float(v) for v in re.findall(r"[-+]?\d*\.?\d+(?:e[-+]?\d+)?", clip[0].get("d"))]
        xs, ys = numbers[0::2], numbers[1::2]
        areas.append((min(xs), min(ys), max(xs), max(ys)))
    assert any(np.allclose(area, still["plot_area"], atol=1.5) for area in areas), (areas, still["plot_area"])
    # Vectors, not pictures: only the heat map and the colour bar's gradient are images.
    assert len(root.findall(f".//{SVG}image")) == 2


def test_cosmetic_strokes_are_mapped_to_pixels():
    qt_svg = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg width="10mm" height="10mm" viewBox="0 0 100 100" xmlns="http://www.w3.org/2000/svg" version="1.1">
<g fill="none" stroke="black">
<g stroke="#e69f00" stroke-width="2" transform="matrix(10,0,0,-5,40,60)">
<polyline fill="none" vector-effect="non-scaling-stroke" points="0,0 1,1 " />
<path vector-effect="non-scaling-stroke" d="M0,0 L2,0 C2,1 3,1 3,2 Z" />
<path vector-effect="none" d="M0,0 L1,0" />
</g>
</g>
</svg>"""
    root = ET.fromstring(portable_svg(qt_svg, size=(100, 100)))
    assert (root.get("width"), root.get("height")) == ("100", "100")
    group = root.find(f"{SVG}g/{SVG}g")
    assert group.get("transform") is None and group.get("stroke-width") == "2"
    line, curve, scaled = list(group)
    assert line.get("points") == "40,60 50,55" and line.get("vector-effect") is None
    assert curve.get("d") == "M 40,60 L 60,60 C 60,55 70,55 70,50 Z"
    # A pen that does scale keeps its transform (and its width in those units).
    assert scaled.get("transform") == "matrix(10,0,0,-5,40,60)" and scaled.get("d") == "M0,0 L1,0"


def test_lines_are_cut_at_their_clip_rectangle():
    qt_svg = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg width="100" height="100" viewBox="0 0 100 100" xmlns="http://www.w3.org/2000/svg" version="1.1">
<defs><clipPath id="clipPath1"><path d="M10,10 L90,10 L90,50 L10,50 L10,10 Z "/></clipPath></defs>
<g clip-path="url(#clipPath1)"><g stroke="#e69f00" stroke-width="2">
<polyline fill="none" points="20,30 40,30 40,70 60,70 60,30 80,30" />
<path d="M 95,60 C 95,62 97,64 99,64 Z" />
<path d="M 85,40 C 85,42 95,44 95,44 Z" />
</g></g>
</svg>"""
    group = ET.fromstring(portable_svg(qt_svg)).find(f"{SVG}g/{SVG}g")
    # The dip below the plot is cut out (Qt's renderer ignores clip paths); the clip path stays for the others.
    assert [p.get("points") for p in group.findall(f"{SVG}polyline")] == ["20,30 40,30 40,50", "60,50 60,30 80,30"]
    # A marker wholly outside is left out; one across the edge stays, for the clip path to cut.
    assert [p.get("d")[:8] for p in group.findall(f"{SVG}path")] == ["M 85,40 "]


THREE_D_STILL = r"""
import sys
import landscape_app.gui.views                     # before the QApplication: GL context sharing
from PIL import Image
from PySide6.QtWidgets import QApplication
app = QApplication([])
import landscape_app as la
from landscape_app.core.session import Session
from landscape_app.export.frames import FrameRenderer
from landscape_app.export.plan import make_plan
from landscape_app.export.scene import prepare_scene

folder = sys.argv[1]
exp = la.Experiment(data=la.make_dataset("linear", n_samples=24, noise=0.3, seed=4), lr=0.08, epochs=6,
                    grid=la.Grid(resolution=(61, 51)))
scene = prepare_scene(Session((exp,), title="3-D still"))
plan = make_plan(folder + "/still.svg", views="contour,surface", size=(640, 360))
with FrameRenderer(scene, plan) as renderer:
    Image.fromarray(renderer.render(scene.n_points)).save(folder + "/still.png")
    renderer.save_svg(plan.output)
"""


def test_3d_view_is_embedded_as_an_image(tmp_path, gl_env):
    done = subprocess.run([sys.executable, "-c", THREE_D_STILL, str(tmp_path)], capture_output=True, text=True,
                          env=gl_env, timeout=300)
    assert done.returncode == 0, done.stderr
    root = ET.fromstring((tmp_path / "still.svg").read_bytes())
    images = []
    for group in root.iter(f"{SVG}g"):
        a, _, _, _, e, _ = (float(v) for v in re.findall(r"[-+\d.e]+", group.get("transform", "matrix(1,0,0,1,0,0)")))
        images += [(a * float(i.get("x")) + e, a * float(i.get("width"))) for i in group.findall(f"{SVG}image")]
    # The 3-D view fills the right half as one picture; the contour beside it stays vectors (but for its heat
    # map and its colour bar's gradient).
    assert len(images) == 3 and any(x > 310 and 290 < width < 330 for x, width in images), images
    png = np.asarray(Image.open(tmp_path / "still.png").convert("RGB"))
    image = render_svg("rsvg" if RSVG else "qt", tmp_path / "still.svg", (640, 360), tmp_path)
    assert np.abs(image.astype(int) - png.astype(int)).mean() < 6.0
    right = image[:, 330:].astype(int)
    assert ((right[:, :, 1] > right[:, :, 0] + 30) & (right[:, :, 1] > 100)).sum() > 1000   # the surface
