"""Keeping passwords and tokens out of probe bodies, logs, spans and error messages.

One function, :func:`redact_text`, masks text for every surface. It knows
every secret the runtime holds: the passwords of the URLs in the
configuration (each :class:`~greenlang_runtime.config.SecretUrl` tells it its
own), the providers' API keys and the OTLP export headers (the runtime
:func:`remember`\\ s them as it reads the environment), and any value a
caller passes. It also masks what looks like a credential wherever it comes
from: URL passwords, ``password=``-style values, ``Authorization`` and API
key headers, ``Bearer`` tokens, ``sk-...`` keys.

Masking runs before any cut to length (``redact_text(text, limit=...)``): a
cut never leaves part of a secret behind, and masks only what it shows.
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
    "environment_secrets",
    "error_line",
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
# A quoted value is masked up to its closing quote, or without one to where
# the value ends (a message cut short, a quoted value with a space in it).
_KEY_VALUE: Final = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|token|secret|api[_-]?key)\b\s*[=:]\s*)"
    r"(?P<quote>['\"]?)[^\s'\"&;,]+(?P<close>(?P=quote))?",
    re.IGNORECASE,
)
# Header values that are credentials, as they show in reprs, dumps and messages.
# The scheme word alone (``Authorization: Bearer`` and nothing after) is no value.
_CREDENTIAL_HEADER: Final = re.compile(
    r"(?P<key>\b(?:proxy-)?authorization|x-api-key|api-key)(?P<sep>['\"]?\s*[:=]\s*['\"]?)"
    r"(?P<scheme>(?:bearer|basic)\s+)?(?!(?:bearer|basic)(?![^\s'\",;}]))[^\s'\",;}]+",
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

# A cut to a limit masks this many characters more than it shows, so that
# masks shorter than their secrets still fill the limit.
_CUT_SLACK: Final = 256
# A match that the end of a window may leave open (see _close_window).
_OPEN_AT_END: Final = re.compile(
    r"://[^\s/]*\Z|\b(?:s|sk(?:-[A-Za-z0-9_-]{0,15})?)\Z|\b(?i:b|be|bea|bear|beare|ba|bas|basi)\Z"
)
_SPACE: Final = re.compile(r"\s")

_lock = threading.Lock()
_secrets: dict[str, None] = {}
# The known secrets as one pattern (longest first), and the longest's length.
_known: tuple[re.Pattern[str], int] | None = None


def remember(secrets: Iterable[str]) -> None:
    """Mask each of ``secrets`` (empty ones ignored) in every text from now on."""
    global _known
    new = [s for s in secrets if s and s not in _secrets]
    if not new:
        return
    with _lock:
        for secret in new:
            _secrets[secret] = None
        # Longest first: a secret that contains another is masked whole.
        alternatives = sorted(_secrets, key=len, reverse=True)
        pattern = re.compile("|".join(map(re.escape, alternatives)))
        _known = (pattern, len(alternatives[0]))


def environment_secrets(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The providers' API keys set in ``environ`` (to :func:`remember`)."""
    return tuple(v.strip() for n in _SECRET_VARIABLES if (v := environ.get(n, "")).strip())


def redact_text(text: str, secrets: Iterable[str] = (), *, limit: int | None = None) -> str:
    """``text`` with every secret masked; the one masking function of every surface.

    Invariant: no secret the runtime knows (:func:`remember`, the configured
    URLs' passwords) nor any of ``secrets`` occurs in the result, nor does a
    URL password, a ``password=``/``token=`` value, an ``Authorization`` or
    API-key header value, a ``Bearer`` token or an ``sk-`` key; each is
    replaced by ``***``. The time is linear in ``len(text)`` (for a fixed set
    of secrets).

    With ``limit``, the result is cut to ``limit`` characters after masking,
    with a note of how many were left out, and only the start that the cut
    shows is masked: the time is then linear in ``limit``, whatever the
    length of ``text``, and what is shown is what masking all of ``text``
    would have shown, or less of it, never a part of a secret.
    """
    remember(secrets)
    if limit is None:
        return _mask_patterns(_mask_known(text, len(text))[0])
    opened, read = _mask_known(text, limit + _CUT_SLACK)
    # Where reading stops before the text ends, a match may be left open.
    window = opened if read == len(text) else _close_window(opened)
    masked = _mask_patterns(window)
    shown = masked[:limit]
    # Counted as read: masked where masked, unread text as it is.
    left_out = len(masked) - len(shown) + len(opened) - len(window) + len(text) - read
    return f"{shown}... ({left_out} more characters)" if left_out else shown


def _mask_known(text: str, end: int) -> tuple[str, int]:
    """The first ``end`` characters of ``text``, the known secrets masked.

    Returns the masked start and how many characters of ``text`` it covers:
    more than ``end`` when a known secret starts before ``end`` and ends after
    it, since a secret is masked whole.
    """
    state = _known
    if state is None:
        return text[:end], min(end, len(text))
    known, longest = state
    if end >= len(text):
        return known.sub(MASK, text), len(text)
    pieces: list[str] = []
    done = 0
    # A match that starts before end is shorter than the longest secret.
    for match in known.finditer(text, 0, end + longest):
        if match.start() >= end:
            break
        pieces.append(text[done : match.start()])
        pieces.append(MASK)
        done = match.end()
    read = min(max(end, done), len(text))
    pieces.append(text[done:read])
    return "".join(pieces), read


def _close_window(window: str) -> str:
    """``window``, cut before a match that only the text after it could complete.

    Every other pattern masks its value up to the end of the window when the
    value runs past it. A URL's password runs to the last ``@`` before the
    next ``/`` or space, and an ``sk-`` key needs 16 characters: where either
    may still be open at the end (``s`` and ``sk`` may be a key's start), the
    window ends before it. So it does before a word that may be the start of
    ``Bearer`` or ``Basic`` (a header's value would be masked in its place).
    """
    open_at_end = _OPEN_AT_END.search(window, _last_run_start(window))
    return window if open_at_end is None else window[: open_at_end.start()]


def _last_run_start(text: str) -> int:
    """Where the last run of characters that are not white space starts."""
    space = _SPACE.search(text[::-1])
    return 0 if space is None else len(text) - space.start()


def _mask_patterns(text: str) -> str:
    """``text`` with what looks like a credential masked (the patterns below)."""
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


def error_line(error: BaseException, limit: int, secrets: Iterable[str] = ()) -> str:
    """``Type: message`` of ``error`` on one line, masked, then cut to ``limit``.

    Masked before its white space is joined or it is cut, so no part of a
    secret is left; an exception whose ``__str__`` raises is still described.
    """
    try:
        message = str(error)
    except BaseException:  # an author's __str__ may raise anything
        message = "(its message could not be read)"
    name = type(error).__name__
    text = f"{name}: {message}" if message else name
    return " ".join(redact_text(text, secrets, limit=limit).split())


def _mask_all(match: re.Match[str]) -> str:
    return MASK


def _mask_url_password(match: re.Match[str]) -> str:
    return match["head"] + MASK + "@"


def _mask_key_value(match: re.Match[str]) -> str:
    return match["key"] + match["quote"] + MASK + (match["close"] or "")


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
