"""The runs' colours: one palette for the window, the exporter and the course helper alike (no Qt needed)."""
from __future__ import annotations

# A colour-blind-safe palette (Okabe-Ito, reordered so the first four are far apart on dark and light).
RUN_COLORS = ("#E69F00", "#56B4E9", "#FF4FA0", "#00D084", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")


def run_color(index: int, own: str | None = None) -> str:
    """Run ``index``'s colour: its own (``own``, from the session) or else the palette's."""
    return own or RUN_COLORS[index % len(RUN_COLORS)]
