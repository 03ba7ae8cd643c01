"""A server span around a route, added once when the app is built (tracing on only).

The app knows which route a request takes before it calls it, so each
route is wrapped with its template: nothing is routed twice. Imports no
OpenTelemetry: the spans object does, and exists only when tracing is on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenlang_runtime._types import ASGIApp, Receive, Scope, Send
from greenlang_runtime.serving._http import watch_status

if TYPE_CHECKING:
    from greenlang_runtime.tracing import ServerSpans

__all__ = ["traced"]


def traced(route: ASGIApp, spans: ServerSpans, template: str | None) -> ASGIApp:
    """``route`` served inside a server span per request.

    Args:
        template: the route's path template (``/v1/capabilities/{name}``);
            ``None`` for the author's app, whose router leaves it in the scope.
    """
    begin, end = spans.begin, spans.end

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        begun = begin(scope, template)
        status = [500]
        error: BaseException | None = None
        try:
            await route(scope, receive, watch_status(send, status))
        except BaseException as raised:
            error = raised
            raise
        finally:
            end(begun, scope, template, status[0], error)
            del error  # the exception's traceback holds this frame

    return serve
