"""The exceptions the runtime raises; each carries the data it names."""

from __future__ import annotations

__all__ = [
    "CapabilityError",
    "ConfigError",
    "GreenlangRuntimeError",
    "TargetError",
]


class GreenlangRuntimeError(Exception):
    """Base class of every error the runtime raises on its own account."""


class ConfigError(GreenlangRuntimeError, ValueError):
    """A configuration value (environment variable or argument) is invalid.

    Args:
        name: the variable or argument, e.g. ``GL_HTTP_PORT``.
        value: the offending value as given.
        reason: what is wrong with it, as a sentence fragment.
    """

    def __init__(self, name: str, value: object, reason: str) -> None:
        self.name = name
        self.value = value
        self.reason = reason
        super().__init__(f"{name}={value!r} is invalid: {reason}.")


class CapabilityError(GreenlangRuntimeError):
    """A capability was declared wrongly (duplicate name, bad arguments)."""


class TargetError(GreenlangRuntimeError):
    """A ``MODULE:ATTR`` target cannot be loaded or is not servable.

    Args:
        target: the target string as given.
        reason: what went wrong.
    """

    def __init__(self, target: str, reason: str) -> None:
        self.target = target
        self.reason = reason
        super().__init__(f"Cannot serve {target!r}: {reason}.")
