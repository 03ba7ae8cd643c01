"""The author's price overrides file (``GL_LLM_PRICES_FILE``), read and checked at start.

Format (YAML or JSON), USD per million tokens::

    prices:
      - {provider: openai, model: my-model, input: 0.5, output: 1.5,
         cache_read: 0.05, cache_write: 0.6}

``cache_read`` and ``cache_write`` are optional (missing: the input price),
as is ``cache_write_1h`` (missing: ``cache_write``). Any fault stops the
start with one line naming the file, the entry and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from greenlang_runtime.exceptions import ConfigError
from greenlang_runtime.llm.pricing import Price, price_fault

__all__ = ["VARIABLE", "load_price_file"]

VARIABLE = "GL_LLM_PRICES_FILE"
_REQUIRED = ("input", "output")
_OPTIONAL = ("cache_read", "cache_write", "cache_write_1h")
_FIELDS = ("provider", "model", *_REQUIRED, *_OPTIONAL)


class _Fault(Exception):
    """What is wrong with the file, as the end of the one-line message."""


def load_price_file(path: str) -> dict[tuple[str, str], Price]:
    """The overrides in the file at ``path``; raise :class:`ConfigError` on any fault."""
    try:
        return _read(Path(path))
    except _Fault as fault:
        raise ConfigError(VARIABLE, path, str(fault)) from None


def _read(path: Path) -> dict[tuple[str, str], Price]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _Fault(f"the file cannot be read ({error.__class__.__name__}: {error})") from None
    document = _parse(text, path.suffix.lower() == ".json")
    if not isinstance(document, dict) or set(document) != {"prices"}:
        raise _Fault('the file must hold one mapping with the single key "prices"')
    entries = document["prices"]
    if not isinstance(entries, list):
        raise _Fault('"prices" must be a list of entries')
    prices: dict[tuple[str, str], Price] = {}
    for number, entry in enumerate(entries, start=1):
        key, price = _entry(number, entry)
        if key in prices:
            raise _Fault(f"entry {number} ({key[0]}/{key[1]}) repeats an earlier entry")
        prices[key] = price
    return prices


def _parse(text: str, is_json: bool) -> Any:
    if is_json:
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except ValueError as error:
            raise _Fault(f"it is not valid JSON ({error})") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise _Fault(f"it is not valid YAML{line}") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def _entry(number: int, entry: object) -> tuple[tuple[str, str], Price]:
    if not isinstance(entry, dict):
        raise _Fault(f"entry {number} must be a mapping of {', '.join(_FIELDS)}")
    provider, model = entry.get("provider"), entry.get("model")
    name = f"entry {number} ({provider}/{model})"
    unknown = sorted(str(field) for field in entry if field not in _FIELDS)
    if unknown:
        raise _Fault(f"{name}: field {unknown[0]!r} is not one of {', '.join(_FIELDS)}")
    rates = {field: entry[field] for field in (*_REQUIRED, *_OPTIONAL) if field in entry}
    fault = price_fault(provider, model, rates)
    if fault is not None:
        raise _Fault(f"{name}: field {fault[0]!r} {fault[1]}")
    missing = [field for field in _REQUIRED if field not in entry]
    if missing:
        raise _Fault(f"{name}: field {missing[0]!r} is missing")
    prices = {field: float(value) for field, value in rates.items()}
    return (str(provider), str(model).strip()), Price.of(**prices)
