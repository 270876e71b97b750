"""`hadac pareto`: the front equals the non-dominated set of an exhaustive enumeration."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner
from conftest import REPO
from oracles import DOMAINS, INTENSITY, PAIRS, PRICE, configurations, conformal_margin

import hadac
from hadac import pareto
from hadac.cli import main
from hadac.errors import HadacError

SOLVER = "gecode"
pytestmark = pytest.mark.requires_solver(SOLVER)


def _non_dominated(points: list[tuple[float, float]]) -> set[tuple[float, float]]:
    return {a for a in points if not any(b[0] <= a[0] and b[1] <= a[1] and b != a for b in points)}


def _predictions(directory, targets):
    """Every (algorithm, hardware, param value) of the example specs, predicted by the
    models saved in a build."""
    for c in configurations(directory, PAIRS, DOMAINS, targets):
        yield c.algorithm, c.hardware, c.predicted


def _same(front: pareto.Front, expected: set[tuple[float, float]]) -> None:
    got = sorted((p.first, p.second) for p in front.points)
    assert len(got) == len(expected)
    for (a, b), (c, d) in zip(got, sorted(expected), strict=True):
        assert a == pytest.approx(c, rel=1e-9) and b == pytest.approx(d, rel=1e-9)


def test_front_of_tiny_equals_enumeration(tmp_path):
    spec = REPO / "specs" / "tiny.hada"
    front = hadac.load(spec, tmp_path / "build").pareto(["cost", "time"], 50, SOLVER)
    assert front.complete and all(p.proven for p in front.points)
    feasible = [
        (p["cost"], p["time"])
        for _, _, p in _predictions(tmp_path / "build", ("time", "cost", "memory"))
        if p["time"] <= 30 and p["cost"] <= 310 and p["memory"] <= 200
    ]
    expected = _non_dominated(feasible)
    assert len(expected) > 5  # a real trade-off: more scenarios, lower cost, longer runs
    _same(front, expected)


def test_front_with_locations_lets_and_confidence_equals_enumeration(tmp_path):
    spec = REPO / "specs" / "carbon.hada"
    axes = ["emissions_here", "time"]
    front = hadac.load(spec, tmp_path / "build").pareto(axes, 20, SOLVER)
    assert front.complete
    feasible = []
    for algorithm, hardware, p in _predictions(tmp_path / "build", ("time", "cost", "energy")):
        ok = (
            p["time"] + conformal_margin(algorithm, hardware, "time(sec)", 0.9) <= 30
            and p["cost"] <= 310
            and PRICE[hardware] * p["time"] / 3600 <= 0.01
        )
        if ok:
            feasible += [(p["energy"] * g, p["time"]) for g in INTENSITY[hardware]]
    _same(front, _non_dominated(feasible))
    chosen = {p.point.location for p in front.points if p.point.location_chosen}
    assert chosen == {"SWE"}


def test_too_few_points_give_a_partial_front_of_non_dominated_points(tmp_path):
    spec = REPO / "specs" / "tiny.hada"
    front = hadac.load(spec, tmp_path / "build").pareto(["cost", "time"], 4, SOLVER)
    assert len(front.points) == 4 and not front.complete
    values = [(p.first, p.second) for p in front.points]
    assert _non_dominated(values) == set(values)


def test_cli_writes_table_csv_and_png(tmp_path):
    out = tmp_path / "front"
    args = ["pareto", str(REPO / "specs" / "tiny.hada"), "--objectives", "cost,time"]
    args += ["--points", "6", "-o", str(out), "--solver", SOLVER]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["format_version"] == 1
    assert [o["name"] for o in payload["objectives"]] == ["cost", "time"]
    assert all(p["verified"] for p in payload["points"])
    with (out / "front.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(payload["points"]) == 6
    assert rows[0]["label"].startswith("server/anticipate/nScenarios=")
    assert (out / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = CliRunner().invoke(main, args)
    assert table.exit_code == 0, table.output
    assert "cost [kEUR]" in table.output and "time [s]" in table.output


def test_objectives_must_be_targets_or_lets(tmp_path):
    with pytest.raises(HadacError, match="unknown objective 'price'"):
        hadac.load(REPO / "specs" / "tiny.hada", tmp_path / "build").pareto(["price", "time"], 5)
