"""What every registered surrogate kind must provide, checked for each, new ones included."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO

from hadac import fit, surrogates
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


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_mip_encoding_has_what_the_model_reads(kind, data):
    estimator = fit.fit(kind.name, kind.example, *data).estimator
    encoded = surrogates.encode_mip(kind.structure, estimator, PARAMS)
    assert encoded["template"] == kind.template
    assert set(encoded["size"]) == {"binaries", "constraints"}
    low, high = encoded["bounds"]
    predicted = estimator.predict(data[0])
    assert low - 1e-9 <= predicted.min() and predicted.max() <= high + 1e-9
