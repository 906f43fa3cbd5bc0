"""Benchmark of the functions on one warm container: Jira and AWS calls per alert, handler time against the bare
Jira request, CPU, cold start and memory. Against moto (in-process) and a stand-in Jira on loopback HTTP.

    make bench        # or: .venv/bin/python bench/run.py [--delay-ms 100] [--alerts 150] [--storm 1000] [--groups 10]
                      #                               [--repeats 5] [--links 1000] [--only reconcile|redaction]

Prints a table with each figure beside its target and writes bench/results.json. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import reconcile, redaction, scenarios  # noqa: E402 - needs the repository on the path
from bench.harness import HANDLERS, bench_environment  # noqa: E402
from bench.report import report, table  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
STORM_TIMEOUT = 300  # seconds for the storm's own process
FIRST_CALL_RUNS = {"sns": 3, "sqs": 1}  # fresh processes per function (each costs seconds)
PROFILED_ALERTS = 10
RECONCILE_CHANGED = 0.1  # share of the askable links whose source has cleared, in the "changed" run


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.child:
        return _run_child(args)
    if args.only == "reconcile":
        with bench_environment(args.delay_ms / 1000) as bench:
            found = reconcile.reconcile_costs(bench, args.reconcile_links, RECONCILE_CHANGED)
        print(reconcile_section(found, args.delay_ms))
        return 0
    if args.only == "redaction":
        print(redaction_section(redaction.redaction_costs(args.repeats)))
        return 0
    if args.graph_only:
        with bench_environment(args.delay_ms / 1000) as bench:
            graph = scenarios.graph_costs(bench)
        print(json.dumps({"graph": graph, "targets": _graph_targets(graph)}, indent=2))
        return 0
    started = time.perf_counter()
    delay = args.delay_ms / 1000
    results: dict[str, Any] = {
        "machine": _machine(),
        "command": "make bench  (.venv/bin/python bench/run.py)",
        "settings": {
            "jira_delay_ms": args.delay_ms,
            "alerts": args.alerts,
            "storm": args.storm,
            "groups": args.groups,
            "import_repeats": args.repeats,
            "links": args.reconcile_links,
        },
    }
    # Fresh processes first, while this one is still small.
    phases: dict[str, float] = {}
    with _phase(phases, f"storm of {args.storm} alerts through the SQS handler (fresh process)"):
        results["storm"] = _child(["storm", "--storm", str(args.storm)], args, STORM_TIMEOUT)
    with _phase(phases, f"storm of {args.storm} alerts over {args.groups} groups with groupBy (fresh process)"):
        results["grouped_storm"] = _child(["grouped-storm", "--storm", str(args.storm)], args, STORM_TIMEOUT)
    with _phase(phases, "first invocation (fresh processes)"):
        results["first_call"] = {
            function: _median_run([_child(["first-call", "--function", function], args) for _ in range(runs)])
            for function, runs in FIRST_CALL_RUNS.items()
        }
    with _phase(phases, "cold start as shipped: sam build output in fresh Python 3.13 interpreters"):
        results["built"] = scenarios.built_cold_start(args.repeats)
    with _phase(phases, "handler imports (fresh interpreters)"):
        results["imports"] = scenarios.import_times(args.repeats)
        results["import_profile"] = scenarios.import_profile(HANDLERS["sns"])
        results["first_call_steps"] = scenarios.first_call_steps(args.repeats)
    with (
        _phase(phases, "calls per alert, handler time and CPU (warm container, SNS handler)"),
        bench_environment(delay) as bench,
    ):
        results["lifecycle"] = scenarios.lifecycle_costs(bench)
        results["graph"] = scenarios.graph_costs(bench)
        results["overhead"] = scenarios.handler_overhead(bench, args.alerts)
        results["cpu_breakdown"] = scenarios.cpu_breakdown(bench, PROFILED_ALERTS)
    with (
        _phase(phases, f"reconcile over {args.reconcile_links} open links (warm container, reconcile handler)"),
        bench_environment(delay) as bench,
    ):
        results["reconcile"] = reconcile.reconcile_costs(bench, args.reconcile_links, RECONCILE_CHANGED)
    with (
        _phase(phases, f"read-back over {args.reconcile_links} open issues (warm container)"),
        bench_environment(delay) as bench,
    ):
        results["readback"] = scenarios.readback_costs(bench, args.reconcile_links)
    with _phase(phases, "redaction of the log corpora (pure CPU)"):
        results["redaction"] = redaction.redaction_costs(args.repeats)
    results["phase_seconds"] = phases
    results["targets"] = targets(results)
    results["run_seconds"] = round(time.perf_counter() - started, 1)
    results["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    print(report(results))
    print("\n" + reconcile_section(results["reconcile"], args.delay_ms))
    print("\n" + redaction_section(results["redaction"]))
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay-ms", type=float, default=100.0, help="stand-in Jira answer delay (default 100)")
    parser.add_argument("--alerts", type=int, default=150, help="alerts timed through the SNS handler")
    parser.add_argument("--storm", type=int, default=1000, help="alerts in the storm (multiple of 50)")
    parser.add_argument("--groups", type=int, default=10, help="groups in the grouped storm (groupBy)")
    parser.add_argument("--repeats", type=int, default=5, help="fresh interpreters per import timing")
    parser.add_argument(
        "--reconcile-links", type=int, default=1000, help="open links in the reconcile and read-back runs"
    )
    parser.add_argument(
        "--only", choices=("reconcile", "redaction"), help="run only this part and print it (writes nothing)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--graph-only", action="store_true", help="only the graph's Jira requests (seconds)")
    parser.add_argument("--child", choices=("storm", "grouped-storm", "first-call"), help=argparse.SUPPRESS)
    parser.add_argument("--function", default="sns", choices=sorted(HANDLERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.storm % scenarios.BULK_SIZE:
        parser.error(f"--storm must be a multiple of {scenarios.BULK_SIZE}")
    return args


def _run_child(args: argparse.Namespace) -> int:
    delay = args.delay_ms / 1000
    if args.child == "storm":
        data = scenarios.storm(delay, args.storm)
    elif args.child == "grouped-storm":
        data = scenarios.grouped_storm(delay, args.storm, args.groups)
    else:
        data = scenarios.first_call(delay, args.function)
    args.out.write_text(json.dumps(data), encoding="utf-8")
    return 0


def _child(extra: list[str], args: argparse.Namespace, timeout: float = scenarios.CHILD_TIMEOUT) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        command = [
            sys.executable,
            str(Path(__file__)),
            "--child",
            *extra,
            "--delay-ms",
            str(args.delay_ms),
            "--out",
            str(out),
        ]
        done = subprocess.run(  # noqa: S603 - this script with fixed arguments
            command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(extra)} failed:\n{done.stderr[-3000:]}")
        return json.loads(out.read_text(encoding="utf-8"))


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(runs, key=lambda r: r["first_call_ms"])
    return {**ordered[len(ordered) // 2], "runs_ms": [r["first_call_ms"] for r in runs]}


def _machine() -> dict[str, Any]:
    def output(*command: str) -> str:
        try:
            return subprocess.run(  # noqa: S603 - nproc and lscpu
                command, capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
        except OSError:
            return "unavailable"

    return {
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
        "nproc": output("nproc"),
        "lscpu": output("lscpu").splitlines()[:10],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


@contextlib.contextmanager
def _phase(phases: dict[str, float], name: str) -> Iterator[None]:
    print(f"... {name}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    yield
    phases[name] = round(time.perf_counter() - started, 1)


# ---- targets --------------------------------------------------------------------------------------------

CONFIG_READS = ("secretsmanager", "dynamodb Query", "dynamodb GetItem", "dynamodb Scan")


def _config_reads(aws: dict[str, int]) -> int:
    return sum(n for op, n in aws.items() if op.startswith(CONFIG_READS))


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Each figure beside its target: (figure, value, target, met)."""
    warm, storm, over, imports = r["lifecycle"]["warm"], r["storm"], r["overhead"], r["imports"]
    rows: list[tuple[str, Any, str, bool]] = []
    for step in ("create", "repeat", "resolve"):
        count = sum(warm[step]["jira"].values())
        rows.append((f"Jira requests, warm {step}", count, "= 1", count == 1))
    rows += _graph_rows(r["graph"])
    bulk = storm["jira"].get("POST /issue/bulk", 0)
    rows.append(("storm: bulk create requests", bulk, "<= 25", bulk <= 25))
    singles = storm["jira"].get("POST /issue", 0)
    rows.append(("storm: single create requests", singles, "= 0", singles == 0))
    rows.append(("storm: duplicate issues", storm["duplicates"], "= 0", storm["duplicates"] == 0))
    rows.append(
        (
            "storm: distinct issues created",
            storm["distinct_issues"],
            f"= {storm['alerts']}",
            storm["distinct_issues"] == storm["alerts"] and storm["failed_records"] == 0,
        )
    )
    warm_reads = (
        sum(_config_reads(warm[s]["aws"]) for s in warm)
        + _config_reads(over["aws_calls"])
        + _config_reads(storm["aws"])
    )
    rows.append(("Secrets Manager / providers-table calls, warm", warm_reads, "= 0", warm_reads == 0))
    grouped = r["grouped_storm"]
    groups = grouped["groups"]
    rows += [
        ("grouped storm: parent issues", grouped["parent_issues"], f"= {groups}", grouped["parent_issues"] == groups),
        ("grouped storm: duplicate parents", grouped["duplicates"], "= 0", grouped["duplicates"] == 0),
        (
            "grouped storm: members listed, each in its parent",
            grouped["members_listed"],
            f"= {grouped['alerts']}",
            grouped["members_listed"] == grouped["alerts"] and grouped["every_member_in_its_parent"],
        ),
        ("grouped storm: failed records", grouped["failed_records"], "= 0", grouped["failed_records"] == 0),
        (
            "grouped storm: Jira requests per alert",
            grouped["jira_per_alert"],
            "<= 0.25",
            grouped["jira_per_alert"] <= 0.25,
        ),
        (
            "grouped storm: most writes to one issue in 2 s",
            grouped["busiest_issue_writes_2s"],
            "<= 20",
            grouped["busiest_issue_writes_2s"] <= 20,
        ),
        (
            "grouped storm: most writes to one issue in 30 s",
            grouped["busiest_issue_writes_30s"],
            "<= 100",
            grouped["busiest_issue_writes_30s"] <= 100,
        ),
    ]
    for label, key in (("moto excluded", "ratio_without_moto"), ("moto included", "ratio")):
        for stat in ("median", "p99"):
            value = over[f"{key}_{stat}"]
            rows.append((f"handler time / bare request, {label}, {stat}", value, "<= 1.3", value <= 1.3))
    for label, key in (("moto excluded", "handler_cpu_without_moto"), ("moto included", "handler_cpu_total")):
        for stat in ("median_ms", "p99_ms"):
            value = over[key][stat]
            rows.append((f"handler CPU per alert, {label}, {stat[:-3]} (ms)", value, "<= 10", value <= 10))
    ratio = r["built"]["ratio_to_boto3"]["SnsToJiraFunction handler module"]
    rows.append(("cold import as shipped (SNS) / bare import boto3", ratio, "<= 1.5", ratio <= 1.5))
    for name, figure in imports.items():
        if name.startswith("boto3"):
            continue
        rows.append((f"import {name} (ms)", figure["median_ms"], "< 300", figure["median_ms"] < 300))
    for label, peak in (
        ("moto's setup excluded", storm["peak_rss_without_moto_setup_mb"]),
        ("moto included", storm["peak_rss_mb"]),
    ):
        rows.append((f"peak RSS through the storm, {label} (MB)", peak, "< 128", peak < 128))
    for key in ("all_sources_unchanged", "askable_sources_unchanged"):
        run = r["reconcile"][key]
        spread = f"{r['reconcile']['links']} links, {len(run['sources'])} sources, nothing changed"
        rows.append((f"reconcile AWS calls ({spread})", run["aws_calls"], f"<= {run['aws_goal']:g}",
                     run["aws_calls"] <= run["aws_goal"]))  # fmt: skip
        rows.append((f"reconcile Jira requests ({spread})", run["jira_requests"], f"<= {run['jira_goal']:g}",
                     run["jira_requests"] <= run["jira_goal"]))  # fmt: skip
    readback = r["readback"]
    budget = readback["links"] // 100 + 10
    for run in ("unchanged", "resolved_by_people", "sweep"):
        requests = readback[run]["jira_requests"]
        rows.append((f"read-back Jira requests, {run.replace('_', ' ')}", requests, f"<= {budget}", requests <= budget))
    leaks, share = len(r["redaction"]["leaks"]), r["redaction"]["false_redaction_share"]
    rows.append(("redaction: generated secrets shown", leaks, "= 0", leaks == 0))
    goal = redaction.FALSE_REDACTION_GOAL
    rows.append(("redaction: ordinary lines touched (share)", share, f"<= {goal:g}", share <= goal))
    return [{"figure": f, "value": v, "target": t, "met": met} for f, v, t, met in rows]


def _graph_rows(graph: dict[str, Any]) -> list[tuple[str, Any, str, bool]]:
    create, repeat = (sum(graph[step]["jira"].values()) for step in ("create", "repeat"))
    return [
        ("Jira requests, new metric-alarm issue with its graph", create, "= 2", create == 2),
        ("Jira requests, repeat with graphs on", repeat, "= 1", repeat == 1),
    ]


def _graph_targets(graph: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"figure": f, "value": v, "target": t, "met": met} for f, v, t, met in _graph_rows(graph)]


def redaction_section(found: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"== 8. Redaction of log evidence and event texts ({found['secret_samples']} secret-bearing samples, "
            f"{found['ordinary_lines']} ordinary lines)",
            redaction.summary(found),
        ]
    )


def reconcile_section(found: dict[str, Any], delay_ms: float) -> str:
    rows = reconcile.summary_rows(found)
    calls = [
        [
            key.replace("_", " "),
            run["aws_calls"],
            f"{run['aws_goal']:g}",
            ", ".join(f"{k} x{n}" for k, n in run["aws"].items()),
        ]
        for key, run in found.items()
        if isinstance(run, dict)
    ]
    return "\n".join(
        [
            f"== 5. Reconcile, one scheduled run through its handler (stand-in Jira answers after {delay_ms:g} ms)",
            table(["run", "AWS calls", "Jira requests", "wall (s)", "outcome"], rows),
            "",
            table(["run", "AWS calls", "goal", "by operation"], calls),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
