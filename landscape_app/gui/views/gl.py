"""OpenGL helpers for the 3-D views: can we draw at all here, and the pieces both 3-D views share.

``pyqtgraph.opengl`` (and PyOpenGL) are imported only when a 3-D view is actually built, so the 2-D views and
the exporter's 2-D frames work on machines without OpenGL.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication

from .. import style

# pyqtgraph compiles each shader program once per process, which is only valid if every GL widget's context
# shares resources with the others (two 3-D views, an exporter's view, or a view rendered hidden and then
# shown). Qt allows switching sharing on only before the application object exists: importing the views
# before creating the QApplication (as the app and the exporter do) is enough.
if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

# Platforms that never give an OpenGL context to a widget (Qt's offscreen plugin draws with the raster engine).
_NO_GL_PLATFORMS = {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb"}
_cache: dict[str, bool] = {}


def gl_available() -> bool:
    """Whether a 3-D view can be drawn: a GUI platform with an OpenGL context we can make current.

    False without a QGuiApplication, on the offscreen/minimal platforms, without PyOpenGL, or when no context
    can be created (the window then shows a placeholder instead of the 3-D views). The answer is cached.
    """
    app = QGuiApplication.instance()
    if app is None:
        return False
    platform = QGuiApplication.platformName()
    if platform in _cache:
        return _cache[platform]
    ok = platform not in _NO_GL_PLATFORMS and _probe_context()
    _cache[platform] = ok
    return ok


def _probe_context() -> bool:
    try:
        import OpenGL.GL  # noqa: F401  (pyqtgraph.opengl needs it; it is not a dependency of pyqtgraph)
        from PySide6.QtGui import QOffscreenSurface, QOpenGLContext
    except Exception:
        return False
    ctx = QOpenGLContext()
    if not ctx.create():
        return False
    surface = QOffscreenSurface()
    surface.setFormat(ctx.format())
    surface.create()
    try:
        if not surface.isValid() or not ctx.makeCurrent(surface):
            return False
        ctx.doneCurrent()
        return True
    finally:
        surface.destroy()


LIGHT = np.array([0.35, -0.55, 1.0]) / np.linalg.norm([0.35, -0.55, 1.0])   # from above, front left


def shade(colors: np.ndarray, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Colours (len(x), len(y), 4) of a height field z (len(x), len(y)) lit by a fixed light, both faces lit.

    Strong ambient light keeps the colour map readable; the diffuse part shows the shape.
    """
    dzdx, dzdy = np.gradient(z, x, y)
    normal = np.stack([-dzdx, -dzdy, np.ones_like(z)], axis=-1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    light = 0.6 + 0.45 * np.abs(normal @ LIGHT)
    out = colors.copy()
    out[..., :3] = np.clip(colors[..., :3] * light[..., None], 0.0, 1.0)
    return out


def colors_for(values: np.ndarray, lo: float, hi: float, cmap_name: str = style.DEFAULT_COLORMAP) -> np.ndarray:
    """RGBA float colours of ``values`` through the colour map, ``lo``..``hi`` spanning it."""
    lut = style.lookup_table(cmap_name)
    span = hi - lo if hi > lo else 1.0
    t = np.clip((np.nan_to_num(values, nan=hi) - lo) / span, 0.0, 1.0)
    return lut[np.rint(t * (len(lut) - 1)).astype(np.int64)]


def mesh_gl_options() -> dict:
    """Opaque, depth-tested, and pushed slightly back in depth so lines drawn on the mesh stay in front."""
    from OpenGL import GL
    return {GL.GL_DEPTH_TEST: True, GL.GL_BLEND: False, GL.GL_CULL_FACE: False,
            GL.GL_POLYGON_OFFSET_FILL: True, "glPolygonOffset": (1.5, 2.0)}


def overlay_gl_options() -> dict:
    """Blended and drawn over the surface without depth test: paths and points stay visible and crisp
    (depth-tested lines lying on a surface stitch into it)."""
    from OpenGL import GL
    return {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
            "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}


REFERENCE_ASPECT = 1.8        # up to this width/height, the cameras frame their whole scenes


class _Framing:
    """pyqtgraph's field of view spans the width: a wide, short view (a row of a lecture-mode window, an exported
    frame) cut off the top and bottom of the surface. Wider than the reference shape, the field of view widens
    so that the height sees what it sees at the reference shape."""

    def projectionMatrix(self, region, viewport):  # noqa: N802 (pyqtgraph's name)
        fov = self.opts["fov"]
        aspect = viewport[2] / max(viewport[3], 1)
        if aspect > REFERENCE_ASPECT:
            half = math.atan(math.tan(math.radians(fov) / 2) * aspect / REFERENCE_ASPECT)
            self.opts["fov"] = math.degrees(2 * half)
        try:
            return super().projectionMatrix(region, viewport)
        finally:
            self.opts["fov"] = fov


def make_gl_view(native: bool = False):
    """A 3-D view on the dark background that frames its scene whatever its shape: ``(view, widget)``.

    ``view`` is pyqtgraph's GL view (items, camera, ``grabFramebuffer``); ``widget`` is what a layout holds.
    Not native, they are one ``QOpenGLWidget``, which renders even unshown (the exporter's frames). Native
    (the app's window), the view is a ``QOpenGLWindow`` of its own in a window container: a ``QOpenGLWidget``
    makes Qt compose the whole window through OpenGL on every repaint, which cost each frame 2-4 compositions of
    7-25 ms under software OpenGL (``benchmarks/bench_gui_stall.py``); beside a native window the rest of the
    window repaints as plain pixels, and only the 3-D view goes through OpenGL.
    """
    global _GLView, _GLWindow
    import pyqtgraph.opengl as gl
    if not native:
        if _GLView is None:
            class _GLView(_Framing, gl.GLViewWidget):
                pass
        view = _GLView()
        view.setBackgroundColor(style.BACKGROUND)
        return view, view
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QOpenGLContext
    from PySide6.QtOpenGL import QOpenGLWindow
    from PySide6.QtWidgets import QWidget
    if _GLWindow is None:
        from pyqtgraph.opengl.GLViewWidget import GLViewMixin

        class _GLWindow(_Framing, GLViewMixin, QOpenGLWindow):
            def rect(self) -> QRect:      # what GLViewWidget has as a widget (the labels' painter needs it)
                return QRect(0, 0, self.width(), self.height())
    # Shares the other views' context (AA_ShareOpenGLContexts), so pyqtgraph's shader programs serve both.
    view = _GLWindow(QOpenGLContext.globalShareContext())
    view.setBackgroundColor(style.BACKGROUND)
    return view, QWidget.createWindowContainer(view)


# The classes, made on first use (pyqtgraph.opengl is imported only when a 3-D view is built).
_GLView = None
_GLWindow = None


def make_gl_legend(parent):
    """The legend of a 3-D view: a label for the row above the GL widget (over it, it covered the surface)."""
    from PySide6.QtWidgets import QLabel, QSizePolicy
    label = QLabel(parent)
    label.setObjectName("gl_legend")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter)
    # Ignored width: a long name wraps or is cut, it never widens the view.
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setVisible(False)
    return label


def update_gl_legend(label, runs, lecture: bool, shown: bool = True) -> None:
    """Fill a 3-D view's legend with ``runs`` (RunStyles) in a row that wraps between runs: GL items have no
    legend of their own. ``shown`` False leaves it out (the main window names the runs once for all views)."""
    from html import escape
    s = style.sizes(lecture)
    entries = [f'<span style="color:{r.color}; font-size:{s.label_pt + 2}pt">&#9632;</span>'
               f'&nbsp;{escape(r.name).replace(" ", "&nbsp;")}' for r in runs]
    label.setText("&nbsp;&nbsp;&nbsp;&nbsp; ".join(entries))
    label.setStyleSheet(f"color: {style.FOREGROUND}; background: {style.BACKGROUND}; padding: 3px 6px;"
                        f"font-size: {s.label_pt}pt;")
    label.setVisible(shown and bool(entries))


def grab_with_legend(gl_view, gl_widget, label):
    """The 3-D view as it looks: its legend's row and the GL framebuffer under it (``grabFramebuffer`` leaves
    child widgets out, and ``QWidget.grab`` may miss GL content; ``gl_widget`` holds ``gl_view`` in the layout)."""
    from PySide6.QtGui import QColor, QImage, QPainter
    frame = gl_view.grabFramebuffer()
    if label.isHidden():
        return frame
    view = gl_widget.parentWidget()
    ratio = frame.devicePixelRatio()
    image = QImage(view.size() * ratio, QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(ratio)
    image.fill(QColor(style.BACKGROUND))
    painter = QPainter(image)
    label.render(painter, label.pos())
    painter.drawImage(gl_widget.pos(), frame)
    painter.end()
    return image
