"""`greenlang-runtime wait-for-dependencies`, as the Deployment's init container runs it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from greenlang_runtime.testing import BlackHole, PostgresServer, RedisServer
from tests.helpers import agent_env, free_port

pytestmark = pytest.mark.integration


def wait(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command in a child process, as the init container would."""
    return subprocess.run(
        [sys.executable, "-m", "greenlang_runtime", "wait-for-dependencies", *args],
        env=agent_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


def test_exits_0_when_every_dependency_is_up(postgres: PostgresServer, redis: RedisServer) -> None:
    """With PostgreSQL and Redis up, it exits 0 and names both."""
    result = wait({"DATABASE_URL": postgres.url, "REDIS_URL": redis.url}, "--timeout", "10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Every dependency is up: postgres, redis"


def test_waits_for_a_dependency_that_comes_up(redis: RedisServer) -> None:
    """Started while Redis is down, it exits 0 once Redis starts."""
    redis.stop()
    timer = threading.Timer(1.5, redis.start)
    timer.start()
    started = time.monotonic()
    try:
        result = wait({"REDIS_URL": redis.url}, "--timeout", "20")
    finally:
        timer.join()
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 1.5


def test_timeout_names_each_dependency_still_down(
    postgres: PostgresServer, black_hole: BlackHole
) -> None:
    """At the timeout it exits 1; the last line names what is down and why, with no secret."""
    postgres.stop()
    redis_url = f"redis://:hunter2-pw@127.0.0.1:{black_hole.port}/0"
    result = wait(
        {
            "DATABASE_URL": postgres.url,
            "REDIS_URL": redis_url,
            "GL_CHECK_TIMEOUT_SECONDS": "0.5",
        },
        "--timeout",
        "2",
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Dependencies still down after 2 s: postgres: ")
    assert "; redis: no answer within 0.5 s" in last
    assert "Traceback" not in result.stderr
    for secret in (postgres.password, "hunter2-pw"):
        assert secret not in result.stderr + result.stdout


def test_app_checks_are_waited_for(tmp_path: Path) -> None:
    """With --app, the agent's own @runtime.dependency checks are waited for too."""
    (tmp_path / "myagent.py").write_text(
        textwrap.dedent(
            """
            from greenlang_runtime import AgentRuntime
            runtime = AgentRuntime()

            @runtime.dependency("feature-store")
            def feature_store():
                raise ConnectionError("feature store is not reachable")
            """
        )
    )
    result = wait({}, "--timeout", "1", "--app", "myagent:runtime", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Dependencies still down after 1 s: "
        "feature-store: ConnectionError: feature store is not reachable"
    )


def test_nothing_configured_exits_0() -> None:
    """With no DATABASE_URL, REDIS_URL or --app there is nothing to wait for."""
    result = wait({}, "--timeout", "1")
    assert result.returncode == 0
    assert result.stdout.strip() == (
        "No dependencies to wait for: DATABASE_URL and REDIS_URL are not set."
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_URL": "mysql://root:pw-9@db/x"},
            "Error: DATABASE_URL='mysql://root:***@db/x' is invalid: "
            "its scheme must be one of postgres://, postgresql://.",
        ),
        (
            {"REDIS_URL": "redis://:pw-9@cache:notaport/0"},
            "Error: REDIS_URL='redis://:***@cache:notaport/0' is invalid: "
            "it is not a URL, or its port is not a number from 0 to 65535.",
        ),
        (
            {"GL_CHECK_TIMEOUT_SECONDS": "soon"},
            "Error: GL_CHECK_TIMEOUT_SECONDS='soon' is invalid: it must be a number of seconds.",
        ),
    ],
)
def test_bad_configuration_is_one_line(env: dict[str, str], message: str) -> None:
    """A malformed URL or knob exits 2 with one line naming the variable, password hidden."""
    result = wait(env, "--timeout", "1")
    assert result.returncode == 2
    assert result.stderr.strip() == message


@pytest.mark.parametrize(
    ("timeout", "reason"),
    [
        ("nan", "it must be a finite number of seconds in plain digits, e.g. 2.5"),
        ("inf", "it must be a finite number of seconds in plain digits, e.g. 2.5"),
        ("0", "it must be finite, more than 0 seconds and at most 86400 (a day)"),
        ("-5", "it must be finite, more than 0 seconds and at most 86400 (a day)"),
        ("86401", "it must be finite, more than 0 seconds and at most 86400 (a day)"),
    ],
)
def test_timeout_that_would_never_strike_is_refused(timeout: str, reason: str) -> None:
    """--timeout nan, inf, 0 or past a day: exit 2 at once, one line naming the option."""
    result = wait({}, "--timeout", timeout)
    assert result.returncode == 2
    assert result.stderr == f"Error: --timeout={timeout!r} is invalid: {reason}.\n"


def test_multi_host_database_url_reaches_the_host_that_answers(postgres: PostgresServer) -> None:
    """A host list with a dead first host: asyncpg tries the next, the check is up."""
    dead = f"127.0.0.1:{free_port()}"
    url = postgres.url.replace("@127.0.0.1:", f"@{dead},127.0.0.1:")
    assert url.count(",") == 1
    result = wait({"DATABASE_URL": url}, "--timeout", "20")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Every dependency is up: postgres"
    assert postgres.password not in result.stdout + result.stderr


def test_non_critical_checks_are_reported_not_waited_for(tmp_path: Path) -> None:
    """A non-critical check that is down is reported with its reason; exit 0 once critical is up."""
    (tmp_path / "optional.py").write_text(
        textwrap.dedent(
            """
            from greenlang_runtime import AgentRuntime
            runtime = AgentRuntime()

            @runtime.dependency("feature-store")
            def feature_store():
                pass

            @runtime.dependency("cache", critical=False)
            def cache():
                raise ConnectionError("cache is not reachable")
            """
        )
    )
    started = time.monotonic()
    result = wait({}, "--timeout", "30", "--app", "optional:runtime", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 20  # not the 30 s timeout
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "Waiting up to 30 s for: feature-store; not waiting for the non-critical cache"
    )
    assert lines[-1] == (
        "Non-critical cache: ConnectionError: cache is not reachable (not waited for)"
    )
    assert result.stdout.strip() == "Every critical dependency is up: feature-store"


PASSWORD = "Sup3rSecretPassw0rdThatIsLong"  # noqa: S105 - a test's own secret
TOKEN = "sk-live-abcdefghijklmnopqrstuvwx"  # noqa: S105 - a test's own secret


def test_a_check_error_shows_no_configured_password_nor_token(
    tmp_path: Path, black_hole: BlackHole
) -> None:
    """DATABASE_URL's password and a Bearer token in a custom check's error are masked, not cut."""
    (tmp_path / "leaky.py").write_text(
        textwrap.dedent(
            f"""
            from greenlang_runtime import AgentRuntime
            runtime = AgentRuntime()

            @runtime.dependency("ledger")
            def ledger():
                raise ConnectionError(
                    "sent Authorization: Bearer {TOKEN}; "
                    "{"x" * 92} login with {PASSWORD} failed"
                )
            """
        )
    )
    env = {
        "DATABASE_URL": f"postgresql://app:{PASSWORD}@127.0.0.1:{black_hole.port}/db",
        "GL_CHECK_TIMEOUT_SECONDS": "0.3",
    }
    result = wait(env, "--timeout", "1", "--app", "leaky:runtime", cwd=tmp_path)
    assert result.returncode == 1
    shown = result.stdout + result.stderr
    # Cut to 200 before masking, 14 characters of the password were left.
    assert shown.splitlines()[-1].endswith(
        "; ledger: ConnectionError: sent Authorization: Bearer ***; "
        + "x" * 92
        + " login with *** failed"
    )
    for secret in (PASSWORD, TOKEN):
        assert secret[:8] not in shown
