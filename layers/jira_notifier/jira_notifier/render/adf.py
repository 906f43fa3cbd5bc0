"""Pure builders for Atlassian Document Format (ADF) documents, as plain dicts.

Only nodes and marks that both the ADF schema and Jira accept are produced: doc, paragraph, heading, text
(strong / em / code / link marks), hardBreak, bulletList / listItem, codeBlock, table / tableRow /
tableHeader / tableCell, panel and rule.

User text always becomes text nodes, so text that looks like ADF JSON, wiki markup, JQL or HTML stays literal.
Text nodes are never empty (the schema requires ``minLength: 1``): an empty string yields no node at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

Node = dict[str, Any]
Mark = dict[str, Any]
Cell = str | Sequence[Node]  # a table cell: plain text, or inline nodes built with text()

PANEL_TYPES = frozenset({"info", "note", "tip", "warning", "error", "success"})
_FORMATTING_MARKS = frozenset({"strong", "em"})
# Control characters (category Cc) other than tab and newline, and lone surrogates (category Cs).
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_IN_URL = re.compile("[\\s\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(s: str) -> str:
    """Normalize line ends to ``\\n`` and drop characters Jira cannot store or show.

    Removed: control characters other than newline and tab, and lone surrogates (they cannot be encoded
    as UTF-8, so the request would fail before it reaches Jira).
    """
    return _UNWANTED.sub("", s.replace("\r\n", "\n").replace("\r", "\n"))


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL without whitespace or control characters."""
    if not url or _NOT_IN_URL.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


# Marks ---------------------------------------------------------------------------------------------------


def strong() -> Mark:
    return {"type": "strong"}


def em() -> Mark:
    return {"type": "em"}


def code() -> Mark:
    return {"type": "code"}


def link(href: str) -> Mark:
    """A link mark.

    Raises:
        ValueError: ``href`` is not an http(s) URL (no ``javascript:``, ``file:`` or relative links).
    """
    if not is_web_url(href):
        raise ValueError(f"only http(s) URLs can be links, got {href[:80]!r}")
    return {"type": "link", "attrs": {"href": href}}


# Inline nodes --------------------------------------------------------------------------------------------


def hard_break() -> Node:
    return {"type": "hardBreak"}


def text(s: str, *marks: Mark) -> list[Node]:
    """Inline nodes for ``s``: text nodes with ``marks``, and a hardBreak for each newline.

    Returns a list because an empty string yields no node and a multi-line string yields several.

    Raises:
        ValueError: ``code`` is combined with ``strong`` or ``em`` (the schema forbids it).
    """
    mark_types = {mark["type"] for mark in marks}
    if "code" in mark_types and mark_types & _FORMATTING_MARKS:
        raise ValueError("the code mark cannot be combined with strong or em")
    nodes: list[Node] = []
    for index, line in enumerate(clean(s).split("\n")):
        if index:
            nodes.append(hard_break())
        if line:
            node: Node = {"type": "text", "text": line}
            if marks:
                node["marks"] = [dict(mark) for mark in marks]
            nodes.append(node)
    return nodes


# Block nodes ---------------------------------------------------------------------------------------------


def doc(*blocks: Node) -> Node:
    return {"version": 1, "type": "doc", "content": list(blocks)}


def paragraph(*inlines: Node) -> Node:
    """A paragraph; with no inlines it is an empty (still valid) paragraph."""
    return {"type": "paragraph", "content": list(inlines)}


def heading(title: str, level: int) -> Node:
    """A heading of plain text.

    Raises:
        ValueError: ``level`` is not between 1 and 6.
    """
    if not 1 <= level <= 6:
        raise ValueError(f"heading level must be 1..6, got {level}")
    return {"type": "heading", "attrs": {"level": level}, "content": text(title)}


def bullet_list(items: Iterable[Sequence[Node]]) -> Node:
    """A bullet list; each item is the inline content of one paragraph.

    Raises:
        ValueError: no items (the schema requires at least one).
    """
    list_items = [{"type": "listItem", "content": [paragraph(*inlines)]} for inlines in items]
    if not list_items:
        raise ValueError("a bullet list needs at least one item")
    return {"type": "bulletList", "content": list_items}


def code_block(body: str, language: str | None = None) -> Node:
    """A code block keeping ``body`` verbatim (newlines included) in one unmarked text node."""
    node: Node = {"type": "codeBlock"}
    if language:
        node["attrs"] = {"language": language}
    cleaned = clean(body)
    node["content"] = [{"type": "text", "text": cleaned}] if cleaned else []
    return node


def table(header_row: Sequence[Cell], rows: Iterable[Sequence[Cell]]) -> Node:
    """A table: one row of tableHeader cells, then rows of tableCell cells, each cell holding a paragraph."""
    header = _table_row("tableHeader", header_row)
    return {"type": "table", "content": [header, *(_table_row("tableCell", row) for row in rows)]}


def _table_row(cell_type: str, cells: Sequence[Cell]) -> Node:
    return {"type": "tableRow", "content": [_table_cell(cell_type, cell) for cell in cells]}


def _table_cell(cell_type: str, cell: Cell) -> Node:
    inlines = text(cell) if isinstance(cell, str) else list(cell)
    return {"type": cell_type, "content": [paragraph(*inlines)]}


def rule() -> Node:
    return {"type": "rule"}


def panel(panel_type: str, *blocks: Node) -> Node:
    """A coloured panel (info, note, tip, warning, error or success).

    Raises:
        ValueError: an unknown panel type, or no blocks (the schema requires at least one).
    """
    if panel_type not in PANEL_TYPES:
        raise ValueError(f"panel type must be one of {sorted(PANEL_TYPES)}, got {panel_type!r}")
    if not blocks:
        raise ValueError("a panel needs at least one block")
    return {"type": "panel", "attrs": {"panelType": panel_type}, "content": list(blocks)}
