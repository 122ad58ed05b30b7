"""The wheel others install: built from the repository (and again from its sdist, to the same files), installed
into a fresh virtual environment, it runs every command from its own copy, away from the repository.

The fresh environment borrows this one's dependencies (torch, PySide6, ...: gigabytes to download otherwise)
through a .pth file naming this interpreter's site-packages. A folder a .pth adds is not a site folder, so the
.pth files there (the editable install of the repository) are not run: the fresh environment sees the repository
only through the wheel, as checked before installing it.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
# What a checkout may hold beside its sources that a build must not see (nor spend time copying).
NOT_SOURCES = (".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache",
               ".hypothesis", ".import_linter_cache", "out")
TIMEOUT = 300


def _build(source: Path, outdir: Path, *kinds: str) -> None:
    # --no-isolation: the build uses this environment's setuptools (the test extra), with no download.
    out = subprocess.run([sys.executable, "-m", "build", "--no-isolation", *kinds, "--outdir", str(outdir),
                          str(source)], capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def _contents(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as z:
        return {name: hashlib.sha256(z.read(name)).hexdigest() for name in z.namelist()}


def _source_files() -> set[str]:
    """Every file of the package in the source tree (the presets through their link), as the wheel names it."""
    found = set()
    for folder, dirs, files in os.walk(ROOT / "landscape_app", followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found |= {(Path(folder) / f).relative_to(ROOT).as_posix() for f in files if not f.endswith(".pyc")}
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sdist and the wheel, built from a copy of the checkout (a build writes into its source folder)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    _build(source, tmp / "dist", "--sdist", "--wheel")
    (wheel,), (sdist,) = (tmp / "dist").glob("*.whl"), (tmp / "dist").glob("*.tar.gz")
    return wheel, sdist


def test_the_wheel_holds_every_file_of_the_package_and_the_presets(built):
    wheel, _ = built
    names = set(_contents(wheel))
    package = {n for n in names if ".dist-info/" not in n}
    missing, extra = sorted(_source_files() - package), sorted(package - _source_files())
    assert not missing, f"the wheel lacks {missing}"
    assert not extra, f"the wheel holds files the source tree has not: {extra}"
    assert "landscape_app/commands/__init__.py" in package
    presets = {p.name for p in (ROOT / "assets" / "presets").glob("*.toml")}
    assert presets and {f"landscape_app/presets/{p}" for p in presets} <= package
    with zipfile.ZipFile(wheel) as z:
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "landscape-app = landscape_app.cli:main" in entry_points


def test_the_sdist_builds_the_same_wheel(built, tmp_path):
    wheel, sdist = built
    with tarfile.open(sdist) as tar:
        extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(tmp_path, **extra)
    (unpacked,) = tmp_path.iterdir()
    for name in ("pyproject.toml", "README.md", "CHANGELOG.md", "tests/conftest.py",
                 "landscape_app/presets/course-linear-regression.toml"):
        assert (unpacked / name).is_file(), f"the sdist lacks {name}"
    _build(unpacked, tmp_path / "dist", "--wheel")
    (again,) = (tmp_path / "dist").glob("*.whl")
    assert again.name == wheel.name
    assert _contents(again) == _contents(wheel)


def _environment(**extra) -> dict[str, str]:
    """This process's environment without what would point Python at the repository or at a user's packages."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", QT_QPA_PLATFORM="offscreen",
               MPLBACKEND="Agg", **extra)
    return env


@pytest.fixture(scope="module")
def fresh(built, tmp_path_factory):
    """A fresh venv with the wheel installed; its python, its bin folder and a work folder outside the repo."""
    wheel, _ = built
    tmp = tmp_path_factory.mktemp("fresh")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=TIMEOUT)
    python = venv / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True, timeout=TIMEOUT).stdout.strip()
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "borrowed_dependencies.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    work = tmp / "work"
    work.mkdir()
    env = _environment()

    # The dependencies are found (not imported: torch alone takes seconds), the repository's copy is not.
    borrowed = "import importlib.util as u\nassert all(map(u.find_spec, ('torch', 'PySide6', 'pyqtgraph')))\n"
    before = subprocess.run([python, "-c", borrowed + "import landscape_app"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert before.returncode != 0 and "No module named 'landscape_app'" in before.stderr, \
        "the repository's copy is importable from the fresh venv: " + before.stdout + before.stderr
    # pip is this environment's, run by the fresh python (so it installs there); --ignore-installed: the
    # editable install it also sees is none of its business.
    install = subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed",
                              "-q", str(wheel)], cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert install.returncode == 0, install.stdout + install.stderr
    return python, venv / "bin", work, env


def _check(out: subprocess.CompletedProcess | subprocess.Popen, stdout: str, stderr: str) -> str:
    assert out.returncode == 0, f"{out.args}: exit {out.returncode}\n{stdout}\n{stderr}"
    assert "Traceback" not in stderr, stderr
    return stdout


def test_the_installed_wheel_runs_every_command_from_its_own_copy(fresh):
    python, bin_, work, env = fresh
    app = str(bin_ / "landscape-app")
    where = subprocess.run([python, "-c", "import landscape_app; print(landscape_app.__file__)"], cwd=work,
                           env=env, capture_output=True, text=True, timeout=TIMEOUT)
    installed = Path(_check(where, where.stdout, where.stderr).strip())
    assert installed.is_relative_to(bin_.parent) and not installed.is_relative_to(ROOT)

    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    out = subprocess.run([app, "--version"], cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert _check(out, out.stdout, out.stderr).strip() == f"landscape-app {version}"
    out = subprocess.run([app, "--list-presets"], cwd=work, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)
    listed = {line.split()[0] for line in _check(out, out.stdout, out.stderr).splitlines()}
    assert listed == {p.stem for p in (ROOT / "assets" / "presets").glob("*.toml")}

    helper = (
        "import sys, torch, landscape_app as la\n"
        "x = torch.linspace(-2, 2, 20).view(-1, 1)\n"
        "y = 3 * x + 1\n"
        "get_surface = la.LossSurface(5, 5, x, y, 11, go=False)\n"      # the course's arguments, in its order
        "model = torch.nn.Linear(1, 1)\n"
        "criterion, optimizer = torch.nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for _ in range(3):\n"
        "    loss = criterion(model(x), y)\n"
        "    get_surface.set_para_loss(model, loss.tolist())\n"
        "    optimizer.zero_grad(); loss.backward(); optimizer.step()\n"
        "get_surface.plot_ps(sys.argv[1])\n"
        "print(la.__file__, len(get_surface.LOSS))\n"
    )
    # The slow ones (each imports torch) side by side.
    commands = {
        "run": [app, "run", "--model", "linear", "--data", "linear", "--epochs", "2", "-o", "path.csv", "-q"],
        "surface": [app, "surface", "--model", "linear", "--data", "linear", "--resolution", "5", "-o",
                    "surface.npz", "-q"],
        "export": [app, "export", "--preset", "course-linear-regression", "-o", "frames/", "--every", "10",
                   "--hold", "0", "--size", "160x90", "--views", "contour", "-q"],
        "helper": [str(python), "-c", helper, "helper.png"],
    }
    running = {}
    try:
        for name, argv in commands.items():
            running[name] = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True)
        outputs = {name: (proc, *proc.communicate(timeout=TIMEOUT)) for name, proc in running.items()}
    finally:
        for proc in running.values():       # a command that failed to finish leaves nothing behind
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for proc, stdout, stderr in outputs.values():
        _check(proc, stdout, stderr)

    rows = [line for line in (work / "path.csv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    assert len(rows) == 1 + 3       # the header, then iterations 0, 1 and 2
    with np.load(work / "surface.npz") as surface:
        assert surface["loss"].shape == (5, 5) and np.all(np.isfinite(surface["loss"]))
    frames = sorted((work / "frames").glob("*.png"))
    assert frames and all(f.read_bytes().startswith(b"\x89PNG") for f in frames)
    assert (work / "helper.png").read_bytes().startswith(b"\x89PNG")
    module, recorded = outputs["helper"][1].split()
    assert Path(module) == installed and recorded == "3"
