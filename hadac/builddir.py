"""A build directory read back: its manifest, its data, its fitted models.

`hadac solve BUILD_DIR` and the verifier need nothing but this folder: the manifest says
which configuration is which (algorithm, hardware, params), the data file and (for an
enumerated model) the tables hold what the solver sees, and `models/` the estimators that
made them.

A build is trusted only while it is what the manifest says: opening one checks its format
and the hash of every file the solver or the verifier reads, and `changes` tells whether
the spec or the data it was compiled from have changed since, so that no answer is ever
computed from a damaged or stale build.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from hadac import __version__, onehot, predictors
from hadac.encode import names
from hadac.encode.tables import quantity_values, with_inputs
from hadac.errors import HadacError
from hadac.manifest import FORMAT_VERSION, Manifest, ParamRecord
from hadac.numbers import plain
from hadac.units import from_json


@dataclass
class Decoded:
    """A solver's answer: the choice, and the values the model gave its targets and goals."""

    algorithm: str
    hardware: str
    params: dict[str, float | str]  # a str param's value is its name
    targets: dict[str, float]
    quantities: dict[str, float]


MODEL_FILE, DATA_FILE, TABLES_FILE, MANIFEST_FILE = (
    "model.mzn",
    "data.json",
    "tables.npz",
    "manifest.json",
)
# A MIP build's model for CP solvers: the model, its two solve items, its data, and the
# arrays of that data narrowing reads (`hadac.propagate`).
CP_FILES = ("cp.mzn", "cp-best.mzn", "cp-candidates.mzn", "cp.dzn", "cp-relaxation.npz")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded_format(directory: Path) -> int | None:
    """The manifest format of a hadac build in `directory`, None when it is not one.

    Only a directory holding a hadac manifest is a build: anything else (a folder of the
    user's, a file) must never be replaced by a compile.
    """
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("spec"), dict):
        return None
    version = manifest.get("format_version")
    return version if isinstance(version, int) else None


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Arrays as an `.npz` that `numpy.load` reads, with the same bytes for the same arrays
    (`numpy.savez` stamps each member with the time it was written). Stored, not deflated:
    every solve loads them, and inflating a boosted ensemble's predictor took twice as long
    as loading it stored, hash check of the larger file included."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(member, buffer.getvalue())


class BuildDir:
    """The contents of `build/<spec>/`, loaded lazily, at given instance inputs.

    A build whose algorithms read instance inputs is opened at their reference values
    (each default, else the middle of its range: what the saved tables hold); `at` gives
    the same build at other values, its enumerated tables recomputed from the saved
    estimators, so that decoding and verifying a solve use the inputs it was given.
    """

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        version = recorded_format(self.directory)
        if version is None:
            raise HadacError(
                f"{self.directory} is not a hadac build directory (no readable"
                f" {MANIFEST_FILE}); compile a spec into it with `hadac compile SPEC -o DIR`"
            )
        if version != FORMAT_VERSION:
            raise HadacError(
                f"{self.directory} was written in build format {version}; this hadac reads"
                f" format {FORMAT_VERSION}: compile the spec again"
            )
        try:
            self.manifest = Manifest.from_json(
                json.loads((self.directory / MANIFEST_FILE).read_text())
            )
        except ValueError as err:
            raise HadacError(
                f"{self.directory / MANIFEST_FILE} is damaged ({err}): compile the spec again"
            ) from None
        self._check_files()
        self.inputs: dict[str, float] = {i.name: i.reference for i in self.manifest.inputs}

    def at(self, inputs: dict[str, float]) -> BuildDir:
        """This build at the given value of every input (the same object when they are the
        values it is at); an enumerated build's tables are computed again for them."""
        missing = [i for i in self.manifest.inputs if i.name not in inputs]
        if missing:
            raise HadacError(
                "; ".join(f"input '{i.name}' ({i.text}) has no value" for i in missing)
                + ": give "
                + " ".join(f"--input {i.name}=VALUE" for i in missing)
            )
        values = {i.name: float(inputs[i.name]) for i in self.manifest.inputs}
        beyond = [i for i in self.manifest.inputs if not i.low <= values[i.name] <= i.high]
        if beyond and not self.enumerated:
            raise HadacError(
                "; ".join(
                    f"input {i.name} = {plain(values[i.name])} is outside its declared"
                    f" range {plain(i.low)}..{plain(i.high)}"
                    for i in beyond
                )
                + ": this build's MIP model encodes its surrogates over the declared ranges"
                " only; widen the range in the spec and compile again"
            )
        if values == self.inputs:
            return self
        view = copy.copy(self)  # shares the loaded estimators and predictors
        view.inputs = values
        if self.enumerated:
            view.__dict__["tables"] = view._tables_at_inputs()
        return view

    def _tables_at_inputs(self) -> dict[str, np.ndarray]:
        """The saved tables with every quantity's value computed again at `self.inputs`:
        each pair's targets predicted on its configurations, then each quantity from them."""
        manifest = self.manifest
        saved = self._saved_tables
        pair_of = saved["pair"]
        size = len(pair_of)
        values: dict[str, np.ndarray] = {t.name: np.empty(size) for t in manifest.targets}
        attributes = {
            name: np.empty(size) for name in manifest.attribute_units if name not in values
        }
        for index, pair in enumerate(manifest.pairs, start=1):
            rows = pair_of == index
            grid = np.column_stack(
                [saved[p.array][rows] for p in manifest.params[pair.algorithm]]
            ).reshape(int(rows.sum()), len(manifest.params[pair.algorithm]))
            for target in manifest.targets:
                values[target.name][rows] = self.predict_rows(
                    pair.algorithm, pair.hardware, grid, target.name
                )
            numbers = self.hardware_attributes(pair.hardware)
            for name, column in attributes.items():
                column[rows] = numbers.get(name, np.nan)
        out = dict(saved)
        known = values | attributes
        for q in manifest.quantities:
            column = quantity_values(from_json(q.expr), known, size)
            if not np.all(np.isfinite(column)):
                raise HadacError(
                    f"line {q.line}: '{q.text}' is not a finite number for every"
                    f" configuration at these inputs ({self.inputs_text()}): a division by zero?"
                )
            out[names.value_array(q.name)] = column
        return out

    def inputs_text(self) -> str:
        """`pv_mean = 268, load_std = 167`: the inputs this build is at."""
        return ", ".join(f"{name} = {plain(value)}" for name, value in self.inputs.items())

    def _check_files(self) -> None:
        """Every file the solver or the verifier reads exists and hashes as recorded."""
        model = self.manifest.model
        files = [(MODEL_FILE, model.sha256), (DATA_FILE, model.data_sha256)]
        if model.tables is not None:
            files.append((model.tables, model.tables_sha256))
        if model.cp is not None:
            files += [(name, model.cp.sha256.get(name, "")) for name in model.cp.files]
            if model.cp.prepared is not None:
                files += [(f.file, f.sha256) for f in model.cp.prepared.files]
        files += [(s.model, s.model_sha256) for s in self.manifest.surrogates]
        files += [
            (s.predictor.file, s.predictor.sha256)
            for s in self.manifest.surrogates
            if s.predictor is not None
        ]
        paths = [self.directory / name for name, _ in files]
        present = [path for path in paths if path.is_file()]
        # hashlib lets go of the GIL: tens of MB hash in half the time on two cores
        with ThreadPoolExecutor(2) as pool:
            digests = dict(zip(present, pool.map(sha256, present), strict=True))
        problems = []
        for path, (_, digest) in zip(paths, files, strict=True):
            if path not in digests:
                problems.append(f"{path} is missing")
            elif digests[path] != digest:
                problems.append(
                    f"{path} is damaged or was edited (its sha256 is not the one recorded)"
                )
        if problems:
            raise HadacError(
                f"the build {self.directory} cannot be trusted:\n  "
                + "\n  ".join(problems)
                + f"\ncompile the spec again (hadac compile {self.spec_path})"
            )

    @property
    def spec_path(self) -> Path:
        """The spec this build was compiled from, where the manifest recorded it."""
        return Path(os.path.normpath(self.directory / self.manifest.spec.path))

    def changes(self, spec_path: Path | None = None) -> list[str]:
        """What differs between this build and the spec it would be compiled from now.

        Empty when the spec (at `spec_path`, by default where it was), every data file and
        the hadac version are the ones the build was made from.
        """
        spec_path = Path(spec_path) if spec_path is not None else self.spec_path
        manifest = self.manifest
        if manifest.versions.hadac != __version__:
            return [f"it was compiled by hadac {manifest.versions.hadac}, this is {__version__}"]
        if not spec_path.is_file():
            return [f"its spec {spec_path} is not there any more"]
        if sha256(spec_path) != manifest.spec.sha256:
            return [f"{spec_path} changed since it was compiled"]
        out = []
        for entry in manifest.data:
            path = spec_path.parent / entry.file
            if not path.is_file():
                out.append(f"{path} is not there any more")
            elif sha256(path) != entry.sha256:
                out.append(f"{path} changed since it was compiled")
        return out

    @property
    def model_path(self) -> Path:
        return self.directory / MODEL_FILE

    @property
    def data_path(self) -> Path:
        return self.directory / DATA_FILE

    @property
    def enumerated(self) -> bool:
        return self.manifest.model.shape == "enumerated"

    @cached_property
    def _saved_tables(self) -> dict[str, np.ndarray]:
        with np.load(self.directory / TABLES_FILE, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}

    @cached_property
    def tables(self) -> dict[str, np.ndarray]:
        """Enumerated builds: every quantity's value and every param's, per configuration,
        at the build's inputs."""
        return self._saved_tables

    def ranks(self, quantity: str) -> np.ndarray:
        """A quantity's rank per configuration: 1 for its smallest distinct value, and so on."""
        return np.unique(self.values(quantity), return_inverse=True)[1].astype(int) + 1

    def values(self, quantity: str) -> np.ndarray:
        """An enumerated build's values of a quantity, one per configuration."""
        return self.tables[names.value_array(quantity)]

    @cache  # noqa: B019 (a build is opened once per command and lives as long)
    def distinct(self, quantity: str) -> np.ndarray:
        """The sorted distinct values of a quantity: rank r is the r-th of them."""
        return np.unique(self.values(quantity))

    @cached_property
    def _estimators(self) -> dict:
        return {}

    def estimator(self, algorithm: str, hardware: str, target: str):
        key = (algorithm, hardware, target)
        if key not in self._estimators:
            import joblib  # with scikit-learn, which the estimators are: only when verifying

            entry = self.manifest.surrogate(*key)
            self._estimators[key] = joblib.load(self.directory / entry.model)
        return self._estimators[key]

    def decode(self, values: dict) -> Decoded:
        """The configuration a solver's values describe, and what the model says of it."""
        manifest = self.manifest
        if self.enumerated:
            config = int(values["config"])
            pair = manifest.pairs[int(self.tables["pair"][config - 1]) - 1]
            params = {
                p.name: _value(self.tables[p.array][config - 1], p)
                for p in manifest.params[pair.algorithm]
            }
            quantities = {
                q.name: float(self.values(q.name)[config - 1]) for q in manifest.quantities
            }
        else:
            pair = manifest.pairs[int(values["pair"]) - 1]
            params = {
                p.name: _value(values[p.var], p) if p.values is not None else values[p.var]
                for p in manifest.params[pair.algorithm]
            }
            quantities = {q.name: float(values[q.var]) for q in manifest.quantities}
        targets = {t.name: quantities[t.name] for t in manifest.targets}
        return Decoded(pair.algorithm, pair.hardware, params, targets, quantities)

    def hardware_attributes(self, hardware: str) -> dict[str, float]:
        return self.manifest.hardware_entry(hardware).attributes

    @cached_property
    def _predictors(self) -> dict:
        return {}

    def predictor(self, algorithm: str, hardware: str, target: str) -> dict | None:
        """The numpy predictor's numbers of a surrogate, when the compile proved it gives
        its estimator's `predict` to the bit; None when only the estimator can tell."""
        entry = self.manifest.surrogate(algorithm, hardware, target)
        if entry.predictor is None or not entry.predictor.exact:
            return None
        if entry.predictor.file not in self._predictors:
            path = self.directory / entry.predictor.file
            self._predictors[entry.predictor.file] = predictors.load(path)
        return self._predictors[entry.predictor.file]

    def predict(self, algorithm: str, hardware: str, params: dict, target: str) -> float:
        """A target's prediction at a configuration (a str param's value its name) and the
        build's inputs."""
        records = self.manifest.params[algorithm]
        x = np.array([[p.code(params[p.name]) for p in records]]).reshape(1, len(records))
        return float(self.predict_rows(algorithm, hardware, x, target)[0])

    def predict_rows(
        self, algorithm: str, hardware: str, params: np.ndarray, target: str
    ) -> np.ndarray:
        """A target's predictions on rows of param values (a str param's as codes), the
        build's inputs appended to each: by the numpy predictor where it was proven to be
        the estimator, else by the estimator (which imports scikit-learn)."""
        inputs = self.manifest.algorithm_inputs[algorithm]
        x = with_inputs(np.asarray(params, dtype=float), [self.inputs[name] for name in inputs])
        arrays = self.predictor(algorithm, hardware, target)
        if arrays is not None:
            kind = self.manifest.surrogate(algorithm, hardware, target).kind
            return np.asarray(predictors.predict(kind, arrays, x), dtype=float)
        labels = [p.values for p in self.manifest.params[algorithm]] + [None] * len(inputs)
        estimator = self.estimator(algorithm, hardware, target)
        return np.asarray(estimator.predict(onehot.raw(x, labels)), dtype=float)


def _value(value: np.generic | float, param: ParamRecord) -> int | float | str:
    """A param's value from the tables or a solver, as its declared type: a str param's
    code as its name."""
    if param.values is not None:
        return param.label(round(float(value)))
    return int(value) if param.type == "int" else float(value)
