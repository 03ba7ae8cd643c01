"""Benchmark 6: masking a log line of 10 kB to 1 MB, for plain and for key-word-dense text."""

from __future__ import annotations

import logging
import time

from benchmarks._common import Section, interleaved, median, number, progress, table, verdict
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


def _format_seconds(formatter: JsonFormatter, text: str) -> float:
    record = logging.makeLogRecord({"msg": text, "levelname": "ERROR"})
    started = time.perf_counter()
    formatter.format(record)
    return time.perf_counter() - started


def run() -> Section:
    """Milliseconds to format (mask, then cut) one JSON log line whose message is each text."""
    formatter = JsonFormatter(secrets=("SuperSecretPassw0rd",))
    cases = [(kind, size) for kind in TEXTS for size in SIZES]
    seconds: dict[tuple[str, int], list[float]] = {case: [] for case in cases}
    progress(f"masking: {len(cases)} texts x {ROUNDS} rounds")
    for _, (kind, size) in interleaved(cases, ROUNDS):
        unit = TEXTS[kind]
        text = (unit * (size // len(unit) + 1))[:size]
        seconds[kind, size].append(_format_seconds(formatter, text))
    rows, targets = [], []
    for kind in TEXTS:
        medians = [median(seconds[kind, size]) for size in SIZES]
        growth = (medians[-1] / SIZES[-1]) / (medians[0] / SIZES[0])
        rows.append([kind, *(number(m * 1000, 1) for m in medians), number(growth, 1)])
        targets.append(
            [
                f"masking {kind} linear (time per character, 1 MB / 10 kB < {_LINEAR_BOUND:g})",
                number(growth, 1),
                verdict(growth < _LINEAR_BOUND),
            ]
        )
    headers = ["text", *(f"{number(size)} chars, ms" for size in SIZES), "per char, 1 MB / 10 kB"]
    return Section(
        title="7. Masking a log line",
        intro=(
            "One `JsonFormatter.format` of a record whose message is the text, repeated to "
            "each size: every secret pattern applied, then the field cut to 8,192 characters. "
            f"Medians of {ROUNDS} interleaved rounds. Run alone with "
            "`python -m benchmarks masking`."
        ),
        tables=[table(headers, rows)],
        targets=targets,
    )
