"""Benchmark: request bodies that trickle in, and large JSON bodies next to the probes."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from statistics import median

import httpx2

from benchmarks._common import (
    Section,
    Served,
    free_port,
    number,
    progress,
    runtime_command,
    server_env,
    table,
    verdict,
)
from greenlang_runtime.serving._http import parse_json

__all__ = ["crossover", "large_bodies", "run", "slow_bodies"]

_AGENT = "benchmarks.served:runtime"

TRICKLERS = 40
TRICKLE_SECONDS = 12.0
# Long enough that the memory held while bodies trickle is measured before the 408s.
TRICKLE_BODY_TIMEOUT = "10"
_TRICKLE_HEAD = (
    b"POST /v1/capabilities/echo HTTP/1.1\r\nHost: agent\r\n"
    b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
)

LARGE_BODIES = 4
# Just under the default GL_MAX_BODY_BYTES (10 MiB).
LARGE_BODY_BYTES = 10 * 1024 * 1024 - 4096
PROBE_TARGET_MS = 1000.0
CROSSOVER_SIZES = (1024, 2048, 4096, 8192, 16384, 65536, 1048576)
CROSSOVER_ROUNDS = 30


def records(size: int) -> bytes:
    """A JSON list of small records (an agent's batch payload) of about ``size`` bytes."""
    record = b'{"id":%d,"product":"steel-%d","mass_kg":%d.25,"tags":["a","b"]}'
    parts = []
    total = 2
    index = 0
    while total < size - 80:
        part = record % (index, index, index)
        parts.append(part)
        total += len(part) + 1
        index += 1
    return b"[" + b",".join(parts) + b"]"


def _trickle(sockets: list[socket.socket], stop: threading.Event, answers: list[bytes]) -> None:
    """A byte on each connection about every millisecond, until each is answered or ``stop``."""
    open_ = list(sockets)
    while open_ and not stop.is_set():
        for sock in list(open_):
            try:
                sock.send(b" ")
                answer = sock.recv(65536)  # non-blocking: an answer, the close, or nothing yet
            except BlockingIOError:
                continue
            except OSError:
                open_.remove(sock)
                continue
            answers.append(answer)
            open_.remove(sock)
        time.sleep(0.001)


def slow_bodies() -> tuple[list[list[str]], float]:
    """RSS before, while and after ``TRICKLERS`` bodies trickle; rows and seconds to the 408s."""
    port = free_port()
    served = Served(
        "agent",
        runtime_command(_AGENT, port, free_port()),
        port,
        server_env(GL_BODY_TIMEOUT_SECONDS=TRICKLE_BODY_TIMEOUT),
    )
    try:
        served.wait_until_answers("GET", "/health/live")
        before = served.resident_mib()
        sockets = []
        for _ in range(TRICKLERS):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(_TRICKLE_HEAD)
            sock.setblocking(False)
            sockets.append(sock)
        began = time.monotonic()
        stop = threading.Event()
        answers: list[bytes] = []
        sender = threading.Thread(target=_trickle, args=(sockets, stop, answers))
        sender.start()
        peak = before
        while sender.is_alive() and time.monotonic() - began < TRICKLE_SECONDS:
            peak = max(peak, served.resident_mib())
            time.sleep(0.25)
        answered = time.monotonic() - began
        stop.set()
        sender.join()
        for sock in sockets:
            sock.close()
        time.sleep(2)
        after = served.resident_mib()
    finally:
        served.stop()
    timeouts = sum(answer.startswith(b"HTTP/1.1 408 ") for answer in answers)
    rows = [
        [
            f"{TRICKLERS} bodies of a declared 1,000,000 bytes, a byte per ms each",
            number(before, 1),
            number(peak, 1),
            number(after, 1),
            f"{timeouts} of {TRICKLERS}",
        ]
    ]
    return rows, answered


def _post(port: int, body: bytes) -> tuple[int, bytes]:
    """POST ``body`` to ``echo`` on a raw socket; the status and the response body.

    Raw sockets, not an HTTP client: a client parsing 10 MiB in this process
    would hold its interpreter lock and delay the probes it times.
    """
    head = (
        b"POST /v1/capabilities/echo HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(head + body)
        chunks = []
        while chunk := sock.recv(1 << 20):
            chunks.append(chunk)
    answer = b"".join(chunks)
    status = int(answer[9:12])
    return status, answer.partition(b"\r\n\r\n")[2]


def _probe_while(port: int, bodies: list[bytes]) -> tuple[list[float], list[int], bool]:
    """Probe times (ms) while ``bodies`` are posted at once; their statuses; results unchanged."""
    answers: list[tuple[int, bytes]] = []
    senders = [
        threading.Thread(target=lambda body=body: answers.append(_post(port, body)))
        for body in bodies
    ]
    times: list[float] = []
    with httpx2.Client(timeout=30) as client:
        for sender in senders:
            sender.start()
        while any(sender.is_alive() for sender in senders):
            started = time.perf_counter()
            client.get(f"http://127.0.0.1:{port}/health/live")
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
    for sender in senders:
        sender.join()
    expected = [json.loads(body) for body in bodies]
    same = sorted(json.dumps(json.loads(answer)) for _, answer in answers) == sorted(
        json.dumps(value) for value in expected
    )
    return times, [status for status, _ in answers], same


def large_bodies() -> tuple[list[list[str]], float]:
    """Probe latency while ``LARGE_BODIES`` bodies of about 10 MiB are echoed at once."""
    body = records(LARGE_BODY_BYTES)
    port = free_port()
    served = Served("agent", runtime_command(_AGENT, port, free_port()), port)
    try:
        served.wait_until_answers("GET", "/health/live")
        times, statuses, same = _probe_while(port, [body] * LARGE_BODIES)
    finally:
        served.stop()
    worst = max(times)
    rows = [
        [
            f"{LARGE_BODIES} x {number(len(body) / 2**20, 1)} MiB echoed at once",
            number(len(times)),
            number(median(times), 1),
            number(worst, 1),
            f"{statuses.count(200)} of {LARGE_BODIES}, results {'equal' if same else 'DIFFERENT'}",
        ]
    ]
    return rows, worst


async def _hop() -> float:
    """Seconds for one no-op round trip through the default executor, as the loop sees it."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    await loop.run_in_executor(None, int)
    return time.perf_counter() - started


def crossover() -> tuple[list[list[str]], float, int | None]:
    """Inline parse time per size against the thread hop's cost; the first size above it."""
    hops = asyncio.run(_hops())
    hop = median(hops)
    rows = []
    first: int | None = None
    for size in CROSSOVER_SIZES:
        body = records(size)
        times = []
        for _ in range(CROSSOVER_ROUNDS):
            started = time.perf_counter()
            parse_json(body)
            times.append(time.perf_counter() - started)
        parse = median(times)
        if first is None and parse > hop:
            first = size
        rows.append(
            [
                number(size),
                number(parse * 1e6, 1),
                number(hop * 1e6, 1),
                "thread" if parse > hop else "inline",
            ]
        )
    return rows, hop, first


async def _hops() -> list[float]:
    return [await _hop() for _ in range(200)]


def run() -> Section:
    """Both measurements as one section."""
    progress(f"bodies: {TRICKLERS} trickling bodies")
    slow_rows, answered = slow_bodies()
    progress("bodies: parse time by size, and the thread hop")
    cross_rows, hop, first = crossover()
    progress(f"bodies: probes while {LARGE_BODIES} large bodies are echoed")
    large_rows, worst = large_bodies()
    return Section(
        "Request bodies: slow ones and large ones",
        f"A served agent (`{_AGENT}`). Slow bodies: {TRICKLERS} connections each send a head "
        "declaring 1,000,000 bytes, then a byte about every millisecond, with "
        f"`GL_BODY_TIMEOUT_SECONDS={TRICKLE_BODY_TIMEOUT}`; the agent's resident memory before, "
        f"at its peak while they trickle (up to {TRICKLE_SECONDS:g} s), and 2 s after the "
        "connections are closed. Large bodies: "
        f"`GET /health/live` polled every 10 ms while {LARGE_BODIES} bodies of about 10 MiB "
        "(a list of small records) are posted at once to the `echo` capability. Crossover: "
        "the median time to parse a body of each size inline against the median round trip "
        f"of a no-op through the thread pool ({CROSSOVER_ROUNDS} and 200 runs); above the "
        "first size whose parse takes longer than that hop, parsing in a thread costs the "
        "event loop less than parsing on it.",
        [
            table(["slow bodies", "RSS before (MiB)", "peak", "after", "answered 408"], slow_rows),
            table(
                ["large bodies", "probes", "p50 (ms)", "max (ms)", "answered 200"],
                large_rows,
            ),
            table(["body (bytes)", "parse inline (µs)", "thread hop (µs)", "cheaper"], cross_rows),
        ],
        notes=[
            f"The 408s came {answered:.1f} s after the heads. Crossover: parsing takes "
            f"longer than the thread hop ({hop * 1e6:.0f} µs) from "
            f"{number(first) + ' bytes' if first else 'no measured size'} on."
        ],
        targets=[
            [
                f"liveness probe during {LARGE_BODIES} x 10 MiB bodies: < {PROBE_TARGET_MS:g} ms",
                f"{worst:.1f} ms",
                verdict(worst < PROBE_TARGET_MS),
            ]
        ],
    )
