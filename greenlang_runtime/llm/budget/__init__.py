"""LLM budgets that hold across replicas: reserve before a call, settle after, in Redis.

See ``_guard.py`` for the invariant and why it holds, ``_bound.py`` for the
reservation, ``_scripts.py`` for the Redis operations and docs/llm.md for
the guarantee, the failure modes and how to size ``max_tokens``. Importing
this package does not import redis: the client is loaded at the first call.
"""

from __future__ import annotations

from greenlang_runtime.llm.budget._bound import DEFAULT_MAX_OUTPUT_TOKENS
from greenlang_runtime.llm.budget._config import BudgetConfig
from greenlang_runtime.llm.budget._guard import BudgetGuard, BudgetService
from greenlang_runtime.llm.budget._hold import BudgetStatus, Hold
from greenlang_runtime.llm.budget._period import PERIODS, Period, period_at

__all__ = [
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "PERIODS",
    "BudgetConfig",
    "BudgetGuard",
    "BudgetService",
    "BudgetStatus",
    "Hold",
    "Period",
    "period_at",
]
