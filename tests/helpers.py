"""Helpers for tests that serve a real agent: free ports and a child-process handle."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass

import httpx2


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServedAgent:
    """An agent served by ``greenlang-runtime run`` in a child process."""

    process: subprocess.Popen[str]
    port: int
    metrics_port: int
    log: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def wait_until(self, path: str, status: int = 200, timeout: float = 60.0) -> None:
        """Poll ``path`` until it answers ``status`` (a bound on a hang, not a timing).

        An agent that imports both LLM clients takes seconds to start on a
        busy 2-core machine; the bound only has to catch one that never does.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the agent exited with {self.process.returncode}")
            try:
                if httpx2.get(self.url + path, timeout=1).status_code == status:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{path} did not answer {status} within {timeout}s")

    def stop(self, timeout: float = 30.0) -> tuple[int, str]:
        """SIGTERM the agent; return its exit status and everything it logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.exited(timeout)

    def exited(self, timeout: float = 30.0) -> tuple[int, str]:
        """Wait for the agent to exit by itself; return its status and its log."""
        if self.process.stderr is None or self.process.stderr.closed:
            return self.process.wait(timeout), self.log
        try:
            _, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        self.log = err
        return self.process.returncode, err


def agent_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without identity or ``GL_*`` variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GL_", "AGENT_", "TENANT_"))}
    env.pop("ENVIRONMENT", None)
    env.update(extra or {})
    return env
