"""Markdown pages read as a user reads them: prose, fenced code blocks, headings' anchors, shell commands."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True)
class Block:
    page: Path
    language: str
    lines: list[str]  # without the fence's indentation


def text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def section(page: Path, heading: str) -> str:
    """The text under ``heading`` (a whole heading line, e.g. "## Deploy"), up to the next heading of its level or
    above."""
    level = len(heading.split(" ", 1)[0])
    after = text(page).split(f"\n{heading}\n", 1)[1]
    return re.split(rf"\n#{{1,{level}}} ", after, maxsplit=1)[0]


def split_fences(page: Path, markdown: str | None = None) -> tuple[str, list[Block]]:
    """The page's prose (code blocks blanked out) and its fenced code blocks: of ``markdown`` (a part of the page)
    when given."""
    prose: list[str] = []
    blocks: list[Block] = []
    current: list[str] | None = None
    indent, language = "", ""
    for line in (text(page) if markdown is None else markdown).splitlines():
        fence = FENCE.match(line)
        if current is None and fence:
            current, indent, language = [], fence[1], fence[2]
            prose.append("")
        elif current is not None and fence and fence[1] == indent:
            blocks.append(Block(page, language, current))
            current = None
            prose.append("")
        elif current is not None:
            current.append(line.removeprefix(indent))
            prose.append("")
        else:
            prose.append(line)
    assert current is None, f"{page.name}: a code block is not closed"
    return "\n".join(prose), blocks


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@cache
def anchors(page: Path) -> set[str]:
    prose, _ = split_fences(page)
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose, flags=re.MULTILINE):
        anchor, n = slug(heading), 1
        while anchor in found:  # a repeated heading gets -1, -2, ...
            anchor, n = f"{slug(heading)}-{n}", n + 1
        found.add(anchor)
    return found


def simple_commands(line: str) -> list[list[str]]:
    """The simple commands of one shell line: comments dropped, split at | && || ;."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in {"|", "&&", ";", "||"}:
            commands.append([])
        else:
            commands[-1].append(token)
    return [command for command in commands if command]


def shell_commands(block: Block) -> list[list[str]]:
    """Each simple command of a shell block, continuation lines joined."""
    script = "\n".join(block.lines).replace("\\\n", " ")
    return [command for line in script.splitlines() for command in simple_commands(line)]


def jira_notifier_commands(page: Path, markdown: str | None = None) -> list[list[str]]:
    """The arguments of each ``jira-notifier`` command in the page's shell blocks (or in ``markdown``'s)."""
    _, blocks = split_fences(page, markdown)
    shell = [block for block in blocks if block.language in {"sh", "bash"}]
    return [command[1:] for block in shell for command in shell_commands(block) if command[0] == "jira-notifier"]


def inline_code(page: Path) -> list[str]:
    """The code spans of the page's prose."""
    return INLINE_CODE.findall(split_fences(page)[0])
