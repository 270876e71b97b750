"""What every registered surrogate kind must provide, checked for each, new ones included."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO

from hadac import fit, predictors, surrogates
from hadac.problem import ParamDomain

KINDS = list(surrogates.KINDS.values())
PARAMS = (
    ParamDomain("a", "int", 1.0, 12.0, tuple(float(v) for v in range(1, 13)), 1),
    ParamDomain("b", "float", 0.0, 1.0, None, 2),
)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.integers(1, 13, 60).astype(float), rng.uniform(0, 1, 60)])
    return x, 2.0 + x[:, 0] * (1 + x[:, 1]) + rng.normal(0, 0.1, 60)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_kind_is_registered_under_its_name(kind):
    assert surrogates.kind(kind.name) is kind


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_example_and_defaults_are_valid_arguments(kind):
    assert set(kind.example) == set(kind.args)
    for name, arg in kind.args.items():
        assert arg.problem(arg.default) is None, name
        assert arg.problem(kind.example[name]) is None, name


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_template_exists(kind):
    assert (REPO / "templates" / "mip" / kind.template).is_file()


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_estimator_is_seeded_and_only_its_kind_owns_it(kind):
    estimator = kind.estimator(kind.example)
    seeds = {k: v for k, v in estimator.get_params().items() if k.endswith("random_state")}
    assert all(v == 0 for v in seeds.values()), seeds
    owners = [k.name for k in KINDS if k.structure == kind.structure and k.owns(estimator)]
    assert owners == [kind.name]


@pytest.mark.parametrize(
    ("kind", "structure"),
    [(kind, structure) for kind in KINDS for structure in kind.structures()],
    ids=lambda v: getattr(v, "name", v),
)
def test_mip_encoding_has_what_the_model_reads(kind, structure, data):
    estimator = fit.fit(kind.name, kind.example, *data).estimator
    shared = surrogates.Splits.of(surrogates.cuts(structure, estimator, PARAMS))
    encoded = surrogates.encode_mip(structure, estimator, PARAMS, shared)
    assert (REPO / "templates" / "mip" / encoded["template"]).is_file()
    assert {"binaries", "constraints"} <= set(encoded["size"])
    low, high = encoded["bounds"]
    predicted = estimator.predict(data[0])
    assert low - 1e-9 <= predicted.min() and predicted.max() <= high + 1e-9


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_numpy_predictor_is_predict_to_the_bit(kind, data):
    """On the training rows, on a grid wider than them (thresholds crossed from both sides,
    values off the domain) and on single rows, as the verifier predicts."""
    x, y = data
    estimator = fit.fit(kind.name, kind.example, x, y).estimator
    arrays = kind.arrays(estimator)
    assert arrays is not None, f"{kind.name} has no numpy predictor"
    a, b = np.meshgrid(np.arange(0.0, 14.0, 0.5), np.linspace(-0.2, 1.2, 57), indexing="ij")
    for rows in (x, np.column_stack([a.ravel(), b.ravel()]), x[:1], x[-1:]):
        expected, got = estimator.predict(rows), kind.predict(arrays, rows)
        assert got.dtype == expected.dtype == np.float64
        assert got.tobytes() == expected.tobytes()
    proof = predictors.prove(kind.name, estimator, x)
    assert proof is not None and proof.exact and proof.rows == len(x)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_an_estimator_of_another_kind_has_no_numpy_predictor(kind, data):
    other = next(k for k in KINDS if k.estimator_type != kind.estimator_type)
    estimator = fit.fit(other.name, other.example, *data).estimator
    assert kind.arrays(estimator) is None


def test_split_cuts_are_domain_values_and_every_row_divides_its_leaves(data):
    """On a finite domain a cut is the largest value that goes left and the next value; each
    split row covers a non-empty range of its own tree's leaves; cuts are numbered in order."""
    from hadac.surrogates import splits

    x, y = data
    sparse = (ParamDomain("a", "int", 1.0, 12.0, (1.0, 2.0, 4.0, 8.0, 12.0), 1), PARAMS[1])
    estimator = fit.fit("forest", {"n_estimators": 3, "max_depth": 4}, x, y).estimator
    found = splits.cuts(estimator.estimators_, sparse)
    values = sparse[0].values
    for cut in (c for c in found if c.param == 0):
        assert cut.left in values and cut.right == values[values.index(cut.left) + 1]
    start = 0
    for tree in estimator.estimators_:
        walked = splits.walk(tree, sparse, start)
        for row in walked.left + walked.right:
            assert start < row.first <= row.last <= start + len(walked.values)
        start += len(walked.values)
    shared = splits.Splits.of(found)
    assert list(shared.cuts) == sorted(found)
    assert [shared.index(c) for c in shared.cuts] == list(range(1, len(found) + 1))
