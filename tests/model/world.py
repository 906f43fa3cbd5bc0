"""The product and the world around it, on one simulated clock, with nothing slower than a function call.

``World`` is the one driver of the lifecycle model and of the seeded fault run: every call into the product goes
through one of its methods (``deliver``, ``deliver_batch``, ``scheduled_run``, ``webhook``), so when the product's
API changes, only this file does. What it drives is the real code from the entry points down:

- the functions' entry (``entry.handlers``: ``handle_event``, ``handle_sqs_event``) over the event path
  (``app.notify``: ``Notify``, ``AlertFlow``, on ``app.deps.Deps``), the scheduled run's three steps (``app.run``:
  read-back, ``app.reconcile``, sync-back retry), the webhook receiver (``entry.webhook``);
- the real Jira client and transport (retries, pacing, the deadline), whose session answers in-process from the
  stand-in Jira (``jira_standin.model``: its workflow, checks, faults and search lag; people act on it);
- the real sync-back (``AwsSyncBack``) and the sources' real readers (``AlarmTruth``, ``SecurityHubTruth``) over
  small fakes of CloudWatch and Security Hub that hold the source's truth; the state table in memory
  (``tests.support.fakes.MemoryStateStore`` and the stores below, with the table's contracts).

The world also keeps the source's history (each alert's episodes, which of their notifications the product took
in) and a log of every write Jira carried out, tagged with the deliveries being processed when it was made: the
invariants (``invariants.py``) read them.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import requests
from jira_standin.model import WORKFLOW, Answer, Issue, JiraStandIn, Route, answer_request
from requests.adapters import BaseAdapter

from jira_notifier.adapters.aws.syncback import AwsSyncBack, Capability, DueSyncBack, SyncRequest
from jira_notifier.adapters.dynamodb.owned import DELIVERY_TTL_SECONDS, Cursor
from jira_notifier.adapters.jira.client import JiraClient
from jira_notifier.adapters.jira.transport import JiraTransport
from jira_notifier.app.deps import Deps
from jira_notifier.app.lease import Leases
from jira_notifier.app.notify import AlertFlow, Notify
from jira_notifier.app.readback import read_issue
from jira_notifier.app.reconcile import Reconcile
from jira_notifier.app.run import ReadBack, RunSummary, Step, SyncBackRetry, run_steps
from jira_notifier.core.alert import DEDUPE_LABEL_PREFIX, Alert, AlertState
from jira_notifier.core.config import JiraSecret, ProviderConfig
from jira_notifier.core.errors import JiraNotifierError
from jira_notifier.core.findingnotes import Decision
from jira_notifier.core.state import IssueState, IssueStatus, PersonDecision, state_pk
from jira_notifier.core.storm import member_name
from jira_notifier.entry.handlers import handle_event, handle_sqs_event
from jira_notifier.entry.webhook import WebhookReceiver, sign
from jira_notifier.sources import read_alarm_action, read_eventbridge, read_sns
from jira_notifier.sources.truth import AlarmTruth, SecurityHubTruth, source_ref
from tests.support.builders import alarm_message, function_url_event, sns_event
from tests.support.fakes import Clock, MemoryStateStore

START = 1_800_000_000.0  # 2027-01-15T08:00:00Z
SITE = "https://example.atlassian.net"
EMAIL = "svc-jira@example.com"
ACCOUNT, REGION, REGION_NAME = "123456789012", "eu-west-1", "EU (Ireland)"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:jira-notifier-alerts"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:jira-notifier-buffer"
PRODUCT = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
ALARMS = ("api-5xx", "api-latency", "db-cpu")  # two storm groups with --group-by prefix:-
FINDING = "s3-public"
WONT_FIX = "Won't Do"
ESCALATION = ((4 * 3600.0, "High"), (86400.0, "Highest"))  # an issue whose alarm fires this long is raised
CHANNELS = ("sns", "eventbridge", "alarm-action", "sqs")  # how an alarm's state change reaches the functions
FUNCTION_SECONDS = {"alert": 60.0, "sqs": 240.0, "scheduled": 300.0, "webhook": 30.0}  # the template's timeouts
JIRA_LATENCY = 0.05  # seconds each Jira answer takes
SCHEDULED = -1  # the context tag of writes made by the scheduled run
WEBHOOK = -2  # ... and by the webhook receiver


def model_provider(*, grouped: bool) -> ProviderConfig:
    """The provider every alert of the world goes to: every lifecycle option on, sync-back and escalation too."""
    return ProviderConfig(
        group="ops",
        name="jira",
        project="OPS",
        issue_type="Task",
        secret="jira-notifier/ops",
        resolve_transition="Done",
        reopen_transition="Reopen",
        reopen_window=7 * 86400,
        wont_fix_resolution=WONT_FIX,
        labels=("aws-alerts",),
        priority_map={"critical": "Highest", "high": "Medium", "medium": "Low"},
        sync_back=True,
        escalate_after=ESCALATION,
        group_by=("prefix:-",) if grouped else (),
        group_window=600,
    ).validate()


# ---- the source's history -----------------------------------------------------------------------------------


@dataclass
class Episode:
    """One firing of an alert, from its firing state change to its clear."""

    number: int
    started_at: float
    ended_at: float | None = None
    firing_taken: float | None = None  # when the product first took in a firing of it, while it was the newest
    clear_taken: float | None = None  # when the product first took in its clear
    firing_deliveries: set[int] = field(default_factory=set)  # deliveries that carried its firing
    clear_deliveries: set[int] = field(default_factory=set)  # deliveries that carried its clear


@dataclass
class Source:
    """One alert as its source has it: an alarm in CloudWatch, or a finding in Security Hub."""

    name: str
    kind: str  # "alarm" | "finding"
    firing: bool = False
    changed_at: float = START
    episodes: list[Episode] = field(default_factory=list)
    newest_taken: int = -1  # the newest episode any event the product took in belonged to
    # Security Hub's view of a finding
    compliance: str = "PASSED"
    workflow: str = "NEW"
    suppressed_by_person: bool = False  # the workflow SUPPRESSED is a person's (not the product's won't-fix)

    @property
    def arn(self) -> str:
        return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{self.name}"

    @property
    def finding_id(self) -> str:
        return f"arn:aws:securityhub:{REGION}:{ACCOUNT}:security-control/S3.8/finding/{self.name}"

    @property
    def dedupe_key(self) -> str:
        if self.kind == "finding":
            return f"securityhub:{PRODUCT}:{self.finding_id}"
        return f"cloudwatch-alarm:{self.arn}"

    @property
    def label(self) -> str:
        return Alert("", self.dedupe_key, "", AlertState.FIRING, "").dedupe_label

    @property
    def current(self) -> Episode | None:
        return self.episodes[-1] if self.episodes else None


@dataclass(frozen=True)
class Delivery:
    """One notification of one state change, on one channel, as its function receives it."""

    number: int
    alert: str
    channel: str
    firing: bool
    episode: int
    at: float  # the state change's time
    event: Any


@dataclass(frozen=True)
class Write:
    """A write Jira carried out (whatever its answer): when, what, on which issues, and for what."""

    at: float
    kind: str  # create | comment | transition | edit
    issues: tuple[str, ...]  # ids
    context: frozenset[int]  # the deliveries being processed (or SCHEDULED, WEBHOOK, or nothing)
    detail: str = ""  # a transition's name, an edit's fields


@dataclass(frozen=True)
class PersonAction:
    at: float
    action: str  # resolve | wont-fix | reopen | delete | priority
    issue_id: str
    detail: str = ""
    # The episodes a decision is made in: (alert, episode) of each alert the issue follows that fires, in an
    # episode whose firing the product already heard (else what the person saw may be an older episode's).
    covers: tuple[tuple[str, int], ...] = ()
    # The episodes the alerts the issue follows were firing in then, heard or not: what the person saw may be
    # either, so neither expectation holds for them (a trace, or the issue's status) while they go on.
    during: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class SentToAws:
    at: float
    status: str  # the workflow sent
    issue_done: bool | None  # the finding's issue's status in Jira then (None: it has none)
    suppressed_by_person: bool
    step: str  # what the product was doing: a delivery, "scheduled", "webhook"


# ---- the ports the product's adapters would reach ------------------------------------------------------------


class StandIn(JiraStandIn):
    """The stand-in Jira, logging each write it carries out (a fault's ``after`` included) for the invariants."""

    def __init__(self, world: World, **options: Any) -> None:
        super().__init__(**options)
        self.world = world
        self.deleted: dict[str, Issue] = {}

    def _call(
        self, route: Route, params: dict[str, str], query: dict[str, list[str]], raw_body: bytes, headers: Any
    ) -> Answer:
        before = self._find(params["key"]) if "key" in params else None
        answer = super()._call(route, params, query, raw_body, headers)
        if route.method in ("POST", "PUT") and answer.status < 300 and route.template != "/search/jql":
            self.world.wrote(route.template, before, answer, raw_body)
        return answer


class InProcess(BaseAdapter):
    """The HTTP session's adapter: each request answered by the stand-in, after its latency on the clock; an answer
    lost is a timeout that takes the client's whole timeout."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        clock = self.world.clock
        clock.sleep(JIRA_LATENCY)
        try:
            answer = answer_request(self.world.jira, request)
        except requests.ReadTimeout:
            timeout = kwargs.get("timeout")
            clock.sleep(float(timeout if isinstance(timeout, int | float) else 10.0))
            raise
        response = requests.Response()
        response.status_code = answer.status
        response.headers.update({"Content-Type": "application/json", **answer.headers})
        response._content = answer.text.encode()
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        return None


class MemoryOwned:
    """The read-back's and the webhook's reads of the state table (``OwnedIssueStore``), over the memory store."""

    def __init__(self, store: MemoryStateStore, clock: Clock) -> None:
        self.store, self.clock = store, clock.time
        self.cursors: dict[str, Cursor] = {}
        self.claims: dict[str, float] = {}  # delivery identifier -> until

    def states(self, pks: Any) -> dict[str, IssueState]:
        return {pk: self.store.items[pk].state for pk in set(pks) if pk in self.store.items}

    def open_states(self, provider_id: str) -> list[IssueState]:
        return [
            s
            for s in self.store.stored()
            if s.provider == provider_id and s.issue_status is IssueStatus.OPEN and s.issue_id
        ]

    def cursor(self, provider_id: str) -> Cursor | None:
        return self.cursors.get(provider_id)

    def save_cursor(self, provider_id: str, cursor: Cursor) -> None:
        self.cursors[provider_id] = Cursor(round(cursor.read_at, 3), cursor.swept_at)

    def claim_delivery(self, identifier: str) -> bool:
        now = self.clock()
        if self.claims.get(identifier, 0.0) >= now:
            return False
        self.claims[identifier] = now + DELIVERY_TTL_SECONDS
        return True

    def forget_delivery(self, identifier: str) -> None:
        self.claims.pop(identifier, None)


class MemoryLedger:
    """Sync-back's facts on the state item (``StateItemLedger``): what is due, as its raw JSON, read back with what
    the item says of its issue now."""

    def __init__(self, store: MemoryStateStore, clock: Clock) -> None:
        self.store, self.clock = store, clock.time
        self.due_items: dict[str, str] = {}

    def keep_detector(self, pk: str, detector: Any) -> None:
        return None

    def detector(self, pk: str) -> None:
        return None

    def remember(
        self,
        pk: str,
        provider: str,
        request: SyncRequest,
        reason: str,
        attempts: int = 1,
        *,
        decision: Decision | None = None,
        issue_key: str | None = None,
    ) -> None:
        due: dict[str, Any] = {"provider": provider, "request": request.to_json(), "attempts": attempts}
        due["reason"], due["at"] = reason, round(self.clock(), 3)
        if decision is not None:
            due["decision"], due["issueKey"] = decision.value, issue_key
        self.due_items[pk] = json.dumps(due, sort_keys=True)

    def settled(self, pk: str, raw: str | None = None) -> None:
        if raw is None or self.due_items.get(pk) == raw:
            self.due_items.pop(pk, None)

    def due(self) -> Iterator[DueSyncBack]:
        for pk, raw in list(self.due_items.items()):
            data = json.loads(raw)
            item = self.store.items.get(pk)
            state = item.state if item is not None else None
            yield DueSyncBack(
                pk,
                data["provider"],
                SyncRequest.from_json(data["request"]),
                data["attempts"],
                raw,
                decision=Decision(data["decision"]) if data.get("decision") else None,
                for_issue=data.get("issueKey"),
                issue_key=state.issue_key if state else None,
                resolved=state is not None and state.issue_status is IssueStatus.RESOLVED,
                wont_fix=state is not None and state.person_decision is PersonDecision.WONT_FIX,
            )


def throttled(operation: str) -> Exception:
    """botocore's ``ClientError`` as a throttled call raises it (``syncback._classified`` reads its response)."""
    from botocore.exceptions import ClientError

    response: Any = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
    response["ResponseMetadata"] = {"HTTPStatusCode": 429}
    return ClientError(response, operation)


@cache
def _operation(service: str, operation: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service).operation_model(operation)


def checked(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Raise botocore's ``ParamValidationError`` for parameters the service model would refuse."""
    from botocore.validate import validate_parameters

    validate_parameters(dict(params), _operation(service, operation).input_shape)


class CloudWatch:
    """``DescribeAlarms`` as CloudWatch answers it, from the world's alarms."""

    def __init__(self, world: World) -> None:
        self.world = world

    def get_paginator(self, name: str) -> CloudWatch:
        assert name == "describe_alarms"
        return self

    def paginate(self, **params: Any) -> Iterator[dict[str, Any]]:
        checked("cloudwatch", "DescribeAlarms", {k: v for k, v in params.items() if k != "PaginationConfig"})
        found = [self.world.sources[name] for name in params["AlarmNames"] if name in self.world.sources]
        yield {
            "MetricAlarms": [
                {
                    "AlarmName": alarm.name,
                    "AlarmArn": alarm.arn,
                    "StateValue": "ALARM" if alarm.firing else "OK",
                    "StateReason": "Threshold Crossed" if alarm.firing else "Threshold no longer crossed",
                    "StateUpdatedTimestamp": datetime.fromtimestamp(alarm.changed_at, UTC),
                }
                for alarm in found
            ],
            "CompositeAlarms": [],
        }


class SecurityHub:
    """Security Hub's ``GetFindings`` and ``BatchUpdateFindings`` over the world's finding; the second checks, as it
    is sent, that it contradicts nothing the product knows (the finding's issue, a person's suppression)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.throttled = False

    def get_paginator(self, name: str) -> SecurityHub:
        assert name == "get_findings"
        return self

    def paginate(self, **params: Any) -> Iterator[dict[str, Any]]:
        checked("securityhub", "GetFindings", {k: v for k, v in params.items() if k != "PaginationConfig"})
        wanted = {entry["Value"] for entry in params["Filters"]["Id"]}
        found = [s for s in self.world.sources.values() if s.kind == "finding" and s.finding_id in wanted]
        yield {"Findings": [finding_json(s) for s in found]}

    def batch_update_findings(self, **params: Any) -> dict[str, Any]:
        checked("securityhub", "BatchUpdateFindings", params)
        if self.throttled:
            raise throttled("BatchUpdateFindings")
        [identifier] = params["FindingIdentifiers"]
        source = next(s for s in self.world.sources.values() if s.finding_id == identifier["Id"])
        status = params["Workflow"]["Status"]
        issue = self.world.followed_issue(source)
        self.world.sent.append(
            SentToAws(
                self.world.clock.now,
                status,
                None if issue is None else issue.status == "Done",
                source.suppressed_by_person,
                self.world.step,
            )
        )
        source.workflow, source.suppressed_by_person = status, False  # Security Hub shows the product's word now
        if status in ("RESOLVED", "SUPPRESSED"):  # Security Hub shows it over, whatever its control says
            source.firing = False
            self.world.ended(source)
        elif source.compliance == "FAILED" and not source.firing and source.current is not None:
            source.firing, source.current.ended_at = True, None  # active again in Security Hub, as the product said
        return {"ProcessedFindings": [identifier], "UnprocessedFindings": []}


def finding_json(source: Source) -> dict[str, Any]:
    """The finding as Security Hub holds it (ASFF)."""
    return {
        "SchemaVersion": "2018-10-08",
        "Id": source.finding_id,
        "ProductArn": PRODUCT,
        "GeneratorId": "security-control/S3.8",
        "AwsAccountId": ACCOUNT,
        "Region": REGION,
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": iso(START),
        "UpdatedAt": iso(source.changed_at),
        "Severity": {"Label": "HIGH"},
        "Title": f"S3 bucket {source.name} allows public access",
        "Description": "A bucket allows public access.",
        "Resources": [{"Type": "AwsS3Bucket", "Id": f"arn:aws:s3:::{source.name}"}],
        "Compliance": {"Status": source.compliance},
        "Workflow": {"Status": source.workflow},
        "RecordState": "ACTIVE",
    }


class Recorder:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def count(self, name: str, value: float = 1) -> None:
        self.counts[name] += int(value)


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.lines.append(("warning", msg, kwargs))

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.lines.append(("error", msg, kwargs))


# ---- the world ---------------------------------------------------------------------------------------------------


class World:
    """The product on in-memory ports (module docstring), the sources, the people and the faults around it."""

    def __init__(self, *, grouped: bool = False, alarms: Sequence[str] = ALARMS, finding: bool = True) -> None:
        self.clock = Clock(START)
        self.grouped = grouped
        self.provider = model_provider(grouped=grouped)
        self.token = "model-" + secrets.token_hex(12)  # made up at run time, never a real credential
        self.shared = secrets.token_bytes(24)  # the webhook's shared secret
        self.secret = JiraSecret(self.provider.secret, EMAIL, self.token, SITE)
        self.jira = StandIn(self, base_url=SITE, project="OPS", email=EMAIL, api_token=self.token)
        self.jira.now = lambda: datetime.fromtimestamp(self.clock.now, UTC)
        self.jira.sleep = self.clock.sleep
        session = requests.Session()
        session.mount(SITE, InProcess(self))
        self.transport = JiraTransport(self.secret, session=session, sleep=self.clock.sleep, clock=self.clock.time)
        self.store = MemoryStateStore(self.clock)
        self.owned = MemoryOwned(self.store, self.clock)
        self.ledger = MemoryLedger(self.store, self.clock)
        self.recorder, self.log = Recorder(), Log()
        self.cloudwatch, self.security_hub = CloudWatch(self), SecurityHub(self)
        self.sync_back = AwsSyncBack(
            lambda service, region: self.security_hub,
            self.ledger,
            self.recorder,
            self.log,
            frozenset({Capability.SECURITY_HUB}),
            site_of=lambda secret: SITE,
            clock=self.clock.time,
        )
        self.parked: list[tuple[str, Any]] = []
        self.deps = Deps(
            leases=Leases(self.store, self.clock.time),
            secrets=_Secrets(self.secret),
            connect=lambda secret, remaining: self.client(remaining),
            recorder=self.recorder,
            clock=self.clock.time,
            sleep=self.clock.sleep,
            sync_back=self.sync_back,
        )
        self.providers = _Providers(self.provider)
        self.notifier = Notify(AlertFlow(self.deps), self.providers, _Parker(self.parked), "ops")
        self.receiver = WebhookReceiver(
            shared_secret=lambda: self.shared,
            providers=lambda: [self.provider],
            secret=lambda name: self.secret,
            owned=self.owned,
            leases=self.deps.leases,
            read_issue=lambda provider, issue_id, remaining: read_issue(
                JiraClient(self.transport, remaining), issue_id
            ),
            recorder=self.recorder,
            sync_back=self.sync_back,
            clock=self.clock.time,
        )
        self.sources: dict[str, Source] = {name: Source(name, "alarm") for name in alarms}
        if finding:
            self.sources[FINDING] = Source(FINDING, "finding")
        self._numbers = itertools.count(1)
        # How each alert is listed in a storm's member table (``storm.member_name``): an alarm by its name, a
        # finding by its title as the product reads it from its event.
        self.shown_as = {name: name for name in alarms}
        if finding:
            [alert] = read_eventbridge(self._finding_delivery(self.sources[FINDING], 0).event)
            self.shown_as[FINDING] = member_name(alert)
        self.deadline = START
        self.context: frozenset[int] = frozenset()  # the deliveries being processed (or SCHEDULED / WEBHOOK)
        self.step = ""
        self.writes: list[Write] = []
        self.people: list[PersonAction] = []
        self.sent: list[SentToAws] = []
        self.outbox: list[tuple[str, dict[str, Any]]] = []  # webhook payloads Jira would send: (identifier, body)
        self.webhooks_sent: list[tuple[str, dict[str, Any]]] = []
        self.created_outside_alerts: list[Write] = []  # creates during a scheduled run or a webhook: never allowed
        self.invocations: Counter[str] = Counter()
        self.runs: list[float] = []  # when each scheduled run started

    def client(self, remaining: Callable[[], float] | None) -> JiraClient:
        """One invocation's Jira client, on the warm container's transport."""
        return JiraClient(self.transport, remaining)

    # ---- time ------------------------------------------------------------------------------------------------

    def wait(self, seconds: float) -> None:
        self.clock.now += seconds

    def remaining(self) -> float:
        return self.deadline - self.clock.now

    @contextlib.contextmanager
    def invocation(self, function: str, context: frozenset[int], step: str) -> Iterator[None]:
        self.invocations[function] += 1
        self.deadline = self.clock.now + FUNCTION_SECONDS[function]
        self.context, self.step = context, step
        try:
            yield
        finally:
            self.context, self.step = frozenset(), ""

    # ---- the source ------------------------------------------------------------------------------------------

    def transition(self, name: str, channels: Sequence[str]) -> list[Delivery]:
        """The alert changes state now (an alarm flips; a finding fails again, or passes): its notifications, one
        per channel (none: an alarm without that action; a finding's only channel is its EventBridge rule, which
        passes NEW findings only)."""
        source = self.sources[name]
        self.wait(1.0)  # state changes of one alert are at least a second apart: distinct transition times
        previous = source.changed_at
        source.changed_at = self.clock.now
        if source.kind == "finding":
            return self._finding_changes(source, channels)
        source.firing = not source.firing
        if source.firing:
            source.episodes.append(Episode(len(source.episodes), self.clock.now))
        else:
            self.ended(source)
        episode = len(source.episodes) - 1
        deliveries = [self._alarm_delivery(source, channel, episode, previous) for channel in channels]
        carried = (
            source.episodes[episode].firing_deliveries if source.firing else source.episodes[episode].clear_deliveries
        )
        carried |= {d.number for d in deliveries}
        return deliveries

    def repeat(self, name: str, channel: str) -> Delivery | None:
        """The alarm's current state notified again (an alarm action repeating, a re-published message): the same
        state change under a new message id."""
        source = self.sources[name]
        if source.kind != "alarm" or not source.episodes or channel == "alarm-action":
            return None
        episode = len(source.episodes) - 1
        before = (
            source.episodes[episode - 1].ended_at if source.firing and episode else source.episodes[episode].started_at
        )
        delivery = self._alarm_delivery(source, channel, episode, before or START)
        carried = (
            source.episodes[episode].firing_deliveries if source.firing else source.episodes[episode].clear_deliveries
        )
        carried.add(delivery.number)
        return delivery

    def ended(self, source: Source) -> None:
        episode = source.current
        if episode is not None and episode.ended_at is None:
            episode.ended_at = self.clock.now

    def _finding_changes(self, source: Source, channels: Sequence[str]) -> list[Delivery]:
        if source.compliance == "FAILED":  # passes: no event reaches the functions (the rule passes NEW findings)
            source.compliance, source.firing = "PASSED", False
            self.ended(source)
            return []
        source.compliance = "FAILED"
        if source.workflow == "SUPPRESSED":  # Security Hub keeps a suppression when the control fails again
            return []
        source.workflow = "NEW"
        source.firing = True
        source.episodes.append(Episode(len(source.episodes), self.clock.now))
        episode = len(source.episodes) - 1
        deliveries = [self._finding_delivery(source, episode) for channel in channels if channel == "eventbridge"]
        source.episodes[episode].firing_deliveries |= {d.number for d in deliveries}
        return deliveries

    def _alarm_delivery(self, source: Source, channel: str, episode: int, previous_at: float) -> Delivery:
        number = next(self._numbers)
        state, old = ("ALARM", "OK") if source.firing else ("OK", "ALARM")
        at = source.changed_at
        view = {
            "alarmName": source.name,
            "state": {"value": state, "reason": f"Threshold crossed ({state})", "timestamp": cw_time(at)},
            "previousState": {"value": old, "reason": "", "timestamp": cw_time(previous_at)},
            "configuration": {"description": f"{source.name} of the public API", "metrics": [METRIC]},
        }
        event: Any
        if channel == "eventbridge":
            event = {
                "version": "0",
                "id": f"eb-{number}",
                "detail-type": "CloudWatch Alarm State Change",
                "source": "aws.cloudwatch",
                "account": ACCOUNT,
                "time": iso(at),
                "region": REGION,
                "resources": [source.arn],
                "detail": view,
            }
        elif channel == "alarm-action":
            event = {
                "source": "aws.cloudwatch",
                "alarmArn": source.arn,
                "accountId": ACCOUNT,
                "time": cw_time(at),
                "region": REGION,
                "alarmData": view,
            }
        else:
            message = sns_alarm_message(source, state, old, at)
            event = sns_event(message, message_id=f"sns-{number}", topic_arn=TOPIC, published=stamp(self.clock.now))
            if channel == "sqs":
                event = sqs_record(event["Records"][0]["Sns"], number)
        return Delivery(number, source.name, channel, source.firing, episode, at, event)

    def _finding_delivery(self, source: Source, episode: int) -> Delivery:
        number = next(self._numbers)
        event = {
            "version": "0",
            "id": f"sh-{number}",
            "detail-type": "Security Hub Findings - Imported",
            "source": "aws.securityhub",
            "account": ACCOUNT,
            "time": iso(source.changed_at),
            "region": REGION,
            "resources": [source.finding_id],
            "detail": {"findings": [finding_json(source)]},
        }
        return Delivery(number, source.name, "eventbridge", True, episode, source.changed_at, event)

    def suppress_in_security_hub(self, name: str) -> None:
        """A person sets the finding's workflow to SUPPRESSED in Security Hub (no event reaches the functions)."""
        source = self.sources[name]
        source.workflow, source.suppressed_by_person, source.changed_at = "SUPPRESSED", True, self.clock.now
        source.firing = False
        self.ended(source)

    # ---- the product's entry points -----------------------------------------------------------------------------

    def deliver(self, delivery: Delivery) -> str:
        """The delivery through its function: "done", "retry" (the function failed; Lambda or SQS will deliver it
        again) or "parked" (in the dead-letter queue, for an operator to replay)."""
        if delivery.channel == "sqs":
            return self.deliver_batch([delivery])[0]
        parked = len(self.parked)
        read = {"sns": read_sns, "eventbridge": read_eventbridge, "alarm-action": read_alarm_action}[delivery.channel]
        with self.invocation("alert", frozenset({delivery.number}), f"delivery {delivery.number}"):
            try:
                handle_event(delivery.event, read, self.notifier, self.remaining)
            except JiraNotifierError:
                return "retry"
        if len(self.parked) > parked:
            return "parked"
        self._taken(delivery)
        return "done"

    def deliver_batch(self, deliveries: Sequence[Delivery]) -> list[str]:
        """SQS records through the buffered function in one batch: per record "done", "retry" or "parked"."""
        records = [d.event for d in deliveries]
        parked = len(self.parked)
        with self.invocation("sqs", frozenset(d.number for d in deliveries), "sqs batch"):
            answer = handle_sqs_event({"Records": records}, self.notifier, self.remaining)
        failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
        parked_events = [event for _, event in self.parked[parked:]]
        results = []
        for delivery in deliveries:
            if delivery.event["messageId"] in failed:
                results.append("retry")
            elif any(event is delivery.event for event in parked_events):
                results.append("parked")
            else:
                self._taken(delivery)
                results.append("done")
        return results

    def scheduled_run(self) -> RunSummary:
        """One run of the scheduled function: read-back, reconcile, sync-back retry."""
        steps: list[Step] = [
            ReadBack(lambda: [self.provider], self.deps, self.owned, self.recorder),
            Reconcile(
                self.store,
                self.notifier.flow,
                self.providers,
                [
                    AlarmTruth(lambda: self.cloudwatch, ACCOUNT, REGION),  # type: ignore[arg-type, return-value]
                    SecurityHubTruth(lambda: self.security_hub),  # type: ignore[arg-type, return-value]
                ],
                self.recorder,
                source_ref,
            ),
            SyncBackRetry(self.sync_back, self.providers),
        ]
        self.runs.append(self.clock.now)
        with self.invocation("scheduled", frozenset({SCHEDULED}), "scheduled"):
            return run_steps(steps, self.remaining, self.recorder)

    def webhook(self, identifier: str, payload: Mapping[str, Any]) -> int:
        """One signed webhook delivery through the receiver; its HTTP status."""
        body = json.dumps(payload).encode()
        headers = {
            "content-type": "application/json",
            "x-hub-signature": sign(self.shared, body),
            "x-atlassian-webhook-identifier": identifier,
        }
        self.webhooks_sent.append((identifier, dict(payload)))
        with self.invocation("webhook", frozenset({WEBHOOK}), "webhook"):
            answer = self.receiver.handle(function_url_event(body, headers, as_base64=False, method="POST"))
        return answer.status

    def _taken(self, delivery: Delivery) -> None:
        """The product took the delivery in: the source's history says which episode's news it was."""
        source = self.sources[delivery.alert]
        episode = source.episodes[delivery.episode]
        if delivery.firing:
            if episode.firing_taken is None and source.newest_taken <= delivery.episode:
                episode.firing_taken = self.clock.now
        elif episode.clear_taken is None:
            episode.clear_taken = self.clock.now
        source.newest_taken = max(source.newest_taken, delivery.episode)

    # ---- people in Jira ----------------------------------------------------------------------------------------

    def person(self, action: str, issue: Issue, detail: str = "") -> None:
        """A person acts on ``issue`` in Jira: resolve, wont-fix, reopen, delete, or priority (``detail``); Jira
        queues the webhook it sends about it."""
        jira = self.jira
        covers, during = self.covered_by(issue), self.covered_by(issue, heard=False)
        if action in ("resolve", "wont-fix"):
            jira.resolve_by_hand(issue.key, WONT_FIX if action == "wont-fix" else "Done")
        elif action == "reopen":
            jira.reopen_by_hand(issue.key)
        elif action == "priority":
            if (issue.fields.get("priority") or {}).get("name", "Medium") == detail:
                return  # the priority it has: Jira changes (and records) nothing
            jira.set_priority_by_hand(issue.key, detail)
            issue.updated = jira.now()
        elif action == "delete":
            self.outbox.append((f"wh-{next(self._numbers)}", jira.webhook_payload(issue, "jira:issue_deleted")))
            jira.deleted[issue.id] = jira.delete_by_hand(issue.key)
        if action != "delete":
            self.outbox.append((f"wh-{next(self._numbers)}", jira.webhook_payload(issue)))
        self.people.append(PersonAction(self.clock.now, action, issue.id, detail, covers, during))

    def covered_by(self, issue: Issue, *, heard: bool = True) -> tuple[tuple[str, int], ...]:
        """The episodes a person's decision on ``issue`` is made in (``PersonAction.covers``): its own alert's, or
        for a storm's parent those of the members its table shows firing; with ``heard`` False, those whose firing
        the product has not heard yet too (``PersonAction.during``)."""
        source = self.source_of(issue)
        if source is not None:
            names = [source.name]
        else:
            names = [name for name, shown in self.members(issue).items() if shown == "Firing" and name in self.sources]
        covers = []
        for name in names:
            current = self.sources[name].current
            if self.sources[name].firing and current is not None and (current.firing_taken or not heard):
                covers.append((name, current.number))
        return tuple(covers)

    # ---- rest ------------------------------------------------------------------------------------------------

    def settle(self, in_flight: Sequence[Delivery], rounds: int = 8) -> list[Delivery]:
        """The faults over, every delivery still in flight delivered (those that fail again after Lambda's retry
        delay, or that were parked and are replayed by an operator), then one scheduled run. What could not be
        delivered in ``rounds`` rounds is returned."""
        self.calm()
        waiting = list(in_flight)
        for _ in range(rounds):
            if not waiting:
                break
            waiting = [delivery for delivery in waiting if self.deliver(delivery) != "done"]
            self.wait(70.0)
        self.wait(60.0)
        self.scheduled_run()
        return waiting

    # ---- faults ------------------------------------------------------------------------------------------------

    def jira_fault(self, kind: str, call: str, times: int = 1) -> None:
        """The next ``call`` (create, bulk, comment, transition, edit, search, get) fails as ``kind``: 429, 5xx
        (before acting), 5xx-after (acting, then answering 502), timeout, timeout-after."""
        method, path = {
            "create": ("POST", r"/rest/api/3/issue$"),
            "bulk": ("POST", r"/issue/bulk$"),
            "comment": ("POST", r"/comment$"),
            "transition": ("POST", r"/transitions$"),
            "edit": ("PUT", r"/rest/api/3/issue/[^/]+$"),
            "search": ("POST", r"/search/jql$"),
            "get": ("GET", r"/rest/api/3/issue/[^/]+$"),
        }[call]
        if kind == "429":
            self.jira.fail(method, path, 429, times=times, headers={"Retry-After": "1"})
        elif kind == "5xx":
            self.jira.fail(method, path, 503, times=times)
        elif kind == "5xx-after":
            self.jira.fail(method, path, 502, times=times, after=True)
        elif kind == "timeout":
            self.jira.fail(method, path, None, times=times)
        elif kind == "timeout-after":
            self.jira.fail(method, path, None, times=times, after=True)
        else:
            raise ValueError(kind)

    def calm(self) -> None:
        """Every fault over: Jira answers, its search has caught up, AWS takes every sync-back."""
        self.jira.faults.clear()
        self.jira.search_lag = 0.0
        self.security_hub.throttled = False

    # ---- what the world holds ----------------------------------------------------------------------------------

    def wrote(self, template: str, before: Issue | None, answer: Answer, raw_body: bytes) -> None:
        body = answer.body if isinstance(answer.body, dict) else {}
        if template == "/issue":
            kind, ids = "create", (str(body.get("id")),)
        elif template == "/issue/bulk":
            kind, ids = "create", tuple(str(i["id"]) for i in body.get("issues", []))
        else:
            kind = {"/issue/{key}/comment": "comment", "/issue/{key}/transitions": "transition"}.get(template, "edit")
            ids = (before.id,) if before is not None else ()
        detail = ""
        if kind == "transition":
            detail = WORKFLOW.get(str(json.loads(raw_body).get("transition", {}).get("id")), ("?",))[0]
        elif kind == "edit":
            detail = ",".join(sorted(json.loads(raw_body).get("fields", {})))
        write = Write(self.clock.now, kind, ids, self.context, detail)
        self.writes.append(write)
        if kind == "create" and self.context & {SCHEDULED, WEBHOOK}:
            self.created_outside_alerts.append(write)

    def issues(self) -> list[Issue]:
        """Jira's issues (the deleted ones gone)."""
        return list(self.jira.issues.values())

    def source_of(self, issue: Issue) -> Source | None:
        """The alert an issue of its own follows (None for a storm's parent, or no alert of this world)."""
        return next((s for s in self.sources.values() if s.label in issue.labels), None)

    def issues_of(self, source: Source) -> list[Issue]:
        return [issue for issue in self.issues() if source.label in issue.labels]

    def parents(self, *, deleted: bool = False) -> list[Issue]:
        """The storms' parent issues (with ``deleted``, those people deleted too)."""
        issues = [*self.issues(), *(self.jira.deleted.values() if deleted else ())]
        return [issue for issue in issues if "alert-group" in issue.labels]

    def state_of(self, source: Source) -> IssueState | None:
        item = self.store.items.get(state_pk(self.provider.provider_id, source.label[len(DEDUPE_LABEL_PREFIX) :]))
        return item.state if item else None

    def followed_issue(self, source: Source) -> Issue | None:
        """The Jira issue the alert's state follows now."""
        state = self.state_of(source)
        return self.jira.issues.get(state.issue_id) if state and state.issue_id else None

    def members(self, parent: Issue) -> dict[str, str]:
        """A storm parent's member table as Jira shows it: alert (the world's name for it) -> its state there."""
        names = {shown: name for name, shown in self.shown_as.items()}
        rows: dict[str, str] = {}
        for block in (parent.fields.get("description") or {}).get("content", []):
            if block.get("type") != "table":
                continue
            for row in block["content"][1:]:
                cells = ["".join(n.get("text", "") for n in cell["content"][0]["content"]) for cell in row["content"]]
                rows[names.get(cells[0], cells[0])] = cells[1]
        return rows


# ---- events as AWS sends them ------------------------------------------------------------------------------------

METRIC = {
    "id": "m1",
    "metricStat": {
        "metric": {"namespace": "AWS/ApiGateway", "name": "5XXError", "dimensions": {"ApiName": "public-api"}},
        "period": 60,
        "stat": "Sum",
    },
    "returnData": True,
}


def sns_alarm_message(source: Source, state: str, old: str, at: float) -> dict[str, Any]:
    """The test suite's CloudWatch alarm notification for ``source``, at the model clock's ``at``."""
    return {
        **alarm_message(state, 0, name=source.name, arn=source.arn, previous=old),
        "AlarmDescription": f"{source.name} of the public API",
        "NewStateReason": f"Threshold crossed ({state})",
        "StateChangeTime": cw_time(at),
    }


def sqs_record(sns: Mapping[str, Any], number: int) -> dict[str, Any]:
    """An SNS notification buffered through SQS (raw delivery off: the SNS JSON is the body)."""
    body = {
        "Type": "Notification",
        "MessageId": sns["MessageId"],
        "TopicArn": sns["TopicArn"],
        "Message": sns["Message"],
        "Timestamp": sns["Timestamp"],
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/x.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
    }
    return {
        "messageId": f"sqs-{number}",
        "receiptHandle": f"handle-{number}",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1800000000000"},
        "messageAttributes": {},
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE,
        "awsRegion": REGION,
    }


def stamp(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def cw_time(at: float) -> str:
    """CloudWatch's timestamp format: 2027-01-15T08:00:00.123+0000."""
    moment = stamp(at)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def iso(at: float) -> str:
    moment = stamp(at)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The functions' structured logs off while thousands of invocations run (they are the product's, not ours)."""
    from jira_notifier.adapters.observability import logger

    level = logger.log_level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


class _Providers:
    def __init__(self, provider: ProviderConfig) -> None:
        self.provider = provider

    def group_providers(self, group: str) -> list[ProviderConfig]:
        return [self.provider] if group == self.provider.group else []

    def route(self, route: str) -> str | None:
        return None

    def alarm_tag_routes(self) -> dict[tuple[str, str], str]:
        return {}


class _Secrets:
    def __init__(self, secret: JiraSecret) -> None:
        self.secret = secret

    def get(self, name: str) -> JiraSecret:
        return self.secret

    def forget(self) -> None:
        return None


class _Parker:
    def __init__(self, parked: list[tuple[str, Any]]) -> None:
        self.parked = parked

    def park(self, *, event: Any, error: JiraNotifierError, alert: Alert | None, provider: str | None) -> None:
        self.parked.append((error.reason, event))
