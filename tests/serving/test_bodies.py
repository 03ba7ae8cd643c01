"""Request bodies over real sockets: a time limit on slow bodies, large bodies off the loop."""

from __future__ import annotations

import gc
import json
import math
import socket
import threading
import time
from collections.abc import Callable

import httpx2
import pytest

from greenlang_runtime import ConfigError, Settings
from greenlang_runtime._offload import collector_paused, encode_in_pieces
from greenlang_runtime.capabilities._typed import to_json
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
        ("-1", "more than 0 seconds"),
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


def batch(size: int, value: bytes = b"2.5") -> bytes:
    """A JSON list of records ending with ``value``, of at most about ``size`` bytes."""
    record = b'{"id":%d,"product":"steel","mass_kg":%d.5,"tags":["a","b"]}'
    count = size // len(record % (999_999, 999_999))
    return b"[" + b",".join(record % (i, i) for i in range(count)) + b"," + value + b"]"


def post_raw(agent: ServedAgent, body: bytes) -> tuple[int, bytes]:
    """POST ``body`` to ``echo`` on a raw socket; the status and the response body.

    Raw, so that this process parses nothing while the probes are timed.
    """
    head = (
        b"POST /v1/capabilities/echo HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    with socket.create_connection(("127.0.0.1", agent.port), timeout=120) as sock:
        sock.sendall(head + body)
        answer = read_to_close(sock)
    return int(answer[9:12]), answer.partition(b"\r\n\r\n")[2]


@pytest.mark.integration
def test_probes_stay_fast_while_four_large_bodies_are_handled(agent: ServedAgent) -> None:
    """4 concurrent ~10 MiB bodies: every liveness probe under 1 s, every result unchanged."""
    bodies = [batch(10_000_000 + i) for i in range(4)]
    assert all(9_000_000 < len(body) < 10 * 2**20 for body in bodies)  # under GL_MAX_BODY_BYTES
    answers: list[tuple[int, bytes]] = []
    senders = [
        threading.Thread(target=lambda body=body: answers.append(post_raw(agent, body)))
        for body in bodies
    ]
    probes = []
    with httpx2.Client(timeout=30) as client:
        for sender in senders:
            sender.start()
        while any(sender.is_alive() for sender in senders):
            probes.append(probe_seconds(client, agent))
            time.sleep(0.01)
    for sender in senders:
        sender.join()
    assert len(probes) >= 5  # the probes ran while the bodies were handled
    assert max(probes) < 1  # a generous bound: the machine is shared
    assert sorted(status for status, _ in answers) == [200] * 4
    # Echoed: the same JSON value back, compared by the standard library's reading.
    assert sorted(json.loads(answer) for _, answer in answers) == sorted(
        json.loads(body) for body in bodies
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"NaN", "The request body is not JSON: NaN is not a JSON number."),
        (b"-Infinity", "The request body is not JSON: -Infinity is not a JSON number."),
        (
            b"1e999",
            "The request body is not JSON: the number 1e999 is out of range (JSON numbers "
            "here must be at most about 1.8e308 in size).",
        ),
    ],
)
def test_large_bodies_keep_strict_json(agent: ServedAgent, value: bytes, message: str) -> None:
    """A 1 MiB body (parsed in a worker thread) is refused for what a small one is."""
    for body in (b"[" + value + b"]", batch(2**20, value)):
        status, answer = post_raw(agent, body)
        assert (status, json.loads(answer)) == (
            400,
            {"error": {"type": "invalid_json", "message": message}},
        )


def probe_seconds(client: httpx2.Client, agent: ServedAgent) -> float:
    """Time one GET /health/live, asserting it answers 200."""
    began = time.perf_counter()
    assert client.get(agent.url + "/health/live").status_code == 200
    return time.perf_counter() - began


@pytest.mark.parametrize(
    "value",
    [
        [{"id": i, "name": f"é-{i}", "mass": i / 3} for i in range(5000)],
        {"items": [[i, str(i), None, True] for i in range(5000)], "count": 5000},
        {f"k{i}": {"v": [i] * 3} for i in range(5000)},
        {i: i for i in range(5000)},  # non-string keys: one call, the encoder's own rules
        [list(range(3000)), {"a": list(range(3000))}, "x" * 10_000],
        {"small": [1, 2.5, "three"]},
        [],
    ],
    ids=["records", "nested-items", "many-keys", "int-keys", "mixed", "small", "empty"],
)
def test_encoded_in_pieces_as_in_one_call(value: object) -> None:
    """The sliced encoding gives the bytes of the standard library's compact JSON."""
    expected = json.dumps(value, separators=(",", ":")).encode()
    assert encode_in_pieces(to_json, value) == expected


def test_encoding_in_pieces_refuses_what_json_cannot_hold() -> None:
    """NaN deep in a large list is refused as by one encode call."""
    value = [1.0] * 5000 + [math.nan]
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        encode_in_pieces(to_json, value)


def test_collector_pause_nests_and_restores() -> None:
    """Overlapping pauses keep the collector off until the last ends; it is left as found."""
    assert gc.isenabled()
    outer = collector_paused()
    inner = collector_paused()
    outer.__enter__()
    inner.__enter__()
    assert not gc.isenabled()
    outer.__exit__(None, None, None)
    assert not gc.isenabled()  # the inner call still runs
    inner.__exit__(None, None, None)
    assert gc.isenabled()
    gc.disable()  # an application that runs without the collector keeps it off
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
