"""The checks the configuration asks for: `postgres` from DATABASE_URL, `redis` from REDIS_URL."""

from __future__ import annotations

from collections.abc import Callable

from greenlang_runtime.checks._collector import DependencyMetrics
from greenlang_runtime.checks._runner import CheckRunner
from greenlang_runtime.checks.postgres import postgres_check
from greenlang_runtime.checks.redis import redis_check
from greenlang_runtime.config import Settings

__all__ = ["configured_checks"]


def configured_checks(
    settings: Settings,
    metrics: DependencyMetrics,
    trace_failure: Callable[[str, float, str, str], None] | None = None,
) -> CheckRunner:
    """A check runner damped as ``settings`` say, with the checks their URLs ask for.

    ``trace_failure``: when tracing is on, told of each failed check (see
    :class:`CheckRunner`).
    """
    runner = CheckRunner(
        metrics,
        fall=settings.check_failure_threshold,
        rise=settings.check_success_threshold,
        trace_failure=trace_failure,
    )
    timeout, interval = settings.check_timeout_seconds, settings.check_interval_seconds
    if settings.database_url is not None:
        url = settings.database_url.reveal()
        runner.add(postgres_check(url, timeout=timeout, interval=interval))
    if settings.redis_url is not None:
        url = settings.redis_url.reveal()
        runner.add(redis_check(url, timeout=timeout, interval=interval))
    return runner
