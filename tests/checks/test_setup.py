"""Setting checks up: URLs and knobs validated at start, extras imported only when needed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import generate_latest

from greenlang_runtime import AgentRuntime, CheckError
from tests.helpers import ServedAgent


def test_missing_extra_is_one_clear_line() -> None:
    """With asyncpg unavailable, DATABASE_URL fails the start naming the extra to install."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["asyncpg"] = None  # as if the postgres extra were not installed
        from greenlang_runtime import AgentRuntime
        try:
            AgentRuntime(environ={"DATABASE_URL": "postgresql://app:pw@db/x"})
        except Exception as error:
            print(type(error).__name__, error)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == (
        "DependencyError The 'postgres' check needs the postgres extra: "
        'pip install "greenlang-runtime[postgres]".'
    )


@pytest.mark.integration
def test_served_agent_with_a_bad_url_exits_with_one_line(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """`greenlang-runtime run` with a malformed DATABASE_URL exits 2 naming it, no traceback."""
    agent = serve_agent(
        "from greenlang_runtime import AgentRuntime\nruntime = AgentRuntime()\n",
        {"DATABASE_URL": "postgres://app:pa55@db:99999/x"},
        wait=False,
    )
    status, log = agent.exited()
    assert status != 0
    assert "DATABASE_URL='postgres://app:***@db:99999/x' is invalid" in log
    assert "pa55" not in log
    assert "Traceback" not in log


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": None}, "Dependency check name=None is invalid"),
        ({"name": 123}, "Dependency check name=123 is invalid"),
        ({"name": ""}, "Dependency check name='' is invalid"),
        ({"name": "db\nWARNING forged"}, "Dependency check name='db\\nWARNING forged' is invalid"),
        # Labels and probe bodies show the name: no secret in it, at most 128 characters.
        (
            {"name": "postgresql://app:pa55word@db/orders"},
            "Dependency check name='postgresql://app:***@db/orders' is invalid",
        ),
        (
            {"name": "x" * 129},
            f"Dependency check name='{'x' * 40}... (89 more characters)' is invalid",
        ),
        ({"critical": "no"}, "Dependency check 'x': critical='no' is invalid"),
        ({"critical": 0}, "Dependency check 'x': critical=0 is invalid"),
        ({"interval": 1e-9}, "Dependency check 'x': interval=1e-09 is invalid"),
        ({"interval": float("inf")}, "Dependency check 'x': interval=inf is invalid"),
        ({"timeout": float("nan")}, "Dependency check 'x': timeout=nan is invalid"),
        ({"timeout": -1}, "Dependency check 'x': timeout=-1 is invalid"),
        ({"timeout": "2"}, "Dependency check 'x': timeout='2' is invalid"),
    ],
)
def test_dependency_arguments_are_refused_at_declaration(
    make_runtime: Callable[..., AgentRuntime], arguments: dict[str, Any], message: str
) -> None:
    """A bad name, critical, interval or timeout fails at @runtime.dependency(...), naming it."""
    runtime = make_runtime()
    kwargs = {"name": "x", **arguments}
    name = kwargs.pop("name")
    with pytest.raises(CheckError) as raised:
        runtime.dependency(name, **kwargs)
    assert str(raised.value).startswith(message + ": ")
    assert runtime.checks.states == {}


def test_dependency_names_that_would_break_a_scrape_never_reach_one(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """After refusing None and 123, the agent's metrics still render."""
    runtime = make_runtime()
    for bad in (None, 123):
        with pytest.raises(CheckError):
            runtime.dependency(bad)  # type: ignore[arg-type]
    runtime.dependency("ok")(lambda: None)
    assert b'dependency="ok"' in generate_latest(runtime.registry)
