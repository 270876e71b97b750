"""Malformed specs and data: each gives exactly the diagnostic a researcher should see.

Every case runs the real command line (`hadac check`) on a small spec written to a temp dir,
with the tiny CSVs it needs, and compares the whole of stderr: `file:line:col`, the message,
the quoted source line and the caret under the spot. Data errors say `file:row: column "NAME"`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner
from conftest import edited

from hadac.cli import main

# The spec every case edits. Line numbers, for reading the expected carets:
#   1 spec s
#   2 hardware hw { cores = 4 }
#   3 algorithm alg {
#   4   param n: int in 1..3
#   5   data hw = "a.csv"
#   6 }
#   7 target time = "t" in s ~ tree(max_depth = 3)
#   8 minimize time
BASE = """spec s
hardware hw { cores = 4 }
algorithm alg {
  param n: int in 1..3
  data hw = "a.csv"
}
target time = "t" in s ~ tree(max_depth = 3)
minimize time
"""
# Enough rows to fit and check a surrogate (hadac.fit.MIN_ROWS); rows 2-4 as the carets say
GOOD_CSV = "n,t\n" + "1,2.0\n2,3.5\n3,4.0\n" * 4
DATA = '  data hw = "a.csv"'  # the line before which bench cases add theirs
# GOOD_CSV with an instance input `d`, one of 0..9 per row
INPUT_CSV = "n,d,t\n" + "".join(
    f"{1 + k % 3},{k % 10},{2 + k % 3 + 0.1 * (k % 10)}\n" for k in range(12)
)


def edit(*changes: tuple[str, str], append: str = "") -> str:
    """BASE with each `old` replaced by `new` (each must occur once), then `append` added."""
    return edited(BASE, *changes, append=append)


@dataclass
class Case:
    id: str
    spec: str
    expect: str  # the exact stderr; <DIR> stands for the resolved temp dir
    files: dict[str, str] = field(default_factory=dict)
    code: int = 1


CASES = [
    # ---- syntax ----
    Case(
        "syntax-unexpected-token",
        edit(("cores = 4", "cores = = 4")),
        """\
spec.hada:2:23: error: unexpected '='; expected '-', '{', a "string" or a number
    2 | hardware hw { cores = = 4 }
      |                       ^
""",
    ),
    Case(
        "syntax-unterminated-string",
        edit(('"a.csv"', '"a.csv')),
        """\
spec.hada:5:13: error: unterminated string
    5 |   data hw = "a.csv
      |             ^
""",
    ),
    Case(
        "syntax-unexpected-eof",
        "spec s\nhardware hw {\n  cores = 4\n\n",
        """\
spec.hada:3:12: error: unexpected end of file; expected '}', a name or a unit
    3 |   cores = 4
      |            ^
""",
    ),
    Case(
        "syntax-unexpected-character",
        edit(append="constraint time <= 3 $\n"),
        """\
spec.hada:9:22: error: unexpected character '$'
    9 | constraint time <= 3 $
      |                      ^
""",
    ),
    Case(
        "syntax-column-without-quotes",
        edit(('= "t" in', "= t in")),
        """\
spec.hada:7:15: error: unexpected 't'; expected a "string"
    7 | target time = t in s ~ tree(max_depth = 3)
      |               ^
""",
    ),
    # ---- names ----
    Case(
        "unknown-name",
        edit(("minimize time", "minimize tme")),
        """\
spec.hada:8:10: error: unknown name 'tme': not a target, let or attribute (known: cores, time)
    8 | minimize tme
      |          ^^^
""",
    ),
    Case(
        "duplicate-hardware",
        edit(append="hardware hw { cores = 8 }\n"),
        """\
spec.hada:9:10: error: duplicate hardware 'hw' (first declared at line 2)
    9 | hardware hw { cores = 8 }
      |          ^^
""",
    ),
    Case(
        "duplicate-algorithm",
        edit(append='algorithm alg { data hw = "a.csv" }\n'),
        """\
spec.hada:9:11: error: duplicate algorithm 'alg' (first declared at line 3)
    9 | algorithm alg { data hw = "a.csv" }
      |           ^^^
""",
    ),
    Case(
        "duplicate-target",
        edit(append='target time = "t" in s ~ linear\n'),
        """\
spec.hada:9:8: error: duplicate target 'time' (first declared at line 7)
    9 | target time = "t" in s ~ linear
      |        ^^^^
""",
    ),
    Case(
        "duplicate-param",
        edit(("  param n: int in 1..3\n", "  param n: int in 1..3\n  param n: int in 1..3\n")),
        """\
spec.hada:5:9: error: duplicate param 'n' in algorithm 'alg' (first declared at line 4)
    5 |   param n: int in 1..3
      |         ^
""",
    ),
    Case(
        "duplicate-data-binding",
        edit(('  data hw = "a.csv"\n', '  data hw = "a.csv"\n  data hw = "b.csv"\n')),
        """\
spec.hada:6:8: error: duplicate data binding for hardware 'hw' in algorithm 'alg' (first declared at line 5)
    6 |   data hw = "b.csv"
      |        ^^
""",  # noqa: E501 (the exact message)
        {"b.csv": GOOD_CSV},
    ),
    Case(
        "duplicate-attribute",
        edit(("cores = 4", "cores = 4 cores = 8")),
        """\
spec.hada:2:25: error: duplicate attribute 'cores' in hardware 'hw' (first declared at line 2)
    2 | hardware hw { cores = 4 cores = 8 }
      |                         ^^^^^
""",
    ),
    Case(
        "unknown-hardware-in-data",
        edit(('data hw = "a.csv"', 'data hx = "a.csv"')),
        """\
spec.hada:5:8: error: unknown hardware 'hx' (declared: hw)
    5 |   data hx = "a.csv"
      |        ^^
""",
    ),
    # ---- domains ----
    Case(
        "domain-empty-range",
        edit(("1..3", "5..1")),
        """\
spec.hada:4:19: error: empty domain 5..1 for 'n': the low end is above the high end
    4 |   param n: int in 5..1
      |                   ^
""",
    ),
    Case(
        "domain-int-with-float-bounds",
        edit(("1..3", "0.5..3")),
        """\
spec.hada:4:19: error: int param 'n' has non-integer bounds 0.5..3; write integers or declare it float
    4 |   param n: int in 0.5..3
      |                   ^
""",  # noqa: E501 (the exact message)
    ),
    Case(
        "domain-int-set-non-integer",
        edit(("1..3", "{1, 2.5, 3}")),
        """\
spec.hada:4:20: error: int param 'n' has the non-integer value 2.5
    4 |   param n: int in {1, 2.5, 3}
      |                    ^
""",
    ),
    Case(
        "domain-set-repeated-value",
        edit(("1..3", "{1, 2, 3, 2}")),
        """\
spec.hada:4:20: error: the value 2 appears twice in the set of 'n'
    4 |   param n: int in {1, 2, 3, 2}
      |                    ^
""",
    ),
    # ---- units ----
    Case(
        "unknown-unit",
        edit(append="constraint time <= 3 kgg\n"),
        """\
spec.hada:9:20: error: unknown unit 'kgg'
    9 | constraint time <= 3 kgg
      |                    ^
""",
    ),
    Case(
        "unknown-unit-of-target",
        edit(("in s ~", "in sekunden ~")),
        """\
spec.hada:7:22: error: unknown unit 'sekunden'
    7 | target time = "t" in sekunden ~ tree(max_depth = 3)
      |                      ^^^^^^^^
""",
    ),
    Case(
        "incompatible-units",
        edit(append="constraint time <= 3 kg\n"),
        """\
spec.hada:9:17: error: incompatible units for '<=': s ([time]) and kg ([mass])
    9 | constraint time <= 3 kg
      |                 ^^
""",
    ),
    # ---- surrogates ----
    Case(
        "unknown-surrogate",
        edit(("tree(max_depth = 3)", "trees(max_depth = 3)")),
        """\
spec.hada:7:26: error: unknown surrogate 'trees'; expected one of linear, tree, forest, boosted, mlp
    7 | target time = "t" in s ~ trees(max_depth = 3)
      |                          ^^^^^
""",
    ),
    Case(
        "surrogate-unknown-encoding",
        edit(("max_depth = 3", "max_depth = 3, encoding = relu")),
        """\
spec.hada:7:46: error: encoding must be table, structure, splits or leaves, not 'relu'
    7 | target time = "t" in s ~ tree(max_depth = 3, encoding = relu)
      |                                              ^^^^^^^^
""",
    ),
    Case(
        "surrogate-unknown-argument",
        edit(("max_depth = 3", "depth = 3")),
        """\
spec.hada:7:31: error: tree has no argument 'depth' (it takes max_depth)
    7 | target time = "t" in s ~ tree(depth = 3)
      |                               ^^^^^
""",
    ),
    Case(
        "surrogate-max-depth-zero",
        edit(("max_depth = 3", "max_depth = 0")),
        """\
spec.hada:7:31: error: tree(max_depth = ...): 0 is out of range: must be at least 1 and at most 64
    7 | target time = "t" in s ~ tree(max_depth = 0)
      |                               ^^^^^^^^^
""",
    ),
    Case(
        "surrogate-max-depth-float",
        edit(("max_depth = 3", "max_depth = 2.5")),
        """\
spec.hada:7:31: error: tree(max_depth = ...): expected an integer, got 2.5
    7 | target time = "t" in s ~ tree(max_depth = 2.5)
      |                               ^^^^^^^^^
""",
    ),
    Case(
        "surrogate-max-depth-list",
        edit(("max_depth = 3", "max_depth = [3]")),
        """\
spec.hada:7:31: error: tree(max_depth = ...): expected a number, got the list [3]
    7 | target time = "t" in s ~ tree(max_depth = [3])
      |                               ^^^^^^^^^
""",
    ),
    Case(
        "surrogate-empty-hidden",
        edit(("tree(max_depth = 3)", "mlp(hidden = [])")),
        """\
spec.hada:7:30: error: mlp(hidden = ...): expected a non-empty list of integers, e.g. [16, 16]
    7 | target time = "t" in s ~ mlp(hidden = [])
      |                              ^^^^^^
""",
    ),
    # ---- objective, constraints, solver ----
    Case(
        "unknown-solver",
        edit(append="solver cplex\n"),
        """\
spec.hada:9:8: error: unknown solver 'cplex'; expected one of cbc, highs, gecode, chuffed
    9 | solver cplex
      |        ^^^^^
""",
    ),
    Case(
        "second-objective",
        edit(append="maximize time\n"),
        """\
spec.hada:9:1: error: a spec has one objective; this is a second one
    9 | maximize time
      | ^^^^^^^^
""",
    ),
    Case(
        "strict-comparison",
        edit(append="constraint time < 3\n"),
        """\
spec.hada:9:17: error: '<' is not supported on predicted values; use <= or >=
    9 | constraint time < 3
      |                 ^
""",
    ),
    # ---- data ----
    Case(
        "data-path-empty",
        edit(('"a.csv"', '""')),
        """\
spec.hada:5:13: error: empty data file path: give the CSV file's path, relative to the spec
    5 |   data hw = ""
      |             ^^
""",
    ),
    Case(
        "data-path-directory",
        edit(('"a.csv"', '"."')),
        """\
spec.hada:5:13: error: data file path is a directory, not a CSV file: <DIR>
    5 |   data hw = "."
      |             ^^^
""",
    ),
    Case(
        "data-path-device",
        edit(('"a.csv"', '"/dev/null"')),
        """\
spec.hada:5:13: error: data file path is not a regular file (a device, pipe or socket): /dev/null
    5 |   data hw = "/dev/null"
      |             ^^^^^^^^^^^
""",
    ),
    Case(
        "data-column-duplicated",
        edit(('"a.csv"', '"b.csv"')),
        '<DIR>/b.csv:1: column "t": error: the header names this column 2 times (columns 2, 3)\n',
        {"b.csv": "n,t,t\n" + "1,2,3\n" * 12},
    ),
    Case(
        "data-too-few-rows",
        edit(('"a.csv"', '"b.csv"')),
        """\
spec.hada:5:13: error: b.csv has 2 rows to learn from; a surrogate needs at least 10 (it is\
 fitted on 80% of them and checked on the other 20%)
    5 |   data hw = "b.csv"
      |             ^^^^^^^
""",
        {"b.csv": "n,t\n1,2\n2,3\n"},
    ),
    Case(
        "warning-data-covers-part-of-the-domain",
        edit(("1..3", "1..20")),
        """\
spec.hada:5:13: warning: a.csv covers n = 1..3 only, of the declared 1..20: beyond it the\
 surrogates extrapolate
    5 |   data hw = "a.csv"
      |             ^^^^^^^
""",
        code=0,
    ),
    Case(
        "location-not-a-string",
        edit(("cores = 4", "cores = 4 location = 3")),
        """\
spec.hada:2:25: error: location must be an ISO 3166 alpha-3 code in quotes, like "ITA", or a\
 set of them, like {"ITA", "FRA"}
    2 | hardware hw { cores = 4 location = 3 }
      |                         ^^^^^^^^
""",
    ),
    Case(
        "location-twice",
        edit(("cores = 4", 'cores = 4 location = {"FRA", "FRA"}')),
        """\
spec.hada:2:25: error: location 'FRA' is listed twice
    2 | hardware hw { cores = 4 location = {"FRA", "FRA"} }
      |                         ^^^^^^^^
""",
    ),
    Case(
        "learning-rate-zero",
        edit(("tree(max_depth = 3)", "boosted(learning_rate = 0)")),
        """\
spec.hada:7:34: error: boosted(learning_rate = ...): 0 is out of range: must be greater than\
 0.0 and at most 1.0
    7 | target time = "t" in s ~ boosted(learning_rate = 0)
      |                                  ^^^^^^^^^^^^^
""",
    ),
    Case(
        "attribute-units-disagree-on-each-own-line",
        edit(
            (
                "hardware hw { cores = 4 }",
                "hardware hw { cores = 4 price = 0.10 furlongs }\n"
                "hardware hx { cores = 4 price = 0.2 EUR/h }\n"
                "hardware hy { cores = 4 price = 1 EUR/h }",
            ),
            ('  data hw = "a.csv"', '  data hw = "a.csv"\n  data hx = "a.csv"'),
        ),
        """\
spec.hada:2:33: error: attribute 'price' has unit fur here but EUR / h at line 3 on another\
 hardware
    2 | hardware hw { cores = 4 price = 0.10 furlongs }
      |                                 ^
""",
    ),
    Case(
        "confidence-without-enough-holdout-rows",
        edit(append="constraint time <= 3 s with confidence 0.9\n"),
        """\
spec.hada:9:40: error: confidence 0.9 needs at least 9 holdout rows per pair (0.2 of the data);\
 alg on hw has 3 of 12 rows
    9 | constraint time <= 3 s with confidence 0.9
      |                                        ^^^
""",
    ),
    Case(
        "data-file-missing",
        edit(('"a.csv"', '"nope.csv"')),
        """\
spec.hada:5:13: error: data file not found: <DIR>/nope.csv
    5 |   data hw = "nope.csv"
      |             ^^^^^^^^^^
""",
    ),
    Case(
        "data-column-missing",
        edit(('"a.csv"', '"b.csv"')),
        """\
spec.hada:5:13: error: b.csv has no column "t" (it has: n, time)
    5 |   data hw = "b.csv"
      |             ^^^^^^^
""",
        {"b.csv": "n,time\n1,2\n"},
    ),
    Case(
        "data-not-a-number",
        edit(('"a.csv"', '"b.csv"')),
        "<DIR>/b.csv:3: column \"t\": error: expected a number, got 'fast'\n",
        {"b.csv": "n,t\n1,2.0\n2,fast\n3,4.0\n"},
    ),
    Case(
        "data-nan",
        edit(('"a.csv"', '"b.csv"')),
        "<DIR>/b.csv:4: column \"t\": error: expected a finite number, got 'NaN'"
        " (1 more bad row in this column)\n",
        {"b.csv": "n,t\n1,2.0\n2,3.0\n3,NaN\n1,inf\n"},
    ),
    Case(
        "data-empty-value",
        edit(('"a.csv"', '"b.csv"')),
        '<DIR>/b.csv:2: column "n": error: empty value; expected a number\n',
        {"b.csv": "n,t\n,2.0\n2,3.0\n"},
    ),
    Case(
        "data-header-only",
        edit(('"a.csv"', '"b.csv"')),
        "<DIR>/b.csv: error: the file has a header but no rows\n",
        {"b.csv": "n,t\n"},
    ),
    Case(
        "algorithm-without-data",
        edit(('  data hw = "a.csv"\n', "")),
        """\
spec.hada:3:11: error: algorithm 'alg' has no data: bind benchmarks with data HARDWARE = "file.csv"
    3 | algorithm alg {
      |           ^^^
""",
    ),
    Case(
        "warning-value-outside-domain",
        edit(("1..3", "1..2")),
        "<DIR>/a.csv:4: column \"n\": warning: value 3 is outside the declared domain of 'n'"
        " (4 rows outside in this file)\n",
        code=0,
    ),
    Case(
        "data-row-longer-than-header",
        edit(('"a.csv"', '"b.csv"')),
        "<DIR>/b.csv:3: error: this row has more fields than the header (a stray comma?)\n",
        {"b.csv": "n,t\n1,2\n2,3,\n"},
    ),
    Case(
        "data-file-empty",
        edit(('"a.csv"', '"b.csv"')),
        "<DIR>/b.csv: error: the file is empty; expected a header row of column names\n",
        {"b.csv": ""},
    ),
    Case(
        "hardware-bad-location",
        edit(("cores = 4", 'cores = 4 location = "it"')),
        """\
spec.hada:2:25: error: location 'it' is not an ISO 3166 alpha-3 code like "ITA"
    2 | hardware hw { cores = 4 location = "it" }
      |                         ^^^^^^^^
""",
    ),
    Case(
        "units-dimensionless-named",
        edit(("minimize time", "minimize time + cores")),
        """\
spec.hada:8:15: error: incompatible units for '+': s ([time]) and dimensionless
    8 | minimize time + cores
      |               ^
""",
    ),
    Case(
        # the bad surrogate is the only error: `time` is not also called an unknown name
        "broken-target-used-later",
        edit(("tree(max_depth = 3)", "tree(max_depth = -1)"), append="constraint time <= 1 min\n"),
        """\
spec.hada:7:31: error: tree(max_depth = ...): -1 is out of range: must be at least 1 and at most 64
    7 | target time = "t" in s ~ tree(max_depth = -1)
      |                               ^^^^^^^^^
""",
    ),
    Case(
        # every row had one field more than the header: pandas made column 1 the index and
        # read n=2, t=3 from the row 1,2,3
        "regression-rows-shifted-into-index",
        edit(('"a.csv"', '"b.csv"')),
        "<DIR>/b.csv:2: error: this row has more fields than the header (a stray comma?)\n",
        {"b.csv": "n,t\n1,2,3\n2,3,4\n"},
    ),
    Case(
        # the warning used to say np.float64(2.0)
        "regression-warning-value-format",
        edit(("1..3", "{1, 3}")),
        "<DIR>/a.csv:3: column \"n\": warning: value 2 is outside the declared domain of 'n'"
        " (4 rows outside in this file)\n",
        code=0,
    ),
    # ---- regressions: each of these used to crash with an internal error ----
    Case(
        "regression-division-by-zero",
        edit(append="constraint time <= 10 s / (2 - 2)\n"),
        """\
spec.hada:9:25: error: division by zero
    9 | constraint time <= 10 s / (2 - 2)
      |                         ^
""",
    ),
    Case(
        "regression-offset-unit-product",
        edit(("cores = 4", "cores = 4 temp = 20 degC"), ("minimize time", "minimize temp * time")),
        """\
spec.hada:8:15: error: cannot multiply with °C: it is an offset or logarithmic unit; use an absolute one such as K
    8 | minimize temp * time
      |               ^
""",  # noqa: E501 (the exact message)
    ),
    Case(
        "regression-offset-unit-conversion",
        edit(("cores = 4", "cores = 4 temp = 20 degC"), append="constraint temp <= 80 degF\n"),
        """\
spec.hada:9:17: error: cannot convert °F to °C for '<=': offset and logarithmic units do not scale; write both sides in °C
    9 | constraint temp <= 80 degF
      |                 ^^
""",  # noqa: E501 (the exact message)
    ),
    Case(
        "regression-conversion-overflow",
        edit(("cores = 4", "cores = 4 x = 1 s^400"), append="constraint x <= 3 ks^400\n"),
        """\
spec.hada:9:14: error: cannot convert ks**400 to s**400: out of range
    9 | constraint x <= 3 ks^400
      |              ^^
""",
    ),
    Case(
        "regression-number-too-large",
        edit(("1..3", "1..1" + "0" * 400)),
        """\
spec.hada:4:22: error: number 10000000000000000000... is too large (the largest is about 1.8e308)
    4 |   param n: int in 1..1{zeros}
      |                      ^{carets}
""".format(zeros="0" * 400, carets="^" * 400),
    ),
    Case(
        # Python refuses int() of a string over 4300 digits, leading zeros included: not an error
        "regression-many-leading-zeros",
        edit(("cores = 4", "cores = " + "0" * 5000 + "4")),
        "",
        code=0,
    ),
    Case(
        "regression-float-overflow",
        edit(append="constraint time <= 1e999\n"),
        """\
spec.hada:9:20: error: number 1e999 is too large (the largest is about 1.8e308)
    9 | constraint time <= 1e999
      |                    ^^^^^
""",
    ),
    Case(
        "regression-nul-in-data-path",
        edit(('"a.csv"', '"a\x00.csv"')),
        """\
spec.hada:5:13: error: invalid data file path 'a\\x00.csv': embedded null byte
    5 |   data hw = "a\x00.csv"
      |             ^^^^^^^^
""",
    ),
    Case(
        "regression-tab-indent-caret",
        edit(("  param n: int in 1..3", "\tparam n: int in 3..1")),
        """\
spec.hada:4:18: error: empty domain 3..1 for 'n': the low end is above the high end
    4 |         param n: int in 3..1
      |                         ^
""",
    ),
    Case(
        "regression-form-feed-line",
        edit(
            ("hardware hw { cores = 4 }", "hardware hw { cores = 4 }\x0c"), append="solver cplex\n"
        ),
        """\
spec.hada:9:8: error: unknown solver 'cplex'; expected one of cbc, highs, gecode, chuffed
    9 | solver cplex
      |        ^^^^^
""",
    ),
    # ---- what `hadac bench` runs: run, instances, bench { ... } ----
    Case(
        "bench-run-format",
        edit((DATA, '  run = "vpp.anticipate"\n' + DATA)),
        """\
spec.hada:5:9: error: run must be "module:function"; got 'vpp.anticipate'
    5 |   run = "vpp.anticipate"
      |         ^^^^^^^^^^^^^^^^
""",
    ),
    Case(
        "bench-second-run",
        edit((DATA, '  run = "m:f"\n  run = "m:g"\n' + DATA)),
        """\
spec.hada:6:9: error: a second run in algorithm 'alg' (first at line 5)
    6 |   run = "m:g"
      |         ^^^^^
""",
    ),
    Case(
        "bench-instances-without-run",
        edit((DATA, "  instances = 0..2\n" + DATA)),
        """\
spec.hada:5:3: error: instances without run = "module:function" in algorithm 'alg'
    5 |   instances = 0..2
      |   ^^^^^^^^^
""",
    ),
    Case(
        "bench-unknown-design",
        edit((DATA, '  run = "m:f"\n  bench { design = sobol; runs = 4 }\n' + DATA)),
        """\
spec.hada:6:20: error: unknown design 'sobol'; expected grid, random or lhs
    6 |   bench { design = sobol; runs = 4 }
      |                    ^^^^^
""",
    ),
    Case(
        "bench-runs-below-one",
        edit((DATA, '  run = "m:f"\n  bench { design = random; runs = 0 }\n' + DATA)),
        """\
spec.hada:6:35: error: runs must be an integer of at least 1; got 0
    6 |   bench { design = random; runs = 0 }
      |                                   ^
""",
    ),
    Case(
        "bench-repeats-not-integer-newlines",
        edit((DATA, '  run = "m:f"\n  bench {\n    repeats = 2.5\n  }\n' + DATA)),
        """\
spec.hada:7:15: error: repeats must be an integer of at least 1; got 2.5
    7 |     repeats = 2.5
      |               ^^^
""",
    ),
    Case(
        "bench-seed-negative",
        edit((DATA, '  run = "m:f"\n  bench { seed = -1 }\n' + DATA)),
        """\
spec.hada:6:18: error: seed must be a non-negative integer; got -1
    6 |   bench { seed = -1 }
      |                  ^^
""",
    ),
    Case(
        "bench-unknown-setting",
        edit((DATA, '  run = "m:f"\n  bench { design = grid; rusn = 3 }\n' + DATA)),
        """\
spec.hada:6:26: error: unknown bench setting 'rusn'; expected design, runs, repeats or seed
    6 |   bench { design = grid; rusn = 3 }
      |                          ^^^^
""",
    ),
    Case(
        "bench-duplicate-setting",
        edit((DATA, '  run = "m:f"\n  bench { seed = 1; seed = 2 }\n' + DATA)),
        """\
spec.hada:6:21: error: duplicate bench setting 'seed' (first at line 6)
    6 |   bench { seed = 1; seed = 2 }
      |                     ^^^^
""",
    ),
    Case(
        "bench-runs-with-grid",
        edit((DATA, '  run = "m:f"\n  bench { design = grid; runs = 10 }\n' + DATA)),
        """\
spec.hada:6:26: error: runs is for design = random or lhs; grid runs every combination
    6 |   bench { design = grid; runs = 10 }
      |                          ^^^^
""",
    ),
    Case(
        "bench-lhs-without-runs",
        edit((DATA, '  run = "m:f"\n  bench { design = lhs }\n' + DATA)),
        """\
spec.hada:6:20: error: design = lhs needs runs = N, the number of points to draw
    6 |   bench { design = lhs }
      |                    ^^^
""",
    ),
    Case(
        "bench-grid-over-a-float-range",
        edit(("param n: int in 1..3", "param n: float in 1..3"), (DATA, '  run = "m:f"\n' + DATA)),
        """\
spec.hada:4:9: error: design = grid cannot enumerate the float range of 'n'; use random or lhs
    4 |   param n: float in 1..3
      |         ^
""",
    ),
    Case(
        "bench-instances-negative",
        edit((DATA, '  run = "m:f"\n  instances = {0, -2}\n' + DATA)),
        """\
spec.hada:6:3: error: instances are non-negative integers; got -2
    6 |   instances = {0, -2}
      |   ^^^^^^^^^
""",
    ),
    Case(
        "bench-instances-empty",
        edit((DATA, '  run = "m:f"\n  instances = 5..2\n' + DATA)),
        """\
spec.hada:6:15: error: empty instances 5..2: the low end is above the high end
    6 |   instances = 5..2
      |               ^
""",
    ),
    Case(
        "bench-setting-without-value",
        edit((DATA, '  run = "m:f"\n  bench { design = ; runs = 3 }\n' + DATA)),
        """\
spec.hada:6:20: error: unexpected ';'; expected '-', a name or a number
    6 |   bench { design = ; runs = 3 }
      |                    ^
""",
    ),
    Case(
        "bench-valid-setup-checks",
        edit(
            (
                DATA,
                '  run = "hadac.workloads.vpp:anticipate"\n  instances = 0..29\n'
                "  bench { design = lhs; runs = 20; repeats = 3; seed = 7 }\n" + DATA,
            )
        ),
        "",
        code=0,
    ),
    # ---- instance inputs ----
    Case(
        "input-valid",
        edit(
            (
                "  param n: int in 1..3",
                "  param n: int in 1..3\n  input d: float in 0..10 default 4",
            )
        ),
        "",
        files={"a.csv": INPUT_CSV},
        code=0,
    ),
    Case(
        "input-column-missing",
        edit(("  param n: int in 1..3", "  param n: int in 1..3\n  input d: float in 0..10")),
        """\
spec.hada:6:13: error: a.csv has no column "d" (it has: n, t)
    6 |   data hw = "a.csv"
      |             ^^^^^^^
""",
    ),
    Case(
        "input-set-of-values",
        edit(("  param n: int in 1..3", "  param n: int in 1..3\n  input d: float in {1, 2}")),
        """\
spec.hada:5:22: error: input 'd' takes a range A..B, not a set of values: its value is given\
 when solving, and the range says where the data hold it
    5 |   input d: float in {1, 2}
      |                      ^
""",
        files={"a.csv": INPUT_CSV},
    ),
    Case(
        "input-default-outside-range",
        edit(
            (
                "  param n: int in 1..3",
                "  param n: int in 1..3\n  input d: float in 0..10 default 12",
            )
        ),
        """\
spec.hada:5:35: error: default 12 of input 'd' is outside its range 0..10
    5 |   input d: float in 0..10 default 12
      |                                   ^
""",
        files={"a.csv": INPUT_CSV},
    ),
    Case(
        "input-int-default-not-integer",
        edit(
            (
                "  param n: int in 1..3",
                "  param n: int in 1..3\n  input d: int in 0..10 default 2.5",
            )
        ),
        """\
spec.hada:5:33: error: int input 'd' has the non-integer default 2.5
    5 |   input d: int in 0..10 default 2.5
      |                                 ^
""",
        files={"a.csv": INPUT_CSV},
    ),
    Case(
        "input-int-bounds-not-integer",
        edit(("  param n: int in 1..3", "  param n: int in 1..3\n  input d: int in 0.5..10")),
        """\
spec.hada:5:19: error: int input 'd' has non-integer bounds 0.5..10; write integers or declare\
 it float
    5 |   input d: int in 0.5..10
      |                   ^
""",
        files={"a.csv": INPUT_CSV},
    ),
    Case(
        "input-empty-range",
        edit(("  param n: int in 1..3", "  param n: int in 1..3\n  input d: float in 10..0")),
        """\
spec.hada:5:21: error: empty range 10..0 for input 'd': the low end is above the high end
    5 |   input d: float in 10..0
      |                     ^
""",
        files={"a.csv": INPUT_CSV},
    ),
    Case(
        "input-named-like-a-param",
        edit(("  param n: int in 1..3", "  param n: int in 1..3\n  input n: float in 0..10")),
        """\
spec.hada:5:9: error: input 'n' has the name of a param of 'alg' (line 4): a column is either\
 chosen or given
    5 |   input n: float in 0..10
      |         ^
""",
    ),
    Case(
        "input-declared-twice",
        edit(
            (
                "  param n: int in 1..3",
                "  param n: int in 1..3\n  input d: float in 0..10\n  input d: float in 0..10",
            )
        ),
        """\
spec.hada:6:9: error: duplicate input 'd' in algorithm 'alg' (first declared at line 5)
    6 |   input d: float in 0..10
      |         ^
""",
        files={"a.csv": INPUT_CSV},
    ),
    Case(
        "input-declared-differently-by-two-algorithms",
        edit(
            ("  param n: int in 1..3", "  param n: int in 1..3\n  input d: float in 0..10"),
            append="algorithm other {\n  param n: int in 1..3\n  input d: float in 0..20\n"
            '  data hw = "a.csv"\n}\n',
        ),
        """\
spec.hada:12:9: error: input 'd' is declared differently in algorithm 'alg' (line 5): a solve\
 gives it one value, so declare it alike
   12 |   input d: float in 0..20
      |         ^
""",
        files={"a.csv": INPUT_CSV},
    ),
    Case(
        "input-default-without-value",
        edit(
            ("  param n: int in 1..3", "  param n: int in 1..3\n  input d: float in 0..10 default")
        ),
        """\
spec.hada:6:3: error: unexpected 'data'; expected '-' or a number
    6 |   data hw = "a.csv"
      |   ^^^^
""",
        files={"a.csv": INPUT_CSV},
    ),
    Case(
        "input-data-outside-range",
        edit(("  param n: int in 1..3", "  param n: int in 1..3\n  input d: float in 0..5")),
        """\
<DIR>/a.csv:8: column "d": warning: value 6 is outside the declared range of 'd' (4 rows\
 outside in this file)
""",
        files={"a.csv": INPUT_CSV},
        code=0,
    ),
]


def write(tmp_path, spec: str, files: dict[str, str]):
    (tmp_path / "a.csv").write_text(GOOD_CSV)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    path = tmp_path / "spec.hada"
    path.write_text(spec, encoding="utf-8")
    return path


def run_check(tmp_path, monkeypatch, *args: str):
    """`hadac check spec.hada ...` from inside tmp_path, so the spec path shows relative."""
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(main, ["check", "spec.hada", *args])


def test_at_least_one_case_per_kind():
    assert len(CASES) >= 20
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_error(tmp_path, monkeypatch, case: Case):
    write(tmp_path, case.spec, case.files)
    result = run_check(tmp_path, monkeypatch)
    expect = case.expect.replace("<DIR>", str(tmp_path.resolve()))
    assert result.stderr == expect
    assert "Traceback" not in result.output and "internal error" not in result.stderr
    assert result.exit_code == case.code, result.output
    if case.code == 0:
        assert result.stdout.startswith("spec.hada: ok: ")
    else:
        assert result.stdout == ""


def test_several_errors_in_one_run(tmp_path, monkeypatch):
    """One pass reports every error, in source order within each kind of check."""
    spec = edit(
        ("hardware hw { cores = 4 }", "hardware hw { cores = 4 }\nhardware hw { cores = 2 }"),
        ("1..3", "3..1"),
        ("tree(max_depth = 3)", "tree(max_depth = 0)"),
        append="constraint time <= 3 kgg\nconstraint time < 2\nsolver cplex\n",
    )
    write(tmp_path, spec, {})
    result = run_check(tmp_path, monkeypatch)
    heads = [line for line in result.stderr.splitlines() if line.startswith("spec.hada:")]
    assert heads == [
        "spec.hada:3:10: error: duplicate hardware 'hw' (first declared at line 2)",
        "spec.hada:5:19: error: empty domain 3..1 for 'n': the low end is above the high end",
        "spec.hada:8:31: error: tree(max_depth = ...): 0 is out of range:"
        " must be at least 1 and at most 64",
        "spec.hada:10:20: error: unknown unit 'kgg'",
        "spec.hada:11:17: error: '<' is not supported on predicted values; use <= or >=",
        "spec.hada:12:8: error: unknown solver 'cplex';"
        " expected one of cbc, highs, gecode, chuffed",
    ]
    assert result.stderr.count("\n      | ") == len(heads)  # a caret under each
    assert result.exit_code == 1


def test_check_json(tmp_path, monkeypatch):
    spec = edit(("1..3", "3..1"), append="constraint time <= 3 kg\n")
    write(tmp_path, spec, {})
    result = run_check(tmp_path, monkeypatch, "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload == {
        "format_version": 1,
        "ok": False,
        "diagnostics": [
            {
                "severity": "error",
                "message": "empty domain 3..1 for 'n': the low end is above the high end",
                "file": "spec.hada",
                "line": 4,
                "column": 19,
            },
            {
                "severity": "error",
                "message": "incompatible units for '<=': s ([time]) and kg ([mass])",
                "file": "spec.hada",
                "line": 9,
                "column": 17,
            },
        ],
    }


def test_check_json_data_error_and_warning(tmp_path, monkeypatch):
    write(tmp_path, edit(("1..3", "1..2")), {})
    result = run_check(tmp_path, monkeypatch, "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["format_version"] == 1 and payload["ok"] is True
    assert payload["diagnostics"] == [
        {
            "severity": "warning",
            "message": "value 3 is outside the declared domain of 'n'"
            " (4 rows outside in this file)",
            "file": str(tmp_path.resolve() / "a.csv"),
            "row": 4,
            "data_column": "n",
        }
    ]
    write(tmp_path, edit(('"a.csv"', '"b.csv"')), {"b.csv": "n,t\n1,x\n"})
    result = run_check(tmp_path, monkeypatch, "--json")
    assert result.exit_code == 1
    (diagnostic,) = json.loads(result.stdout)["diagnostics"]
    assert diagnostic["row"] == 2 and diagnostic["data_column"] == "t"


@pytest.mark.parametrize("case_id", ["syntax-unterminated-string", "data-not-a-number"])
def test_real_process(tmp_path, case_id):
    """The same through `python -m hadac`: exit code, stderr, and no traceback."""
    case = next(c for c in CASES if c.id == case_id)
    write(tmp_path, case.spec, case.files)
    result = subprocess.run(
        [sys.executable, "-m", "hadac", "check", "spec.hada"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr == case.expect.replace("<DIR>", str(tmp_path.resolve()))
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_spec_file(tmp_path, monkeypatch):
    result = run_check(tmp_path, monkeypatch)
    assert result.exit_code == 1
    assert result.stderr == "spec.hada: error: cannot read spec: No such file or directory\n"
