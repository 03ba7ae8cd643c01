"""How each setting is read from text and checked: the rules behind ``Settings``.

Every converter takes the variable's name and its raw text; every check
takes the name, the typed value and the value as the user wrote it (quoted
in the error). The same check runs whether a value came from the
environment, from code or from a command-line option.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from greenlang_runtime._redact import redact_url, remember, url_secrets
from greenlang_runtime.exceptions import ConfigError

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "MAX_BUDGET_USD",
    "MAX_LEDGER_BUFFER",
    "MAX_SECONDS",
    "SecretUrl",
    "check_at_least_one",
    "check_bool",
    "check_budget_usd",
    "check_head_bytes",
    "check_host",
    "check_ledger_buffer",
    "check_log_format",
    "check_log_level",
    "check_optional_path",
    "check_port",
    "check_positive_seconds",
    "check_seconds",
    "check_table_name",
    "choice_checker",
    "to_bool",
    "to_int",
    "to_lower",
    "to_optional_text",
    "to_optional_usd",
    "to_seconds",
    "to_text",
    "to_url",
    "url_checker",
]

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# auto: json, or text when standard error is a terminal (a developer at a shell).
LOG_FORMATS = ("auto", "json", "text")

# Plain ASCII digits only: int() and float() would also take "18_300",
# full-width digits, "1e3" and "inf".
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)")


def to_int(name: str, raw: str) -> int:
    text = raw.strip()
    try:
        if _INTEGER.fullmatch(text):
            return int(text)
    except ValueError:  # more digits than Python converts
        pass
    raise ConfigError(name, raw, "it must be a whole number")


def to_workers(name: str, raw: str) -> int | str:
    """A number of worker processes, or ``auto`` (one per CPU the container may use)."""
    text = raw.strip()
    if text.lower() == "auto":
        return "auto"
    try:
        return to_int(name, raw)
    except ConfigError:
        raise ConfigError(name, raw, "it must be a whole number of at least 1, or auto") from None


def check_workers(name: str, value: object, shown: object) -> None:
    if value == "auto":
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(name, shown, "it must be a whole number of at least 1, or auto")


def to_seconds(name: str, raw: str) -> float:
    text = raw.strip()
    if _DECIMAL.fullmatch(text):
        return float(text)
    try:
        float(text)
    except ValueError:
        raise ConfigError(name, raw, "it must be a number of seconds") from None
    # nan, inf, 1e3, 1_0 and non-ASCII digits: numbers to Python, not here.
    raise ConfigError(name, raw, "it must be a finite number of seconds in plain digits, e.g. 2.5")


def to_text(name: str, raw: str) -> str:
    return raw.strip()


def to_optional_text(name: str, raw: str) -> str | None:
    return raw.strip() or None


# Budgets are kept in whole nano-USD in Redis, exact below 2**53.
MAX_BUDGET_USD = 1_000_000


def to_optional_usd(name: str, raw: str) -> float | None:
    text = raw.strip()
    if not text:
        return None
    if _DECIMAL.fullmatch(text):
        return float(text)
    raise ConfigError(name, raw, "it must be an amount of USD in plain digits, e.g. 25 or 12.50")


def check_budget_usd(name: str, value: object, shown: object) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= MAX_BUDGET_USD
    ):
        raise ConfigError(
            name, shown, f"it must be an amount of USD above 0 and at most {MAX_BUDGET_USD}"
        )


def choice_checker(choices: tuple[str, ...]) -> Callable[[str, object, object], None]:
    def check(name: str, value: object, shown: object) -> None:
        if value not in choices:
            raise ConfigError(name, shown, f"it must be one of {', '.join(choices)}")

    return check


def check_optional_path(name: str, value: object, shown: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(name, shown, "it must be the path of a file")


def to_lower(name: str, raw: str) -> str:
    return raw.strip().lower()


def to_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, raw, "it must be true or false")


# Checks of typed values, shared by the environment and by Settings(...) in
# code: ``shown`` is the value as the user wrote it, quoted in the error.


def check_port(name: str, value: object, shown: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigError(name, shown, "a port must be a whole number between 1 and 65535")


def check_at_least_one(name: str, value: object, shown: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(name, shown, "it must be a whole number of at least 1")


# Ledger rows take about 0.5 KB each while they wait: 10 million is some 5 GB.
MAX_LEDGER_BUFFER = 10_000_000


def check_ledger_buffer(name: str, value: object, shown: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LEDGER_BUFFER:
        raise ConfigError(
            name,
            shown,
            f"it must be a whole number of rows from 1 to {MAX_LEDGER_BUFFER} "
            "(each takes about 0.5 KB of memory while it waits)",
        )


def check_head_bytes(name: str, value: object, shown: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < _MIN_HEAD_BYTES:
        raise ConfigError(
            name,
            shown,
            f"it must be a whole number of at least {_MIN_HEAD_BYTES} "
            "(a request head needs room for its request line and headers)",
        )


_MIN_HEAD_BYTES = 1024


# The most any time setting may hold: a day. It keeps the sum the pod's
# terminationGracePeriodSeconds is rendered from a plain whole number, and a
# value beyond it is a typo (a unit mix-up, an exponent), not an intention.
MAX_SECONDS = 86400


def check_seconds(name: str, value: object, shown: object, *, zero: bool = True) -> None:
    """The one rule of every time setting: finite, from 0 (or above 0) up to a day."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= MAX_SECONDS
        or (value == 0 and not zero)
    ):
        what = "a finite, non-negative number of seconds" if zero else "finite, more than 0 seconds"
        raise ConfigError(name, shown, f"it must be {what} and at most {MAX_SECONDS} (a day)")


def check_positive_seconds(name: str, value: object, shown: object) -> None:
    check_seconds(name, value, shown, zero=False)


# A host name as RFC 1123 has it: dot-separated labels of letters, digits and
# '-', at most 253 characters; the last label is not all digits (that would
# be an IPv4 address, which ipaddress checks).
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?")
_HOST_RULE = (
    "it must be an IP address (0.0.0.0, ::) or a host name of letters, digits, "
    "'-' and '.' (at most 253 characters)"
)


# A PostgreSQL table, optionally schema-qualified: lowercase unquoted
# identifiers only, so the name means the same quoted or not.
_TABLE_NAME = re.compile(r"([a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}")


def check_table_name(name: str, value: object, shown: object) -> None:
    if not isinstance(value, str) or not _TABLE_NAME.fullmatch(value):
        raise ConfigError(
            name,
            shown,
            "it must be a table name, optionally schema-qualified (schema.table): "
            "lowercase letters, digits and '_', each part starting with a letter or '_' "
            "and at most 63 characters",
        )


def check_host(name: str, value: object, shown: object) -> None:
    if not isinstance(value, str) or not _is_host(value):
        raise ConfigError(name, shown, _HOST_RULE)


def _is_host(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return True
    labels = text.removesuffix(".").split(".")
    return (
        0 < len(text) <= 253
        and all(_HOST_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def check_log_level(name: str, value: object, shown: object) -> None:
    if value not in LOG_LEVELS:
        raise ConfigError(name, shown, f"it must be one of {', '.join(LOG_LEVELS)}")


def check_log_format(name: str, value: object, shown: object) -> None:
    if value not in LOG_FORMATS:
        raise ConfigError(name, shown, f"it must be one of {', '.join(LOG_FORMATS)}")


def check_bool(name: str, value: object, shown: object) -> None:
    if not isinstance(value, bool):
        raise ConfigError(name, shown, "it must be true or false")


class SecretUrl:
    """A URL that holds a password: shown redacted everywhere, revealed only to its client.

    Args:
        value: the URL as configured.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        # Whatever shows its password (a driver's error, a log line) masks it.
        remember(url_secrets(value))

    def reveal(self) -> str:
        """The URL with its password, for the client library that connects with it."""
        return self._value

    def __str__(self) -> str:
        return redact_url(self._value)

    def __repr__(self) -> str:
        return f"SecretUrl({redact_url(self._value)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretUrl) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def to_url(name: str, raw: str) -> SecretUrl | None:
    return SecretUrl(raw.strip()) if raw.strip() else None


def url_checker(
    schemes: tuple[str, ...], *, multi_host: bool = False
) -> Callable[[str, object, object], None]:
    """A check of a URL with one of ``schemes``; ``multi_host``: ``h1:5432,h2:5432`` too.

    PostgreSQL clients (libpq, asyncpg) take a comma-separated host list and
    try each host in turn, for a primary with standbys.
    """

    def check(name: str, value: object, shown: object) -> None:
        if value is None:
            return
        if not isinstance(value, SecretUrl):
            raise ConfigError(name, "(not shown)", "it must be a URL given as text")
        url = value.reveal()
        redacted = redact_url(url)
        try:
            parts = urlsplit(url)
        except ValueError:
            raise ConfigError(name, redacted, "it is not a URL") from None
        if parts.scheme not in schemes:
            raise ConfigError(
                name, redacted, f"its scheme must be one of {', '.join(s + '://' for s in schemes)}"
            )
        hosts = parts.netloc.rpartition("@")[2]
        socket = parts.scheme == "unix" or "host" in parse_qs(parts.query)
        if not parts.hostname and not socket:
            raise ConfigError(name, redacted, "it names no host")
        if multi_host and "," in hosts:
            for host in hosts.split(","):
                if not urlsplit(f"//{host}").hostname:
                    raise ConfigError(name, redacted, "its host list has an entry with no host")
                _check_port(name, redacted, host)
        else:
            _check_port(name, redacted, hosts)

    return check


def _check_port(name: str, redacted: str, host: str) -> None:
    """The port of one ``host[:port]`` of a URL, when given: from 1 to 65535."""
    try:
        port = urlsplit(f"//{host}").port
    except ValueError:
        raise ConfigError(
            name, redacted, "it is not a URL, or its port is not a number from 0 to 65535"
        ) from None
    if port == 0:
        raise ConfigError(name, redacted, "its port must be between 1 and 65535")
