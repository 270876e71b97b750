"""Benchmark CSV files read into numeric columns, every problem reported by file, row and column.

The standard library's `csv` module reads them: `hadac check` runs on every edit of a spec,
and the file format needs nothing more (a header of column names, then one row per run;
blank lines are skipped; a filled `error` column marks a failed run that `hadac bench`
wrote). A number is what a person writes in a CSV: `2`, `-0.5`, `1e-05`, `inf` or `nan`
(the last two refused as not finite); digit separators, non-ASCII digits and hex are not.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hadac.errors import Reporter

# A decimal number with an optional exponent, or an infinity or NaN as Python spells them.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity|nan)", re.I | re.A)


@dataclass(frozen=True)
class Table:
    """Named numeric columns of one data file, and the file line each row came from."""

    columns: dict[str, np.ndarray]
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def matrix(self, names: list[str]) -> np.ndarray:
        """The named columns side by side: one row per run, one column per name."""
        if not names:  # an algorithm without params
            return np.empty((len(self), 0))
        return np.column_stack([self.columns[n] for n in names])


@dataclass(frozen=True)
class Csv:
    """A data file's header and its rows as text, each row with its line number."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]

    def numbers(
        self,
        columns: list[str],
        reporter: Reporter,
        labels: dict[str, tuple[str, ...]] | None = None,
    ) -> Table | None:
        """The given columns as floats; None after reporting each bad value by row and column.

        A column named in `labels` (a str param's) holds names, each read as its position
        among the labels. Every name in `columns` must be in the header: a missing column
        is the caller's to report, at the spec line that binds the file.
        """
        labels = labels or {}
        if not self.rows:
            reporter.data_error(self.path, None, None, "the file has a header but no rows")
            return None
        index = {name: i for i, name in enumerate(self.header)}
        out = {}
        for column in dict.fromkeys(columns):
            at = index[column]
            cells = [row[at].strip() if at < len(row) else "" for row in self.rows]
            if column in labels:
                values = _codes(cells, labels[column])
                if values is None:
                    self._unknown_label(cells, column, labels[column], reporter)
                    continue
                out[column] = values
                continue
            values = np.array([_number(cell) for cell in cells], dtype=float)
            bad = ~np.isfinite(values)
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                more = int(bad.sum()) - 1
                cell = cells[first]
                if cell == "":
                    what = "empty value; expected a number"
                elif not _NUMBER.fullmatch(cell):
                    what = f"expected a number, got {cell!r}"
                else:
                    what = f"expected a finite number, got {cell!r}"
                if more:
                    what += f" ({more} more bad {'row' if more == 1 else 'rows'} in this column)"
                reporter.data_error(self.path, self.lines[first], column, what)
                continue
            out[column] = values
        if len(out) != len(dict.fromkeys(columns)):
            return None
        return Table(out, np.array(self.lines, dtype=int))

    def _unknown_label(
        self, cells: list[str], column: str, labels: tuple[str, ...], reporter: Reporter
    ) -> None:
        bad = [i for i, cell in enumerate(cells) if cell not in labels]
        first, more = bad[0], len(bad) - 1
        what = f"{cells[first]!r} is not one of the values of '{column}' ({', '.join(labels)})"
        if cells[first] == "":
            what = f"empty value; expected one of the values of '{column}' ({', '.join(labels)})"
        if more:
            what += f" ({more} more bad {'row' if more == 1 else 'rows'} in this column)"
        reporter.data_error(self.path, self.lines[first], column, what)


def _codes(cells: list[str], labels: tuple[str, ...]) -> np.ndarray | None:
    """Each cell's position among `labels`, as floats; None when a cell is none of them."""
    position = {label: float(i) for i, label in enumerate(labels)}
    if any(cell not in position for cell in cells):
        return None
    return np.array([position[cell] for cell in cells], dtype=float)


def read_csv(path: Path, reporter: Reporter) -> Csv | None:
    """The file's text with failed runs left out; None after reporting why it cannot be read."""
    text = _read_text(path, reporter)
    return None if text is None else _without_failed_runs(text, reporter)


def _number(cell: str) -> float:
    """The cell's value; NaN when it is not a number as `_NUMBER` defines one."""
    return float(cell) if _NUMBER.fullmatch(cell) else float("nan")


def _read_text(path: Path, reporter: Reporter) -> Csv | None:
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file, strict=True)
            rows, lines = [], []
            for row in reader:
                if row:  # a blank line
                    rows.append(row)
                    lines.append(reader.line_num)
    except (csv.Error, UnicodeDecodeError, OSError) as err:
        reporter.data_error(path, None, None, f"cannot read CSV: {str(err).strip()}")
        return None
    if not rows:
        reporter.data_error(
            path, None, None, "the file is empty; expected a header row of column names"
        )
        return None
    head, rows, lines = rows[0], rows[1:], lines[1:]
    names: dict[str, list[int]] = {}
    for position, name in enumerate(head, start=1):
        names.setdefault(name.strip(), []).append(position)
    duplicated = {name: where for name, where in names.items() if len(where) > 1}
    for name, where in duplicated.items():
        reporter.data_error(
            path,
            1,
            name,
            f"the header names this column {len(where)} times"
            f" (columns {', '.join(map(str, where))})",
        )
    if duplicated:
        return None
    long = next((line for row, line in zip(rows, lines, strict=True) if len(row) > len(head)), None)
    if long is not None:
        reporter.data_error(
            path, long, None, "this row has more fields than the header (a stray comma?)"
        )
        return None
    return Csv(path, head, rows, lines)


def _without_failed_runs(text: Csv, reporter: Reporter) -> Csv | None:
    """Rows whose `error` column is filled (failed runs written by `hadac bench`) left out,
    with a warning."""
    if "error" not in text.header:
        return text
    at = text.header.index("error")
    failed = [at < len(row) and row[at].strip() != "" for row in text.rows]
    if not any(failed):
        return text
    first = text.lines[failed.index(True)]
    if all(failed):
        reporter.data_error(text.path, first, "error", "every row records a failed run")
        return None
    count = sum(failed)
    reporter.data_warning(
        text.path,
        first,
        "error",
        f"{count} {'row' if count == 1 else 'rows'} of failed runs left out",
    )
    kept = [i for i, f in enumerate(failed) if not f]
    return Csv(text.path, text.header, [text.rows[i] for i in kept], [text.lines[i] for i in kept])
