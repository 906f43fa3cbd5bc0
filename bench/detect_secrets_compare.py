"""detect-secrets' detectors over the same corpora as ``bench/redaction.py``: the measure a library would have to beat
before the log evidence used it instead of ``render.redact``.

Runs with the interpreter ``make scan`` installs detect-secrets in (the package's own environment does not have it):

    make scan   # once, for .venv-scan/detect-secrets
    .venv-scan/detect-secrets/bin/python bench/detect_secrets_compare.py

Every plugin at its default settings, one log event at a time (``scan_line`` on each of its lines). A secret counts as
found when a finding holds 8 or more of its characters in a row; an ordinary line is touched when anything is found.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from detect_secrets.core.scan import scan_line  # noqa: E402 - needs the repository on the path first
from detect_secrets.settings import default_settings  # noqa: E402

from tests.support.log_corpus import leaked, ordinary_lines, secret_samples  # noqa: E402


def findings(event: str) -> list[str]:
    return [str(found.secret_value) for line in event.splitlines() for found in scan_line(line)]


def main() -> int:
    samples, ordinary = secret_samples(), ordinary_lines()
    with default_settings():
        values = found = 0
        missed: dict[str, int] = {}
        for sample in samples:
            seen = [value for event in sample.events for value in findings(event)]
            for secret in sample.secrets:
                values += 1
                if any(leaked(secret, value) or leaked(value, secret) for value in seen if len(value) >= 8):
                    found += 1
                else:
                    missed[sample.kind.partition(":")[0]] = missed.get(sample.kind.partition(":")[0], 0) + 1
        touched = sum(1 for line in ordinary if findings(line))
    print(f"secrets found: {found} of {values} ({found / values:.1%}); missed by kind: {dict(sorted(missed.items()))}")
    print(f"ordinary lines touched: {touched} of {len(ordinary)} ({touched / len(ordinary):.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
