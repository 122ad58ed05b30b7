"""The code blocks of README.md and docs/*.md, as the tests see them.

Every ```python block runs (pytest-markdown-docs collects them; ``conftest.py`` at the root runs each in a fresh
folder), and every ``landscape-app ...`` line of every ```sh block runs (``tests/test_docs.py``). One HTML comment
on the line right above a fence changes that (invisible on GitHub and in the site):

    <!-- docs-test: not-run: WHY -->   shown, never run: it opens the window, calls make, pip or apt, starts a Ray
                                       cluster, or needs what this checkout does not have yet; WHY says which
    <!-- docs-test: continue -->       a Python block that goes on from the Python block before it (its names stay)
    <!-- docs-test: file NAME -->      a file that the blocks after it on the page use (a model file, a session):
                                       never run, written as NAME into their folder before they run

A block that must run keeps its examples small (a few seconds) and makes the files it needs in its own folder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parent.parent
DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*(?P<kind>[\w-]+)\s*(?::\s*)?(?P<arg>.*?)\s*-->\s*$", re.S)
KINDS = ("not-run", "continue", "file")


@dataclass(frozen=True)
class Block:
    """A fenced code block: its page, first line (1-based, the fence's), language, text and directive."""

    path: Path
    line: int
    lang: str
    text: str
    kind: str = ""        # "", or one of KINDS
    arg: str = ""         # not-run: why; file: the file's name


def pages() -> list[Path]:
    """The pages whose blocks are tested: the README and the site's pages."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def directive(tokens, i: int) -> tuple[str, str]:
    """The ``docs-test`` comment on the line right above the fence ``tokens[i]``: (kind, arg), or ("", "")."""
    if i == 0 or tokens[i - 1].type != "html_block" or tokens[i - 1].map[1] != tokens[i].map[0]:
        return "", ""
    found = DIRECTIVE.match(tokens[i - 1].content.strip())
    if found is None:
        return "", ""
    kind, arg = found["kind"], found["arg"]
    if kind not in KINDS:
        raise ValueError(f"line {tokens[i - 1].map[0] + 1}: unknown docs-test directive {kind!r} "
                         f"(one of {', '.join(KINDS)})")
    if kind in ("not-run", "file") and not arg:
        raise ValueError(f"line {tokens[i - 1].map[0] + 1}: docs-test {kind} needs "
                         f"{'a reason' if kind == 'not-run' else 'a file name'}")
    return kind, arg


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order."""
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    found = []
    for i, token in enumerate(tokens):
        if token.type == "fence":
            try:
                kind, arg = directive(tokens, i)
            except ValueError as exc:
                raise ValueError(f"{path.name}: {exc}") from None
            lang = token.info.split()[0] if token.info.strip() else ""
            found.append(Block(path, token.map[0] + 1, lang, token.content, kind, arg))
    return found


def write_files_above(path: Path, line: int, folder: Path) -> None:
    """Write the page's ``file`` blocks above ``line`` into ``folder``, so the block at ``line`` finds them."""
    for block in blocks(path):
        if block.line < line and block.kind == "file":
            target = folder / block.arg
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")


def markdown_it_for_python_blocks() -> MarkdownIt:
    """A parser that tells pytest-markdown-docs the directives in its own words: ``notest`` for not-run and file
    blocks, ``continuation`` for continue (its info strings would break the fences in MkDocs and on GitHub)."""
    md = MarkdownIt("commonmark")

    def to_info(state) -> None:
        for i, token in enumerate(state.tokens):
            if token.type == "fence":
                kind, _ = directive(state.tokens, i)
                if kind in ("not-run", "file"):
                    token.info += " notest"
                elif kind == "continue":
                    token.info += " continuation"

    md.core.ruler.push("docs_test_directives", to_info)
    return md


__all__ = ["Block", "KINDS", "ROOT", "blocks", "markdown_it_for_python_blocks", "pages", "write_files_above"]
