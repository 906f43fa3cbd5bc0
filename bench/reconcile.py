"""Reconcile cost: one scheduled run over many open links spread over the sources, through its handler.

The links are seeded as the event path leaves them (an open issue in the stand-in Jira, its state item). CloudWatch
alarms are moto's. GuardDuty's GetFindings, AWS Health, CloudWatch's DescribeAlarmContributors and Security Hub's
GetFindingsV2 are not in moto, and moto's Security Hub GetFindings ignores its filters (it would answer every finding,
in pages): those calls are answered from the seeded findings, contributors and events by a botocore ``before-call``
hook, as botocore's Stubber does, and still counted as AWS calls.

Contributors are seeded as alarms over many time series have them: ``CONTRIBUTORS_PER_ALARM`` contributors in ALARM
per alarm (AWS lists at most 100 per alarm), so the links of one alarm are asked with one DescribeAlarmContributors.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import PROVIDER, STATE_TABLE, Bench, LambdaContext
from tests.support.links import open_link, put_alarm

ACCOUNT, REGION = "123456789012", "us-east-1"
RUN_SECONDS = 240.0  # template.yaml, ReconcileFunction.Timeout
DETECTOR = "0123456789abcdef0123456789abcdef"  # pragma: allowlist secret
PRODUCT = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
ALL_SOURCES = (
    "cloudwatch-alarm",
    "cloudwatch-contributor",
    "securityhub",
    "securityhub-v2",
    "guardduty",
    "health",
    "cost-anomaly",
    "budget",
    "notification",
)
ASKABLE_SOURCES = ALL_SOURCES[:6]
CONTRIBUTORS_PER_ALARM = 100  # DescribeAlarmContributors lists at most 100 contributors in ALARM per alarm
PRODUCT_V2 = f"arn:aws:securityhub:{REGION}::productv2/aws/guardduty"


def reconcile_costs(bench: Bench, links: int, changed_share: float) -> dict[str, Any]:
    """Runs over ``links`` open links: spread over every source the issue names, then over the four that can be
    asked only; nothing changed, then ``changed_share`` of the askable ones cleared at their source."""
    return {
        "links": links,
        "all_sources_unchanged": _scenario(bench, links, ALL_SOURCES, 0.0, "a"),
        "askable_sources_unchanged": _scenario(bench, links, ASKABLE_SOURCES, 0.0, "b"),
        "all_sources_changed": _scenario(bench, links, ALL_SOURCES, changed_share, "c"),
        "changed_share": changed_share,
    }


def _scenario(bench: Bench, links: int, sources: tuple[str, ...], changed: float, tag: str) -> dict[str, Any]:
    import boto3

    from jira_notifier.entry import wiring

    session = boto3.session.Session()
    _clear_state(session)
    world = _World(session, bench, tag)
    every = round(1 / changed) if changed else 0  # of each askable source, every n-th link has cleared
    for n in range(links):
        source = sources[n % len(sources)]
        world.link(
            source,
            n,
            n // len(sources),
            cleared=bool(every) and source in ASKABLE_SOURCES and (n // len(sources)) % every == 0,
        )
    wiring.reset()
    from functions.reconcile.handler import lambda_handler

    jira_before, aws_before = bench.jira_counts(), bench.aws.copy()
    context = LambdaContext(function_name="jira-notifier-reconcile", deadline=time.monotonic() + RUN_SECONDS)
    with world.answering():
        started = time.perf_counter()
        result = lambda_handler({}, context)
        wall = time.perf_counter() - started
    aws = bench.aws.since(aws_before).counts
    jira = bench.jira_counts() - jira_before
    aws_calls, jira_requests = sum(aws.values()), sum(jira.values())
    return {
        "sources": list(sources),
        "result": result["reconcile"],
        "aws": dict(sorted(aws.items())),
        "aws_calls": aws_calls,
        "aws_goal": links / 50 + 10,
        "jira": dict(sorted(jira.items())),
        "jira_requests": jira_requests,
        "jira_goal": links / 100 + 10,
        "wall_seconds": round(wall, 2),
    }


class _World:
    """Open links of every kind, and what their sources say."""

    def __init__(self, session: Any, bench: Bench, tag: str) -> None:
        self.session = session
        self.bench = bench
        self.tag = tag
        self.store_client = session.client("dynamodb")
        self.cloudwatch = session.client("cloudwatch")
        self.securityhub: dict[str, dict[str, Any]] = {}  # finding id -> finding
        self.guardduty: dict[str, bool] = {}  # finding id -> archived
        self.health: dict[str, str] = {}  # event ARN -> status
        self.contributors: dict[str, list[str]] = {}  # alarm name -> ids of its contributors in ALARM
        self.findings_v2: dict[str, dict[str, Any]] = {}  # finding uid -> OCSF finding

    def link(self, source: str, n: int, nth: int, *, cleared: bool) -> None:
        """The ``n``-th link of the run, the ``nth`` of its source."""
        name = f"{self.tag}-{source}-{n:04d}"
        if source == "cloudwatch-alarm":
            put_alarm(self.cloudwatch, name, "OK" if cleared else "ALARM")
            key = f"cloudwatch-alarm:arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
        elif source == "cloudwatch-contributor":
            alarm = f"{self.tag}-by-table-{nth // CONTRIBUTORS_PER_ALARM:02d}"
            contributor = f"{n:016x}"
            if not cleared:
                self.contributors.setdefault(alarm, []).append(contributor)
            self.contributors.setdefault(alarm, [])
            key = f"cloudwatch-contributor:arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm}:{contributor}"
        elif source == "securityhub-v2":
            self.findings_v2[name] = _finding_v2(name, closed=cleared)
            key = f"securityhub-v2:{ACCOUNT}:{PRODUCT_V2}:{name}"
        elif source == "securityhub":
            self.securityhub[name] = _finding(name, "RESOLVED" if cleared else "NEW")
            key = f"securityhub:{PRODUCT}:{name}"
        elif source == "guardduty":
            self.guardduty[name] = cleared
            key = f"guardduty:{name}"
        elif source == "health":
            arn = f"arn:aws:health:{REGION}::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/{name}"
            self.health[arn] = "closed" if cleared else "open"
            key = f"health:{arn}:{ACCOUNT}"
        else:
            key = f"{source}:{name}"
        issue = open_link(
            self.store_client, STATE_TABLE, self.bench.jira, key, f"{PROVIDER['group']}/{PROVIDER['name']}"
        )
        # Opened days ago, as the links of a stack in service: the run's read-back step finds nothing changed.
        self.bench.jira.by_key(issue).updated = self.bench.jira.now() - timedelta(days=2)

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """GuardDuty's GetFindings and Health's DescribeEvents answered from this world (moto has neither)."""
        from botocore.awsrequest import AWSResponse
        from botocore.client import BaseClient

        asked: dict[str, Any] = {}  # the API parameters of the call in progress (before-call sees the HTTP request)

        def guardduty_findings(**_: Any) -> Any:
            ids = asked["FindingIds"]
            findings = [
                {"Id": i, "UpdatedAt": "2026-11-01T10:00:00.000Z", "Service": {"Archived": self.guardduty[i]}}
                for i in ids
                if i in self.guardduty
            ]
            return AWSResponse(None, 200, {}, None), {"Findings": findings}

        def detectors(**_: Any) -> Any:
            return AWSResponse(None, 200, {}, None), {"DetectorIds": [DETECTOR]}

        def health_events(**_: Any) -> Any:
            """By ARN, or this account's events of the statuses asked (one page of 100 at most, as the API pages)."""
            wanted = asked["filter"]
            if "eventArns" in wanted:
                arns = [arn for arn in wanted["eventArns"] if arn in self.health]
            else:
                arns = [arn for arn, status in self.health.items() if status in wanted["eventStatusCodes"]]
            events = [
                {"arn": arn, "statusCode": self.health[arn], "lastUpdatedTime": datetime(2026, 11, 1, 10, tzinfo=UTC)}
                for arn in arns
            ]
            start = int(asked.get("nextToken", "p0000").lstrip("p"))
            page: dict[str, Any] = {"events": events[start : start + 100]}
            if start + 100 < len(events):
                page["nextToken"] = f"p{start + 100:04d}"
            return AWSResponse(None, 200, {}, None), page

        def securityhub_findings(**_: Any) -> Any:
            ids = [f["Value"] for f in asked["Filters"]["Id"]]
            findings = [self.securityhub[i] for i in ids if i in self.securityhub]
            return AWSResponse(None, 200, {}, None), {"Findings": findings}

        def contributors(**_: Any) -> Any:
            listed = [
                {"ContributorId": c, "ContributorAttributes": {"TableName": c}, "StateReason": "breaching"}
                for c in self.contributors.get(asked["AlarmName"], [])
            ]
            return AWSResponse(None, 200, {}, None), {"AlarmContributors": listed}

        def findings_v2(**_: Any) -> Any:
            """One page of 100 at most, as the API pages; the token is the next finding's index."""
            uids = [
                f["Filter"]["Value"] for c in asked["Filters"]["CompositeFilters"] for f in c.get("StringFilters", [])
            ]
            found = [self.findings_v2[uid] for uid in uids if uid in self.findings_v2]
            start = int(asked.get("NextToken", "0000").lstrip("p") or 0)
            page: dict[str, Any] = {"Findings": found[start : start + 100]}
            if start + 100 < len(found):
                page["NextToken"] = f"p{start + 100:04d}"
            return AWSResponse(None, 200, {}, None), page

        def remember(params: dict[str, Any], **_: Any) -> None:
            asked.clear()
            asked.update(params)

        hooks = {
            "before-parameter-build": remember,
            "before-call.guardduty.GetFindings": guardduty_findings,
            "before-call.guardduty.ListDetectors": detectors,
            "before-call.health.DescribeEvents": health_events,
            "before-call.securityhub.GetFindings": securityhub_findings,
            "before-call.cloudwatch.DescribeAlarmContributors": contributors,
            "before-call.securityhub.GetFindingsV2": findings_v2,
        }
        original_init = BaseClient.__init__

        def hooked_init(client: Any, *args: Any, **kwargs: Any) -> None:
            original_init(client, *args, **kwargs)
            for event, hook in hooks.items():
                client.meta.events.register(event, hook)

        BaseClient.__init__ = hooked_init  # type: ignore[method-assign]
        try:
            yield
        finally:
            BaseClient.__init__ = original_init  # type: ignore[method-assign]


def _finding(finding_id: str, workflow: str) -> dict[str, Any]:
    return {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id,
        "ProductArn": PRODUCT,
        "GeneratorId": "bench",
        "AwsAccountId": ACCOUNT,
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2026-11-01T08:00:00.000Z",
        "UpdatedAt": "2026-11-01T10:00:00.000Z",
        "Severity": {"Label": "HIGH"},
        "Title": finding_id,
        "Description": "bench",
        "Resources": [{"Type": "Other", "Id": finding_id}],
        "Workflow": {"Status": workflow},
        "RecordState": "ACTIVE",
    }


def _finding_v2(uid: str, *, closed: bool) -> dict[str, Any]:
    return {
        "activity_id": 3 if closed else 1,
        "activity_name": "Close" if closed else "Create",
        "class_uid": 2004,
        "severity_id": 4,
        "status_id": 1,
        "status": "New",
        "cloud": {"account": {"uid": ACCOUNT}, "region": REGION},
        "finding_info": {"uid": uid, "title": uid, "modified_time": 1793527200000},
        "metadata": {"product": {"name": "GuardDuty", "uid": PRODUCT_V2}},
    }


def _clear_state(session: Any) -> None:
    dynamodb = session.client("dynamodb")
    for page in dynamodb.get_paginator("scan").paginate(TableName=STATE_TABLE, ProjectionExpression="pk"):
        for item in page.get("Items", []):
            dynamodb.delete_item(TableName=STATE_TABLE, Key={"pk": item["pk"]})


def summary_rows(r: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for label, key in (
        (f"{r['links']} links over {len(ALL_SOURCES)} sources, nothing changed", "all_sources_unchanged"),
        (
            f"{r['links']} links over the {len(ASKABLE_SOURCES)} askable sources, nothing changed",
            "askable_sources_unchanged",
        ),
        (
            f"{r['links']} links over {len(ALL_SOURCES)} sources, {r['changed_share']:.0%} cleared",
            "all_sources_changed",
        ),
    ):
        s = r[key]
        counts = Counter({k: v for k, v in s["result"].items() if isinstance(v, int) and v})
        rows.append([label, s["aws_calls"], s["jira_requests"], s["wall_seconds"], dict(counts)])
    return rows
