"""File > Export animation: the export's choices, a preview of its first frame, and a progress dialog with Cancel.

The file name and the format always agree: choosing a format changes the name's ending, and typing a name with a
known ending (``.gif``, ``.mp4``, a folder ending in ``/``) chooses its format; a name with another ending is
refused in place, since the name decides what is written. A still or the surface's data greys out the frame rate,
pacing, hold and orbit (their tooltip says why); once a file is written, Cancel reads Close.

The export runs in short slices from the event loop (``export.SlicedJob``): frames are widgets rendered in the
GUI thread, and the window stays responsive. Cancel (or closing the dialog) aborts the writer: the target is
left as it was and no temporary file remains.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QMessageBox,
                               QProgressDialog, QPushButton, QRadioButton, QSpinBox, QVBoxLayout)

from .. import export
from ..core.errors import LandscapeError
from ..core.inputs import check_not_input, session_inputs
from ..core.session import Session
from . import style
from .export_names import FORMATS, default_folder, dialog_message, format_of, frames_note, slug, window_paths
from .export_surface import ExportSurfaces
from .views.gl import gl_available

VIEW_LABELS = (("contour", "Contour"), ("surface", "3-D surface"), ("loss", "Loss curve"), ("data", "Data"))
SIZES = ("1280x720", "1920x1080", "854x480", "640x360", "480x270", "1080x1080")
PREVIEW_WIDTH = 480
PREVIEW_DELAY_MS = 250


class ExportDialog(QDialog):
    """Export ``session``'s runs. ``trajectories``: the window's paths (a sequence in run order, or a mapping of
    run id to path in run order, as ``Playback.paths()`` gives); without them the runs are trained here.
    A network's surface: ``surface``, the window's (on the plane it shows), else the one the window's scene
    would compute for the session's plane and the window's ``metric``, computed off the GUI thread
    (``ExportSurfaces``)."""

    exported = Signal(str)      # the path written

    def __init__(self, session: Session, trajectories: Sequence | Mapping | None = None, parent=None, *,
                 surface=None, metric: str = "loss", beside=None):
        super().__init__(parent)
        self.setWindowTitle("Export animation")
        self.session = session
        self.window_paths = window_paths(trajectories, len(session.runs))
        # Not ``self.metric``: QWidget has a metric() of its own.
        self.window_surface, self.surface_metric = surface, metric
        self.window_beside = beside          # the window's surface beside its main one, or None
        # a network's surface computed here (off the GUI thread), per choice of paths (a plane may fit them)
        self.surfaces = ExportSurfaces(self)
        self.surfaces.message.connect(self._say)
        self.trained = None          # the runs trained to their end here
        self._after_training = []    # what waits for them while they train
        self.job = None
        self.progress = None
        self.result = None
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.update_preview)
        self._build()
        self._connect()
        self._validate()
        self._preview_timer.start()

    # -- layout -----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        form = QFormLayout()
        self.format = QComboBox()
        for label, suffix in FORMATS:
            self.format.addItem(label, suffix)
        form.addRow("Format", self.format)
        self.path = QLineEdit(str(default_folder() / (slug(self.session.title) + ".mp4")))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("Save to", row)

        views = QHBoxLayout()
        self.view_boxes = {}
        for name, label in VIEW_LABELS:
            box = QCheckBox(label)
            box.setChecked(name == "contour")
            if name == "surface" and not gl_available():
                box.setEnabled(False)
                box.setToolTip("OpenGL is not available in this session")
            self.view_boxes[name] = box
            views.addWidget(box)
        form.addRow("Views", views)

        self.size = QComboBox()
        self.size.setEditable(True)
        self.size.addItems(SIZES)
        self.fps = QSpinBox(minimum=1, maximum=120, value=30, suffix=" fps")
        size_row = QHBoxLayout()
        size_row.addWidget(self.size, 1)
        size_row.addWidget(self.fps)
        form.addRow("Size", size_row)

        self.pacing = QButtonGroup(self)
        self.pace_auto = QRadioButton("automatic (4–12 s)")
        self.pace_every = QRadioButton("one frame every")
        self.pace_duration = QRadioButton("spread over")
        self.every = QSpinBox(minimum=1, maximum=1_000_000, value=1, suffix=" iterations")
        self.duration = QDoubleSpinBox(minimum=0.5, maximum=3600.0, value=10.0, decimals=1, suffix=" s")
        for i, button in enumerate((self.pace_auto, self.pace_every, self.pace_duration)):
            self.pacing.addButton(button, i)
        self.pace_auto.setChecked(True)
        pace = QHBoxLayout()
        for w in (self.pace_auto, self.pace_every, self.every, self.pace_duration, self.duration):
            pace.addWidget(w)
        form.addRow("Pacing", pace)
        self.hold = QDoubleSpinBox(minimum=0.0, maximum=60.0, value=2.0, decimals=1, suffix=" s")
        form.addRow("Hold the last frame", self.hold)

        self.title = QLineEdit(self.session.shown_title)
        self.title.setPlaceholderText("no title")
        form.addRow("Title", self.title)
        extras = QHBoxLayout()
        self.caption = QCheckBox("caption (iteration, loss)", checked=True)
        self.lecture = QCheckBox("lecture mode")
        self.log = QCheckBox("log scale")
        self.orbit = QSpinBox(minimum=-720, maximum=720, value=0, suffix="° orbit")
        self.orbit.setProperty("help", "Turn the 3-D camera by this much over the animation")
        self.orbit.setToolTip(self.orbit.property("help"))
        for w in (self.caption, self.lecture, self.log, self.orbit):
            extras.addWidget(w)
        form.addRow("", extras)
        self.frame_widgets = (self.fps, self.pace_auto, self.pace_every, self.every, self.pace_duration,
                              self.duration, self.hold, self.orbit)
        self._frames_shown()

        self.paths_choice = QComboBox()
        self.paths_choice.addItem("each run trained to its end", "train")
        if self.window_paths is not None:
            self.paths_choice.addItem("the runs as far as the window got", "window")
            if all(t.outcome != "running" for t in self.window_paths):
                self.paths_choice.setCurrentIndex(1)
        form.addRow("Paths", self.paths_choice)

        self.preview = QLabel("preparing the preview…")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(PREVIEW_WIDTH, PREVIEW_WIDTH * 9 // 16)
        self.preview.setStyleSheet(f"background: {style.BACKGROUND}; color: {style.MUTED};")
        self.message = QLabel()
        self.message.setWordWrap(True)
        # Room for two lines from the start: a message that appears neither moves the preview nor covers it.
        self.message.setMinimumHeight(2 * self.message.fontMetrics().lineSpacing() + 4)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.rejected.connect(self.reject)
        self.export_button.clicked.connect(self.start_export)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _connect(self) -> None:
        changed = self._changed
        self.format.currentIndexChanged.connect(self._format_changed)
        self.path.textChanged.connect(self._path_changed)
        for box in self.view_boxes.values():
            box.toggled.connect(changed)
        self.size.currentTextChanged.connect(changed)
        for w in (self.fps, self.every, self.orbit):
            w.valueChanged.connect(changed)
        for w in (self.duration, self.hold):
            w.valueChanged.connect(changed)
        self.pacing.idToggled.connect(changed)
        self.title.textChanged.connect(changed)
        for w in (self.caption, self.lecture, self.log):
            w.toggled.connect(changed)
        self.paths_choice.currentIndexChanged.connect(changed)

    # -- options --------------------------------------------------------------------------------------------
    def options(self) -> dict:
        """The choices as ``export.make_plan`` keywords (without the output)."""
        views = [name for name, _ in VIEW_LABELS if self.view_boxes[name].isChecked()]
        pace = self.pacing.checkedId()
        return {"views": views, "size": self.size.currentText(), "fps": self.fps.value(),
                "every": self.every.value() if pace == 1 else None,
                "duration": self.duration.value() if pace == 2 else None,
                "hold": self.hold.value(), "title": self.title.text(), "caption": self.caption.isChecked(),
                "orbit": float(self.orbit.value()), "lecture": self.lecture.isChecked(), "log": self.log.isChecked()}

    def output(self) -> str:
        text = self.path.text().strip()
        if self.format.currentData() == "/" and text and not text.endswith(("/", os.sep)):
            text += "/"
        return text

    def plan(self):
        """The validated plan; ``ExportError`` says what is wrong (a file the session reads, its data CSV, is
        never written over)."""
        plan = export.make_plan(self.output(), **self.options())
        check_not_input(plan.output, session_inputs(self.session))
        return plan

    def _frames_shown(self) -> None:
        """A still or the surface's data has no frame rate, pacing, hold or orbit: greyed out, saying why."""
        why = frames_note(self.format.currentData())
        for w in self.frame_widgets:
            w.setEnabled(not why)
            w.setToolTip(why or w.property("help") or "")

    @Slot()
    def _changed(self, *args) -> None:
        self._frames_shown()
        self._validate()
        self._preview_timer.start()

    @Slot(str)
    def _path_changed(self, text: str) -> None:
        """A name with a known ending chooses its format (the exporter writes what the name says)."""
        index = self.format.findData(format_of(text))
        if index >= 0 and index != self.format.currentIndex():
            self.format.blockSignals(True)      # the name is right as it is: do not rewrite it
            self.format.setCurrentIndex(index)
            self.format.blockSignals(False)
            self._changed()
        else:
            self._validate()

    @Slot()
    def _format_changed(self) -> None:
        suffix = self.format.currentData()
        text = self.path.text().strip().rstrip("/" + os.sep)
        stem = str(Path(text).with_suffix("")) if Path(text).suffix else text
        self.path.setText(stem + ("/" if suffix == "/" else suffix))
        self._changed()

    def _validate(self) -> bool:
        try:
            self.plan()
        except LandscapeError as exc:
            self._say(dialog_message(exc), error=True)
            self.export_button.setEnabled(False)
            return False
        self._say("")
        self.export_button.setEnabled(self.job is None)
        return True

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {style.DIVERGED_COLOR};" if error else "")

    @Slot()
    def _browse(self) -> None:
        if self.format.currentData() == "/":
            folder = QFileDialog.getExistingDirectory(self, "Folder for the PNG frames", self.path.text())
            if folder:
                self.path.setText(folder.rstrip("/") + "/")
            return
        label, suffix = FORMATS[self.format.currentIndex()]
        name, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(), f"{label} (*{suffix})")
        if name:
            self.path.setText(name if name.endswith(suffix) else name + suffix)

    # -- paths and preview ----------------------------------------------------------------------------------
    def _paths(self):
        """The paths to export, or None while the runs still have to be trained."""
        if self.paths_choice.currentData() == "window":
            return self.window_paths
        return self.trained

    def _scene(self, paths):
        """The export's scene; a network's surface is computed once (per choice of paths), not per preview."""
        choice = self.paths_choice.currentData()
        if self._window_surface(choice) is not None:
            surface, beside = self.window_surface, self.window_beside
        else:
            surface, beside = self.surfaces.get(choice), self.surfaces.beside(choice)
        return export.prepare_scene(self.session, paths, surface=surface, metric=self.surface_metric, beside=beside)

    def _window_surface(self, choice):
        """The window's surface where it is the export's: its plane fitted to the window's paths is not the plane
        of the runs trained here to their end (that one is fitted to them, as the window would after training)."""
        if choice != "window" and self.session.plane_settings.needs_finished_runs:
            return None
        return self.window_surface

    def _surface_first(self, paths, after) -> bool:
        """For a network whose surface is not there yet: compute it off the GUI thread, then ``after()``."""
        choice = self.paths_choice.currentData()
        if (not self.session.experiment.is_module or self._window_surface(choice) is not None
                or self.surfaces.get(choice) is not None):
            return False
        self.surfaces.then(choice, self.session, paths, self.surface_metric, after)
        return True

    def _train_then(self, after) -> None:
        """Train the runs in slices (the window stays responsive), then call ``after`` (and whatever else asked
        meanwhile: an export pressed while the preview's training runs goes on after it)."""
        if self._after_training:
            self._after_training += [] if after in self._after_training else [after]
            return
        if self.job is not None:
            return
        self._say("training the runs for the export…")
        self._after_training = [after]
        self.job = export.SlicedJob(export.tagged("train", export.train_steps(self.session)), parent=self)
        self.job.done.connect(self._trained)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(self._job_over)
        self.job.progress.connect(self._progress)
        self.job.start()

    def _trained(self, trajectories) -> None:
        self.trained, afters = trajectories, self._after_training
        self._job_over()
        self._say("")
        for after in afters:
            after()

    @Slot()
    def update_preview(self) -> None:
        """Show the export's first frame (trains the runs first when needed)."""
        paths = self._paths()
        if paths is None:
            self._train_then(self.update_preview)
            return
        if self._surface_first(paths, self.update_preview):
            return
        try:
            plan = self.plan()
            scene = self._scene(paths)
            image = export.preview_image(scene, plan)
        except LandscapeError as exc:
            self.preview.setText(dialog_message(exc))
            return
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(1.0)
        self.preview.setPixmap(pixmap.scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))

    # -- exporting ------------------------------------------------------------------------------------------
    @Slot()
    def start_export(self) -> None:
        if (self.job is not None and not self._after_training) or not self._validate():
            return
        paths = self._paths()
        if paths is None:
            self._train_then(self.start_export)
            return
        if self._surface_first(paths, self.start_export):
            return
        try:
            plan = self.plan()
            scene = self._scene(paths)
            if plan.is_animation:
                export.check_frame_count(plan, scene.n_points)
        except LandscapeError as exc:
            self._say(dialog_message(exc), error=True)
            return
        self._plan = plan
        self.progress = QProgressDialog(f"Writing {plan.output.name}…", "Cancel", 0,
                                        plan.frame_count(scene.n_points), self)
        self.progress.setWindowTitle("Exporting")
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(0)
        self.progress.canceled.connect(self.cancel_export)
        self.job = export.SlicedJob(export.tagged("frames", export.export_steps(scene, plan)), parent=self)
        self.job.progress.connect(self._progress)
        self.job.done.connect(self._exported)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(self._job_over)
        self.export_button.setEnabled(False)
        self.job.start()

    @Slot()
    def cancel_export(self) -> None:
        if self.job is not None:
            self.job.cancel()
        self._say("Cancelled: nothing was written.")

    @Slot(str, int, int)
    def _progress(self, phase: str, done: int, total: int) -> None:
        if phase == "frames" and self.progress is not None:
            self.progress.setMaximum(total)
            self.progress.setValue(done)
        elif phase == "train":
            self._say(f"training the runs… {100 * done // max(total, 1)}%")

    @Slot(object)
    def _exported(self, _value) -> None:
        self._job_over()
        self.result = self._plan.output
        # Written: closing the dialog cancels nothing any more.
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")
        self._say(f"Wrote {self._plan.output}")
        self.exported.emit(str(self._plan.output))

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._job_over()
        QMessageBox.warning(self, "Export failed", message)
        self._say(message, error=True)

    def _job_over(self) -> None:
        if self.job is not None:
            self.job.deleteLater()
        self.job, self._after_training = None, []
        if self.progress is not None:
            self.progress.canceled.disconnect(self.cancel_export)
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        self._validate()

    def done(self, code: int) -> None:      # closing the dialog (Cancel, Esc, the window's X) stops any job
        if self.job is not None:
            self.job.cancel()
        self.surfaces.cancel()
        self._preview_timer.stop()
        super().done(code)


__all__ = ["ExportDialog"]
