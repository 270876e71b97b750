"""Parse `.hada` text into the typed tree of `hadac.ast`.

The grammar lives in `grammar/hada.lark`; this module only turns Lark's parse tree into
dataclasses carrying source positions, and Lark's syntax errors into diagnostics.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from hadac import ast
from hadac.errors import Diagnostic, HadacError
from hadac.resources import resource_dir

# How terminals are named in "expected ..." messages.
_TERMINAL_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a "string"',
    "UNIT": "a unit",
    "TYPE": "int, float or str",
    "SENSE": "minimize or maximize",
    "COMPARATOR": "a comparison (<=, >=)",
    "MINUS": "'-'",
    "PLUS": "'+'",
    "TIMES": "'*'",
    "DIVIDE": "'/'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "EQUAL": "'='",
    "COMMA": "','",
    "COLON": "':'",
    "TILDE": "'~'",
    "SEMICOLON": "';'",
    "__ANON_0": "'..'",
}


# Operators nested deeper than this in one expression are refused before any pass that
# recurses over expressions (Lark's transformer, lowering, evaluation) can overflow.
MAX_DEPTH = 100
# Rules that parse on their own, for what a command line or a request says about a build.
FRAGMENTS = ("bound", "expr")
_OPERATORS = {"binary", "negate"}


@cache
def _lark() -> Lark:
    grammar = (resource_dir("grammar") / "hada.lark").read_text()
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        start=["start", *FRAGMENTS],
    )


def _pos(item: Token | object) -> ast.Pos:
    if isinstance(item, Token):
        return ast.Pos(item.line, item.column)
    meta = item.meta if hasattr(item, "meta") else item
    return ast.Pos(meta.line, meta.column)


def _unquote(token: Token) -> str:
    return str(token)[1:-1]


def _number(token: Token, negative: bool = False) -> float | int:
    text = str(token)
    value: float | int = float(text)  # inf when too large; the transformer reports that
    if text.isdigit() and math.isfinite(value):
        value = int(text.lstrip("0") or "0")  # finite, so at most 309 digits after the zeros
    return -value if negative else value


@v_args(meta=True)
class _ToAst(Transformer):
    """Builds `hadac.ast` nodes; each method is named after the grammar rule it handles."""

    def __init__(self, path: Path, source: str):
        super().__init__()
        self.path = path
        self.source = source
        self.errors: list[Diagnostic] = []

    def _finite(self, token: Token, value: float | int) -> float | int:
        if not math.isfinite(value):
            shown = str(token) if len(token) <= 20 else f"{str(token)[:20]}..."
            message = f"number {shown} is too large (the largest is about 1.8e308)"
            diagnostic = Diagnostic(
                message, self.path, _pos(token), len(token), "error", self.source
            )
            self.errors.append(diagnostic)
        return value

    def start(self, meta, items):
        spec = ast.Spec(self.path, self.source)
        for item in items:
            if isinstance(item, str):
                spec.name = item
            elif isinstance(item, ast.Hardware):
                spec.hardware.append(item)
            elif isinstance(item, ast.Algorithm):
                spec.algorithms.append(item)
            elif isinstance(item, ast.Target):
                spec.targets.append(item)
            elif isinstance(item, ast.Objective):
                spec.objectives.append(item)
            elif isinstance(item, ast.Constraint):
                spec.constraints.append(item)
            elif isinstance(item, ast.SolverChoice):
                spec.solvers.append(item)
            elif isinstance(item, ast.Let):
                spec.lets.append(item)
        return spec

    def spec_name(self, meta, items):
        return str(items[0])

    # ---- hardware ----
    def hardware(self, meta, items):
        name, *attributes = items
        return ast.Hardware(str(name), tuple(attributes), _pos(name))

    def attribute(self, meta, items):
        name, value = items
        return ast.Attribute(str(name), value, _pos(name))

    def quantity(self, meta, items):
        negative = items[0].type == "MINUS"
        number = items[1] if negative else items[0]
        unit = items[-1] if items[-1].type == "UNIT" else None
        value = self._finite(number, _number(number, negative))
        return ast.Quantity(
            float(value),
            str(unit).strip() if unit is not None else None,
            _pos(items[0]),
            isinstance(value, int),
        )

    def string(self, meta, items):
        return _unquote(items[0])

    def word(self, meta, items):
        return str(items[0])

    def string_set(self, meta, items):
        return tuple(_unquote(t) for t in items)

    # ---- algorithms ----
    def algorithm(self, meta, items):
        name, *body = items
        params = tuple(i for i in body if isinstance(i, ast.Param))
        data = tuple(i for i in body if isinstance(i, ast.DataBinding))
        bench = tuple(i for i in body if isinstance(i, ast.BenchItem))
        inputs = tuple(i for i in body if isinstance(i, ast.Input))
        return ast.Algorithm(str(name), params, data, _pos(name), bench, inputs)

    def param(self, meta, items):
        name, type_, domain = items
        return ast.Param(str(name), str(type_), domain, _pos(name))

    def input(self, meta, items):
        name, type_, domain, *default = items
        value, pos = default[0] if default else (None, None)
        return ast.Input(str(name), str(type_), domain, _pos(name), value, pos)

    def input_default(self, meta, items):
        return items[0]

    def number(self, meta, items):
        return self._finite(items[-1], _number(items[-1], len(items) == 2)), _pos(items[0])

    def range_domain(self, meta, items):
        (low, pos), (high, _) = items
        return ast.Range(low, high, pos)

    def set_domain(self, meta, items):
        return ast.ValueSet(tuple(v for v, _ in items), items[0][1])

    def label_domain(self, meta, items):
        return ast.LabelSet(
            tuple(_unquote(t) for t in items), _pos(items[0]), tuple(_pos(t) for t in items)
        )

    def empty_domain(self, meta, items):
        return ast.ValueSet((), ast.Pos(meta.line, meta.column))

    def data(self, meta, items):
        *hardware, path = items
        if not hardware:
            pos = ast.Pos(meta.line, meta.column)
            return ast.DataBinding(None, _unquote(path), pos, _pos(path))
        return ast.DataBinding(str(hardware[0]), _unquote(path), _pos(hardware[0]), _pos(path))

    def run(self, meta, items):
        return ast.RunFunction(_unquote(items[0]), _pos(items[0]))

    def instances(self, meta, items):
        return ast.Instances(items[0], ast.Pos(meta.line, meta.column))

    def bench(self, meta, items):
        return ast.BenchBlock(tuple(items), ast.Pos(meta.line, meta.column))

    def bench_setting(self, meta, items):
        name, value = items
        if isinstance(value, Token):
            return ast.BenchSetting(str(name), str(value), _pos(name), _pos(value), str(value))
        number, pos = value
        return ast.BenchSetting(str(name), number, _pos(name), pos, str(number))

    # ---- targets ----
    def target(self, meta, items):
        name, column, unit, surrogate = items
        unit_text, unit_pos = unit
        return ast.Target(
            str(name), _unquote(column), unit_text, surrogate, _pos(name), _pos(column), unit_pos
        )

    def unit(self, meta, items):
        return "".join(str(t) for t in items), _pos(items[0])

    def surrogate(self, meta, items):
        name, *args = items
        return ast.Surrogate(str(name), tuple(a for a in args if a is not None), _pos(name))

    def surrogate_arg(self, meta, items):
        name, value = items
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], ast.Pos):
            value = value[0]
        return ast.SurrogateArg(str(name), value, _pos(name))

    def number_list(self, meta, items):
        return tuple(value for value, _ in filter(None, items))

    # ---- objective, constraints, solver ----
    def objective(self, meta, items):
        sense, expr = items
        return ast.Objective(str(sense), expr, _pos(sense))

    def constraint(self, meta, items):
        left, op, right, *confidence = items
        level, level_pos = confidence[0] if confidence else (None, None)
        return ast.Constraint(
            left, str(op), right, ast.Pos(meta.line, meta.column), _pos(op), level, level_pos
        )

    def bound(self, meta, items):
        return self.constraint(meta, items)

    def confidence(self, meta, items):
        return float(self._finite(items[0], _number(items[0]))), _pos(items[0])

    def let(self, meta, items):
        name, expr = items
        return ast.Let(str(name), expr, ast.Pos(meta.line, meta.column), _pos(name))

    def solver(self, meta, items):
        return ast.SolverChoice(str(items[0]), _pos(items[0]))

    # ---- expressions ----
    def reference(self, meta, items):
        return ast.Ref(str(items[0]), _pos(items[0]))

    def negate(self, meta, items):
        return ast.Negate(items[1], _pos(items[0]))

    def binary(self, meta, items):
        left, op, right = items
        return ast.Binary(str(op), left, right, _pos(op))


def _expected(terminals: set[str]) -> str:
    names = sorted({_TERMINAL_NAMES.get(t, f"'{t.lower()}'") for t in terminals})
    if len(names) > 8:
        return ""
    return "; expected " + (
        names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    )


def _syntax_error(err: UnexpectedInput, path: Path, source: str) -> Diagnostic:
    if isinstance(err, UnexpectedCharacters):
        char = source[err.pos_in_stream] if err.pos_in_stream < len(source) else ""
        message = f"unexpected character {char!r}"
        if char == '"':
            message = "unterminated string"
        return Diagnostic(message, path, ast.Pos(err.line, err.column), 1, "error", source)
    if isinstance(err, UnexpectedEOF) or (
        isinstance(err, UnexpectedToken) and err.token.type == "$END"
    ):
        lines = [line.rstrip("\r") for line in source.split("\n")]  # as Lark counts lines
        while len(lines) > 1 and not lines[-1].strip():
            lines.pop()
        pos = ast.Pos(len(lines), len(lines[-1]) + 1)
        return Diagnostic(
            "unexpected end of file" + _expected(err.expected), path, pos, 1, "error", source
        )
    assert isinstance(err, UnexpectedToken)
    token = err.token
    text = str(token).strip()
    what = "unit" if token.type == "UNIT" else repr(text)
    message = f"unexpected {what}" + (f" {text!r}" if token.type == "UNIT" else "")
    message += _expected(err.accepts or err.expected)
    return Diagnostic(message, path, _pos(token), max(1, len(text)), "error", source)


def _too_deep(tree: Tree, path: Path, source: str) -> list[Diagnostic]:
    """A located error for each expression whose operators nest deeper than `MAX_DEPTH`,
    found by walking Lark's tree with an explicit stack (no recursion, whatever the depth)."""
    errors = []
    stack: list[tuple[Tree, int, Tree | None]] = [(tree, 0, None)]
    while stack:
        node, depth, root = stack.pop()
        if node.data in _OPERATORS:
            root, depth = root or node, depth + 1
            if depth > MAX_DEPTH:
                message = (
                    f"expression too deep: more than {MAX_DEPTH} nested operators;"
                    " split it into lets"
                )
                pos = _pos(root)
                errors.append(Diagnostic(message, path, pos, 1, "error", source))
                continue
        else:
            root, depth = None, 0
        stack.extend((c, depth, root) for c in reversed(node.children) if isinstance(c, Tree))
    return errors


def parse(source: str, path: Path | str = "<spec>") -> ast.Spec:
    """Parse spec text; raises `HadacError` with a located diagnostic on a syntax error."""
    return _parse(source, "start", Path(path))


def parse_fragment(text: str, rule: str, where: str) -> ast.Expr | ast.Constraint:
    """One `bound` (`time <= 10 s`) or `expr` given outside a spec, e.g. on the command line;
    errors are located in the text itself, as `--constraint:1:8`."""
    return _parse(text, rule, Path(where))


def _parse(source: str, rule: str, path: Path):
    try:
        tree = _lark().parse(source, start=rule)
    except UnexpectedInput as err:
        raise HadacError(_syntax_error(err, path, source)) from None
    too_deep = _too_deep(tree, path, source)
    if too_deep:
        raise HadacError(too_deep)
    transformer = _ToAst(path, source)
    node = transformer.transform(tree)
    if transformer.errors:
        raise HadacError(transformer.errors)
    return node


def parse_file(path: Path | str) -> ast.Spec:
    """Read and parse a spec file; an unreadable file is a clean error too."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise HadacError(Diagnostic(f"cannot read spec: {reason}", path)) from None
    return parse(source, path)
