"""Masking: no secret survives on any surface, before or after a cut, in time linear in the text."""

from __future__ import annotations

import io
import logging
import string
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenlang_runtime import Settings, _redact
from greenlang_runtime._redact import MIN_SECRET_PREFIX, redact_text
from greenlang_runtime.checks._check import describe_failure
from greenlang_runtime.config import Identity
from greenlang_runtime.logs import JsonFormatter, TextFormatter
from greenlang_runtime.tracing import make_tracing

# Secrets are drawn from letters and digits the filler never holds, so a
# secret (or a long prefix of one) in the output can only come from a leak.
SECRET_ALPHABET = "QWXZ0123456789"  # noqa: S105 - what test secrets are made of
FILLER_ALPHABET = string.ascii_lowercase + " \n\t:/@=\"'-_.,;{}" + "é€"
CONFIGURED = "Q9W8X7Z6pw"  # DATABASE_URL's password, set below
PROVIDER_KEY = "QZQZ0000WXWX1111"  # OPENAI_API_KEY
OTLP_HEADER = "XZXZ9999QQWW"  # OTEL_EXPORTER_OTLP_HEADERS=x-api-token=...


def _remember_the_runtimes_secrets() -> None:
    """Settings and tracing made as an agent makes them: each tells the masking its secrets."""
    Settings.from_env(
        {"DATABASE_URL": f"postgresql://app:{CONFIGURED}@db/orders", "OPENAI_API_KEY": PROVIDER_KEY}
    )
    make_tracing(Identity(), {"OTEL_EXPORTER_OTLP_HEADERS": f"x-api-token={OTLP_HEADER}"})


@pytest.fixture(autouse=True, scope="module")
def _only_these_secrets() -> Iterator[None]:
    """Only this module's secrets are known while it runs (others' would change exact counts)."""
    saved = (dict(_redact._secrets), _redact._known)
    _redact._secrets.clear()
    _redact._known = None
    _remember_the_runtimes_secrets()
    yield
    _redact._secrets.clear()
    _redact._secrets.update(saved[0])
    _redact._known = saved[1]


def _json_line(text: str) -> str:
    record = logging.makeLogRecord({"msg": "%s", "args": (text,), "levelname": "ERROR"})
    return JsonFormatter().format(record)


def _text_line(text: str) -> str:
    return TextFormatter().format(logging.makeLogRecord({"msg": text}))


def _check_reason(text: str) -> str:
    return describe_failure(ConnectionError(text), 2.0)


def _cut(text: str) -> str:
    return redact_text(text, limit=300)


# Each surface as text reaches it: log lines (JSON and text), a check's
# reason (probe bodies, wait-for-dependencies, span status), a cut message.
SURFACES: dict[str, Callable[[str], str]] = {
    "json log line": _json_line,
    "text log line": _text_line,
    "check reason": _check_reason,
    "masked then cut": _cut,
}

# How a secret shows in the text around it: bare, in a URL, as a header, a token.
FORMS = (
    "{}",
    "postgresql://app:{}@db:5432/orders",
    "redis://:{}@cache/0",
    "Authorization: Bearer {}",
    "bearer {}",
    "password={}",
    "x-api-key: {}",
)


def _secret_text(draw: st.DrawFn) -> tuple[str, list[str]]:
    pieces: list[str] = []
    secrets: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        pieces.append(draw(st.text(FILLER_ALPHABET, max_size=200)))
        known = draw(st.sampled_from((CONFIGURED, PROVIDER_KEY, OTLP_HEADER, None)))
        secret = known or draw(st.text(SECRET_ALPHABET, min_size=MIN_SECRET_PREFIX, max_size=40))
        form = FORMS[0] if known else draw(st.sampled_from(FORMS[1:]))
        pieces.append(" " + form.format(secret) + " ")
        secrets.append(secret)
    pieces.append(draw(st.text(FILLER_ALPHABET, max_size=200)))
    # A long stretch of filler, up to 1 MB, somewhere in the text.
    padding = draw(st.sampled_from((0, 1_000, 100_000, 1_000_000)))
    at = draw(st.integers(0, len(pieces)))
    pieces.insert(at, (FILLER_ALPHABET * (padding // len(FILLER_ALPHABET) + 1))[:padding])
    return "".join(pieces), secrets


@st.composite
def secret_texts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Random text with secrets at random places, in random forms, of random lengths."""
    return _secret_text(draw)


def _leaks(shown: str, secret: str) -> bool:
    """The secret, or a prefix of it of at least MIN_SECRET_PREFIX characters, in ``shown``."""
    prefix = secret[:MIN_SECRET_PREFIX]
    return secret in shown or prefix in shown


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret_texts(), st.sampled_from(sorted(SURFACES)))
def test_no_secret_survives_on_any_surface(drawn: tuple[str, list[str]], surface: str) -> None:
    """Whatever the text and wherever the cut, no secret nor a long prefix of one is shown."""
    text, secrets = drawn
    shown = SURFACES[surface](text)
    for secret in secrets:
        assert not _leaks(shown, secret), (surface, secret)


def test_a_cut_keeps_no_part_of_a_password() -> None:
    """A 200-character cut that falls inside a URL password leaves none of it."""
    text = "connect failed: " + "x" * 170 + f" postgresql://app:{CONFIGURED}@db/orders"
    reason = describe_failure(OSError(text), 2.0)
    assert CONFIGURED[:4] not in reason
    assert reason.startswith("OSError: connect failed: xxx")


def test_every_secret_the_runtime_holds_is_masked_in_plain_text() -> None:
    """The configured URL password, a provider key and an OTLP header value, masked unprompted."""
    text = f"a={CONFIGURED} b={PROVIDER_KEY} c={OTLP_HEADER}"
    assert redact_text(text) == "a=*** b=*** c=***"


def _seconds(mask: Callable[[str], object], text: str) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        mask(text)
        best = min(best, time.perf_counter() - started)
    return best


def _log_line(text: str) -> str:
    return JsonFormatter().format(logging.makeLogRecord({"msg": text}))


HARD_UNITS = (
    "postgresql://u:",
    "authorization: ",
    'password="',
    "bearer ",
    "sk-",
    "a://b:c",
    "lorem ipsum ",
)


def _repeated(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def test_masking_time_is_linear_in_the_text() -> None:
    """Time per character at 1 MB is within a generous factor of that at 100 kB, for hard text."""
    for unit in HARD_UNITS:
        small, large = _repeated(unit, 100_000), _repeated(unit, 1_000_000)
        ratio = (_seconds(redact_text, large) / 1_000_000) / (
            _seconds(redact_text, small) / 100_000
        )
        # Quadratic masking would make this 10 or more; a loaded machine
        # makes single runs vary by 2-3 times, so the bound is generous.
        assert ratio < 6, (unit, ratio)


def test_a_log_line_costs_what_its_cut_shows() -> None:
    """A line of 1 MB costs about what one of 10 kB does: only the 8,192 shown are masked."""
    for unit in HARD_UNITS:
        small, large = _repeated(unit, 10_000), _repeated(unit, 1_000_000)
        ratio = _seconds(_log_line, large) / _seconds(_log_line, small)
        # Masking all of the megabyte first made this 25 to 100.
        assert ratio < 5, (unit, ratio)


def test_a_huge_field_is_cut_after_masking() -> None:
    """A 1 MB message makes a line of a few kilobytes, its secret masked, its length noted."""
    stream = io.StringIO()
    message = "x" * 5000 + f" Bearer {PROVIDER_KEY} " + "y" * 1_000_000
    logger = logging.getLogger("redact-test")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    try:
        logger.error(message)
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert len(line) < 10_000
    assert PROVIDER_KEY not in line
    assert "Bearer ***" in line
    # 5000 + len(" Bearer *** ") + 1,000,000 = 1,005,012 characters masked, 8192 kept.
    assert "... (996820 more characters)" in line


def _shown(cut: str) -> str:
    """What a cut text shows, without its note of how much was left out."""
    head, note, _ = cut.rpartition("... (")
    return head if note else cut


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret_texts(), st.integers(1, 2_000), st.booleans())
def test_a_cut_shows_the_start_of_the_whole_text_masked(
    drawn: tuple[str, list[str]], limit: int, near_the_end: bool
) -> None:
    """Masking only what a cut shows gives the start of the whole text masked, or less of it.

    Half the cuts read up to somewhere in the text's last 2,000 characters,
    where what is read ends inside a secret or its key word as often as not.
    """
    text, secrets = drawn
    if near_the_end:
        limit = max(1, len(text) - _redact._CUT_SLACK - limit)
    shown = _shown(redact_text(text, limit=limit))
    whole = redact_text(text)
    assert len(shown) <= limit
    assert whole.startswith(shown)
    for secret in secrets:
        assert not _leaks(shown, secret), secret


def test_a_url_password_open_at_the_end_of_what_is_read_is_not_shown() -> None:
    """A URL whose password (up to its last @) runs past what is read ends the text shown."""
    text = "word " * 20 + "postgresql://app:" + "pw@" * 200 + "host/db"
    # 724 characters; 120 + 256 are read, and they end inside the URL's password,
    # so the text shown ends before the URL: 110 shown, 724 - 110 left out.
    assert redact_text(text, limit=120) == "word " * 20 + "postgresql... (614 more characters)"


def test_an_api_key_open_at_the_end_of_what_is_read_is_not_shown() -> None:
    """An ``sk-`` key cut to fewer than its 16 characters is left out, not shown in part."""
    # password=... is masked to 3 characters, so all that is read fits in the 100.
    text = "password=" + "v" * 300 + " " + "x" * 39 + " sk-AAA" + "A" * 20 + " more" * 200
    # Read: 356 characters, the last 6 of them "sk-AAA"; shown: "password=*** "
    # and the 39 x and the space (53); left out: the 6 and the 1,020 not read.
    assert redact_text(text, limit=100) == (
        "password=*** " + "x" * 39 + " ... (1026 more characters)"
    )


def test_a_known_secret_across_the_end_of_what_is_read_is_masked_whole() -> None:
    """A secret the runtime knows that starts before the end of what is read is masked whole."""
    text = "password=" + "v" * 300 + " " + "x" * 37 + " " + PROVIDER_KEY + " tail" * 100
    # The key starts at 348, 8 characters before the 356 read: reading goes on
    # to its end, 364; the 500 characters after it are left out.
    assert (
        redact_text(text, limit=100) == "password=*** " + "x" * 37 + " ***... (500 more characters)"
    )


def test_reading_that_ends_inside_bearer_or_sk_leaves_the_word_out() -> None:
    """``Authorization: Bea`` or ``sk`` at the end of what is read: left out, not masked in part.

    Masked there, ``Bea`` would show as the header's value (``Authorization:
    ***``) and ``sk`` as itself, where the whole text shows ``Bearer ***`` and
    a masked key: what is shown would not be the start of the whole masked.
    """
    keys = (PROVIDER_KEY + " ") * 20  # 340 characters, masked to 80
    header = keys + "Authorization: Bearer abcdefghijklmnop" + " tail" * 100
    # Read: 102 + 256 = 358 characters, ending in "Bea" (Bearer starts at 355).
    assert (
        redact_text(header, limit=102) == "*** " * 20 + "Authorization: ... (523 more characters)"
    )
    key = keys + "sk-abcdefghijklmnopqrstuv" + " tail" * 100
    # Read: 86 + 256 = 342 characters, ending in "sk".
    assert redact_text(key, limit=86) == "*** " * 20 + "... (525 more characters)"


def test_a_quoted_value_without_its_closing_quote_is_masked() -> None:
    """``password="...`` is masked up to where the value ends, closing quote or not."""
    assert redact_text('password="abc def" token=\'xyz') == 'password="*** def" token=\'***'
    assert redact_text('password="abc"') == 'password="***"'
