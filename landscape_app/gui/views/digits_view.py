"""The digits view: sample images with the network's predictions, and the confusion matrix over all the data.

It draws a ``core.predictions.DigitPredictions`` it is given (``show_predictions``): a grid of the sampled images in
grey, each captioned with its predicted class (green when right; red, and framed in red, when wrong), beside (or,
in a tall view, above) a confusion matrix whose cells show the counts, the diagonal in green and the mistakes in
red, each cell's strength its share of the true class's samples. A header line gives the accuracy.

Painted with QPainter: a fixed grid of small pictures and counts needs no plot axes, and a layout of its own
(``digits_layout``, a pure function of the size) keeps it readable from a quarter of a 1280x720 window up.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontInfo, QFontMetricsF, QImage, QPainter, QPen

from .. import style
from .base import View

RIGHT_COLOR = "#4cc76a"
WRONG_COLOR = "#ff5a5a"
IMAGE_FRAME = "#3a3f4c"
MATRIX_EMPTY = "#232732"
MIN_IMAGE = {False: 22, True: 34}       # pixels: the smallest image drawn; fewer images rather than smaller
MARGIN = 6
CAPTION_GAP = 6                          # pixels kept free between two neighbouring captions
# A count's height as a share of its cell: lecture mode's larger text fills more of it (a projector's back row).
COUNT_SHARE = {False: 0.45, True: 0.62}


@dataclass(frozen=True)
class DigitsLayout:
    """Where everything goes, in widget pixels (``QRectF``s), and the matrix's font sizes; from the size alone."""

    header: QRectF
    images: tuple[QRectF, ...]          # one per image shown (maybe fewer than given)
    captions: tuple[QRectF, ...]
    matrix: QRectF                       # the C x C cells' square
    cell: float
    row_labels: QRectF                   # left of the matrix: "true" and the classes
    column_labels: QRectF                # above the matrix: "predicted" and the classes
    label_px: int                        # the matrix's labels
    count_px: int                        # the counts in its cells; 0: too small to read, left out

    def cell_rect(self, row: int, column: int) -> QRectF:
        return QRectF(self.matrix.left() + column * self.cell, self.matrix.top() + row * self.cell,
                      self.cell, self.cell)


def pixel_font(px: float, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(max(1, int(round(px))))
    f.setBold(bold)
    return f


def digits_layout(width: float, height: float, count: int, n_classes: int, lecture: bool) -> DigitsLayout:
    """The header on top; the image grid and the matrix side by side in a wide view, stacked in a tall one.

    The matrix's labels shrink with its cells (a class number never wider than its column), and the counts are
    left out where they would be too small to read: the colours still tell.
    """
    s = style.sizes(lecture)
    line = QFontMetricsF(style.font(s.label_pt)).height()
    small = QFontMetricsF(style.font(s.font_pt)).height()
    small_px = QFontInfo(style.font(s.font_pt)).pixelSize()
    header = QRectF(MARGIN, 2, max(width - 2 * MARGIN, 1), line + 2)
    top = header.bottom() + 4
    body_w, body_h = max(width - 2 * MARGIN, 1), max(height - top - MARGIN, 1)
    n = max(n_classes, 1)
    wide = body_w >= body_h * 1.15
    # Two passes: the labels' band (two text lines) depends on the cells' size, which depends on the band.
    def matrix_side(label: float) -> float:
        return max(min(body_h - label, body_w * 0.55 - label) if wide else
                   min(body_w - label, body_h * 0.55 - label), 1.0)

    label_px, label = small_px, small * 2 + 2
    for _ in range(2):
        label_px = max(6, min(label_px, int(matrix_side(label) / n * 0.75)))
        label = QFontMetricsF(pixel_font(label_px)).height() * 2 + 2
    side = matrix_side(label)     # the labels' font only shrinks with the side: the band keeps fitting it
    cell = side / n
    count_px = min(small_px, int(cell * COUNT_SHARE[lecture]))
    count_px = count_px if count_px >= 7 else 0
    if wide:
        matrix = QRectF(width - MARGIN - side, top + label, side, side)
        grid = QRectF(MARGIN, top, max(matrix.left() - label - 2 * MARGIN, 1), body_h)
    else:
        matrix = QRectF(MARGIN + label + (body_w - label - side) / 2, height - MARGIN - side, side, side)
        grid = QRectF(MARGIN, top, body_w, max(matrix.top() - label - top - MARGIN, 1))
    images, captions = _image_grid(grid, count, small, MIN_IMAGE[lecture])
    row_labels = QRectF(matrix.left() - label, matrix.top(), label, side)
    column_labels = QRectF(matrix.left(), matrix.top() - label, side, label)
    return DigitsLayout(header, images, captions, matrix, cell, row_labels, column_labels, label_px, count_px)


def _image_grid(area: QRectF, count: int, caption_h: float, smallest: float):
    """The largest square images (each with a caption line under it) that fit ``count`` of them in ``area``;
    where even ``smallest``-pixel images would not fit, as many of that size as fit."""
    best = (0.0, 1, 1, 0)      # (image side, columns, rows, shown)
    for shown in range(count, 0, -1):
        for cols in range(1, shown + 1):
            rows = math.ceil(shown / cols)
            side = min(area.width() / cols - 4, area.height() / rows - caption_h - 4)
            if side > best[0]:
                best = (side, cols, rows, shown)
        if best[0] >= smallest:
            break
    side, cols, rows, shown = best
    if side < 4:
        return (), ()
    pitch_x, pitch_y = area.width() / cols, side + caption_h + 4
    x0 = area.left() + (area.width() - pitch_x * cols) / 2
    images, captions = [], []
    for i in range(shown):
        r, c = divmod(i, cols)
        x = x0 + c * pitch_x + (pitch_x - side) / 2
        y = area.top() + r * pitch_y
        images.append(QRectF(x, y, side, side))
        captions.append(QRectF(x0 + c * pitch_x, y + side + 1, pitch_x, caption_h))
    return tuple(images), tuple(captions)


def caption_font(lecture: bool) -> QFont:
    """The captions' font, as painted (bold): their widths are measured with it, so neighbours never touch."""
    return style.font(style.sizes(lecture).font_pt, bold=True)


def grey_image(image: np.ndarray, lo: float, hi: float) -> QImage:
    """An (H, W) array as an 8-bit grey QImage, ``lo`` black and ``hi`` white (a copy: it owns its pixels)."""
    scaled = np.clip((np.asarray(image, dtype=np.float32) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    pixels = np.ascontiguousarray((scaled * 255).round().astype(np.uint8))
    h, w = pixels.shape
    return QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def cell_color(row: int, column: int, share: float) -> QColor:
    """A confusion cell: green on the diagonal, red off it, as strong as the share of its row (any count shows)."""
    if share <= 0:
        return QColor(MATRIX_EMPTY)
    base, tint = QColor(MATRIX_EMPTY), QColor(RIGHT_COLOR if row == column else WRONG_COLOR)
    t = 0.18 + 0.82 * min(max(share, 0.0), 1.0)
    return QColor.fromRgbF(*(b + (c - b) * t for b, c in zip(base.getRgbF()[:3], tint.getRgbF()[:3])))


class DigitsView(View):
    """Sample images with predictions and the confusion matrix (``show_predictions(DigitPredictions)``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.lecture = False
        self.runs: dict = {}
        self.experiment = None
        self.predictions = None
        self._images: list[QImage] = []
        self._images_of = None
        self.setMinimumSize(120, 90)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    # -- View -----------------------------------------------------------------------------------------------
    def set_scene(self, experiment, surface=None) -> None:
        """Other data: the predictions drawn belong to the old data and go (the surface is not used here)."""
        if self.experiment is not None and experiment.data != self.experiment.data:
            self.show_predictions(None)
        self.experiment = experiment

    def set_runs(self, runs) -> None:
        self.runs = {r.run_id: r for r in runs}
        self.update()

    def show_paths(self, paths: Mapping, upto=None) -> None:
        """Nothing per path: the predictions arrive whole, for the run and step they were computed at."""

    def set_lecture_mode(self, on: bool) -> None:
        self.lecture = bool(on)
        self.update()

    def show_predictions(self, predictions) -> None:
        """Draw a ``DigitPredictions`` (None: nothing)."""
        self.predictions = predictions
        if predictions is None:
            self._images, self._images_of = [], None
        elif self._images_of is not predictions.images:       # the sample rarely changes: convert it once
            lo, hi = float(np.min(predictions.images)), float(np.max(predictions.images))
            self._images = [grey_image(im, lo, hi) for im in predictions.images]
            self._images_of = predictions.images
        self.update()

    # -- geometry and text (what is drawn where; the tests read these) --------------------------------------
    def layout_now(self) -> DigitsLayout | None:
        p = self.predictions
        if p is None:
            return None
        return digits_layout(self.width(), self.height(), len(p.images), p.n_classes, self.lecture)

    def header_text(self, width: float | None = None) -> str:
        """The accuracy, its counts, the step and the run; in ``width`` pixels, the most of that which fits."""
        p = self.predictions
        if p is None:
            return ""
        total, right = int(p.confusion.sum()), int(np.trace(p.confusion))
        accuracy = f"accuracy {100 * p.accuracy:.1f}%"
        step = [f"step {p.iteration:,}"] if p.iteration is not None else []
        run = [self.runs[p.run_id].name] if p.run_id is not None and p.run_id in self.runs else []
        forms = [[f"{accuracy} ({right:,} of {total:,})", *step, *run], [accuracy, *step, *run], [accuracy, *step]]
        texts = [" · ".join(parts) for parts in forms]
        if width is None:
            return texts[0]
        metrics = QFontMetricsF(style.font(style.sizes(self.lecture).label_pt))
        return next((t for t in texts if metrics.horizontalAdvance(t) <= width), texts[-1])

    def caption_text(self, i: int, width: float) -> str:
        """Image ``i``'s caption: the predicted class, with its confidence where the caption has room."""
        p = self.predictions
        short = f"{int(p.predicted[i])}"
        long = f"{short} · {100 * float(p.confidence[i]):.0f}%"
        # Measured with the bold font it is painted in (the plain one is narrower: "0 · 100%1 · 100%" ran together).
        metrics = QFontMetricsF(caption_font(self.lecture))
        return long if metrics.horizontalAdvance(long) <= width - CAPTION_GAP else short

    # -- painting -------------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), QColor(style.BACKGROUND))
            lay = self.layout_now()
            if lay is None:
                return
            self._paint_header(painter, lay)
            self._paint_images(painter, lay)
            self._paint_matrix(painter, lay)
        finally:
            painter.end()

    def _paint_header(self, painter: QPainter, lay: DigitsLayout) -> None:
        s = style.sizes(self.lecture)
        painter.setFont(style.font(s.label_pt))
        painter.setPen(QColor(style.FOREGROUND))
        text = painter.fontMetrics().elidedText(self.header_text(lay.header.width()), Qt.TextElideMode.ElideRight,
                                                int(lay.header.width()))
        painter.drawText(lay.header, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_images(self, painter: QPainter, lay: DigitsLayout) -> None:
        p = self.predictions
        painter.setFont(caption_font(self.lecture))
        # Pixels as squares: an 8x8 digit blurred by smoothing reads worse than its blocks.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        frame_w = 2.0 if not self.lecture else 3.0
        for i, (rect, caption) in enumerate(zip(lay.images, lay.captions)):
            right = bool(p.predicted[i] == p.labels[i])
            painter.drawImage(rect, self._images[i])
            painter.setPen(QPen(QColor(IMAGE_FRAME if right else WRONG_COLOR), 1.0 if right else frame_w))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
            painter.setPen(QColor(RIGHT_COLOR if right else WRONG_COLOR))
            painter.drawText(caption, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                             self.caption_text(i, caption.width()))

    def _paint_matrix(self, painter: QPainter, lay: DigitsLayout) -> None:
        p = self.predictions
        confusion = p.confusion
        rows = np.maximum(confusion.sum(axis=1, keepdims=True), 1)
        share = confusion / rows
        count_font = pixel_font(lay.count_px)
        metrics = QFontMetricsF(count_font)
        painter.setFont(count_font)
        painter.setPen(Qt.PenStyle.NoPen)
        for r in range(confusion.shape[0]):
            for c in range(confusion.shape[1]):
                cell = lay.cell_rect(r, c)
                painter.fillRect(cell.adjusted(0.5, 0.5, -0.5, -0.5), cell_color(r, c, float(share[r, c])))
        for r in range(confusion.shape[0]):
            for c in range(confusion.shape[1]):
                n = int(confusion[r, c])
                text = f"{n}"
                cell = lay.cell_rect(r, c)
                if n == 0 or not lay.count_px or metrics.horizontalAdvance(text) > cell.width() - 1:
                    continue
                dark = share[r, c] > 0.55
                painter.setPen(QColor(style.BACKGROUND if dark else style.FOREGROUND))
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, text)
        self._paint_matrix_labels(painter, lay, confusion.shape[0])

    def _paint_matrix_labels(self, painter: QPainter, lay: DigitsLayout, n: int) -> None:
        painter.setFont(pixel_font(lay.label_px))
        painter.setPen(QColor(style.MUTED))
        half = lay.column_labels.height() / 2
        cols, rows = lay.column_labels, lay.row_labels
        painter.drawText(QRectF(cols.left(), cols.top(), cols.width(), half), Qt.AlignmentFlag.AlignCenter,
                         "predicted")
        for k in range(n):
            painter.drawText(QRectF(cols.left() + k * lay.cell, cols.top() + half, lay.cell, half),
                             Qt.AlignmentFlag.AlignCenter, str(k))
            painter.drawText(QRectF(rows.left() + half, rows.top() + k * lay.cell, half, lay.cell),
                             Qt.AlignmentFlag.AlignCenter, str(k))
        painter.save()
        painter.translate(rows.left() + half / 2, rows.center().y())
        painter.rotate(-90)
        painter.drawText(QRectF(-rows.height() / 2, -half / 2, rows.height(), half), Qt.AlignmentFlag.AlignCenter,
                         "true")
        painter.restore()
