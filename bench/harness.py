"""What every benchmark scenario stands on: an embedded AWS (moto) shaped like the template, the package's stand-in
Jira (``jira_standin.server``), Lambda contexts, CloudWatch alarm events, and counters of AWS calls and of the
CPU they cost."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

if TYPE_CHECKING:
    from jira_standin.server import LocalJira

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "jira_notifier"  # where Lambda finds the layer's package
EVENTS = ROOT / "events"
for _path in (str(LAYER), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# moto routes every ``requests`` call through ``responses`` while it is active; Jira traffic would pay that
# matching in the handler's thread although no Lambda does. The send captured here (before moto starts) is
# the real one, so Jira requests cost what they cost in Lambda.
_REAL_SEND = HTTPAdapter.send

SECRET_NAME = "jira-notifier/ops"  # noqa: S105 - the name of the secret, not a value
EMAIL = "svc-jira@example.com"
TOKEN = "bench-token-0123456789abcdef"  # noqa: S105 - a stand-in credential for the loopback stand-in
CREATE = "POST /rest/api/3/issue"
PROVIDERS_TABLE = "jira-notifier-providers"
STATE_TABLE = "jira-notifier-state"
FUNCTION_TIMEOUT_SECONDS = 60.0  # template.yaml, Globals.Function.Timeout
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "PROVIDERS_TABLE": PROVIDERS_TABLE,
    "STATE_TABLE": STATE_TABLE,
    "DEFAULT_NOTIFICATION_GROUP": "ops",
    "JIRA_ALLOWED_HOSTS": "127.0.0.1",
    "POWERTOOLS_SERVICE_NAME": "jira-notifier",
    "POWERTOOLS_METRICS_NAMESPACE": "JiraNotifier",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon outside Lambda
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    # As in a Lambda container: outside one, the X-Ray SDK builds a sampling client when the Tracer is created.
    "LAMBDA_TASK_ROOT": str(ROOT),
    "NO_PROXY": "127.0.0.1",
    "no_proxy": "127.0.0.1",
}
UNSET = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "DEAD_LETTER_QUEUE_URL",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
)
PROVIDER = {
    "group": "ops",
    "name": "jira",
    "project": "OPS",
    "issue_type": "Task",
    "secret": SECRET_NAME,
    "resolve_transition": "Done",
    "reopen_transition": "Reopen",
    "reopen_window": 7 * 86400,
    "wont_fix_resolution": "Won't Do",
    "labels": ("aws-alerts",),
    "priority_map": {"critical": "Highest", "high": "High"},
}
HANDLERS = {
    "sns": "functions.sns_to_jira.handler",
    "sqs": "functions.sqs_to_jira.handler",
    "eventbridge": "functions.eventbridge_to_jira.handler",
    "alarm-action": "functions.alarm_action_to_jira.handler",
}


def apply_environment() -> None:
    for name in UNSET:
        os.environ.pop(name, None)
    os.environ.update(ENVIRONMENT)


class DirectAdapter(HTTPAdapter):
    """Sends with the real ``send``; keeps the last body sent by ``METHOD /path`` in ``sent`` when given one."""

    def __init__(self, sent: dict[str, bytes] | None = None) -> None:
        super().__init__()
        self._sent = sent

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self._sent is not None and isinstance(request.body, bytes):
            self._sent[f"{request.method} {urlsplit(request.url).path}"] = request.body
        return _REAL_SEND(self, request, **kwargs)


def direct_session(sent: dict[str, bytes] | None = None) -> requests.Session:
    """A plain ``requests.Session`` whose http:// traffic bypasses moto's interception."""
    session = requests.Session()
    session.mount("http://", DirectAdapter(sent))
    return session


# ---- counting AWS calls ----------------------------------------------------------------------------------


@dataclass
class AwsCalls:
    """Every botocore API call by ``service Operation [TableName]``, the handler-thread CPU spent inside those
    calls (botocore + moto) and inside moto's backend alone, and the AWS clients created."""

    counts: Counter[str] = field(default_factory=Counter)
    sdk_cpu: float = 0.0
    moto_cpu: float = 0.0
    moto_wall: float = 0.0
    clients_created: int = 0
    client_creation_wall: float = 0.0

    def copy(self) -> AwsCalls:
        return replace(self, counts=Counter(self.counts))

    def since(self, earlier: AwsCalls) -> AwsCalls:
        return AwsCalls(
            counts=self.counts - earlier.counts,
            sdk_cpu=self.sdk_cpu - earlier.sdk_cpu,
            moto_cpu=self.moto_cpu - earlier.moto_cpu,
            moto_wall=self.moto_wall - earlier.moto_wall,
            clients_created=self.clients_created - earlier.clients_created,
            client_creation_wall=self.client_creation_wall - earlier.client_creation_wall,
        )


@contextlib.contextmanager
def counting_aws_calls() -> Iterator[AwsCalls]:
    from botocore.client import BaseClient
    from botocore.session import Session
    from moto.core.botocore_stubber import BotocoreStubber

    calls = AwsCalls()
    make_api_call, stub, create_client = BaseClient._make_api_call, BotocoreStubber.__call__, Session.create_client

    def counted_call(client: Any, operation: str, params: Any) -> Any:
        table = params.get("TableName") if isinstance(params, dict) else None
        calls.counts[" ".join(filter(None, (client.meta.service_model.service_name, operation, table)))] += 1
        started = time.thread_time()
        try:
            return make_api_call(client, operation, params)
        finally:
            calls.sdk_cpu += time.thread_time() - started

    def timed_stub(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        cpu_started, started = time.thread_time(), time.perf_counter()
        try:
            return stub(stubber, event_name, request, **kwargs)
        finally:
            calls.moto_cpu += time.thread_time() - cpu_started
            calls.moto_wall += time.perf_counter() - started

    def timed_create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return create_client(session, *args, **kwargs)
        finally:
            calls.clients_created += 1
            calls.client_creation_wall += time.perf_counter() - started

    BaseClient._make_api_call = counted_call  # type: ignore[method-assign]
    BotocoreStubber.__call__ = timed_stub  # type: ignore[method-assign]
    Session.create_client = timed_create_client  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
        BotocoreStubber.__call__ = stub  # type: ignore[method-assign]
        Session.create_client = create_client  # type: ignore[method-assign]


# ---- the environment -------------------------------------------------------------------------------------


@dataclass
class Bench:
    jira: LocalJira
    aws: AwsCalls
    sent: dict[str, bytes]  # the last body the functions sent to Jira, by "METHOD /path"

    def jira_counts(self) -> Counter[str]:
        """Jira requests received so far by "METHOD template", e.g. "POST /issue"."""
        return Counter({f"{method} {template}": n for (method, template), n in self.jira.counts().items()})

    def last_create_body(self) -> bytes:
        return self.sent[CREATE]


@contextlib.contextmanager
def bench_environment(delay: float, *, keep_content: bool = False, **provider: Any) -> Iterator[Bench]:
    """moto with the template's tables and dead-letter queue, the secret and the provider (``provider`` overrides
    its settings), the stand-in Jira on loopback (no example issue; ``keep_content`` keeps every field it is
    sent), and the handlers' output (logs, EMF metrics) sent to /dev/null."""
    import boto3
    from jira_standin.server import LocalJira
    from moto import mock_aws

    from jira_notifier.adapters.dynamodb.providers import provider_item
    from jira_notifier.cli.embedded import create_tables
    from jira_notifier.core.config import ProviderConfig, secret_string
    from jira_notifier.entry import wiring

    apply_environment()
    jira = LocalJira(example_issue=False, delay=delay, email=EMAIL, api_token=TOKEN, keep_content=keep_content)
    sent: dict[str, bytes] = {}
    with jira, mock_aws(), counting_aws_calls() as aws, silenced_output():
        session = boto3.session.Session()
        create_tables(session.client("dynamodb"), PROVIDERS_TABLE, STATE_TABLE)
        queue = session.client("sqs").create_queue(QueueName="jira-notifier-dead-letters")["QueueUrl"]
        os.environ["DEAD_LETTER_QUEUE_URL"] = queue
        session.client("secretsmanager").create_secret(
            Name=SECRET_NAME, SecretString=secret_string(email=EMAIL, api_token=TOKEN, server_url=jira.url)
        )
        item = provider_item(ProviderConfig(**{**PROVIDER, **provider}).validate())
        session.client("dynamodb").put_item(TableName=PROVIDERS_TABLE, Item={k: {"S": v} for k, v in item.items()})
        wiring.reset()
        wiring.use_jira_session(lambda: direct_session(sent))
        aws.counts.clear()
        try:
            yield Bench(jira, aws, sent)
        finally:
            wiring.use_jira_session(None)
            wiring.reset()


@contextlib.contextmanager
def silenced_output() -> Iterator[None]:
    """Logs and metrics are still formatted and written (as in Lambda), to /dev/null."""
    from jira_notifier.adapters.observability import logger

    handler = logger.registered_handler
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        previous = handler.setStream(devnull)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            handler.setStream(previous)  # type: ignore[attr-defined]


@dataclass
class LambdaContext:
    function_name: str = "jira-notifier-bench"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:jira-notifier-bench"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline: float = field(default_factory=lambda: time.monotonic() + FUNCTION_TIMEOUT_SECONDS)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


# ---- one invocation, measured ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    result: Any
    wall: float  # seconds
    cpu: float  # handler-thread CPU seconds, moto included
    calls: AwsCalls  # during this invocation
    jira: Counter[str]

    @property
    def aws(self) -> Counter[str]:
        return self.calls.counts


def invoke(bench: Bench, handler: Callable[[Any, Any], Any], event: Any) -> Sample:
    jira_before, aws_before = bench.jira_counts(), bench.aws.copy()
    context = LambdaContext()
    cpu_started, started = time.thread_time(), time.perf_counter()
    result = handler(event, context)
    wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    return Sample(result, wall, cpu, bench.aws.since(aws_before), bench.jira_counts() - jira_before)


def load_handler(name: str) -> Callable[[Any, Any], Any]:
    return importlib.import_module(HANDLERS[name]).lambda_handler


# ---- events ----------------------------------------------------------------------------------------------

_SNS_TEMPLATE = json.loads((EVENTS / "sns_cloudwatch_alarm.json").read_text(encoding="utf-8"))
_SQS_TEMPLATE = json.loads((EVENTS / "sqs_sns_envelope.json").read_text(encoding="utf-8"))["Records"][0]
_ALARM_TEMPLATE = json.loads(_SNS_TEMPLATE["Records"][0]["Sns"]["Message"])
ALARM_ARN_PREFIX = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:"


def alarm_message(
    name: str,
    state: str = "ALARM",
    *,
    reason: str | None = None,
    account: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """A CloudWatch alarm state change of alarm ``name`` (in ``account``), happening now (or ``at``)."""
    message = copy.deepcopy(_ALARM_TEMPLATE)
    message.update(
        AlarmName=name,
        AlarmArn=ALARM_ARN_PREFIX + name,
        NewStateValue=state,
        OldStateValue="OK" if state == "ALARM" else "ALARM",
        NewStateReason=reason or f"Threshold Crossed: 3 datapoints were {'above' if state == 'ALARM' else 'below'}.",
        StateChangeTime=_cloudwatch_time(at or datetime.now(UTC)),
    )
    if account:
        message.update(AWSAccountId=account, AlarmArn=message["AlarmArn"].replace(":123456789012:", f":{account}:"))
    return message


def sns_event(message: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(_SNS_TEMPLATE)
    sns = event["Records"][0]["Sns"]
    sns.update(
        MessageId=str(uuid.uuid4()),
        Subject=f'{message["NewStateValue"]}: "{message["AlarmName"]}" in EU (Ireland)',
        Message=json.dumps(message),
        Timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    )
    return event


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """SQS records whose bodies are SNS notifications (raw delivery off), like events/sqs_sns_envelope.json."""
    return {"Records": [_sqs_record(message) for message in messages]}


def _sqs_record(message: dict[str, Any]) -> dict[str, Any]:
    record = copy.deepcopy(_SQS_TEMPLATE)
    notification = json.loads(record["body"])
    notification.update(
        MessageId=str(uuid.uuid4()),
        Subject=f'{message["NewStateValue"]}: "{message["AlarmName"]}" in EU (Ireland)',
        Message=json.dumps(message),
        Timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    )
    body = json.dumps(notification, indent=2)
    record.update(messageId=str(uuid.uuid4()), body=body, md5OfBody=hashlib.md5(body.encode()).hexdigest())  # noqa: S324
    return record


def _cloudwatch_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM, because ``ru_maxrss`` also keeps the peak of the
    parent a child was forked from; ``ru_maxrss`` elsewhere."""
    peak = _proc_status_mb("VmHWM")
    if peak is not None:
        return peak
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb() -> float | None:
    return _proc_status_mb("VmRSS")


def _proc_status_mb(name: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith(f"{name}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None
