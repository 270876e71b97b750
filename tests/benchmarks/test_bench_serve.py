"""Load test of `hadac serve`: 500 solve requests from 16 concurrent clients, 2 workers;
and the latency of one client asking each distinct query once, one after the other.

Run with: .venv/bin/python -m pytest -n 0 tests/benchmarks/test_bench_serve.py --benchmark-only
A real server (a subprocess on a free local port) serves a build of specs/tiny.hada with
native Gecode. Each request bounds time and cost and picks an objective: in `grid`, bounds
drawn from a grid, so the 500 requests ask 60 distinct queries (as sliders revisit
positions: a proven answer asked again costs no solve); in `distinct`, bounds drawn
uniformly, so nearly every request is a new solve. Every answer must be a 200 equal to
`hadac solve --json` for the same flags (timings aside), and none may be lost. The
latencies' p50 and p95 and the requests per second are recorded in the benchmark's
extra_info (docs/performance.md).
"""

from __future__ import annotations

import itertools
import json
import queue
import random
import statistics
import subprocess
import sys
import threading
import time

import httpx
import pytest
from click.testing import CliRunner
from conftest import REPO
from servers import free_port
from test_serve import without_timings

from hadac.cli import main
from hadac.compiler import compile_spec

REQUESTS, CLIENTS, WORKERS = 500, 16, 2
SOLVER = "gecode"
OBJECTIVES = ("minimize emissions", "minimize time", "maximize cost")
TIMES = (8, 12, 16, 20, 30)  # s
COSTS = (290, 300, 310, 320)  # kEUR


def queries() -> list[dict]:
    """The distinct questions the load is drawn from: 3 objectives x 5 x 4 bounds."""
    out = []
    for objective, t, c in itertools.product(OBJECTIVES, TIMES, COSTS):
        sense, name = objective.split()
        out.append({sense: name, "constraints": [f"time <= {t} s", f"cost <= {c} kEUR"]})
    return out


def random_queries(count: int, seed: int) -> list[dict]:
    """`count` queries with bounds drawn uniformly over the grid's span."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        sense, name = rng.choice(OBJECTIVES).split()
        t, c = rng.uniform(TIMES[0], TIMES[-1]), rng.uniform(COSTS[0], COSTS[-1])
        out.append({sense: name, "constraints": [f"time <= {t:.3f} s", f"cost <= {c:.2f} kEUR"]})
    return out


def cli_flags(query: dict) -> list[str]:
    sense = "minimize" if "minimize" in query else "maximize"
    flags = [f"--{sense}", query[sense]]
    for text in query["constraints"]:
        flags += ["--constraint", text]
    return flags


def _listening(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.requires_solver(SOLVER, where="native")
@pytest.mark.parametrize(
    ("bounds", "requests", "clients"),
    [("grid", REQUESTS, CLIENTS), ("distinct", REQUESTS, CLIENTS), ("grid", 60, 1)],
)
def test_solves_under_load(benchmark, tmp_path, bounds, requests, clients):
    build = compile_spec(REPO / "specs" / "tiny.hada", tmp_path / "tiny").directory
    distinct = queries() if bounds == "grid" else random_queries(requests, seed=500)
    expected = []
    for query in distinct:
        result = CliRunner().invoke(
            main, ["solve", str(build), *cli_flags(query), "--solver", SOLVER, "--json"]
        )
        assert result.exit_code in (0, 2), result.output
        expected.append(without_timings(json.loads(result.stdout)))
    port = free_port()
    command = [sys.executable, "-m", "hadac", "serve", str(build), "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(WORKERS)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/api/studies/tiny/solve"
    try:
        deadline = time.monotonic() + 60
        while not _listening(f"{base}/api/studies"):
            assert time.monotonic() < deadline and server.poll() is None, "no server"
            time.sleep(0.2)
        with httpx.Client() as warm:  # every worker thread has run a solve once
            for query in queries()[:4]:
                assert warm.post(url, json={**query, "solver": SOLVER}).status_code == 200

        rng = random.Random(500)
        picks = (
            list(range(len(distinct)))
            if requests == len(distinct)
            else [rng.randrange(len(distinct)) for _ in range(requests)]
        )
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def load() -> float:
            todo: queue.Queue[int] = queue.Queue()
            for pick in picks:
                todo.put(pick)

            def client() -> None:
                with httpx.Client(timeout=120.0) as http:
                    while True:
                        try:
                            pick = todo.get_nowait()
                        except queue.Empty:
                            return
                        started = time.perf_counter()
                        response = http.post(url, json={**distinct[pick], "solver": SOLVER})
                        took = time.perf_counter() - started
                        same = response.status_code == 200 and (
                            without_timings(response.json()) == expected[pick]
                        )
                        with lock:
                            latencies.append(took)
                            if not same:
                                failures.append(f"{distinct[pick]}: {response.status_code}")

            started = time.perf_counter()
            threads = [threading.Thread(target=client) for _ in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return time.perf_counter() - started

        seconds = benchmark.pedantic(load, rounds=1, iterations=1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not failures, failures[:5]
    assert len(latencies) == requests  # none lost
    cuts = statistics.quantiles(latencies, n=100)
    benchmark.extra_info.update(
        {
            "bounds": bounds,
            "requests": requests,
            "clients": clients,
            "workers": WORKERS,
            "distinct_queries": len(distinct),
            "p50_s": cuts[49],
            "p95_s": cuts[94],
            "requests_per_s": requests / seconds,
        }
    )
    print(
        f"\n{bounds}: {requests} requests, {clients} clients, {WORKERS} workers:"
        f" p50 {cuts[49] * 1000:.0f}"
        f" ms, p95 {cuts[94] * 1000:.0f} ms, {requests / seconds:.1f} requests/s"
    )
