"""The benchmark CSV reader: what counts as a number, and where each problem is reported."""

from pathlib import Path

import numpy as np
import pytest

from hadac import datafile
from hadac.errors import Reporter


def read(tmp_path: Path, text: str | bytes, columns=("n", "t")):
    path = tmp_path / "a.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    reporter = Reporter(tmp_path / "spec.hada", "")
    csv = datafile.read_csv(path, reporter)
    table = csv.numbers(list(columns), reporter) if csv is not None else None
    shown = [d.format().replace(str(path), "a.csv") for d in reporter.diagnostics]
    return table, shown


@pytest.mark.parametrize(
    ("cell", "value"),
    [("2", 2.0), (" -0.5 ", -0.5), ("1e-05", 1e-05), ("+3.", 3.0), (".25", 0.25), ("1E3", 1e3)],
)
def test_numbers_as_written_in_a_csv(tmp_path, cell, value):
    table, shown = read(tmp_path, f'n,t\n1,"{cell}"\n')
    assert shown == []
    assert table["t"].tolist() == [value]


@pytest.mark.parametrize("cell", ["1_000", "０１", "0x10", "1,5", "fast", "2 3"])
def test_what_python_would_read_but_a_csv_does_not_mean(tmp_path, cell):
    table, shown = read(tmp_path, f'n,t\n1,"{cell}"\n')
    assert table is None
    assert shown == [f"a.csv:2: column \"t\": error: expected a number, got '{cell}'"]


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "nan", "NaN"])
def test_infinite_and_nan_values_are_refused_as_not_finite(tmp_path, cell):
    _, shown = read(tmp_path, f"n,t\n1,{cell}\n")
    assert shown == [f"a.csv:2: column \"t\": error: expected a finite number, got '{cell}'"]


def test_blank_lines_are_skipped_and_rows_keep_their_file_line(tmp_path):
    table, shown = read(tmp_path, "n,t\n\n1,2\n\n\n2,x\n")
    assert table is None
    assert shown == ["a.csv:6: column \"t\": error: expected a number, got 'x'"]


def test_a_short_row_has_empty_values(tmp_path):
    _, shown = read(tmp_path, "n,t\n1,2\n3\n")
    assert shown == ['a.csv:3: column "t": error: empty value; expected a number']


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    table, shown = read(tmp_path, "\ufeffn,t\n1,2\n".encode())
    assert shown == []
    assert table.matrix(["n", "t"]).tolist() == [[1.0, 2.0]]


def test_an_unclosed_quote_is_a_read_error(tmp_path):
    _, shown = read(tmp_path, 'n,t\n1,"2\n')
    assert len(shown) == 1 and shown[0].startswith("a.csv: error: cannot read CSV: ")


def test_failed_runs_are_left_out_and_lines_kept(tmp_path):
    table, shown = read(tmp_path, "n,t,error\n1,2,\n2,3,timeout\n3,4,\n")
    assert shown == ['a.csv:3: column "error": warning: 1 row of failed runs left out']
    assert table["n"].tolist() == [1.0, 3.0]
    assert table.lines.tolist() == [2, 4]


def test_an_algorithm_without_params_has_an_empty_matrix(tmp_path):
    table, _ = read(tmp_path, "t\n1\n2\n", columns=("t",))
    assert table.matrix([]).shape == (2, 0)
    assert np.array_equal(table["t"], [1.0, 2.0])
