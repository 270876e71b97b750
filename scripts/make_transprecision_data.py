"""Write the synthetic benchmark data of `specs/transprecision.hada`, a precision-tuning study.

Transprecision computing stores each variable of a kernel in as few mantissa bits as its
result can afford: each param `var_I` (4..52) is the precision of one variable, stored in
the smallest type that holds it (an 8-bit float up to 8 bits, a 16-bit float up to 16,
float up to 32, else double). On each platform, time and memory follow the types, in steps:
one variable (the kernel's big array) carries most of the work, a second some, the rest
almost none; mixing types costs casts (an interaction of all params); small types are fast
only where the hardware has them (`edge`, a low-power cluster with 8- and 16-bit float
units), and emulated elsewhere. The quality of the result, `-log10` of its relative error,
depends on the bits alone, the same on every platform: it is measured once per algorithm,
on other random settings than the time and memory files, into `ALGORITHM_quality.csv`,
which the spec binds with `data = "..."` for every hardware.

Seeded, and each file is written to a temporary name then renamed: rerunning with the same
options rewrites the same bytes.

    python scripts/make_transprecision_data.py                  # specs/data/transprecision/
    python scripts/make_transprecision_data.py --params 2 --rows 300 --out DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from csvfile import write_csv

OUT = Path(__file__).resolve().parent.parent / "specs" / "data" / "transprecision"
LOW, HIGH = 4, 52  # bits of mantissa a variable may get
TYPE_BITS = (8, 16, 32)  # the largest precision of each type before double
TYPE_BYTES = np.array([1, 2, 4, 8])
#: Platform: (seconds of a run in float, relative time of each type (fp8, fp16, float,
#: double), runtime memory in MB).
PLATFORMS = {
    "edge": (30.0, (0.35, 0.5, 1.0, 6.0), 2.0),
    "laptop": (9.0, (1.6, 1.3, 1.0, 1.2), 40.0),
    "cloud": (2.5, (1.1, 0.8, 1.0, 1.9), 90.0),
}
#: Algorithm: (share of the work per variable, MB per byte of each variable's arrays,
#: sensitivity of the result's error to each variable); variables past the listed ones
#: take the last value. The first variable costs the most; the second matters most to
#: the error.
ALGORITHMS = {
    "saxpy": ((1.0, 0.3, 0.02), (16.0, 4.0, 0.1), (1.0, 40.0, 0.05)),
    "convolution": ((1.0, 0.15, 0.01), (6.0, 12.0, 0.05), (3.0, 8.0, 0.02)),
}
CAST_PENALTY = 0.12  # extra time per additional type in use


def _per_variable(values: tuple[float, ...], count: int) -> np.ndarray:
    return np.array([values[min(i, len(values) - 1)] for i in range(count)])


def types(bits: np.ndarray) -> np.ndarray:
    """The storage type of each precision: 0 fp8, 1 fp16, 2 float, 3 double."""
    return np.searchsorted(np.array(TYPE_BITS), bits, side="left")


def measured(algorithm: str, platform: str, bits: np.ndarray, rng) -> np.ndarray:
    """Time (s) and memory (MB) of runs at `bits` (one row per run, one column per variable)."""
    share, megabytes, _ = (_per_variable(v, bits.shape[1]) for v in ALGORITHMS[algorithm])
    seconds, relative, runtime = PLATFORMS[platform]
    kind = types(bits)
    work = (share * np.array(relative)[kind]).sum(axis=1) / share.sum()
    distinct = np.array([len(set(row)) for row in kind])
    time = seconds * (0.15 + work) * (1 + CAST_PENALTY * (distinct - 1))
    time *= rng.lognormal(0.0, 0.03, len(bits))
    memory = runtime + (megabytes * TYPE_BYTES[kind]).sum(axis=1)
    memory += rng.normal(0.0, 0.2, len(bits))
    return np.column_stack([time, memory])


def quality(algorithm: str, bits: np.ndarray, rng) -> np.ndarray:
    """-log10 of the result's relative error: each variable rounds at its precision, scaled
    by how much the result is sensitive to it."""
    sensitivity = _per_variable(ALGORITHMS[algorithm][2], bits.shape[1])
    error = (sensitivity * 2.0 ** -bits.astype(float)).sum(axis=1) + 1e-16
    return -np.log10(error) + rng.normal(0.0, 0.03, len(bits))


def _round(values: np.ndarray) -> list[float]:
    return [float(f"{v:.5g}") for v in values]


def write(out: Path, params: int, rows: int, seed: int = 0) -> list[Path]:
    """Every file of the study in `out`: per algorithm, its time and memory on each
    platform and its quality, `rows` random settings each."""
    out.mkdir(parents=True, exist_ok=True)
    names = [f"var_{i}" for i in range(params)]
    written = []
    for a, algorithm in enumerate(ALGORITHMS):
        for p, platform in enumerate(PLATFORMS):
            rng = np.random.default_rng([seed, a, p])
            bits = rng.integers(LOW, HIGH + 1, size=(rows, params))
            values = measured(algorithm, platform, bits, rng)
            lines = [[*b.tolist(), *_round(v)] for b, v in zip(bits, values, strict=True)]
            path = out / f"{algorithm}_{platform}.csv"
            write_csv(path, [*names, "time(sec)", "memory(MB)"], lines)
            written.append(path)
        rng = np.random.default_rng([seed, a, len(PLATFORMS)])
        bits = rng.integers(LOW, HIGH + 1, size=(rows, params))
        digits = quality(algorithm, bits, rng)
        lines = [[*b.tolist(), *_round([q])] for b, q in zip(bits, digits, strict=True)]
        path = out / f"{algorithm}_quality.csv"
        write_csv(path, [*names, "quality"], lines)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", type=int, default=3, help="variables to tune (default 3)")
    parser.add_argument("--rows", type=int, default=1200, help="rows per file (default 1200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT})")
    options = parser.parse_args()
    for path in write(options.out, options.params, options.rows, options.seed):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
