"""Helpers for testing agents with pytest: an in-process client, metric reads, real servers.

Needs the ``testing`` extra (``pip install "greenlang-runtime[testing]"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from greenlang_runtime.runtime import AgentRuntime
from greenlang_runtime.testing._fake_llm import FakeLLMServer, FakeUsage
from greenlang_runtime.testing._servers import BlackHole, PostgresServer, RedisServer, postgres_bin

__all__ = [
    "BlackHole",
    "FakeLLMServer",
    "FakeUsage",
    "PostgresServer",
    "RedisServer",
    "RuntimeClient",
    "metric_value",
    "postgres_bin",
]

try:
    from starlette.testclient import TestClient
except RuntimeError as error:  # starlette raises RuntimeError when httpx2 is missing
    raise ImportError(
        "greenlang_runtime.testing needs the testing extra: "
        'pip install "greenlang-runtime[testing]"'
    ) from error


class RuntimeClient(TestClient):
    """An in-process HTTP client for a runtime's app, with its lifespan.

    As a context manager it runs the startup (and, with ``wait_for_startup``,
    waits until every ``on_startup`` hook has finished), then the shutdown
    on exit. Requests go straight to the ASGI app, with no socket.

    Args:
        runtime: the agent to call.
        wait_for_startup: return from ``with`` only once ``/health/startup`` is 200.
    """

    def __init__(self, runtime: AgentRuntime, *, wait_for_startup: bool = True, **options: Any):
        super().__init__(runtime.asgi_app, **options)
        self.runtime = runtime
        self._wait_for_startup = wait_for_startup

    def __enter__(self) -> RuntimeClient:
        super().__enter__()
        if self._wait_for_startup:
            self.portal.call(self.runtime.wait_started)  # type: ignore[union-attr]
        return self


def metric_value(
    runtime: AgentRuntime, name: str, labels: Mapping[str, str] | None = None
) -> float | None:
    """The current value of sample ``name`` of ``runtime``, or ``None`` if absent.

    The ``agent_id``, ``version`` and ``tenant_id`` labels are filled in from
    the runtime's identity (they cannot be overridden); pass only the others, e.g.
    ``metric_value(runtime, "agent_requests_total", {"capability": "echo", "status": "success"})``.
    """
    full = dict(labels or {})
    if name.startswith("agent_"):
        agent_id, version, tenant_id = runtime.identity.labels
        full.update(agent_id=agent_id, version=version, tenant_id=tenant_id)
    return runtime.registry.get_sample_value(name, full)
