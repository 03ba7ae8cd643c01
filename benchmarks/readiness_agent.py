"""The agent the readiness benchmark serves: its checks come from DATABASE_URL and REDIS_URL."""

from __future__ import annotations

import asyncio

from greenlang_runtime import AgentRuntime

runtime = AgentRuntime()


@runtime.capability
async def work(payload: dict[str, str]) -> dict[str, str]:
    """Twenty milliseconds of work, as the rolling restart's route."""
    await asyncio.sleep(0.02)
    return {"order": payload["order"]}
