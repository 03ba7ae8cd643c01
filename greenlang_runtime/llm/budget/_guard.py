"""The budget guard: reserve before a call is sent, settle when it ends, on every path.

Invariant, with Redis up: in every period, ``committed <= limit``, where
``committed`` is the sum of the settled calls' actual costs, however many
replicas call at once. It holds because

1. a call is sent only after one atomic script has admitted its
   reservation, an upper bound of its cost (``_bound.py``), with
   ``committed + reserved + bound <= limit`` (``reserved`` counting only
   unexpired reservations);
2. settling replaces that reservation by the actual cost, which the bound
   covers, in one more atomic script; so ``committed + reserved`` never grows
   past what admissions allowed;
3. a reservation is released only by its settle or by its expiry, and the
   expiry of a call still running is moved on by its replica (the settler's
   refresh): only a replica that has died, or lost Redis for longer than
   ``GL_LLM_BUDGET_RESERVATION_SECONDS``, loses its reservations.

Where the bound does not cover the call (a prompt whose tokens outnumber its
bytes, an output past the default limit), the actual cost is committed all
the same, logged and counted in ``agent_llm_budget_excess_usd_total``. With
Redis unreachable, ``allow`` lets calls through unchecked (counted, and
committed once Redis is back) and ``deny`` refuses them.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from greenlang_runtime.exceptions import LLMBudgetExceeded
from greenlang_runtime.llm.budget._bound import NANO, bound, output_limit, request_bytes
from greenlang_runtime.llm.budget._collector import BudgetMetrics
from greenlang_runtime.llm.budget._config import BudgetConfig
from greenlang_runtime.llm.budget._hold import BudgetStatus, Hold
from greenlang_runtime.llm.budget._outage import Outage
from greenlang_runtime.llm.budget._period import Period, Periods
from greenlang_runtime.llm.budget._settle import KEY_GRACE_SECONDS, Settlements, utc_day
from greenlang_runtime.llm.budget._store import RedisStore

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from greenlang_runtime.config import Identity
    from greenlang_runtime.llm.pricing import PriceBook

__all__ = ["DENY_RETRY_AFTER", "BudgetGuard", "BudgetService"]

# Retry-After of a refusal while the budget cannot be checked (deny).
DENY_RETRY_AFTER: Final = 10.0
_PARTS: Final = ("committed", "reserved", "held", "amounts")


class BudgetGuard:
    """Admits an instrumented client's calls against a budget shared through Redis.

    The invariant (with Redis up, ``committed <= limit`` in every period)
    and why it holds are in this module's docstring.

    Args:
        config: the budget's settings.
        identity: gives the scope's id (the tenant, or the tenant and agent).
        prices: prices the bounds and the actual costs (the counters' own book).
        registry: where the ``agent_llm_budget_*`` collector is registered.
        clock: seconds since the epoch; decides the period.
        store: the Redis operations; default: a :class:`RedisStore` of ``config.redis_url``.
    """

    def __init__(
        self,
        config: BudgetConfig,
        identity: Identity,
        prices: PriceBook,
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
        store: RedisStore | None = None,
    ) -> None:
        self.config = config
        self.limit = config.usd
        self._limit_nano = math.floor(config.usd * NANO)
        if config.scope == "tenant":
            self.scope_id = f"tenant:{identity.tenant_id}"
        else:
            self.scope_id = f"agent:{identity.tenant_id}:{identity.agent_id}"
        self._prices = prices
        self._clock = clock
        self._periods = Periods(config.period)
        self._store = store or RedisStore(config.redis_url)
        self.metrics = BudgetMetrics(
            identity.labels, config.scope, config.usd, self._periods, clock, registry
        )
        self._outage = Outage(config.on_error)
        self.settlements = Settlements(
            self._store, prices, self.metrics, self._outage, clock, config.reservation_seconds
        )
        self._keys: tuple[str, list[str]] = ("", [])
        self._ids = itertools.count()
        self._id_prefix = os.urandom(6).hex() + "-"

    # --- the call path -------------------------------------------------------

    def _period_keys(self, period: Period) -> list[str]:
        name, keys = self._keys
        if name != period.name:
            tag = f"gl:llm-budget:{{{self.scope_id}:{period.name}}}:"
            keys = [tag + part for part in _PARTS]
            self._keys = (period.name, keys)
        return keys

    def _prepare(
        self, provider: str, path: str, model: str, body: Any, extra: Any
    ) -> tuple[Hold, list[Any]]:
        now = self._clock()
        period = self._periods.at(now)
        fields = body if isinstance(body, Mapping) else {}
        price = self._prices.price(provider, model, utc_day(now))
        amount = 0
        if price is not None:
            amount = bound(price, request_bytes(body, extra), output_limit(path, fields))
        hold_id = self._id_prefix + str(next(self._ids))
        hold = Hold(self.settlements.settle, hold_id, period, self._period_keys(period), amount)
        ttl = math.ceil(period.seconds_left(now)) + KEY_GRACE_SECONDS
        return hold, [hold.id, amount, self._limit_nano, self.settlements.hold_ms, ttl]

    def reserve(self, provider: str, path: str, model: str, body: Any, extra: Any = None) -> Hold:
        """Reserve the call's bound before it is sent (sync clients); raise when it does not fit.

        Raises:
            LLMBudgetExceeded: the bound does not fit, or Redis is unreachable under ``deny``.
        """
        hold, args = self._prepare(provider, path, model, body, extra)
        if self._outage.skip():
            return self._unchecked(hold, None)
        local = self.settlements.local
        local.busy = True
        try:
            answer = self._store.run("RESERVE", hold.keys, args)
        except self._outage.errors as error:
            return self._unchecked(hold, error)
        except BaseException:
            self.settlements.release(hold)  # interrupted: the script may have run
            raise
        finally:
            local.busy = False
        return self._admit(hold, answer)

    async def reserve_async(
        self, provider: str, path: str, model: str, body: Any, extra: Any = None
    ) -> Hold:
        """:meth:`reserve` for async clients: over ``redis.asyncio``, never blocking the loop."""
        hold, args = self._prepare(provider, path, model, body, extra)
        if self._outage.skip():
            return self._unchecked(hold, None)
        try:
            if self.settlements.sending():
                # A call after another on this loop sees the other's settle.
                await self.settlements.sent()
            answer = await self._store.run_async("RESERVE", hold.keys, args)
        except self._outage.errors as error:
            return self._unchecked(hold, error)
        except BaseException:
            self.settlements.release(hold)  # cancelled: the script may have run
            raise
        return self._admit(hold, answer)

    def _admit(self, hold: Hold, answer: Sequence[int]) -> Hold:
        admitted, committed, reserved = answer
        self._outage.up()
        self.metrics.spent(hold.period.name, committed / NANO)
        if not admitted:
            hold.settled = True  # nothing is held
            self.metrics.rejected()
            now = self._clock()
            raise LLMBudgetExceeded(
                limit=self.limit,
                committed=committed / NANO,
                reserved=reserved / NANO,
                requested=hold.amount / NANO,
                retry_after=hold.period.seconds_left(now),
                reason=(
                    f"The LLM budget of {self.scope_id} for {hold.period.name} has no room for "
                    f"this call: {committed / NANO:.6f} of {self.limit:g} USD committed and "
                    f"{reserved / NANO:.6f} reserved, and the call may cost up to "
                    f"{hold.amount / NANO:.6f} USD (GL_LLM_BUDGET_USD; lower max_tokens to "
                    f"reserve less). The budget renews at {hold.period.ends_at.isoformat()}."
                ),
            )
        if hold.amount > 0:
            self.settlements.live(hold)
        return hold

    def _unchecked(self, hold: Hold, error: BaseException | None) -> Hold:
        """Redis did not answer: let the call through (allow) or refuse it (deny)."""
        if error is not None:
            self._outage.failed(error)
        if self.config.on_error == "deny":
            hold.settled = True
            self.metrics.rejected()
            raise LLMBudgetExceeded(
                limit=self.limit,
                committed=None,
                reserved=None,
                requested=hold.amount / NANO,
                retry_after=DENY_RETRY_AFTER,
                reason=(
                    "The LLM budget cannot be checked (its Redis is unreachable) and "
                    "GL_LLM_BUDGET_ON_ERROR=deny: the call is refused."
                ),
            )
        hold.checked = False
        self.metrics.let_through()
        return hold

    # --- reading ---------------------------------------------------------------

    def _status(self, period: Period, answer: Sequence[int] | None) -> BudgetStatus:
        committed = reserved = None
        if answer is not None:
            committed, reserved = answer[0] / NANO, answer[1] / NANO
            self.metrics.spent(period.name, committed)
        return BudgetStatus(
            self.limit, committed, reserved, period.name, period.ends_at, self.config.scope
        )

    def status(self) -> BudgetStatus:
        """The current period's limit, committed and reserved spend, and end (one Redis read)."""
        period = self._periods.at(self._clock())
        local = self.settlements.local
        local.busy = True
        try:
            answer: Sequence[int] | None = self._store.run("READ", self._period_keys(period), [])
        except self._outage.errors as error:
            self._outage.failed(error)
            answer = None
        finally:
            local.busy = False
        return self._status(period, answer)

    async def status_async(self) -> BudgetStatus:
        """:meth:`status` over the async client (after this loop's settles in flight)."""
        period = self._periods.at(self._clock())
        try:
            if self.settlements.sending():
                await self.settlements.sent()
            answer: Sequence[int] | None = await self._store.run_async(
                "READ", self._period_keys(period), []
            )
        except self._outage.errors as error:
            self._outage.failed(error)
            answer = None
        return self._status(period, answer)

    # --- the end -----------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every ended call is settled in Redis; ``False`` at the timeout."""
        return self.settlements.settler.flush(timeout)

    async def flush_async(self, seconds: float = 5.0) -> bool:
        """:meth:`flush` from an event loop: its own settle tasks first, then the thread's."""
        import anyio.to_thread

        await self.settlements.sent()
        return await anyio.to_thread.run_sync(self.settlements.settler.flush, seconds)

    async def aclose(self, seconds: float = 2.0) -> None:
        """From the event loop the async client runs on: settle what is queued, then close all."""
        import anyio.to_thread

        await self.flush_async(seconds)
        await self._store.aclose()
        await anyio.to_thread.run_sync(self.close, seconds)

    def close(self, timeout: float = 2.0) -> None:
        """Settle what is queued (up to ``timeout``), stop the settler, close the connections."""
        self.settlements.settler.close(timeout)
        self._store.close()


class BudgetService:
    """The guard as a lifespan service: at the end, settle what is queued and close.

    Args:
        guard: the budget guard of the runtime's LLM accounting.
        timeout: bound on the last settles, in seconds.
    """

    def __init__(self, guard: BudgetGuard, timeout: float = 2.0) -> None:
        self._guard = guard
        self._timeout = timeout

    async def start(self) -> None:
        """Nothing to start: the settler thread starts with the first call."""

    async def stop(self) -> None:
        """Settle the calls that ended (up to the timeout), then close."""
        await self._guard.aclose(self._timeout)
