"""`hadac report`: one self-contained HTML page about a spec and its answer.

The page is meant to be mailed, archived or attached to a paper, so it needs nothing at
view time: the CSS is inline, every plot is a PNG in a base64 data URI, there is no script,
and a Content-Security-Policy forbids the browser to fetch anything. It shows the spec as
written, the hardware with its carbon intensity, each surrogate's fit on its holdout rows
(predicted against measured, R², MAE, and the margins of confidence constraints), the
answer with its verification, and, when asked, a Pareto front.
"""

from __future__ import annotations

import base64
import datetime
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from hadac import __version__, carbon
from hadac.builddir import BuildDir
from hadac.compiler import Build, compile_spec
from hadac.inputs import NONE_GIVEN, Given
from hadac.numbers import plain
from hadac.query import Query
from hadac.resources import templates
from hadac.solve import Answer, solve_build

PALETTE = ("#1f6f8b", "#c2571a", "#4f8a3c", "#8a3c7a", "#6b6b2f", "#2f4f6b")


@dataclass
class Report:
    """What the page shows, gathered before it is rendered."""

    build: Build
    answer: Answer
    front: object | None = None  # hadac.pareto.Front


def _png(fig) -> str:
    """A matplotlib figure as a data URI, then closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def fit_figures(build: Build) -> list[dict]:
    """Per target, one PNG of predicted against measured on each pair's holdout rows (once
    for a surrogate that several pairs share: the locations of one hardware, or every
    hardware of an algorithm's hardware-independent data)."""
    plt = _pyplot()
    problem = build.problem
    out = []
    for target in problem.targets:
        pairs, seen = [], set()
        for pair in problem.pairs:
            shared = problem.shared_data(pair.algorithm, target.name) is not None
            declared = carbon.catalogue_name(problem.hardware_info(pair.hardware))
            label = "every hardware (shared data)" if shared else declared
            if (pair.algorithm, label) not in seen:
                seen.add((pair.algorithm, label))
                pairs.append((pair, label))
        columns = min(len(pairs), 3)
        rows = -(-len(pairs) // columns)
        fig, axes = plt.subplots(
            rows, columns, figsize=(3.3 * columns, 3.0 * rows), dpi=100, squeeze=False
        )
        for ax in axes.flat[len(pairs) :]:
            ax.set_visible(False)
        for index, (ax, (pair, declared)) in enumerate(zip(axes.flat, pairs, strict=False)):
            fitted = build.fitted[(pair.algorithm, pair.hardware, target.name)]
            ax.set_title(f"{pair.algorithm} on {declared}", fontsize=9)
            ax.tick_params(labelsize=7)
            ax.locator_params(nbins=4)
            if fitted.holdout_y is None:
                ax.text(0.5, 0.5, "too few rows\nfor a holdout", ha="center", va="center")
                continue
            y, p = fitted.holdout_y, fitted.holdout_predicted
            low, high = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
            ax.plot([low, high], [low, high], color="#9aa7b8", linewidth=0.8)
            ax.scatter(y, p, s=9, alpha=0.7, color=PALETTE[index % len(PALETTE)])
            ax.set_xlabel(f"measured [{target.unit_text}]", fontsize=8)
            ax.set_ylabel(f"predicted [{target.unit_text}]", fontsize=8)
        fig.suptitle(f"{target.name}: {target.text}, holdout rows", fontsize=10)
        fig.tight_layout()
        rows_ = []
        for pair, declared in pairs:
            fitted = build.fitted[(pair.algorithm, pair.hardware, target.name)]
            rows_.append(
                {
                    "algorithm": pair.algorithm,
                    "hardware": declared,
                    "rows": fitted.rows,
                    "holdout": 0 if fitted.holdout_y is None else len(fitted.holdout_y),
                    "r2": fitted.r2,
                    "mae": fitted.mae,
                }
            )
        out.append(
            {"name": target.name, "unit": target.unit_text, "text": target.text, "png": _png(fig)}
            | {"rows": rows_}
        )
    return out


def _hardware(build: Build) -> list[dict]:
    rows = []
    for entry in build.manifest.hardware:
        attributes = {k: v for k, v in entry.attributes.items() if k != carbon.ATTRIBUTE}
        rows.append(
            {
                "name": entry.name,
                "declared": entry.declared,
                "location": entry.location or "",
                "country": carbon.table().names.get(entry.location or "", ""),
                "intensity": entry.attributes.get(carbon.ATTRIBUTE),
                "attributes": ", ".join(f"{k} = {v:g}" for k, v in attributes.items()),
            }
        )
    return rows


def _margins(build: Build) -> list:
    return [c for c in build.manifest.constraints if c.confidence is not None]


def _front(front) -> dict | None:
    if front is None:
        return None
    from hadac import pareto

    buffer = io.BytesIO()
    pareto.plot(front, buffer)
    png = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return {
        "first": front.first,
        "second": front.second,
        "points": [
            {
                "first": p.first,
                "second": p.second,
                "label": pareto.label(p.point),
                "proven": p.proven,
            }
            for p in front.sorted()
        ],
        "complete": front.complete,
        "solves": front.solves,
        "solver": front.solver,
        "png": png,
    }


@cache
def _environment() -> jinja2.Environment:
    return templates({"num": _num}, html=True)


def _num(value: float | str | None, digits: int = 6) -> str:
    """A number as `plain` writes it; a str param's value is its name, as it is."""
    if value is None:
        return "–"
    return plain(value if isinstance(value, str) else float(value), digits)


def render(report: Report) -> str:
    """The page's HTML text."""
    build, answer = report.build, report.answer
    spec = build.problem.spec
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=build.problem.name,
            spec_file=spec.path.name,
            spec_text=spec.source,
            version=__version__,
            generated=datetime.date.today().isoformat(),
            manifest=build.manifest,
            hardware=_hardware(build),
            carbon=build.manifest.carbon,
            fits=fit_figures(build),
            margins=_margins(build),
            answer=answer,
            point=answer.point,
            front=_front(report.front),
            warnings=[d.format() for d in build.warnings],
        )
    )


def make(
    spec: Path,
    output: Path,
    pareto_objectives: list[str] | None = None,
    points: int = 10,
    solver: str | None = None,
    time_limit: float | None = None,
    location: str | None = None,
    build_dir: Path | None = None,
    inputs: Given = NONE_GIVEN,
) -> Report:
    """Compile, solve at the given instance inputs (and trace a front when asked), then
    write the page to `output`."""
    build = compile_spec(spec, build_dir, location)
    chosen = solver or build.problem.solver or "cbc"
    compiled = BuildDir(build.directory)
    manifest = compiled.manifest
    given = inputs.values(manifest)
    query = Query.of_spec(manifest).with_inputs(manifest, given)
    answer = solve_build(compiled, chosen, time_limit, build.seconds, query)
    front = None
    if pareto_objectives:
        from hadac import pareto

        first, second = pareto.axes(compiled.manifest, pareto_objectives)
        front = pareto.trace(compiled, first, second, chosen, points, time_limit, given)
    report = Report(build, answer, front)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(report), encoding="utf-8")
    return report
