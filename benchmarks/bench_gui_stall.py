"""The longest GUI-thread stall while a heavy surface computes: the window must keep drawing.

A QTimer ticking every 5 ms on the GUI thread records the gaps between its ticks while the grid of a logistic
session (BCE, the chunked sigmoid kernel) is edited to 1201 x 1201 points, paused and while the race trains.
The longest gap is the longest time the window could not draw or answer. Target: under 50 ms while the surface
computes (``compute``); ``draw`` is the one step that remains on the GUI thread: handing the finished surface to
the views (a colour image of 1.4 million points, iso-lines, the 3-D mesh).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_gui_stall.py   # with the 3-D view
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui_stall.py                 # 2-D views only

Runs against any version of the app (it only edits the grid through ``MainWindow.experiment_edited`` and waits
for the contour to show the new surface), so an older checkout on PYTHONPATH gives the figure before a change.
"""
from __future__ import annotations

import os
import sys
import time

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import landscape_app as la
from landscape_app.core.session import Session

TICK_MS = 5
BIG = (1201, 1201)
TIMEOUT_S = 120.0
BASELINE_S = 2.0


class Ticks:
    """Gaps between a 5 ms timer's ticks on the GUI thread, and when each gap ended."""

    def __init__(self):
        from PySide6.QtCore import QTimer
        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))

    def start(self) -> None:
        self.times = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def gaps_between(self, t0: float, t1: float) -> list[float]:
        """The gaps (s) that ended in [t0, t1]."""
        return [b - a for a, b in zip(self.times, self.times[1:]) if t0 <= b <= t1]


def session(resolution) -> Session:
    data = la.make_dataset("logistic", n_samples=200, seed=0)
    exp = la.Experiment(data=data, model="logistic", criterion="bce-logits", optimizer="sgd", lr=0.5,
                        batch_size=1, shuffle=True, epochs=200, start=(-4.0, 4.0),
                        grid=la.Grid(x_range=(-8.0, 8.0), y_range=(-8.0, 8.0), resolution=resolution))
    return Session((exp,))


def measure(app, play: bool) -> dict:
    from landscape_app.gui.main_window import MainWindow
    window = MainWindow(session((101, 101)))
    window.resize(1280, 800)
    window.show()
    try:                      # as the app does once its window is shown (older versions did not)
        from landscape_app.gui.app import freeze_long_lived
        freeze_long_lived()
    except ImportError:
        pass
    window.transport.set_speed(None)
    window.playback.set_speed(None)
    # Let the window settle on its small first surface (and the training thread start).
    end = time.perf_counter() + 3.0
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)
    if play:
        window.toggle_play()
        end = time.perf_counter() + 1.0
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.005)
    ticks = Ticks()
    ticks.start()
    # The same time without any surface to compute: what the machine and the training alone cost the GUI thread.
    t_base = time.perf_counter()
    while time.perf_counter() < t_base + BASELINE_S:
        app.processEvents()
        time.sleep(0.001)
    baseline = ticks.gaps_between(t_base, time.perf_counter())
    big = window.experiment.replace(grid=la.Grid(x_range=(-8.0, 8.0), y_range=(-8.0, 8.0), resolution=BIG))
    t_edit = time.perf_counter()
    window.experiment_edited(big)         # as the panel does when the resolution is typed in
    t_returned = time.perf_counter()
    t_arrived = None
    deadline = time.perf_counter() + TIMEOUT_S
    while time.perf_counter() < deadline:
        app.processEvents()
        surface = window.views.contour.surface
        if surface is not None and len(surface.w) == BIG[0] and len(surface.b) == BIG[1]:
            t_arrived = time.perf_counter()
            break
        time.sleep(0.001)
    # A little longer: the frames after the new surface.
    end = time.perf_counter() + 0.5
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    ticks.stop()
    trained = len(next(iter(window.playback.paths().values()), ()))
    window.playback.pause()
    window.close()
    app.processEvents()
    if t_arrived is None:
        raise SystemExit("the big surface never arrived")
    # "compute": from the edit until just before the surface is handed to the views (the last gap ending at
    # t_arrived includes the views' drawing of it, counted as "draw").
    compute = ticks.gaps_between(t_edit, t_arrived)
    draw_gap = max(ticks.gaps_between(t_arrived - 1e-9, t_arrived + 0.5), default=0.0)
    all_gaps = ticks.gaps_between(t_edit, t_arrived + 0.5)
    # The gap that ends when the surface is shown holds the drawing; leave it out of the computing phase.
    computing = sorted(compute)[:-1] if compute else []
    # An app that computes on the GUI thread returns from the edit only when the surface exists: that is a stall.
    computing.append(t_returned - t_edit)
    return {"baseline_ms": max(baseline, default=0.0) * 1e3, "edit_call_ms": (t_returned - t_edit) * 1e3, "surface_s": t_arrived - t_edit,
            "longest_while_computing_ms": max(computing, default=0.0) * 1e3,
            "longest_overall_ms": max(all_gaps, default=0.0) * 1e3, "draw_ms": draw_gap * 1e3,
            "ticks": len(all_gaps), "trained_points": trained}


def main() -> int:
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv)
    print(f"landscape_app from {os.path.dirname(la.__file__)}")
    print(f"grid edit 101x101 -> {BIG[0]}x{BIG[1]}, logistic BCE, 200 samples; timer every {TICK_MS} ms")
    worst = overall = 0.0
    for play in (False, True):
        r = measure(app, play)
        worst = max(worst, r["longest_while_computing_ms"])
        overall = max(overall, r["longest_overall_ms"])
        print(f"  {'training' if play else 'paused  '}: the edit call returned after {r['edit_call_ms']:7.1f} ms, "
              f"surface shown after {r['surface_s']:5.2f} s; longest stall while computing "
              f"{r['longest_while_computing_ms']:6.1f} ms, drawing the new surface {r['draw_ms']:6.1f} ms, "
              f"longest overall {r['longest_overall_ms']:6.1f} ms ({r['ticks']} ticks; "
              f"{r['trained_points']} points trained); with no surface computing the longest stall was "
              f"{r['baseline_ms']:.1f} ms")
    print(f"longest stall while a surface computes: {worst:.1f} ms (target < 50 ms); "
          f"longest stall from the edit to the new surface drawn: {overall:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
