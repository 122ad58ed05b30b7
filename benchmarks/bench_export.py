"""Export speed as a user measures it: our CLI against matplotlib scripts of the same animation; frames/s of the
3-D view and of a 2x2 grid; GIF sizes.

The same animation (the loss surface, the optimizer's moving path and a caption; 300 frames of 1280x720 MP4) is
made three ways, each timed as a whole process from launch to finished file (starting Python, imports, data,
training, rendering, encoding):

* ours:       ``python -m landscape_app export SESSION.toml -o ours.mp4 --every 1 --hold 0``
* contourf:   a script drawing what the course's helper draws, ``contourf`` with 30 levels and the path, animated
              with FuncAnimation and written by matplotlib's FFMpegWriter;
* heat map:   the same script drawing our look instead: an ``imshow`` heat map with 10 iso-lines.

The scripts train the same model with the same torch loop, and encode with the same ffmpeg (imageio-ffmpeg's)
and the same x264 settings as ours, so the figures compare drawing and start-up, not encoders. The machine may
be shared: each is run ``REPEATS`` times, interleaved, and the medians are compared; the load average is printed.
Target: ours at least 5x faster than the contourf script. Then frames/s of rendering alone (no encoding) for the
3-D view at 1280x720 and for a 2x2 grid of all four views at 1920x1080 -- these need OpenGL, so the script
re-runs itself under ``xvfb-run`` when there is no display -- and the size of the GIF of the same run at two
sizes.

    .venv/bin/python benchmarks/bench_export.py [--repeats N] [--mp4-only] [--before OTHER_SOURCE_TREE]
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from report import Report                  # a sibling script of the benchmarks

FRAMES = 300
SIZE = (1280, 720)
FPS = 30
REPEATS = 5

# Our writer's x264 settings (export/writers.py), given to matplotlib's writer too.
X264_ARGS = ["-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]

MATPLOTLIB_SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np
    import torch
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import animation
    import imageio_ffmpeg

    out, epochs, style = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
    # The same data (evenly spaced x, seeded noise) and the course's loop: yhat, loss, zero_grad, backward, step.
    rng = np.random.default_rng(0)
    x = np.linspace(-3.0, 3.0, 60)
    y = x + 0.1 * rng.standard_normal(60)
    X = torch.tensor(x, dtype=torch.float32).reshape(-1, 1)
    Y = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    model = torch.nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(-15.0)
        model.bias.fill_(-10.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = torch.nn.MSELoss()
    path = [(-15.0, -10.0)]
    for _ in range(epochs):
        loss = criterion(model(X), Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        path.append((model.weight.item(), model.bias.item()))
    path = np.array(path)
    w = np.linspace(-20, 20, 201)
    b = np.linspace(-20, 20, 201)
    W, B = np.meshgrid(w, b)
    L = ((W[..., None] * x + B[..., None] - y) ** 2).mean(axis=-1)
    full = ((path[:, :1] * x + path[:, 1:] - y) ** 2).mean(axis=1)

    fig, ax = plt.subplots(figsize=(12.8, 7.2), dpi=100, facecolor="#14161c")
    ax.set_facecolor("#14161c")
    if style == "contourf":
        # What the course's helper draws: filled contours, 30 levels.
        image = ax.contourf(w, b, L, levels=30, cmap="viridis")
    else:
        image = ax.imshow(L, origin="lower", extent=(-20, 20, -20, 20), aspect="auto", cmap="viridis")
        ax.contour(w, b, L, levels=np.linspace(L.min(), L.max(), 12)[1:-1], colors="white", linewidths=0.6,
                   alpha=0.35)
    fig.colorbar(image, ax=ax, label="MSE loss")
    ax.set_xlabel("w")
    ax.set_ylabel("b")
    line, = ax.plot([], [], "-o", color="#E69F00", markersize=3, linewidth=2)
    current, = ax.plot([], [], "o", color="#E69F00", markeredgecolor="white", markersize=9)
    caption = fig.text(0.02, 0.02, "", color="#d8dce4", fontsize=12)

    def update(i):
        line.set_data(path[: i + 1, 0], path[: i + 1, 1])
        current.set_data(path[i:i + 1, 0], path[i:i + 1, 1])
        caption.set_text(f"iteration {i}   loss {full[i]:.4g}")
        return line, current, caption

    anim = animation.FuncAnimation(fig, update, frames=len(path))
    anim.save(out, writer=animation.FFMpegWriter(fps=30, codec="h264", extra_args=sys.argv[4:]))
''')

GL_WORKER_FLAG = "--gl-worker"


def write_session(folder: Path) -> Path:
    import landscape_app as la
    from landscape_app.core.session import Session
    exp = la.Experiment(data=la.make_dataset("linear", n_samples=60, noise=0.1, seed=0), lr=0.01,
                        epochs=FRAMES - 1, start=(-15.0, -10.0))
    path = folder / "bench.toml"
    la.save(Session((exp,)), path)
    return path


def timed(args, env=None, cwd=None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children, e.g. ffmpeg)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{args[:4]} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def with_path(env: dict, tree: str) -> dict:
    """``env`` with the source tree ``tree`` first on PYTHONPATH."""
    return {**env, "PYTHONPATH": os.pathsep.join(p for p in (tree, env.get("PYTHONPATH")) if p)}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def frame_count(path: Path) -> int:
    import imageio_ffmpeg
    return imageio_ffmpeg.count_frames_and_secs(str(path))[0]


def gl_worker(session_path: str) -> None:
    """Render-only frames/s (no encoding) for the 3-D view and the 2x2 grid; prints one JSON line."""
    from landscape_app.core.tomlio import load_session
    from landscape_app.export.display import QtSession
    from landscape_app.export.frames import BASE_HEIGHT, FrameRenderer, iter_frames
    from landscape_app.export.plan import make_plan
    from landscape_app.export.scene import prepare_scene
    scene = prepare_scene(load_session(session_path))
    results = {}
    configs = {"3-D view 1280x720": ("surface", (1280, 720), 60.0),
               "2x2 grid of all views 1920x1080": ("contour,surface,loss,data", (1920, 1080), 0.0)}
    for label, (views, size, orbit) in configs.items():
        plan = make_plan(os.path.join(tempfile.gettempdir(), "unused.mp4"), views=views, size=size, every=1,
                         hold=0, orbit=orbit)
        schedule = plan.schedule(scene.n_points)[:120]
        with QtSession(True, max(1.0, size[1] / BASE_HEIGHT)):
            with FrameRenderer(scene, plan) as renderer:
                t0 = time.perf_counter()
                n = sum(1 for _ in iter_frames(renderer, schedule))
                results[label] = n / (time.perf_counter() - t0)
    print(json.dumps(results))


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == GL_WORKER_FLAG:
        gl_worker(sys.argv[2])
        return 0
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else REPEATS
    # --before TREE: also time the export of another source tree (e.g. an older checkout), in the same rounds.
    before = sys.argv[sys.argv.index("--before") + 1] if "--before" in sys.argv else None
    python = sys.executable
    report = Report(__file__, doc=__doc__,
                    baseline="a matplotlib script of the same animation (same data, torch loop, ffmpeg and x264 "
                             "settings), timed the same way as a whole process, interleaved with ours",
                    ratio="the baseline's seconds / ours (a speed-up: higher is better)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        session = write_session(folder)
        script = folder / "matplotlib_animation.py"
        script.write_text(MATPLOTLIB_SCRIPT)
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}

        outs = {name: folder / f"{name}.mp4" for name in ("ours", "before", "contourf", "heatmap")}

        def export(name):
            return [python, "-m", "landscape_app", "export", str(session), "-o", str(outs[name]), "--views",
                    "contour", "--size", f"{SIZE[0]}x{SIZE[1]}", "--fps", str(FPS), "--every", "1", "--hold", "0",
                    "-q"]
        # Run from the temporary folder: ``python -m`` puts the working directory first on the path, and a
        # source tree there would shadow the one each command is meant to run.
        commands = {"ours": (export("ours"), with_path(env, str(Path(__file__).resolve().parents[1])))}
        if before:
            commands["before"] = (export("before"), with_path(env, str(Path(before).resolve())))
        for style in ("contourf", "heatmap"):
            commands[style] = ([python, str(script), str(outs[style]), str(FRAMES - 1), style, *X264_ARGS], env)
        print(f"{FRAMES}-frame {SIZE[0]}x{SIZE[1]} MP4 of the loss surface with the moving path, whole process each "
              f"(median of {repeats}, interleaved; CPU includes ffmpeg)")
        print(f"  before: {load()}")
        times = {name: [] for name in commands}
        for _ in range(repeats):
            for name, (args, run_env) in commands.items():
                times[name].append(timed(args, run_env, cwd=folder))
        print(f"  after:  {load()}")
        labels = {"ours": "ours (landscape-app export)", "before": f"ours from {before}",
                  "contourf": "matplotlib contourf, 30 levels", "heatmap": "matplotlib imshow + iso-lines"}
        medians = {}
        for name, runs in times.items():
            wall = statistics.median(t for t, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            medians[name] = wall, cpu
            out = outs[name]
            print(f"  {labels[name]:32s} {wall:6.2f} s wall ({min(t for t, _ in runs):.2f}-"
                  f"{max(t for t, _ in runs):.2f}) {cpu:6.2f} s CPU  ({frame_count(out)} frames, "
                  f"{out.stat().st_size / 1024:.0f} KB)")
        for mine in ("ours", "before") if before else ("ours",):
            ours_wall, ours_cpu = medians[mine]
            for name in ("contourf", "heatmap"):
                wall, cpu = medians[name]
                print(f"  {labels[mine]} is {wall / ours_wall:4.1f}x faster than {labels[name]} in wall time, "
                      f"{cpu / ours_cpu:4.1f}x in CPU time" + ("  (target >= 5x)" if name == "contourf" else ""))
        ours_wall, ours_cpu = medians["ours"]
        for name in ("contourf", "heatmap"):
            wall, cpu = medians[name]
            target = name == "contourf"
            report.row(f"{FRAMES}-frame {SIZE[0]}x{SIZE[1]} MP4, launch to file, against {labels[name]}, median of "
                       f"{repeats}", ours_wall, "s", baseline=wall, ratio=wall / ours_wall,
                       target=">= x5" if target else None, met=wall / ours_wall >= 5 if target else None,
                       note=f"CPU incl. ffmpeg {ours_cpu:.1f} s ours, {cpu:.1f} s theirs")
        if "--mp4-only" in sys.argv:
            report.write()
            return 0

        gl_args = [python, __file__, GL_WORKER_FLAG, str(session)]
        if not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
            gl_args = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24"] + gl_args
        done = subprocess.run(gl_args, capture_output=True, text=True, env=dict(os.environ))
        if done.returncode == 0:
            print("rendering alone (no encoding), 120 frames:")
            for label, fps in json.loads(done.stdout.strip().splitlines()[-1]).items():
                print(f"  {label:34s} {fps:6.1f} frames/s")
                report.row(f"rendering alone (no encoding), 120 frames: {label}", fps, "frames/s")
        else:
            print(f"3-D frames/s: not measured (no OpenGL here): {done.stderr.strip().splitlines()[-1:]}")
            report.not_run("rendering alone (no encoding): 3-D view and 2x2 grid", "no OpenGL here")

        print("GIF of the same run (every 2nd iteration, 2 s hold), whole process each:")
        for size in ("640x360", "480x270"):
            out = folder / f"run-{size}.gif"
            seconds, _ = timed([python, "-m", "landscape_app", "export", str(session), "-o", str(out), "--views",
                                "contour", "--size", size, "--fps", "15", "--every", "2", "-q"],
                               commands["ours"][1], cwd=folder)
            print(f"  {size}: {out.stat().st_size / 1024:7.0f} KB in {seconds:.2f} s")
            report.row(f"GIF {size} of the same run (every 2nd iteration, 15 fps): file size",
                       out.stat().st_size / 1024, "KB", note=f"made in {seconds:.2f} s, launch to file")
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
