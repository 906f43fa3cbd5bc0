"""The metrics a handler flushed, read back from its Embedded Metric Format lines on stdout."""

from __future__ import annotations

import json


def metrics_emitted(out: str) -> dict[str, float]:
    """The metrics the handler flushed (Embedded Metric Format on stdout), summed by name."""
    totals: dict[str, float] = {}
    for line in out.splitlines():
        if not line.startswith("{") or "_aws" not in line:
            continue
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = record[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(
                    values if isinstance(values, list) else [values]
                )
    return totals
