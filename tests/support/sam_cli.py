"""SAM CLI (a dev dependency) run as a user runs it, with dummy credentials and no way out to the internet.

- ``find_sam()``: the ``sam`` beside this Python, else on PATH.
- ``offline_environment()``: the caller's environment without its AWS settings, plus dummy credentials, a region,
  telemetry off and a closed proxy, so a version check or telemetry call fails at once instead of reaching out.
  An endpoint on the loopback interface (``aws_endpoint``, e.g. moto) is reached directly.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

CLOSED_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens there


def find_sam() -> str | None:
    beside_python = Path(sys.executable).with_name("sam")
    return str(beside_python) if beside_python.exists() else shutil.which("sam")


def offline_environment(*, home: Path | None = None, aws_endpoint: str | None = None) -> dict[str, str]:
    """The environment for a ``sam`` process: see the module's docstring."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    offline = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "SAM_CLI_TELEMETRY": "0",
        "HTTPS_PROXY": CLOSED_PROXY,
        "HTTP_PROXY": CLOSED_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        "NO_COLOR": "1",
    }
    if home is not None:
        offline["HOME"] = str(home)  # SAM CLI keeps its metadata and caches under ~/.aws-sam
    if aws_endpoint is not None:
        offline["AWS_ENDPOINT_URL"] = aws_endpoint
    return inherited | offline
