"""The report as Markdown: the run's conditions, then per section its status, conditions, facts and one table."""

from __future__ import annotations

import json
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":")).replace("|", "/")
    return str(value).replace("|", "/").replace("\n", " ")


def table(rows: list[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return lines


def render(report: dict[str, Any]) -> str:
    device = report["device"]
    lines = [
        f"# GPU check on {device['name']} ({device['backend']})",
        "",
        f"Mode: {report['mode']}. Device FLOP limit {device['peak_tflops']:.4g} TFLOP/s ({device['peak_source']}); "
        f"memory: {device['memory']}. MP4 writer: {report['mp4_writer']}. Budget {report['budget_s']:.0f} s, "
        f"ran {report.get('elapsed_s', 0):.0f} s. Versions: {_cell(report['versions'])}.",
        "",
        "Models: " + "; ".join(f"{k}: {v}" for k, v in report["targets"].items()) + ".",
    ]
    for name, section in report["sections"].items():
        status = section["status"]
        took = (
            f", {section['elapsed_s']:.1f} s of a {section['budget_s']:.0f} s budget" if "elapsed_s" in section else ""
        )
        lines += ["", f"## {name}: {status}{took}", ""]
        if status in ("skipped", "interrupted", "pending"):
            lines.append(section.get("reason", "not run yet"))
            continue
        if status == "failed":
            lines += [f"`{section['error']}`", "", "```", *section.get("traceback", []), "```"]
            continue
        lines.append(section["conditions"])
        facts = section.get("facts") or {}
        if facts:
            lines += [""] + [f"- {k}: {_cell(v)}" for k, v in facts.items()]
        if section.get("rows"):
            lines += [""] + table(section["rows"])
        if section.get("notes"):
            lines += [""] + [f"Note: {n}." for n in section["notes"]]
    return "\n".join(lines) + "\n"
