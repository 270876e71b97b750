"""How an answer and a Pareto front look in a notebook: the HTML of their `_repr_html_`.

A notebook shows the same facts as `hadac solve` and `hadac pareto` print: the choice, each
predicted figure with its unit, each constraint with its value, and for a front its points,
drawn as an inline SVG so the page needs no image file and no plotting library.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from hadac.numbers import plain, shown

if TYPE_CHECKING:
    from hadac.pareto import Front
    from hadac.solve import Answer

_TABLE = 'style="border-collapse: collapse; text-align: left"'
_CELL = 'style="padding: 2px 10px; text-align: left"'


def _rows(rows: list[tuple[str, str]]) -> str:
    return "".join(
        f"<tr><th {_CELL}>{escape(name)}</th><td {_CELL}>{escape(value)}</td></tr>"
        for name, value in rows
    )


def answer_html(answer: Answer) -> str:
    """The answer as `hadac solve` prints it: status, choice, figures, constraints."""
    head = f"<p><b>{escape(answer.status)}</b> ({escape(answer.solver)}, {escape(answer.where)})"
    p = answer.point
    if p is None:
        if answer.status == "INFEASIBLE":
            items = "".join(f"<li>{escape(line)}</li>" for line in answer.explanations)
            return f"{head}: no configuration meets every constraint</p><ul>{items}</ul>"
        return f"{head}: no solution found within the limit</p>"
    rows = [("hardware", p.declared or p.hardware)]
    if p.location:
        rows.append(("location", p.location + (" (chosen)" if p.location_chosen else "")))
    rows.append(("algorithm", p.algorithm))
    rows += [(f"  {name}", plain(value)) for name, value in p.params.items()]
    figures = {**p.predicted, **p.lets}
    rows += [(name, _value(value, answer.units[name])) for name, value in figures.items()]
    if answer.objective is not None:
        objective = _value(answer.objective, answer.objective_unit or "")
        rows.append(("objective", f"{answer.objective_text}: {objective}"))
    checks = "".join(
        f"<tr><td {_CELL}>{'✓' if row['holds'] else '✗'}</td><td {_CELL}>{escape(row['text'])}"
        f"</td><td {_CELL}>{escape(_said(row))}</td></tr>"
        for row in answer.constraints
    )
    return (
        f"{head}</p><table {_TABLE}>{_rows(rows)}</table>"
        f"<table {_TABLE}><tr><th {_CELL}></th><th {_CELL}>constraint</th>"
        f"<th {_CELL}>value</th></tr>{checks}</table>"
        "<p><small>verified against the fitted models</small></p>"
    )


def _value(value: float, unit: str) -> str:
    return f"{shown(value)} {unit}".rstrip()


def _said(row: dict) -> str:
    """A constraint row's value, in the bound's own unit where it was written in one."""
    said = row.get("written", row)
    return _value(said["value"], said["unit"])


def front_html(front: Front) -> str:
    """The front as an SVG scatter with its staircase, and its points as a table."""
    from hadac.pareto import label

    first, second = front.first, front.second
    points = front.sorted()
    state = "complete" if front.complete else "partial"
    head = (
        f"<p><b>Pareto front</b>: {escape(first.name)} vs {escape(second.name)}, {len(points)}"
        f" points, {state}; {front.solves} solves with {escape(front.solver)}</p>"
    )
    rows = "".join(
        f"<tr><td {_CELL}>{i}</td><td {_CELL}>{shown(p.first)}</td><td {_CELL}>"
        f"{shown(p.second)}</td><td {_CELL}>{escape(label(p.point))}</td></tr>"
        for i, p in enumerate(points, start=1)
    )
    table = (
        f"<table {_TABLE}><tr><th {_CELL}>#</th><th {_CELL}>{escape(_axis(first))}</th>"
        f"<th {_CELL}>{escape(_axis(second))}</th><th {_CELL}>choice</th></tr>{rows}</table>"
    )
    return head + _svg(front) + table


def _axis(axis) -> str:
    return f"{axis.name} [{axis.unit}]" if axis.unit else axis.name


def _svg(front: Front, width: int = 420, height: int = 300, pad: int = 44) -> str:
    """The points in a box scaled to their ranges, numbered as in the table."""
    points = front.sorted()
    if not points:
        return ""
    xs, ys = [p.first for p in points], [p.second for p in points]

    def scale(value: float, low: float, high: float, size: int) -> float:
        return (value - low) / (high - low) * size if high > low else size / 2

    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    at = [
        (
            pad + scale(x, min(xs), max(xs), inner_w),
            height - pad - scale(y, min(ys), max(ys), inner_h),
        )
        for x, y in zip(xs, ys, strict=True)
    ]
    steps = " ".join(
        f"{x:.1f},{y:.1f} {at[i + 1][0]:.1f},{y:.1f}" if i + 1 < len(at) else f"{x:.1f},{y:.1f}"
        for i, (x, y) in enumerate(at)
    )
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f6f8b"/>'
        f'<text x="{x + 5:.1f}" y="{y - 5:.1f}" font-size="10">{i}</text>'
        for i, (x, y) in enumerate(at, start=1)
    )
    box = f'<rect x="{pad}" y="{pad}" width="{inner_w}" height="{inner_h}" fill="none"'
    box += ' stroke="#c0c8d2"/>'
    labels = (
        f'<text x="{width / 2}" y="{height - 10}" font-size="11" text-anchor="middle">'
        f"{escape(_axis(front.first))}: {shown(min(xs))} to {shown(max(xs))}</text>"
        f'<text x="12" y="{height / 2}" font-size="11" text-anchor="middle"'
        f' transform="rotate(-90 12 {height / 2})">'
        f"{escape(_axis(front.second))}: {shown(min(ys))} to {shown(max(ys))}</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">{box}'
        f'<polyline points="{steps}" fill="none" stroke="#9aa7b8"/>{dots}{labels}</svg>'
    )
