"""Capability calls over HTTP, in-process: every answer, its exact body, and what is counted."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from greenlang_runtime import AgentRuntime, InvalidInput, Settings
from greenlang_runtime._types import Message
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
        (b'{"a": "x\x01y"}', _JSON, 400, ("invalid_json", _NOT_JSON + "invalid control "
            "character at line 1, column 9.")),
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
    assert response.json() == {
        "error": {"type": "method_not_allowed", "message": "Method not allowed here."}
    }
    assert client.post("/health/ready").status_code == 405
    assert calls(client.runtime, "echo") == {
        "success": 0, "error": 0, "client_error": 0, "observed": 0
    }  # fmt: skip


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
    assert calls(client.runtime, "explode") == {
        "success": 0, "error": 1, "client_error": 0, "observed": 1
    }  # fmt: skip
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
        streamed = client.post("/v1/capabilities/echo", content=chunks(too_big), headers=headers)
        for refused in (declared, streamed):
            assert (refused.status_code, refused.headers["connection"]) == (413, "close")
            assert refused.json() == {
                "error": {
                    "type": "payload_too_large",
                    "message": "The request body is larger than 100 bytes (GL_MAX_BODY_BYTES).",
                }
            }
        assert (
            client.post("/v1/capabilities/echo", content=chunks(fits), headers=headers).status_code
            == 200
        )
    # Two answered, two refused before any call.
    assert calls(runtime, "echo") == {"success": 2, "error": 0, "client_error": 0, "observed": 2}


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


@pytest.mark.parametrize(
    ("max_concurrency", "running", "waiting"),
    [
        (1, 1, 49),  # 50 calls, 1 slot: 1 runs, 50 - 1 = 49 wait
        (None, 40, 10),  # 50 calls, SYNC_THREADS = 40 threads of its own: 50 - 40 = 10 wait
    ],
)
def test_a_slow_sync_capability_cannot_starve_another(
    runtime: AgentRuntime, max_concurrency: int | None, running: int, waiting: int
) -> None:
    """A slow sync capability's calls queue within its own bound; another sync one answers."""
    assert SYNC_THREADS == 40  # the documented default the arithmetic above uses
    release = threading.Event()
    holding = threading.Semaphore(0)

    @runtime.capability(max_concurrency=max_concurrency)
    def slow(payload: object) -> str:
        holding.release()
        release.wait(30)
        return "slow"

    @runtime.capability
    def quick(payload: object) -> str:
        return "quick"

    with RuntimeClient(runtime) as client, ThreadPoolExecutor(max_workers=50) as pool:
        held = [pool.submit(client.post, "/v1/capabilities/slow", json={}) for _ in range(50)]
        for _ in range(running):
            assert holding.acquire(timeout=20), "the slow calls never started"
        deadline = time.monotonic() + 20
        while metric_value(runtime, "agent_queue_depth") != waiting:
            assert time.monotonic() < deadline, "the waiting calls were never counted"
            time.sleep(0.01)
        assert metric_value(runtime, "agent_inflight_requests") == 50
        # Whatever the slow one holds, and however many wait, this one runs.
        for _ in range(3):
            assert client.post("/v1/capabilities/quick", json={}).json() == "quick"
        release.set()
        assert [f.result().json() for f in held] == ["slow"] * 50
    assert metric_value(runtime, "agent_queue_depth") == 0
