"""`make demo`: the ports it prints are the ones served, and Ctrl+C ends it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ServedAgent, agent_env, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _start(args: list[str], port: int, metrics_port: int) -> ServedAgent:
    env = agent_env({"GL_HTTP_PORT": str(port), "GL_METRICS_PORT": str(metrics_port)})
    # A session of its own: the SIGINT goes to the whole group, as a terminal's Ctrl+C does.
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, text=True, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return ServedAgent(process, port, metrics_port)


def _interrupted(agent: ServedAgent) -> tuple[int, str]:
    """Ctrl+C once the agent is ready; its exit status and all it printed."""
    try:
        agent.wait_until("/health/ready")
        os.killpg(agent.process.pid, signal.SIGINT)
        output, _ = agent.process.communicate(timeout=30)
    finally:
        if agent.process.poll() is None:
            os.killpg(agent.process.pid, signal.SIGKILL)
    return agent.process.returncode, output


def test_the_demo_script_prints_the_real_ports_and_exits_0_on_ctrl_c() -> None:
    """With GL_HTTP_PORT and GL_METRICS_PORT set, the banner and curl lines name them."""
    port, metrics_port = free_port(), free_port()
    status, output = _interrupted(_start(["scripts/demo.sh", str(BIN)], port, metrics_port))
    assert status == 0, output
    lines = output.splitlines()
    assert lines[0] == (
        f"Serving examples/cbam_calculator: API on :{port}, metrics on :{metrics_port}"
        " (Ctrl+C drains and stops)."
    )
    assert f"  curl -s localhost:{port}/health/ready" in lines
    assert (
        f"  curl -s localhost:{metrics_port}/metrics | grep -E '^agent_(requests|errors)_total'"
        in lines
    )
    assert ":8000" not in output
    assert ":9090" not in output


def test_make_demo_ends_without_an_interrupt_line(tmp_path: Path) -> None:
    """`make demo` (the install step taken as done): Ctrl+C drains, and make reports no error."""
    venv = os.path.relpath(BIN.parent, ROOT)  # as the Makefile names it: .venv
    port, metrics_port = free_port(), free_port()
    stamp = f"{venv}/.demo-installed"
    agent = _start(
        ["make", "--no-print-directory", f"VENV={venv}", "-o", stamp, "demo"],
        port,
        metrics_port,
    )
    status, output = _interrupted(agent)
    assert "make: ***" not in output, output
    assert "Interrupt" not in output, output
    # make re-raises the SIGINT it got itself; the recipe (the runtime) exited 0.
    assert status == -signal.SIGINT, output
    assert f"API on :{port}, metrics on :{metrics_port}" in output
