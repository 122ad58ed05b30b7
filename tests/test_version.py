"""`la.__version__` and `landscape-app --version` come from the package's metadata, or, in a source tree that
was never installed, from its pyproject.toml."""
import importlib.metadata
import sys
from pathlib import Path

import landscape_app as la
from landscape_app.cli import main
from landscape_app.core.version import package_version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_version_is_the_installed_metadata():
    assert la.__version__ == importlib.metadata.version("landscape-app") == package_version()
    assert "__version__" in dir(la)


def test_a_source_tree_never_installed_reads_its_pyproject(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert package_version() == PYPROJECT["version"]


def test_the_command_prints_it(capsys, monkeypatch):
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.8.7" if name == "landscape-app" else None)
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == "landscape-app 9.8.7\n"
