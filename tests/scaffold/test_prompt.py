"""`greenlang-runtime new` at a real terminal (a pseudo-terminal): questions and answers."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenlang_runtime.cli import main
from greenlang_runtime.spec import load_spec
from tests.helpers import agent_env

pytestmark = pytest.mark.integration


def _lines(*answers: str) -> str:
    return "".join(answer + "\n" for answer in answers)


def _at_terminal(args: list[str], typed: str, cwd: Path) -> tuple[int, str]:
    """Run the command with a pseudo-terminal as stdin and stdout, typing ``typed``."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "greenlang_runtime", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=cwd,
        env=agent_env(),
    )
    os.close(terminal)
    os.write(controller, typed.encode())
    output = b""
    deadline = time.monotonic() + 60  # a bound on a hang, not a timing
    while time.monotonic() < deadline:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closes when the command exits
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    return process.wait(timeout=30), output.decode().replace("\r\n", "\n")


def test_questions_show_defaults_and_enter_accepts_them(tmp_path: Path) -> None:
    """Each main field is asked with its default; empty answers keep the defaults."""
    status, output = _at_terminal(["new", "solo"], _lines(*[""] * 10), tmp_path)
    assert status == 0, output
    for question in (
        "Description [The solo agent.]: ",
        "Version [0.1.0]: ",
        "Tenant (DNS-1123 label; namespaces <tenant>-dev|staging|prod) [default]: ",
        "Agent id (DNS-1123 label) [solo]: ",
        "Image registry [registry.greenlang.io]: ",
        "SLA tier (basic, standard, premium) [standard]: ",
        "Data residency (e.g. eu, us) [eu]: ",
        "Dependencies (any of postgres, redis, llm-ledger, or none) [none]: ",
        "LLM providers (any of anthropic, openai, or none) [none]: ",
        "Rollout (rolling, canary, blue-green) [rolling]: ",
    ):
        assert question in output
    spec = load_spec(tmp_path / "solo")
    assert (spec.tenant, spec.agent_id, spec.sla_tier, spec.dependencies) == (
        "default",
        "solo",
        "standard",
        (),
    )


def test_answers_land_in_the_spec_and_a_bad_one_is_asked_again(tmp_path: Path) -> None:
    """Typed answers are used; invalid ones are rejected with their reason and asked again."""
    typed = _lines(
        "Carbon border adjustment.",
        "v1",  # rejected, then asked again
        "1.0.0",
        "Customer_ABC",  # rejected, then asked again
        "customer-abc",
        "",
        "ghcr.io/acme",
        "premium",
        "us",
        "postgres,redis",
        "anthropic",
        "canary",
    )
    status, output = _at_terminal(["new", "cbam"], typed, tmp_path)
    assert status == 0, output
    assert "Error: version='v1' is invalid: it must be a release version" in output
    assert "Error: tenant='Customer_ABC' is invalid: it must be a DNS-1123 label" in output
    assert output.count("Tenant (DNS-1123 label") == 2
    spec = load_spec(tmp_path / "cbam")
    assert spec.version == "1.0.0"
    assert spec.image == "ghcr.io/acme/customer-abc/cbam"
    assert (spec.sla_tier, spec.data_residency, spec.rollout) == ("premium", "us", "canary")
    assert (spec.dependencies, spec.llm_providers) == (("postgres", "redis"), ("anthropic",))


def test_options_are_not_asked_again(tmp_path: Path) -> None:
    """A field given as an option is not asked; the others still are."""
    status, output = _at_terminal(["new", "solo", "--tenant", "acme"], _lines(*[""] * 9), tmp_path)
    assert status == 0, output
    assert "Tenant (" not in output
    assert "Agent id (DNS-1123 label) [solo]: " in output
    assert load_spec(tmp_path / "solo").tenant == "acme"


def test_no_input_at_a_terminal_asks_nothing(tmp_path: Path) -> None:
    """With --no-input the terminal is not asked anything."""
    status, output = _at_terminal(["new", "solo", "--no-input"], "", tmp_path)
    assert status == 0, output
    assert "Description" not in output
    assert (tmp_path / "solo" / "pyproject.toml").is_file()


def test_without_a_terminal_nothing_is_asked(tmp_path: Path) -> None:
    """With stdin not a terminal (a pipe, CI) the defaults are used without --no-input."""
    result = CliRunner().invoke(main, ["new", "solo", "--dir", str(tmp_path)], input="ignored\n")
    assert result.exit_code == 0, result.output
    assert "Description" not in result.output
    assert load_spec(tmp_path / "solo").tenant == "default"


def test_interrupted_questions_write_nothing(tmp_path: Path) -> None:
    """Ending the input half-way through the questions (Ctrl-D) aborts and writes nothing."""
    # Ctrl-D at the second question ends the input.
    status, output = _at_terminal(["new", "solo"], "A description.\n\x04", tmp_path)
    assert status == 1
    assert "Aborted!" in output
    assert list(tmp_path.iterdir()) == []
