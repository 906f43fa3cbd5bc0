"""How long ``jira-notifier --help`` takes: the median of N runs of the installed command, each a fresh process.

    .venv/bin/python bench/cli_help.py            # 10 runs of: jira-notifier --help, --version, provider --help
    .venv/bin/python bench/cli_help.py --runs 20

The interpreter's own start (``python -c pass``) is measured the same way, so the CLI's share shows. The parser is
built from a table of command names; a command's module loads only when it runs or its help is asked for.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def command() -> list[str]:
    """The installed console script beside this interpreter, else the module."""
    script = Path(sys.executable).with_name("jira-notifier")
    return [str(script)] if script.exists() else [sys.executable, "-m", "jira_notifier.cli.main"]


def timed(argv: list[str], runs: int) -> list[float]:
    """Wall-clock milliseconds of ``runs`` fresh processes (one warm-up first, not counted)."""
    subprocess.run(argv, capture_output=True, check=False)  # noqa: S603 - our own command
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)  # noqa: S603
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="processes per command (default 10)")
    runs = parser.parse_args().runs
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "jira-notifier --help": [*command(), "--help"],
        "jira-notifier --version": [*command(), "--version"],
        "jira-notifier provider --help": [*command(), "provider", "--help"],
    }
    print(f"{'command':32} {'median ms':>10} {'min':>8} {'max':>8}   ({runs} runs each)")
    for name, argv in cases.items():
        samples = timed(argv, runs)
        print(f"{name:32} {statistics.median(samples):10.0f} {min(samples):8.0f} {max(samples):8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
