"""The note under a network's loss curve: one aligned row per run, numbers rounded sensibly, never wrapped."""
from types import SimpleNamespace

import numpy as np
import pytest

from landscape_app.gui.projection_note import ELSEWHERE, HEADER, MAX_ROWS, ProjectionNote, distance_text
from landscape_app.gui.views import RUN_COLORS, RunStyle

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _projection(loss, surface, distance, scale=1.0):
    return SimpleNamespace(distance=np.array([distance]), surface_loss=np.array([surface]), total=1, scale=scale,
                           metric="loss", flat=SimpleNamespace(loss=np.array([loss]), iteration=np.array([0])))


@pytest.fixture
def note(qtbot):
    n = ProjectionNote()
    qtbot.addWidget(n)
    n.set_runs([RunStyle(i, f"run {i}", RUN_COLORS[i]) for i in range(5)])
    n.resize(600, 80)
    n.show()
    qtbot.waitExposed(n)
    return n


def test_one_aligned_row_per_run_with_rounding_noise_read_as_zero(note, qtbot):
    projected = {0: _projection(0.283, 0.2812, 2.15e-16), 1: _projection(0.0779, 0.0779, 0.427),
                 2: _projection(1261.4, 10356.2, 173662.0)}
    note.show_projections(projected, None, elsewhere=[3])
    qtbot.wait(1)           # the layout places the cells
    assert note.row_texts() == [[HEADER, "loss 0.283", "surface 0.281", "0 off the plane"],
                                ["", "loss 0.0779", "surface 0.0779", "0.427 off the plane"],
                                ["", "loss 1261", "surface 10356", "173662 off the plane"],
                                ["", ELSEWHERE]]
    assert "e-16" not in note.text() and HEADER in note.text()
    assert all(w.geometry().right() <= note.viewport().width() for row in note._rows[:3] for w in row.cells)
    # The columns line up: each phrase starts where the one above it starts, and none overlaps the next.
    rows = note._rows[:3]
    for column in range(3):
        assert len({row.cells[column].x() for row in rows}) == 1
    for row in rows:
        assert row.cells[0].geometry().right() < row.cells[1].x() and row.cells[1].geometry().right() < \
            row.cells[2].x()


def test_the_note_never_wraps_and_keeps_to_one_line_per_run_at_most_max_rows(note, qtbot):
    line = note.fontMetrics().height()
    three = {i: _projection(0.5 + i, 0.25, 1.5) for i in range(3)}
    note.show_projections(three, None)
    tall = note.height()
    assert 3 * line <= tall < 4 * line
    note.resize(150, 80)            # far too narrow for a row: the rows are cut, not wrapped into more lines
    note.show_projections(three, None)
    qtbot.wait(1)
    assert note.height() == tall
    assert all(not w.wordWrap() for row in note._rows for w in row.cells)
    # A narrow pane keeps the numbers rather than the header (it is in the tooltip too).
    note.resize(330, 80)
    note.show_projections(three, None)
    note.show_projections(three, None)
    qtbot.wait(1)
    assert note.row_texts()[0][0] == "" and HEADER in note.toolTip()
    assert note._rows[0].cells[2].geometry().left() < note.viewport().width() - 60
    five = {i: _projection(0.5 + i, 0.25, 1.5) for i in range(5)}
    note.show_projections(five, None)
    assert note.height() < (MAX_ROWS + 1) * line         # more runs scroll rather than take the plot's height


def test_a_distance_is_zero_only_next_to_the_planes_scale():
    assert distance_text(2.15e-16) == "0"
    assert distance_text(2e-7, scale=1.0) == "2.00e-07"
    assert distance_text(2e-7, scale=1e2) == "2.00e-07" and distance_text(2e-7, scale=1e3) == "0"
    assert distance_text(0.5) == "0.5" and distance_text(float("nan")) == "—"
