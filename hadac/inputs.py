"""The instance inputs of one solve: given on the command line or in a JSON file, checked
against the build's declarations, defaults filled in.

An input (`input pv_mean: float in 0..500` in an algorithm block) is a feature of the
instance to solve, not a choice: the build is compiled once, and each solve's query carries
the inputs' values (`hadac.query.Query.inputs`). A value is required unless the input has
a default; a name the build does not declare is an error; a value outside the declared
range is a warning, since the surrogates then extrapolate beyond their data.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from hadac import ast
from hadac.errors import Diagnostic, HadacError
from hadac.manifest import InputRecord, Manifest
from hadac.numbers import plain


@dataclass(frozen=True)
class InputValue:
    """An input's value for one solve; `given` is False when it is the declared default."""

    name: str
    value: float
    given: bool = True

    def to_json(self) -> dict:
        return {"name": self.name, "value": self.value, "default": not self.given}


@dataclass(frozen=True)
class Given:
    """The inputs a command was given, as written: `--inputs FILE.json`, then each
    `--input NAME=VALUE` (which overrides the file). Read against a build's manifest,
    since only the build knows which inputs it has."""

    texts: tuple[str, ...] = ()
    file: Path | None = None

    def values(self, manifest: Manifest) -> list[InputValue]:
        from_file = read_inputs(manifest, self.file) if self.file is not None else []
        return from_file + [parse_input(manifest, text) for text in self.texts]


NONE_GIVEN = Given()


def _declared(manifest: Manifest) -> str:
    return ", ".join(f"{i.name} ({i.text})" for i in manifest.inputs) or "none"


def _located(message: str, option: str, text: str, column: int, length: int) -> HadacError:
    return HadacError(
        Diagnostic(message, Path(option), ast.Pos(1, column), max(1, length), "error", text)
    )


def parse_input(manifest: Manifest, text: str, option: str = "--input") -> InputValue:
    """`pv_mean=268` as a value of a declared input; errors located in the text, as
    `--input:1:9`."""
    name, sep, value = text.partition("=")
    if not sep:
        raise _located(
            f"expected NAME=VALUE, like {_example(manifest)}", option, text, 1, len(text)
        )
    start = len(name) - len(name.lstrip()) + 1
    name = name.strip()
    if not any(i.name == name for i in manifest.inputs):
        raise _located(
            f"this build has no input '{name}' (its inputs: {_declared(manifest)})",
            option,
            text,
            start,
            len(name),
        )
    column = len(text) - len(value) + 1
    number = _number(value.strip())
    record = manifest.input(name)
    problem = _problem(record, number, value.strip())
    if problem:
        raise _located(problem, option, text, column, len(value))
    return InputValue(name, float(number))


def _example(manifest: Manifest) -> str:
    first = manifest.inputs[0] if manifest.inputs else None
    return f"{first.name}={plain(first.reference)}" if first else "NAME=VALUE"


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _problem(record: InputRecord, value: float | None, written: object) -> str | None:
    """Why `value` cannot be input `record`'s value, or None."""
    if value is None:
        return f"input '{record.name}' ({record.text}) takes a finite number, not {written!r}"
    if record.type == "int" and not float(value).is_integer():
        return f"int input '{record.name}' ({record.text}) takes an integer, not {written!r}"
    return None


def read_inputs(manifest: Manifest, path: Path) -> list[InputValue]:
    """The inputs of a JSON file: `{"pv_mean": 268, ...}`, or HADA's request form
    `{"inputs": [{"name": "pv_mean", "value": 268}, ...]}`; errors name the file and field."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise HadacError(f"--inputs {path}: cannot read it: {reason}") from None
    except ValueError as err:
        raise HadacError(f"--inputs {path}: not JSON: {err}") from None
    if not isinstance(data, dict):
        raise HadacError(
            f'--inputs {path}: expected an object, like {{"pv_mean": 268}} or'
            ' {"inputs": [{"name": "pv_mean", "value": 268}]}'
        )
    if "inputs" in data and not any(i.name == "inputs" for i in manifest.inputs):
        entries = data["inputs"]
        if not isinstance(entries, list):
            raise HadacError(f"{path}: field 'inputs': expected a list of {{name, value}}")
        pairs = []
        for index, entry in enumerate(entries):
            field = f"inputs[{index}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise HadacError(
                    f'{path}: field \'{field}\': expected {{"name": ..., "value": ...}}'
                )
            if "value" not in entry:
                raise HadacError(f"{path}: field '{field}.value': missing")
            pairs.append((entry["name"], entry["value"], f"{field}.value"))
    else:
        pairs = [(name, value, name) for name, value in data.items()]
    out = []
    for name, value, field in pairs:
        if not any(i.name == name for i in manifest.inputs):
            raise HadacError(
                f"{path}: field '{field}': this build has no input '{name}'"
                f" (its inputs: {_declared(manifest)})"
            )
        number = (
            None
            if isinstance(value, bool) or not isinstance(value, int | float)
            else _number(str(value))
        )
        problem = _problem(manifest.input(name), number, value)
        if problem:
            raise HadacError(f"{path}: field '{field}': {problem}")
        out.append(InputValue(name, float(number)))
    return out


def defaults(manifest: Manifest) -> tuple[InputValue, ...]:
    """The declared defaults: the inputs of a query that gives none."""
    return tuple(
        InputValue(i.name, i.default, False) for i in manifest.inputs if i.default is not None
    )


def resolve(manifest: Manifest, given: list[InputValue]) -> tuple[InputValue, ...]:
    """Every input's value for a solve: the last given, else the default; an input with
    neither is an error naming it and its range. In the build's declared order."""
    values = {v.name: v for v in defaults(manifest)} | {v.name: v for v in given}
    missing = [i for i in manifest.inputs if i.name not in values]
    if missing:
        raise HadacError(
            [
                Diagnostic(
                    f"input '{i.name}' ({i.text}, line {i.line} of the spec) has no value and"
                    f" no default: give it, e.g. --input {i.name}={plain(i.reference)}"
                )
                for i in missing
            ]
        )
    return tuple(values[i.name] for i in manifest.inputs)


def outside(manifest: Manifest, values: tuple[InputValue, ...]) -> list[str]:
    """A warning for each value outside its input's declared range."""
    out = []
    for v in values:
        record = manifest.input(v.name)
        if not record.low <= v.value <= record.high:
            out.append(
                f"input {v.name} = {plain(v.value)} is outside its declared range"
                f" {plain(record.low)}..{plain(record.high)}: the surrogates extrapolate"
                " beyond their data"
            )
    return out
