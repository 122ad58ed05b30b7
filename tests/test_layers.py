"""The layers of DESIGN.md, written as import-linter contracts in pyproject.toml, hold; and they catch a regression.

import-linter reads every import statement, also those inside functions, so a lazy import breaks a contract too.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
# lint-imports as a module call: the interpreter running the tests, whatever its scripts folder is on PATH.
LINT = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def _lint(root: Path) -> subprocess.CompletedProcess:
    """lint-imports on the package under ``root`` (it puts its working directory first on sys.path)."""
    return subprocess.run([sys.executable, "-c", LINT, "--no-cache", "--no-logo"], cwd=root, capture_output=True,
                          text=True, timeout=300)


def _contract_names() -> dict[str, str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c["name"] for c in config["tool"]["importlinter"]["contracts"]}


def _broken(report: str) -> set[str]:
    """The names of the contracts the report calls broken (a long name wraps onto a second line)."""
    text = " ".join(report.split())
    return {name for name in _contract_names().values() if f"{name} BROKEN" in text}


def test_the_contracts_hold():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"Contracts: {len(_contract_names())} kept, 0 broken." in out.stdout


# (file to add a function-local import to, the import, the contract it breaks, the chain the report names)
REGRESSIONS = [
    ("core/surface.py", "from ..gui import style", "core",
     "landscape_app.core.surface -> landscape_app.gui.style"),
    ("core/models.py", "import PySide6", "core", "landscape_app.core.models -> PySide6"),
    ("core/data.py", "from ..export import writers", "core", "landscape_app.core.data -> landscape_app.export.writers"),
    ("core/experiment.py", "from . import tomlio", "tomlio",
     "landscape_app.core.experiment -> landscape_app.core.tomlio"),
    ("core/optimizers.py", "from . import training", "core-acyclic", ".optimizers -> .training"),
    ("gui/views/contour.py", "from ..main_window import MainWindow", "views",
     "landscape_app.gui.views.contour -> landscape_app.gui.main_window"),
    ("export/frames.py", "from ..gui.main_window import MainWindow", "export",
     "landscape_app.export.frames -> landscape_app.gui.main_window"),
    ("gui/race.py", "from ..export.job import export_animation", "gui-export",
     "landscape_app.gui.race -> landscape_app.export.job"),
    ("gui/app.py", "from .. import cli", "layers", "landscape_app.gui.app -> landscape_app.cli"),
    ("export/plan.py", "from .. import course", "layers", "landscape_app.export.plan -> landscape_app.course"),
    # The circles once found, each closed again by one import.
    ("gui/views/data_common.py", "from . import data_view", "gui-export-acyclic", ".data_common -> .data_view"),
    ("export/stills.py", "from . import frames", "gui-export-acyclic", ".stills -> .frames"),
    ("export/images.py", "from . import frames", "gui-export-acyclic", ".images -> .frames"),
    ("export/writer_base.py", "from . import gif", "gui-export-acyclic", ".writer_base -> .gif"),
    ("gui/views/contour.py", "from ..scene_controller import SceneController", "views",
     "landscape_app.gui.views.contour -> landscape_app.gui.scene_controller"),
    ("export/frames.py", "from ..gui.controller import Controller", "export",
     "landscape_app.export.frames -> landscape_app.gui.controller"),
]


@pytest.fixture
def copy_of_package(tmp_path):
    shutil.copytree(ROOT / "landscape_app", tmp_path / "landscape_app",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize("module, statement, contract, chain", REGRESSIONS, ids=[r[0] for r in REGRESSIONS])
def test_a_lazy_import_across_a_boundary_breaks_its_contract(copy_of_package, module, statement, contract, chain):
    path = copy_of_package / "landscape_app" / module
    with path.open("a", encoding="utf-8") as f:
        f.write(f"\n\ndef _probe():\n    {statement}  # noqa: F401\n")
    out = _lint(copy_of_package)
    assert out.returncode != 0, out.stdout
    assert _contract_names()[contract] in _broken(out.stdout), out.stdout
    assert chain in out.stdout, out.stdout


def test_a_module_outside_every_layer_is_refused(copy_of_package):
    (copy_of_package / "landscape_app" / "engine.py").write_text('"""A new module with no layer yet."""\n')
    out = _lint(copy_of_package)
    assert out.returncode != 0, out.stdout
    assert _contract_names()["layers"] in _broken(out.stdout), out.stdout
    assert "landscape_app.engine" in out.stdout, out.stdout
