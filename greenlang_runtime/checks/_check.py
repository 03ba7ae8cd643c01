"""One dependency check: what it runs, its bounds, and its damped state."""

from __future__ import annotations

import enum
import importlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from greenlang_runtime import metric_names as names
from greenlang_runtime._redact import error_line, redact_text, url_secrets
from greenlang_runtime.exceptions import CheckError, DependencyError

__all__ = ["MIN_INTERVAL", "MIN_TIMEOUT", "Check", "CheckState", "Status", "server_check"]

Probe = Callable[[], Awaitable[None]]

_MAX_ERROR_CHARS = 200
# Below these a check would keep a core busy (interval=1e-9 runs back to back).
MIN_TIMEOUT = 0.001
MIN_INTERVAL = 0.01


class Status(enum.Enum):
    """What a probe body says of a check."""

    PENDING = "pending"  # no result yet
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class Check:
    """A dependency the agent needs, checked in the background.

    Args:
        name: the ``checks`` key in probe bodies and the ``dependency`` label.
        probe: answers when the dependency is up, raises when it is not.
        critical: whether readiness needs it (a non-critical one down only
            makes the agent ``degraded``).
        timeout: seconds one probe may take before it counts as a failure.
        interval: seconds from the start of one probe to the start of the next.
        close: releases what ``probe`` holds open (a connection, a pool).
        secrets: strings (passwords) to mask in every error message.
    """

    name: str
    probe: Probe
    critical: bool = True
    timeout: float = 2.0
    interval: float = 5.0
    close: Callable[[], Awaitable[None]] | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        validate(self.name, self.critical, self.timeout, self.interval)


def validate(name: object, critical: object, timeout: object, interval: object) -> None:
    """Refuse what a check cannot run with, naming the argument and the value.

    Raises:
        CheckError: a name that is not a non-empty string without control
            characters, of at most 128 characters and without what looks
            like a secret (it is a label value and shows in log lines), a
            ``critical`` that is not a bool, or a timeout or interval that is
            not a finite number of seconds of at least its minimum.
    """
    if not isinstance(name, str) or not name or not name.isprintable():
        raise CheckError(
            f"Dependency check name={name!r} is invalid: it must be a non-empty string "
            "without control characters."
        )
    if len(name) > names.MAX_LABEL_VALUE_CHARS or redact_text(name) != name:
        shown = redact_text(name, limit=40)
        raise CheckError(
            f"Dependency check name={shown!r} is invalid: it must be at most "
            f"{names.MAX_LABEL_VALUE_CHARS} characters and hold nothing that looks like a "
            "secret (a password, token, key or URL with a password)."
        )
    if not isinstance(critical, bool):
        raise CheckError(
            f"Dependency check {name!r}: critical={critical!r} is invalid: "
            "it must be True or False."
        )
    for what, value, least in (
        ("timeout", timeout, MIN_TIMEOUT),
        ("interval", interval, MIN_INTERVAL),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < least
        ):
            raise CheckError(
                f"Dependency check {name!r}: {what}={value!r} is invalid: "
                f"it must be a finite number of seconds of at least {least:g}."
            )


class CheckState:
    """The damped state of one check, and the probe-body entry it makes.

    A check leaves ``pending`` on its first result. After that it turns
    ``down`` only after ``fall`` failures in a row, and ``up`` again only
    after ``rise`` successes in a row, so one lost packet does not pull a
    replica out of its Service, nor one lucky answer put it back.

    Args:
        check: what is checked.
        fall: consecutive failures that turn an ``up`` check ``down``.
        rise: consecutive successes that turn a ``down`` check ``up``.
    """

    __slots__ = ("check", "error", "failures", "fall", "latency_ms", "rise", "status", "successes")

    def __init__(self, check: Check, fall: int, rise: int) -> None:
        self.check = check
        self.fall = fall
        self.rise = rise
        self.status = Status.PENDING
        self.latency_ms: float | None = None
        self.error: str | None = None
        self.failures = 0
        self.successes = 0

    def succeeded(self, seconds: float) -> bool:
        """Record a success that took ``seconds``; return whether the status changed."""
        self.latency_ms = round(seconds * 1000, 3)
        self.failures = 0
        self.successes += 1
        if self.status is Status.UP:
            return False
        if self.status is Status.DOWN and self.successes < self.rise:
            return False
        self.status, self.error = Status.UP, None
        return True

    def failed(self, seconds: float, error: str) -> bool:
        """Record a failure; return whether the status changed."""
        self.latency_ms = round(seconds * 1000, 3)
        self.successes = 0
        self.failures += 1
        if self.status is Status.DOWN:
            self.error = error
            return False
        if self.status is Status.UP and self.failures < self.fall:
            return False
        self.status, self.error = Status.DOWN, error
        return True

    def view(self) -> dict[str, Any]:
        """The entry of this check in a probe body."""
        entry: dict[str, Any] = {"status": self.status.value}
        if self.latency_ms is not None:
            entry["latency_ms"] = self.latency_ms
        if self.error is not None:
            entry["error"] = self.error
        if not self.check.critical:
            entry["critical"] = False
        return entry


def describe_failure(
    error: BaseException | None, timeout: float, secrets: tuple[str, ...] = ()
) -> str:
    """A short, one-line reason for a failed probe: masked first, then cut to length."""
    if error is None or isinstance(error, TimeoutError):
        return f"no answer within {timeout:g} s"
    return error_line(error, _MAX_ERROR_CHARS, secrets)


class _ServerProbe(Protocol):
    """A probe that keeps its connections open between checks."""

    async def __call__(self) -> None: ...

    async def close(self) -> None: ...


def server_check(
    name: str,
    url: str,
    extra: tuple[str, str],
    probe: Callable[[], _ServerProbe],
    *,
    critical: bool,
    timeout: float,
    interval: float,
) -> Check:
    """A check of the server at ``url``, its connections closed at shutdown, its password masked.

    Args:
        extra: the client module the probe needs and the extra that installs
            it; a missing one fails here, at start, not at the first probe.
        probe: makes the probe (called once the module is known to import).
    """
    module, extra_name = extra
    try:
        importlib.import_module(module)
    except ImportError:
        raise DependencyError(name, extra_name) from None
    made = probe()
    return Check(
        name,
        made,
        critical=critical,
        timeout=timeout,
        interval=interval,
        close=made.close,
        secrets=url_secrets(url),
    )
