"""The tags adapter (``tags.py``) against botocore's Stubber: requests checked against the service model."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

from jira_notifier.adapters.aws.tags import ARNS_PER_CALL, MAX_AGE_SECONDS, TaggingApiTags
from tests.support.fakes import Clock


def arn(region: str, n: int) -> str:
    return f"arn:aws:cloudwatch:{region}:123456789012:alarm:a{n}"


def mapping(resource: str, **tags: str) -> dict[str, Any]:
    return {"ResourceARN": resource, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


class Clients:
    """One stubbed client per region, made on demand (as the adapter asks for them)."""

    def __init__(self) -> None:
        self.stubs: dict[str, Stubber] = {}
        self.made: list[str] = []

    def stub(self, region: str) -> Stubber:
        if region not in self.stubs:
            client = boto3.client("resourcegroupstaggingapi", region_name=region)
            self.stubs[region] = Stubber(client)
            self.stubs[region].activate()
        return self.stubs[region]

    def __call__(self, region: str) -> Any:
        self.made.append(region)
        return self.stub(region).client


def test_arns_are_read_per_region_at_most_100_a_call_and_pages_followed() -> None:
    clients = Clients()
    ireland = [arn("eu-west-1", n) for n in range(ARNS_PER_CALL + 1)]
    virginia = arn("us-east-1", 0)
    stub = clients.stub("eu-west-1")
    stub.add_response(
        "get_resources",
        {"ResourceTagMappingList": [mapping(ireland[0], team="payments")], "PaginationToken": "next"},
        {"ResourceARNList": ireland[:ARNS_PER_CALL]},
    )
    stub.add_response(
        "get_resources",
        {"ResourceTagMappingList": [mapping(ireland[1], owner="jane")], "PaginationToken": ""},
        {"ResourceARNList": ireland[:ARNS_PER_CALL], "PaginationToken": "next"},
    )
    stub.add_response("get_resources", {"ResourceTagMappingList": []}, {"ResourceARNList": ireland[ARNS_PER_CALL:]})
    clients.stub("us-east-1").add_response(
        "get_resources",
        {"ResourceTagMappingList": [mapping(virginia, team="platform", env="prod")]},
        {"ResourceARNList": [virginia]},
    )
    tags = TaggingApiTags(clients, clock=Clock(0).time)

    # The first resource's value wins for a key several resources carry
    assert tags.tags([*ireland, virginia]) == {"team": "payments", "owner": "jane", "env": "prod"}
    assert clients.made == ["eu-west-1", "us-east-1"]
    for stubber in clients.stubs.values():
        stubber.assert_no_pending_responses()


def test_tags_are_kept_about_one_invocation_then_read_again() -> None:
    clients, clock = Clients(), Clock(0)
    resource = arn("eu-west-1", 1)
    stub = clients.stub("eu-west-1")
    for team in ("payments", "platform"):
        stub.add_response(
            "get_resources", {"ResourceTagMappingList": [mapping(resource, team=team)]}, {"ResourceARNList": [resource]}
        )
    tags = TaggingApiTags(clients, clock=clock.time)

    assert tags.tags([resource]) == {"team": "payments"}
    clock.now += MAX_AGE_SECONDS - 1
    assert tags.tags([resource]) == {"team": "payments"}  # no second call
    clock.now += 1
    assert tags.tags([resource]) == {"team": "platform"}  # changed since: read again
    stub.assert_no_pending_responses()


def test_a_failure_leaves_the_tags_out() -> None:
    clients = Clients()
    resource = arn("eu-west-1", 1)
    clients.stub("eu-west-1").add_client_error("get_resources", "AccessDeniedException", http_status_code=400)

    assert TaggingApiTags(clients, clock=Clock(0).time).tags([resource]) == {}
