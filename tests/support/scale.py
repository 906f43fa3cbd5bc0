"""How big the seeded fault runs are: a size that checks every path for ``make test``, the full size for ``make soak``.

Each run asserts that its schedule took every path it is there for (every fault kind injected, every kind of
person's decision made), so the smaller size checks the same things on fewer alerts. ``make soak`` sets
``MODEL_PROFILE=soak``.
"""

from __future__ import annotations

import os

SOAK = os.environ.get("MODEL_PROFILE") == "soak"


def sized(quick: tuple[int, int], soak: tuple[int, int]) -> tuple[int, int]:
    """(alerts, seed) for this run: a seed is chosen with its size, so that its schedule takes every path."""
    return soak if SOAK else quick
