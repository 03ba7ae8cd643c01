"""The exceptions the runtime raises; each carries the data it names."""

from __future__ import annotations

__all__ = [
    "CapabilityError",
    "CheckError",
    "ConfigError",
    "DependencyError",
    "GreenlangRuntimeError",
    "InvalidInput",
    "LLMBudgetExceeded",
    "NothingToServe",
    "SpecError",
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


class InvalidInput(GreenlangRuntimeError, ValueError):
    """The caller's input is wrong: raised by a capability, answered 422 with its message.

    Counted as ``status="client_error"``, not as an error of the agent.

    Args:
        message: what is wrong, in the caller's terms; sent to the caller.
        details: JSON-encodable specifics (e.g. one entry per bad field), sent
            as ``details``; ``None`` sends an empty list.
    """

    def __init__(self, message: str, details: object = None) -> None:
        self.message = message
        self.details = details
        super().__init__(message)


class LLMBudgetExceeded(GreenlangRuntimeError):
    """An LLM call was refused before it was sent: the period's budget has no room for it.

    Raised by an instrumented client when the call's reservation (an upper
    bound of its cost) does not fit in ``limit - committed - reserved``, or
    when the budget cannot be checked and ``GL_LLM_BUDGET_ON_ERROR=deny``.
    Not handled by a capability, it is answered 429 ``budget_exceeded`` with
    ``Retry-After`` and counted as ``status="client_error"``.

    Args:
        limit: the period's budget in USD.
        committed: the period's committed spend in USD, as Redis answered
            (``None`` when Redis could not be reached).
        reserved: USD held by calls still running (``None``: unknown).
        requested: the upper bound of this call's cost in USD.
        retry_after: seconds until a retry can succeed: to the end of the
            period, or 10 while the budget cannot be checked.
        reason: why, as a full sentence.
    """

    def __init__(
        self,
        *,
        limit: float,
        committed: float | None,
        reserved: float | None,
        requested: float,
        retry_after: float,
        reason: str,
    ) -> None:
        self.limit = limit
        self.committed = committed
        self.reserved = reserved
        self.requested = requested
        self.retry_after = retry_after
        self.reason = reason
        super().__init__(reason)


class CheckError(GreenlangRuntimeError):
    """A dependency check was declared wrongly (duplicate name, bad timeout or interval)."""


class DependencyError(GreenlangRuntimeError):
    """A dependency check cannot run: its client library (an extra) is not installed.

    Args:
        dependency: the check's name, e.g. ``postgres``.
        extra: the extra that brings the library in.
    """

    def __init__(self, dependency: str, extra: str) -> None:
        self.dependency = dependency
        self.extra = extra
        super().__init__(
            f"The {dependency!r} check needs the {extra} extra: "
            f'pip install "greenlang-runtime[{extra}]".'
        )


class SpecError(GreenlangRuntimeError, ValueError):
    """A value of the agent spec (``[tool.greenlang-runtime]``) is invalid.

    Args:
        field: the key, dotted within the table, e.g. ``resources.memory-limit``;
            empty when the file itself is at fault.
        value: the offending value as given.
        reason: what is wrong with it, as a sentence fragment.
        source: the file the spec came from.
    """

    def __init__(
        self, field: str, value: object, reason: str, source: str = "pyproject.toml"
    ) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        self.source = source
        if field:
            message = f"{source} [tool.greenlang-runtime] {field}={value!r} is invalid: {reason}."
        else:
            message = f"{source}: {reason}."
        super().__init__(message)


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


class NothingToServe(TargetError):
    """``run`` was given no ``MODULE:ATTR`` and the project names no app.

    Args:
        reason: what is missing and what to give instead.
    """

    def __init__(self, reason: str) -> None:
        self.target = ""
        self.reason = reason
        GreenlangRuntimeError.__init__(self, f"Nothing to serve: {reason}.")
