"""The `hadac` command: check, compile, show, solve, solvers.

Exit codes: 0 success (a verified answer for solve), 1 an error in the spec, its data or the
tools, 2 infeasible, 3 no solution within the time limit. Errors are printed as
`file:line:col: error: message` without a traceback; `--json` prints one object with a
`format_version` for machine use.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import hadac.solvers as solver_table
from hadac import __version__
from hadac.errors import Diagnostic, HadacError
from hadac.numbers import plain, shown

FORMAT_VERSION = 1
# Tables keep their shape in logs and pipes, where there is no terminal width to read.
_WIDTH = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "140"))
out = Console(highlight=False, soft_wrap=True, width=_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True, width=_WIDTH)


def _print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        style = "bold red" if d.severity == "error" else "yellow"
        head, _, rest = d.format().partition("\n")
        err.print(head, style=style, markup=False)
        if rest:
            err.print(rest, markup=False)


def _emit_json(payload: dict) -> None:
    click.echo(json.dumps(payload, indent=2, default=str))


class _Group(click.Group):
    """Turns `HadacError` into diagnostics and exit code 1; nothing else escapes silently."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HadacError as error:
            if ctx.meta.get("json"):
                diagnostics = [d.to_json() for d in error.diagnostics]
                _emit_json(
                    {"format_version": FORMAT_VERSION, "ok": False, "diagnostics": diagnostics}
                )
            else:
                _print_diagnostics(error.diagnostics)
            ctx.exit(1)
        except KeyboardInterrupt:
            err.print("interrupted")
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:  # a bug in hadac: say so plainly
            if os.environ.get("HADAC_DEBUG"):
                traceback.print_exc()
            err.print(f"hadac: internal error: {type(error).__name__}: {error}", markup=False)
            err.print("set HADAC_DEBUG=1 for a traceback", style="dim")
            ctx.exit(70)


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


class Seconds(click.ParamType):
    """A time limit in seconds, within `hadac.api.TIME_LIMITS`."""

    name = "SECONDS"

    def convert(self, value, param, ctx) -> float:
        from hadac.api import time_limit_problem

        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        problem = time_limit_problem(seconds, repr(value))
        if problem is not None:
            self.fail(problem, param, ctx)
        return seconds


time_limit_option = click.option(
    "--time-limit",
    type=Seconds(),
    help="Seconds per solve; the best solution found by then is reported as FEASIBLE.",
)
location_option = click.option(
    "--location",
    metavar="ISO3",
    help="Run every hardware at this location (ISO 3166 alpha-3, e.g. FRA) for its carbon"
    " intensity; a hardware's own carbon_intensity still wins. No new benchmarks.",
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hadac")
def main() -> None:
    """hadac: which hardware, which algorithm, which hyperparameters, under limits on time,
    memory, money and carbon, from surrogates learned on benchmark data."""


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@json_option
@click.pass_context
def check(ctx: click.Context, spec: Path, as_json: bool) -> None:
    """Parse and check SPEC and its data files; report every problem found."""
    from hadac.checks import load

    ctx.meta["json"] = as_json
    problem, reporter = load(spec)
    if as_json:
        diagnostics = [d.to_json() for d in reporter.diagnostics]
        _emit_json({"format_version": FORMAT_VERSION, "ok": True, "diagnostics": diagnostics})
        return
    _print_diagnostics(reporter.diagnostics)
    pairs = len(problem.pairs)
    shared = f" (and {len(problem.shared)} for every hardware)" if problem.shared else ""
    out.print(
        f"{spec}: ok: {len(problem.hardware)} hardware, {len(problem.algorithms)} algorithms,"
        f" {pairs} benchmark files{shared}, {len(problem.targets)} targets,"
        f" {len(problem.bounds)} constraints"
    )


def _compile(spec: Path, output: Path | None, location: str | None = None):
    from hadac.compiler import compile_spec

    with err.status(f"compiling {spec}", spinner="dots"):
        build = compile_spec(spec, output, location)
    _print_diagnostics(build.warnings)
    return build


def _load(target: Path, output: Path | None, location: str | None):
    """The study of a spec (compiled when its build is missing or out of date) or of a build
    directory, with the compile's warnings printed."""
    from hadac.api import load

    doing = f"opening {target}" if target.is_dir() else f"compiling {target}"
    with err.status(doing, spinner="dots"):
        study = load(target, output, location)
    if study.compiled is not None:
        _print_diagnostics(study.compiled.warnings)
    else:
        _print_recorded_warnings(study.manifest.warnings)
    return study


def _print_recorded_warnings(warnings: list[str]) -> None:
    """The compile's warnings as the manifest keeps them: each head line, highlighted."""
    for warning in warnings:
        err.print(warning.partition("\n")[0], style="yellow", markup=False)


@main.command(name="compile")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Build directory [build/<spec>]."
)
@json_option
@click.pass_context
def compile_command(ctx: click.Context, spec: Path, output: Path | None, as_json: bool) -> None:
    """Fit the surrogates of SPEC and write model.mzn, data, manifest and models."""
    ctx.meta["json"] = as_json
    build = _compile(spec, output)
    if as_json:
        _emit_json(
            {
                "format_version": FORMAT_VERSION,
                "ok": True,
                "build": str(build.directory),
                "shape": build.encoded.shape,
                "configurations": build.encoded.configurations,
                "surrogates": len(build.fitted),
                "seconds": build.seconds,
                "warnings": [d.to_json() for d in build.warnings],
            }
        )
        return
    out.print(
        f"compiled {spec} -> {build.directory}: {len(build.fitted)} surrogates,"
        f" {_shape_text(build.manifest.model)}, {build.seconds:.2f} s"
    )


def _shape_text(model) -> str:
    if model.shape == "enumerated":
        return f"{model.configurations} configurations enumerated"
    return "MIP model of the surrogates' structure"


def _size_text(surrogate) -> str:
    size = surrogate.size
    if "table_rows" in size:
        return f"{surrogate.encoding} ({size['table_rows']} rows)"
    binaries = f"{size['binaries']} binaries"
    if size.get("binaries_by_intervals", size["binaries"]) != size["binaries"]:
        binaries += f" ({size['binaries_by_intervals']} with interval bounds alone)"
    return f"{surrogate.encoding} ({binaries}, {size['constraints']} constraints)"


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    return shown(value, digits)


@main.command()
@click.argument("build_dir", type=click.Path(path_type=Path))
@json_option
@click.pass_context
def show(ctx: click.Context, build_dir: Path, as_json: bool) -> None:
    """Print the manifest of BUILD_DIR: surrogates, encodings, sizes, holdout R² and MAE."""
    from hadac.builddir import BuildDir

    ctx.meta["json"] = as_json
    manifest = BuildDir(build_dir).manifest
    if as_json:
        _emit_json(manifest.to_json())
        return
    out.print(
        f"[bold]{escape(manifest.spec.name)}[/] ({escape(manifest.spec.file)}):"
        f" {_shape_text(manifest.model)}, {len(manifest.constraints)} constraints,"
        f" {len(manifest.quantities)} quantities to bound or optimise;"
        f" hadac {manifest.versions.hadac},"
        f" scikit-learn {manifest.versions.scikit_learn}; fitted models in"
        f" {escape(str(build_dir / 'models'))}"
    )
    table = Table(title="surrogates", title_justify="left")
    for column in ("algorithm", "hardware", "target", "surrogate", "encoding", "rows", "R²", "MAE"):
        table.add_column(column, justify="right" if column in ("rows", "R²", "MAE") else "left")
    shown = set()  # a surrogate of hardware-independent data: one row for all its pairs
    for s in manifest.surrogates:
        if s.shared and s.model in shown:
            continue
        shown.add(s.model)
        kind = s.kind + "".join(f" {k}={v}" for k, v in s.hyperparameters.items())
        table.add_row(
            s.algorithm,
            "every (shared data)" if s.shared else s.hardware,
            escape(f"{s.target} [{s.unit}]"),
            kind,
            _size_text(s),
            str(s.rows),
            _fmt(s.holdout.r2, 3),
            _fmt(s.holdout.mae),
        )
    out.print(table)
    if manifest.inputs:
        inputs = Table(
            title="instance inputs each solve gives (--input NAME=VALUE, --inputs FILE.json)",
            title_justify="left",
        )
        for column in ("name", "range", "default", "read by", "line"):
            inputs.add_column(column, justify="right" if column == "line" else "left")
        for i in manifest.inputs:
            default = plain(i.default) if i.default is not None else "none: required"
            inputs.add_row(escape(i.name), i.text, default, ", ".join(i.algorithms), str(i.line))
        out.print(inputs)
    at = f" (at {_reference_text(manifest)})" if manifest.inputs else ""
    quantities = Table(
        title=f"quantities a solve can bound or optimise (--constraint, --minimize){at}",
        title_justify="left",
    )
    for column in ("name", "kind", "unit", "least", "greatest", "line"):
        right = column in ("least", "greatest", "line")
        quantities.add_column(column, justify="right" if right else "left")
    for q in manifest.quantities:
        name = q.name if q.kind != "expression" else q.text
        quantities.add_row(
            escape(name), q.kind, escape(q.unit), _fmt(q.low), _fmt(q.high), str(q.line)
        )
    out.print(quantities)
    _print_recorded_warnings(manifest.warnings)


def inputs_options(command):
    """`--input NAME=VALUE` (repeatable) and `--inputs FILE.json`: the instance inputs."""
    command = click.option(
        "--inputs",
        "inputs_file",
        type=click.Path(path_type=Path),
        metavar="FILE.json",
        help='Instance inputs from a JSON file: {"pv_mean": 268} or'
        ' {"inputs": [{"name": "pv_mean", "value": 268}]}.',
    )(command)
    return click.option(
        "--input",
        "given_inputs",
        multiple=True,
        metavar="NAME=VALUE",
        help="The value of an instance input: --input pv_mean=268. Repeatable; it"
        " overrides --inputs and the input's default.",
    )(command)


@main.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option(
    "--solver",
    type=click.Choice(solver_table.names()),
    help="Override the spec's solver.",
)
@time_limit_option
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Build directory when TARGET is a spec."
)
@location_option
@click.option(
    "--constraint",
    "constraints",
    multiple=True,
    metavar="EXPR",
    help="A bound for this solve, as a spec writes it: 'time <= 10 s'. It replaces the"
    " spec's bound on the same quantity and direction, or adds one. Repeatable.",
)
@click.option(
    "--drop-constraint",
    "drops",
    multiple=True,
    metavar="N|TEXT",
    help="Leave out a constraint of the spec, by number (1 is the first) or text. Repeatable.",
)
@click.option("--minimize", metavar="EXPR", help="Minimise this target or let instead.")
@click.option("--maximize", metavar="EXPR", help="Maximise this target or let instead.")
@inputs_options
@click.option(
    "--by-pair/--one-model",
    "by_pair",
    default=None,
    help="MIP models: solve one (algorithm, hardware) pair at a time, each bounded by the"
    " best found so far, and report what each pair gave; or the whole model at once. By"
    " default pair by pair where the pairs' trees can be narrowed (finite params), else"
    " the one model; there CP solvers too settle the pairs first, unless --one-model.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Pair by pair: pairs solved at once (default: this machine's cores).",
)
@json_option
@click.pass_context
def solve(
    ctx,
    target: Path,
    solver: str | None,
    time_limit: float | None,
    output,
    location,
    constraints: tuple[str, ...],
    drops: tuple[str, ...],
    minimize: str | None,
    maximize: str | None,
    given_inputs: tuple[str, ...],
    inputs_file: Path | None,
    by_pair: bool | None,
    jobs: int | None,
    as_json: bool,
) -> None:
    """Solve TARGET (a spec, compiled first, or a build directory) and verify the answer.

    --constraint, --drop-constraint, --minimize and --maximize ask the build another
    question without compiling again; --input and --inputs give the instance's inputs."""
    from hadac import inputs
    from hadac.query import FLAGS

    ctx.meta["json"] = as_json
    if target.is_dir() and location:
        raise click.UsageError("--location needs the spec (it recompiles), not a build dir")
    study = _load(target, output, location)
    given = inputs.Given(given_inputs, inputs_file)
    query = study.query(minimize, maximize, constraints, drops, names=FLAGS, inputs=given)
    for warning in inputs.outside(study.manifest, query.inputs) if study.build.enumerated else []:
        err.print(f"warning: {warning}", style="yellow", markup=False)
    chosen = study.solver(solver)
    if jobs is not None and by_pair is False:
        raise click.UsageError("--jobs goes with solving pair by pair, not --one-model")
    if by_pair:
        from hadac import runtime

        jobs = jobs or runtime.default_jobs()
    elif by_pair is False:
        jobs = 0
    with err.status(f"solving with {chosen}", spinner="dots"):
        answer = study.answer(query, chosen, time_limit, jobs)
    if as_json:
        _emit_json(answer.to_json())
    else:
        _print_answer(answer)
    ctx.exit(answer.exit_code)


def _reference_text(manifest) -> str:
    """`pv_mean = 250, load_std = 150`: the inputs a build's saved ranges were computed at."""
    return ", ".join(f"{i.name} = {plain(i.reference)}" for i in manifest.inputs)


def _print_answer(answer) -> None:
    p = answer.point
    status_style = {"OPTIMAL": "bold green", "FEASIBLE": "yellow"}.get(answer.status, "bold red")
    out.print(f"[{status_style}]{answer.status}[/] ({answer.solver}, {answer.where})")
    if p is None:
        if answer.status == "INFEASIBLE":
            out.print("no configuration meets every constraint:")
            for line in answer.explanations:
                out.print(f"  - {line}", markup=False)
        elif answer.interrupted:
            out.print("[yellow]interrupted before any solution was found[/]")
        else:
            out.print("no solution found within the limit")
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("hardware", p.declared or p.hardware)
    if p.location:
        chosen = " (chosen among the hardware's locations)" if p.location_chosen else ""
        table.add_row("location", p.location + chosen)
    table.add_row("algorithm", p.algorithm)
    for name, value in p.params.items():
        table.add_row(f"  {name}", plain(value))
    for given in answer.query.inputs:
        how = "given" if given.given else "default"
        table.add_row(f"input {given.name}", f"{plain(given.value)} ({how})")
    for name, value in {**p.predicted, **p.lets}.items():
        table.add_row(name, escape(f"{shown(value)} {answer.units[name]}"))
    if answer.objective is not None:
        table.add_row(
            "objective",
            escape(f"{answer.objective_text}: {shown(answer.objective)} {answer.objective_unit}"),
        )
    out.print(table)
    for row in answer.constraints:
        sign = "+" if row["op"] == "<=" else "-"
        said = row.get("written", row)  # in the bound's own unit where it was written in one
        margin = f" {sign} margin {shown(said['margin'])}" if "margin" in said else ""
        value = f"{shown(said['value'])}{margin} {said['unit']}".rstrip()
        out.print(f"  [green]✓[/] {escape(row['text'])}  ({escape(value)})")
    for o in answer.pairs:
        value = f": {shown(o.objective)} {answer.objective_unit}" if o.objective is not None else ""
        beat = f" (to beat {shown(o.bound)} {answer.objective_unit})" if o.bound is not None else ""
        out.print(
            escape(
                f"  pair {o.algorithm} on {o.hardware}: {o.status}{value}{beat}, {o.seconds:.2f} s"
            ),
            style="dim",
        )
    if answer.candidates is not None:
        out.print(
            f"  [dim]{answer.candidates} configuration{'s' if answer.candidates != 1 else ''}"
            " the fixed-point bounds could not rule out decided by predict[/]"
        )
    t = answer.timings
    parts = [f"{k} {v:.2f} s" for k, v in t.items() if v is not None]
    out.print(f"[dim]verified against the fitted models; {', '.join(parts)}[/]")
    if answer.interrupted:
        out.print("[yellow]interrupted: best solution found so far[/]")


solver_option = click.option(
    "--solver",
    type=click.Choice(solver_table.names()),
    help="Override the spec's solver.",
)


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "--objectives",
    required=True,
    metavar="A,B",
    help="Two targets or lets, both minimized: A under limits on B.",
)
@click.option(
    "--points",
    type=click.IntRange(min=2),
    default=10,
    show_default=True,
    help="At most this many points; all of them when the front has fewer.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Directory for front.csv, front.png and their build [build/<spec>-pareto for the"
    " files; the spec's own build].",
)
@solver_option
@time_limit_option
@location_option
@inputs_options
@json_option
@click.pass_context
def pareto(
    ctx,
    spec: Path,
    objectives: str,
    points: int,
    output,
    solver,
    time_limit,
    location,
    given_inputs: tuple[str, ...],
    inputs_file: Path | None,
    as_json: bool,
) -> None:
    """The Pareto front of two objectives of SPEC, by epsilon-constraint solves, each point
    verified; a table, and front.csv and front.png in the output directory."""
    from hadac import pareto as fronts
    from hadac.inputs import Given

    ctx.meta["json"] = as_json
    study = _load(spec, output / "build" if output else None, location)
    directory = output or study.build.directory.with_name(study.build.directory.name + "-pareto")
    with err.status(f"tracing the front of {objectives}", spinner="dots"):
        given = Given(given_inputs, inputs_file)
        front = study.pareto(objectives, points, solver, time_limit, inputs=given)
        csv_path, png_path = fronts.write(front, directory)
    if as_json:
        files = {"csv": str(csv_path), "png": str(png_path)}
        _emit_json({"format_version": FORMAT_VERSION, **front.to_json(), "files": files})
    else:
        _print_front(front)
        out.print(f"wrote {csv_path} and {png_path}", markup=False)
    if front.interrupted:
        ctx.exit(130)
    if not front.points:
        ctx.exit(2)  # infeasible, as for solve


def _print_front(front) -> None:
    from hadac.pareto import label

    first, second = front.first, front.second
    table = Table(title=f"Pareto front: {first.name} vs {second.name}", title_justify="left")
    table.add_column("#", justify="right")
    for axis in (first, second):
        heading = f"{axis.name} [{axis.unit}]" if axis.unit else axis.name
        table.add_column(escape(heading), justify="right")
    table.add_column("hardware / algorithm / params")
    table.add_column("verified")
    for i, p in enumerate(front.sorted(), start=1):
        check = "[green]✓[/]" if p.proven else "[yellow]✓ (not proven optimal)[/]"
        table.add_row(str(i), shown(p.first), shown(p.second), escape(label(p.point)), check)
    out.print(table)
    if not front.points:
        out.print("no configuration meets the spec's constraints: the front is empty")
    if front.interrupted:
        state = "[yellow]interrupted: the points found so far[/]"
    elif front.complete:
        state = "complete: every non-dominated point"
    else:
        state = "partial: raise --points for more"
    out.print(
        f"[dim]{len(front.points)} points, {state}; {front.solves} solves with {front.solver}"
        f" ({front.where}), {front.seconds:.2f} s[/]"
    )


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write.",
)
@click.option("--pareto", "objectives", metavar="A,B", help="Also trace this Pareto front.")
@click.option("--points", type=click.IntRange(min=2), default=10, show_default=True)
@click.option("--build", "build_dir", type=click.Path(path_type=Path), help="Build directory.")
@solver_option
@time_limit_option
@location_option
@inputs_options
def report(
    spec: Path,
    output: Path,
    objectives,
    points,
    build_dir,
    solver,
    time_limit,
    location,
    given_inputs: tuple[str, ...],
    inputs_file: Path | None,
):
    """One self-contained HTML page: the spec, each surrogate's fit, the verified answer,
    and the Pareto front when asked; it loads nothing from the network."""
    from hadac.inputs import Given
    from hadac.report import make

    names = [name.strip() for name in objectives.split(",")] if objectives else None
    with err.status(f"reporting on {spec}", spinner="dots"):
        given = Given(given_inputs, inputs_file)
        made = make(spec, output, names, points, solver, time_limit, location, build_dir, given)
    _print_diagnostics(made.build.warnings)
    status = made.answer.status
    choice = f": {made.answer.point.label()}" if made.answer.point else ""
    out.print(f"wrote {output} ({status}{choice})", markup=False)


def _scheduler(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--scheduler checked for the form of a Dask address before anything runs."""
    if value is None:
        return None
    from hadac.bench import scheduler_address

    try:
        return scheduler_address(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx, param) from None


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "--hardware",
    required=True,
    metavar="NAME",
    help="The catalogue hardware this machine stands for (or the Dask workers with hw-NAME).",
)
@click.option("--algorithm", metavar="NAME", help="Only this algorithm [each with a run line].")
@click.option(
    "--out", type=click.Path(path_type=Path), help="Results CSV [the spec's data file of the pair]."
)
@click.option("--render-only", is_flag=True, help="Write the runners into build/<spec>.bench/.")
@click.option(
    "--run-timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="A longer run is killed, recorded as an error, and its worker replaced.",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    callback=_scheduler,
    help="Send the runs to this Dask scheduler; each needs the worker resource hw-NAME=1.",
)
@click.option("--retry-errors", is_flag=True, help="Run again the runs recorded with an error.")
def bench(
    spec: Path,
    hardware: str,
    algorithm: str | None,
    out: Path | None,
    render_only: bool,
    run_timeout: float | None,
    scheduler: str | None,
    retry_errors: bool,
) -> None:
    """Benchmark the algorithms of SPEC on this machine as hardware NAME.

    Writes a standalone runner per algorithm into build/<spec>.bench/ (it needs only
    codecarbon and the workload's module: copy it to an HPC node and run it there), then runs
    it: each run in a worker process pinned to the hardware's `cores` CPUs, measured by
    codecarbon at the hardware's location, one CSV row per run, appended and flushed. A run
    that raises, exits, crashes or exceeds --run-timeout leaves a row with its error. A
    rerun skips the runs already in the CSV.

    Without --scheduler the runs go one after the other: runs side by side on one machine
    would share its CPUs, caches and memory bandwidth, and corrupt each other's time and
    energy. With it, they go to Dask workers started on each platform with
    `dask worker tcp://HOST:PORT --resources "hw-NAME=1"`, and the rows come back here.
    """
    from hadac import bench as benchmark

    problem = benchmark.load(spec)
    campaigns = benchmark.prepare(problem, hardware, algorithm, out, local=scheduler is None)
    for campaign in campaigns:
        out_text = f"{campaign.runner} ({campaign.runs} runs) -> {campaign.out}"
        err.print(f"runner {out_text}", markup=False)
    if render_only:
        return
    for campaign in campaigns:
        code = benchmark.run(campaign, run_timeout, scheduler, retry_errors)
        if code:
            click.get_current_context().exit(code)


@main.command()
@click.argument("targets", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Solves at once; later requests wait their turn.",
)
@click.option(
    "--max-time-limit",
    type=Seconds(),
    default=60.0,
    show_default=True,
    help="The most seconds a request may ask per solve (10 s when it asks none).",
)
def serve(targets: tuple[Path, ...], host: str, port: int, workers: int, max_time_limit):
    """Serve the studies of TARGETS (specs, compiled first, or build directories) as a REST
    API: GET /api/studies, GET /api/studies/NAME, POST /api/studies/NAME/solve and
    /pareto with the flags of `hadac solve` and `hadac pareto` as JSON fields. The schema
    is at /openapi.json and its page at /docs; the what-if page, at /, asks the same API."""
    try:
        import uvicorn

        from hadac.server import create_app
    except ImportError as missing:
        raise HadacError(
            f"hadac serve needs {missing.name}: install hadac with its serve extra"
            " (pip install 'hadac[serve]')"
        ) from None
    studies = [_load(target, None, None) for target in targets]
    app = create_app(studies, workers, max_time_limit)
    names = ", ".join(study.name for study in studies)
    err.print(
        f"serving {names} on http://{host}:{port}/ (the what-if page; the API at /api/studies)",
        markup=False,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


@main.command()
@json_option
def solvers(as_json: bool) -> None:
    """List hadac's solvers: version and where each runs, or why not."""
    from hadac import runtime

    infos = runtime.solvers()
    if as_json:
        _emit_json({"format_version": FORMAT_VERSION, "solvers": [i.to_json() for i in infos]})
        return
    table = Table()
    for column in ("solver", "version", "runs", "driver / reason"):
        table.add_column(column)
    for i in infos:
        table.add_row(
            i.name,
            i.version or "-",
            i.where or "[red]unavailable[/]",
            str(i.driver) if i.available else i.reason,
        )
    out.print(table)
