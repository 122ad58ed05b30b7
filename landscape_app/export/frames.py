"""Frames: the app's own views, laid out in one off-screen widget with a title and a caption, rendered to images.

The layout is designed at a height of 720 logical pixels and painted at the requested size with a device pixel
ratio, so a 1920x1080 export looks exactly like a 1280x720 one, only sharper.
"""
from __future__ import annotations

import dataclasses
import importlib
from typing import Iterator, Sequence

import numpy as np

from ..core.models import loss_unit
from ..core.errors import ExportError
from .frames_network import ProjectedPaths, contour_with_beside, loss_with_note, view_paths
from .images import qimage_to_qt32, qimage_to_rgb
from .plan import ExportPlan
from .scene import ExportScene

VIEW_CLASSES = {
    "contour": ("landscape_app.gui.views.contour", "ContourView"),
    "surface": ("landscape_app.gui.views.surface3d", "SurfaceView"),
    "loss": ("landscape_app.gui.views.loss_curve", "LossView"),
    "data": ("landscape_app.gui.views.data_view", "DataView"),
}
BASE_HEIGHT = 720           # logical height the layout is designed for
MIN_SCALE = 0.6
MARGIN = 10                 # logical pixels around and between the parts


def view_class(name: str):
    module, cls = VIEW_CLASSES[name]
    try:
        return getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as exc:
        raise ExportError(f"the {name!r} view is not available ({exc})") from None


def grid_cells(n: int, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Where each of ``n`` views goes: (row, column, row span, column span).

    Two views sit side by side on a wide frame and stacked on a tall one; three put the first one large on the
    left with the others stacked on the right; four make a 2x2 grid.
    """
    wide = width >= height
    if n == 1:
        return [(0, 0, 1, 1)]
    if n == 2:
        return [(0, 0, 1, 1), (0, 1, 1, 1)] if wide else [(0, 0, 1, 1), (1, 0, 1, 1)]
    if n == 3:
        if wide:
            return [(0, 0, 2, 1), (0, 1, 1, 1), (1, 1, 1, 1)]
        return [(0, 0, 1, 2), (1, 0, 1, 1), (1, 1, 1, 1)]
    if n == 4:
        return [(0, 0, 1, 1), (0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 1, 1)]
    raise ValueError(f"at most 4 views, not {n}")


class FrameRenderer:
    """Builds the views for ``scene`` at ``plan.size`` and renders the frame for any timeline point.

    Use as a context manager (or call ``close()``): it owns an off-screen top-level widget.
    """

    def __init__(self, scene: ExportScene, plan: ExportPlan, camera: dict | None = None):
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QColor, QImage, QPalette
        from PySide6.QtWidgets import QApplication, QGridLayout, QLayout, QSizePolicy, QVBoxLayout, QWidget

        from ..gui import style
        from ..gui.views.base import RunStyle
        from ..gui.scene_controller import SceneController
        from .caption import Caption

        if QApplication.instance() is None:
            raise RuntimeError("FrameRenderer needs a QApplication")
        self.scene, self.plan = scene, plan
        width, height = plan.size
        # Below 720 pixels the layout shrinks too, but not so far that its text becomes unreadable.
        self.scale = max(MIN_SCALE, height / BASE_HEIGHT)
        logical = (max(1, round(width / self.scale)), max(1, round(height / self.scale)))
        sizes = style.sizes(plan.lecture)

        self.window = QWidget()
        self.window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.window.setWindowTitle("landscape-app export")
        palette = self.window.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(style.BACKGROUND))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(style.FOREGROUND))
        self.window.setPalette(palette)
        self.window.setAutoFillBackground(True)
        outer = QVBoxLayout(self.window)
        # No size constraint on the top level: the offscreen platform warns about size hints it cannot pass on.
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        outer.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        outer.setSpacing(MARGIN // 2)

        self.title = self._add_title(outer, logical[0], sizes)

        grid = QGridLayout()
        grid.setSpacing(MARGIN)
        outer.addLayout(grid, stretch=1)
        self.styles = [RunStyle(i, name, color) for i, (name, color)
                       in enumerate(zip(scene.names, scene.colors))]
        self.views = {}
        cells = grid_cells(len(plan.views), *logical)
        exp = scene.experiment
        # A network's surface beside the main one (another network of the race, or the random slice through the
        # start) is drawn beside the main contour, in its cell.
        self.beside_view = None
        for name, (r, c, rs, cs) in zip(plan.views, cells):
            view = view_class(name)()
            self.views[name] = view
            # A network's loss curve has the projections' note beneath it (added once they are known).
            cell = loss_with_note(view) if exp.is_module and name == "loss" else view
            if name == "contour" and exp.is_module and scene.beside is not None:
                self.beside_view = view_class("contour")()
                cell = contour_with_beside(view, self.beside_view)
            # The cells share the frame by the grid's stretch alone, whatever size each would prefer (a network's
            # data view and the loss curve with its note prefer different heights).
            cell.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            grid.addWidget(cell, r, c, rs, cs)
        for r in range(max(r + rs for r, _, rs, _ in cells)):
            grid.setRowStretch(r, 1)
        for c in range(max(c + cs for _, c, _, cs in cells)):
            grid.setColumnStretch(c, 1)

        # Every run's losses in the shown surface's unit (a run trained on another loss is re-evaluated on it),
        # as the window shows them: heights in 3-D, the loss curve, the caption. Headless, evaluated here.
        # The window's scene controller, driven headless: it lifts the losses and computes the plane model's
        # slice as the first run moves (waited for, frame by frame, so every frame is the same on any machine).
        self.controller = SceneController(follow_every_s=0.0)
        self.controller.surface_ready.connect(self._show_surface)
        self.controller.set_run_experiments(dict(enumerate(scene.session.runs)))
        self.controller.lifted.reset(exp)
        paths = dict(enumerate(scene.trajectories))
        self.controller.lifted.compute(paths, batch_loss="loss" in plan.views)
        self.shown = tuple(self.controller.lifted.paths(paths, batch_loss="loss" in plan.views).values())

        self.caption = None
        if plan.caption:
            self.caption = Caption(self.styles, self.shown, logical[0] - 2 * MARGIN - 8,
                                   sizes.label_pt + 3, unit=f"{loss_unit(exp.criterion)} loss")
            outer.addWidget(self.caption)

        self._surface = None
        for view in self._all_views():
            view.set_lecture_mode(plan.lecture)
            view.set_log_scale(plan.log)
            view.set_runs(self.styles)
            # The caption names the runs in their colours: legends beside every view would only repeat it.
            view.set_run_legend(self.caption is None or not self.caption.with_names)
        self.controller.beside_ready.connect(self._show_beside)
        self.controller.seed(exp, scene.surface, scene.held_value(1), beside=scene.beside)
        self.projected = None
        if exp.is_module:
            self.projected = ProjectedPaths(self.controller, scene, self.styles, style.font(sizes.label_pt))
            loss = self.views.get("loss")
            if loss is not None:
                loss.parentWidget().layout().addWidget(self.projected.note)
            else:       # no loss curve: the note goes under the views, so a projection never passes for the path
                outer.insertWidget(outer.indexOf(self.caption) if self.caption is not None else outer.count(),
                                   self.projected.note)
        if "data" in self.views:
            self.controller.predictions_ready.connect(self.views["data"].show_predictions)
        final, _ = self._paths_at(self.scene.n_points)
        for name, view in self.views.items():
            # The whole run is known: axes that would follow the growing paths hold their final extent.
            view.fix_ranges(final(name))
        if self.beside_view is not None:
            self.beside_view.fix_ranges(self._beside_at(self.scene.n_points))
        self.camera = self._initial_camera(camera)

        self.window.resize(*logical)
        self.window.show()          # WA_DontShowOnScreen: laid out and polished, never mapped
        QApplication.processEvents()
        if self.projected is not None:
            self.projected.fix_height()
            QApplication.processEvents()
        self.image = QImage(width, height, QImage.Format.Format_RGB32)
        self.image.setDevicePixelRatio(self.scale)
        self._filled = False
        self._closed = False
        self._gl_views = None
        self._settle()

    def _show_surface(self, experiment, surface) -> None:
        self._surface = surface
        for view in self.views.values():
            view.set_scene(experiment, surface)

    def _show_beside(self, spec, surface) -> None:
        if self.beside_view is not None and spec is not None:
            self.beside_view.set_scene(spec.experiment, surface)
            self.beside_view.set_title(spec.title)
            self.views["contour"].set_title(spec.main_title)

    def _all_views(self) -> list:
        return [*self.views.values(), *([self.beside_view] if self.beside_view is not None else [])]

    def _beside_at(self, upto: int) -> dict:
        """What the contour beside the main one draws at timeline point ``upto`` (its runs' projections)."""
        if self.projected is None:
            return {}
        return {rid: p.flat for rid, p in self.projected.at(upto, beside=True).items()}

    def _add_title(self, outer, width: int, sizes):
        """The title (the plan's, else the session's) and, under the session's own title, its description."""
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QFontMetrics
        from PySide6.QtWidgets import QLabel

        from ..gui import style
        plan, session = self.plan, self.scene.session
        # An edited session's title and description are marked so (``Session.shown_title``).
        title = session.shown_title if plan.title is None else plan.title
        if not title:
            return None
        label = QLabel(title)
        label.setFont(style.font(sizes.title_pt + 6, bold=True))
        label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        outer.addWidget(label)
        subtitle = session.shown_description if plan.title in (None, session.title, session.shown_title) else ""
        # A description that needs more than two lines would squeeze the views: leave it out.
        font = style.font(sizes.label_pt + 1)
        if subtitle and QFontMetrics(font).horizontalAdvance(subtitle) < 1.9 * width:
            sub = QLabel(subtitle)
            sub.setFont(font)
            sub.setStyleSheet(f"color: {style.MUTED};")
            sub.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            sub.setWordWrap(True)
            outer.addWidget(sub)
        return label

    def _settle(self) -> None:
        """Paint once and let pyqtgraph resize its axes to the tick labels it measured, so the next paint is
        final (the views' own ``render_image`` does the same)."""
        from PySide6.QtWidgets import QApplication
        self.update(self.scene.n_points)
        self.paint()
        QApplication.processEvents()

    # -- camera -------------------------------------------------------------------------------------------
    def _initial_camera(self, camera: dict | None):
        view = self.views.get("surface")
        if view is None:
            return None
        if camera:
            view.set_camera(**camera)
        azimuth, elevation, distance = view.camera()
        return {"azimuth": azimuth, "elevation": elevation, "distance": distance}

    def _orbit(self, frame_index: int, n_motion: int) -> None:
        view = self.views.get("surface")
        if view is None or not self.plan.orbit or not self.camera:
            return
        fraction = min(frame_index, n_motion - 1) / max(n_motion - 1, 1)
        cam = dict(self.camera)
        cam["azimuth"] = self.camera.get("azimuth", 0.0) + self.plan.orbit * fraction
        view.set_camera(**cam)

    # -- one frame ----------------------------------------------------------------------------------------
    def update(self, upto: int, frame_index: int = 0, n_motion: int = 1) -> None:
        """Put every view at timeline point ``upto`` (points shown) and frame ``frame_index`` of the orbit."""
        # The plane model's slice follows the first run's held parameter (computed by the controller).
        self.controller.follow(self.scene.trajectories[0], upto)
        if "data" in self.views:
            # A network's decision regions or digits at the first run's shown step, as the window's data view.
            self.controller.update_predictions(0, self.scene.trajectories[0], upto)
        if self.controller.busy:
            self.controller.wait()
        paths, projected = self._paths_at(upto)
        for name, view in self.views.items():
            view.show_paths(paths(name), None)
        if self.beside_view is not None:
            self.beside_view.show_paths(self._beside_at(upto), None)
        if self.projected is not None:
            self.projected.show(projected, self.projected.at(upto, beside=True))
        self._orbit(frame_index, n_motion)
        if self.caption is not None:
            self.caption.show_at(upto)

    def _paths_at(self, upto: int):
        """``(paths, projections)``: ``paths(view name)`` is what each view draws at timeline point ``upto``, only
        the paths so far (a view never hints at where a run goes next); a network's projected on the plane
        (``frames_network.view_paths``), whose projections come second (None for a linear model)."""
        shown = {i: _prefix(t, upto) for i, t in enumerate(self.shown)}
        raw = projected = None
        if self.projected is not None:
            raw = {i: _prefix(t, upto) for i, t in enumerate(self.scene.trajectories)}
            projected = self.projected.at(upto)

        def paths(name: str) -> dict:
            return view_paths(name, shown, raw, projected)
        return paths, projected

    def paint(self):
        """Render the window into the frame image (a QImage owned by the renderer)."""
        from PySide6.QtCore import QPoint, QRect, QRectF
        from PySide6.QtGui import QColor, QPainter, QRegion

        from ..gui import style
        gl_views = self.gl_views()
        if gl_views or not self._filled:
            # The window paints every pixel it covers, its background included: the image needs filling once
            # (for edge pixels a scaled layout may leave), and again only under views laid over below.
            self.image.fill(QColor(style.BACKGROUND))
            self._filled = True
        region = QRegion(self.window.rect())
        for view in gl_views:
            # The GL views are laid over below; leave them out here so each scene is drawn once per frame.
            region -= QRegion(QRect(view.mapTo(self.window, QPoint(0, 0)), view.size()))
        self.window.render(self.image, QPoint(), region)
        if gl_views:
            # QWidget.render draws the GL scene but not what GL items paint with QPainter (the 3-D view's
            # labels): lay the view's own framebuffer grab over it.
            painter = QPainter(self.image)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            try:
                for view in gl_views:
                    top_left = view.mapTo(self.window, QPoint(0, 0))
                    painter.drawImage(QRectF(top_left.x(), top_left.y(), view.width(), view.height()),
                                      view.grab_image())
            finally:
                painter.end()
        return self.image

    def gl_views(self) -> list:
        """The views showing OpenGL content now (the 3-D surface; the data view of the plane model)."""
        if self._gl_views is None:
            from PySide6.QtOpenGLWidgets import QOpenGLWidget
            self._gl_views = [v for v in self.views.values()
                              if any(w.isVisibleTo(self.window) for w in v.findChildren(QOpenGLWidget))]
        return self._gl_views

    def render(self, upto: int, frame_index: int = 0, n_motion: int = 1, layout: str = "rgb") -> np.ndarray:
        """The frame at timeline point ``upto`` as an array of the plan's size: ``layout`` "rgb" gives RGB
        pixels (height, width, 3); "qt32" the frame image's own 32-bit pixels (height, width, 4) with no
        conversion (see ``qimage_to_qt32``), for a writer that takes them as they are."""
        self.update(upto, frame_index, n_motion)
        if layout == "qt32":
            return qimage_to_qt32(self.paint())
        return qimage_to_rgb(self.paint())

    def save_svg(self, path) -> None:
        """Write the final frame as SVG (see ``stills.save_svg``)."""
        from .stills import save_svg
        save_svg(self, path)

    def pixel_of(self, view_name: str, x: float, y: float) -> tuple[float, float]:
        """Where the data point (x, y) of a 2-D view lands in the frame, in frame pixels (for checks)."""
        view = self.views[view_name]
        point = view.mapTo(self.window, view.point_at(x, y))
        return point.x() * self.scale, point.y() * self.scale

    # -- lifetime -----------------------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.controller.shutdown()
        self.window.close()
        self.window.deleteLater()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _prefix(traj, upto: int):
    """The first ``upto`` points of a path; it is still running unless that is all of it."""
    if upto >= len(traj):
        return traj
    return dataclasses.replace(traj.upto(max(int(upto), 1)), outcome="running", message="")


def iter_frames(renderer: FrameRenderer, schedule: Sequence[int], layout: str = "rgb") -> Iterator[np.ndarray]:
    """Each frame of ``schedule`` (points shown per frame) as an array (``layout`` as in ``FrameRenderer.render``);
    repeats are not re-rendered."""
    n_motion = len(schedule) - renderer.plan.hold_frames()
    last_key, last = None, None
    for k, upto in enumerate(schedule):
        orbiting = bool(renderer.plan.orbit) and "surface" in renderer.views and k < n_motion
        key = (int(upto), k if orbiting else None)
        if key != last_key:
            last = renderer.render(int(upto), k, n_motion, layout)
            last_key = key
        yield last


def preview_image(scene: ExportScene, plan: ExportPlan):
    """The export's first frame as a QImage (for the dialog's preview); needs a QApplication."""
    from PySide6.QtGui import QImage
    schedule = plan.schedule(scene.n_points)
    with FrameRenderer(scene, plan) as renderer:
        renderer.update(int(schedule[0]), 0, max(len(schedule) - plan.hold_frames(), 1))
        image = QImage(renderer.paint())      # a copy: the renderer's image dies with it
    return image


__all__ = ["FrameRenderer", "iter_frames", "grid_cells", "qimage_to_rgb", "qimage_to_qt32", "view_class",
           "VIEW_CLASSES", "preview_image"]
