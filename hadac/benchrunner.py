"""The benchmark runner of `hadac bench`: it runs one campaign file, the runs of one algorithm
on one hardware.

`hadac bench` writes the campaign, `run_ALGORITHM_on_HARDWARE.json`, and copies this module
beside it as `hadac_benchrunner.py`, with a small script `run_ALGORITHM_on_HARDWARE.py` that
calls `main`. The three files can go to a machine that has no hadac and no network (an HPC
node), so this module needs Python 3.11+ and codecarbon (which brings psutil and rich), and
dask distributed only with --scheduler; it imports nothing of hadac, and those packages only in
the functions that use them, so that a campaign that cannot run says why without them. There,

    python run_ALGORITHM_on_HARDWARE.py --out RESULTS.csv
        [--run-timeout SECONDS] [--scheduler tcp://HOST:PORT]

Each run calls the workload as `function(params, instance)` in a worker process pinned to the
hardware's CPUs, measured by one codecarbon OfflineEmissionsTracker for many runs. A run that
raises, exits, crashes, returns a metric that is not a finite number or exceeds --run-timeout
gives a row with its `error` filled, and a crashed or hung worker is replaced. Rows are
appended one by one and flushed; a rerun skips the runs already in the CSV. Runs go one after
the other: runs side by side on one machine would share its CPUs, caches and memory
bandwidth, and corrupt each other's time and energy. What the workload prints goes to the
log, up to LOG_BYTES per campaign.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import math
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

#: The version of the campaign file this runner reads; `hadac bench` writes the same.
CAMPAIGN_FORMAT = 1

# ---- what each row holds ----
MEASURES = [
    "time(sec)",  # wall time of the call
    "cpuTime(sec)",  # CPU time of the worker process during the call, every thread
    "memPeak(MB)",  # peak resident memory of the worker process during the call
    "memAvg(MB)",  # mean resident memory of the worker process during the call
    "energy(kWh)",  # codecarbon: CPU + RAM energy of the call
    "cpuEnergy(kWh)",
    "ramEnergy(kWh)",
    "CO2e(kg)",  # codecarbon: energy times the carbon intensity of the location
]
LABELS = ["hardware", "cpuCount", "host", "codecarbon", "started", "error"]
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
MEMORY_SAMPLE_SECONDS = 0.01
STARTUP_SECONDS = 300.0  # codecarbon's start and the workload's import, with room to spare
ERROR_CHARS = 300
LOG_BYTES = 1_000_000  # of workload output kept per campaign: a chatty workload fills no disk
LOG_FLUSH_SECONDS = 5.0  # for the last output of a worker that is gone, held by its children
CONNECT_SECONDS = 10  # to reach a Dask scheduler

#: (params, instance, repeat): one call `function(params, instance)`, the repeat-th of its kind.
Run = tuple[dict[str, Any], int, int]

_SOURCE: list[str] = []
# A worker reads this module's source, then its config, one JSON line each from stdin, and
# runs the source as a module of its own (dataclasses look their module up); its only
# argument is the file the source came from, for tracebacks.
_BOOT = (
    "import json, sys, types\n"
    "source = json.loads(sys.stdin.readline())\n"
    "config = json.loads(sys.stdin.readline())\n"
    "module = types.ModuleType('__hadac_bench_worker__')\n"
    "module.__file__ = sys.argv[1]\n"
    "sys.modules[module.__name__] = module\n"
    "exec(compile(source, sys.argv[1], 'exec'), module.__dict__)\n"
    "module.worker_main(config)\n"
)


class CampaignError(RuntimeError):
    """The campaign cannot run; the message says why."""


class WorkerStartError(CampaignError):
    """The worker could not start (no codecarbon, a workload that does not import, too few
    CPUs): every run would fail the same way, so the campaign stops instead."""


# ======================================================================================
# The campaign file
# ======================================================================================


@dataclass(frozen=True)
class Settings:
    """What every run of a campaign shares, as its campaign file gives it.

    Passed whole to each worker process and each Dask task rather than kept in globals, so
    that one copy of this module serves every campaign of a folder, and a Dask worker every
    campaign sent to it.
    """

    algorithm: str
    hardware: str
    location: str  # ISO 3166 alpha-3: the grid whose carbon intensity counts
    cores: int | None  # CPUs a run may use; None: every CPU the runner may use
    function: str  # "module:function"
    params: tuple[str, ...]
    spec_file: str = ""  # the spec the campaign was written from
    hadac_version: str = ""  # the hadac that wrote it
    design: str = ""  # the design in words, for --help
    default_out: str = ""  # the CSV without --out
    # the params that take names (str params), each with its names; the others take numbers
    names: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def key(self) -> list[str]:
        """The columns that name a run."""
        return [*self.params, "instance", "repeat"]

    @property
    def named(self) -> frozenset[str]:
        """The params that take names."""
        return frozenset(param for param, _ in self.names)

    @property
    def resource(self) -> str:
        """The Dask worker resource that marks a worker as this hardware."""
        return f"hw-{self.hardware}"

    def to_json(self) -> dict[str, Any]:
        """The settings as the campaign file holds them."""
        return {
            "spec_file": self.spec_file,
            "hadac_version": self.hadac_version,
            "design": self.design,
            "algorithm": self.algorithm,
            "hardware": self.hardware,
            "location": self.location,
            "cores": self.cores,
            "function": self.function,
            "params": list(self.params),
            "names": {param: list(names) for param, names in self.names},
            "default_out": self.default_out,
        }

    @classmethod
    def from_json(cls, data: object) -> Settings:
        """The settings of a campaign file's object; ValueError saying what is amiss."""
        if not isinstance(data, dict):
            raise ValueError(f"expected an object, got {_json_type(data)}")
        texts = {}
        for name in ("algorithm", "hardware", "location", "function"):
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise ValueError(f'"{name}" must be a non-empty string')
            texts[name] = value
        for name in ("spec_file", "hadac_version", "design", "default_out"):
            value = data.get(name, "")
            if not isinstance(value, str):
                raise ValueError(f'"{name}" must be a string')
            texts[name] = value
        cores = data.get("cores")
        if cores is not None and (not _is_int(cores) or cores < 1):
            raise ValueError('"cores" must be a positive integer or null')
        params = data.get("params")
        if not isinstance(params, list) or not all(isinstance(p, str) and p for p in params):
            raise ValueError('"params" must be a list of non-empty strings')
        if len(set(params)) != len(params):
            raise ValueError('"params" names a param twice')
        names = data.get("names", {})
        if not isinstance(names, dict) or not all(
            param in params
            and isinstance(values, list)
            and values
            and all(isinstance(v, str) and v for v in values)
            for param, values in names.items()
        ):
            raise ValueError('"names" must map params to lists of non-empty strings')
        labelled = tuple((param, tuple(values)) for param, values in names.items())
        return cls(cores=cores, params=tuple(params), names=labelled, **texts)


def load_campaign(path: Path) -> tuple[Settings, list[Run]]:
    """The settings and the runs, in the order they go, of the campaign file at `path`.

    The file is JSON so that no name or file name of a spec is ever code; it is checked
    here whole, before anything runs, so that a campaign file edited by hand fails at once
    and says where rather than hours into a campaign.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CampaignError(
            f"no campaign file {path}: `hadac bench --render-only` writes it beside its runner"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise CampaignError(f"cannot read the campaign file {path}: {_one_line(error)}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise CampaignError(f"{path} is not JSON: {error}") from None
    try:
        if not isinstance(data, dict):
            raise ValueError(f"expected an object, got {_json_type(data)}")
        found = data.get("campaign_format")
        if found != CAMPAIGN_FORMAT:
            raise ValueError(
                f"campaign_format is {found!r}, this runner reads {CAMPAIGN_FORMAT}; write the"
                " campaign and its runner with the same hadac"
            )
        settings = Settings.from_json(data)
        runs = [_run(item, settings, index) for index, item in enumerate(_runs(data))]
    except ValueError as error:
        raise CampaignError(f"{path} is not a campaign file of this runner: {error}") from None
    seen: set[tuple] = set()
    for index, run in enumerate(runs):
        key = run_key(_as_values(run), settings.params, settings.named)
        if key in seen:
            raise CampaignError(
                f"{path}: run {index} repeats an earlier run (same params, instance and"
                " repeat); a resumed campaign could not tell them apart"
            )
        seen.add(key)
    return settings, runs


def _runs(data: dict) -> list:
    runs = data.get("runs")
    if not isinstance(runs, list):
        raise ValueError('"runs" must be a list')
    return runs


def _run(item: object, settings: Settings, index: int) -> Run:
    """One run of the campaign file: {"params": {...}, "instance": I, "repeat": R}."""
    where = f"run {index}"
    params, names = settings.params, dict(settings.names)
    if not isinstance(item, dict) or set(item) != {"params", "instance", "repeat"}:
        raise ValueError(f'{where} must be an object of "params", "instance" and "repeat"')
    values = item["params"]
    if not isinstance(values, dict) or set(values) != set(params):
        raise ValueError(f"{where} must give a value to each param: {', '.join(params)}")
    for name in params:
        value = values[name]
        if name in names:
            if value not in names[name]:
                raise ValueError(f"{where}: param {name} must be one of {', '.join(names[name])}")
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: param {name} must be a number")
        if not math.isfinite(value):
            raise ValueError(f"{where}: param {name} must be a finite number")
    for name in ("instance", "repeat"):
        if not _is_int(item[name]) or item[name] < 0:
            raise ValueError(f"{where}: {name} must be a non-negative integer")
    return ({name: values[name] for name in params}, item["instance"], item["repeat"])


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _source() -> str:
    """This module's text, read once at the start of a campaign. Workers start from it
    rather than from the file, which may be rewritten or removed during a campaign of hours
    (a new `hadac bench`, a fresh build)."""
    if not _SOURCE:
        _SOURCE.append(Path(__file__).read_text(encoding="utf-8"))
    return _SOURCE[0]


# ======================================================================================
# The worker: one process that measures many runs
# ======================================================================================


def worker_main(config: dict[str, Any]) -> None:
    """Measure the runs read from stdin, one JSON line each, answering one JSON line each.

    `config` holds the campaign's settings, the CPUs to pin to and the campaign's process id.
    Pins itself to its CPUs first, before anything imports numpy and starts threads. Its
    stdout is kept for answers and fd 1 becomes stderr, so that whatever the workload prints
    goes to the log. Ctrl-C is the campaign's business; a campaign that dies takes its worker
    along (see `_follow_parent`).
    """
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _follow_parent(config["parent"])
    try:
        settings = Settings.from_json(config["settings"])
        if config["cpus"]:
            os.sched_setaffinity(0, config["cpus"])
        tracker, version = _tracker(settings)
        function = _load_function(settings.function)
    except BaseException as error:  # noqa: BLE001 - reported to the campaign, which stops
        traceback.print_exc()
        answers.write(json.dumps({"failed": _one_line(error)}) + "\n")
        return
    cpus = sorted(os.sched_getaffinity(0))
    answers.write(json.dumps({"ready": True, "cpus": cpus, "codecarbon": version}) + "\n")
    context = {"cpuCount": len(cpus), "host": socket.gethostname(), "codecarbon": version}
    for count, line in enumerate(sys.stdin):
        request = json.loads(line)
        row = _measure(settings, tracker, function, request, context, f"run-{count}")
        answers.write(json.dumps(row) + "\n")


def _follow_parent(parent: int) -> None:
    """Exit as soon as the campaign process is gone, even if it was SIGKILLed mid-run."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="follow-parent").start()


def _tracker(settings: Settings) -> tuple[Any, str]:
    """One codecarbon tracker for the life of the worker: its start costs about a second.

    `tracking_mode="process"` charges a run for the CPU time and memory of this process
    only, not for whatever else the machine runs, and a worker pinned to some CPUs for its
    share of the chip's power. A probe task checks that codecarbon measures at all: its
    `start()` swallows errors, and an unknown country falls back silently.
    """
    import logging

    import codecarbon
    from codecarbon import OfflineEmissionsTracker

    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    tracker = OfflineEmissionsTracker(
        country_iso_code=settings.location,
        project_name=f"{settings.algorithm}-on-{settings.hardware}",
        output_methods=[],
        tracking_mode="process",
        log_level="error",
        allow_multiple_runs=True,
    )
    tracker.start()
    tracker.start_task("probe")
    probe = tracker.stop_task("probe")
    if probe is None or probe.emissions is None:
        raise RuntimeError("codecarbon does not measure on this machine")
    if not probe.country_name:
        raise RuntimeError(f"codecarbon knows no country with ISO code {settings.location!r}")
    return tracker, codecarbon.__version__


def _load_function(target: str) -> Callable[..., Any]:
    """`module:function` imported as `python -c 'import module'` would, from the current
    directory too."""
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    module_name, _, attribute = target.partition(":")
    found = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    if not callable(found):
        raise TypeError(f"{target} is not callable")
    return found


class _Memory:
    """Peak and mean resident memory of this process over one run.

    The peak is the kernel's high-water mark, reset at the start of the run (Linux
    /proc/self/clear_refs), so a spike between two samples still counts; the mean comes from
    samples every MEMORY_SAMPLE_SECONDS.
    """

    def __init__(self) -> None:
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        self._samples: list[int] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reset = False

    def _rss(self) -> int:
        try:
            with open("/proc/self/statm", "rb") as statm:
                return int(statm.read().split()[1]) * self._page
        except OSError:
            import psutil

            return psutil.Process().memory_info().rss

    def _high_water(self) -> int | None:
        try:
            with open("/proc/self/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def start(self) -> None:
        try:
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")
            self._reset = True
        except OSError:
            self._reset = False
        self._stop.clear()
        self._samples = [self._rss()]
        self._thread = threading.Thread(target=self._sample, daemon=True, name="memory")
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(MEMORY_SAMPLE_SECONDS):
            self._samples.append(self._rss())

    def stop(self) -> tuple[float, float]:
        """(peak, mean) in MB."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._samples.append(self._rss())
        peak = max(self._samples)
        high = self._high_water() if self._reset else None
        if high is not None:
            peak = max(peak, high)
        return peak / 1e6, sum(self._samples) / len(self._samples) / 1e6


def _measure(
    settings: Settings,
    tracker: Any,
    function: Callable[..., Any],
    request: dict[str, Any],
    context: dict[str, Any],
    task: str,
) -> dict[str, Any]:
    """Call the workload once and measure it; any failure becomes the row's `error`."""
    params, instance = request["params"], request["instance"]
    row: dict[str, Any] = {name: params[name] for name in settings.params}
    row["instance"] = instance
    row["repeat"] = request["repeat"]
    memory = _Memory()
    error, metrics = "", {}
    started = datetime.now(UTC).isoformat(timespec="seconds")
    tracker.start_task(task)
    children = os.times()
    cpu = time.process_time()
    wall = time.perf_counter()
    memory.start()
    try:
        metrics = _metrics(function(dict(params), instance), settings.key)
    except SystemExit as stop:
        error = f"SystemExit: the run called sys.exit({stop.code!r})"
    except BaseException as failure:  # noqa: BLE001 - the campaign goes on
        traceback.print_exc()
        error = _one_line(failure)
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    after = os.times()
    cpu += (after.children_user - children.children_user) + (
        after.children_system - children.children_system
    )
    peak, mean = memory.stop()
    try:
        energy = tracker.stop_task(task)
    except Exception as failure:  # noqa: BLE001
        traceback.print_exc()
        energy = None
        error = error or f"codecarbon: {_one_line(failure)}"
    # codecarbon keeps every finished task; a worker of thousands of runs need not.
    getattr(tracker, "_tasks", {}).pop(task, None)
    if energy is None or energy.emissions is None:
        error = error or "codecarbon measured nothing for this run"
        energy = None
    row.update(metrics)
    row.update(
        {
            "time(sec)": wall,
            "cpuTime(sec)": cpu,
            "memPeak(MB)": peak,
            "memAvg(MB)": mean,
            "energy(kWh)": energy.energy_consumed if energy else None,
            "cpuEnergy(kWh)": energy.cpu_energy if energy else None,
            "ramEnergy(kWh)": energy.ram_energy if energy else None,
            "CO2e(kg)": energy.emissions if energy else None,
            "hardware": settings.hardware,
            **context,
            "started": started,
            "error": error,
        }
    )
    return row


def _metrics(result: object, key: Sequence[str]) -> dict[str, int | float | str]:
    """The workload's answer as CSV cells: a dict of numbers or strings, none of them named
    as a column the runner writes (`key`, the measures, the labels)."""
    if not isinstance(result, dict):
        raise TypeError(f"the run returned {type(result).__name__}, not a dict of metrics")
    reserved = set(key) | set(MEASURES) | set(LABELS)
    out = {}
    for name, value in result.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"metric name {name!r} is not a non-empty string")
        if name in reserved:
            raise ValueError(f"metric {name!r} has the name of a column the runner writes")
        if hasattr(value, "item") and not isinstance(value, str | bytes):
            value = value.item()  # numpy scalars
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int | float | str) or value is None:
            raise TypeError(f"metric {name!r} is a {type(value).__name__}, not a number or str")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"metric {name!r} is {value!r}, not a finite number")
        out[name] = value
    return out


def _one_line(error: BaseException) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 3] + "..."


# ======================================================================================
# The campaign: runs, workers, the CSV
# ======================================================================================


def _cpus(settings: Settings) -> list[int]:
    """The CPUs runs are pinned to: the first `cores` of those this process may use."""
    available = sorted(os.sched_getaffinity(0))
    if settings.cores is None:
        return available
    if settings.cores > len(available):
        raise WorkerStartError(
            f"hardware '{settings.hardware}' has cores = {settings.cores}, but this machine"
            f" lets the runner use {len(available)} CPU(s): {available}"
        )
    return available[: settings.cores]


class Log:
    """The log of a campaign: the first LOG_BYTES of what its workers print, then a line
    saying how much was left out.

    Workers write into a pipe that a thread of the campaign copies here, so that a workload
    printing without end costs a bounded file and never blocks on a full pipe. Whole lines
    are kept, up to the last that fits.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kept = self.dropped = 0
        self.closed = False
        self._lock = threading.Lock()
        self._file: io.BufferedWriter | None = None

    def follow(self, fd: int) -> threading.Thread:
        """Copy what comes out of `fd` into the log, until its writers are gone; then close it."""
        thread = threading.Thread(target=self._copy, args=(fd,), daemon=True, name="log")
        thread.start()
        return thread

    def _copy(self, fd: int) -> None:
        try:
            for chunk in iter(lambda: os.read(fd, 1 << 16), b""):
                self.write(chunk)
        finally:
            os.close(fd)

    def write(self, chunk: bytes) -> None:
        with self._lock:
            if self.closed:
                return  # a child of a worker writing after the campaign ended
            if self.dropped:
                self.dropped += len(chunk)
                return
            room = LOG_BYTES - self.kept
            kept = chunk[:room]
            if len(chunk) > room:
                kept = kept[: kept.rfind(b"\n") + 1]
                self.dropped = len(chunk) - len(kept)
            self._append(kept)
            if self.dropped:
                self._append(b"[runner: the log is full; further output is dropped]\n")

    def _append(self, data: bytes) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 - open for the campaign's life
        self._file.write(data)
        self._file.flush()
        self.kept += len(data)

    def close(self) -> None:
        """Say how much was dropped, as the log's last line."""
        with self._lock:
            self.closed = True
            if self.dropped:
                note = f"[runner: {self.dropped} more bytes of output dropped, past {LOG_BYTES}]"
                self._append(note.encode() + b"\n")
            if self._file is not None:
                self._file.close()
                self._file = None


class Worker:
    """The campaign's handle on one measurement process, replaced when a run kills it."""

    def __init__(self, settings: Settings, cpus: list[int], log: Log) -> None:
        self.settings = settings
        self.cpus = cpus
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._buffer = b""
        self._copier: threading.Thread | None = None

    def start(self) -> None:
        """Start the process and wait until it is ready to measure; WorkerStartError if it
        is not, since every run would then fail the same way."""
        env = dict(os.environ)
        if self.settings.cores is not None:
            env.update({name: str(len(self.cpus)) for name in THREAD_VARIABLES})
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, os.path.abspath(__file__)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # Ctrl-C goes to the campaign, which stops the worker
        )
        self._copier = self.log.follow(os.dup(self.process.stderr.fileno()))
        self.process.stderr.close()
        self._buffer = b""
        config = {"settings": self.settings.to_json(), "cpus": self.cpus, "parent": os.getpid()}
        try:
            self._send(_source())
            self._send(config)
        except OSError:
            pass  # a worker that is gone already: its answer says so below
        answer = self._receive(STARTUP_SECONDS)
        if not isinstance(answer, dict) or not answer.get("ready"):
            self.close()
            reason = answer.get("failed") if isinstance(answer, dict) else None
            if answer == "timeout":
                reason = f"no answer within {STARTUP_SECONDS:g} s"
            reason = reason or "it exited"
            raise WorkerStartError(f"the worker did not start: {reason} (see {self.log.path})")
        self.info = answer

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def run(self, run: Run, timeout: float | None) -> tuple[dict[str, Any], bool]:
        """The row of `run`, and whether the worker is gone and must be replaced."""
        params, instance, repeat = run
        begun = time.perf_counter()
        try:
            self._send({"params": params, "instance": instance, "repeat": repeat})
        except OSError:  # BrokenPipeError among them
            answer = None
        else:
            answer = self._receive(timeout)
        if isinstance(answer, dict):
            return answer, False
        elapsed = time.perf_counter() - begun
        if answer == "timeout":
            self.close()
            message = f"timed out after {timeout:g} s; the worker process was killed"
        else:
            code = self.process.wait() if self.process else None
            self.close()
            message = f"the worker process died during the run ({_exit_text(code)})"
        return error_row(self.settings, run, message, elapsed, self.cpus), True

    def _send(self, message: object) -> None:
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def _receive(self, timeout: float | None) -> Any:
        """The next JSON line; "timeout" after `timeout` seconds; None when the worker died."""
        deadline = None if timeout is None else time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return "timeout"
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return "timeout"
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def close(self) -> None:
        """Stop the worker and everything it started."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        self.process = None
        if self._copier is not None:
            self._copier.join(LOG_FLUSH_SECONDS)
            self._copier = None


def _exit_text(code: int | None) -> str:
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def error_row(
    settings: Settings, run: Run, message: str, elapsed: float | None, cpus: list[int]
) -> dict[str, Any]:
    """The row of a run that gave no measurement: its key, the time it took, the error."""
    params, instance, repeat = run
    return {
        **{name: params[name] for name in settings.params},
        "instance": instance,
        "repeat": repeat,
        "time(sec)": elapsed,
        "hardware": settings.hardware,
        "cpuCount": len(cpus) if cpus else None,
        "host": socket.gethostname(),
        "started": None,
        "error": message,
    }


def run_key(values: dict[str, Any], params: Sequence[str], named: Collection[str] = ()) -> tuple:
    """What names a run: its params, instance and repeat, compared as numbers, so that the
    `2` of a campaign file and the `2.0` or `"2"` of a CSV cell are the same run; the
    params in `named` (str params) by their names."""
    parts = (str(values[name]) if name in named else float(values[name]) for name in params)
    return (*parts, int(float(values["instance"])), int(float(values["repeat"])))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


class Results:
    """The campaign's CSV: read to know what is done, then appended to one row at a time.

    Each row goes out in one write and is fsynced, so a killed campaign loses at most the
    run in flight; an incomplete last record (killed in the middle of a write, be it inside
    a quoted cell of many lines) is dropped when the file is opened again. A row bringing a
    metric the header lacks (the first run that succeeds) rewrites the file with the wider
    header, atomically.
    """

    def __init__(
        self,
        path: Path,
        params: Sequence[str],
        retry_errors: bool = False,
        named: Collection[str] = (),
    ) -> None:
        self.path = path
        self.params = tuple(params)
        self.named = frozenset(named)
        self.key = [*self.params, "instance", "repeat"]
        self.header = [*self.key, *MEASURES, *LABELS]
        self.rows: list[dict[str, str]] = []
        self.dropped_partial = False
        self.dropped_errors = 0
        if path.exists() and path.stat().st_size > 0:
            self._read(retry_errors)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._rewrite()

    def _read(self, retry_errors: bool) -> None:
        text = _text(self.path)
        whole = _whole_records(text, self.path)
        self.dropped_partial = whole < len(text)
        reader = csv.DictReader(io.StringIO(text[:whole], newline=""))
        header = list(reader.fieldnames or [])
        missing = [name for name in [*self.key, "error"] if name not in header]
        if missing:
            raise CampaignError(
                f"{self.path} is not a results file of this runner: its header lacks"
                f" {', '.join(missing)}; choose another --out"
            )
        self.rows = list(reader)
        if retry_errors:
            kept = [row for row in self.rows if not (row.get("error") or "").strip()]
            self.dropped_errors = len(self.rows) - len(kept)
            self.rows = kept
        known = set(header)
        ours = set(self.key) | set(MEASURES) | set(LABELS)
        metrics = [name for name in header if name not in ours]
        self.header = [*self.key, *metrics, *MEASURES, *LABELS]
        self.header += [name for name in header if name not in set(self.header)]
        if self.dropped_partial or self.dropped_errors or set(self.header) != known:
            self._rewrite()

    def done(self) -> dict[tuple, dict[str, str]]:
        """The rows read, by the key of the run each names."""
        out = {}
        for row in self.rows:
            try:
                out[run_key(row, self.params, self.named)] = row
            except (KeyError, TypeError, ValueError):
                continue  # a row that names no run of this runner: kept, never matched
        return out

    def append(self, row: dict[str, Any]) -> None:
        new = [name for name in row if name not in self.header]
        self.rows.append({name: _cell(row.get(name)) for name in row})
        if new:
            at = self.header.index(MEASURES[0])
            self.header[at:at] = new
            self._rewrite()
            return
        line = self._format([row])
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _format(self, rows: list[dict[str, Any]]) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for row in rows:
            writer.writerow([_cell(row.get(name)) for name in self.header])
        return buffer.getvalue()

    def _rewrite(self) -> None:
        text = ",".join(self.header) + "\n" + self._format(self.rows)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(temporary, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)


def _text(path: Path) -> str:
    """The CSV's text, line ends as written; a character cut in two at the end (a torn
    write) is left out with the record it belongs to."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.end == len(data) and error.reason == "unexpected end of data":
            return data[: error.start].decode("utf-8")
        raise CampaignError(f"{path} is not UTF-8 text ({error}); choose another --out") from None


class _Lines:
    """The lines of a text, counting the characters handed out so far."""

    def __init__(self, text: str) -> None:
        self._lines = io.StringIO(text, newline="")
        self.consumed = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.consumed += len(line)
        return line


def _whole_records(text: str, path: Path) -> int:
    """How much of `text` holds whole CSV records: a last one without its line end, or with a
    quoted cell still open (torn inside a metric of many lines), is not."""
    lines = _Lines(text)
    reader = csv.reader(lines, strict=True)
    whole = 0
    try:
        for _ in reader:
            if text[lines.consumed - 1] not in "\r\n":
                break  # the last line, cut before its end
            whole = lines.consumed
    except csv.Error as error:
        if lines.consumed < len(text):
            raise CampaignError(
                f"{path}:{reader.line_num}: not CSV as this runner writes it ({error});"
                " choose another --out"
            ) from None
    return whole


def _number(value: object) -> float:
    try:
        return float(value) if value not in (None, "") else 0.0
    except (TypeError, ValueError):
        return 0.0


class Tally:
    """Counts and sums for the summary."""

    def __init__(self, total: int, skipped: int) -> None:
        self.total, self.skipped = total, skipped
        self.done = self.failed = 0
        self.first_error = ""
        self.energy = self.co2e = 0.0
        self.started = time.monotonic()

    def add(self, row: dict[str, Any]) -> None:
        if row.get("error"):
            self.failed += 1
            self.first_error = self.first_error or row["error"]
        else:
            self.done += 1
        self.energy += _number(row.get("energy(kWh)"))
        self.co2e += _number(row.get("CO2e(kg)"))


class Progress:
    """A rich progress bar with ETA on a terminal; one plain line per run in a log."""

    def __init__(self, total: int, title: str, key: Sequence[str]) -> None:
        self.total, self.count = total, 0
        self.key = list(key)
        self.started = time.monotonic()
        self.bar: Any = None
        if total and sys.stderr.isatty():
            try:
                from rich import progress as rich
                from rich.console import Console
            except ImportError:
                return
            self.bar = rich.Progress(
                rich.TextColumn("{task.description}"),
                rich.BarColumn(),
                rich.MofNCompleteColumn(),
                rich.TimeElapsedColumn(),
                rich.TextColumn("ETA"),
                rich.TimeRemainingColumn(),
                rich.TextColumn("{task.fields[last]}"),
                console=Console(stderr=True),
            )
            self.bar.start()
            self.task = self.bar.add_task(title, total=total, last="")

    def advance(self, row: dict[str, Any]) -> None:
        self.count += 1
        what = " ".join(f"{name}={row.get(name)}" for name in self.key)
        status = f"failed: {row['error']}" if row.get("error") else f"{row['time(sec)']:.2f} s"
        if self.bar is not None:
            self.bar.update(self.task, advance=1, last=f"{what}: {status}"[:60])
            return
        elapsed = time.monotonic() - self.started
        left = elapsed / self.count * (self.total - self.count)
        print(
            f"[{self.count}/{self.total}] {what}: {status} (ETA {_duration(left)})",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _campaign_here(
    settings: Settings,
    todo: list[Run],
    results: Results,
    timeout: float | None,
    cpus: list[int],
    log: Path,
    progress: Progress,
    tally: Tally,
) -> None:
    output = Log(log)
    worker = Worker(settings, cpus, output)
    try:
        for run in todo:
            if not worker.alive():
                worker.start()
            row, _ = worker.run(run, timeout)  # a worker that is gone restarts above
            results.append(row)
            tally.add(row)
            progress.advance(row)
    finally:
        worker.close()
        output.close()


# ---- many machines: Dask distributed ----

# The worker process of this Dask worker and its log. Each campaign uploads this module
# again, which reloads it: the worker process of the last campaign is kept, to be closed by
# the next run rather than left running.
_REMOTE: dict[str, Any] = globals().get("_REMOTE", {})
_REMOTE_LOCK: threading.Lock = globals().get("_REMOTE_LOCK") or threading.Lock()


def remote_run(
    settings: Settings, run: Run, timeout: float | None, log: str | None = None
) -> dict[str, Any]:
    """One run on a Dask worker that holds the resource hw-HARDWARE: measured by a worker
    process of this Dask worker, kept across runs and replaced as on one machine.

    The settings come with each task, since one Dask worker may serve several campaigns; a
    run of another campaign than the last replaces the worker process. What the workload
    prints goes to `log`, a file name beside this module on the Dask worker.
    """
    with _REMOTE_LOCK:
        worker = _REMOTE.get("worker")
        if worker is not None and worker.settings != settings:
            worker.close()
            worker = None
        if worker is None or not worker.alive():
            name = log or f"run_{settings.algorithm}_on_{settings.hardware}.log"
            path = Path(__file__).resolve().with_name(name)
            output = _REMOTE.get("log")
            if output is None or output.path != path:
                if output is not None:
                    output.close()
                output = _REMOTE["log"] = Log(path)
            worker = Worker(settings, _cpus(settings), output)
            worker.start()
            _REMOTE["worker"] = worker
        row, replace = worker.run(run, timeout)
        if replace:
            _REMOTE.pop("worker", None)
        return row


def _importable() -> ModuleType:
    """This module as one the Dask workers can import by its file's name once it is
    uploaded, so that the functions and settings sent to them unpickle there."""
    name = Path(__file__).stem
    found = sys.modules.get(name)
    if found is not None and getattr(found, "remote_run", None) is remote_run:
        return found
    folder = os.path.dirname(os.path.abspath(__file__))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(name)


def _campaign_dask(
    settings: Settings,
    address: str,
    todo: list[Run],
    results: Results,
    timeout: float | None,
    log: str,
    progress: Progress,
    tally: Tally,
) -> None:
    from distributed import Client, as_completed

    module = _importable()
    resource = settings.resource
    try:
        client = Client(address, timeout=f"{CONNECT_SECONDS}s")
    except (OSError, ValueError) as error:  # TimeoutError is an OSError
        raise CampaignError(
            f"cannot reach the Dask scheduler {address} (waited up to {CONNECT_SECONDS} s):"
            f" {_one_line(error)}"
        ) from None
    with client, tempfile.TemporaryDirectory(prefix="hadac-bench-") as folder:
        # the source this campaign started with, whatever became of the file since
        upload = Path(folder, f"{module.__name__}.py")
        upload.write_text(_source(), encoding="utf-8")
        client.upload_file(str(upload))
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        if not any(resource in (w.get("resources") or {}) for w in workers):
            print(
                f"no worker of {address} holds the resource {resource} yet; the runs wait for"
                f' one: dask worker {address} --resources "{resource}=1"',
                file=sys.stderr,
            )
        futures = {
            client.submit(
                module.remote_run,
                module.Settings(**vars(settings)),
                run,
                timeout,
                log,
                resources={resource: 1},
                pure=False,
            ): run
            for run in todo
        }
        try:
            for future in as_completed(futures):
                run = futures[future]
                try:
                    row = future.result()
                except module.WorkerStartError:
                    raise
                except Exception as error:  # noqa: BLE001 - a lost Dask worker, for instance
                    row = error_row(settings, run, f"dask: {_one_line(error)}", None, [])
                results.append(row)
                tally.add(row)
                progress.advance(row)
        finally:
            client.cancel(list(futures))


# ---- the command ----


def _arguments(
    settings: Settings, runs: list[Run], argv: Sequence[str] | None
) -> argparse.Namespace:
    default_out = settings.default_out or f"{settings.algorithm}_{settings.hardware}.csv"
    parser = argparse.ArgumentParser(
        description=f"Benchmark {settings.algorithm} on {settings.hardware}: {len(runs)} runs"
        f" of {settings.function}{', ' + settings.design if settings.design else ''}.",
        epilog="Without --scheduler the runs go one after the other on this machine: runs side"
        " by side would share its CPUs, caches and memory bandwidth and corrupt each other's"
        " time and energy.",
    )
    parser.add_argument("--out", default=default_out, help=f"results CSV [{default_out}]")
    parser.add_argument(
        "--run-timeout",
        type=float,
        help="seconds a run may take; a longer one is killed, recorded as an error and its"
        " worker replaced",
    )
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="send the runs to this Dask scheduler; each needs a worker resource"
        f" {settings.resource}=1",
    )
    parser.add_argument(
        "--retry-errors", action="store_true", help="run again the runs recorded with an error"
    )
    parser.add_argument(
        "--log", help="where workers write what the workload prints [next to the campaign file]"
    )
    args = parser.parse_args(argv)
    if args.run_timeout is not None and args.run_timeout <= 0:
        parser.error("--run-timeout must be positive")
    return args


def main(campaign_file: Path | str, argv: Sequence[str] | None = None) -> int:
    """Run the campaign of `campaign_file` with the command line `argv`; 0 when it ran, 1
    when it could not run or every run it made failed, 130 on Ctrl-C."""
    try:
        return campaign(campaign_file, argv)
    except CampaignError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def campaign(campaign_file: Path | str, argv: Sequence[str] | None = None) -> int:
    """`main`, but a campaign that cannot run raises CampaignError: `hadac bench` reports it
    as its own error."""
    path = Path(campaign_file)
    settings, runs = load_campaign(path)
    args = _arguments(settings, runs, argv)
    out = Path(args.out)
    log = Path(args.log) if args.log else path.with_suffix(".log")
    _source()
    results = Results(out, settings.params, args.retry_errors, settings.named)
    todo = pending(runs, results.done(), settings.params, settings.named)
    skipped = len(runs) - len(todo)
    tally = Tally(len(runs), skipped)
    title = f"{settings.algorithm} on {settings.hardware}"
    where = f"Dask {args.scheduler} (resource {settings.resource})" if args.scheduler else ""
    cpus = [] if args.scheduler else _cpus(settings)
    if not where:
        shown = ", ".join(map(str, cpus))
        where = f"CPU {shown}" if len(cpus) == 1 else f"CPUs {shown}"
    notes = []
    if results.dropped_partial:
        notes.append("dropped an incomplete last line")
    if results.dropped_errors:
        count = results.dropped_errors
        notes.append(f"{count} failed run{'s' if count != 1 else ''} to retry")
    pace = "one at a time per worker" if args.scheduler else "one after the other"
    print(
        f"{title}: {len(runs)} runs, {skipped} already in {out},"
        f" {len(todo)} to run on {where}, {pace}{''.join(f'; {note}' for note in notes)}",
        file=sys.stderr,
        flush=True,
    )
    progress = Progress(len(todo), title, settings.key)
    code = 0
    try:
        if not todo:
            pass
        elif args.scheduler:
            address, timeout = args.scheduler, args.run_timeout
            _campaign_dask(settings, address, todo, results, timeout, log.name, progress, tally)
        else:
            _campaign_here(settings, todo, results, args.run_timeout, cpus, log, progress, tally)
    except KeyboardInterrupt:
        code = 130
    finally:
        progress.close()
    _summary(title, tally, results, out, interrupted=code == 130)
    if code == 0 and tally.failed and not tally.done:
        where = "the logs of the Dask workers" if args.scheduler else str(log)
        print(
            f"error: every run failed ({tally.failed}); the first: {tally.first_error}"
            f" (the error column of {out}; what the workload printed is in {where})",
            file=sys.stderr,
            flush=True,
        )
        return 1
    return code


def pending(
    runs: Sequence[Run], done: dict[tuple, Any], params: Sequence[str], named: Collection[str] = ()
) -> list[Run]:
    """The runs not `done`, in the campaign's order: a resumed campaign goes on with the
    design where it stopped, rather than in an order that could line up with a param."""
    return [run for run in runs if run_key(_as_values(run), params, named) not in done]


def _as_values(run: Run) -> dict[str, Any]:
    params, instance, repeat = run
    return {**params, "instance": instance, "repeat": repeat}


def _summary(title: str, tally: Tally, results: Results, out: Path, interrupted: bool) -> None:
    rows = results.rows
    energy = sum(_number(row.get("energy(kWh)")) for row in rows)
    co2e = sum(_number(row.get("CO2e(kg)")) for row in rows)
    failed = sum(1 for row in rows if (row.get("error") or "").strip())
    head = "interrupted" if interrupted else "finished"
    print(
        f"{head}: {title}: {tally.done} done, {tally.failed} failed,"
        f" {tally.skipped} skipped (already in the CSV) of {tally.total} runs"
        f" in {_duration(time.monotonic() - tally.started)}\n"
        f"  these runs: {tally.energy:.6g} kWh, {tally.co2e:.6g} kg CO2e\n"
        f"  {out}: {len(rows)} rows ({failed} failed), {energy:.6g} kWh, {co2e:.6g} kg CO2e",
        flush=True,
    )
