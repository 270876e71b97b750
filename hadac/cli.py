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
from rich.table import Table

from hadac import __version__
from hadac.errors import Diagnostic, HadacError

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
                _emit_json({"format_version": FORMAT_VERSION, "ok": False, "diagnostics": diagnostics})
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
    out.print(
        f"{spec}: ok: {len(problem.hardware)} hardware, {len(problem.algorithms)} algorithms,"
        f" {pairs} benchmark files, {len(problem.targets)} targets, {len(problem.bounds)} constraints"
    )


def _compile(spec: Path, output: Path | None):
    from hadac.compiler import compile_spec

    with err.status(f"compiling {spec}", spinner="dots"):
        build = compile_spec(spec, output)
    _print_diagnostics(build.warnings)
    return build


@main.command(name="compile")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Build directory [build/<spec>].")
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
        f" {_shape_text(build.manifest['model'])}, {build.seconds:.2f} s"
    )


def _shape_text(model: dict) -> str:
    if model["shape"] == "enumerated":
        return f"{model['configurations']} configurations enumerated"
    return "MIP model of the surrogates' structure"


def _size_text(surrogate: dict) -> str:
    size = surrogate["size"]
    if "table_rows" in size:
        return f"{surrogate['encoding']} ({size['table_rows']} rows)"
    return f"{surrogate['encoding']} ({size['binaries']} binaries, {size['constraints']} constraints)"


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}"


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
        _emit_json(manifest)
        return
    model = manifest["model"]
    out.print(
        f"[bold]{manifest['spec']['name']}[/] ({manifest['spec']['file']}):"
        f" {_shape_text(model)}, {model['constraints']} constraints; hadac {manifest['versions']['hadac']},"
        f" scikit-learn {manifest['versions']['scikit-learn']}; fitted models in"
        f" {build_dir / 'models'}"
    )
    table = Table(title="surrogates", title_justify="left")
    for column in ("algorithm", "hardware", "target", "surrogate", "encoding", "rows", "R²", "MAE"):
        table.add_column(column, justify="right" if column in ("rows", "R²", "MAE") else "left")
    for s in manifest["surrogates"]:
        kind = s["kind"] + "".join(f" {k}={v}" for k, v in s["hyperparameters"].items())
        table.add_row(
            s["algorithm"],
            s["hardware"],
            f"{s['target']} [{s['unit']}]",
            kind,
            _size_text(s),
            str(s["rows"]),
            _fmt(s["holdout"]["r2"], 3),
            _fmt(s["holdout"]["mae"]),
        )
    out.print(table)
    for warning in manifest["warnings"]:
        err.print(warning.partition("\n")[0], style="yellow", markup=False)


@main.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--solver", type=click.Choice(["cbc", "highs", "gecode", "chuffed"]), help="Override the spec's solver.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="Seconds; the best solution so far is reported as FEASIBLE.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Build directory when TARGET is a spec.")
@json_option
@click.pass_context
def solve(ctx, target: Path, solver: str | None, time_limit: float | None, output, as_json: bool) -> None:
    """Solve TARGET (a spec, compiled first, or a build directory) and verify the answer."""
    from hadac.builddir import BuildDir
    from hadac.solve import solve_build

    ctx.meta["json"] = as_json
    compile_seconds = None
    spec_solver = None
    if target.is_dir():
        build = BuildDir(target)
        spec_solver = build.manifest.get("solver")
    else:
        compiled = _compile(target, output)
        compile_seconds = compiled.seconds
        spec_solver = compiled.problem.solver
        build = BuildDir(compiled.directory)
    solver = solver or spec_solver or "cbc"
    with err.status(f"solving with {solver}", spinner="dots"):
        answer = solve_build(build, solver, time_limit, compile_seconds)
    if as_json:
        _emit_json(answer.to_json())
    else:
        _print_answer(answer)
    ctx.exit(answer.exit_code)


def _print_answer(answer) -> None:
    p = answer.point
    status_style = {"OPTIMAL": "bold green", "FEASIBLE": "yellow"}.get(answer.status, "bold red")
    out.print(f"[{status_style}]{answer.status}[/] ({answer.solver}, {answer.where})")
    if p is None:
        if answer.status == "INFEASIBLE":
            out.print("no configuration meets every constraint:")
            for line in answer.explanations:
                out.print(f"  - {line}", markup=False)
        else:
            out.print("no solution found within the limit")
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("hardware", p.hardware)
    table.add_row("algorithm", p.algorithm)
    for name, value in p.params.items():
        table.add_row(f"  {name}", f"{value:g}")
    for name, value in p.predicted.items():
        table.add_row(name, f"{value:.6g} {answer.units[name]}")
    if answer.objective is not None:
        table.add_row("objective", f"{answer.objective_text}: {answer.objective:.6g} {answer.objective_unit}")
    out.print(table)
    for row in answer.constraints:
        out.print(f"  [green]✓[/] {row['text']}  ({row['value']:.6g} {row['unit']})", markup=True)
    t = answer.timings
    parts = [f"{k} {v:.2f} s" for k, v in t.items() if v is not None]
    out.print(f"[dim]verified against the fitted models; {', '.join(parts)}[/]")
    if answer.interrupted:
        out.print("[yellow]interrupted: best solution found so far[/]")


@main.command()
@json_option
def solvers(as_json: bool) -> None:
    """List gecode, cbc, highs and chuffed: version and where each runs, or why not."""
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

