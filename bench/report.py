"""The printed report: one section per question, then every figure beside its target."""

from __future__ import annotations

from typing import Any


def report(r: dict[str, Any]) -> str:
    sections = {
        "Machine": _machine(r),
        f"1. Calls per alert (stand-in Jira answers after {r['settings']['jira_delay_ms']:g} ms)": _calls(r),
        f"2. Handler time per alert, warm container ({r['overhead']['alerts']} new alarms through the SNS handler, "
        "one create each)": _time(r),
        "3. Cold start as shipped (the built artifact)": _built(r),
        "3b. Cold start of the source tree": _cold_start(r),
        "4. Memory (a fresh process through the storm; moto and the stand-in Jira live in it too)": _memory(r),
        f"5. Read-back over {r['readback']['links']} open issues the product owns": _readback(r),
        "Targets": _targets(r),
    }
    return "\n\n".join(f"== {title}\n{body}" for title, body in sections.items())


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ops(counts: dict[str, Any]) -> str:
    return ", ".join(f"{op} x{n:g}" for op, n in counts.items()) or "none"


def _machine(r: dict[str, Any]) -> str:
    m = r["machine"]
    first = (
        f"nproc {m['nproc']}, Python {m['python']}, {m['platform']}; "
        f"load average at start {m['load_average_at_start']}, at end {r['load_average_at_end']}"
    )
    lines = [first, *m["lscpu"]]
    if m["load_average_at_start"][0] > 0.5 * int(m["nproc"] or 1):  # the run itself keeps about one core busy
        lines.append("NOTE: other work was running when the run started; wall times and imports may be inflated.")
    return "\n".join(lines)


def _readback(r: dict[str, Any]) -> str:
    rows = [
        [run.replace("_", " "), figures["recorded"], ops(figures["jira"]), ops(figures["aws"]), figures["wall_ms"]]
        for run, figures in r["readback"].items()
        if run != "links"
    ]
    return table(["run", "recorded", "Jira requests", "AWS calls", "wall (ms)"], rows)


def _calls(r: dict[str, Any]) -> str:
    lc, storm = r["lifecycle"], r["storm"]
    rows = [["first create (cold caches)", ops(lc["cold_create"]["jira"]), ops(lc["cold_create"]["aws"])]]
    rows += [[f"{step} (warm)", ops(c["jira"]), ops(c["aws"])] for step, c in lc["warm"].items()]
    graph = r["graph"]
    rows += [[f"{step} with graphs on", ops(c["jira"]), ops(c["aws"])] for step, c in (
        ("new metric-alarm issue", graph["create"]), ("repeat", graph["repeat"]))]  # fmt: skip
    rows.append(
        [
            f"storm, per alert ({storm['alerts']} alerts, SQS handler)",
            f"{storm['jira_per_alert']:g} ({ops(storm['jira'])} in all)",
            ops(storm["aws_per_alert"]),
        ]
    )
    wall = storm["invocation_wall"]
    return "\n".join(
        [
            table(["step", "Jira requests", "AWS calls"], rows),
            f"lifecycle outcomes as expected: {lc['outcomes_as_expected']} {lc['outcomes']}",
            f"graph: outcomes {graph['outcomes']}; the stubbed PNG is {graph['stub_png_bytes']:,} bytes (a real "
            "graph's size cannot be measured without CloudWatch)",
            f"storm: {storm['invocations']} invocations of {storm['batch_size']} records; "
            f"{storm['issues_created']} issues created, {storm['distinct_issues']} distinct, "
            f"{storm['duplicates']} duplicates, {storm['failed_records']} failed records",
            f"storm: {storm['wall_s']} s in the handler (per invocation median {wall['median_ms']} ms, "
            f"p99 {wall['p99_ms']} ms); CPU {storm['cpu_per_alert_ms']} ms per alert, "
            f"{storm['cpu_per_alert_without_moto_ms']} ms with moto's backend excluded",
            _grouped(r["grouped_storm"]),
        ]
    )


def _grouped(g: dict[str, Any]) -> str:
    wall = g["invocation_wall"]
    return (
        f"grouped storm (groupBy account,namespace): {g['alerts']} alerts over {g['groups']} groups in "
        f"{g['invocations']} invocations of {g['batch_size']} records; {g['parent_issues']} parent issues, "
        f"{g['duplicates']} duplicates, {g['members_listed']} members listed (each in its parent: "
        f"{g['every_member_in_its_parent']}), {g['failed_records']} failed records; Jira {g['jira_per_alert']:g} "
        f"requests per alert ({ops(g['jira'])} in all); most writes to one issue: {g['busiest_issue_writes_2s']} in "
        f"2 s, {g['busiest_issue_writes_30s']} in 30 s; largest description {g['largest_description_chars']:,} "
        f"characters; {g['wall_s']} s in the handler (per invocation median {wall['median_ms']} ms)"
    )


_TIME_ROWS = (
    ("handler wall time, moto included", "handler_wall"),
    ("  of which moto's backend", "moto_wall"),
    ("handler wall time, moto's backend excluded", "handler_wall_without_moto"),
    ("bare create request (the floor)", "floor_wall"),
    ("handler CPU, moto included", "handler_cpu_total"),
    ("  of which moto's backend", "moto_cpu"),
    ("handler CPU, moto's backend excluded (estimate for Lambda)", "handler_cpu_without_moto"),
    ("handler CPU, every AWS SDK call excluded", "handler_cpu_without_aws_sdk"),
    ("bare create request CPU", "floor_cpu"),
)


def _time(r: dict[str, Any]) -> str:
    over, profile = r["overhead"], r["cpu_breakdown"]
    rows = [[name, over[key]["median_ms"], over[key]["p99_ms"]] for name, key in _TIME_ROWS]
    rows.append(["handler / floor, moto included", over["ratio_median"], over["ratio_p99"]])
    rows.append(
        ["handler / floor, moto's backend excluded", over["ratio_without_moto_median"], over["ratio_without_moto_p99"]]
    )
    areas = [
        [a["area"], a["ms_per_alert"], "-" if a["share_without_moto"] is None else f"{a['share_without_moto']:.0%}"]
        for a in profile["areas"]
    ]
    return "\n".join(
        [
            table(["figure", "median ms", "p99 ms"], rows),
            f"floor: the same POST /issue body ({over['body_bytes']} B) sent with requests on a kept-alive session",
            f"AWS calls per alert: {ops(over['aws_calls_per_alert'])}; unexpected outcomes: "
            f"{over['unexpected_outcomes']}",
            "",
            f"where the handler's CPU goes ({profile['alerts']} alerts under cProfile timing thread CPU; the profiler "
            "inflates every figure, read the shares):",
            table(["area", "ms/alert (profiled)", "share, moto excluded"], areas),
        ]
    )


def _built(r: dict[str, Any]) -> str:
    built = r["built"]
    rows = [[name, f["median_ms"], f["min_ms"], built["ratio_to_boto3"][name]] for name, f in built["imports"].items()]
    profile = [
        ["  " * row["depth"] + row["module"], row["cumulative_ms"], row["self_ms"]]
        for row in built["import_profile_top10"]
    ]
    return "\n".join(
        [
            f"sam build output, each in a fresh {built['python']} with only the runtime's SDK, laid out as in Lambda,",
            "PYTHONDONTWRITEBYTECODE=1, tracing off (the stack's default); median of the runs:",
            table(["import", "median ms", "min ms", "x bare boto3"], rows),
            "",
            f"layer unpacked: {built['layer_unpacked_mb']} MB in {built['layer_files']} files",
            "",
            "top ten imports of the SNS handler module as shipped (python -X importtime, cumulative ms):",
            table(["module", "cumulative ms", "self ms"], profile),
        ]
    )


def _cold_start(r: dict[str, Any]) -> str:
    imports = [[name, f["median_ms"], f["min_ms"], f["rss_after_import_mb"]] for name, f in r["imports"].items()]
    first = [
        [
            f"{name} (runs: {', '.join(f'{run:g}' for run in f['runs_ms'])})",
            f["first_call_ms"],
            f["first_call_cpu_ms"],
            f["jira_delay_ms"],
            f["moto_backend_ms"],
            f"{f['aws_clients_created']} in {f['aws_client_creation_ms']:g}",
        ]
        for name, f in r["first_call"].items()
    ]
    calls = [[name, ops(f["jira"]), ops(f["aws"])] for name, f in r["first_call"].items()]
    steps = [[name, f["median_ms"], f["min_ms"]] for name, f in r["first_call_steps"].items()]
    profile = [
        ["  " * row["depth"] + row["module"], row["cumulative_ms"], row["self_ms"]] for row in r["import_profile"]
    ]
    return "\n".join(
        [
            "import of the handler module from the source tree in a fresh interpreter of .venv (LAMBDA_TASK_ROOT set;",
            "tracing on unless said), median of the runs:",
            table(["module", "median ms", "min ms", "peak RSS MB"], imports),
            "",
            "first invocation in a fresh process (moto, boto3, requests and the handler module already imported;",
            "tracing off; median run):",
            table(["function", "ms", "CPU ms", "Jira delay ms", "moto ms", "AWS clients created (ms)"], first),
            table(["function", "Jira requests", "AWS calls"], calls),
            "",
            "what the first call adds as deployed (tracing on), in order, after importing the SNS handler module in a",
            "fresh interpreter:",
            table(["step", "median ms", "min ms"], steps),
            "",
            "largest imports of functions.sns_to_jira.handler as deployed, 3 levels down (python -X importtime):",
            table(["module", "cumulative ms", "self ms"], profile),
        ]
    )


def _memory(r: dict[str, Any]) -> str:
    storm = r["storm"]
    steps = [[f"RSS: {step}", mb] for step, mb in storm["rss_steps_mb"].items()]
    rows = [
        *steps,
        ["peak RSS through the storm (VmHWM)", storm["peak_rss_mb"]],
        ["ru_maxrss (on Linux it may keep the parent's peak)", storm["ru_maxrss_mb"]],
        ["  of which moto and the stand-in Jira, set up", storm["moto_setup_mb"]],
        ["peak RSS, moto's setup excluded (their stored data still counted)", storm["peak_rss_without_moto_setup_mb"]],
        [
            "tracemalloc peak of one more 50-record invocation (moto's allocations too)",
            storm["tracemalloc_peak_per_batch_mb"],
        ],
    ]
    return table(["figure", "MB"], rows)


def _targets(r: dict[str, Any]) -> str:
    rows = [[t["figure"], t["value"], t["target"], "met" if t["met"] else "MISSED"] for t in r["targets"]]
    phases = ", ".join(f"{name} {seconds} s" for name, seconds in r["phase_seconds"].items())
    return table(["figure", "value", "target", "status"], rows) + f"\n\nrun took {r['run_seconds']} s ({phases})"
