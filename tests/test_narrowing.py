"""MIP solvers on builds of trees over finite params, pair by pair and narrowed
(hadac.propagate, hadac.openleaves, hadac.bypair), against exhaustive enumeration.

Narrowing may only remove param values that no configuration meeting the query and
beating the bound uses; a solve over narrower ranges must answer as enumeration over
those ranges; and `hadac solve` with cbc, which narrows by default there, must give the
enumerated optimum.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_cp import KINDS, _study
from test_queries import enumerate_build, oracle, random_query

from hadac import bypair, cpsolve, propagate
from hadac.builddir import BuildDir
from hadac.checks import load
from hadac.query import Limit, ParamRange, Query
from hadac.solve import MIP_ABSOLUTE, close, run, solve_build

TREES = [k for k in KINDS if k != "mlp"]  # a network's CP model is not narrowed


@pytest.fixture(scope="module", params=TREES)
def study(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    build = _study(folder, KINDS[request.param])
    spec = folder / "study.hada"
    return build, spec, enumerate_build(build, spec)


def _positions(build: BuildDir, spec, pair: int) -> np.ndarray:
    """The positions (from 0) of every configuration of `pair`, in enumeration's order."""
    problem, _ = load(spec)
    algorithm = build.manifest.pairs[pair - 1].algorithm
    domains = build.manifest.model.cp.domains[algorithm]
    grid = problem.algorithm(algorithm).points()
    return np.stack([np.searchsorted(d, grid[:, k]) for k, d in enumerate(domains)], axis=1)


def _meets(build: BuildDir, table: dict, query: Query) -> np.ndarray:
    """Which configurations of the enumeration meet every limit of `query`."""
    meets = np.ones(len(table["pair"]), dtype=bool)
    for limit in query.limits:
        values = table[limit.quantity]
        meets &= values <= limit.bound if limit.op == "<=" else values >= limit.bound
    return meets


def _queries(build: BuildDir, table: dict, count: int) -> list[Query]:
    rng = np.random.default_rng(7)
    queries = []
    while len(queries) < count:
        query = random_query(build, table, rng)
        if query.objective is not None:
            queries.append(query)
    return queries


def test_narrowing_keeps_every_configuration_that_can_tie_or_beat_the_bound(study):
    build, spec, table = study
    removed = 0
    for number, query in enumerate(_queries(build, table, 30)):
        narrowing = propagate.Narrowing.of(build, query)
        assert narrowing is not None
        objective = table[query.objective.quantity]
        minimize = query.objective.sense == "minimize"
        # bounds between the best and the median of the configurations meeting the query
        meets = _meets(build, table, query)
        if not meets.any():
            continue
        best = objective[meets].min() if minimize else objective[meets].max()
        bound = float(best + (np.median(objective[meets]) - best) * (number % 3) / 2)
        wins = meets & ((objective <= bound) if minimize else (objective >= bound))
        # narrowed under a looser bound first, the same positions are left
        chained = propagate.Narrowing.of(build, query)
        looser = bound + (1.0 if minimize else -1.0) * (abs(float(best)) + 1.0)
        for pair in range(1, len(build.manifest.pairs) + 1):
            left = narrowing.left(pair, bound)
            rows = table["pair"] == pair - 1
            positions = _positions(build, spec, pair)
            kept = wins[rows]
            where = f"query {number} {query.to_json()}, pair {pair}, bound {bound!r}"
            chained.left(pair, looser)
            again = chained.left(pair, bound)
            assert (again is None) == (left is None), where
            same = left is None or all((a == b).all() for a, b in zip(again, left, strict=True))
            assert same, where
            if left is None:
                assert not kept.any(), where
                removed += 1
                continue
            for k, mask in enumerate(left):
                assert mask[positions[kept, k]].all(), where
                removed += int((~mask).sum())
    assert removed > 0, "narrowing removed nothing on any query"


@pytest.mark.requires_solver("cbc", "highs")
def test_a_solve_over_narrower_ranges_answers_as_enumeration_over_them(study):
    build, spec, table = study
    problem, _ = load(spec)
    rng = np.random.default_rng(3)
    manifest = build.manifest
    for number, query in enumerate(_queries(build, table, 6)):
        pair = int(rng.integers(1, len(manifest.pairs) + 1))
        algorithm = manifest.pairs[pair - 1].algorithm
        grid = problem.algorithm(algorithm).points()
        ranges, inside = [], np.ones(len(grid), dtype=bool)
        for k, p in enumerate(manifest.params[algorithm]):
            values = np.unique(grid[:, k])
            low, high = sorted(rng.choice(values, size=2))
            ranges.append(ParamRange(algorithm, p.name, float(low), float(high)))
            inside &= (grid[:, k] >= low) & (grid[:, k] <= high)
        rows = np.flatnonzero(table["pair"] == pair - 1)[inside]
        restricted = {name: column[rows] for name, column in table.items()}
        narrowed = dataclasses.replace(query, pairs=(pair,), ranges=tuple(ranges))
        expected = oracle(build, restricted, query)
        for solver in ("cbc", "highs") if number < 2 else ("cbc",):
            result, point = run(build, narrowed, solver)
            where = f"{solver}, query {number}: {narrowed}"
            if expected is None:
                assert result.status == "INFEASIBLE", where
                continue
            assert result.status == "OPTIMAL", where
            got = point.quantities[query.objective.quantity]
            assert close(got, expected, 1e-6) or abs(got - expected) <= MIP_ABSOLUTE, where
            for r in ranges:
                assert r.low <= point.params[r.param] <= r.high, where


SOLVERS = [pytest.param(s, marks=pytest.mark.requires_solver(s)) for s in ("cbc", "gecode")]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("decide", [True, False], ids=["decided", "solved"])
def test_a_tree_build_narrowed_pair_by_pair_answers_as_enumeration(
    study, solver, decide, monkeypatch
):
    """`hadac solve` settles the pairs first: with the few configurations narrowing leaves
    decided by `predict` (the default), and with every pair narrowing leaves open solved,
    by cbc one MIP each, by gecode in one solve of the CP model from the incumbent."""
    build, spec, table = study
    if not decide:
        monkeypatch.setattr(bypair, "BOX_SEARCH_LIMIT", 0)
    statuses = set()
    for number, query in enumerate(_queries(build, table, 8)):
        answer = solve_build(build, solver, query=query)
        expected = oracle(build, table, query)
        where = f"query {number}: {query.to_json()}"
        assert [p.status for p in answer.pairs], f"{where}: not solved pair by pair"
        statuses |= {p.status for p in answer.pairs}
        meets = _meets(build, table, query)
        sign = 1.0 if query.objective.sense == "minimize" else -1.0
        for index, p in enumerate(answer.pairs, start=1):
            if p.status != "DECIDED":
                continue
            values = sign * table[query.objective.quantity][meets & (table["pair"] == index - 1)]
            if p.objective is not None and sign * p.objective <= sign * p.bound:
                assert close(p.objective, sign * float(values.min()), 1e-9), where  # its optimum
            else:  # nothing on the pair ties or beats the bound
                assert not (values <= sign * p.bound).any(), where
        if expected is None:
            assert answer.status == "INFEASIBLE", where
            continue
        assert answer.status == "OPTIMAL", where
        assert close(answer.objective, expected, 1e-6) or (
            abs(answer.objective - expected) <= MIP_ABSOLUTE
        ), f"{where}: {answer.objective!r} against {expected!r}"
    assert ("DECIDED" in statuses) == decide, statuses
    if not decide:
        assert statuses & {"OPTIMAL", "INFEASIBLE"}, statuses  # the solver solved some pair


@pytest.mark.requires_solver("gecode")
def test_a_cp_solve_as_one_model_settles_no_pair(study):
    build, _, _ = study
    settled, whole = solve_build(build, "gecode"), solve_build(build, "gecode", by_pair=0)
    assert settled.pairs and not whole.pairs
    assert settled.status == whole.status == "OPTIMAL"
    assert settled.objective == whole.objective


def test_narrowing_needs_one_objective_and_a_network_free_cp_model(study, tmp_path):
    build, _, _ = study
    spec = Query.of_spec(build.manifest)
    assert propagate.narrows(build, spec)
    assert not propagate.narrows(build, dataclasses.replace(spec, objective=None))
    network = _study(tmp_path, KINDS["mlp"])
    assert not propagate.narrows(network, Query.of_spec(network.manifest))


def test_a_bound_no_configuration_can_tie_narrows_every_pair_away(study):
    build, _, table = study
    query = Query.of_spec(build.manifest)
    objective = table[query.objective.quantity]
    narrowing = propagate.Narrowing.of(build, query)
    bound = float(objective.min()) - 1.0  # minimise: below every configuration
    for pair in range(1, len(build.manifest.pairs) + 1):
        assert narrowing.left(pair, bound) is None
    # a limit the query already has makes no difference to the bound's own effect
    tighter = dataclasses.replace(
        query, limits=(*query.limits, Limit("memory", "<=", 1e9, "memory <= 1e9"))
    )
    assert propagate.Narrowing.of(build, tighter).left(1, bound) is None


@pytest.mark.requires_solver("gecode")
def test_a_cp_solve_of_some_pairs_starts_from_a_configuration_on_another(study):
    """What `hadac solve` with a CP solver does once pairs are settled: the CP model solved
    over the pairs left, from the incumbent found on a settled one, answers the best of the
    incumbent and those pairs."""
    build, spec, table = study
    count = len(build.manifest.pairs)
    rng = np.random.default_rng(3)
    solved = 0
    for number, query in enumerate(_queries(build, table, 6)):
        sign = 1.0 if query.objective.sense == "minimize" else -1.0
        objective = sign * table[query.objective.quantity]
        meets = _meets(build, table, query)
        for outside in range(1, count + 1):
            on = table["pair"] == outside - 1
            rows = np.flatnonzero(meets & on)
            if not rows.size:
                continue
            row = int(rng.choice(rows))
            positions = _positions(build, spec, outside)[row - np.flatnonzero(on)[0]]
            known = cpsolve.best_of(build, query, [(outside, tuple(int(k) + 1 for k in positions))])
            pairs = tuple(p for p in range(1, count + 1) if p != outside)
            restricted = dataclasses.replace(query, pairs=pairs)
            start = cpsolve.Start(cpsolve.configuration(build, known))
            result, point = run(build, restricted, "gecode", start=start)
            expected = min(objective[row], objective[meets & ~on].min(initial=np.inf))
            where = f"query {number}, outside pair {outside}: {query.to_json()}"
            assert result.status == "OPTIMAL", where
            assert close(sign * point.quantities[query.objective.quantity], expected, 1e-9), where
            solved += 1
    assert solved


def test_the_relaxation_arrays_keep_every_value_in_the_narrowest_int_type():
    data = {name: [0] for name in propagate._NAMES}
    data |= {
        "N_PAIRS": 3,
        "TREE_PAIRS": [{1, 3}, {2}],
        "BOX_LOW": [1, 52],
        "BOX_HIGH": [2**15, -(2**15) - 1],
        "TERM_LOW": [2**31, -5],
        "CONST_LOW": [[1, 2, 3], [4, 5, 6]],
    }
    arrays = propagate.relaxation_arrays(data)
    assert arrays["TREE_PAIRS"].tolist() == [[True, False, True], [False, True, False]]
    assert arrays["BOX_LOW"].dtype == np.int16 and arrays["BOX_LOW"].tolist() == [1, 52]
    assert arrays["BOX_HIGH"].dtype == np.int32
    assert arrays["BOX_HIGH"].tolist() == [2**15, -(2**15) - 1]
    assert arrays["TERM_LOW"].dtype == np.int64 and arrays["TERM_LOW"].tolist() == [2**31, -5]
    assert arrays["CONST_LOW"].tolist() == [[1, 2, 3], [4, 5, 6]]
