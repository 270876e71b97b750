"""A build directory read back: its manifest, its data, its fitted models.

`hadac solve BUILD_DIR` and the verifier need nothing but this folder: the manifest says
which configuration is which (algorithm, hardware, params), the data file holds the tables
the solver saw, and `models/` the estimators that made them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import joblib
import numpy as np

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
        path = self.directory / MANIFEST_FILE
        try:
            self.manifest = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise HadacError(f"{self.directory} is not a hadac build directory ({err})") from None

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
            column = lambda name: float(self.data[f"VALUE_{name}"][config - 1])  # noqa: E731
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
