"""Typed payloads: pydantic models in a capability's annotations, used only when present.

pydantic is not a dependency. A class can only be a pydantic model once
pydantic has been imported (by the author's module that defines it), so
annotations are looked at only when ``pydantic`` is already in
``sys.modules``, and pydantic is imported here only then; an untyped agent
never loads it.
"""

from __future__ import annotations

import inspect
import json
import logging
import sys
import typing
from collections.abc import Callable
from typing import Any

from greenlang_runtime.exceptions import InvalidInput

__all__ = ["PayloadModels", "resolve", "to_json"]

logger = logging.getLogger("greenlang_runtime")


class PayloadModels:
    """The pydantic models a capability takes and returns, if any.

    Args:
        name: the capability's name, quoted in messages.
        input_model: the model the payload is validated into, or ``None``.
        output_model: the model the function is declared to return, or ``None``.
    """

    __slots__ = ("input_model", "name", "output_model", "schemas")

    def __init__(self, name: str, input_model: Any = None, output_model: Any = None) -> None:
        self.name = name
        self.input_model = input_model
        self.output_model = output_model
        self.schemas: dict[str, Any] | None = None

    def validate(self, payload: Any) -> Any:
        """``payload`` as an instance of the input model; raise :class:`InvalidInput` if it fails.

        The details list each failed field's location, message and error
        type, never the value that was sent (it may hold secrets).
        """
        from pydantic import ValidationError

        try:
            return self.input_model.model_validate(payload)
        except ValidationError as error:
            details = [
                {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
                for item in error.errors(
                    include_url=False, include_context=False, include_input=False
                )
            ]
            count = len(details)
            raise InvalidInput(
                f"The payload does not match {self.input_model.__name__}: "
                f"{count} field error{'s' if count != 1 else ''}.",
                details,
            ) from None

    def json_schemas(self) -> dict[str, Any]:
        """``input_schema`` and ``output_schema`` (JSON Schema) of the models there are."""
        if self.schemas is None:
            schemas = {}
            for key, model, mode in (
                ("input_schema", self.input_model, "validation"),
                ("output_schema", self.output_model, "serialization"),
            ):
                if model is None:
                    continue
                try:
                    schemas[key] = model.model_json_schema(mode=mode)
                except Exception as error:  # a field type JSON Schema cannot describe
                    logger.warning(
                        "capability %r: no %s for %s (%s: %s)",
                        self.name,
                        key,
                        model.__name__,
                        type(error).__name__,
                        error,
                    )
            self.schemas = schemas
        return self.schemas


def resolve(name: str, function: Callable[..., Any]) -> PayloadModels:
    """The models in ``function``'s annotations (first parameter and return).

    Annotations are resolved here, at first use, not when the capability is
    declared: a model may be defined after the function that names it.
    """
    if "pydantic" not in sys.modules:
        return PayloadModels(name)
    from pydantic import BaseModel

    try:
        hints = typing.get_type_hints(function)
        parameters = list(inspect.signature(function).parameters)
    except Exception as error:  # an annotation that names what cannot be found
        logger.warning(
            "capability %r: its annotations cannot be resolved (%s: %s); a pydantic model "
            "named there is not applied, and the payload is passed on as decoded JSON",
            name,
            type(error).__name__,
            error,
        )
        return PayloadModels(name)

    def model(hint: Any) -> Any:
        return hint if isinstance(hint, type) and issubclass(hint, BaseModel) else None

    first = hints.get(parameters[0]) if parameters else None
    return PayloadModels(name, model(first), model(hints.get("return")))


def _model_dump(value: Any) -> Any:
    """``json.dumps``'s fallback: a pydantic model as JSON data; anything else is refused."""
    if "pydantic" in sys.modules:
        from pydantic import BaseModel

        if isinstance(value, BaseModel):
            return value.model_dump(mode="json")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# Built once: json.dumps with options would build an encoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_model_dump)


def to_json(value: Any) -> bytes:
    """Compact JSON of a capability's result; pydantic models are dumped as JSON data.

    Raises ``TypeError``/``ValueError`` for what JSON cannot hold.
    """
    return _ENCODER.encode(value).encode()
