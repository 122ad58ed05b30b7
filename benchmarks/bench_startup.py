"""Time from launching ``landscape-app`` (a subprocess) to its window showing the default surface.

Prints each figure and the ratio against two baselines run here, the same way: a bare Python start, and
``python -c "import torch"`` (the floor: the app cannot show a surface before torch is imported).
Target: under 2.5 s. Run under Xvfb for the real (OpenGL) window, or offscreen:

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_startup.py
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from landscape_app.gui.main_window import STARTUP_MARK, STARTUP_MARK_ENV
from report import Report                  # a sibling script of the benchmarks

REPEATS = 5


def _time_until(args, mark: str | None, env) -> float:
    """Seconds from launch until ``mark`` is printed (or until exit when ``mark`` is None)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    if mark is None:
        proc.wait()
        return time.perf_counter() - t0
    for line in proc.stdout:
        if line.strip() == mark:
            elapsed = time.perf_counter() - t0
            break
    else:
        raise RuntimeError("the app exited without showing its window")
    proc.wait()
    return elapsed


def main() -> int:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "xcb" if env.get("DISPLAY") else "offscreen")
    env[STARTUP_MARK_ENV] = "1"
    py = sys.executable
    app = [py, "-m", "landscape_app", "--quit-after", "1"]   # the mark comes before the quit
    runs = {
        "python (bare start)": ([py, "-c", "pass"], None),
        "python -c 'import torch'": ([py, "-c", "import torch"], None),
        "landscape-app to window shown": (app, STARTUP_MARK),
    }
    _time_until(app, STARTUP_MARK, env)      # warm the disk cache once
    results = {}
    for name, (args, mark) in runs.items():
        times = [_time_until(args, mark, env) for _ in range(REPEATS)]
        results[name] = statistics.median(times)
        print(f"{name:34s} median {results[name]:6.3f} s   (min {min(times):.3f}, max {max(times):.3f}, "
              f"{REPEATS} runs, platform {env['QT_QPA_PLATFORM']})")
    app_s = results["landscape-app to window shown"]
    torch_s = results["python -c 'import torch'"]
    print(f"app / import torch: {app_s / torch_s:.2f}x   app beyond torch: {app_s - torch_s:+.3f} s")
    print(f"target < 2.5 s: {'met' if app_s < 2.5 else 'NOT met'} ({app_s:.3f} s)")
    report = Report(__file__, doc=__doc__, ratio="ours / the baseline's seconds (lower is better)",
                    baseline="a fresh interpreter, the same way: `python -c 'import torch'` (the floor) and a "
                             "bare `python -c pass`")
    where = f"platform {env['QT_QPA_PLATFORM']}, median of {REPEATS}"
    for name in ("python -c 'import torch'", "python (bare start)"):
        report.row(f"launch to window shown, against `{name}` ({where})", app_s, "s", baseline=results[name],
                   ratio=app_s / results[name], target="< 2.5 s", met=app_s < 2.5)
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
