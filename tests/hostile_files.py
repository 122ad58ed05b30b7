"""Hostile files, crafted here (never committed as binaries): what a security reviewer feeds the project's readers.

Each ``Hostile`` writes one file from an honest one of the same format (``honest_files``) and says what the
``DataError`` must say about it (a regular expression, searched after the file's name). They cover HDF5 links to
other files (external links, virtual datasets, values kept in an outside file), soft-link loops, groups where
datasets belong, size bombs (an .h5 of 1.6 MB declaring a 100,000 x 100,000 loss, 2e9 coordinates, an .npz of a
few MB that inflates to 7 GiB, an .npy header declaring 1e12 values), bad values (NaN, inf, unsorted, scalar,
complex), missing keys, wrong types, bad JSON and TOML, damaged and truncated files, devices and folders.

``session_only``: the file's surface is sound and only the session it carries is bad: ``la.load_surface`` (which
reads the surface alone) loads it, the readers that build the session refuse it.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import h5py
import numpy as np

import landscape_app as la
from landscape_app.core.session import Session


@dataclass(frozen=True)
class Hostile:
    name: str
    suffix: str
    make: Callable[[Path, Path], None]      # make(path, honest): write the hostile file at ``path``
    why: str                                # what the error says (a regex)
    session_only: bool = False

    def write(self, folder: Path, honest: dict[str, Path]) -> Path:
        path = folder / f"{self.name}{self.suffix}"
        self.make(path, honest.get(self.suffix))
        return path

    def __repr__(self):
        return self.name


def honest_session() -> Session:
    exp = la.Experiment(data=la.make_dataset("linear", n_samples=20, seed=1), grid=la.Grid(resolution=(5, 4)))
    return Session((exp,), title="honest")


def honest_files(folder: Path) -> dict[str, Path]:
    """Our surface files (HDF5, NPZ, CSV, with the session), a session TOML and runs files: what the readers
    read today, from which the hostile ones are made."""
    from landscape_app.export.data import save_runs, save_surface
    from landscape_app.export.scene import train_session
    folder.mkdir(parents=True, exist_ok=True)
    session = honest_session()
    surface = la.compute_surface(session.experiment)
    out = {}
    for suffix in (".h5", ".npz", ".csv"):
        out[suffix] = folder / f"honest{suffix}"
        save_surface(out[suffix], session, surface)
    out[".toml"] = folder / "honest.toml"
    la.save(session, out[".toml"])
    short = session.replace(runs=(session.experiment.replace(epochs=2),))
    trajectories = train_session(short)
    for suffix in (".json", ".runs.csv"):
        out[suffix] = folder / f"honest{suffix}"
        save_runs(out[suffix], short, trajectories)
    return out


# -- HDF5 ------------------------------------------------------------------------------------------------------

def h5_edit(edit):
    """A maker: the honest HDF5 file, changed by ``edit(f, folder)``."""
    def make(path: Path, honest: Path) -> None:
        shutil.copy(honest, path)
        with h5py.File(path, "r+") as f:
            edit(f, path.parent)
    return make


def theirs(x=None, y=None, loss=None, **datasets):
    """A maker of a file in loss-landscape's layout (``xcoordinates``, ``ycoordinates``, ``train_loss``); an
    argument that is a callable makes its dataset itself (``f, name``)."""
    x = np.linspace(-1, 1, 5) if x is None else x
    y = np.linspace(-1, 1, 4) if y is None else y
    loss = np.ones((4, 5)) if loss is None else loss

    def make(path: Path, honest) -> None:
        with h5py.File(path, "w") as f:
            for name, value in {"xcoordinates": x, "ycoordinates": y, "train_loss": loss, **datasets}.items():
                if callable(value):
                    value(f, name)
                elif value is not None:
                    f[name] = value
    return make


def replace(name: str, make_new):
    """An edit: dataset (or group) ``name`` replaced by what ``make_new(f, name, folder)`` makes."""
    def edit(f, folder):
        del f[name]
        make_new(f, name, folder)
    return edit


def secret_file(folder: Path) -> Path:
    """Another HDF5 file the user can read: what links must never show."""
    path = folder / "secret.h5"
    with h5py.File(path, "w") as f:
        f["secret"] = np.full((4, 5), 42.0)
    return path


def external_link(f, name, folder):
    f[name] = h5py.ExternalLink(str(secret_file(folder)), "/secret")


def external_group(f, name, folder):
    other = folder / "other.h5"
    with h5py.File(other, "w") as g:
        g.create_group("landscape_app").attrs["format"] = "landscape-app surface"
    f[name] = h5py.ExternalLink(str(other), "/landscape_app")


def virtual(f, name, folder):
    layout = h5py.VirtualLayout(shape=(4, 5), dtype="f8")
    layout[:] = h5py.VirtualSource(str(secret_file(folder)), "secret", shape=(4, 5))
    f.create_virtual_dataset(name, layout, fillvalue=np.nan)


def outside_storage(f, name, folder):
    raw = folder / "secret.bin"
    raw.write_bytes(np.full(20, 42.0).tobytes())
    f.create_dataset(name, shape=(4, 5), dtype="f8", external=[(str(raw), 0, 160)])


def soft_loop(f, name, folder):
    f[name] = h5py.SoftLink("/loop_a")
    f["loop_a"] = h5py.SoftLink("/loop_b")
    f["loop_b"] = h5py.SoftLink("/loop_a")


def declared(shape, dtype="f8", chunks=None):
    """A dataset maker: ``shape`` declared, nothing written (chunked: the file stays small)."""
    def make(f, name, folder=None):
        f.create_dataset(name, shape=shape, dtype=dtype, chunks=chunks or tuple(min(s, 1 << 20) for s in shape))
    return make


def set_attr(group: str, key: str, value):
    def edit(f, folder):
        f[group].attrs[key] = value
    return edit


def del_attr(group: str, key: str):
    def edit(f, folder):
        del f[group].attrs[key]
    return edit


def truncated(path: Path, honest: Path) -> None:
    data = honest.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def text_file(content: bytes):
    def make(path: Path, honest) -> None:
        path.write_bytes(content)
    return make


def folder(path: Path, honest) -> None:
    path.mkdir()


def dev_zero(path: Path, honest) -> None:
    path.symlink_to("/dev/zero")


def pipe(path: Path, honest) -> None:
    os.mkfifo(path)         # opening it to read would wait for a writer for ever


def sparse(size: int):
    """A file of ``size`` bytes that takes no room (holes): its size alone must refuse it, before any read."""
    def make(path: Path, honest) -> None:
        with open(path, "wb") as fh:
            fh.truncate(size)
    return make


H5 = [
    Hostile("h5-external-link", ".h5", h5_edit(replace("train_loss", external_link)),
            r"train_loss is an external link \(to /secret in .*secret.h5\)"),
    Hostile("h5-external-group", ".h5", h5_edit(replace("landscape_app", external_group)),
            r"landscape_app is an external link"),
    Hostile("h5-virtual", ".h5", h5_edit(replace("train_loss", virtual)), r"train_loss is a virtual dataset"),
    Hostile("h5-outside-storage", ".h5", h5_edit(replace("train_loss", outside_storage)),
            r"train_loss keeps its values in an outside file \(.*secret.bin\)"),
    Hostile("h5-soft-link-loop", ".h5", h5_edit(replace("train_loss", soft_loop)),
            r"train_loss is a soft link \(to /loop_a\)"),
    Hostile("h5-group-for-dataset", ".h5", h5_edit(replace("train_loss", lambda f, n, d: f.create_group(n))),
            r"train_loss is a group, not a dataset"),
    Hostile("h5-dataset-for-group", ".h5", h5_edit(replace("landscape_app/plane", lambda f, n, d: f.create_dataset(
        n, data=np.zeros(3)))), r"landscape_app/plane is a dataset, not a group"),
    Hostile("h5-loss-bomb", ".h5", theirs(np.linspace(-1, 1, 100_000), np.linspace(-1, 1, 100_000),
                                          declared((100_000, 100_000), chunks=(1000, 1000))),
            r"a grid of 100,000 x 100,000 = 10,000,000,000 points; at most 67,108,864 are read"),
    Hostile("h5-loss-shape-bomb", ".h5", theirs(loss=declared((100_000, 100_000), chunks=(1000, 1000))),
            r"train_loss has shape \(100000, 100000\); the coordinates make a grid of \(len\(y\), len\(x\)\) = "
            r"\(4, 5\)"),
    Hostile("h5-coordinate-bomb", ".h5", theirs(x=declared((2_000_000_000,))),
            r"xcoordinates declares 2,000,000,000 values .*; at most 67,108,864 are read"),
    Hostile("h5-plane-bomb", ".h5", h5_edit(replace("landscape_app/plane/d1", declared((1 << 31,)))),
            r"landscape_app/plane/d1 declares 2,147,483,648 values .*16.0 GiB\); at most 1.0 GiB is read for one "
            r"array"),
    Hostile("h5-nan-coordinates", ".h5", theirs(x=np.array([0.0, np.nan, 1.0, 2.0, 3.0])),
            r"xcoordinates\[1\] is nan; coordinates must be finite"),
    Hostile("h5-inf-coordinates", ".h5", theirs(y=np.array([0.0, 1.0, np.inf, 3.0])),
            r"ycoordinates\[2\] is inf; coordinates must be finite"),
    Hostile("h5-unsorted-coordinates", ".h5", theirs(x=np.array([0.0, 2.0, 1.0, 3.0, 4.0])),
            r"xcoordinates must increase strictly; xcoordinates\[1\] = 2.0 is followed by 1.0"),
    Hostile("h5-repeated-coordinates", ".h5", theirs(y=np.array([0.0, 1.0, 1.0, 3.0])),
            r"ycoordinates must increase strictly"),
    Hostile("h5-scalar-coordinates", ".h5", theirs(x=np.float64(0.5), loss=np.ones((4, 1))),
            r"xcoordinates must be a 1-D list of coordinates, not a single value"),
    Hostile("h5-2d-coordinates", ".h5", theirs(x=np.ones((5, 2))), r"xcoordinates must be a 1-D list"),
    Hostile("h5-text-coordinates", ".h5", theirs(x=np.array([b"a", b"b", b"c", b"d", b"e"])),
            r"xcoordinates holds text; numbers are expected"),
    Hostile("h5-complex-loss", ".h5", theirs(loss=np.ones((4, 5)) + 1j),
            r"train_loss holds complex numbers; only real values are read"),
    Hostile("h5-records-loss", ".h5", theirs(loss=np.zeros((4, 5), dtype=[("a", "f8"), ("b", "i4")])),
            r"train_loss holds records"),
    Hostile("h5-inf-loss", ".h5", theirs(loss=np.full((4, 5), np.inf)), r"train_loss holds 20 infinite value"),
    Hostile("h5-loss-size", ".h5", theirs(loss=np.ones((4, 6))), r"train_loss has shape \(4, 6\)"),
    Hostile("h5-loss-3d", ".h5", theirs(loss=np.ones((4, 5, 1))), r"train_loss has shape \(4, 5, 1\)"),
    Hostile("h5-loss-empty-space", ".h5", theirs(loss=h5py.Empty("f8")), r"train_loss holds nothing"),
    Hostile("h5-no-ycoordinates", ".h5", theirs(y=lambda f, n: None), r"a 1-D surface \(no ycoordinates\)"),
    Hostile("h5-no-loss", ".h5", theirs(loss=lambda f, n: None), r"no train_loss or train_acc in the file"),
    Hostile("h5-axes-not-json", ".h5", h5_edit(set_attr("landscape_app", "axes", "[w, b")),
            r"landscape_app/@axes is not valid JSON"),
    Hostile("h5-axes-three", ".h5", h5_edit(set_attr("landscape_app", "axes", '["a", "b", "c"]')),
            r"landscape_app/@axes must name the two axes"),
    Hostile("h5-axes-number", ".h5", h5_edit(set_attr("landscape_app", "axes", 7)),
            r"landscape_app/@axes must be one text value"),
    Hostile("h5-held-list", ".h5", h5_edit(set_attr("landscape_app", "held", "[1, 2]")),
            r"landscape_app/@held must be a JSON object"),
    Hostile("h5-held-text", ".h5", h5_edit(set_attr("landscape_app", "held", '{"w": "x"}')),
            r"landscape_app/@held\['w'\] must be a finite number"),
    Hostile("h5-no-criterion", ".h5", h5_edit(del_attr("landscape_app", "criterion")),
            r"no landscape_app/@criterion in the file"),
    Hostile("h5-format-array", ".h5", h5_edit(set_attr("landscape_app", "format", np.arange(3))),
            r"landscape_app/@format must be one text value"),
    Hostile("h5-batch-text", ".h5", h5_edit(replace("landscape_app/batch", lambda f, n, d: f.create_dataset(
        n, data=np.array([b"1", b"2"])))), r"landscape_app/batch holds text"),
    Hostile("h5-batch-negative", ".h5", h5_edit(replace("landscape_app/batch", lambda f, n, d: f.create_dataset(
        n, data=np.array([3, -1])))), r"landscape_app/batch holds a negative sample index"),
    Hostile("h5-plane-no-d1", ".h5", h5_edit(lambda f, d: f["landscape_app/plane"].pop("d1")),
            r"no landscape_app/plane/d1 in the file"),
    Hostile("h5-plane-lengths", ".h5", h5_edit(replace("landscape_app/plane/d2", lambda f, n, d: f.create_dataset(
        n, data=np.ones(3)))), r"landscape_app/plane/d2 holds 3 values; 2 are expected"),
    Hostile("h5-plane-labels", ".h5", h5_edit(set_attr("landscape_app/plane", "labels", "{")),
            r"landscape_app/plane/@labels is not valid JSON"),
    Hostile("h5-paths-group", ".h5", h5_edit(lambda f, d: f["landscape_app"].create_group("paths/run")),
            r"landscape_app/paths/run is a group, not a dataset"),
    Hostile("h5-accuracy-shape", ".h5", h5_edit(lambda f, d: f["landscape_app"].create_dataset(
        "accuracy", data=np.ones((5, 4)))), r"landscape_app/accuracy has shape \(5, 4\)"),
    Hostile("h5-blocks-text", ".h5", h5_edit(lambda f, d: f["landscape_app"].create_dataset(
        "blocks_done", data=np.array([b"yes"]))), r"landscape_app/blocks_done holds text"),
    Hostile("h5-session-number", ".h5", h5_edit(set_attr("landscape_app", "session", 5)),
            r"landscape_app/@session must be one text value"),
    Hostile("h5-session-bad-toml", ".h5", h5_edit(set_attr("landscape_app", "session", "[experiment\nx = ")),
            r"the session stored in the file is not valid TOML", session_only=True),
    Hostile("h5-truncated", ".h5", truncated, r"not a readable HDF5 file: it is damaged \(truncated file.*cut short"),
    Hostile("h5-text", ".h5", text_file(b"these are not numbers"),
            r"not a readable HDF5 file \(no HDF5 signature: not an HDF5 file\)"),
    Hostile("h5-empty", ".h5", text_file(b""), r"not a readable HDF5 file"),
    Hostile("h5-folder", ".h5", folder, r"is a folder, not a file"),
    Hostile("h5-pipe", ".h5", pipe, r"not a regular file \(a device or a pipe\)"),
]


# -- NPZ -------------------------------------------------------------------------------------------------------

def npz_arrays(honest: Path) -> dict[str, np.ndarray]:
    with np.load(honest) as z:
        return {k: z[k] for k in z.files}


def npz_edit(edit):
    """A maker: the honest NPZ's arrays changed by ``edit(arrays)`` (which may return new arrays), saved."""
    def make(path: Path, honest: Path) -> None:
        arrays = npz_arrays(honest)
        arrays = edit(arrays) or arrays
        np.savez(path, **arrays)
    return make


def setting(**values):
    def edit(arrays):
        arrays.update(values)
    return edit


def dropping(key):
    def edit(arrays):
        del arrays[key]
    return edit


def npy_bytes(header: dict, data: bytes = b"") -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue() + data


def npz_with_member(name: str, content: bytes, compress: bool = False):
    """A maker: the honest NPZ with member ``name`` replaced by the raw ``content``."""
    def make(path: Path, honest: Path) -> None:
        with zipfile.ZipFile(honest) as src, zipfile.ZipFile(path, "w") as dst:
            for info in src.infolist():
                if info.filename != name:
                    dst.writestr(info.filename, src.read(info))
            dst.writestr(name, content, zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)
    return make


def pickled_member(path: Path, honest: Path) -> None:
    out = io.BytesIO()
    np.save(out, np.array([{"evil": 1}, None], dtype=object), allow_pickle=True)
    npz_with_member("loss.npy", out.getvalue())(path, honest)


# CRC-32 of long runs of zeros without reading them: zlib's crc32_combine (GF(2) polynomial arithmetic).
_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if a & (m - 1) == 0:
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _x2nmodp(n: int, k: int) -> int:
    table, p = [], 1 << 30
    for _ in range(64):
        table.append(p)
        p = _multmodp(p, p)
    p = 1 << 31
    while n:
        if n & 1:
            p = _multmodp(table[k & 63], p)
        n >>= 1
        k += 1
    return p


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    return _multmodp(_x2nmodp(len2, 3), crc1) ^ crc2


BOMB_BYTES = 7 << 30       # 7 GiB of zeros, behind a 7 MB file


def _crc32_of_zeros(n_mib: int) -> tuple[int, int]:
    """(CRC-32, length) of ``n_mib`` MiB of zeros, by doubling (no 7 GiB pass over them)."""
    mib = 1 << 20
    piece_crc, piece_len = zlib.crc32(bytes(mib)), mib
    crc, length = 0, 0
    while n_mib:
        if n_mib & 1:
            crc = crc32_combine(crc, piece_crc, piece_len) if length else piece_crc
            length += piece_len
        piece_crc, piece_len = crc32_combine(piece_crc, piece_crc, piece_len), piece_len * 2
        n_mib >>= 1
    return crc, length


def zip_bomb(path: Path, honest: Path, inflated: int = BOMB_BYTES) -> None:
    """The honest NPZ with its ``loss`` replaced by ``inflated`` bytes of zeros: a valid member (declared sizes,
    CRC and deflate stream all true), written in a moment, as its deflate stream repeats one compressed MiB."""
    mib = 1 << 20
    assert inflated % mib == 0
    header = npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (inflated // 8,)})
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(header) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(bytes(mib)) + co.flush(zlib.Z_FULL_FLUSH)
    assert co.compress(bytes(mib)) + co.flush(zlib.Z_FULL_FLUSH) == block      # after a full flush: the same
    last = co.flush(zlib.Z_FINISH)
    zeros_crc, zeros_len = _crc32_of_zeros(inflated // mib)
    members = []
    with zipfile.ZipFile(honest) as src:
        for info in src.infolist():
            if info.filename != "loss.npy":
                content = src.read(info)
                c = zlib.compressobj(6, zlib.DEFLATED, -15)
                members.append((info.filename, zlib.crc32(content), len(content),
                                [(c.compress(content) + c.flush(), 1)]))
    members.append(("loss.npy", crc32_combine(zlib.crc32(header), zeros_crc, zeros_len), len(header) + inflated,
                    [(first, 1), (block, inflated // mib), (last, 1)]))
    write_zip(path, members)


def write_zip(path: Path, members) -> None:
    """A zip64 file of deflated ``members``: (name, CRC-32, inflated size, [(deflated bytes, times)...])."""
    with open(path, "wb") as out:
        central = []
        for name, crc, size, chunks in members:
            offset, name_b = out.tell(), name.encode()
            deflated = sum(len(b) * times for b, times in chunks)
            extra = struct.pack("<HHQQ", 1, 16, size, deflated)
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                                  len(name_b), len(extra)) + name_b + extra)
            for data, times in chunks:
                for _ in range(times):
                    out.write(data)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF,
                                       0xFFFFFFFF, len(name_b), len(extra), 0, 0, 0, 0, offset) + name_b + extra)
        start = out.tell()
        out.write(b"".join(central))
        end, n = out.tell(), len(central)
        out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, end - start, start))
        out.write(struct.pack("<IIQI", 0x07064B50, 0, end, 1))
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, 0xFFFFFFFF, 0xFFFFFFFF, 0))


NPZ = [
    Hostile("npz-zip-bomb", ".npz", zip_bomb,
            r"'loss' inflates to 7.0 GiB \(from [\d.]+ MiB in the file\); at most 1.0 GiB is read for one array"),
    Hostile("npz-declared-huge", ".npz", npz_with_member("loss.npy", npy_bytes(
        {"descr": "<f8", "fortran_order": False, "shape": (1_000_000, 1_000_000)}, bytes(16))),
            r"'loss' declares 1,000,000,000,000 values .*; at most 1.0 GiB is read for one array"),
    Hostile("npz-header-lies", ".npz", npz_with_member("loss.npy", npy_bytes(
        {"descr": "<f8", "fortran_order": False, "shape": (4, 5)}, bytes(80))),
            r"'loss' declares 20 values \(shape \(4, 5\)\), 160 bytes, but the member holds 80 bytes; the file is "
            r"damaged"),
    Hostile("npz-pickle", ".npz", pickled_member, r"'loss' holds Python objects or records"),
    Hostile("npz-not-npy", ".npz", npz_with_member("notes.txt", b"hello"),
            r"the member 'notes.txt' is not a numpy array"),
    Hostile("npz-empty-member", ".npz", npz_with_member("loss.npy", b"", compress=True), r"not a readable NPZ file"),
    Hostile("npz-truncated", ".npz", truncated, r"not a readable NPZ file"),
    Hostile("npz-text", ".npz", text_file(b"PK\x03\x04 not a whole zip file"), r"not a readable NPZ file"),
    Hostile("npz-empty", ".npz", text_file(b""), r"not a readable NPZ file"),
    Hostile("npz-no-x", ".npz", npz_edit(dropping("x")), r"no 'x' array in the file"),
    Hostile("npz-nan-x", ".npz", npz_edit(setting(x=np.array([0.0, 1.0, np.nan, 3.0, 4.0]))),
            r"'x'\[2\] is nan; coordinates must be finite"),
    Hostile("npz-unsorted-y", ".npz", npz_edit(setting(y=np.array([3.0, 2.0, 1.0, 0.0]))),
            r"'y' must increase strictly"),
    Hostile("npz-scalar-x", ".npz", npz_edit(setting(x=np.array(1.0))), r"'x' must be a 1-D list of coordinates"),
    Hostile("npz-complex-loss", ".npz", npz_edit(lambda a: {**a, "loss": a["loss"] + 2j}),
            r"'loss' holds complex numbers; only real values are read"),
    Hostile("npz-text-loss", ".npz", npz_edit(lambda a: {**a, "loss": a["loss"].astype(str)}),
            r"'loss' holds text; numbers are expected"),
    Hostile("npz-loss-shape", ".npz", npz_edit(lambda a: {**a, "loss": a["loss"].T}),
            r"'loss' has shape \(5, 4\); the coordinates make a grid of \(len\(y\), len\(x\)\) = \(4, 5\)"),
    Hostile("npz-inf-loss", ".npz", npz_edit(lambda a: {**a, "loss": np.where(a["loss"] > 0, np.inf, 0.0)}),
            r"'loss' holds \d+ infinite value"),
    Hostile("npz-held-mismatch", ".npz", npz_edit(setting(held_names=np.array(["w"]), held_values=np.array([]))),
            r"'held_values' holds 0 values; 1 are expected"),
    Hostile("npz-axes-three", ".npz", npz_edit(setting(axes=np.array(["a", "b", "c"]))),
            r"'axes' holds 3 names; 2 are expected"),
    Hostile("npz-plane-info", ".npz", npz_edit(setting(plane_info=np.array("{not json"))),
            r"'plane_info' is not valid JSON"),
    Hostile("npz-plane-lengths", ".npz", npz_edit(setting(plane_d1=np.ones(3))),
            r"the plane: plane.d1: must have 2 values .*, not 3"),
    Hostile("npz-plane-parallel", ".npz", npz_edit(lambda a: {**a, "plane_d2": a["plane_d1"]}),
            r"the plane: plane: the two directions are parallel"),
    Hostile("npz-batch-floats", ".npz", npz_edit(setting(batch=np.array([0.5]))),
            r"'batch' holds values of type float64; whole numbers are expected"),
    Hostile("npz-session-number", ".npz", npz_edit(setting(session=np.array(5))),
            r"'session' must be one text value"),
    Hostile("npz-session-bad-toml", ".npz", npz_edit(setting(session=np.array("[experiment\nx = "))),
            r"the session stored in the file is not valid TOML", session_only=True),
    Hostile("npz-session-unknown-key", ".npz", npz_edit(setting(session=np.array("colour = 1\n"))),
            r"the session stored in the file: colour: unknown key", session_only=True),
    Hostile("npz-wrong-format", ".npz", npz_edit(setting(format=np.array("zip of cats"))),
            r"not a landscape-app surface"),
    Hostile("npz-metric", ".npz", npz_edit(setting(metric=np.array("entropy"))),
            r"'metric' must be 'loss' or 'accuracy'"),
    Hostile("npz-criterion-list", ".npz", npz_edit(setting(criterion=np.array(["a", "b"]))),
            r"'criterion' must be one text value"),
    Hostile("npz-dev-zero", ".npz", dev_zero, r"not a regular file"),
]


# -- CSV -------------------------------------------------------------------------------------------------------

def csv_edit(edit):
    """A maker: the honest CSV's text changed by ``edit(text)``."""
    def make(path: Path, honest: Path) -> None:
        path.write_text(edit(honest.read_text()))
    return make


def sub(old: str, new: str, count: int = 1):
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)
    return edit


def table_edit(edit_rows):
    """An edit of the table's rows (lists of cells) after the header line."""
    def edit(text: str) -> str:
        lines = text.splitlines()
        start = next(i for i, line in enumerate(lines) if not line.startswith("#")) + 1
        rows = [line.split(",") for line in lines[start:]]
        rows = edit_rows(rows) or rows
        return "\n".join(lines[:start] + [",".join(r) for r in rows]) + "\n"
    return edit


def cell(row: int, column: int, value: str):
    def edit(rows):
        rows[row][column] = value
    return edit


def surface_line(**changes):
    def edit(text: str) -> str:
        lines = text.splitlines()
        i = next(i for i, line in enumerate(lines) if line.startswith("# surface: "))
        meta = json.loads(lines[i][len("# surface: "):])
        meta.update(changes)
        lines[i] = "# surface: " + json.dumps(meta)
        return "\n".join(lines) + "\n"
    return edit


CSV = [
    Hostile("csv-declared-huge", ".csv", csv_edit(surface_line(shape=[100_000, 100_000])),
            r"the surface line declares 100,000 x 100,000 = 10,000,000,000 points; at most 67,108,864 are read"),
    Hostile("csv-surface-json", ".csv", csv_edit(sub('# surface: {"axes"', '# surface: {axes')),
            r"the '# surface:' line is not valid JSON"),
    Hostile("csv-surface-list", ".csv", csv_edit(lambda t: t.replace(
        t[t.index("# surface: "):t.index("\n", t.index("# surface: "))], "# surface: [1, 2]")),
            r"the '# surface:' line must be a JSON object"),
    Hostile("csv-no-surface-line", ".csv", csv_edit(lambda t: "\n".join(
        line for line in t.splitlines() if not line.startswith("# surface: ")) + "\n"),
            r"not a landscape-app surface \(no '# surface:' line"),
    Hostile("csv-shape-one", ".csv", csv_edit(surface_line(shape=[20])), r"the surface line's shape must be two"),
    Hostile("csv-shape-negative", ".csv", csv_edit(surface_line(shape=[-4, -5])),
            r"the surface line's shape must be two whole numbers of 1 or more"),
    Hostile("csv-held-list", ".csv", csv_edit(surface_line(held=[1])), r"the surface line's held must map"),
    Hostile("csv-batch-text", ".csv", csv_edit(surface_line(batch=["a"])),
            r"the surface line's batch must be a list of sample indices"),
    Hostile("csv-metric", ".csv", csv_edit(surface_line(metric="entropy")),
            r"the surface line's metric must be 'loss' or 'accuracy'"),
    Hostile("csv-axes-one", ".csv", csv_edit(surface_line(axes=["w"])),
            r"the surface line's axes must name the two axes"),
    Hostile("csv-not-a-number", ".csv", csv_edit(table_edit(cell(3, 2, "abc"))),
            r"the table must hold three numbers a row"),
    Hostile("csv-complex", ".csv", csv_edit(table_edit(cell(0, 2, "1+2j"))),
            r"the table must hold three numbers a row"),
    Hostile("csv-nan-coordinate", ".csv", csv_edit(table_edit(lambda rows: [
        [("nan" if i % 5 == 2 and j == 0 else c) for j, c in enumerate(r)] for i, r in enumerate(rows)])),
            r"the w column\[2\] is nan; coordinates must be finite"),
    Hostile("csv-unsorted", ".csv", csv_edit(table_edit(lambda rows: rows[5:10] + rows[:5] + rows[10:])),
            r"the b column must increase strictly"),
    Hostile("csv-out-of-order", ".csv", csv_edit(table_edit(cell(6, 0, "0.125"))),
            r"the rows are not the grid in order"),
    Hostile("csv-missing-rows", ".csv", csv_edit(table_edit(lambda rows: rows[:-1])),
            r"the surface line declares 4 x 5 points; the table has 19 rows"),
    Hostile("csv-extra-column", ".csv", csv_edit(table_edit(lambda rows: [r + ["1"] for r in rows])),
            r"expected 20 rows of 3 values, found 20 of 4"),
    Hostile("csv-session-open", ".csv", csv_edit(sub("# --- end of session ---\n", "")),
            r"the session block is not closed"),
    Hostile("csv-session-bad-toml", ".csv", csv_edit(sub("# [experiment]\n", "# [experiment\n")),
            r"the session stored in the file is not valid TOML", session_only=True),
    Hostile("csv-plane-strings", ".csv", csv_edit(sub('"origin": [0.0, 0.0]', '"origin": ["a", "b"]')),
            r"the plane line's origin must be a list of numbers"),
    Hostile("csv-plane-no-d1", ".csv", csv_edit(sub('"d1": [1.0, 0.0], ', '')),
            r"the plane line's d1 must be a list of numbers"),
    Hostile("csv-not-utf8", ".csv", text_file(b"# surface: \xff\xfe\x00 binary"),
            r"not a text file in UTF-8 \(byte 11: invalid start byte\)"),
    Hostile("csv-oversized", ".csv", sparse(3 << 30), r"the file is 3.0 GiB; at most 2.0 GiB is read"),
    Hostile("csv-dev-zero", ".csv", dev_zero, r"not a regular file \(a device or a pipe\)"),
    Hostile("csv-folder", ".csv", folder, r"is a folder, not a file"),
]

SURFACES = H5 + NPZ + CSV


# -- sessions (TOML) ---------------------------------------------------------------------------------------------

def toml_edit(edit):
    def make(path: Path, honest: Path) -> None:
        path.write_text(edit(honest.read_text()))
    return make


SESSIONS = [
    Hostile("toml-bad", ".toml", text_file(b"[experiment\nmodel = "), r"not valid TOML"),
    Hostile("toml-binary", ".toml", text_file(b"\x89HDF\r\n\x1a\n\xff\x00"), r"not valid TOML|not a text file"),
    Hostile("toml-oversized", ".toml", sparse(300 << 20), r"the session file is 300.0 MiB; at most 256.0 MiB"),
    Hostile("toml-dev-zero", ".toml", dev_zero, r"not a regular file"),
    Hostile("toml-folder", ".toml", folder, r"is a folder"),
    Hostile("toml-pipe", ".toml", pipe, r"not a regular file"),
    Hostile("toml-experiment-number", ".toml", text_file(b"experiment = 5\n"), r"experiment"),
    Hostile("toml-runs-text", ".toml", toml_edit(lambda t: "runs = 'x'\n" + t[:t.index("[[runs]]")]),
            r"runs: must be an array of tables"),
    Hostile("toml-unknown-key", ".toml", toml_edit(lambda t: "colour = 1\n" + t), r"colour: unknown key"),
    Hostile("toml-lr-text", ".toml", toml_edit(lambda t: t.replace("lr = 0.1", "lr = 'fast'", 1)), r"lr"),
    Hostile("toml-resolution-huge", ".toml", toml_edit(lambda t: t.replace(
        "resolution = [\n    5,\n    4,\n]", "resolution = [100000, 100000]")), r"resolution"),
    Hostile("toml-data-arrays", ".toml", toml_edit(lambda t: t.replace(
        'kind = "generator"\nname = "linear"', 'kind = "arrays"\nx = [[1.0], [2.0]]\ny = [1.0]', 1)),
            r"data"),
    Hostile("toml-start-text", ".toml", toml_edit(lambda t: t.replace("start = [\n    -15.0,\n    -10.0,\n]",
                                                                      "start = 'origin'", 1)), r"start"),
]


# -- runs files (export.load_runs) -------------------------------------------------------------------------------

def json_edit(edit):
    def make(path: Path, honest: Path) -> None:
        table = json.loads(honest.read_text())
        table = edit(table)
        path.write_text(table if isinstance(table, str) else json.dumps(table))
    return make


def runs_csv_edit(edit):
    def make(path: Path, honest: Path) -> None:
        path.write_text(edit(honest.read_text()))
    return make


def with_key(key, value):
    def edit(table):
        table[key] = value
        return table
    return edit


RUNS = [
    Hostile("runs-json-bad", ".json", text_file(b"{\"format\": "), r"line 1: not valid JSON"),
    Hostile("runs-json-deep", ".json", text_file(b"[" * 100_000 + b"]" * 100_000), r"not valid JSON"),
    Hostile("runs-json-list", ".json", text_file(b"[1, 2]"), r"not a landscape-app runs file"),
    Hostile("runs-json-no-session", ".json", json_edit(lambda t: {k: v for k, v in t.items() if k != "session"}),
            r"no session"),
    Hostile("runs-json-session-list", ".json", json_edit(with_key("session", [1])), r"no session"),
    Hostile("runs-json-session-bad", ".json", json_edit(lambda t: {**t, "session": {"experiment": 5}}),
            r"the session stored in the file: experiment"),
    Hostile("runs-json-runs-text", ".json", json_edit(with_key("runs", "x")), r"\"runs\" must be a list"),
    Hostile("runs-json-no-trajectory", ".json", json_edit(with_key("runs", [{}])), r"\"runs\" must be a list"),
    Hostile("runs-json-trajectory-bad", ".json", json_edit(with_key("runs", [{"trajectory": {"format": 1}}])),
            r"runs\[0\]: not a landscape-app trajectory"),
    Hostile("runs-csv-meta-json", ".runs.csv", runs_csv_edit(lambda t: t.replace("# run 0: {", "# run 0: {{", 1)),
            r"is not '# run K: \{json\}'"),
    Hostile("runs-csv-meta-key", ".runs.csv", runs_csv_edit(lambda t: t.replace("# run 0:", "# run x:", 1)),
            r"is not '# run K: \{json\}'"),
    Hostile("runs-csv-meta-list", ".runs.csv", runs_csv_edit(lambda t: t.replace(
        t[t.index("# run 0: "):t.index("\n", t.index("# run 0: "))], "# run 0: [1]")),
            r"the line '# run 0:' must hold a JSON object"),
    Hostile("runs-csv-no-table", ".runs.csv", runs_csv_edit(lambda t: "\n".join(
        line for line in t.splitlines() if line.startswith("#")) + "\n"), r"the table's header must be"),
    Hostile("runs-csv-short-row", ".runs.csv", runs_csv_edit(lambda t: t.rstrip("\n") + "\n0,1\n"),
            r"line \d+: 2 columns; the header has"),
    Hostile("runs-csv-run-number", ".runs.csv", runs_csv_edit(lambda t: t.rstrip("\n").rsplit("\n", 1)[0] + "\n" +
                                                              "7" + t.rstrip("\n").rsplit("\n", 1)[1][1:] + "\n"),
            r"run 7 is not one of the session's 1 run"),
    Hostile("runs-csv-not-a-number", ".runs.csv", runs_csv_edit(
        lambda t: t.rstrip("\n").rsplit("\n", 1)[0] + "\n0,x" + t.rstrip("\n").rsplit("\n", 1)[1][3:] + "\n"),
            r"must be whole numbers"),
    Hostile("runs-csv-not-utf8", ".runs.csv", text_file(b"# \xff\xfe"), r"not a text file in UTF-8"),
]


__all__ = ["Hostile", "honest_files", "honest_session", "SURFACES", "H5", "NPZ", "CSV", "SESSIONS", "RUNS",
           "zip_bomb", "BOMB_BYTES", "secret_file"]
