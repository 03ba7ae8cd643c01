"""``greenlang-runtime wait-for-dependencies``: block until every critical dependency answers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from greenlang_runtime.checks._check import Check, Status
from greenlang_runtime.checks._collector import DependencyMetrics
from greenlang_runtime.checks._runner import CheckRunner

__all__ = ["Waited", "wait_for_dependencies"]

# Between two rounds of checks: often enough that a pod starts soon after its
# database does, rarely enough not to hammer a database that is starting.
_ROUND_SECONDS = 1.0


@dataclass(frozen=True)
class Waited:
    """What the wait ended with.

    Args:
        down: each critical dependency still down, with its (masked) reason;
            empty when every one is up.
        optional: each non-critical dependency with ``up`` or its reason for
            being down, as last checked (never waited for).
    """

    down: dict[str, str]
    optional: dict[str, str]


async def wait_for_dependencies(checks: Iterable[Check], seconds: float) -> Waited:
    """Check every dependency in rounds until the critical ones are up or ``seconds`` passed.

    A non-critical dependency is checked with the others and reported, but
    never waited for: the agent serves (``degraded``) without it. A round in
    progress at the timeout is finished first, so this may overrun by up to
    one check's own timeout.
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
            down, optional = {}, {}
            for name, state in runner.states.items():
                up = state.status is Status.UP
                reason = "up" if up else state.error or "no answer yet"
                if not state.check.critical:
                    optional[name] = reason
                elif not up:
                    down[name] = reason
            remaining = deadline - loop.time()
            if not down or remaining <= 0:
                return Waited(down, optional)
            await asyncio.sleep(min(_ROUND_SECONDS, remaining))
    finally:
        await runner.stop()
