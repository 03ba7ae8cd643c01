"""The HTTP surface in-process: probes, capability calls, bad input and the author's app."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from greenlang_runtime import AgentRuntime, InvalidInput, Settings
from greenlang_runtime._http import Message, Receive, Scope, Send
from greenlang_runtime.capabilities import SYNC_THREADS
from greenlang_runtime.testing import RuntimeClient, metric_value


@pytest.fixture
def client(runtime: AgentRuntime) -> Iterator[RuntimeClient]:
    @runtime.capability
    def echo(payload: object) -> object:
        return payload

    @runtime.capability
    def explode(payload: object) -> None:
        raise RuntimeError("secret connection string postgres://u:pw@db")

    @runtime.capability
    def unencodable(payload: object) -> object:
        return {1, 2}

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


def test_capability_list(client: RuntimeClient) -> None:
    """GET /v1/capabilities lists names with their descriptions."""
    assert client.get("/v1/capabilities").json() == {
        "capabilities": [
            {"name": "echo", "description": ""},
            {"name": "explode", "description": ""},
            {"name": "unencodable", "description": ""},
        ]
    }


def test_capability_call_returns_json_and_counts(client: RuntimeClient) -> None:
    """A POSTed JSON body is the argument; the return value is the 200 JSON body."""
    payload = {"product": "steel", "mass_kg": 1000, "nested": [1, None, "x"]}
    response = client.post("/v1/capabilities/echo", json=payload)
    assert (response.status_code, response.json()) == (200, payload)
    labels = {"capability": "echo", "status": "success"}
    assert metric_value(client.runtime, "agent_requests_total", labels) == 1


def test_sync_capability_runs_off_the_event_loop(runtime: AgentRuntime) -> None:
    """A sync capability served over HTTP runs in a worker thread, not the loop's."""
    threads: dict[str, int] = {}

    @runtime.capability
    def sync_one(payload: object) -> None:
        threads["sync"] = threading.get_ident()

    @runtime.capability
    async def async_one(payload: object) -> None:
        threads["loop"] = threading.get_ident()

    with RuntimeClient(runtime) as client:
        client.post("/v1/capabilities/sync_one", json={})
        client.post("/v1/capabilities/async_one", json={})
    assert threads["sync"] != threads["loop"]


def calls(runtime: AgentRuntime, capability: str) -> dict[str, float | None]:
    """The capability's agent_requests_total by status, and its duration count."""
    counts: dict[str, float | None] = {
        status: metric_value(
            runtime, "agent_requests_total", {"capability": capability, "status": status}
        )
        for status in ("success", "error", "client_error")
    }
    counts["observed"] = metric_value(
        runtime, "agent_request_duration_seconds_count", {"capability": capability}
    )
    return counts


_JSON = {"content-type": "application/json"}
_NOT_JSON = "The request body is not JSON: "


@pytest.mark.parametrize(
    ("body", "headers", "status", "error"),
    [
        (b"{not json", _JSON, 400, ("invalid_json", _NOT_JSON + "expecting property name "
            "enclosed in double quotes at line 1, column 2.")),
        (b"", _JSON, 400, ("invalid_json", "The request body is empty; send a JSON value.")),
        (b"[" * 100_000, _JSON, 400, ("invalid_json", "The request body is nested too deeply.")),
        (b'{"a": NaN}', _JSON, 400, ("invalid_json", _NOT_JSON + "NaN is not a JSON number.")),
        (b"[Infinity]", _JSON, 400, ("invalid_json", _NOT_JSON + "Infinity is not a JSON number.")),
        (b"-Infinity", _JSON, 400, ("invalid_json", _NOT_JSON + "-Infinity is not a JSON number.")),
        (b'{"t": 1e999}', _JSON, 400, ("invalid_json", _NOT_JSON + "the number 1e999 is out of "
            "range (JSON numbers here must be at most about 1.8e308 in size).")),
        (b'"\xff"', _JSON, 400, ("invalid_json", "The request body is not valid UTF-8: "
            "byte 0xff at offset 1.")),
        (b"1" * 5000, _JSON, 400, ("invalid_json", "The request body holds a number with more "
            "than 4300 digits.")),
        (b"{}", {"content-type": "text/plain"}, 415, ("unsupported_media_type", "Content-Type "
            "'text/plain' is not JSON; send the payload as application/json.")),
        (b"a=1", {"content-type": "application/x-www-form-urlencoded"}, 415, (
            "unsupported_media_type", "Content-Type 'application/x-www-form-urlencoded' is not "
            "JSON; send the payload as application/json.")),
    ],
)  # fmt: skip
def test_bad_requests_get_clear_errors_and_are_not_calls(
    client: RuntimeClient,
    body: bytes,
    headers: dict[str, str],
    status: int,
    error: tuple[str, str],
) -> None:
    """Bad JSON (NaN, 1e999 too) is 400, a non-JSON type 415: never a call; serving goes on."""
    response = client.post("/v1/capabilities/echo", content=body, headers=headers)
    assert response.status_code == status
    assert response.json() == {"error": {"type": error[0], "message": error[1]}}
    # Refused before any call: nothing counted, the agent's error rate untouched.
    assert calls(client.runtime, "echo") == {
        "success": 0, "error": 0, "client_error": 0, "observed": 0
    }  # fmt: skip
    assert client.post("/v1/capabilities/echo", json=[1]).json() == [1]
    assert calls(client.runtime, "echo")["success"] == 1


def test_invalid_input_is_422_and_a_client_error(runtime: AgentRuntime) -> None:
    """InvalidInput answers 422 with its message and details, counted as client_error only."""

    @runtime.capability
    def convert(payload: dict[str, str]) -> str:
        if payload.get("unit") not in ("kg", "t"):
            raise InvalidInput("unit must be kg or t", [{"loc": ["unit"], "msg": "unknown unit"}])
        if "note" in payload:
            raise InvalidInput("notes are not accepted")
        return payload["unit"]

    with RuntimeClient(runtime) as client:
        response = client.post("/v1/capabilities/convert", json={"unit": "lb"})
        assert response.status_code == 422
        assert response.json() == {
            "error": {
                "type": "invalid_input",
                "message": "unit must be kg or t",
                "details": [{"loc": ["unit"], "msg": "unknown unit"}],
            }
        }
        response = client.post("/v1/capabilities/convert", json={"unit": "kg", "note": "x"})
        assert (response.status_code, response.json()) == (
            422,
            {
                "error": {
                    "type": "invalid_input",
                    "message": "notes are not accepted",
                    "details": [],
                }
            },
        )
        assert client.post("/v1/capabilities/convert", json={"unit": "t"}).json() == "t"
    # Three calls: two rejected, one answered; all three timed; no error of the agent.
    assert calls(runtime, "convert") == {
        "success": 1, "error": 0, "client_error": 2, "observed": 3
    }  # fmt: skip
    assert metric_value(runtime, "agent_errors_total", {"error_type": "InvalidInput"}) is None
    assert metric_value(runtime, "agent_inflight_requests") == 0


def test_calls_before_startup_are_503_starting(runtime: AgentRuntime) -> None:
    """While on_startup hooks run, HTTP calls get 503 starting and Retry-After; direct calls run."""
    gate = threading.Event()

    @runtime.on_startup
    def warm_up() -> None:
        gate.wait(10)

    @runtime.capability
    def echo(payload: object) -> object:
        return payload

    with RuntimeClient(runtime, wait_for_startup=False) as client:
        response = client.post("/v1/capabilities/echo", json={"a": 1})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json() == {
            "error": {
                "type": "starting",
                "message": "The agent is still starting (its on_startup hooks are running); "
                "retry shortly.",
            }
        }
        assert calls(runtime, "echo") == {
            "success": 0, "error": 0, "client_error": 0, "observed": 0
        }  # fmt: skip
        assert echo({"direct": True}) == {"direct": True}  # not held back
        gate.set()
        client.portal.call(runtime.wait_started)  # type: ignore[union-attr]
        assert client.post("/v1/capabilities/echo", json={"a": 1}).json() == {"a": 1}
    assert calls(runtime, "echo") == {"success": 2, "error": 0, "client_error": 0, "observed": 2}


def test_json_with_charset_and_vendor_types_is_accepted(client: RuntimeClient) -> None:
    """application/json; charset=utf-8 and application/*+json are JSON."""
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        response = client.post(
            "/v1/capabilities/echo", content=b'{"a": 1}', headers={"content-type": content_type}
        )
        assert response.json() == {"a": 1}


def test_unknown_capability_is_404(client: RuntimeClient) -> None:
    """Calling a capability that does not exist is 404 naming it."""
    response = client.post("/v1/capabilities/missing", json={})
    assert response.status_code == 404
    assert response.json() == {
        "error": {"type": "not_found", "message": "No capability named 'missing'."}
    }


def test_wrong_method_is_405(client: RuntimeClient) -> None:
    """GET on a capability and POST on a probe are 405 with an Allow header."""
    response = client.get("/v1/capabilities/echo")
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    assert client.post("/health/ready").status_code == 405


def test_raising_capability_is_500_without_details(client: RuntimeClient) -> None:
    """A raising capability answers 500 naming the exception class, with no traceback or secret."""
    response = client.post("/v1/capabilities/explode", json={})
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "type": "capability_error",
            "message": "The capability 'explode' raised RuntimeError.",
        }
    }
    assert "Traceback" not in response.text
    assert "pw@db" not in response.text
    assert metric_value(client.runtime, "agent_errors_total", {"error_type": "RuntimeError"}) == 1
    assert client.post("/v1/capabilities/echo", json=1).json() == 1


def test_result_that_is_not_json_is_500(client: RuntimeClient) -> None:
    """A return value JSON cannot hold is a 500 naming its type."""
    response = client.post("/v1/capabilities/unencodable", json={})
    assert response.status_code == 500
    assert response.json()["error"] == {
        "type": "invalid_result",
        "message": "The capability 'unencodable' returned a set that is not JSON.",
    }
    # The caller got a 500, so the call counts as an error, of the encoder's class.
    runtime = client.runtime
    labels = {"capability": "unencodable", "status": "error"}
    assert metric_value(runtime, "agent_requests_total", labels) == 1
    assert metric_value(runtime, "agent_errors_total", {"error_type": "TypeError"}) == 1


def test_body_limit_applies_to_declared_and_streamed_bodies(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """Over GL_MAX_BODY_BYTES is 413, whether the length is declared or the body streamed."""
    runtime = make_runtime(settings=Settings(max_body_bytes=100))

    @runtime.capability
    def echo(payload: object) -> object:
        return payload

    fits = b'"' + b"x" * 98 + b'"'  # exactly 100 bytes of JSON
    too_big = b'"' + b"x" * 99 + b'"'

    def chunks(data: bytes) -> Iterator[bytes]:
        yield data[:50]
        yield data[50:]

    with RuntimeClient(runtime) as client:
        headers = {"content-type": "application/json"}
        assert (
            client.post("/v1/capabilities/echo", content=fits, headers=headers).status_code == 200
        )
        declared = client.post("/v1/capabilities/echo", content=too_big, headers=headers)
        assert declared.status_code == 413
        assert declared.json()["error"]["type"] == "payload_too_large"
        assert "100 bytes (GL_MAX_BODY_BYTES)" in declared.json()["error"]["message"]
        streamed = client.post("/v1/capabilities/echo", content=chunks(too_big), headers=headers)
        assert streamed.status_code == 413
        assert (
            client.post("/v1/capabilities/echo", content=chunks(fits), headers=headers).status_code
            == 200
        )


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
    """An existing Starlette app keeps its routes and lifespan, and gains probes and metrics."""
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
    assert requests("other", "success") == 1  # the unmatched path


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


def test_body_cut_short_by_a_disconnect_never_reaches_the_capability(
    runtime: AgentRuntime,
) -> None:
    """A client that leaves mid-body gets no answer, and the capability is not called."""
    received: list[object] = []

    @runtime.capability
    def record(payload: object) -> None:
        received.append(payload)

    messages: list[Message] = [
        {"type": "http.request", "body": b"12", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/capabilities/record",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"5")],
    }
    runtime.lifecycle.startup_complete()  # as if served: past the startup hooks
    asyncio.run(runtime.asgi_app(scope, receive, send))
    assert (received, sent) == ([], [])


def test_calls_queued_for_a_sync_capability_hold_no_worker_thread(runtime: AgentRuntime) -> None:
    """50 calls queued behind max_concurrency=1 leave the worker threads free for other calls."""
    release = threading.Event()

    @runtime.capability(max_concurrency=1)
    def exclusive(payload: object) -> str:
        release.wait(30)
        return "done"

    @runtime.capability
    def quick(payload: object) -> str:
        return "quick"

    with RuntimeClient(runtime) as client, ThreadPoolExecutor(max_workers=51) as pool:
        queued = [
            pool.submit(client.post, "/v1/capabilities/exclusive", json={}) for _ in range(50)
        ]
        deadline = time.monotonic() + 20
        while metric_value(runtime, "agent_queue_depth") != 49:
            assert time.monotonic() < deadline, "the calls never queued"
            time.sleep(0.01)
        # More calls wait than the thread pool has threads (40), yet this one runs.
        assert client.post("/v1/capabilities/quick", json={}).json() == "quick"
        release.set()
        assert [f.result().json() for f in queued] == ["done"] * 50
    assert metric_value(runtime, "agent_queue_depth") == 0


def test_a_slow_sync_capability_cannot_starve_another(runtime: AgentRuntime) -> None:
    """A sync capability holding all its threads leaves another answering; its waiters queue."""
    assert SYNC_THREADS == 40  # the documented default the arithmetic below uses
    release = threading.Event()
    holding = threading.Semaphore(0)

    @runtime.capability
    def slow(payload: object) -> str:
        holding.release()
        release.wait(30)
        return "slow"

    @runtime.capability
    def quick(payload: object) -> str:
        return "quick"

    with RuntimeClient(runtime) as client, ThreadPoolExecutor(max_workers=50) as pool:
        held = [pool.submit(client.post, "/v1/capabilities/slow", json={}) for _ in range(50)]
        # 50 calls, 40 threads of its own (SYNC_THREADS): 40 run, 50 - 40 = 10 wait.
        for _ in range(40):
            assert holding.acquire(timeout=20), "the slow calls never started"
        deadline = time.monotonic() + 20
        while metric_value(runtime, "agent_queue_depth") != 10:
            assert time.monotonic() < deadline, "the waiting calls were never counted"
            time.sleep(0.01)
        assert metric_value(runtime, "agent_inflight_requests") == 50
        for _ in range(3):
            assert client.post("/v1/capabilities/quick", json={}).json() == "quick"
        release.set()
        assert [f.result().json() for f in held] == ["slow"] * 50
    assert metric_value(runtime, "agent_queue_depth") == 0


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
