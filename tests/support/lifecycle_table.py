"""The lifecycle's table, made by asking ``core.lifecycle`` itself: every kind of state against every kind of input.

    .venv/bin/python -m tests.support.lifecycle_table > docs/lifecycle.md

``tests/unit/test_lifecycle_table.py`` fails when ``docs/lifecycle.md`` differs from what this prints, so the table
and the code cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from jira_notifier.core.alert import Alert, AlertState
from jira_notifier.core.config import ProviderConfig
from jira_notifier.core.lifecycle import IssueView, JiraView, decide, decide_refire, jira_says
from jira_notifier.core.state import IssueState, IssueStatus, PersonDecision

NOW = 1_800_000_000.0
T1 = int((NOW - 3600) * 1000)  # the firing the state recorded
T2 = T1 + 30_000  # the clear the state recorded after it
T0, T3 = T1 - 60_000, T1 + 60_000  # an older and a newer transition
PROVIDER = ProviderConfig(
    group="ops",
    name="jira",
    project="OPS",
    issue_type="Task",
    secret="s",
    resolve_transition="Done",
    reopen_transition="Reopen",
    reopen_window=7 * 86400,
    wont_fix_resolution="Won't Do",
    cooldown=600,
)
KEY = "cloudwatch-alarm:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx"
BASE = IssueState(pk="ops/jira#k", provider="ops/jira", dedupe_key=KEY)
OPEN = replace(
    BASE,
    issue_id="10001",
    issue_key="OPS-1",
    issue_status=IssueStatus.OPEN,
    alert_state=AlertState.FIRING,
    transition_at=T1,
    created_at=NOW - 3600,
    last_write_at=NOW - 3600,
    deliveries=(),
)
RESOLVED = replace(
    OPEN, issue_status=IssueStatus.RESOLVED, alert_state=AlertState.RESOLVED, transition_at=T2, resolved_at=NOW - 1800
)


def _person(decision: PersonDecision, resolution: str | None = None) -> IssueState:
    return OPEN.decided_by_person(decision, NOW - 1800, resolution=resolution, resolved_at=NOW - 1800)


STATES: dict[str, IssueState] = {
    "no issue": BASE,
    "no issue; its clear came first": replace(BASE, alert_state=AlertState.RESOLVED, transition_at=T1),
    "a create not yet confirmed": replace(BASE, pending_create_at=NOW - 30),
    "open": OPEN,
    "open; a clear held back": OPEN.held_back(
        Alert("x", KEY, "held", AlertState.RESOLVED, "t", transition_at=T1 + 1000), NOW - 1
    ),
    "resolved by the product": RESOLVED,
    "resolved by a person while firing": _person(PersonDecision.RESOLVED, "Done"),
    "resolved by a person; said so once": _person(PersonDecision.RESOLVED, "Done").person_noticed(NOW - 900),
    "won't-fix by a person": _person(PersonDecision.WONT_FIX, "Won't Do"),
    "deleted by a person": _person(PersonDecision.DELETED),
    "reopened by a person": replace(RESOLVED, issue_status=IssueStatus.OPEN, person_decision=PersonDecision.REOPENED),
}


def _alert(state: AlertState, at: int | None, previous: AlertState | None, delivery: str = "new") -> Alert:
    return Alert(
        "cloudwatch-alarm", KEY, delivery, state, "CloudWatch alarm api-5xx", transition_at=at, previous_state=previous
    )


INPUTS: dict[str, Callable[[IssueState], Alert]] = {
    "fires (from OK, newer)": lambda s: _alert(AlertState.FIRING, T3, AlertState.RESOLVED),
    "fires again in its episode (from ALARM, newer)": lambda s: _alert(AlertState.FIRING, T3, AlertState.FIRING),
    "the first firing again, on another channel": lambda s: _alert(AlertState.FIRING, T1, AlertState.RESOLVED),
    "a firing older than what is recorded": lambda s: _alert(AlertState.FIRING, T0, AlertState.RESOLVED),
    "clears (OK), or the source says it cleared": lambda s: _alert(AlertState.RESOLVED, T3, AlertState.FIRING),
    "a clear older than what is recorded": lambda s: _alert(AlertState.RESOLVED, T0, AlertState.FIRING),
    "a delivery seen before": lambda s: _alert(AlertState.FIRING, T3, AlertState.RESOLVED, delivery="seen"),
}

VIEWS: dict[str, IssueView | None] = {
    "Jira: done (Done)": IssueView("10001", "OPS-1", True, "Done", NOW - 600),
    "Jira: done (Won't Do)": IssueView("10001", "OPS-1", True, "Won't Do", NOW - 600),
    "Jira: open": IssueView("10001", "OPS-1", False),
    "Jira: moved to OTHER-7": IssueView("10001", "OTHER-7", False, project_key="OTHER"),
    "Jira: deleted (404)": None,
}


def event_table() -> list[str]:
    header = ["state \\ input", *INPUTS]
    rows = [_row(header), _row(["---"] * len(header))]
    for name, state in STATES.items():
        cells = [name]
        for make in INPUTS.values():
            alert = make(state)
            if alert.delivery_key == "seen":
                state_seen = state.with_delivery("seen")
                decision = decide(state_seen, alert, PROVIDER, NOW)
            else:
                decision = decide(state, alert, PROVIDER, NOW)
            cells.append(f"{decision.action.value} ({decision.reason.value})")
        rows.append(_row(cells))
    return rows


def view_table() -> list[str]:
    header = ["state \\ what Jira says now", *VIEWS]
    rows = [_row(header), _row(["---"] * len(header))]
    for name, state in STATES.items():
        if state.issue_id is None:
            continue
        cells = [name]
        for issue in VIEWS.values():
            _, changes = jira_says(state, JiraView("10001", issue, PROVIDER.wont_fix_resolution), NOW)
            cells.append(", ".join(changes) or "nothing")
        rows.append(_row(cells))
    return rows


def refire_table() -> list[str]:
    rows = [_row(["what Jira says of the resolved issue", "the firing does"]), _row(["---", "---"])]
    views = {
        **VIEWS,
        "Jira: done (Done), beyond the reopen window": IssueView("10001", "OPS-1", True, "Done", NOW - 30 * 86400),
    }
    for name, issue in views.items():
        decision = decide_refire(RESOLVED, issue, PROVIDER, NOW)
        rows.append(_row([name, f"{decision.action.value} ({decision.reason.value})"]))
    return rows


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def document() -> str:
    return "\n".join(
        [
            "# The lifecycle of one alert in one provider",
            "",
            "Every way the product learns something about an alert is an input to one lifecycle "
            "(`layers/jira_notifier/jira_notifier/core/lifecycle.py`); every path (the event path, the buffered bulk "
            "path, storm parents and members, reconcile, read-back, the webhook, sync-back retries and escalation) "
            "asks it what to do and only carries the answer out. The tables below are printed by the code itself "
            "(`.venv/bin/python -m tests.support.lifecycle_table > docs/lifecycle.md`), and "
            "`tests/unit/test_lifecycle_table.py` fails when this file and the code disagree.",
            "",
            "The provider in the tables has a resolve transition (Done), a reopen transition within 7 days, a "
            "won't-fix resolution (Won't Do) and a 10-minute cool-down. `x (why)` is the action and its reason.",
            "",
            "## A source event, or what the source says now",
            "",
            "A firing or a clear, with its previous state and transition time. The scheduled reconcile turns a "
            "source that says the alert is over into a clear with the source's own time, and applies it the same way. "
            "A storm's parent is an alert of its own (firing while a member fires, clear once all have cleared) "
            "and goes through the same rules.",
            "",
            *event_table(),
            "",
            "What the actions do: `create` opens an issue under the write-ahead rule (exactly once); `recover` looks "
            "for the issue an unconfirmed create may have made before anything else; `comment` writes to the issue's "
            "timeline; `resolve` moves it to done with a comment; `refire` reads the issue and does what the next "
            "table says; `skip` changes nothing in Jira (the delivery is remembered, and a clear that ends a "
            "person's episode is recorded). A `comment`, `resolve` or `refire` within 2 seconds of the issue's last "
            "write is held back and written once with a note (Jira's per-issue limits).",
            "",
            "## A firing after the issue was resolved (`refire`)",
            "",
            *refire_table(),
            "",
            "## What Jira says of the issue now (read back, or a webhook confirmed by a read)",
            "",
            "A difference from the state is a person's decision, recorded; it stands for its episode: a new episode "
            "(a clear recorded since, or a firing whose own event says it came from OK at a newer time) ends it, "
            "except a won't-fix, which is never reopened.",
            "",
            *view_table(),
            "",
        ]
    )


if __name__ == "__main__":
    print(document())
