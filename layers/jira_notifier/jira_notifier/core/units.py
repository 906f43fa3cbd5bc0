"""Amounts a provider's settings are written in: durations with their unit, and priority steps. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable

from jira_notifier.core.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str | int | None, *, what: str) -> int | None:
    """``"90s"``, ``"30m"``, ``"24h"``, ``"7d"`` or ``"2w"`` as seconds; a number (a stored setting) is seconds.

    Written text must name its unit: a bare ``"5"`` would silently be five seconds where five minutes may be meant.

    Raises:
        ConfigError: the value is not a duration, or has no unit.
    """
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return int(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(f"{what} {value!r} is not a duration; use e.g. 90s, 30m, 24h or 7d")
    amount, unit = int(match.group(1)), match.group(2)
    if not unit:
        raise ConfigError(
            f"{what} {value!r} has no unit; write {amount}s, {amount}m, {amount}h or {amount}d (seconds, minutes, "
            "hours, days)"
        )
    return amount * _DURATION_UNITS[unit]


Step = tuple[float, str]  # (at least this much, the priority it calls for)


def parse_steps(values: Iterable[str], *, what: str, durations: bool = False) -> tuple[Step, ...]:
    """``["100:High,1000:Highest"]`` (or ``["4h:High", "1d:Highest"]`` with ``durations``) as steps, lowest first.

    Raises:
        ConfigError: a step is not ``AMOUNT:PRIORITY``.
    """
    steps: dict[float, str] = {}
    for part in (p.strip() for value in values for p in value.split(",")):
        if not part:
            continue
        amount, _, priority = part.rpartition(":")
        try:
            at = parse_duration(amount, what=what) if durations else float(amount)
        except (ValueError, ConfigError):
            at = None
        if at is None or at < 0 or not priority.strip():
            example = "4h:High" if durations else "100:High"
            raise ConfigError(
                f"{what} {part!r} must be {'DURATION' if durations else 'AMOUNT'}:PRIORITY, e.g. {example}"
            )
        steps[float(at)] = priority.strip()
    return tuple(sorted(steps.items()))


__all__ = ["Step", "parse_duration", "parse_steps"]
