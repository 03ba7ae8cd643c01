"""The checks of single agent-spec values: labels, quantities, numbers, choices.

Each check takes the field's dotted name and the value as TOML gave it and
either returns the typed value or raises :class:`SpecError` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from greenlang_runtime._labels import MAX_LABEL_LENGTH, dns_label_problem, label_value_problem
from greenlang_runtime.exceptions import SpecError

__all__ = [
    "choice",
    "dns_label",
    "flag",
    "label_value",
    "number",
    "quantity",
    "subset",
    "table",
    "text",
    "whole",
]

# A Kubernetes resource quantity, as its parser reads one: a signed decimal
# number in ASCII digits, then a binary or decimal suffix or an exponent.
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)
# Longer is no real amount (and thousands of digits would reach Python's
# limit on integer conversion); larger is beyond any node.
_MAX_QUANTITY_LENGTH = 32
_MAXIMUM = {"cpu": (Decimal(10**6), "1M"), "memory": (Decimal(2**60), "1Ei")}
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_EXAMPLES = {"cpu": "500m or 2", "memory": "512Mi or 2Gi"}
# Smallest sensible request: a millicore, a mebibyte.
_MINIMUM = {"cpu": Decimal("0.001"), "memory": Decimal(2**20)}


def text(field: str, value: object) -> str:
    """A string, any content."""
    if not isinstance(value, str):
        raise SpecError(field, value, "it must be a string")
    return value


def dns_label(field: str, value: object, max_length: int = MAX_LABEL_LENGTH) -> str:
    """A DNS-1123 label of at most ``max_length`` characters."""
    name = text(field, value)
    problem = dns_label_problem(name, max_length)
    if problem is not None:
        raise SpecError(field, value, problem)
    return name


def label_value(field: str, value: object, *, empty: bool = False) -> str:
    """A Kubernetes label value (1 to 63 characters, or empty when ``empty``)."""
    label = text(field, value)
    problem = label_value_problem(label, empty=empty)
    if problem is not None:
        raise SpecError(field, value, problem)
    return label


def choice(field: str, value: object, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    if value not in choices:
        raise SpecError(field, value, f"it must be one of {', '.join(choices)}")
    return str(value)


def subset(field: str, value: object, choices: Sequence[str]) -> tuple[str, ...]:
    """A list of distinct items of ``choices``, in the given order."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SpecError(field, value, f"it must be a list of: {', '.join(choices)}")
    for item in value:
        if item not in choices:
            raise SpecError(field, value, f"{item!r} is not one of {', '.join(choices)}")
    if len(set(value)) != len(value):
        raise SpecError(field, value, "it names the same item twice")
    return tuple(value)


def flag(field: str, value: object) -> bool:
    """A TOML boolean."""
    if not isinstance(value, bool):
        raise SpecError(field, value, "it must be true or false")
    return value


def whole(field: str, value: object, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(field, value, f"it must be a whole number from {low} to {high}")
    return value


def number(field: str, value: object, low: float, high: float, unit: str = "") -> float:
    """A number above ``low`` (exclusive) and at most ``high``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
        raise SpecError(
            field, value, f"it must be a number above {low:g} and at most {high:g}{unit}"
        )
    return float(value)


def quantity(field: str, value: object, resource: str) -> tuple[str, Decimal]:
    """A Kubernetes quantity for ``resource`` (``cpu`` or ``memory``) and its amount."""
    given = text(field, value)
    if len(given) > _MAX_QUANTITY_LENGTH:
        shown = f"{given[:_MAX_QUANTITY_LENGTH]}... ({len(given)} characters)"
        raise SpecError(
            field,
            shown,
            f"it must be a Kubernetes quantity of at most {_MAX_QUANTITY_LENGTH} characters, "
            f"such as {_EXAMPLES[resource]}",
        )
    match = _QUANTITY.fullmatch(given)
    if match is None:
        raise SpecError(
            field,
            value,
            f"it must be a Kubernetes quantity such as {_EXAMPLES[resource]}",
        )
    amount = Decimal(match["number"])
    suffix = match["suffix"] or ""
    largest, shown_largest = _MAXIMUM[resource]
    if suffix in _BINARY:
        amount *= _BINARY[suffix]
    elif suffix in _DECIMAL:
        amount *= _DECIMAL[suffix]
    else:
        # Clamped where any 32-character number is past either bound either way:
        # 1e400 or 1e-400 would be past a float too.
        amount = amount.scaleb(max(-80, min(80, int(suffix[1:]))))
    if amount < _MINIMUM[resource]:
        smallest = "1m" if resource == "cpu" else "1Mi"
        raise SpecError(field, value, f"it must be at least {smallest}")
    if amount > largest:
        raise SpecError(field, value, f"it must be at most {shown_largest}")
    return given, amount


def table(field: str, value: object, known: Sequence[str]) -> Mapping[str, object]:
    """A TOML table whose keys are all in ``known`` (a misspelt key is an error)."""
    if not isinstance(value, Mapping):
        raise SpecError(field, value, "it must be a table")
    for key in value:
        if key not in known:
            where = f"{field}.{key}" if field else key
            raise SpecError(
                where, value[key], f"it is not a key of this table (known: {', '.join(known)})"
            )
    return value
