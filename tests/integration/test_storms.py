"""Storms as one issue: a provider with groupBy folds a group's alerts into one parent issue with a member table.

Through the handlers as Lambda calls them (moto for AWS, the stand-in Jira behind ``responses``), on a simulated
clock shared by the functions and Jira. Every request Jira received is validated against Atlassian's spec and the
ADF schema by the ``jira`` fixture.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.sns_to_jira.handler import lambda_handler as sns_handler
from functions.sqs_to_jira.handler import lambda_handler as sqs_handler
from jira_notifier.entry import wiring
from tests.conftest import DEFAULT_PROVIDER
from tests.integration.test_lifecycle import Clock
from tests.integration.test_sqs_batch import sqs_record
from tests.support.builders import alarm_message, sns_event
from tests.support.clocks import on_clock

CREATEMETA = ("GET", "/rest/api/3/issue/createmeta/OPS/issuetypes")
CREATE = ("POST", "/rest/api/3/issue")
TRANSITIONS = ("GET", "/rest/api/3/issue/OPS-1/transitions")
READ_PARENT = ("GET", "/rest/api/3/issue/OPS-1")  # where a resolved parent is, before a member reopens it
DO_TRANSITION = ("POST", "/rest/api/3/issue/OPS-1/transitions")


def edit(key: str = "OPS-1") -> tuple[str, str]:
    return ("PUT", f"/rest/api/3/issue/{key}")


def alarm(name: str, state: str = "ALARM", minutes: float = 0, account: str = "123456789012") -> dict[str, Any]:
    message = alarm_message(state, minutes, name=name, arn=f"arn:aws:cloudwatch:eu-west-1:{account}:alarm:{name}")
    message["AWSAccountId"] = account
    return message


class Storm:
    """Deliveries on a simulated clock; each returns the handler's result and the Jira requests it cost."""

    def __init__(self, jira: Any, context: Any) -> None:
        self.jira, self.context, self.clock, self.seen = jira, context, Clock(), 0
        jira.now = lambda: datetime.fromtimestamp(self.clock.now, UTC)

    def _run(self, function: str, handler: Any, event: dict[str, Any], after: float) -> tuple[Any, list[Any]]:
        self.clock.now += after
        notifier = wiring.get_notifier(function)
        on_clock(notifier, self.clock.time, self.clock.sleep)
        result = handler(event, self.context)
        cost, self.seen = self.jira.requests[self.seen :], len(self.jira.requests)
        return result, cost

    def sns(self, message: dict[str, Any], *, after: float = 60.0, message_id: str | None = None) -> Any:
        return self._run("sns", sns_handler, sns_event(message, message_id=message_id), after)

    def sqs(self, *messages: dict[str, Any], after: float = 60.0) -> Any:
        return self._run("sqs", sqs_handler, {"Records": [sqs_record(m) for m in messages]}, after)


@pytest.fixture
def storm(aws: Any, jira: Any, lambda_context: Any) -> Storm:
    aws.put_provider(**{**DEFAULT_PROVIDER, "group_by": ("account", "namespace"), "group_window": 600})
    return Storm(jira, lambda_context)


def table(issue: Any) -> dict[str, tuple[str, str]]:
    """The parent's member table as Jira holds it: alert name -> (state, since)."""
    [found] = [block for block in issue.fields["description"]["content"] if block["type"] == "table"]
    rows = {}
    for row in found["content"][1:]:
        name, state, since = (
            "".join(n.get("text", "") for n in cell["content"][0]["content"]) for cell in row["content"]
        )
        rows[name] = (state, since)
    return rows


def test_a_storm_in_one_group_is_one_parent_listing_every_member(storm: Storm, jira: Any) -> None:
    # Given 45 alarms of one account and namespace arriving in one SQS batch
    result, cost = storm.sqs(*(alarm(f"api-{n:02d}-5xx") for n in range(45)))

    # Then one issue is created, whose table lists all 45 as firing, and nothing else was written
    assert result == {"batchItemFailures": []}
    assert cost == [CREATEMETA, CREATE]
    [parent] = jira.issues.values()
    assert parent.summary == "Alert storm: account 123456789012, namespace AWS/ApiGateway"
    assert {state for state, _ in table(parent).values()} == {"Firing"}
    assert sorted(table(parent)) == [f"api-{n:02d}-5xx" for n in range(45)]
    assert any(label.startswith("jn-") for label in parent.labels)

    # When more members arrive in the next batch, with a repeat of one already listed
    result, cost = storm.sqs(*(alarm(f"api-{n:02d}-5xx", minutes=1) for n in range(44, 60)))

    # Then the parent's description is edited once (no new issue), listing 60 members
    assert cost == [edit()]
    assert len(jira.issues) == 1 and len(table(parent)) == 60


def test_members_of_two_groups_make_two_parents(storm: Storm, jira: Any) -> None:
    first = [alarm(f"db-{n}", account="111111111111") for n in range(5)]
    second = [alarm(f"web-{n}", account="222222222222") for n in range(7)]
    result, cost = storm.sqs(*[m for pair in zip(first, second, strict=False) for m in pair], *second[5:])

    assert result == {"batchItemFailures": []}
    assert cost == [CREATEMETA, CREATE, CREATE]
    tables = {issue.summary.split(",")[0]: sorted(table(issue)) for issue in jira.issues.values()}
    assert tables["Alert storm: account 111111111111"] == [f"db-{n}" for n in range(5)]
    assert tables["Alert storm: account 222222222222"] == [f"web-{n}" for n in range(7)]


def test_members_clear_then_the_parent_resolves_and_reopens_when_one_fires_again(storm: Storm, jira: Any) -> None:
    # Given two members of one parent, through the direct (SNS) path
    _, cost = storm.sns(alarm("queue-depth", minutes=0))
    assert cost == [CREATEMETA, CREATE]
    _, cost = storm.sns(alarm("queue-age", minutes=1))
    assert cost == [edit()]
    parent = jira.by_key("OPS-1")

    # When one clears: it is marked cleared in the table, and the parent stays open
    _, cost = storm.sns(alarm("queue-depth", "OK", minutes=2))
    assert cost == [edit()]
    assert table(parent)["queue-depth"][0] == "✓ Cleared" and table(parent)["queue-age"][0] == "Firing"
    assert parent.status == "To Do"

    # When the last one clears: the table is written and the parent resolved
    _, cost = storm.sns(alarm("queue-age", "OK", minutes=3))
    assert cost == [edit(), TRANSITIONS, DO_TRANSITION]
    assert parent.status == "Done" and {s for s, _ in table(parent).values()} == {"✓ Cleared"}

    # When one fires again within the reopen window (and after the group's window): the same parent reopens, once
    # Jira said it is resolved as the product left it (its resolution date opens the window)
    _, cost = storm.sns(alarm("queue-age", minutes=30), after=1800)
    assert cost == [READ_PARENT, edit(), TRANSITIONS, DO_TRANSITION]
    assert parent.status == "To Do" and parent.transitions == ["Done", "Reopen"]
    assert table(parent)["queue-age"][0] == "Firing"
    assert len(jira.issues) == 1
    body = json.loads(jira.mock.calls[-1].request.body)
    assert body["update"]["comment"][0]["add"]["body"]["content"][0]["content"][0]["text"].startswith("Reopened")


def test_a_late_repeat_or_duplicate_of_a_member_finds_its_parent(storm: Storm, jira: Any) -> None:
    storm.sns(alarm("cpu-high", minutes=0), message_id="m-1")
    storm.sns(alarm("cpu-low", minutes=1))

    # The same delivery again, then a late repeat of the same firing (past the window): nothing new in Jira
    result, cost = storm.sns(alarm("cpu-high", minutes=0), message_id="m-1")
    assert cost == [] and result == {"skipped": 1}
    result, cost = storm.sns(alarm("cpu-high", minutes=25), after=1500)
    assert cost == [] and result == {"grouped": 1}
    assert len(jira.issues) == 1 and sorted(table(jira.by_key("OPS-1"))) == ["cpu-high", "cpu-low"]


def test_a_new_alert_after_the_window_starts_a_new_parent(storm: Storm, jira: Any) -> None:
    storm.sns(alarm("disk-1", minutes=0))

    _, cost = storm.sns(alarm("disk-2", minutes=12), after=720)

    assert cost == [CREATE]
    assert [sorted(table(issue)) for issue in jira.issues.values()] == [["disk-1"], ["disk-2"]]


def test_a_parent_resolved_beyond_the_reopen_window_is_not_reopened(aws: Any, jira: Any, lambda_context: Any) -> None:
    aws.put_provider(**{**DEFAULT_PROVIDER, "group_by": ("prefix:-",), "reopen_window": 3600})
    storm = Storm(jira, lambda_context)
    storm.sns(alarm("orders-latency", minutes=0))
    storm.sns(alarm("orders-latency", "OK", minutes=1))
    assert jira.by_key("OPS-1").status == "Done"

    _, cost = storm.sns(alarm("orders-latency", minutes=180), after=3 * 3600)

    assert cost == [READ_PARENT, CREATE]
    assert jira.by_key("OPS-1").status == "Done" and jira.by_key("OPS-2").summary == "Alert storm: prefix orders"


def test_a_lost_create_answer_is_settled_by_the_label_search_like_any_create(storm: Storm, jira: Any) -> None:
    # Given Jira creates the parent but its answer is lost
    jira.fail("POST", r"/rest/api/3/issue$", None, after=True)
    result, cost = storm.sqs(alarm("lb-1"), alarm("lb-2"))

    # Then the parent is found by its label (the create protocol every issue follows) and adopted with its table
    assert result == {"batchItemFailures": []}
    assert cost[-2:] == [CREATE, ("POST", "/rest/api/3/search/jql")]
    assert len(jira.issues) == 1 and sorted(table(jira.by_key("OPS-1"))) == ["lb-1", "lb-2"]

    # When the records are delivered again: nothing more in Jira, the parent still lists both
    result, cost = storm.sqs(alarm("lb-1"), alarm("lb-2"))
    assert result == {"batchItemFailures": []} and cost == []
    assert len(jira.issues) == 1 and sorted(table(jira.by_key("OPS-1"))) == ["lb-1", "lb-2"]


def test_writes_to_a_parent_keep_jiras_per_issue_interval(storm: Storm, jira: Any) -> None:
    storm.sqs(alarm("a-1"))
    storm.sqs(alarm("a-2"), after=0.5)  # the next batch half a second later waits out the interval first
    assert storm.clock.slept == [pytest.approx(1.5, abs=0.01)]
    assert jira.busiest_writes(1.99) == 1  # (the stored write time is kept to the millisecond)


def test_an_alert_with_an_issue_of_its_own_keeps_it_when_grouping_is_turned_on(
    aws: Any, jira: Any, lambda_context: Any
) -> None:
    storm = Storm(jira, lambda_context)
    storm.sns(alarm("legacy", minutes=0))
    aws.put_provider(**{**DEFAULT_PROVIDER, "group_by": ("account",)})
    wiring.reset()

    _, cost = storm.sns(alarm("legacy", "OK", minutes=1))

    assert cost == [TRANSITIONS, DO_TRANSITION] and len(jira.issues) == 1


def test_the_stored_provider_keeps_its_grouping(aws: Any) -> None:
    from jira_notifier.core.config import ProviderConfig

    grouped = ProviderConfig(**{**DEFAULT_PROVIDER, "group_by": ("account", "prefix:12"), "group_window": 900})
    assert ProviderConfig.from_item(copy.deepcopy(grouped.to_item())) == grouped
    assert "groupBy" not in ProviderConfig(**DEFAULT_PROVIDER).to_item()


def test_the_stand_in_edits_the_fields_sent_and_counts_each_write(jira: Any) -> None:
    from jira_notifier.adapters.jira.client import JiraClient
    from jira_notifier.core.config import JiraSecret
    from jira_notifier.core.errors import JiraRequestError
    from tests.support.fake_jira import EMAIL, SITE, TOKEN

    client = JiraClient.connect(JiraSecret("s", EMAIL, TOKEN, SITE))
    body = {"fields": {"project": {"key": "OPS"}, "issuetype": {"id": "10001"}, "summary": "disk full"}}
    key = client.create_issue(body).key
    description = {"version": 1, "type": "doc", "content": [{"type": "paragraph", "content": []}]}

    client.edit_issue(key, {"summary": "disk nearly full", "description": description})

    issue = jira.by_key(key)
    assert issue.summary == "disk nearly full" and issue.fields["description"] == description
    with pytest.raises(JiraRequestError) as refused:
        client.edit_issue(key, {"customfield_10999": "x"})
    assert refused.value.status == 400 and "customfield_10999" in str(refused.value)
    assert jira.busiest_writes(30.0) == 2  # the create and the edit; the refused edit wrote nothing
