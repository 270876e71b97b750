"""Print the Markdown tables of docs/performance.md from pytest-benchmark JSON files.

python scripts/benchmark_tables.py docs/benchmarks/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def machine(data: dict) -> str:
    info = data["machine_info"]
    cpu = info.get("cpu", {})
    return (
        f"{cpu.get('brand_raw', info.get('processor', '?'))}, {cpu.get('count', '?')} cores,"
        f" Python {info.get('python_version')}, {data.get('datetime', '')[:10]}"
    )


def scaling(data: dict) -> None:
    print(f"Machine: {machine(data)}\n")
    columns = ["surrogate", "encoding", "compile s", "model kB", "binaries or rows"]
    print("| " + " | ".join(columns + ["cbc s", "highs s", "gecode s"]) + " |")
    print("|---|---|---|---|---|---|---|---|")
    for bench in data["benchmarks"]:
        e = bench["extra_info"]
        cells = []
        for solver in ("cbc", "highs", "gecode"):
            status = e.get(f"{solver}_status")
            seconds = _seconds(e.get(f"{solver}_s")) if status else "n/a"
            cells.append(seconds if status in (None, "OPTIMAL") else f"{seconds} ({status})")
        print(
            f"| {e['case']} | {e['encoding']} | {e['compile_s']:.2f} | {e['model_kb']} |"
            f" {e['binaries']} | " + " | ".join(cells) + " |"
        )


def timings(data: dict) -> None:
    print(f"Machine: {machine(data)}\n")
    print("| benchmark | min s | median s | max s | rounds | details |")
    print("|---|---|---|---|---|---|")
    for bench in data["benchmarks"]:
        s = bench["stats"]
        extra = ", ".join(f"{k}={v}" for k, v in bench["extra_info"].items())
        print(
            f"| {bench['name']} | {s['min']:.3f} | {s['median']:.3f} | {s['max']:.3f} |"
            f" {s['rounds']} | {extra} |"
        )


def main() -> None:
    for path in map(Path, sys.argv[1:]):
        data = json.loads(path.read_text())
        print(f"### {path.name}\n")
        if data["benchmarks"] and "encoding" in data["benchmarks"][0]["extra_info"]:
            scaling(data)
        else:
            timings(data)
        print()


if __name__ == "__main__":
    main()
