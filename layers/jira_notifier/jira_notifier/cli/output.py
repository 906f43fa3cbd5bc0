"""How the CLI prints: aligned tables for people, JSON for scripts, colour only on a terminal."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

_COLOURS = {"PASS": "32", "WARN": "33", "FAIL": "31", "dim": "2"}


def use_colour(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Colour on a terminal only, and never when NO_COLOR is set (https://no-color.org) or TERM is dumb."""
    is_tty = getattr(stream, "isatty", lambda: False)()
    return bool(is_tty) and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"


def paint(text: str, style: str, *, enabled: bool) -> str:
    code = _COLOURS.get(style)
    return f"\033[{code}m{text}\033[0m" if enabled and code else text


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; trailing spaces trimmed."""
    cells = [[str(cell) for cell in row] for row in (headers, *rows)]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_result(as_json: bool, data: Any, *lines: str) -> None:
    """A command's result: ``data`` as JSON for scripts (``--json``), else ``lines`` for people."""
    if as_json:
        print_json(data)
    else:
        print("\n".join(lines))


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
