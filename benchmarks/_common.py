"""What the benchmarks share: rounds, medians, Markdown tables and served child processes."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import IO, TypeVar

__all__ = [
    "PAYLOAD",
    "PAYLOAD_BYTES",
    "ROOT",
    "Section",
    "Served",
    "free_port",
    "interleaved",
    "loop_factory",
    "median",
    "number",
    "paired",
    "progress",
    "request",
    "runtime_command",
    "server_env",
    "table",
    "uvicorn_command",
    "verdict",
]

ROOT = Path(__file__).resolve().parent.parent
# The echo body of every HTTP benchmark: a small JSON object.
PAYLOAD: dict[str, object] = {"product": "steel", "mass_kg": 1200.5, "tags": ["a", "b"]}
PAYLOAD_BYTES = json.dumps(PAYLOAD, separators=(",", ":")).encode()

_T = TypeVar("_T")


@dataclass
class Section:
    """One benchmark's part of the report."""

    title: str
    intro: str
    tables: list[str]
    notes: list[str] = field(default_factory=list)
    # One row per target: what is promised, what was measured, met or not.
    targets: list[list[str]] = field(default_factory=list)

    def markdown(self) -> str:
        """The section as Markdown."""
        parts = [f"## {self.title}", self.intro, *self.tables, *self.notes]
        return "\n\n".join(part.strip() for part in parts if part.strip()) + "\n"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed, as the runtime serves with."""
    try:
        import uvloop
    except ImportError:
        return None
    new_loop: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return new_loop


def progress(message: str) -> None:
    """Say on standard error what is being measured."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def interleaved(variants: Sequence[_T], rounds: int) -> Iterator[tuple[int, _T]]:
    """Every variant once per round, the order rotated each round, so none is always first."""
    count = len(variants)
    for round_ in range(rounds):
        for index in range(count):
            yield round_, variants[(round_ + index) % count]


def paired(values: Sequence[float], baseline: Sequence[float]) -> float:
    """Median over rounds of ``value - baseline`` within the same round."""
    return median(v - b for v, b in zip(values, baseline, strict=True))


def number(value: float, digits: int = 0) -> str:
    """``value`` with thousands separators and ``digits`` decimals."""
    return f"{value:,.{digits}f}"


def verdict(met: bool) -> str:
    """How a table says whether a target is met."""
    return "met" if met else "**not met**"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; every column after the first is right-aligned."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(["---", *("---:" for _ in headers[1:])]) + "|",
    ]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a served child: this one, quiet logs, no pre-stop wait."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GL_")}
    # An installed package has its bytecode compiled; without the caches every
    # import would also compile the source, and import times would measure that.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        GL_PRESTOP_DELAY_SECONDS="0",
        GL_DRAIN_TIMEOUT_SECONDS="5",
        GL_LOG_LEVEL="warning",
    )
    env.update(extra)
    return env


def request(port: int, method: str, path: str, body: bytes | None = None) -> int:
    """Send one request to ``127.0.0.1:port``; return the response's status."""
    headers = {} if body is None else {"content-type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


# With two or more CPUs, servers run on one and the load generator on another,
# so that neither steals the other's time: the largest source of noise here.
SERVER_CPU, LOAD_CPU = 0, 1
PINNED = hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def pin(pid: int, cpu: int) -> None:
    """Keep process ``pid`` (0: this one) on ``cpu``, where the machine has CPUs to spare."""
    if PINNED:
        os.sched_setaffinity(pid, {cpu})


def uvicorn_command(factory: str, port: int) -> list[str]:
    """Serve ``benchmarks.apps:<factory>`` with plain uvicorn: 1 worker, httptools, uvloop."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        f"benchmarks.apps:{factory}",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--no-server-header",
        "--log-level",
        "warning",
    ]


def runtime_command(target: str, port: int, metrics_port: int) -> list[str]:
    """Serve the AgentRuntime ``target`` (``MODULE:ATTR``) as ``greenlang-runtime run`` does."""
    return [
        sys.executable,
        "-m",
        "greenlang_runtime",
        "run",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--metrics-port",
        str(metrics_port),
    ]


class Served:
    """A server (``command``, listening on ``port``) in a child process, its stderr kept."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        port: int,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=dict(server_env() if env is None else env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        pin(self.process.pid, SERVER_CPU)

    def wait_until_answers(
        self, method: str, path: str, body: bytes | None = None, timeout: float = 30.0
    ) -> None:
        """Return once ``method path`` is answered 200; raise if the server dies or is late."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if request(self.port, method, path, body) == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer {method} {path} in {timeout:g} s")

    def log(self) -> str:
        """What the server wrote on standard error so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def resident_mib(self) -> float:
        """The server's resident memory (``VmRSS``) in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for {self.name}")

    def stop(self) -> None:
        """SIGTERM, wait up to 10 s, then SIGKILL."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                progress(f"{self.name} did not exit 10 s after SIGTERM: killing it")
                self.process.kill()
                self.process.wait()
        self._log.close()
