"""On-line stochastic energy management of a virtual power plant (VPP) over one day.

The plant has PV panels, an electric load, a battery, a grid connection (purchase at hourly
prices, sale at a lower price) and a diesel generator. The day has 96 steps of 15 minutes.
PV and load are known only as forecasts with a noise std per step; the day follows one
realised trajectory (`realisation`), revealed one step at a time.

Two on-line algorithms decide, before each step is revealed, the dispatchable flows of the
step (battery charge and discharge, diesel); the grid, PV curtailment and, in the last resort,
unserved load balance what the realised step brings, in a one-step repair LP that keeps the
decided flows unless the balance cannot hold otherwise:

- `anticipate`: at every step, a two-stage stochastic LP over `nScenarios` sampled futures of
  the remaining day (first stage: this step's dispatch, common to all scenarios).
- `contingency`: off-line, one deterministic LP plan per sampled whole-day trace (`nTraces`);
  on-line, follow the plan whose trace is closest to what has been observed so far.

Units: power in kW (average over a step), energy in kWh, prices in EUR/kWh, and the quality
of a run, `cost`, in EUR for the whole day: purchases minus sales, diesel, unserved load, and
the energy the battery ends the day short of its initial charge, valued at the price of
buying it back.

Every LP is solved by HiGHS through `scipy.optimize.linprog(method="highs")`; the stochastic
LPs are assembled as sparse matrices from one per-scenario template, so that their size, the
time and the memory grow linearly with the number of scenarios or traces.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from scipy.signal import lfilter

STEPS = 96
STEP_HOURS = 0.25
N_INSTANCES = 30

#: Correlation of forecast errors between consecutive steps (AR(1)): errors persist for a few
#: hours, as a cloudy morning or an unusually busy day does.
NOISE_CORRELATION = 0.9

#: Penalty (EUR/kWh) of departing from the decided battery and diesel flows when a step is
#: repaired. Above every energy price, so a repair departs only when the balance needs it;
#: below the cost of unserved load, so it does depart rather than shed load.
DEVIATION_PENALTY = 0.5

# Separate random streams, so that instances, realised days and the algorithms' sampling never
# share draws: changing nScenarios changes what an algorithm sees, never the day it faces.
_INSTANCE_STREAM = 0x56505001
_REALISATION_STREAM = 0x56505002
_ANTICIPATE_STREAM = 0x56505003
_CONTINGENCY_STREAM = 0x56505004

#: Wholesale-like hourly purchase price shape (EUR/kWh): cheap nights, a morning peak, a
#: solar dip in the early afternoon and the evening peak.
_PRICE_SHAPE = np.array(
    [
        0.095, 0.090, 0.087, 0.085, 0.086, 0.090, 0.100, 0.118, 0.132, 0.135, 0.128, 0.120,
        0.110, 0.105, 0.108, 0.115, 0.125, 0.140, 0.165, 0.185, 0.180, 0.160, 0.130, 0.108,
    ]
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Instance:
    """One day of the plant: forecasts, their uncertainty, prices and the plant's limits.

    Arrays have one value per step and are read-only. The plant itself is the same every day;
    days differ in weather, demand and prices.
    """

    index: int
    pv: np.ndarray  # forecast PV power (kW)
    pv_std: np.ndarray  # std of the PV forecast error (kW)
    load: np.ndarray  # forecast load (kW)
    load_std: np.ndarray  # std of the load forecast error (kW)
    price_buy: np.ndarray  # grid purchase price (EUR/kWh), hourly values repeated
    price_sell: np.ndarray  # grid sale price (EUR/kWh)
    pv_capacity: float = 1000.0  # kWp
    battery_capacity: float = 1000.0  # kWh
    battery_min: float = 100.0  # kWh, lowest state of charge allowed
    battery_initial: float = 500.0  # kWh, also the charge the day should end with
    charge_max: float = 250.0  # kW
    discharge_max: float = 250.0  # kW
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    diesel_max: float = 300.0  # kW
    diesel_cost: float = 0.30  # EUR/kWh
    grid_buy_max: float = 350.0  # kW
    grid_sell_max: float = 450.0  # kW
    unserved_cost: float = 2.0  # EUR/kWh of load not served

    @property
    def terminal_price(self) -> float:
        """EUR per kWh the battery ends short of its initial charge: buying it back later."""
        return float(self.price_buy.mean()) / self.charge_efficiency


def _readonly(values: np.ndarray) -> np.ndarray:
    """A read-only float copy, so that cached instances cannot be altered by their users."""
    values = np.array(values, dtype=float)
    values.setflags(write=False)
    return values


def _hours() -> np.ndarray:
    """Hour of the day at the middle of each step."""
    return (np.arange(STEPS) + 0.5) * STEP_HOURS


def _smooth_unit_curve(rng: np.random.Generator, hours: np.ndarray) -> np.ndarray:
    """A smooth random curve scaled to [0, 1]: where clouds pass during the day."""
    curve = np.zeros_like(hours)
    for cycles in (2.0, 5.0, 9.0):
        phase = rng.uniform(0.0, 2.0 * np.pi)
        curve += rng.uniform(0.5, 1.0) / cycles * np.sin(2.0 * np.pi * cycles * hours / 24 + phase)
    return (curve - curve.min()) / (curve.max() - curve.min())


def _pv_profile(rng: np.random.Generator, capacity: float) -> tuple[np.ndarray, np.ndarray]:
    """Bell-shaped PV forecast over daylight and its error std; cloudier days make less power
    and are harder to forecast."""
    hours = _hours()
    sunrise, sunset = rng.uniform(5.5, 7.0), rng.uniform(18.5, 20.5)
    daylight = (hours - sunrise) / (sunset - sunrise)
    bell = np.where((daylight > 0.0) & (daylight < 1.0), np.sin(np.pi * daylight), 0.0)
    clear_sky = capacity * rng.uniform(0.80, 0.90) * bell**1.3
    cloudiness = rng.uniform(0.0, 0.5)
    attenuation = 1.0 - cloudiness * (0.3 + 0.4 * _smooth_unit_curve(rng, hours))
    pv = clear_sky * attenuation
    return pv, pv * (0.10 + 0.60 * cloudiness)


def _bump(hours: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((hours - centre) / width) ** 2)


def _load_profile(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Load forecast with a night base, a working-day plateau and morning and evening peaks,
    and its error std (6 to 12 % of the load)."""
    hours = _hours()
    plateau = 1.0 / (1.0 + np.exp(-(hours - 7.0) * 2.0)) - 1.0 / (1.0 + np.exp(-(hours - 18.0)))
    load = (
        rng.uniform(180.0, 220.0)
        + rng.uniform(80.0, 120.0) * plateau
        + rng.uniform(120.0, 180.0) * _bump(hours, rng.uniform(7.5, 9.0), 1.5)
        + rng.uniform(200.0, 280.0) * _bump(hours, rng.uniform(19.0, 20.5), 1.8)
    )
    return load, load * rng.uniform(0.06, 0.12)


def _price_profile(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Hourly purchase prices of the day, expanded to steps, and the lower sale prices."""
    hourly = _PRICE_SHAPE * rng.uniform(0.85, 1.25) * rng.lognormal(0.0, 0.05, size=24)
    buy = np.repeat(hourly, STEPS // 24)
    return buy, 0.6 * buy


def instance(index: int) -> Instance:
    """Day `index` (0..29), the same on every machine: drawn from a generator seeded by it."""
    return _instance(index)


@functools.lru_cache(maxsize=N_INSTANCES)
def _instance(index: int) -> Instance:
    if not 0 <= index < N_INSTANCES:
        raise ValueError(f"instance index must be in 0..{N_INSTANCES - 1}, got {index}")
    rng = np.random.default_rng([_INSTANCE_STREAM, index])
    capacity = Instance.pv_capacity
    pv, pv_std = _pv_profile(rng, capacity)
    load, load_std = _load_profile(rng)
    buy, sell = _price_profile(rng)
    return Instance(
        index=index,
        pv=_readonly(pv),
        pv_std=_readonly(pv_std),
        load=_readonly(load),
        load_std=_readonly(load_std),
        price_buy=_readonly(buy),
        price_sell=_readonly(sell),
    )


def features(inst: Instance) -> dict[str, float]:
    """The instance features the reference benchmark data records: mean and std over the day
    of the PV and load forecasts (kW)."""
    return {
        "pv_mean": float(inst.pv.mean()),
        "pv_std": float(inst.pv.std()),
        "load_mean": float(inst.load.mean()),
        "load_std": float(inst.load.std()),
    }


# --- Sampling ---------------------------------------------------------------------------------


def _ar1(rng: np.random.Generator, previous: np.ndarray, steps: int) -> np.ndarray:
    """Standardised AR(1) errors for `steps` steps, one row per entry of `previous` (the error
    of the step before), so that sampled futures continue from what was last observed."""
    rho = NOISE_CORRELATION
    shocks = rng.standard_normal((previous.size, steps))
    errors, _ = lfilter(
        [np.sqrt(1.0 - rho**2)], [1.0, -rho], shocks, axis=1, zi=rho * previous[:, None]
    )
    return errors


def _sample(
    inst: Instance,
    rng: np.random.Generator,
    start: int,
    count: int,
    previous: tuple[float, float] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """`count` sampled trajectories of PV and load from step `start` to the end of the day,
    each of shape (count, STEPS - start). `previous` is the standardised (PV, load) error of the
    step before `start`; None when nothing has been observed yet."""
    steps = STEPS - start
    if previous is None:
        before = rng.standard_normal((2, count))
    else:
        before = np.repeat(np.asarray(previous, dtype=float)[:, None], count, axis=1)
    pv = inst.pv[start:] + inst.pv_std[start:] * _ar1(rng, before[0], steps)
    load = inst.load[start:] + inst.load_std[start:] * _ar1(rng, before[1], steps)
    return np.clip(pv, 0.0, inst.pv_capacity), np.maximum(load, 0.0)


def realisation(inst: Instance, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The PV and load (kW, one value per step) that the day actually brings; `seed` picks one
    of many possible days around the same forecasts."""
    rng = np.random.default_rng([_REALISATION_STREAM, inst.index, seed])
    pv, load = _sample(inst, rng, 0, 1, None)
    return _readonly(pv[0]), _readonly(load[0])


def _standardised_error(inst: Instance, step: int, pv: float, load: float) -> tuple[float, float]:
    """How many forecast stds the observed step was off (0 where the forecast is certain)."""
    pv_std, load_std = inst.pv_std[step], inst.load_std[step]
    pv_error = (pv - inst.pv[step]) / pv_std if pv_std > 0 else 0.0
    load_error = (load - inst.load[step]) / load_std if load_std > 0 else 0.0
    return float(pv_error), float(load_error)


# --- The stochastic LP ------------------------------------------------------------------------

# Per-step flows of a scenario, in this order, each a block of `horizon` columns; then the
# state of charge after each step, then the end-of-day shortfall of the battery.
_BUY, _SELL, _CURTAIL, _UNSERVED, _CHARGE, _DISCHARGE, _DIESEL = range(7)
_FLOWS = 7
#: The decisions taken before a step is revealed; the other flows balance it afterwards.
_DISPATCH = (_CHARGE, _DISCHARGE, _DIESEL)


@dataclass(frozen=True)
class _Layout:
    """Where each scenario's local columns sit among the LP's columns.

    Local column `f * horizon + tau` is flow f at step tau of the horizon; `_FLOWS * horizon +
    tau` the state of charge after step tau; `(_FLOWS + 1) * horizon` the shortfall. The
    dispatch of the first step is shared by all scenarios (the first stage): it takes the
    LP's first columns; every other column is the scenario's own (the second stage).
    """

    horizon: int
    scenarios: int
    columns: np.ndarray  # (scenarios, local columns) -> LP column

    @property
    def size(self) -> int:
        return int(self.columns.max()) + 1

    def local(self, flow: int) -> slice:
        return slice(flow * self.horizon, (flow + 1) * self.horizon)


def _layout(horizon: int, scenarios: int) -> _Layout:
    """Shared first-stage columns first, then each scenario's own columns in one block."""
    local = (_FLOWS + 1) * horizon + 1
    shared = np.zeros(local, dtype=bool)
    shared_position = np.zeros(local, dtype=np.int64)
    for position, flow in enumerate(_DISPATCH):
        shared[flow * horizon] = True
        shared_position[flow * horizon] = position
    own = local - len(_DISPATCH)
    own_rank = np.cumsum(~shared) - 1
    scenario = np.arange(scenarios)[:, None]
    columns = np.where(shared, shared_position, len(_DISPATCH) + scenario * own + own_rank)
    return _Layout(horizon, scenarios, columns)


def _equality_template(inst: Instance, horizon: int) -> tuple[np.ndarray, ...]:
    """Rows, local columns and values of one scenario's equalities: the power balance of each
    step (rows 0..horizon-1), then the battery dynamics (rows horizon..2*horizon-1)."""
    tau = np.arange(horizon)
    balance_signs = {
        _BUY: 1.0,
        _SELL: -1.0,
        _CURTAIL: -1.0,
        _UNSERVED: 1.0,
        _CHARGE: -1.0,
        _DISCHARGE: 1.0,
        _DIESEL: 1.0,
    }
    rows, cols, vals = [], [], []
    for flow, sign in balance_signs.items():
        rows.append(tau)
        cols.append(flow * horizon + tau)
        vals.append(np.full(horizon, sign))
    soc = _FLOWS * horizon + tau
    dynamics = [
        (soc, 1.0),
        (_CHARGE * horizon + tau, -STEP_HOURS * inst.charge_efficiency),
        (_DISCHARGE * horizon + tau, STEP_HOURS / inst.discharge_efficiency),
    ]
    for col, value in dynamics:
        rows.append(horizon + tau)
        cols.append(col)
        vals.append(np.full(horizon, value))
    rows.append(horizon + tau[1:])
    cols.append(soc[:-1])
    vals.append(np.full(horizon - 1, -1.0))
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


@dataclass(frozen=True)
class _LP:
    """An LP in the form `linprog` takes, and the layout to read its solution."""

    cost: np.ndarray
    a_ub: sparse.csr_array
    b_ub: np.ndarray
    a_eq: sparse.csr_array
    b_eq: np.ndarray
    bounds: np.ndarray
    layout: _Layout


def _two_stage_lp(inst: Instance, start: int, soc: float, pv: np.ndarray, load: np.ndarray) -> _LP:
    """The LP of the rest of the day from step `start` with the battery at `soc`, over the
    scenarios of PV and load given as rows of `pv` and `load`. It minimises the expected cost,
    each scenario weighing the same."""
    scenarios, horizon = pv.shape
    layout = _layout(horizon, scenarios)
    columns, size = layout.columns, layout.size
    local = columns.shape[1]
    soc_cols = layout.local(_FLOWS)
    shortfall = (_FLOWS + 1) * horizon

    rows, cols, vals = _equality_template(inst, horizon)
    eq_rows = (rows + 2 * horizon * np.arange(scenarios)[:, None]).ravel()
    a_eq = sparse.csr_array(
        (np.tile(vals, scenarios), (eq_rows, columns[:, cols].ravel())),
        shape=(2 * horizon * scenarios, size),
    )
    dynamics_rhs = np.zeros((scenarios, horizon))
    dynamics_rhs[:, 0] = soc
    b_eq = np.hstack([load - pv, dynamics_rhs]).ravel()

    # Each scenario's battery ends the day at its initial charge, or pays the shortfall.
    ub_cols = columns[:, [soc_cols.stop - 1, shortfall]].ravel()
    a_ub = sparse.csr_array(
        (np.full(2 * scenarios, -1.0), (np.repeat(np.arange(scenarios), 2), ub_cols)),
        shape=(scenarios, size),
    )
    b_ub = np.full(scenarios, -inst.battery_initial)

    steps = slice(start, start + horizon)
    weights = np.zeros((scenarios, local))
    weights[:, layout.local(_BUY)] = STEP_HOURS * inst.price_buy[steps]
    weights[:, layout.local(_SELL)] = -STEP_HOURS * inst.price_sell[steps]
    weights[:, layout.local(_UNSERVED)] = STEP_HOURS * inst.unserved_cost
    weights[:, layout.local(_DIESEL)] = STEP_HOURS * inst.diesel_cost
    weights[:, shortfall] = inst.terminal_price
    cost = np.bincount(columns.ravel(), weights=weights.ravel() / scenarios, minlength=size)

    lower = np.zeros((scenarios, local))
    lower[:, soc_cols] = inst.battery_min
    upper = np.empty((scenarios, local))
    for flow, limit in (
        (_BUY, inst.grid_buy_max),
        (_SELL, inst.grid_sell_max),
        (_CHARGE, inst.charge_max),
        (_DISCHARGE, inst.discharge_max),
        (_DIESEL, inst.diesel_max),
    ):
        upper[:, layout.local(flow)] = limit
    upper[:, layout.local(_CURTAIL)] = pv
    upper[:, layout.local(_UNSERVED)] = load
    upper[:, soc_cols] = inst.battery_capacity
    upper[:, shortfall] = np.inf
    bounds = np.empty((size, 2))
    bounds[columns.ravel(), 0] = lower.ravel()
    bounds[columns.ravel(), 1] = upper.ravel()
    return _LP(cost, a_ub, b_ub, a_eq, b_eq, bounds, layout)


def _solve(lp: _LP) -> np.ndarray:
    result = linprog(
        lp.cost,
        A_ub=lp.a_ub,
        b_ub=lp.b_ub,
        A_eq=lp.a_eq,
        b_eq=lp.b_eq,
        bounds=lp.bounds,
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"HiGHS did not solve the VPP LP: {result.message}")
    return result.x


def _dispatch(lp: _LP, x: np.ndarray, scenario: int = 0) -> np.ndarray:
    """Charge, discharge and diesel (kW) of one scenario, shape (3, horizon)."""
    columns = lp.layout.columns[scenario]
    return np.array([x[columns[lp.layout.local(flow)]] for flow in _DISPATCH])


# --- Running the day --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """What happened in one step: flows (kW), state of charge after it (kWh), cost (EUR), and
    whether the decided dispatch had to be departed from (`repaired`)."""

    buy: float
    sell: float
    curtail: float
    unserved: float
    charge: float
    discharge: float
    diesel: float
    soc: float
    cost: float
    repaired: bool


def _step_cost(
    inst: Instance, step: int, buy: float, sell: float, unserved: float, diesel: float
) -> float:
    """Cost (EUR) of one step's flows."""
    price = inst.price_buy[step] * buy - inst.price_sell[step] * sell
    return float(STEP_HOURS * (price + inst.unserved_cost * unserved + inst.diesel_cost * diesel))


def _repair(
    inst: Instance, step: int, soc: float, pv: float, load: float, dispatch: np.ndarray
) -> _Step:
    """Apply the decided dispatch to the realised step, balancing it with the grid and
    curtailment. When the dispatch cannot stand (grid limit, battery state of charge), a
    one-step LP departs from it at `DEVIATION_PENALTY`."""
    charge, discharge, diesel = (max(float(v), 0.0) for v in dispatch)
    after = soc + STEP_HOURS * (
        inst.charge_efficiency * charge - discharge / inst.discharge_efficiency
    )
    net = load + charge - pv - discharge - diesel
    buy, surplus = max(net, 0.0), max(-net, 0.0)
    sell = min(surplus, inst.grid_sell_max)
    curtail = surplus - sell
    stands = (
        buy <= inst.grid_buy_max
        and curtail <= pv
        and inst.battery_min <= after <= inst.battery_capacity
    )
    if not stands:
        return _repair_lp(inst, step, soc, pv, load, dispatch)
    # This is also the repair LP's optimum: buying costs more than selling earns, and
    # curtailing (free) is needed only beyond the sale limit.
    cost = _step_cost(inst, step, buy, sell, 0.0, diesel)
    return _Step(buy, sell, curtail, 0.0, charge, discharge, diesel, after, cost, repaired=False)


def _repair_lp(
    inst: Instance, step: int, soc: float, pv: float, load: float, dispatch: np.ndarray
) -> _Step:
    """The one-step repair LP: balance the realised step at least cost, departing from the
    decided dispatch only where the limits or the battery's state of charge leave no other
    way."""
    # Columns: buy, sell, curtail, unserved, charge, discharge, diesel, soc after the step,
    # then the absolute departures from the decided charge, discharge and diesel.
    dt = STEP_HOURS
    cost = np.array(
        [
            dt * inst.price_buy[step],
            -dt * inst.price_sell[step],
            0.0,
            dt * inst.unserved_cost,
            0.0,
            0.0,
            dt * inst.diesel_cost,
            0.0,
            *[dt * DEVIATION_PENALTY] * 3,
        ]
    )
    a_eq = np.zeros((2, 11))
    a_eq[0, :7] = [1.0, -1.0, -1.0, 1.0, -1.0, 1.0, 1.0]
    a_eq[1, 4:8] = [-dt * inst.charge_efficiency, dt / inst.discharge_efficiency, 0.0, 1.0]
    b_eq = np.array([load - pv, soc])
    a_ub = np.zeros((6, 11))
    for i in range(3):
        a_ub[2 * i, [4 + i, 8 + i]] = [1.0, -1.0]
        a_ub[2 * i + 1, [4 + i, 8 + i]] = [-1.0, -1.0]
    b_ub = np.repeat(dispatch, 2) * np.tile([1.0, -1.0], 3)
    bounds = [
        (0.0, inst.grid_buy_max),
        (0.0, inst.grid_sell_max),
        (0.0, pv),
        (0.0, load),
        (0.0, inst.charge_max),
        (0.0, inst.discharge_max),
        (0.0, inst.diesel_max),
        (inst.battery_min, inst.battery_capacity),
        *[(0.0, None)] * 3,
    ]
    result = linprog(
        cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs"
    )
    if result.status != 0:
        raise RuntimeError(f"HiGHS did not solve the repair LP of step {step}: {result.message}")
    buy, sell, curtail, unserved, charge, discharge, diesel, after = map(float, result.x[:8])
    cost = _step_cost(inst, step, buy, sell, unserved, diesel)
    return _Step(
        buy, sell, curtail, unserved, charge, discharge, diesel, after, cost, repaired=True
    )


def _count(params: dict[str, Any], name: str) -> int:
    """The positive integer hyperparameter `name` of `params`."""
    if name not in params:
        raise ValueError(f"missing parameter {name!r}")
    value = params[name]
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


class _Day:
    """The realised day being run: the plant's state and the record of what happened."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.pv, self.load = realisation(inst)
        self.soc = inst.battery_initial
        self.steps: list[_Step] = []
        self.lps = 0

    def apply(self, step: int, dispatch: np.ndarray) -> None:
        """Reveal step `step`, repair the dispatch to it and advance the battery."""
        done = _repair(self.inst, step, self.soc, self.pv[step], self.load[step], dispatch)
        self.steps.append(done)
        self.soc = done.soc
        self.lps += done.repaired

    def result(self, trace: bool) -> dict[str, Any]:
        """The day's features (`features`, so that `hadac bench` records what a surrogate may
        take as instance inputs), then its metrics; with `trace`, also its per-step arrays."""
        inst = self.inst
        shortfall = max(0.0, inst.battery_initial - self.soc)
        record = {
            field: np.array([getattr(s, field) for s in self.steps])
            for field in _Step.__dataclass_fields__
        }
        cost = float(record["cost"].sum()) + inst.terminal_price * shortfall
        out: dict[str, Any] = {
            **features(inst),
            "cost": cost,
            "steps": len(self.steps),
            "lps": self.lps,
            "repaired_steps": int(record["repaired"].sum()),
            "unserved_kwh": float(record["unserved"].sum() * STEP_HOURS),
            "diesel_kwh": float(record["diesel"].sum() * STEP_HOURS),
            "battery_shortfall_kwh": shortfall,
        }
        if trace:
            out["trace"] = {"pv": np.array(self.pv), "load": np.array(self.load), **record}
        return out


def anticipate(params: dict[str, Any], instance: int, *, trace: bool = False) -> dict:
    """ANTICIPATE on day `instance` with `params["nScenarios"]` scenarios per step.

    At each step, sample that many futures of the rest of the day, continuing the forecast
    errors last observed, and solve the two-stage LP whose first stage is the step's dispatch;
    apply the dispatch to the realised step. Returns `{"pv_mean": kW, ..., "cost": EUR, ...}`; with
    `trace=True` also the per-step flows under "trace".
    """
    scenarios = _count(params, "nScenarios")
    inst = _instance(instance)
    rng = np.random.default_rng([_ANTICIPATE_STREAM, instance])
    day = _Day(inst)
    observed = None
    for step in range(STEPS):
        pv, load = _sample(inst, rng, step, scenarios, observed)
        lp = _two_stage_lp(inst, step, day.soc, pv, load)
        x = _solve(lp)
        day.lps += 1
        day.apply(step, x[: len(_DISPATCH)])
        observed = _standardised_error(inst, step, day.pv[step], day.load[step])
    return day.result(trace)


def _plans(inst: Instance, pv: np.ndarray, load: np.ndarray) -> np.ndarray:
    """One deterministic whole-day plan per trace: dispatch of shape (traces, 3, STEPS)."""
    plans = np.empty((pv.shape[0], len(_DISPATCH), STEPS))
    for k in range(pv.shape[0]):
        lp = _two_stage_lp(inst, 0, inst.battery_initial, pv[k : k + 1], load[k : k + 1])
        plans[k] = _dispatch(lp, _solve(lp))
    return plans


def _squared_distance(
    inst: Instance,
    steps: slice,
    pv: np.ndarray,
    load: np.ndarray,
    traces_pv: np.ndarray,
    traces_load: np.ndarray,
) -> np.ndarray:
    """Squared distance, in forecast stds, of each trace to the given values over `steps`;
    steps whose forecast is certain do not count."""
    total = np.zeros(traces_pv.shape[0])
    for value, traces, std in ((pv, traces_pv, inst.pv_std), (load, traces_load, inst.load_std)):
        scale = np.divide(1.0, std[steps], out=np.zeros_like(std[steps]), where=std[steps] > 0)
        total += (((traces[:, steps] - value) * scale) ** 2).sum(axis=1)
    return total


def contingency(params: dict[str, Any], instance: int, *, trace: bool = False) -> dict:
    """CONTINGENCY on day `instance` with `params["nTraces"]` off-line plans.

    Off-line, sample that many whole-day traces and solve one deterministic LP plan per trace.
    On-line, at each step follow the dispatch of the plan whose trace is closest to what has
    been observed so far (before anything is observed: closest to the forecast), repaired to
    the realised step. Returns `{"pv_mean": kW, ..., "cost": EUR, ...}`; with `trace=True` also the
    per-step flows under "trace".
    """
    traces = _count(params, "nTraces")
    inst = _instance(instance)
    rng = np.random.default_rng([_CONTINGENCY_STREAM, instance])
    traces_pv, traces_load = _sample(inst, rng, 0, traces, None)
    plans = _plans(inst, traces_pv, traces_load)
    day = _Day(inst)
    day.lps += traces
    everything = slice(0, STEPS)
    distance = _squared_distance(inst, everything, inst.pv, inst.load, traces_pv, traces_load)
    chosen = int(np.argmin(distance))
    distance = np.zeros(traces)
    for step in range(STEPS):
        if step > 0:
            seen = slice(step - 1, step)
            distance += _squared_distance(
                inst, seen, day.pv[seen], day.load[seen], traces_pv, traces_load
            )
            chosen = int(np.argmin(distance))
        day.apply(step, plans[chosen, :, step])
    return day.result(trace)
