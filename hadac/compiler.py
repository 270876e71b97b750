"""`hadac compile`: fit every surrogate, encode, and write the build directory.

The build directory holds everything a person needs to inspect or rerun the model:
`model.mzn`, `data.json`, `tables.npz` (enumerated models), `manifest.json`,
`models/*.joblib` and `models/*.npz` (the estimators' numbers for the verifier's numpy
predictors, `hadac.predictors`). It is written to a
temporary sibling and renamed into place, so a failed compile never leaves a half-written
directory and never destroys the previous build. Only a hadac build is ever replaced: a
directory or file of the user's at the output path is refused, untouched.
"""

from __future__ import annotations

import dataclasses
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

from hadac import __version__, carbon, cpsolve, fit, jsondata, predictors, propagate
from hadac.builddir import (
    CP_FILES,
    DATA_FILE,
    MANIFEST_FILE,
    MODEL_FILE,
    TABLES_FILE,
    BuildDir,
    recorded_format,
    sha256,
    write_npz,
)
from hadac.checks import load
from hadac.encode import cp as cp_encoding
from hadac.encode import names
from hadac.encode.model import Encoded, encode
from hadac.errors import Diagnostic, HadacError, Reporter
from hadac.manifest import (
    FORMAT_VERSION,
    CpRecord,
    DataRecord,
    HardwareRecord,
    Holdout,
    InputRecord,
    LetRecord,
    Manifest,
    ModelRecord,
    PairRecord,
    ParamRecord,
    PredictorRecord,
    SpecRecord,
    SurrogateRecord,
    TargetRecord,
    Versions,
)
from hadac.problem import Problem
from hadac.units import pretty, to_json


@dataclass
class Build:
    """A compiled spec: where it was written and what it holds."""

    directory: Path
    problem: Problem
    encoded: Encoded
    fitted: dict[tuple[str, str, str], fit.Fitted]
    proofs: dict[str, predictors.Proof | None]  # by model file
    manifest: Manifest
    warnings: list[Diagnostic]
    seconds: float


R2_WARNING = 0.5


def fit_all(problem: Problem, reporter: Reporter) -> dict[tuple[str, str, str], fit.Fitted]:
    """One surrogate per (algorithm, hardware, target), inputs = the algorithm's params in
    order, then its instance inputs in order.

    A target held by the algorithm's hardware-independent data is fitted once on that file
    and serves every pair of the algorithm.

    A holdout R² under 0.5 is reported as a warning at the target's line: the optimum of a
    surrogate that explains little of its data says little about the real system.
    """
    fitted = {}
    shared = {}  # the location entries of one declared hardware share its data and fits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. MLP convergence; holdout metrics tell the story
        for pair in problem.pairs:
            algorithm = problem.algorithm(pair.algorithm)
            for target in problem.targets:
                hardware = model_hardware(problem, pair.algorithm, pair.hardware, target.name)
                key = (pair.algorithm, hardware, target.name)
                if key in shared:
                    fitted[(pair.algorithm, pair.hardware, target.name)] = shared[key]
                    continue
                common = problem.shared_data(pair.algorithm, target.name)
                data = common or pair
                x, y = data.table.matrix(algorithm.features), data.table[target.column]
                result = shared[key] = fit.fit(target.kind, target.args, x, y, algorithm.labels)
                fitted[(pair.algorithm, pair.hardware, target.name)] = result
                if result.r2 is not None and result.r2 < R2_WARNING:
                    where = "on every hardware" if common else f"on {hardware}"
                    reporter.warning(
                        _target_pos(problem, target.name),
                        f"surrogate '{target.name}' of {pair.algorithm} {where} has"
                        f" holdout R² {result.r2:.2f} (< {R2_WARNING}): it explains little of"
                        f" {data.data_path.name}",
                        len(target.name),
                    )
    return fitted


def model_hardware(problem: Problem, algorithm: str, hardware: str, target: str) -> str | None:
    """The hardware whose data a surrogate is fitted on: the declared one of an entry (its
    locations share its data), or None for a target of hardware-independent data."""
    if problem.shared_data(algorithm, target) is not None:
        return None
    return carbon.catalogue_name(problem.hardware_info(hardware))


def _target_pos(problem: Problem, name: str):
    return next(t.pos for t in problem.spec.targets if t.name == name)


def model_file_name(algorithm: str, hardware: str | None, target: str) -> str:
    """`anticipate-laptop-time.joblib`: one file per surrogate, since no name holds a `-`;
    `anticipate-quality.joblib` for one fitted on hardware-independent data."""
    if hardware is None:
        return f"{algorithm}-{target}.joblib"
    return f"{algorithm}-{hardware}-{target}.joblib"


def predictor_file_name(model_file: str) -> str:
    """The numpy predictor's numbers beside the estimator: `anticipate-laptop-time.npz`."""
    return model_file.removesuffix(".joblib") + ".npz"


def prove_all(
    problem: Problem, fitted: dict[tuple[str, str, str], fit.Fitted], models: dict
) -> dict[str, predictors.Proof | None]:
    """Each estimator's numpy predictor, compared with its `predict` on its training rows and
    over its algorithm's params and input ranges, once per model file (location entries
    share theirs)."""
    kinds = {t.name: t.kind for t in problem.targets}
    points = {a.name: predictors.points(a.feature_domains) for a in problem.algorithms}
    proofs: dict[str, predictors.Proof | None] = {}
    for key, name in models.items():
        if name not in proofs:
            algorithm, _, target = key
            result = fitted[key]
            rows = np.concatenate([result.inputs, points[algorithm]])
            labels = problem.algorithm(algorithm).labels
            proofs[name] = predictors.prove(kinds[target], result.estimator, rows, labels)
    return proofs


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
            and existing.manifest.carbon.location == problem.location
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
    models = {key: model_file_name(key[0], model_hardware(problem, *key), key[2]) for key in fitted}
    encoded = encode(problem, fitted, models, DATA_FILE, CP_FILES[3])
    proofs = prove_all(problem, fitted, models)
    directory = Path(out) if out is not None else default_directory(problem)
    manifest = _manifest(problem, encoded, fitted, models, proofs, reporter.warnings, directory)
    _write_atomically(directory, encoded, manifest, fitted, models, proofs)
    seconds = time.perf_counter() - started
    return Build(directory, problem, encoded, fitted, proofs, manifest, reporter.warnings, seconds)


def _manifest(
    problem: Problem, encoded: Encoded, fitted, models, proofs, warnings_, directory: Path
) -> Manifest:
    spec = problem.spec
    surrogates = []
    keys = [(p.algorithm, p.hardware, t) for p in problem.pairs for t in problem.targets]
    for (algorithm, hardware, target), encoding in zip(keys, encoded.surrogates, strict=True):
        result = fitted[(algorithm, hardware, target.name)]
        model = models[(algorithm, hardware, target.name)]
        proof = proofs[model]
        predictor = proof and PredictorRecord(
            f"models/{predictor_file_name(model)}", proof.exact, proof.rows
        )
        surrogates.append(
            SurrogateRecord(
                algorithm,
                hardware,
                target.name,
                target.column,
                target.unit_text,
                target.kind,
                {k: list(v) if isinstance(v, tuple) else v for k, v in target.args.items()},
                tuple(problem.algorithm(algorithm).features),
                encoding["encoding"],
                encoding["size"],
                result.rows,
                Holdout(result.r2, result.mae),
                f"models/{model}",
                target.line,
                predictor=predictor,
                shared=problem.shared_data(algorithm, target.name) is not None,
                bounds=encoding.get("bounds"),
            )
        )
    ranges = encoded.tables and _pair_ranges(encoded.tables["pair"])
    return Manifest(
        spec=SpecRecord(
            problem.name,
            spec.path.name,
            os.path.relpath(spec.path.resolve(), directory.resolve()),
            sha256(spec.path),
        ),
        data=tuple(
            _data_record(spec, p.algorithm, p.hardware, p.data_path, len(p.table))
            for p in problem.pairs
        )
        + tuple(
            _data_record(spec, s.algorithm, None, s.data_path, len(s.table)) for s in problem.shared
        ),
        versions=Versions(
            __version__, platform.python_version(), sklearn.__version__, np.__version__
        ),
        model=ModelRecord(
            MODEL_FILE,
            DATA_FILE,
            encoded.shape,
            encoded.configurations,
            TABLES_FILE if encoded.tables is not None else None,
            cp=_cp_record(encoded),
            cp_refused=encoded.cp.reason if encoded.cp is not None else None,
        ),
        hardware=tuple(
            HardwareRecord(h.name, h.numbers, h.line, *carbon.place(h)) for h in problem.hardware
        ),
        carbon=carbon.manifest_section(problem),
        lets=tuple(
            LetRecord(x.name, x.text, x.line, x.unit_text, to_json(x.expr)) for x in problem.lets
        ),
        pairs=tuple(
            PairRecord(p.algorithm, p.hardware, p.line, ranges[i] if ranges else None)
            for i, p in enumerate(problem.pairs)
        ),
        params={
            a.name: tuple(
                ParamRecord(
                    p.name,
                    p.type,
                    names.param_var(a.name, p.name),
                    names.param_array(a.name, p.name),
                    p.low,
                    p.high,
                    p.labels,
                )
                for p in a.params
            )
            for a in problem.algorithms
        },
        inputs=_inputs(problem),
        algorithm_inputs={a.name: tuple(i.name for i in a.inputs) for a in problem.algorithms},
        targets=tuple(
            TargetRecord(t.name, t.column, t.unit_text, t.kind, names.target_var(t.name), t.line)
            for t in problem.targets
        ),
        attribute_units={
            name: pretty(unit)
            for name, unit in problem.attribute_units.items()
            if name not in {t.name for t in problem.targets}
        },
        quantities=tuple(encoded.quantities),
        solver=problem.solver,
        objective=encoded.objective,
        constraints=tuple(encoded.constraints),
        surrogates=tuple(surrogates),
        warnings=tuple(d.format() for d in warnings_),
    )


def _cp_record(encoded: Encoded) -> CpRecord | None:
    if encoded.cp is None or encoded.cp.model is None:
        return None
    model = encoded.cp.model
    return CpRecord(
        *CP_FILES, model.trees, model.quantities, model.domains, networks=model.networks
    )


def _data_record(spec, algorithm: str, hardware: str | None, path: Path, rows: int) -> DataRecord:
    relative = os.path.relpath(path, spec.path.parent.resolve())
    return DataRecord(algorithm, hardware, relative, sha256(path), rows)


def _inputs(problem: Problem) -> tuple[InputRecord, ...]:
    return tuple(
        InputRecord(
            item.name,
            item.type,
            item.low,
            item.high,
            item.default,
            item.reference,
            item.line,
            names.input_var(item.name),
            tuple(problem.readers(item.name)),
        )
        for item in problem.inputs
    )


def _pair_ranges(pair: np.ndarray) -> list[tuple[int, int]]:
    """The first and last configuration (from 1) of each pair, from the pair of each."""
    return [
        (int(np.argmax(pair == index)) + 1, int(len(pair) - np.argmax(pair[::-1] == index)))
        for index in range(1, int(pair.max()) + 1)
    ]


def _write_atomically(directory: Path, encoded: Encoded, manifest, fitted, models, proofs) -> None:
    """Write into a temporary sibling, then swap it in; the old build goes only on success.

    The manifest written last records the hash of every other file, so that a build whose
    files are later damaged or edited is recognised as such when it is opened.
    """
    _refuse_to_replace(directory)
    try:
        _write_and_swap(directory.resolve(), encoded, manifest, fitted, models, proofs)
    except OSError as err:
        raise HadacError(f"cannot write the build {directory}: {err.strerror or err}") from None


def _write_and_swap(
    directory: Path, encoded: Encoded, manifest: Manifest, fitted, models, proofs
) -> None:
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        _readable_by_all(staging)
        (staging / MODEL_FILE).write_text(encoded.model)
        (staging / DATA_FILE).write_text(jsondata.dumps(encoded.data))
        if encoded.tables is not None:
            write_npz(staging / TABLES_FILE, encoded.tables)
        cp = manifest.model.cp
        if cp is not None:
            model = encoded.cp.model
            texts = {
                cp.file: model.model,
                cp.best: model.best,
                cp.candidates: model.candidates,
                cp.data: cp_encoding.dzn(model.data),
            }
            for name, text in texts.items():
                (staging / name).write_text(text)
            write_npz(staging / cp.relaxation, propagate.relaxation_arrays(model.data))
            cp = dataclasses.replace(
                cp,
                sha256={n: sha256(staging / n) for n in cp.files},
                prepared=cpsolve.prepare(staging, cp),
            )
        (staging / "models").mkdir()
        for key, name in sorted(models.items()):
            joblib.dump(fitted[key].estimator, staging / "models" / name)
        for name, proof in sorted(proofs.items()):
            if proof is not None:
                write_npz(staging / "models" / predictor_file_name(name), proof.arrays)
        model = dataclasses.replace(
            manifest.model,
            sha256=sha256(staging / MODEL_FILE),
            data_sha256=sha256(staging / DATA_FILE),
            tables_sha256=sha256(staging / TABLES_FILE) if encoded.tables is not None else None,
            cp=cp,
        )
        surrogates = tuple(
            dataclasses.replace(
                s,
                model_sha256=sha256(staging / s.model),
                predictor=s.predictor
                and dataclasses.replace(s.predictor, sha256=sha256(staging / s.predictor.file)),
            )
            for s in manifest.surrogates
        )
        manifest = dataclasses.replace(manifest, model=model, surrogates=surrogates)
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest.to_json(), indent=2) + "\n")
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
