"""The training thread's throughput with the window drawing, against the same loop run bare in this process.

For one run and for a four-run race on the same experiment: steps per second of ``core.training.train``
consumed bare (round-robin over the runs, like the worker), then in the app (worker thread, batches to the GUI
thread, the window redrawing at up to 60 frames a second), and the ratio. Target: at least 90%.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_worker.py   # with the 3-D view
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_worker.py                 # 2-D views only
"""
from __future__ import annotations

import os
import statistics
import sys
import time

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import landscape_app as la
from landscape_app.core.session import Session
from landscape_app.core.training import train

EPOCHS = 100            # x 60 samples, batch 1: 6,000 iterations per run
REPEATS = 3             # bare and app alternate, so a change in the machine's load hits both alike


def experiments(n_runs: int) -> list:
    data = la.make_dataset("linear", n_samples=60, noise=0.5, intercept=-1.0)
    base = la.Experiment(data=data, batch_size=1, shuffle=True, epochs=EPOCHS, start=(-15.0, -10.0), lr=0.01)
    kinds = [dict(), dict(optimizer="adam", lr=0.05), dict(optimizer_options={"momentum": 0.9}, lr=0.002),
             dict(optimizer="rmsprop", lr=0.01)]
    return [base.replace(**k) for k in kinds[:n_runs]]


def bare(exps) -> tuple[int, float]:
    """The loop without any GUI: every run's generator advanced in turn, as the worker does."""
    gens = [train(e, run_id=i) for i, e in enumerate(exps)]
    steps = 0
    t0 = time.perf_counter()
    while gens:
        for g in list(gens):
            try:
                next(g)
                steps += 1
            except StopIteration:
                gens.remove(g)
    return steps, time.perf_counter() - t0


def in_app(app, exps) -> tuple[int, float, int]:
    from PySide6.QtCore import QEventLoop, QTimer
    from landscape_app.gui.main_window import MainWindow
    from landscape_app.gui.playback import FINISHED
    window = MainWindow(Session(tuple(exps)))
    window.resize(1280, 800)
    window.show()
    window.transport.set_speed(None)
    window.playback.set_speed(None)
    frames = {"n": 0}
    original = window.redraw

    def counting_redraw():
        frames["n"] += 1
        original()
    window.redraw = counting_redraw      # the frame timer calls redraw() when it decides to draw
    window.start_training_thread()
    loop = QEventLoop()
    # Wait for the start points and the window's first frames (OpenGL set-up, the backgrounds' caches: ~70 ms),
    # so that the timing covers training only: a window is open long before anyone presses Play.
    while min((len(p) for p in window.playback.paths().values()), default=0) < 1:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    settle = time.perf_counter() + 0.5
    while time.perf_counter() < settle:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    window.playback.state_changed.connect(lambda s: loop.quit() if s == FINISHED else None)
    t0 = time.perf_counter()
    window.toggle_play()
    QTimer.singleShot(600_000, loop.quit)    # a safety net only
    loop.exec()
    elapsed = time.perf_counter() - t0
    steps = sum(len(p) - 1 for p in window.playback.paths().values())
    window.close()
    return steps, elapsed, frames["n"]


def main() -> int:
    from landscape_app.gui.app import make_application
    app = make_application()
    bare(experiments(1)[:1])   # warm up: the first optimizer imports torch._dynamo
    print(f"platform {app.platformName()}, {EPOCHS} epochs x 60 samples, batch 1, per run")
    ok = True
    for n_runs in (1, 4):
        exps = experiments(n_runs)
        ratios = []
        for _ in range(REPEATS):
            b_steps, b_s = bare(exps)
            a_steps, a_s, frames = in_app(app, exps)
            b_rate, a_rate = b_steps / b_s, a_steps / a_s
            ratios.append(a_rate / b_rate)
            print(f"{n_runs} run(s): bare {b_rate:7,.0f} steps/s ({b_steps:,} in {b_s:.2f} s)   "
                  f"app {a_rate:7,.0f} steps/s ({a_steps:,} in {a_s:.2f} s, {frames} frames, "
                  f"{frames / a_s:.1f} fps)   ratio {a_rate / b_rate:.1%}")
        ratio = statistics.median(ratios)
        ok &= ratio >= 0.9
        print(f"{n_runs} run(s): median ratio {ratio:.1%}")
    print(f"target >= 90%: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
