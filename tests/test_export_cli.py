"""The headless subcommands: `landscape-app export|surface|run` in subprocesses without a display, refusals
before any work (one line, exit 2, nothing written), Ctrl-C leaving nothing, and the 3-D view on Xvfb."""
import os
import subprocess
import sys

import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.session import Session
from landscape_app import commands
from landscape_app.export.data import load_runs, load_surface
from landscape_app.export.plan import make_plan

ORANGE = np.array([0xE6, 0x9F, 0x00])


@pytest.fixture(scope="module")
def session_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("session")
    exp = la.Experiment(data=la.make_dataset("linear", n_samples=24, noise=0.3, seed=4), lr=0.08, epochs=10,
                        batch_size=8, start=(-12.0, 9.0), grid=la.Grid(resolution=(81, 61)))
    path = folder / "race.toml"
    la.save(Session((exp, exp.replace(optimizer="adam", lr=0.9)), title="CLI race"), path)
    return path


def headless_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return env


def cli(args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "landscape_app", *map(str, args)], capture_output=True,
                          text=True, env=env or headless_env(), timeout=timeout)


def read_video(path):
    from test_export_writers import read_video as read
    return read(path)


def test_export_mp4_without_a_display(tmp_path, session_file, qapp):
    out = tmp_path / "race.mp4"
    args = ["--views", "contour,loss", "--size", "480x270", "--every", "2", "--hold", "0.5", "--fps", "10"]
    done = cli(["export", session_file, "-o", out, *args])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out}") and "frames" in done.stdout
    frames = read_video(out)
    plan = make_plan(str(tmp_path / "same.mp4"), views="contour,loss", size=(480, 270), every=2, hold=0.5, fps=10)
    session = la.load_session(session_file)
    from landscape_app.export.frames import FrameRenderer
    from landscape_app.export.scene import prepare_scene
    scene = prepare_scene(session)
    assert frames.shape == (plan.frame_count(scene.n_points), 270, 480, 3)
    assert not np.array_equal(frames[0], frames[-1])
    # Where the first run's path lies (same layout, rendered here), the video shows its colour at the end.
    with FrameRenderer(scene, plan) as renderer:
        params = scene.trajectories[0].params
        points = [renderer.pixel_of("contour", *((params[i - 1] + params[i]) / 2)) for i in (1, 2, 3)]
    for px, py in points:
        x, y = int(round(px)), int(round(py))
        patch = frames[-1][y - 3:y + 4, x - 3:x + 4].reshape(-1, 3).astype(int)
        assert (np.abs(patch - ORANGE).max(axis=1) < 60).any(), (px, py)
        first = frames[0][y - 3:y + 4, x - 3:x + 4].reshape(-1, 3).astype(int)
        assert not (np.abs(first - ORANGE).max(axis=1) < 60).any()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.mp4"]


def test_png_frames_folder(tmp_path, session_file, qapp):
    code = commands.main(["export", str(session_file), "-o", f"{tmp_path / 'frames'}/", "--size", "320x180",
                          "--duration", "1", "--fps", "12", "--hold", "0.25", "-q"])
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names == [f"frame_{k:05d}.png" for k in range(12 + 3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]


def test_preset_to_gif(tmp_path, qapp, capsys):
    out = tmp_path / "course.gif"
    code = commands.main(["export", "--preset", "course-linear-regression", "-o", str(out), "--size", "320x180",
                          "--duration", "1", "--fps", "10", "--views", "contour,data"])
    assert code == 0
    assert "wrote" in capsys.readouterr().out
    import imageio.v3 as iio
    frames = iio.imread(out, index=None)
    assert frames.shape[1:] == (180, 320, 3) and len(frames) >= 2


@pytest.mark.parametrize("args, words", [
    (["-o", "{tmp}/x.avi"], ["unknown format"]),
    (["-o", "{tmp}/x.mp4", "--views", "contour,heat"], ["unknown view", "heat"]),
    (["-o", "{tmp}/x.mp4", "--size", "2x2"], ["--size"]),
    (["-o", "{tmp}/x.mp4", "--fps", "-3"], ["--fps"]),
    (["-o", "{tmp}/missing/x.mp4"], ["does not exist"]),
    (["-o", "{tmp}/x.mp4", "--every", "1", "--duration", "2"], ["not allowed with"]),
    (["-o", "{tmp}/x.mp4", "--bogus"], ["unrecognized arguments"]),
    (["-o", "{tmp}/x.gif", "--fps", "60"], ["GIF"]),
])
def test_refusals_are_one_line_and_write_nothing(tmp_path, session_file, capsys, args, words):
    args = [a.format(tmp=tmp_path) for a in args]
    assert commands.main(["export", str(session_file), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    for word in words:
        assert word in err
    assert list(tmp_path.iterdir()) == []


def test_refusal_comes_before_loading_the_session(tmp_path, capsys):
    # The session does not exist, but the bad view is what is reported: nothing was loaded or run.
    assert commands.main(["export", str(tmp_path / "nope.toml"), "-o", str(tmp_path / "x.mp4"),
                          "--views", "cube"]) == 2
    assert "cube" in capsys.readouterr().err


def test_bad_session_and_source_are_refused(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[experiment]\nlr = -1\n")
    assert commands.main(["export", str(bad), "-o", str(tmp_path / "x.mp4")]) == 2
    assert "lr" in capsys.readouterr().err
    assert commands.main(["export", "-o", str(tmp_path / "x.mp4")]) == 2
    assert "SESSION.toml or --preset" in capsys.readouterr().err
    assert commands.main(["run", "--preset", "no-such-preset", "-o", str(tmp_path / "x.csv")]) == 2
    assert "no-such-preset" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["bad.toml"]


def test_too_many_frames_refused_before_training(tmp_path, capsys):
    exp = la.Experiment(epochs=200_000)
    path = tmp_path / "long.toml"
    la.save(Session((exp,)), path)
    assert commands.main(["export", str(path), "-o", str(tmp_path / "x.mp4"), "--every", "1"]) == 2
    assert "--every" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["long.toml"]


def test_ctrl_c_leaves_the_target_untouched(tmp_path, session_file, monkeypatch, capsys, qapp):
    from landscape_app.export import writers
    target = tmp_path / "old.mp4"
    target.write_bytes(b"previous export")
    original = writers.FFmpegWriter._write
    calls = []

    def interrupted(self, frame):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        original(self, frame)

    monkeypatch.setattr(writers.FFmpegWriter, "_write", interrupted)
    code = commands.main(["export", str(session_file), "-o", str(target), "--size", "320x180", "--every", "1"])
    assert code == 130
    assert "nothing was written" in capsys.readouterr().err
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["old.mp4"]


def test_surface_and_run_commands(tmp_path, session_file, capsys):
    assert commands.main(["surface", str(session_file), "-o", str(tmp_path / "s.npz")]) == 0
    session, surface = load_surface(tmp_path / "s.npz")
    assert surface.loss.shape == (61, 81) and session.title == "CLI race"
    assert commands.main(["surface", str(session_file), "-o", str(tmp_path / "s.csv"), "--resolution", "9x7"]) == 0
    _, small = load_surface(tmp_path / "s.csv")
    assert small.loss.shape == (7, 9)
    assert commands.main(["surface", str(session_file), "-o", str(tmp_path / "s.txt")]) == 2
    out = capsys.readouterr()
    assert "wrote" in out.out and ".npz or .csv" in out.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.npz"]


def test_run_command_in_a_subprocess(tmp_path, session_file):
    done = cli(["run", session_file, "-o", tmp_path / "paths.json"])
    assert done.returncode == 0, done.stderr
    session, trajectories = load_runs(tmp_path / "paths.json")
    assert len(trajectories) == 2 and session.names == la.load_session(session_file).names
    fresh = la.run(la.load_session(session_file).runs[1])
    assert np.array_equal(trajectories[1].params, fresh.params)


def test_subprocess_refusal_prints_one_line(tmp_path, session_file):
    done = cli(["export", session_file, "-o", tmp_path / "x.mp4", "--size", "99999x10"])
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--size" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_3d_needs_gl_and_says_what_to_install(tmp_path, session_file):
    env = headless_env()
    env["PATH"] = str(tmp_path / "empty-bin")        # no Xvfb to be found, and no display
    done = cli(["export", session_file, "-o", tmp_path / "x.mp4", "--views", "surface,contour"], env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1
    assert "apt-get install xvfb" in done.stderr and "--views" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_3d_export_on_xvfb(tmp_path, session_file, gl_env):
    out = tmp_path / "orbit.mp4"
    done = cli(["export", session_file, "-o", out, "--views", "surface,contour", "--size", "480x270",
                "--every", "3", "--orbit", "60", "--hold", "0"], env=gl_env)
    assert done.returncode == 0, done.stderr
    frames = read_video(out)
    assert frames.shape[1:] == (270, 480, 3) and len(frames) >= 5
    left = frames[:, :, :240]
    # The camera turns: the 3-D half changes between every pair of frames, while the path grows.
    assert all(not np.array_equal(a, b) for a, b in zip(left[:-1], left[1:]))
    # The surface is drawn in the colour map (viridis' teals and greens), not an empty placeholder.
    last = left[-1].astype(int)
    assert ((last[:, :, 1] > last[:, :, 0] + 30) & (last[:, :, 1] > 100)).sum() > 1000


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_a_real_interrupt_leaves_nothing(tmp_path, signum):
    import signal
    import time
    exp = la.Experiment(lr=0.001, epochs=5000)
    session = tmp_path / "long.toml"
    la.save(Session((exp,)), session)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "landscape_app", "export", str(session), "-o",
                             str(out / "long.mp4"), "--size", "320x180", "--every", "1", "-q"],
                            env=headless_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Wait until frames are being written (the temporary file exists), then interrupt.
        deadline = time.monotonic() + 240
        while not any(p.name.endswith(".partial.mp4") for p in out.iterdir()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the export never started writing"
            time.sleep(0.05)
        proc.send_signal(getattr(signal, signum))
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "nothing was written" in err and "Traceback" not in err
    assert list(out.iterdir()) == []


def test_export_animation_from_a_script(tmp_path, session_file, qapp):
    from landscape_app.export import export_animation
    seen = []
    result = export_animation(session_file, tmp_path / "api.gif", views="contour,loss", size=(320, 180),
                              duration=1, fps=10, hold=0.5, progress=lambda *a: seen.append(a[0]))
    assert result.frames == 15 and result.path == tmp_path / "api.gif" and result.bytes > 1000
    assert "train" in seen and seen[-1] == "frames"
    assert "15 frames" in result.summary()


@pytest.mark.skipif(not __import__("shutil").which("Xvfb"), reason="Xvfb is not installed")
def test_3d_without_a_display_starts_and_stops_its_own_xvfb(tmp_path, session_file):
    def ours():
        found = subprocess.run(["pgrep", "-f", "Xvfb -displayfd .* -terminate"], capture_output=True, text=True)
        return set(found.stdout.split())

    before = ours()
    out = tmp_path / "surface.gif"
    done = cli(["export", session_file, "-o", out, "--views", "surface", "--size", "320x180", "--duration", "1",
                "--hold", "0", "--fps", "10"])
    assert done.returncode == 0, done.stderr
    import imageio.v3 as iio
    frames = iio.imread(out, index=None)
    assert frames.shape[1:] == (180, 320, 3) and not np.array_equal(frames[0], frames[-1])
    assert ours() <= before          # the private X server is gone with the export
