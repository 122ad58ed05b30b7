"""A one-line progress bar for the terminal (redrawn in place, at most ten times a second)."""
from __future__ import annotations

import sys
import time


class ProgressBar:
    """``update(done, total)`` redraws ``label [#####-----] 45% 135/300 frames  40 fps  ETA 4 s`` on stderr.

    Silent when the stream is not a terminal (logs and CI keep only the final summary line).
    """

    WIDTH = 28

    def __init__(self, label: str, unit: str = "", stream=None, enabled: bool | None = None):
        self.label, self.unit = label, unit
        self.stream = sys.stderr if stream is None else stream
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        total = max(total, 1)
        fraction = min(done / total, 1.0)
        filled = int(round(self.WIDTH * fraction))
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        unit = f" {self.unit}" if self.unit else ""
        text = (f"\r{self.label} [{'#' * filled}{'-' * (self.WIDTH - filled)}] {fraction:4.0%} "
                f"{done}/{total}{unit}  {rate:,.0f}/s  ETA {eta:,.0f} s ")
        self.stream.write(text)
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """End the bar's line (so the next output starts on a fresh one)."""
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
