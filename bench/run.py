"""Benchmark of the functions on one warm container: Jira and AWS calls per alert, handler time against the bare
Jira request, CPU, cold start and memory. Against moto (in-process) and a stand-in Jira on loopback HTTP.

    make bench                    # or: .venv/bin/python bench/run.py [--delay-ms 100] [--alerts 200] ...

Prints a table with each figure beside its target and writes bench/results.json. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import scenarios  # noqa: E402 - needs the repository on the path
from bench.harness import HANDLERS, bench_environment  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
STORM_TIMEOUT = 300  # seconds for the storm's own process
FIRST_CALL_RUNS = 3
PROFILED_ALERTS = 10


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.child:
        return _run_child(args)
    started = time.perf_counter()
    delay = args.delay_ms / 1000
    results: dict[str, Any] = {
        "machine": _machine(),
        "command": "make bench  (.venv/bin/python bench/run.py)",
        "settings": {"jira_delay_ms": args.delay_ms, "alerts": args.alerts, "storm": args.storm,
                     "import_repeats": args.repeats},
    }
    # Fresh processes first, while this one is still small.
    phases: dict[str, float] = {}
    with _phase(phases, f"storm of {args.storm} alerts through the SQS handler (fresh process)"):
        results["storm"] = _child(["storm", "--storm", str(args.storm)], args, STORM_TIMEOUT)
    with _phase(phases, "first invocation (fresh processes)"):
        results["first_call"] = {
            function: _median_run([_child(["first-call", "--function", function], args)
                                   for _ in range(FIRST_CALL_RUNS)])
            for function in ("sns", "sqs")
        }
    with _phase(phases, "handler imports (fresh interpreters)"):
        results["imports"] = scenarios.import_times(args.repeats)
        results["import_profile"] = scenarios.import_profile(HANDLERS["sns"])
    with _phase(phases, "calls per alert, handler time and CPU (warm container, SNS handler)"), \
            bench_environment(delay) as bench:
        results["lifecycle"] = scenarios.lifecycle_costs(bench)
        results["overhead"] = scenarios.handler_overhead(bench, args.alerts)
        results["cpu_breakdown"] = scenarios.cpu_breakdown(bench, PROFILED_ALERTS)
    results["phase_seconds"] = phases
    results["targets"] = targets(results)
    results["run_seconds"] = round(time.perf_counter() - started, 1)
    print(report(results))
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay-ms", type=float, default=100.0, help="stand-in Jira answer delay (default 100)")
    parser.add_argument("--alerts", type=int, default=200, help="alerts timed through the SNS handler")
    parser.add_argument("--storm", type=int, default=1000, help="alerts in the storm (multiple of 50)")
    parser.add_argument("--repeats", type=int, default=5, help="fresh interpreters per import timing")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", choices=("storm", "first-call"), help=argparse.SUPPRESS)
    parser.add_argument("--function", default="sns", choices=sorted(HANDLERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.storm % scenarios.BULK_SIZE:
        parser.error(f"--storm must be a multiple of {scenarios.BULK_SIZE}")
    return args


def _run_child(args: argparse.Namespace) -> int:
    delay = args.delay_ms / 1000
    data = scenarios.storm(delay, args.storm) if args.child == "storm" else scenarios.first_call(delay, args.function)
    args.out.write_text(json.dumps(data), encoding="utf-8")
    return 0


def _child(extra: list[str], args: argparse.Namespace, timeout: float = scenarios.CHILD_TIMEOUT) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        command = [sys.executable, str(Path(__file__)), "--child", *extra, "--delay-ms", str(args.delay_ms),
                   "--out", str(out)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(extra)} failed:\n{done.stderr[-3000:]}")
        return json.loads(out.read_text(encoding="utf-8"))


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(runs, key=lambda r: r["first_call_ms"])
    return {**ordered[len(ordered) // 2], "runs_ms": [r["first_call_ms"] for r in runs]}


def _machine() -> dict[str, Any]:
    def output(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        except OSError:
            return "unavailable"

    return {
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
    bulk = storm["jira"].get("POST /issue/bulk", 0)
    rows.append(("storm: bulk create requests", bulk, "<= 25", bulk <= 25))
    rows.append(("storm: single create requests", storm["jira"].get("POST /issue", 0), "= 0",
                 storm["jira"].get("POST /issue", 0) == 0))
    rows.append(("storm: duplicate issues", storm["duplicates"], "= 0", storm["duplicates"] == 0))
    rows.append(("storm: distinct issues created", storm["distinct_issues"], f"= {storm['alerts']}",
                 storm["distinct_issues"] == storm["alerts"] and storm["failed_records"] == 0))
    warm_reads = (
        sum(_config_reads(warm[s]["aws"]) for s in warm)
        + _config_reads(over["aws_calls"])
        + _config_reads(storm["aws"])
    )
    rows.append(("Secrets Manager / providers-table calls, warm", warm_reads, "= 0", warm_reads == 0))
    for label, key in (("moto excluded", "ratio_without_moto"), ("moto included", "ratio")):
        for stat in ("median", "p99"):
            value = over[f"{key}_{stat}"]
            rows.append((f"handler time / bare request, {label}, {stat}", value, "<= 1.3", value <= 1.3))
    for label, key in (("moto excluded", "handler_cpu_without_moto"), ("moto included", "handler_cpu_total")):
        for stat in ("median_ms", "p99_ms"):
            value = over[key][stat]
            rows.append((f"handler CPU per alert, {label}, {stat[:-3]} (ms)", value, "<= 10", value <= 10))
    for name, figure in imports.items():
        if name.startswith("boto3"):
            continue
        rows.append((f"import {name} (ms)", figure["median_ms"], "< 300", figure["median_ms"] < 300))
    peak = storm["peak_rss_mb"]
    rows.append(("peak RSS through the storm (MB)", peak, "< 128", peak < 128))
    return [{"figure": f, "value": v, "target": t, "met": met} for f, v, t, met in rows]


# ---- the printed report ---------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _ops(counts: dict[str, Any]) -> str:
    return ", ".join(f"{op} x{n:g}" for op, n in counts.items()) or "none"


def report(r: dict[str, Any]) -> str:
    lc, over, storm, first = r["lifecycle"], r["overhead"], r["storm"], r["first_call"]
    sections: list[tuple[str, Callable[[], str]]] = [
        ("Machine", lambda: "\n".join([f"nproc {r['machine']['nproc']}, Python {r['machine']['python']}, "
                                       f"{r['machine']['platform']}", *r["machine"]["lscpu"]])),
        (f"1. Calls per alert, warm container (stand-in Jira answers after {r['settings']['jira_delay_ms']:g} ms)",
         lambda: table(
             ["step", "Jira requests", "AWS calls"],
             [["first create (cold caches)", _ops(lc["cold_create"]["jira"]), _ops(lc["cold_create"]["aws"])]]
             + [[f"{step} (warm)", _ops(c["jira"]), _ops(c["aws"])] for step, c in lc["warm"].items()]
             + [[f"storm, per alert ({storm['alerts']} alerts)",
                 f"{storm['jira_per_alert']:g} ({_ops(storm['jira'])} in all)", _ops(storm["aws_per_alert"])]],
         ) + f"\noutcomes as expected: {lc['outcomes_as_expected']} {lc['outcomes']}"
           + f"\nstorm: {storm['invocations']} invocations of {storm['batch_size']} records, "
             f"{storm['issues_created']} issues created, {storm['distinct_issues']} distinct, "
             f"{storm['duplicates']} duplicates, {storm['failed_records']} failed records, "
             f"{storm['wall_s']} s in the handler (invocation median {storm['invocation_wall']['median_ms']} ms, "
             f"p99 {storm['invocation_wall']['p99_ms']} ms), CPU {storm['cpu_per_alert_ms']} ms/alert "
             f"({storm['cpu_per_alert_without_moto_ms']} ms without moto)"),
        (f"2. Handler time per alert, warm ({over['alerts']} new alarms through the SNS handler, one create each)",
         lambda: table(
             ["figure", "median ms", "p99 ms"],
             [[name, over[key]["median_ms"], over[key]["p99_ms"]] for name, key in (
                 ("handler wall time, moto included", "handler_wall"),
                 ("  moto's backend share", "moto_wall"),
                 ("handler wall time, moto excluded", "handler_wall_without_moto"),
                 (f"bare create request (floor, {over['body_bytes']} B body)", "floor_wall"),
                 ("handler CPU, moto included", "handler_cpu_total"),
                 ("  moto's backend share", "moto_cpu"),
                 ("handler CPU, moto excluded (best estimate for Lambda)", "handler_cpu_without_moto"),
                 ("handler CPU, all AWS SDK calls excluded", "handler_cpu_without_aws_sdk"),
                 ("bare request CPU", "floor_cpu"),
             )] + [["handler / floor, moto included", over["ratio_median"], over["ratio_p99"]],
                   ["handler / floor, moto excluded", over["ratio_without_moto_median"],
                    over["ratio_without_moto_p99"]]],
         ) + f"\nAWS calls per alert: {_ops(over['aws_calls_per_alert'])}; "
             f"unexpected outcomes: {over['unexpected_outcomes']}\n\n"
           + f"where the CPU goes ({r['cpu_breakdown']['alerts']} alerts under cProfile, thread CPU; "
             "the profiler inflates every figure, read the shares):\n" + table(
             ["area", "ms/alert (profiled)", "share, moto excluded"],
             [[a["area"], a["ms_per_alert"], "-" if a["share_without_moto"] is None
               else f"{a['share_without_moto']:.0%}"] for a in r["cpu_breakdown"]["areas"]],
         )),
        ("3. Cold start", lambda: table(
            ["import in a fresh interpreter", "median ms", "min ms", "peak RSS MB"],
            [[name, f["median_ms"], f["min_ms"], f["rss_after_import_mb"]] for name, f in r["imports"].items()],
        ) + "\n\n" + table(
            ["first invocation (fresh process, moto preloaded)", "median ms", "runs ms", "CPU ms", "Jira", "AWS"],
            [[f"{fn}: first call", f["first_call_ms"], f["runs_ms"], f["first_call_cpu_ms"], _ops(f["jira"]),
              _ops(f["aws"])] for fn, f in first.items()],
        ) + "\n\nlargest imports of functions.sns_to_jira.handler (python -X importtime, cumulative):\n" + table(
            ["module", "cumulative ms", "self ms"],
            [["  " * row["depth"] + row["module"], row["cumulative_ms"], row["self_ms"]]
             for row in r["import_profile"]],
        )),
        ("4. Memory (fresh process through the storm; moto and the stand-in live in it too)", lambda: table(
            ["figure", "MB"],
            [["RSS after warm-up, before the storm", storm["rss_before_storm_mb"]],
             ["peak RSS after the storm (VmHWM)", storm["peak_rss_mb"]],
             ["ru_maxrss after the storm (may include the parent's peak)", storm["ru_maxrss_mb"]],
             ["tracemalloc peak of one 50-record invocation", storm["tracemalloc_peak_per_batch_mb"]]],
        )),
        ("Targets", lambda: table(
            ["figure", "value", "target", "status"],
            [[t["figure"], t["value"], t["target"], "met" if t["met"] else "MISSED"] for t in r["targets"]],
        ) + f"\n\nrun took {r['run_seconds']} s: "
          + ", ".join(f"{name} {seconds} s" for name, seconds in r["phase_seconds"].items())),
    ]
    return "\n\n".join(f"== {title}\n{body()}" for title, body in sections)


if __name__ == "__main__":
    sys.exit(main())
