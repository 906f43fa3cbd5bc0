"""Redaction: how many secrets get through, how many ordinary lines it changes for nothing, and what it costs.

Pure CPU, no AWS and no Jira: the corpora of ``tests/support/log_corpus.py`` (secrets generated at run time from a
seeded RNG, ordinary lines of real-looking services) through ``render.redact.log_lines`` as ``AlarmInsights`` calls
it, one sample's events at a time. A secret leaks when any 8 of its characters in a row are shown. An ordinary line
is touched when what the issue shows differs from the line with its whitespace runs made single spaces (withheld
counts as touched). Times are CPU (``time.thread_time``), the median of the repeats.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from jira_notifier.render import issue as render
from jira_notifier.render import redact
from tests.support.builders import alerts_in
from tests.support.log_corpus import ALNUM, B64, B64URL, SEED, SecretMaker, leaked, ordinary_lines, secret_samples

FALSE_REDACTION_GOAL = 0.05
EVIDENCE_LINES = 20
LARGEST_EVENT = 256 * 1024  # CloudWatch Logs' largest event
# Thresholds of the random-string rule tried beside the one shipped: (RANDOM_MIN, ENTROPY_SLACK)
THRESHOLDS = ((12, 1.0), (16, 1.0), (20, 1.0), (24, 1.0), (32, 1.0), (20, 0.5), (20, 1.5), (20, 2.0))
RANDOM_LENGTHS = (12, 16, 20, 24, 32, 40, 64)  # of the random tokens the thresholds are tried on


def redaction_costs(repeats: int = 5) -> dict[str, Any]:
    secrets, ordinary = secret_samples(SEED), ordinary_lines(SEED)
    found = _measure(secrets, ordinary)
    return {
        "seed": SEED,
        "secret_samples": len(secrets),
        "secret_events": sum(len(s.events) for s in secrets),
        "secret_values": sum(len(s.secrets) for s in secrets),
        "ordinary_lines": len(ordinary),
        **found,
        "thresholds": _thresholds(ordinary),
        "us_per_ordinary_line": _median_us(lambda: _shown(ordinary), repeats, len(ordinary)),
        "us_per_secret_event": _median_us(
            lambda: [redact.log_lines(("s", e) for e in s.events) for s in secrets], repeats, found["events"]
        ),
        "ms_per_evidence_of_20_lines": round(
            _median_us(lambda: _shown(ordinary[:EVIDENCE_LINES]), repeats, 1) / 1000, 3
        ),
        "ms_largest_event": round(_median_us(lambda: redact.log_line(_largest_event()), repeats, 1) / 1000, 3),
        "ms_per_new_alarm_issue_texts": _issue_texts_ms(repeats),
        "ms_per_new_alarm_issue_description": round(
            _median_us(lambda: render.description(_sample_alarm()), repeats, 1) / 1000, 3
        ),
    }


def _measure(secrets: list[Any], ordinary: list[str]) -> dict[str, Any]:
    leaks = []
    events = 0
    for sample in secrets:
        events += len(sample.events)
        shown = "\n".join(line for line in redact.log_lines(("s", e) for e in sample.events) if line is not None)
        leaks += [f"{sample.kind} ({sample.form})" for secret in sample.secrets if leaked(secret, shown)]
    touched = [
        (line, shown) for line, shown in zip(ordinary, _shown(ordinary), strict=True) if shown != " ".join(line.split())
    ]
    return {
        "events": events,
        "leaks": leaks,
        "ordinary_touched": len(touched),
        "ordinary_withheld": sum(1 for _, shown in touched if shown is None),
        "false_redaction_share": round(len(touched) / len(ordinary), 4),
        "touched_examples": [_around_the_change(line, shown) for line, shown in touched],
    }


def _around_the_change(line: str, shown: str | None) -> tuple[str, str]:
    at = max(0, (shown or "").find(redact.REDACTED) - 60)
    return " ".join(line.split())[at : at + 130], (shown or "(withheld)")[at : at + 130]


def _shown(lines: list[str]) -> list[str | None]:
    """Each line as the issue shows it, read on its own (a log stream each), without the display cap."""
    return [redact.log_lines([(str(n), line)], limit=redact.SCAN_MAX)[0] for n, line in enumerate(lines)]


def _thresholds(ordinary: list[str]) -> list[dict[str, Any]]:
    """At each threshold: random tokens of each length (base64, base64url and alphanumeric, 20 of each, in a line
    where nothing names them) that the redaction hides, and the ordinary lines it touches."""
    make = SecretMaker(SEED)
    tokens = [
        (length, make.mixed(alphabet, length))
        for length in RANDOM_LENGTHS
        for alphabet in (B64, B64URL, ALNUM)
        for _ in range(20)
    ]
    rows = []
    for random_min, slack in THRESHOLDS:
        with _threshold(random_min, slack):
            shown = [length for length, token in tokens if leaked(token, redact.log_line(f"cached {token} for acme"))]
            found = _measure([], ordinary)
        rows.append(
            {
                "random_min": random_min,
                "entropy_slack": slack,
                "shipped": (random_min, slack) == (redact.RANDOM_MIN, redact.ENTROPY_SLACK),
                "hidden_by_length": {
                    str(n): len(tokens) // len(RANDOM_LENGTHS) - shown.count(n) for n in RANDOM_LENGTHS
                },
                "tokens_per_length": len(tokens) // len(RANDOM_LENGTHS),
                "ordinary_touched": found["ordinary_touched"],
                "false_redaction_share": found["false_redaction_share"],
            }
        )
    return rows


@contextmanager
def _threshold(random_min: int, slack: float) -> Iterator[None]:
    shipped = redact.RANDOM_MIN, redact.ENTROPY_SLACK, redact._RUN
    redact.RANDOM_MIN, redact.ENTROPY_SLACK = random_min, slack
    redact._RUN = re.compile(shipped[2].pattern.replace(f"{{{shipped[0]},}}", f"{{{random_min},}}"))
    try:
        yield
    finally:
        redact.RANDOM_MIN, redact.ENTROPY_SLACK, redact._RUN = shipped


def _median_us(work: Callable[[], object], repeats: int, per: int) -> float:
    work()  # patterns compiled, caches warm
    runs = []
    for _ in range(repeats):
        started = time.thread_time()
        work()
        runs.append((time.thread_time() - started) / per * 1e6)
    return round(statistics.median(runs), 1)


def _largest_event() -> str:
    line = 'INFO GET /api/orders/8812?page=2 200 {"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}\n'
    return (line * (LARGEST_EVENT // len(line) + 1))[:LARGEST_EVENT]


def _sample_alarm() -> Any:
    from tests.conftest import load_event

    [alert] = alerts_in(load_event("sns_cloudwatch_alarm.json"))
    return alert


def _issue_texts_ms(repeats: int) -> float:
    """What redaction adds to a new issue of the sample alarm: its title, texts, facts, links and raw event."""
    alert = _sample_alarm()
    raw = json.dumps(alert.raw, indent=2, ensure_ascii=False)

    def work() -> None:
        for text in (alert.title, alert.what, alert.why, raw, *(link.url for link in alert.links)):
            redact.redact(text)
        for name, value in alert.facts:
            redact.redact_field(name, value)

    return round(_median_us(work, repeats, 1) / 1000, 3)


def summary(r: dict[str, Any]) -> str:
    from bench.report import table

    thresholds = [
        [
            f"{t['random_min']} chars, slack {t['entropy_slack']:g}" + (" (shipped)" if t["shipped"] else ""),
            *(t["hidden_by_length"][str(n)] for n in RANDOM_LENGTHS),
            f"{t['ordinary_touched']} ({t['false_redaction_share']:.1%})",
        ]
        for t in r["thresholds"]
    ]  # fmt: skip
    per_length = r["thresholds"][0]["tokens_per_length"]
    rows = [
        ["secret-bearing samples (events, values)",
         f"{r['secret_samples']} ({r['secret_events']}, {r['secret_values']})"],
        ["secrets leaked (8 characters in a row shown)", len(r["leaks"])],
        ["ordinary lines", r["ordinary_lines"]],
        ["ordinary lines touched (withheld)", f"{r['ordinary_touched']} ({r['ordinary_withheld']})"],
        ["false-redaction share", f"{r['false_redaction_share']:.1%} (goal <= {FALSE_REDACTION_GOAL:.0%})"],
        ["CPU per ordinary line (us)", r["us_per_ordinary_line"]],
        ["CPU per secret-bearing event (us)", r["us_per_secret_event"]],
        [f"CPU per evidence of {EVIDENCE_LINES} ordinary lines (ms)", r["ms_per_evidence_of_20_lines"]],
        [f"CPU for one {LARGEST_EVENT // 1024} KB event (ms, read to {redact.SCAN_MAX:,} characters)",
         r["ms_largest_event"]],
        ["CPU to redact a new alarm issue's texts and raw event (ms)", r["ms_per_new_alarm_issue_texts"]],
        ["CPU for that issue's whole description (ms, redaction included)", r["ms_per_new_alarm_issue_description"]],
    ]  # fmt: skip
    examples = [f"  {line!r}\n    -> {shown!r}" for line, shown in r["touched_examples"]]
    return "\n".join(
        [
            table(["figure", "value"], rows),
            "",
            "the random-string rule at other thresholds (random-looking characters a run needs; bits per character",
            f"below log2(length) a random-looking part may be): of {per_length} unnamed random tokens of each length",
            "(base64, base64url, alphanumeric), how many are hidden; and the ordinary lines touched",
            table(["threshold", *(f"{n} chars" for n in RANDOM_LENGTHS), "ordinary lines touched"], thresholds),
            "",
            "ordinary lines touched:",
            *examples,
        ]
    )
