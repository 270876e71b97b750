"""A build directory read back: its manifest, its data, its fitted models.

`hadac solve BUILD_DIR` and the verifier need nothing but this folder: the manifest says
which configuration is which (algorithm, hardware, params), the data file holds the tables
the solver saw, and `models/` the estimators that made them.

A build is trusted only while it is what the manifest says: opening one checks its format
and the hash of every file the solver or the verifier reads, and `changes` tells whether
the spec or the data it was compiled from have changed since, so that no answer is ever
computed from a damaged or stale build.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import joblib
import numpy as np

from hadac import __version__
from hadac.encode import names
from hadac.errors import HadacError


@dataclass
class Decoded:
    """A solver's answer: the choice, and the values the model gave its targets and goals."""

    algorithm: str
    hardware: str
    params: dict[str, float]
    targets: dict[str, float]
    quantities: dict[str, float]


MODEL_FILE, DATA_FILE, MANIFEST_FILE = "model.mzn", "data.dzn", "manifest.json"
FORMAT_VERSION = 2  # of manifest.json: a build of another format is compiled again


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


def read_data(path: Path) -> dict:
    """Numeric arrays and scalars of a data file written by hadac (one assignment a line)."""
    out = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition(" = ")
        try:
            out[name] = json.loads(value.rstrip(";"))
        except json.JSONDecodeError:
            continue  # enum arrays: the manifest says the same in a readable form
    return out


class BuildDir:
    """The contents of `build/<spec>/`, loaded lazily."""

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
        self.manifest = json.loads((self.directory / MANIFEST_FILE).read_text())
        self._check_files()

    def _check_files(self) -> None:
        """Every file the solver or the verifier reads exists and hashes as recorded."""
        model = self.manifest["model"]
        files = [(MODEL_FILE, model["sha256"]), (DATA_FILE, model["data_sha256"])]
        files += [(s["model"], s["model_sha256"]) for s in self.manifest["surrogates"]]
        problems = []
        for name, digest in files:
            path = self.directory / name
            if not path.is_file():
                problems.append(f"{path} is missing")
            elif sha256(path) != digest:
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
        return Path(os.path.normpath(self.directory / self.manifest["spec"]["path"]))

    def changes(self, spec_path: Path | None = None) -> list[str]:
        """What differs between this build and the spec it would be compiled from now.

        Empty when the spec (at `spec_path`, by default where it was), every data file and
        the hadac version are the ones the build was made from.
        """
        spec_path = Path(spec_path) if spec_path is not None else self.spec_path
        manifest = self.manifest
        if manifest["versions"]["hadac"] != __version__:
            return [
                f"it was compiled by hadac {manifest['versions']['hadac']}, this is {__version__}"
            ]
        if not spec_path.is_file():
            return [f"its spec {spec_path} is not there any more"]
        if sha256(spec_path) != manifest["spec"]["sha256"]:
            return [f"{spec_path} changed since it was compiled"]
        out = []
        for entry in manifest["data"]:
            path = spec_path.parent / entry["file"]
            if not path.is_file():
                out.append(f"{path} is not there any more")
            elif sha256(path) != entry["sha256"]:
                out.append(f"{path} changed since it was compiled")
        return out

    @property
    def model_path(self) -> Path:
        return self.directory / MODEL_FILE

    @property
    def data_path(self) -> Path:
        return self.directory / DATA_FILE

    @cached_property
    def data(self) -> dict:
        return read_data(self.data_path)

    @cached_property
    def _estimators(self) -> dict:
        return {}

    def estimator(self, algorithm: str, hardware: str, target: str):
        key = (algorithm, hardware, target)
        if key not in self._estimators:
            entry = next(
                s
                for s in self.manifest["surrogates"]
                if (s["algorithm"], s["hardware"], s["target"]) == key
            )
            self._estimators[key] = joblib.load(self.directory / entry["model"])
        return self._estimators[key]

    @property
    def goal_and_bounds(self) -> list[dict]:
        """The objective's entry (when there is one) and the constraints' entries."""
        goal = self.manifest["objective"]
        return ([goal] if goal else []) + self.manifest["constraints"]

    def decode(self, values: dict) -> Decoded:
        """The configuration a solver's values describe, and what the model says of it."""
        if self.manifest["model"]["shape"] == "enumerated":
            config = int(values["config"])
            pair = next(
                p
                for p in self.manifest["pairs"]
                if p["configurations"][0] <= config <= p["configurations"][1]
            )
            algorithm = pair["algorithm"]
            params = {
                p["name"]: self.data[p["array"]][config - 1]
                for p in self.manifest["params"][algorithm]
            }
            column = lambda name: float(self.data[names.value_array(name)][config - 1])  # noqa: E731
            targets = {t["name"]: column(t["name"]) for t in self.manifest["targets"]}
            quantities = {e["quantity"]: column(e["quantity"]) for e in self.goal_and_bounds}
            return Decoded(algorithm, pair["hardware"], params, targets, quantities)
        pair = self.manifest["pairs"][int(values["pair"]) - 1]
        algorithm = pair["algorithm"]
        params = {p["name"]: values[p["var"]] for p in self.manifest["params"][algorithm]}
        targets = {t["name"]: float(values[t["var"]]) for t in self.manifest["targets"]}
        quantities = {e["quantity"]: float(values[e["var"]]) for e in self.goal_and_bounds}
        return Decoded(algorithm, pair["hardware"], params, targets, quantities)

    def hardware_attributes(self, hardware: str) -> dict[str, float]:
        entry = next(h for h in self.manifest["hardware"] if h["name"] == hardware)
        return entry["attributes"]

    def unit(self, target: str) -> str:
        return next(t["unit"] for t in self.manifest["targets"] if t["name"] == target)

    def predict(self, algorithm: str, hardware: str, params: dict, target: str) -> float:
        x = np.array([[float(v) for v in params.values()]]).reshape(1, len(params))
        return float(self.estimator(algorithm, hardware, target).predict(x)[0])
