"""A local fake Anthropic and OpenAI server for tests: the real clients, pointed at it.

It answers ``POST /v1/messages`` (Anthropic Messages), ``/v1/chat/completions``,
``/v1/responses`` and ``/v1/embeddings`` (OpenAI) in the providers' wire
formats, JSON or SSE as the request asks, with the usage the test sets, and
fails on demand with 429 or 5xx. It runs uvicorn in a thread of the test
process::

    with FakeLLMServer() as server:
        server.usage = FakeUsage(input_tokens=700, output_tokens=500)
        client = anthropic.Anthropic(base_url=server.url, api_key="test")
        client = openai.OpenAI(base_url=server.openai_url, api_key="test")
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import greenlang_runtime.testing._fake_wire as wire
from greenlang_runtime._types import Receive, Scope, Send
from greenlang_runtime.testing._fake_wire import FakeUsage, RawUsage

__all__ = ["FakeLLMServer", "FakeUsage", "RawUsage"]

_DEFAULT_TEXT = "The fake model answers one word at a time, as a real stream would."


class FakeLLMServer:
    """Speaks Anthropic's and OpenAI's APIs on a free loopback port.

    Args:
        usage: what every reply reports (default: 10 input, 5 output tokens).
        text: the reply; streams send it one word per chunk.
        host: the address to listen on.
        port: the port; 0 (default) picks a free one, see :attr:`port`.

    Attributes:
        usage: change it between calls to change what replies report; a
            :class:`RawUsage` is sent as it is (malformed reports).
        response_model: the model replies name (any JSON value, for
            malformed replies); ``None``: the requested one.
        response_delay: seconds to wait before answering (for timeouts).
        chunk_delay: seconds to wait between stream chunks.
        requests: ``(path, JSON body)`` of every request received, in order.
    """

    def __init__(
        self,
        *,
        usage: FakeUsage | None = None,
        text: str = _DEFAULT_TEXT,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.usage: FakeUsage | RawUsage = usage or FakeUsage()
        self.text = text
        self.response_model: Any = None
        self.response_delay = 0.0
        self.chunk_delay = 0.0
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        self._host = host
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The Anthropic client's ``base_url``."""
        return f"http://{self._host}:{self.port}"

    @property
    def openai_url(self) -> str:
        """The OpenAI client's ``base_url``."""
        return f"{self.url}/v1"

    def fail(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` (e.g. 429, 500) and an error body."""
        with self._lock:
            self._failures.extend([status] * times)

    def reset(self) -> None:
        """Default usage and text, no pending failures, no recorded requests."""
        with self._lock:
            self.usage = FakeUsage()
            self.text = _DEFAULT_TEXT
            self.response_model = None
            self.response_delay = self.chunk_delay = 0.0
            self.requests.clear()
            self._failures.clear()

    def start(self) -> FakeLLMServer:
        """Serve in a background thread; return once the server accepts connections."""
        import uvicorn

        config = uvicorn.Config(
            self, log_level="warning", lifespan="off", access_log=False, ws="none"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake LLM server did not start within 10 s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI app."""
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        path = scope["path"]
        try:
            body = json.loads(b"".join(chunks) or b"{}")
        except ValueError:
            body = {}
        with self._lock:
            self.requests.append((path, body))
            failure = self._failures.pop(0) if self._failures else None
        anthropic = path == "/v1/messages"
        if failure is not None:
            error = wire.anthropic_error(failure) if anthropic else wire.openai_error(failure)
            await _send_json(send, failure, error, {"retry-after": "0"})
            return
        if self.response_delay:
            await asyncio.sleep(self.response_delay)
        reply = self._reply(path, body)
        if reply is None:
            await _send_json(send, 404, {"error": {"message": f"No route {path}."}}, {})
        elif isinstance(reply, dict):
            await _send_json(send, 200, reply, {})
        else:
            await _send_stream(send, reply, self.chunk_delay)

    def _reply(self, path: str, body: dict[str, Any]) -> dict[str, Any] | Iterator[bytes] | None:
        """The JSON reply to ``body`` at ``path``, or its SSE events for a stream."""
        model = self.response_model
        if model is None:
            model = str(body.get("model", "unknown"))
        usage, text, stream = self.usage, self.text, body.get("stream") is True
        words = [word + " " for word in text.split(" ")]
        if path == "/v1/messages":
            if stream:
                return wire.anthropic_events(model, words, usage)
            return wire.anthropic_message(model, text, usage)
        if path == "/v1/chat/completions":
            if stream:
                options = body.get("stream_options") or {}
                return wire.chat_chunks(model, words, usage, options.get("include_usage") is True)
            return wire.chat_completion(model, text, usage)
        if path == "/v1/responses":
            if stream:
                return wire.response_events(model, words, usage)
            return wire.response_object(model, text, usage)
        if path == "/v1/embeddings":
            given = body.get("input")
            count = len(given) if isinstance(given, list) else 1
            as_base64 = body.get("encoding_format") == "base64"
            return wire.embeddings(model, count, as_base64, usage)
        return None


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str]
) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json")]
    raw_headers += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


async def _send_stream(send: Send, events: Iterator[bytes], delay: float) -> None:
    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for event in events:
        if delay:
            await asyncio.sleep(delay)
        await send({"type": "http.response.body", "body": event, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
