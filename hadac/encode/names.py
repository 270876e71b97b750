"""MiniZinc identifiers for names from a spec, and the one escape for text in a model.

Every identifier hadac derives from a user's name is `KIND_part[_part]`: a fixed kind word
(no underscore) per namespace, then the user's names, each escaped so that the separator
cannot occur inside it. A part doubles its underscores, and one that starts with `_` is
prefixed with `0` (a user name never starts with a digit), so inside an escaped part every
run of underscores is even and no part starts with one: a single `_` between parts is
unambiguous. Different kinds, or different names, therefore give different identifiers,
and since every derived identifier has an `_` after its kind word it is never a MiniZinc
keyword, and never one of the model's own fixed names, none of which starts with a kind.
Plain names stay as they are: `PARAM_anticipate_nScenarios`, `rank_time`.
"""

from __future__ import annotations

import re

# Kind words, one per namespace of derived identifiers.
HARDWARE = "hw"  # a member of the HARDWARE enum
ALGORITHM = "alg"  # a member of the ALGORITHM enum
PARAM = "param"  # a param's decision variable
PARAM_ARRAY = "PARAM"  # enumerated model: a param's value per configuration
POINT = "point"  # MIP model: the index of an algorithm's param combination
POINT_ARRAY = "POINT"  # MIP model: a param's value per combination
TARGET = "target"  # MIP model: a target's variable
VALUE = "VALUE"  # enumerated model: a quantity's value per configuration
RANK = "RANK"  # enumerated model: a quantity's rank per configuration
RANK_VAR = "rank"  # enumerated model: the chosen configuration's rank of a quantity
QUANTITY = "quantity"  # MIP model: the value of a let or an expression
INPUT = "input"  # MIP model: an input's value, a parameter each solve's data sets
DISTINCT = "DISTINCT"  # enumerated model with inputs: a quantity's top rank, per solve
UPPER = "MAX"  # query data: a quantity's upper limit, per pair
USE_UPPER = "useMAX"  # query data: whether that limit applies
LOWER = "MIN"
USE_LOWER = "useMIN"
UPPER_MARGIN = "marginMAX"  # MIP query data: each pair's margin under the upper limit
LOWER_MARGIN = "marginMIN"
SPLIT = "split"  # MIP model: an algorithm's shared split variables
SPLIT_PARAM = "SPLITPARAM"  # MIP model: the param each split variable cuts
SPLIT_LEFT = "SPLITLEFT"  # MIP model: the largest value on the left of each cut
SPLIT_RIGHT = "SPLITRIGHT"  # MIP model: the smallest value on the right of each cut
ONEHOT = "onehot"  # MIP model: a str param's 0/1 per name
POSITION = "position"  # CP model: the position of a param's value in its domain
LABELS = "NAMES"  # enumerated model: the enum of a str param's names
LABEL = "name"  # enumerated model: a member of that enum, a name that is an identifier part
LABEL_AT = "nameat"  # enumerated model: a member for any other name, by its position
KINDS = (
    HARDWARE,
    ALGORITHM,
    PARAM,
    PARAM_ARRAY,
    POINT,
    POINT_ARRAY,
    TARGET,
    VALUE,
    RANK,
    RANK_VAR,
    QUANTITY,
    INPUT,
    DISTINCT,
    UPPER,
    USE_UPPER,
    LOWER,
    USE_LOWER,
    UPPER_MARGIN,
    LOWER_MARGIN,
    SPLIT,
    SPLIT_PARAM,
    SPLIT_LEFT,
    SPLIT_RIGHT,
    ONEHOT,
    POSITION,
    LABELS,
    LABEL,
    LABEL_AT,
)

# Quantities hadac makes (an objective or a constraint that is not a single target) have
# names that start with this mark, which no user name can, and keep it apart in their
# identifiers by a leading `_` in place of an escaped part.
DERIVED = "@"

IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def escape(name: str) -> str:
    """One part of an identifier: underscores doubled, a leading one after a `0`."""
    doubled = name.replace("_", "__")
    return "0" + doubled if name.startswith("_") else doubled


def identifier(kind: str, *parts: str) -> str:
    """`kind` and the escaped parts, joined by single underscores."""
    return "_".join([kind, *map(escape, parts)])


def hardware(name: str) -> str:
    return identifier(HARDWARE, name)


def algorithm(name: str) -> str:
    return identifier(ALGORITHM, name)


def param_var(algorithm_name: str, param: str) -> str:
    return identifier(PARAM, algorithm_name, param)


def param_array(algorithm_name: str, param: str) -> str:
    return identifier(PARAM_ARRAY, algorithm_name, param)


def point_var(algorithm_name: str) -> str:
    return identifier(POINT, algorithm_name)


def point_array(algorithm_name: str, param: str) -> str:
    return identifier(POINT_ARRAY, algorithm_name, param)


def input_var(name: str) -> str:
    return identifier(INPUT, name)


def section(index: int) -> str:
    """The prefix of the MIP model's names of its `index`-th surrogate (from 1, in the
    manifest's order)."""
    return f"s{index}"


def split_var(algorithm_name: str) -> str:
    return identifier(SPLIT, algorithm_name)


def split_param(algorithm_name: str) -> str:
    return identifier(SPLIT_PARAM, algorithm_name)


def split_left(algorithm_name: str) -> str:
    return identifier(SPLIT_LEFT, algorithm_name)


def split_right(algorithm_name: str) -> str:
    return identifier(SPLIT_RIGHT, algorithm_name)


def onehot(algorithm_name: str, param: str) -> str:
    return identifier(ONEHOT, algorithm_name, param)


def position_var(algorithm_name: str, param: str) -> str:
    return identifier(POSITION, algorithm_name, param)


def labels(algorithm_name: str, param: str) -> str:
    return identifier(LABELS, algorithm_name, param)


def label(algorithm_name: str, param: str, names: tuple[str, ...], position: int) -> str:
    """The enum member of a str param's `position`-th name: the name itself as the last
    part when it is made of letters, digits and underscores, else its position."""
    name = names[position]
    if re.fullmatch(r"[A-Za-z0-9_]+", name):
        return identifier(LABEL, algorithm_name, param, name)
    return identifier(LABEL_AT, algorithm_name, param, str(position + 1))


def target_var(name: str) -> str:
    return identifier(TARGET, name)


def derived(name: str) -> str:
    """The name of a quantity hadac makes, e.g. `derived("objective")`: never a user's."""
    return DERIVED + name


def _quantity(kind: str, name: str) -> str:
    if name.startswith(DERIVED):
        return f"{kind}__{name[len(DERIVED) :]}"
    return identifier(kind, name)


def value_array(quantity: str) -> str:
    """The enumerated model's data array of a quantity's values (a target's or derived)."""
    return _quantity(VALUE, quantity)


def rank_array(quantity: str) -> str:
    return _quantity(RANK, quantity)


def distinct_count(quantity: str) -> str:
    return _quantity(DISTINCT, quantity)


def rank_var(quantity: str) -> str:
    return _quantity(RANK_VAR, quantity)


def quantity_var(quantity: str) -> str:
    return _quantity(QUANTITY, quantity)


def upper(quantity: str) -> str:
    return _quantity(UPPER, quantity)


def use_upper(quantity: str) -> str:
    return _quantity(USE_UPPER, quantity)


def lower(quantity: str) -> str:
    return _quantity(LOWER, quantity)


def use_lower(quantity: str) -> str:
    return _quantity(USE_LOWER, quantity)


def upper_margin(quantity: str) -> str:
    return _quantity(UPPER_MARGIN, quantity)


def lower_margin(quantity: str) -> str:
    return _quantity(LOWER_MARGIN, quantity)


def text(value: object) -> str:
    """Any value as it may appear in a model; the models' templates pass every value here.

    Spec text (names, file names, expressions) reaches a model only in `%` comments, which
    nothing but a line break ends. So a line break or any other control character is
    written as `<U+XXXX>`, and so are `/*` and `*/`, in case text ever lands outside a line
    comment; identifiers, numbers and ordinary text come out as they are.
    """
    shown = "".join(c if c.isprintable() else f"<U+{ord(c):04X}>" for c in str(value))
    return shown.replace("*/", "*<U+002F>").replace("/*", "<U+002F>*")
