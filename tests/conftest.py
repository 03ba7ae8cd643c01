"""Shared fixtures: fresh runtimes, free ports and real served agents."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import opentelemetry.trace as trace_api
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import BlackHole, PostgresServer, RedisServer, postgres_bin
from tests.helpers import ServedAgent, agent_env, free_port

IDENTITY = {"agent_id": "test-agent", "version": "1.2.3", "tenant_id": "tenant-a"}


@pytest.fixture
def make_runtime() -> Callable[..., AgentRuntime]:
    """Build runtimes that read no ambient environment and share no registry."""

    def make(**kwargs: Any) -> AgentRuntime:
        kwargs.setdefault("environ", {})
        for key, value in IDENTITY.items():
            kwargs.setdefault(key, value)
        return AgentRuntime(**kwargs)

    return make


@pytest.fixture
def runtime(make_runtime: Callable[..., AgentRuntime]) -> AgentRuntime:
    """A runtime with the test identity and default settings."""
    return make_runtime()


@pytest.fixture
def serve_agent(tmp_path: Path) -> Iterator[Callable[..., ServedAgent]]:
    """Start agents from source text with ``greenlang-runtime run``; kill leftovers after."""
    started: list[ServedAgent] = []

    def serve(source: str, env: dict[str, str] | None = None, wait: bool = True) -> ServedAgent:
        module = f"agent_{len(started)}"
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        port, metrics_port = free_port(), free_port()
        settings = {
            "GL_HTTP_HOST": "127.0.0.1",
            "GL_HTTP_PORT": str(port),
            "GL_METRICS_PORT": str(metrics_port),
            **(env or {}),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "greenlang_runtime", "run", f"{module}:runtime"],
            cwd=tmp_path,
            env=agent_env(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        agent = ServedAgent(process, port, metrics_port)
        started.append(agent)
        if wait:
            agent.wait_until("/health/live")
        return agent

    yield serve
    for agent in started:
        if agent.process.poll() is None:
            agent.process.kill()
        agent.exited()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the whole session (from the machine's binaries)."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries on this machine (pg_config --bindir)")
    server = PostgresServer(bindir)
    server.start()
    yield server
    server.remove()


@pytest.fixture
def postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, running; started again if a test stopped it."""
    if not postgres_server.running():
        postgres_server.start()
    yield postgres_server
    if not postgres_server.running():
        postgres_server.start()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private Redis server for the whole session."""
    server = RedisServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def redis(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The session's Redis server, running; started again if a test stopped it."""
    if not redis_server.running():
        redis_server.start()
    yield redis_server
    if not redis_server.running():
        redis_server.start()


@pytest.fixture
def span_exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """The application's own tracer provider (set up before any runtime), keeping its spans."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    monkeypatch.setattr(trace_api, "_TRACER_PROVIDER", provider)
    yield memory
    provider.shutdown()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    """A TCP port that accepts connections and never answers."""
    hole = BlackHole()
    yield hole
    hole.close()
