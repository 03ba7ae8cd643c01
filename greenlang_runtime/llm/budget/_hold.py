"""One call's reservation, and the budget's figures as a caller reads them."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from greenlang_runtime.llm._usage import Usage
    from greenlang_runtime.llm.budget._period import Period

__all__ = ["BudgetStatus", "Hold", "SettleFn"]

# settle(hold, provider, model, usage or None, end time)
SettleFn = Callable[["Hold", str, str, "Usage | None", float], None]


class Hold:
    """One call's reservation, from its admission to its settle (which happens once).

    Invariant: while it is held, its ``amount`` (the call's bound, nano-USD)
    counts in ``reserved``, so ``committed + reserved <= limit`` holds with
    the call's cost already covered; its settle commits the actual cost and
    releases the amount in one atomic step.

    The call holds it; the guard only refers to it weakly (to refresh its
    expiry while the call runs). There is no finaliser here: a call's own
    end, collected streams included, settles it with the actual usage, and
    a hold lost any other way stops being refreshed and expires.
    ``checked`` is ``False`` for a call let through while Redis was
    unreachable (``allow``): its cost is committed when Redis is back.
    """

    __slots__ = ("__weakref__", "_settle", "amount", "checked", "id", "keys", "period", "settled")

    def __init__(
        self, settle: SettleFn, hold_id: str, period: Period, keys: list[str], amount: int
    ) -> None:
        self._settle = settle
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
        self._settle(self, provider, model, usage, ended)


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
