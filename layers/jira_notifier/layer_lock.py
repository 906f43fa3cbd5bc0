"""The layer's requirements, derived from the lock: what the functions need, minus the AWS SDK the runtime provides.

``requirements.lock`` (``make lock``) pins, with hashes, the package's dependencies (``[project].dependencies``)
and the runtime's SDK (``runtime.txt``), resolved together for the runtime's Python and architecture. From it:

- the layer: every package reachable from the package's dependencies without passing through the SDK
  (``aws-xray-sdk`` requires botocore, which the runtime has), written to ``requirements.txt`` and installed
  with ``--no-deps --require-hashes``;
- the runtime: the SDK and what it needs, which the built-stack tests install beside the runtime's Python.

    python layers/jira_notifier/layer_lock.py            # rewrite requirements.txt from requirements.lock
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK = HERE / "requirements.lock"
REQUIREMENTS = HERE / "requirements.txt"
# The runtime's SDK: never in the layer (on Lambda the layer comes first on sys.path and would shadow it).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
PROJECT = "jira-notifier (pyproject.toml)"
HEADER = (
    "# Generated from requirements.lock by `make requirements`: do not edit. The layer's packages, installed with\n"
    "# --no-deps --require-hashes: the AWS SDK (boto3, botocore, s3transfer) comes from the Lambda runtime.\n"
)
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")


@dataclass(frozen=True)
class Pin:
    name: str  # normalized (PEP 503)
    version: str
    block: str  # the pin's lines in the lock, hashes included, annotations left out
    via: frozenset[str]  # what requires it: normalized names, PROJECT, or "-r <file>"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(text: str) -> dict[str, Pin]:
    """Raises: ValueError when a pin carries no hash."""
    pins: dict[str, Pin] = {}
    for chunk in re.split(r"\n(?=[A-Za-z0-9])", text.strip()):
        match = _PIN.match(chunk)
        if not match:
            continue
        lines = chunk.splitlines()
        block = [line for line in lines if not line.lstrip().startswith("#")]
        via = {
            line.lstrip(" #").removeprefix("via").strip()
            for line in lines
            if line.lstrip().startswith("#") and line.lstrip(" #") not in ("via", "")
        }
        if not any("--hash=" in line for line in block):
            raise ValueError(f"{match.group(1)} is pinned without a hash")
        name = normalize(match.group(1))
        pins[name] = Pin(name, match.group(2), "\n".join(block).rstrip(" \\"), frozenset(_source(v) for v in via))
    return pins


def _source(via: str) -> str:
    return via if via.startswith("-r ") or via == PROJECT else normalize(via)


def _reachable(pins: dict[str, Pin], roots: set[str], blocked: frozenset[str]) -> set[str]:
    found: set[str] = set()
    todo = [name for name in roots if name not in blocked]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        todo.extend(child for child, pin in pins.items() if name in pin.via and child not in blocked)
    return found


def layer_pins(pins: dict[str, Pin]) -> list[Pin]:
    """The layer: the package's dependencies and theirs, the runtime's SDK left out."""
    roots = {name for name, pin in pins.items() if PROJECT in pin.via}
    return [pins[name] for name in sorted(_reachable(pins, roots, RUNTIME_PROVIDED))]


def runtime_pins(pins: dict[str, Pin]) -> list[Pin]:
    """What the Lambda runtime provides beside its Python: the SDK and its own dependencies."""
    roots = {name for name, pin in pins.items() if any(v.startswith("-r ") for v in pin.via)}
    return [pins[name] for name in sorted(_reachable(pins, roots, frozenset()))]


def render(pins: list[Pin], header: str = HEADER) -> str:
    return header + "".join(f"{pin.block}\n" for pin in pins)


def main() -> int:
    REQUIREMENTS.write_text(render(layer_pins(read_lock(LOCK.read_text(encoding="utf-8")))), encoding="utf-8")
    print(f"written: {REQUIREMENTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
