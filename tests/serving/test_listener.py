"""The real listener: bounded request heads, slow and idle connections, and every call status."""

from __future__ import annotations

import selectors
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from greenlang_runtime import ConfigError, Settings
from greenlang_runtime.serving._listener import KEEP_ALIVE_SECONDS
from tests.helpers import ServedAgent

AGENT = """
    import asyncio, os
    from pydantic import BaseModel
    from greenlang_runtime import AgentRuntime, InvalidInput

    runtime = AgentRuntime(agent_id="listener-test")

    class Order(BaseModel):
        product: str
        mass_kg: float

    @runtime.on_startup
    async def wait_for_flag():
        flag = os.environ.get("START_FLAG")
        while flag and not os.path.exists(flag):
            await asyncio.sleep(0.02)

    @runtime.capability
    def echo(payload):
        return payload

    @runtime.capability
    def reject(payload):
        raise InvalidInput("unit must be kg", [{"loc": ["unit"]}])

    @runtime.capability
    def explode(payload):
        raise RuntimeError("no factor")

    @runtime.capability
    def order(order: Order) -> Order:
        return order
"""


def connect(agent: ServedAgent) -> socket.socket:
    """A raw TCP connection to the agent's HTTP listener."""
    return socket.create_connection(("127.0.0.1", agent.port), timeout=20)


def read_to_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def probe_seconds(client: httpx2.Client, agent: ServedAgent) -> float:
    """Time one GET /health/live, asserting it answers 200."""
    began = time.perf_counter()
    assert client.get(agent.url + "/health/live").status_code == 200
    return time.perf_counter() - began


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("GL_HTTP_PORT", "18_300", "it must be a whole number"),
        ("GL_HTTP_PORT", "１８３００", "it must be a whole number"),  # full-width digits
        ("GL_MAX_HEADER_BYTES", "64k", "it must be a whole number"),
        ("GL_MAX_HEADER_BYTES", "100", "at least 1024"),
        ("GL_HEADER_TIMEOUT_SECONDS", "0", "more than 0 seconds"),
        ("GL_HEADER_TIMEOUT_SECONDS", "1e1", "plain digits"),
        ("GL_HEADER_TIMEOUT_SECONDS", "later", "it must be a number of seconds"),
    ],
)
def test_listener_settings_are_checked(variable: str, value: str, complaint: str) -> None:
    """Malformed numbers (underscores, full-width digits) and bad bounds fail, naming it."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert str(caught.value).startswith(f"{variable}={value!r} is invalid: ")
    assert complaint in str(caught.value)


def test_listener_defaults() -> None:
    """Heads up to 64 KiB, 10 s to send one; plain numbers with a sign or spaces still parse."""
    settings = Settings.from_env({"GL_HTTP_PORT": " +8080 ", "GL_DRAIN_TIMEOUT_SECONDS": ".5"})
    assert (settings.max_header_bytes, settings.header_timeout_seconds) == (65536, 10.0)
    assert (settings.http_port, settings.drain_timeout_seconds) == (8080, 0.5)


@pytest.fixture
def agent(serve_agent: Callable[..., ServedAgent]) -> ServedAgent:
    served = serve_agent(AGENT, {"GL_HEADER_TIMEOUT_SECONDS": "1"})
    served.wait_until("/health/startup")
    return served


@pytest.mark.integration
def test_oversized_head_is_431_and_the_connection_closed(agent: ServedAgent) -> None:
    """A 1 MiB header gets 431 and a closed connection; probes and calls go on."""
    with connect(agent) as sock:
        sock.sendall(
            b"GET /health/live HTTP/1.1\r\nHost: agent\r\nX-Big: " + b"a" * 2**20 + b"\r\n\r\n"
        )
        answer = read_to_close(sock)
    body = (
        b'{"error":{"type":"headers_too_large","message":"The request head is larger than '
        b'65536 bytes (GL_MAX_HEADER_BYTES)."}}'
    )
    assert answer == (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"content-type: application/json\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body
    )
    # A head just under the limit is served.
    fits = httpx2.get(agent.url + "/health/live", headers={"x-fits": "a" * 60_000})
    assert fits.status_code == 200
    assert httpx2.post(agent.url + "/v1/capabilities/echo", json=[1]).json() == [1]


@pytest.mark.integration
def test_slow_head_is_closed_after_the_timeout_while_probes_answer(agent: ServedAgent) -> None:
    """A head trickling in a byte at a time is cut off after GL_HEADER_TIMEOUT_SECONDS=1."""
    head = b"GET /health/live HTTP/1.1\r\nHost: agent\r\nX-Slow: " + b"x" * 100
    began = time.monotonic()  # the server's clock starts when the connection opens
    with connect(agent) as sock, httpx2.Client() as client:
        closed_after = None
        for byte in head:
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # reset: the server closed it
                closed_after = time.monotonic() - began
                break
            assert probe_seconds(client, agent) < 5  # a bound on a hang
            sock.settimeout(0.05)
            try:
                if sock.recv(1) == b"":
                    closed_after = time.monotonic() - began
                    break
            except TimeoutError:
                pass
        assert closed_after is not None, "the slow head was never cut off"
        # Not before the timeout; well before the whole head (100+ bytes at 20/s) was sent.
        assert 0.95 <= closed_after < 4.5  # timers may fire a few ms early


@pytest.mark.integration
def test_idle_keep_alive_connection_is_closed(agent: ServedAgent) -> None:
    """A kept-alive connection with no next request is closed after the keep-alive timeout."""
    with connect(agent) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: agent\r\n\r\n")
        began = time.monotonic()
        answer = read_to_close(sock)  # the response, then the close
        waited = time.monotonic() - began
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert KEEP_ALIVE_SECONDS <= waited + 0.1 < KEEP_ALIVE_SECONDS + 10


@pytest.mark.integration
def test_a_thousand_slow_connections_leave_probes_fast(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """1,000 connections sending half a head are held, probes stay fast, then all are closed."""
    agent = serve_agent(AGENT, {"GL_HEADER_TIMEOUT_SECONDS": "6"})
    agent.wait_until("/health/startup")
    sockets: list[socket.socket] = []
    try:
        for _ in range(1000):
            sock = connect(agent)
            sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: agent\r\nX-Slow: ")
            sockets.append(sock)
        with httpx2.Client() as client:
            timings = [probe_seconds(client, agent) for _ in range(30)]
        with selectors.DefaultSelector() as selector:
            for sock in sockets:
                selector.register(sock, selectors.EVENT_READ)
            assert selector.select(timeout=0) == [], "a slow connection was closed too early"
            # Then the head timeout (6 s) closes every one of them.
            deadline = time.monotonic() + 30
            open_ = set(sockets)
            while open_ and time.monotonic() < deadline:
                for key, _ in selector.select(timeout=1):
                    closed = key.fileobj
                    assert isinstance(closed, socket.socket)
                    assert closed.recv(1) == b""
                    selector.unregister(closed)
                    open_.discard(closed)
            assert not open_, f"{len(open_)} slow connections were never closed"
    finally:
        for sock in sockets:
            sock.close()
    assert statistics.median(timings) < 0.05
    assert max(timings) < 1  # a generous bound: the machine is shared


def scrape(agent: ServedAgent, capability: str) -> tuple[float, ...]:
    """(success, error, client_error, observed) of ``capability``, and all errors, from /metrics."""
    values: dict[tuple[str, str], float] = {}
    errors = 0.0
    for family in text_string_to_metric_families(httpx2.get(agent.metrics_url).text):
        for sample in family.samples:
            if sample.labels.get("capability") == capability:
                key = sample.labels.get("status", "")
                values[(sample.name, key)] = sample.value
            if sample.name == "agent_errors_total":
                errors += sample.value
    return (
        values.get(("agent_requests_total", "success"), 0),
        values.get(("agent_requests_total", "error"), 0),
        values.get(("agent_requests_total", "client_error"), 0),
        values.get(("agent_request_duration_seconds_count", ""), 0),
        errors,
    )


@pytest.mark.integration
def test_every_call_status_over_real_http(
    serve_agent: Callable[..., ServedAgent], tmp_path: Path
) -> None:
    """503 starting, 415, 400, 422 (raised and typed), 500 and 200: exact bodies and counters."""
    flag = tmp_path / "started"
    agent = serve_agent(AGENT, {"START_FLAG": str(flag)})
    url = agent.url + "/v1/capabilities/"

    starting = httpx2.post(url + "echo", json=1)
    assert (starting.status_code, starting.headers["retry-after"]) == (503, "1")
    assert starting.json()["error"]["type"] == "starting"
    flag.touch()
    agent.wait_until("/health/startup")

    def call(name: str, **kwargs: object) -> tuple[int, object]:
        response = httpx2.post(url + name, **kwargs)  # type: ignore[arg-type]
        return response.status_code, response.json()

    assert call("echo", content=b"{}", headers={"content-type": "text/csv"}) == (
        415,
        {
            "error": {
                "type": "unsupported_media_type",
                "message": "Content-Type 'text/csv' is not JSON; send the payload as "
                "application/json.",
            }
        },
    )
    assert call("echo", content=b'{"a": NaN}', headers={"content-type": "application/json"}) == (
        400,
        {
            "error": {
                "type": "invalid_json",
                "message": "The request body is not JSON: NaN is not a JSON number.",
            }
        },
    )
    # None of these became a call: (success, error, client_error, observed, all errors).
    assert scrape(agent, "echo") == (0, 0, 0, 0, 0)
    assert call("echo", json={"a": 1}) == (200, {"a": 1})
    assert scrape(agent, "echo") == (1, 0, 0, 1, 0)

    assert call("reject", json={}) == (
        422,
        {
            "error": {
                "type": "invalid_input",
                "message": "unit must be kg",
                "details": [{"loc": ["unit"]}],
            }
        },
    )
    assert scrape(agent, "reject") == (0, 0, 1, 1, 0)

    assert call("order", json={"product": "steel", "mass_kg": "lots"}) == (
        422,
        {
            "error": {
                "type": "invalid_input",
                "message": "The payload does not match Order: 1 field error.",
                "details": [
                    {
                        "loc": ["mass_kg"],
                        "msg": "Input should be a valid number, unable to parse string as a number",
                        "type": "float_parsing",
                    }
                ],
            }
        },
    )
    assert call("order", json={"product": "steel", "mass_kg": 2}) == (
        200,
        {"product": "steel", "mass_kg": 2.0},
    )
    assert scrape(agent, "order") == (1, 0, 1, 2, 0)

    assert call("explode", json={}) == (
        500,
        {
            "error": {
                "type": "capability_error",
                "message": "The capability 'explode' raised RuntimeError.",
            }
        },
    )
    # Only the 500 is the agent's error.
    assert scrape(agent, "explode") == (0, 1, 0, 1, 1)


@pytest.mark.integration
def test_big_head_with_its_body_and_a_pipelined_request_are_served(agent: ServedAgent) -> None:
    """A head under the limit sent with its large body, then a second request, both get 200."""
    payload = b'"' + b"x" * 20_000 + b'"'
    first = (
        b"POST /v1/capabilities/echo HTTP/1.1\r\nHost: agent\r\n"
        b"Content-Type: application/json\r\nX-Pad: " + b"p" * 60_000 + b"\r\n"
        b"Content-Length: %d\r\n\r\n" % len(payload) + payload
    )
    second = b"GET /health/live HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n"
    with connect(agent) as sock:
        sock.sendall(first + second)  # 60 KB of head + 20 KB of body + more, in one write
        answer = read_to_close(sock)
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert payload in answer


@pytest.mark.integration
def test_slow_second_head_on_a_kept_alive_connection_is_closed(agent: ServedAgent) -> None:
    """After one complete request, a next head that stalls is cut off after the timeout too."""
    with connect(agent) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: agent\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        head, _, body = answer.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 200 OK")
        began = time.monotonic()
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: agent\r\nX-Slow: ")
        assert read_to_close(sock) == b""
        waited = time.monotonic() - began
    # GL_HEADER_TIMEOUT_SECONDS=1, well before the 5 s keep-alive timeout would.
    assert 0.95 <= waited < 4.5
