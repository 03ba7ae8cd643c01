"""``greenlang-runtime wait-for-dependencies``: block until every dependency answers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from greenlang_runtime.checks._check import Check, Status
from greenlang_runtime.checks._collector import DependencyMetrics
from greenlang_runtime.checks._runner import CheckRunner

__all__ = ["wait_for_dependencies"]

# Between two rounds of checks: often enough that a pod starts soon after its
# database does, rarely enough not to hammer a database that is starting.
_ROUND_SECONDS = 1.0


async def wait_for_dependencies(checks: Iterable[Check], seconds: float) -> dict[str, str]:
    """Check every dependency in rounds until all are up or ``seconds`` have passed.

    Returns what is still down, each with its (redacted) reason; empty when
    every dependency is up. A round in progress at the timeout is finished
    first, so this may overrun by up to one check's own timeout.
    """
    # No damping here: the init container only needs to see each one answer once.
    runner = CheckRunner(DependencyMetrics(("", "", "")), fall=1, rise=1)
    for check in checks:
        runner.add(check)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        while True:
            await runner.check_all()
            down = {
                name: state.error or "no answer yet"
                for name, state in runner.states.items()
                if state.status is not Status.UP
            }
            remaining = deadline - loop.time()
            if not down or remaining <= 0:
                return down
            await asyncio.sleep(min(_ROUND_SECONDS, remaining))
    finally:
        await runner.stop()
