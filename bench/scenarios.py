"""The measurements. Each returns plain data (JSON-ready); ``run.py`` prints them and checks the targets."""

from __future__ import annotations

import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench.harness import (
    EMAIL,
    ENVIRONMENT,
    HANDLERS,
    LAYER,
    ROOT,
    TOKEN,
    Bench,
    LambdaContext,
    Sample,
    alarm_message,
    apply_environment,
    bench_environment,
    current_rss_mb,
    direct_session,
    invoke,
    load_handler,
    peak_rss_mb,
    sns_event,
    sqs_event,
)

BULK_SIZE = 50  # SQS records per invocation of the buffered path (template: BufferBatchSize)
CHILD_TIMEOUT = 120  # seconds: no child process outlives this


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median and p99 in milliseconds."""
    return {"median_ms": ms(statistics.median(values)), "p99_ms": ms(percentile(values, 0.99))}


def costs(sample: Sample) -> dict[str, Any]:
    return {"jira": dict(sorted(sample.jira.items())), "aws": dict(sorted(sample.aws.items()))}


# ---- 1. requests per alert -------------------------------------------------------------------------------


def lifecycle_costs(bench: Bench) -> dict[str, Any]:
    """Jira and AWS calls of create, repeat and resolve on a warm container (and of the very first create)."""
    from jira_notifier.core.lifecycle import MIN_WRITE_INTERVAL

    handler = load_handler("sns")
    gap = MIN_WRITE_INTERVAL + 0.2  # writes on one issue closer than this are coalesced (product rule)
    cold = invoke(bench, handler, sns_event(alarm_message("bench-warm-up")))
    time.sleep(gap)
    warm_up_resolve = invoke(bench, handler, sns_event(alarm_message("bench-warm-up", "OK")))  # caches transitions
    create = invoke(bench, handler, sns_event(alarm_message("bench-lifecycle")))
    time.sleep(gap)
    repeat = invoke(
        bench, handler, sns_event(alarm_message("bench-lifecycle", reason="Threshold Crossed: 5 datapoints above."))
    )
    time.sleep(gap)
    resolve = invoke(bench, handler, sns_event(alarm_message("bench-lifecycle", "OK")))
    outcomes = [s.result for s in (cold, warm_up_resolve, create, repeat, resolve)]
    expected = [{"created": 1}, {"resolved": 1}, {"created": 1}, {"commented": 1}, {"resolved": 1}]
    return {
        "outcomes_as_expected": outcomes == expected,
        "outcomes": outcomes,
        "cold_create": costs(cold),
        "warm": {"create": costs(create), "repeat": costs(repeat), "resolve": costs(resolve)},
    }


# ---- 1b. the graph of a new metric-alarm issue ----------------------------------------------------------


def graph_costs(bench: Bench) -> dict[str, Any]:
    """Jira calls of a new metric-alarm issue with its graph, and of a repeat, with the insights on.

    GetMetricWidgetImage answers from botocore's Stubber (moto lacks it) with an 800 x 400 PNG: its size here is
    the stub's, not a real graph's, which only CloudWatch can draw.
    """
    import boto3
    from botocore.stub import ANY, Stubber

    from jira_notifier.core.lifecycle import MIN_WRITE_INTERVAL
    from jira_notifier.entry import wiring
    from tests.support.png import png

    image = png()
    region = os.environ["AWS_REGION"]
    settings = {"ALARM_INSIGHTS": "true", "STACK_ACCOUNT_ID": "123456789012"}
    saved = {name: os.environ.get(name) for name in settings}
    client = boto3.session.Session().client("cloudwatch", region_name=region)
    original = boto3.session.Session.client

    def make(session: Any, service: str, *args: Any, **kwargs: Any) -> Any:
        return client if service == "cloudwatch" else original(session, service, *args, **kwargs)

    def alarm(name: str, **changes: Any) -> dict[str, Any]:
        message = alarm_message(name, **changes)
        message["AlarmArn"] = f"arn:aws:cloudwatch:{region}:123456789012:alarm:{name}"  # the stack's own
        return message

    os.environ.update(settings)
    boto3.session.Session.client = make  # type: ignore[method-assign]
    wiring.reset()
    try:
        with Stubber(client) as stub:
            for _ in range(2):
                stub.add_response(
                    "get_metric_widget_image",
                    {"MetricWidgetImage": image},
                    {"MetricWidget": ANY, "OutputFormat": "png"},
                )
            handler = load_handler("sns")
            invoke(bench, handler, sns_event(alarm("bench-graph-warm-up")))  # the issue type's metadata, cached
            create = invoke(bench, handler, sns_event(alarm("bench-graph")))
            time.sleep(MIN_WRITE_INTERVAL + 0.2)
            repeat = invoke(bench, handler, sns_event(alarm("bench-graph", reason="Threshold Crossed: 5 above.")))
            stub.assert_no_pending_responses()
    finally:
        boto3.session.Session.client = original  # type: ignore[method-assign]
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        wiring.reset()
    return {
        "outcomes": [create.result, repeat.result],
        "create": costs(create),
        "repeat": costs(repeat),
        "stub_png_bytes": len(image),
    }


# ---- 2. handler time against the bare request -----------------------------------------------------------


def handler_overhead(bench: Bench, alerts: int, warm_ups: int = 5) -> dict[str, Any]:
    """New alarms through the SNS handler (one create each), interleaved with the bare create request."""
    handler = load_handler("sns")
    for number in range(warm_ups):
        invoke(bench, handler, sns_event(alarm_message(f"bench-latency-warm-up-{number}")))
    session = direct_session()
    session.headers.update({"Accept": "application/json", "Content-Type": "application/json"})
    floor_wall: list[float] = []
    floor_cpu: list[float] = []
    samples: list[Sample] = []
    for number in range(alerts):
        body = bench.last_create_body()  # the handler's last create: the same size
        cpu_started, started = time.thread_time(), time.perf_counter()
        response = session.post(f"{bench.jira.url}/rest/api/3/issue", data=body, auth=(EMAIL, TOKEN), timeout=10)
        floor_wall.append(time.perf_counter() - started)
        floor_cpu.append(time.thread_time() - cpu_started)
        if response.status_code != 201:
            raise RuntimeError(f"the bare request failed: {response.status_code}")
        samples.append(invoke(bench, handler, sns_event(alarm_message(f"bench-latency-{number:04d}"))))
    session.close()
    unexpected = [s for s in samples if s.result != {"created": 1} or s.jira != Counter({"POST /issue": 1})]
    aws = sum((s.aws for s in samples), Counter())
    handler_wall = spread([s.wall for s in samples])
    without_moto = spread([s.wall - s.calls.moto_wall for s in samples])
    floor = spread(floor_wall)
    return {
        "alerts": alerts,
        "jira_delay_ms": ms(bench.jira.delay),
        "body_bytes": len(bench.last_create_body()),
        "unexpected_outcomes": len(unexpected),
        "handler_wall": handler_wall,
        "floor_wall": floor,
        "handler_wall_without_moto": without_moto,
        "moto_wall": spread([s.calls.moto_wall for s in samples]),
        "ratio_median": round(handler_wall["median_ms"] / floor["median_ms"], 3),
        "ratio_p99": round(handler_wall["p99_ms"] / floor["p99_ms"], 3),
        "ratio_without_moto_median": round(without_moto["median_ms"] / floor["median_ms"], 3),
        "ratio_without_moto_p99": round(without_moto["p99_ms"] / floor["p99_ms"], 3),
        "handler_cpu_total": spread([s.cpu for s in samples]),
        "handler_cpu_without_moto": spread([s.cpu - s.calls.moto_cpu for s in samples]),
        "handler_cpu_without_aws_sdk": spread([s.cpu - s.calls.sdk_cpu for s in samples]),
        "moto_cpu": spread([s.calls.moto_cpu for s in samples]),
        "floor_cpu": spread(floor_cpu),
        "aws_calls": dict(sorted(aws.items())),
        "aws_calls_per_alert": {op: round(n / alerts, 2) for op, n in sorted(aws.items())},
    }


# ---- 5. a storm as one issue per group, in a fresh process ----------------------------------------------

GROUPED_WINDOW = 600  # seconds: the provider's --group-window
STORM_SPREAD = 10.0  # seconds over which the storm's alarms changed state, just before they are delivered


def grouped_storm(delay: float, alerts: int, groups: int) -> dict[str, Any]:
    """``alerts`` new alarms of ``groups`` accounts, interleaved, through the buffered path in batches of 50, with
    ``--group-by account,namespace``: one parent per group, each batch writing each parent at most once.

    The functions' clock is the real one, so the parent writes are paced as in Lambda (at least 2 s apart per
    issue); the alarms changed state over the ``STORM_SPREAD`` seconds before delivery, within one window.
    """
    from datetime import UTC, datetime

    from jira_notifier.core.storm import window_start

    apply_environment()
    handler = load_handler("sqs")
    now = time.time()
    first = max(float(window_start(now, GROUPED_WINDOW)), now - STORM_SPREAD)
    accounts = [f"{100000000000 + g}" for g in range(groups)]
    names = [f"svc{n % groups}-alarm-{n:04d}" for n in range(alerts)]
    messages = [
        alarm_message(
            name,
            account=accounts[n % groups],
            at=datetime.fromtimestamp(first + (now - first) * n / alerts, UTC),
        )
        for n, name in enumerate(names)
    ]
    with bench_environment(
        delay, keep_content=True, group_by=("account", "namespace"), group_window=GROUPED_WINDOW
    ) as bench:
        samples = [invoke(bench, handler, sqs_event(messages[s : s + BULK_SIZE])) for s in range(0, alerts, BULK_SIZE)]
        parents = list(bench.jira.issues.values())
        busiest_2s, busiest_30s = bench.jira.busiest_writes(2.0), bench.jira.busiest_writes(30.0)
    listed = {parent.summary: _listed_members(parent.fields["description"]) for parent in parents}
    expected = {
        f"Alert storm: account {accounts[g]}, namespace AWS/ApplicationELB": names[g::groups] for g in range(groups)
    }
    jira = sum((s.jira for s in samples), Counter())
    return {
        "alerts": alerts,
        "groups": groups,
        "batch_size": BULK_SIZE,
        "invocations": len(samples),
        "failed_records": sum(len(s.result.get("batchItemFailures", [])) for s in samples),
        "parent_issues": len(parents),
        "duplicates": len(parents) - len(listed),
        "members_listed": sum(len(names) for names in listed.values()),
        "every_member_in_its_parent": all(
            sorted(listed.get(summary, [])) == sorted(members) for summary, members in expected.items()
        ),
        "jira": dict(sorted(jira.items())),
        "jira_per_alert": round(sum(jira.values()) / alerts, 4),
        "busiest_issue_writes_2s": busiest_2s,
        "busiest_issue_writes_30s": busiest_30s,
        "wall_s": round(sum(s.wall for s in samples), 2),
        "invocation_wall": spread([s.wall for s in samples]),
        "largest_description_chars": max(len(json.dumps(parent.fields["description"])) for parent in parents),
    }


def _listed_members(description: dict[str, Any]) -> list[str]:
    """The names in a parent's member table (a cell may list several members that share a state and minute)."""
    [table] = [block for block in description["content"] if block["type"] == "table"]
    cells = (
        "".join(node.get("text", "") for node in row["content"][0]["content"][0]["content"])
        for row in table["content"][1:]
    )
    return [name for cell in cells for name in cell.split(", ")]


# ---- 1 and 4. the storm, in a fresh process -------------------------------------------------------------


def storm(delay: float, alerts: int) -> dict[str, Any]:
    """``alerts`` distinct new alarms through the buffered path in batches of 50, on one warm container.

    Memory is read at each step so that moto's and the stand-in's share can be told apart from the function's.
    """
    apply_environment()
    steps = {"interpreter and the bench harness": current_rss_mb()}
    handler = load_handler("sqs")
    steps["+ handler module imported"] = current_rss_mb()
    import boto3  # noqa: F401 - the function imports it on its first call

    steps["+ boto3 imported"] = current_rss_mb()
    with bench_environment(delay) as bench:
        steps["+ moto and the stand-in Jira set up"] = current_rss_mb()
        warm_up = invoke(bench, handler, sqs_event([alarm_message("bench-storm-warm-up")]))
        steps["+ warm-up invocation (AWS clients, caches)"] = current_rss_mb()
        issues_before = len(bench.jira.issues)
        samples = [
            invoke(bench, handler, sqs_event([alarm_message(f"bench-storm-{n:05d}") for n in range(s, s + BULK_SIZE)]))
            for s in range(0, alerts, BULK_SIZE)
        ]
        steps["after the storm"] = current_rss_mb()
        peak = peak_rss_mb()
        maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        created = [tuple(issue.labels) for issue in list(bench.jira.issues.values())[issues_before:]]
        failures = sum(len(s.result.get("batchItemFailures", [])) for s in samples)
        jira = sum((s.jira for s in samples), Counter())
        aws = sum((s.aws for s in samples), Counter())
        heap_peak = _traced_batch_peak(bench, handler)
    moto_setup = (steps["+ moto and the stand-in Jira set up"] or 0) - (steps["+ boto3 imported"] or 0)
    return {
        "alerts": alerts,
        "batch_size": BULK_SIZE,
        "invocations": len(samples),
        "warm_up": costs(warm_up),
        "failed_records": failures,
        "issues_created": len(created),
        "distinct_issues": len(set(created)),
        "duplicates": len(created) - len(set(created)),
        "jira": dict(sorted(jira.items())),
        "aws": dict(sorted(aws.items())),
        "jira_per_alert": round(sum(jira.values()) / alerts, 4),
        "aws_per_alert": {op: round(n / alerts, 3) for op, n in sorted(aws.items())},
        "wall_s": round(sum(s.wall for s in samples), 2),
        "invocation_wall": spread([s.wall for s in samples]),
        "cpu_per_alert_ms": ms(sum(s.cpu for s in samples) / alerts),
        "cpu_per_alert_without_moto_ms": ms(sum(s.cpu - s.calls.moto_cpu for s in samples) / alerts),
        "rss_steps_mb": steps,
        "peak_rss_mb": peak,
        "ru_maxrss_mb": round(maxrss_kb / 1024, 1),
        "moto_setup_mb": round(moto_setup, 1),
        "peak_rss_without_moto_setup_mb": round(peak - moto_setup, 1),
        "tracemalloc_peak_per_batch_mb": round(heap_peak / 2**20, 2),
    }


def _traced_batch_peak(bench: Bench, handler: Any) -> int:
    """Peak of Python allocations during one more invocation of 50 new alarms (moto's allocations included)."""
    event = sqs_event([alarm_message(f"bench-traced-{n:03d}") for n in range(BULK_SIZE)])
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        invoke(bench, handler, event)
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


# ---- 3. cold start --------------------------------------------------------------------------------------


def first_call(delay: float, function: str) -> dict[str, Any]:
    """A fresh process: moto, the stand-in and the handler module first (not timed), then the first call."""
    with bench_environment(delay) as bench:
        handler = load_handler(function)
        message = alarm_message(f"bench-first-call-{function}")
        event = sqs_event([message]) if function == "sqs" else sns_event(message)
        sample = invoke(bench, handler, event)
    return {
        "function": function,
        "first_call_ms": ms(sample.wall),
        "first_call_cpu_ms": ms(sample.cpu),
        "jira_delay_ms": ms(sum(sample.jira.values()) * delay),
        "moto_backend_ms": ms(sample.calls.moto_wall),
        "aws_clients_created": sample.calls.clients_created,
        "aws_client_creation_ms": ms(sample.calls.client_creation_wall),
        "result": sample.result,
        **costs(sample),
    }


def _child_env(*, tracing: bool) -> dict[str, str]:
    """The environment of a Lambda container (``LAMBDA_TASK_ROOT`` included: it changes what the X-Ray SDK does
    at import)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_", "LAMBDA_"))}
    env.update(ENVIRONMENT)
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{LAYER}"
    if tracing:  # as deployed (Tracing: Active): the Tracer patches botocore and requests for X-Ray at import
        env.pop("POWERTOOLS_TRACE_DISABLED", None)
    return env


_TIME_IMPORT = (
    "import time; t = time.perf_counter(); import {module}; t = time.perf_counter() - t; "
    "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')]; "
    "print(t, hwm[0] if hwm else 0)"
)


def import_times(repeats: int) -> dict[str, Any]:
    """Import of each handler module in a fresh interpreter as deployed (median of ``repeats``), of one with
    tracing disabled, and of boto3, which the handlers import lazily on their first call."""
    modules: dict[str, tuple[str, bool]] = {name: (module, True) for name, module in HANDLERS.items()}
    modules["sns, tracing disabled"] = (HANDLERS["sns"], False)
    modules["boto3 (imported on the first call)"] = ("boto3", False)
    results: dict[str, Any] = {}
    for name, (module, tracing) in modules.items():
        seconds, rss = [], []
        for _ in range(repeats):
            out = _in_fresh_interpreter(["-c", _TIME_IMPORT.format(module=module)], tracing=tracing).stdout.split()
            seconds.append(float(out[0]))
            rss.append(int(out[1]))
        results[name] = {
            "module": module,
            "median_ms": ms(statistics.median(seconds)),
            "min_ms": ms(min(seconds)),
            "rss_after_import_mb": round(statistics.median(rss) / 1024, 1),
        }
    return results


def _in_fresh_interpreter(arguments: list[str], *, tracing: bool) -> subprocess.CompletedProcess[str]:
    """This interpreter run afresh on a fixed snippet, in the environment of a Lambda container."""
    return subprocess.run(  # noqa: S603 - this interpreter with a fixed snippet
        [sys.executable, *arguments],
        env=_child_env(tracing=tracing),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=True,
    )


# In order, after the handler module: what a first call as deployed does before its first AWS request.
_FIRST_CALL_STEPS = (
    ("import boto3", "lambda: __import__('boto3')"),
    ("import requests", "lambda: __import__('requests')"),
    ("X-Ray patching of botocore and requests (trace_sdk_calls)", "trace_sdk_calls"),
)
_TIME_FIRST_CALL_STEPS = (
    "import time, {module}; from jira_notifier.adapters.observability import trace_sdk_calls\n"
    "for step in ({steps},):\n"
    "    t = time.perf_counter(); step(); print(time.perf_counter() - t)"
)


def first_call_steps(repeats: int) -> dict[str, Any]:
    """What the first call pays as deployed (tracing on) that ``first_call`` leaves out, because that runs with
    tracing off in a process that has boto3 and requests already: each step timed in order in a fresh interpreter
    that has imported the SNS handler module (median of ``repeats``)."""
    snippet = _TIME_FIRST_CALL_STEPS.format(
        module=HANDLERS["sns"], steps=", ".join(step for _, step in _FIRST_CALL_STEPS)
    )
    runs = []
    for _ in range(repeats):
        out = _in_fresh_interpreter(["-c", snippet], tracing=True).stdout.split()
        runs.append([float(seconds) for seconds in out])
    return {
        name: {"median_ms": ms(statistics.median(run[i] for run in runs)), "min_ms": ms(min(run[i] for run in runs))}
        for i, (name, _) in enumerate(_FIRST_CALL_STEPS)
    }


def import_profile(module: str, top: int = 14, depth: int = 3) -> list[dict[str, Any]]:
    """``python -X importtime`` as deployed: the imports up to ``depth`` levels down with the largest cumulative
    time (a deeper import is inside its parent's time)."""
    stderr = _in_fresh_interpreter(["-X", "importtime", "-c", f"import {module}"], tracing=True).stderr
    return _importtime_rows(stderr, depth)[:top]


# ---- where the handler's CPU goes ------------------------------------------------------------------------

# (area, file suffix, function): the cumulative CPU of these calls, measured under cProfile.
_BOUNDARIES = [
    ("moto backend (absent in Lambda)", "moto/core/botocore_stubber.py", "__call__"),
    ("AWS SDK client side (botocore: build, sign, parse)", "botocore/client.py", "_make_api_call"),
    ("Jira HTTP request (requests, urllib3)", "requests/sessions.py", "request"),
    ("event parsing (read_sns)", "jira_notifier/events/envelopes.py", "read_sns"),
    ("issue body rendering (create_body)", "jira_notifier/jira/payloads.py", "create_body"),
    ("config caches (Powertools parameters)", "aws_lambda_powertools/utilities/parameters/base.py", "get"),
    ("config caches (Powertools parameters)", "aws_lambda_powertools/utilities/parameters/base.py", "get_multiple"),
    ("logging (Powertools Logger, JSON)", "logging/__init__.py", "_log"),
    ("metrics (Powertools EMF)", "cloudwatch_emf/cloudwatch.py", "add_metric"),
    ("metrics (Powertools EMF)", "cloudwatch_emf/cloudwatch.py", "flush_metrics"),
]
_TOTAL = ("aws_lambda_powertools/logging/logger.py", "decorate")  # the outermost decorator: the whole handler


def cpu_breakdown(bench: Bench, alerts: int) -> dict[str, Any]:
    """CPU per alert by area for new alarms through the SNS handler, under cProfile timing thread CPU.

    The profiler inflates every figure; the areas' shares of the total are what to read.
    """
    import cProfile
    import pstats

    handler = load_handler("sns")
    events = [sns_event(alarm_message(f"bench-profiled-{number:03d}")) for number in range(alerts)]
    profiler = cProfile.Profile(time.thread_time)
    for event in events:
        profiler.runcall(handler, event, LambdaContext())
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    def cumulative(suffix: str, function: str) -> float:
        return sum(row[3] for (file, _, name), row in stats.items() if name == function and file.endswith(suffix))

    areas: Counter[str] = Counter()
    for area, suffix, function in _BOUNDARIES:
        areas[area] += cumulative(suffix, function)
    areas[_BOUNDARIES[1][0]] -= areas[_BOUNDARIES[0][0]]  # moto runs inside botocore's call
    total = cumulative(*_TOTAL)
    areas["the rest (lifecycle, state mapping, decorators, ...)"] = total - sum(areas.values())
    lambda_total = total - areas[_BOUNDARIES[0][0]]
    return {
        "alerts": alerts,
        "profiled_total_ms_per_alert": ms(total / alerts),
        "areas": [
            {
                "area": area,
                "ms_per_alert": ms(seconds / alerts),
                "share_without_moto": None if area == _BOUNDARIES[0][0] else round(seconds / lambda_total, 3),
            }
            for area, seconds in areas.most_common()
        ],
    }


# ---- cold start as shipped: the sam build output ---------------------------------------------------------

# What the first call imports after the handler module, before its first request (wiring.get_notifier and the Jira
# client factory): the runtime's SDK, requests, and the modules the handler imports lazily.
FIRST_CALL_IMPORTS = (
    "boto3",
    "requests",
    "aws_lambda_powertools.utilities.parameters",
    "jira_notifier.app.notify",
    "jira_notifier.core.state",
    "jira_notifier.adapters.dynamodb.providers",
    "jira_notifier.adapters.aws.secrets",
    "jira_notifier.adapters.aws.deadletters",
    "jira_notifier.adapters.jira.client",
)
_TIME_STATEMENT = "import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"


def built_cold_start(repeats: int) -> dict[str, Any]:
    """On ``sam build``'s output, each in a fresh Python 3.13 holding only the runtime's SDK, laid out as in a
    Lambda container, writing no bytecode (median of ``repeats``, the runs of each figure interleaved): the import
    of each function's handler module, the runtime's bare ``import boto3``, and the SNS handler module followed by
    what its first call imports. Also the layer's unpacked size and ``-X importtime`` of the SNS handler."""
    from tests.support import built_stack

    build = built_stack.build()
    python = built_stack.runtime_python()
    figures: dict[str, tuple[str, str]] = {
        f"{function_id} handler module": (function_id, "import handler") for function_id in built_stack.FUNCTIONS
    }
    figures["bare import boto3 (the runtime's SDK)"] = ("SnsToJiraFunction", "import boto3")
    figures["SnsToJiraFunction handler module + the first call's imports"] = (
        "SnsToJiraFunction",
        f"import handler, {', '.join(FIRST_CALL_IMPORTS)}",
    )
    seconds: dict[str, list[float]] = {name: [] for name in figures}
    for _ in range(repeats):
        for name, (function_id, statement) in figures.items():
            out = _built_run(built_stack, function_id, python, ["-c", _TIME_STATEMENT.format(statement=statement)])
            seconds[name].append(float(out.stdout.split()[-1]))
    imports = {
        name: {"median_ms": ms(statistics.median(values)), "min_ms": ms(min(values))}
        for name, values in seconds.items()
    }
    boto3_ms = imports["bare import boto3 (the runtime's SDK)"]["median_ms"]
    layer = build / "JiraNotifierLayer"
    profile = _built_run(built_stack, "SnsToJiraFunction", python, ["-X", "importtime", "-c", "import handler"])
    return {
        "python": python.resolve().parent.parent.name,
        "imports": imports,
        "ratio_to_boto3": {name: round(f["median_ms"] / boto3_ms, 2) for name, f in imports.items()},
        "layer_unpacked_mb": round(sum(p.stat().st_size for p in layer.rglob("*") if p.is_file()) / 2**20, 1),
        "layer_files": sum(1 for p in layer.rglob("*") if p.is_file()),
        "import_profile_top10": _importtime_rows(profile.stderr, depth=99)[:10],
    }


def _built_run(
    built_stack: Any, function_id: str, python: Any, arguments: list[str]
) -> subprocess.CompletedProcess[str]:
    environment = {
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "jira-notifier",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    argv, env, cwd = built_stack.lambda_command(function_id, arguments, environment, python)
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=True)  # noqa: S603


def _importtime_rows(stderr: str, depth: int) -> list[dict[str, Any]]:
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append(
            {
                "module": name.strip(),
                "depth": (len(name) - len(name.lstrip())) // 2,
                "self_ms": ms(int(own) / 1e6),
                "cumulative_ms": ms(int(cumulative) / 1e6),
            }
        )
    return sorted((r for r in rows if r["depth"] <= depth), key=lambda r: -r["cumulative_ms"])


# ---- 5. Jira talks back: the read-back over open issues ------------------------------------------------------


def readback_costs(bench: Bench, links: int, resolved_share: float = 0.01) -> dict[str, Any]:
    """Jira requests, AWS calls and wall time of the read-back over ``links`` open issues the product owns (last
    changed two days ago): the first run (it also sweeps for deletions), a run 15 minutes later with nothing
    changed, one after people resolved ``resolved_share`` of them, and the hourly sweep."""
    from datetime import UTC, datetime, timedelta

    import boto3

    from bench.harness import PROVIDER, SECRET_NAME, STATE_TABLE
    from jira_notifier.adapters.dynamodb.owned import OwnedIssueStore
    from jira_notifier.adapters.dynamodb.state import StateStore
    from jira_notifier.app.lease import Leases
    from jira_notifier.app.readback import read_back
    from jira_notifier.core.config import ProviderConfig
    from jira_notifier.core.state import IssueState, IssueStatus
    from jira_notifier.entry import wiring
    from jira_notifier.ports import NoSyncBack

    dynamodb = boto3.session.Session().client("dynamodb")
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    keys = []
    for number in range(links):
        issue = bench.jira._new_issue({"summary": f"alarm {number}", "labels": ["jira-notifier", f"jn-b{number:06d}"]})
        issue.created = issue.updated = two_days_ago
        keys.append(issue.key)
        state = IssueState(
            pk=f"ops/jira#b{number:06d}",
            provider="ops/jira",
            dedupe_key=f"bench alarm {number}",
            issue_id=issue.id,
            issue_key=issue.key,
            issue_status=IssueStatus.OPEN,
        )
        StateStore(dynamodb, STATE_TABLE).put_recovered(state)
    notifier = wiring.get_notifier("sns")
    client = notifier.deps.connect(notifier.deps.secrets.get(SECRET_NAME), None)
    offset = 0.0

    def clock() -> float:
        return time.time() + offset

    class NoMetrics:
        def count(self, name: str, value: float = 1) -> None:
            return None

    def run() -> dict[str, Any]:
        jira_before, aws_before = bench.jira_counts(), bench.aws.copy()
        started = time.perf_counter()
        report = read_back(
            ProviderConfig(**PROVIDER),
            client,
            Leases(StateStore(dynamodb, STATE_TABLE, clock=clock), clock),
            OwnedIssueStore(dynamodb, STATE_TABLE, clock=clock),
            NoMetrics(),
            sync_back=NoSyncBack(),
            clock=clock,
        )
        wall = time.perf_counter() - started
        jira = bench.jira_counts() - jira_before
        return {
            "recorded": len(report.recorded),
            "swept": report.swept,
            "jira_requests": sum(jira.values()),
            "jira": dict(sorted(jira.items())),
            "aws_calls": sum(bench.aws.since(aws_before).counts.values()),
            "aws": dict(sorted(bench.aws.since(aws_before).counts.items())),
            "wall_ms": ms(wall),
        }

    first = run()
    offset += 900
    unchanged = run()
    for key in keys[: max(1, int(links * resolved_share))]:
        bench.jira.resolve_by_hand(key, "Done")
    offset += 900
    changed = run()
    offset += 3600
    sweep = run()
    return {"links": links, "first": first, "unchanged": unchanged, "resolved_by_people": changed, "sweep": sweep}
