"""The benchmark's output: one figure per row of the issue's table, printed as Markdown and as JSON.

A figure holds lines; a line is one measured quantity beside the baseline measured in the same
run, the per-pair ratio, the target and whether the target is met. Targets are reported, never
asserted: a miss is a result to act on, not a crash.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from mcp_agents.bench.stats import Summary

FIGURE_KEYS = ("call_overhead", "relay_latency", "fan_out", "busy_replica", "fairness", "tasks", "cold_start",
               "tool_footprint", "local_service")

Value = Summary | float | int


@dataclass
class Line:
    """One measured quantity, its baseline and its verdict (`ok` None: informational, no target)."""

    label: str
    unit: str
    measured: Value | None
    baseline_label: str = ""
    baseline: Value | None = None
    ratio: Summary | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "unit": self.unit, "measured": _value_json(self.measured)}
        if self.baseline_label or self.baseline is not None:
            out["baseline_label"] = self.baseline_label
            out["baseline"] = _value_json(self.baseline)
        if self.ratio is not None:
            out["ratio"] = self.ratio.to_json()
        if self.target:
            out["target"] = self.target
        out["ok"] = self.ok
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Figure:
    key: str
    title: str
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool | None:
        """False if the figure failed or any line missed its target; None if nothing had a target."""
        if self.error is not None:
            return False
        verdicts = [line.ok for line in self.lines if line.ok is not None]
        return all(verdicts) if verdicts else None

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "ok": self.ok, "error": self.error, "seconds": round(self.seconds, 1),
                "lines": [line.to_json() for line in self.lines], "notes": self.notes}


def _value_json(value: Value | None) -> Any:
    if isinstance(value, Summary):
        return value.to_json()
    if isinstance(value, float):
        return round(value, 6)
    return value


def _fmt(value: float, unit: str) -> str:
    if unit in ("bytes", "runs", "messages", "count"):
        return f"{value:,.0f}"
    if unit == "x":
        return f"{value:.2f}x"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if magnitude >= 0.1 or value == 0 else f"{value:.3f}"


def _cells(value: Value | None, unit: str) -> tuple[str, str, str]:
    """p50, p95 and n of a summary, or the single value of a scalar."""
    if value is None:
        return "-", "-", "-"
    if isinstance(value, Summary):
        return f"{_fmt(value.p50, unit)} {unit}", f"{_fmt(value.p95, unit)} {unit}", str(value.n)
    return f"{_fmt(float(value), unit)} {unit}", "-", "-"


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("pass" if ok else "**FAIL**")


HEADER = ("figure", "measured", "p50", "p95", "n", "baseline (same run)", "p50", "p95", "ratio p50 (pairs)",
          "target", "result")


def table_rows(figures: Sequence[Figure]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for figure in figures:
        if figure.error is not None:
            rows.append((figure.key, f"error: {figure.error}", "-", "-", "-", "-", "-", "-", "-", "-", "**FAIL**"))
            continue
        for index, line in enumerate(figure.lines):
            p50, p95, n = _cells(line.measured, line.unit)
            b50, b95, _ = _cells(line.baseline, line.unit)
            ratio = f"{line.ratio.p50:.2f}x" if line.ratio is not None else "-"
            label = line.label + (f" ({line.note})" if line.note else "")
            rows.append((figure.key if index == 0 else "", label, p50, p95, n, line.baseline_label or "-",
                         b50, b95, ratio, line.target or "-", _verdict(line.ok)))
    return rows


def markdown_table(figures: Sequence[Figure]) -> str:
    rows = [HEADER, *table_rows(figures)]
    out = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(" --- " for _ in HEADER) + "|"]
    out.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows[1:])
    return "\n".join(out)


def print_report(figures: Sequence[Figure], machine: str, command: str, stream: TextIO) -> None:
    stream.write(f"machine: {machine}\ncommand: {command}\n\n{markdown_table(figures)}\n")
    notes = [(figure.key, note) for figure in figures for note in figure.notes]
    if notes:
        stream.write("\nnotes:\n")
        for key, note in notes:
            stream.write(f"- {key}: {note}\n")
    stream.flush()


def readme_block(figures: Sequence[Figure], machine: str, command: str, date: str) -> str:
    """The README's performance section body: command, date, machine, table and notes."""
    notes = "".join(f"- `{figure.key}`: {note}\n" for figure in figures for note in figure.notes)
    return (f"Measured on {date} with `{command}` on: {machine}.\n\n{markdown_table(figures)}\n\n"
            f"{notes}")


def write_json(path: Path, figures: Sequence[Figure], machine: dict[str, Any], meta: dict[str, Any]) -> None:
    """`figures` holds one key per row of the issue's table; `machine` and `run` say where and how."""
    document = {"machine": machine, "run": meta, "figures": {figure.key: figure.to_json() for figure in figures}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
