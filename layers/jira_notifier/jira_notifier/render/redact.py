"""Secret-looking strings in log lines, replaced before they reach a Jira issue. Pure; the one list of patterns.

Err on the side of hiding: a log line with a hash shown as ``[REDACTED]`` costs little, a token in an issue a lot.
"""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"
LINE_MAX = 500  # characters of one log line shown
ELLIPSIS = "…"

# A name that says "secret" followed by its value: password=..., "apiKey": "...", token: ...
_NAMED_SECRET = re.compile(
    r"""(?ix)
    (?P<name>\b[\w.-]*?(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key
        |client[_-]?secret|session[_-]?id|credentials?|auth)[\w.-]*)
    (?P<sep>\s*["']?\s*[:=]\s*["']?)
    (?P<value>\[REDACTED\]|[^\s"',;&}\]]+)
    """
)
# Whole tokens recognisable by their shape, whatever surrounds them.
_SHAPES = tuple(
    re.compile(pattern)
    for pattern in (
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",  # PEM private keys
        r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}",  # Authorization: Bearer ...
        r"(?i)\bbasic\s+[A-Za-z0-9+/]{8,}={0,2}",  # Authorization: Basic ...
        r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",  # JSON Web Tokens
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b",  # AWS access key ids
        # AWS secret access keys: 40 characters of base64 with upper and lower case letters.
        r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
        r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack tokens
        r"\bgh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
        r"\bATATT[A-Za-z0-9_=-]{20,}",  # Atlassian API tokens
        r"\bsk_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe-style secret keys
    )
)
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:)[^/\s@]+(?P<at>@)")


def redact(line: str) -> str:
    """``line`` with every secret-looking string replaced by ``[REDACTED]`` (names of named secrets are kept)."""
    line = _URL_PASSWORD.sub(lambda m: m["head"] + REDACTED + m["at"], line)
    for shape in _SHAPES:
        line = shape.sub(REDACTED, line)
    return _NAMED_SECRET.sub(
        lambda m: m["name"] + m["sep"] + (m["value"] if m["value"] == REDACTED else REDACTED), line
    )


def log_line(message: str, limit: int = LINE_MAX) -> str:
    """A log event's message for the issue: redacted first (a secret cut in two is still found), then on one
    line and capped at ``limit`` characters."""
    shown = " ".join(redact(message).split())
    return shown if len(shown) <= limit else shown[: limit - 1] + ELLIPSIS
