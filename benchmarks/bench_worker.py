"""The training thread's throughput with the window drawing, against the same loop run bare in this process.

For one (w, b) run, a four-run (w, b) race on the same experiment, and the ``mlp-moons`` preset (an MLP race of
two runs, its paths projected on a random plane): steps per second of ``core.training.train`` consumed bare
(round-robin over the runs, like the worker), then in the app (worker thread, batches to the GUI thread, the
window redrawing within its budget), and the ratio. Target: at least 90% for the one-run session.

Bare and app alternate, so a change in the machine's load hits both alike; the load average is printed beside
each pair (on a shared machine the figures move with it). Each pair runs in a fresh process with one window, as
the app has (a second OpenGL window in one process loses the first one's shader programs).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_worker.py   # with the 3-D view
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_worker.py                 # 2-D views only
    .venv/bin/python benchmarks/bench_worker.py --only mlp --repeat 5
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

import gui_env  # noqa: E402 (a sibling script of the benchmarks)

gui_env.prepare()         # before torch and Qt are loaded

import landscape_app as la
from landscape_app.core.session import Session
from landscape_app.core.training import train
from report import Report  # noqa: E402 (a sibling script of the benchmarks)

EPOCHS = 100            # x 60 samples, batch 1: 6,000 iterations per run
REPEATS = 3             # bare and app alternate, so a change in the machine's load hits both alike


def experiments(n_runs: int) -> list:
    data = la.make_dataset("linear", n_samples=60, noise=0.5, intercept=-1.0)
    base = la.Experiment(data=data, batch_size=1, shuffle=True, epochs=EPOCHS, start=(-15.0, -10.0), lr=0.01)
    kinds = [dict(), dict(optimizer="adam", lr=0.05), dict(optimizer_options={"momentum": 0.9}, lr=0.002),
             dict(optimizer="rmsprop", lr=0.01)]
    return [base.replace(**k) for k in kinds[:n_runs]]


def mlp_race() -> list:
    from landscape_app.core.presets import load_preset
    return list(load_preset("mlp-moons").runs)


CASES = {"1": ("1 run (w, b)", lambda: experiments(1)), "4": ("4 runs (w, b)", lambda: experiments(4)),
         "mlp": ("mlp-moons, 2 runs", mlp_race)}


def bare(exps) -> tuple[int, float]:
    """The loop without any GUI: every run's generator advanced in turn, as the worker does, and like the worker
    in a thread of its own (torch's intra-op threads driven from the main thread ran an MLP's small steps up to
    10x slower on a busy two-core machine than from another thread: that would flatter the app)."""
    result = {}

    def loop():
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
        result["figures"] = steps, time.perf_counter() - t0
    thread = threading.Thread(target=loop, name="bare-training")
    thread.start()
    thread.join()
    return result["figures"]


def in_app(app, exps) -> tuple[int, float, int, float]:
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
    while time.perf_counter() < settle or (window.views.contour.surface is None and time.perf_counter() < settle + 60):
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    window.playback.state_changed.connect(lambda s: loop.quit() if s == FINISHED else None)
    t0, cpu0 = time.perf_counter(), time.thread_time()
    window.toggle_play()
    QTimer.singleShot(600_000, loop.quit)    # a safety net only
    loop.exec()
    elapsed = time.perf_counter() - t0
    gui_cpu = time.thread_time() - cpu0          # this is the GUI thread: its CPU time while the runs trained
    steps = sum(len(p) - 1 for p in window.playback.paths().values())
    window.close()
    return steps, elapsed, frames["n"], gui_cpu


def pair(key: str) -> dict:
    """One bare run and one in the app, in this process."""
    from landscape_app.gui.app import make_application
    app = make_application()
    exps = CASES[key][1]()
    bare(experiments(1)[:1])   # warm up: the first optimizer imports torch._dynamo
    load = os.getloadavg()[0]
    b_steps, b_s = bare(exps)
    a_steps, a_s, frames, gui_cpu = in_app(app, exps)
    return {"b_steps": b_steps, "b_s": b_s, "a_steps": a_steps, "a_s": a_s, "frames": frames, "gui_cpu": gui_cpu,
            "load": load, "load_after": os.getloadavg()[0], "platform": app.platformName()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted(CASES), help="one case only")
    parser.add_argument("--repeat", type=int, default=REPEATS, help=f"pairs per case (default {REPEATS})")
    parser.add_argument("--pair", metavar="CASE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pair:
        print(json.dumps(pair(args.pair)), flush=True)
        os._exit(0)      # the figures are out: tearing torch and Qt down would only add noise (as the CLI does)
    print(f"platform {os.environ.get('QT_QPA_PLATFORM') or 'xcb'}; (w, b): {EPOCHS} epochs x 60 samples, batch 1, "
          f"per run")
    report = Report(__file__, doc=__doc__,
                    baseline="the same loop (`core.training.train`, round-robin over the runs) consumed bare in a "
                             "thread of its own, in the same process, alternating with the app",
                    ratio="ours / the baseline's steps per second (higher is better; x1.00 = the window costs "
                          "nothing)")
    ok = True
    for key in ([args.only] if args.only else list(CASES)):
        name = CASES[key][0]
        ratios, rates, loads, fps = [], [], [], []
        for _ in range(args.repeat):
            done = subprocess.run([sys.executable, __file__, "--pair", key], capture_output=True, text=True)
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
            if done.returncode != 0 or not lines:
                print(f"{name}: failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(lines[-1])
            b_rate, a_rate = r["b_steps"] / r["b_s"], r["a_steps"] / r["a_s"]
            ratios.append(a_rate / b_rate)
            rates.append((a_rate, b_rate))
            loads.append(r["load"])
            fps.append(r["frames"] / r["a_s"])
            print(f"{name}: bare {b_rate:7,.0f} steps/s ({r['b_steps']:,} in {r['b_s']:.2f} s)   "
                  f"app {a_rate:7,.0f} steps/s ({r['a_steps']:,} in {r['a_s']:.2f} s, {r['frames']} frames, "
                  f"{r['frames'] / r['a_s']:.1f} fps, GUI thread CPU {r['gui_cpu'] / r['a_s']:.0%})   ratio {a_rate / b_rate:.1%}   "
                  f"(load {r['load']:.1f} -> {r['load_after']:.1f})", flush=True)
        if ratios:
            ratio = statistics.median(ratios)
            if key == "1":
                ok &= ratio >= 0.9
            print(f"{name}: median ratio {ratio:.1%} of {len(ratios)}", flush=True)
            report.row(f"{name}: training steps/s with the window drawing, median of {len(ratios)}",
                       statistics.median(a for a, _ in rates), "steps/s",
                       baseline=statistics.median(b for _, b in rates), ratio=ratio,
                       target=">= x0.90" if key == "1" else None, met=ratio >= 0.9 if key == "1" else None,
                       load=statistics.median(loads),
                       note=f"{statistics.median(fps):.1f} frames/s; platform {r['platform']}")
        else:
            report.not_run(f"{name}: training steps/s with the window drawing", "every pair failed (see the output)")
    if args.only in (None, "1"):
        print(f"target >= 90% for one run: {'met' if ok else 'NOT met'}")
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
