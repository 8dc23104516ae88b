"""Results → Markdown, the machine description, and the parse+bind micro-benchmark."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from bench.measure import call_rounds

SYSTEMS = ("alertgraph", "datasette", "floor", "postgresql")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}"


#: A typical filter an analyst's tool sends (enum and date comparisons, a lambda).
TYPICAL_FILTER = (
    "severity eq 'high' and status ne 'resolved' and "
    "createdDateTime ge 2025-03-01T00:00:00Z and categories/any(c: c eq 'Malware')"
)


#: rounds of parse_bind_micro's calls; the median round is reported
ROUNDS = 7


def parse_bind_micro(repeat: int = 1000) -> dict[str, float]:
    """Microseconds to parse and bind ``TYPICAL_FILTER`` against alerts_v2, in process.

    Reported separately: the filter's syntax tree alone, the filter parsed and bound to the EDM,
    every option of a typical list request bound without the engine's cache, and with it.
    """
    from alertgraph.odata import parser, query
    from alertgraph.odata.bind import Binder
    from alertgraph.schema.edm import load_model
    from alertgraph.schema.endpoints import entity_set

    model = load_model()
    alerts = entity_set("alerts_v2")
    limits = parser.Limits()
    options = {
        "$filter": TYPICAL_FILTER,
        "$orderby": "createdDateTime desc",
        "$top": "50",
        "$count": "true",
    }

    def parse_only() -> object:
        return parser.parse_expression(TYPICAL_FILTER, "$filter", limits)

    def parse_and_bind() -> object:
        syntax = parser.parse_expression(TYPICAL_FILTER, "$filter", limits)
        return Binder(model, alerts, "$filter").predicate(syntax)

    def uncached() -> object:
        return query._bind(alerts, options, limits, depth=0)

    def cached() -> object:
        return query.bind_query(alerts, options)

    steps = {
        "parse $filter": parse_only,
        "parse + bind $filter": parse_and_bind,
        "bind all options of the request (no cache)": uncached,
        "bind all options (engine's cache hit)": cached,
    }
    timings: dict[str, float] = {}
    for label, step in steps.items():
        timings[label] = call_rounds(step, repeat, ROUNDS, warmup=100)[1]  # the median round
    return timings


def _load(value: Any) -> str:
    return "?" if not value else f"{value[0]:.1f}"


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    ratio = a / b
    return f"{ratio:.2f}x" if ratio >= 0.01 else f"{ratio:.1g}x"


def _get(row: dict[str, Any], system: str, key: str, clients: str | None = None) -> float | None:
    entry = row.get(system)
    if entry is None:
        return None
    if clients is None:
        return float(entry[key])
    return float(entry["rps"][clients])


def markdown(results: dict[str, Any]) -> str:
    rows = {k: v for k, v in results["scenarios"].items() if not k.startswith("_")}
    lines = [
        f"Command: `{results['command']}`  ",
        f"Machine: {results['machine']}; Python {results['python']}  ",
        f"Alerts: {results['alerts']:,}; total run time {results.get('total_seconds', 0):.0f} s; "
        f"load average before/after: {_load(results.get('load_before'))} / "
        f"{_load(results.get('load_after'))}",
        "",
        "Latency at concurrency 1, milliseconds (p50 / p95); ratios compare p50 "
        "(below 1x means alertgraph is faster).",
        "",
        "| scenario | alertgraph | datasette | floor (sqlite3) | ag ÷ datasette | ag ÷ floor "
        "| alertgraph on PostgreSQL | PG ÷ SQLite |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        cells = []
        for system in ("alertgraph", "datasette", "floor"):
            p50 = _get(row, system, "p50_ms")
            p95 = _get(row, system, "p95_ms")
            cells.append(f"{_ms(p50)} / {_ms(p95)}" if p50 is not None else "n/a")
        ag = _get(row, "alertgraph", "p50_ms")
        pg50 = _get(row, "postgresql", "p50_ms")
        pg95 = _get(row, "postgresql", "p95_ms")
        lines.append(
            f"| {name} | {cells[0]} | {cells[1]} | {cells[2]} "
            f"| {_ratio(ag, _get(row, 'datasette', 'p50_ms'))} "
            f"| {_ratio(ag, _get(row, 'floor', 'p50_ms'))} "
            f"| {_ms(pg50)} / {_ms(pg95)} | {_ratio(pg50, ag)} |"
        )
    for clients in results["clients"]:
        key = str(clients)
        lines += [
            "",
            f"Throughput with {clients} concurrent clients, requests per second "
            "(ratios above 1x mean alertgraph serves more).",
            "",
            "| scenario | alertgraph | datasette | floor (sqlite3) | ag ÷ datasette | ag ÷ floor "
            "| alertgraph on PostgreSQL | PG ÷ SQLite |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, row in rows.items():
            values = {s: _get(row, s, "rps", key) for s in SYSTEMS}
            shown = [f"{v:.0f}" if v is not None else "n/a" for v in values.values()]
            lines.append(
                f"| {name} | {shown[0]} | {shown[1]} | {shown[2]} "
                f"| {_ratio(values['alertgraph'], values['datasette'])} "
                f"| {_ratio(values['alertgraph'], values['floor'])} "
                f"| {shown[3]} | {_ratio(values['postgresql'], values['alertgraph'])} |"
            )
    lines += ["", "Other measurements:", ""]
    lines.append(
        f"- import into SQLite: {results['import_sqlite']['rate']:,.0f} alerts/s "
        f"({results['import_sqlite']['seconds']:.0f} s, full validation)"
    )
    if "import_postgresql" in results:
        lines.append(
            f"- import into PostgreSQL: {results['import_postgresql']['rate']:,.0f} alerts/s "
            f"({results['import_postgresql']['seconds']:.0f} s)"
        )
    page1 = rows.get("page 1", {})
    page_n = rows.get("page 1000", {})
    for system in ("alertgraph", "datasette", "floor", "postgresql"):
        if system in page1 and system in page_n:
            lines.append(
                f"- {system}: deep page ÷ page 1 (p50) = "
                f"{_ratio(page_n[system]['p50_ms'], page1[system]['p50_ms'])}"
            )
    for system, rss in results.get("rss", {}).items():
        lines.append(
            f"- {system} RSS while paging through all {results['alerts']:,} alerts "
            f"({rss['pages']:,} pages, {rss['seconds']:.0f} s): peak {rss['peak_mib']:.0f} MiB "
            f"(idle {rss['idle_mib']:.0f} MiB)"
        )
    for label, micro in results.get("parse_bind_us", {}).items():
        lines.append(f"- {label}: {micro:.1f} µs")
    samples = results.get("samples", {})
    if samples:
        lines.append(
            f"- data: {samples['high_new']:,} alerts match severity+status; the hunted device "
            f"appears in {samples['device_alerts']} alerts"
        )
    console = results.get("console", {})
    if console:
        kinds = list(console)
        lines += [
            "",
            "Console pages rendered in process (session, Graph read, template), milliseconds "
            "p50 / p95:",
            "",
            "| view | " + " | ".join(kinds) + " |",
            "|---|" + "---|" * len(kinds),
        ]
        for view in console[kinds[0]]:
            cells = [
                f"{_ms(console[k][view]['p50_ms'])} / {_ms(console[k][view]['p95_ms'])}"
                for k in kinds
            ]
            lines.append(f"| {view} | " + " | ".join(cells) + " |")
    if "snapshots" in results:
        lines += ["", snapshot_markdown(results["snapshots"], results["snapshot_alerts"])]
    return "\n".join(lines)


def snapshot_markdown(results: dict[str, dict[str, float]], alerts: int) -> str:
    kinds = list(results)
    lines = [
        f"Emulator snapshot of {alerts:,} alerts: save, and restore after each case "
        "(median seconds):",
        "",
        "| case | " + " | ".join(kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for case in next(iter(results.values()), {}):
        lines.append(f"| {case} | " + " | ".join(f"{results[k][case]:.2f}" for k in kinds) + " |")
    return "\n".join(lines)
