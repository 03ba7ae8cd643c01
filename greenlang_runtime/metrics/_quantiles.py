"""Quantiles over a sliding time window, with bounded memory and relative accuracy.

Why not a sketch library: the per-call budget of a capability is a few
microseconds, a ``DDSketch.add`` alone costs about 1.2 µs, and no library
keeps a sketch per time slice to slide a window. This is the same idea
(logarithmic buckets, so every quantile is within a relative error ``α`` of
a true sample value) kept as plain dictionaries, one per time slot:

- window: the current slot plus the ``slots - 1`` before it, so a quantile
  covers between ``window - window/slots`` and ``window`` seconds of samples
  (with the defaults: 4.5 to 5 minutes);
- accuracy: the reported value is within ``α`` (default 1%) of the
  nearest-rank quantile of the samples in the window: the ``⌈q·n⌉``-th
  smallest (so with 4 samples p99 is the largest, and p50 the second);
- memory: values are clamped to [1 ns, 10⁶ s], so a slot holds at most
  ``log(10¹⁵)/log(γ)`` ≈ 1,730 buckets at α = 1%, whatever the traffic;
- mergeable: slot edges are whole multiples of the slot length on the
  clock passed in (``time.perf_counter``, which is system-wide on Linux), so
  the sketches of several processes cut time at the same instants. Adding
  their bucket counts slot by slot (:meth:`SlidingQuantiles.merge`) gives the
  sketch of all their samples, and its quantiles are within ``α`` of the
  nearest-rank quantile of all of them: a merge, never an average.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["SketchState", "SlidingQuantiles"]

_MIN_VALUE = 1e-9
_MAX_VALUE = 1e6


@dataclass(frozen=True, slots=True)
class SketchState:
    """A copy of a sketch's counts, to send to another process and merge there.

    Attributes:
        relative_accuracy: the sketch's ``α``; only equal ones merge.
        slot_seconds: the length of one slot; only equal ones merge.
        slot_end: when the current slot ends (a multiple of ``slot_seconds``).
        slots: bucket counts per slot, the current one first, then older ones.
    """

    relative_accuracy: float
    slot_seconds: float
    slot_end: float
    slots: tuple[dict[int, int], ...]


class SlidingQuantiles:
    """Quantiles of the values added in the last ``window`` seconds.

    Not thread-safe: the caller serialises ``add`` and ``quantiles``.

    Args:
        window: length of the window in seconds.
        slots: how many slices the window is cut into; the window slides by
            one slice at a time.
        relative_accuracy: ``α``, the bound on a quantile's relative error.
        now: the clock reading at creation (same clock as later calls).
    """

    __slots__ = (
        "_accuracy",
        "_counts",
        "_gamma",
        "_inv_log_gamma",
        "_previous",
        "_slot_end",
        "_slot_seconds",
    )

    def __init__(
        self,
        window: float = 300.0,
        slots: int = 10,
        relative_accuracy: float = 0.01,
        *,
        now: float = 0.0,
    ) -> None:
        if not 0 < relative_accuracy < 1:
            raise ValueError(f"relative_accuracy must be in (0, 1), not {relative_accuracy!r}")
        if slots < 1 or window <= 0:
            raise ValueError(f"need window > 0 and slots >= 1, not {window!r} and {slots!r}")
        self._accuracy = relative_accuracy
        self._gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
        self._inv_log_gamma = 1 / math.log(self._gamma)
        self._slot_seconds = window / slots
        # Edges on whole multiples of the slot length: every sketch made with
        # the same window and clock cuts time at the same instants (mergeable).
        self._slot_end = (math.floor(now / self._slot_seconds) + 1) * self._slot_seconds
        self._counts: dict[int, int] = {}
        self._previous: deque[dict[int, int]] = deque(maxlen=slots - 1)

    def add(self, value: float, now: float) -> None:
        """Count ``value`` (seconds, or any positive quantity) observed at ``now``."""
        if now >= self._slot_end:
            self._rotate(now)
        if value < _MIN_VALUE:
            value = _MIN_VALUE
        elif value > _MAX_VALUE:
            value = _MAX_VALUE
        # Bucket k holds (γ^(k-1), γ^k].
        key = math.ceil(math.log(value) * self._inv_log_gamma)
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1

    def quantiles(self, qs: Sequence[float], now: float) -> list[float]:
        """The value at each quantile ``q`` in ``qs``; NaN where the window is empty."""
        if now >= self._slot_end:
            self._rotate(now)
        merged: dict[int, int] = dict(self._counts)
        for slot in self._previous:
            for key, count in slot.items():
                merged[key] = merged.get(key, 0) + count
        total = sum(merged.values())
        if total == 0:
            return [math.nan for _ in qs]
        keys = sorted(merged)
        results = []
        for q in qs:
            rank = max(math.ceil(q * total), 1)
            seen = 0
            for key in keys:
                seen += merged[key]
                if seen >= rank:
                    break
            # The midpoint (in relative terms) of bucket `key`.
            results.append(2 * self._gamma**key / (self._gamma + 1))
        return results

    def state(self, now: float) -> SketchState:
        """A copy of the counts still in the window at ``now``, for :meth:`merge`."""
        if now >= self._slot_end:
            self._rotate(now)
        slots = (dict(self._counts), *(dict(slot) for slot in reversed(self._previous)))
        return SketchState(self._accuracy, self._slot_seconds, self._slot_end, slots)

    def merge(self, other: SketchState) -> None:
        """Add the counts of ``other`` (another sketch's :meth:`state`), slot by slot.

        Slots are matched by their end time; counts of ``other`` older than
        this sketch's window are dropped, as they would have slid out.

        Raises:
            ValueError: ``other`` has another accuracy or slot length.
        """
        if other.relative_accuracy != self._accuracy or other.slot_seconds != self._slot_seconds:
            raise ValueError(
                "cannot merge sketches of different accuracy or slot length: "
                f"{other.relative_accuracy!r}/{other.slot_seconds!r} s into "
                f"{self._accuracy!r}/{self._slot_seconds!r} s"
            )
        if other.slot_end > self._slot_end:
            # Mid-slot, so float rounding cannot land on the wrong side of an edge.
            self._rotate(other.slot_end - self._slot_seconds / 2)
        # Whole slots between the two current slots (edges are aligned).
        lag = round((self._slot_end - other.slot_end) / self._slot_seconds)
        previous = self._previous
        kept = previous.maxlen or 0
        for age, counts in enumerate(other.slots, start=lag):
            if age > kept:
                break
            if age == 0:
                target = self._counts
            else:
                while len(previous) < age:
                    # Older slots this sketch never had: empty ones, oldest first.
                    previous.appendleft({})
                target = previous[-age]
            for key, count in counts.items():
                target[key] = target.get(key, 0) + count

    def _rotate(self, now: float) -> None:
        elapsed = int((now - self._slot_end) // self._slot_seconds) + 1
        self._previous.append(self._counts)
        # Slots that passed with no sample; past a full window they all are empty.
        for _ in range(min(elapsed - 1, self._previous.maxlen or 0)):
            self._previous.append({})
        self._counts = {}
        self._slot_end += elapsed * self._slot_seconds
