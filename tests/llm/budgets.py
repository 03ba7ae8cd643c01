"""What the budget tests share: a priced test model, a settable clock, Redis read by hand."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import redis
from prometheus_client import CollectorRegistry

from greenlang_runtime import Identity
from greenlang_runtime.llm import LLMAccounting
from greenlang_runtime.llm.budget import BudgetConfig
from greenlang_runtime.testing import FakeUsage

# A model priced by the tests: 1 USD per million input-side tokens (cache
# reads and writes too), 2 per million output tokens.
MODEL = "budget-test"
INPUT_PRICE, OUTPUT_PRICE = 1.0, 2.0
USAGE = FakeUsage(input_tokens=1000, output_tokens=200)
COST = (1000 * 1 + 200 * 2) / 1e6  # = 0.0014 USD
# A prompt of 4000 bytes and max_tokens 200: each call reserves about
# 4080 bytes x 1 + 200 x 2 micro-USD, some 0.0045 USD (the body's JSON around
# the prompt adds the rest), which covers COST.
PROMPT = "x" * 4000
MAX_TOKENS = 200
ASK: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": MAX_TOKENS,
    "messages": [{"role": "user", "content": PROMPT}],
}
CHAT: dict[str, Any] = {
    "model": MODEL,
    "max_completion_tokens": MAX_TOKENS,
    "messages": [{"role": "user", "content": PROMPT}],
}
TENANT = "tenant-a"
IDENTITY = Identity(agent_id="test-agent", version="1.2.3", tenant_id=TENANT)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """Seconds since the epoch of a UTC date and time."""
    moment = datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.UTC)
    return moment.timestamp()


class Clock:
    """A clock the test sets; the guard reads it for the period."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class BudgetKeys:
    """The budget's Redis keys of a scope and period, read directly."""

    def __init__(self, url: str, scope: str, period: str) -> None:
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = f"gl:llm-budget:{{{scope}:{period}}}:"

    def committed(self) -> float:
        """Committed USD."""
        return int(self.client.get(self.prefix + "committed") or 0) / 1e9

    def reserved(self) -> float:
        """USD in the reserved counter (unexpired or not yet released)."""
        return int(self.client.get(self.prefix + "reserved") or 0) / 1e9

    def held(self) -> int:
        """Reservations in the sorted set."""
        return int(self.client.zcard(self.prefix + "held"))

    def ttl(self, part: str) -> int:
        """Seconds until key ``part`` expires (-2: no key, -1: no expiry)."""
        return int(self.client.ttl(self.prefix + part))


def priced(accounting: LLMAccounting) -> LLMAccounting:
    """``accounting`` with the test model priced for both providers."""
    for provider in ("anthropic", "openai"):
        accounting.set_price(provider, MODEL, input=INPUT_PRICE, output=OUTPUT_PRICE)
    return accounting


def make_accounting(
    url: str,
    usd: float,
    clock: Callable[[], float],
    registry: CollectorRegistry | None = None,
    **options: Any,
) -> LLMAccounting:
    """LLM accounting with a budget of ``usd`` shared through the Redis at ``url``."""
    config = BudgetConfig(usd=usd, redis_url=url, **options)
    return priced(
        LLMAccounting(IDENTITY, registry or CollectorRegistry(), budget=config, clock=clock)
    )
