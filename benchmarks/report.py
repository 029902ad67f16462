"""Turn benchmark results into the tables of docs/performance.md and an SVG chart."""

from __future__ import annotations

import math
import re
from html import escape
from pathlib import Path
from typing import Any

# The as-of tree read as known at an earlier instant (issue 14): within 3× of the
# current tree, as the as-of tree is.
KNOWN_AT_TREE = "tree as of 2019-01-01, known at a past instant (API)"

START_MARKER = "<!-- benchmark-results:start -->"
END_MARKER = "<!-- benchmark-results:end -->"
WRITES_START_MARKER = "<!-- benchmark-writes:start -->"
WRITES_END_MARKER = "<!-- benchmark-writes:end -->"
WRITES = (
    "rename",
    "create first child",
    "create last child",
    "move small subtree",
    "move large subtree",
)
SCALE_LABELS = {"seed": "seed", "1000": "1k", "10000": "10k", "100000": "100k"}
DATABASE_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Issue 6: serving the whole tree holds at most about this many times its JSON.
MEMORY_TARGET = 3.0
CHARTED = (
    ("whole tree (API)", "#1f77b4", ""),
    ("whole tree floor", "#1f77b4", "4 3"),
    ("tree as of 2019-01-01 (API)", "#d62728", ""),
    ("public structure page", "#2ca02c", ""),
    ("admin changelist", "#9467bd", ""),
    ("move largest subtree", "#ff7f0e", ""),
    ("one unit's history (API)", "#8c564b", ""),
)


def _runs(report: dict[str, Any], database: str) -> list[dict[str, Any]]:
    return [run for run in report["runs"] if run["database"] == database]


def _seconds(value: float) -> str:
    if value >= 10:
        return f"{value:.0f} s"
    if value >= 1:
        return f"{value:.1f} s"
    return f"{value * 1000:.0f} ms" if value >= 0.01 else f"{value * 1000:.1f} ms"


def _cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "—"
    text = _seconds(entry["seconds"])
    if entry.get("floor_seconds"):
        text += f" ({entry['seconds'] / entry['floor_seconds']:.1f}×)"
    return text


def _measurement_table(runs: list[dict[str, Any]]) -> list[str]:
    scales = [SCALE_LABELS.get(run["scale"], run["scale"]) for run in runs]
    names = list(runs[0]["measurements"])
    lines = [
        "| Measurement | " + " | ".join(scales) + " |",
        "|---|" + "---:|" * len(scales),
    ]
    for name in names:
        cells = [_cell(run["measurements"].get(name)) for run in runs]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    floors = [
        _seconds(run["measurements"]["whole tree (API)"]["floor_seconds"])
        for run in runs
    ]
    lines.append(
        "| *floor: whole tree, one SQL query + json.dumps* | "
        + " | ".join(floors)
        + " |"
    )
    return lines


def _query_table(runs: list[dict[str, Any]]) -> list[str]:
    scales = [SCALE_LABELS.get(run["scale"], run["scale"]) for run in runs]
    lines = [
        "| Request | " + " | ".join(scales) + " |",
        "|---|" + "---:|" * len(scales),
    ]
    for name in runs[0]["measurements"]:
        counts = [run["measurements"].get(name, {}).get("queries") for run in runs]
        if all(count is None for count in counts):
            continue
        lines.append(
            f"| {name} | "
            + " | ".join("—" if c is None else str(c) for c in counts)
            + " |"
        )
    return lines


def _load_table(report: dict[str, Any]) -> list[str]:
    lines = [
        "| Database | Scale | Units | History rows | Load | Consistency check | Max depth |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for run in report["runs"]:
        lines.append(
            f"| {DATABASE_LABELS[run['database']]} | {SCALE_LABELS.get(run['scale'], run['scale'])} "
            f"| {run['units']:,} | {run['history_rows']:,} | {_seconds(run['load_seconds'])} "
            f"| {_seconds(run['verify_seconds']) if 'verify_seconds' in run else 'not run'} "
            f"| {run['max_level'] + 1 if 'max_level' in run else '—'} |"
        )
    return lines


def _target_table(report: dict[str, Any]) -> list[str]:
    lines = [
        "| Target | Database | " + "Result |",
        "|---|---|---|",
    ]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    for database in DATABASE_LABELS:
        runs = [run for run in _runs(report, database) if run["scale"] != "seed"]
        if not runs:
            continue
        label = DATABASE_LABELS[database]
        for run in runs:
            tree = run["measurements"]["whole tree (API)"]
            ratio = tree["seconds"] / tree["floor_seconds"]
            lines.append(
                f"| whole tree within 2× of its floor ({SCALE_LABELS[run['scale']]}) "
                f"| {label} | {ratio:.1f}× — {verdict(ratio <= 2)} |"
            )
        for run in runs:
            as_of = run["measurements"]["tree as of 2019-01-01 (API)"]["seconds"]
            now = run["measurements"]["whole tree (API)"]["seconds"]
            lines.append(
                f"| as-of tree within 3× of the current tree ({SCALE_LABELS[run['scale']]}) "
                f"| {label} | {as_of / now:.1f}× — {verdict(as_of / now <= 3)} |"
            )
        for run in runs:
            known = run["measurements"].get(KNOWN_AT_TREE)
            if known is None:
                continue
            now = run["measurements"]["whole tree (API)"]["seconds"]
            ratio = known["seconds"] / now
            lines.append(
                f"| as-of tree with known_at within 3× of the current tree "
                f"({SCALE_LABELS[run['scale']]}) | {label} | {ratio:.1f}× — "
                f"{verdict(ratio <= 3)} |"
            )
        for smaller, larger in zip(runs, runs[1:], strict=False):
            growth = int(larger["scale"]) / int(smaller["scale"])
            for name in ("whole tree (API)", "tree as of 2019-01-01 (API)"):
                ratio = (
                    larger["measurements"][name]["seconds"]
                    / smaller["measurements"][name]["seconds"]
                )
                lines.append(
                    f"| linear: {name}, {SCALE_LABELS[smaller['scale']]} → "
                    f"{SCALE_LABELS[larger['scale']]} ({growth:.0f}× the units) "
                    f"| {label} | {ratio:.1f}× the time — {verdict(ratio <= growth * 1.2)} |"
                )
        for run in runs:
            memory = run.get("memory")
            if memory is None:
                continue
            ratio = memory["peak_bytes"] / memory["json_bytes"]
            lines.append(
                f"| serving the tree holds at most 3× its JSON "
                f"({SCALE_LABELS[run['scale']]}) "
                f"| {label} | peak {memory['peak_bytes'] / 2**20:.0f} MiB for "
                f"{memory['json_bytes'] / 2**20:.1f} MiB of JSON = {ratio:.1f}× — "
                f"{verdict(ratio <= MEMORY_TARGET)} |"
            )
    return lines


def tables(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        f"Run finished {report['finished']} in {report['total_seconds'] / 60:.1f} minutes "
        f"with `{report['command']}`.",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']} RAM; "
        f"{machine['system']}; Python {machine['python']}, Django {machine['django']}, "
        f"SQLite {machine['sqlite']}, psycopg {machine.get('psycopg', '—')}, "
        "PostgreSQL on the same machine. Code: commit "
        f"`{machine.get('commit') or 'unknown'}`"
        + (
            f" with {machine['uncommitted_python_files']} uncommitted Python files"
            if machine.get("uncommitted_python_files")
            else ""
        )
        + ".",
        "",
        "### Targets",
        "",
        *_target_table(report),
        "",
        "### Loading",
        "",
        "Seed: the IOM fixture through the services (`load_seed`). Synthetic scales: the "
        "generator's bulk insert (COPY on PostgreSQL). Consistency check: "
        "`selectors.registry_problems()` (tree against parent links, every object "
        "against its latest history row).",
        "",
        *_load_table(report),
    ]
    for database, label in DATABASE_LABELS.items():
        runs = _runs(report, database)
        if not runs:
            continue
        lines += [
            "",
            f"### {label}: median time per request (× its floor)",
            "",
            *_measurement_table(runs),
            "",
            f"### {label}: SQL queries per request",
            "",
            *_query_table(runs),
        ]
    return "\n".join(lines) + "\n"


def chart(report: dict[str, Any]) -> str:
    """Log-log: seconds against units, one panel per database."""
    databases = [database for database in DATABASE_LABELS if _runs(report, database)]
    panel_width, panel_height, margin = 420, 320, 80
    width = margin + len(databases) * (panel_width + margin) + 220
    height = panel_height + 2 * margin + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    series_runs = {
        database: [run for run in _runs(report, database) if run["scale"] != "seed"]
        for database in databases
    }
    values = [
        value
        for runs in series_runs.values()
        for run in runs
        for name, *_ in CHARTED
        if (value := _value(run, name))
    ]
    if not values:
        return "\n".join([*parts, "</svg>"])
    low = 10 ** math.floor(math.log10(min(values)))
    high = 10 ** math.ceil(math.log10(max(values)))
    units = [run["units"] for runs in series_runs.values() for run in runs]
    unit_low = 10 ** math.floor(math.log10(min(units)))
    unit_high = 10 ** math.ceil(math.log10(max(units)))

    for index, database in enumerate(databases):
        left = margin + index * (panel_width + margin)
        top = margin

        def x(count: float, left: int = left) -> float:
            span = math.log10(unit_high) - math.log10(unit_low) or 1
            return (
                left + (math.log10(count) - math.log10(unit_low)) / span * panel_width
            )

        def y(seconds: float, top: int = top) -> float:
            span = math.log10(high) - math.log10(low) or 1
            return (
                top
                + panel_height
                - (math.log10(seconds) - math.log10(low)) / span * panel_height
            )

        parts.append(
            f'<text x="{left + panel_width / 2}" y="{top - 20}" text-anchor="middle" '
            f'font-size="14" font-weight="bold">{DATABASE_LABELS[database]}</text>'
        )
        exponent = math.log10(low)
        while exponent <= math.log10(high) + 1e-9:
            value = 10**exponent
            parts.append(
                f'<line x1="{left}" x2="{left + panel_width}" y1="{y(value):.1f}" '
                f'y2="{y(value):.1f}" stroke="#ddd"/>'
                f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
                f"{_seconds(value)}</text>"
            )
            exponent += 1
        count = unit_low
        while count <= unit_high:
            parts.append(
                f'<line x1="{x(count):.1f}" x2="{x(count):.1f}" y1="{top}" '
                f'y2="{top + panel_height}" stroke="#ddd"/>'
                f'<text x="{x(count):.1f}" y="{top + panel_height + 16}" '
                f'text-anchor="middle">{_units_label(count)}</text>'
            )
            count *= 10
        parts.append(
            f'<text x="{left + panel_width / 2}" y="{top + panel_height + 34}" '
            'text-anchor="middle" fill="#555">units in the registry</text>'
        )
        parts.append(
            f'<rect x="{left}" y="{top}" width="{panel_width}" height="{panel_height}" '
            'fill="none" stroke="#444"/>'
        )
        for name, colour, dash in CHARTED:
            points = [
                (x(run["units"]), y(value))
                for run in series_runs[database]
                if (value := _value(run, name))
            ]
            if not points:
                continue
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" '
                f'stroke-width="2" stroke-dasharray="{dash}"/>'
            )
            parts.extend(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>'
                for px, py in points
            )
        # The linear-growth guide: 10x the units, 10x the time.
        first = series_runs[database][0]
        start = first["measurements"]["whole tree (API)"]["floor_seconds"]
        guide = [
            (x(run["units"]), y(start * run["units"] / first["units"]))
            for run in series_runs[database]
        ]
        parts.append(
            '<polyline points="'
            + " ".join(f"{px:.1f},{py:.1f}" for px, py in guide)
            + '" fill="none" stroke="#999" stroke-width="1" stroke-dasharray="1 3"/>'
        )
    legend_left = margin + len(databases) * (panel_width + margin)
    entries = [*CHARTED, ("linear growth", "#999", "1 3")]
    for row, (name, colour, dash) in enumerate(entries):
        top = margin + row * 22
        parts.append(
            f'<line x1="{legend_left}" x2="{legend_left + 28}" y1="{top}" y2="{top}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
            f'<text x="{legend_left + 34}" y="{top + 4}">{escape(name)}</text>'
        )
    parts.append(
        f'<text x="{margin}" y="{height - 14}" fill="#555">Median seconds per request '
        "(cold cache) against registry size, log-log. Lower is better.</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _units_label(count: int) -> str:
    return f"{count // 1000:,}k" if count >= 1000 else str(count)


def _value(run: dict[str, Any], name: str) -> float | None:
    if name == "whole tree floor":
        return run["measurements"]["whole tree (API)"]["floor_seconds"]
    entry = run["measurements"].get(name)
    return entry["seconds"] if entry else None


def _run_line(report: dict[str, Any]) -> str:
    return (
        f"Run finished {report['finished']} in {report['total_seconds'] / 60:.1f} "
        f"minutes with `{report['command']}`, commit "
        f"`{report['machine'].get('commit') or 'unknown'}`."
    )


def writes_tables(report: dict[str, Any]) -> str:
    """Each write's time, statements, and unit rows written against rows changed."""
    lines = [_run_line(report)]
    for database, label in DATABASE_LABELS.items():
        runs = [run for run in _runs(report, database) if run.get("writes")]
        if not runs:
            continue
        scales = [
            f"{SCALE_LABELS.get(run['scale'], run['scale'])} "
            f"({run['writes']['units']:,} units)"
            for run in runs
        ]
        lines += [
            "",
            f"### {label}: writes (median time; unit rows written / changed; "
            "statements)",
            "",
            "| Write | " + " | ".join(scales) + " |",
            "|---|" + "---:|" * len(scales),
        ]
        for name in WRITES:
            cells = []
            for run in runs:
                entry = run["writes"][name]
                cells.append(
                    f"{_seconds(entry['seconds'])}; {entry['rows_written']:,} / "
                    f"{entry['rows_changed']:,} rows; {entry['statements']} st."
                )
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        first = runs[0]["writes"]
        for run in runs[1:]:
            growth = run["writes"]["units"] / first["units"]
            ratios = ", ".join(
                f"{name} {run['writes'][name]['seconds'] / first[name]['seconds']:.1f}×"
                for name in WRITES
            )
            lines.append("")
            lines.append(
                f"Time at {SCALE_LABELS.get(run['scale'], run['scale'])} against "
                f"{SCALE_LABELS.get(runs[0]['scale'], runs[0]['scale'])} "
                f"({growth:.0f}× the units): {ratios}."
            )
    return "\n".join(lines) + "\n"


def _replace_section(text: str, start: str, end: str, body: str, title: str) -> str:
    section = f"{start}\n{body}{end}"
    if start in text and end in text:
        return re.sub(
            re.escape(start) + ".*?" + re.escape(end),
            lambda _: section,
            text,
            flags=re.DOTALL,
        )
    return text + f"\n## {title}\n\n{section}\n"


def write(report: dict[str, Any], document: Path, chart_path: Path) -> None:
    """Replace the results sections of the document and redraw the chart.

    A ``--writes-only`` run replaces the writes section alone.
    """
    text = document.read_text() if document.exists() else ""
    if not report.get("writes_only"):
        chart_path.write_text(chart(report))
        text = _replace_section(
            text, START_MARKER, END_MARKER, tables(report), "Results"
        )
    if any(run.get("writes") for run in report["runs"]):
        text = _replace_section(
            text,
            WRITES_START_MARKER,
            WRITES_END_MARKER,
            writes_tables(report),
            "Results: writes",
        )
    document.write_text(text)
