"""A formula in the window's description never wraps inside: "y = x - 1" stays on one line at any width."""
import pytest
from PySide6.QtGui import QTextLayout, QTextOption

from landscape_app.gui.formula_text import NBSP, WORD_JOINER as WJ, keep_formulas_whole, plain

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

COURSE = ("Gradient descent on the mean squared error from w = -15, b = -10 with lr 0.1: watch it roll down the "
          "bowl to the line y = x - 1.")


def test_the_spaces_inside_formulas_are_non_breaking_and_the_rest_stay():
    shown = keep_formulas_whole(COURSE)
    assert f"w{NBSP}={NBSP}-15, b{NBSP}={NBSP}-10 with lr 0.1" in shown
    assert shown.endswith(f"the line y{NBSP}={NBSP}x{NBSP}-{WJ}{NBSP}1.")    # no break after the minus either
    assert plain(shown) == COURSE
    assert keep_formulas_whole("The same 2-16-16-1 ReLU network, 8x8 digits") == "The same 2-16-16-1 ReLU network, 8x8 digits"
    assert keep_formulas_whole("Turn on View > Mini-batch view") == f"Turn on View{NBSP}>{NBSP}Mini-batch view"


def _line_of(layout: QTextLayout, index: int) -> int:
    return next(i for i in range(layout.lineCount())
                if layout.lineAt(i).textStart() <= index < layout.lineAt(i).textStart() + layout.lineAt(i).textLength())


def _lines(text: str, font, width: int) -> QTextLayout:
    """``text`` laid out as a word-wrapped label lays it out at ``width`` pixels."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    layout.beginLayout()
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
    layout.endLayout()
    return layout


def test_the_course_description_never_breaks_its_formulas(window):
    """The default window's description broke "y = x - 1" across two lines at some widths."""
    label = window.description_label
    text = label.text()
    assert plain(text) == window.session.description == COURSE
    formulas = ["w = -15", "b = -10", "y = x - 1."]
    spans = [(COURSE.index(f), COURSE.index(f) + len(f) - 1) for f in formulas]
    broken_at = []
    for width in range(120, 1000, 3):
        layout = _lines(text, label.font(), width)
        for (first, last), formula in zip(spans, formulas):
            if _line_of(layout, first) != _line_of(layout, last):
                broken_at.append((width, formula))
    assert broken_at == []
    assert _lines(text, label.font(), 400).lineCount() > 1           # it does wrap, between the formulas
