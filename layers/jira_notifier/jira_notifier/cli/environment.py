"""The functions' environment for a command that runs a handler in this process, set for the command and put back."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def functions_environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Run the block with the functions' environment (None unsets a variable) and fresh adapters built from it;
    restore both after."""
    from jira_notifier.adapters.observability import metrics
    from jira_notifier.entry import wiring

    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            _set_env(name, value)
        wiring.reset()
        yield
    finally:
        for name, value in saved.items():
            _set_env(name, value)
        wiring.reset()
        # With metrics disabled Powertools keeps what it did not flush; it must not reach a later flush.
        metrics.clear_metrics()


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
