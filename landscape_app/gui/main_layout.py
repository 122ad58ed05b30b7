"""The main window's layout: the panel on the left, the header, the one legend, the views and the transport bar
on the right; how it fits the screen, and how lecture mode hands the screen to the views.

A mixin of ``MainWindow``. Nothing here may ask for more room than a 1024x768 screen has: long texts are elided
(their whole text in a tooltip) or wrapped, and the control panel can be hidden (P, or View > Control panel). In a
small window the panel narrows (down to its least width) before the views go under their readable size; below
that the views themselves hide the least needed (``ViewSet.arrange``).
"""
from __future__ import annotations

from PySide6.QtCore import QMargins, QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QToolButton, QVBoxLayout, QWidget

from . import style, view_fit
from .elided import ElidedLabel
from .run_legend import RunLegend
from .screen_fit import PREFERRED, fits, fitted_geometry

HINT = "Press  ▶ Play  (Space) to train  ·  Right arrow: one step  ·  click the contour to choose the start point"
# A network starts at its seeded initialisation: its contour is a plane through that start, not a choice of start.
# Its runs train ahead for the plane of their paths by themselves: Play is for watching the race.
NETWORK_HINT = ("Press  ▶ Play  (Space) to watch the race  ·  Right arrow: one step  ·  Plane: the runs' own paths, "
                "or another slice (random, Hessian)")
PANEL_WIDTH = {False: 330, True: 470}     # the control panel's width in normal and lecture mode
PANEL_MIN_WIDTH = 260
SCREENLESS_PLATFORMS = {"offscreen", "minimal"}      # Qt platforms that draw into memory, on no real screen
SHORT_SCREEN = 800          # px of window height under which lecture mode gives the description's lines to the views
SHORT_WINDOW = 640          # and under which normal mode does (at 900x600 its four lines left the views ~30 px)
EDITED_TIP = "The runs were changed after this title and description were written: they describe the original."


class WindowLayout:
    """Needs MainWindow's panel, runs_panel, transport, views and status (made before ``_build_layout``)."""

    def _build_layout(self) -> None:
        self.title_label = ElidedLabel()
        self.title_label.setObjectName("title_label")
        self.panel_button = QToolButton()
        self.panel_button.setObjectName("panel_button")
        self.panel_button.setText("☰")
        self.panel_button.setCheckable(True)
        self.panel_button.setChecked(True)
        self.panel_button.setAutoRaise(True)
        self.panel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.panel_button.setToolTip("Show or hide the runs and the control panel (P)")
        self.panel_button.clicked.connect(self.set_panel_visible)
        self.description_label = QLabel()
        self.description_label.setObjectName("description_label")
        self.description_label.setWordWrap(True)
        self.hint_label = ElidedLabel(HINT)
        self.hint_label.setObjectName("hint_label")
        self.scene_label = ElidedLabel()
        self.scene_label.setObjectName("scene_label")
        self.legend = RunLegend()
        header = QWidget()
        column = QVBoxLayout(header)
        column.setContentsMargins(4, 4, 10, 2)
        column.setSpacing(2)
        title_row = QHBoxLayout()
        title_row.setSpacing(4)
        title_row.addWidget(self.panel_button)
        title_row.addWidget(self.title_label, 1)
        column.addLayout(title_row)
        for w in (self.description_label, self.hint_label, self.scene_label, self.legend):
            column.addWidget(w)
        self.header = header

        left = QWidget()
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addWidget(self.runs_panel)
        left_column.addWidget(self.panel, 1)
        left.setMinimumWidth(PANEL_MIN_WIDTH)
        left.setMaximumWidth(PANEL_WIDTH[False] + 90)
        self.left_panel = left

        right = QWidget()
        right_column = QVBoxLayout(right)
        right_column.setContentsMargins(0, 0, 0, 0)
        right_column.setSpacing(0)
        right_column.addWidget(header)
        right_column.addWidget(self.views, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setCollapsible(1, False)
        split.setSizes([PANEL_WIDTH[False], PREFERRED.width() - PANEL_WIDTH[False]])
        self._panel_wanted = PANEL_WIDTH[False]     # the panel's width where the window has room for it
        split.splitterMoved.connect(self._panel_dragged)
        # The transport bar spans the whole window: beside the panel, on a 1024 px screen, its timeline had no room.
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(split, 1)
        outer.addWidget(self.transport)
        self.setCentralWidget(central)
        self.splitter = split
        # Inside the window one legend names the runs: the views' own legends would cover their paths.
        self.views.set_run_legends(False)
        self._restyle()

    def _restyle(self) -> None:
        s = style.sizes(self.lecture)
        self.title_label.setStyleSheet(f"font-size: {s.title_pt + 5}pt; font-weight: bold;")
        self.panel_button.setStyleSheet(f"font-size: {s.title_pt + 3}pt; padding: 0px 4px;")
        # In lecture mode the description stays readable in two lines rather than three at 1280 px.
        description_pt = s.label_pt - 2 if self.lecture else s.label_pt + 1
        self.description_label.setStyleSheet(f"color: {style.FOREGROUND}; font-size: {description_pt}pt;")
        self.hint_label.setStyleSheet(f"color: {style.MUTED};")
        self.scene_label.setStyleSheet(f"color: {style.MUTED};")
        self.legend.set_lecture_mode(self.lecture)
        self._header_lines()

    def _header_lines(self) -> None:
        """In lecture mode the views get the lines that say nothing new: the keys' hint (a lecturer knows them)
        and the surface's loss when the colour bar already names it; on a short screen (a 720-line projector)
        the description too, which the lecturer says aloud: it stays whole in the title's tooltip. A short
        window (900x600) tucks the description there too."""
        self.hint_label.setVisible(not self.lecture and not getattr(self, "_static_shown", False))
        self.scene_label.setVisible(not self.lecture or getattr(self, "_scene_note", False))
        description = self.description_label.text()
        short = self.height() < (SHORT_SCREEN if self.lecture else SHORT_WINDOW)
        tucked = short and bool(description)
        self.description_label.setVisible(bool(description) and not tucked)
        session = getattr(self, "session", None)
        tip = EDITED_TIP if session is not None and session.edited else ""
        self.title_label.setToolTip(description + ("\n\n" + tip if tip else "") if tucked else tip)

    # -- the control panel --------------------------------------------------------------------------------
    def set_panel_visible(self, on: bool) -> None:
        """Show or hide the runs list and the control panel (the views take their room)."""
        on = bool(on)
        if getattr(self, "_static_shown", False):
            # A surface shown alone has no runs to list or edit: the panel comes back as asked once runs do.
            self._panel_before_static = on
            on = False
        self.left_panel.setVisible(on)
        self.views.set_panel_shown(on)
        if on:
            self._panel_wanted = PANEL_WIDTH[self.lecture]
            self.left_panel.setMaximumWidth(self._panel_wanted + (120 if self.lecture else 90))
            self._fit_panel()
        self.panel_button.setChecked(on)
        self.actions_by_name["panel"].setChecked(on)

    def panel_visible(self) -> bool:
        return not self.left_panel.isHidden()

    def _panel_dragged(self, pos: int, index: int) -> None:
        """A width the user dragged the panel to is the one it keeps while the window has room for it."""
        if self.panel_visible():
            self._panel_wanted = self.splitter.sizes()[0]

    def _fit_panel(self) -> None:
        """The panel's width: the one wanted, less where the views would go under their readable width (down to
        the panel's least) and never more than a third of the window, so the views stay the larger part."""
        if self.left_panel.isHidden():
            return
        room = self.width() - view_fit.needed_width(self.views.wanted(), self.views.minimums()) - view_fit.HANDLE
        width = min(self._panel_wanted, max(self.width() // 3, PANEL_MIN_WIDTH), max(room, PANEL_MIN_WIDTH))
        # (Before the first show the splitter has its default size; the views' side takes what it gains.)
        total = sum(self.splitter.sizes()) or self.width()
        if self.splitter.sizes()[0] != width:
            self.splitter.setSizes([width, max(total - width, 1)])

    # -- the screen ---------------------------------------------------------------------------------------
    def fit_to_screen(self, available: QRect | None = None, fill: bool = False) -> None:
        """Size and place the window for a screen whose free area is ``available`` (by default the free area of
        the window's screen): the preferred size where it fits, else the whole free area (maximised, so a window
        manager keeps its frame on screen too). ``fill``: the whole free area whatever its size (a lecture)."""
        real = available is None
        if real:
            if QGuiApplication.platformName() in SCREENLESS_PLATFORMS:
                # No screen to fit (its 800x600 is made up): the preferred size, as a screenshot wants.
                self.resize(PREFERRED)
                return
            screen = self.screen() or QGuiApplication.primaryScreen()
            available = screen.availableGeometry()
        frame = self._frame_margins()
        state = self.windowState() & ~Qt.WindowState.WindowMaximized
        self.setWindowState(state)
        preferred = available.size() if fill else PREFERRED
        self.setGeometry(fitted_geometry(available, frame, preferred))
        if real and (fill or not fits(PREFERRED, available, frame)):
            self.setWindowState(state | Qt.WindowState.WindowMaximized)

    def _frame_margins(self) -> QMargins:
        """The window manager's frame around the window (nothing until the window is shown and framed)."""
        outer, inner = self.frameGeometry(), self.geometry()
        return QMargins(inner.left() - outer.left(), inner.top() - outer.top(),
                        outer.right() - inner.right(), outer.bottom() - inner.bottom())

    def _refit_framed(self) -> None:
        """Once shown and framed: if the frame now sticks out of the screen's free area, fit again."""
        screen = self.screen()
        if (screen is None or QGuiApplication.platformName() in SCREENLESS_PLATFORMS
                or self.windowState() & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen)):
            return
        if not screen.availableGeometry().contains(self.frameGeometry()):
            self.fit_to_screen()
