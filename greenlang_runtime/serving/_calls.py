"""``POST /v1/capabilities/{name}``: a request turned into a capability call and back.

The body is read under ``GL_MAX_BODY_BYTES`` and parsed (in a worker thread
when large), the capability is called (it measures itself), and its result
or error becomes the HTTP answer. The calls running now are kept, so that
the drain can cut them off at its deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Mapping
from typing import Any

from greenlang_runtime._offload import collector_paused, in_worker
from greenlang_runtime._types import Receive, Scope, Send
from greenlang_runtime.capabilities import Capability, ResultNotJson
from greenlang_runtime.config import CAPABILITIES_PATH, Settings
from greenlang_runtime.exceptions import InvalidInput, LLMBudgetExceeded
from greenlang_runtime.serving._http import (
    CLOSE,
    BodyTooLarge,
    ClientDisconnected,
    InvalidJson,
    error_body,
    error_response,
    header,
    json_response,
    method_not_allowed,
    parse_json,
    read_body,
)
from greenlang_runtime.serving.lifecycle import Lifecycle, Phase

__all__ = ["OFF_LOOP_BYTES", "PAUSE_COLLECTOR_BYTES", "CapabilityCalls", "shutting_down"]

logger = logging.getLogger("greenlang_runtime")

_JSON_TYPES = (b"application/json",)
_PREFIX_LENGTH = len(CAPABILITIES_PATH) + 1
# Bodies larger than this are parsed, and their results encoded, in a worker
# thread: above it parsing takes the event loop longer than the hop to a
# thread and back does (measured crossover 2 to 4 KiB: docs/benchmarks.md,
# "Request bodies"), and a few 10 MiB bodies parsed on the loop held the
# probes for seconds. Smaller bodies take the same path as ever.
OFF_LOOP_BYTES = 4096
# Above this the collector is paused for the call too (see _offload): below
# it, the containers a body becomes cost the collector little.
PAUSE_COLLECTOR_BYTES = 1024 * 1024
# Startup hooks usually take seconds; a client retrying each second finds the agent soon.
_RETRY_AFTER_SECONDS = b"1"


class CapabilityCalls:
    """Serves capability calls over HTTP (the path's last segment names the capability).

    Args:
        capabilities: the runtime's registry of capabilities (read live).
        lifecycle: whether the agent is still starting, or stopping.
        settings: the body limit, and the drain timeout the cut-off log quotes.
    """

    def __init__(
        self,
        capabilities: Mapping[str, Capability],
        lifecycle: Lifecycle,
        settings: Settings,
    ) -> None:
        self.capabilities = capabilities
        self.lifecycle = lifecycle
        self.settings = settings
        # The capability calls running now, with the capability's name (for the drain's log).
        self._calls: dict[asyncio.Task[Any], str] = {}

    def abort_calls(self) -> int:
        """Past the drain deadline: answer 503 to every capability call still running.

        Each call cut off is logged with its capability; returns how many there were.
        """
        calls = list(self._calls.items())
        for task, name in calls:
            logger.warning(
                "capability %r cut off at the drain deadline (GL_DRAIN_TIMEOUT_SECONDS=%g): "
                "answered 503",
                name,
                self.settings.drain_timeout_seconds,
                extra={"capability": name},
            )
            task.cancel("drain deadline")
        return len(calls)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request whose path starts with ``/v1/capabilities/``.

        Turns the request into a payload, or answers why it cannot be one.
        """
        name = scope["path"][_PREFIX_LENGTH:]
        capability = self.capabilities.get(name)
        if capability is None:
            await error_response(send, 404, "not_found", f"No capability named {name!r}.")
            return
        if scope["method"] != "POST":
            await method_not_allowed(send, b"POST")
            return
        lifecycle = self.lifecycle
        if lifecycle.stopping:
            await shutting_down(send)
            return
        if lifecycle.phase is Phase.STARTING:
            await error_response(
                send,
                503,
                "starting",
                "The agent is still starting (its on_startup hooks are running); retry shortly.",
                [(b"retry-after", _RETRY_AFTER_SECONDS)],
            )
            return
        content_type = header(scope, b"content-type")
        if content_type is not None and not _is_json(content_type):
            await error_response(
                send,
                415,
                "unsupported_media_type",
                f"Content-Type {content_type.decode('latin-1')!r} is not JSON; "
                "send the payload as application/json.",
            )
            return
        limit = self.settings.max_body_bytes
        try:
            body = await read_body(scope, receive, limit)
        except BodyTooLarge:
            await error_response(
                send,
                413,
                "payload_too_large",
                f"The request body is larger than {limit} bytes (GL_MAX_BODY_BYTES).",
                [CLOSE],
            )
            return
        except ClientDisconnected:
            return  # nobody to answer, and half a payload is no payload
        if len(body) > OFF_LOOP_BYTES:
            await self._call_large(capability, body, send)
            return
        try:
            payload = parse_json(body)
        except InvalidJson as error:
            await error_response(send, 400, "invalid_json", str(error))
            return
        await self._invoke(capability, payload, send)

    async def _call_large(
        self, capability: Capability, body: bytes | bytearray, send: Send
    ) -> None:
        """A large body: parsed in a worker thread, its result encoded there."""
        pause = len(body) > PAUSE_COLLECTOR_BYTES
        with collector_paused() if pause else contextlib.nullcontext():
            try:
                payload = await in_worker(parse_json, body)
            except InvalidJson as error:
                await error_response(send, 400, "invalid_json", str(error))
                return
            try:
                await self._invoke(capability, payload, send, large=True)
            finally:
                # Freed before the collector is back on, so that it never walks them.
                del payload

    async def _invoke(
        self, capability: Capability, payload: Any, send: Send, large: bool = False
    ) -> None:
        """Call ``capability`` (measured there) and map its result or error to HTTP.

        ``large``: the request body was large, so its result is likely large
        too and is encoded in a worker thread.
        """
        task = asyncio.current_task()
        assert task is not None
        name = capability.name
        self._calls[task] = name
        try:
            body = await capability.invoke(payload, large)
        except InvalidInput as error:
            await json_response(send, 422, _invalid_input_body(name, error))
            return
        except LLMBudgetExceeded as error:
            await _budget_exceeded(send, error)
            return
        except ResultNotJson as error:
            logger.error("%s (%s)", error, error.__cause__)
            await error_response(send, 500, "invalid_result", str(error))
            return
        except asyncio.CancelledError:
            if not self.lifecycle.stopping:
                raise
            task.uncancel()
            await shutting_down(send)
            return
        except Exception as error:
            logger.exception("capability %r raised %s", name, type(error).__name__)
            await error_response(
                send,
                500,
                "capability_error",
                f"The capability {name!r} raised {type(error).__name__}.",
            )
            return
        finally:
            del self._calls[task]
        await json_response(send, 200, body)


def _invalid_input_body(name: str, error: InvalidInput) -> bytes:
    """The 422 body: the capability's own message and details, as it raised them."""
    details = [] if error.details is None else error.details
    try:
        return error_body("invalid_input", error.message, details=details)
    except (TypeError, ValueError, RecursionError):
        logger.warning(
            "capability %r raised InvalidInput with details JSON cannot hold; sent without", name
        )
        return error_body("invalid_input", error.message, details=[])


async def _budget_exceeded(send: Send, error: LLMBudgetExceeded) -> None:
    """429 with Retry-After: the seconds to the period's end (or to a retry, Redis down)."""
    seconds = max(1, math.ceil(error.retry_after))
    if error.committed is None:
        message = "The LLM budget cannot be checked now and calls are refused; retry shortly."
    else:
        message = "The LLM budget of this period is spent: no LLM call fits in it until it renews."
    await error_response(
        send,
        429,
        "budget_exceeded",
        message,
        [(b"retry-after", str(seconds).encode("ascii"))],
    )


def _is_json(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type in _JSON_TYPES or media_type.endswith(b"+json")


async def shutting_down(send: Send) -> None:
    await error_response(
        send,
        503,
        "shutting_down",
        "The agent is shutting down and past its drain deadline; retry on another replica.",
        [CLOSE],
    )
