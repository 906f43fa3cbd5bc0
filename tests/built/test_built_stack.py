"""What ``sam build`` produces, run as Lambda runs it: each function's built code and the built layer, in a fresh
Python 3.13 interpreter holding only the runtime's AWS SDK, with no bytecode written, against a local AWS (moto
server) and the stand-in Jira over loopback HTTP. The layer is pure Python (see layers/jira_notifier/Makefile), so
the arm64 build runs here as it ships."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from jira_standin.server import DEFAULT_EMAIL, DEFAULT_TOKEN, LocalJira

from jira_notifier.adapters.dynamodb.providers import provider_item
from jira_notifier.cli.embedded import create_tables
from jira_notifier.core.config import ProviderConfig, secret_string
from tests.support import built_stack
from tests.support.jira_spec import validate_jira_request
from tests.support.links import open_link

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("built-stack")]

EVENTS = built_stack.ROOT / "events"
REGION = "us-east-1"
PROVIDERS_TABLE = "jira-notifier-providers"
STATE_TABLE = "jira-notifier-state"
SECRET_NAME = "jira-notifier/ops"
WEBHOOK_SECRET_NAME = "jira-notifier-JiraWebhookSecret"  # pragma: allowlist secret
WEBHOOK_KEY = b"built-stack-webhook-key"  # a test double  # pragma: allowlist secret
RUN_TIMEOUT = 60  # seconds for one invocation in its own interpreter
CREATEMETA = ("GET", "/rest/api/3/issue/createmeta/OPS/issuetypes")
# function -> (sample, handler result, the Jira requests a cold container sends for it)
# A scheduled run step's counts when it did nothing
NOTHING_DONE: dict[str, Any] = {
    **dict.fromkeys(("links", "checked", "active", "cleared", "gone", "unchecked", "noSource", "resolved"), 0),
    **dict.fromkeys(("commented", "wouldResolve", "wouldComment", "failed"), 0),
    "stoppedEarly": False,
}
SAMPLES: dict[str, tuple[str, Any, list[tuple[str, str]]]] = {
    "SnsToJiraFunction": ("sns_cloudwatch_alarm.json", {"created": 1}, [CREATEMETA, ("POST", "/rest/api/3/issue")]),
    "EventBridgeToJiraFunction": (
        "eventbridge_cloudwatch_alarm.json",
        {"created": 1},
        [CREATEMETA, ("POST", "/rest/api/3/issue")],
    ),
    "AlarmActionToJiraFunction": (
        "alarm_action_cloudwatch_alarm.json",
        {"created": 1},
        [CREATEMETA, ("POST", "/rest/api/3/issue")],
    ),
    "SqsToJiraFunction": (
        "sqs_sns_envelope.json",  # an alarm and a budget: one bulk create
        {"batchItemFailures": []},
        [CREATEMETA, ("POST", "/rest/api/3/issue/bulk")],
    ),
    # The schedule's event (empty); the stack holds one open issue whose alarm no longer exists: commented, resolved
    # (after the read-back's search and hourly sweep, which find nothing a person did)
    "ReconcileFunction": (
        "",
        {
            "readback": {**NOTHING_DONE, "notes": ["ops/jira: 1 changed issues read"]},
            "reconcile": {
                **NOTHING_DONE,
                **dict.fromkeys(("links", "checked", "gone", "resolved"), 1),
                "notes": [],
            },
            "sync-back": {**NOTHING_DONE, "notes": ["sent 0, still due 0, given up 0, dropped 0"]},
        },
        [
            ("POST", "/rest/api/3/search/jql"),
            ("POST", "/rest/api/3/search/jql"),
            ("GET", "/rest/api/3/issue/OPS-1/transitions"),
            ("POST", "/rest/api/3/issue/OPS-1/transitions"),
        ],
    ),
}
GONE_ALARM = "cloudwatch-alarm:arn:aws:cloudwatch:us-east-1:123456789012:alarm:deleted-alarm"
# In the fresh interpreter: import the handler as Lambda does (module "handler" from the task root), call it once,
# and write the result and the modules it loaded from the layer to the file named by argv[2].
RUNNER = """
import json, sys
class Context:
    function_name = "jira-notifier"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:jira-notifier"
    aws_request_id = "built-stack-test"
    def get_remaining_time_in_millis(self):
        return 60000
import handler
result = handler.lambda_handler(json.load(open(sys.argv[1])), Context())
layer = sys.argv[3] + "/"
loaded = {n: getattr(m, "__file__", None) or "" for n, m in list(sys.modules.items())}
json.dump({"result": result, "layer_modules": sorted(n for n, f in loaded.items() if f.startswith(layer)),
           "sdk_files": {n: loaded.get(n) for n in ("boto3", "botocore")}}, open(sys.argv[2], "w"))
"""


class RecordingJira(LocalJira):
    """The stand-in Jira, keeping every request it answered."""

    def __init__(self) -> None:
        super().__init__(example_issue=False)
        self.received: list[tuple[str, str, bytes]] = []

    def answer(
        self,
        method: str,
        target: str,
        authorization: str | None,
        raw_body: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        self.received.append((method, target, raw_body))
        return super().answer(method, target, authorization, raw_body, headers)


@dataclass
class Run:
    result: Any
    layer_modules: list[str]
    sdk_files: dict[str, str | None]
    jira: list[tuple[str, str, bytes]]
    issues_in_state: int
    stderr: str
    segments: list[dict[str, Any]] = field(default_factory=list)  # sent to the X-Ray daemon


@pytest.fixture(scope="module")
def built() -> Path:
    return built_stack.build()


@pytest.fixture(scope="module")
def runtime() -> Path:
    return built_stack.runtime_python()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _fresh_stack(moto_url: str, jira: LocalJira) -> tuple[Any, str]:
    """An empty local AWS holding what the stack would: tables, dead-letter queue, the secret and one provider."""
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)  # noqa: S106
    dynamodb = session.client("dynamodb", endpoint_url=moto_url)
    create_tables(dynamodb, PROVIDERS_TABLE, STATE_TABLE)
    queue_url = session.client("sqs", endpoint_url=moto_url).create_queue(QueueName="dead-letters")["QueueUrl"]
    secrets = session.client("secretsmanager", endpoint_url=moto_url)
    secrets.create_secret(
        Name=SECRET_NAME,
        SecretString=secret_string(email=DEFAULT_EMAIL, api_token=DEFAULT_TOKEN, server_url=jira.url),
    )
    secrets.create_secret(Name=WEBHOOK_SECRET_NAME, SecretString=WEBHOOK_KEY.decode())
    provider = ProviderConfig(
        group="ops", name="jira", project="OPS", issue_type="Task", secret=SECRET_NAME, resolve_transition="Done"
    )
    dynamodb.put_item(TableName=PROVIDERS_TABLE, Item={k: {"S": v} for k, v in provider_item(provider).items()})
    return dynamodb, queue_url


def function_environment(moto_url: str, queue_url: str, **overrides: str) -> dict[str, str]:
    """template.yaml's Globals.Function.Environment with the stack's defaults, pointed at the local AWS."""
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "PROVIDERS_TABLE": PROVIDERS_TABLE,
        "STATE_TABLE": STATE_TABLE,
        "DEFAULT_NOTIFICATION_GROUP": "ops",
        "JIRA_ALLOWED_HOSTS": "127.0.0.1",
        "DEAD_LETTER_QUEUE_URL": queue_url,
        "CONFIG_CACHE_SECONDS": "300",
        "POWERTOOLS_SERVICE_NAME": "jira-notifier",
        "POWERTOOLS_METRICS_NAMESPACE": "JiraNotifier",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "POWERTOOLS_TRACE_DISABLED": "true",  # the stack's default (Tracing parameter: PassThrough)
        "ALARM_INSIGHTS": "true",  # the stack's default (AlarmInsights parameter: Enabled)
        "STACK_ACCOUNT_ID": "123456789012",
        "NO_PROXY": "127.0.0.1",
        **overrides,
    }


def invoke(
    function_id: str, runtime: Path, moto_url: str, tmp: Path, *, event: Path | None = None, **overrides: str
) -> Run:
    with RecordingJira() as jira:
        dynamodb, queue_url = _fresh_stack(moto_url, jira)
        out = tmp / f"{function_id}.json"
        if function_id == "ReconcileFunction":
            open_link(dynamodb, STATE_TABLE, jira, GONE_ALARM)
            event = tmp / "schedule.json"
            event.write_text("{}", encoding="utf-8")
        argv, env, cwd = built_stack.lambda_command(
            function_id,
            ["-c", RUNNER, str(event or EVENTS / SAMPLES[function_id][0]), str(out), str(built_stack.LAYER)],
            function_environment(moto_url, queue_url, **overrides),
            runtime,
        )
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)  # noqa: S603
        assert done.returncode == 0, done.stderr[-4000:]
        data = json.loads(out.read_text(encoding="utf-8"))
        items = dynamodb.scan(TableName=STATE_TABLE)["Items"]
        return Run(
            result=data["result"],
            layer_modules=data["layer_modules"],
            sdk_files=data["sdk_files"],
            jira=list(jira.received),
            issues_in_state=sum(1 for item in items if "issueKey" in item),
            stderr=done.stderr,
        )


@pytest.fixture(scope="module")
def runs(built: Path, runtime: Path, moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """One sample through each built function, each in its own fresh interpreter and against a fresh stack."""
    tmp = tmp_path_factory.mktemp("runs")
    before = _tree(built)
    results = {function_id: invoke(function_id, runtime, moto_url, tmp) for function_id in SAMPLES}
    assert _tree(built) == before, "a function wrote into the build"
    return results


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


@pytest.mark.parametrize("function_id", SAMPLES, ids=list(SAMPLES))
def test_built_function_turns_its_sample_into_jira_requests(function_id: str, runs: dict[str, Run]) -> None:
    # Given a cold container of the built function (its code, the built layer, the runtime's SDK)
    run = runs[function_id]
    _, expected_result, expected_requests = SAMPLES[function_id]

    # Then it handled the sample as the source tree does, with the Jira requests of a cold container
    assert run.result == expected_result
    assert [(method, urlsplit(target).path) for method, target, _ in run.jira] == expected_requests
    for method, target, body in run.jira:
        validate_jira_request(method, f"https://stand-in.atlassian.net{target}", body or None)
    assert run.issues_in_state == (2 if function_id == "SqsToJiraFunction" else 1)
    # And the AWS SDK it used is the runtime's, not one shipped in the layer
    assert all(path and ".venv-lambda" in path for path in run.sdk_files.values()), run.sdk_files
    assert "Traceback" not in run.stderr


def test_layer_holds_nothing_that_no_function_imports(runs: dict[str, Run], tracing_run: Run, webhook_run: Run) -> None:
    # Given every module the functions loaded from the layer, tracing on and off
    loaded = set().union(*(run.layer_modules for run in (*runs.values(), tracing_run, webhook_run)))
    # Then every module and top-level package the layer holds is among them
    shipped = _shipped_modules(built_stack.LAYER)
    assert shipped - loaded == set()


def _shipped_modules(site: Path) -> set[str]:
    modules: set[str] = set()
    for path in site.rglob("*.py"):
        if "__pycache__" in path.parts or ".dist-info" in str(path):
            continue
        parts = path.relative_to(site).with_suffix("").parts
        if parts[0] != "jira_notifier":  # third-party packages: the package counts, not each of its modules
            modules.add(parts[0])
            continue
        modules.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


@pytest.fixture(scope="module")
def tracing_run(built: Path, runtime: Path, moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The SNS function with tracing on (``Tracing=Active``), sending its segments to a local UDP socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(0)
        run = invoke(
            "SnsToJiraFunction",
            runtime,
            moto_url,
            tmp_path_factory.mktemp("tracing"),
            POWERTOOLS_TRACE_DISABLED="false",
            AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{daemon.getsockname()[1]}",
            _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        )
        while True:
            try:
                datagram = daemon.recv(65536).decode()
            except BlockingIOError:
                break
            run.segments.append(json.loads(datagram.split("\n", 1)[1]))  # after the header line
    return run


def test_traced_function_records_its_aws_and_jira_calls(tracing_run: Run) -> None:
    assert tracing_run.result == {"created": 1}
    assert "aws_xray_sdk" in tracing_run.layer_modules
    # The subsegments sent to the X-Ray daemon name the DynamoDB calls and the Jira requests
    names = [segment["name"] for segment in tracing_run.segments]
    assert "dynamodb" in names and "secretsmanager" in names, names
    assert "127.0.0.1" in names, names


def test_sam_build_warns_of_nothing_missing(built: Path) -> None:
    # Each function names its (no) dependencies in a requirements.txt of its own: sam build finds one for each
    log = built_stack.BUILD_LOG.read_text(encoding="utf-8")
    assert "Build Succeeded" in log
    assert "requirements.txt file not found" not in log
    for folder in built_stack.FUNCTIONS.values():
        assert (built_stack.ROOT / "functions" / folder / "requirements.txt").is_file()


def test_layer_is_the_locked_pure_python_runtime_without_the_sdk(built: Path) -> None:
    import importlib.metadata

    site = built_stack.LAYER
    # No AWS SDK: the runtime's must be the one the functions use
    assert not [p.name for p in site.iterdir() if p.name.split("-")[0] in ("boto3", "botocore", "s3transfer")]
    # No tooling: the CLI, the stand-ins and the state rebuild are the operator's, installed with pip
    assert not (site / "jira_notifier" / "cli").exists()
    # Nothing native: the layer runs unchanged on arm64 and x86_64
    assert not [p for p in site.rglob("*") if p.suffix in (".so", ".pyd")]
    # The packages and versions of requirements.txt, nothing else
    shipped = {
        (dist.metadata["Name"].lower().replace("_", "-"), dist.version)
        for dist in importlib.metadata.distributions(path=[str(site)])
    }
    assert shipped == {(pin.name, pin.version) for pin in _layer_pins()}


def test_layer_bytecode_is_compiled_for_the_runtime_and_never_checked(built: Path) -> None:
    site = built_stack.LAYER
    sources = [p for p in site.rglob("*.py") if ".dist-info" not in str(p)]
    assert sources
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        assert pyc.is_file(), f"no bytecode for {source.relative_to(site)}"
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{pyc.relative_to(site)} is not an unchecked-hash pyc (flags {flags:#b})"


def _layer_pins() -> list[Any]:
    import layer_lock

    return layer_lock.layer_pins(layer_lock.read_lock(layer_lock.LOCK.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def webhook_run(built: Path, runtime: Path, moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A signed, fresh Jira webhook delivery about an issue of a site no provider uses (each provider's secret is read
    to tell), through the built webhook function's URL event."""
    from jira_notifier.entry.webhook import sign
    from tests.support.builders import function_url_event

    tmp = tmp_path_factory.mktemp("webhook")
    issue = {
        "id": "10001",
        "key": "OPS-1",
        "self": "https://elsewhere.atlassian.net/rest/api/2/issue/10001",
        "fields": {"labels": ["jira-notifier", "jn-0"], "status": {}},
    }
    raised = int(time.time() * 1000)  # the function judges it by its own clock: within the hour it runs in
    body = json.dumps({"webhookEvent": "jira:issue_updated", "timestamp": raised, "issue": issue}).encode()
    headers = {
        "content-type": "application/json",
        "x-hub-signature": sign(WEBHOOK_KEY, body),
        "x-atlassian-webhook-identifier": "built-stack-delivery",
    }
    event = tmp / "event.json"
    event.write_text(json.dumps(function_url_event(body, headers, as_base64=True, method="POST")), encoding="utf-8")
    return invoke("JiraWebhookFunction", runtime, moto_url, tmp, event=event, WEBHOOK_SECRET_NAME=WEBHOOK_SECRET_NAME)


def test_built_webhook_function_verifies_the_signature_and_ignores_an_issue_no_alert_has(webhook_run: Run) -> None:
    assert webhook_run.result["statusCode"] == 200
    assert json.loads(webhook_run.result["body"]) == {"result": "ignored"}
    assert webhook_run.jira == [] and webhook_run.issues_in_state == 0
    assert {"jira_notifier.entry.webhook", "jira_notifier.app.readback"} <= set(webhook_run.layer_modules)
    assert "Traceback" not in webhook_run.stderr
