"""Settling: a call's reservation replaced by its actual cost, wherever and however it ended.

- On an event loop: a task over the async client; the loop's next
  reservation waits for it, so a call made after another sees its settle.
- In a plain thread: at once, over the sync client (the caller's thread).
- Inside one of the guard's own sync Redis operations (a finaliser run by
  the garbage collector there), while Redis is down, or after a failure: by
  the settler thread, which tries again until Redis answers.

The actual cost is the counters' own: the price of the model the response
named, on the UTC day the call ended, applied to its usage. While calls run,
the settler thread refreshes their reservations' expiry.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import math
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from greenlang_runtime.llm.budget._bound import NANO
from greenlang_runtime.llm.budget._hold import Hold
from greenlang_runtime.llm.budget._settler import Settler
from greenlang_runtime.llm.budget._store import TIMEOUT_SECONDS, RedisStore

if TYPE_CHECKING:
    from greenlang_runtime.llm._usage import Usage
    from greenlang_runtime.llm.budget._collector import BudgetMetrics
    from greenlang_runtime.llm.budget._outage import Outage
    from greenlang_runtime.llm.pricing import PriceBook

__all__ = ["KEY_GRACE_SECONDS", "Settlements", "utc_day"]

logger = logging.getLogger("greenlang_runtime.llm")

# Period keys expire this long after the period's end: late settles of calls
# reserved in it still land there, and nothing reads them after.
KEY_GRACE_SECONDS: Final = 2 * 86400
_EPOCH_ORDINAL: Final = datetime.date(1970, 1, 1).toordinal()
_overran_models: set[tuple[str, str]] = set()
# hold, provider, model, usage (None: nothing known), end time.
_Item = tuple[Hold, str, str, "Usage | None", float]


class Settlements:
    """Settles holds, refreshes the live ones, and counts what the answers say.

    Args:
        store: the budget's Redis.
        prices: the counters' price book.
        metrics: the budget's series (spent, overruns).
        outage: the Redis outage bookkeeping shared with the guard.
        clock: seconds since the epoch.
        reservation_seconds: the expiry of a reservation nobody refreshes.
    """

    def __init__(
        self,
        store: RedisStore,
        prices: PriceBook,
        metrics: BudgetMetrics,
        outage: Outage,
        clock: Callable[[], float],
        reservation_seconds: float,
    ) -> None:
        self._store = store
        self._prices = prices
        self._metrics = metrics
        self._outage = outage
        self._clock = clock
        self.hold_ms = round(reservation_seconds * 1000)
        # The reservations of calls still running, by id (held weakly).
        self._live: weakref.WeakValueDictionary[str, Hold] = weakref.WeakValueDictionary()
        # Settle tasks on event loops, still running.
        self._settling: set[asyncio.Task[None]] = set()
        # busy: this thread is inside one of the guard's sync Redis operations.
        self.local = threading.local()
        self.settler = Settler(
            self._settle_batch, self._refresh, reservation_seconds / 3, outage.failed
        )

    def live(self, hold: Hold) -> None:
        """``hold``'s call runs: refresh its expiry until it settles."""
        self._live[hold.id] = hold
        if not self.settler.running:
            self.settler.start()

    def settle(
        self, hold: Hold, provider: str, model: str, usage: Usage | None, ended: float
    ) -> None:
        """Replace ``hold`` by the call's actual cost, from wherever the call ended."""
        self._live.pop(hold.id, None)
        item: _Item = (hold, provider, model, usage, ended)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            task = loop.create_task(self._settle_async(item))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)
        elif getattr(self.local, "busy", False) or self._outage.skip():
            self.settler.submit(item)
        else:
            self._settle_now(item)

    def release(self, hold: Hold) -> None:
        """Release a reservation whose answer never came (by the settler thread)."""
        hold.settled = True
        self.settler.submit((hold, "", "", None, 0.0))

    def _args(self, item: _Item) -> tuple[int, list[Any]]:
        hold, provider, model, usage, ended = item
        cost = self._cost(provider, model, usage, ended)
        ttl = math.ceil(hold.period.seconds_left(self._clock())) + KEY_GRACE_SECONDS
        return cost, [hold.id, cost, ttl]

    def _settle_now(self, item: _Item) -> None:
        cost, args = self._args(item)
        self.local.busy = True
        try:
            answer = self._store.run("SETTLE", item[0].keys, args)
        except self._outage.errors as error:
            self._outage.failed(error)
            self.settler.submit(item)
            return
        finally:
            self.local.busy = False
        self._outage.up()
        self._settled(item, cost, answer)

    async def _settle_async(self, item: _Item) -> None:
        cost, args = self._args(item)
        try:
            answer = await self._store.run_async("SETTLE", item[0].keys, args)
        except self._outage.errors as error:
            self._outage.failed(error)
            self.settler.submit(item)
            return
        except BaseException:
            self.settler.submit(item)  # the loop is closing: the thread settles it
            raise
        self._outage.up()
        self._settled(item, cost, answer)

    def sending(self) -> bool:
        """Whether settle tasks are in flight on some loop."""
        return bool(self._settling)

    async def sent(self) -> None:
        """Wait for this loop's settles in flight."""
        loop = asyncio.get_running_loop()
        pending = [task for task in list(self._settling) if task.get_loop() is loop]
        if pending:
            await asyncio.wait(pending, timeout=TIMEOUT_SECONDS)

    def _cost(self, provider: str, model: str, usage: Usage | None, ended: float) -> int:
        """The actual cost in nano-USD: the counters' price lookup and arithmetic."""
        if usage is None:
            return 0
        price = self._prices.price(provider, model, utc_day(ended))
        return 0 if price is None else round(price.cost(usage) * NANO)

    def _settled(self, item: _Item, cost: int, answer: Sequence[int]) -> None:
        hold, provider, model, _, _ = item
        committed, _, held = answer
        self._metrics.spent(hold.period.name, committed / NANO)
        # Held -1: the reservation had expired (or none was made): the bound it had.
        covered = held if held >= 0 else hold.amount if hold.checked else cost
        if cost > covered:
            self._overran(provider, model, cost, covered)

    def _settle_batch(self, batch: Sequence[_Item]) -> None:
        """The settler thread's settles, in one round trip."""
        prepared = [self._args(item) for item in batch]
        calls = [
            ("SETTLE", item[0].keys, args) for item, (_, args) in zip(batch, prepared, strict=True)
        ]
        self.local.busy = True
        try:
            answers = self._store.run_many(calls)
        finally:
            self.local.busy = False
        self._outage.up()
        for item, (cost, _), answer in zip(batch, prepared, answers, strict=True):
            self._settled(item, cost, answer)

    def _overran(self, provider: str, model: str, cost: int, covered: int) -> None:
        self._metrics.overran((cost - covered) / NANO)
        key = (provider, model)
        if key not in _overran_models and len(_overran_models) < 10_000:
            _overran_models.add(key)
            logger.warning(
                "LLM budget: a %s %r call cost %.6f USD, more than its reservation of %.6f; "
                "committed in full (see docs/llm.md, sizing max_tokens). Logged once per model.",
                provider,
                model,
                cost / NANO,
                covered / NANO,
            )

    def _refresh(self) -> None:
        """Move the expiry of the reservations of calls still running."""
        by_keys: dict[str, tuple[Hold, list[str]]] = {}
        for hold in list(self._live.values()):
            if not hold.settled:
                entry = by_keys.setdefault(hold.keys[0], (hold, []))
                entry[1].append(hold.id)
        if not by_keys:
            return
        calls = [("REFRESH", hold.keys, [self.hold_ms, *ids]) for hold, ids in by_keys.values()]
        answers = self._store.run_many(calls)
        self._outage.up()
        for (hold, _), (committed, _) in zip(by_keys.values(), answers, strict=True):
            self._metrics.spent(hold.period.name, committed / NANO)


def utc_day(when: float) -> datetime.date:
    """The UTC date of ``when``: prices change at UTC midnight."""
    return datetime.date.fromordinal(_EPOCH_ORDINAL + int(when // 86400))
