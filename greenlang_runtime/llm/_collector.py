"""The ``agent_llm_*`` series: plain counts under one lock, families only at scrape time.

Like ``metrics.py``, an LLM call only does arithmetic on a per-model record;
prometheus_client families are built when ``/metrics`` is scraped. Model
names come from outside, so each provider keeps at most ``MAX_MODELS`` of
them, each masked and at most 128 characters long
(:class:`~greenlang_runtime.metrics.families.BoundedLabel`); the rest are
counted under ``model="other"`` and totals stay exact.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from greenlang_runtime import metric_names as names
from greenlang_runtime.config import Identity
from greenlang_runtime.llm._usage import TOKEN_TYPES, Usage
from greenlang_runtime.metrics.families import (
    BoundedLabel,
    counter,
    cumulative,
    histogram,
)

__all__ = [
    "MAX_MODELS",
    "LLMMetrics",
    "ModelStats",
]

MAX_MODELS: Final = 25
# LLM calls last seconds to minutes; the first token comes within seconds.

_DURATION_BOUNDS = names.bucket_bounds(names.LLM_DURATION_BUCKETS)
_FIRST_TOKEN_BOUNDS = names.bucket_bounds(names.LLM_FIRST_TOKEN_BUCKETS)


class ModelStats:
    """Counts of one (provider, model label)."""

    __slots__ = (
        "cost",
        "duration_buckets",
        "duration_sum",
        "errors",
        "first_token_buckets",
        "first_token_count",
        "first_token_sum",
        "key",
        "successes",
        "tokens",
        "unpriced",
    )

    def __init__(self, key: tuple[str, str]) -> None:
        self.key = key
        self.tokens = [0, 0, 0, 0]
        self.cost = 0.0
        self.successes = 0
        self.errors = 0
        self.unpriced = 0
        self.duration_buckets = [0] * (len(names.LLM_DURATION_BUCKETS) + 1)
        self.duration_sum = 0.0
        self.first_token_buckets = [0] * (len(names.LLM_FIRST_TOKEN_BUCKETS) + 1)
        self.first_token_count = 0
        self.first_token_sum = 0.0

    def snapshot(self) -> ModelStats:
        """A copy that later calls do not change (taken under the collector's lock)."""
        copy = ModelStats(self.key)
        copy.tokens = list(self.tokens)
        copy.cost = self.cost
        copy.successes = self.successes
        copy.errors = self.errors
        copy.unpriced = self.unpriced
        copy.duration_buckets = list(self.duration_buckets)
        copy.duration_sum = self.duration_sum
        copy.first_token_buckets = list(self.first_token_buckets)
        copy.first_token_count = self.first_token_count
        copy.first_token_sum = self.first_token_sum
        return copy


def _by_key(stats: ModelStats) -> tuple[str, str]:
    return stats.key


class LLMMetrics(Collector):
    """Every ``agent_llm_*`` series of one agent, as one collector.

    Args:
        identity: gives the ``agent_id, version, tenant_id`` labels.
        registry: where to register; ``None`` registers nowhere.
        before_collect: brings the counts up to date before each scrape (it
            counts the calls queued since the last one).
    """

    def __init__(
        self,
        identity: Identity,
        registry: CollectorRegistry | None = None,
        before_collect: Callable[[], None] | None = None,
    ) -> None:
        self.identity = identity
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str], ModelStats] = {}
        self._models: dict[str, BoundedLabel] = {}
        self._before_collect = before_collect
        if registry is not None:
            registry.register(self)

    def record(
        self,
        provider: str,
        model: str,
        usage: Usage,
        cost: float,
        failed: bool,
        unpriced: bool,
        seconds: float,
        first_token: float | None,
    ) -> None:
        """Count one finished call of ``model`` (``other`` past ``MAX_MODELS`` or too long)."""
        with self._lock:
            stats = self._stats.get((provider, model))
            if stats is None:
                stats = self._new(provider, model)
            tokens = stats.tokens
            tokens[0] += usage.input
            tokens[1] += usage.output
            tokens[2] += usage.cache_read
            tokens[3] += usage.cache_write_5m + usage.cache_write_1h
            stats.cost += cost
            if failed:
                stats.errors += 1
            else:
                stats.successes += 1
            if unpriced:
                stats.unpriced += 1
            stats.duration_buckets[bisect_left(names.LLM_DURATION_BUCKETS, seconds)] += 1
            stats.duration_sum += seconds
            if first_token is not None:
                stats.first_token_buckets[
                    bisect_left(names.LLM_FIRST_TOKEN_BUCKETS, first_token)
                ] += 1
                stats.first_token_count += 1
                stats.first_token_sum += first_token

    def _new(self, provider: str, model: str) -> ModelStats:
        """The record for a model not seen as such before; called with the lock held."""
        bounded = self._models.get(provider)
        if bounded is None:
            bounded = self._models[provider] = BoundedLabel(MAX_MODELS)
        label = bounded(model)
        key = (provider, label)
        stats = self._stats.get(key)
        if stats is None:
            stats = ModelStats(key)
            self._stats[key] = stats
        # Overflowing names are not kept: each is capped again, in constant memory.
        return stats

    def describe(self) -> Iterable[Metric]:
        """No description: collected at every scrape, and checked only then."""
        return ()

    def collect(self) -> Iterator[Metric]:
        """Turn the current counts into metric families."""
        identity = self.identity.labels
        if self._before_collect is not None:
            self._before_collect()
        with self._lock:
            rows = [stats.snapshot() for stats in self._stats.values()]
        tokens = counter(
            names.LLM_TOKENS, "LLM tokens, by kind.", "provider", "model", "token_type"
        )
        cost = counter(names.LLM_COST, "LLM cost in USD.", "provider", "model")
        requests = counter(
            names.LLM_REQUESTS, "LLM calls, by outcome.", "provider", "model", "status"
        )
        unpriced = counter(
            names.LLM_UNPRICED, "LLM calls of a model with no known price.", "provider", "model"
        )
        durations = histogram(
            names.LLM_REQUEST_DURATION,
            "Duration of LLM calls (streams: until their end).",
            "provider",
            "model",
        )
        first = histogram(
            names.LLM_TIME_TO_FIRST_TOKEN,
            "Time to the first generated chunk of LLM streams.",
            "provider",
            "model",
        )
        for row in sorted(rows, key=_by_key):
            labels = [*identity, *row.key]
            for token_type, value in zip(TOKEN_TYPES, row.tokens, strict=True):
                tokens.add_metric([*labels, token_type], value)
            cost.add_metric(labels, row.cost)
            requests.add_metric([*labels, "success"], row.successes)
            requests.add_metric([*labels, "error"], row.errors)
            unpriced.add_metric(labels, row.unpriced)
            durations.add_metric(
                labels, cumulative(_DURATION_BOUNDS, row.duration_buckets), row.duration_sum
            )
            if row.first_token_count:
                first.add_metric(
                    labels,
                    cumulative(_FIRST_TOKEN_BOUNDS, row.first_token_buckets),
                    row.first_token_sum,
                )
        yield from (tokens, cost, requests, unpriced, durations, first)
