"""The VPP workloads: plausible days, deterministic runs, balanced flows, cost that scales."""

import math
import time

import numpy as np
import pytest

from hadac.workloads import vpp

ALGORITHMS = {
    "anticipate": (vpp.anticipate, "nScenarios"),
    "contingency": (vpp.contingency, "nTraces"),
}
SMALL = 2


def run(name: str, count: int, index: int, trace: bool = False) -> dict:
    function, param = ALGORITHMS[name]
    return function({param: count}, index, trace=trace)


@pytest.fixture(scope="module")
def traced() -> dict:
    """One traced run per algorithm and instance, shared by the tests that only read them."""
    return {
        (name, index): run(name, SMALL, index, trace=True)
        for name in ALGORITHMS
        for index in (0, 1)
    }


HOURS = (np.arange(vpp.STEPS) + 0.5) * vpp.STEP_HOURS
NIGHT = (HOURS < 4.0) | (HOURS > 22.0)


# --- Instances ----------------------------------------------------------------------------


def test_thirty_distinct_deterministic_instances():
    instances = [vpp.instance(i) for i in range(vpp.N_INSTANCES)]
    profiles = {(inst.pv.tobytes(), inst.load.tobytes()) for inst in instances}
    assert len(profiles) == vpp.N_INSTANCES
    assert vpp.instance(7).pv.tobytes() == vpp._instance.__wrapped__(7).pv.tobytes()
    with pytest.raises(ValueError):
        vpp.instance(vpp.N_INSTANCES)


@pytest.mark.parametrize("index", range(vpp.N_INSTANCES))
def test_instance_shapes_are_plausible(index):
    inst = vpp.instance(index)
    for array in (inst.pv, inst.pv_std, inst.load, inst.load_std, inst.price_buy):
        assert array.shape == (vpp.STEPS,)
        assert not array.flags.writeable
    # PV: nothing at night, a single daylight bell peaking around midday.
    assert np.all(inst.pv[NIGHT] == 0.0) and np.all(inst.pv_std[NIGHT] == 0.0)
    assert np.all(inst.pv >= 0.0) and inst.pv.max() <= inst.pv_capacity
    assert 10.0 <= HOURS[np.argmax(inst.pv)] <= 15.0
    # Load: always positive; a morning and an evening peak, both above the night and above
    # the early-afternoon lull between them.
    assert np.all(inst.load > 0.0) and np.all(inst.load_std > 0.0)
    night = inst.load[HOURS < 5.0].mean()
    lull = inst.load[(HOURS > 12.0) & (HOURS < 16.0)].min()
    for peak in (inst.load[(HOURS > 7.0) & (HOURS < 10.0)], inst.load[HOURS > 17.0]):
        assert peak.max() > 1.2 * night and peak.max() > 1.1 * lull
    # Hourly prices: four equal steps an hour; sale cheaper than purchase.
    assert np.all(inst.price_buy.reshape(24, 4) == inst.price_buy[::4, None])
    assert np.all(inst.price_sell < inst.price_buy) and np.all(inst.price_sell > 0.0)
    assert set(vpp.features(inst)) == {"pv_mean", "pv_std", "load_mean", "load_std"}


def test_realisation_is_seeded_and_plausible():
    inst = vpp.instance(0)
    pv, load = vpp.realisation(inst, 3)
    again_pv, again_load = vpp.realisation(inst, 3)
    other_pv, _ = vpp.realisation(inst, 4)
    assert np.array_equal(pv, again_pv) and np.array_equal(load, again_load)
    assert not np.array_equal(pv, other_pv)
    assert np.all(pv[NIGHT] == 0.0) and np.all(pv >= 0.0)
    assert np.all(load > 0.0)
    # Close to the forecast, not equal to it.
    assert 0.0 < np.abs(load - inst.load).max() < 6.0 * inst.load_std.max()


# --- Runs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALGORITHMS)
@pytest.mark.parametrize("index", [0, 1])
def test_cost_is_finite_and_positive(traced, name, index):
    result = traced[name, index]
    assert math.isfinite(result["cost"]) and result["cost"] > 0.0
    assert result["steps"] == vpp.STEPS


@pytest.mark.parametrize("name", ALGORITHMS)
def test_runs_are_deterministic(traced, name):
    again = run(name, SMALL, 0, trace=True)
    first = traced[name, 0]
    assert again["cost"] == first["cost"]
    for key, values in first["trace"].items():
        assert np.array_equal(values, again["trace"][key]), key


@pytest.mark.parametrize("name", ALGORITHMS)
@pytest.mark.parametrize("index", [0, 1])
def test_energy_balance_and_battery_hold_at_every_step(traced, name, index):
    inst = vpp.instance(index)
    t = traced[name, index]["trace"]
    pv, load = vpp.realisation(inst)
    assert np.array_equal(t["pv"], pv) and np.array_equal(t["load"], load)
    supply = t["pv"] - t["curtail"] + t["buy"] + t["discharge"] + t["diesel"] + t["unserved"]
    demand = t["load"] + t["charge"] + t["sell"]
    np.testing.assert_allclose(supply, demand, rtol=0.0, atol=1e-6)
    soc = np.concatenate([[inst.battery_initial], t["soc"]])
    stored = vpp.STEP_HOURS * (
        inst.charge_efficiency * t["charge"] - t["discharge"] / inst.discharge_efficiency
    )
    np.testing.assert_allclose(np.diff(soc), stored, rtol=0.0, atol=1e-6)
    tol = 1e-6
    assert np.all(t["soc"] >= inst.battery_min - tol)
    assert np.all(t["soc"] <= inst.battery_capacity + tol)
    for flow, limit in [
        ("buy", inst.grid_buy_max),
        ("sell", inst.grid_sell_max),
        ("charge", inst.charge_max),
        ("discharge", inst.discharge_max),
        ("diesel", inst.diesel_max),
    ]:
        assert np.all(t[flow] >= -tol) and np.all(t[flow] <= limit + tol), flow
    assert np.all(t["curtail"] <= t["pv"] + tol)
    # The day's cost is the steps' costs plus the battery's end-of-day shortfall.
    result = traced[name, index]
    shortfall = max(0.0, inst.battery_initial - t["soc"][-1])
    assert result["cost"] == pytest.approx(t["cost"].sum() + inst.terminal_price * shortfall)


@pytest.mark.parametrize("name", ALGORITHMS)
@pytest.mark.parametrize("count", [0, -1, 1.5, True])
def test_bad_counts_are_refused(name, count):
    function, param = ALGORITHMS[name]
    with pytest.raises(ValueError):
        function({param: count}, 0)
    with pytest.raises(ValueError):
        function({}, 0)


def test_more_scenarios_take_more_time():
    times = {}
    for count in (1, 16):
        start = time.perf_counter()
        vpp.anticipate({"nScenarios": count}, 0)
        times[count] = time.perf_counter() - start
    assert times[16] > times[1]
