"""The benchmark part of an algorithm block: `run`, `instances` and `bench { ... }`, checked.

These lines say what `hadac bench` calls and over which design; `compile` and `solve` never
read them. They are checked with the rest of the spec so that a typo in a design shows up in
`hadac check`, located, before a campaign of hours starts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from hadac import ast
from hadac.domains import ParamDomain
from hadac.errors import Reporter

DESIGNS = ("grid", "random", "lhs")
SETTINGS = ("design", "runs", "repeats", "seed")
#: More runs than this is a typo, not a campaign: a million runs of a second is twelve days.
MAX_RUNS = 1_000_000
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_RUN = re.compile(rf"{_IDENTIFIER}(\.{_IDENTIFIER})*:{_IDENTIFIER}(\.{_IDENTIFIER})*")


@dataclass(frozen=True)
class BenchSetup:
    """What `hadac bench` runs for one algorithm; `run` is None when the spec gives none."""

    run: str | None
    instances: tuple[int, ...] = (0,)
    design: str = "grid"
    runs: int | None = None  # points to draw, for random and lhs
    repeats: int = 1
    seed: int = 0
    line: int = 0  # of the run line, for messages

    def size(self, params: tuple[ParamDomain, ...]) -> int:
        """How many runs the design makes, repeats included."""
        if self.design == "grid":
            points = math.prod(len(p.values or ()) for p in params)
            return points * len(self.instances) * self.repeats
        return (self.runs or 0) * self.repeats


def validate(
    algorithm: ast.Algorithm, params: tuple[ParamDomain, ...], reporter: Reporter
) -> BenchSetup | None:
    """The checked setup of `algorithm`, or None when it has no benchmark lines.

    Every problem is reported; a setting in error falls back to its default so that the
    remaining checks still run.
    """
    items = algorithm.bench_items
    if not items:
        return None
    first: dict[type, ast.BenchItem] = {}
    for item in items:
        if type(item) in first:
            what, length = _describe(item)
            earlier = first[type(item)]
            reporter.error(
                item.pos,
                f"a second {what} in algorithm '{algorithm.name}'"
                f" (first at line {earlier.pos.line})",
                length,
            )
        else:
            first[type(item)] = item
    run = first.get(ast.RunFunction)
    if run is None:
        item = items[0]
        what, length = _describe(item)
        reporter.error(
            item.pos,
            f"{what} without run = \"module:function\" in algorithm '{algorithm.name}'",
            length,
        )
    elif not _RUN.fullmatch(run.target):
        reporter.error(
            run.pos,
            f'run must be "module:function"; got {run.target!r}',
            len(run.target) + 2,
        )
    instances = first.get(ast.Instances)
    values = _instances(instances, reporter) if instances is not None else (0,)
    block = first.get(ast.BenchBlock)
    settings = _settings(block, reporter) if block is not None else {}
    setup = BenchSetup(
        run.target if run is not None else None,
        values or (0,),
        str(settings.get("design", ("grid",))[0]),
        settings["runs"][0] if "runs" in settings else None,
        int(settings.get("repeats", (1,))[0]),
        int(settings.get("seed", (0,))[0]),
        run.pos.line if run is not None else algorithm.pos.line,
    )
    _design(setup, settings, block, run, algorithm, params, reporter)
    return setup


def _describe(item: ast.BenchItem) -> tuple[str, int]:
    if isinstance(item, ast.RunFunction):
        return "run", len(item.target) + 2
    if isinstance(item, ast.Instances):
        return "instances", len("instances")
    return "bench block", len("bench")


def _instances(instances: ast.Instances, reporter: Reporter) -> tuple[int, ...] | None:
    domain = instances.domain
    ends = (domain.low, domain.high) if isinstance(domain, ast.Range) else domain.values
    bad = next((v for v in ends if not float(v).is_integer() or v < 0), None)
    if bad is not None:
        reporter.error(
            instances.pos,
            f"instances are non-negative integers; got {_show(bad)}",
            len("instances"),
        )
        return None
    if isinstance(domain, ast.Range):
        low, high = int(domain.low), int(domain.high)
        if low > high:
            reporter.error(
                domain.pos, f"empty instances {low}..{high}: the low end is above the high end"
            )
            return None
        if high - low + 1 > MAX_RUNS:
            reporter.error(domain.pos, f"more than {MAX_RUNS} instances")
            return None
        return tuple(range(low, high + 1))
    values = [int(v) for v in domain.values]
    again = next((v for i, v in enumerate(values) if v in values[:i]), None)
    if again is not None:
        reporter.error(domain.pos, f"the instance {again} appears twice")
        return None
    return tuple(values)


def _settings(
    block: ast.BenchBlock, reporter: Reporter
) -> dict[str, tuple[int | str, ast.BenchSetting]]:
    """Valid settings by name, each with the line it came from; errors for the others."""
    out: dict[str, tuple[int | str, ast.BenchSetting]] = {}
    seen: dict[str, ast.BenchSetting] = {}
    for setting in block.settings:
        name, value = setting.name, setting.value
        if name not in SETTINGS:
            reporter.error(
                setting.pos,
                f"unknown bench setting '{name}'; expected design, runs, repeats or seed",
                len(name),
            )
            continue
        if name in seen:
            reporter.error(
                setting.pos,
                f"duplicate bench setting '{name}' (first at line {seen[name].pos.line})",
                len(name),
            )
            continue
        seen[name] = setting
        shown = value if isinstance(value, str) else setting.value_text
        length = len(str(shown))
        if name == "design":
            if value not in DESIGNS:
                reporter.error(
                    setting.value_pos,
                    f"unknown design '{shown}'; expected grid, random or lhs",
                    length,
                )
                continue
            out[name] = (value, setting)
            continue
        least = 0 if name == "seed" else 1
        if isinstance(value, str) or not float(value).is_integer() or value < least:
            what = "a non-negative integer" if name == "seed" else "an integer of at least 1"
            reporter.error(setting.value_pos, f"{name} must be {what}; got {shown}", length)
            continue
        if value > (2**63 - 1 if name == "seed" else MAX_RUNS):
            reporter.error(setting.value_pos, f"{name} = {shown} is too large", length)
            continue
        out[name] = (int(value), setting)
    return out


def _design(setup, settings, block, run, algorithm, params, reporter: Reporter) -> None:
    """The design fits the params: grid needs finite domains, random and lhs a run count."""
    if run is None:
        return  # nothing runs; reported already
    if block is not None and "design" not in settings:
        if any(s.name == "design" for s in block.settings):
            return  # an unknown design, reported with the setting
    if "design" in settings:
        pos, length = settings["design"][1].value_pos, len(setup.design)
    elif block is not None:
        pos, length = block.pos, len("bench")
    else:
        pos, length = run.pos, len(run.target) + 2
    if setup.design == "grid":
        if "runs" in settings:
            runs = settings["runs"][1]
            reporter.error(
                runs.pos,
                "runs is for design = random or lhs; grid runs every combination",
                len("runs"),
            )
            return
        continuous = next((p for p in params if p.values is None), None)
        if continuous is not None:
            param = next(p for p in algorithm.params if p.name == continuous.name)
            reporter.error(
                param.pos,
                f"design = grid cannot enumerate the float range of '{param.name}';"
                " use random or lhs",
                len(param.name),
            )
            return
    elif setup.runs is None:
        if block is not None and any(s.name == "runs" for s in block.settings):
            return  # reported with the setting
        reporter.error(
            pos, f"design = {setup.design} needs runs = N, the number of points to draw", length
        )
        return
    if setup.size(params) > MAX_RUNS:
        reporter.error(
            pos,
            f"the design makes {setup.size(params)} runs, more than {MAX_RUNS}",
            length,
        )


def _show(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)
