"""Benchmark 6: masking a log line of 10 kB to 1 MB, for plain and for key-word-dense text."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from benchmarks._common import Section, interleaved, median, number, progress, table, verdict
from greenlang_runtime._redact import redact_text
from greenlang_runtime.logs import JsonFormatter

SIZES = (10_000, 40_000, 80_000, 1_000_000)
# Plain prose, and text made only of the words the patterns start at (the worst case).
TEXTS = {
    "prose": "lorem ipsum dolor sit amet, ",
    "URLs (`postgresql://u:`)": "postgresql://u:",
    "headers (`authorization: `)": "authorization: ",
    'key-values (`password="`)': 'password="',
}
ROUNDS = 5
# Time per character at 1 MB over that at 10 kB: 1 when linear, 100 when quadratic.
_LINEAR_BOUND = 4.0
# A log line's cost at 1 MB over that at 10 kB: 1 when only what is shown is masked.
_BOUNDED_BOUND = 2.0
_SECRET = "SuperSecretPassw0rd"  # noqa: S105 - a known secret, as a configured password is

_formatter = JsonFormatter(secrets=(_SECRET,))
# What is timed: the log line the runtime writes (masked as far as it is
# shown), and the whole text masked (what every line cost before the cut
# came first, and what a caller without a limit pays).
WAYS: dict[str, Callable[[str], object]] = {
    "log line": lambda text: _formatter.format(
        logging.makeLogRecord({"msg": text, "levelname": "ERROR"})
    ),
    "whole text": lambda text: redact_text(text, (_SECRET,)),
}


def _seconds(way: Callable[[str], object], text: str) -> float:
    started = time.perf_counter()
    way(text)
    return time.perf_counter() - started


def run() -> Section:
    """Milliseconds to mask each text: as a JSON log line (cut to 8,192) and whole."""
    cases = [(way, kind, size) for way in WAYS for kind in TEXTS for size in SIZES]
    seconds: dict[tuple[str, str, int], list[float]] = {case: [] for case in cases}
    progress(f"masking: {len(cases)} cases x {ROUNDS} rounds")
    for _, (way, kind, size) in interleaved(cases, ROUNDS):
        unit = TEXTS[kind]
        text = (unit * (size // len(unit) + 1))[:size]
        seconds[way, kind, size].append(_seconds(WAYS[way], text))
    rows: list[list[str]] = []
    growth: dict[str, list[float]] = {way: [] for way in WAYS}
    for way in WAYS:
        for kind in TEXTS:
            medians = [median(seconds[way, kind, size]) for size in SIZES]
            rows.append([way, kind, *(number(m * 1000, 2) for m in medians)])
            # A line: its cost at 1 MB over that at 10 kB; the whole: per character.
            per = (SIZES[-1] / SIZES[0]) if way == "whole text" else 1
            growth[way].append(medians[-1] / medians[0] / per)
    line, whole = max(growth["log line"]), max(growth["whole text"])
    targets = [
        [
            f"a log line of 1 MB costs what its cut shows (1 MB / 10 kB < {_BOUNDED_BOUND:g})",
            number(line, 1),
            verdict(line < _BOUNDED_BOUND),
        ],
        [
            f"masking a whole text: linear (per character, 1 MB / 10 kB < {_LINEAR_BOUND:g})",
            number(whole, 1),
            verdict(whole < _LINEAR_BOUND),
        ],
    ]
    headers = ["masked", "text", *(f"{number(size)} chars, ms" for size in SIZES)]
    return Section(
        title="7. Masking a log line",
        intro=(
            "Each text repeated to each size, then masked two ways: `log line`, one "
            "`JsonFormatter.format` of a record whose message is the text (the field is cut "
            "to 8,192 characters, and only what the cut shows is masked); `whole text`, "
            "`redact_text` of all of it (every secret pattern over every character). "
            f"Medians of {ROUNDS} interleaved rounds. Run alone with "
            "`python -m benchmarks masking`."
        ),
        tables=[table(headers, rows)],
        targets=targets,
    )
