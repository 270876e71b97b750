"""`hadac bench`: write the standalone benchmark runner of each algorithm, then run it.

The runner (`templates/bench/runner.py.j2`) holds the whole campaign: its list of runs, the
worker process that measures them with codecarbon, the CSV, resume and Dask, so that it can
be copied to a machine that has no hadac checkout and no network (an HPC node) and run there.
This module decides what the runner runs (the spec's design on one hardware, see
`hadac.design`) and where its rows go, writes it into `build/<spec>.bench/`, and runs it in
this process: killing `hadac bench` kills the campaign, and its worker follows.

Every value that reaches the runner's source goes through `py_literal`, so that no name, file
name or string of a spec can end a string literal early and become code.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from hadac import __version__, ast
from hadac.checks import check
from hadac.compiler import default_directory
from hadac.design import Run, plan
from hadac.errors import Diagnostic, HadacError
from hadac.parser import parse_file
from hadac.problem import AlgorithmInfo, HardwareInfo, Problem
from hadac.resources import templates


@dataclass(frozen=True)
class Campaign:
    """One algorithm on one hardware: the runner written for it and the CSV it fills."""

    algorithm: str
    hardware: str
    runner: Path
    out: Path
    runs: int


def load(spec_path: Path | str) -> Problem:
    """The checked spec, without its data files: the campaign is what writes them."""
    problem, _ = check(parse_file(spec_path), read_data=False)
    return problem


def bench_directory(build: Path) -> Path:
    """`build/<spec>.bench`: beside the build, not in it, since a compile replaces the whole
    build directory and would take the runners and the logs of their workloads with it."""
    return build.with_name(f"{build.name}.bench")


def runner_name(algorithm: str, hardware: str) -> str:
    """The runner's file stem, an identifier: Dask workers import the runner by this name."""
    return f"run_{algorithm}_on_{hardware}"


def prepare(
    problem: Problem,
    hardware: str,
    algorithm: str | None = None,
    out: Path | None = None,
    directory: Path | None = None,
    local: bool = True,
) -> list[Campaign]:
    """Check the request against the spec and write a runner for each algorithm to run."""
    spec = problem.spec
    hw_ast = next((h for h in spec.hardware if h.name == hardware), None)
    if hw_ast is None:
        declared = ", ".join(h.name for h in spec.hardware)
        raise HadacError(f"unknown hardware '{hardware}' (the spec declares: {declared})")
    info = problem.hardware_info(hardware)
    location = info.strings.get("location")
    if not isinstance(location, str):
        what = "no location" if location is None else "more than one location"
        raise HadacError(
            _at(
                spec,
                hw_ast.pos,
                f"hardware '{hardware}' has {what}: codecarbon needs the one country whose"
                f' grid powers it, as location = "ISO"',
                len(hardware),
            )
        )
    cores = info.numbers.get("cores")
    if local and cores is not None and cores > len(os.sched_getaffinity(0)):
        attribute = hw_ast.attribute("cores")
        raise HadacError(
            _at(
                spec,
                attribute.pos,
                f"hardware '{hardware}' has cores = {int(cores)}, but this machine lets hadac"
                f" use {len(os.sched_getaffinity(0))} CPU(s); run the campaign on a machine"
                " that has them, or send it there with --scheduler",
                len("cores"),
            )
        )
    chosen = _algorithms(problem, algorithm)
    if out is not None and len(chosen) > 1:
        names = ", ".join(a.name for a in chosen)
        raise HadacError(f"--out names one CSV, but {len(chosen)} algorithms would run ({names});"
                         " add --algorithm")  # fmt: skip
    folder = bench_directory(directory or default_directory(problem))
    folder.mkdir(parents=True, exist_ok=True)
    campaigns = []
    for algo in chosen:
        runs = plan(algo, algo.bench)
        path = folder / f"{runner_name(algo.name, hardware)}.py"
        _write(path, _render(problem, algo, info, location, runs))
        target = out or _default_out(problem, algo.name, hardware, folder)
        campaigns.append(Campaign(algo.name, hardware, path, target, len(runs)))
    return campaigns


def _write(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file, so that a runner is whole or absent."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _at(spec: ast.Spec, pos: ast.Pos, message: str, length: int) -> Diagnostic:
    return Diagnostic(message, spec.path, pos, length, "error", spec.source)


def _algorithms(problem: Problem, name: str | None) -> list[AlgorithmInfo]:
    if name is not None:
        found = next((a for a in problem.algorithms if a.name == name), None)
        if found is None:
            declared = ", ".join(a.name for a in problem.algorithms)
            raise HadacError(f"unknown algorithm '{name}' (the spec declares: {declared})")
        if found.bench is None or found.bench.run is None:
            raise HadacError(
                f"algorithm '{name}' has no run = \"module:function\": nothing to benchmark"
            )
        return [found]
    chosen = [a for a in problem.algorithms if a.bench is not None and a.bench.run]
    if not chosen:
        raise HadacError(
            'no algorithm of the spec has a run = "module:function" line: nothing to benchmark'
        )
    return chosen


def _default_out(problem: Problem, algorithm: str, hardware: str, folder: Path) -> Path:
    """The spec's data file of the pair, where `compile` will read it; else beside the runner."""
    algo = next(a for a in problem.spec.algorithms if a.name == algorithm)
    binding = next((d for d in algo.data if d.hardware == hardware), None)
    if binding is None:
        return folder / f"{algorithm}_{hardware}.csv"
    return problem.spec.path.parent / binding.path


def _design_text(algorithm: AlgorithmInfo) -> str:
    setup = algorithm.bench
    repeats = f"{setup.repeats} repeat{'s' if setup.repeats != 1 else ''}"
    instances = f"{len(setup.instances)} instance{'s' if len(setup.instances) != 1 else ''}"
    if setup.design == "grid":
        sizes = " x ".join(f"{len(p.values)} {p.name}" for p in algorithm.params)
        what = f"grid of {sizes + ' x ' if sizes else ''}{instances}"
    else:
        what = f"{setup.design} design of {setup.runs} points over {instances}"
    return f"{what}, {repeats}, seed {setup.seed}"


def _render(
    problem: Problem,
    algorithm: AlgorithmInfo,
    hardware: HardwareInfo,
    location: str,
    runs: list[Run],
) -> str:
    cores = hardware.numbers.get("cores")
    return (
        templates({"py": py_literal})
        .get_template("bench/runner.py.j2")
        .render(
            version=__version__,
            spec_file=problem.spec.path.name,
            algorithm=algorithm.name,
            hardware=hardware.name,
            location=location,
            cores=int(cores) if cores is not None else None,
            function=algorithm.bench.run,
            params=[p.name for p in algorithm.params],
            default_out=f"{algorithm.name}_{hardware.name}.csv",
            runs=[(run.params, run.instance, run.repeat) for run in runs],
            design_text=_design_text(algorithm),
        )
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def py_literal(value: object) -> str:
    """`value` as a Python literal that evaluates back to it: the one way values enter a
    generated runner, so that no text of a spec or its file name can end a literal and
    become code.

    Strings are JSON strings, which escape quotes, backslashes and control characters and
    use double quotes as ruff formats them, so that the runner reads like code a person
    wrote; lone surrogates (a file name that is not UTF-8) are escaped too, so that the
    runner stays a UTF-8 file.
    """
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
    if value is None or isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f'float("{value!r}")'
    if isinstance(value, dict):
        items = (f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    raise TypeError(f"no Python literal for a {type(value).__name__}")


def run(
    campaign: Campaign,
    run_timeout: float | None = None,
    scheduler: str | None = None,
    retry_errors: bool = False,
) -> int:
    """Run the campaign's runner in this process; its exit code (0, 1 when every run it made
    failed, or 130 on Ctrl-C). A campaign that cannot run is a HadacError saying why."""
    name = campaign.runner.stem
    spec = importlib.util.spec_from_file_location(name, campaign.runner)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # by this name, Dask pickles its functions by reference
    spec.loader.exec_module(module)
    argv = ["--out", str(campaign.out)]
    if run_timeout is not None:
        argv += ["--run-timeout", repr(run_timeout)]
    if scheduler is not None:
        argv += ["--scheduler", scheduler]
    if retry_errors:
        argv.append("--retry-errors")
    try:
        return module.campaign(argv)
    except module.CampaignError as error:
        raise HadacError(str(error)) from None


#: Dask's schemes between machines (its `inproc://` stays within one process).
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


def scheduler_address(text: str) -> str:
    """`text` as the address of a Dask scheduler, `tcp://` added when it names no scheme;
    ValueError when it is not one, before a campaign tries to reach it."""
    address = text if "://" in text else f"tcp://{text}"
    parts = urllib.parse.urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    extra = parts.path or parts.query or parts.fragment or parts.username
    if parts.scheme not in SCHEDULER_SCHEMES or not parts.hostname or not port or extra:
        schemes = ", ".join(f"{scheme}://" for scheme in SCHEDULER_SCHEMES)
        raise ValueError(
            f"expected the address of a Dask scheduler, HOST:PORT or tcp://HOST:PORT"
            f" (or {schemes.removeprefix('tcp://, ')}); got {text!r}"
        )
    return address
