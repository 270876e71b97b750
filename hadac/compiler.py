"""`hadac compile`: fit every surrogate, encode, and write the build directory.

The build directory holds everything a person needs to inspect or rerun the model:
`model.mzn`, `data.dzn`, `manifest.json` and `models/*.joblib`. It is written to a
temporary sibling and renamed into place, so a failed compile never leaves a half-written
directory and never destroys the previous build. Only a hadac build is ever replaced: a
directory or file of the user's at the output path is refused, untouched.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import sklearn

from hadac import __version__, carbon, fit
from hadac.builddir import (
    DATA_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    MODEL_FILE,
    BuildDir,
    recorded_format,
    sha256,
)
from hadac.checks import load
from hadac.encode import Encoded, encode, names
from hadac.encode.render import dump_data
from hadac.errors import Diagnostic, HadacError, Reporter
from hadac.problem import Problem


@dataclass
class Build:
    """A compiled spec: where it was written and what it holds."""

    directory: Path
    problem: Problem
    encoded: Encoded
    fitted: dict[tuple[str, str, str], fit.Fitted]
    manifest: dict
    warnings: list[Diagnostic]
    seconds: float


R2_WARNING = 0.5


def fit_all(problem: Problem, reporter: Reporter) -> dict[tuple[str, str, str], fit.Fitted]:
    """One surrogate per (algorithm, hardware, target), inputs = the algorithm's params in order.

    A holdout R² under 0.5 is reported as a warning at the target's line: the optimum of a
    surrogate that explains little of its data says little about the real system.
    """
    fitted = {}
    shared = {}  # the location entries of one declared hardware share its data and fits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. MLP convergence; holdout metrics tell the story
        for pair in problem.pairs:
            inputs = [p.name for p in problem.algorithm(pair.algorithm).params]
            x = pair.frame[inputs].to_numpy(dtype=float).reshape(len(pair.frame), len(inputs))
            declared = carbon.catalogue_name(problem.hardware_info(pair.hardware))
            for target in problem.targets:
                key = (pair.algorithm, declared, target.name)
                if key in shared:
                    fitted[(pair.algorithm, pair.hardware, target.name)] = shared[key]
                    continue
                y = pair.frame[target.column].to_numpy(dtype=float)
                result = shared[key] = fit.fit(target.kind, target.args, x, y)
                fitted[(pair.algorithm, pair.hardware, target.name)] = result
                if result.r2 is not None and result.r2 < R2_WARNING:
                    reporter.warning(
                        _target_pos(problem, target.name),
                        f"surrogate '{target.name}' of {pair.algorithm} on {declared} has"
                        f" holdout R² {result.r2:.2f} (< {R2_WARNING}): it explains little of"
                        f" {pair.data_path.name}",
                        len(target.name),
                    )
    return fitted


def _target_pos(problem: Problem, name: str):
    return next(t.pos for t in problem.spec.targets if t.name == name)


def model_file_name(algorithm: str, hardware: str, target: str) -> str:
    """`anticipate-laptop-time.joblib`: one file per surrogate, since no name holds a `-`."""
    return f"{algorithm}-{hardware}-{target}.joblib"


def default_directory(problem: Problem) -> Path:
    """`build/<spec>`, or `build/<spec>@FRA` under `--location FRA` (the spec's own build stays)."""
    return Path("build") / (problem.name + (f"@{problem.location}" if problem.location else ""))


def compile_spec(
    spec_path: Path | str, out: Path | str | None = None, location: str | None = None
) -> Build:
    """Check, fit, encode and write `out` (default `build/<spec name>/`).

    `location` puts every hardware at that ISO 3166 alpha-3 location (`solve --location`).
    """
    started = time.perf_counter()
    problem, reporter = load(spec_path, location)
    return compile_problem(problem, reporter, out, started)


def compile_or_reuse(
    spec_path: Path | str, out: Path | str | None = None, location: str | None = None
) -> tuple[BuildDir, Build | None]:
    """The build of a spec: the one at `out` when it is up to date, else a new compile.

    Up to date means compiled by this hadac from this spec and these data files, byte for
    byte, for the same `--location`; the returned `Build` is None when nothing was compiled.
    """
    started = time.perf_counter()
    problem, reporter = load(spec_path, location)
    directory = Path(out) if out is not None else default_directory(problem)
    if recorded_format(directory) == FORMAT_VERSION:
        try:
            existing = BuildDir(directory)
        except HadacError:
            existing = None  # damaged: compiled again below
        if (
            existing is not None
            and existing.manifest["carbon"]["location"] == problem.location
            and not existing.changes(Path(spec_path))
        ):
            return existing, None
    build = compile_problem(problem, reporter, directory, started)
    return BuildDir(build.directory), build


def compile_problem(
    problem: Problem,
    reporter: Reporter,
    out: Path | str | None = None,
    started: float | None = None,
) -> Build:
    """Fit, encode and write a checked problem, which callers such as `hadac pareto` may
    have adapted (another objective, another constraint) before compiling it."""
    started = time.perf_counter() if started is None else started
    fitted = fit_all(problem, reporter)
    models = {
        key: model_file_name(key[0], carbon.catalogue_name(problem.hardware_info(key[1])), key[2])
        for key in fitted
    }
    encoded = encode(problem, fitted, models, DATA_FILE)
    directory = Path(out) if out is not None else default_directory(problem)
    manifest = _manifest(problem, encoded, fitted, models, reporter.warnings, directory)
    _write_atomically(directory, encoded.model, encoded.data, manifest, fitted, models)
    seconds = time.perf_counter() - started
    return Build(directory, problem, encoded, fitted, manifest, reporter.warnings, seconds)


def _manifest(
    problem: Problem, encoded: Encoded, fitted, models, warnings_, directory: Path
) -> dict:
    spec = problem.spec
    surrogates = []
    keys = [(p.algorithm, p.hardware, t) for p in problem.pairs for t in problem.targets]
    for (algorithm, hardware, target), encoding in zip(keys, encoded.surrogates, strict=True):
        result = fitted[(algorithm, hardware, target.name)]
        surrogates.append(
            {
                "algorithm": algorithm,
                "hardware": hardware,
                "target": target.name,
                "column": target.column,
                "unit": target.unit_text,
                "kind": target.kind,
                "hyperparameters": {
                    k: list(v) if isinstance(v, tuple) else v for k, v in target.args.items()
                },
                "inputs": [p.name for p in problem.algorithm(algorithm).params],
                **encoding,
                "rows": result.rows,
                "holdout": {"r2": result.r2, "mae": result.mae},
                "model": f"models/{models[(algorithm, hardware, target.name)]}",
                "line": target.line,
            }
        )
    ranges = encoded.tables.pair_ranges if encoded.tables else [None] * len(problem.pairs)
    return {
        "format_version": FORMAT_VERSION,
        "spec": {
            "name": problem.name,
            "file": spec.path.name,
            "path": os.path.relpath(spec.path.resolve(), directory.resolve()),
            "sha256": sha256(spec.path),
        },
        "data": [
            {
                "algorithm": p.algorithm,
                "hardware": p.hardware,
                "file": os.path.relpath(p.data_path, spec.path.parent.resolve()),
                "sha256": sha256(p.data_path),
                "rows": len(p.frame),
            }
            for p in problem.pairs
        ],
        "versions": {
            "hadac": __version__,
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
        },
        "model": {
            "file": MODEL_FILE,
            "data": DATA_FILE,
            "shape": encoded.shape,
            "configurations": encoded.configurations,
            "constraints": len(problem.bounds),
        },
        "hardware": [
            {"name": h.name, "attributes": h.numbers, "line": h.line, **carbon.manifest_fields(h)}
            for h in problem.hardware
        ],
        "carbon": carbon.manifest_section(problem),
        "lets": [let.to_json() for let in problem.lets],
        "pairs": [
            {"algorithm": p.algorithm, "hardware": p.hardware, "configurations": r}
            for p, r in zip(problem.pairs, ranges, strict=True)
        ],
        "params": {
            a.name: [
                {
                    "name": p.name,
                    "type": p.type,
                    "var": names.param_var(a.name, p.name),
                    "array": names.param_array(a.name, p.name),
                }
                for p in a.params
            ]
            for a in problem.algorithms
        },
        "targets": [
            {
                "name": t.name,
                "column": t.column,
                "unit": t.unit_text,
                "kind": t.kind,
                "var": names.target_var(t.name),
                "line": t.line,
            }
            for t in problem.targets
        ],
        "solver": problem.solver,
        "objective": encoded.objective,
        "constraints": encoded.constraints,
        "surrogates": surrogates,
        "warnings": [d.format() for d in warnings_],
    }


def _write_atomically(directory: Path, model_text, data, manifest, fitted, models) -> None:
    """Write into a temporary sibling, then swap it in; the old build goes only on success.

    The manifest written last records the hash of every other file, so that a build whose
    files are later damaged or edited is recognised as such when it is opened.
    """
    _refuse_to_replace(directory)
    try:
        _write_and_swap(directory.resolve(), model_text, data, manifest, fitted, models)
    except OSError as err:
        raise HadacError(f"cannot write the build {directory}: {err.strerror or err}") from None


def _write_and_swap(directory: Path, model_text, data, manifest, fitted, models) -> None:
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        _readable_by_all(staging)
        (staging / MODEL_FILE).write_text(model_text)
        (staging / DATA_FILE).write_text(dump_data(data))
        (staging / "models").mkdir()
        for key, name in sorted(models.items()):
            joblib.dump(fitted[key].estimator, staging / "models" / name)
        manifest["model"]["sha256"] = sha256(staging / MODEL_FILE)
        manifest["model"]["data_sha256"] = sha256(staging / DATA_FILE)
        for surrogate in manifest["surrogates"]:
            surrogate["model_sha256"] = sha256(staging / surrogate["model"])
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        old = None
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=directory.parent))
            os.rename(directory, old / "build")
        os.rename(staging, directory)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _refuse_to_replace(directory: Path) -> None:
    """A compile may replace a hadac build or an empty directory, and nothing else."""
    if not directory.exists() and not directory.is_symlink():
        return
    if directory.is_symlink() or not directory.is_dir():
        what = "a symbolic link" if directory.is_symlink() else "a file"
        raise HadacError(
            f"{directory} is {what}, not a hadac build: refusing to replace it;"
            " choose another output directory (-o)"
        )
    if recorded_format(directory) is None and any(directory.iterdir()):
        raise HadacError(
            f"{directory} is a directory that holds other files than a hadac build (it has no"
            f" hadac {MANIFEST_FILE}): refusing to replace it; choose another output"
            " directory (-o)"
        )


def _readable_by_all(directory: Path) -> None:
    """`mkdtemp` makes a directory only its owner can read; a build is meant to be shared."""
    umask = os.umask(0)
    os.umask(umask)
    directory.chmod(0o777 & ~umask)
