"""Every curl line of the READMEs, run against a served demo, prints what the README shows."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.examples.conftest import EXAMPLE
from tests.helpers import ServedAgent, agent_env, free_port

pytestmark = pytest.mark.integration

READMES = [EXAMPLE.parents[1] / "README.md", EXAMPLE / "README.md"]
# `make demo` serves with nothing configured, whatever the machine's environment holds.
_SERVICES = ("DATABASE_URL", "REDIS_URL", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "CBAM_LLM_MODEL")


def console_examples(readme: Path) -> list[tuple[str, str]]:
    """``(command, output)`` of each ``$ curl`` line in the README's ``console`` blocks."""
    examples: list[tuple[str, list[str]]] = []
    in_block = False
    for line in readme.read_text().splitlines():
        if line.startswith("```"):
            in_block = line == "```console"
        elif in_block and line.startswith("$ "):
            examples.append((line[2:], []))
        elif in_block and examples:
            examples[-1][1].append(line)
    return [(cmd, "\n".join(out)) for cmd, out in examples if cmd.startswith("curl ")]


@contextmanager
def served_demo() -> Iterator[ServedAgent]:
    """The example served as `make demo` serves it, on free ports, ready."""
    port, metrics_port = free_port(), free_port()
    env = agent_env({"GL_HTTP_PORT": str(port), "GL_METRICS_PORT": str(metrics_port)})
    for name in _SERVICES:
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "greenlang_runtime", "run"],
        cwd=EXAMPLE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    agent = ServedAgent(process, port, metrics_port)
    try:
        agent.wait_until("/health/ready")
        yield agent
    finally:
        if process.poll() is None:
            process.kill()
        agent.exited()


def run_example(command: str, agent: ServedAgent) -> str:
    """What ``command`` prints, with the demo's ports put in for 8000 and 9090."""
    command = (
        command.replace("localhost:8000", f"127.0.0.1:{agent.port}")
        .replace("localhost:9090", f"127.0.0.1:{agent.metrics_port}")
        .replace("python3 -m", f"{sys.executable} -m")
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=False)
    return done.stdout.rstrip("\n")


def test_the_readmes_have_curl_lines() -> None:
    """Both READMEs show curl lines, each followed by its output."""
    for readme in READMES:
        examples = console_examples(readme)
        assert len(examples) >= 3, readme
        assert all(output for _, output in examples), readme


@pytest.mark.parametrize("readme", READMES, ids=["README.md", "examples/cbam_calculator/README.md"])
def test_every_curl_line_prints_what_the_readme_shows(readme: Path) -> None:
    """Run in order against a fresh demo, each curl line prints exactly the README's output."""
    with served_demo() as agent:
        for command, expected in console_examples(readme):
            assert run_example(command, agent) == expected, command
