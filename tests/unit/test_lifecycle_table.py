"""docs/lifecycle.md is the table the lifecycle's code makes: a change to either without the other fails here."""

from __future__ import annotations

from pathlib import Path

from tests.support.lifecycle_table import document

DOC = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"


def test_the_documented_table_is_the_one_the_code_makes() -> None:
    # Given the table as documented, and as the lifecycle's functions give it now
    documented = DOC.read_text(encoding="utf-8")

    # Then they are the same, cell for cell
    assert documented.rstrip("\n") == document().rstrip("\n"), (
        "docs/lifecycle.md is out of date: regenerate it with "
        "'.venv/bin/python -m tests.support.lifecycle_table > docs/lifecycle.md' and read the difference"
    )
