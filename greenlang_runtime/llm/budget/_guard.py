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

import asyncio
import datetime
import itertools
import logging
import math
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from greenlang_runtime.exceptions import LLMBudgetExceeded
from greenlang_runtime.llm.budget._bound import NANO, bound, output_limit, request_bytes
from greenlang_runtime.llm.budget._collector import BudgetMetrics
from greenlang_runtime.llm.budget._config import BudgetConfig
from greenlang_runtime.llm.budget._period import Period, Periods
from greenlang_runtime.llm.budget._settler import Settler
from greenlang_runtime.llm.budget._store import TIMEOUT_SECONDS, RedisStore, redis_errors

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from greenlang_runtime.config import Identity
    from greenlang_runtime.llm._usage import Usage
    from greenlang_runtime.llm.pricing import PriceBook

__all__ = [
    "DENY_RETRY_AFTER",
    "KEY_GRACE_SECONDS",
    "BudgetGuard",
    "BudgetService",
    "BudgetStatus",
    "Hold",
]

logger = logging.getLogger("greenlang_runtime.llm")

# Retry-After of a refusal while the budget cannot be checked (deny).
DENY_RETRY_AFTER: Final = 10.0
# Period keys expire this long after the period's end: late settles of calls
# reserved in it still land there, and nothing reads them after.
KEY_GRACE_SECONDS: Final = 2 * 86400
# After a failed Redis operation, calls do not try Redis again for this long
# (a down Redis costs them nothing, a hung one its timeout only once).
_RECHECK_SECONDS: Final = 0.5
_EPOCH_ORDINAL: Final = datetime.date(1970, 1, 1).toordinal()
_overran_models: set[tuple[str, str]] = set()


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """The budget of the current period, as Redis answered.

    Args:
        limit: the budget in USD.
        committed: spend of settled calls in USD; ``None`` when Redis could not be read.
        reserved: USD held by calls still running; ``None`` when Redis could not be read.
        period: ``2026-12-02`` or ``2026-12``.
        period_end: when the period ends (and the budget renews), UTC.
        scope: ``tenant`` or ``agent``.
    """

    limit: float
    committed: float | None
    reserved: float | None
    period: str
    period_end: datetime.datetime
    scope: str

    @property
    def remaining(self) -> float | None:
        """What is left for new calls, in USD (``None`` when unknown)."""
        if self.committed is None or self.reserved is None:
            return None
        return max(0.0, self.limit - self.committed - self.reserved)


class Hold:
    """One call's reservation, from its admission to its settle (which happens once).

    The call holds it; the guard only refers to it weakly (to refresh its
    expiry while the call runs). There is no finaliser here: a call's own
    end, collected streams included, settles it with the actual usage, and
    a hold lost any other way stops being refreshed and expires.
    ``checked`` is ``False`` for a call let through while Redis was
    unreachable (``allow``): its cost is committed when Redis is back.
    """

    __slots__ = ("__weakref__", "amount", "checked", "guard", "id", "keys", "period", "settled")

    def __init__(
        self, guard: BudgetGuard, hold_id: str, period: Period, keys: list[str], amount: int
    ) -> None:
        self.guard = guard
        self.id = hold_id
        self.period = period
        self.keys = keys
        self.amount = amount
        self.checked = True
        self.settled = False

    def settle(self, provider: str, model: str, usage: Usage | None, ended: float) -> None:
        """Replace the reservation by what ``usage`` of ``model`` cost (``None``: nothing)."""
        if self.settled:
            return
        self.settled = True
        self.guard.settle(self, provider, model, usage, ended)


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
        self._hold_ms = round(config.reservation_seconds * 1000)
        self._store = store or RedisStore(config.redis_url)
        self.metrics = BudgetMetrics(
            identity.labels, config.scope, config.usd, self._periods, clock, registry
        )
        self._keys: tuple[str, list[str]] = ("", [])
        self._ids = itertools.count()
        self._id_prefix = os.urandom(6).hex() + "-"
        self._live: weakref.WeakValueDictionary[str, Hold] = weakref.WeakValueDictionary()
        # Settle tasks on event loops, still running.
        self._settling: set[asyncio.Task[None]] = set()
        # busy: this thread is inside one of the guard's sync Redis operations.
        self._local = threading.local()
        self._errors: tuple[type[BaseException], ...] | None = None
        self._down = False
        self._recheck_at = 0.0
        self._down_lock = threading.Lock()
        self.settler = Settler(
            self._settle_batch, self._refresh, config.reservation_seconds / 3, self._failed
        )

    # --- the call path -------------------------------------------------------

    def _prepare(
        self, provider: str, path: str, model: str, body: Any, extra: Any
    ) -> tuple[Hold, list[Any]]:
        now = self._clock()
        period = self._periods.at(now)
        name, keys = self._keys
        if name != period.name:
            tag = f"gl:llm-budget:{{{self.scope_id}:{period.name}}}:"
            keys = [tag + part for part in ("committed", "reserved", "held", "amounts")]
            self._keys = (period.name, keys)
        fields = body if isinstance(body, Mapping) else {}
        price = self._prices.price(provider, model, _utc_day(now))
        amount = 0
        if price is not None:
            amount = bound(price, request_bytes(body, extra), output_limit(path, fields))
        hold = Hold(self, self._id_prefix + str(next(self._ids)), period, keys, amount)
        ttl = math.ceil(period.seconds_left(now)) + KEY_GRACE_SECONDS
        return hold, [hold.id, amount, self._limit_nano, self._hold_ms, ttl]

    def reserve(self, provider: str, path: str, model: str, body: Any, extra: Any = None) -> Hold:
        """Reserve the call's bound before it is sent (sync clients); raise when it does not fit.

        Raises:
            LLMBudgetExceeded: the bound does not fit, or Redis is unreachable under ``deny``.
        """
        hold, args = self._prepare(provider, path, model, body, extra)
        if self._skip():
            return self._unchecked(hold, None)
        errors = self._errors or self._load_errors()
        self._local.busy = True
        try:
            answer = self._store.run("RESERVE", hold.keys, args)
        except errors as error:
            return self._unchecked(hold, error)
        except BaseException:
            self._release(hold)  # interrupted: the script may have run
            raise
        finally:
            self._local.busy = False
        return self._admit(hold, answer)

    async def reserve_async(
        self, provider: str, path: str, model: str, body: Any, extra: Any = None
    ) -> Hold:
        """:meth:`reserve` for async clients: over ``redis.asyncio``, never blocking the loop."""
        hold, args = self._prepare(provider, path, model, body, extra)
        if self._skip():
            return self._unchecked(hold, None)
        errors = self._errors or self._load_errors()
        try:
            if self._settling:
                await self._settles_sent()
            answer = await self._store.run_async("RESERVE", hold.keys, args)
        except errors as error:
            return self._unchecked(hold, error)
        except BaseException:
            self._release(hold)  # cancelled: the script may have run
            raise
        return self._admit(hold, answer)

    def _release(self, hold: Hold) -> None:
        """Release a reservation whose answer never came (by the settler thread)."""
        hold.settled = True
        self.settler.submit((hold, "", "", None, 0.0))

    def _admit(self, hold: Hold, answer: Sequence[int]) -> Hold:
        admitted, committed, reserved = answer
        self._up()
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
            self._live[hold.id] = hold
            if not self.settler.running:
                self.settler.start()  # it refreshes the reservations of running calls
        return hold

    def _unchecked(self, hold: Hold, error: BaseException | None) -> Hold:
        """Redis did not answer: let the call through (allow) or refuse it (deny)."""
        if error is not None:
            self._failed(error)
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

    # --- settling --------------------------------------------------------------

    def settle(
        self, hold: Hold, provider: str, model: str, usage: Usage | None, ended: float
    ) -> None:
        """Replace ``hold`` by the call's actual cost, from wherever the call ended.

        On an event loop: a task over the async client (the loop's next
        reservation waits for it). In a plain thread: at once, over the sync
        client. Inside one of the guard's own Redis operations (a finaliser
        run by the garbage collector there), or after a failure: by the
        settler thread, which tries again until Redis answers.
        """
        self._live.pop(hold.id, None)
        item = (hold, provider, model, usage, ended)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            task = loop.create_task(self._settle_async(item))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)
        elif getattr(self._local, "busy", False) or self._skip():
            self.settler.submit(item)
        else:
            self._settle_now(item)

    def _settle_args(self, item: Any) -> tuple[int, list[Any]]:
        hold, provider, model, usage, ended = item
        cost = self._cost(provider, model, usage, ended)
        ttl = math.ceil(hold.period.seconds_left(self._clock())) + KEY_GRACE_SECONDS
        return cost, [hold.id, cost, ttl]

    def _settle_now(self, item: Any) -> None:
        cost, args = self._settle_args(item)
        errors = self._errors or self._load_errors()
        self._local.busy = True
        try:
            answer = self._store.run("SETTLE", item[0].keys, args)
        except errors as error:
            self._failed(error)
            self.settler.submit(item)
            return
        finally:
            self._local.busy = False
        self._up()
        self._settled(item, cost, answer)

    async def _settle_async(self, item: Any) -> None:
        cost, args = self._settle_args(item)
        errors = self._errors or self._load_errors()
        try:
            answer = await self._store.run_async("SETTLE", item[0].keys, args)
        except errors as error:
            self._failed(error)
            self.settler.submit(item)
            return
        except BaseException:
            self.settler.submit(item)  # the loop is closing: the thread settles it
            raise
        self._up()
        self._settled(item, cost, answer)

    async def _settles_sent(self) -> None:
        """Wait for this loop's settles in flight: a call after another sees its settle."""
        loop = asyncio.get_running_loop()
        pending = [task for task in list(self._settling) if task.get_loop() is loop]
        if pending:
            await asyncio.wait(pending, timeout=TIMEOUT_SECONDS)

    def _cost(self, provider: str, model: str, usage: Usage | None, ended: float) -> int:
        """The actual cost in nano-USD: the counters' price lookup and arithmetic."""
        if usage is None:
            return 0
        price = self._prices.price(provider, model, _utc_day(ended))
        return 0 if price is None else round(price.cost(usage) * NANO)

    def _settled(self, item: Any, cost: int, answer: Sequence[int]) -> None:
        hold, provider, model, _, _ = item
        committed, _, held = answer
        self.metrics.spent(hold.period.name, committed / NANO)
        # Held -1: the reservation had expired (or none was made): the bound it had.
        covered = held if held >= 0 else hold.amount if hold.checked else cost
        if cost > covered:
            self._overran(provider, model, cost, covered)

    def _settle_batch(self, batch: Sequence[Any]) -> None:
        """The settler thread's settles, in one round trip."""
        prepared = [self._settle_args(item) for item in batch]
        calls = [
            ("SETTLE", item[0].keys, args) for item, (_, args) in zip(batch, prepared, strict=True)
        ]
        self._local.busy = True
        try:
            answers = self._store.run_many(calls)
        finally:
            self._local.busy = False
        self._up()
        for item, (cost, _), answer in zip(batch, prepared, answers, strict=True):
            self._settled(item, cost, answer)

    def _overran(self, provider: str, model: str, cost: int, covered: int) -> None:
        self.metrics.overran((cost - covered) / NANO)
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
        calls = [("REFRESH", hold.keys, [self._hold_ms, *ids]) for hold, ids in by_keys.values()]
        answers = self._store.run_many(calls)
        self._up()
        for (hold, _), (committed, _) in zip(by_keys.values(), answers, strict=True):
            self.metrics.spent(hold.period.name, committed / NANO)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every ended call is settled in Redis; ``False`` at the timeout."""
        return self.settler.flush(timeout)

    async def flush_async(self, seconds: float = 5.0) -> bool:
        """:meth:`flush` from an event loop: its own settle tasks first, then the thread's."""
        import anyio.to_thread

        await self._settles_sent()
        return await anyio.to_thread.run_sync(self.settler.flush, seconds)

    async def aclose(self, seconds: float = 2.0) -> None:
        """From the event loop the async client runs on: settle what is queued, then close all."""
        import anyio.to_thread

        await self.flush_async(seconds)
        await self._store.aclose()
        await anyio.to_thread.run_sync(self.close, seconds)

    def close(self, timeout: float = 2.0) -> None:
        """Settle what is queued (up to ``timeout``), stop the settler, close the connections."""
        self.settler.close(timeout)
        self._store.close()

    # --- reading ---------------------------------------------------------------

    def _status(self, period: Period, answer: Sequence[int] | None) -> BudgetStatus:
        committed = reserved = None
        if answer is not None:
            committed, reserved = answer[0] / NANO, answer[1] / NANO
            self.metrics.spent(period.name, committed)
        return BudgetStatus(
            self.limit, committed, reserved, period.name, period.ends_at, self.config.scope
        )

    def _read_keys(self) -> tuple[Period, list[str]]:
        period = self._periods.at(self._clock())
        tag = f"gl:llm-budget:{{{self.scope_id}:{period.name}}}:"
        return period, [tag + part for part in ("committed", "reserved", "held", "amounts")]

    def status(self) -> BudgetStatus:
        """The current period's limit, committed and reserved spend, and end (one Redis read)."""
        period, keys = self._read_keys()
        errors = self._errors or self._load_errors()
        self._local.busy = True
        try:
            answer = self._store.run("READ", keys, [])
        except errors as error:
            self._failed(error)
            answer = None
        finally:
            self._local.busy = False
        return self._status(period, answer)

    async def status_async(self) -> BudgetStatus:
        """:meth:`status` over the async client."""
        period, keys = self._read_keys()
        errors = self._errors or self._load_errors()
        try:
            answer = await self._store.run_async("READ", keys, [])
        except errors as error:
            self._failed(error)
            answer = None
        return self._status(period, answer)

    # --- outages ---------------------------------------------------------------

    def _load_errors(self) -> tuple[type[BaseException], ...]:
        self._errors = redis_errors()
        return self._errors

    def _skip(self) -> bool:
        """Whether Redis failed so recently that calls should not wait for it again yet."""
        return self._down and time.monotonic() < self._recheck_at

    def _failed(self, error: BaseException) -> None:
        """A Redis operation failed: one log line per outage, never one per call."""
        with self._down_lock:
            self._recheck_at = time.monotonic() + _RECHECK_SECONDS
            if self._down:
                return
            self._down = True
        mode = self.config.on_error
        logger.warning(
            "LLM budget: Redis is unreachable (%s); until it is back, calls are %s "
            "(GL_LLM_BUDGET_ON_ERROR=%s). Logged once per outage.",
            type(error).__name__,
            "let through unchecked" if mode == "allow" else "refused",
            mode,
        )

    def _up(self) -> None:
        if self._down:
            with self._down_lock:
                self._down = False


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


def _utc_day(when: float) -> datetime.date:
    """The UTC date of ``when``: prices change at UTC midnight."""
    return datetime.date.fromordinal(_EPOCH_ORDINAL + int(when // 86400))
