"""Putting a wired event path (``entry.wiring.get_notifier``) on a test's clock: every use case reads ``deps.clock``,
and the state table and sync-back adapters keep their own for their deadlines and retries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def on_clock(notify: Any, clock: Callable[[], float], sleep: Callable[[float], None]) -> Any:
    """``notify`` (as wired) reading ``clock`` and sleeping with ``sleep``; returns it."""
    deps = notify.deps
    deps.clock, deps.sleep = clock, sleep
    storage = deps.leases.storage
    storage.clock, storage.sleep = clock, sleep
    deps.leases.clock = clock
    sync_back = deps.sync_back
    if hasattr(sync_back, "clock"):
        sync_back.clock = clock
        sync_back.ledger.clock = clock
    return notify
