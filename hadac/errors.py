"""Diagnostics: what went wrong, where, said the way compilers say it.

Every user-facing problem is a `Diagnostic`. Spec problems point at `file:line:col` and show
the line with a caret; data problems name the file, row and column. A `HadacError` carries
one or more diagnostics out to the command line, which prints them and exits 1 without a
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hadac.ast import Pos


@dataclass(frozen=True)
class Diagnostic:
    message: str
    path: Path | None = None
    pos: Pos | None = None
    length: int = 1
    severity: str = "error"  # "error" or "warning"
    source: str | None = None  # the spec text, to quote the offending line
    row: int | None = None  # for data files: 1-based line number in the file
    column: str | None = None  # for data files: the column name

    @property
    def location(self) -> str:
        if self.path is None:
            return "hadac"
        if self.row is not None:
            where = f"{self.path}:{self.row}"
            return f'{where}: column "{self.column}"' if self.column else where
        if self.pos is not None:
            return f"{self.path}:{self.pos.line}:{self.pos.column}"
        return str(self.path)

    def format(self) -> str:
        """`file:line:col: error: message`, then the source line and a caret under the spot."""
        text = f"{self.location}: {self.severity}: {self.message}"
        if self.source is not None and self.pos is not None:
            lines = self.source.split("\n")  # as the parser counts lines: not at \f or \x1c
            if 0 < self.pos.line <= len(lines):
                line = lines[self.pos.line - 1].rstrip("\r")
                gutter = f"{self.pos.line:>5} | "
                indent = "".join(c if c == "\t" else " " for c in line[: self.pos.column - 1])
                caret = indent + "^" * max(1, self.length)
                text += f"\n{gutter}{line}\n{' ' * (len(gutter) - 2)}| {caret}"
        return text

    def to_json(self) -> dict:
        out: dict = {"severity": self.severity, "message": self.message}
        if self.path is not None:
            out["file"] = str(self.path)
        if self.pos is not None:
            out["line"], out["column"] = self.pos.line, self.pos.column
        if self.row is not None:
            out["row"] = self.row
        if self.column is not None:
            out["data_column"] = self.column
        return out


class HadacError(Exception):
    """One or more error diagnostics; the command line prints them and exits 1."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str):
        if isinstance(diagnostics, str):
            diagnostics = Diagnostic(diagnostics)
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.format() for d in diagnostics))


class Reporter:
    """Collects diagnostics for one spec so that a single pass reports every problem."""

    def __init__(self, path: Path, source: str):
        self.path = path
        self.source = source
        self.diagnostics: list[Diagnostic] = []

    def error(self, pos: Pos | None, message: str, length: int = 1) -> None:
        self.diagnostics.append(Diagnostic(message, self.path, pos, length, "error", self.source))

    def warning(self, pos: Pos | None, message: str, length: int = 1) -> None:
        self.diagnostics.append(Diagnostic(message, self.path, pos, length, "warning", self.source))

    def data_error(self, path: Path, row: int | None, column: str | None, message: str) -> None:
        self.diagnostics.append(Diagnostic(message, path, None, 1, "error", None, row, column))

    def data_warning(self, path: Path, row: int | None, column: str | None, message: str) -> None:
        self.diagnostics.append(Diagnostic(message, path, None, 1, "warning", None, row, column))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise HadacError(self.diagnostics)
