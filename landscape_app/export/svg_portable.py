"""Qt's SVG made portable: what ``QSvgGenerator`` writes, rewritten so that librsvg, browsers and Qt draw the same.

Qt draws pyqtgraph's cosmetic pens (1-2 pixels wide whatever the zoom) as ``vector-effect="non-scaling-stroke"``
inside groups that scale data coordinates by tens of pixels; librsvg ignores that property and strokes every curve
tens of pixels wide. Here those shapes get their points mapped through the group's transform, so their stroke widths
are plain pixels that every renderer agrees on.

Text: Qt names its default font "Sans Serif", which only Qt knows (browsers fall back to a serif face), and each
viewer lays a string out again with its own metrics, so runs that Qt placed side by side (a caption's "loss " and
its bold number) collide or drift apart. ``outline_text`` replaces each string by the outlines of the glyphs Qt
itself laid out, defined once and placed with ``<use>`` (as matplotlib's SVG backend does by default): the text
looks the same in every viewer, with or without the font, and keeps its words in an ``aria-label``.

Clip paths stay, but Qt's own renderer ignores them: lines are also cut at their clip rectangles in the file.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PATH_TOKEN = re.compile(r"[MLCQZmlcqzHVhvSsTtAa]|" + _NUMBER.pattern)
_MATRIX = re.compile(r"^\s*matrix\(([^)]*)\)\s*$")


def _tag(name: str) -> str:
    return f"{{{SVG_NS}}}{name}"


def portable_svg(data: bytes, size: tuple[int, int] | None = None, dpi: float | None = None) -> bytes:
    """``data`` (an SVG written by ``QSvgGenerator``) with cosmetic strokes in plain pixels and lines cut at their
    clip rectangles; ``size`` (width, height) replaces Qt's millimetre size by pixels; ``dpi``, the generator's
    resolution, turns text into glyph outlines (see ``outline_text``; needs a QGuiApplication).
    """
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(data)
    if size is not None:
        root.set("width", str(int(size[0])))
        root.set("height", str(int(size[1])))
    if dpi is not None:
        outline_text(root, dpi)
    _flatten(root, None)
    for clip in root.iter(_tag("clipPath")):
        for shape in clip:                      # a clip area has no stroke: the property only confuses viewers
            shape.attrib.pop("vector-effect", None)
    _clip_lines(root)
    _drop_empty_groups(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# -- text as glyph outlines ------------------------------------------------------------------------------------
def outline_text(root: ET.Element, dpi: float) -> None:
    """Replace every ``<text>`` under ``root`` by the glyph outlines Qt lays it out with, in place.

    ``dpi``: the resolution the SVG's font sizes were written at (Qt writes point sizes as pixels at it).
    """
    from PySide6.QtGui import QFont, QTextLayout
    glyphs: dict[tuple, str] = {}
    defs = root.find(_tag("defs"))
    if defs is None:
        defs = ET.Element(_tag("defs"))
        root.insert(0, defs)
    for parent in list(root.iter()):
        for index, text in enumerate(list(parent)):
            if text.tag != _tag("text"):
                continue
            if not (text.text or "").strip():       # draws nothing
                parent.remove(text)
                continue
            font = QFont(text.get("font-family", ""))
            font.setPointSizeF(float(text.get("font-size", "12")) * 72.0 / dpi)
            font.setWeight(QFont.Weight(int(float(text.get("font-weight", "400")))))
            font.setItalic(text.get("font-style", "normal") in ("italic", "oblique"))
            layout = QTextLayout(text.text, font)
            layout.beginLayout()
            line = layout.createLine()
            layout.endLayout()
            x0 = float(text.get("x", "0"))
            y0 = float(text.get("y", "0")) - line.ascent()      # layout positions put the baseline at the ascent
            group = ET.Element(_tag("g"), {key: value for key, value in text.attrib.items()
                                             if key in ("fill", "fill-opacity", "transform")})
            group.set("stroke", "none")             # outlines are filled only, never the group's pen
            group.set("aria-label", text.text)
            group.tail = text.tail
            for run in layout.glyphRuns():
                raw = run.rawFont()
                key_font = (raw.familyName(), raw.styleName(), raw.pixelSize(), int(raw.weight()), raw.style())
                for glyph, position in zip(run.glyphIndexes(), run.positions()):
                    key = (*key_font, int(glyph))
                    if key not in glyphs:
                        d = _path_data(raw.pathForGlyph(glyph))
                        if not d:                          # a space
                            glyphs[key] = ""
                            continue
                        glyphs[key] = f"glyph{len(glyphs)}"
                        ET.SubElement(defs, _tag("path"), {"id": glyphs[key], "d": d, "fill-rule": "nonzero"})
                    if glyphs[key]:
                        ET.SubElement(group, _tag("use"), {f"{{{XLINK_NS}}}href": f"#{glyphs[key]}",
                                                           "x": _fmt(x0 + position.x()),
                                                           "y": _fmt(y0 + position.y())})
            parent.remove(text)
            parent.insert(index, group)
    for node in root.iter():                    # no text is left for Qt's font attributes on every group
        for key in ("font-family", "font-size", "font-weight", "font-style"):
            node.attrib.pop(key, None)


def _path_data(path) -> str:
    """A QPainterPath as SVG path data (two decimals: hundredths of a pixel)."""
    from PySide6.QtGui import QPainterPath
    kinds = QPainterPath.ElementType
    out, first = [], True
    i, n = 0, path.elementCount()
    while i < n:
        e = path.elementAt(i)
        if e.type == kinds.MoveToElement:
            out.append(("" if first else "Z") + f"M{e.x:.2f} {e.y:.2f}")
            first = False
            i += 1
        elif e.type == kinds.LineToElement:
            out.append(f"L{e.x:.2f} {e.y:.2f}")
            i += 1
        else:                                   # a curve: its end point and second control follow as data
            c1, c2 = e, path.elementAt(i + 1)
            end = path.elementAt(i + 2)
            out.append(f"C{c1.x:.2f} {c1.y:.2f} {c2.x:.2f} {c2.y:.2f} {end.x:.2f} {end.y:.2f}")
            i += 3
    return "".join(out) + ("Z" if out else "")


# -- cosmetic strokes -------------------------------------------------------------------------------------------
def _parse_matrix(text: str | None) -> np.ndarray | None:
    """A transform attribute as a 3x3 matrix (Qt writes a single ``matrix(a,b,c,d,e,f)``); None if absent."""
    if text is None:
        return None
    match = _MATRIX.match(text)
    if match is None:
        raise ValueError(f"unexpected transform {text!r}")
    a, b, c, d, e, f = (float(v) for v in _NUMBER.findall(match.group(1)))
    return np.array([[a, c, e], [b, d, f], [0.0, 0.0, 1.0]])


def _matrix_text(m: np.ndarray) -> str:
    return "matrix({})".format(",".join(_fmt(v) for v in (m[0, 0], m[1, 0], m[0, 1], m[1, 1], m[0, 2], m[1, 2])))


def _fmt(value: float) -> str:
    text = f"{value:.6g}"
    return "0" if text == "-0" else text


def _has_cosmetic(node: ET.Element) -> bool:
    return any(n.get("vector-effect") == "non-scaling-stroke" for n in node.iter() if n.tag != _tag("clipPath"))


def _flatten(node: ET.Element, pending: np.ndarray | None) -> None:
    """Push group transforms down to the shapes below ``node``; map cosmetic shapes' points through them.

    ``pending``: the transform of ancestors already removed from the tree, to be applied below ``node``.
    """
    for child in list(node):
        if child.tag in (_tag("defs"), _tag("clipPath"), _tag("title"), _tag("desc")):
            continue
        own = _parse_matrix(child.get("transform"))
        total = own if pending is None else (pending if own is None else pending @ own)
        if child.tag == _tag("g"):
            if total is not None and _has_cosmetic(child) and child.get("clip-path") is None:
                child.attrib.pop("transform", None)
                _flatten(child, total)
            else:
                # A clip region lives in its group's coordinates: keep such a group's transform as it is.
                _set_transform(child, total)
                _flatten(child, None)
        elif child.get("vector-effect") == "non-scaling-stroke" and total is not None:
            child.attrib.pop("transform", None)
            if _map_shape(child, total):
                child.attrib.pop("vector-effect")
            else:
                _set_transform(child, total)
        else:
            _set_transform(child, total)


def _set_transform(node: ET.Element, m: np.ndarray | None) -> None:
    if m is None or np.allclose(m, np.eye(3), rtol=0, atol=1e-12):
        node.attrib.pop("transform", None)
    else:
        node.set("transform", _matrix_text(m))


def _map_points(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    return points @ m[:2, :2].T + m[:2, 2]


def _points_text(points: np.ndarray) -> str:
    return " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)


def _map_shape(node: ET.Element, m: np.ndarray) -> bool:
    """Map a shape's geometry through ``m`` in place; False for a shape this cannot do (left transformed)."""
    name = node.tag.rsplit("}", 1)[-1]
    axis_aligned = abs(m[0, 1]) < 1e-12 and abs(m[1, 0]) < 1e-12
    if name in ("polyline", "polygon"):
        values = [float(v) for v in _NUMBER.findall(node.get("points", ""))]
        points = np.array(values[: len(values) // 2 * 2]).reshape(-1, 2)
        node.set("points", _points_text(_map_points(points, m)))
        return True
    if name == "path":
        mapped = _map_path(node.get("d", ""), m)
        if mapped is None:
            return False
        node.set("d", mapped)
        return True
    if name == "line":
        ends = np.array([[float(node.get("x1", 0)), float(node.get("y1", 0))],
                         [float(node.get("x2", 0)), float(node.get("y2", 0))]])
        (x1, y1), (x2, y2) = _map_points(ends, m)
        for key, value in zip(("x1", "y1", "x2", "y2"), (x1, y1, x2, y2)):
            node.set(key, _fmt(value))
        return True
    if name == "rect" and axis_aligned and "rx" not in node.attrib:
        x, y = float(node.get("x", 0)), float(node.get("y", 0))
        corners = _map_points(np.array([[x, y], [x + float(node.get("width", 0)),
                                                 y + float(node.get("height", 0))]]), m)
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        for key, value in zip(("x", "y", "width", "height"), (*lo, *(hi - lo))):
            node.set(key, _fmt(value))
        return True
    if name in ("ellipse", "circle") and axis_aligned:
        rx = float(node.get("rx", node.get("r", 0)))
        ry = float(node.get("ry", node.get("r", 0)))
        (cx, cy), = _map_points(np.array([[float(node.get("cx", 0)), float(node.get("cy", 0))]]), m)
        node.tag = _tag("ellipse")
        node.attrib.pop("r", None)
        for key, value in zip(("cx", "cy", "rx", "ry"), (cx, cy, abs(rx * m[0, 0]), abs(ry * m[1, 1]))):
            node.set(key, _fmt(value))
        return True
    return False


def _map_path(d: str, m: np.ndarray) -> str | None:
    """Path data of absolute M/L/C/Q/Z commands (what Qt writes) mapped through ``m``; None for anything else."""
    tokens = _PATH_TOKEN.findall(d)
    out, numbers = [], []

    def flush():
        if len(numbers) % 2:
            raise ValueError
        if numbers:
            pts = _map_points(np.array(numbers).reshape(-1, 2), m)
            out.append(" ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in pts))
        numbers.clear()

    try:
        for token in tokens:
            if token.isalpha():
                if token not in "MLCQZ":
                    return None
                flush()
                out.append(token)
            else:
                numbers.append(float(token))
        flush()
    except ValueError:
        return None
    return " ".join(out)


# -- clipping -----------------------------------------------------------------------------------------------
def _clip_lines(root: ET.Element) -> None:
    """Cut lines at their clip rectangles, and drop shapes wholly outside them, in the file itself.

    The ``clip-path`` stays (browsers and librsvg cut strokes exactly at the edge with it), but Qt's own SVG
    renderer ignores clip paths: without this, a curve that leaves its plot (a mini-batch loss spike, a diverging
    path) would run over the axes and the title there.
    """
    rects = {}
    for clip in root.iter(_tag("clipPath")):
        rect = _rectangle(clip)
        if rect is not None:
            rects[f"url(#{clip.get('id')})"] = rect
    for group in root.iter(_tag("g")):
        rect = rects.get(group.get("clip-path", ""))
        if rect is None or group.get("transform") is not None:
            continue
        _clip_below(group, rect)


def _rectangle(clip: ET.Element):
    """(x0, y0, x1, y1) of a clip path that is one axis-aligned rectangle, else None."""
    if len(clip) != 1 or clip[0].tag != _tag("path") or clip[0].get("transform") is not None:
        return None
    d = clip[0].get("d", "")
    if re.search(r"[^MLZ\d\s,.eE+-]", d):
        return None
    values = [float(v) for v in _NUMBER.findall(d)]
    points = np.array(values[: len(values) // 2 * 2]).reshape(-1, 2)
    xs, ys = np.unique(points[:, 0]), np.unique(points[:, 1])
    if len(points) < 4 or len(xs) != 2 or len(ys) != 2:
        return None
    return xs[0], ys[0], xs[1], ys[1]


def _clip_below(node: ET.Element, rect) -> None:
    x0, y0, x1, y1 = rect
    for child in list(node):
        if child.get("transform") is not None or child.get("clip-path") is not None:
            continue
        name = child.tag.rsplit("}", 1)[-1]
        if name == "g":
            _clip_below(child, rect)
        elif name == "polyline":
            values = [float(v) for v in _NUMBER.findall(child.get("points", ""))]
            points = np.array(values[: len(values) // 2 * 2]).reshape(-1, 2)
            pieces = _clip_polyline(points, rect)
            if len(pieces) == 1 and len(pieces[0]) == len(points) and np.array_equal(pieces[0], points):
                continue
            index = list(node).index(child)
            node.remove(child)
            for k, piece in enumerate(pieces):
                copy = ET.Element(child.tag, dict(child.attrib))
                copy.set("points", _points_text(piece))
                copy.tail = child.tail
                node.insert(index + k, copy)
        elif name == "path":
            values = [float(v) for v in _NUMBER.findall(child.get("d", ""))]
            points = np.array(values[: len(values) // 2 * 2]).reshape(-1, 2)
            if len(points) and (points[:, 0].max() < x0 or points[:, 0].min() > x1
                                or points[:, 1].max() < y0 or points[:, 1].min() > y1):
                node.remove(child)              # its control points' hull lies outside: so does the shape


def _clip_polyline(points: np.ndarray, rect) -> list[np.ndarray]:
    """The parts of a polyline inside ``rect`` (Liang-Barsky on each segment), as polylines."""
    x0, y0, x1, y1 = rect
    pieces, current = [], []
    for a, b in zip(points[:-1], points[1:]):
        d = b - a
        t0, t1 = 0.0, 1.0
        for p, q in ((-d[0], a[0] - x0), (d[0], x1 - a[0]), (-d[1], a[1] - y0), (d[1], y1 - a[1])):
            if p == 0:
                if q < 0:
                    t0, t1 = 1.0, 0.0
                continue
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
        if t0 > t1:                                 # the segment misses the rectangle
            if len(current) > 1:
                pieces.append(np.array(current))
            current = []
            continue
        start, end = a + t0 * d, a + t1 * d
        if current and t0 == 0.0:
            current.append(end)
        else:
            if len(current) > 1:
                pieces.append(np.array(current))
            current = [start, end]
        if t1 < 1.0:                                # it leaves the rectangle: the piece ends here
            pieces.append(np.array(current))
            current = []
    if len(current) > 1:
        pieces.append(np.array(current))
    return pieces


def _drop_empty_groups(node: ET.Element) -> None:
    """Qt opens a group for every change of painter state, most of them empty: leave those out."""
    for child in list(node):
        if child.tag == _tag("g"):
            _drop_empty_groups(child)
            if len(child) == 0:
                node.remove(child)


__all__ = ["portable_svg", "outline_text"]
