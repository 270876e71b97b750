"""Write the synthetic benchmark data of the example specs in `specs/`.

Two energy-management algorithms on three machines, measured over 10 daily instances:
`anticipate` (param nScenarios) and `contingency` (param nTraces). Time and memory grow with
the param, solution cost falls with it, energy follows time and the machine's power draw,
and CO2e is energy times the carbon intensity of Italy's grid. Seeded: rerunning rewrites the
same bytes. `contingency` has no data on `cloud`, so that pair cannot be chosen.

    python scripts/make_example_data.py        # writes specs/data/*.csv
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from csvfile import write_csv

OUT = Path(__file__).resolve().parent.parent / "specs" / "data"
INSTANCES = 10
INTENSITY_KG_PER_KWH = 0.37  # grid carbon intensity used for every machine
MACHINES = {  # name: (speed factor, power draw in W, memory overhead in MB)
    "laptop": (1.0, 30.0, 40.0),
    "server": (2.4, 180.0, 120.0),
    "cloud": (1.7, 90.0, 80.0),
}
ALGORITHMS = {  # name: (param, values, seconds per unit, base seconds, MB per unit, cost curve)
    "anticipate": ("nScenarios", range(1, 21), 2.6, 3.0, 6.0, (340.0, 28.0)),
    "contingency": ("nTraces", (1, 2, 4, 8, 16, 32), 1.1, 9.0, 2.5, (352.0, 16.0)),
}
PAIRS = [
    ("anticipate", "laptop"),
    ("anticipate", "server"),
    ("anticipate", "cloud"),
    ("contingency", "laptop"),
    ("contingency", "server"),
]
COLUMNS = ["time(sec)", "sol(keuro)", "memAvg(MB)", "energy(kWh)", "CO2e(kg)"]


def rows(algorithm: str, machine: str, rng: np.random.Generator) -> list[list]:
    param, values, per_unit, base, mb_per_unit, (cost0, gain) = ALGORITHMS[algorithm]
    speed, watts, overhead = MACHINES[machine]
    out = []
    for value in values:
        for instance in range(INSTANCES):
            difficulty = 1.0 + 0.05 * instance
            seconds = (base + per_unit * value**1.1) * difficulty / speed
            seconds *= rng.lognormal(0.0, 0.08)
            cost = cost0 + 1.0 * instance - gain * np.log1p(value) + rng.normal(0.0, 2.0)
            memory = overhead + mb_per_unit * value + rng.normal(0.0, 2.0)
            kwh = watts * seconds / 3.6e6 * rng.lognormal(0.0, 0.03)
            out.append(
                [
                    value,
                    instance,
                    round(seconds, 3),
                    round(cost, 2),
                    round(memory, 2),
                    float(f"{kwh:.6g}"),
                    float(f"{kwh * INTENSITY_KG_PER_KWH:.6g}"),
                ]
            )
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for index, (algorithm, machine) in enumerate(PAIRS):
        rng = np.random.default_rng(1000 + index)
        path = OUT / f"{algorithm}_{machine}.csv"
        write_csv(
            path, [ALGORITHMS[algorithm][0], "instance", *COLUMNS], rows(algorithm, machine, rng)
        )
        print(f"wrote {path.relative_to(OUT.parent.parent)}")


if __name__ == "__main__":
    main()
