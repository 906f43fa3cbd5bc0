"""How far one alert travels through the package: the modules a new SNS alarm enters, and the moves between them.

    .venv/bin/python bench/module_walk.py [--show]

A warm container (one alarm handled first, so the adapters and Jira's metadata are cached), the real adapters against
moto and the stand-in Jira on loopback, then one new alarm through the SNS handler as Lambda calls it, under a
profiler hook. A module is "entered" when one of its functions runs; a "move" is a call from a function of one
package module into a function of another (calls within a module, and calls into libraries, are not moves).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import alarm_message, bench_environment, invoke, load_handler, sns_event  # noqa: E402

PACKAGE = "jira_notifier"


def _module(frame: FrameType | None) -> str | None:
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            return str(name)
        frame = frame.f_back
    return None


def walk() -> dict[str, Any]:
    entered: Counter[str] = Counter()
    moves: Counter[tuple[str, str]] = Counter()

    def hook(frame: FrameType, event: str, arg: Any) -> None:  # noqa: ARG001 - sys.setprofile's signature
        if event != "call":
            return
        name = frame.f_globals.get("__name__", "")
        if not (name == PACKAGE or name.startswith(PACKAGE + ".")):
            return
        entered[name] += 1
        caller = _module(frame.f_back)
        if caller is not None and caller != name:
            moves[(caller, name)] += 1

    with bench_environment(0.0) as bench:
        handler = load_handler("sns")
        invoke(bench, handler, sns_event(alarm_message("walk-warm-up")))
        event = sns_event(alarm_message("walk-new-alarm"))
        sys.setprofile(hook)
        try:
            sample = invoke(bench, handler, event)
        finally:
            sys.setprofile(None)
    return {
        "result": sample.result,
        "modules": len(entered),
        "moves": sum(moves.values()),
        "entered": dict(entered.most_common()),
        "move_pairs": {f"{a} -> {b}": n for (a, b), n in moves.most_common()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list the modules entered and the moves")
    args = parser.parse_args(argv)
    found = walk()
    print(f"one new SNS alarm ({found['result']}): {found['modules']} modules entered, {found['moves']} moves")
    if args.show:
        for name, count in found["entered"].items():
            print(f"  {count:5d}  {name}")
        for pair, count in found["move_pairs"].items():
            print(f"  {count:5d}  {pair}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
