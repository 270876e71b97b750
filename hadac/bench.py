"""`hadac bench`: write the campaign of each algorithm on one hardware, then run it.

A campaign is three files in `build/<spec>.bench/`:

- `run_<algorithm>_on_<hardware>.json`, the campaign file: the settings (the function, the
  hardware's location and cores, the params) and the list of runs, in the order they go;
- `hadac_benchrunner.py`, a copy of `hadac.benchrunner`, shared by the campaigns of the
  folder: the worker process that measures the runs with codecarbon, the CSV, resume, Dask;
- `run_<algorithm>_on_<hardware>.py`, the script that runs the one with the other.

Together they need no hadac, so that they can be copied to a machine that has no hadac
checkout and no network (an HPC node) and run there. This module decides what a campaign
runs (the spec's design on one hardware, see `hadac.design`) and where its rows go, writes
the files, and runs the campaign in this process, with the copy beside it: killing `hadac
bench` kills the campaign, and its worker follows.

Values of a spec reach the runner only as JSON data, never as source: the script is the
same for every campaign, so that no name, file name or string of a spec can become code.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from hadac import __version__, ast, benchrunner
from hadac.checks import check
from hadac.compiler import default_directory
from hadac.design import Run, plan
from hadac.errors import Diagnostic, HadacError
from hadac.parser import parse_file
from hadac.problem import AlgorithmInfo, HardwareInfo, Problem
from hadac.resources import resource_dir

#: The name of the copy of `hadac.benchrunner` beside the campaigns, as their scripts import
#: it and as Dask workers import it once it is uploaded to them.
RUNNER_MODULE = "hadac_benchrunner"


@dataclass(frozen=True)
class Campaign:
    """One algorithm on one hardware: the runner written for it, its campaign file and the
    CSV it fills."""

    algorithm: str
    hardware: str
    runner: Path  # run_<algorithm>_on_<hardware>.py
    file: Path  # run_<algorithm>_on_<hardware>.json, beside it
    out: Path
    runs: int


def load(spec_path: Path | str) -> Problem:
    """The checked spec, without its data files: the campaign is what writes them."""
    problem, _ = check(parse_file(spec_path), read_data=False)
    return problem


def bench_directory(build: Path) -> Path:
    """`build/<spec>.bench`: beside the build, not in it, since a compile replaces the whole
    build directory and would take the campaigns and the logs of their workloads with it."""
    return build.with_name(f"{build.name}.bench")


def runner_name(algorithm: str, hardware: str) -> str:
    """The file stem of a campaign's script, campaign file and log."""
    return f"run_{algorithm}_on_{hardware}"


def prepare(
    problem: Problem,
    hardware: str,
    algorithm: str | None = None,
    out: Path | None = None,
    directory: Path | None = None,
    local: bool = True,
) -> list[Campaign]:
    """Check the request against the spec and write the campaign of each algorithm to run:
    its campaign file and script, and the runner module they share."""
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
    _write(folder / f"{RUNNER_MODULE}.py", Path(benchrunner.__file__).read_text(encoding="utf-8"))
    script = (resource_dir("templates") / "bench" / "run.py").read_text(encoding="utf-8")
    campaigns = []
    for algo in chosen:
        runs = plan(algo, algo.bench)
        stem = runner_name(algo.name, hardware)
        file, runner = folder / f"{stem}.json", folder / f"{stem}.py"
        _write(file, campaign_text(_settings(problem, algo, info, location), runs))
        _write(runner, script)
        target = out or _default_out(problem, algo.name, hardware, folder)
        campaigns.append(Campaign(algo.name, hardware, runner, file, target, len(runs)))
    return campaigns


def _write(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file, so that each file of a campaign is
    whole or absent, also to a campaign that starts meanwhile."""
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


def _settings(
    problem: Problem, algorithm: AlgorithmInfo, hardware: HardwareInfo, location: str
) -> benchrunner.Settings:
    """What the runs of `algorithm` on `hardware` share, as the runner reads it back."""
    cores = hardware.numbers.get("cores")
    return benchrunner.Settings(
        algorithm=algorithm.name,
        hardware=hardware.name,
        location=location,
        cores=int(cores) if cores is not None else None,
        function=algorithm.bench.run,
        params=tuple(p.name for p in algorithm.params),
        names=tuple((p.name, p.labels) for p in algorithm.params if p.labels),
        spec_file=problem.spec.path.name,
        hadac_version=__version__,
        design=_design_text(algorithm),
        default_out=f"{algorithm.name}_{hardware.name}.csv",
    )


def campaign_text(settings: benchrunner.Settings, runs: list[Run]) -> str:
    """The campaign file of `settings` and `runs`: JSON that `benchrunner.load_campaign`
    reads back, one run a line so that a person can read and diff it."""
    head = {"campaign_format": benchrunner.CAMPAIGN_FORMAT, **settings.to_json()}
    lines = [f"  {json_text(name)}: {json_text(value)}," for name, value in head.items()]
    items = [
        json_text({"params": run.params, "instance": run.instance, "repeat": run.repeat})
        for run in runs
    ]
    body = "".join(f"\n    {item}," for item in items).removesuffix(",")
    return "{\n" + "\n".join(lines) + f'\n  "runs": [{body}\n  ]\n}}\n'


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(value: object) -> str:
    """`value` as strict JSON: the one way values of a spec enter a campaign.

    Non-ASCII text stays as it is, so that the file reads as the spec does; lone surrogates
    (a file name that is not UTF-8) are escaped, so that the file stays UTF-8. A value that
    JSON cannot hold (NaN, infinity, a set) is a ValueError or TypeError rather than a file
    that other readers refuse.
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def run(
    campaign: Campaign,
    run_timeout: float | None = None,
    scheduler: str | None = None,
    retry_errors: bool = False,
) -> int:
    """Run the campaign in this process; its exit code (0, 1 when every run it made failed,
    or 130 on Ctrl-C). A campaign that cannot run is a HadacError saying why.

    It runs with the copy of the runner module beside it, the code a copied campaign runs,
    so that what `hadac bench` measures and what a node measures do not differ."""
    needed = ["psutil"] + (["distributed"] if scheduler is not None else [])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise HadacError(
            f"hadac bench needs {' and '.join(missing)}, which this installation lacks:"
            " pip install 'hadac[bench]'"
        )
    module = _runner_module(campaign.runner.with_name(f"{RUNNER_MODULE}.py"))
    argv = ["--out", str(campaign.out)]
    if run_timeout is not None:
        argv += ["--run-timeout", repr(run_timeout)]
    if scheduler is not None:
        argv += ["--scheduler", scheduler]
    if retry_errors:
        argv.append("--retry-errors")
    try:
        return module.campaign(campaign.file, argv)
    except module.CampaignError as error:
        raise HadacError(str(error)) from None


def _runner_module(path: Path) -> ModuleType:
    """The runner module at `path`, imported as RUNNER_MODULE: by that name, Dask pickles
    the functions and settings it sends to workers, which import the uploaded copy."""
    spec = importlib.util.spec_from_file_location(RUNNER_MODULE, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[RUNNER_MODULE] = module
    spec.loader.exec_module(module)
    return module


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
