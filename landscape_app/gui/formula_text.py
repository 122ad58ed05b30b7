"""Formulas in running text stay on one line: "y = x - 1" is never broken as "y = x -" / "1".

A wrapped label breaks lines at spaces, and a formula written with spaces around its operators (the presets'
descriptions: "from w = -15, b = -10", "the line y = x - 1") offers a break at each. Its spaces become
non-breaking ones (U+00A0: they look the same), so the whole formula moves to the next line instead. A line may
still break after a hyphen even before a non-breaking space (Unicode's line breaking rule LB12a), so a minus
sign written as a hyphen is followed by an invisible word joiner (U+2060), which allows no break.
"""
from __future__ import annotations

import re

NBSP = "\u00a0"
WORD_JOINER = "\u2060"
# An operand (a name or a number, signed) and at least one operator with its operand: "y = x - 1", "w = -15",
# "a·b ≤ 2". Words joined by a hyphen without spaces ("2-16-16-1") match too and have no space to change.
_FORMULA = re.compile(r"[-−]?[\w.]+(?:\s*[=+\-−*/×·<>≤≥≈]\s*[-−]?[\w.]+)+")


def keep_formulas_whole(text: str) -> str:
    """``text`` with the spaces inside each formula made non-breaking."""
    def whole(match: re.Match) -> str:
        glued = re.sub(r"\s", NBSP, match.group(0))
        return re.sub(f"([-–]){NBSP}", rf"\1{WORD_JOINER}{NBSP}", glued)
    return _FORMULA.sub(whole, text)


def plain(text: str) -> str:
    """``text`` as written, from what ``keep_formulas_whole`` made of it."""
    return text.replace(WORD_JOINER, "").replace(NBSP, " ")


__all__ = ["NBSP", "WORD_JOINER", "keep_formulas_whole", "plain"]
