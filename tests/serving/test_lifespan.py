"""The agent's startup and shutdown (serving/_lifespan.py): hooks, the wrapped app's lifespan."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable

import pytest
from starlette.applications import Starlette

from greenlang_runtime import AgentRuntime, Settings
from greenlang_runtime._types import Receive, Scope, Send
from greenlang_runtime.testing import RuntimeClient, metric_value


def test_startup_probe_is_503_while_hooks_run(runtime: AgentRuntime) -> None:
    """While an on_startup hook runs, startup and readiness are 503 and liveness 200."""
    gate = threading.Event()

    @runtime.on_startup
    def warm_up() -> None:
        gate.wait(10)

    with RuntimeClient(runtime, wait_for_startup=False) as client:
        assert client.get("/health/startup").status_code == 503
        assert client.get("/health/startup").json() == {
            "status": "unavailable",
            "checks": {"on_startup": {"status": "pending"}},
        }
        assert client.get("/health/ready").status_code == 503
        assert client.get("/health/live").status_code == 200
        gate.set()
        client.portal.call(runtime.wait_started)  # type: ignore[union-attr]
        assert client.get("/health/startup").status_code == 200
        assert client.get("/health/ready").status_code == 200


def test_failed_startup_hook_keeps_probes_503(runtime: AgentRuntime) -> None:
    """A hook that raises leaves startup and readiness at 503, naming the hook."""

    @runtime.on_startup
    async def broken() -> None:
        raise ConnectionError("model store unreachable")

    with RuntimeClient(runtime) as client:
        response = client.get("/health/startup")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "checks": {
                "on_startup": {
                    "status": "down",
                    "error": "on_startup hook test_failed_startup_hook_keeps_probes_503.<locals>"
                    ".broken raised ConnectionError",
                }
            },
        }
        assert client.get("/health/ready").status_code == 503


def test_shutdown_hooks_run_on_exit(runtime: AgentRuntime) -> None:
    """on_shutdown hooks, sync and async, run in order when the app shuts down."""
    ran: list[str] = []

    @runtime.on_shutdown
    async def first() -> None:
        ran.append("first")

    @runtime.on_shutdown
    def second() -> None:
        ran.append("second")

    with RuntimeClient(runtime):
        assert ran == []
    assert ran == ["first", "second"]


def test_wrapped_app_without_lifespan_support_is_served(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """A bare ASGI app that rejects lifespan events still starts and serves."""

    async def bare(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http", "no lifespan here"
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    runtime = make_runtime(app=bare)
    with RuntimeClient(runtime) as client:
        assert client.get("/anything").status_code == 204
        assert client.get("/health/ready").status_code == 200
    labels = {"capability": "other", "status": "success"}
    assert metric_value(runtime, "agent_requests_total", labels) == 1


def test_wrapped_app_whose_startup_fails_fails_the_start(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """When the wrapped app's own lifespan startup fails, the runtime does not start."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        raise OSError("cannot open the model file")
        yield

    runtime = make_runtime(app=Starlette(lifespan=lifespan))
    with pytest.raises(OSError, match="cannot open the model file"), RuntimeClient(runtime):
        pass


def test_runtime_can_be_started_again(runtime: AgentRuntime) -> None:
    """A second client session on the same runtime reruns the hooks and reports starting."""
    gate = threading.Event()
    runs: list[int] = []

    @runtime.on_startup
    def warm_up() -> None:
        runs.append(1)
        if len(runs) == 2:
            gate.wait(10)

    with RuntimeClient(runtime) as client:
        assert client.get("/health/startup").status_code == 200
    with RuntimeClient(runtime, wait_for_startup=False) as client:
        assert client.get("/health/startup").status_code == 503
        gate.set()
        client.portal.call(runtime.wait_started)  # type: ignore[union-attr]
        assert client.get("/health/startup").status_code == 200
    assert runs == [1, 1]


def test_hung_sync_shutdown_hook_is_abandoned_at_the_timeout(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """A sync on_shutdown hook that hangs does not hold the shutdown past its timeout."""
    runtime = make_runtime(settings=Settings(shutdown_hooks_timeout_seconds=0.2))
    release = threading.Event()
    ran: list[str] = []

    @runtime.on_shutdown
    def hangs() -> None:
        release.wait(30)

    @runtime.on_shutdown
    def after() -> None:
        ran.append("after")

    with RuntimeClient(runtime):
        began = time.monotonic()
    waited = time.monotonic() - began
    release.set()
    assert waited < 10  # a bound on the hang (30 s), far above the 0.2 s timeout
    # The hook after the hung one never ran: the timeout covers them all.
    assert ran == []
