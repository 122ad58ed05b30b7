"""Which of the window's views fit the room they have, at a size where each stays readable.

Qt-free arithmetic: ``ViewSet`` asks it on every resize. The views sit in two rows (contour, mini-batch contour
and 3-D surface on top; loss curve and data below). A view squeezed under its minimum readable size (ticks running
into each other, a 30 px plot) is hidden instead, the least needed first, and the window says which are hidden.
"""
from __future__ import annotations

# The smallest readable size of each view (pixels, normal mode): a plot of ~150x90 px inside its axes, colour bar,
# title and legend. Lecture mode's larger text needs LECTURE_SCALE times more.
MIN_SIZE = {
    "contour": (300, 200),
    "minibatch": (300, 200),        # a contour too, under a title ("Step 40: the full batch (same surface)")
    "surface": (220, 170),          # with the bar above it (its hint and "Reset view")
    "loss": (240, 170),             # its legend wraps to two lines in a narrow pane
    "data": (240, 160),
}
LECTURE_SCALE = 1.2
TOP, BOTTOM = ("contour", "minibatch", "surface"), ("loss", "data")
# Hidden first to last; the contour always stays (the runs start and move there).
HIDE_ORDER = ("surface", "minibatch", "data", "loss")
HANDLE = 6                          # a splitter's handle between two views
NAMES = {"contour": "contour", "minibatch": "mini-batch surface", "surface": "3-D surface", "loss": "loss curve",
         "data": "data"}


def minimums(lecture: bool, extra_height: dict | None = None) -> dict[str, tuple[int, int]]:
    """Each view's least readable (width, height); ``extra_height``: pixels a pane holds beside its view (the
    projections' note under a network's loss curve)."""
    scale = LECTURE_SCALE if lecture else 1.0
    extra = extra_height or {}
    return {n: (round(w * scale), round(h * scale) + extra.get(n, 0)) for n, (w, h) in MIN_SIZE.items()}


def row_width(names, mins: dict) -> int:
    """The least width a row of ``names`` needs."""
    names = list(names)
    return sum(mins[n][0] for n in names) + HANDLE * max(len(names) - 1, 0)


def rows_height(shown, mins: dict) -> int:
    """The least height the rows holding the ``shown`` views need."""
    heights = []
    for row in (TOP, BOTTOM):
        present = [n for n in row if n in shown]
        if present:
            heights.append(max(mins[n][1] for n in present))
    return sum(heights) + HANDLE * max(len(heights) - 1, 0)


def needed_width(wanted, mins: dict) -> int:
    """The width the widest row of the ``wanted`` views needs (the panel gives way down to its least for it)."""
    return max(row_width([n for n in row if n in wanted], mins) for row in (TOP, BOTTOM))


def _fits(shown, width: int, height: int, mins: dict) -> bool:
    rows = [[n for n in row if n in shown] for row in (TOP, BOTTOM)]
    return all(row_width(row, mins) <= width for row in rows) and rows_height(shown, mins) <= height


def hidden_views(wanted, width: int, height: int, mins: dict, note_height: int = 0) -> tuple[str, ...]:
    """The ``wanted`` views that do not fit a ``width`` x ``height`` area readably (``mins``: ``minimums()``), in
    ``HIDE_ORDER``.

    Where any must go, ``note_height`` pixels go to the note that names them. A view goes only if hiding it
    helps: a row too wide loses its own views; too little height loses the bottom row (the top holds the contour).
    """
    shown = [n for n in TOP + BOTTOM if n in wanted]
    if _fits(shown, width, height, mins):
        return ()
    height -= note_height
    for row in (TOP, BOTTOM):
        for name in HIDE_ORDER:
            if name in row and name in shown and row_width([n for n in row if n in shown], mins) > width:
                shown.remove(name)
    for name in HIDE_ORDER:
        if name in BOTTOM and name in shown and rows_height(shown, mins) > height:
            shown.remove(name)
    return tuple(n for n in HIDE_ORDER if n in wanted and n not in shown)


def shares(total: int, mins: list[int], weights: list[float]) -> list[int]:
    """``total`` pixels split among views: each its least, and what is left by ``weights``."""
    spare = total - sum(mins) - HANDLE * max(len(mins) - 1, 0)
    if spare <= 0 or not mins:
        return list(mins)
    return [m + int(spare * w / sum(weights)) for m, w in zip(mins, weights)]


def note_text(hidden, panel_shown: bool) -> str:
    """What the window says about hidden views: which, and how to bring them back."""
    if not hidden:
        return ""
    names = ", ".join(NAMES[n] for n in hidden)
    how = "enlarge the window or hide the panel (P)" if panel_shown else "enlarge the window to see them"
    return f"No room for: {names} · {how}"
