"""Frame writers on synthetic frames: decoded back with imageio; nothing half-written on abort."""
import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from landscape_app.core.errors import ExportError
from landscape_app.export.plan import make_plan
from landscape_app.export.gif import GifWriter
from landscape_app.export.writers import FFmpegWriter, PngFolderWriter, open_writer

W, H = 96, 64
ORANGE = (230, 159, 0)


def frame(k: int) -> np.ndarray:
    """A dark gradient with an orange square that moves right with k (k < 60)."""
    f = np.zeros((H, W, 3), np.uint8)
    f[:, :, 2] = np.linspace(30, 200, W).astype(np.uint8)[None, :]
    f[:, :, 1] = np.linspace(20, 120, H).astype(np.uint8)[:, None]
    f[20:30, k:k + 10] = ORANGE
    return f


def read_video(path) -> np.ndarray:
    """Every frame of a video as RGB, decoded by imageio-ffmpeg's ffmpeg.

    (imageio's own ffmpeg reader leaves its pipes to the garbage collector, which strict pytest reports.)
    """
    import subprocess

    import imageio_ffmpeg
    w, h = video_size(path)
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, h, w, 3)


def video_size(path) -> tuple[int, int]:
    import imageio_ffmpeg
    gen = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(gen)
    finally:
        gen.close()
    return tuple(meta["size"])


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("kind", ["mp4", "webm"])
def test_video_frames_decode_back(tmp_path, kind):
    path = tmp_path / f"out.{kind}"
    with FFmpegWriter(path, (W, H), fps=10, kind=kind) as writer:
        for k in range(12):
            writer.write(frame(3 * k))
    frames = read_video(path)
    assert frames.shape == (12, H, W, 3)
    assert not np.array_equal(frames[0], frames[-1])
    # The square's colour survives the yuv420p encoding where it was drawn, and only there.
    inside = frames[-1][22:28, 36:42].reshape(-1, 3).mean(axis=0)
    assert np.abs(inside - ORANGE).max() < 25
    assert np.abs(frames[-1][22:28, 2:8].reshape(-1, 3).mean(axis=0) - ORANGE).max() > 60
    assert leftovers(tmp_path) == []
    assert oct(path.stat().st_mode & 0o044) == oct(0o044)     # readable like any new file (umask 022)


def test_video_of_qt32_frames_decodes_to_the_same_colours(tmp_path):
    from landscape_app.export.writers import QT32_PIXEL_FORMAT
    order = {"bgr0": [2, 1, 0, None], "0rgb": [None, 0, 1, 2]}[QT32_PIXEL_FORMAT]

    def qt32(rgb):
        raw = np.full(rgb.shape[:2] + (4,), 255, np.uint8)
        for channel, source in enumerate(order):
            if source is not None:
                raw[..., channel] = rgb[..., source]
        return raw

    path, reference = tmp_path / "qt32.mp4", tmp_path / "rgb.mp4"
    with FFmpegWriter(path, (W, H), fps=10, layout="qt32") as writer:
        for k in range(8):
            writer.write(qt32(frame(4 * k)))
    with FFmpegWriter(reference, (W, H), fps=10) as writer:
        for k in range(8):
            writer.write(frame(4 * k))
    frames, expected = read_video(path), read_video(reference)
    assert frames.shape == (8, H, W, 3)
    # The same pictures (the two colour conversions to yuv420p may round differently).
    assert np.abs(frames.astype(int) - expected).max() <= 3
    assert np.abs(frames[-1][22:28, 30:36].reshape(-1, 3).mean(axis=0) - ORANGE).max() < 25
    with pytest.raises(ValueError):
        with FFmpegWriter(tmp_path / "x.mp4", (W, H), fps=10, layout="qt32") as writer:
            writer.write(frame(0))                  # RGB given where 32-bit pixels were asked for
    assert leftovers(tmp_path) == []


def test_ffmpeg_dying_midway_is_an_error_and_leaves_nothing(tmp_path):
    target = tmp_path / "out.mp4"
    target.write_bytes(b"previous")
    with pytest.raises(ExportError, match="ffmpeg"):
        with FFmpegWriter(target, (W, H), fps=10) as writer:
            writer.write(frame(0))
            writer._proc.kill()                     # as if ffmpeg crashed or was killed
            writer._proc.wait()
            for k in range(1, 50):                  # the feeder notices; a later write or the close says so
                writer.write(frame(k))
    assert target.read_bytes() == b"previous"
    assert leftovers(tmp_path) == []


def test_gif_loops_merges_repeats_and_keeps_time(tmp_path):
    path = tmp_path / "out.gif"
    frames = [frame(0), frame(0), frame(5), frame(10)] + [frame(10)] * 6
    with GifWriter(path, (W, H), fps=10, palette_frames=[frames[0], frames[-1]],
                   fixed_colors=["#E69F00"]) as writer:
        for f in frames:
            writer.write(f)
    with Image.open(path) as im:
        assert im.info["loop"] == 0
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    # Identical neighbours are one longer frame: 0.2 s, 0.1 s, then the 0.7 s hold; 1 s in all.
    assert durations == [200, 100, 700]
    decoded = iio.imread(path, index=None)
    assert decoded.shape == (3, H, W, 3)
    # The run colour is in the palette exactly, so the square is pure orange in every frame.
    assert tuple(decoded[-1][25, 15]) == ORANGE and tuple(decoded[0][25, 5]) == ORANGE
    assert not np.array_equal(decoded[0], decoded[-1])
    # Outside the square the delta frames leave the picture as the first frame drew it.
    assert np.array_equal(decoded[-1][40:], decoded[0][40:])
    assert leftovers(tmp_path) == []


def test_gif_is_small_for_small_changes(tmp_path):
    path = tmp_path / "out.gif"
    with GifWriter(path, (W, H), fps=20) as writer:
        for k in range(60):
            writer.write(frame(k))
    first_only = tmp_path / "one.gif"
    with GifWriter(first_only, (W, H), fps=20) as writer:
        writer.write(frame(0))
    # 60 frames cost far less than 60 full frames: each stores only the rectangle that changed.
    assert path.stat().st_size < 10 * first_only.stat().st_size


def test_png_folder_holds_every_frame(tmp_path):
    out = tmp_path / "frames"
    with PngFolderWriter(out, (W, H)) as writer:
        last = frame(9)
        for k in range(7):
            writer.write(frame(k))
        writer.write(last)
        writer.write(last)        # a hold: the same picture again
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"frame_{k:05d}.png" for k in range(9)]
    assert np.array_equal(iio.imread(out / "frame_00008.png"), last)
    assert np.array_equal(iio.imread(out / "frame_00003.png"), frame(3))
    assert leftovers(tmp_path) == []


def test_png_folder_replaces_old_frames(tmp_path):
    out = tmp_path / "frames"
    out.mkdir()
    for k in range(5):
        (out / f"frame_{k:05d}.png").write_bytes(b"old")
    plan = make_plan(str(out) + "/", size=(W, H))
    with open_writer(plan) as writer:
        writer.write(frame(1))
    assert sorted(p.name for p in out.iterdir()) == ["frame_00000.png"]
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["out.mp4", "out.gif", "frames/", "out.png"])
def test_abort_leaves_the_target_untouched(tmp_path, name):
    target = tmp_path / name.rstrip("/")
    if name.endswith("/"):
        target.mkdir()
        (target / "frame_00000.png").write_bytes(b"previous")
    else:
        target.write_bytes(b"previous")
    plan = make_plan(str(tmp_path / name), size=(W, H))
    with pytest.raises(KeyboardInterrupt):
        with open_writer(plan) as writer:
            writer.write(frame(0))
            writer.write(frame(1))
            raise KeyboardInterrupt
    if name.endswith("/"):
        assert [p.read_bytes() for p in target.iterdir()] == [b"previous"]
    else:
        assert target.read_bytes() == b"previous"
    assert leftovers(tmp_path) == []


def test_abort_of_a_new_target_leaves_nothing(tmp_path):
    plan = make_plan(str(tmp_path / "new.mp4"), size=(W, H))
    writer = open_writer(plan)
    writer.write(frame(0))
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_wrong_frame_shape_is_a_bug_not_a_file(tmp_path):
    with pytest.raises(ValueError):
        with GifWriter(tmp_path / "x.gif", (W, H), fps=10) as writer:
            writer.write(np.zeros((H, W + 1, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_odd_video_size_is_refused(tmp_path):
    with pytest.raises(ExportError, match="even"):
        FFmpegWriter(tmp_path / "x.mp4", (W + 1, H), fps=10)
    assert list(tmp_path.iterdir()) == []
