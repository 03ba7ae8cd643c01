"""Request bodies over real sockets: a time limit on slow bodies, large bodies off the loop."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import httpx2
import pytest

from greenlang_runtime import ConfigError, Settings
from tests.helpers import ServedAgent

AGENT = """
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime(agent_id="bodies-test")

    @runtime.capability
    async def echo(payload):
        return payload
"""

# The exact 408 the listener writes, computed by hand: status line, headers, body.
TIMEOUT_BODY = (
    b'{"error":{"type":"request_timeout","message":"The request body was not complete '
    b'within 2 s of its head (GL_BODY_TIMEOUT_SECONDS)."}}'
)
TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n" % len(TIMEOUT_BODY) + TIMEOUT_BODY
)


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("0", "more than 0 seconds"),
        ("-1", "non-negative"),
        ("nan", "finite number of seconds in plain digits"),
        ("inf", "finite number of seconds in plain digits"),
        ("soon", "it must be a number of seconds"),
    ],
)
def test_body_timeout_setting_is_checked(value: str, complaint: str) -> None:
    """A bad GL_BODY_TIMEOUT_SECONDS fails with one line naming the variable and the value."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"GL_BODY_TIMEOUT_SECONDS": value})
    message = str(caught.value)
    assert message.startswith(f"GL_BODY_TIMEOUT_SECONDS={value!r} is invalid: ")
    assert complaint in message
    assert "\n" not in message


def test_body_timeout_default() -> None:
    """30 s unless set; a plain decimal is taken."""
    assert Settings().body_timeout_seconds == 30.0
    assert Settings.from_env({"GL_BODY_TIMEOUT_SECONDS": " 2.5 "}).body_timeout_seconds == 2.5


@pytest.fixture
def agent(serve_agent: Callable[..., ServedAgent]) -> ServedAgent:
    served = serve_agent(AGENT, {"GL_BODY_TIMEOUT_SECONDS": "2"})
    served.wait_until("/health/startup")
    return served


def connect(agent: ServedAgent) -> socket.socket:
    """A raw TCP connection to the agent's HTTP listener."""
    return socket.create_connection(("127.0.0.1", agent.port), timeout=20)


def read_to_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def head(framing: bytes) -> bytes:
    """A capability call's head, with ``framing`` (a Content-Length or chunked) header."""
    return (
        b"POST /v1/capabilities/echo HTTP/1.1\r\nHost: agent\r\n"
        b"Content-Type: application/json\r\n" + framing + b"\r\n\r\n"
    )


class Trickle(threading.Thread):
    """Send ``pieces`` on ``sock`` one at a time, ``gap`` seconds apart, until refused."""

    def __init__(self, sock: socket.socket, pieces: list[bytes], gap: float) -> None:
        super().__init__(daemon=True)
        self.sock, self.pieces, self.gap = sock, pieces, gap

    def run(self) -> None:
        for piece in self.pieces:
            try:
                self.sock.sendall(piece)
            except OSError:  # the server closed the connection
                return
            time.sleep(self.gap)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("framing", "piece"),
    [(b"Content-Length: 1000000", b" "), (b"Transfer-Encoding: chunked", b"1\r\n \r\n")],
    ids=["content-length", "chunked"],
)
def test_slow_body_gets_408_and_the_connection_closed(
    agent: ServedAgent, framing: bytes, piece: bytes
) -> None:
    """A body trickling a byte every 50 ms is answered 408 after 2 s and closed; probes answer."""
    with connect(agent) as sock, httpx2.Client() as client:
        sock.sendall(head(framing))
        began = time.monotonic()  # the server's clock starts when the head is complete
        trickle = Trickle(sock, [piece] * 400, 0.05)  # 20 s of body if never cut off
        trickle.start()
        probes = []
        sock.settimeout(0.1)
        answer = b""
        while time.monotonic() - began < 10:
            started = time.perf_counter()
            assert client.get(agent.url + "/health/live").status_code == 200
            probes.append(time.perf_counter() - started)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            answer += chunk
        waited = time.monotonic() - began
        trickle.join(timeout=10)
    assert answer == TIMEOUT_ANSWER
    # Not before the timeout; closed within the 2 s linger plus the sweep's lateness.
    assert 1.95 <= waited < 6
    assert max(probes) < 1  # a generous bound: the machine is shared
    # The agent goes on serving calls.
    assert httpx2.post(agent.url + "/v1/capabilities/echo", json=[1]).json() == [1]


@pytest.mark.integration
def test_slow_body_within_the_timeout_is_served(agent: ServedAgent) -> None:
    """A body sent in 10 pieces over about 1 s (under the 2 s limit) gets its answer."""
    payload = b'{"values": [' + b",".join(b"%d" % i for i in range(10)) + b"]}"
    pieces = [payload[i : i + 3] for i in range(0, len(payload), 3)]
    gap = 1.0 / len(pieces)
    with connect(agent) as sock:
        sock.sendall(head(b"Content-Length: %d\r\nConnection: close" % len(payload)))
        for piece in pieces:
            time.sleep(gap)
            sock.sendall(piece)
        answer = read_to_close(sock)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b'{"values":[0,1,2,3,4,5,6,7,8,9]}')
