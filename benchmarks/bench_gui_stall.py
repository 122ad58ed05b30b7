"""The longest GUI-thread stall while a heavy surface computes: the window must keep drawing.

A QTimer ticking every 5 ms on the GUI thread records the gaps between its ticks while the grid is edited to a
finer one, paused and while the race trains, in two sessions:

- ``logistic``: a logistic session (BCE, the chunked sigmoid kernel) edited to 1201 x 1201 points;
- ``cnn``: the ``cnn-digits`` preset (a CNN on digits, two runs) edited to a 51 x 51 plane.

The longest gap is the longest time the window could not draw or answer. Target: under 50 ms while the surface
computes (``compute``) and while the runs train with no surface to compute (``baseline``); ``draw`` is the one
step that remains on the GUI thread: handing the finished surface to the views (for the logistic session a colour
image of 1.4 million points, iso-lines, the 3-D mesh).

Between measurements the event loop runs in Qt (``QEventLoop.exec``), as in the app: a Python polling loop
would itself wait for the interpreter lock at every turn and count those waits as the window's.
Each measurement runs in a fresh process (one window per process, as the app has), and the machine's load
average is printed beside it: on a shared machine other programs' work stalls any window.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_gui_stall.py   # with the 3-D view
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui_stall.py                 # 2-D views only
    .venv/bin/python benchmarks/bench_gui_stall.py --only cnn --repeat 3

Runs against any version of the app (it only edits the grid through ``MainWindow.experiment_edited`` and waits
for the contour to show the new surface), so an older checkout on PYTHONPATH gives the figure before a change.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import gui_env  # noqa: E402 (a sibling script of the benchmarks)

gui_env.prepare()         # before torch and Qt are loaded

import landscape_app as la
from landscape_app.core.session import Session
from report import Report  # noqa: E402 (a sibling script of the benchmarks)

TICK_MS = 5
BIG = {"logistic": (1201, 1201), "cnn": (51, 51)}
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


def session(kind: str) -> Session:
    if kind == "cnn":
        from landscape_app.core.presets import load_preset
        return load_preset("cnn-digits")          # two runs of a CNN on the digits, on a 21 x 21 plane
    data = la.make_dataset("logistic", n_samples=200, seed=0)
    exp = la.Experiment(data=data, model="logistic", criterion="bce-logits", optimizer="sgd", lr=0.5,
                        batch_size=1, shuffle=True, epochs=200, start=(-4.0, 4.0),
                        grid=la.Grid(x_range=(-8.0, 8.0), y_range=(-8.0, 8.0), resolution=(101, 101)))
    return Session((exp,))


def run_events(app, seconds: float) -> None:
    """Let Qt's event loop run for ``seconds``, as ``app.exec()`` does (no Python between events)."""
    from PySide6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def measure(app, kind: str, play: bool) -> dict:
    from PySide6.QtCore import QEventLoop, QTimer
    from landscape_app.gui.main_window import MainWindow
    window = MainWindow(session(kind))
    window.resize(1280, 800)
    window.show()
    try:                      # as the app does once its window is shown (older versions did not)
        from landscape_app.gui.app import freeze_long_lived
        freeze_long_lived()
    except ImportError:
        pass
    window.transport.set_speed(None)
    window.playback.set_speed(None)
    big_size = BIG[kind]
    # Let the window settle on its small first surface (and the training thread start).
    run_events(app, 3.0)
    if play:
        window.toggle_play()
        run_events(app, 1.0)
    ticks = Ticks()
    ticks.start()
    # The same time without any surface to compute: what the machine and the training alone cost the GUI thread.
    t_base = time.perf_counter()
    run_events(app, BASELINE_S)
    baseline = ticks.gaps_between(t_base, time.perf_counter())
    old = window.experiment.grid
    big = window.experiment.replace(grid=la.Grid(x_range=old.x_range, y_range=old.y_range, resolution=big_size))
    arrived = {"t": None}
    loop = QEventLoop()

    def check():      # a Python moment every 2 ms: the 5 ms ticks still see the window's own stalls
        surface = window.views.contour.surface
        if surface is not None and (len(surface.w), len(surface.b)) == big_size:
            arrived["t"] = time.perf_counter()
            loop.quit()
    watch = QTimer()
    watch.setInterval(2)
    watch.timeout.connect(check)
    t_edit = time.perf_counter()
    window.experiment_edited(big)         # as the panel does when the resolution is typed in
    t_returned = time.perf_counter()
    watch.start()
    QTimer.singleShot(int(TIMEOUT_S * 1000), loop.quit)
    loop.exec()
    watch.stop()
    t_arrived = arrived["t"]
    # A little longer: the frames after the new surface.
    run_events(app, 0.5)
    ticks.stop()
    trained = sum(len(p) for p in window.playback.paths().values())
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
            "ticks": len(all_gaps), "trained_points": trained, "load": os.getloadavg()[0]}


def one(kind: str, play: bool) -> None:
    """One measurement in this process: its figures as one JSON line."""
    from landscape_app.gui.app import make_application
    app = make_application()
    print(json.dumps(measure(app, kind, play)), flush=True)
    os._exit(0)      # the figures are out: tearing torch and Qt down would only add noise (as the CLI does)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted(BIG), help="one session only")
    parser.add_argument("--repeat", type=int, default=1, help="measurements of each case (default 1)")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "PLAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one[0], args.one[1] == "1")
    print(f"landscape_app from {os.path.dirname(la.__file__)}; timer every {TICK_MS} ms; "
          f"platform {os.environ.get('QT_QPA_PLATFORM') or 'xcb'}")
    report = Report(__file__, doc=__doc__,
                    baseline="the same window over the same time with no surface computing (the training and the "
                             "machine alone), measured just before the edit in the same process",
                    ratio="ours / the baseline's longest stall (lower is better; x1.00 = computing costs nothing)")
    worst, figures = {}, {}
    for kind in ([args.only] if args.only else ["logistic", "cnn"]):
        print(f"{kind}: grid edit to {BIG[kind][0]} x {BIG[kind][1]}")
        for play in (False, True):
            for _ in range(args.repeat):
                load_before = os.getloadavg()[0]
                done = subprocess.run([sys.executable, __file__, "--one", kind, "1" if play else "0"],
                                      capture_output=True, text=True)
                lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
                if done.returncode != 0 or not lines:
                    print(f"  failed: {done.stderr.strip().splitlines()[-1:]}")
                    continue
                r = json.loads(lines[-1])
                key = (kind, play)
                worst[key] = max(worst.get(key, 0.0), r["longest_while_computing_ms"], r["baseline_ms"])
                figures.setdefault(key, []).append(r)
                print(f"  {'training' if play else 'paused  '}: the edit call returned after {r['edit_call_ms']:6.1f} ms, "
                      f"surface shown after {r['surface_s']:5.2f} s; longest stall while computing "
                      f"{r['longest_while_computing_ms']:6.1f} ms, with no surface computing {r['baseline_ms']:6.1f} ms; "
                      f"drawing the new surface {r['draw_ms']:6.1f} ms ({r['ticks']} ticks, "
                      f"{r['trained_points']} points trained; load {load_before:.1f} before, {r['load']:.1f} after)")
    for (kind, play), ms in worst.items():
        print(f"{kind}, {'training' if play else 'paused'}: longest stall {ms:.1f} ms (target < 50 ms)")
    platform = os.environ.get('QT_QPA_PLATFORM') or 'xcb'
    for kind in ([args.only] if args.only else ["logistic", "cnn"]):
        for play in (False, True):
            what = (f"{kind}, grid edited to {BIG[kind][0]} x {BIG[kind][1]}, {'training' if play else 'paused'}: "
                    f"longest GUI-thread stall while the surface computes")
            runs = figures.get((kind, play))
            if not runs:
                report.not_run(what, "the measuring process failed (see the output)")
                continue
            ours = max(r["longest_while_computing_ms"] for r in runs)
            base = max(r["baseline_ms"] for r in runs)
            report.row(f"{what}, worst of {len(runs)}", ours, "ms", baseline=base, ratio=ours / base if base else None,
                       target="< 50 ms (and the baseline)", met=worst[(kind, play)] < 50.0,
                       load=max(r["load"] for r in runs),
                       note=f"drawing the new surface {max(r['draw_ms'] for r in runs):.0f} ms; platform {platform}")
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
