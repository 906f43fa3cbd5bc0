"""The lifecycle model's own report: how many steps and examples each test ran, and which known defects' cases
were set aside in how many examples."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.model.test_lifecycle_model import EXAMPLES, PROFILE_NAME, SET_ASIDE, STEPS

    if not STEPS:
        return
    terminalreporter.section(f"lifecycle model ({PROFILE_NAME} profile)")
    for name, steps in STEPS.items():
        terminalreporter.write_line(f"{name}: {steps} steps in {EXAMPLES[name]} examples")
    for defect, examples in SET_ASIDE.most_common():
        terminalreporter.write_line(f"set aside in {examples} examples: {defect.value}")
    terminalreporter.write_line(f"total: {sum(STEPS.values())} steps")
