"""Runs the Python blocks of README.md and docs/*.md (collected by pytest-markdown-docs: ``--markdown-docs`` in
pyproject.toml), each in a fresh folder holding the files that its page defines above it, with no screen.

The rules for the blocks (which run, which are shown only) are in ``tests/doc_blocks.py``; the shell blocks'
``landscape-app`` lines run in ``tests/test_docs.py``. This file sits at the root because the pages do: a conftest
in tests/ does not reach them.
"""
import importlib.util
import os
import sys
from pathlib import Path

import pytest

# Before any Qt import, as tests/conftest.py does: blocks that draw (the course helper) render offscreen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# By its path: tests/ is not a package. Registered under its name, so that tests/test_docs.py imports the same module.
_spec = importlib.util.spec_from_file_location("doc_blocks", Path(__file__).parent / "tests" / "doc_blocks.py")
doc_blocks = sys.modules.setdefault("doc_blocks", importlib.util.module_from_spec(_spec))
if not hasattr(doc_blocks, "blocks"):
    _spec.loader.exec_module(doc_blocks)


def pytest_markdown_docs_markdown_it():
    return doc_blocks.markdown_it_for_python_blocks()


@pytest.fixture(autouse=True)
def _markdown_block_folder(request, tmp_path, monkeypatch):
    """A Markdown page's Python block runs in a folder of its own, with the files its page defines above it."""
    if request.node.get_closest_marker("markdown-docs") is None or request.node.path.suffix != ".md":
        yield
        return
    doc_blocks.write_files_above(request.node.path, request.node.start_line, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    yield
