"""File > Export animation: the dialog's preview, an export that leaves the window responsive, Cancel that
leaves nothing behind, refusals shown in place, and the window's own paths."""
import numpy as np
import pytest
from PIL import Image

import landscape_app as la
from landscape_app.core.session import Session
from landscape_app.export.frames import FrameRenderer
from landscape_app.export.plan import make_plan
from landscape_app.export.scene import prepare_scene
from landscape_app.gui.export_dialog import ExportDialog

# The offscreen platform says so whenever a dialog with a minimum size is shown.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def session():
    exp = la.Experiment(data=la.make_dataset("linear", n_samples=20, noise=0.3, seed=2), lr=0.05, epochs=40,
                        batch_size=5, start=(-10.0, 6.0), grid=la.Grid(resolution=(61, 61)))
    return Session((exp, exp.replace(optimizer="adam", lr=0.7)), title="Dialog race")


@pytest.fixture
def dialog(qtbot, session):
    d = ExportDialog(session)
    qtbot.addWidget(d)
    d.show()
    yield d
    d.done(0)


def choose(dialog, path, fmt_index, size="320x180"):
    dialog.format.setCurrentIndex(fmt_index)
    dialog.path.setText(str(path))
    dialog.size.setCurrentText(size)


def test_preview_shows_the_first_frame(qtbot, dialog):
    qtbot.waitUntil(lambda: dialog.preview.pixmap() is not None and not dialog.preview.pixmap().isNull(),
                    timeout=30000)
    image = dialog.preview.pixmap().toImage()
    assert image.width() > 100
    # The heat map is in the preview (viridis: green above red somewhere), not a blank label.
    arr = np.array([[image.pixelColor(x, y).getRgb()[:3] for x in range(0, image.width(), 7)]
                    for y in range(0, image.height(), 7)])
    assert ((arr[:, :, 1] > arr[:, :, 0] + 40)).sum() > 50


def test_export_runs_without_freezing_the_window(qtbot, dialog, tmp_path, monkeypatch):
    from PySide6.QtCore import QTimer
    from landscape_app.export import qt_job
    choose(dialog, tmp_path / "race.gif", 1)
    dialog.pace_every.setChecked(True)
    dialog.every.setValue(1)
    ticks, slices = [], []
    # Slices of 1 ms instead of 40, so that the export spans many of them however fast the machine; each
    # slice notes how often the other timer had fired by then.
    init = qt_job.SlicedJob.__init__

    def short_slices(self, steps, slice_seconds=qt_job.SLICE_SECONDS, parent=None):
        init(self, steps, 0.001, parent)
        self.progress.connect(lambda *_: slices.append(len(ticks)))
    monkeypatch.setattr(qt_job.SlicedJob, "__init__", short_slices)
    timer = QTimer(interval=0)      # fires on every turn of the event loop, not after some time
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    with qtbot.waitSignal(dialog.exported, timeout=60000) as blocker:
        dialog.start_export()       # trains the runs first (in slices), then writes the frames
        assert dialog.job is not None
    timer.stop()
    assert blocker.args == [str(tmp_path / "race.gif")]
    # The event loop turned between every two slices of work (the other timer fired in between).
    assert len(slices) > 10
    assert all(later > earlier for earlier, later in zip(slices, slices[1:])), slices
    import imageio.v3 as iio
    frames = iio.imread(tmp_path / "race.gif", index=None)
    assert frames.shape[1:] == (180, 320, 3) and len(frames) > 10
    assert [p.name for p in tmp_path.iterdir()] == ["race.gif"]
    assert dialog.progress is None and dialog.export_button.isEnabled()


def test_cancel_leaves_the_target_untouched(qtbot, dialog, tmp_path):
    target = tmp_path / "old.mp4"
    target.write_bytes(b"an earlier export")
    choose(dialog, target, 0, size="640x360")
    dialog.pace_every.setChecked(True)
    qtbot.waitUntil(lambda: dialog.trained is not None and dialog.job is None, timeout=60000)  # preview ready
    dialog.start_export()
    assert dialog.progress is not None
    job = dialog.job
    with qtbot.waitSignal(job.progress, timeout=60000):
        pass
    from PySide6.QtWidgets import QPushButton
    with qtbot.waitSignal(job.cancelled, timeout=10000):
        dialog.progress.findChild(QPushButton).click()       # the progress dialog's Cancel
    assert target.read_bytes() == b"an earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["old.mp4"]
    assert "nothing was written" in dialog.message.text()
    assert dialog.job is None


def test_invalid_choices_are_shown_in_place(qtbot, dialog, tmp_path):
    choose(dialog, tmp_path / "x.mp4", 0, size="10x10")
    assert not dialog.export_button.isEnabled()
    assert dialog.message.text() == "Size: width 10 is outside 64..7680 pixels"
    dialog.size.setCurrentText("320x180")
    assert dialog.export_button.isEnabled()
    dialog.path.setText(str(tmp_path / "missing" / "x.mp4"))
    assert not dialog.export_button.isEnabled() and "does not exist" in dialog.message.text()
    for box in dialog.view_boxes.values():
        box.setChecked(False)
    assert dialog.message.text().startswith("Views: name at least one of")    # the dialog's row, not --views


def test_the_name_and_the_format_agree(qtbot, dialog, tmp_path):
    formats = [dialog.format.itemData(i) for i in range(dialog.format.count())]
    dialog.format.setCurrentIndex(formats.index(".gif"))
    assert dialog.path.text().endswith(".gif")                  # the format sets the name's ending
    dialog.path.setText(str(tmp_path / "race.mp4"))             # a name with another known ending ...
    assert dialog.format.currentData() == ".mp4"                # ... chooses its format
    assert dialog.path.text() == str(tmp_path / "race.mp4")     # and is kept as typed
    assert dialog.plan().kind == "mp4"
    dialog.path.setText(str(tmp_path / "race.GIF"))
    assert dialog.format.currentData() == ".gif" and dialog.plan().kind == "gif"
    dialog.path.setText(str(tmp_path / "clip.m4v"))
    assert dialog.format.currentData() == ".mp4"
    dialog.path.setText(str(tmp_path / "frames") + "/")
    assert dialog.format.currentData() == "/" and dialog.plan().kind == "frames"
    dialog.path.setText(str(tmp_path / "still.svg"))
    assert dialog.format.currentData() == ".svg"
    dialog.path.setText(str(tmp_path / "race.avi"))             # no format of ours: refused, the format stays
    assert dialog.format.currentData() == ".svg"
    assert not dialog.export_button.isEnabled()
    assert dialog.message.text().startswith(f"Save to {tmp_path / 'race.avi'}: unknown format '.avi'")
    dialog.format.setCurrentIndex(formats.index(".webm"))
    assert dialog.path.text() == str(tmp_path / "race.webm") and dialog.export_button.isEnabled()


def test_closing_the_dialog_mid_export_cancels(qtbot, session, tmp_path):
    d = ExportDialog(session)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: d.job is None and d.trained is not None, timeout=60000)
    choose(d, tmp_path / "x.gif", 1)
    d.pace_every.setChecked(True)
    d.start_export()
    with qtbot.waitSignal(d.job.progress, timeout=60000):
        pass
    d.reject()
    assert list(tmp_path.iterdir()) == []


def test_the_window_paths_as_far_as_they_got(qtbot, session, tmp_path):
    full = [la.run(exp) for exp in session.runs]
    partial = {7: full[0].upto(6), 3: full[1].upto(9)}     # run ids as the window has them, in run order
    d = ExportDialog(session, partial)
    qtbot.addWidget(d)
    d.show()
    assert d.paths_choice.findData("window") >= 0
    d.paths_choice.setCurrentIndex(d.paths_choice.findData("window"))
    choose(d, tmp_path / "so-far.png", 4, size="480x270")
    with qtbot.waitSignal(d.exported, timeout=60000):
        d.start_export()
    picture = np.asarray(Image.open(tmp_path / "so-far.png").convert("RGB"))
    scene = prepare_scene(session, [full[0].upto(6), full[1].upto(9)])
    with FrameRenderer(scene, make_plan(str(tmp_path / "same.png"), views="contour", size=(480, 270),
                                        title="Dialog race")) as renderer:
        expected = renderer.render(scene.n_points)
    assert np.array_equal(picture, expected)
    d.done(0)


def test_a_still_or_data_greys_out_the_frame_rate_and_pacing_and_says_why(qtbot, dialog, tmp_path):
    """An SVG still kept its fps, pacing, hold and orbit controls active, though they change nothing."""
    formats = [dialog.format.itemData(i) for i in range(dialog.format.count())]
    controls = dialog.frame_widgets
    assert dialog.fps in controls and dialog.pace_every in controls and dialog.duration in controls
    for suffix, why in ((".svg", "A still"), (".png", "A still"), (".npz", "Surface data"), (".csv", "Surface data")):
        dialog.format.setCurrentIndex(formats.index(suffix))
        assert all(not w.isEnabled() and w.toolTip().startswith(why) for w in controls), suffix
    for suffix in (".mp4", ".gif", ".webm", "/"):
        dialog.format.setCurrentIndex(formats.index(suffix))
        assert all(w.isEnabled() for w in controls), suffix
    assert dialog.fps.toolTip() == "" and dialog.orbit.toolTip().startswith("Turn the 3-D camera")
    dialog.path.setText(str(tmp_path / "final.svg"))              # a typed name chooses the format, and so
    assert not dialog.fps.isEnabled() and not dialog.pace_auto.isEnabled()


def test_the_dialog_says_close_once_it_has_written(qtbot, dialog, tmp_path):
    from PySide6.QtWidgets import QDialogButtonBox
    close = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert close.text() == "Cancel"                               # before: closing gives up the export
    choose(dialog, tmp_path / "final.png", 4)
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        dialog.start_export()
    assert (tmp_path / "final.png").is_file()
    assert close.text() == "Close" and "Wrote" in dialog.message.text()
