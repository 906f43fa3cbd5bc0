"""The exit codes every command keeps to (the table of docs/cli.md), and the errors that choose them.

| code | meaning |
| --- | --- |
| 0 | done: what was asked was done (a dry run, an empty list and "nothing to do" included) |
| 1 | failed or parked: AWS, Jira or a setting said no, a check failed, an alert was parked or still fails |
| 2 | usage: the command line cannot run as given (an unknown command or option, a missing or malformed value,
|   | options that do not go together), or this installation lacks what it asks for (``--local`` without the
|   | ``[local]`` extra); nothing was read or changed |
| 130 | interrupted (Ctrl-C) |
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from jira_notifier.core.errors import ConfigError

DONE = 0
FAILED = 1
USAGE = 2  # argparse's own code for a command line it refuses
INTERRUPTED = 130

LOCAL_EXTRA = "pipx install --force 'jira-notifier[local]' (or: pip install 'jira-notifier[local]')"


class UsageError(ConfigError):
    """The command line cannot run as given; exit 2."""


@contextmanager
def checking_arguments() -> Iterator[None]:
    """The command line's own checks, made before anything is read or written: what they refuse is a usage error.

    Raises:
        UsageError: a value of the command line breaks a rule (the message names it and the fix).
    """
    try:
        yield
    except UsageError:
        raise
    except ConfigError as error:
        raise UsageError(str(error)) from None


def missing_extra(what: str, error: ImportError) -> UsageError:
    """The one line a command prints when the installation lacks the ``[local]`` extra it needs."""
    module = f" (no module {error.name!r})" if error.name else ""
    return UsageError(f"{what} needs the embedded AWS, which this installation lacks{module}: {LOCAL_EXTRA}")
