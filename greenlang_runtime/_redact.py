"""Keeping passwords and tokens out of probe bodies, logs, spans and error messages.

One function, :func:`redact_text`, masks text for every surface. It knows
every secret the runtime holds: the passwords of the URLs in the
configuration (each :class:`~greenlang_runtime.config.SecretUrl` tells it its
own), the providers' API keys and the OTLP export headers (the runtime
:func:`remember`\\ s them as it reads the environment), and any value a
caller passes. It also masks what looks like a credential wherever it comes
from: URL passwords, ``password=``-style values, ``Authorization`` and API
key headers, ``Bearer`` tokens, ``sk-...`` keys.

Masking runs before any cut to length (:func:`bounded`): a cut never leaves
part of a secret behind.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Final
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = [
    "MASK",
    "MIN_SECRET_PREFIX",
    "bounded",
    "environment_secrets",
    "redact_text",
    "redact_url",
    "remember",
    "url_secrets",
]

MASK: Final = "***"
# Every pattern below scans in time linear in the text: each starts with a
# literal or a word boundary, and no quantified part can match across the
# place where the next match would start (see ``tests/test_redact.py``).
# user:password@ after a scheme's ://; the password runs to the last @ before
# the next /, space or end (as urlsplit reads it). The scheme itself is not
# part of the pattern: ``[a-z]*://`` backtracks quadratically over a long word.
_URL_PASSWORD: Final = re.compile(r"(?P<head>://[^\s:/@]*:)[^\s/]*@")
# password=..., pwd: ..., token=... as in key-value DSNs and driver messages.
_KEY_VALUE: Final = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|token|secret|api[_-]?key)\b\s*[=:]\s*)"
    r"(?P<quote>['\"]?)[^\s'\"&;,]+(?P=quote)",
    re.IGNORECASE,
)
# Header values that are credentials, as they show in reprs, dumps and messages.
_CREDENTIAL_HEADER: Final = re.compile(
    r"(?P<key>\b(?:proxy-)?authorization|x-api-key|api-key)(?P<sep>['\"]?\s*[:=]\s*['\"]?)"
    r"(?P<scheme>(?:bearer|basic)\s+)?[^\s'\",;}]+",
    re.IGNORECASE,
)
# A bearer token anywhere (an exception text that quotes its request).
_BEARER: Final = re.compile(r"(?P<scheme>\bbearer\s+)[^\s'\",;}]+", re.IGNORECASE)
# API keys of the LLM providers (sk-..., sk-ant-..., sk-proj-...), wherever they show.
_API_KEY: Final = re.compile(r"\bsk-[A-Za-z0-9_-]{16,}")
# The environment variables whose whole value is a secret the runtime may see.
_SECRET_VARIABLES: Final = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY")
# A known secret can only survive a cut as a prefix when the text held that
# prefix without the rest; tests check that none of this length is left.
MIN_SECRET_PREFIX: Final = 8

# Beyond this many places to try, a pattern runs over the whole text instead.
_MAX_PLACES: Final = 256

_lock = threading.Lock()
_known: dict[str, None] = {}
_known_pattern: re.Pattern[str] | None = None


def remember(secrets: Iterable[str]) -> None:
    """Mask each of ``secrets`` (empty ones ignored) in every text from now on."""
    global _known_pattern
    new = [s for s in secrets if s and s not in _known]
    if not new:
        return
    with _lock:
        for secret in new:
            _known[secret] = None
        # Longest first: a secret that contains another is masked whole.
        alternatives = sorted(_known, key=len, reverse=True)
        _known_pattern = re.compile("|".join(map(re.escape, alternatives)))


def environment_secrets(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The providers' API keys set in ``environ`` (to :func:`remember`)."""
    return tuple(v.strip() for n in _SECRET_VARIABLES if (v := environ.get(n, "")).strip())


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret masked; the one masking function of every surface.

    Invariant: no secret the runtime knows (:func:`remember`, the configured
    URLs' passwords) nor any of ``secrets`` occurs in the result, nor does a
    URL password, a ``password=``/``token=`` value, an ``Authorization`` or
    API-key header value, a ``Bearer`` token or an ``sk-`` key; each is
    replaced by ``***``. The time is linear in ``len(text)`` (for a fixed set
    of secrets). Cut the result to length only afterwards (:func:`bounded`).
    """
    remember(secrets)
    known = _known_pattern
    if known is not None:
        text = known.sub(MASK, text)
    # Each pattern's match starts at one of its key words: only those places
    # are tried, so a megabyte with a key word or two costs a few searches,
    # not a pass of every pattern over the whole text.
    folded = text.casefold()
    if len(folded) != len(text):  # a character whose case folding is longer
        for pattern, replace, _, _ in _PATTERNS:
            text = pattern.sub(replace, text)
        return text
    for pattern, replace, words, offsets in _PATTERNS:
        text = _mask_at_words(text, folded, pattern, replace, words, offsets)
        folded = text.casefold() if len(text) != len(folded) else folded
    return text


def _mask_at_words(
    text: str,
    folded: str,
    pattern: re.Pattern[str],
    replace: Callable[[re.Match[str]], str],
    words: tuple[str, ...],
    offsets: tuple[int, ...],
) -> str:
    """``text`` with ``pattern`` replaced where a match starts at one of ``words`` in ``folded``.

    A match may also start ``offsets`` characters before a word (``proxy-`` before
    ``authorization``): fewer, shorter words cost fewer searches of the text.
    """
    starts: set[int] = set()
    for word in words:
        at = folded.find(word)
        while at != -1:
            if len(starts) == _MAX_PLACES:
                # Key words everywhere: one pass of the pattern costs less.
                return pattern.sub(replace, text)
            starts.update(at - back for back in offsets if at >= back)
            at = folded.find(word, at + 1)
    if not starts:
        return text
    pieces: list[str] = []
    done = 0
    for start in sorted(starts):
        if start < done:
            continue  # inside the last match
        match = pattern.match(text, start)
        if match is None:
            continue
        pieces.append(text[done:start])
        pieces.append(replace(match))
        done = match.end()
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def bounded(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters plus a note of how many were left out.

    Call it on masked text only: masking first replaces each secret whole.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def _mask_all(match: re.Match[str]) -> str:
    return MASK


def _mask_url_password(match: re.Match[str]) -> str:
    return match["head"] + MASK + "@"


def _mask_key_value(match: re.Match[str]) -> str:
    return match["key"] + match["quote"] + MASK + match["quote"]


def _mask_header(match: re.Match[str]) -> str:
    return match["key"] + match["sep"] + (match["scheme"] or "") + MASK


def _mask_bearer(match: re.Match[str]) -> str:
    return match["scheme"] + MASK


# Each pattern, its replacement and the (case-folded) words a match starts with.
_PATTERNS: Final[
    tuple[
        tuple[re.Pattern[str], Callable[[re.Match[str]], str], tuple[str, ...], tuple[int, ...]],
        ...,
    ]
] = (
    (_URL_PASSWORD, _mask_url_password, ("://",), (0,)),
    (_API_KEY, _mask_all, ("sk-",), (0,)),
    # password, passwd, pwd, token, secret, api_key, api-key, apikey
    (_KEY_VALUE, _mask_key_value, ("passw", "pwd", "token", "secret", "api"), (0,)),
    # authorization, proxy-authorization; api-key, x-api-key
    (_CREDENTIAL_HEADER, _mask_header, ("authorization", "api-key"), (0, 2, 6)),
    (_BEARER, _mask_bearer, ("bearer",), (0,)),
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
