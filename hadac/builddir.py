"""A build directory read back: its manifest, its data, its fitted models.

`hadac solve BUILD_DIR` and the verifier need nothing but this folder: the manifest says
which configuration is which (algorithm, hardware, params), the data file holds the tables
the solver saw, and `models/` the estimators that made them.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import joblib
import numpy as np

from hadac.errors import HadacError

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

    def choice(self, config: int) -> tuple[str, str, dict[str, float | int]]:
        """The algorithm, hardware and param values of a configuration (1-based)."""
        for pair in self.manifest["pairs"]:
            first, last = pair["configurations"]
            if first <= config <= last:
                algorithm = pair["algorithm"]
                params = {
                    p["name"]: self.data[p["array"]][config - 1]
                    for p in self.manifest["params"][algorithm]
                }
                return algorithm, pair["hardware"], params
        raise HadacError(f"configuration {config} is outside the model's range")

    def table_value(self, quantity: str, config: int) -> float:
        return float(self.data[f"VALUE_{quantity}"][config - 1])

    def hardware_attributes(self, hardware: str) -> dict[str, float]:
        entry = next(h for h in self.manifest["hardware"] if h["name"] == hardware)
        return entry["attributes"]

    def unit(self, target: str) -> str:
        return next(t["unit"] for t in self.manifest["targets"] if t["name"] == target)

    def predict(self, algorithm: str, hardware: str, params: dict, target: str) -> float:
        x = np.array([[float(v) for v in params.values()]]).reshape(1, len(params))
        return float(self.estimator(algorithm, hardware, target).predict(x)[0])
