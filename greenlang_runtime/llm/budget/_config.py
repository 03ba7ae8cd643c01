"""What a budget is configured with, taken from the runtime's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from greenlang_runtime.config import Settings

__all__ = ["BudgetConfig"]


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    """An LLM budget shared through Redis.

    Args:
        usd: the budget of one period (``GL_LLM_BUDGET_USD``).
        redis_url: where the spend is shared (``GL_LLM_BUDGET_REDIS_URL``, else ``REDIS_URL``).
        period: ``day`` or ``month``, UTC calendar periods.
        scope: ``tenant`` (the tenant's agents share it) or ``agent``.
        on_error: ``allow`` or ``deny`` calls while Redis is unreachable.
        reservation_seconds: how long a reservation outlives a replica that stopped
            refreshing it (one that died mid-call).
    """

    usd: float
    redis_url: str
    period: str = "day"
    scope: str = "tenant"
    on_error: str = "allow"
    reservation_seconds: float = 600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BudgetConfig | None:
        """The budget ``settings`` configure, or ``None`` when ``GL_LLM_BUDGET_USD`` is unset."""
        if settings.llm_budget_usd is None:
            return None
        url = settings.llm_budget_redis_url or settings.redis_url
        # Settings refuse a budget without a Redis URL, naming the variable.
        assert url is not None
        return cls(
            usd=settings.llm_budget_usd,
            redis_url=url.reveal(),
            period=settings.llm_budget_period,
            scope=settings.llm_budget_scope,
            on_error=settings.llm_budget_on_error,
            reservation_seconds=settings.llm_budget_reservation_seconds,
        )
