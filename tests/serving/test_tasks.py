"""Work that outlives its request (serving/_tasks.py): awaited by the drain, cut off past it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from greenlang_runtime import AgentRuntime, Settings
from greenlang_runtime.testing import RuntimeClient, metric_value


def test_background_work_finishes_before_shutdown(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """Work started with create_task completes before the runtime's shutdown returns."""
    runtime = make_runtime()
    finished: list[str] = []

    async def follow_up(order: str) -> None:
        await asyncio.sleep(0.3)
        finished.append(order)

    @runtime.capability
    async def accept(payload: dict[str, str]) -> dict[str, str]:
        runtime.create_task(follow_up(payload["order"]), name="follow-up")
        return {"accepted": payload["order"]}

    with RuntimeClient(runtime) as client:
        response = client.post("/v1/capabilities/accept", json={"order": "A-1"})
        assert response.json() == {"accepted": "A-1"}
        assert finished == []  # the call did not wait for it
    assert finished == ["A-1"]
    assert metric_value(runtime, "agent_errors_total", {"error_type": "CancelledError"}) is None


def test_background_work_past_the_deadline_is_cancelled_and_counted(
    make_runtime: Callable[..., AgentRuntime], caplog: pytest.LogCaptureFixture
) -> None:
    """A task still running at the drain deadline is cancelled, logged by name, counted."""
    runtime = make_runtime(settings=Settings(drain_timeout_seconds=0.2))
    cancelled = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    @runtime.on_startup
    async def start_consumer() -> None:
        runtime.create_task(forever(), name="queue-consumer")

    with caplog.at_level(logging.INFO, "greenlang_runtime"), RuntimeClient(runtime):
        pass
    assert cancelled.is_set()
    assert "background task queue-consumer did not finish by the drain deadline" in caplog.text
    assert metric_value(runtime, "agent_errors_total", {"error_type": "CancelledError"}) == 1


def test_failed_background_work_is_logged_and_counted(
    make_runtime: Callable[..., AgentRuntime], caplog: pytest.LogCaptureFixture
) -> None:
    """A task that raises is logged with its name and counted by exception class."""
    runtime = make_runtime()

    async def broken() -> None:
        raise LookupError("no such order")

    @runtime.on_startup
    async def start() -> None:
        runtime.create_task(broken(), name="reconcile")

    with caplog.at_level(logging.INFO, "greenlang_runtime"), RuntimeClient(runtime):
        pass
    assert "background task reconcile raised LookupError" in caplog.text
    assert metric_value(runtime, "agent_errors_total", {"error_type": "LookupError"}) == 1


def test_create_task_outside_a_loop_is_a_clear_error(runtime: AgentRuntime) -> None:
    """Calling create_task from plain sync code says it needs a running event loop."""

    async def work() -> None: ...

    with pytest.raises(RuntimeError, match=r"create_task\(\) needs a running event loop"):
        runtime.create_task(work())
