"""The JSON echo route (``POST /echo``) in each framework and middleware compared."""

# Uvicorn serves these factories with --factory. FastAPI, the metrics libraries
# and the runtime are imported inside their factories, so serving bare
# Starlette loads none of them (nor prometheus_client).

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from fastapi import FastAPI
    from prometheus_client import CollectorRegistry

    from greenlang_runtime import AgentRuntime

__all__ = [
    "echo_runtime",
    "exporter_echo",
    "fastapi_echo",
    "instrumented_fastapi_echo",
    "starlette_echo",
]


async def _echo(request: Request) -> JSONResponse:
    """Answer the request's JSON body as JSON."""
    return JSONResponse(await request.json())


def starlette_echo(middleware: list[Middleware] | None = None) -> Starlette:
    """Bare Starlette: one route."""
    return Starlette(routes=[Route("/echo", _echo, methods=["POST"])], middleware=middleware)


def exporter_echo() -> Starlette:
    """The Starlette app with starlette-exporter's ``PrometheusMiddleware``."""
    from starlette_exporter import PrometheusMiddleware

    return starlette_echo([Middleware(PrometheusMiddleware)])


def fastapi_echo() -> FastAPI:
    """Bare FastAPI, written as FastAPI is: the body parsed into a validated ``dict``."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/echo")
    async def echo(payload: dict[str, Any]) -> dict[str, Any]:
        """Answer the payload."""
        return payload

    return app


def instrumented_fastapi_echo(registry: CollectorRegistry | None = None) -> FastAPI:
    """FastAPI with prometheus-fastapi-instrumentator's default metrics."""
    from prometheus_fastapi_instrumentator import Instrumentator

    app = fastapi_echo()
    if registry is None:
        Instrumentator().instrument(app)
    else:
        Instrumentator(registry=registry).instrument(app)
    return app


def echo_runtime(environ: Mapping[str, str] | None = None, typed: bool = False) -> AgentRuntime:
    """The runtime serving the Starlette app, plus an async ``echo`` capability.

    With ``typed``, also ``echo_typed``: the same echo with a pydantic model
    as its payload and result.
    """
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime(agent_id="bench-echo", app=starlette_echo(), environ=environ)

    @runtime.capability
    async def echo(payload: dict[str, Any]) -> dict[str, Any]:
        """Answer the payload."""
        return payload

    if typed:
        from benchmarks.typed_echo import add_typed_echo

        add_typed_echo(runtime)
    return runtime
