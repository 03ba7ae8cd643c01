"""The HTTP surface in-process: probes, lifespan, the author's app and the metrics app.

Capability calls over HTTP are in test_calls.py."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from greenlang_runtime import AgentRuntime, Settings
from greenlang_runtime.testing import RuntimeClient, metric_value


@pytest.fixture
def client(runtime: AgentRuntime) -> Iterator[RuntimeClient]:
    with RuntimeClient(runtime) as client:
        yield client


def test_probes_pass_once_started(client: RuntimeClient) -> None:
    """After startup, live, ready and startup all answer 200 with a JSON status."""
    for path in ("/health/live", "/health/ready", "/health/startup"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json()["status"] == "ok"
        assert response.headers["content-type"] == "application/json"
    assert client.get("/health/live").json()["checks"]["event_loop"]["status"] == "up"


def test_unknown_path_without_app_is_404(client: RuntimeClient) -> None:
    """With no app of the author's, other paths are a JSON 404."""
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


def make_starlette_app(events: list[str]) -> Starlette:
    async def item(request: Request) -> JSONResponse:
        return JSONResponse(
            {"id": request.path_params["item_id"], "ready": request.app.state.ready}
        )

    async def boom(request: Request) -> PlainTextResponse:
        raise ZeroDivisionError

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("app startup")
        app.state.ready = True
        yield
        events.append("app shutdown")

    return Starlette(
        routes=[Route("/items/{item_id}", item), Route("/boom", boom)], lifespan=lifespan
    )


def test_wrapped_starlette_app_keeps_routes_and_gains_probes(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """An existing Starlette app keeps its routes and lifespan, and gains probes and metrics;
    its 4xx answers count as client errors, its 5xx as errors."""
    events: list[str] = []
    runtime = make_runtime(app=make_starlette_app(events))

    @runtime.on_shutdown
    def hook() -> None:
        events.append("runtime shutdown hook")

    with RuntimeClient(runtime, raise_server_exceptions=False) as client:
        assert events == ["app startup"]
        assert client.get("/items/7").json() == {"id": "7", "ready": True}
        assert client.get("/items/8").status_code == 200
        assert client.get("/boom").status_code == 500
        assert client.get("/health/ready").status_code == 200
        assert client.get("/nowhere").status_code == 404
    assert events == ["app startup", "runtime shutdown hook", "app shutdown"]

    def requests(route: str, status: str) -> float | None:
        return metric_value(
            runtime, "agent_requests_total", {"capability": route, "status": status}
        )

    # Labelled by route template, never by raw path.
    assert requests("/items/{item_id}", "success") == 2
    assert requests("/items/7", "success") is None
    assert requests("/boom", "error") == 1
    assert metric_value(runtime, "agent_errors_total", {"error_type": "ZeroDivisionError"}) == 1
    # The unmatched path answered 404: the caller's mistake, not the agent's.
    assert requests("other", "client_error") == 1
    assert requests("other", "success") == 0


def test_wrapped_fastapi_app(make_runtime: Callable[..., AgentRuntime]) -> None:
    """A FastAPI app is served through the runtime without changing its routes."""
    api = FastAPI()

    @api.get("/v2/status/{tenant}")
    async def status(tenant: str) -> dict[str, str]:
        return {"tenant": tenant}

    runtime = make_runtime(app=api)
    with RuntimeClient(runtime) as client:
        assert client.get("/v2/status/acme").json() == {"tenant": "acme"}
        assert client.get("/health/live").status_code == 200
    labels = {"capability": "/v2/status/{tenant}", "status": "success"}
    assert metric_value(runtime, "agent_requests_total", labels) == 1


def test_watchdog_fails_liveness_after_a_stall(make_runtime: Callable[..., AgentRuntime]) -> None:
    """A call that blocks the event loop past the threshold makes the next live probe 503."""
    runtime = make_runtime(settings=Settings(loop_stall_seconds=1.0))

    @runtime.capability
    async def blocker(payload: float) -> None:
        threading.Event().wait(payload)  # blocks the loop: the bug the watchdog is for

    with RuntimeClient(runtime) as client:
        assert client.get("/health/live").status_code == 200
        client.post("/v1/capabilities/blocker", json=2.0)
        response = client.get("/health/live")
        assert response.status_code == 503
        check = response.json()["checks"]["event_loop"]
        assert check["status"] == "down"
        assert check["latency_ms"] >= 1000
        assert "GL_LOOP_STALL_SECONDS=1" in check["error"]
        # A stall is reported for the threshold's length after it ends, then
        # liveness recovers.
        client.portal.call(asyncio.sleep, 1.1)  # type: ignore[union-attr]
        assert client.get("/health/live").status_code == 200
        assert client.get("/health/ready").status_code == 200


def test_metrics_listener_answers_only_get_and_head(runtime: AgentRuntime) -> None:
    """POST /metrics is 405 with an Allow header; GET serves the exposition."""
    metrics = TestClient(runtime.metrics_app)  # no lifespan: the listener has none
    response = metrics.post("/metrics", content=b"x")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")
    assert response.json() == {
        "error": {"type": "method_not_allowed", "message": "Method not allowed here."}
    }
    scraped = metrics.get("/metrics")
    assert scraped.status_code == 200
    assert "agent_inflight_requests" in scraped.text
