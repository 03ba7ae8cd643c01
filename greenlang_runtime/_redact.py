"""Keeping passwords and tokens out of probe bodies, logs and error messages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["MASK", "redact_text", "redact_url", "url_secrets"]

MASK = "***"

# scheme://user:password@host -> scheme://user:***@host, wherever it appears in a text.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@]*@")
# password=..., pwd: ..., token=... as in key-value DSNs and driver messages.
_KEY_VALUE = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|token|secret|api[_-]?key)\b\s*[=:]\s*)"
    r"(?P<quote>['\"]?)[^\s'\"&;,]+(?P=quote)",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """``url`` with its password (and any token in the query) masked; safe to show."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if has_password else netloc
    return redact_text(urlunsplit(parts._replace(netloc=netloc)))


def url_secrets(url: str) -> tuple[str, ...]:
    """The secret parts of ``url`` (its password), to mask wherever they show up."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return ()
    if not password:
        return ()
    # Drivers may quote the password as written or decoded.
    return tuple({password, unquote(password)})


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every URL password or ``password=`` value masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK + "@", text)
    return _KEY_VALUE.sub(lambda m: m["key"] + m["quote"] + MASK + m["quote"], text)
