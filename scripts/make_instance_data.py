"""Write the synthetic benchmark data of `specs/instances.hada`, an input-dependent study.

The two energy-management algorithms of the other examples plan one day each run, and the
day drives what a plan costs and how long it takes: each row records the day's mean PV
output (`pv_mean`, kW) and the standard deviation of its load (`load_std`, kW) beside the
param and the measurements. A variable load costs more and takes longer; sun lowers the
bill. `anticipate` is cheap on easy days, `contingency` (with many traces) the one that
keeps a hard day's bill down, so which algorithm and param are best depends on the day.
Every pair sees the same 25 days. Seeded: rerunning rewrites the same bytes.

    python scripts/make_instance_data.py        # writes specs/data/instances/*.csv
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from csvfile import write_csv

OUT = Path(__file__).resolve().parent.parent / "specs" / "data" / "instances"
DAYS = 25
INTENSITY_KG_PER_KWH = 0.37
MACHINES = {"laptop": (1.0, 30.0), "server": (2.4, 180.0)}  # speed factor, power draw in W
ALGORITHMS = {  # name: (param, values, seconds per unit, base seconds, base cost, gain)
    "anticipate": ("nScenarios", range(1, 13), 1.4, 1.0, 150.0, 22.0),
    "contingency": ("nTraces", (1, 2, 4, 8, 16, 32), 0.5, 4.0, 170.0, 30.0),
}
COLUMNS = ["pv_mean", "load_std", "time(sec)", "cost", "CO2e(kg)"]


def days() -> list[tuple[float, float]]:
    """The days every pair is measured on: (pv_mean, load_std)."""
    rng = np.random.default_rng(7)
    return [
        (round(float(rng.uniform(100, 400)), 1), round(float(rng.uniform(50, 250)), 1))
        for _ in range(DAYS)
    ]


def rows(algorithm: str, machine: str, rng: np.random.Generator) -> list[list]:
    param, values, per_unit, base, cost0, gain = ALGORITHMS[algorithm]
    speed, watts = MACHINES[machine]
    out = []
    for value in values:
        for day, (pv_mean, load_std) in enumerate(days()):
            seconds = (base + per_unit * value**1.1) * (1 + load_std / 250) / speed
            seconds *= rng.lognormal(0.0, 0.05)
            cost = cost0 + 0.6 * load_std - 0.2 * (pv_mean - 250) - gain * np.log1p(value)
            cost += rng.normal(0.0, 2.0)
            kwh = watts * seconds / 3.6e6
            out.append(
                [
                    value,
                    day,
                    pv_mean,
                    load_std,
                    round(seconds, 3),
                    round(cost, 2),
                    float(f"{kwh * INTENSITY_KG_PER_KWH:.6g}"),
                ]
            )
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pairs = [(a, m) for a in ALGORITHMS for m in MACHINES]
    for index, (algorithm, machine) in enumerate(pairs):
        rng = np.random.default_rng(2000 + index)
        path = OUT / f"{algorithm}_{machine}.csv"
        write_csv(path, [ALGORITHMS[algorithm][0], "day", *COLUMNS], rows(algorithm, machine, rng))
        print(f"wrote {path.relative_to(OUT.parent.parent.parent)}")


if __name__ == "__main__":
    main()
