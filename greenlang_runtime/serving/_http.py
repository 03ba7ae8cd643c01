"""Small ASGI helpers: JSON responses and a request body read under a limit."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Awaitable
from typing import Any

from greenlang_runtime._types import Message, Receive, Scope, Send

__all__ = [
    "CLOSE",
    "BodyTooLarge",
    "ClientDisconnected",
    "InvalidJson",
    "encode",
    "error_body",
    "error_response",
    "header",
    "json_response",
    "method_not_allowed",
    "parse_json",
    "read_body",
    "watch_status",
]


_JSON_HEADERS = [(b"content-type", b"application/json")]
# Asks the client to open a new connection for its next request.
CLOSE = (b"connection", b"close")


class BodyTooLarge(Exception):
    """The request body is larger than the limit."""


class ClientDisconnected(Exception):
    """The client went away before sending the whole body."""


class InvalidJson(ValueError):
    """The request body is not strict JSON; the message says why, in the caller's terms."""


def watch_status(send: Send, status: list[int]) -> Send:
    """``send``, keeping the response's status in ``status[0]`` as it starts.

    The one wrapper that tells the metrics and the server span how a
    request was answered; ``status[0]`` stays as the caller set it (500)
    when no response started.
    """

    def send_status(message: Message) -> Awaitable[None]:
        # Returns send's awaitable instead of awaiting it: no extra coroutine per message.
        if message["type"] == "http.response.start":
            status[0] = message["status"]
        return send(message)

    return send_status


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lowercase), or ``None``."""
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes | bytearray:
    """The whole request body; raise :class:`BodyTooLarge` past ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused before reading;
    a chunked body is refused as soon as it grows past the limit.

    A body that arrives in one message (most do) is returned as it came. A
    longer one is gathered in one ``bytearray``, which costs about its size.
    Keeping the pieces instead cost some 50 bytes per piece on top of its
    bytes, so a body trickled in a few bytes at a time took dozens of times
    its size, in small blocks the allocator kept after the connection closed.
    Nothing is reserved from the declared length: a head alone reserves no memory.
    """
    declared = header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientDisconnected
    body: bytes = message.get("body", b"")
    if len(body) > limit:
        raise BodyTooLarge
    if not message.get("more_body", False):
        return body
    gathered = bytearray(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        if len(gathered) + len(chunk) > limit:
            raise BodyTooLarge
        gathered += chunk
        if not message.get("more_body", False):
            return gathered


# Built once: json.dumps with options would build an encoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def encode(value: Any) -> bytes:
    """Compact JSON; raises ``TypeError``/``ValueError`` for what JSON cannot hold."""
    return _ENCODER.encode(value).encode()


def _refuse_constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise InvalidJson(
            f"the number {_shorten(text)} is out of range (JSON numbers here must be "
            "at most about 1.8e308 in size)"
        )
    return value


def _shorten(text: str, keep: int = 20) -> str:
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text)} characters)"


# Python's json module accepts NaN, Infinity and 1e999 (as inf); JSON does not.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def parse_json(body: bytes | bytearray) -> Any:
    """The JSON value in ``body``; raise :class:`InvalidJson` saying what is wrong.

    Strict: ``NaN``, ``Infinity`` and numbers too large for a float are
    refused, and messages speak of the body, not of Python's codecs or limits.
    """
    if not body.strip():
        raise InvalidJson("The request body is empty; send a JSON value.")
    try:
        text = body.decode(json.detect_encoding(body))
    except UnicodeDecodeError as error:
        raise InvalidJson(
            f"The request body is not valid UTF-8: byte 0x{body[error.start]:02x} "
            f"at offset {error.start}."
        ) from None
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as error:
        # Some of json's messages end in "at" already ("Invalid control character at").
        what = error.msg.lower().removesuffix(" at")
        raise InvalidJson(
            f"The request body is not JSON: {what} at line {error.lineno}, column {error.colno}."
        ) from None
    except InvalidJson as error:
        raise InvalidJson(f"The request body is not JSON: {error}.") from None
    except ValueError:  # only an integer past Python's digit limit gets here
        raise InvalidJson(
            f"The request body holds a number with more than {sys.get_int_max_str_digits()} digits."
        ) from None
    except RecursionError:
        raise InvalidJson("The request body is nested too deeply.") from None


async def json_response(
    send: Send,
    status: int,
    body: bytes,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send ``body`` (already JSON-encoded) with ``status``."""
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    if extra_headers:
        headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def error_body(error_type: str, message: str, **extra: Any) -> bytes:
    """The contract's error body ``{"error": {"type", "message", ...}}``, encoded."""
    return encode({"error": {"type": error_type, "message": message, **extra}})


async def error_response(
    send: Send,
    status: int,
    error_type: str,
    message: str,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send the contract's error body ``{"error": {"type", "message"}}``."""
    await json_response(send, status, error_body(error_type, message), extra_headers)


async def method_not_allowed(send: Send, allow: bytes) -> None:
    """Send 405 with the ``Allow`` header listing ``allow`` (e.g. ``b"GET, HEAD"``)."""
    await error_response(
        send, 405, "method_not_allowed", "Method not allowed here.", [(b"allow", allow)]
    )
