"""The heartbeat's Jira metrics: every answer Jira gives is JiraRefused (401/403) or JiraAnswered, so the stack's
alarm can tell "Jira refused every call" from "no call was made"."""

from __future__ import annotations

from typing import Any

import pytest

from jira_notifier.cli.invoke import load_handler
from tests.conftest import load_event
from tests.support.emf import metrics_emitted


def test_refused_calls_count_as_refused_and_none_as_answered(
    aws: Any, jira: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.put_secret(apiToken="revoked-token")  # pragma: allowlist secret

    result = load_handler("eventbridge")(load_event("eventbridge_securityhub_finding.json"), lambda_context)

    emitted = metrics_emitted(capsys.readouterr().out)
    assert result == {"parked": 1}
    assert emitted["JiraRefused"] >= 1 and "JiraAnswered" not in emitted
    assert not jira.issues


def test_answered_calls_count_as_answered(
    aws: Any, jira: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = load_handler("eventbridge")(load_event("eventbridge_securityhub_finding.json"), lambda_context)

    emitted = metrics_emitted(capsys.readouterr().out)
    assert result == {"created": 1}
    assert emitted["JiraAnswered"] == len(jira.requests) and "JiraRefused" not in emitted
