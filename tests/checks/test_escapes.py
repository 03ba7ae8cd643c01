"""Every way a check can end is a result: down (or up on a clean return), never a frozen check."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from greenlang_runtime import AgentRuntime, Settings
from greenlang_runtime.testing import RuntimeClient
from tests.helpers import ServedAgent, agent_env

FAST = Settings(
    check_interval_seconds=0.05,
    check_timeout_seconds=0.5,
    check_failure_threshold=1,
    check_success_threshold=1,
)


class Escape(BaseException):
    """Not an Exception: escapes ``except Exception``."""


class Unprintable(Exception):
    """An exception whose message cannot be read."""

    def __str__(self) -> str:
        raise RuntimeError("no message for you")


class AsyncCallable:
    """An object with an ``async def __call__`` (not a coroutine function itself)."""

    def __init__(self, result: object) -> None:
        self.result = result

    async def __call__(self) -> object:
        await asyncio.sleep(0)
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


async def _false() -> bool:
    return False


async def _none() -> None:
    return None


def _raiser(error: BaseException) -> Callable[[], Any]:
    async def check() -> None:
        await asyncio.sleep(0)
        raise error

    return check


def _sync_raiser(error: BaseException) -> Callable[[], Any]:
    def check() -> None:
        raise error

    return check


def _returns(coroutine_function: Callable[[], Any]) -> Callable[[], Any]:
    def check() -> Any:
        return coroutine_function()  # a sync function that returns a coroutine

    return check


DOWN_CASES: dict[str, tuple[Callable[[], Any], str]] = {
    "CancelledError": (_raiser(asyncio.CancelledError()), "CancelledError"),
    "BaseException subclass": (_raiser(Escape("gone")), "Escape: gone"),
    "BaseException subclass, sync": (_sync_raiser(Escape("gone")), "Escape: gone"),
    "GeneratorExit": (_raiser(GeneratorExit()), "GeneratorExit"),
    "__str__ raises": (_raiser(Unprintable()), "Unprintable: (its message could not be read)"),
    "async callable raising": (
        AsyncCallable(ConnectionError("refused")),
        "ConnectionError: refused",
    ),
    "async callable returning False": (
        AsyncCallable(False),
        "DependencyDown: x check returned False",
    ),
    "sync returning a coroutine of False": (
        _returns(_false),
        "DependencyDown: x check returned False",
    ),
}


def _settled(client: RuntimeClient, until: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The check ``x``'s entry once ``until`` holds (a bound on a hang, not a timing)."""
    deadline = time.monotonic() + 10
    entry: dict[str, Any] = {}
    while time.monotonic() < deadline:
        entry = client.get("/health/ready").json()["checks"]["x"]
        if until(entry):
            return entry
        time.sleep(0.02)
    raise AssertionError(f"the check never settled: {entry}")


@pytest.mark.parametrize("case", sorted(DOWN_CASES))
def test_a_check_that_escapes_except_exception_is_down(
    make_runtime: Callable[..., AgentRuntime], case: str
) -> None:
    """Each way a check can fail is reported down, with its type, and it keeps being checked."""
    check, error = DOWN_CASES[case]
    runtime = make_runtime(settings=FAST)
    runtime.dependency("x")(check)
    with RuntimeClient(runtime) as client:
        entry = _settled(client, lambda e: e["status"] != "pending")
        assert entry["status"] == "down"
        assert entry["error"] == error
        assert client.get("/health/ready").status_code == 503
        assert client.get("/health/live").status_code == 200


@pytest.mark.parametrize(
    "check",
    [AsyncCallable(None), _returns(_none)],
    ids=["async callable", "sync returning a coroutine"],
)
def test_a_clean_return_through_an_awaitable_is_up(
    make_runtime: Callable[..., AgentRuntime], check: Callable[[], Any]
) -> None:
    """An async-callable object, or a coroutine a sync check returns, is awaited: up when clean."""
    runtime = make_runtime(settings=FAST)
    runtime.dependency("x")(check)
    with RuntimeClient(runtime) as client:
        entry = _settled(client, lambda e: e["status"] != "pending")
        assert entry["status"] == "up"
        assert client.get("/health/ready").status_code == 200


# At its first timeout, then while the abandoned probe still runs.
STUBBORN = (
    "no answer within 0.2 s",
    "DependencyDown: the previous stubborn check has not returned yet",
)

ESCAPING_AGENT = """
    import asyncio
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime()

    @runtime.dependency("interrupted", interval=0.1)
    async def interrupted():
        raise KeyboardInterrupt

    @runtime.dependency("exiting", interval=0.1)
    def exiting():
        raise SystemExit(3)

    @runtime.dependency("stubborn", timeout=0.2, interval=0.1)
    async def stubborn():
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                pass  # swallows its cancellation
"""


@pytest.mark.integration
def test_interrupts_and_a_stubborn_check_leave_the_agent_serving_and_stoppable(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """KeyboardInterrupt, SystemExit, swallowed cancellation: down, served, SIGTERM ends it."""
    agent = serve_agent(ESCAPING_AGENT, {"GL_PRESTOP_DELAY_SECONDS": "0"})
    deadline = time.monotonic() + 10
    checks: dict[str, Any] = {}
    while time.monotonic() < deadline:
        checks = httpx2.get(agent.url + "/health/ready").json()["checks"]
        if all(c["status"] == "down" for c in checks.values()):
            break
        time.sleep(0.05)
    assert {name: c["error"] for name, c in checks.items()} == {
        "interrupted": "KeyboardInterrupt",
        "exiting": "SystemExit: 3",
        "stubborn": STUBBORN[checks["stubborn"]["error"] != STUBBORN[0]],
    }
    time.sleep(0.5)  # several more rounds of each check
    assert agent.process.poll() is None
    assert httpx2.get(agent.url + "/health/live").status_code == 200
    assert httpx2.get(agent.url + "/health/ready").status_code == 503
    started = time.monotonic()
    status, log = agent.stop(timeout=20)
    assert status == 0, log
    assert time.monotonic() - started < 15
    assert "ignored its cancellation" in log


@pytest.mark.integration
def test_wait_for_dependencies_holds_its_timeout_with_a_stubborn_check(tmp_path: Path) -> None:
    """A check that swallows its cancellation: wait-for-dependencies still exits at its timeout."""
    (tmp_path / "stubborn.py").write_text(textwrap.dedent(ESCAPING_AGENT))
    started = time.monotonic()
    result = subprocess.run(
        [
            *(sys.executable, "-m", "greenlang_runtime", "wait-for-dependencies"),
            *("--timeout", "2", "--app", "stubborn:runtime"),
        ],
        env=agent_env({"GL_CHECK_TIMEOUT_SECONDS": "0.2"}),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    # 2 s plus one round's timeout plus the bounded wait for the stubborn one.
    assert time.monotonic() - started < 15
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "Dependencies still down after 2 s: interrupted: KeyboardInterrupt; "
        "exiting: SystemExit: 3; stubborn: "
    )
    assert last.endswith(STUBBORN)
