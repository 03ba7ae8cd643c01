"""The HTTP listener's protocol: uvicorn's httptools protocol with bounds on requests.

uvicorn with httptools accepts a request head of any size and waits forever
for a head or a body that trickles in, so one client could fill the memory
or hold thousands of connections. This protocol counts the bytes of each
head and times heads and bodies:

- a head larger than ``max_head_bytes`` is answered 431 and the connection
  closed (after the client has had a moment to read the answer);
- a head not complete within ``head_timeout`` seconds of the connection
  opening (or of the next request's first byte, on a kept-alive connection)
  closes the connection, at most a quarter of the timeout (and at most 1 s)
  late;
- a body (declared by ``Content-Length`` or chunked) not complete within
  ``body_timeout`` seconds of the end of its head is answered 408 and the
  connection closed, as late as a head's close can be (if the response has
  already begun, the connection is closed without more).

Bytes are counted as they arrive, per read: on a connection that pipelines
requests, a head that arrives in the same read as the previous request's
end is counted from the next read on (a read is at most a few hundred KiB).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from greenlang_runtime.serving._http import error_body

__all__ = ["KEEP_ALIVE_SECONDS", "bounded_protocol"]

logger = logging.getLogger("greenlang_runtime")

# An idle kept-alive connection is closed after this long (uvicorn's
# timeout_keep_alive, its default made explicit).
KEEP_ALIVE_SECONDS = 5
# After a 431 or a 408, how long the client may go on sending (discarded) before the
# connection is closed: closing with unread data makes the kernel reset the
# connection, and the client would never see the answer.
_LINGER_SECONDS = 2.0


# The base class's methods, called directly: cheaper than super() on every request.
_parse = HttpToolsProtocol.data_received
_headers_complete = HttpToolsProtocol.on_headers_complete


class _BoundedProtocol(HttpToolsProtocol):
    """One connection; the bounds are class attributes set by :func:`bounded_protocol`.

    Head times are checked by one sweep over the server's connections, a
    few times per timeout, instead of a timer per request: arming and
    cancelling a timer costs more than a microsecond on every request. For
    the same reason only two methods run per request here: the next head is
    recognised in ``data_received`` (the previous request is complete)
    rather than in the parser's message callbacks.
    """

    max_head_bytes = 65536
    head_timeout = 10.0
    body_timeout = 30.0
    # One sweep per server (each server gets its own subclass).
    _sweep: asyncio.TimerHandle | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._head_began: float | None = None
        # When the current request's head ended: its body is timed from then
        # for as long as the parser waits for more of it.
        self._body_began: float | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_began = self.loop.time()
        cls = type(self)
        if cls._sweep is None:
            cls._sweep = self.loop.call_later(_sweep_interval(cls), self._sweep_requests)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # read and dropped until the connection closes
        if not self._in_head:
            cycle = self.cycle
            if cycle is None or cycle.more_body:  # a body is still arriving
                _parse(self, data)
                return
            # The previous request is complete: these bytes begin the next head.
            self._in_head = True
            self._head_bytes = 0
            self._head_began = self.loop.time()
        room = self.max_head_bytes - self._head_bytes
        if len(data) <= room:
            self._head_bytes += len(data)
            _parse(self, data)
            return
        # The head may still end within the room left: parse that much first.
        self._head_bytes += room
        _parse(self, data[:room])
        if self.transport.is_closing():
            return
        if self._in_head:
            self._refuse_head()
        else:
            self.data_received(data[room:])

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_began = None
        # Set for every request (one clock read), checked by the sweep only
        # while the parser still expects body bytes (``cycle.more_body``).
        self._body_began = self.loop.time()
        _headers_complete(self)

    def _sweep_requests(self) -> None:
        """Close every connection whose head or body is overdue; run again while any is open."""
        cls = type(self)
        now = self.loop.time()
        head_overdue = now - cls.head_timeout
        body_overdue = now - cls.body_timeout
        for connection in list(self.connections):
            # WebSocket connections share the set; they have no head to time.
            if isinstance(connection, _BoundedProtocol):
                began = connection._head_began
                if began is not None and began <= head_overdue:
                    connection._head_timed_out()
                    continue
                began = connection._body_began
                if began is not None and began <= body_overdue:
                    cycle = connection.cycle
                    if cycle is not None and cycle.more_body:  # the body is still arriving
                        connection._body_timed_out()
        if self.connections:
            cls._sweep = self.loop.call_later(_sweep_interval(cls), self._sweep_requests)
        else:
            cls._sweep = None

    def _head_timed_out(self) -> None:
        self._head_began = None
        if self.transport.is_closing():
            return
        logger.debug(
            "closing a connection whose request head took over %gs (GL_HEADER_TIMEOUT_SECONDS)",
            self.head_timeout,
        )
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # a response is on its way: close after it
        else:
            self.transport.close()

    def _body_timed_out(self) -> None:
        """Answer 408 (unless a response has begun), stop reading the body, close."""
        self._body_began = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None:
            return
        logger.debug(
            "answering 408 to a request whose body took over %gs (GL_BODY_TIMEOUT_SECONDS)",
            self.body_timeout,
        )
        self._refused = True
        # The app waiting in receive() gets http.disconnect now, and anything
        # it sends later is dropped: the connection is no longer its own.
        cycle.disconnected = True
        cycle.message_event.set()
        cycle.body = bytearray()  # what the app had not read yet
        self.flow.resume_reading()  # read and drop the rest until the close
        if cycle.response_started:
            self.transport.close()
            return
        body = error_body(
            "request_timeout",
            f"The request body was not complete within {self.body_timeout:g} s of its head "
            "(GL_BODY_TIMEOUT_SECONDS).",
        )
        self._write_final(408, body)

    def _refuse_head(self) -> None:
        """Answer 431, stop parsing, and close once the client has had time to read it."""
        self._refused = True
        self._head_began = None
        body = error_body(
            "headers_too_large",
            f"The request head is larger than {self.max_head_bytes} bytes (GL_MAX_HEADER_BYTES).",
        )
        self._write_final(431, body)

    def _write_final(self, status: int, body: bytes) -> None:
        """Send ``status`` and a JSON ``body``; close once the client has had time to read it."""
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[status],
                    b"content-type: application/json\r\n",
                    b"content-length: %d\r\n" % len(body),
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(_LINGER_SECONDS, self.transport.close)


def _sweep_interval(cls: type[_BoundedProtocol]) -> float:
    """How often requests are checked: a connection is closed within this after its timeout."""
    return min(1.0, cls.head_timeout / 4, cls.body_timeout / 4)


def bounded_protocol(
    max_head_bytes: int, head_timeout: float, body_timeout: float
) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's ``http=`` option, with these bounds.

    Args:
        max_head_bytes: the largest request head (request line and headers) accepted.
        head_timeout: seconds a request head may take to arrive.
        body_timeout: seconds a request body may take to arrive, from the end of its head.
    """

    class BoundedProtocol(_BoundedProtocol):
        pass

    BoundedProtocol.max_head_bytes = max_head_bytes
    BoundedProtocol.head_timeout = head_timeout
    BoundedProtocol.body_timeout = body_timeout
    return BoundedProtocol
