"""Large JSON bodies handled without holding the event loop.

A worker thread alone does not free the event loop: Python's C JSON code
keeps the interpreter lock from the first byte to the last, and the cyclic
garbage collector keeps it too while it walks the millions of containers a
10 MiB body becomes (it did so again and again during the parse, and once
more, for most of a second, at the first collection after it). So:

- while a large body's call runs (parse, capability, encoding), the
  collector is paused: parsed JSON holds no reference cycle, and once the
  call has ended its objects are freed by their reference counts, so no
  collection has to walk them. Cyclic garbage made meanwhile is collected
  when the last such call ends, or every ``MAX_PAUSE_SECONDS`` while such
  calls overlap without end;
- one large body at a time is parsed or encoded (one worker thread): with
  several at once, the event loop waited for the lock behind each in turn;
- a result is encoded piece by piece: a large list or object is split into
  slices encoded one at a time, and between slices the event loop gets the
  lock back. The bytes are those of one ``encode`` call.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

__all__ = ["MAX_PAUSE_SECONDS", "collector_paused", "encode_in_pieces", "in_worker"]

_T = TypeVar("_T")

# Items per slice: a slice of small records encodes in about a millisecond.
_SLICE = 2048
# The longest the collector stays paused while large calls keep overlapping.
MAX_PAUSE_SECONDS = 10.0

# Touched only from the event loop's thread (collector_paused is entered there).
_paused = 0
_paused_since = 0.0
_enable_after = False
_one_at_a_time: CapacityLimiter | None = None


async def in_worker(function: Callable[..., _T], *args: Any) -> _T:
    """``function(*args)`` in a worker thread, one such call at a time."""
    global _one_at_a_time
    if _one_at_a_time is None:
        _one_at_a_time = CapacityLimiter(1)
    return await anyio.to_thread.run_sync(function, *args, limiter=_one_at_a_time)


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the block; nested and overlapping blocks share the pause.

    It is switched back on when the last block ends, and only if it was on
    when the first began.
    """
    global _paused, _paused_since, _enable_after
    if _paused == 0:
        _enable_after = gc.isenabled()
        _paused_since = time.monotonic()
        gc.disable()
    _paused += 1
    try:
        yield
    finally:
        _paused -= 1
        if _paused == 0:
            if _enable_after:
                gc.enable()
        elif _enable_after and time.monotonic() - _paused_since > MAX_PAUSE_SECONDS:
            # Overlapping calls without end: collect what has piled up meanwhile.
            gc.collect(0)
            _paused_since = time.monotonic()


def encode_in_pieces(encode: Callable[[Any], bytes], value: Any) -> bytes:
    """``encode(value)``, with large lists and string-keyed objects encoded a slice at a time."""
    parts: list[bytes] = []
    _encode_into(encode, value, parts, 0)
    return b"".join(parts)


def _encode_into(
    encode: Callable[[Any], bytes], value: Any, parts: list[bytes], depth: int
) -> None:
    # Only plain lists and string-keyed dicts are split (subclasses and models
    # keep the encoder's own rules), down to the second level, so that
    # {"items": [...]} is split too.
    kind = type(value)
    if depth > 1 or (kind is not list and kind is not dict):
        parts.append(encode(value))
    elif len(value) > _SLICE:
        items = value if kind is list else list(value.items())
        if kind is dict and not all(type(key) is str for key, _ in items):
            parts.append(encode(value))
            return
        opening, closing = (b"[", b"]") if kind is list else (b"{", b"}")
        parts.append(opening)
        for start in range(0, len(items), _SLICE):
            if start:
                parts.append(b",")
            piece = items[start : start + _SLICE]
            parts.append(encode(piece if kind is list else dict(piece))[1:-1])
        parts.append(closing)
    elif kind is dict and all(type(key) is str for key in value):
        parts.append(b"{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                parts.append(b",")
            parts.append(encode(key))
            parts.append(b":")
            _encode_into(encode, item, parts, depth + 1)
        parts.append(b"}")
    else:
        parts.append(encode(value))
