"""Export plans: every refusal happens before any work, with a message naming the option; pacing arithmetic."""
import os

import numpy as np
import pytest

from landscape_app.core.errors import ExportError
from landscape_app.export.plan import MAX_FRAMES, check_frame_count, kind_of, make_plan


@pytest.mark.parametrize("name, kind", [("a.mp4", "mp4"), ("a.M4V", "mp4"), ("a.gif", "gif"), ("a.webm", "webm"),
                                        ("a.png", "png"), ("a.svg", "svg"), ("frames/", "frames")])
def test_kind_from_the_output_name(tmp_path, name, kind):
    assert kind_of(str(tmp_path / name) + ("/" if name.endswith("/") else "")) == kind


def test_an_existing_folder_means_frames(tmp_path):
    assert kind_of(tmp_path) == "frames"


@pytest.mark.parametrize("kwargs, words", [
    ({"output": "x.avi"}, ["unknown format", ".avi"]),
    ({"output": "noext"}, ["unknown format"]),
    ({"views": "contour,heatmap"}, ["--views", "heatmap"]),
    ({"views": "contour,contour"}, ["--views", "twice"]),
    ({"views": ""}, ["--views"]),
    ({"size": "1280by720"}, ["--size", "WIDTHxHEIGHT"]),
    ({"size": "10x720"}, ["--size", "width 10"]),
    ({"size": "100000x720"}, ["--size"]),
    ({"size": "7680x7680"}, ["--size", "8K"]),
    ({"fps": 0}, ["--fps"]),
    ({"fps": 500}, ["--fps"]),
    ({"fps": "fast"}, ["--fps", "not a number"]),
    ({"output": "x.gif", "fps": 60}, ["--fps", "GIF"]),
    ({"every": 0}, ["--every"]),
    ({"every": 2.5}, ["--every"]),
    ({"every": 2, "duration": 3}, ["--every", "--duration"]),
    ({"duration": -1}, ["--duration"]),
    ({"duration": float("nan")}, ["--duration", "finite"]),
    ({"duration": 0.01}, ["--duration", "two frames"]),
    ({"hold": 100}, ["--hold"]),
    ({"orbit": 30}, ["--orbit", "surface"]),
])
def test_refusals_name_the_option(tmp_path, kwargs, words):
    kwargs = dict(kwargs)
    kwargs["output"] = str(tmp_path / kwargs.get("output", "x.mp4"))
    with pytest.raises(ExportError) as info:
        make_plan(**kwargs)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message
    assert list(tmp_path.iterdir()) == []


def test_output_folder_must_exist_and_be_writable(tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        make_plan(str(tmp_path / "missing" / "x.mp4"))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(ExportError, match="permission denied"):
            make_plan(str(locked / "x.mp4"))
    finally:
        locked.chmod(0o700)


def test_output_kind_conflicts(tmp_path):
    (tmp_path / "dir.mp4").mkdir()
    with pytest.raises(ExportError, match="folder"):
        make_plan(str(tmp_path / "dir.mp4"), duration=1)
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="notes.txt"):
        make_plan(str(frames) + "/")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="not a folder"):
        make_plan(str(tmp_path / "file") + "/")


def test_video_sizes_are_made_even(tmp_path):
    assert make_plan(str(tmp_path / "a.mp4"), size="641x361").size == (642, 362)
    assert make_plan(str(tmp_path / "a.gif"), size="641x361").size == (641, 361)


def test_schedule_every(tmp_path):
    plan = make_plan(str(tmp_path / "a.mp4"), every=3, hold=1.0, fps=10)
    s = plan.schedule(10)
    # points shown: 1, 4, 7, 10, then the hold repeats the whole path for 1 s at 10 fps.
    assert s.tolist() == [1, 4, 7, 10] + [10] * 10
    assert plan.frame_count(10) == len(s)
    s = plan.schedule(11)
    assert s[:5].tolist() == [1, 4, 7, 10, 11]


def test_schedule_duration_spreads_the_run(tmp_path):
    plan = make_plan(str(tmp_path / "a.mp4"), duration=2.0, fps=25, hold=0)
    s = plan.schedule(1001)
    assert len(s) == 50 and s[0] == 1 and s[-1] == 1001
    assert np.all(np.diff(s) > 0)
    slow = plan.schedule(11)     # fewer points than frames: slow motion repeats points
    assert len(slow) == 50 and slow[0] == 1 and slow[-1] == 11 and np.all(np.diff(slow) >= 0)


def test_default_pacing_is_watchable(tmp_path):
    plan = make_plan(str(tmp_path / "a.mp4"), fps=30, hold=0)
    assert plan.frame_count(21) == 4 * 30            # a 20-iteration run is slowed to 4 s
    assert plan.frame_count(100_001) == 12 * 30      # a long one is sped up to 12 s
    assert plan.frame_count(200) == 200              # in between: one frame per iteration


def test_a_still_is_one_frame_of_the_whole_path(tmp_path):
    plan = make_plan(str(tmp_path / "a.png"))
    assert plan.schedule(57).tolist() == [57]


def test_too_many_frames_are_refused_with_a_way_out(tmp_path):
    plan = make_plan(str(tmp_path / "a.mp4"), every=1)
    with pytest.raises(ExportError, match="--every") as info:
        check_frame_count(plan, MAX_FRAMES * 3)
    assert "\n" not in str(info.value)
    assert check_frame_count(plan, 100) == plan.frame_count(100)
