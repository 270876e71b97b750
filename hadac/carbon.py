"""Carbon intensity of electricity by location, and the hardware attribute `carbon_intensity`.

The benchmarks measure energy where they ran; what a run emits elsewhere is that energy times
the carbon intensity of the grid there. The intensities come from the energy-mix table that
codecarbon ships (the same numbers its offline tracker uses), read at run time from the
installed package without importing it and without network access. A hardware gets its
intensity from `carbon_intensity = N g/kWh` when the spec sets it, else from its `location`.
A hardware that lists several locations becomes one catalogue entry per location, sharing its
benchmark data and surrogates, so that the solver picks the location with everything else.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from hadac import ast
from hadac.errors import HadacError, Reporter
from hadac.manifest import CarbonRecord
from hadac.problem import HardwareInfo, Pair
from hadac.units import factor, import_pint, names_in, parse_unit

if TYPE_CHECKING:
    import pint

ATTRIBUTE = "carbon_intensity"
UNIT_TEXT = "g/kWh"
_DATA = Path("data") / "private_infra"


def unit() -> pint.Unit:
    """The unit every `carbon_intensity` value is stored in."""
    return parse_unit(UNIT_TEXT)


def _codecarbon_dir() -> Path:
    """The installed codecarbon package folder, found without running its `__init__`."""
    spec = importlib.util.find_spec("codecarbon")
    if spec is None or not spec.submodule_search_locations:
        raise HadacError(
            "codecarbon is not installed: it provides the carbon intensity of each location"
            " (pip install codecarbon)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@dataclasses.dataclass(frozen=True)
class IntensityTable:
    """g CO2e/kWh per ISO 3166 alpha-3 code, and the world average for unknown codes."""

    by_code: dict[str, float]
    names: dict[str, str]
    world_average: float
    source: str

    def lookup(self, code: str) -> float | None:
        return self.by_code.get(code)


@cache
def table() -> IntensityTable:
    """codecarbon's table: its `carbon_intensity` per country, else its mix times the
    per-source factors, exactly as codecarbon's offline tracker computes a country's rate."""
    folder = _codecarbon_dir() / _DATA
    try:
        mix = json.loads((folder / "global_energy_mix.json").read_text())
        per_source = json.loads((folder / "carbon_intensity_per_source.json").read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise HadacError(f"cannot read codecarbon's energy-mix data in {folder}: {err}") from None
    world = float(per_source["world_average"])
    by_code, names = {}, {}
    for code, entry in mix.items():
        value = entry.get("carbon_intensity")
        if value is None:
            value = _from_mix(entry, per_source, world)
        by_code[code] = float(value)
        names[code] = entry.get("country_name", code)
    import importlib.metadata  # about 30 ms, for this line only

    try:
        version = importlib.metadata.version("codecarbon")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return IntensityTable(by_code, names, world, f"codecarbon {version} global_energy_mix.json")


def _from_mix(entry: dict, per_source: dict, world: float) -> float:
    total = entry.get("total_TWh") or 0.0
    weighted = covered = 0.0
    for key, twh in entry.items():
        source = key.removesuffix("_TWh")
        if (
            key.endswith("_TWh")
            and source in per_source
            and isinstance(per_source[source], int | float)
        ):
            weighted += twh * per_source[source]
            covered += twh
    return weighted / total if total and abs(covered - total) < 1e-6 * total else world


def _locations(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(dict.fromkeys(value))


def is_code(text: str) -> bool:
    """Whether `text` has the form of an ISO 3166 alpha-3 code, like "ITA": the form a
    location must have before it is looked up, or named in a build directory."""
    return len(text) == 3 and text.isalpha() and text.isupper()


def resolve(
    spec: ast.Spec,
    hardware: list[HardwareInfo],
    reporter: Reporter,
    location: str | None = None,
) -> tuple[list[HardwareInfo], bool]:
    """Every hardware with its `carbon_intensity` in g/kWh (new entries: the ones given are
    left as they are), and whether any hardware has one.

    An explicit `carbon_intensity` wins over the location, also over `location` (the
    command line's `--location`), because it states the hardware's own supply. A code the
    table lacks gets the world average and a warning at its line.
    """
    data = table()
    any_known = False
    forced: float | None = None
    if location is not None and not is_code(location):
        reporter.error(None, f"--location '{location}' is not an ISO 3166 alpha-3 code like FRA")
        return hardware, False
    out = []
    for node, info in zip(spec.hardware, hardware, strict=True):
        strings = {**info.strings, "location": location} if location else info.strings
        intensity = None
        written = node.attribute(ATTRIBUTE)
        if written is not None:
            intensity = _override(written, reporter)
            any_known |= intensity is not None
            if len(_locations(strings.get("location"))) > 1:
                reporter.error(
                    written.pos,
                    f"hardware '{node.name}' lists several locations and also sets"
                    f" {ATTRIBUTE}: the location would change nothing; keep one of the two",
                    len(ATTRIBUTE),
                )
        elif location is not None:
            if forced is None:  # looked up once, so an unknown code warns once
                forced = _intensity(location, data, reporter, None)
            intensity = forced
        else:
            codes = _locations(strings.get("location"))
            if len(codes) == 1:  # none: no intensity; several: one entry each, see `expand`
                intensity = _intensity(codes[0], data, reporter, node)
                any_known |= intensity is not None
        numbers = info.numbers if intensity is None else {**info.numbers, ATTRIBUTE: intensity}
        out.append(dataclasses.replace(info, numbers=numbers, strings=strings))
    several = any(len(_locations(h.strings.get("location"))) > 1 for h in out)
    return out, any_known or location is not None or several


def _override(written: ast.Attribute, reporter) -> float | None:
    """The intensity a hardware states itself, in g/kWh; None when it is not one."""
    value = written.value
    if not isinstance(value, ast.Quantity):
        reporter.error(written.pos, f"{ATTRIBUTE} must be a number in {UNIT_TEXT}", len(ATTRIBUTE))
        return None
    try:
        given = parse_unit(value.unit) if value.unit else None
    except ValueError:
        return None  # reported with the hardware
    if given is None or not _compatible(given):
        shown = value.unit or "no unit"
        reporter.error(
            value.pos,
            f"{ATTRIBUTE} needs a unit of mass per energy such as {UNIT_TEXT}, not {shown}",
        )
        return None
    if value.value < 0:
        reporter.error(value.pos, f"{ATTRIBUTE} cannot be negative")
        return None
    return float(f"{value.value * factor(given, unit()):.15g}")


def _compatible(given: pint.Unit) -> bool:
    pint = import_pint()

    try:
        factor(given, unit())
    except pint.errors.PintError:
        return False
    return True


def _intensity(
    code: str, data: IntensityTable, reporter: Reporter, node: ast.Hardware | None
) -> float | None:
    """The table's value for `code`, or the world average with a warning (at the spec line
    when the code comes from the spec, else on the command line's code)."""
    if not (len(code) == 3 and code.isalpha() and code.isupper()):
        return None  # reported by the hardware checks
    value = data.lookup(code)
    if value is not None:
        return value
    message = (
        f"no carbon intensity for location '{code}' in {data.source};"
        f" using the world average, {data.world_average:g} {UNIT_TEXT}"
    )
    if node is None:
        reporter.warning(None, message)
    else:
        reporter.warning(node.attribute("location").pos, message, len("location"))
    return data.world_average


def check_used(spec: ast.Spec, hardware: list[HardwareInfo], goal, bounds, lets, reporter) -> None:
    """Every hardware must have `carbon_intensity` when the objective, a constraint or a let
    uses it: from its location, its own value, or `--location`."""
    uses = [(goal.expr, goal.line)] if goal else []
    uses += [(b.expr, b.line) for b in bounds] + [(let.expr, let.line) for let in lets]
    lines = sorted(line for expr, line in uses if ATTRIBUTE in names_in(expr))
    if not lines:
        return
    for node, info in zip(spec.hardware, hardware, strict=True):
        several = len(_locations(info.strings.get("location"))) > 1
        if ATTRIBUTE not in info.numbers and not several:
            reporter.error(
                node.pos,
                f"hardware '{node.name}' has no location and no {ATTRIBUTE},"
                f' used at line {lines[0]}: add location = "ISO" or'
                f" {ATTRIBUTE} = N {UNIT_TEXT}",
                len(node.name),
            )


def expand(
    spec: ast.Spec,
    hardware: list[HardwareInfo],
    pairs: list[Pair],
    reporter: Reporter,
) -> tuple[list[HardwareInfo], list[Pair]]:
    """One catalogue entry per location of a hardware that lists several, named
    `<hardware>_<CODE>`, each with that location's intensity and the hardware's data."""
    data = table()
    names = {h.name for h in hardware}
    out_hw: list[HardwareInfo] = []
    entries: dict[str, list[str]] = {}
    for node, info in zip(spec.hardware, hardware, strict=True):
        codes = _locations(info.strings.get("location"))
        if len(codes) <= 1 or ATTRIBUTE in info.numbers:
            out_hw.append(info)
            entries[info.name] = [info.name]
            continue
        entries[info.name] = []
        for code in codes:
            name = f"{info.name}_{code}"
            if name in names:
                reporter.error(
                    node.pos,
                    f"hardware '{info.name}' at location {code} would be named '{name}',"
                    " which another hardware already is; rename one of them",
                    len(info.name),
                )
                continue
            value = _intensity(code, data, reporter, node)
            numbers = dict(info.numbers)
            if value is not None:
                numbers[ATTRIBUTE] = value
            strings = {**info.strings, "location": code}
            out_hw.append(
                dataclasses.replace(
                    info, name=name, numbers=numbers, strings=strings, base=info.name
                )
            )
            entries[info.name].append(name)
    out_pairs = [
        dataclasses.replace(pair, hardware=name)
        for pair in pairs
        for name in entries.get(pair.hardware, [pair.hardware])
    ]
    return out_hw, out_pairs


def catalogue_name(info: HardwareInfo) -> str:
    """The hardware as the spec declares it: the same for every location entry."""
    return info.base or info.name


def place(info: HardwareInfo) -> tuple[str, str | None]:
    """A catalogue entry's place, as the manifest records it: its declared hardware and its
    location (a code, or None when the spec gives none)."""
    location = info.strings.get("location")
    return catalogue_name(info), location if isinstance(location, str) else None


def manifest_section(problem) -> CarbonRecord:
    """Where the intensities come from, and the `--location` applied to every hardware."""
    return CarbonRecord(ATTRIBUTE, UNIT_TEXT, table().source, problem.location)
