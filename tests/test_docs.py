"""The documentation: the site builds with ``mkdocs build --strict``, the ``landscape-app`` lines of the pages' shell
blocks run, the API reference covers every public name, and the README stays a front page.

The pages' Python blocks run through pytest-markdown-docs; the rules for which blocks run are in doc_blocks.py.
"""
from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys

import pytest

import landscape_app as la
from doc_blocks import ROOT, Block, blocks, pages, write_files_above

SHELL = ("sh", "bash", "shell")
# Options that name a file or folder a command writes; each must be there after the command.
WRITES = ("-o", "--output", "--screenshot", "--store")


def shell_blocks() -> list:
    return [pytest.param(block, id=f"{page.name}:{block.line}")
            for page in pages() for block in blocks(page) if block.lang in SHELL and block.kind != "not-run"]


def commands(text: str) -> list[str]:
    """A shell block's commands: lines continued by a backslash joined, blank and comment lines left out."""
    lines = (line.strip() for line in text.replace("\\\n", " ").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def written(words: list[str]) -> list[str]:
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word in WRITES]


def command_env() -> dict[str, str]:
    """The working tree first on the path (not an installed copy), and no screen."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


@pytest.mark.parametrize("block", shell_blocks())
def test_shell_block_runs(block: Block, tmp_path):
    """Each ``landscape-app`` line of the block runs in the block's own folder (with the files its page defines
    above it), exits 0 and writes what it says it writes."""
    write_files_above(block.path, block.line, tmp_path)
    for command in commands(block.text):
        words = shlex.split(command, comments=True)
        where = f"{block.path.name}:{block.line}: {command}"
        assert words[0] == "landscape-app", (
            f"{where}: only landscape-app lines run; show other commands in a block marked "
            "<!-- docs-test: not-run: why --> (tests/doc_blocks.py)")
        done = subprocess.run([sys.executable, "-m", "landscape_app", *words[1:]], cwd=tmp_path, env=command_env(),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{where}\nexit status {done.returncode}\n{done.stderr[-3000:]}"
        for out in written(words):
            assert (tmp_path / out).exists(), f"{where}: wrote no {out}"


def test_commands_split_as_a_shell_would():
    text = "# a comment\nlandscape-app run --preset adam-vs-sgd \\\n    -o path.csv   # or .json\n\n"
    (command,) = commands(text)
    assert shlex.split(command, comments=True) == ["landscape-app", "run", "--preset", "adam-vs-sgd", "-o", "path.csv"]
    assert written(shlex.split(command, comments=True)) == ["path.csv"]


def test_directives_are_read_from_the_line_above_the_fence(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- docs-test: file my_net.py -->\n```python\nX = 1\n```\n\n"
                    "<!-- docs-test: not-run: opens the window -->\n```sh\nlandscape-app\n```\n\n"
                    "<!-- docs-test: continue -->\n\n```python\nY = X\n```\n", encoding="utf-8")
    found = blocks(page)
    assert [(b.lang, b.kind, b.arg) for b in found] == [
        ("python", "file", "my_net.py"), ("sh", "not-run", "opens the window"),
        ("python", "", "")]          # a blank line between the comment and the fence: no directive
    write_files_above(page, found[1].line, tmp_path / "run")
    assert (tmp_path / "run" / "my_net.py").read_text() == "X = 1\n"
    page.write_text("<!-- docs-test: skip -->\n```python\nX = 1\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown docs-test directive 'skip'"):
        blocks(page)


def reference_entries() -> dict[str, object]:
    """docs/reference.md's ``::: module.name`` entries, each with the object it names."""
    text = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    entries = {}
    for path in re.findall(r"^::: ([\w.]+)", text, re.M):
        module, _, name = path.rpartition(".")
        entries[path] = getattr(importlib.import_module(module), name)
    return entries


def test_reference_names_every_public_name():
    """Every name of ``la.__all__`` has its entry in docs/reference.md (under the module that defines it)."""
    documented = [id(obj) for obj in reference_entries().values()]
    missing = [name for name in la.__all__ if id(getattr(la, name)) not in documented]
    assert not missing, f"docs/reference.md has no '::: module.name' entry for {missing}"


def test_site_builds_strict(tmp_path):
    """``mkdocs build --strict``: a broken link or anchor, a page left out of the nav, a missing include, or a
    reference entry mkdocstrings cannot find fails the build; and every reference entry is on the built page."""
    env = dict(command_env(), NO_MKDOCS_2_WARNING="1")
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(site)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-5000:]
    assert "WARNING" not in done.stderr, done.stderr[-5000:]
    reference = (site / "reference" / "index.html").read_text(encoding="utf-8")
    for path in reference_entries():
        assert f'id="{path}"' in reference, f"the built reference has no entry {path}"


def test_readme_is_a_front_page():
    """At most 250 lines of at most 120 characters, its picture small, and its links into the docs alive."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= 250
    long = [i + 1 for i, line in enumerate(lines) if len(line) > 120]
    assert not long, f"README lines over 120 characters: {long}"
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if "://" not in link]
    assert any(link.startswith("docs/") for link in local)
    for link in local:
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"
    pictures = [link for link in local if link.endswith((".gif", ".png", ".svg"))]
    assert pictures and all((ROOT / p).stat().st_size < 2_000_000 for p in pictures)


def test_architecture_names_modules_that_exist():
    """Every module, folder and test file the architecture page names is in the repository (it says where a change
    goes: a renamed module must not leave it pointing nowhere)."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:landscape_app/)?(?:core|gui|export|commands|tests|benchmarks)/[\w/*]*(?:\.py)?)`",
                           text))
    assert len(named) > 40
    missing = []
    for name in named:
        path = name if name.startswith(("landscape_app/", "tests/", "benchmarks/")) else f"landscape_app/{name}"
        if not list(ROOT.glob(path)):
            missing.append(name)
    assert not missing, f"docs/architecture.md names what does not exist: {sorted(missing)}"
