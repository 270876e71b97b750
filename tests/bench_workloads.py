"""Fast fake workloads for the tests of `hadac bench`: each behaves in one way a real
workload can, in a fraction of a second."""

from __future__ import annotations

import os
import sys
import time


def quick(params: dict, instance: int) -> dict:
    """Sleeps `n` x 20 ms; reports what it saw of its pinning and thread limits."""
    time.sleep(0.02 * params["n"])
    return {
        "value": params["n"] * 10 + instance,
        "cpus": len(os.sched_getaffinity(0)),
        "ompThreads": int(os.environ.get("OMP_NUM_THREADS", "0")),
    }


def busy(params: dict, instance: int) -> dict:
    """Keeps the CPU busy for `n` x 50 ms, so that time and CPU time grow with n."""
    end = time.process_time() + 0.05 * params["n"]
    total = 0
    while time.process_time() < end:
        total += 1
    return {"loops": total}


def chaos(params: dict, instance: int) -> dict:
    """how = 0 fine, 1 raises, 2 sys.exit, 3 the process dies, 4 hangs."""
    how = params["how"]
    if how == 1:
        raise ValueError("a bad day")
    if how == 2:
        sys.exit(3)
    if how == 3:
        os._exit(4)
    if how == 4:
        time.sleep(600)
    return {"value": how}


def where(params: dict, instance: int) -> dict:
    """The worker it ran on, as the test that started the worker named it."""
    return {"worker": os.environ.get("BENCH_TEST_WORKER", "")}


def probe(params: dict, instance: int) -> dict:
    """What the runner loaded of hadac, whether hadac can be found, and where from."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("hadac")
    except ImportError:
        spec = None
    venv = os.environ.get("BENCH_TEST_VENV", "")
    return {
        "hadacModules": sum(1 for name in sys.modules if name.split(".")[0] == "hadac"),
        "hadacFound": int(spec is not None),
        "hadacFromVenv": int(bool(venv) and spec is not None and spec.origin.startswith(venv)),
    }


def odd(params: dict, instance: int) -> dict:
    """how = 0 NaN, 1 inf, 2 a note of two lines (a quoted CSV cell), 3 prints 200k lines."""
    how = params["how"]
    if how == 0:
        return {"value": float("nan")}
    if how == 1:
        return {"value": float("-inf") if instance else float("inf")}
    if how == 2:
        return {"value": 2.0, "note": 'line one, "quoted"\nline two é'}
    for line in range(200_000):
        print(f"chatty workload, line {line:6d} of 200000: ........................")
    return {"value": 3.0}


def named(params: dict, instance: int) -> dict:
    """Takes an engine by name, as a str param gives it; its value says which it was."""
    return {"value": {"lne": 1, "tflite": 2}[params["engine"]] * 10 + params["n"] + instance}
